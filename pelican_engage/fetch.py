"""Which (post, source) pairs are due, and fetching them in parallel.

New posts get replies often, old posts rarely: a pair is due when the time
since its last fetch exceeds an interval that grows with the post's age.
Due pairs are fetched on a bounded thread pool (at most a few at once per
host), under a total time budget, and merged into the archive.  A failure
never removes an archived item and never raises: it is counted and told in
one line per source.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from .archive import Archive, ArchiveError, ArchiveWriteError
from .backoff import HostBackoff
from .errors import AccessDenied, FetchError, SourceUnavailable
from .fetch_hosts import Hosts
from .fetch_store import Store
from .model import Item, Tombstone, parse_timestamp
from .parsed import Skipped
from .slots import PER_HOST, RequestSlots

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refresh:
    """How often a pair is fetched again: ``ratio`` of the post's age,
    between ``min_seconds`` and ``max_seconds``."""

    min_seconds: float = 3600.0
    max_seconds: float = 7 * 86400.0
    ratio: float = 0.1

    def interval(self, published: datetime, now: datetime) -> timedelta:
        age = max(0.0, (now - published).total_seconds())
        return timedelta(seconds=min(self.max_seconds, max(self.min_seconds, age * self.ratio)))

    def is_due(self, last: datetime | None, published: datetime, now: datetime) -> bool:
        return last is None or now - last >= self.interval(published, now)


@dataclass(frozen=True)
class Job:
    """One announcement (a status URL, a tweet...) of one post, on one source."""

    post_key: str
    source: str
    target: str
    host: str
    published: datetime

    @property
    def cursor_key(self) -> str:
        return f"{self.source}:{self.target}"


@dataclass(frozen=True)
class Result:
    items: tuple[Item, ...] = ()
    #: Replaces this job's cursor (since ids, validators, "deleted"...).
    cursor: Mapping[str, Any] = field(default_factory=dict)
    #: A failure after some data came: the items are kept, then this is
    #: handled as if it had been raised.
    error: Exception | None = None
    #: Ids of archived items the network *confirmed* are gone (a 404/410 or
    #: not-found answer for that very item); they become tombstones.  Never
    #: ids merely missing from an answer.
    gone: tuple[str, ...] = ()
    #: Something the user can act on about an answer that came back short
    #: ("60 of 75 replies; a token ... raises the limit"); logged once.
    notice: str = ""
    #: Every item id of an answer known to be whole (None: partial or
    #: unknown).  Only then may a source's ``confirm_gone`` look for
    #: archived items missing from it, and ask the network about each.
    complete: frozenset[str] | None = None
    #: Entries of the answer that could not be read (their siblings are
    #: in ``items``); told in one line per source and post.
    skipped: tuple[Skipped, ...] = ()
    #: Secondary requests (likes, reposts...) that failed: the primary
    #: data is kept and this says what is missing, one line each.
    degraded: tuple[str, ...] = ()


def url_job(post_key: str, source: str, url: str, published: datetime, what: str) -> Job:
    """The job of a source that is fetched at a URL of the article's metadata."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{url!r} is not an http(s) URL of {what}")
    return Job(post_key, source, url.strip(), parts.netloc, published)


def _when(value: Any) -> datetime | None:
    """A cursor's fetch time; a hand-edited, unreadable one makes the job due."""
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def _family(source: str) -> str:
    return source.split("-", 1)[0]


class Source(Protocol):
    """A source; it may also have ``confirm_gone(job, result, archived) ->
    ids``, asked after a fetch with archived items missing from a complete
    answer, which returns those the network confirms are deleted."""

    name: str

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result: ...


@dataclass
class Summary:
    """What a fetch did, for the build's log line and the CLI."""

    requests: int = 0
    new_items: int = 0
    jobs: int = 0
    skipped: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    messages: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    #: HTTP requests per source (X bills per read: the build says how many).
    requests_by_source: dict[str, int] = field(default_factory=dict)
    #: Sources whose token or access was refused (their line is a warning).
    denied: set[str] = field(default_factory=set)
    #: (post key, announcement URL) found by discovery in this fetch.
    discovered: list[tuple[str, str]] = field(default_factory=list)
    #: Archive files that could not be written (a disk problem, not a
    #: source's): file -> message, and how many fetched items they missed.
    unsaved: dict[str, str] = field(default_factory=dict)
    unsaved_items: int = 0
    #: Of those, how many wait in the cache for the next run to archive.
    kept_items: int = 0
    #: One line per host that did not answer, saying when it is tried again.
    hosts: dict[str, str] = field(default_factory=dict)
    #: Archived items the networks confirmed deleted, now tombstones.
    deleted: list[Tombstone] = field(default_factory=list)
    #: (source, post key, notice) of answers that came back short.
    notices: list[tuple[str, str, str]] = field(default_factory=list)
    #: One line per (source, post) about entries skipped as malformed, and
    #: about secondary requests that failed while the thread was kept.
    entry_lines: list[str] = field(default_factory=list)

    def add(self, other: Summary) -> None:
        """Fold in the summary of another run of the same fetch."""
        self.jobs += other.jobs
        self.skipped += other.skipped
        self.new_items += other.new_items
        self.errors.update(other.errors)
        self.denied |= other.denied
        self.deleted += other.deleted
        self.notices += other.notices
        self.entry_lines += other.entry_lines
        for source, message in other.messages.items():
            self.messages.setdefault(source, message)
        for path, message in other.unsaved.items():
            self.unsaved.setdefault(path, message)
        self.unsaved_items += other.unsaved_items
        self.kept_items += other.kept_items
        self.hosts.update(other.hosts)
        self.seconds += other.seconds


def save_unsaved(archive: Archive) -> dict[str, str]:
    """Archive what an earlier fetch could not write (a full disk then);
    the files still refused (file -> the error, told) as in
    :attr:`Summary.unsaved`.  A kept copy that cannot be read or removed
    is a warning of its own: the disk did not refuse the archive, and the
    next fetch asks the source for its items again anyway."""
    saved, errors = archive.save_unsaved()
    if saved:
        logger.info("engage: %d item(s) an earlier fetch could not archive are archived now", saved)
    refused = [exc for exc in errors if isinstance(exc, ArchiveWriteError)]
    if refused:
        first, *more = refused
        logger.error(
            "engage: the archive could not be written: %s%s",
            first,
            f" (and {len(more)} more file(s))" if more else "",
        )
    for exc in errors:
        if not isinstance(exc, ArchiveWriteError):
            logger.warning(
                "engage: fetched items kept in the cache for the archive: %s; "
                "remove it (the next fetch asks the source for them again)",
                exc,
            )
    return {str(exc.path): str(exc) for exc in refused}


#: Jobs in progress per request slot of a host (measured: 2 keeps a host's
#: 4 slots busy 90% of the time, 4 keeps them 92% busy).
JOBS_PER_SLOT = 4


class Fetcher:
    """Runs due jobs concurrently and merges what comes back."""

    def __init__(
        self,
        archive: Archive,
        sources: Mapping[str, Source],
        refresh: Refresh | None = None,
        concurrency: int = 16,
        per_host: int = PER_HOST,
        budget_seconds: float = 120.0,
        clock: Callable[[], datetime] | None = None,
        backoff: HostBackoff | None = None,
        retry_hosts: bool = False,
    ) -> None:
        self.archive = archive
        self.sources = sources
        self.refresh = refresh or Refresh()
        self.concurrency = max(1, concurrency)
        self.per_host = max(1, per_host)
        self.budget_seconds = budget_seconds
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        #: Each host's job slots, and whether it answers (in this build and
        #: before).  More jobs than request slots: while some parse or write
        #: their archive file, the others' requests wait for a slot, and a
        #: slot that comes free is taken at once.
        self.hosts = Hosts(JOBS_PER_SLOT * self.per_host, self._clock, backoff, retry_hosts)
        #: Requests at once, per host and in all, shared by the sources'
        #: HTTP clients: a post's requests that go out together count too.
        self.slots = RequestSlots(self.per_host, self.concurrency)
        for source in sources.values():
            client = getattr(source, "client", None)
            if client is not None and hasattr(client, "slots"):
                client.slots = self.slots
        self.store = Store(archive, sources, self._clock)
        #: Source families ("twitter" for twitter and twitter-discover)
        #: that cannot work in this build any more.
        self.deferred: set[str] = set()
        self._deadline: float | None = None

    @property
    def disk_full(self) -> bool:
        """The archive's disk is full (or read-only): fetching more is waste."""
        return self.store.disk_full

    def due(self, jobs: Iterable[Job], force: bool = False) -> list[Job]:
        """The jobs whose refresh interval has passed (all with ``force``)."""
        now = self._clock()
        selected = []
        for job in jobs:
            try:
                cursor = self.archive.load(job.post_key).cursors.get(job.cursor_key) or {}
            except ArchiveError:
                continue  # a damaged archive file is left alone; the build reports it
            if cursor.get("deleted") and not force:
                continue
            last_at = _when(cursor.get("fetched_at"))
            if force or self.refresh.is_due(last_at, job.published, now):
                selected.append(job)
        return selected

    def start(self) -> float:
        """Start the budget clock (once per build); the ``time.monotonic()``
        deadline, which the engine also gives its HTTP clients."""
        if self._deadline is None:
            self._deadline = time.monotonic() + self.budget_seconds
        return self._deadline

    def run(self, jobs: list[Job], progress: Callable[[Job, str], None] | None = None) -> Summary:
        """Fetch ``jobs``; a Fetcher serves one build, so a source deferred,
        a host that did not answer or the time budget spent in one run stays
        so in the next.

        ``progress(job, outcome)`` is called as each job ends, with outcome
        ``"ok"``, ``"failed"`` or ``"skipped"`` (budget spent, source
        deferred, host resting or down, disk full).
        """
        summary = Summary(jobs=len(jobs))
        started = time.monotonic()
        deadline = self.start()
        lock = threading.Lock()
        late = 0
        jobs = self.hosts.hold_resting(jobs, summary, progress)

        def one(job: Job) -> None:
            nonlocal late
            outcome = "ok"
            try:
                if _family(job.source) in self.deferred or self.disk_full:
                    outcome = "skipped"
                    with lock:
                        summary.skipped += 1
                    return
                ran = self.hosts.run(job, summary, lock, deadline, self.store)
                if ran != "ok":
                    outcome = "skipped"
                if ran == "late":
                    with lock:
                        summary.skipped += 1
                        late += 1
            except Exception as exc:  # a hostile answer must not fail the build
                outcome = "failed"
                with lock:
                    self._failed(job, exc, summary)
            finally:
                if progress:
                    progress(job, outcome)

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            list(pool.map(one, by_turns(jobs)))
        summary.seconds = time.monotonic() - started
        tell(summary, jobs, self.archive)
        self.hosts.tell_down(jobs, summary)
        if late:
            logger.info(
                "engage: the fetch budget (ENGAGE_FETCH_BUDGET, %g s) is spent; "
                "%d fetch(es) left for the next build",
                self.budget_seconds,
                late,
            )
        self.hosts.save()
        return summary

    def _failed(self, job: Job, exc: BaseException, summary: Summary) -> None:
        summary.errors[job.source] += 1
        if isinstance(exc, SourceUnavailable):
            # Rate limit, bad token, missing access, request cap: asking
            # again for every other post would only fail the same way.
            self.deferred.add(_family(job.source))
            summary.messages[job.source] = str(exc)
            if isinstance(exc, AccessDenied):
                summary.denied.add(job.source)
        elif isinstance(exc, (FetchError, ValueError, KeyError, TypeError, ArchiveError)):
            summary.messages.setdefault(job.source, str(exc))
        else:
            summary.messages.setdefault(
                job.source, f"unexpected {type(exc).__name__} in {job.target}: {exc}"
            )


def by_turns(jobs: list[Job]) -> list[Job]:
    """``jobs`` with the hosts taking turns (a, b, c, a, b, c...), each
    host's jobs in their order: the pool's threads then wait on a busy
    host's slots as little as they can while other hosts have work."""
    queues: dict[str, list[Job]] = {}
    for job in jobs:
        queues.setdefault(job.host, []).append(job)
    turns = [q[::-1] for q in queues.values()]
    ordered = []
    while turns:
        ordered += [q.pop() for q in turns]
        turns = [q for q in turns if q]
    return ordered


def tell(summary: Summary, jobs: list[Job], archive: Archive) -> None:
    """The log lines of one run: what was not archived, short answers,
    skipped entries, deletions, and one line per source that failed."""
    if summary.unsaved:
        # A disk problem loses data unless the user acts: said at the
        # default verbosity, once per build, naming the file.
        first, *more = sorted(summary.unsaved.values())
        kept = ""
        if summary.kept_items and archive.unsaved is not None:
            kept = f" ({summary.kept_items} kept in {archive.unsaved} meanwhile)"
        logger.error(
            "engage: the archive could not be written: %s%s; %d new item(s) are not "
            "in it%s, and the next fetch asks for them again",
            first,
            f" (and {len(more)} more file(s))" if more else "",
            summary.unsaved_items,
            kept,
        )
    for source, post, notice in summary.notices:
        logger.warning("engage: %s: %s: %s", source, post, notice)
    for line in summary.entry_lines:
        # Nothing is dropped without a line saying so; the network's
        # data, not the user's settings, is at fault: info level.
        logger.info("engage: %s", line)
    for stone in summary.deleted:
        # Named, so the author can follow a reply that left the page.
        logger.info("engage: %s: %s was deleted upstream; withdrawn", stone.source, stone.id)
    for source, count in sorted(summary.errors.items()):
        # One line per source per build, however many posts failed.  A
        # rejected token or missing access is for the user to fix.
        log = logger.warning if source in summary.denied else logger.info
        log(
            "engage: %s: %d of %d fetch(es) failed, archived items kept (%s)",
            source,
            count,
            sum(1 for j in jobs if j.source == source),
            summary.messages.get(source, ""),
        )
