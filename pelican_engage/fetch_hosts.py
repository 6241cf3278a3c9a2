"""The hosts of one fetch: a few jobs at a time each (their requests are
counted in ``slots.py``), and none to a host that stopped answering.

The first job on a host runs alone (the probe): when the host does not
answer, its other jobs are skipped at once instead of each waiting for its
own timeout.  Hosts that did not answer in earlier builds rest until their
next try (``backoff.py``), unless ``fetch --force`` asks anyway.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .backoff import HostBackoff
from .errors import NotAsked, OutOfTime, Unreachable

if TYPE_CHECKING:
    from .fetch import Job, Summary

logger = logging.getLogger("pelican_engage.fetch")


@dataclass
class _Host:
    """A host in one build: its slots, and whether it answers.

    The first job on a host runs alone (the probe): when the host does not
    answer, its other jobs are skipped at once instead of each waiting for
    its own timeout.
    """

    slots: threading.Semaphore
    probed: threading.Event = field(default_factory=threading.Event)
    claimed: bool = False
    #: Why it did not answer in this build ("" while it answers).
    down: str = ""
    retry_at: datetime | None = None
    skipped: int = 0


class Hosts:
    """Every host of one build's fetch (one :class:`~fetch.Fetcher` has one)."""

    def __init__(
        self,
        per_host: int,
        clock: Callable[[], datetime],
        backoff: HostBackoff | None = None,
        retry_hosts: bool = False,
    ) -> None:
        self.per_host = per_host
        self._clock = clock
        self._hosts: dict[str, _Host] = defaultdict(
            lambda: _Host(threading.Semaphore(self.per_host))
        )
        self._hosts_lock = threading.Lock()
        #: Hosts that did not answer in earlier builds (None: not remembered).
        self.backoff = backoff
        #: ``fetch --force``: try resting hosts anyway.
        self.retry_hosts = retry_hosts

    def hold_resting(
        self, jobs: list[Job], summary: Summary, progress: Callable[[Job, str], None] | None
    ) -> list[Job]:
        """The jobs to run; those of hosts resting after earlier builds wait,
        with one line per host."""
        if self.backoff is None or self.retry_hosts:
            return jobs
        now = self._clock()
        kept: list[Job] = []
        held: dict[str, list[Job]] = defaultdict(list)
        for job in jobs:
            down = self.backoff.resting(job.host, now)
            if down is None:
                kept.append(job)
                continue
            held[job.host].append(job)
            if job.host not in summary.hosts:
                summary.hosts[job.host] = (
                    f"{job.host} did not answer on the last try ({down.problem}); "
                    f"next try after {_at(down.retry_at)} "
                    "(`pelican-engage fetch --force` tries now)"
                )
        for host, waiting in held.items():
            summary.skipped += len(waiting)
            logger.info("engage: %s; %d fetch(es) skipped", summary.hosts[host], len(waiting))
            for job in waiting:
                if progress:
                    progress(job, "skipped")
        return kept

    def run(
        self,
        job: Job,
        summary: Summary,
        lock: threading.Lock,
        deadline: float,
        fetch: Callable[[Job, Summary, threading.Lock], None],
    ) -> str:
        """Run ``fetch(job, summary, lock)`` in a slot of the job's host:
        ``"ok"``, ``"late"`` when the budget ran out first, ``"down"`` when
        the host stopped answering (counted as skipped here).  Raises what
        the job raised."""
        if time.monotonic() > deadline:
            return "late"
        host = self._host(job.host)
        with self._hosts_lock:
            probe, host.claimed = not host.claimed, True
        try:
            if not probe:
                host.probed.wait(max(0.0, deadline - time.monotonic()))
            if host.down:
                with lock:
                    summary.skipped += 1
                    host.skipped += 1
                return "down"
            with host.slots:
                # Waiting for the slot may have taken the rest of the budget.
                if time.monotonic() > deadline:
                    return "late"
                try:
                    fetch(job, summary, lock)
                except NotAsked:
                    return "late"  # a request waited for a slot past the budget
                except Unreachable as exc:
                    self._went_down(job.host, host, exc)
                    raise
                except OutOfTime:
                    raise
                except Exception:
                    self._answered(job.host)
                    raise
                self._answered(job.host)
                return "ok"
        finally:
            if probe:
                host.probed.set()

    def _answered(self, name: str) -> None:
        if self.backoff is not None:
            self.backoff.answered(name)

    def _went_down(self, name: str, host: _Host, exc: Unreachable) -> None:
        with self._hosts_lock:
            if host.down:
                return
            host.down = exc.problem
        if self.backoff is not None:
            host.retry_at = self.backoff.failed(name, host.down, self._clock()).retry_at

    def tell_down(self, jobs: list[Job], summary: Summary) -> None:
        """One line per host that stopped answering in this run."""
        for name in sorted({j.host for j in jobs}):
            host = self._host(name)
            if not host.down or name in summary.hosts:
                continue
            when = (
                f"next try after {_at(host.retry_at)}"
                if host.retry_at
                else "next try in the next build"
            )
            summary.hosts[name] = (
                f"{name} did not answer ({host.down}); {host.skipped} more fetch(es) "
                f"skipped, {when} (`pelican-engage fetch --force` tries now)"
            )
            logger.info("engage: %s", summary.hosts[name])

    def _host(self, host: str) -> _Host:
        with self._hosts_lock:
            return self._hosts[host]

    def save(self) -> None:
        """Remember which hosts did not answer, for the next builds."""
        if self.backoff is not None:
            self.backoff.save()


def _at(when: datetime | None) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if when else "?"
