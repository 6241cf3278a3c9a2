"""One fetch job from its source's answer to the archive.

The source is asked with the job's cursor; what comes back is merged
(new items, the new cursor), what the network confirms deleted becomes a
tombstone, and what the user should hear (short answers, skipped entries,
unwritable files) goes into the fetch's :class:`~fetch.Summary`.  A write
that fails moves no cursor on, so the next fetch asks again.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from .archive import Archive, ArchiveError, ArchiveWriteError
from .parsed import skipped_line

if TYPE_CHECKING:
    from .fetch import Job, Result, Source, Summary

#: Write errors that every other archive file would meet too.
DISK_FULL = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EROFS") if hasattr(errno, name)
)


class Store:
    """Fetches one job and keeps what came; ``disk_full`` once the
    archive's disk is full (or read-only), when fetching more is waste."""

    def __init__(
        self, archive: Archive, sources: Mapping[str, Source], clock: Callable[[], datetime]
    ) -> None:
        self.archive = archive
        self.sources = sources
        self._clock = clock
        self.disk_full = False

    def __call__(self, job: Job, summary: Summary, lock: threading.Lock) -> None:
        """Fetch ``job`` and archive the answer; raises the source's error
        (after keeping what came before it)."""
        source = self.sources[job.source]
        cursor = self.archive.load(job.post_key).cursors.get(job.cursor_key) or {}
        result = source.fetch(job, cursor)
        if result.error is None:
            new_cursor = dict(result.cursor)
            new_cursor["fetched_at"] = self._clock().replace(microsecond=0).isoformat()
        else:
            # What came before the failure is kept, and the old fetch time,
            # so the job stays due; an unchanged cursor is not rewritten.
            new_cursor = {**cursor, **result.cursor}
        if (result.items or new_cursor != cursor) and not self._merge(
            job, result, new_cursor, summary, lock
        ):
            # Nothing was archived, so there is nothing to tombstone either.
            if result.error is not None:
                raise result.error
            return
        self._tell(job, result, summary, lock)
        self._withdraw(job, source, result, summary, lock)
        if result.error is not None:
            raise result.error

    def _merge(
        self,
        job: Job,
        result: Result,
        cursor: dict[str, object],
        summary: Summary,
        lock: threading.Lock,
    ) -> bool:
        """Merge the items and the cursor; False when the file could not be written."""
        try:
            merged = self.archive.merge(job.post_key, result.items, {job.cursor_key: cursor})
        except ArchiveWriteError as exc:
            # The source did its part: the cursor is not moved on, so the
            # next fetch asks for the same items again.
            try:
                known = self.archive.load(job.post_key).items
            except ArchiveError:
                known = {}
            new = [i for i in result.items if i.id not in known]
            kept = bool(new) and self.archive.keep_unsaved(job.post_key, new)
            with lock:
                summary.unsaved[str(exc.path)] = str(exc)
                summary.unsaved_items += len(new)
                summary.kept_items += len(new) if kept else 0
                if exc.errno in DISK_FULL:
                    self.disk_full = True
            return False
        with lock:
            summary.new_items += merged.added
        return True

    @staticmethod
    def _tell(job: Job, result: Result, summary: Summary, lock: threading.Lock) -> None:
        """Notices, skipped entries and failed secondary requests, for the log."""
        lines = [skipped_line(job.source, job.post_key, result.skipped)] if result.skipped else []
        lines += [f"{job.source}: {what} on post {job.post_key}" for what in result.degraded]
        with lock:
            if result.notice:
                summary.notices.append((job.source, job.post_key, result.notice))
            summary.entry_lines.extend(lines)

    def _withdraw(
        self, job: Job, source: Source, result: Result, summary: Summary, lock: threading.Lock
    ) -> None:
        """Tombstone the archived items the network confirmed deleted."""
        archived = self.archive.load(job.post_key).items
        gone = set(result.gone)
        confirm = getattr(source, "confirm_gone", None)
        if confirm is not None and result.error is None and result.complete is not None:
            gone.update(confirm(job, result, archived))  # in this job's host slot
        # Only archived items: a deletion seen before we archived it is moot.
        gone &= set(archived)
        if not gone:
            return
        try:
            stones = self.archive.tombstone(job.post_key, sorted(gone), "deleted")
        except ArchiveWriteError as exc:
            # The next fetch confirms them again.
            with lock:
                summary.unsaved[str(exc.path)] = str(exc)
        else:
            with lock:
                summary.deleted += stones
