"""Threads built by forked worker processes (workers.py, ENGAGE_WORKERS):
the same site, byte for byte, as a build in one process; their logs told
by the parent; whatever a worker could not do done by the parent; the
feeds and the author's page written beside Pelican's writing."""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pelican_engage import consumers, engine, pages, workers

from .conftest import Site
from .test_build_cache import _build, _count_checks, _output, _reply, _saved_later

POSTS = [f"post-{n}" for n in range(6)]
PARENT = str(os.getpid())


@pytest.fixture(autouse=True)
def _small_site_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork for this test's few posts, one post per task."""
    monkeypatch.setattr(workers, "MIN_POSTS", 2)
    monkeypatch.setattr(workers, "CHUNK", 1)


def _no_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """No worker while Pelican reads (as in a warm build): the tests of the
    workers of :func:`workers.build_all` see only those."""
    from pelican_engage import cache

    monkeypatch.setattr(cache.ThreadCache, "empty", property(lambda _self: False))


def _site(site: Site) -> Site:
    from pelican_engage.archive import Archive

    for n, key in enumerate(POSTS):
        site.article(key, title=key.title(), mastodon=f"https://social.example/@marin/{key}")
        Archive(site.root / "archive").merge(key, [_reply(key, 1), _reply(key, 2, "Why?")])
        site.comment(key, "c1.md", f"A local comment {n}?", author=f"Ann {n}", date="2026-01-03")
    return site


def _slow_parent() -> None:
    """The parent builds too: slowed, it leaves the workers some posts."""
    if str(os.getpid()) == PARENT:
        time.sleep(0.05)


def _alone(site: Site, caplog: pytest.LogCaptureFixture) -> dict[str, bytes]:
    """The test site, built cold in one process: what workers must give."""
    _site(site)
    _cold(site, caplog, ENGAGE_WORKERS=1)
    return _output(site)


def _where_built(monkeypatch: pytest.MonkeyPatch, log: Path, fail: str = "") -> None:
    """Note the process that builds each post; ``fail``: that post's build
    raises in a worker (not in the parent)."""
    build = engine._build

    def noted(engine_: Any, post: Any, *args: Any) -> Any:
        _slow_parent()
        if post.key == fail and str(os.getpid()) != PARENT:
            raise RuntimeError("a worker failed")
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{post.key} {os.getpid()}\n")
        return build(engine_, post, *args)

    monkeypatch.setattr(engine, "_build", noted)


def _built(log: Path) -> dict[str, str]:
    return dict(line.split() for line in log.read_text().splitlines())


def _report(site: Site) -> str:
    page = (site.root / "engage-report" / "index.html").read_text(encoding="utf-8")
    return re.sub(r"<time[^>]*>.*?</time>", "", page)  # the time it was written


def _cold(site: Site, caplog: pytest.LogCaptureFixture, **settings: Any) -> str:
    shutil.rmtree(site.root / "cache", ignore_errors=True)
    shutil.rmtree(site.output, ignore_errors=True)
    return _build(site, caplog, ENGAGE_COMMENT_FEED="feeds/{slug}.atom.xml", **settings)


def test_workers_build_the_same_site_as_one_process(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_early(monkeypatch)
    _site(site)
    log = site.root / "built.txt"
    _where_built(monkeypatch, log)
    alone = _cold(site, caplog, ENGAGE_WORKERS=1)
    assert set(_built(log).values()) == {PARENT}
    one = _output(site)
    report = _report(site)
    log.unlink()

    checked = _count_checks(monkeypatch)
    together = _cold(site, caplog, ENGAGE_WORKERS=2)
    # What the workers rendered came with its stamps: used unchecked.
    assert checked == []
    assert sorted(_built(log)) == POSTS
    # Shared between this process and a forked worker.
    assert len(set(_built(log).values())) == 2 and PARENT in _built(log).values()
    assert _output(site) == one
    assert any(name.endswith(".atom.xml") for name in one)
    assert _report(site) == report and "A local comment 3?" in report

    # The same counts: files parsed and read, threads rendered (ahead, by the workers).
    def counts(line: str) -> str:
        return line.split("; engage ")[0]

    assert counts(together) == counts(alone)
    assert "6 comment file(s) parsed, 0 thread(s) reused, 6 archive file(s) read" in together
    assert "6 thread(s) rendered" in together

    # Their cache serves the next build as the parent's own would.
    _saved_later(site)
    shutil.rmtree(site.output)
    assert "6 thread(s) reused, 0 archive file(s) read, 0 thread(s) rendered" in _build(
        site, caplog, ENGAGE_COMMENT_FEED="feeds/{slug}.atom.xml", ENGAGE_WORKERS=2
    )
    assert _output(site) == one
    assert checked == []


def test_a_workers_log_is_told_by_the_parent_once(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_early(monkeypatch)
    _site(site)
    build = engine._build

    def warns(engine_: Any, post: Any, *args: Any) -> Any:
        _slow_parent()
        logging.getLogger("pelican_engage.engine").warning("built %s in %s", post.key, os.getpid())
        return build(engine_, post, *args)

    monkeypatch.setattr(engine, "_build", warns)
    caplog.set_level(logging.INFO, logger="pelican_engage")
    site.build(ENGAGE_OFFLINE=True, ENGAGE_WORKERS=2)
    told = [r.getMessage().split() for r in caplog.records if r.getMessage().startswith("built")]
    assert sorted(key for _built, key, _in, _pid in told) == POSTS
    assert len({pid for *_rest, pid in told} - {PARENT}) == 1


def test_what_a_worker_could_not_build_is_built_by_the_parent(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_early(monkeypatch)
    one = _alone(site, caplog)
    log = site.root / "built.txt"
    _where_built(monkeypatch, log, fail="post-2")
    _cold(site, caplog, ENGAGE_WORKERS=2)
    built = _built(log)
    assert built["post-2"] == PARENT  # and the rest of that worker's share
    assert sorted(built) == POSTS
    assert _output(site) == one


def test_a_thread_rendered_ahead_is_used_only_for_the_context_it_was_made_for(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    _site(site)
    nested = {"RELATIVE_URLS": True, "ARTICLE_SAVE_AS": "p/{slug}/index.html"}
    summary = _cold(site, caplog, ENGAGE_WORKERS=2, **nested)
    assert "6 thread(s) rendered" in summary
    page = (site.output / "p" / "post-1" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../engage/engage.css"' in page

    # Pages rendered with another context than expected: rendered again.
    expected = pages.page_context

    def wrong(generator: Any, article: Any, save_as: str) -> dict[str, Any]:
        return {**expected(generator, article, save_as), "SITEURL": "https://elsewhere.example"}

    monkeypatch.setattr(pages, "page_context", wrong)
    assert "12 thread(s) rendered" in _cold(site, caplog, ENGAGE_WORKERS=2, **nested)
    assert (site.output / "p" / "post-1" / "index.html").read_text(encoding="utf-8") == page


def test_the_feeds_and_the_authors_page_are_written_by_another_process(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pelican_engage import author_page, comment_feed

    _site(site)
    log = site.root / "written.txt"
    for module, name in ((author_page, "write_due"), (comment_feed, "walk_for")):
        original = getattr(module, name)

        def noted(*args: Any, _original: Any = original, _name: str = name) -> Any:
            with log.open("a", encoding="utf-8") as out:
                out.write(f"{_name} {os.getpid()}\n")
            return _original(*args)

        monkeypatch.setattr(module, name, noted)
    _cold(site, caplog, ENGAGE_WORKERS=2)
    written = _built(log)
    assert set(written) == {"write_due", "walk_for"}
    assert PARENT not in written.values()
    assert (site.output / "feeds" / "post-1.atom.xml").is_file()
    log.unlink()
    _cold(site, caplog, ENGAGE_WORKERS=1)
    assert set(_built(log).values()) == {PARENT}
    # A warm build's feeds, put back as they were, are worth a process only
    # on a large site.
    log.unlink()
    shutil.rmtree(site.output)
    _build(site, caplog, ENGAGE_COMMENT_FEED="feeds/{slug}.atom.xml", ENGAGE_WORKERS=2)
    assert _built(log) == {"walk_for": PARENT}
    assert (site.output / "feeds" / "post-1.atom.xml").is_file()
    monkeypatch.setattr(consumers, "MIN_FEEDS", len(POSTS))
    log.unlink()
    shutil.rmtree(site.output)
    _build(site, caplog, ENGAGE_COMMENT_FEED="feeds/{slug}.atom.xml", ENGAGE_WORKERS=2)
    assert set(_built(log)) == {"walk_for"} and PARENT not in _built(log).values()
    assert (site.output / "feeds" / "post-1.atom.xml").is_file()
    # Without the posts' feeds (the site's alone is one), nothing is worth one.
    log.unlink()
    _build(site, caplog, ENGAGE_COMMENT_FEED=None, ENGAGE_WORKERS=2)
    assert _built(log) == {"walk_for": PARENT}
    assert (site.output / "feeds" / "comments.all.atom.xml").is_file()


def test_a_background_task_that_fails_or_dies_is_run_by_the_parent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def task(how: str) -> str:
        logging.getLogger("pelican_engage.workers").warning("%s ran in %s", how, os.getpid())
        if str(os.getpid()) != PARENT:
            if how == "raise":
                raise RuntimeError("no")
            if how == "die":
                os._exit(3)
        return how

    caplog.set_level(logging.WARNING)
    for how in ("fine", "raise", "die"):
        caplog.clear()
        assert workers.Background(lambda how=how: task(how), workers=2).result() == how
        pids = [r.getMessage().split()[-1] for r in caplog.records]
        # Its log comes home; a failed or dead child's work is done again here.
        if how == "fine":
            assert len(pids) == 1 and pids[0] != PARENT
        elif how == "raise":
            assert len(pids) == 2 and pids[0] != PARENT and pids[1] == PARENT
        else:
            assert pids == [PARENT]
    assert workers.Background(lambda: os.getpid(), workers=1).result() == os.getpid()


def test_no_fork_from_another_thread_or_with_one_worker() -> None:
    assert workers.workers_for(1) == 1
    assert workers.workers_for(3) == 3
    assert 1 <= workers.workers_for(None) <= workers.MAX_AUTO
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(workers.workers_for(None)))
    thread.start()
    thread.join()
    assert seen == [1]


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True])
def test_a_bad_workers_setting_is_named(site: Site, value: Any) -> None:
    from pelican.settings import read_settings

    from pelican_engage import settings

    pelican = read_settings(override=site.settings(ENGAGE_WORKERS=value))
    with pytest.raises(settings.SettingsError, match="ENGAGE_WORKERS"):
        settings.load(pelican)


# -- Built while Pelican reads (prebuild.py) -------------------------------------------


def _early_marked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The early worker says so in its environment (read by _where_built's log)."""
    from pelican_engage import prebuild

    work = prebuild._work

    def marked(*args: Any) -> None:
        os.environ["ENGAGE_TEST_EARLY"] = "1"
        work(*args)

    monkeypatch.setattr(prebuild, "_work", marked)


def _reading_takes_time(seconds: float = 0.5) -> Any:
    """Pelican's reading made slower (after the articles are made), so the
    early worker has the time to build them."""
    from pelican import signals

    def slow(_generator: Any) -> None:
        time.sleep(seconds)

    signals.article_generator_pretaxonomy.connect(slow)
    return slow


def _early_log(monkeypatch: pytest.MonkeyPatch, log: Path, dies: str = "") -> None:
    build = engine._build

    def noted(engine_: Any, post: Any, *args: Any) -> Any:
        early = os.environ.get("ENGAGE_TEST_EARLY") == "1"
        if early and post.key == dies:
            os._exit(7)
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{post.key} {'early' if early else os.getpid()}\n")
        return build(engine_, post, *args)

    monkeypatch.setattr(engine, "_build", noted)


def test_threads_are_built_while_pelican_reads_the_articles(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pelican import signals

    _site(site)
    _cold(site, caplog, ENGAGE_WORKERS=1)
    one, report = _output(site), _report(site)
    log = site.root / "built.txt"
    _early_log(monkeypatch, log)
    _early_marked(monkeypatch)
    slow = _reading_takes_time()
    try:
        summary = _cold(site, caplog, ENGAGE_WORKERS=2)
    finally:
        signals.article_generator_pretaxonomy.disconnect(slow)
    built = [line.split() for line in log.read_text().splitlines()]
    # Each post built once, all of them by the early worker.
    assert sorted(key for key, _where in built) == POSTS
    assert {where for _key, where in built} == {"early"}
    assert _output(site) == one and _report(site) == report
    assert "6 comment file(s) parsed, 0 thread(s) reused, 6 archive file(s) read" in summary
    assert "6 thread(s) rendered" in summary

    # A warm build starts no early worker (every article would cost twice),
    # and is not told of each article read.
    log.unlink()
    shutil.rmtree(site.output)
    assert _told_of_articles()  # by the cold build, whose early worker waited for them
    assert "6 thread(s) reused" in _build(site, caplog, ENGAGE_WORKERS=2)
    assert not log.exists()
    assert not _told_of_articles()


def _told_of_articles() -> bool:
    from pelican import signals

    from pelican_engage import plugin

    receivers = signals.content_object_init.receivers_for(object())
    return any(r is plugin.on_content_object_init for r in receivers)


def test_an_article_changed_after_it_was_read_is_built_again(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the early worker built from an article that another plugin
    changed afterwards (its fingerprint differs) is not used."""
    from pelican import signals

    _site(site)

    def retitle(generator: Any) -> None:
        time.sleep(0.5)
        for article in generator.articles:
            if article.slug == "post-3":
                article.title = "A better title"

    signals.article_generator_pretaxonomy.connect(retitle)
    try:
        _cold(site, caplog, ENGAGE_WORKERS=1)
        one, report = _output(site), _report(site)
        log = site.root / "built.txt"
        _early_log(monkeypatch, log)
        _early_marked(monkeypatch)
        _cold(site, caplog, ENGAGE_WORKERS=2)
    finally:
        signals.article_generator_pretaxonomy.disconnect(retitle)
    built = [line.split() for line in log.read_text().splitlines()]
    assert ["post-3", "early"] in built
    assert ["post-3", PARENT] in built  # built again, from the changed article
    assert "A better title" in report
    assert _output(site) == one and _report(site) == report


def test_a_dead_early_worker_leaves_its_posts_to_the_build(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pelican import signals

    one = _alone(site, caplog)
    log = site.root / "built.txt"
    _early_log(monkeypatch, log, dies="post-2")
    _early_marked(monkeypatch)
    slow = _reading_takes_time()
    try:
        _cold(site, caplog, ENGAGE_WORKERS=2)
    finally:
        signals.article_generator_pretaxonomy.disconnect(slow)
    built = dict(line.split() for line in log.read_text().splitlines())
    assert sorted(built) == POSTS and built["post-2"] != "early"
    assert _output(site) == one


def test_the_early_worker_of_a_build_that_failed_is_stopped_by_the_next(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``pelican --autoreload``: a build that stopped before its articles
    were final does not leave its early worker running."""
    from pelican import signals

    from pelican_engage import plugin

    _site(site)
    started: list[Any] = []
    early = plugin.prebuild.Early

    class Noted(early):  # type: ignore[misc,valid-type]
        def _start(self) -> None:
            super()._start()
            started.append(self._process)

    monkeypatch.setattr(plugin.prebuild, "Early", Noted)

    def fails(_generator: Any) -> None:
        raise RuntimeError("a plugin failed")

    signals.article_generator_pretaxonomy.connect(fails)
    try:
        with pytest.raises(RuntimeError):
            site.build(ENGAGE_OFFLINE=True, ENGAGE_WORKERS=2)
    finally:
        signals.article_generator_pretaxonomy.disconnect(fails)
    (process,) = started
    assert process.is_alive()
    site.build(ENGAGE_OFFLINE=True, ENGAGE_WORKERS=2)
    process.join(5)
    assert not process.is_alive()
    assert (site.output / "post-1.html").is_file()


def test_a_worker_ends_when_pelicans_process_is_killed(tmp_path: Path) -> None:
    """Killed (out of memory, ``kill``), the parent leaves no worker behind
    waiting forever on a pipe to nobody."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time\n"
        "from pelican_engage import workers\n"
        "def task():\n"
        "    print(os.getpid(), file=open(sys.argv[1], 'w'), flush=True)\n"
        "    time.sleep(60)\n"
        "running = workers.Background(task, workers=2)\n"
        "time.sleep(60)\n",
        encoding="utf-8",
    )
    noted = tmp_path / "child.txt"
    parent = subprocess.Popen([sys.executable, str(script), str(noted)])
    try:
        deadline = time.monotonic() + 20
        while not (noted.exists() and noted.read_text().strip()):
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.05)
        child = int(noted.read_text())
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while _running(child):
            assert time.monotonic() < deadline, "the worker outlived its parent"
            time.sleep(0.05)
    finally:
        parent.kill()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_threads_rebuilt_while_the_authors_page_is_written_are_kept(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cache files gone: the child writing the author's page rebuilds the
    threads it reads, and the parent keeps them (the next build finds them)."""
    _no_early(monkeypatch)
    _site(site)
    _cold(site, caplog, ENGAGE_WORKERS=2)
    one = _output(site)
    folder = next((site.root / "cache" / "engage").glob("threads-*"))
    for pickled in sorted(folder.glob("post-[1-3].*.pickle")):
        pickled.unlink()
    (site.root / "engage-report" / "index.html").unlink()  # the page is due
    shutil.rmtree(site.output)
    settings = {"ENGAGE_COMMENT_FEED": "feeds/{slug}.atom.xml", "ENGAGE_WORKERS": 2}
    summary = _build(site, caplog, **settings)
    assert "3 archive file(s) read" in summary  # rebuilt, by the child
    assert _output(site) == one
    files = sorted(p.name for p in folder.iterdir())
    assert len([n for n in files if n.endswith(".pickle") and n != "index.pickle"]) == 6
    shutil.rmtree(site.output)
    (site.root / "engage-report" / "index.html").unlink()
    caplog.clear()
    again = _build(site, caplog, **settings)
    assert "0 archive file(s) read" in again and "6 thread(s) reused" in again
    # No files piling up: a thread file and its page's HTML per post.
    names = [p.name for p in folder.iterdir()]
    assert len([n for n in names if n.endswith(".pickle")]) == 7  # and the index
    assert len([n for n in names if n.endswith(".html")]) == 6


def test_a_silent_worker_is_stopped_and_its_work_done_here(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker stuck for good (a lock inherited at the fork, say) does not
    hang the build: after SILENCE_SECONDS it is stopped and the parent does
    its part."""
    monkeypatch.setattr(workers, "SILENCE_SECONDS", 0.5)

    def task() -> str:
        if str(os.getpid()) != PARENT:
            time.sleep(30)
        return "done here"

    started = time.monotonic()
    assert workers.Background(task, workers=2).result() == "done here"
    assert time.monotonic() - started < 10

    _no_early(monkeypatch)
    one = _alone(site, caplog)
    build = engine._build

    def stuck(engine_: Any, post: Any, *args: Any) -> Any:
        _slow_parent()  # the worker takes a post, and stays silent
        if str(os.getpid()) != PARENT:
            time.sleep(30)
        return build(engine_, post, *args)

    monkeypatch.setattr(engine, "_build", stuck)
    said: list[str] = []
    monkeypatch.setattr(workers.logger, "debug", lambda message, *args: said.append(message))
    started = time.monotonic()
    _cold(site, caplog, ENGAGE_WORKERS=2)
    assert time.monotonic() - started < 10
    assert "engage: workers silent for %.0f s; stopped" in said
    assert _output(site) == one


def test_a_python_that_refuses_to_fork_builds_in_one_process(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = _alone(site, caplog)

    def refuses(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("fork() is not allowed in a multi-threaded process")

    monkeypatch.setattr(workers.fork_context().Process, "start", refuses)
    _cold(site, caplog, ENGAGE_WORKERS=2)
    assert _output(site) == one
