"""How many requests are in flight at once: a few per host, a bound in all.

Politeness is counted in requests, not in posts: a post's independent
requests (a status, its context, who favourited it) may go out together,
and a host still never has more than ``per_host`` of this fetch's requests
at once, whichever posts they belong to.  One :class:`RequestSlots` is
shared by every HTTP client of a fetch (see ``fetching.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import NotAsked

#: Requests at once per host, as a browser's connections per server.
PER_HOST = 4
_SPENT = "not asked: the fetch budget is spent"


class RequestSlots:
    """At most ``per_host`` requests at once to each host (``host`` as in a
    URL's netloc, port included) and at most ``total`` in all (None: no
    bound but the hosts')."""

    def __init__(self, per_host: int = PER_HOST, total: int | None = None) -> None:
        self.per_host = max(1, per_host)
        self.total = None if total is None else max(1, total)
        self._all = threading.BoundedSemaphore(self.total) if self.total else None
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def _of(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._hosts.get(host)
            if slot is None:
                slot = self._hosts[host] = threading.BoundedSemaphore(self.per_host)
            return slot

    @contextmanager
    def hold(self, host: str, deadline: float | None = None, url: str = "") -> Iterator[None]:
        """Hold one of ``host``'s slots (and one of all) for a request (to
        ``url``, as shown in messages); :class:`~errors.NotAsked` when
        ``deadline`` (``time.monotonic()``, the fetch budget's) comes first.

        The host's slot is taken first: a request waiting for a busy host
        never keeps a slot of all from the other hosts' requests.
        """
        mine = self._of(host)
        if not mine.acquire(timeout=_left(deadline)):
            raise NotAsked(url or host, _SPENT)
        try:
            if self._all is not None and not self._all.acquire(timeout=_left(deadline)):
                raise NotAsked(url or host, _SPENT)
            try:
                yield
            finally:
                if self._all is not None:
                    self._all.release()
        finally:
            mine.release()


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())
