"""Importers: comments brought home from exports and archives.

Each importer parses a whole file first into an :class:`Export` (pure, no
writes), so a malformed file imports nothing half-way; the CLI then maps the
exported posts to the site's articles and merges.  Merging the same items
twice changes nothing, which makes every import idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..model import Item, normal_url


class ImportFormatError(ValueError):
    """The file cannot be imported; the message names it and the problem."""


@dataclass(frozen=True)
class ExportedPost:
    """One post of an export, with its comments, and what identifies it."""

    slug: str = ""
    url: str = ""
    title: str = ""
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Export:
    posts: tuple[ExportedPost, ...] = ()
    #: Why entries were left out ("spam", "pending", "trash", "deleted"...).
    skipped: Mapping[str, int] = field(default_factory=dict)
    #: Orphans and malformed entries, one line each.
    problems: tuple[str, ...] = ()


def _path(url: str) -> str:
    return urlsplit(url).path.strip("/").casefold()


@dataclass(frozen=True)
class SitePosts:
    """The site's articles, findable by slug, full URL or URL path."""

    by_slug: Mapping[str, str]
    by_url: Mapping[str, str]
    by_path: Mapping[str, str]

    @classmethod
    def of(cls, posts: Iterable[tuple[str, str, str]]) -> SitePosts:
        """From (post key, slug, full URL) triples."""
        by_slug: dict[str, str] = {}
        by_url: dict[str, str] = {}
        by_path: dict[str, str] = {}
        for key, slug, url in posts:
            by_slug.setdefault(slug.casefold(), key)
            if url:
                by_url.setdefault(normal_url(url), key)
                by_path.setdefault(_path(url), key)
        return cls(by_slug, by_url, by_path)

    def find(self, post: ExportedPost) -> str | None:
        """The post key an exported post belongs to: by URL, path, then slug.

        The path matters for people who kept their WordPress URLs
        (``/2013/06/my-post/``) on a new domain.
        """
        if post.url:
            key = self.by_url.get(normal_url(post.url)) or self.by_path.get(_path(post.url))
            if key:
                return key
        last = _path(post.url).rsplit("/", 1)[-1] if post.url else ""
        for slug in (post.slug, last):
            if slug and slug.casefold() in self.by_slug:
                return self.by_slug[slug.casefold()]
        return None


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
