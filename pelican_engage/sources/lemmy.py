"""Lemmy: posts linking a post of the blog, and their comments, on the
instances ENGAGE_LEMMY lists.

One job per article and instance (``job.target``: the instance's base URL,
the article's URL, then its ``old_urls``, space-separated).  A fetch asks
the instance's ``/api/v3/search?type_=Url`` once per URL (Lemmy matches
part of the URL, so the form without the trailing slash finds both; the
answers are then kept only when the link is one of the post's URLs), adds
the posts found before (kept in the cursor), and reads each post's
``/api/v3/comment/list``, paged.  The parsing is in ``lemmy_parse.py``.

A post federates: the same post (one ``ap_id``) has another id on each
instance.  When its home instance is listed too, only that instance's job
reads it; otherwise each copy is read and dedup keeps one (items carry
their ``ap_id``), so a post and each of its comments count once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import checks
from ..deepjson import json_object
from ..errors import AccessDenied, FetchError, SourceUnavailable
from ..fetch import Job, Result, Source
from ..model import Item, Problem
from ..parsed import Skipped, entry_reason
from . import lemmy_parse as parse
from .discussion import RequestCap, article_urls
from .network import ArticleView, FetchSetup, Network

if TYPE_CHECKING:
    from ..http import Client

SOURCE = parse.SOURCE
#: Search and comment pages hold at most 50 entries.
PER_PAGE = 50
#: Search pages per URL, comment pages per post and fetch.
MAX_SEARCH_PAGES = 2
MAX_COMMENT_PAGES = 10
#: Posts whose comments are read per instance and fetch.
MAX_POSTS = 20


def _plain(url: str) -> str:
    """A link for comparison: no scheme, lower-case host, no final slash."""
    parts = urlsplit(url.strip())
    rest = parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")
    return f"{parts.netloc.casefold()}{rest}"


class LemmySource:
    """Fetches one article's posts and comments on one instance per job."""

    name = SOURCE

    def __init__(self, client: Client, settings: LemmySettings) -> None:
        self.client = client
        self.settings = settings
        self.cap = RequestCap(SETTING, settings.max_requests)
        self.hosts = {urlsplit(base).netloc for base in settings.instances}

    def _get(self, base: str, path: str, params: Mapping[str, Any]) -> Any:
        self.cap.take()
        try:
            return self.client.get(f"{base}{path}", params=params).json()
        except FetchError as exc:
            if exc.status in (401, 403):
                raise AccessDenied(
                    exc.url,
                    f"{urlsplit(base).netloc} refuses anonymous API reads (HTTP {exc.status}); "
                    f"take it out of {SETTING}['instances']",
                    exc.status,
                ) from None
            raise

    def search(self, base: str, urls: list[str]) -> list[Mapping[str, Any]]:
        """PostViews on ``base`` whose link is one of ``urls``, once each."""
        wanted = {_plain(u) for u in urls}
        found: dict[Any, Mapping[str, Any]] = {}
        asked: set[str] = set()
        for url in urls:
            query = url.rstrip("/")
            if query in asked:
                continue
            asked.add(query)
            for page in range(1, MAX_SEARCH_PAGES + 1):
                answer = self._get(
                    base,
                    "/api/v3/search",
                    {"q": query, "type_": "Url", "listing_type": "All", "sort": "New",
                     "limit": PER_PAGE, "page": page},
                )  # fmt: skip
                try:
                    views = parse.posts(answer)
                except ValueError as exc:
                    raise FetchError(f"{base}/api/v3/search", str(exc)) from None
                for view in views:
                    post = json_object(view.get("post"))
                    if _plain(str(post.get("url") or "")) in wanted:
                        found.setdefault(post.get("id"), view)
                if len(views) < PER_PAGE:
                    break
        return list(found.values())

    def comments(
        self, base: str, post_id: int
    ) -> tuple[list[Mapping[str, Any]], bool, FetchError | None]:
        """A post's CommentViews, whether pages were left unread, and the
        error that stopped a later page (the pages before it are kept: the
        ``path`` of each comment threads it without the others).  A failed
        first page raises."""
        views: list[Mapping[str, Any]] = []
        for page in range(1, MAX_COMMENT_PAGES + 1):
            try:
                answer = self._get(
                    base,
                    "/api/v3/comment/list",
                    {"post_id": post_id, "type_": "All", "sort": "Old", "limit": PER_PAGE,
                     "page": page},
                )  # fmt: skip
                try:
                    found = parse.comments(answer)
                except ValueError as exc:
                    raise FetchError(f"{base}/api/v3/comment/list", str(exc)) from None
            except FetchError as exc:
                if not views:
                    raise
                return views, True, exc
            views += found
            if len(found) < PER_PAGE:
                return views, False, None
        return views, True, None

    def _elsewhere(self, view: Mapping[str, Any], host: str) -> bool:
        """The post's home is another listed instance, whose job reads it."""
        ap_id = str(json_object(view.get("post")).get("ap_id") or "")
        home = urlsplit(ap_id).netloc
        return bool(home) and home != host and home in self.hosts

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        base, url, *old = job.target.split(" ")
        host = urlsplit(base).netloc
        urls = article_urls(
            ArticleView(job.post_key, url, job.published, {"old_urls": ",".join(old)})
        )
        known = cursor.get("posts")
        known_ids = [
            k for k in (known if isinstance(known, list) else []) if type(k) is int
        ]  # fmt: skip
        searched = True
        try:
            views = self.search(base, urls)
        except FetchError as exc:
            if not known_ids or isinstance(exc, SourceUnavailable):
                raise
            views = []  # the posts found before are still read
            searched = False
        by_id: dict[int, Mapping[str, Any] | None] = {}
        for hit in views:
            post_id = json_object(hit.get("post")).get("id")
            if isinstance(post_id, int) and not self._elsewhere(hit, host):
                by_id[post_id] = hit
        for post_id in known_ids:
            by_id.setdefault(post_id, None)
        items: list[Item] = []
        skipped: list[Skipped] = []
        gone: list[str] = []
        cut: list[int] = []
        ap_seen: set[str] = set()
        out: dict[str, list[int]] = {"posts": sorted(by_id)}
        for post_id, view in list(by_id.items())[:MAX_POSTS]:
            if view is not None:
                try:
                    withdrawn = parse.post_gone(view)
                except ValueError as exc:
                    skipped.append(Skipped(str(post_id), entry_reason(exc), "post"))
                    continue
                if withdrawn:
                    gone.append(f"{SOURCE}:{host}/post/{post_id}")
                    out["posts"].remove(post_id)  # not asked for again
                    continue
                ap_id = str(json_object(view.get("post")).get("ap_id") or "")
                if ap_id and ap_id in ap_seen:
                    continue  # listed twice on this instance: read once
                ap_seen.add(ap_id)
                try:
                    items.append(parse.parse_post(view, host, base))
                except (KeyError, TypeError, ValueError) as exc:
                    skipped.append(Skipped(str(post_id), entry_reason(exc), "post"))
                    continue
            try:
                views_of, more, page_error = self.comments(base, post_id)
            except FetchError as exc:
                return Result(
                    tuple(items), out, error=exc, gone=tuple(gone), skipped=tuple(skipped)
                )
            if view is None and not views_of:
                # Not found by a search that answered, and nothing to read:
                # not asked for again.  After a failed search it is kept.
                if searched:
                    out["posts"].remove(post_id)
                continue
            if view is None:
                # Known from before and not found by this search: its
                # comments' answers carry the post too.
                post_view = next((v for v in views_of if v.get("post")), None)
                if post_view is not None:
                    try:
                        if parse.post_gone(post_view):
                            # Deleted or removed since: withdrawn, as when a
                            # search shows it so, and not asked for again.
                            gone.append(f"{SOURCE}:{host}/post/{post_id}")
                            out["posts"].remove(post_id)
                            continue
                        items.append(parse.parse_post(post_view, host, base))
                    except (KeyError, TypeError, ValueError) as exc:
                        skipped.append(Skipped(str(post_id), entry_reason(exc), "post"))
            found, problems, deleted = parse.thread(views_of, host, base, post_id)
            items += found
            skipped += problems
            gone += deleted
            if page_error is not None:
                # What came is archived; the job stays due for the rest.
                return Result(
                    tuple(items), out, error=page_error, gone=tuple(gone), skipped=tuple(skipped)
                )
            if more:
                cut.append(post_id)
        notes = []
        if cut:
            notes.append(
                f"more than {MAX_COMMENT_PAGES * PER_PAGE} comments on {host} post(s) "
                f"{', '.join(map(str, cut))}; the rest comes with later fetches"
            )
        if len(by_id) > MAX_POSTS:
            notes.append(
                f"{len(by_id) - MAX_POSTS} post(s) on {host} past the first {MAX_POSTS} not read"
            )
        notice = "; ".join(notes)
        return Result(tuple(items), out, gone=tuple(gone), skipped=tuple(skipped), notice=notice)


# -- The network's declaration (see sources/registry.py) ------------------------------

SETTING = "ENGAGE_LEMMY"
SETTING_KEYS = frozenset({"instances", "max_requests"})
_PROFILE = re.compile(r"([a-z0-9.-]+(?::\d+)?)/u/([\w]+)", re.ASCII)
_OBJECT = re.compile(r"([a-z0-9.-]+(?::\d+)?)/(post|comment)/(\d+)", re.ASCII)


@dataclass(frozen=True)
class LemmySettings:
    """ENGAGE_LEMMY, checked; ``enabled`` when the setting is a dict."""

    enabled: bool = False
    #: Base URLs of the instances searched, in order (``https://lemmy.world``).
    instances: tuple[str, ...] = ("https://lemmy.world",)
    #: Requests per build, all instances and posts together.
    max_requests: int = 60


def _instance(value: str) -> str:
    """``lemmy.world`` -> ``https://lemmy.world``; a URL keeps its scheme."""
    if "://" not in value:
        value = f"https://{value}"
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        raise ValueError("bad port") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path.strip("/"):
        raise ValueError(value)
    return f"{parts.scheme}://{parts.netloc.casefold()}"


def load_settings(settings: Mapping[str, Any]) -> LemmySettings:
    """ENGAGE_LEMMY of the Pelican settings; SettingsError names a bad key."""
    section = checks.section(settings, SETTING, SETTING_KEYS)
    defaults = LemmySettings()
    key = f"{SETTING}['instances']"
    raw = checks.strings(key, section.get("instances", list(defaults.instances)))
    instances: list[str] = []
    for value in raw:
        try:
            base = _instance(value)
        except ValueError:
            raise checks.SettingsError(
                key,
                f"expected instance host names such as 'lemmy.world' (or base URLs), got {value!r}",
            ) from None
        if base not in instances:
            instances.append(base)
    if not instances:
        raise checks.SettingsError(key, "expected at least one instance, such as 'lemmy.world'")
    max_requests = section.get("max_requests", defaults.max_requests)
    return LemmySettings(
        enabled=settings.get(SETTING) is not None,
        instances=tuple(instances),
        max_requests=int(checks.number(max_requests, f"{SETTING}['max_requests']", 1, whole=True)),
    )


def _article_jobs(settings: LemmySettings, article: ArticleView) -> tuple[list[Job], list[Problem]]:
    """Every article is looked up on each instance by its URL (and ``old_urls``)."""
    if not settings.enabled:
        return [], []
    if not article.url:
        return [], [Problem(SETTING, "needs SITEURL: Lemmy is searched by each article's URL")]
    urls = [article.url, *(u for u in article.values("old_urls") if " " not in u)]
    return [
        Job(article.key, SOURCE, " ".join([base, *urls]), urlsplit(base).netloc, article.published)
        for base in settings.instances
    ], []


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    return {SOURCE: LemmySource(setup.client, setup.settings)}


def _url_keys(plain: str) -> set[str]:
    match = _OBJECT.fullmatch(plain.rstrip("/"))
    if not match:
        return set()
    host, kind, number = match.groups()
    return {f"{SOURCE}:{host}/post/{number}" if kind == "post" else f"{SOURCE}:{host}/{number}"}


def _item_keys(item: Item) -> set[str]:
    ap_id = str(item.extras.get("ap_id") or "") if item.extras else ""
    return {item.id, parse.ap_key(ap_id)} if ap_id else {item.id}


def _profile(plain: str) -> str | None:
    match = _PROFILE.fullmatch(plain.rstrip("/"))
    return f"{match[2]}@{match[1]}" if match else None


NETWORK = Network(
    name=SOURCE,
    display="Lemmy",
    # Its mark, 16x16 in currentColor: a lemming's round face with two ears and eyes.
    icon=(
        "M8 4.2c3.3 0 6 2.2 6 5s-2.7 4.6-6 4.6-6-1.8-6-4.6 2.7-5 6-5zM5.6 8.6a.9.9 0 1 0 0 1.8"
        ".9.9 0 1 0 0-1.8zm4.8 0a.9.9 0 1 0 0 1.8.9.9 0 1 0 0-1.8zM3.2 5.6 2 2.2l3.3 1.6z"
        "M12.8 5.6 14 2.2l-3.3 1.6z"
    ),
    discussion=True,
    setting=SETTING,
    setting_keys=SETTING_KEYS,
    setting_default=None,  # off; a dict (even {}) turns it on
    load_settings=load_settings,
    fetchers=_fetchers,
    article_jobs=_article_jobs,
    url_keys=_url_keys,
    item_keys=_item_keys,
    profile=_profile,
)
