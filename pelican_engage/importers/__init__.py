"""Importers: comments brought home from exports and archives.

Each importer parses a whole file first into an :class:`Export` (pure, no
writes), so a malformed file imports nothing half-way; the CLI then maps the
exported posts to the site's articles and merges.  Merging the same items
twice changes nothing, which makes every import idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from ..model import Item


class ImportFormatError(ValueError):
    """The file cannot be imported; the message names it and the problem."""


@dataclass(frozen=True)
class ExportedPost:
    """One post of an export, with its comments, and what identifies it."""

    slug: str = ""
    url: str = ""
    title: str = ""
    items: tuple[Item, ...] = ()
    #: Other addresses of the same post: a WXR item's guid and ``?p=ID``.
    aliases: tuple[str, ...] = ()
    #: "page" for a WordPress page, "post" otherwise.
    kind: str = "post"


@dataclass(frozen=True)
class Export:
    posts: tuple[ExportedPost, ...] = ()
    #: Why entries were left out ("spam", "pending", "trash", "deleted"...).
    skipped: Mapping[str, int] = field(default_factory=dict)
    #: Orphans and malformed entries, one line each.
    problems: tuple[str, ...] = ()
    #: What was repaired or guessed while reading (bad characters removed,
    #: names or dates not found), one line each.
    notes: tuple[str, ...] = ()


# -- Matching exported posts to articles -------------------------------------------

#: ``/post.html``, ``/post/index.php``: the same post as ``/post/`` elsewhere.
_INDEX = re.compile(r"(?:^|/)index\.(?:html?|php)$")
_SUFFIX = re.compile(r"\.(?:html?|php)$")


def url_path(url: str) -> str:
    """A URL's path as the post it names: percent-decoded (WordPress writes
    non-Latin slugs as ``%ce%b5…``), case-folded, without a trailing
    ``index.html`` or an ``.html``/``.htm``/``.php`` suffix."""
    path = unquote(urlsplit(url.strip()).path).casefold().strip("/")
    path = _INDEX.sub("", path).strip("/")
    return _SUFFIX.sub("", path)


def _host(url: str) -> str:
    return urlsplit(url.strip()).netloc.casefold().removeprefix("www.")


def _post_id(url: str) -> str:
    """``p=12`` or ``page_id=12`` for WordPress's plain links ``/?p=12``."""
    query = parse_qs(urlsplit(url.strip()).query)
    for name in ("p", "page_id"):
        value = query.get(name, [""])[0]
        if value.isdigit():
            return f"{name}={int(value)}"
    return ""


def url_keys(url: str) -> tuple[str, ...]:
    """The ways a URL names a post, most precise first: host and path (and
    ``?p=ID``), then the path alone when it is not the site's root."""
    if not url.strip():
        return ()
    path, post_id = url_path(url), _post_id(url)
    keys = [f"{_host(url)}/{path}?{post_id}"]
    if path:
        keys.append(f"/{path}?{post_id}")
    return tuple(keys)


def slug_key(slug: str) -> str:
    return unquote(slug.strip()).casefold()


@dataclass(frozen=True)
class SiteArticle:
    """What identifies an article: its post key, slug, URL and old URLs."""

    key: str
    slug: str = ""
    url: str = ""
    old_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class SitePosts:
    """The site's articles, findable by URL, path, ``?p=ID``, slug or key."""

    by_url: Mapping[str, str]
    by_slug: Mapping[str, str]
    keys: frozenset[str] = frozenset()

    @classmethod
    def of(cls, articles: Iterable[SiteArticle]) -> SitePosts:
        by_url: dict[str, str] = {}
        by_slug: dict[str, str] = {}
        keys = set()
        for article in articles:
            keys.add(article.key)
            for url in (article.url, *article.old_urls):
                for key in url_keys(url):
                    by_url.setdefault(key, article.key)
            # engage_key names the thread a renamed post keeps: an old slug.
            for slug in (article.key, article.slug):
                if slug:
                    by_slug.setdefault(slug_key(slug), article.key)
        return cls(by_url, by_slug, frozenset(keys))

    def find(self, post: ExportedPost) -> str | None:
        """The post key an exported post belongs to: by URL (host, path and
        ``?p=ID``), then path alone, then slug (an article's slug or its
        ``engage_key``).  The path matters for people who kept their
        WordPress URLs (``/2013/06/my-post/``) on a new domain."""
        urls = [u for u in (post.url, *post.aliases) if u]
        for precise in (0, 1):
            for url in urls:
                keys = url_keys(url)
                if len(keys) > precise and keys[precise] in self.by_url:
                    return self.by_url[keys[precise]]
        last = url_path(post.url).rsplit("/", 1)[-1] if post.url else ""
        for slug in (post.slug, last):
            if slug and slug_key(slug) in self.by_slug:
                return self.by_slug[slug_key(slug)]
        return None


def matches(post: ExportedPost, old_url: str) -> bool:
    """Whether ``old_url`` (given with --map) names the exported post."""
    wanted = set(url_keys(old_url))
    if any(set(url_keys(url)) & wanted for url in (post.url, *post.aliases) if url):
        return True
    return bool(post.slug) and slug_key(post.slug) == slug_key(old_url)


def orphan_replies(items: Iterable[Item], where: str) -> list[str]:
    """A line for each reply whose parent is not in the export (deleted,
    spam or pending there); it is shown as a top-level comment."""
    ids = {item.id for item in items}
    return [
        f"{item.id} on {where}: replies to {item.in_reply_to}, which the export does not "
        "hold (deleted, spam or pending); shown as a top-level comment"
        for item in items
        if item.in_reply_to and item.in_reply_to not in ids
    ]
