"""The package's one atomic file writer.

Archive files, the author page and its feed, the comment-feed stamps, the
host backoff file and the render cache are all written by it: a temporary
file beside the target, fsync, ``os.replace``, then fsync of the folder, so
a crash or a power cut leaves the old file or the new one, never half of
either.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: What an ordinary ``open()`` would give a new file under this umask.
FILE_MODE = _default_mode()


def atomic_write(
    path: Path,
    data: str | bytes,
    mode: int | None = None,
    sync: bool = True,
    *,
    exclusive: bool = False,
) -> None:
    """Replace ``path`` by ``data`` (text is written as UTF-8), all or nothing.

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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private; what we write is ordinary data.
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, FILE_MODE if mode is None else mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
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
