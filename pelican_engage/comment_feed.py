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

import contextlib
import hashlib
import heapq
import os
import pickle
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .atomic import atomic_write, link_or_create, try_link, unchanged, write_checked
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


def _write(target: Path, text: str) -> bool:
    """Write a feed into the output, unless it already holds ``text``.

    Atomically but not synced: the output is rebuilt by every build, as
    Pelican writes its own pages (an fsync per feed was most of the cost
    of the feeds on a loaded disk); a feed cut short by a crash has the
    wrong size, which the next build notices (``_Stamps.reuse``).
    """
    try:
        if target.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    atomic_write(target, text, sync=False)
    return True


def _put(target: Path, text: str, copy: Path | None) -> bool:
    """Write a rendered feed into the output; True when it changed.  A new
    one (a cold build's) is a link to its fresh copy, written once."""
    if copy is not None and not os.path.lexists(target):
        try:
            _restore(target, copy, text.encode("utf-8"))
            return True
        except OSError:
            pass
    return _write(target, text)


def _restore(target: Path, copy: Path, data: bytes) -> None:
    """Put back a missing feed from its checked copy: linked to it, or
    created in place (see :func:`~pelican_engage.atomic.link_or_create`; on
    a warm build into an emptied output, a temporary file and rename per
    feed were most of the feeds' cost, then creating and writing them)."""
    try:
        link_or_create(target, copy, data)
    except FileExistsError:  # appeared meanwhile: replaced, as any other
        _write(target, data.decode("utf-8"))


def _as_kept(copy: Path, stamp: tuple[str, int, str, int], saved: int) -> bool:
    """Is the copy as it was written (:func:`atomic.unchanged`, ``saved``:
    when the stamps were saved, ns)?  Reading and hashing every copy on each
    warm build into an emptied output cost more than linking them; a copy
    changed since (through the output's link too) is read and checked."""
    try:
        found = copy.stat()
    except OSError:
        return False
    return unchanged(found, stamp[1], stamp[3], saved)


@dataclass(frozen=True)
class Feeds:
    """Where the feeds go; both None: no feeds."""

    per_post: str | None
    site: str | None


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()


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


class _Stamps:
    """The feeds written last time, with the digest of their inputs, kept
    in the cache folder.

    A warm build renders only the feeds whose inputs changed (rendering all
    of them costs about a second on a site of 500 posts), and copies the
    others from a copy of each in the cache (``<stamps file>.d/``) when the
    output folder was emptied.  Only the digests are read at start: the
    copies are read one by one, when needed, so a site's feeds are never
    all in memory.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.folder = path.with_name(path.name + ".d") if path is not None else None
        #: Feed path -> (digest of its inputs, its size in bytes, SHA-256 of
        #: its text, its copy's modification time in ns).
        self.old: dict[str, tuple[str, int, str, int]] = {}
        self.new: dict[str, tuple[str, int, str, int]] = {}
        #: When the stamps were saved (ns): copies written since are checked.
        self.saved = 0
        if path is not None:
            try:
                with path.open("rb") as handle:
                    self.saved = os.fstat(handle.fileno()).st_mtime_ns
                    data = pickle.load(handle)
                if isinstance(data, dict) and data.get("version") == (_STAMPS, __version__):
                    self.old = data["feeds"]
            except Exception:  # no cache, or an unreadable one: render afresh
                self.old = {}

    def _copy(self, path: str) -> Path | None:
        return self.folder / f"{_digest(path)[:32]}.xml" if self.folder is not None else None

    def reuse(self, output: Path, path: str, digest: str) -> bool:
        """True when the feed at ``path`` is current (written again if missing)."""
        old = self.old.get(path)
        if old is None or old[0] != digest:
            return False
        target = output / path
        missing = False
        try:
            current = target.stat().st_size == old[1]
        except OSError:
            current, missing = False, True
        if not current:
            # Missing, or not whole (a build killed while writing it).
            copy = self._copy(path)
            if copy is None:
                return False
            if missing and _as_kept(copy, old, self.saved) and try_link(target, copy):
                self.new[path] = old
                return True
            try:
                data = copy.read_bytes()
            except OSError:
                return False
            if hashlib.sha256(data).hexdigest() != old[2]:
                return False  # a damaged copy is never trusted: render again
            with contextlib.suppress(OSError):  # as checked now
                old = (*old[:3], copy.stat().st_mtime_ns)
            if missing:
                _restore(target, copy, data)
            else:  # whatever is there is replaced, never written through
                _write(target, data.decode("utf-8"))
        self.new[path] = old
        return True

    def keep(self, path: str, digest: str, text: str) -> Path | None:
        """Keep a copy of the feed at ``path``; the copy, or None when none
        could be written."""
        data = text.encode("utf-8")
        copy = self._copy(path)
        if copy is None:
            return None
        try:
            write_checked(copy, data)  # checked by its SHA-256 when read
            written = copy.stat().st_mtime_ns
        except OSError:
            return None
        self.new[path] = (digest, len(data), hashlib.sha256(data).hexdigest(), written)
        return copy

    def save(self) -> None:
        if self.path is None or self.new == self.old:
            return
        data = {"version": (_STAMPS, __version__), "feeds": self.new}
        # A cache: when it cannot be written, the next build renders again.
        with contextlib.suppress(OSError):
            atomic_write(self.path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        if self.folder is not None:
            # Copies of feeds no longer written (removed posts) go.
            kept = {self._copy(p) for p in self.new}
            for copy in self.folder.glob("*.xml") if self.folder.is_dir() else ():
                if copy not in kept:
                    copy.unlink(missing_ok=True)


#: Bump when the stamps' layout changes.
_STAMPS = 3


def _thread(source: Any) -> Thread:
    """A thread, or the thread of a (lazy) engagement, read now."""
    return source if isinstance(source, Thread) else source.thread


def _key_and_digest(source: Any) -> tuple[str, str]:
    # A lazy engagement knows both without reading its thread.
    if isinstance(source, Thread):
        return source.post.key, thread_digest(source)
    return source.key, source.feed_digest


def write(
    output: Path,
    feeds: Feeds,
    threads: Iterable[tuple[Any, datetime]],
    settings: Mapping[str, Any],
    stamps_file: Path | None = None,
    languages: Mapping[str, str] | None = None,
) -> int:
    """Write the feeds of ``threads`` (each with its post's date); how many changed.

    Each is a :class:`Thread` or an engagement with ``key`` and
    ``feed_digest`` (see ``cache.LazyEngagement``), whose thread is read
    only when its feed must be rendered.

    ``stamps_file`` (in the cache) lets unchanged feeds be skipped unrendered.
    ``languages`` maps post keys to their article's ``lang``; the site's
    feed, and posts not in it, are in ``DEFAULT_LANG``.
    """
    siteurl = str(settings.get("FEED_DOMAIN") or settings.get("SITEURL") or "").rstrip("/")
    sitename = _TAGS.sub("", str(settings.get("SITENAME") or ""))
    limit = settings.get("FEED_MAX_ITEMS")
    stamps = _Stamps(stamps_file)
    site_lang = str(settings.get("DEFAULT_LANG") or "en")
    languages = languages or {}
    common = (siteurl, sitename, limit, feeds.per_post, feeds.site, site_lang, fingerprint())
    threads = list(threads)
    keys_digests = [_key_and_digest(source) for source, _published in threads]
    digests = [digest for _key, digest in keys_digests]
    newest = max((published for _t, published in threads), default=_EPOCH)
    changed = 0
    site_digest = _digest(*common, newest, *digests)
    # Known before the walk, so each thread is read once for both kinds of feed.
    site_due = feeds.site is not None and not stamps.reuse(output, feeds.site, site_digest)
    order = lambda e: (e.item.published, e.item.id)  # noqa: E731
    everything: list[Any] = []
    for (source, published), (key, digest) in zip(threads, keys_digests, strict=True):
        thread: Thread | None = None
        if feeds.per_post is not None:
            path = feed_path(feeds.per_post, key)
            lang = languages.get(key) or site_lang
            digest = _digest(*common, lang, published, digest)
            if not stamps.reuse(output, path, digest):
                thread = _thread(source)
                title = gettext_for(
                    lang, "Comments: %(title)s", title=_TAGS.sub("", thread.post.title)
                )
                text = render(
                    f"{sitename} - {title}" if sitename else title,
                    thread.post.url,
                    f"{siteurl}/{path}",
                    entries(thread),
                    published,
                    lang=lang,
                )
                changed += _put(output / path, text, stamps.keep(path, digest, text))
        if site_due:
            everything += entries(thread or _thread(source))
            if isinstance(limit, int) and limit > 0 and len(everything) > 2 * limit:
                # Only the newest are kept, so not every item stays in memory.
                everything = heapq.nlargest(limit, everything, key=order)
    if feeds.site is not None and site_due:
        everything.sort(key=order, reverse=True)
        if isinstance(limit, int) and limit > 0:
            everything = everything[:limit]
        title = gettext_for(site_lang, "All comments")
        text = render(
            f"{sitename} - {title}" if sitename else title,
            f"{siteurl}/" if siteurl else "/",
            f"{siteurl}/{feeds.site}",
            everything,
            newest,
            name_post=True,
            lang=site_lang,
        )
        stamps.keep(feeds.site, site_digest, text)
        changed += _write(output / feeds.site, text)
    stamps.save()
    return changed


def write_for(engine: Engine, generator: Any) -> list[Problem]:
    """Feeds of the generator's listed articles' comments (not hidden ones,
    not drafts); the problems to tell (feeds that cannot be written)."""
    from .cache import LazyEngagement

    feeds = Feeds(engine.settings.comment_feed, engine.settings.comment_feed_all)
    if feeds.per_post is None and feeds.site is None:
        return []
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
    try:
        write(
            Path(generator.output_path),
            feeds,
            threads,
            generator.settings,
            stamps_file=engine.settings.cache_path / "comment-feeds.pickle",
            languages=languages,
        )
    except OSError as exc:
        return [Problem("ENGAGE_COMMENT_FEED", f"cannot be written ({exc})")]
    return []
