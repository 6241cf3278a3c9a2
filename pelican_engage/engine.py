"""From a Pelican article to its conversation: shared by the plugin and the CLI.

The engine owns the per-build resources (settings, archive, local comment
reader); how articles map to post keys and jobs is ``articles.py``.  It does
no rendering and never touches the network: fetching is ``fetching.py``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import __version__
from . import articles as arts
from .archive import Archive, ArchiveError, PostRecord, is_forgotten
from .articles import (  # noqa: F401  (re-exported: the plugin and the CLI import them here)
    ANNOUNCEMENT_KEYS,
    announcements,
    article_lists,
    engage_key_problem,
    has_engage_key,
    is_opted_out,
    metadata_values,
    post_key,
    post_of,
)
from .cache import _RECENT, CachedThread, LazyEngagement, Summary, ThreadCache
from .conversation import Engagement, build_thread, engagement
from .fetch import Job
from .model import Item, Post, Problem, Thread, Tombstone
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
from .sources.local_files import printable_name
from .sources.registry import BY_NAME, NETWORKS

logger = logging.getLogger(__name__)


def announced(cursors: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Like and repost counts each network gave for a post's announcements
    (network -> "like"/"repost" -> count), from its archived cursors.

    One announcement may have several cursors (its URL changed form in the
    metadata): each post counts once, with its latest figures.  Each network
    says where its counts are (``Network.counts``).
    """
    latest: dict[tuple[str, str], tuple[str, int, int]] = {}
    for name, cursor in cursors.items():
        network = BY_NAME.get(str(name).split(":", 1)[0])
        # The archive is committed and editable: odd values are skipped.
        if network is None or network.counts is None or not isinstance(cursor, Mapping):
            continue
        likes, reposts = network.counts(cursor)
        which = str(cursor.get("uri") or cursor.get("status") or name)
        figures = (str(cursor.get("fetched_at") or ""), likes, reposts)
        if (network.name, which) not in latest or latest[(network.name, which)] < figures:
            latest[(network.name, which)] = figures
    totals: dict[str, dict[str, int]] = {}
    for (source, _which), (_when, likes, reposts) in latest.items():
        slot = totals.setdefault(source, {"like": 0, "repost": 0})
        slot["like"] += likes
        slot["repost"] += reposts
    return totals


def _salt(engine: Engine) -> str:
    """Everything all threads depend on, besides their own inputs."""
    author = engine.settings.author
    templates = sorted((p.name, p.stat().st_mtime_ns) for p in TEMPLATES.glob("engage/*.html"))
    return json.dumps(
        {
            "version": __version__,
            "names": author.names,
            "emails": sorted(author.emails),
            "urls": sorted(author.urls),
            "handles": {k: sorted(v) for k, v in author.handles.items()},
            "depth": engine.settings.display_depth,
            "by_mention": engine.settings.answer_by_mention,
            # Networks' settings that change what pages show of their items.
            "networks": {
                n.name: repr(engine.settings.network(n.name)) for n in NETWORKS if n.shown
            },
            "timezone": engine.settings.timezone,
            "settings": engine.settings.salt,
            "templates": templates,
            "acks": engine.archive.acks_stamp(),
            "acknowledged": sorted(engine.acknowledged),
            "forgotten": engine.archive.forgotten_stamp(),
        },
        sort_keys=True,
    )


#: ``after(article, engagement)``: work done on a thread just built, in the
#: process that built it; True when it did something (counted as prepared).
After = Callable[[Any, LazyEngagement], bool]


@dataclass(frozen=True, slots=True)
class Plan:
    """One article's inputs, gathered before its thread is built (or found)."""

    article: Any
    post: Post
    scan: Scan
    #: Everything the thread is built from (see :func:`inputs`).
    fingerprint: Any
    #: The cached thread's token and summary; None: it must be built.
    hit: tuple[str, Summary] | None


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
    #: Archive files read and checked by this build (a warm build reads
    #: only those of posts whose inputs changed).
    archive_reads: int = 0
    #: Threads given to ``after`` by :func:`engage_all` (rendered ahead).
    prepared: int = 0
    archive: Archive = field(init=False)
    local: LocalComments = field(init=False)
    acknowledged: frozenset[str] = field(init=False)
    #: Digests of the people erased on request (``forget --person``).
    forgotten: frozenset[str] = field(init=False)
    threads: ThreadCache = field(init=False)
    _folders_used: set[str] = field(init=False, default_factory=set)
    #: The articles' Posts, from the fetch jobs to the plan.
    post_memo: arts.Posts = field(init=False)
    #: The published posts' conversations of this build (read lazily).
    counted: list[LazyEngagement] = field(init=False, default_factory=list)
    #: False (the CLI, whose SITEURL is not the build's): the build cache
    #: is read but not written, and threads are held in memory.
    persist: bool = True

    def __post_init__(self) -> None:
        self.archive = Archive(self.settings.archive_path, self.settings.cache_path / "unsaved")
        self.post_memo = arts.Posts(self.settings.siteurl)
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
        self.threads = ThreadCache(self.settings.cache_path, _salt(self), site, self.persist)

    def report(self, problem: Problem) -> None:
        """Log a problem the user must fix, once per build."""
        if problem not in self.problems:
            self.problems.append(problem)
            logger.warning("engage: %s", problem)

    @property
    def counted_threads(self) -> LazyThreads:
        """The published posts' threads, each read when it is reached."""
        return LazyThreads(self.counted)

    def archived(self, key: str) -> tuple[PostRecord | None, list[Problem]]:
        """The post's archive record as pages read it (not kept; a malformed
        item left out with a problem naming the file and the item, its
        siblings shown), or None and why when the file is damaged."""
        try:
            record = self.archive.load(key, keep=False, lenient=True)
        except ArchiveError as exc:
            return None, [Problem("", str(exc))]
        path = self.archive.post_path(key)
        return record, [
            Problem("", f"{path}: {why}; left out of the page, the file left as it is")
            for why in record.malformed
        ]

    def archived_items(self, key: str) -> tuple[list[Item], list[Problem]]:
        record, problems = self.archived(key)
        return (list(record.items.values()) if record else []), problems

    def tombstones(
        self, key: str, items: Iterable[Item] = (), record: PostRecord | None = None
    ) -> list[Tombstone]:
        """The post's tombstones, and stand-in ones for ``items`` (local
        comments) by people erased on request."""
        try:
            record = record or self.archive.load(key, keep=False, lenient=True)
            stones = list(record.tombstones.values())
        except ArchiveError:
            stones = []  # the build reports the damaged file already
        if self.forgotten:
            stones += [
                Tombstone(i.id, i.source, i.published, "forgotten", i.in_reply_to)
                for i in items
                if is_forgotten(i, self.forgotten)
            ]
        return stones

    def _announced(self, key: str, record: PostRecord | None = None) -> dict[str, dict[str, int]]:
        try:
            return announced((record or self.archive.load(key, keep=False, lenient=True)).cursors)
        except ArchiveError:
            return {}

    def engage(self, article: Any, counted: bool = True) -> LazyEngagement:
        """The article's conversation; ``counted`` adds it to the build's totals."""
        plan = self.plan(article)
        return self.adopt(plan, self.build(plan), counted)

    def plan(self, article: Any) -> Plan:
        """What the article's thread is built from, and its cached summary
        when nothing of it changed."""
        post, scan, fingerprint = inputs(self, article)
        hit = self.threads.get(post.key, fingerprint)
        if hit is not None:
            # The cache's index holds an equal fingerprint: keep that one
            # alive, not two (at 2,000 posts, some 8,000 fewer objects for
            # the collector to walk at each full collection).
            fingerprint = self.threads.fingerprint(post.key)
            post = fingerprint[0]
        return Plan(article, post, scan, fingerprint, hit)

    def build(self, plan: Plan, after: After | None = None) -> LazyEngagement:
        """The plan's engagement: built from its sources, or the cached one."""
        if plan.hit is None:
            result = _build(self, plan.post, plan.scan, plan.fingerprint)
            if after is not None and after(plan.article, result):
                self.prepared += 1
            return result
        token, summary = plan.hit
        return LazyEngagement(summary, _Loader(self, plan.post, plan.scan, plan.fingerprint, token))

    def adopt(self, plan: Plan, result: LazyEngagement, counted: bool) -> LazyEngagement:
        """Count ``result`` in the build's totals and tell its problems."""
        summary = result.summary
        for problem in summary.problems:  # told on every build until fixed
            self.report(problem)
        if counted:
            self.counted.append(result)
            self.posts += 1
            self.items += summary.items
            self.waiting += summary.waiting
            self.hidden += summary.hidden
        return result

    def origin(self, article: Any) -> str:
        """The article's file, as problems name it."""
        return display_path(Path(getattr(article, "source_path", "") or "."))

    def jobs(self, articles: Iterable[Any]) -> list[Job]:
        """The fetch jobs of ``articles`` (see :func:`articles.jobs`); bad
        metadata is reported, named with the article's file."""
        return arts.jobs(
            articles, self.settings, self.archive, self.report, self.origin, self.post_memo.of
        )

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

    def finish(self, save: bool = True) -> None:
        _RECENT.clear()
        if save:
            self.threads.save()


def inputs(engine: Engine, article: Any, note: bool = True) -> tuple[Post, Scan, Any]:
    """The article's post, its comment files and the fingerprint of all its
    thread is built from; ``note``: its problems told, its folder noted as used."""
    # An article just read (note False: offered to the early worker) may
    # have its URL changed by other plugins yet: its Post is made afresh.
    post = engine.post_memo.take(article) if note else post_of(article, engine.settings.siteurl)
    if note and engage_key_problem(article):
        engine.report(Problem(engine.origin(article), engage_key_problem(article)))
    found = tuple(arts.discovered(article, engine.settings, engine.archive, post))
    if found:
        post = replace(post, announcements=post.announcements + found)
    # A renamed post (engage_key) may keep its comments under the new
    # slug; a translation only ever uses its own key's folder.
    explicit = has_engage_key(article)
    scan = engine.local.scan(post.key, str(article.slug) if explicit else post.key)
    if note and scan.folder is not None:
        engine._folders_used.add(scan.folder.name)
    elif note and scan.refused:  # told as a link, not again as "matches no article"
        engine._folders_used.update({post.key, str(article.slug)})
    fingerprint = (post, str(scan.folder), scan.files, scan.refused, engine.archive.stamp(post.key))
    return post, scan, fingerprint


def engage_all(
    engine: Engine,
    articles: Sequence[tuple[Any, bool]],
    after: After | None = None,
    workers: int = 1,
    early: Mapping[str, Sequence[tuple[Any, Any]]] | None = None,
) -> list[LazyEngagement]:
    """:meth:`Engine.engage` for each ``(article, counted)``, in order; the
    threads to build are built by up to ``workers`` processes (workers.py),
    and ``after(article, engagement)`` runs on each built one in the process
    that built it, while the thread is in hand.  ``early``: post key ->
    ``(fingerprint, workers.Built)`` of threads built while Pelican read the
    articles (prebuild.py), used when their fingerprint is still the plan's."""
    from . import workers as pool

    plans = [engine.plan(article) for article, _counted in articles]
    built: dict[int, LazyEngagement] = {}
    left = {key: list(found) for key, found in (early or {}).items()}
    for plan in plans:
        found = left.get(plan.post.key, [])
        match = next((n for n, (f, _b) in enumerate(found) if f == plan.fingerprint), None)
        if plan.hit is None and match is not None:  # each used once
            built[id(plan)] = pool.adopt(engine, plan, found.pop(match)[1])
    misses = [plan for plan in plans if plan.hit is None and id(plan) not in built]
    built.update(pool.build_all(engine, misses, after, workers))
    return [
        engine.adopt(plan, built.get(id(plan)) or engine.build(plan, after), counted)
        for plan, (_article, counted) in zip(plans, articles, strict=True)
    ]


class _Loader:
    """How a cached thread is read when asked for: from its file, or
    built again from its sources when that file is damaged or gone.

    A small object rather than a closure: one per post stays alive for the
    whole build, and a closure is six objects for the collector to walk.
    """

    __slots__ = ("engine", "fingerprint", "post", "scan", "token")

    def __init__(self, engine: Engine, post: Post, scan: Scan, fingerprint: Any, token: str):
        self.engine, self.post, self.scan = engine, post, scan
        self.fingerprint, self.token = fingerprint, token

    def __call__(self) -> Engagement:
        threads, key = self.engine.threads, self.post.key
        # The current token: a damaged file rebuilt once gets a new one.
        entry = threads.load(key, threads.token(key) or self.token)
        if entry is None or entry.fingerprint != self.fingerprint:
            return _build(self.engine, self.post, self.scan, self.fingerprint).get()
        return entry.engagement


def _build(engine: Engine, post: Post, scan: Scan, fingerprint: Any) -> LazyEngagement:
    items, problems, parsed = engine.local.read(post.key, scan, _previous(engine, post.key))
    # Read once for items, tombstones and counts, and not kept: a
    # build holds one post's archive at a time.
    record, archive_problems = engine.archived(post.key)
    engine.archive_reads += record is not None and fingerprint[-1] is not None  # its stamp
    archived = list(record.items.values()) if record is not None else []
    for network in NETWORKS:
        if network.shown:
            archived = network.shown(archived, engine.settings.network(network.name))
    thread, more = build_thread(
        post,
        [*items, *archived],
        engine.settings.author,
        acknowledged=engine.acknowledged,
        by_mention=engine.settings.answer_by_mention,
        tombstones=engine.tombstones(post.key, items, record),
    )
    files = {
        name: (stamp, None, (c.problem,), "")
        if isinstance(c, Skipped)
        else (stamp, c.replyto, c.problems, c.item.id)
        for name, (stamp, c) in parsed.items()
    }
    counts = engine._announced(post.key, record) if record is not None else {}
    entry = CachedThread(
        fingerprint,
        engagement(thread, engine.settings.display_depth, counts),
        (*problems, *archive_problems, *more),
        files,
    )
    summary = Summary.of(entry.engagement, entry.problems)
    written = engine.threads.put(post.key, entry, summary)
    token = engine.threads.token(post.key)
    return LazyEngagement(
        summary,
        _Loader(engine, post, scan, fingerprint, token),
        entry.engagement,
        keep=not written,
    )


def _previous(engine: Engine, key: str) -> dict[str, Parsed]:
    """The comment files of the post's last build, as parsed then."""
    old = engine.threads.previous(key)
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


class LazyThreads(Sequence[Thread]):
    """Threads of lazy engagements, each read when reached (and let go):
    the author's page walks a whole site's threads without holding them."""

    def __init__(self, engagements: Sequence[LazyEngagement]) -> None:
        self._engagements = engagements

    def __len__(self) -> int:
        return len(self._engagements)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [e.get().thread for e in self._engagements[index]]
        return self._engagements[index].get().thread

    def __iter__(self) -> Iterator[Thread]:
        return (e.get().thread for e in self._engagements)
