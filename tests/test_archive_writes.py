"""The archive on a disk that refuses, and after writes that were killed.

Security field cases F10 (a full disk: the build said nothing, exit 0, and
the failure was filed as a network failure of Mastodon) and F11 (``kill -9``
left ``.tmp`` files in the committed archive folder), and their neighbours.
"""

from __future__ import annotations

import copy
import errno
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
import types
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pelican import signals

import pelican_engage
from pelican_engage import build_status
from pelican_engage.archive import Archive, ArchiveWriteError, atomic_write_json
from pelican_engage.build_status import ArchiveNotWritten
from pelican_engage.fetch import Fetcher
from pelican_engage.http import Client, HttpSettings
from pelican_engage.model import Item, Person
from pelican_engage.sources.mastodon import MastodonSource, job_for
from tests.conftest import Site
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "mastodon"
#: Subprocesses import the package the tests import.
REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
FAST = HttpSettings(connect_timeout=2, read_timeout=2, backoff=0.01, max_wait=1, retries=0)
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def serve_sliding(server: Server, status_ids: list[str], replies: int = 10) -> None:
    """A Mastodon whose context slides by 5 replies per request (as in F10 and
    F11), so every fetch has new replies to write."""
    status = json.loads((DATA / "status.json").read_text())
    template = json.loads((DATA / "context.json").read_text())["descendants"][0]
    for sid in status_ids:
        base = f"/api/v1/statuses/{sid}"
        body = json.dumps({**status, "id": sid, "url": f"{server.url}/@marin/{sid}"}).encode()
        server.routes[base] = lambda h, n, body=body: send(h, 200, body)

        def context(h: object, n: int, sid: str = sid) -> None:
            found = []
            for k in range(5 * n, 5 * n + replies):
                reply = copy.deepcopy(template)
                reply_id = f"{sid}{k:06d}"
                reply.update(
                    id=reply_id,
                    in_reply_to_id=sid,
                    url=f"{server.url}/@ann/{reply_id}",
                    uri=f"{server.url}/users/ann/statuses/{reply_id}",
                    content=f"<p>Reply {k}: {'lorem ipsum dolor sit amet ' * 11}</p>",
                )
                found.append(reply)
                # Replies that slid out of the context still exist (a 404 would
                # confirm a deletion and make a tombstone).
                server.routes[f"/api/v1/statuses/{reply_id}"] = lambda h, n, r=reply: send(
                    h, 200, json.dumps(r).encode()
                )
            send(h, 200, json.dumps({"ancestors": [], "descendants": found}).encode())  # type: ignore[arg-type]

        server.routes[base + "/context"] = context
        for extra in ("/favourited_by", "/reblogged_by"):
            server.routes[base + extra] = lambda h, n: send(h, 200, b"[]")


def _fetcher(archive: Archive, concurrency: int = 8) -> Fetcher:
    source = MastodonSource(Client(FAST, clock=lambda: NOW), reactions=False)
    return Fetcher(archive, {"mastodon": source}, clock=lambda: NOW, concurrency=concurrency)


def _jobs(server: Server, ids: list[str]):
    return [
        job_for(f"p{n}", f"{server.url}/@marin/{sid}", NOW - timedelta(days=1))
        for n, sid in enumerate(ids)
    ]


def _temporary(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp")) if folder.exists() else []


def _parsed(archive: Path) -> dict[str, int]:
    """Item count of every archive file; each must parse."""
    return {
        p.name: len(json.loads(p.read_text(encoding="utf-8"))["items"])
        for p in sorted((archive / "posts").glob("*.json"))
    }


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make every fsync fail as a full disk does (writes are buffered, so the
    disk says no when they are flushed)."""

    return lambda: monkeypatch.setattr(os, "fsync", _refuse)


def _item(n: int, text: str = "x") -> Item:
    return Item(
        id=f"mastodon:s.example/{n}",
        source="mastodon",
        kind="reply",
        author=Person(name=f"R{n}", url=f"https://s.example/@r{n}"),
        published=NOW,
        content_html=f"<p>{text}</p>",
        url=f"https://s.example/@r{n}/{n}",
    )


# The write itself ---------------------------------------------------------------


def _refuse(fd: int) -> None:
    raise ENOSPC


def _fault_fsync(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fsync", _refuse)


def _fault_replace(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: object, dst: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "replace", refuse)


def _fault_read_only_folder(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path.parent.chmod(0o555)
    probe = path.parent / "probe"
    try:
        probe.write_text("")
    except OSError:
        return
    probe.unlink()
    path.parent.chmod(0o755)
    pytest.skip("this user writes into read-only folders (root)")


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (_fault_fsync, "No space left on device"),
        (_fault_replace, "Permission denied"),
        (_fault_read_only_folder, "Permission denied"),
    ],
)
def test_a_refused_write_names_the_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: Callable, message: str
) -> None:
    archive = Archive(tmp_path / "archive")
    archive.merge("post", [_item(1)])
    path = archive.post_path("post")
    before = path.read_bytes()
    fault(path, monkeypatch)
    with pytest.raises(ArchiveWriteError) as raised:
        Archive(tmp_path / "archive").merge("post", [_item(2)])
    assert str(raised.value).startswith(f"{path}: cannot be written ({message}")
    assert _temporary(tmp_path) == []
    monkeypatch.undo()
    path.parent.chmod(0o755)
    assert path.read_bytes() == before  # the old file, whole


def test_atomic_write_json_turns_every_os_error_into_one_naming_the_file(tmp_path: Path) -> None:
    target = tmp_path / "file-not-folder"
    target.write_text("x")
    with pytest.raises(ArchiveWriteError, match=r"file-not-folder/a\.json: cannot be written"):
        atomic_write_json(target / "a.json", {"a": 1})


# Fetching onto a full disk --------------------------------------------------------


def test_a_full_disk_is_an_archive_error_not_a_network_failure(
    server: Server,
    tmp_path: Path,
    full_disk: Callable[[], None],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = ["700000", "700001", "700002"]
    serve_sliding(server, ids)
    archive = Archive(tmp_path / "archive")
    first = _fetcher(archive).run(_jobs(server, ids))
    assert first.new_items == 30 and not first.unsaved
    before = _parsed(tmp_path / "archive")

    full_disk()
    caplog.set_level(logging.WARNING)
    fetcher = _fetcher(Archive(tmp_path / "archive"), concurrency=1)
    summary = fetcher.run(_jobs(server, ids))
    assert not summary.errors  # Mastodon answered well: it is not its failure
    assert summary.new_items == 0
    assert summary.unsaved_items == 5  # the context slid by 5: five new replies
    (path,) = summary.unsaved
    assert path.startswith(str(tmp_path / "archive" / "posts"))
    # After the first file, the other posts are not fetched for nothing.
    assert summary.skipped == 2
    (record,) = [r for r in caplog.records if r.name.startswith("pelican_engage")]
    assert record.levelno == logging.ERROR
    assert "archive could not be written" in record.getMessage()
    assert "No space left on device" in record.getMessage() and path in record.getMessage()
    assert "mastodon" not in record.getMessage()
    assert _parsed(tmp_path / "archive") == before
    assert _temporary(tmp_path) == []

    # Space again: the next fetch asks again, and what was missed comes back.
    caplog.clear()
    monkeypatch.undo()
    again = _fetcher(Archive(tmp_path / "archive")).run(_jobs(server, ids))
    assert not again.unsaved and not again.errors
    assert all(count >= 15 for count in _parsed(tmp_path / "archive").values())


def test_what_could_not_be_archived_waits_in_the_cache_for_the_next_run(
    server: Server,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The archive's folder refuses writes, the cache (another disk) does not:
    the new replies wait there, and are archived by the next fetch even if
    the source is gone by then."""
    from pelican_engage.fetch import save_unsaved

    ids = ["700000", "700001"]
    serve_sliding(server, ids)
    folder, unsaved = tmp_path / "archive", tmp_path / "cache" / "engage" / "unsaved"
    _fetcher(Archive(folder, unsaved)).run(_jobs(server, ids))
    before = _parsed(folder)
    real_replace = os.replace

    def archive_disk_refuses(src: str, dst: str) -> None:
        if Path(dst).is_relative_to(folder):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", archive_disk_refuses)
    caplog.set_level(logging.INFO)
    summary = _fetcher(Archive(folder, unsaved)).run(_jobs(server, ids))
    assert summary.unsaved_items == summary.kept_items == 10
    (error,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "Permission denied" in error and f"10 kept in {unsaved}" in error
    assert _parsed(folder) == before
    assert sorted(p.name for p in unsaved.iterdir()) == ["p0.json", "p1.json"]

    # Still refused: they stay where they are, and the fetch says so (its
    # summary's unsaved files make `pelican-engage fetch` and a build fail).
    caplog.clear()
    refused = save_unsaved(Archive(folder, unsaved))
    assert sorted(refused) == [str(folder / "posts" / "p0.json"), str(folder / "posts" / "p1.json")]
    assert all("Permission denied" in message for message in refused.values())
    assert sorted(p.name for p in unsaved.iterdir()) == ["p0.json", "p1.json"]

    monkeypatch.undo()
    for path in list(server.routes):  # the source is gone
        server.routes[path] = lambda h, n: send(h, 410)
    caplog.clear()
    assert save_unsaved(Archive(folder, unsaved)) == {}
    assert _parsed(folder) == {name: count + 5 for name, count in before.items()}
    assert list(unsaved.iterdir()) == []
    assert "10 item(s) an earlier fetch could not archive are archived now" in caplog.text


def test_the_fetch_command_says_error_and_exits_1_on_a_full_disk(
    server: Server,
    site: Site,
    full_disk: Callable[[], None],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pelican_engage.cli import main

    ids = ["700000", "700001"]
    serve_sliding(server, ids)
    for n, sid in enumerate(ids):
        site.article(f"p{n}", mastodon=f"{server.url}/@marin/{sid}")
    conf = site.write_conf(ENGAGE_MASTODON={"reactions": False})
    monkeypatch.chdir(site.root)
    monkeypatch.setattr(logging.root, "handlers", [])  # main() sets up its own
    assert main(["fetch", "-s", str(conf), "--force"]) == 0
    capsys.readouterr()
    full_disk()
    assert main(["fetch", "-s", str(conf), "--force"]) == 1
    err = capsys.readouterr().err
    assert "ERROR: engage: the archive could not be written:" in err
    assert "No space left on device" in err and "archive/posts/p" in err


def test_a_build_on_a_full_disk_renders_the_archive_then_fails(
    server: Server,
    site: Site,
    full_disk: Callable[[], None],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ENGAGE_OFFLINE", raising=False)
    serve_sliding(server, ["700000"])
    site.article("p0", mastodon=f"{server.url}/@marin/700000")
    settings = {
        "ENGAGE_REFRESH": {"min_seconds": 0, "max_seconds": 0},
        "ENGAGE_MASTODON": {"reactions": False},
    }
    site.build(**settings)
    shown = len(site.html("p0.html").select(".engage-item"))
    assert shown == 10
    full_disk()
    caplog.set_level(logging.INFO)
    (site.output / "p0.html").unlink()
    # A plugin listed after this one: its ``finalized`` still runs.
    later, finalized = types.ModuleType("later_plugin"), []
    later.register = lambda: signals.finalized.connect(finalized.append, weak=False)  # type: ignore[attr-defined]
    # F10: the build goes on, then Pelican exits with status 1 (exitcode).
    with pytest.raises(ArchiveNotWritten, match="No space left on device") as raised:
        site.build(**settings, PLUGINS=[pelican_engage, later])
    signals.finalized.disconnect(finalized.append)
    assert len(finalized) == 1
    assert raised.value.exitcode == 1
    assert list(raised.value.unsaved) == [str(site.root / "archive" / "posts" / "p0.json")]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    (error,) = errors
    assert "No space left on device" in error and "p0.json" in error
    assert not [m for m in (r.getMessage() for r in caplog.records) if "fetch(es) failed" in m]
    # Written before the build failed: the page, and the build's summary.
    assert len(site.html("p0.html").select(".engage-item")) == shown
    assert any("engage: 10 items on 1 post," in r.getMessage() for r in caplog.records)
    # Space again: the next build archives what was missed and succeeds.
    monkeypatch.undo()
    monkeypatch.delenv("ENGAGE_OFFLINE", raising=False)
    site.build(**settings)
    assert len(site.html("p0.html").select(".engage-item")) > shown


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real 3 MiB file system (F10); needs the right to mount (root)."""
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_field_case_f10_a_really_full_disk(
    server: Server, site: Site, small_tmpfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole F10 case, scaled down: the archive on a full tmpfs, and the
    real ``pelican-engage fetch`` command in its own process."""
    ids = [str(700000 + n) for n in range(8)]
    serve_sliding(server, ids, replies=40)
    for n, sid in enumerate(ids):
        site.article(f"p{n}", mastodon=f"{server.url}/@marin/{sid}")
    conf = site.write_conf(
        ENGAGE_MASTODON={"reactions": False},
        ENGAGE_ARCHIVE_PATH=str(small_tmpfs / "archive"),
        ENGAGE_REFRESH={"min_seconds": 0, "max_seconds": 0, "ratio": 0},
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("ENGAGE_OFFLINE", None)
    command = [sys.executable, "-m", "pelican_engage.cli", "fetch", "-s", str(conf), "--force"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, cwd=site.root)
    assert first.returncode == 0, first.stderr
    before = _parsed(small_tmpfs / "archive")
    assert len(before) == 8
    with (small_tmpfs / "filler").open("wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    third = subprocess.run(command, capture_output=True, text=True, env=env, cwd=site.root)
    assert third.returncode == 1
    assert "ERROR: engage: the archive could not be written:" in third.stderr
    assert "No space left on device" in third.stderr
    assert str(small_tmpfs / "archive" / "posts") in third.stderr
    # Not filed as a failure of the source.
    assert "fetch(es) failed" not in third.stderr and ", 0 error(s)" in third.stdout
    assert _parsed(small_tmpfs / "archive") == before
    assert _temporary(small_tmpfs) == []
    # Step 4: the build renders the archive as it is, and exits non-zero.
    build = [sys.executable, "-m", "pelican", "content", "-s", str(conf)]
    wide = {**env, "COLUMNS": "1000"}  # Pelican's console wraps at the terminal's width
    fourth = subprocess.run(build, capture_output=True, text=True, env=wide, cwd=site.root)
    assert fourth.returncode == 1, fourth.stdout + fourth.stderr
    said = fourth.stdout + fourth.stderr
    # The ERROR at the default verbosity, then Pelican's CRITICAL for the exit.
    assert re.search(r"ERROR\s+engage: the archive could not be written:", said)
    assert re.search(r"CRITICAL\s+ArchiveNotWritten: engage: the archive could not", said)
    assert "No space left on device" in said and str(small_tmpfs / "archive" / "posts") in said
    assert "fetch(es) failed" not in said
    assert all((site.output / f"p{n}.html").is_file() for n in range(len(ids)))
    assert _parsed(small_tmpfs / "archive") == before
    assert _temporary(small_tmpfs) == []


# Interrupted writes (F11) -----------------------------------------------------------


def _plant_leftovers(archive: Path) -> list[Path]:
    (archive / "posts").mkdir(parents=True, exist_ok=True)
    planted = [
        archive / "posts" / ".p0.json.k2j4h5q1.tmp",
        archive / "posts" / ".p1.json.zz_9a.tmp",
        archive / ".acknowledged.json.3x8a1c.tmp",
    ]
    for path in planted:
        path.write_text('{"schema": 1, "ite')  # cut off mid-write
    return planted


def test_leftovers_of_killed_writes_are_removed_by_the_next_build(site: Site) -> None:
    archive = site.root / "archive"
    planted = _plant_leftovers(archive)
    mine = [archive / "posts" / ".keep", archive / "posts" / "notes.tmp"]
    for path in mine:
        path.write_text("the user's own")
    site.article("p0")
    site.build(ENGAGE_OFFLINE=True)
    assert not any(p.exists() for p in planted)
    assert all(p.exists() for p in mine)  # only our own temporary names go


def test_leftovers_are_kept_while_another_process_writes(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    planted = _plant_leftovers(tmp_path / "archive")
    other = archive._lock()  # another build, in the middle of a write
    other.acquire()
    try:
        assert Archive(tmp_path / "archive").remove_temporary_files() == []
        assert all(p.exists() for p in planted)
    finally:
        other.release()
    assert sorted(Archive(tmp_path / "archive").remove_temporary_files()) == sorted(planted)


def test_the_first_write_of_a_process_removes_leftovers(tmp_path: Path) -> None:
    planted = _plant_leftovers(tmp_path / "archive")
    Archive(tmp_path / "archive").merge("p0", [_item(1)])
    assert not any(p.exists() for p in planted)


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pelican_engage.archive import atomic_write_json

    posts = Path(sys.argv[1]) / "posts"
    text = "lorem ipsum " * 200
    n = 0
    print("ready", flush=True)
    while True:  # the archive's own write, as every merge does it
        n += 1
        items = {f"mastodon:s.example/{k}": {"content_html": text} for k in range(150)}
        record = {"schema": 1, "post": f"p{n % 3}", "items": items, "cursors": {}}
        atomic_write_json(posts / f"p{n % 3}.json", record)
    """
)


def test_field_case_f11_kill_9_mid_write_leaves_nothing_after_the_next_run(
    tmp_path: Path,
) -> None:
    """Real ``kill -9`` of a process that writes the archive in a loop, until
    at least one kill has left a temporary file; the next run removes all."""
    archive = tmp_path / "archive"
    rng = random.Random(11)
    left = 0
    for _attempt in range(40):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(archive)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        left = len(_temporary(archive))
        # Small writes (~360 KB) so that some finish on a slow machine too,
        # and most of the loop's time is spent inside one.
        if left >= 2 and _parsed(archive):
            break
    assert left, "no kill landed mid-write; the test proved nothing"
    assert Archive(archive).remove_temporary_files()
    assert _temporary(archive) == []
    assert _parsed(archive)  # every file that is there parses


def test_old_leftovers_in_the_cache_and_report_folders_go_recent_ones_stay(site: Site) -> None:
    """The build cache and the author's page are written the same way; a
    killed build leaves their temporary files too.  An old one is debris, a
    fresh one may be another build's write in progress."""
    site.article("p0")
    site.comment("p0", "c1.md", "Hello?", author="Ann", date="2026-01-03")
    site.build(ENGAGE_OFFLINE=True)
    cache = next((site.root / "cache" / "engage").glob("threads*/index.pickle"))
    page = site.root / "engage-report" / "index.html"
    old_time = time.time() - 3600
    leftovers = {}
    for folder, name in ((cache.parent, cache.name), (page.parent, page.name)):
        for age, suffix in (("old", "a1b2c3d4.tmp"), ("new", "e5f6g7h8.tmp")):
            path = folder / f".{name}.{suffix}"
            path.write_bytes(b"cut off")
            if age == "old":
                os.utime(path, (old_time, old_time))
            leftovers[path] = age
    site.comment("p0", "c2.md", "Again?", author="Bo", date="2026-01-04")  # both are rewritten
    site.build(ENGAGE_OFFLINE=True)
    assert {p: p.exists() for p in leftovers} == {p: a == "new" for p, a in leftovers.items()}


# Reading back what was edited by hand ------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "mastodon:s.example/1\udcff"), ("name", "Eve\ud800")],
)
def test_an_archive_file_with_a_lone_surrogate_is_refused_not_a_crash(
    site: Site, field: str, value: str, engage_warnings: Callable[[], list[str]]
) -> None:
    """``"\\udcff"`` is valid JSON but no character: like a file name that is
    not UTF-8 (F2), it used to stop the build where the page was written."""

    def record(key: str, item_id: str, name: str) -> str:
        item = {
            "id": item_id,
            "source": "mastodon",
            "kind": "reply",
            "author": {"name": name, "handle": "", "url": "", "avatar": ""},
            "published": "2026-01-03T10:00:00+00:00",
            "content_html": "<p>Hi \U0001f600</p>",  # written as an escaped pair: fine
            "in_reply_to": None,
        }
        data = {"schema": 1, "post": key, "cursors": {}, "items": {item_id: item}}
        return json.dumps(data, ensure_ascii=True)  # lone surrogates become escapes

    posts = site.root / "archive" / "posts"
    posts.mkdir(parents=True)
    odd = {"id": "mastodon:s.example/1", "name": "Eve", field: value}
    (posts / "post.json").write_text(record("post", odd["id"], odd["name"]))
    (posts / "fine.json").write_text(record("fine", "mastodon:s.example/2", "Zoe"))
    assert "\\ud83d\\ude00" in (posts / "fine.json").read_text()
    site.article("fine")
    site.article("post")
    site.comment("post", "c1.md", "Hello.", author="Ann", date="2026-01-03")
    site.build(ENGAGE_OFFLINE=True)
    (warning,) = engage_warnings()
    assert "post.json: holds an escaped lone surrogate (\\ud" in warning
    assert "Hello." in site.html("post.html").select_one(".engage").get_text()
    # The neighbour, with an escaped emoji, is read.
    assert "Hi \U0001f600" in site.html("fine.html").select_one(".engage").get_text()


# When a build fails for it (build_status.py) ------------------------------------------


def test_the_outermost_build_fails_for_every_site_built_inside_it() -> None:
    """pelican-i18n-subsites builds its sites inside the main one: the
    main one fails, for all of them, once it is written."""
    build_status.note({"a.json": "a: cannot be written (No space left on device)"})
    build_status.fail(outermost=False)  # a sub-site: nothing raised yet
    build_status.note({"b.json": "b: cannot be written (No space left on device)"})
    with pytest.raises(ArchiveNotWritten, match=r"a: cannot be .*\(and 1 more file") as raised:
        build_status.fail(outermost=True)
    assert sorted(raised.value.unsaved) == ["a.json", "b.json"]
    build_status.fail(outermost=True)  # told once: the next build starts afresh


def test_under_autoreload_a_build_does_not_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pelican's --autoreload loop would start the next build at once,
    without waiting for a change: the ERROR line is all it gets."""
    import pelican

    def autoreload() -> None:  # stands in for the loop: its code is on the stack
        build_status.fail(outermost=True)

    monkeypatch.setattr(pelican, "autoreload", autoreload)
    build_status.note({"a.json": "a: cannot be written (No space left on device)"})
    pelican.autoreload()
    build_status.fail(outermost=True)  # forgotten, not raised later
    build_status.note({"a.json": "a: cannot be written (No space left on device)"})
    with pytest.raises(ArchiveNotWritten):
        build_status.fail(outermost=True)  # the same call, outside the loop


def test_a_damaged_copy_kept_in_the_cache_is_a_warning_not_a_refused_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Not the archive's disk: a fetch or build does not fail for it, and
    the line says what to do."""
    from pelican_engage.fetch import save_unsaved

    unsaved = tmp_path / "cache" / "engage" / "unsaved"
    unsaved.mkdir(parents=True)
    (unsaved / "p0.json").write_text('{"schema": 1, "ite')  # cut off
    caplog.set_level(logging.INFO)
    assert save_unsaved(Archive(tmp_path / "archive", unsaved)) == {}
    (record,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.levelno == logging.WARNING
    assert str(unsaved / "p0.json") in record.getMessage()
    assert "could not be written" not in record.getMessage()
