"""Reddit's JSON answers read into items: pure functions, no I/O.

Shapes (Reddit's "thing" model, reddit-archive/reddit wiki "JSON"):

- a Listing ``{"kind": "Listing", "data": {"children": [thing...], "after": str|null}}``
  (``/api/info``, ``/search``);
- ``/comments/<id>``: ``[<Listing of the t3 link>, <Listing of t1 comments>]``,
  each comment's ``replies`` another Listing (or ``""``), and ``more``
  stubs ``{"kind": "more", "data": {"id", "parent_id", "count", "children": [ids]}}``
  for comments left out (``"id": "_"`` with no children: "continue this thread");
- ``/api/morechildren`` (``api_type=json``): ``{"json": {"errors": [], "data":
  {"things": [t1 or more...]}}}``, a flat list in which ``parent_id`` threads.

Asked with ``raw_json=1``, so ``body_html`` is HTML, not HTML-escaped HTML.
Times are ``created_utc``, Unix seconds (a float).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from ..deepjson import json_object
from ..model import Item, Person
from ..parsed import Skipped, entry_reason
from ..sanitize import clean_html, clean_text, safe_url, text_to_html
from .discussion import submission, untangle

SOURCE = "reddit"
WEB_URL = "https://www.reddit.com"
#: What Reddit puts in place of a comment its writer deleted or a moderator
#: removed (the author then reads "[deleted]" too).
GONE_BODIES = frozenset({"[deleted]", "[removed]"})
DELETED_AUTHOR = "[deleted]"


@dataclass(frozen=True)
class Comments:
    """What one ``/comments/<id>`` answer (and its morechildren) held.

    ``records`` are the raw t1 data in tree order; ``more`` the ids of
    comments left in ``more`` stubs; ``continued`` the comments whose
    replies sit behind a "continue this thread" stub; ``unreadable`` the
    entries that were neither a comment with data nor a stub."""

    records: tuple[Mapping[str, Any], ...] = ()
    more: tuple[str, ...] = ()
    continued: tuple[str, ...] = ()
    unreadable: int = 0


def _epoch(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"created_utc {value!r} is not a number")
    try:
        return datetime.fromtimestamp(float(value), timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"created_utc {value!r} is out of range") from None


def _page(permalink: Any) -> str:
    """``/r/sub/comments/...`` on Reddit's site; ValueError for anything
    else (``@evil.example/x`` would make the host ``evil.example``)."""
    path = str(permalink or "")
    if not path.startswith("/") or path.startswith("//") or "@" in path.split("?")[0]:
        raise ValueError(f"permalink {path[:80]!r} is not a path on Reddit")
    url = safe_url(WEB_URL + path)
    if not url:
        raise ValueError(f"permalink {path[:80]!r} is not a path on Reddit")
    return url


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _bare(fullname: Any) -> str:
    """``t1_abc`` -> ``abc``; ValueError for anything else."""
    text = str(fullname or "")
    prefix, _, rest = text.partition("_")
    if len(prefix) != 2 or prefix[0] != "t" or not rest.isalnum():
        raise ValueError(f"{text!r} is not a Reddit fullname")
    return rest


def person(name: Any) -> Person:
    """A Reddit account; a deleted one keeps no handle or link.  ValueError
    when the name is no string (a list, a number)."""
    if name is not None and not isinstance(name, str):
        raise ValueError(f"author {name!r} is not a name"[:80])
    name = clean_text(name or "")
    if not name or name == DELETED_AUTHOR:
        return Person(name=DELETED_AUTHOR)
    return Person(name=name, handle=name, url=f"{WEB_URL}/user/{quote(name, safe='')}")


def links(answer: Any) -> tuple[list[Mapping[str, Any]], str]:
    """The t3 links of a Listing and its ``after`` cursor ("" at the end);
    ValueError when the answer is no Listing."""
    data = json_object(answer).get("data")
    children = json_object(data).get("children")
    if json_object(answer).get("kind") != "Listing" or not isinstance(children, list):
        raise ValueError("answer is not a Reddit Listing")
    found = [
        json_object(c.get("data"))
        for c in children
        if isinstance(c, Mapping) and c.get("kind") == "t3"
    ]
    after = json_object(data).get("after")
    return [f for f in found if f], after if isinstance(after, str) else ""


def parse_link(data: Mapping[str, Any]) -> Item:
    """A t3 link as the submission item ``reddit:<id>``; ValueError/KeyError
    when it lacks an id, a permalink or a time."""
    link_id = str(data["id"])
    if not link_id.isalnum():
        raise ValueError(f"link id {link_id!r}")
    url = _page(data["permalink"])
    return submission(
        SOURCE,
        link_id,
        # Plain text with raw_json=1 ("<div> soup" is a title, not markup):
        # submission() escapes it, once.
        title=str(data.get("title") or ""),
        url=url,
        author=person(data.get("author")),
        published=_epoch(data.get("created_utc")),
        reply_url=url,
        extras={
            "subreddit": clean_text(str(data.get("subreddit_name_prefixed") or "")),
            "score": _count(data.get("score")),
            "comments": _count(data.get("num_comments")),
        },
    )


def comment_tree(answer: Any) -> tuple[Mapping[str, Any], Comments]:
    """The link's data and the comments of a ``/comments/<id>`` answer;
    ValueError when it is not that pair of Listings.  Walked with a stack,
    so a thread of any depth is read."""
    if not isinstance(answer, list) or len(answer) != 2:
        raise ValueError("answer is not [link Listing, comment Listing]")
    found, _after = links(answer[0])
    if not found:
        raise ValueError("answer holds no link")
    top = json_object(json_object(answer[1]).get("data")).get("children")
    if not isinstance(top, list):
        raise ValueError("answer has no comment Listing")
    return found[0], things(top)


def things(children: Iterable[Any]) -> Comments:
    """t1 data and ``more`` stubs from a list of things, descending into
    each comment's ``replies`` (depth first, in the answer's order)."""
    records: list[Mapping[str, Any]] = []
    more: list[str] = []
    continued: list[str] = []
    unreadable = 0
    stack = list(reversed(list(children)))
    while stack:
        thing = json_object(stack.pop())
        data = json_object(thing.get("data"))
        if thing.get("kind") == "more":
            ids = data.get("children")
            ids = [str(i) for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
            if ids:
                more += ids
            elif data.get("parent_id"):
                continued.append(str(data["parent_id"]))
            continue
        if thing.get("kind") != "t1" or not data:
            unreadable += 1  # told in the post's line of skipped entries
            continue
        records.append(data)
        replies = json_object(json_object(data.get("replies")).get("data")).get("children")
        if isinstance(replies, list):
            stack.extend(reversed(replies))
    return Comments(tuple(records), tuple(more), tuple(continued), unreadable)


def morechildren(answer: Any) -> Comments:
    """The things of an ``/api/morechildren`` answer; ValueError when it is
    not one or names errors."""
    body = json_object(json_object(answer).get("json"))
    errors = body.get("errors")
    if errors:
        raise ValueError(f"morechildren refused: {errors!r}"[:200])
    listed = json_object(body.get("data")).get("things")
    if not isinstance(listed, list):
        raise ValueError("morechildren answer has no json.data.things list")
    return things(listed)


def is_gone(data: Mapping[str, Any]) -> bool:
    """A comment its writer deleted or a moderator removed: Reddit keeps its
    place in the tree (for its replies) but not its words."""
    body = str(data.get("body") or "").strip()
    return body in GONE_BODIES or bool(data.get("removed") or data.get("deleted"))


def parse_comment(data: Mapping[str, Any], parent: str) -> Item:
    """One live t1 comment replying to item id ``parent``; KeyError or
    ValueError when it lacks an id, a time or a permalink."""
    comment_id = str(data["id"])
    if not comment_id.isalnum():
        raise ValueError(f"comment id {comment_id!r}")
    html = clean_html(str(data.get("body_html") or ""))
    if not html and data.get("body"):
        html = text_to_html(str(data["body"]))
    url = _page(data["permalink"])
    return Item(
        id=f"{SOURCE}:{comment_id}",
        source=SOURCE,
        kind="reply",
        author=person(data.get("author")),
        published=_epoch(data.get("created_utc")),
        content_html=html,
        url=url,
        in_reply_to=parent,
        reply_url=url,
    )


def thread(
    link_id: str, records: Iterable[Mapping[str, Any]]
) -> tuple[list[Item], list[Skipped], list[str]]:
    """Items of a submission's comments, the ones skipped, and the ids of
    comments Reddit shows as deleted or removed.

    A comment replying to a deleted one hangs under the nearest live
    ancestor (or the submission ``reddit:<link_id>``); one whose parent was
    not fetched keeps it (``reddit:<parent>``), as the archive may hold it.
    """
    records = [r for r in records if isinstance(r, Mapping)]
    root = f"{SOURCE}:{link_id}"
    parent_of: dict[str, str] = {}  # comment id -> parent fullname
    gone: set[str] = set()
    for data in records:
        cid = str(data.get("id") or "")
        try:
            parent_of[cid] = str(data.get("parent_id") or "")
        except (TypeError, ValueError):
            continue
        if is_gone(data):
            gone.add(cid)

    def shown_parent(fullname: str) -> str:
        seen: set[str] = set()
        while fullname.startswith("t1_"):
            bare = fullname[3:]
            if bare not in gone or bare in seen:
                return f"{SOURCE}:{bare}"
            seen.add(bare)
            fullname = parent_of.get(bare, "")
        return root

    items: list[Item] = []
    skipped: list[Skipped] = []
    done: set[str] = set()
    for number, data in enumerate(records):
        cid = str(data.get("id") or "")
        if cid in gone or cid in done:
            continue
        try:
            _bare(data.get("parent_id"))
            item = parse_comment(data, shown_parent(str(data["parent_id"])))
        except (KeyError, TypeError, ValueError) as exc:
            skipped.append(Skipped(cid or f"comment {number}", entry_reason(exc), "comment"))
            continue
        done.add(cid)
        items.append(item)
    return untangle(items, root), skipped, sorted(f"{SOURCE}:{c}" for c in gone if c)
