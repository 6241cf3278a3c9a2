"""The per-post build cache (issue 16): a warm build reads and renders only
what changed, gives the same pages as a cold one, holds few threads at once,
and never trusts a damaged or swapped cache file."""

from __future__ import annotations

import gc
import logging
import os
import pickle
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pelican import signals
from pelican.log import LimitFilter

from pelican_engage import cache
from pelican_engage.archive import Archive
from pelican_engage.conversation import Engagement
from pelican_engage.model import Item, Person

from .conftest import Site

POSTS = ("alpha", "bravo", "charlie")
BASE = datetime(2026, 1, 3, 9, tzinfo=timezone.utc)


def _reply(key: str, n: int, text: str = "") -> Item:
    host = "social.example"
    return Item(
        id=f"mastodon:{host}/{key}{n}",
        source="mastodon",
        kind="reply",
        author=Person(
            name=f"Reader {n}",
            handle=f"reader{n}@{host}",
            url=f"https://{host}/@reader{n}",
        ),
        published=BASE + timedelta(hours=n),
        content_html=f"<p>{text or f'Reply {n} to {key}'}</p>",
        url=f"https://{host}/@reader{n}/{key}{n}",
        in_reply_to=f"mastodon:{host}/{key}1" if n > 1 else None,
    )


def _site(site: Site) -> Site:
    for key in POSTS:
        site.article(key, title=key.title(), mastodon=f"https://social.example/@marin/{key}")
        Archive(site.root / "archive").merge(key, [_reply(key, 1), _reply(key, 2)])
    return site


def _summary(caplog: pytest.LogCaptureFixture) -> str:
    (line,) = [r.getMessage() for r in caplog.records if r.name == "pelican_engage.plugin"]
    caplog.clear()
    LimitFilter._raised_messages.clear()
    return line


def _build(site: Site, caplog: pytest.LogCaptureFixture, **settings: object) -> str:
    caplog.set_level(logging.INFO, logger="pelican_engage")
    site.build(ENGAGE_OFFLINE=True, **settings)
    return _summary(caplog)


def _output(site: Site) -> dict[str, bytes]:
    return {
        str(p.relative_to(site.output)): p.read_bytes()
        for p in sorted(site.output.rglob("*"))
        if p.is_file()
    }


def _post_files(site: Site, key: str, suffix: str) -> list[Path]:
    return sorted((site.root / "cache" / "engage").glob(f"threads-*/{key}.*{suffix}"))


def test_a_warm_build_reads_and_renders_only_the_changed_post(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    _site(site)
    cold = _build(site, caplog)
    assert "0 thread(s) reused, 3 archive file(s) read, 3 thread(s) rendered" in cold
    warm = _build(site, caplog)
    assert "3 thread(s) reused, 0 archive file(s) read, 0 thread(s) rendered" in warm

    Archive(site.root / "archive").merge("bravo", [_reply("bravo", 3, "A late answer")])
    changed = _build(site, caplog)
    assert "2 thread(s) reused, 1 archive file(s) read, 1 thread(s) rendered" in changed
    assert "A late answer" in (site.output / "bravo.html").read_text()
    assert "A late answer" not in (site.output / "alpha.html").read_text()
    # The earlier version of bravo's cache files is gone, not piling up.
    assert len(_post_files(site, "bravo", ".pickle")) == 1


def test_a_warm_build_writes_the_same_bytes_as_a_cold_one(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    _site(site)
    _build(site, caplog)
    cold = _output(site)
    assert any(name.endswith(".atom.xml") for name in cold)  # comment feeds too
    shutil.rmtree(site.output)
    assert "3 thread(s) reused" in _build(site, caplog)
    assert _output(site) == cold


def test_a_changed_setting_rebuilds_every_thread(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    _site(site)
    _build(site, caplog)
    summary = _build(site, caplog, ENGAGE_DISPLAY_DEPTH=1)
    assert "0 thread(s) reused, 3 archive file(s) read, 3 thread(s) rendered" in summary


def _truncate(path: Path, _site: Site) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def _garbage(path: Path, _site: Site) -> None:
    path.write_bytes(b"\x80\x05garbage that is no pickle")


def _other_posts_file(path: Path, site: Site) -> None:
    # A whole, valid file: but bravo's, not alpha's.
    (other,) = _post_files(site, "bravo", ".pickle")
    shutil.copyfile(other, path)


@pytest.mark.parametrize("damage", [_truncate, _garbage, _other_posts_file])
def test_a_damaged_thread_file_is_rebuilt_not_trusted(
    site: Site,
    caplog: pytest.LogCaptureFixture,
    engage_warnings: Callable[[], list[str]],
    damage: Callable[[Path, Site], None],
) -> None:
    _site(site)
    _build(site, caplog)
    cold = _output(site)
    (thread_file,) = _post_files(site, "alpha", ".pickle")
    damage(thread_file, site)
    # Without its rendered HTML, alpha's page needs the thread itself.
    for html in _post_files(site, "alpha", ".html"):
        html.unlink()
    shutil.rmtree(site.output)
    caplog.set_level(logging.INFO, logger="pelican_engage")
    site.build(ENGAGE_OFFLINE=True)
    told = [r.getMessage() for r in caplog.records if r.name == "pelican_engage.cache"]
    assert any("'alpha'" in m and "damaged" in m for m in told), told
    assert _output(site) == cold
    assert "Reply 1 to alpha" in (site.output / "alpha.html").read_text()
    assert engage_warnings() == []  # a cache is the user's to lose: INFO, not a warning


def _same_size_edit(path: Path, _site: Site) -> None:
    # Its size kept: its modification time tells.
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Reply 1", b"Reply X"))


@pytest.mark.parametrize("damage", [_truncate, _garbage, _same_size_edit])
def test_a_damaged_rendered_thread_is_rendered_again(
    site: Site, caplog: pytest.LogCaptureFixture, damage: Callable[[Path, Site], None]
) -> None:
    _site(site)
    _build(site, caplog)
    cold = _output(site)
    (html,) = _post_files(site, "charlie", ".html")
    damage(html, site)
    shutil.rmtree(site.output)
    assert "1 thread(s) rendered" in _build(site, caplog)
    assert _output(site) == cold


def test_threads_rendered_by_other_markup_are_rendered_again(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new version that writes other markup does not reuse pages' HTML
    of an older one (its threads, unchanged, still are)."""
    from pelican_engage import render

    _site(site)
    _build(site, caplog)
    monkeypatch.setattr(render, "MARKUP", render.MARKUP + 1)
    summary = _build(site, caplog)
    assert "3 thread(s) reused" in summary and "3 thread(s) rendered" in summary
    assert "0 thread(s) rendered" in _build(site, caplog)


def test_a_damaged_index_rebuilds_everything(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    _site(site)
    _build(site, caplog)
    cold = _output(site)
    (index,) = (site.root / "cache" / "engage").glob("threads-*/index.pickle")
    _truncate(index, site)
    shutil.rmtree(site.output)
    assert "0 thread(s) reused, 3 archive file(s) read" in _build(site, caplog)
    assert _output(site) == cold


def test_a_cut_short_comment_feed_is_written_again(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    _site(site)
    _build(site, caplog)
    (feed,) = [p for p in site.output.rglob("*.atom.xml") if "alpha" in p.name]
    whole = feed.read_bytes()
    feed.write_bytes(whole[:100])  # a build killed while writing it
    _build(site, caplog)
    assert feed.read_bytes() == whole


def test_a_damaged_cached_feed_copy_is_not_copied(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    _site(site)
    _build(site, caplog)
    feeds = {p.name: p.read_bytes() for p in site.output.rglob("*.atom.xml")}
    for copy in (site.root / "cache" / "engage").glob("comment-feeds.pickle.d/*.xml"):
        copy.write_bytes(b"<feed>not what was written</feed>")
    shutil.rmtree(site.output)
    _build(site, caplog)
    assert {p.name: p.read_bytes() for p in site.output.rglob("*.atom.xml")} == feeds


def test_a_build_does_not_hold_every_thread_at_once(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16, point 5: with the threads in the cache, the build lets
    them go; counted while the articles (and their ``engage``) still live."""
    monkeypatch.setattr(cache, "HELD_ITEMS", 2)
    _site(site)
    articles: list[object] = []

    def keep(generator: object) -> None:
        articles.extend(getattr(generator, "articles", ()))

    signals.article_generator_finalized.connect(keep)
    alive = []
    try:
        for _build_kind in ("cold", "warm"):
            _build(site, caplog)
            assert len(articles) == 3 and all(a.engage for a in articles)  # type: ignore[attr-defined]
            gc.collect()
            alive.append(sum(isinstance(o, Engagement) for o in gc.get_objects()))
            articles.clear()
    finally:
        signals.article_generator_finalized.disconnect(keep)
    assert alive == [0, 0]


def test_a_warm_build_holds_one_copy_of_each_posts_identity(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """What the cache's index holds is not held twice: a warm plan keeps the
    index's equal fingerprint (and its Post), not the one it made; and nothing
    kept per article has an instance dict (the collector walks each object at
    every full collection, for the whole build)."""
    from pelican_engage import plugin

    _site(site)
    _build(site, caplog)
    seen: list[tuple[bool, bool, bool]] = []

    def check(generator: object) -> None:
        (build,) = plugin._builds.values()
        assert build.engine is not None
        index = build.engine.threads._old
        for article in getattr(generator, "articles", ()):
            loader = article.engage._load  # the cached thread's, read if asked for
            stored = index[article.engage.key][0]
            seen.append(
                (
                    loader.fingerprint is stored,
                    loader.post is stored[0],
                    not hasattr(article.comments, "__dict__"),
                )
            )

    signals.article_generator_finalized.connect(check)  # after the plugin's (connected first)
    try:
        assert "3 thread(s) reused" in _build(site, caplog)
    finally:
        signals.article_generator_finalized.disconnect(check)
    assert seen == [(True, True, True)] * 3


def _index(site: Site) -> Path:
    (index,) = (site.root / "cache" / "engage").glob("threads-*/index.pickle")
    return index


def _saved_later(site: Site, seconds: float = 1.0) -> None:
    """As if the index had been saved ``seconds`` after the files it stamps:
    a fast test writes both in one clock tick, where nothing is trusted."""
    index = _index(site)
    stat = index.stat()
    os.utime(index, ns=(stat.st_atime_ns, stat.st_mtime_ns + int(seconds * 1e9)))


def test_a_rendered_thread_is_trusted_by_its_size_and_time_as_git_does(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """A rendered thread is used without its SHA-256 while its size and
    modification time are those recorded; edited in place with its time put
    back by hand, it is trusted (git trusts its index so); edited in the
    clock tick the index was saved in (git's "racy" case), it is checked."""
    _site(site)
    _build(site, caplog)
    cold = _output(site)
    _saved_later(site)
    (html,) = _post_files(site, "alpha", ".html")
    before = html.stat()
    _same_size_edit(html, site)
    os.utime(html, ns=(before.st_atime_ns, before.st_mtime_ns))
    shutil.rmtree(site.output)
    assert "0 thread(s) rendered" in _build(site, caplog)
    assert "Reply X to alpha" in (site.output / "alpha.html").read_text()

    # The index saved in the tick the file was last changed in: checked.
    index = _index(site)
    os.utime(index, ns=(index.stat().st_atime_ns, before.st_mtime_ns))
    shutil.rmtree(site.output)
    assert "1 thread(s) rendered" in _build(site, caplog)
    assert _output(site) == cold


def _count_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the rendered threads whose SHA-256 is checked from now on."""
    checked: list[int] = []
    unsealed = cache._unsealed

    def counting(data: bytes) -> memoryview | None:
        if bytes(data[65:80]).lstrip().startswith(b"<"):  # a rendered thread's HTML
            checked.append(len(data))
        return unsealed(data)

    monkeypatch.setattr(cache, "_unsealed", counting)
    return checked


def test_a_warm_build_checks_no_rendered_thread_it_recorded(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every rendered file written is stamped in the index, so the next build
    reads each without hashing it; one checked once is stamped too."""
    checked = _count_checks(monkeypatch)
    _site(site)
    _build(site, caplog)
    assert checked == []  # written, and read back, in one build: recorded
    _saved_later(site)
    shutil.rmtree(site.output)
    assert "0 thread(s) rendered" in _build(site, caplog)
    assert checked == []

    # A build of older code left no stamps: checked once, then trusted.
    index = _index(site)
    data = pickle.loads(cache._unsealed(index.read_bytes()))  # type: ignore[arg-type]
    del data["stamps"]
    index.write_bytes(cache._sealed(pickle.dumps(data)))
    shutil.rmtree(site.output)
    _build(site, caplog)
    assert len(checked) == 3
    _saved_later(site)
    shutil.rmtree(site.output)
    _build(site, caplog)
    assert len(checked) == 3
