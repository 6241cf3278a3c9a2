"""From a Pelican article to its post key, its announcements and its jobs.

Pure reading of article attributes and metadata (and, for discovered
announcements, the post's archived cursors): no network, no rendering.
Which metadata keys exist and how their values parse, each network declares
(``sources/registry.py``); a value is only ever parsed by the network whose
key it is under.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .archive import Archive, ArchiveError
from .fetch import Job
from .model import Post, Problem
from .sources.local_files import display_path, key_problem
from .sources.registry import ANNOUNCING, NETWORKS, ArticleView, owner

_OFF = {"off", "no", "false", "0", "disabled"}


def _engage_key(article: Any) -> str:
    metadata = getattr(article, "metadata", {}) or {}
    return str(metadata.get("engage_key") or "").strip()


def engage_key_problem(article: Any) -> str:
    """Why the article's ``engage_key`` is refused ("" when it is fine or unset).

    The key names the post's comment folder, so a path in it ("../..",
    "/etc") could read files from anywhere on the machine.
    """
    explicit = _engage_key(article)
    why = key_problem(explicit) if explicit else ""
    return f"metadata 'engage_key' {explicit!r} {why}; ignored, the slug is used" if why else ""


def post_key(article: Any) -> str:
    """The article's slug, plus ``-<lang>`` for a translation.

    Metadata ``engage_key`` wins, so a renamed post keeps its thread,
    unless it is refused (see :func:`engage_key_problem`).
    """
    explicit = _engage_key(article)
    if explicit and not key_problem(explicit):
        return explicit
    key = str(article.slug)
    if not getattr(article, "in_default_lang", True):
        key = f"{key}-{article.lang}"
    return key


def has_engage_key(article: Any) -> bool:
    explicit = _engage_key(article)
    return bool(explicit) and not key_problem(explicit)


def is_opted_out(article: Any) -> bool:
    metadata = getattr(article, "metadata", {}) or {}
    return str(metadata.get("engage", "")).strip().lower() in _OFF


#: Article metadata naming announcements, and the network that fetches them.
ANNOUNCEMENT_KEYS = tuple((key, n.name) for n in ANNOUNCING for key in n.metadata)


def metadata_values(article: Any, key: str) -> list[str]:
    """A comma-separated metadata value as a list."""
    raw = str((getattr(article, "metadata", {}) or {}).get(key) or "")
    return [v.strip() for v in raw.split(",") if v.strip()]


def announcements(article: Any) -> tuple[tuple[str, str], ...]:
    """(source, URL) of the article's announcements; bad values are left out
    here and reported when the fetch jobs are made."""
    found = []
    for network in ANNOUNCING:
        assert network.announcement is not None  # what ANNOUNCING means
        for key in network.metadata:
            for value in metadata_values(article, key):
                try:
                    found.append((network.name, network.announcement(value)))
                except ValueError:
                    continue
    return tuple(found)


def post_of(article: Any, siteurl: str) -> Post:
    url = str(getattr(article, "url", "") or "")
    return Post(
        key=post_key(article),
        title=str(getattr(article, "title", "") or ""),
        url=f"{siteurl.rstrip('/')}/{url}" if siteurl else url,
        announcements=announcements(article),
    )


class Posts:
    """The articles' :func:`post_of`, kept from the fetch jobs to the plan:
    Pelican computes an article's URL on each read (~30 µs a post)."""

    __slots__ = ("_kept", "siteurl")

    def __init__(self, siteurl: str) -> None:
        self.siteurl = siteurl
        #: id(article) -> (article, its Post); the article is held, so its id
        #: is not reused meanwhile.
        self._kept: dict[int, tuple[Any, Post]] = {}

    def __len__(self) -> int:
        return len(self._kept)

    def of(self, article: Any) -> Post:
        """The article's Post, kept for :meth:`take`."""
        known = self._kept.get(id(article))
        if known is not None and known[0] is article:
            return known[1]
        post = post_of(article, self.siteurl)
        self._kept[id(article)] = (article, post)
        return post

    def take(self, article: Any) -> Post:
        """The Post :meth:`of` kept for ``article``, no longer kept (the
        plan holds it), else a new one."""
        known = self._kept.pop(id(article), None)
        if known is not None and known[0] is article:
            return known[1]
        return post_of(article, self.siteurl)


def published(article: Any) -> datetime:
    """The article's date, timezone-aware (UTC when it has no zone)."""
    when = getattr(article, "date", None) or datetime.now(timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def article_lists(generator: Any, drafts: bool = False) -> Iterator[tuple[Any, bool]]:
    """Every article of an ArticlesGenerator, or page of a PagesGenerator
    (pages get a conversation too), with whether it is published.

    Drafts get a thread too (their preview shows it), but nobody is waiting
    on a post that is not on the site yet.
    """
    names = ["articles", "pages", "translations", "hidden_articles", "hidden_pages"]
    for name in [*names, "hidden_translations"]:
        for article in getattr(generator, name, ()) or ():
            yield article, True
    if drafts:
        for name in ("drafts", "drafts_translations", "draft_pages", "draft_translations"):
            for article in getattr(generator, name, ()) or ():
                yield article, False


def view(article: Any, siteurl: str, archive: Archive, post: Post | None = None) -> ArticleView:
    """What a network may read of ``article`` (see :class:`ArticleView`);
    ``post``: its :func:`post_of`, when already made (its URL is reused)."""
    key = post.key if post is not None else post_key(article)

    def cursors() -> Mapping[str, Any]:
        try:
            return archive.load(key).cursors
        except ArchiveError:
            return {}

    return ArticleView(
        key=key,
        url=(post or post_of(article, siteurl)).url if siteurl else "",
        published=published(article),
        metadata=getattr(article, "metadata", {}) or {},
        cursors=cursors,
    )


def discovered(
    article: Any, settings: Any, archive: Archive, post: Post | None = None
) -> list[tuple[str, str]]:
    """(network, URL) of announcements found for ``article`` (X discovery);
    ``post`` as for :func:`view`."""
    if is_opted_out(article):
        return []
    seen = view(article, settings.siteurl, archive, post)
    return [
        (n.name, url)
        for n in NETWORKS
        if n.discovered
        for url in n.discovered(settings.network(n.name), settings, seen)
    ]


def misplaced(key: str, value: str, network: str) -> str:
    """``" (this belongs under 'bluesky:' (Bluesky), not 'mastodon:')"`` when
    ``value`` has another announcing network's form, else ""."""
    other = owner(value, besides=network)
    if other is None or not other.metadata:
        return ""
    return f" (this belongs under '{other.metadata[0]}:' ({other.display}), not '{key}:')"


def jobs(
    articles: Iterable[Any],
    settings: Any,
    archive: Archive,
    report: Callable[[Problem], None],
    origin: Callable[[Any], str],
    post: Callable[[Any], Post] | None = None,
) -> list[Job]:
    """Fetch jobs from each network's metadata keys, from announcements
    found by discovery, and each network's own (webmention.io's by URL);
    ``post``: an article's :func:`post_of`, when the caller keeps them.

    A value that is not of its key's form is a problem the author must fix,
    named with the article's file (``origin``) and the key; it is never
    handed to another network.
    """
    found: list[Job] = []
    for article in articles:
        if is_opted_out(article):
            continue
        seen = view(article, settings.siteurl, archive, post(article) if post else None)
        for network in NETWORKS:
            net_settings = settings.network(network.name)
            for key in network.metadata if network.job else ():
                for value in seen.values(key):
                    try:
                        found.append(network.job(seen.key, value, seen.published, net_settings))  # type: ignore[misc]
                    except ValueError as exc:
                        hint = misplaced(key, value, network.name)
                        report(Problem(origin(article), f"metadata {key!r}: {exc}{hint}"))
            if network.discovered and network.job:
                for url in network.discovered(net_settings, settings, seen):
                    found.append(network.job(seen.key, url, seen.published, net_settings))
            if network.article_jobs:
                more, problems = network.article_jobs(net_settings, seen)
                found += more
                for problem in problems:
                    report(problem)
    return found


def discovery_jobs(
    articles: Iterable[Any], settings: Any, archive: Archive, now: datetime
) -> list[Job]:
    """Searches for announcements of ``articles`` (X: the author's tweet
    linking to each young post), from each network that discovers."""
    found: list[Job] = []
    for article in articles:
        if is_opted_out(article):
            continue
        seen = view(article, settings.siteurl, archive)
        for network in NETWORKS:
            if network.discovery_jobs:
                found += network.discovery_jobs(settings.network(network.name), settings, seen, now)
    return found


def shared_key_problem(first: Any, article: Any) -> Problem | None:
    """An article and a page with one post key (``first`` had it first)
    would show one thread on both: the problem to tell, else None
    (translations sharing an ``engage_key`` on purpose are fine)."""
    from pelican.contents import Page

    if isinstance(first, Page) == isinstance(article, Page):
        return None
    page, other = (article, first) if isinstance(article, Page) else (first, article)
    return Problem(
        display_path(Path(getattr(page, "source_path", "") or ".")),
        f"has the post key {article.engage.key!r} of the article "
        f"{display_path(Path(getattr(other, 'source_path', '') or '.'))}, so both show "
        "one thread; give the page its own 'engage_key'",
    )
