"""The comment feeds' copies kept in the cache, and their writing into the
output (comment_feed.py renders them).

A warm build renders only the feeds whose inputs changed; the others are
put back from a copy of each, checked, when the output folder was emptied.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import secrets
from pathlib import Path

from . import __version__
from .atomic import (
    atomic_write,
    link_or_create,
    read_whole,
    try_link,
    unchanged,
    write_checked,
)

#: Bump when the stamps' layout changes.
_STAMPS = 3


def digest(*parts: object) -> str:
    """SHA-256 (hex) of ``parts`` as text, NUL-separated."""
    return hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()


def write_feed(target: Path, text: str) -> bool:
    """Write a feed into the output, unless it already holds ``text``.

    Atomically but not synced: the output is rebuilt by every build, as
    Pelican writes its own pages (an fsync per feed was most of the cost
    of the feeds on a loaded disk); a feed cut short by a crash has the
    wrong size, which the next build notices (``FeedStamps.reuse``).
    """
    try:
        if target.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    atomic_write(target, text, sync=False)
    return True


def put(target: Path, text: str, copy: Path | None) -> bool:
    """Write a rendered feed into the output; True when it changed.  A new
    one (a cold build's) is a link to its fresh copy, written once."""
    if copy is not None and not os.path.lexists(target):
        try:
            _restore(target, copy, text.encode("utf-8"))
            return True
        except OSError:
            pass
    return write_feed(target, text)


def _restore(target: Path, copy: Path, data: bytes) -> None:
    """Put back a missing feed from its checked copy: linked to it, or
    created in place (see :func:`~pelican_engage.atomic.link_or_create`; on
    a warm build into an emptied output, a temporary file and rename per
    feed were most of the feeds' cost, then creating and writing them)."""
    try:
        link_or_create(target, copy, data)
    except FileExistsError:  # appeared meanwhile: replaced, as any other
        write_feed(target, data.decode("utf-8"))


def _same(found: os.stat_result, other: os.stat_result) -> bool:
    """Are two stats of one file (a hard link to it counts)?"""
    return (found.st_dev, found.st_ino) == (other.st_dev, other.st_ino)


def _put_back(target: Path, copy: Path, data: bytes) -> None:
    """Make the existing output ``target`` the checked copy's bytes: left
    alone when it holds them, else replaced by a link to the copy (made
    under a temporary name, then renamed over it: never missing, never
    written through), or by a new file when no link can be made."""
    try:
        if read_whole(target)[0] == data:
            return
    except OSError:
        pass
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.link")
    try:
        os.link(copy, temporary)
        os.replace(temporary, target)
        return
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    write_feed(target, data.decode("utf-8"))


def _as_kept(copy: Path, stamp: tuple[str, int, str, int], saved: int) -> bool:
    """Is the copy as it was written (:func:`atomic.unchanged`, ``saved``:
    when the stamps were saved, ns)?  Reading and hashing every copy on each
    warm build into an emptied output cost more than linking them; a copy
    changed since (through the output's link too) is read and checked."""
    try:
        found = copy.stat()
    except OSError:
        return False
    return unchanged(found, stamp[1], stamp[3], saved)


#: An output feed that is not its copy's file (another file system, no
#: links, the site's feed): its inode, size and modification time (ns).
OutputStamp = tuple[int, int, int]


def _stamp_of(found: os.stat_result) -> OutputStamp:
    return (found.st_ino, found.st_size, found.st_mtime_ns)


class FeedStamps:
    """The feeds written last time, with the digest of their inputs, kept
    in the cache folder.

    A warm build renders only the feeds whose inputs changed (rendering all
    of them costs about a second on a site of 500 posts), and copies the
    others from a copy of each in the cache (``<stamps file>.d/``) when the
    output folder was emptied.  Only the digests are read at start: the
    copies are read one by one, when needed, so a site's feeds are never
    all in memory.

    An output feed is trusted unread while it is its copy's own file (a
    hard link) with the size and time recorded for the copy, or, when it
    cannot be a link, while it has the inode, size and time recorded when
    it was written or checked (git's rule for both: :func:`atomic.unchanged`).
    An edit in place, even at the same size, changes the time.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.folder = path.with_name(path.name + ".d") if path is not None else None
        #: Feed path -> (digest of its inputs, its size in bytes, SHA-256 of
        #: its text, its copy's modification time in ns).
        self.old: dict[str, tuple[str, int, str, int]] = {}
        self.new: dict[str, tuple[str, int, str, int]] = {}
        #: Feed path -> the output file's stamp, when it is not the copy's file.
        self.old_outputs: dict[str, OutputStamp] = {}
        self.outputs: dict[str, OutputStamp] = {}
        #: When the stamps were saved (ns): files written since are checked.
        self.saved = 0
        #: A file was read and checked this build: saved again, so that one
        #: written in the tick of the last save is vouched for by a later one.
        self.checked = False
        if path is not None:
            try:
                with path.open("rb") as handle:
                    self.saved = os.fstat(handle.fileno()).st_mtime_ns
                    data = pickle.load(handle)
                if isinstance(data, dict) and data.get("version") == (_STAMPS, __version__):
                    self.old = data["feeds"]
                    self.old_outputs = dict(data.get("outputs") or {})
            except Exception:  # no cache, or an unreadable one: render afresh
                self.old, self.old_outputs = {}, {}

    def _copy(self, path: str) -> Path | None:
        return self.folder / f"{digest(path)[:32]}.xml" if self.folder is not None else None

    def _trusted(self, path: str, found: os.stat_result, old: tuple[str, int, str, int]) -> bool:
        """Is the existing output ``found`` (its stat) the feed, unread?"""
        copy = self._copy(path)
        try:
            kept = copy.stat() if copy is not None else None
        except OSError:
            kept = None
        if kept is not None and _same(found, kept):
            return unchanged(found, old[1], old[3], self.saved)
        record = self.old_outputs.get(path)
        if record is None or record[0] != found.st_ino:
            return False
        if not unchanged(found, record[1], record[2], self.saved):
            return False
        self.outputs[path] = record
        return True

    def reuse(self, output: Path, path: str, digest: str) -> bool:
        """True when the feed at ``path`` is current: trusted as it is (see
        the class), or put back from its copy once checked by its SHA-256.
        False: render it."""
        old = self.old.get(path)
        copy = self._copy(path)
        if old is None or old[0] != digest or copy is None:
            return False
        target = output / path
        try:
            found: os.stat_result | None = target.stat()
        except OSError:
            found = None
        if found is not None and self._trusted(path, found, old):
            self.new[path] = old
            return True
        if found is None and _as_kept(copy, old, self.saved) and try_link(target, copy):
            self.new[path] = old
            return True
        # Missing, not whole (a build killed while writing it), edited in
        # place (through the link the copy too) or another file: the copy is
        # read and checked, its time taken from the same open file.
        try:
            data, kept = read_whole(copy)
        except OSError:
            return False
        if hashlib.sha256(data).hexdigest() != old[2]:
            return False  # a damaged copy is never trusted: render again
        old = (*old[:3], kept.st_mtime_ns)
        self.checked = True
        if found is None:
            _restore(target, copy, data)
        elif not _same(found, kept):
            _put_back(target, copy, data)
        self.new[path] = old
        self.note_output(path, target)
        return True

    def note_output(self, path: str, target: Path) -> None:
        """Record the output feed at ``target`` as written or checked now,
        unless it is its copy's file (whose own stamp vouches for it)."""
        copy = self._copy(path)
        try:
            found = target.stat()
            if copy is not None and _same(found, copy.stat()):
                return
        except OSError:
            return
        self.outputs[path] = _stamp_of(found)

    def keep(self, path: str, digest: str, text: str) -> Path | None:
        """Keep a copy of the feed at ``path``; the copy, or None when none
        could be written."""
        data = text.encode("utf-8")
        copy = self._copy(path)
        if copy is None:
            return None
        try:
            write_checked(copy, data)  # checked by its SHA-256 when read
            written = copy.stat().st_mtime_ns
        except OSError:
            return None
        self.new[path] = (digest, len(data), hashlib.sha256(data).hexdigest(), written)
        return copy

    def save(self) -> None:
        """Keep this build's stamps, and only the copies of feeds it wrote
        or put back; nothing when they did not change."""
        outputs = {p: stamp for p, stamp in self.outputs.items() if p in self.new}
        unchanged_all = self.new == self.old and outputs == self.old_outputs
        if self.path is None or (unchanged_all and not self.checked):
            return
        data = {"version": (_STAMPS, __version__), "feeds": self.new, "outputs": outputs}
        # A cache: when it cannot be written, the next build renders again.
        with contextlib.suppress(OSError):
            atomic_write(self.path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        if self.folder is not None:
            # Copies of feeds no longer written (removed posts) go.
            kept = {self._copy(p) for p in self.new}
            for copy in self.folder.glob("*.xml") if self.folder.is_dir() else ():
                if copy not in kept:
                    copy.unlink(missing_ok=True)
