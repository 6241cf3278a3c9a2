"""pelican_comment_system's template API, served from our threads.

Themes written for pelican_comment_system (pcs) read ``article.comments``
(top-level comments, each with ``replies``), ``article.comments_count`` and,
per comment, ``author``, ``content``, ``date``, ``locale_date``,
``metadata``, ``slug``, ``avatar``, ``title`` and ``replyto``.  This module
gives every article those names, built lazily from ``article.engage`` (a
site whose theme never asks pays nothing), so such a theme keeps working
after the switch.

Differences that protect readers: every value a theme may print is already
safe HTML (pcs printed trusted files; ours include strangers' words from
social networks, and Pelican does not autoescape); ``metadata`` never holds
the e-mail address; ``avatar`` is a generated initials image in the output,
never a stranger's server.

When a page's template looks at ``article.comments``, the theme shows the
comments itself, so the automatic injection stands back for that article.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from .atomic import atomic_write
from .avatars import initials_svg
from .comment_feed import DEFAULT_POST_FEED
from .conversation import Engagement
from .model import ANSWERABLE_KINDS, Item

#: pcs's defaults, which themes read from the context.
IDENTICON_PATH = "images/identicon"
IDENTICON_SIZE = 72
_DEFAULT_SLUG_SUBS = (
    (r"[^\w\s-]", ""),
    (r"(?u)\A\s*", ""),
    (r"(?u)\s*\Z", ""),
    (r"[-\s]+", "-"),
)


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.\- ]+")


def _slugify(name: str, slug_subs: Any) -> str:
    """Pelican's slugify; plain ASCII names under the default substitutions
    take a shortcut (Pelican's costs 70 µs a name: 0.7 s on 10,000 comments)."""
    subs = tuple(tuple(pair) for pair in slug_subs) if slug_subs else _DEFAULT_SLUG_SUBS
    if subs == _DEFAULT_SLUG_SUBS and _PLAIN_NAME.fullmatch(name):
        return re.sub(r"[-\s]+", "-", name.replace(".", "").strip()).lower()
    return _slugify_slow(name, subs)


@functools.lru_cache(maxsize=4096)
def _slugify_slow(name: str, subs: tuple[tuple[str, str], ...]) -> str:
    from pelican.utils import slugify

    return slugify(name, regex_subs=subs)


def pcs_slug(item: Item, slug_subs: Any = _DEFAULT_SLUG_SUBS) -> str:
    """The slug pcs gave a comment: its file name, extension included,
    slugified ("c3.md" -> "c3md").  Items that never were files use their
    anchor's readable part ("mastodon-host-123")."""
    if item.source == "local":
        name = (item.origin or item.id).replace("\\", "/").rsplit("/", 1)[-1]
        return _slugify(name, slug_subs)
    from .model import anchor

    return anchor(item.id).removeprefix("engage-")


def alias_id(item: Item, slug_subs: Any = _DEFAULT_SLUG_SUBS) -> str:
    """``comment-<slug>``: pcs's default anchor (COMMENT_URL), kept on local
    comments so old links to ``#comment-c3md`` still land on them."""
    return f"comment-{pcs_slug(item, slug_subs)}" if item.source == "local" else ""


@dataclass
class Avatars:
    """The initials avatars handed out during one build, written at its end."""

    folder: str = IDENTICON_PATH
    size: int = IDENTICON_SIZE
    wanted: dict[str, str] = field(default_factory=dict)

    def path_for(self, name: str) -> str:
        """The avatar's path relative to SITEURL, as pcs gave ``avatar``."""
        digest = hashlib.md5(name.encode()).hexdigest()
        path = f"{self.folder.strip('/')}/{digest}.svg"
        if path not in self.wanted:
            self.wanted[path] = initials_svg(name, self.size)
        return path

    def write(self, output_path: Path) -> int:
        """Write the avatars not already there; how many were written."""
        written = 0
        for path, svg in self.wanted.items():
            target = output_path / path
            try:
                if target.read_text(encoding="utf-8") == svg:
                    continue
            except OSError:
                pass
            atomic_write(target, svg)
            written += 1
        return written


@dataclass(frozen=True)
class Author:
    """``comment.author``: prints as the (escaped) name, like Pelican's Author."""

    name: Markup
    url: Markup

    def __str__(self) -> str:
        return str(self.name)

    def __html__(self) -> str:
        return str(self.name)


@dataclass(frozen=True)
class PcsComment:
    """One comment as a pcs theme sees it; every printable value is safe HTML."""

    item: Item = field(repr=False)
    slug: str
    avatar: str
    date: datetime
    locale_date: str
    replies: tuple[PcsComment, ...] = ()
    replyto: str | None = None

    @property
    def id(self) -> str:
        return self.slug

    @property
    def author(self) -> Author:
        return Author(escape(self.item.author.name), escape(self.item.author.url))

    @property
    def content(self) -> Markup:
        return Markup(self.item.content_html)  # sanitised on the way in

    @property
    def title(self) -> Markup:
        return Markup("Posted by: ") + escape(self.item.author.name)

    @property
    def url(self) -> str:
        return f"#comment-{self.slug}"

    @property
    def source(self) -> str:
        return self.item.source

    @property
    def metadata(self) -> dict[str, Any]:
        """The comment file's fields a theme may print (never ``email``)."""
        data: dict[str, Any] = {"author": escape(self.item.author.name), "date": self.date}
        if self.item.author.url:
            data["website"] = escape(self.item.author.url)
        if self.replyto:
            data["replyto"] = self.replyto
        return data

    def __lt__(self, other: PcsComment) -> bool:
        return (self.date, self.item.id) < (other.date, other.item.id)

    def countReplies(self) -> int:  # pcs's name, used by themes
        total, stack = 0, list(self.replies)
        while stack:
            reply = stack.pop()
            total += 1
            stack += reply.replies
        return total


@dataclass
class Options:
    """What shapes the pcs view; one per build."""

    zone: tzinfo
    date_format: str
    slug_subs: Any
    avatars: Avatars


def _format(date: datetime, fmt: str) -> str:
    from pelican.utils import strftime

    return strftime(date, fmt)


def build(engagement: Engagement, options: Options) -> tuple[PcsComment, ...]:
    """Top-level comments with nested replies, oldest first, as pcs sorted them.

    Only comments, replies and quotes: likes, reposts and mentions never
    were comments.  A reply under a left-out item hangs from the nearest
    ancestor that is in.
    """
    thread = engagement.thread
    shown = {i.id: i for i in thread.items if i.kind in ANSWERABLE_KINDS}

    def shown_parent(item_id: str) -> str | None:
        parent = thread.parents.get(item_id)
        seen = set()
        while parent is not None and parent not in shown and parent not in seen:
            seen.add(parent)
            parent = thread.parents.get(parent)
        return parent if parent in shown else None

    children: dict[str | None, list[Item]] = {}
    for item in shown.values():
        children.setdefault(shown_parent(item.id), []).append(item)
    slugs = {i.id: pcs_slug(i, options.slug_subs) for i in shown.values()}

    def key(item: Item) -> tuple[datetime, str]:
        return (item.published, item.id)

    # Depth-first order without recursion (a reply chain may be thousands
    # deep), then each comment is made after its replies.
    order: list[tuple[Item, str | None]] = []
    stack: list[tuple[Item, str | None]] = [
        (r, None) for r in sorted(children.get(None, ()), key=key, reverse=True)
    ]
    while stack:
        item, parent = stack.pop()
        order.append((item, parent))
        stack += [(k, item.id) for k in sorted(children.get(item.id, ()), key=key, reverse=True)]
    made: dict[str, PcsComment] = {}
    for item, parent in reversed(order):
        date = item.published.astimezone(options.zone)
        made[item.id] = PcsComment(
            item=item,
            slug=slugs[item.id],
            avatar=options.avatars.path_for(item.author.name),
            date=date,
            locale_date=_format(date, options.date_format),
            replies=tuple(made[k.id] for k in sorted(children.get(item.id, ()), key=key)),
            replyto=slugs[parent] if parent else None,
        )
    return tuple(made[r.id] for r in sorted(children.get(None, ()), key=key))


class Comments:
    """``article.comments``: built on first use, and marks the article as
    showing its comments (the theme prints them, so nothing is injected)."""

    # One per article for the whole build: no instance dict for the collector.
    __slots__ = ("_article", "_built", "_engagement", "_options")

    def __init__(self, article: Any, engagement: Engagement, options: Options) -> None:
        self._article = article
        self._engagement = engagement
        self._options = options
        self._built: tuple[PcsComment, ...] | None = None

    def _comments(self) -> tuple[PcsComment, ...]:
        from .render import mark_rendered

        mark_rendered(self._article)
        if self._built is None:
            self._built = build(self._engagement, self._options)
        return self._built

    def __iter__(self) -> Iterator[PcsComment]:
        return iter(self._comments())

    def __len__(self) -> int:
        return len(self._comments())

    def __bool__(self) -> bool:
        return bool(self._comments())

    def __getitem__(self, index: int) -> PcsComment:
        return self._comments()[index]

    def __repr__(self) -> str:
        return f"<pcs comments of {self._engagement.thread.post.key}>"


def count(engagement: Engagement) -> int:
    """``article.comments_count``: comments and all their replies."""
    summary = getattr(engagement, "summary", None)
    if summary is not None:  # a cached thread: counted without reading it
        return int(summary.comments)
    return sum(1 for i in engagement.thread.items if i.kind in ANSWERABLE_KINDS)


def attach(article: Any, engagement: Engagement, options: Options) -> None:
    """Give ``article`` pcs's attributes, unless pcs itself is still enabled
    and set them."""
    if "comments" in vars(article):
        return
    article.comments = Comments(article, engagement, options)
    article.comments_count = count(engagement)


def template_defaults(settings: Mapping[str, Any]) -> dict[str, Any]:
    """pcs's settings that its templates print, for themes whose conf no
    longer sets them (``height="{{ PELICAN_COMMENT_SYSTEM_IDENTICON_SIZE }}"``):
    names for template_names.provide, which the settings' own values beat."""
    names: dict[str, Any] = {"PELICAN_COMMENT_SYSTEM_IDENTICON_SIZE": IDENTICON_SIZE}
    # Their feed links read PELICAN_COMMENT_SYSTEM_FEED|format(article.slug).
    ours = settings.get("ENGAGE_COMMENT_FEED", DEFAULT_POST_FEED)
    if isinstance(ours, str) and ours:
        names["PELICAN_COMMENT_SYSTEM_FEED"] = ours.replace("{slug}", "%s")
    return names


def _zone(name: str) -> tzinfo:
    from datetime import timezone
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return timezone.utc


def options(settings: Mapping[str, Any]) -> Options:
    size = settings.get("PELICAN_COMMENT_SYSTEM_IDENTICON_SIZE") or IDENTICON_SIZE
    folder = settings.get("PELICAN_COMMENT_SYSTEM_IDENTICON_OUTPUT_PATH") or IDENTICON_PATH
    return Options(
        zone=_zone(str(settings.get("TIMEZONE") or "UTC")),
        date_format=str(settings.get("DEFAULT_DATE_FORMAT") or "%a %d %B %Y"),
        slug_subs=settings.get("SLUG_REGEX_SUBSTITUTIONS") or _DEFAULT_SLUG_SUBS,
        avatars=Avatars(
            folder=str(folder), size=int(size) if isinstance(size, int) else IDENTICON_SIZE
        ),
    )
