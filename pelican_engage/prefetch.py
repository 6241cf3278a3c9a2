"""A warm build's files asked of the disk while Pelican reads the articles.

A warm build reads every page's rendered thread from the build cache (tens
of kB each) and looks up every post's archive file.  When the kernel has
dropped them from its page cache (after a reboot, under memory pressure,
or by a proactive reclaimer such as DAMON on the project's machine), each
read waits on the disk: 115 µs a rendered file there, against 10 µs
cached.  Pelican first reads the articles on one core, for seconds; a
child forked then asks the kernel to read the rendered files in
(``posix_fadvise(WILLNEED)``, which starts the reads and returns) and
looks up the archive's files, on the core Pelican leaves idle.

Nothing the child does is trusted or waited for: pages still read (and
check, see :mod:`filestamps`) each file themselves.  The child is stopped
when the build ends.  Linux only, with a second worker allowed
(``ENGAGE_WORKERS``), and only when the index names as many rendered
files as :data:`workers.MIN_POSTS` (a small site's are read in less time
than a child takes to start).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import workers

if TYPE_CHECKING:
    from .engine import Engine

#: Opened without following a link, or blocking on a pipe with a file's name.
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def start(engine: Engine) -> Any:
    """The child reading ahead for ``engine``'s warm build (a
    ``multiprocessing`` process), or None when there is nothing to read
    ahead or no way to (see the module)."""
    names = engine.threads.stamps.names()
    # A small site's files are read in less time than a child takes to start.
    if (
        len(names) < workers.MIN_POSTS
        or not hasattr(os, "posix_fadvise")
        or workers.workers_for(engine.settings.workers) < 2
    ):
        return None
    posts = str(engine.archive.post_path("x").parent)
    args = (str(engine.threads.folder), names, posts)
    return workers.start(workers.fork_context(), _work, args)


#: Seconds a child asked to end may take before it is killed (one stuck on
#: a hung network disk would otherwise hold the end of the build).
STOP_SECONDS = 2.0


def stop(process: Any) -> None:
    """End the child (done long before, as a rule) and reap it."""
    if process is None:
        return
    process.join(0.0)
    if process.is_alive():
        process.terminate()
        process.join(STOP_SECONDS)
    if process.is_alive():
        process.kill()
        process.join()


def _work(folder: str, names: Sequence[str], posts: str) -> None:
    workers.start_worker()
    read_ahead(folder, names)
    look_up(posts)


def read_ahead(folder: str, names: Sequence[str]) -> int:
    """Ask the kernel to read the files ``names`` of ``folder`` into its
    cache; returns how many it was asked for (a missing file, a link or
    anything else that cannot be opened is passed over)."""
    asked = 0
    for name in names:
        try:
            fd = os.open(os.path.join(folder, name), _FLAGS)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
            asked += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return asked


def look_up(folder: str) -> int:
    """Look up (stat, without following links) each entry of ``folder``, so
    the kernel has their inodes at hand; returns how many it found."""
    found = 0
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                entry.stat(follow_symlinks=False)
                found += 1
    return found
