"""Peak memory of a process and all its descendants, sampled from /proc.

``wait4``'s ``ru_maxrss`` is the peak of the largest single process: with
pelican-engage's worker processes (workers.py) a build is several processes,
and their memory adds up.  :class:`TreeMemory` samples, every ``interval``
seconds, the summed PSS (proportional set size: a page shared by n processes
counts 1/n in each, so pages a forked worker shares with its parent are not
counted twice) of the process and its descendants, and keeps the peak.
Linux only (``/proc/<pid>/smaps_rollup``); elsewhere it reports NaN.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PROC = Path("/proc")


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_pss_mb(pid: int) -> float:
    """The summed PSS of ``pid`` and its descendants now, in MB."""
    total, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _pss_kb(current)
        todo += _children(current)
    return total / 1024


class TreeMemory:
    """Samples :func:`tree_pss_mb` of ``pid`` in a thread until :meth:`stop`."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0.0
        self.available = (PROC / "self" / "smaps_rollup").exists() and os.name == "posix"
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        if self.available:
            self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, tree_pss_mb(self.pid))
            self._done.wait(self.interval)

    def stop(self) -> float:
        """The peak in MB (NaN where /proc cannot tell)."""
        if not self.available:
            return float("nan")
        self._done.set()
        self._thread.join()
        return self.peak
