"""A few independent calls at once: one post's requests that need not wait
for each other (a status's context, who favourited it, who boosted it).

Each call still waits for its host's slot (``slots.py``), so running them
together never asks a host for more than its share.  The calls run on a
small pool of long-lived threads, so the HTTP client's per-thread sessions
(and their kept-alive connections) serve request after request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_inside = threading.local()


class Together:
    """Runs calls concurrently on up to ``workers`` threads (started when
    first needed); :meth:`close` stops them."""

    def __init__(self, workers: int = 8) -> None:
        self.workers = max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __call__(self, *calls: Callable[[], Any]) -> list[Any]:
        """The results of ``calls``, in their order, once every call has
        ended; the first (in that order) that raised raises here, after
        the others ended (none is left running unseen).

        The first call runs in this thread; a call made from inside another
        (a pool thread) runs the calls one after the other, so calls
        waiting for calls can never take every thread of the pool.
        """
        if len(calls) <= 1 or getattr(_inside, "flag", False):
            return [call() for call in calls]
        pool = self._start()
        futures = [pool.submit(_marked, call) for call in calls[1:]]
        first: Future[Any] = Future()
        try:
            first.set_result(calls[0]())
        except Exception as exc:
            first.set_exception(exc)
        results = []
        for future in [first, *futures]:
            future.exception()  # wait for every call before raising any
        for future in [first, *futures]:
            results.append(future.result())
        return results

    def _start(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="engage-together")
            return self._pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


def _marked(call: Callable[[], Any]) -> Any:
    _inside.flag = True
    return call()
