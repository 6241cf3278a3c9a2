"""The archive folder: where post files are, the lock that guards writes,
temporary files of interrupted writes, and reading records (with a memo of
those already checked)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filelock import FileLock

from .archive_files import (
    _LOCK_TIMEOUT,
    _TEMPORARY,
    SCHEMA,
    ArchiveError,
    ArchiveWriteError,
    PostRecord,
    _read_json,
    atomic_write_json,
    file_name,
    read_record,
)


class ArchiveFolder:
    """The folder of per-post JSON files (ENGAGE_ARCHIVE_PATH): reading."""

    def __init__(self, path: Path | str, unsaved: Path | None = None) -> None:
        self.path = Path(path)
        self._posts = os.path.join(self.path, "posts")  # as a string: stamp() runs per post
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

    def upgrade(self, damaged: list[ArchiveError] | None = None) -> list[str]:
        """Rewrite each post file of an older schema in the current one.

        Reading an old file already gives today's items (see ``Item``),
        and any merge writes the new form; this does it for every file at
        once (after an upgrade of pelican-engage, so the next commit holds
        one format).  Returns the keys rewritten.  A damaged file is left as
        it is: its ArchiveError is appended to ``damaged`` and the other
        files are still upgraded (one bad file must not keep the rest old),
        or raised when ``damaged`` is None.  A write the disk refuses
        (ArchiveWriteError) is always raised.
        """
        folder = self.path / "posts"
        done = []
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            try:
                if _read_json(path, "archive").get("schema") == SCHEMA:
                    continue
                with self._writing(path):
                    record = self._read(path)
                    atomic_write_json(path, record.to_dict())
            except ArchiveWriteError:
                raise
            except ArchiveError as exc:
                if damaged is None:
                    raise
                damaged.append(exc)
                continue
            done.append(record.key)
        return done

    def stamp(self, key: str) -> tuple[int, int] | None:
        """Modification time and size of the post's file, to notice changes."""
        try:
            stat = os.stat(os.path.join(self._posts, file_name(key)))
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def load(self, key: str, keep: bool = True, lenient: bool = False) -> PostRecord:
        """The record of ``key``; an empty one if the post has none yet.

        ``keep=False`` (a build, which reads each post once) leaves it out
        of the memo, so a site's items are not all held at once.
        ``lenient`` (for display): malformed items are left out and named
        in the record's ``malformed`` instead of failing the whole file.
        """
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
        if lenient:
            return read_record(path, key, lenient=True)
        record = self._read(path, key)
        if keep:
            self._records[path] = (signature, record)
        return record

    @staticmethod
    def _read(path: Path, key: str | None = None) -> PostRecord:
        return read_record(path, key)
