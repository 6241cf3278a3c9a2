"""A warm build's rendered threads asked of the disk by a child while
Pelican reads the articles (prefetch.py): the right files, only regular
ones, never on a cold build or without a second worker, and the child
ended with the build (or by the next one, when a build fails)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from pelican_engage import plugin, prefetch, workers

from .conftest import Site
from .test_build_cache import _build
from .test_workers import POSTS, _site

PARENT = os.getpid()


def test_only_regular_files_are_asked_for(tmp_path: Path) -> None:
    for name in ("a.html", "b.html"):
        (tmp_path / name).write_text("<p>thread</p>", encoding="utf-8")
    secret = tmp_path.parent / f"{tmp_path.name}-secret.txt"
    secret.write_text("not ours", encoding="utf-8")
    (tmp_path / "link.html").symlink_to(secret)
    os.mkfifo(tmp_path / "pipe.html")  # opened without blocking, then passed over
    names = ["a.html", "missing.html", "link.html", "pipe.html", "b.html"]
    assert prefetch.read_ahead(str(tmp_path), names) == 2


@pytest.fixture(autouse=True)
def _small_site_reads_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child for this test's few posts (a real site needs workers.MIN_POSTS)."""
    monkeypatch.setattr(workers, "MIN_POSTS", 2)


@pytest.fixture
def watched(site: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[list[Any], Path]:
    """The test site, made; the children started, and the file where each
    writes what it asked for."""
    _site(site)
    log = tmp_path / "asked.txt"
    started: list[Any] = []
    real_start, real_read = prefetch.start, prefetch.read_ahead

    def start(engine: Any) -> Any:
        process = real_start(engine)
        started.append(process)
        return process

    def read_ahead(folder: str, names: Any) -> int:
        asked = real_read(folder, names)
        log.write_text(f"{os.getpid()}\n{folder}\n{asked}\n" + "\n".join(names), encoding="utf-8")
        if (site.root / "slow").exists():  # a child stuck on a slow disk
            time.sleep(60)
        return asked

    def look_up(folder: str) -> int:
        found = real_look_up(folder)
        (log.parent / "looked-up.txt").write_text(f"{folder}\n{found}", encoding="utf-8")
        return found

    real_look_up = prefetch.look_up
    monkeypatch.setattr(prefetch, "start", start)
    monkeypatch.setattr(prefetch, "read_ahead", read_ahead)
    monkeypatch.setattr(prefetch, "look_up", look_up)
    return started, log


def test_a_warm_build_reads_its_rendered_threads_ahead_in_a_child(
    site: Site,
    caplog: pytest.LogCaptureFixture,
    watched: tuple[list[Any], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, log = watched
    # The end of the build waits for the child here: on a loaded machine it
    # could otherwise be ended before it read (the other tests end it).
    monkeypatch.setattr(prefetch, "stop", lambda process: process and process.join(60))
    _build(site, caplog, ENGAGE_WORKERS=2)
    assert started == [] and not log.exists()  # cold: nothing to read ahead

    _build(site, caplog, ENGAGE_WORKERS=2)
    assert len(started) == 1 and started[0] is not None
    assert started[0].exitcode == 0
    pid, folder, asked, *names = log.read_text(encoding="utf-8").splitlines()
    assert int(pid) not in (PARENT, 0)
    rendered = sorted(p.name for p in Path(folder).glob("*.html"))
    assert len(rendered) == len(POSTS)
    assert sorted(names) == rendered and int(asked) == len(POSTS)
    # The archive's files were looked up too.
    posts, found = (log.parent / "looked-up.txt").read_text(encoding="utf-8").splitlines()
    assert Path(posts) == site.root / "archive" / "posts" and int(found) == len(POSTS)


def test_a_child_still_reading_is_ended_with_the_build(
    site: Site, caplog: pytest.LogCaptureFixture, watched: tuple[list[Any], Path]
) -> None:
    started, _log = watched
    _build(site, caplog, ENGAGE_WORKERS=2)
    (site.root / "slow").touch()
    begun = time.monotonic()
    _build(site, caplog, ENGAGE_WORKERS=2)
    assert time.monotonic() - begun < 30
    assert started[0].exitcode == -15  # SIGTERM, from the end of the build


def test_a_failed_builds_child_is_ended_by_the_next_build(
    site: Site,
    caplog: pytest.LogCaptureFixture,
    watched: tuple[list[Any], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, _log = watched
    _build(site, caplog, ENGAGE_WORKERS=2)
    (site.root / "slow").touch()
    with monkeypatch.context() as failing:
        failing.setattr(plugin, "_engage_all", lambda *_: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            _build(site, caplog, ENGAGE_WORKERS=2)
    assert started[0].is_alive()  # the failed build never reached its end
    # Still slow (a child that read quickly would end by itself, and prove nothing).
    _build(site, caplog, ENGAGE_WORKERS=2)
    assert started[0].exitcode == -15  # by the start of the next build
    assert started[1].exitcode == -15  # by its own end


def test_no_child_for_a_small_site(
    site: Site,
    caplog: pytest.LogCaptureFixture,
    watched: tuple[list[Any], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, log = watched
    monkeypatch.setattr(workers, "MIN_POSTS", len(POSTS) + 1)
    _build(site, caplog, ENGAGE_WORKERS=2)
    _build(site, caplog, ENGAGE_WORKERS=2)
    assert started == [None] and not log.exists()
    monkeypatch.setattr(workers, "MIN_POSTS", len(POSTS))
    _build(site, caplog, ENGAGE_WORKERS=2)
    assert started[1] is not None and log.exists()


def test_no_child_with_one_worker(
    site: Site, caplog: pytest.LogCaptureFixture, watched: tuple[list[Any], Path]
) -> None:
    started, log = watched
    _build(site, caplog, ENGAGE_WORKERS=1)
    _build(site, caplog, ENGAGE_WORKERS=1)
    assert started == [None] and not log.exists()
