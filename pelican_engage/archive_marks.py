"""Acknowledgements and people forgotten on request: the archive's two
site-wide files, next to the post files."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from .archive_files import ACKS_FILE, FORGOTTEN_FILE, SCHEMA, _digest, _read_json, atomic_write_json
from .archive_folder import ArchiveFolder
from .model import parse_timestamp


class ArchiveMarks(ArchiveFolder):
    """What the author marked: acknowledged items, forgotten people."""

    def forgotten_stamp(self) -> tuple[int, int] | None:
        try:
            stat = (self.path / FORGOTTEN_FILE).stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def forgotten(self) -> frozenset[str]:
        """Digests of the identities of people erased on request."""
        path = self.path / FORGOTTEN_FILE
        if not path.exists():
            return frozenset()
        return frozenset(str(k) for k in _read_json(path, "forgotten people")["items"])

    def forget_person(self, identities: Iterable[str], at: str = "") -> int:
        """Remember that the person known by ``identities`` (handles, profile
        URLs, DIDs, from :func:`identities`) asked to be erased; the number
        of identities new to the file.  Only digests are written: the file
        is committed, and must not itself name the person."""
        path = self.path / FORGOTTEN_FILE
        with self._writing(path):
            data: dict[str, Any] = {"schema": SCHEMA, "items": {}}
            if path.exists():
                data = _read_json(path, "forgotten people")
            new = 0
            for identity in identities:
                digest = _digest(identity)
                if digest not in data["items"]:
                    data["items"][digest] = {"at": at}
                    new += 1
            if new:
                atomic_write_json(path, data)
            return new

    def acks_stamp(self) -> tuple[int, int] | None:
        try:
            stat = (self.path / ACKS_FILE).stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def acknowledgements(self) -> dict[str, dict[str, Any]]:
        """Every acknowledgement: item id -> {note, at, until (a snooze)}."""
        path = self.path / ACKS_FILE
        if not path.exists():
            return {}
        items = _read_json(path, "acknowledgements")["items"]
        return {str(k): dict(v) if isinstance(v, dict) else {} for k, v in items.items()}

    def acknowledged(self, now: datetime | None = None) -> frozenset[str]:
        """Item ids that need no reply now: acknowledged, or snoozed until later."""
        now = now or datetime.now(timezone.utc)
        found = set()
        for item_id, ack in self.acknowledgements().items():
            until = ack.get("until")
            if until:
                try:
                    if parse_timestamp(str(until)) <= now:
                        continue  # the snooze is over: waiting again
                except ValueError:
                    continue
            found.add(item_id)
        return frozenset(found)

    def acknowledge(self, item_id: str, note: str = "", at: str = "", until: str = "") -> bool:
        """Mark ``item_id`` as needing no reply (or none before ``until``);
        False if it already was, the same way."""
        entry = {"note": note, "at": at, **({"until": until} if until else {})}
        return self._edit_acks(item_id, entry)

    def unacknowledge(self, item_id: str) -> bool:
        """Make ``item_id`` wait again; False if it was not acknowledged."""
        return self._edit_acks(item_id, None)

    def _edit_acks(self, item_id: str, entry: dict[str, str] | None) -> bool:
        path = self.path / ACKS_FILE
        with self._writing(path):
            data: dict[str, Any] = {"schema": SCHEMA, "items": {}}
            if path.exists():
                data = _read_json(path, "acknowledgements")
            old = data["items"].get(item_id)
            if entry is None:
                if old is None:
                    return False
                del data["items"][item_id]
            else:
                if old is not None and old.get("until") == entry.get("until"):
                    return False
                data["items"][item_id] = entry
            atomic_write_json(path, data)
            return True
