"""Threads built while Pelican reads the articles.

Pelican reads and parses every article (Markdown, reST) on one core before
the plugin sees the list of them; on a machine with another core free, a
worker forked when the articles' generator starts (its memory still small)
builds the thread of each article as Pelican makes it (the
``content_object_init`` signal), writing it and its rendered HTML to the
build cache as :func:`workers.build_all` would.  When the list is final the
worker is stopped, and what it built is used for each article whose inputs
(its fingerprint: the post, its comment files, its archive file's stamp)
are still the same; everything else is built as usual.  Nothing it does is
trusted beyond that: a worker that failed or died only leaves more to build.

The parent never waits on the worker while Pelican reads: what it sends goes
through a non-blocking pipe (kept in a buffer while the pipe is full), and
the worker keeps its results until it is stopped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import struct
from typing import TYPE_CHECKING, Any

from . import workers
from .engine import Plan, inputs

if TYPE_CHECKING:
    from .engine import After, Engine

logger = logging.getLogger(__name__)

#: Seconds a stopped worker may take to finish its post and answer.
STOP_SECONDS = 120.0
_LENGTH = struct.Struct("!I")


class Article:
    """What the thread template reads of the article, in the worker: its
    ``engage``, its ``lang`` and where its page goes (``save_as``)."""

    __slots__ = ("__weakref__", "engage", "lang", "save_as")

    def __init__(self, save_as: str, lang: Any) -> None:
        self.save_as, self.lang, self.engage = save_as, lang, None


class Early:
    """The worker building threads while Pelican reads (see the module).

    It starts once :data:`workers.MIN_POSTS` articles were offered (a small
    site is read in less time than a worker takes to start).
    """

    def __init__(self, engine: Engine, after: After | None) -> None:
        self._engine, self._after = engine, after
        self._waiting: list[Any] | None = []
        self._process: Any = None
        self._pending = bytearray()

    def _start(self) -> None:
        context = workers.fork_context()
        self._stop = context.Value("b", 0)
        self._results, send = context.Pipe(duplex=False)
        read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        args = (self._engine, self._after, read, self._write, send, self._stop)
        self._process = workers.start(context, _work, args)
        os.close(read)
        send.close()
        if self._process is None:
            os.close(self._write)
            self._results.close()

    def offer(self, article: Any) -> None:
        """Have the worker build ``article``'s thread, unless it is cached."""
        if self._waiting is not None:
            self._waiting.append(article)
            if len(self._waiting) < workers.MIN_POSTS:
                return
            waiting, self._waiting = self._waiting, None
            self._start()
            for article in waiting:
                self.offer(article)
            return
        if self._process is None:
            return
        engine = self._engine
        try:
            post, scan, fingerprint = inputs(engine, article, note=False)
            if engine.threads.peek(post.key, fingerprint):
                return
            message = pickle.dumps(
                (post, scan, fingerprint, article.save_as, article.lang), pickle.HIGHEST_PROTOCOL
            )
        except Exception as exc:  # the article is built later, as usual
            logger.debug("engage: %s not built early: %r", getattr(article, "slug", "?"), exc)
            return
        self._pending += _LENGTH.pack(len(message)) + message
        self._flush()

    def _flush(self) -> None:
        try:
            while self._pending:
                written = os.write(self._write, self._pending)
                del self._pending[:written]
        except BlockingIOError:  # the pipe is full: the rest goes with the next
            pass
        except OSError:  # the worker is gone
            self._pending.clear()

    def finish(self) -> dict[str, list[tuple[Any, workers.Built]]]:
        """Stop the worker: post key -> ``(fingerprint, built)`` of what it built."""
        self._waiting = None
        if self._process is None:
            return {}
        process, self._process = self._process, None
        self._stop.value = 1
        os.close(self._write)  # what it was not sent yet, it does not build
        found: dict[str, list[tuple[Any, workers.Built]]] = {}
        try:
            if self._results.poll(STOP_SECONDS):
                for key, fingerprint, built in self._results.recv():
                    found.setdefault(key, []).append((fingerprint, built))
        except (EOFError, OSError, pickle.PickleError) as exc:
            logger.debug("engage: the early worker stopped (%r); its posts are built later", exc)
        finally:
            self._results.close()
            if process.is_alive():
                process.join(1.0)
            if process.is_alive():
                process.terminate()
            process.join()
        return found


def _work(
    engine: Engine, after: After | None, read: int, parents: int, send: Any, stop: Any
) -> None:
    """The worker: build each article it is sent until stopped, then send
    back what it built."""
    os.close(parents)  # the parent's end: closed there, the pipe ends here
    workers.start_worker()
    built: list[tuple[str, Any, workers.Built]] = []
    buffer = bytearray()
    try:
        with contextlib.suppress(Exception):  # what it built so far is sent
            while not stop.value:
                chunk = os.read(read, 1 << 16)
                if not chunk:
                    break
                buffer += chunk
                while len(buffer) >= _LENGTH.size and not stop.value:
                    (size,) = _LENGTH.unpack_from(buffer)
                    if len(buffer) < _LENGTH.size + size:
                        break
                    post, scan, fingerprint, save_as, lang = pickle.loads(
                        bytes(buffer[_LENGTH.size : _LENGTH.size + size])
                    )
                    del buffer[: _LENGTH.size + size]
                    plan = Plan(Article(save_as, lang), post, scan, fingerprint, None)
                    built.append((post.key, fingerprint, workers.build_one(engine, plan, after)))
        send.send(built)
    finally:
        send.close()
        os.close(read)
