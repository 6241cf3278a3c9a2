"""From a Pelican article to its conversation: shared by the plugin and the CLI.

The engine owns the per-build resources (settings, archive, local comment
reader) and knows how Pelican articles map to post keys.  It does no
rendering and never touches the network.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import __version__
from .archive import Archive, ArchiveError, is_forgotten
from .backoff import HostBackoff
from .cache import CachedThread, ThreadCache
from .conversation import Engagement, build_thread, engagement
from .fetch import Fetcher, Job, Refresh, Source, Summary, save_unsaved
from .model import Item, Post, Problem, Thread, Tombstone
from .render import TEMPLATES
from .settings import EngageSettings
from .sources import bluesky, feed, mastodon, twitter, webmention, wordpress
from .sources.local import (
    LocalComments,
    Parsed,
    ParsedComment,
    Scan,
    Skipped,
    display_path,
)
from .sources.local_files import key_problem, printable_name

logger = logging.getLogger(__name__)

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


#: Article metadata naming announcements, and the source that fetches them.
ANNOUNCEMENT_KEYS = (("tweet", "twitter"), ("mastodon", "mastodon"), ("bluesky", "bluesky"))


def metadata_values(article: Any, key: str) -> list[str]:
    """A comma-separated metadata value as a list."""
    raw = str((getattr(article, "metadata", {}) or {}).get(key) or "")
    return [v.strip() for v in raw.split(",") if v.strip()]


def announcements(article: Any) -> tuple[tuple[str, str], ...]:
    """(source, URL) of the article's announcements; bad values are left out
    here and reported when the fetch jobs are made."""
    found = []
    for key, source in ANNOUNCEMENT_KEYS:
        for value in metadata_values(article, key):
            try:
                if source == "twitter":
                    value = twitter.parse_tweet_ref(value).url
                elif source == "bluesky":
                    value = bluesky.parse_post_ref(value).url
                else:
                    mastodon.parse_status_url(value)
            except ValueError:
                continue
            found.append((source, value))
    return tuple(found)


def post_of(article: Any, siteurl: str) -> Post:
    url = str(getattr(article, "url", "") or "")
    return Post(
        key=post_key(article),
        title=str(getattr(article, "title", "") or ""),
        url=f"{siteurl.rstrip('/')}/{url}" if siteurl else url,
        announcements=announcements(article),
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _secret(name: str) -> str:
    """A token from the environment; one with a space or line break inside
    (a pasted file, two values) cannot be sent and is treated as missing."""
    value = os.environ.get(name, "").strip()
    if value and any(ch.isspace() or ord(ch) < 32 for ch in value):
        logger.warning("engage: $%s holds a space or line break; the token is ignored", name)
        return ""
    return value


def _published(article: Any) -> datetime:
    published = getattr(article, "date", None) or datetime.now(timezone.utc)
    return published if published.tzinfo else published.replace(tzinfo=timezone.utc)


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


@dataclass
class Engine:
    """Builds threads for the articles of one build."""

    settings: EngageSettings
    pelican_settings: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    items: int = 0
    waiting: int = 0
    #: Items not shown as their network asks (hidden replies, labels...).
    hidden: int = 0
    posts: int = 0
    archive: Archive = field(init=False)
    local: LocalComments = field(init=False)
    acknowledged: frozenset[str] = field(init=False)
    #: Digests of the people erased on request (``forget --person``).
    forgotten: frozenset[str] = field(init=False)
    threads: ThreadCache = field(init=False)
    _folders_used: set[str] = field(init=False, default_factory=set)
    #: The published posts' threads of this build, for the author's page.
    counted_threads: list[Thread] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.archive = Archive(self.settings.archive_path, self.settings.cache_path / "unsaved")
        removed = self.archive.remove_temporary_files()
        if removed:
            logger.info(
                "engage: removed %d temporary file(s) that interrupted writes left in %s",
                len(removed),
                display_path(self.settings.archive_path),
            )
        self.local = LocalComments(
            self.pelican_settings, self.settings.comments_path, self.settings.author.emails
        )
        try:
            self.acknowledged = self.archive.acknowledged()
        except ArchiveError as exc:
            self.report(Problem("", str(exc)))
            self.acknowledged = frozenset()
        try:
            self.forgotten = self.archive.forgotten()
        except ArchiveError as exc:
            self.report(Problem("", str(exc)))
            self.forgotten = frozenset()
        # i18n_subsites builds one site per language into the same CACHE_PATH,
        # nested in each other: each language keeps its own cache file.
        site = re.sub(r"[^A-Za-z0-9_-]", "_", str(self.pelican_settings.get("DEFAULT_LANG") or ""))
        self.threads = ThreadCache(self.settings.cache_path, self._salt(), site)

    def _salt(self) -> str:
        """Everything all threads depend on, besides their own inputs."""
        author = self.settings.author
        templates = sorted((p.name, p.stat().st_mtime_ns) for p in TEMPLATES.glob("engage/*.html"))
        return json.dumps(
            {
                "version": __version__,
                "names": author.names,
                "emails": sorted(author.emails),
                "urls": sorted(author.urls),
                "handles": {k: sorted(v) for k, v in author.handles.items()},
                "depth": self.settings.display_depth,
                "by_mention": self.settings.answer_by_mention,
                "mastodon_unlisted": self.settings.mastodon_unlisted,
                "timezone": self.settings.timezone,
                "settings": self.settings.salt,
                "templates": templates,
                "acks": self.archive.acks_stamp(),
                "acknowledged": sorted(self.acknowledged),
                "forgotten": self.archive.forgotten_stamp(),
            },
            sort_keys=True,
        )

    def report(self, problem: Problem) -> None:
        """Log a problem the user must fix, once per build."""
        if problem not in self.problems:
            self.problems.append(problem)
            logger.warning("engage: %s", problem)

    def archived_items(self, key: str) -> tuple[list[Item], list[Problem]]:
        try:
            return list(self.archive.load(key).items.values()), []
        except ArchiveError as exc:
            return [], [Problem("", str(exc))]

    def tombstones(self, key: str, items: Iterable[Item] = ()) -> list[Tombstone]:
        """The post's tombstones, and stand-in ones for ``items`` (local
        comments) by people erased on request."""
        try:
            stones = list(self.archive.load(key).tombstones.values())
        except ArchiveError:
            stones = []  # the build reports the damaged file already
        if self.forgotten:
            stones += [
                Tombstone(i.id, i.source, i.published, "forgotten", i.in_reply_to)
                for i in items
                if is_forgotten(i, self.forgotten)
            ]
        return stones

    def _announced(self, key: str) -> dict[str, dict[str, int]]:
        """Like and repost counts each network gave for the announcements.

        One announcement may have several cursors (its URL changed form in
        the metadata): each post counts once, with its latest figures.
        """
        try:
            cursors = self.archive.load(key).cursors
        except ArchiveError:
            return {}
        latest: dict[tuple[str, str], tuple[str, int, int]] = {}
        for name, cursor in cursors.items():
            if not isinstance(cursor, Mapping):
                continue
            # The archive is committed and editable: odd values are skipped.
            source = str(name).split(":", 1)[0]
            counts = _mapping(cursor.get("counts"))
            metrics = _mapping(_mapping(cursor.get("announcement")).get("metrics"))
            # Mastodon, Bluesky and X each name them their own way.
            likes = counts.get("favourites") or counts.get("likes") or metrics.get("like_count")
            reposts = counts.get("reblogs") or counts.get("reposts") or metrics.get("retweet_count")
            which = str(cursor.get("uri") or cursor.get("status") or name)
            when = str(cursor.get("fetched_at") or "")
            figures = (
                when,
                likes if isinstance(likes, int) else 0,
                reposts if isinstance(reposts, int) else 0,
            )
            if (source, which) not in latest or latest[(source, which)] < figures:
                latest[(source, which)] = figures
        totals: dict[str, dict[str, int]] = {}
        for (source, _which), (_when, likes, reposts) in latest.items():
            slot = totals.setdefault(source, {"like": 0, "repost": 0})
            slot["like"] += likes
            slot["repost"] += reposts
        return totals

    def engage(self, article: Any, counted: bool = True) -> Engagement:
        """The article's conversation; ``counted`` adds it to the build's totals."""
        post = post_of(article, self.settings.siteurl)
        if engage_key_problem(article):
            self.report(Problem(self._origin(article), engage_key_problem(article)))
        found = tuple(("twitter", url) for url in self._discovered(article))
        if found:
            post = replace(post, announcements=post.announcements + found)
        # A renamed post (engage_key) may keep its comments under the new
        # slug; a translation only ever uses its own key's folder.
        explicit = has_engage_key(article)
        scan = self.local.scan(post.key, str(article.slug) if explicit else post.key)
        if scan.folder is not None:
            self._folders_used.add(scan.folder.name)
        elif scan.refused:  # told as a link, not again as "matches no article"
            self._folders_used.update({post.key, str(article.slug)})
        fingerprint = (
            post,
            str(scan.folder),
            scan.files,
            scan.refused,
            self.archive.stamp(post.key),
        )
        cached = self.threads.get(post.key, fingerprint)
        if cached is None:
            cached = self._build(post, scan, fingerprint)
        # Problems are told on every build until they are fixed.
        for problem in cached.problems:
            self.report(problem)
        result = cached.engagement
        if counted:
            self.counted_threads.append(result.thread)
            self.posts += 1
            self.items += len(result.thread.items)
            self.waiting += len(result.thread.waiting)
            self.hidden += len(result.thread.hidden)
        return result

    def _origin(self, article: Any) -> str:
        return display_path(Path(getattr(article, "source_path", "") or "."))

    def jobs(self, articles: Iterable[Any]) -> list[Job]:
        """Fetch jobs from each article's ``tweet:``, ``mastodon:`` and
        ``bluesky:`` metadata, from tweets found by discovery, and (when
        ENGAGE_WEBMENTION is set) the article's own URL on webmention.io.

        A value that is not a tweet, status or post URL is a problem the
        author must fix, named with the article's file.
        """
        found: list[Job] = []
        for article in articles:
            if is_opted_out(article):
                continue
            key, published = post_key(article), _published(article)
            for meta, source in ANNOUNCEMENT_KEYS:
                for value in metadata_values(article, meta):
                    try:
                        found.append(self._job(source, key, value, published))
                    except ValueError as exc:
                        self.report(Problem(self._origin(article), f"metadata {meta!r}: {exc}"))
            for url in self._discovered(article):
                found.append(self._job("twitter", key, url, published))
            for meta, module in (("comments_feed", feed), ("wordpress_comments", wordpress)):
                for value in metadata_values(article, meta):
                    try:
                        found.append(module.job_for(key, value, published))
                    except ValueError as exc:
                        self.report(Problem(self._origin(article), f"metadata {meta!r}: {exc}"))
            if self.settings.webmention.enabled and not self.settings.siteurl:
                self.report(
                    Problem(
                        "ENGAGE_WEBMENTION",
                        "needs SITEURL: webmention.io is asked by each article's full URL",
                    )
                )
            elif self.settings.webmention.enabled:
                # URLs hold no spaces: the target lists the URL, then old ones.
                urls = [post_of(article, self.settings.siteurl).url]
                urls += [u for u in metadata_values(article, "old_urls") if " " not in u]
                target = " ".join(urls)
                found.append(
                    webmention.job_for(key, target, published, self.settings.webmention.api_url)
                )
        return found

    def _job(self, source: str, key: str, value: str, published: datetime) -> Job:
        if source == "twitter":
            return twitter.job_for(key, value, published, self.settings.twitter.api_url)
        if source == "bluesky":
            return bluesky.job_for(key, value, published, self.settings.bluesky.api_url)
        return mastodon.job_for(key, value, published)

    def _discovery_target(self, article: Any) -> str | None:
        """``<article URL> from:<handle>`` when discovery applies to the article."""
        handles = sorted(self.settings.author.handles.get("twitter", ()))
        if (
            not self.settings.twitter.discover
            or not handles
            or not self.settings.siteurl
            or is_opted_out(article)
            or metadata_values(article, "tweet")
        ):
            return None
        return f"{post_of(article, self.settings.siteurl).url} from:{handles[0]}"

    def _discovered(self, article: Any) -> list[str]:
        target = self._discovery_target(article)
        if target is None:
            return []
        try:
            cursors = self.archive.load(post_key(article)).cursors
        except ArchiveError:
            return []
        found = _mapping(cursors.get(f"twitter-discover:{target}")).get("found")
        return [str(u) for u in found if isinstance(u, str)] if isinstance(found, list) else []

    def discovery_jobs(self, articles: Iterable[Any], now: datetime) -> list[Job]:
        """Searches for the author's tweet linking to each young post.

        Recent search sees 7 days back, so older posts are only searched
        with full-archive access.
        """
        settings = self.settings.twitter
        jobs = []
        for article in articles:
            target = self._discovery_target(article)
            if target is None or self._discovered(article):
                continue
            published = _published(article)
            if settings.search == "recent" and now - published > twitter.RECENT_WINDOW:
                continue
            host = urlsplit(settings.api_url).netloc
            jobs.append(Job(post_key(article), "twitter-discover", target, host, published))
        return jobs

    def fetch(
        self,
        articles: Iterable[Any],
        force: bool = False,
        progress: Callable[[Job, str, int, int], None] | None = None,
        select: Callable[[Job], bool] | None = None,
    ) -> tuple[Summary, int]:
        """Fetch what is due for ``articles``; the summary and the job count.

        ``progress(job, outcome, requests, due)`` is called as each job ends:
        its outcome (see :meth:`Fetcher.run`), the requests sent so far and
        the number of due jobs.
        """
        articles = list(articles)
        save_unsaved(self.archive)
        wanted = select or (lambda _job: True)
        jobs = [j for j in self.jobs(articles) if wanted(j)]
        now = datetime.now(timezone.utc)
        tw = self.settings.twitter
        token = _secret(tw.token_env)
        discovery = [j for j in (self.discovery_jobs(articles, now) if token else []) if wanted(j)]
        summary = Summary()
        if not token and any(j.source == "twitter" for j in jobs):
            untouched = sum(1 for j in jobs if j.source == "twitter")
            summary.messages["twitter"] = (
                f"no bearer token in ${tw.token_env}; {untouched} announcement(s) not fetched, "
                "archived tweets are still shown"
            )
            logger.info("engage: twitter: %s", summary.messages["twitter"])
            jobs = [j for j in jobs if j.source != "twitter"]
        if not jobs and not discovery:
            return summary, 0
        # Imported here: requests alone costs a build that fetches nothing
        # (offline, or no announcements) a tenth of a second.
        from .http import Client

        m_token = _secret(self.settings.mastodon_token_env)
        if (
            m_token
            and not self.settings.mastodon_hosts
            and any(j.source == "mastodon" for j in jobs)
        ):
            self.report(
                Problem(
                    "ENGAGE_MASTODON",
                    f"${self.settings.mastodon_token_env} holds a token but no 'host' says "
                    "which server issued it, so it is sent to none; add e.g. "
                    "'host': 'mastodon.social'",
                )
            )
        wm = self.settings.webmention
        wm_token = _secret(wm.token_env)
        clients = {
            "mastodon": Client(secrets=[m_token]),
            "twitter": Client(secrets=[token]),
            "bluesky": Client(),
            "webmention": Client(secrets=[wm_token]),
            "feed": Client(),
            "wordpress": Client(),
        }
        sources: dict[str, Source] = {
            "mastodon": mastodon.MastodonSource(
                clients["mastodon"],
                token=m_token,
                reactions=self.settings.mastodon_reactions,
                hosts=self.settings.mastodon_hosts,
                unlisted=self.settings.mastodon_unlisted,
                token_env=self.settings.mastodon_token_env,
                author_handles=self.settings.author.handles.get("mastodon", ()),
            ),
            "bluesky": bluesky.BlueskySource(
                clients["bluesky"],
                api_url=self.settings.bluesky.api_url,
                reactions=self.settings.bluesky.reactions,
            ),
            "feed": feed.FeedSource(clients["feed"]),
            "wordpress": wordpress.WordPressSource(clients["wordpress"]),
            "webmention": webmention.WebmentionSource(
                clients["webmention"], api_url=wm.api_url, token=wm_token, token_env=wm.token_env
            ),
        }
        if token:
            x = twitter.TwitterSource(
                clients["twitter"],
                token,
                api_url=tw.api_url,
                search=tw.search,
                max_requests=tw.max_requests,
                token_env=tw.token_env,
            )
            sources.update({x.name: x, "twitter-discover": twitter.TwitterDiscovery(x)})

        planned = 0  # due jobs of this fetch so far (discovery can add some)

        def tick(job: Job, outcome: str) -> None:
            if progress:
                progress(job, outcome, sum(c.requests for c in clients.values()), planned)

        fetcher = Fetcher(
            self.archive,
            sources,
            refresh=Refresh(**self.settings.refresh),
            concurrency=self.settings.concurrency,
            budget_seconds=self.settings.fetch_budget,
            backoff=HostBackoff(self.settings.cache_path / "hosts.json"),
            retry_hosts=force,
        )
        # One wall clock for the whole fetch: every request stops with it.
        deadline = fetcher.start()
        for client in clients.values():
            client.deadline = deadline
        by_key = {post_key(a): a for a in articles}
        due = fetcher.due(discovery, force=force)
        planned += len(due)
        if due:
            summary.add(fetcher.run(due, progress=tick))
            for job in due:
                announced = self._found(job)
                if announced:
                    summary.discovered.append((job.post_key, announced))
            # Found announcements are fetched in this same build.
            for job_key, _url in summary.discovered:
                jobs += [j for j in self.jobs([by_key[job_key]]) if wanted(j)]
        due = fetcher.due(jobs, force=force)
        planned += len(due)
        if due:
            summary.add(fetcher.run(due, progress=tick))
        for name, client in clients.items():
            if client.requests:
                summary.requests_by_source[name] = client.requests
            client.close()
        summary.requests = sum(summary.requests_by_source.values())
        for post, url in summary.discovered:
            article = by_key[post]
            logger.info(
                "engage: %s is announced on X; add 'tweet: %s' to its metadata",
                self._origin(article),
                url,
            )
        return summary, len(jobs) + len(discovery)

    def _found(self, job: Job) -> str:
        try:
            cursor = self.archive.load(job.post_key).cursors.get(job.cursor_key) or {}
        except ArchiveError:
            return ""
        found = _mapping(cursor).get("found")
        return str(found[0]) if isinstance(found, list) and found else ""

    def opted_out(self, article: Any) -> None:
        """A post with ``engage: off`` still owns its comment folder."""
        self._folders_used.update({post_key(article), str(article.slug)})

    def unused_comment_folders(self) -> list[Problem]:
        """Comment folders that no article read: after a slug change, say so.

        Otherwise a renamed post's readers would silently vanish from the
        site and from the report.
        """
        root = self.settings.comments_path
        if not root.is_dir():
            return []
        return [
            Problem(
                printable_name(display_path(folder)),
                "matches no article or page, so its comments are not shown; if the post was "
                f"renamed, add 'engage_key: {printable_name(folder.name)}' to its metadata",
            )
            for folder in sorted(root.iterdir())
            if folder.is_dir() and folder.name not in self._folders_used
        ]

    def _build(self, post: Post, scan: Scan, fingerprint: Any) -> CachedThread:
        items, problems, parsed = self.local.read(post.key, scan, self._previous(post.key))
        archived, archive_problems = self.archived_items(post.key)
        archived = mastodon.apply_visibility(archived, self.settings.mastodon_unlisted)
        thread, more = build_thread(
            post,
            [*items, *archived],
            self.settings.author,
            acknowledged=self.acknowledged,
            by_mention=self.settings.answer_by_mention,
            tombstones=self.tombstones(post.key, items),
        )
        files = {
            name: (stamp, None, (c.problem,), "")
            if isinstance(c, Skipped)
            else (stamp, c.replyto, c.problems, c.item.id)
            for name, (stamp, c) in parsed.items()
        }
        entry = CachedThread(
            fingerprint,
            engagement(thread, self.settings.display_depth, self._announced(post.key)),
            (*problems, *archive_problems, *more),
            files,
        )
        return self.threads.put(post.key, entry)

    def _previous(self, key: str) -> dict[str, Parsed]:
        """The comment files of the post's last build, as parsed then."""
        old = self.threads.previous(key)
        if old is None:
            return {}
        items = {item.id: item for item in old.engagement.thread.items}
        return {
            name: (
                stamp,
                ParsedComment(replace(items[item_id], in_reply_to=None), replyto, problems),
            )
            for name, (stamp, replyto, problems, item_id) in old.files.items()
            if item_id in items
        }

    def finish(self, save: bool = True) -> None:
        if save:
            self.threads.save()
