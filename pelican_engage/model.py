"""The object model: people, items and threads, with a JSON form.

Everything here is a frozen dataclass, so a parsed item can be shared between
the archive, the conversation and the templates without anyone changing it
behind another's back.  ``content_html`` is always already sanitised: the
model is the boundary past which nothing is escaped again.  Who is who
across networks (handles, profile URLs, the author) is in
:mod:`pelican_engage.identity`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any

# Only for archive.py, which another helper is splitting meanwhile: once
# merged, its import moves to .identity and this line goes.  Every other
# module imports them from .identity.
from .identity import normal_handle, normal_url, profile_handle  # noqa: F401

KINDS = ("comment", "reply", "like", "repost", "mention", "quote")
#: Kinds that are part of the conversation; likes and reposts are only counted.
CONVERSATION_KINDS = frozenset({"comment", "reply", "quote", "mention"})
#: Kinds that can wait for the author's reply (docs/design.md, "Waiting for a reply").
ANSWERABLE_KINDS = frozenset({"comment", "reply", "quote"})


@dataclass(frozen=True)
class Person:
    """Who wrote an item.

    ``email`` is kept in memory (and in the rebuildable local cache) only to
    recognise the site's author; it is never written to the archive or the
    output.
    """

    name: str
    handle: str = ""
    url: str = ""
    avatar: str = ""
    email: str = field(default="", repr=False)

    def to_dict(self, *, private: bool = False) -> dict[str, str]:
        data = {
            "name": self.name,
            "handle": self.handle,
            "url": self.url,
            "avatar": self.avatar,
        }
        if private and self.email:
            data["email"] = self.email
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Person:
        return cls(
            name=str(data.get("name", "")),
            handle=str(data.get("handle", "")),
            url=str(data.get("url", "")),
            avatar=str(data.get("avatar", "")),
            email=str(data.get("email", "")),
        )


@dataclass(frozen=True)
class Item:
    """One contribution to a conversation.

    ``in_reply_to`` is the parent item's id, or ``None`` when the item
    answers the post itself.  ``extras`` holds source specific figures such
    as counts; it takes no part in hashing.
    """

    id: str
    source: str
    kind: str
    author: Person
    published: datetime
    content_html: str = ""
    url: str = ""
    in_reply_to: str | None = None
    #: Where the item came from on disk, for messages ("comments/x/c3.md").
    origin: str = field(default="", compare=False)
    #: Display-only figures (counts, content warnings, a DID): no decision
    #: depends on them.  What decides trust, waiting and dedup is typed below.
    extras: Mapping[str, Any] = field(default_factory=dict, hash=False)
    #: The source itself marks it as the site author's (WordPress
    #: ``bypostauthor``, an author e-mail at import time): trusted as such.
    by_author: bool = False
    #: Where a reader answers it on its network ("Reply on Mastodon").
    reply_url: str = ""
    #: A webmention's source page, and the copies it names (dedup keys).
    wm_source: str = ""
    syndication: tuple[str, ...] = ()
    #: The announcement it was fetched under (a status id, an at:// URI), so
    #: a deletion check asks only about the thread that was fetched whole.
    root: str = ""
    #: The post's author hid it on the network (never shown, never waiting).
    hidden: bool = False
    hidden_reason: str = ""
    #: Why the network says not to show it (a label, "unlisted"); "" shows it.
    withheld: str = ""
    #: The network's visibility when it is not plain public ("unlisted").
    visibility: str = ""
    #: "deleted" or "withheld" on the stand-ins the conversation shows.
    placeholder: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown item kind {self.kind!r} for {self.id}")
        if self.published.tzinfo is None:
            raise ValueError(f"item {self.id} has a naive publication date")
        if not self.in_reply_to:
            # "" and None both mean "answers the post"; keep one spelling.
            object.__setattr__(self, "in_reply_to", None)
        if not isinstance(self.syndication, tuple):
            object.__setattr__(self, "syndication", tuple(self.syndication))
        if self.extras and not TYPED_FIELDS.isdisjoint(self.extras):
            # Schema 1 kept these among the extras: lift them into their
            # fields, so old archives and old callers read the same.
            extras = dict(self.extras)
            for name in TYPED_FIELDS & extras.keys():
                value = extras.pop(name)
                if getattr(self, name) == _DEFAULTS[name]:
                    object.__setattr__(self, name, _typed(name, value))
            object.__setattr__(self, "extras", extras)

    def typed_dict(self) -> dict[str, Any]:
        """The typed fields that differ from their defaults, as JSON values."""
        data: dict[str, Any] = {}
        for name in sorted(TYPED_FIELDS):
            value = getattr(self, name)
            if value != _DEFAULTS[name]:
                data[name] = list(value) if isinstance(value, tuple) else value
        return data

    def to_dict(self, *, private: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "kind": self.kind,
            "author": self.author.to_dict(private=private),
            "published": self.published.isoformat(),
            "content_html": self.content_html,
            "url": self.url,
            "in_reply_to": self.in_reply_to,
        }
        if self.origin:
            data["origin"] = self.origin
        if self.extras:
            data["extras"] = dict(self.extras)
        data.update(self.typed_dict())
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Item:
        parent = data.get("in_reply_to")
        if parent is not None and not isinstance(parent, str):
            raise ValueError(f"in_reply_to of {data.get('id')!r} is not a string: {parent!r}")
        if not isinstance(data["id"], str):
            raise ValueError(f"item id {data['id']!r} is not a string")
        return cls(
            id=data["id"],
            source=str(data["source"]),
            kind=str(data["kind"]),
            author=Person.from_dict(data.get("author") or {}),
            published=parse_timestamp(str(data["published"])),
            content_html=str(data.get("content_html", "")),
            url=str(data.get("url", "")),
            in_reply_to=parent or None,
            origin=str(data.get("origin", "")),
            extras=dict(data.get("extras") or {}),
            # Only the typed fields present (most items have one or two).
            **{
                k: _typed(k, data[k])
                for k in TYPED_FIELDS.intersection(data)
                if data[k] is not None
            },
        )


#: Fields of Item that decide trust, waiting and dedup; in schema 1 they
#: were keys of ``extras`` (Item lifts them from there).
TYPED_FIELDS = frozenset(
    {
        "by_author",
        "reply_url",
        "wm_source",
        "syndication",
        "root",
        "hidden",
        "hidden_reason",
        "withheld",
        "visibility",
        "placeholder",
    }
)
_DEFAULTS: dict[str, Any] = {
    name: () if name == "syndication" else False if name in {"by_author", "hidden"} else ""
    for name in TYPED_FIELDS
}


def _typed(name: str, value: Any) -> Any:
    """``value`` (from JSON or old extras) as the type of field ``name``."""
    default = _DEFAULTS[name]
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, tuple):
        if isinstance(value, str):
            return (value,)
        return tuple(str(v) for v in value) if isinstance(value, (list, tuple)) else ()
    return "" if value is None or isinstance(value, bool) else str(value)


#: Why an item became a tombstone: the network confirmed it is gone, or the
#: blog's author erased it on request (``pelican-engage forget``).
TOMBSTONE_REASONS = ("deleted", "forgotten")


@dataclass(frozen=True)
class Tombstone:
    """What the archive keeps of an item that is gone: enough to keep it gone.

    No content and no author, by design.  ``in_reply_to`` (an item id, or
    ``None`` for the post) only places the "deleted" placeholder that the
    item's surviving replies hang under.  ``at`` is when it was confirmed gone.
    """

    id: str
    source: str
    at: datetime
    reason: str = "deleted"
    in_reply_to: str | None = None

    def __post_init__(self) -> None:
        if self.reason not in TOMBSTONE_REASONS:
            raise ValueError(f"unknown tombstone reason {self.reason!r} for {self.id}")
        if self.at.tzinfo is None:
            raise ValueError(f"tombstone {self.id} has a naive time")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "at": self.at.isoformat(),
            "reason": self.reason,
        }
        if self.in_reply_to:
            data["in_reply_to"] = self.in_reply_to
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tombstone:
        parent = data.get("in_reply_to")
        if not isinstance(data.get("id"), str) or (
            parent is not None and not isinstance(parent, str)
        ):
            raise ValueError(f"tombstone {data.get('id')!r} is malformed")
        return cls(
            id=data["id"],
            source=str(data.get("source") or data["id"].split(":", 1)[0]),
            at=parse_timestamp(str(data["at"])),
            reason=str(data.get("reason") or "deleted"),
            in_reply_to=parent or None,
        )


@dataclass(frozen=True)
class Problem:
    """Something wrong with the input that the user should hear about once."""

    origin: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}" if self.origin else self.message


@dataclass(frozen=True, slots=True)
class Post:
    """The article a conversation belongs to."""

    key: str
    title: str = ""
    url: str = ""
    #: (source, URL) of the social posts that announced the article, for
    #: "join the conversation" links; not part of the report's JSON.
    announcements: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "title": self.title, "url": self.url}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Post:
        return cls(
            key=str(data["key"]),
            title=str(data.get("title", "")),
            url=str(data.get("url", "")),
        )


@dataclass(frozen=True)
class Node:
    """A view of one item inside a thread, for templates.

    ``children`` are the replies shown nested; at the display depth limit
    they hold every deeper descendant, flattened in reading order.
    """

    item: Item
    parent: str | None
    depth: int
    by_author: bool
    waiting: bool
    children: tuple[Node, ...] = ()
    #: Shown flat past the display depth, so it names its parent's author.
    flat: bool = False
    reply_to_name: str = ""
    #: "deleted" or "withheld": a stand-in with no author and no content.
    placeholder: str = ""

    @property
    def id(self) -> str:
        return self.item.id


@dataclass(frozen=True)
class Thread:
    """One post's conversation, already resolved.

    ``parents`` maps every item id to its effective parent (``None`` for the
    post) after broken and cyclic references were turned into roots; the
    author marks and the waiting state are computed by
    :mod:`pelican_engage.conversation`, which also builds the nested view.
    """

    post: Post
    items: tuple[Item, ...]
    parents: Mapping[str, str | None] = field(default_factory=dict, hash=False)
    by_author: frozenset[str] = frozenset()
    waiting: frozenset[str] = frozenset()
    #: Items answered by an author item that named their writer elsewhere
    #: in the post (item id -> the answering item's id).
    mention_answers: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: Items the network says not to show (hidden by the post's author,
    #: labelled, not public): id -> why.  Never in ``items``, never waiting.
    hidden: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: Stand-ins for deleted or withheld items whose replies are still shown:
    #: no author, no content, ``placeholder`` says why.  Only the
    #: nested view shows them; ``parents`` places them.
    placeholders: tuple[Item, ...] = ()

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "post": self.post.to_dict(),
            "items": [item.to_dict() for item in self.items],
            "parents": dict(sorted(self.parents.items())),
            "by_author": sorted(self.by_author),
            "waiting": sorted(self.waiting),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Thread:
        return cls(
            post=Post.from_dict(data["post"]),
            items=tuple(Item.from_dict(d) for d in data.get("items", ())),
            parents=dict(data.get("parents") or {}),
            by_author=frozenset(data.get("by_author", ())),
            waiting=frozenset(data.get("waiting", ())),
        )


_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def anchor(item_id: str) -> str:
    """The HTML id of an item: readable and safe in a URL fragment.

    ":" and "/" become "-"; any other character that had to go adds a short
    digest, so "über" and "äber" never share an anchor.
    """
    readable = item_id.replace(":", "-").replace("/", "-")
    safe = _ANCHOR_UNSAFE.sub("-", readable)
    if safe != readable:
        safe += "-" + hashlib.sha256(item_id.encode()).hexdigest()[:8]
    return "engage-" + safe.strip("-")


#: Forms every supported Python's ``datetime.fromisoformat`` reads, as
#: dateutil does when it reads them: what the archive writes, and a local
#: comment's "2014-03-21 21:07" or "2014-03-21T21:07" (pelican_comment_system's
#: files).  What it refuses (hour 24) is read by dateutil.
_ISOFORMAT = re.compile(
    r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d{6})?)?(?:[+-]\d\d:\d\d)?)?"
)


def parse_timestamp(value: str, naive: tzinfo = timezone.utc) -> datetime:
    """An ISO 8601 / RFC 3339 timestamp as an aware datetime; a time with no
    zone is in ``naive`` (UTC unless a local file or export says otherwise).
    The package's one timestamp parser.

    Networks send forms that ``datetime.fromisoformat`` on Python 3.10
    refuses: a "Z" zone, a one-digit fraction ("02.1Z"), nanoseconds from Go
    clients ("00.123456789Z", cut to microseconds).  dateutil's ``isoparse``
    reads them all, on every Python.  ValueError when it is no timestamp.
    """
    value = value.strip()
    parsed = None
    if _ISOFORMAT.fullmatch(value):
        # What the archive wrote (isoformat()), or a comment file's date:
        # fast, and read alike everywhere.
        with contextlib.suppress(ValueError):  # hour 24: dateutil's next midnight
            parsed = datetime.fromisoformat(value)
    if parsed is None:
        # Anything else takes the same path on every Python, so that what
        # 3.10 would refuse is tested on 3.11 too.
        from dateutil.parser import isoparse  # a Pelican dependency already

        try:
            parsed = isoparse(value)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"{value!r} is not an ISO 8601 timestamp") from exc
    if parsed.tzinfo is None and naive is not timezone.utc:
        return parsed.replace(tzinfo=naive)
    offset = parsed.utcoffset()
    # The standard library's zone objects: they compare, pickle and print
    # like those of the rest of the archive.
    zone = timezone.utc if not offset else timezone(offset)
    return parsed.replace(tzinfo=zone)
