"""create_file: the output files put back without a temporary file never
write through what is already there."""

from __future__ import annotations

from pathlib import Path

import pytest

from pelican_engage.atomic import atomic_write, create_file


def test_creates_the_file_and_its_folder(tmp_path: Path) -> None:
    target = tmp_path / "feeds" / "comments" / "post.atom.xml"
    create_file(target, b"<feed/>")
    assert target.read_bytes() == b"<feed/>"


def test_never_writes_through_a_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    link = tmp_path / "out" / "feed.xml"
    link.parent.mkdir()
    link.symlink_to(outside)
    with pytest.raises(FileExistsError):
        create_file(link, b"evil")
    assert outside.read_bytes() == b"keep"


def test_atomic_write_makes_a_missing_folder_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.txt"
    atomic_write(target, "one", sync=False)
    target.chmod(0o600)
    atomic_write(target, "two", sync=False)
    assert target.read_text() == "two"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]
