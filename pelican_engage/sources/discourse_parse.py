"""Discourse topics read into items: pure functions over the JSON a forum
answers at ``/t/<id>.json`` and ``/t/<id>/posts.json`` (sources/discourse.py
fetches them).

The topic is the submission (kind ``mention``, id
``discourse:<host>/t/<topic id>``, by the topic's creator); its first post
is the submission's text, shown under "Discussed on Discourse", not a
comment of its own: on a forum embedding a blog's comments the first post is
the "companion discussion topic" stub, and everywhere else it is what the
creator said when sharing the post.  Every other regular post is an item
of kind ``reply`` (id ``discourse:<host>/<post id>``) under the post it
answers (``reply_to_post_number``), or under the submission.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ..model import Item, Person, parse_timestamp
from ..parsed import Skipped, entry_reason
from ..sanitize import clean_html, clean_text, safe_url
from .discussion import submission

SOURCE = "discourse"
#: ``post_type`` of a regular post; 2 (moderator action), 3 (small action:
#: "closed", "split") and 4 (whisper, staff only) are not conversation.
REGULAR = 1
#: ``/t/<id>``, ``/t/<slug>/<id>``, either with ``/<post number>``; a forum
#: may live in a subfolder (``/forum/t/...``).
_TOPIC_PATH = re.compile(
    r"^(?P<prefix>(?:/[^/]+)*?)/t/(?:(?P<slug>[^/]+)/)?(?P<id>\d+)(?:/\d+)?/?$"
)
#: Root-relative and protocol-relative links of ``cooked`` HTML (mentions
#: are ``/u/name``, uploads ``/uploads/...``): made absolute before cleaning,
#: or they would point into the blog.
_RELATIVE = re.compile(r"""(\s(?:href|src)=)(["'])(/[^"']*)\2""", re.IGNORECASE)


@dataclass(frozen=True)
class Topic:
    """A topic URL, read: the forum's base URL (scheme, host and any
    subfolder, no final slash) and the topic id."""

    base: str
    id: int

    @property
    def host(self) -> str:
        return urlsplit(self.base).netloc.lower()

    @property
    def url(self) -> str:
        return f"{self.base}/t/{self.id}"


def parse_topic_url(value: str) -> Topic:
    """``https://forum.example/t/some-slug/123`` (or ``/t/123``, with a post
    number, under a subfolder) -> its :class:`Topic`; ValueError names the
    expected form."""
    parts = urlsplit(value.strip())
    found = _TOPIC_PATH.match(parts.path or "")
    if parts.scheme not in {"http", "https"} or not parts.netloc or not found:
        raise ValueError(
            f"{value!r} is not a Discourse topic URL (expected https://forum.example/t/slug/123)"
        )
    return Topic(f"{parts.scheme}://{parts.netloc}{found['prefix']}", int(found["id"]))


def absolute_links(cooked: str, base: str) -> str:
    """``cooked`` with root-relative ``href``/``src`` resolved against the
    forum's origin (their paths already hold any subfolder)."""
    parts = urlsplit(base)

    def fix(match: re.Match[str]) -> str:
        path = match[3]
        url = (
            f"{parts.scheme}:{path}"
            if path.startswith("//")
            else f"{parts.scheme}://{parts.netloc}{path}"
        )
        return f"{match[1]}{match[2]}{url}{match[2]}"

    return _RELATIVE.sub(fix, cooked)


def person(user: Mapping[str, Any], base: str) -> Person:
    """A post's or topic's user: display name (or username), the username as
    handle, the profile page and the avatar (its ``{size}`` set to 96)."""
    username = clean_text(str(user.get("username") or ""))
    name = clean_text(str(user.get("name") or "")) or username
    template = str(user.get("avatar_template") or "").replace("{size}", "96")
    parts = urlsplit(base)
    if template.startswith("//"):
        avatar = f"{parts.scheme}:{template}"
    elif template.startswith("/"):
        avatar = f"{parts.scheme}://{parts.netloc}{template}"
    else:
        avatar = template
    return Person(
        name=name or "Someone",
        handle=username,
        url=safe_url(f"{base}/u/{username}") if username else "",
        avatar=safe_url(avatar),
    )


def _shown(post: Mapping[str, Any]) -> bool:
    """A live, regular post the public may read."""
    return (
        post.get("post_type", REGULAR) == REGULAR
        and not post.get("deleted_at")
        and not post.get("user_deleted")
        and not post.get("hidden")
    )


def _removed(post: Mapping[str, Any]) -> bool:
    """Deleted (by staff, or withdrawn by its author) or hidden by flags."""
    return bool(post.get("deleted_at") or post.get("user_deleted") or post.get("hidden"))


def _number(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} {value!r} is not a number")
    return value


def post_id(topic: Topic, number: int) -> str:
    return f"{SOURCE}:{topic.host}/{number}"


def parse_submission(answer: Any, topic: Topic) -> tuple[Item, list[int], list[Any]]:
    """The ``/t/<id>.json`` answer -> the submission item, the topic's post
    ids in order (``post_stream.stream``) and the posts it already holds;
    ValueError when it is no topic."""
    if not isinstance(answer, Mapping):
        raise ValueError(f"{topic.url}.json: answer is not a Discourse topic")
    stream_node = answer.get("post_stream")
    if not isinstance(stream_node, Mapping) or not isinstance(stream_node.get("stream"), list):
        raise ValueError(f"{topic.url}.json: answer has no post_stream.stream")
    stream = [p for p in stream_node["stream"] if isinstance(p, int) and not isinstance(p, bool)]
    posts = stream_node.get("posts")
    posts = list(posts) if isinstance(posts, list) else []
    first = next((p for p in posts if isinstance(p, Mapping) and p.get("post_number") == 1), None)
    details = answer.get("details")
    creator = details.get("created_by") if isinstance(details, Mapping) else None
    user = first if first is not None else creator if isinstance(creator, Mapping) else {}
    slug = str(answer.get("slug") or "topic")
    url = f"{topic.base}/t/{slug}/{topic.id}"
    created = str(answer.get("created_at") or (first or {}).get("created_at") or "")
    item = submission(
        SOURCE,
        f"{topic.host}/t/{topic.id}",
        title=str(answer.get("title") or ""),
        url=url,
        author=person(user, topic.base),
        published=parse_timestamp(created),
        reply_url=url,
    )
    if first is not None and _shown(first) and first.get("cooked"):
        text = clean_html(absolute_links(str(first["cooked"]), topic.base))
        item = replace(item, content_html=f"{item.content_html}\n{text}".strip())
    return item, stream, posts


@dataclass(frozen=True)
class Posts:
    """What a topic's posts gave: items, the ids of archived-or-not posts the
    forum says are deleted or hidden, and the entries skipped."""

    items: tuple[Item, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()


def parse_posts(posts: Sequence[Any], topic: Topic, parent: Item) -> Posts:
    """The topic's posts (``post_stream.posts`` of every page, any order)
    under ``parent`` (the submission).

    Left out: the first post (the submission's text), non-regular posts,
    deleted and hidden ones (their ids in ``removed``).  A reply to a post
    left out hangs under that post's nearest shown ancestor, or the
    submission; a malformed post is skipped without its replies."""
    by_number: dict[int, tuple[int, int | None, bool]] = {}
    readable: list[Mapping[str, Any]] = []
    skipped: list[Skipped] = []
    for index, post in enumerate(posts):
        try:
            if not isinstance(post, Mapping):
                raise ValueError("not an object")
            pid = _number(post.get("id"), "id")
            number = _number(post.get("post_number"), "post_number")
            above = post.get("reply_to_post_number")
            above = above if isinstance(above, int) and not isinstance(above, bool) else None
        except ValueError as exc:
            name = post.get("id") if isinstance(post, Mapping) else None
            skipped.append(Skipped(str(name or f"post {index}"), entry_reason(exc), "post"))
            continue
        by_number[number] = (pid, above, number != 1 and _shown(post))
        readable.append(post)

    def ancestor(number: int | None) -> str:
        seen: set[int] = set()
        while number is not None and number in by_number and number not in seen:
            seen.add(number)
            pid, above, shown = by_number[number]
            if shown:
                return post_id(topic, pid)
            number = above
        return parent.id

    items: list[Item] = []
    removed: list[str] = []
    for post in readable:
        pid, above, shown = by_number[post["post_number"]]
        if _removed(post):
            removed.append(post_id(topic, pid))
        if not shown:
            continue
        try:
            items.append(_post(post, topic, pid, ancestor(above), parent))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped.append(Skipped(str(pid), entry_reason(exc), "post"))
    return Posts(tuple(items), tuple(removed), tuple(skipped))


def _post(post: Mapping[str, Any], topic: Topic, pid: int, above: str, parent: Item) -> Item:
    slug = str(post.get("topic_slug") or "topic")
    url = safe_url(f"{topic.base}/t/{slug}/{topic.id}/{post['post_number']}")
    return Item(
        id=post_id(topic, pid),
        source=SOURCE,
        kind="reply",
        author=person(post, topic.base),
        published=parse_timestamp(str(post["created_at"])),
        content_html=clean_html(absolute_links(str(post.get("cooked") or ""), topic.base)),
        url=url,
        in_reply_to=above,
        reply_url=url,
        root=parent.id,
    )
