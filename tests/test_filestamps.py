"""Files known whole by their size and modification time (filestamps.py,
atomic.read_whole and atomic.unchanged): git's rule, racy stamps included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pelican_engage.atomic import read_whole
from pelican_engage.filestamps import Stamps

SECOND = 1_000_000_000


def _file(folder: Path, name: str, data: bytes, mtime_ns: int) -> os.stat_result:
    path = folder / name
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path.stat()


def test_a_saved_stamp_is_trusted_while_the_file_keeps_it(tmp_path: Path) -> None:
    found = _file(tmp_path, "a", b"thread", 10 * SECOND)
    stamps = Stamps({"a": (found.st_size, found.st_mtime_ns)}, saved_ns=11 * SECOND)
    assert stamps.trusted("a", found)
    touched = _file(tmp_path, "a", b"thread", 12 * SECOND)
    assert not stamps.trusted("a", touched)
    longer = _file(tmp_path, "a", b"thread!", 10 * SECOND)
    assert not stamps.trusted("a", longer)
    assert not stamps.trusted("b", found)  # never recorded


def test_a_stamp_saved_in_its_files_clock_tick_is_not_trusted(tmp_path: Path) -> None:
    """The index saved in the tick the file was written in: an edit in that
    tick would keep the time, so the stamp proves nothing (git's racy case)."""
    found = _file(tmp_path, "a", b"thread", 10 * SECOND)
    racy = Stamps({"a": (found.st_size, found.st_mtime_ns)}, saved_ns=10 * SECOND)
    assert not racy.trusted("a", found)
    # Checked and recorded again in this build, it is trusted, and saved.
    racy.record("a", found)
    assert racy.trusted("a", found)
    assert racy.kept(lambda _name: True) == {"a": (found.st_size, found.st_mtime_ns)}


def test_a_racy_stamp_not_checked_since_is_not_saved_again(tmp_path: Path) -> None:
    """Saved again unchecked, in a later tick, it would pass for a sound one."""
    racy = _file(tmp_path, "racy", b"thread", 10 * SECOND)
    sound = _file(tmp_path, "sound", b"thread", 9 * SECOND)
    stamps = Stamps(
        {"racy": (racy.st_size, racy.st_mtime_ns), "sound": (sound.st_size, sound.st_mtime_ns)},
        saved_ns=10 * SECOND,
    )
    new = _file(tmp_path, "new", b"thread", 20 * SECOND)
    stamps.record("new", new)
    kept = stamps.kept(lambda _name: True)
    assert set(kept) == {"sound", "new"}
    assert set(stamps.kept(lambda name: name != "new")) == {"sound"}
    assert stamps.recorded == [("new", new.st_size, new.st_mtime_ns)]


def test_a_stamp_recorded_elsewhere_is_adopted_and_a_forgotten_one_is_gone(
    tmp_path: Path,
) -> None:
    found = _file(tmp_path, "a", b"thread", 30 * SECOND)
    stamps = Stamps(saved_ns=10 * SECOND)
    stamps.adopt([("a", found.st_size, found.st_mtime_ns)])  # a worker's, this build
    assert stamps.trusted("a", found)
    stamps.forget("a")
    assert not stamps.trusted("a", found)
    assert stamps.kept(lambda _name: True) == {}


@pytest.mark.parametrize("size", [0, 1, 65_000, 3 * 1024 * 1024 + 7])
def test_read_whole_gives_the_bytes_and_the_stat(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "file"
    path.write_bytes(data)
    read, found = read_whole(path)
    assert read == data
    assert (found.st_size, found.st_mtime_ns) == (path.stat().st_size, path.stat().st_mtime_ns)
    with pytest.raises(FileNotFoundError):
        read_whole(tmp_path / "missing")
