"""The archive: one committed JSON file per post, which only ever grows.

It holds what cannot be rebuilt: items fetched or imported from outside,
fetch cursors and acknowledgements.  Files are written with sorted keys and
a stable order so a new reply is a small git diff, atomically (temp file,
fsync, ``os.replace``) so a crash leaves the old file or the new one, and
under a lock so two builds at once cannot interleave their writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from filelock import FileLock

from .atomic import atomic_write
from .model import (
    Item,
    Person,
    Tombstone,
    normal_handle,
    normal_url,
    parse_timestamp,
    profile_handle,
)
from .sanitize import clean_html, safe_url

#: 2: the facts that decide trust, waiting and dedup (``by_author``,
#: ``reply_url``, ``wm_source``, ``syndication``, ``root``, ``hidden``,
#: ``withheld``...) are item fields, no longer keys of ``extras``.
SCHEMA = 2
#: Older schemas this version reads (and rewrites in the current one).
READABLE_SCHEMAS = frozenset({1, SCHEMA})
ACKS_FILE = "acknowledged.json"
#: People erased on request, as digests of their handles and profile URLs.
FORGOTTEN_FILE = "forgotten.json"
_LOCK_TIMEOUT = 60.0


class ArchiveError(Exception):
    """An archive file exists but cannot be used; it is left untouched."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


class ArchiveWriteError(ArchiveError):
    """An archive file could not be written (full disk, permissions, a lock
    held too long): the file on disk is as it was, and what was to be
    written is not in it.  A disk problem, never a source's failure."""

    def __init__(self, path: Path, exc: OSError) -> None:
        super().__init__(path, f"cannot be written ({exc.strerror or exc})")
        self.errno = exc.errno


#: Temporary files of ``atomic_write_json``: ".<name>.json.<random>.tmp".
_TEMPORARY = re.compile(r"^\..+\.json\.[^.]+\.tmp$")


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as stable, diff-friendly JSON, all or nothing.

    Raises :class:`ArchiveWriteError` naming ``path`` when the disk refuses
    (no space, no permission); the old file is then unchanged, and no
    temporary file is left behind.  A process killed mid-write leaves one,
    which :meth:`Archive.remove_temporary_files` clears on the next run.
    """
    text = json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise ArchiveWriteError(path, exc) from exc


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def file_name(key: str) -> str:
    """A post key as a portable file name ("../x" cannot escape the folder).

    When the key has to be changed to be safe, a digest of the original is
    added, so "a/b", "a_b" and two non-ASCII slugs never share a file.
    """
    safe = _UNSAFE.sub("_", key).lstrip(".")
    if safe != key or not safe:
        safe = f"{safe}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
    return safe + ".json"


def _read_json(path: Path, kind: str) -> dict[str, Any]:
    """A JSON object with a schema we know, or an ArchiveError naming the file.

    The schema is checked before anything else, so a file from a newer
    version asks for an upgrade whatever its layout.
    """
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError(path, f"cannot be read ({exc}); left as it is") from exc
    if "\\ud" in text or "\\uD" in text:
        # A "\udcff" escape alone is no character: it would stop the build
        # where the page is written.  (Escaped pairs, e.g. emoji, are fine.)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start : exc.end].encode("utf-8", "backslashreplace").decode()
            raise ArchiveError(
                path, f"holds an escaped lone surrogate ({bad}), which is not text; left as it is"
            ) from exc
    schema = data.get("schema") if isinstance(data, dict) else None
    if isinstance(schema, int) and schema > SCHEMA:
        raise ArchiveError(
            path,
            f"has schema {schema}, newer than this version of pelican-engage "
            f"knows ({SCHEMA}); upgrade pelican-engage. Left as it is",
        )
    if (
        not isinstance(data, dict)
        or schema not in READABLE_SCHEMAS
        or not isinstance(data.get("items"), dict)
    ):
        raise ArchiveError(path, f"is not an engage {kind} file; left as it is")
    return data


def _checked(key: str, item: Item) -> Item:
    """An archived item, sanitised again: the file is committed and can be
    edited by hand or in a pull request, so it is a way in like any other.
    Cleaning is idempotent, so items we wrote come back unchanged."""
    if item.id != key:
        raise ValueError(f"item stored under {key!r} has the id {item.id!r}")
    author = replace(
        item.author, url=safe_url(item.author.url), avatar=safe_url(item.author.avatar)
    )
    return replace(
        item,
        url=safe_url(item.url),
        author=author,
        content_html=clean_html(item.content_html),
        extras=_checked_extras(item.extras),
        reply_url=safe_url(item.reply_url),
        wm_source=safe_url(item.wm_source),
        syndication=tuple(u for u in map(safe_url, item.syndication) if u),
    )


def _checked_extras(extras: Mapping[str, Any]) -> Mapping[str, Any]:
    """Links among the extras (reply links, sources, syndication) that
    templates print as ``href`` pass the same URL check as the item's own."""
    if not extras:
        return extras
    checked = dict(extras)
    for key, value in extras.items():
        if key.endswith("_url") or key == "wm_source":
            checked[key] = safe_url(value) if isinstance(value, str) else ""
        elif key == "syndication":
            links = value if isinstance(value, list) else []
            checked[key] = [u for u in (safe_url(v) for v in links if isinstance(v, str)) if u]
    return checked


def _normal(data: Any) -> Any:
    # What an item looks like once written and read back ("" parents become
    # None, tuples lists), so re-merging it is recognised as no change.
    return json.loads(json.dumps(data))


def identities(person: Person, extras: Mapping[str, Any] | None = None) -> set[str]:
    """The normalised handles, profile URLs and DIDs a person is known by."""
    found = set()
    if person.handle:
        found.add("handle:" + normal_handle(person.handle))
    if person.url:
        found.add("url:" + normal_url(person.url))
        profile = profile_handle(person.url)
        if profile:
            found.add("handle:" + normal_handle(profile[1]))
    did = str((extras or {}).get("did") or "")
    if did.startswith("did:"):
        found.add("handle:" + did.casefold())
    found.discard("handle:")
    found.discard("url:")
    return found


def identities_of(value: str) -> set[str]:
    """What ``forget --person`` was given: a profile URL, a handle or a DID."""
    value = value.strip()
    if value.startswith(("http://", "https://")):
        return identities(Person(name="", url=value))
    return identities(Person(name="", handle=value), {"did": value})


def _digest(identity: str) -> str:
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def is_forgotten(item: Item, forgotten: frozenset[str]) -> bool:
    """Is ``item`` by a person erased on request (``forgotten``: digests)?"""
    return any(_digest(i) in forgotten for i in identities(item.author, item.extras))


@dataclass(frozen=True)
class PostRecord:
    """What the archive knows about one post."""

    key: str
    items: Mapping[str, Item] = field(default_factory=dict)
    cursors: Mapping[str, Any] = field(default_factory=dict)
    #: Items gone upstream or erased: kept so that nothing brings them back.
    tombstones: Mapping[str, Tombstone] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "schema": SCHEMA,
            "post": self.key,
            "items": {i: item.to_dict() for i, item in sorted(self.items.items())},
            "cursors": dict(self.cursors),
        }
        if self.tombstones:
            # Only when there are any: files without deletions stay as they were.
            data["tombstones"] = {i: t.to_dict() for i, t in sorted(self.tombstones.items())}
        return data


@dataclass(frozen=True)
class MergeResult:
    added: int = 0
    updated: int = 0
    #: Items left out because they are tombstoned or their author was forgotten.
    refused: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


class Archive:
    """The folder of per-post JSON files (ENGAGE_ARCHIVE_PATH)."""

    def __init__(self, path: Path | str, unsaved: Path | None = None) -> None:
        self.path = Path(path)
        #: Where fetched items wait when the archive cannot be written (a
        #: folder under CACHE_PATH, often on another disk); None: nowhere.
        self.unsaved = unsaved
        # Records already read and checked, by file and its (mtime, size,
        # inode): a fetch reads each post's file several times (what is due,
        # its cursor, the merge), and re-sanitising it each time was most of
        # the cost of a fetch that found nothing new.
        self._records: dict[Path, tuple[tuple[int, int, int], PostRecord]] = {}
        self._cleaned = False

    def post_path(self, key: str) -> Path:
        return self.path / "posts" / file_name(key)

    def _lock(self, timeout: float = _LOCK_TIMEOUT) -> FileLock:
        from filelock import FileLock  # only builds that write pay for the import

        # The lock file lives outside the archive so it is never committed;
        # every process on this machine derives the same name from the path.
        digest = hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()[:16]
        lock = Path(tempfile.gettempdir()) / f"pelican-engage-{digest}.lock"
        return FileLock(str(lock), timeout=timeout)

    @contextmanager
    def _writing(self, path: Path) -> Iterator[None]:
        """Hold the lock to write ``path``; any OSError on the way (a folder
        that cannot be made, a lock held for a minute) is an
        :class:`ArchiveWriteError` naming it.  The first write of a process
        first clears what interrupted writes left."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            lock = self._lock()
            lock.acquire()
        except OSError as exc:  # filelock's Timeout is a TimeoutError
            raise ArchiveWriteError(path, exc) from exc
        try:
            if not self._cleaned:
                self._remove_temporary_files()
            yield
        finally:
            lock.release()

    def remove_temporary_files(self) -> list[Path]:
        """Remove the temporary files that killed writes left (``kill -9``,
        a power cut), which would otherwise be committed with the archive.

        Only under the archive's lock, so a write in progress in another
        process keeps its file; when that process holds the lock, nothing
        is done now (its own first write clears them).  Cheap when there
        are none: one listing of the folder.  Returns the removed files.
        """
        if self._cleaned or not self._temporary_files():
            return []
        try:
            lock = self._lock(timeout=0)
            lock.acquire()
        except OSError:
            return []
        try:
            return self._remove_temporary_files()
        finally:
            lock.release()

    def _temporary_files(self) -> list[Path]:
        found = []
        for folder in (self.path, self.path / "posts"):
            try:
                with os.scandir(folder) as entries:
                    found += [Path(e.path) for e in entries if _TEMPORARY.match(e.name)]
            except OSError:
                continue
        return found

    def _remove_temporary_files(self) -> list[Path]:
        removed = []
        for path in self._temporary_files():
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                continue  # a read-only archive: nothing we could write either
        self._cleaned = True
        return removed

    def keys(self) -> list[str]:
        folder = self.path / "posts"
        if not folder.is_dir():
            return []
        keys = []
        for path in sorted(folder.glob("*.json")):
            try:
                keys.append(self._read(path).key)
            except ArchiveError:
                keys.append(path.stem)
        return keys

    def upgrade(self) -> list[str]:
        """Rewrite each post file of an older schema in the current one.

        Reading an old file already gives today's items (see ``Item``),
        and any merge writes the new form; this does it for every file at
        once (after an upgrade of pelican-engage, so the next commit holds
        one format).  Returns the keys rewritten; a damaged file is left as
        it is (ArchiveError, as for a load).
        """
        folder = self.path / "posts"
        done = []
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            if _read_json(path, "archive").get("schema") == SCHEMA:
                continue
            with self._writing(path):
                record = self._read(path)
                atomic_write_json(path, record.to_dict())
            done.append(record.key)
        return done

    def stamp(self, key: str) -> tuple[int, int] | None:
        """Modification time and size of the post's file, to notice changes."""
        try:
            stat = self.post_path(key).stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def load(self, key: str) -> PostRecord:
        """The record of ``key``; an empty one if the post has none yet."""
        path = self.post_path(key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return PostRecord(key=key)
        except OSError as exc:
            raise ArchiveError(path, f"cannot be read ({exc}); left as it is") from exc
        signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        cached = self._records.get(path)
        if cached is not None and cached[0] == signature:
            return cached[1]
        record = self._read(path, key)
        self._records[path] = (signature, record)
        return record

    @staticmethod
    def _read(path: Path, key: str | None = None) -> PostRecord:
        data = _read_json(path, "archive")
        try:
            items = {str(i): _checked(i, Item.from_dict(d)) for i, d in data["items"].items()}
            cursors = data.get("cursors") or {}
            if not isinstance(cursors, dict):
                raise TypeError(f"cursors are a {type(cursors).__name__}, not an object")
            tombstones = {
                str(i): Tombstone.from_dict(d) for i, d in (data.get("tombstones") or {}).items()
            }
            # A tombstone wins over an item of the same id (one added back
            # by hand, or by an older version of pelican-engage).
            items = {i: item for i, item in items.items() if i not in tombstones}
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ArchiveError(path, f"holds malformed data ({exc}); left as it is") from exc
        stored = str(data.get("post", path.stem))
        if key is not None and stored != key:
            raise ArchiveError(path, f"belongs to post {stored!r}, not {key!r}; left as it is")
        # Read-only views: a loaded record may be shared by later loads.
        return PostRecord(
            key=stored,
            items=MappingProxyType(items),
            cursors=MappingProxyType(cursors),
            tombstones=MappingProxyType(tombstones),
        )

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
