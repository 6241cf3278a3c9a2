"""Reading cached rendered threads ahead of Pelican's writing of pages.

A page whose thread did not change reuses the thread's HTML from the build
cache (:meth:`ThreadCache.rendered_file`, :func:`cache.read_rendered`): a
file of tens of kB, read and checked against its SHA-256, about 150 µs a
page, the largest part of what the plugin costs a warm build.  Reading a
file and hashing it release the GIL, so a thread does both for the next
pages, in the order Pelican writes them, while Pelican renders the current
one on the other core.

A page takes its thread's text when it comes to it, or reads the file itself
when the thread has not got there yet or the page was not foreseen: the
order is a guess that only costs time when wrong.  At most ``window`` texts
are held; one a page never asked for is let go once the pages are
``window`` further on.
"""

from __future__ import annotations

import threading
from collections import ChainMap
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from . import pages, render
from .articles import writing_order
from .cache import LazyEngagement, read_rendered

if TYPE_CHECKING:
    from .engine import Engine

#: Texts read ahead and not taken yet, at most: a few MB.
WINDOW: Final = 32
#: Fewer threads to reuse than this are read by their pages (a small site).
MIN_PAGES = 32
#: Seconds without a page taking a text before the thread ends itself.
IDLE_SECONDS = 60.0

_NOT_READ: Final = object()


class ReadAhead:
    """Read ``paths`` with ``read`` in another thread, in that order.

    ``read(path)`` returns the text, or None (missing or damaged: the caller
    renders again); it must be safe to call from any thread.
    """

    def __init__(
        self, paths: Sequence[Path], read: Callable[[Path], str | None], window: int = WINDOW
    ) -> None:
        self._paths = list(paths)
        self._where = {path: i for i, path in enumerate(self._paths)}
        self._read = read
        self._window = window
        self._texts: dict[int, str | None] = {}
        #: The furthest page asked for: texts behind it are not read.
        self._front = -1
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(window)
        self._stopped = False
        #: Pages that took a text read ahead.
        self.hits = 0
        self._thread = threading.Thread(target=self._run, name="engage-readahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for i, path in enumerate(self._paths):
            # Pages not asked for that long: the build failed, or writes other
            # things first; what is left, the pages read themselves.
            if not self._slots.acquire(timeout=IDLE_SECONDS) or self._stopped:
                with self._lock:
                    self._texts.clear()
                return
            with self._lock:
                passed = i <= self._front
            if passed:  # the page came first, or pages further on: not wanted
                self._slots.release()
                continue
            try:
                text = self._read(path)
            except Exception:  # the page reads it, and tells what went wrong
                self._slots.release()
                continue
            with self._lock:
                if i > self._front and not self._stopped:
                    self._texts[i] = text
                    continue
            self._slots.release()

    def take(self, path: Path, read: Callable[[Path], str | None]) -> str | None:
        """The text of ``path``: read ahead, or now with ``read``."""
        i = self._where.get(path)
        if i is None:
            return read(path)
        with self._lock:
            self._front = max(self._front, i)
            text = self._texts.pop(i, _NOT_READ)
            # Read for pages never asked for (the order was a guess).
            stale = [k for k in self._texts if k < self._front - self._window]
            for k in stale:
                del self._texts[k]
        for _ in range(len(stale) + (text is not _NOT_READ)):
            self._slots.release()
        if text is _NOT_READ:
            return read(path)
        self.hits += 1
        return text  # type: ignore[return-value]

    def stop(self) -> None:
        """Stop reading and let the texts go (the end of a build, or a
        failed build's, by the next one)."""
        self._stopped = True
        self._slots.release()
        self._thread.join(timeout=5)
        with self._lock:
            self._texts.clear()


def foreseen(engine: Engine, generators: Iterable[Any], stamp: str) -> list[Path]:
    """The cached threads the generators' pages will reuse, in the order
    Pelican writes the pages, for the context each page will be given
    (as :func:`pages.page_context` makes it; ``stamp``: the avatars', as in the page's
    :func:`render.render_key`)."""
    paths = []
    for generator in generators:
        for article in writing_order(generator):
            engagement = getattr(article, "engage", None)
            if not isinstance(engagement, LazyEngagement):
                continue
            save_as = article.save_as  # a property Pelican computes on each read
            if not save_as:
                continue
            # Only the keys render_key reads: the context is not copied.
            context = ChainMap(pages.page_overrides(generator, article, save_as), generator.context)
            path = engine.threads.rendered_file(engagement.key, render.render_key(context, stamp))
            if path is not None:
                paths.append(path)
    return paths


def start(engine: Engine, generators: Iterable[Any], stamp: str) -> ReadAhead | None:
    """Read ahead the cached threads the ``generators``' pages (None: none)
    will reuse, when there are enough to be worth a thread."""
    paths = foreseen(engine, [g for g in generators if g is not None], stamp)
    return ReadAhead(paths, read_rendered) if len(paths) >= MIN_PAGES else None
