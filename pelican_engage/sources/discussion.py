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
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..errors import SourceUnavailable
from ..model import Item, Person
from ..sanitize import safe_url, text_to_html
from .network import ArticleView
from .webmention import targets

__all__ = ["RequestCap", "RequestCapReached", "article_urls", "submission"]


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
