"""Cached threads read ahead of Pelican's writing (readahead.py): in
another thread, in the order Pelican writes pages, never more than a window
held; a page not foreseen, or come first, reads its own; the site is byte
for byte the one a build without reading ahead writes."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pelican import signals

from pelican_engage import readahead
from pelican_engage.archive import Archive
from pelican_engage.cache import read_rendered

from .conftest import Site
from .test_build_cache import _build, _output, _reply


def _files(tmp_path: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        path = tmp_path / f"t{i}.html"
        path.write_text(f"thread {i}", encoding="utf-8")
        paths.append(path)
    return paths


class _Reads:
    """A read that notes its thread, and may wait to be let go."""

    def __init__(self) -> None:
        self.threads: dict[Path, int] = {}
        self.go = threading.Event()
        self.go.set()

    def __call__(self, path: Path) -> str | None:
        self.go.wait(5)
        self.threads[path] = threading.get_ident()
        return path.read_text(encoding="utf-8")


def _until(condition: Any) -> None:
    deadline = time.monotonic() + 5
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_texts_are_read_in_another_thread_in_order(tmp_path: Path) -> None:
    paths = _files(tmp_path, 10)
    reads = _Reads()
    ahead = readahead.ReadAhead(paths, reads, window=4)
    _until(lambda: len(reads.threads) == 4)
    time.sleep(0.05)
    assert list(reads.threads) == paths[:4]  # the window, no further
    own = []
    for i, path in enumerate(paths):
        _until(lambda path=path: path in reads.threads)
        assert ahead.take(path, lambda p: own.append(p) or "own") == f"thread {i}"
    ahead.stop()
    assert ahead.hits == 10 and not own
    assert list(reads.threads) == paths
    assert threading.get_ident() not in reads.threads.values()


def test_a_page_first_or_not_foreseen_reads_its_own(tmp_path: Path) -> None:
    paths = _files(tmp_path, 6)
    reads = _Reads()
    reads.go.clear()  # the thread is slow
    ahead = readahead.ReadAhead(paths[:5], reads, window=2)
    assert ahead.take(paths[0], lambda p: "own 0") == "own 0"
    assert ahead.take(paths[5], lambda p: "own 5") == "own 5"  # not foreseen
    reads.go.set()
    _until(lambda: paths[2] in reads.threads)
    assert paths[0] not in reads.threads or reads.threads[paths[0]] != threading.get_ident()
    assert ahead.take(paths[2], lambda p: "own 2") in ("thread 2", "own 2")
    ahead.stop()


def test_texts_never_asked_for_are_let_go(tmp_path: Path) -> None:
    """The order was a wrong guess (most pages never ask): held texts stay
    within the window, and the thread goes on past them."""
    paths = _files(tmp_path, 40)
    reads = _Reads()
    ahead = readahead.ReadAhead(paths, reads, window=4)
    for i in range(0, 40, 10):
        ahead.take(paths[i], lambda p: "own")
        _until(lambda i=i: paths[min(i + 4, 39)] in reads.threads)
        assert paths[min(i + 4, 39)] in reads.threads
        assert len(ahead._texts) <= 4
    ahead.stop()


def test_a_read_that_fails_leaves_the_page_to_read(tmp_path: Path) -> None:
    paths = _files(tmp_path, 3)

    def broken(path: Path) -> str | None:
        if path == paths[1]:
            raise OSError("gone")
        return path.read_text(encoding="utf-8")

    ahead = readahead.ReadAhead(paths, broken, window=2)
    assert [ahead.take(p, lambda p: "own") for p in paths] in (
        ["thread 0", "own", "thread 2"],
        ["own", "own", "thread 2"],
        ["thread 0", "own", "own"],
        ["own", "own", "own"],
    )
    ahead.stop()


def test_stop_ends_the_thread(tmp_path: Path) -> None:
    paths = _files(tmp_path, 10)
    ahead = readahead.ReadAhead(paths, read_rendered, window=2)
    ahead.stop()
    assert not ahead._thread.is_alive() and not ahead._texts


# --------------------------------------------------------------------------
# In builds
# --------------------------------------------------------------------------

POSTS = [f"post-{n}" for n in range(8)]


@pytest.fixture
def instances(monkeypatch: pytest.MonkeyPatch) -> list[readahead.ReadAhead]:
    """Reading ahead on this test's few pages; the readers made."""
    made: list[readahead.ReadAhead] = []
    real = readahead.ReadAhead

    def record(*args: Any, **named: Any) -> readahead.ReadAhead:
        made.append(real(*args, **named))
        return made[-1]

    monkeypatch.setattr(readahead, "MIN_PAGES", 1)
    monkeypatch.setattr(readahead, "ReadAhead", record)
    return made


def _site(site: Site) -> Site:
    for n, key in enumerate(POSTS):
        meta = {"mastodon": f"https://social.example/@marin/{key}"}
        if n == 1:
            meta["status"] = "hidden"
        if n == 2:
            meta["status"] = "draft"
        site.article(key, **meta)
        Archive(site.root / "archive").merge(key, [_reply(key, 1), _reply(key, 2, "Why?")])
    # A translation, and a page with comments.
    (site.content / "post-0-fr.md").write_text(
        "Title: Billet 0\nDate: 2026-01-02 10:00\nSlug: post-0\nLang: fr\n\nTexte.\n"
    )
    (site.content / "pages").mkdir()
    (site.content / "pages" / "about.md").write_text("Title: About\n\nHello.\n")
    site.comment("about", "c1.md", "A question?", author="Ann", date="2026-01-03")
    return site


def test_a_warm_build_reads_ahead_what_pelican_writes_in_its_order(
    site: Site, caplog: pytest.LogCaptureFixture, instances: list[readahead.ReadAhead]
) -> None:
    _site(site)
    _build(site, caplog)
    shutil.rmtree(site.output)
    written: list[str] = []

    def note(path: str, context: Any = None) -> None:
        written.append(path)

    signals.content_written.connect(note)
    try:
        _build(site, caplog)
    finally:
        signals.content_written.disconnect(note)
    (ahead,) = instances[-1:]
    foreseen = [p.name.split(".")[0] for p in ahead._paths]
    pages = [Path(p).stem for p in written if Path(p).stem in set(foreseen)]
    # Every page with a thread was foreseen, in the order Pelican wrote it.
    assert foreseen == pages
    assert len(foreseen) == len(POSTS) + 2  # the translation, the page
    assert ahead.hits == len(foreseen)


def test_reading_ahead_writes_the_same_site(
    site: Site,
    caplog: pytest.LogCaptureFixture,
    instances: list[readahead.ReadAhead],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _site(site)
    _build(site, caplog)
    shutil.rmtree(site.output)
    _build(site, caplog)
    assert instances and instances[-1].hits
    ahead = _output(site)
    shutil.rmtree(site.output)
    monkeypatch.setattr(readahead, "MIN_PAGES", 10**6)
    _build(site, caplog)
    assert _output(site) == ahead


def test_a_damaged_thread_read_ahead_is_told_and_rendered_again(
    site: Site, caplog: pytest.LogCaptureFixture, instances: list[readahead.ReadAhead]
) -> None:
    _site(site)
    _build(site, caplog)
    good = _output(site)
    for path in (site.root / "cache" / "engage").glob("threads-*/post-3.*.html"):
        path.write_bytes(path.read_bytes()[:-20] + b"<script>x</script>!!")
    shutil.rmtree(site.output)
    caplog.set_level(logging.INFO, logger="pelican_engage")
    site.build(ENGAGE_OFFLINE=True)
    assert _output(site) == good
    assert "post-3." in caplog.text and "is damaged; rendered again" in caplog.text


def test_the_thread_ends_itself_when_no_page_asks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that failed mid-way never stops it: it ends on its own."""
    monkeypatch.setattr(readahead, "IDLE_SECONDS", 0.2)
    paths = _files(tmp_path, 10)
    ahead = readahead.ReadAhead(paths, read_rendered, window=2)
    ahead._thread.join(timeout=5)
    assert not ahead._thread.is_alive() and not ahead._texts
    assert ahead.take(paths[0], lambda p: "own") == "own"
