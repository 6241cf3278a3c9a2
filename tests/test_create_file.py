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


def test_atomic_write_takes_text_in_chunks_all_or_nothing(tmp_path: Path) -> None:
    """A page written as it is made: chunks are UTF-8, and a failure midway
    leaves the old file whole and no temporary file behind."""
    from pelican_engage.atomic import atomic_write

    target = tmp_path / "page.html"
    atomic_write(target, iter(["<p>", "é", "</p>\n"]))
    assert target.read_bytes() == "<p>é</p>\n".encode()

    def broken():  # type: ignore[no-untyped-def]
        yield "<p>half"
        raise RuntimeError("the page could not be made")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken())
    assert target.read_bytes() == "<p>é</p>\n".encode()
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_link_or_create_links_else_copies(tmp_path: Path, monkeypatch) -> None:
    from pelican_engage import atomic

    source = tmp_path / "copy.xml"
    source.write_bytes(b"<feed/>")
    linked = tmp_path / "out" / "a.xml"
    atomic.link_or_create(linked, source, b"<feed/>")
    assert linked.read_bytes() == b"<feed/>" and linked.stat().st_ino == source.stat().st_ino

    def no_links(*args):  # type: ignore[no-untyped-def]
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(atomic.os, "link", no_links)
    copied = tmp_path / "out" / "b.xml"
    atomic.link_or_create(copied, source, b"<feed/>")
    assert copied.read_bytes() == b"<feed/>" and copied.stat().st_ino != source.stat().st_ino
    with pytest.raises(FileExistsError):
        atomic.link_or_create(copied, source, b"<feed/>")
