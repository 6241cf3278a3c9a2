"""A wall-clock deadline for each HTTP request, headers and body.

Socket timeouts apply per read, so a server that trickles a byte now and
then never trips them, and requests has no total timeout.  A
:class:`Watch` shuts the request's sockets down from a timer thread when
its deadline passes, which ends a blocked read at once.  Connections made
through :class:`WatchedAdapter` hand their sockets to the watch of the
request running in their thread (see :func:`watching`).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests.adapters
import urllib3.connection
import urllib3.connectionpool

__all__ = ["Watch", "WatchedAdapter", "watching"]


class Watch:
    """Shuts a request's sockets when its deadline passes.

    Socket timeouts apply per read, so a server that trickles a byte now
    and then never trips them; shutting the socket down from another
    thread ends the blocked read at once, in the headers or the body.
    One watchdog thread serves every request (a timer thread each would
    cost a thread start, and a wait for it, inside each request).
    """

    def __init__(self, deadline: float) -> None:
        self.fired = False
        self.cancelled = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        _WATCHDOG.add(deadline, self)

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            if self.fired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def fire(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            self._sockets.clear()


class _Watchdog:
    """Fires each watch when its deadline passes, from one daemon thread
    (started when first needed); cancelled watches are dropped as their
    deadline comes."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Watch]] = []
        self._wake = threading.Condition()
        self._count = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, deadline: float, watch: Watch) -> None:
        with self._wake:
            heapq.heappush(self._due, (deadline, next(self._count), watch))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="engage-watchdog", daemon=True
                )
                self._thread.start()
            elif self._due[0][2] is watch:
                self._wake.notify()  # earlier than what the thread waits for

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._due = [d for d in self._due if not d[2].cancelled]
                    heapq.heapify(self._due)
                    wait = self._due[0][0] - time.monotonic() if self._due else None
                    self._wake.wait(wait)
                _deadline, _n, watch = heapq.heappop(self._due)
            watch.fire()


_WATCHDOG = _Watchdog()


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown: an SSL socket's would also drop its TLS
    # state under the reading thread's feet.  OSError: already closed, or
    # detached into a TLS socket (which is watched too).
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current = threading.local()


def _watch(sock: Any) -> None:
    watch = getattr(_current, "watch", None)
    if watch is not None and isinstance(sock, socket.socket):
        watch.add(sock)


class _Watched:
    """Hands each connection's socket to the current request's watch: new
    ones as soon as they exist (connect and TLS handshake), reused ones
    when the answer is awaited."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        _watch(sock)
        return sock

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(getattr(self, "sock", None))
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection  # type: ignore[assignment]


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter with watched connections (also through an HTTP proxy)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


@contextlib.contextmanager
def watching(deadline: float) -> Iterator[Watch]:
    """Watch the requests this thread makes until the block ends;
    ``deadline`` is a ``time.monotonic()`` value."""
    watch = Watch(deadline)
    _current.watch = watch
    try:
        yield watch
    finally:
        _current.watch = None
        watch.cancel()
