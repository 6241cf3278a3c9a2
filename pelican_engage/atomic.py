"""The package's one atomic file writer.

Archive files, the author page and its feed, the comment-feed stamps, the
host backoff file and the render cache are all written by it: a temporary
file beside the target, fsync, ``os.replace``, then fsync of the folder, so
a crash or a power cut leaves the old file or the new one, never half of
either.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: What an ordinary ``open()`` would give a new file under this umask.
FILE_MODE = _default_mode()


def _mode_for(path: Path, mode: int | None) -> int:
    """The mode of the file ``path`` replaces, else ``mode``, else the umask's."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError as exc:
        # What Path.exists() takes for "no file" (a dangling or looping link too).
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            raise
    return FILE_MODE if mode is None else mode


def atomic_write(
    path: Path,
    data: str | bytes | Iterable[str],
    mode: int | None = None,
    sync: bool = True,
    *,
    exclusive: bool = False,
) -> None:
    """Replace ``path`` by ``data`` (text is written as UTF-8), all or nothing.

    ``data`` may also be chunks of text, written as they come (a page of
    tens of thousands of rows is never whole in memory).

    ``exclusive``: create ``path``, never replace it: FileExistsError when it
    exists (a hard link takes the new name, which fails rather than clobbers).

    The temporary file is ``.<name>.<random>.tmp`` in the same folder; it
    is removed when the write fails, and one left by a killed process is
    for the caller's clean-up (archive, cache) to find.  The file keeps
    the mode of the one it replaces, else ``mode``, else the umask's.
    Raises OSError (the old file is then unchanged).  ``sync=False`` skips
    both fsyncs: only for files checked when read (a checksum, a size)
    or rebuilt by every build, where a torn file after a power cut is
    noticed and written again.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except (
        FileNotFoundError
    ):  # the folder is made only when missing (a cold build writes thousands)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private; what we write is ordinary data.
        os.fchmod(fd, _mode_for(path, mode))
        with os.fdopen(fd, "wb") as handle:
            if isinstance(payload, bytes):
                handle.write(payload)
            else:
                for chunk in payload:
                    handle.write(chunk.encode("utf-8"))
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        if exclusive:
            os.link(tmp, path)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # The rename itself must survive a power cut too.
    if sync and hasattr(os, "O_DIRECTORY"):
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def create_file(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data``, without a temporary file and rename.

    Only for output a build writes again every time and checks by its size
    (the comment feeds put back into an emptied output folder): a write cut
    short is noticed and redone by the next build, as Pelican's own pages
    are.  Exclusive, so nothing already there (a file, a link) is written
    through: FileExistsError then.  Makes the folder when missing.
    """
    try:
        handle = open(path, "xb")  # noqa: SIM115 - opened in two ways
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "xb")  # noqa: SIM115
    with handle:
        handle.write(data)


def link_or_create(path: Path, source: Path, data: bytes) -> None:
    """Create ``path`` as a hard link to ``source`` (whose bytes are
    ``data``, checked by the caller), else as a new file holding ``data``.

    For output put back from a checked copy in the cache (the comment
    feeds of a warm build into an emptied output): a link is one directory
    entry, no data written.  Whatever later replaces the output file
    (atomic_write renames) leaves the copy alone; a copy changed through
    the link has another modification time, fails its checksum next build
    and is rendered again.
    Exclusive as :func:`create_file`: FileExistsError when ``path`` exists.
    """
    if not try_link(path, source):
        create_file(path, data)


def try_link(path: Path, source: Path) -> bool:
    """Create ``path`` as a hard link to ``source``, making its folder when
    missing; False when it cannot be (``path`` exists, ``source`` is gone,
    another file system, links not allowed)."""
    try:
        os.link(source, path)
        return True
    except FileNotFoundError:
        if path.parent.is_dir():
            return False  # the source is gone
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, path)
            return True
        except OSError:
            return False
    except OSError:
        return False


def write_checked(path: Path, data: bytes) -> None:
    """Write a file whose reader checks it (a checksum, a size): created in
    place when new, without a temporary file, a rename or an fsync (a cold
    build writes thousands); one already there is replaced atomically.  A
    torn file fails its reader's check and is written again."""
    try:
        create_file(path, data)
    except FileExistsError:
        atomic_write(path, data, sync=False)


_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
#: Linux: reading does not update the file's access time.  Under relatime
#: (the default) the first read after a write does, and a warm build's reads
#: are exactly that: one inode written back per cache file, about 10 us each
#: (more on a busy disk).  Allowed only on one's own files: ``EPERM`` turns it
#: off for the process.
_noatime = getattr(os, "O_NOATIME", 0)


def read_whole(path: str | Path) -> tuple[bytes, os.stat_result]:
    """A file's bytes and its stat, in four system calls (``open``,
    ``fstat``, ``read``, ``close``): a warm build reads thousands.
    Raises OSError."""
    global _noatime
    try:
        fd = os.open(path, _READ | _noatime)
    except PermissionError as exc:
        if not _noatime or exc.errno != errno.EPERM:
            raise
        _noatime = 0  # not our file (another user's cache, a shared folder)
        fd = os.open(path, _READ)
    try:
        found = os.fstat(fd)
        chunks = [os.read(fd, found.st_size + 1)]
        while chunks[-1] and sum(map(len, chunks)) < found.st_size:  # a short read
            chunks.append(os.read(fd, 1 << 20))
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks), found


def unchanged(found: os.stat_result, size: int, mtime_ns: int, saved_ns: int) -> bool:
    """Is a file as it was recorded, by its size and modification time (ns),
    which git also trusts for its index?  As git does, a file modified in
    the clock tick the record was saved in (``saved_ns``) is not trusted:
    an edit then would leave its time unchanged."""
    return mtime_ns < saved_ns and (found.st_size, found.st_mtime_ns) == (size, mtime_ns)
