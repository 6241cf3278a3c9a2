"""Lemmy's API v3 answers read into items: pure functions, no I/O.

Shapes (lemmy-js-client's types):

- ``GET /api/v3/search?type_=Url`` -> ``{"type_": "Url", "posts": [PostView...],
  "comments": [], "communities": [], "users": []}``;
- ``GET /api/v3/comment/list?post_id=N`` -> ``{"comments": [CommentView...]}``;
- PostView ``{"post": {"id", "name", "url", "ap_id", "published", "deleted",
  "removed", ...}, "creator": Person, "community": {"name", "title", "actor_id"},
  "counts": {...}}``;
- CommentView ``{"comment": {"id", "content" (Markdown), "path", "ap_id",
  "published", "deleted", "removed", ...}, "creator": Person, "post": ..., ...}``;
- Person ``{"id", "name", "display_name"?, "avatar"?, "actor_id", "deleted", ...}``.

``path`` threads comments: ``"0.<ancestor id>...<own id>"``.  Times are
RFC 3339 (UTC; Lemmy 0.18 leaves the zone out).  Comment ids are the
instance's own: ``lemmy:<host>/<comment id>``; the same comment federated
elsewhere has another id there and the same ``ap_id``, which dedup reads.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..deepjson import json_object
from ..model import Item, Person, parse_timestamp
from ..parsed import Skipped, entry_reason
from ..sanitize import clean_html, clean_text, safe_url
from .discussion import flagged, submission, untangle

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

SOURCE = "lemmy"


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Imported here: every build imports the registry, few fetch Lemmy.
    from markdown_it import MarkdownIt

    # Lemmy's own web UI renders comments with markdown-it, raw HTML off.
    # Strikethrough is kept; tables are not (the comment policy allows no
    # table tags, and cells run together without them, so the pipes stay).
    return MarkdownIt("commonmark", {"html": False}).enable("strikethrough")


def markdown_html(text: str) -> str:
    """A comment's Markdown as sanitised HTML (links, lists, quotes, code)."""
    return clean_html(_markdown().render(text)) if text.strip() else ""


def person(data: Any) -> Person:
    """A Lemmy account: ``name@<its home host>`` as handle, its actor URL."""
    data = json_object(data)
    name = clean_text(str(data.get("name") or ""))
    actor = safe_url(str(data.get("actor_id") or ""))
    if data.get("deleted") or not name:
        return Person(name="[deleted]")
    home = urlsplit(actor).netloc if actor else ""
    shown = clean_text(str(data.get("display_name") or "")) or name
    return Person(
        name=shown,
        handle=f"{name}@{home}" if home else name,
        url=actor,
        avatar=safe_url(str(data.get("avatar") or "")),
    )


def _when(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"published {value!r} is not a time")
    return parse_timestamp(value)


def ap_key(ap_id: str) -> str:
    """The dedup key of a federated object: its ActivityPub id, normalised."""
    parts = urlsplit(ap_id.strip())
    return f"lemmy-ap:{parts.netloc.casefold()}{parts.path.rstrip('/')}"


def posts(answer: Any) -> list[Mapping[str, Any]]:
    """The PostViews of a search answer; ValueError when it has no list."""
    found = json_object(answer).get("posts")
    if not isinstance(found, list):
        raise ValueError("answer has no 'posts' list")
    return [json_object(p) for p in found]


def comments(answer: Any) -> list[Mapping[str, Any]]:
    """The CommentViews of a ``comment/list`` answer; ValueError without a list."""
    found = json_object(answer).get("comments")
    if not isinstance(found, list):
        raise ValueError("answer has no 'comments' list")
    return [json_object(c) for c in found]


def post_gone(view: Mapping[str, Any]) -> bool:
    """The post is deleted or removed; ValueError when a flag is no boolean."""
    return flagged(json_object(view.get("post")), "deleted", "removed")


def parse_post(view: Mapping[str, Any], host: str, base: str) -> Item:
    """A PostView as the submission ``lemmy:<host>/post/<id>``; KeyError or
    ValueError when it lacks an id or a time.  ``base`` is the instance's
    URL (``https://lemmy.world``): the page readers reply on."""
    post = json_object(view.get("post"))
    post_id = post["id"]
    if not isinstance(post_id, int) or isinstance(post_id, bool):
        raise ValueError(f"post id {post_id!r} is not a number")
    community = json_object(view.get("community"))
    url = f"{base}/post/{post_id}"
    return submission(
        SOURCE,
        f"{host}/post/{post_id}",
        # A title is text ("<div> soup" is words, kept and escaped once by
        # submission()); Lemmy 0.18 stored it HTML-escaped ("&amp;",
        # LemmyNet/lemmy#3754, fixed in 0.19), hence the unescape.
        title=html.unescape(str(post.get("name") or "")),
        url=url,
        author=person(view.get("creator")),
        published=_when(post.get("published")),
        reply_url=url,
        extras={
            "ap_id": safe_url(str(post.get("ap_id") or "")),
            "community": clean_text(str(community.get("title") or community.get("name") or "")),
        },
    )


def _path(comment: Mapping[str, Any]) -> list[int]:
    """``"0.12.34"`` -> [12, 34]; ValueError for anything else."""
    raw = str(comment.get("path") or "")
    parts = raw.split(".")
    if parts[0] != "0" or len(parts) < 2 or not all(p.isdigit() for p in parts[1:]):
        raise ValueError(f"path {raw!r} is not 0.<id>...")
    return [int(p) for p in parts[1:]]


def parse_comment(view: Mapping[str, Any], host: str, base: str, parent: str) -> Item:
    """One live CommentView replying to item id ``parent``."""
    comment = json_object(view.get("comment"))
    comment_id = comment["id"]
    if not isinstance(comment_id, int) or isinstance(comment_id, bool):
        raise ValueError(f"comment id {comment_id!r} is not a number")
    content = comment.get("content")
    if content is not None and not isinstance(content, str):
        raise ValueError(f"content is {type(content).__name__}, not Markdown")
    url = f"{base}/comment/{comment_id}"
    return Item(
        id=f"{SOURCE}:{host}/{comment_id}",
        source=SOURCE,
        kind="reply",
        author=person(view.get("creator")),
        published=_when(comment.get("published")),
        content_html=markdown_html(content or ""),
        url=url,
        in_reply_to=parent,
        reply_url=url,
        extras={"ap_id": safe_url(str(comment.get("ap_id") or ""))},
    )


def thread(
    views: Iterable[Mapping[str, Any]], host: str, base: str, post_id: int
) -> tuple[list[Item], list[Skipped], list[str]]:
    """Items of one post's comments, the ones skipped, and the ids of those
    Lemmy shows deleted or removed.

    Each comment replies to the last id of its ``path`` before its own; a
    deleted or removed one is left out and its replies hang under the
    nearest ancestor still shown (or the post).  An ancestor not in the
    answer is kept as the parent: the archive may hold it.
    """
    root = f"{SOURCE}:{host}/post/{post_id}"
    gone: set[int] = set()
    odd: dict[int, str] = {}  # flags that are no booleans: skipped, not gone
    views = [v for v in views if isinstance(v, Mapping)]
    for view in views:
        comment = json_object(view.get("comment"))
        cid = comment.get("id")
        if not isinstance(cid, int):
            continue
        try:
            if flagged(comment, "deleted", "removed"):
                gone.add(cid)
        except ValueError as exc:
            odd[cid] = str(exc)
    items: list[Item] = []
    skipped: list[Skipped] = []
    seen: set[int] = set()
    for number, view in enumerate(views):
        comment = json_object(view.get("comment"))
        cid = comment.get("id")
        if cid in gone or cid in seen:
            continue
        try:
            if cid in odd:
                raise ValueError(odd[cid])
            path = _path(comment)
            if path[-1] != cid:
                raise ValueError(f"path {comment.get('path')!r} does not end with its id")
            if cid in path[:-1]:
                raise ValueError(f"path {comment.get('path')!r} names the comment as its ancestor")
            ancestors = [a for a in path[:-1] if a not in gone and a not in odd]
            parent = f"{SOURCE}:{host}/{ancestors[-1]}" if ancestors else root
            item = parse_comment(view, host, base, parent)
        except (KeyError, TypeError, ValueError) as exc:
            skipped.append(Skipped(str(cid or f"comment {number}"), entry_reason(exc), "comment"))
            continue
        seen.add(cid)  # type: ignore[arg-type]
        items.append(item)
    return untangle(items, root), skipped, sorted(f"{SOURCE}:{host}/{c}" for c in gone)
