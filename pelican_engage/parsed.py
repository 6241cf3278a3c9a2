"""What a parser could read, and what it could not (issue 12's error model).

Every parser of outside data returns the items it could read and the entries
it skipped, each with why (feedparser's "bozo" idea: flag, don't raise); one
malformed entry never costs its siblings.  A fetch passes the skipped ones
on in ``Result.skipped``, and the fetch engine tells them in one line per
source and post (:func:`skipped_line`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .model import Item


@dataclass(frozen=True)
class Skipped:
    """An entry of an answer or file that could not be read, and why.

    ``id`` names it as the network does (a status id, a URI, "entry 3");
    ``what`` is the noun for the log line ("reply", "comment", "mention").
    """

    id: str
    reason: str
    what: str = "entry"


@dataclass(frozen=True)
class Parsed:
    """What a parser could read, and what it left out (feedparser's bozo
    idea: flag, don't raise).  One malformed entry never costs its siblings."""

    items: tuple[Item, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    def __add__(self, other: Parsed) -> Parsed:
        return Parsed(self.items + other.items, self.skipped + other.skipped)


def entry_reason(exc: BaseException) -> str:
    """A short reason for a skipped entry from what parsing it raised:
    ``KeyError('created_at')`` -> "no created_at"."""
    if isinstance(exc, KeyError) and exc.args:
        return f"no {exc.args[0]}"
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _plural(what: str, count: int) -> str:
    if count == 1:
        return what
    return what[:-1] + "ies" if what.endswith("y") else what + "s"


def skipped_line(source: str, post: str, skipped: Iterable[Skipped]) -> str:
    """The one line a source logs per post about the entries it skipped:
    "mastodon: 1 reply skipped (no created_at) on post X"; "" for none."""
    counts: dict[str, int] = {}
    reasons: dict[str, None] = {}
    for entry in skipped:
        counts[entry.what] = counts.get(entry.what, 0) + 1
        reasons.setdefault(entry.reason)
    if not counts:
        return ""
    what = ", ".join(f"{n} {_plural(w, n)}" for w, n in counts.items())
    why = "; ".join(list(reasons)[:3]) + ("; ..." if len(reasons) > 3 else "")
    return f"{source}: {what} skipped ({why}) on post {post}"
