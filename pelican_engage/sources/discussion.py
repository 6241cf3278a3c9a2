"""What the discussion sites (Hacker News, Lobsters, Reddit, Lemmy,
Discourse, GitHub Discussions) share: the URLs a post is searched by, the
submission item the site's comments hang under, and a per-build request cap.

A discussion site is a network declared with ``discussion=True``
(``sources/network.py``): readers, not the author, bring the post there, so
its submissions are found by the post's URL and each one is an item of kind
``mention`` whose comments reply to it (docs/design.md explains what that
means for who waits).  Pure functions, except :class:`RequestCap`'s lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .. import checks
from ..errors import SourceUnavailable
from ..fetch import Job
from ..model import Item, Person, Problem
from ..sanitize import safe_url, text_to_html
from .network import ArticleView
from .webmention import targets

__all__ = ["RequestCap", "RequestCapReached", "article_urls", "flagged", "submission", "untangle"]


def article_urls(article: ArticleView) -> list[str]:
    """The URLs a post is known by, for a search by URL: its URL with and
    without the trailing slash, then its ``old_urls`` likewise (no
    duplicates, only http(s)); [] without SITEURL."""
    if not article.url:
        return []
    return targets(article.url, (u for u in article.values("old_urls") if " " not in u))


def submission(
    source: str,
    local_id: str,
    *,
    title: str,
    url: str,
    author: Person,
    published: datetime,
    reply_url: str = "",
    extras: Mapping[str, Any] | None = None,
) -> Item:
    """The item a submission of the post is shown as: kind ``mention`` by the
    submitter, its title (plain text, escaped here) as the text, ``url`` the
    discussion's page.  ``local_id`` is the site's own id ("8863", or
    "host/123"); the item id is ``<source>:<local_id>``.  ValueError when the
    URL is not http(s) (an item must link somewhere real)."""
    link = safe_url(url)
    if not link:
        raise ValueError(f"{source} submission {local_id}: no http(s) URL")
    return Item(
        id=f"{source}:{local_id}",
        source=source,
        kind="mention",
        author=author,
        published=published,
        content_html=text_to_html(title) if title.strip() else "",
        url=link,
        reply_url=safe_url(reply_url),
        extras=dict(extras or {}),
    )


def flagged(node: Mapping[str, Any], *names: str) -> bool:
    """Whether any of the boolean fields ``names`` of ``node`` is true
    (``is_deleted``, ``removed``...).  ValueError when one is neither a
    boolean nor null: a malformed answer skips its entry, and must not
    withdraw an archived comment as a truthy ``"false"`` would."""
    for name in names:
        value = node.get(name)
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{name} {value!r} is not true or false"[:100])
    return any(node.get(name) for name in names)


def untangle(items: Sequence[Item], root: str) -> list[Item]:
    """``items`` once each, and in no reply loop.

    A site's answer may repeat an id (pages that overlap, a comment listed
    in its tree and again in a ``more`` answer, a hostile server): the
    first is kept.  A comment whose parents lead back to itself (its own
    id as its parent, or a cycle) would thread nowhere: the one closing the
    loop answers ``root`` (the submission's item id) instead.  Linear in
    the number of items, without recursion (threads may be deep)."""
    kept: dict[str, Item] = {}
    for item in items:
        kept.setdefault(item.id, item)
    settled: set[str] = set()  # ids whose parents lead out of ``kept``
    for start in list(kept):
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node in kept and node not in settled and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = kept[node].in_reply_to
        if node is not None and node in on_path:
            kept[node] = replace(kept[node], in_reply_to=root)
        settled.update(path)
    return list(kept.values())


class RequestCapReached(SourceUnavailable):
    """The network's ``max_requests`` for this build is spent: the rest of
    its jobs stay due and are fetched next build."""

    def __init__(self, setting: str, cap: int) -> None:
        super().__init__(
            setting, f"{setting}['max_requests'] ({cap}) reached; the rest waits for the next build"
        )


class RequestCap:
    """Counts one network's requests across a whole build (its source object
    lives for the build, and posts are fetched on several threads)."""

    def __init__(self, setting: str, cap: int) -> None:
        self.setting = setting
        self.cap = cap
        self.spent = 0
        self._lock = threading.Lock()

    def take(self) -> None:
        """Count one request; RequestCapReached when the cap is spent."""
        with self._lock:
            if self.spent >= self.cap:
                raise RequestCapReached(self.setting, self.cap)
            self.spent += 1


#: The keys of a site searched by URL (Hacker News, Lobsters).
SITE_KEYS = frozenset({"api_url", "max_requests"})


@dataclass(frozen=True)
class SiteSettings:
    """A discussion site's dict setting, checked: ``enabled`` (the search by
    URL is on) when it is a dict, even ``{}``."""

    enabled: bool
    #: The API (the public one by default; tests point it at loopback).
    api_url: str
    #: Requests per build at most, searches and threads together.
    max_requests: int


def load_site_settings(
    settings: Mapping[str, Any], setting: str, api_url: str, max_requests: int = 100
) -> SiteSettings:
    """``settings[setting]`` (None: off; a dict of :data:`SITE_KEYS`) checked,
    with these defaults; SettingsError names a wrong key or value."""
    section = checks.section(settings, setting, SITE_KEYS)
    cap = section.get("max_requests", max_requests)
    return SiteSettings(
        enabled=settings.get(setting) is not None,
        api_url=checks.api_url(section, setting, api_url),
        max_requests=int(checks.number(cap, f"{setting}['max_requests']", 1, whole=True)),
    )


def search_jobs(
    site: SiteSettings, article: ArticleView, source: str, setting: str, what: str
) -> tuple[list[Job], list[Problem]]:
    """With the site on, one job per post whose target is its
    :func:`article_urls`, space-separated; without SITEURL a problem that
    says the ``what`` (stories, submissions) are found by the post's URL."""
    if not site.enabled:
        return [], []
    urls = article_urls(article)
    if not urls:
        return [], [Problem(setting, f"needs SITEURL: {what} are found by each post's full URL")]
    host = urlsplit(site.api_url).netloc
    return [Job(article.key, source, " ".join(urls), host, article.published)], []
