"""Notifications without a server: what is new since the last report or
build, and the body of the CI issue "N people are waiting for your reply".

The state is the set of item ids seen by the last ``report`` or build, in
``CACHE_PATH/engage/seen.json``: rebuildable (deleting it makes everything
new once), so it lives in the cache, not in the committed archive.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .archive import ArchiveError, atomic_write_json
from .atomic import atomic_write
from .identity import normal_url
from .model import Thread
from .report import Row, as_markdown

logger = logging.getLogger(__name__)

STATE_NAME = "seen.json"


def state_path(cache_path: Path) -> Path:
    return cache_path / STATE_NAME


def load_seen(cache_path: Path) -> frozenset[str] | None:
    """The ids seen last time; None when nothing was ever reported (or the
    state is unreadable: then everything is new, which is the safe side)."""
    try:
        data = json.loads(state_path(cache_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ids = data.get("seen") if isinstance(data, dict) else None
    if not isinstance(ids, list):
        return None
    return frozenset(i for i in ids if isinstance(i, str))


def new_ids(rows: Iterable[Row], seen: frozenset[str] | None) -> frozenset[str]:
    """The rows' ids not seen before (all of them the first time)."""
    return frozenset(row.item.id for row in rows if seen is None or row.item.id not in seen)


def remember(
    cache_path: Path,
    threads: Iterable[Thread],
    previous: frozenset[str] | None = None,
    unshown: Iterable[str] = (),
    present_ids: Iterable[str] = (),
) -> str:
    """Record the items of ``threads`` as seen, except ``unshown`` (waiting
    items a filter left out: still new next time), keeping what was seen
    ``previous``ly; ids of items that are gone are dropped (``present_ids``:
    more ids present, for a build that has them without the threads).  A
    problem, or ""."""
    present = {item.id for thread in threads for item in thread.items} | set(present_ids)
    seen = (present - set(unshown)) | (set(previous or ()) & present)
    if previous is not None and seen == previous:
        return ""  # as recorded: a warm build rewrites nothing
    try:
        atomic_write_json(state_path(cache_path), {"seen": sorted(seen)})
    except (ArchiveError, OSError) as exc:
        return f"cannot record what was reported ({exc})"
    return ""


def remember_build(
    cache_path: Path, counted: Iterable[Any], tokens: Mapping[str, str] | None = None
) -> None:
    """A build counts as a report for ``report --new``: the ids of its
    ``counted`` engagements (their summaries') are seen.

    ``tokens`` (post key -> the token of its cached thread, whose summary
    holds the ids) lets a build whose threads are those the last one
    recorded, with ``seen.json`` as that one left it, skip the file (1.8 MB
    at 50,000 items): nothing would change in it.
    """
    counted = list(counted)
    built = _built_digest(counted, tokens) if tokens is not None else ""
    stamp = _stamp(cache_path) if built else None
    if stamp is not None and _recorded(cache_path) == (built, stamp):
        return
    ids = [i for engagement in counted for i in engagement.summary.ids]
    problem = remember(cache_path, (), load_seen(cache_path), present_ids=ids)
    if problem:
        logger.info("engage: %s", problem)
    elif built and (stamp := _stamp(cache_path)) is not None:
        with contextlib.suppress(OSError):
            record = {"built": built, "seen": stamp}
            atomic_write(cache_path / BUILT_NAME, json.dumps(record), sync=False)


#: What the last build recorded as seen: the digest of its threads' tokens
#: and the stamp of ``seen.json`` it left.
BUILT_NAME = "seen.built"


def _built_digest(counted: list[Any], tokens: Mapping[str, str]) -> str:
    """A digest of the counted posts' thread tokens; "" when one has none
    (a thread that is not cached: its ids are known only from it)."""
    pairs = sorted((engagement.key, tokens.get(engagement.key, "")) for engagement in counted)
    if any(not token for _key, token in pairs):
        return ""
    return hashlib.sha256(repr(pairs).encode("utf-8")).hexdigest()


def _stamp(cache_path: Path) -> list[int] | None:
    """``seen.json``'s inode, size and modification time (ns): each write
    (a report, a build) replaces the file, so any of them changes."""
    try:
        found = os.stat(state_path(cache_path))
    except OSError:
        return None
    return [found.st_ino, found.st_size, found.st_mtime_ns]


def _recorded(cache_path: Path) -> tuple[str, list[int] | None] | None:
    try:
        data = json.loads((cache_path / BUILT_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("built"), str):
        return None
    return data["built"], data.get("seen")


def people_waiting(rows: Sequence[Row]) -> int:
    """How many different people the rows are from (by profile, handle or name)."""
    found = set()
    for row in rows:
        person = row.item.author
        found.add(
            normal_url(person.url)
            if person.url
            else f"{row.item.source}:{person.handle.casefold()}"
            if person.handle
            else person.name.strip().casefold()
        )
    return len(found)


def issue_title(rows: Sequence[Row]) -> str:
    n = people_waiting(rows)
    if n == 1:
        return "1 person is waiting for your reply"
    return f"{n} people are waiting for your reply"


def issue_body(rows: list[Row], total_items: int, hidden: int, new: frozenset[str]) -> str:
    """The issue's Markdown: what is new, then the whole report."""
    fresh = sum(1 for row in rows if row.item.id in new)
    head = f"**{issue_title(rows)}**"
    if fresh:
        head += f" ({fresh} new since the last run)"
    lines = [
        head,
        "",
        "Answer with `pelican-engage reply ITEM_ID` or `pelican-engage inbox`; "
        "`pelican-engage ack ITEM_ID` when no reply is needed.",
        "",
        as_markdown(rows, total_items, hidden),
    ]
    return "\n".join(lines)
