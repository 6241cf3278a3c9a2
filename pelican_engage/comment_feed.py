"""Atom feeds of comments, as pelican_comment_system wrote them.

One feed per post (``ENGAGE_COMMENT_FEED``, default
``feeds/comment.{slug}.atom.xml``, pcs's name, so subscribers keep their
feed) and one for the whole site (``ENGAGE_COMMENT_FEED_ALL``, default
``feeds/comments.all.atom.xml``).  Each entry names what it answers with
RFC 4685's ``<thr:in-reply-to>``: the parent item's entry, or the post.

Only comments, replies and quotes of listed posts are in them (no likes,
mentions, hidden posts or drafts); content is the model's, sanitised on the
way in; no e-mail address and nothing about who waits for an answer.  A
feed whose text did not change is not written again.
"""

from __future__ import annotations

import heapq
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .feed_copies import FeedStamps, put, write_feed
from .feed_copies import digest as _digest
from .i18n import fingerprint, gettext_for
from .model import ANSWERABLE_KINDS, Item, Problem, Thread, anchor

if TYPE_CHECKING:
    from .engine import Engine

THREAD_NS = "http://purl.org/syndication/thread/1.0"
DEFAULT_POST_FEED = "feeds/comment.{slug}.atom.xml"
DEFAULT_ALL_FEED = "feeds/comments.all.atom.xml"
_TAGS = re.compile(r"<[^>]*>")
#: Characters XML 1.0 does not allow at all, even escaped.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def feed_path(pattern: str, key: str) -> str:
    """The output path of a post's feed: ``{slug}`` (or pcs's ``%s``) is the post key."""
    return pattern.replace("{slug}", key)


def valid_pattern(value: Any, per_post: bool) -> str | None:
    """Why ``value`` is no feed path, or None when it is one."""
    if not isinstance(value, str) or not value.strip():
        return "expected an output path such as feeds/comment.{slug}.atom.xml, or None"
    parts = value.replace("\\", "/").split("/")
    if value.startswith("/") or ".." in parts:
        return "expected a path inside the output folder"
    if per_post and "{slug}" not in value:
        return "needs {slug} in it (each post has its own feed)"
    return None


def from_pcs(value: Any) -> Any:
    """pcs's ``feeds/comment.%s.atom.xml`` in our ``{slug}`` form."""
    return value.replace("%s", "{slug}") if isinstance(value, str) else value


def _entry_id(post_url: str, item_id: str) -> str:
    return f"{post_url}#{anchor(item_id)}"


@dataclass(frozen=True)
class Entry:
    """One comment of one post, ready for a feed."""

    item: Item
    post_title: str
    post_url: str
    parent: str | None

    @property
    def id(self) -> str:
        return _entry_id(self.post_url, self.item.id)

    @property
    def in_reply_to(self) -> str:
        return _entry_id(self.post_url, self.parent) if self.parent else self.post_url


def entries(thread: Thread) -> list[Entry]:
    """The post's comments, replies and quotes, newest first."""
    title = _TAGS.sub("", thread.post.title)
    found = [
        Entry(item, title, thread.post.url, thread.parents.get(item.id, item.in_reply_to))
        for item in thread.items
        if item.kind in ANSWERABLE_KINDS
    ]
    return sorted(found, key=lambda e: (e.item.published, e.item.id), reverse=True)


def _text(value: str) -> str:
    """Escaped for XML text and attributes; control characters (legal in a
    name from an API, illegal in XML) dropped."""
    if _CONTROL.search(value):
        value = _CONTROL.sub("", value)
    # xml.sax.saxutils.escape with '"' as an entity, without its dict loop
    # (300,000 calls on a 2,000-post site).
    return (
        value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace('"', "&quot;")
    )


def _date(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def render(
    title: str,
    link: str,
    feed_url: str,
    found: Iterable[Entry],
    empty_date: datetime,
    name_post: bool = False,
    lang: str = "en",
) -> str:
    """The Atom document (RFC 4287, with RFC 4685 threading).

    Written directly rather than with feedgenerator, which Pelican uses:
    its SAX writer took a second for a 500-post site's feeds, too much for
    a build; the output is checked by feedparser in the tests.
    ``name_post`` puts the post's title in entry titles (the site's feed);
    ``lang`` is the language of the words around the names.
    """
    found = list(found)
    updated = max((e.item.published for e in found), default=empty_date)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="{THREAD_NS}">'
        f"<title>{_text(title)}</title>"
        f'<link href="{_text(link)}" rel="alternate"/>'
        f'<link href="{_text(feed_url)}" rel="self"/>'
        f"<id>{_text(feed_url)}</id><updated>{_date(updated)}</updated>"
    ]
    for entry in found:
        item = entry.item
        name = item.author.name or gettext_for(lang, "Anonymous")
        heading = (
            gettext_for(lang, "%(name)s on %(title)s", name=name, title=entry.post_title)
            if name_post
            else gettext_for(lang, "Posted by: %(name)s", name=name)
        )
        uri = f"<uri>{_text(item.author.url)}</uri>" if item.author.url else ""
        entry_id, parent, when = _text(entry.id), _text(entry.in_reply_to), _date(item.published)
        parts.append(
            f"<entry><title>{_text(heading)}</title>"
            f'<link href="{entry_id}" rel="alternate"/><id>{entry_id}</id>'
            f"<published>{when}</published><updated>{when}</updated>"
            f"<author><name>{_text(name)}</name>{uri}</author>"
            f'<content type="html">{_text(item.content_html)}</content>'
            f'<thr:in-reply-to ref="{parent}" href="{parent}" type="text/html"/></entry>'
        )
    parts.append("</feed>\n")
    return "".join(parts)


@dataclass(frozen=True)
class Feeds:
    """Where the feeds go; both None: no feeds."""

    per_post: str | None
    site: str | None


def thread_digest(thread: Thread) -> str:
    """What a post's feed is made of, cheaply: ids, dates, threading, names
    and a checksum of each text (a full repr of 10,000 items costs more than
    the feeds themselves)."""
    fields: list[object] = [thread.post.key, thread.post.title, thread.post.url]
    for item in thread.items:
        if item.kind in ANSWERABLE_KINDS:
            fields += [
                item.id,
                item.published.isoformat(),
                thread.parents.get(item.id, item.in_reply_to),
                item.author.name,
                item.author.url,
                zlib.crc32(item.content_html.encode()),
            ]
    return _digest(*fields)


def _thread(source: Any) -> Thread:
    """A thread, or the thread of a (lazy) engagement, read now."""
    return source if isinstance(source, Thread) else source.thread


def _key_and_digest(source: Any) -> tuple[str, str]:
    # A lazy engagement knows both without reading its thread.
    if isinstance(source, Thread):
        return source.post.key, thread_digest(source)
    return source.key, source.feed_digest


class FeedWalk:
    """Writing the feeds of ``threads`` (each a :class:`Thread` or an
    engagement with ``key`` and ``feed_digest``, see ``cache.LazyEngagement``,
    whose thread is read only when its feed must be rendered; each with its
    post's date), one post at a time: :meth:`take` each of :attr:`sources`
    once, in any order, then :meth:`finish`.  :func:`write` walks them in
    order; the author's page walks its own threads and hands them over.

    ``stamps_file`` (in the cache) lets unchanged feeds be skipped unrendered.
    ``languages`` maps post keys to their article's ``lang``; the site's
    feed, and posts not in it, are in ``DEFAULT_LANG``.  Writing raises
    OSError.
    """

    def __init__(
        self,
        output: Path,
        feeds: Feeds,
        threads: Iterable[tuple[Any, datetime]],
        settings: Mapping[str, Any],
        stamps_file: Path | None = None,
        languages: Mapping[str, str] | None = None,
    ) -> None:
        self.output, self.feeds = output, feeds
        self.siteurl = str(settings.get("FEED_DOMAIN") or settings.get("SITEURL") or "").rstrip("/")
        self.sitename = _TAGS.sub("", str(settings.get("SITENAME") or ""))
        self.limit = settings.get("FEED_MAX_ITEMS")
        self.stamps = FeedStamps(stamps_file)
        self.site_lang = str(settings.get("DEFAULT_LANG") or "en")
        self.languages = languages or {}
        self.common = (
            *(self.siteurl, self.sitename, self.limit, feeds.per_post, feeds.site),
            *(self.site_lang, fingerprint()),
        )
        self.sources = list(threads)
        self.keys_digests = [_key_and_digest(source) for source, _published in self.sources]
        digests = [digest for _key, digest in self.keys_digests]
        self.newest = max((published for _t, published in self.sources), default=_EPOCH)
        self.changed = 0
        self.site_digest = _digest(*self.common, self.newest, *digests)
        # Known before the walk, so each thread is read once for both kinds of feed.
        self.site_due = feeds.site is not None and not self.stamps.reuse(
            output, feeds.site, self.site_digest
        )
        self.everything: list[Entry] = []

    def take(self, index: int, thread: Thread | None = None) -> None:
        """Write the feed of ``sources[index]``; ``thread``: its thread, when
        the caller holds it (else read here, if its feed must be rendered)."""
        source, published = self.sources[index]
        key, digest = self.keys_digests[index]
        if self.feeds.per_post is not None:
            path = feed_path(self.feeds.per_post, key)
            lang = self.languages.get(key) or self.site_lang
            digest = _digest(*self.common, lang, published, digest)
            if not self.stamps.reuse(self.output, path, digest):
                thread = thread if thread is not None else _thread(source)
                title = gettext_for(
                    lang, "Comments: %(title)s", title=_TAGS.sub("", thread.post.title)
                )
                text = render(
                    f"{self.sitename} - {title}" if self.sitename else title,
                    thread.post.url,
                    f"{self.siteurl}/{path}",
                    entries(thread),
                    published,
                    lang=lang,
                )
                self.changed += put(self.output / path, text, self.stamps.keep(path, digest, text))
                self.stamps.note_output(path, self.output / path)
        if self.site_due:
            self.everything += entries(thread if thread is not None else _thread(source))
            limit = self.limit
            if isinstance(limit, int) and limit > 0 and len(self.everything) > 2 * limit:
                # Only the newest are kept, so not every item stays in memory.
                self.everything = heapq.nlargest(limit, self.everything, key=_entry_order)

    def write_all(self) -> int:
        """Take every source in order, then finish; how many feeds changed."""
        for index in range(len(self.sources)):
            self.take(index)
        return self.finish()

    def finish(self) -> int:
        """Write the site's feed and keep the stamps; how many feeds changed."""
        site, limit = self.feeds.site, self.limit
        if site is not None and self.site_due:
            everything = sorted(self.everything, key=_entry_order, reverse=True)
            if isinstance(limit, int) and limit > 0:
                everything = everything[:limit]
            title = gettext_for(self.site_lang, "All comments")
            text = render(
                f"{self.sitename} - {title}" if self.sitename else title,
                f"{self.siteurl}/" if self.siteurl else "/",
                f"{self.siteurl}/{site}",
                everything,
                self.newest,
                name_post=True,
                lang=self.site_lang,
            )
            self.stamps.keep(site, self.site_digest, text)
            self.changed += write_feed(self.output / site, text)
            self.stamps.note_output(site, self.output / site)
        self.stamps.save()
        return self.changed


def _entry_order(entry: Entry) -> tuple[datetime, str]:
    return (entry.item.published, entry.item.id)


def write(
    output: Path,
    feeds: Feeds,
    threads: Iterable[tuple[Any, datetime]],
    settings: Mapping[str, Any],
    stamps_file: Path | None = None,
    languages: Mapping[str, str] | None = None,
) -> int:
    """Write the feeds of ``threads`` (see :class:`FeedWalk`); how many changed."""
    return FeedWalk(output, feeds, threads, settings, stamps_file, languages).write_all()


def walk_for(engine: Engine, generator: Any) -> FeedWalk | None:
    """The walk writing the feeds of the generator's listed articles'
    comments (not hidden ones, not drafts); None when feeds are off."""
    from .cache import LazyEngagement

    feeds = Feeds(engine.settings.comment_feed, engine.settings.comment_feed_all)
    if feeds.per_post is None and feeds.site is None:
        return None
    threads = []
    languages: dict[str, str] = {}
    seen: set[str] = set()
    for name in ("articles", "translations"):
        for article in getattr(generator, name, ()) or ():
            # Metadata `engage: off` leaves the string "off" there.
            engagement = getattr(article, "engage", None)
            if not isinstance(engagement, LazyEngagement) or engagement.key in seen:
                continue
            seen.add(engagement.key)
            if isinstance(getattr(article, "lang", None), str):
                languages[engagement.key] = article.lang
            date = getattr(article, "date", None) or datetime.now(timezone.utc)
            # The engagement, not its thread: the feeds read a thread only
            # when its feed must be written.
            threads.append((engagement, date if date.tzinfo else date.replace(tzinfo=timezone.utc)))
    return FeedWalk(
        Path(generator.output_path),
        feeds,
        threads,
        generator.settings,
        stamps_file=engine.settings.cache_path / "comment-feeds.pickle",
        languages=languages,
    )


def unwritable(exc: OSError) -> Problem:
    """The problem told when a feed cannot be written (OSError ``exc``)."""
    return Problem("ENGAGE_COMMENT_FEED", f"cannot be written ({exc})")


def write_for(engine: Engine, generator: Any) -> list[Problem]:
    """Write the feeds of :func:`walk_for`; the problems to tell (feeds
    that cannot be written)."""
    try:
        walk = walk_for(engine, generator)
        if walk is not None:
            walk.write_all()
    except OSError as exc:
        return [unwritable(exc)]
    return []
