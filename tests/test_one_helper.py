"""One of each helper (issue 12, point 6): every file the package writes goes
through the archive's atomic writer (with fsync), every spreadsheet cell
through one formula guard, every timestamp through one parser."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pelican_engage import author_page, comment_feed
from pelican_engage.atomic import atomic_write
from pelican_engage.backoff import HostBackoff
from pelican_engage.cache import ThreadCache
from pelican_engage.http import parse_reset
from pelican_engage.model import parse_timestamp
from pelican_engage.textsafe import csv_cell

NOW = datetime(2026, 11, 30, tzinfo=timezone.utc)


def _author_page(tmp_path: Path) -> Path:
    author_page._write(tmp_path / "report" / "index.html", "<p>hi</p>")
    return tmp_path / "report" / "index.html"


def _comment_feed(tmp_path: Path) -> Path:
    comment_feed._write(tmp_path / "feeds" / "p.atom.xml", "<feed/>")
    return tmp_path / "feeds" / "p.atom.xml"


def _feed_stamps(tmp_path: Path) -> Path:
    stamps = comment_feed._Stamps(tmp_path / "cache" / "stamps.pickle")
    stamps.keep("feeds/p.atom.xml", "digest", "<feed/>")
    stamps.save()
    return tmp_path / "cache" / "stamps.pickle"


def _backoff(tmp_path: Path) -> Path:
    hosts = HostBackoff(tmp_path / "cache" / "hosts.json")
    hosts.failed("social.example", "timed out", NOW)
    hosts.save()
    return tmp_path / "cache" / "hosts.json"


def _thread_cache(tmp_path: Path) -> Path:
    cache = ThreadCache(tmp_path / "cache", "salt")
    cache._changed = True
    cache.save()
    return cache.path


WRITERS: dict[str, Callable[[Path], Path]] = {
    "author page": _author_page,
    "comment feed stamps": _feed_stamps,
    "host backoff": _backoff,
    "thread cache": _thread_cache,
}


@pytest.mark.parametrize("name", WRITERS)
def test_every_file_is_written_whole_and_synced(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    target = WRITERS[name](tmp_path)
    assert target.is_file()
    # The temporary file's data, then the folder holding the rename.
    assert any(Path(p).parent == target.parent and Path(p).name.startswith(f".{target.name}.")
               for p in synced), synced  # fmt: skip
    assert str(target.parent) in synced
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.txt"
    atomic_write(target, "old")
    target.chmod(0o640)

    def boom(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        atomic_write(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o640


def test_a_comment_feed_is_written_whole_but_not_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Feeds are output, rebuilt by every build like Pelican's own pages: a
    rename makes each whole, and no fsync per feed (issue 16: on a loaded
    disk that was most of the feeds' cost)."""
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    target = _comment_feed(tmp_path)
    assert target.read_text() == "<feed/>" and synced == []
    assert [p.name for p in target.parent.iterdir()] == [target.name]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\x1b=1", "'=1"),  # a control cannot hide the formula's "="
        ("line\nbreak", "line break"),
        ("Ann", "Ann"),
    ],
)
def test_csv_cell(value: str, cell: str) -> None:
    assert csv_cell(value) == cell


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-30T01:00:00Z",
        "2026-11-30T01:00:00.1Z",
        "2026-11-30T01:00:00.123456789Z",
        "2026-11-30T02:00:00+01:00",
        "2026-11-30T01:00:00",
    ],
)
def test_the_rate_limit_reset_header_reads_every_timestamp_form(value: str) -> None:
    reset = parse_reset({"X-RateLimit-Reset": value}, NOW)
    assert reset is not None and reset - NOW < timedelta(hours=1, seconds=1)
    assert reset == parse_timestamp(value)


def test_a_time_without_zone_is_in_the_zone_given() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert parse_timestamp("2026-11-30 09:00", naive=paris).utcoffset() == timedelta(hours=1)
    assert parse_timestamp("2026-11-30T09:00:00Z", naive=paris).utcoffset() == timedelta(0)
    assert parse_timestamp("2026-11-30T09:00").tzinfo is timezone.utc
