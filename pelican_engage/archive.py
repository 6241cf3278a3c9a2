"""The archive: one committed JSON file per post, which only ever grows.

It holds what cannot be rebuilt: items fetched or imported from outside,
fetch cursors and acknowledgements.  Files are written with sorted keys and
a stable order so a new reply is a small git diff, atomically (temp file,
fsync, ``os.replace``) so a crash leaves the old file or the new one, and
under a lock so two builds at once cannot interleave their writes.

The parts: ``archive_files`` (names, reading and checking, records),
``archive_folder`` (the folder, its lock, reading), ``archive_marks``
(acknowledgements, forgotten people); here the writes of items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from .archive_files import (  # noqa: F401  (re-exported: the archive's public names)
    ACKS_FILE,
    FORGOTTEN_FILE,
    READABLE_SCHEMAS,
    SCHEMA,
    ArchiveError,
    ArchiveWriteError,
    MergeResult,
    PostRecord,
    _checked,
    _normal,
    atomic_write_json,
    file_name,
    identities,
    identities_of,
    is_forgotten,
)
from .archive_marks import ArchiveMarks
from .model import Item, Tombstone


class Archive(ArchiveMarks):
    """The folder of per-post JSON files (ENGAGE_ARCHIVE_PATH)."""

    def merge(
        self,
        key: str,
        items: Iterable[Item],
        cursors: Mapping[str, Any] | None = None,
    ) -> MergeResult:
        """Add or update ``items``; nothing already archived is ever dropped.

        An item that a source stopped returning (deleted upstream, fallen
        out of a search window, a partial page) stays as it was.  Only
        :meth:`tombstone` removes one, and a tombstoned item, or one by a
        forgotten person, is never added again (``refused``).  Raises
        :class:`ArchiveWriteError` when the file cannot be written.
        """
        forgotten = self.forgotten()
        with self._writing(self.post_path(key)):
            record = self.load(key)
            merged = dict(record.items)
            added = updated = refused = 0
            for item in items:
                if item.id in record.tombstones or (forgotten and is_forgotten(item, forgotten)):
                    refused += 1
                    continue
                # Stored exactly as it will read back, so a re-merge is no change.
                item = _checked(item.id, item)
                old = merged.get(item.id)
                if old is not None and old.by_author and not item.by_author:
                    # Found once (an e-mail at import time), it stays: a later
                    # copy that cannot tell (the live API) does not unsay it.
                    item = replace(item, by_author=True)
                if old is None:
                    added += 1
                elif _normal(old.to_dict()) != _normal(item.to_dict()):
                    updated += 1
                else:
                    continue
                merged[item.id] = item
            new_cursors = dict(record.cursors)
            new_cursors.update(cursors or {})
            result = MergeResult(added, updated, refused)
            if result.changed or new_cursors != dict(record.cursors):
                record = replace(record, items=merged, cursors=new_cursors)
                atomic_write_json(self.post_path(key), record.to_dict())
            return result

    def keep_unsaved(self, key: str, items: Iterable[Item]) -> bool:
        """Keep ``items`` that could not be archived for :meth:`save_unsaved`.

        Only the items: the post's cursors stay as they are in the archive,
        so the next fetch asks the source again whatever becomes of this
        copy (it is in the cache, which may be deleted).  False when there
        is nowhere to keep them, or that cannot be written either.
        """
        if self.unsaved is None:
            return False
        path = self.unsaved / file_name(key)
        try:
            kept = dict(self._read(path, key).items) if path.exists() else {}
            kept.update((i.id, i) for i in items)
            atomic_write_json(path, PostRecord(key=key, items=kept).to_dict())
        except ArchiveError:
            return False
        return True

    def save_unsaved(self) -> tuple[int, list[ArchiveError]]:
        """Archive what :meth:`keep_unsaved` kept; the count of items now
        archived, and the errors of those still kept (or damaged)."""
        if self.unsaved is None or not self.unsaved.is_dir():
            return 0, []
        saved, errors = 0, []
        for path in sorted(self.unsaved.glob("*.json")):
            try:
                record = self._read(path)
                saved += self.merge(record.key, record.items.values()).added
                path.unlink()
            except ArchiveError as exc:
                errors.append(exc)
            except OSError as exc:
                errors.append(ArchiveError(path, f"cannot be removed ({exc.strerror or exc})"))
        return saved, errors

    def tombstone(
        self,
        key: str,
        item_ids: Iterable[str],
        reason: str = "deleted",
        at: datetime | None = None,
    ) -> list[Tombstone]:
        """Replace items of post ``key`` by tombstones; the new tombstones.

        Call it only when the network *confirmed* an item is gone (a 404 or
        410 for that very item, a not-found answer), with ``reason``
        "deleted", or for an erasure request, with "forgotten".  The item's
        content and author are dropped from the file; its replies stay.  An
        id not archived (a local comment, an item not fetched yet) gets a
        tombstone too, so no later fetch or import adds it.  Ids already
        tombstoned are left as they are.
        """
        at = (at or datetime.now(timezone.utc)).replace(microsecond=0)
        with self._writing(self.post_path(key)):
            record = self.load(key)
            items = dict(record.items)
            tombstones = dict(record.tombstones)
            new = []
            for item_id in dict.fromkeys(item_ids):
                if item_id in tombstones:
                    continue
                item = items.pop(item_id, None)
                stone = Tombstone(
                    id=item_id,
                    source=item.source if item else item_id.split(":", 1)[0],
                    at=at,
                    reason=reason,
                    in_reply_to=item.in_reply_to if item else None,
                )
                tombstones[item_id] = stone
                new.append(stone)
            if new:
                record = replace(record, items=items, tombstones=tombstones)
                atomic_write_json(self.post_path(key), record.to_dict())
            return new
