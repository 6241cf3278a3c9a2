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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .archive import Archive, ArchiveError
from .cache import CachedThread, ThreadCache
from .conversation import Engagement, build_thread, engagement
from .model import Item, Post, Problem
from .render import TEMPLATES
from .settings import EngageSettings
from .sources.local import (
    LocalComments,
    Parsed,
    ParsedComment,
    Scan,
    Skipped,
    display_path,
)

if TYPE_CHECKING:
    from .fetch import Job, Summary

logger = logging.getLogger(__name__)

_OFF = {"off", "no", "false", "0", "disabled"}


def post_key(article: Any) -> str:
    """The article's slug, plus ``-<lang>`` for a translation.

    Metadata ``engage_key`` wins, so a renamed post keeps its thread.
    """
    metadata = getattr(article, "metadata", {}) or {}
    explicit = str(metadata.get("engage_key") or "").strip()
    if explicit:
        return explicit
    key = str(article.slug)
    if not getattr(article, "in_default_lang", True):
        key = f"{key}-{article.lang}"
    return key


def has_engage_key(article: Any) -> bool:
    metadata = getattr(article, "metadata", {}) or {}
    return bool(str(metadata.get("engage_key") or "").strip())


def is_opted_out(article: Any) -> bool:
    metadata = getattr(article, "metadata", {}) or {}
    return str(metadata.get("engage", "")).strip().lower() in _OFF


def post_of(article: Any, siteurl: str) -> Post:
    url = str(getattr(article, "url", "") or "")
    return Post(
        key=post_key(article),
        title=str(getattr(article, "title", "") or ""),
        url=f"{siteurl.rstrip('/')}/{url}" if siteurl else url,
    )


def article_lists(generator: Any, drafts: bool = False) -> Iterator[tuple[Any, bool]]:
    """Every article of an ArticlesGenerator, with whether it is published.

    Drafts get a thread too (their preview shows it), but nobody is waiting
    on a post that is not on the site yet.
    """
    names = ["articles", "translations", "hidden_articles", "hidden_translations"]
    for name in names:
        for article in getattr(generator, name, ()) or ():
            yield article, True
    if drafts:
        for name in ("drafts", "drafts_translations"):
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
    posts: int = 0
    archive: Archive = field(init=False)
    local: LocalComments = field(init=False)
    acknowledged: frozenset[str] = field(init=False)
    threads: ThreadCache = field(init=False)
    _folders_used: set[str] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.archive = Archive(self.settings.archive_path)
        self.local = LocalComments(self.pelican_settings, self.settings.comments_path)
        try:
            self.acknowledged = self.archive.acknowledged()
        except ArchiveError as exc:
            self.report(Problem("", str(exc)))
            self.acknowledged = frozenset()
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
                "timezone": self.settings.timezone,
                "settings": self.settings.salt,
                "templates": templates,
                "acks": self.archive.acks_stamp(),
                "acknowledged": sorted(self.acknowledged),
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

    def engage(self, article: Any, counted: bool = True) -> Engagement:
        """The article's conversation; ``counted`` adds it to the build's totals."""
        post = post_of(article, self.settings.siteurl)
        # A renamed post (engage_key) may keep its comments under the new
        # slug; a translation only ever uses its own key's folder.
        explicit = has_engage_key(article)
        scan = self.local.scan(post.key, str(article.slug) if explicit else post.key)
        if scan.folder is not None:
            self._folders_used.add(scan.folder.name)
        fingerprint = (post, str(scan.folder), scan.files, self.archive.stamp(post.key))
        cached = self.threads.get(post.key, fingerprint)
        if cached is None:
            cached = self._build(post, scan, fingerprint)
        # Problems are told on every build until they are fixed.
        for problem in cached.problems:
            self.report(problem)
        result = cached.engagement
        if counted:
            self.posts += 1
            self.items += len(result.thread.items)
            self.waiting += len(result.thread.waiting)
        return result

    def jobs(self, articles: Iterable[Any]) -> list[Job]:
        """Fetch jobs from each article's ``mastodon:`` metadata.

        A value that is not a status URL is a problem the author must fix,
        named with the article's file.
        """
        wanted = [
            (article, str((getattr(article, "metadata", {}) or {}).get("mastodon") or ""))
            for article in articles
            if not is_opted_out(article)
        ]
        wanted = [(article, raw) for article, raw in wanted if raw.strip()]
        if not wanted:
            return []
        from .sources import mastodon  # and with it requests: only when needed

        found: list[Job] = []
        for article, raw in wanted:
            published = getattr(article, "date", None) or datetime.now(timezone.utc)
            if published.tzinfo is None:
                published = published.replace(tzinfo=timezone.utc)
            for url in filter(None, (u.strip() for u in raw.split(","))):
                try:
                    found.append(mastodon.job_for(post_key(article), url, published))
                except ValueError as exc:
                    origin = display_path(Path(getattr(article, "source_path", "") or "."))
                    self.report(Problem(origin, f"metadata 'mastodon': {exc}"))
        return found

    def fetch(
        self,
        articles: Iterable[Any],
        force: bool = False,
        progress: Callable[[Job], None] | None = None,
        select: Callable[[Job], bool] | None = None,
    ) -> tuple[Summary, int]:
        """Fetch what is due for ``articles``; the summary and the job count."""
        from .fetch import Fetcher, Refresh, Summary

        jobs = [j for j in self.jobs(articles) if select is None or select(j)]
        if not jobs:
            return Summary(), 0
        # Imported here: requests alone costs a build that fetches nothing
        # (offline, or no announcements) a tenth of a second.
        from .http import Client
        from .sources import mastodon

        token = os.environ.get(self.settings.mastodon_token_env, "")
        client = Client(secrets=[token])
        sources = {
            "mastodon": mastodon.MastodonSource(
                client, token=token, reactions=self.settings.mastodon_reactions
            )
        }
        fetcher = Fetcher(
            self.archive,
            sources,
            refresh=Refresh(**self.settings.refresh),
            concurrency=self.settings.concurrency,
            budget_seconds=self.settings.fetch_budget,
        )
        due = fetcher.due(jobs, force=force)
        summary = fetcher.run(due, progress=progress) if due else Summary()
        summary.requests = client.requests
        client.close()
        return summary, len(jobs)

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
                display_path(folder),
                "matches no article, so its comments are not shown; if the post was "
                f"renamed, add 'engage_key: {folder.name}' to its metadata",
            )
            for folder in sorted(root.iterdir())
            if folder.is_dir() and folder.name not in self._folders_used
        ]

    def _build(self, post: Post, scan: Scan, fingerprint: Any) -> CachedThread:
        items, problems, parsed = self.local.read(post.key, scan, self._previous(post.key))
        archived, archive_problems = self.archived_items(post.key)
        thread, more = build_thread(
            post,
            [*items, *archived],
            self.settings.author,
            acknowledged=self.acknowledged,
        )
        files = {
            name: (stamp, None, (c.problem,), "")
            if isinstance(c, Skipped)
            else (stamp, c.replyto, c.problems, c.item.id)
            for name, (stamp, c) in parsed.items()
        }
        entry = CachedThread(
            fingerprint,
            engagement(thread, self.settings.display_depth),
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
