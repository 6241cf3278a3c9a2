"""Files known whole by their size and modification time (filestamps.py,
atomic.read_whole and atomic.unchanged): git's rule, racy stamps included."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

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


def _atime_after_read(path: Path, read: Any) -> int:
    """The access time after ``read(path)``, the file's times first set so
    that relatime would update it (access older than modification)."""
    os.utime(path, ns=(SECOND, 2 * SECOND))
    read(path)
    return os.stat(path).st_atime_ns


@pytest.mark.skipif(not hasattr(os, "O_NOATIME"), reason="O_NOATIME is Linux's")
def test_read_whole_leaves_the_access_time(tmp_path: Path) -> None:
    # A warm build reads each rendered thread once after it was written:
    # under relatime that read would write each file's inode back.
    control, path = tmp_path / "control", tmp_path / "cached"
    control.write_bytes(b"x" * 100)
    path.write_bytes(b"x" * 100)
    if _atime_after_read(control, Path.read_bytes) == SECOND:
        pytest.skip("this file system does not record access times (noatime)")
    assert _atime_after_read(path, read_whole) == SECOND


@pytest.mark.skipif(not hasattr(os, "O_NOATIME"), reason="O_NOATIME is Linux's")
def test_read_whole_reads_a_file_it_may_not_keep_the_access_time_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # O_NOATIME is refused (EPERM) on another user's file: read anyway,
    # and do not ask again; a file that cannot be read (EACCES) still raises.
    from pelican_engage import atomic

    real_open, flags = os.open, []

    def fake_open(path: Any, flag: int, *rest: Any, **named: Any) -> int:
        flags.append(flag)
        # The kernel checks read permission (EACCES) before ownership (EPERM).
        if Path(path).name == "secret":
            raise PermissionError(errno.EACCES, "Permission denied")
        if flag & os.O_NOATIME:
            raise PermissionError(errno.EPERM, "Operation not permitted")
        return real_open(path, flag, *rest, **named)

    monkeypatch.setattr(atomic, "_noatime", os.O_NOATIME)
    monkeypatch.setattr(atomic.os, "open", fake_open)
    with pytest.raises(PermissionError):
        read_whole(tmp_path / "secret")
    assert atomic._noatime == os.O_NOATIME  # an unreadable file says nothing of ownership
    path = tmp_path / "theirs"
    path.write_bytes(b"theirs")
    assert read_whole(path)[0] == b"theirs"
    assert read_whole(path)[0] == b"theirs"
    assert [bool(f & os.O_NOATIME) for f in flags] == [True, True, False, False]
