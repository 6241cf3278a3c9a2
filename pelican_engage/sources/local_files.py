"""What the comment folder may hold, and reading it without being led astray.

Comment files can come from strangers (a pull request, an upload form that
commits files), so the folder is treated like any other way in: nothing
below ``PATH/<comments>`` is followed through a symbolic link (a link to
``/proc/self/environ`` would publish the build's tokens), a post key never
names a folder outside it, and a file name is shown as printable text
whatever bytes it holds.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable
from pathlib import Path, PureWindowsPath

from ..model import Problem

# C0 and C1 controls, and the bidi overrides that make a name read backwards.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def display_path(path: Path) -> str:
    """A path as the user would type it: relative when below the cwd."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def printable_name(name: str) -> str:
    """A file name as text that can be printed, logged and written as UTF-8.

    ``os.scandir`` hands over bytes that are not UTF-8 as lone surrogates
    (PEP 383); those become ``\\xNN`` escapes, as do control characters, so
    ``b"bad\\xff\\xfe.md"`` reads ``bad\\xff\\xfe.md``.  Ordinary names come
    back unchanged.
    """
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no file system gave
        raw = name.encode("utf-8", "surrogatepass")
    text = raw.decode("utf-8", "backslashreplace")
    return _UNPRINTABLE.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 256 else f"\\u{ord(m[0]):04x}", text
    )


def key_problem(key: str) -> str:
    """Why ``key`` (an ``engage_key``) cannot name a comment folder; "" if it can.

    A key is one folder name: no separator, no ``..``, not absolute, no
    control character.
    """
    if os.path.isabs(key) or PureWindowsPath(key).drive or PureWindowsPath(key).root:
        return "is an absolute path"
    if "/" in key or "\\" in key:
        return "holds a path separator"
    if key in {".", ".."}:
        return f"is {key!r}"
    if _UNPRINTABLE.search(key):
        return "holds a control character"
    return ""


def is_link(path: str | Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def find_folder(root: Path, name: str) -> tuple[Path | None, Path | None]:
    """``root/name`` when it is a real folder inside ``root``.

    ``name`` may have several parts ("2019/hello", as a slug can); no part
    may be ``..`` or a symbolic link.  Returns (folder, None) when found,
    (None, None) when there is none, and (None, link) when the way to it
    is a symbolic link, which is not followed.
    """
    parts = name.replace("\\", "/").split("/")
    if os.path.isabs(name) or any(p in {"", ".", ".."} for p in parts):
        return None, None
    folder = root
    for part in parts:
        folder = folder / part
        try:
            mode = os.lstat(folder).st_mode
        except OSError:
            return None, None
        if stat.S_ISLNK(mode):
            return None, folder
        if not stat.S_ISDIR(mode):
            return None, None
    return folder, None


def find_post_folder(root: Path, names: Iterable[str]) -> tuple[Path | None, tuple[Problem, ...]]:
    """The first of ``root/<name>`` that is a real folder, or the problems of
    the linked ones (a linked ``root`` refuses them all)."""
    try:
        mode = os.lstat(root).st_mode
    except OSError:  # no comment folders at all (a site without local comments)
        return None, ()
    if stat.S_ISLNK(mode):
        why = "is a symbolic link; comment files are only read from a real folder inside PATH"
        return None, (Problem(printable_name(display_path(root)), f"{why}, so none was read"),)
    refused = []
    for name in dict.fromkeys(names):
        folder, link = find_folder(root, name)
        if folder is not None:
            return folder, ()
        if link is not None:
            refused.append(
                Problem(
                    printable_name(display_path(link)),
                    "is a symbolic link; comment folders are never followed "
                    "through links, so nothing in it was read",
                )
            )
    return None, tuple(refused)


def list_folder(
    folder: Path, wanted: Callable[[str], bool]
) -> tuple[tuple[tuple[str, int, int], ...], tuple[Problem, ...]]:
    """(name, mtime_ns, size) of the regular files whose name is ``wanted``,
    and a problem for each wanted name that is a link, pipe or device."""
    files = []
    odd = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not wanted(entry.name):
                continue
            # One lstat gives the type, time and size (a link is not followed).
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode):
                files.append((entry.name, info.st_mtime_ns, info.st_size))
            elif not stat.S_ISDIR(info.st_mode):
                kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
                odd.append(
                    Problem(
                        os.path.join(display_path(folder), printable_name(entry.name)),
                        f"is {kind}; not read (comment files must be regular files)",
                    )
                )
    return tuple(sorted(files)), tuple(sorted(odd, key=str))


class NotRegular(Exception):
    """A comment file that is not an ordinary file (a link, a pipe, a device...)."""


def read_regular(path: str | Path, max_bytes: int) -> tuple[bytes, float]:
    """The bytes and modification time of the regular file at ``path``.

    The name is opened without following a symbolic link (``O_NOFOLLOW``),
    and without blocking (a pipe named ``c1.md`` would stall the build), and
    the open file itself is checked, so a link swapped in after the folder
    was listed is refused too.  Raises :class:`NotRegular`, ``ValueError``
    when the file is larger than ``max_bytes``, or ``OSError``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if is_link(path):  # ELOOP (or EMLINK on some BSDs): a link at the name
            raise NotRegular("is a symbolic link") from exc
        raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular("is not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"is larger than {max_bytes // 1024} KiB")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew since fstat
        raise ValueError(f"is larger than {max_bytes // 1024} KiB")
    return data, info.st_mtime
