"""Files known whole by their size and modification time, as git knows its
working tree from its index.

The build cache's rendered threads carry their SHA-256 (``cache._sealed``);
checking it on every warm build cost more than anything else the plugin did
there.  A file's stamp, ``(size, mtime ns)``, is recorded when the file is
written, or when its SHA-256 was just checked; while the file still has that
stamp it is taken as it is.  As in git, a stamp recorded in the clock tick
the record itself was saved in proves nothing (a file changed in that tick
keeps its time), so such a file is checked again (:func:`atomic.unchanged`).
What a stamp cannot tell, git cannot either: an edit with the old time put
back by hand, bit rot, or a power cut on a file system that journals
metadata but not data (the README's "The archive and the cache").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from .atomic import unchanged

#: A file's stamp: its size (bytes) and modification time (ns).
Stamp = tuple[int, int]


class Stamps:
    """The stamps of a folder's files, as saved at ``saved_ns`` (the record's
    own modification time, ns; 0: nothing saved) and recorded since."""

    def __init__(self, saved: Mapping[str, Stamp] | None = None, saved_ns: int = 0) -> None:
        self._stamps: dict[str, Stamp] = dict(saved or {})
        self._saved_ns = saved_ns
        #: Recorded by this process, in order (a worker sends its share back;
        #: any: the record is to be saved again).
        self.recorded: list[tuple[str, int, int]] = []
        #: Names recorded in this build (their stamps are not "racy").
        self._fresh: set[str] = set()

    def record(self, name: str, found: os.stat_result) -> None:
        """The file ``name`` is whole as ``found``: it was just written, or
        its checksum just checked."""
        self.adopt([(name, found.st_size, found.st_mtime_ns)])

    def adopt(self, stamps: Iterable[tuple[str, int, int]]) -> None:
        """Take in what another process :meth:`record`-ed."""
        for name, size, mtime_ns in stamps:
            self.recorded.append((name, size, mtime_ns))
            self._stamps[name] = (size, mtime_ns)
            self._fresh.add(name)

    def names(self) -> tuple[str, ...]:
        """The files with a stamp, saved or recorded."""
        return tuple(self._stamps)

    def forget(self, name: str) -> None:
        self._stamps.pop(name, None)
        self._fresh.discard(name)

    def trusted(self, name: str, found: os.stat_result) -> bool:
        """Is the file ``name``, as ``found`` now, as it was recorded?"""
        stamp = self._stamps.get(name)
        if stamp is None:
            return False
        if name in self._fresh:
            return (found.st_size, found.st_mtime_ns) == stamp
        return unchanged(found, *stamp, self._saved_ns)

    def kept(self, wanted: Callable[[str], bool]) -> dict[str, Stamp]:
        """The stamps of the files ``wanted`` keeps (by name), to save.  A
        racy stamp not checked since is left out: saved again, in a later
        tick, it would pass for a sound one."""
        return {
            name: stamp
            for name, stamp in self._stamps.items()
            if wanted(name) and (name in self._fresh or stamp[1] < self._saved_ns)
        }
