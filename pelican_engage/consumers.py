"""The outputs made of all of a build's threads: the comment feeds and the
author's page, written beside Pelican's writing of pages.

They need every thread but nothing Pelican does after the articles and
pages are made, so another process writes them (workers.Background) while
Pelican writes the pages.  What that process changes in the build cache (a
thread whose cache file was missing or damaged is rebuilt when read) comes
back with its problems, and the parent takes it in as if it had done it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import author_page, comment_feed, workers
from .model import Problem, Thread

if TYPE_CHECKING:
    from .engine import Engine


@dataclass(frozen=True)
class Written:
    """What writing the consumers gave: problems to tell, and the build
    cache entries (key, fingerprint, token, summary) and counts of threads
    rebuilt on the way, from the process that did it (``pid``)."""

    problems: tuple[Problem, ...]
    rebuilt: tuple[tuple[str, Any, str, Any], ...]
    counters: tuple[int, int, int, int]
    pid: int


#: A warm build's feeds are put back in their own process from this many
#: articles' feeds on: linking a feed's kept copy costs ~70 µs, starting a
#: process ~20 ms.
MIN_FEEDS = 500


def start(engine: Engine, articles: Any, processes: int) -> workers.Background[Written]:
    """Start writing the feeds of the ``articles`` generator's posts and, when
    due, the author's page; in another process when there are threads to
    read, or many feeds to put back (a small site's take less than starting
    one)."""
    due, rebuilt = author_page.is_due(engine), engine.posts - engine.threads.hits
    warm = not due and rebuilt < workers.MIN_POSTS
    # The posts' own feeds (the site's is one): the articles listed have them.
    feeds = len(getattr(articles, "articles", ())) if engine.settings.comment_feed else 0
    if engine.posts < workers.MIN_POSTS or (warm and feeds < MIN_FEEDS):
        processes = 1
    lang = str(engine.pelican_settings.get("DEFAULT_LANG") or "en")
    return workers.Background(lambda: _write(engine, articles, lang, due), processes)


def _write(engine: Engine, articles: Any, lang: str, author_due: bool) -> Written:
    tokens = engine.threads.tokens()
    before = workers.counters(engine)
    if author_due and articles is not None:
        problems = _write_both(engine, articles, lang)
    else:
        problems = comment_feed.write_for(engine, articles) if articles is not None else []
        problems += author_page.write_due(engine, lang) if author_due else []
    return Written(
        tuple(problems),
        tuple(engine.threads.changed_since(tokens)),
        workers.done_since(engine, before),
        os.getpid(),
    )


def _write_both(engine: Engine, articles: Any, lang: str) -> list[Problem]:
    """The feeds and the author's page in one walk over the threads: each
    read from the cache once, not once for each (a cold build of 2,000
    posts read 1,900 threads twice, about 0.3 s)."""
    try:
        walk = comment_feed.walk_for(engine, articles)
    except OSError as exc:
        return [comment_feed.unwritable(exc), *author_page.write_due(engine, lang)]
    if walk is None:
        return author_page.write_due(engine, lang)
    feeding = _Feeding(walk)
    # The author's page walks its threads in its own order (it names each
    # person as first seen); the feeds take theirs as they pass.
    author = author_page.write_due(engine, lang, feeding.threads(engine))
    return feeding.finish() + author


class _Feeding:
    """The feeds' walk, given the threads another walk reads."""

    def __init__(self, walk: comment_feed.FeedWalk) -> None:
        self.walk = walk
        #: The feeds not written yet: their source's id -> its index.
        self.left = {id(source): n for n, (source, _date) in enumerate(walk.sources)}
        self.error: OSError | None = None

    def threads(self, engine: Engine) -> Iterator[Thread]:
        """The build's counted threads, each given to its feed on the way."""
        for engagement, thread in zip(engine.counted, engine.counted_threads, strict=True):
            index = self.left.pop(id(engagement), None)
            if index is not None and self.error is None:
                try:
                    self.walk.take(index, thread)
                except OSError as exc:  # as write_for: the feeds stop there
                    self.error = exc
            yield thread

    def finish(self) -> list[Problem]:
        """Write the feeds no thread passed for (not counted, or the walk
        was not made), then the site's; the problem, when one failed."""
        try:
            if self.error is None:
                for index in sorted(self.left.values()):
                    self.walk.take(index)
                self.walk.finish()
        except OSError as exc:
            self.error = exc
        return [comment_feed.unwritable(self.error)] if self.error is not None else []


def finish(engine: Engine, running: workers.Background[Written]) -> None:
    """Wait for the writing; tell its problems; take in what another process
    rebuilt (its cache entries and counts)."""
    written = running.result()
    if written.pid != os.getpid():
        for key, fingerprint, token, summary in written.rebuilt:
            engine.threads.adopt(key, fingerprint, token, summary)
        workers.add_counters(engine, written.counters)
    for problem in written.problems:
        engine.report(problem)
