"""Whether a build fails at its end: archive files its fetch could not write.

A full disk must not go unnoticed (field case F10), yet the build goes on:
the site is written from the archive as it is, the fetched items wait in
the cache, and only then does the build fail, so that Pelican exits with
status 1.  The failure is raised from a ``finalized`` receiver connected
after every other plugin's (theirs still run), by the outermost build only
(pelican-i18n-subsites builds its sites inside the main one), and never
under ``pelican --autoreload``: its loop would start the next build at once,
without waiting for a change, and fetch again; the ERROR line says it there.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

#: Archive files the builds in progress could not write: file -> the error.
_UNSAVED: dict[str, str] = {}


class ArchiveNotWritten(Exception):
    """The build's fetch could not write the archive (a full disk, no
    permission): raised by :func:`fail`, so that Pelican exits with status 1
    (``exitcode``), as ``pelican-engage fetch`` does."""

    exitcode = 1

    def __init__(self, unsaved: Mapping[str, str]) -> None:
        first, *more = unsaved.values()
        super().__init__(
            f"engage: the archive could not be written: {first}"
            + (f" (and {len(more)} more file(s))" if more else "")
            + "; the site was built from the archive as it was, and the next fetch "
            "asks again for what it could not keep"
        )
        self.unsaved = dict(unsaved)


def note(unsaved: Mapping[str, str]) -> None:
    """Remember a build's unwritten archive files until :func:`fail`."""
    _UNSAVED.update(unsaved)


def fail(outermost: bool) -> None:
    """Raise :class:`ArchiveNotWritten` for what was noted, when the build
    that ends is the ``outermost`` one in progress, unless autoreloading."""
    if not outermost or not _UNSAVED:
        return
    unsaved = dict(_UNSAVED)
    reset()
    if not _autoreloading():
        raise ArchiveNotWritten(unsaved)


def reset() -> None:
    _UNSAVED.clear()


def _autoreloading() -> bool:
    """Called from Pelican's ``--autoreload`` loop (``pelican.autoreload``)."""
    import pelican

    loop = getattr(getattr(pelican, "autoreload", None), "__code__", None)
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is loop:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False
