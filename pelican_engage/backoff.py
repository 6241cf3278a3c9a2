"""Hosts that did not answer, remembered across builds.

A server that accepts connections and never answers costs a timeout per
request, in every build and every ``--autoreload`` regeneration.  After a
timeout or a connection failure its host is left alone for a while, and
the while doubles with each failed try (from 15 minutes to a day); the
first answer forgets it.  The state is a small JSON file under CACHE_PATH:

``{"hosts": {"<host[:port]>": {"failures": 2, "retry_at": "<ISO 8601 UTC>",
"problem": "timed out"}}}``

An unreadable or hand-edited file counts as empty: it can only cost one
more try.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .atomic import atomic_write
from .model import parse_timestamp

logger = logging.getLogger(__name__)

FIRST = timedelta(minutes=15)
LONGEST = timedelta(days=1)


@dataclass(frozen=True)
class Down:
    """A host that did not answer: how often in a row, until when it rests, why."""

    failures: int
    retry_at: datetime
    problem: str


def next_try(failures: int, now: datetime) -> datetime:
    """When a host that failed ``failures`` times in a row is tried again."""
    wait = min(LONGEST, FIRST * 2 ** max(0, min(failures - 1, 16)))
    return now + wait


def parse_state(text: str) -> dict[str, Down]:
    """The hosts of a state file; entries that do not parse are left out."""
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    hosts = data.get("hosts") if isinstance(data, dict) else None
    found: dict[str, Down] = {}
    for host, entry in (hosts or {}).items() if isinstance(hosts, dict) else ():
        if not isinstance(entry, dict):
            continue
        try:
            when = parse_timestamp(str(entry["retry_at"]))
            failures = int(entry.get("failures") or 1)
        except (KeyError, TypeError, ValueError):
            continue
        found[str(host)] = Down(max(1, failures), when, str(entry.get("problem") or ""))
    return found


class HostBackoff:
    """The state file of one site; thread safe, written only when changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._changed = False
        try:
            self._hosts = parse_state(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            self._hosts = {}

    def resting(self, host: str, now: datetime) -> Down | None:
        """The host's entry while it still rests, else None."""
        with self._lock:
            down = self._hosts.get(host)
        return down if down is not None and down.retry_at > now else None

    def failed(self, host: str, problem: str, now: datetime) -> Down:
        """Record one more failed try; returns when the host is tried again."""
        with self._lock:
            old = self._hosts.get(host)
            failures = (old.failures if old else 0) + 1
            down = Down(failures, next_try(failures, now.replace(microsecond=0)), problem)
            self._hosts[host] = down
            self._changed = True
            return down

    def answered(self, host: str) -> None:
        with self._lock:
            if self._hosts.pop(host, None) is not None:
                self._changed = True

    def save(self) -> None:
        """Write the state (atomically) when it changed; a failure is logged."""
        with self._lock:
            if not self._changed:
                return
            data = {
                "hosts": {
                    host: {
                        "failures": down.failures,
                        "retry_at": down.retry_at.isoformat(),
                        "problem": down.problem,
                    }
                    for host, down in sorted(self._hosts.items())
                }
            }
            self._changed = False
        try:
            atomic_write(self.path, json.dumps(data, indent=1))
        except OSError as exc:
            logger.warning("engage: cannot write %s (%s)", self.path, exc)
