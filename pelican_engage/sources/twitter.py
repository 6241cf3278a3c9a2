"""Twitter / X: the replies to a post's announcement tweets, as items.

The pure parts live beside this module: ``twitter_text`` (a ``tweet:``
value -> tweet id, tweet text with its entities -> safe HTML) and
``twitter_answers`` (X API v2 answers -> items); they are re-exported here.
This module fetches.  X bills per read, so every call goes through one
per-build request cap, and a conversation is searched with ``since_id``
after its first fetch.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import checks
from ..errors import AccessDenied, FetchError, SourceUnavailable
from ..fetch import Job, Result, Source
from ..model import Item
from ..parsed import Skipped
from .network import ArticleView, FetchSetup, Network, figures
from .twitter_answers import (
    _dict,
    _list,
    _newest,
    _parent,
    _time,
    conversations,
    not_found,
    parse_announcement,
    parse_search,
    parse_tweet,
    parse_user,
    read_search,
    tweet_content,
    versions,
)
from .twitter_text import (
    SOURCE,
    WEB,
    TweetRef,
    parse_tweet_ref,
    reply_intent,
    tweet_html,
    tweet_time,
    tweet_url,
)

if TYPE_CHECKING:
    from ..http import Client

__all__ = [
    "SOURCE",
    "WEB",
    "TweetRef",
    "conversations",
    "not_found",
    "parse_announcement",
    "parse_search",
    "parse_tweet",
    "parse_tweet_ref",
    "parse_user",
    "reply_intent",
    "tweet_content",
    "tweet_html",
    "tweet_time",
    "tweet_url",
    "versions",
]

API_URL = "https://api.x.com"
#: ``note_tweet`` holds the whole text of a post over 280 characters (``text``
#: is then cut, ending in "…"); X sends it only when asked for.
#: ``attachments`` names a reply's pictures and videos.
TWEET_FIELDS = (
    "author_id,conversation_id,created_at,in_reply_to_user_id,referenced_tweets,"
    "public_metrics,entities,note_tweet,attachments,edit_history_tweet_ids"
)
#: ``referenced_tweets.id`` brings the parents of replies, even those older
#: than the search window; ``.author_id`` brings their authors;
#: ``attachments.media_keys`` the alt text of their media.
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id,attachments.media_keys"
USER_FIELDS = "name,username,profile_image_url,url"
MEDIA_FIELDS = "type,url,alt_text,preview_image_url"
#: The lookup also asks until when the announcement can still be edited.
LOOKUP_FIELDS = TWEET_FIELDS + ",edit_controls"
SEARCH_PATHS = {"recent": "/2/tweets/search/recent", "all": "/2/tweets/search/all"}
#: Recent search refuses a since_id older than its window (HTTP 400).
RECENT_WINDOW = timedelta(days=6, hours=20)


# -- Fetching ----------------------------------------------------------------


class RequestCapReached(SourceUnavailable):
    def __init__(self, cap: int) -> None:
        super().__init__(
            "X API",
            f"ENGAGE_TWITTER['max_requests'] ({cap}) reached; the rest waits for the next build",
        )


_ACCESS = {
    "recent": "recent search (GET /2/tweets/search/recent) needs pay-per-use credits "
    "or a paid access level",
    "all": "full-archive search (GET /2/tweets/search/all) needs pay-per-use credits "
    "or an Enterprise plan",
}


def job_for(post_key: str, value: str, published: datetime, api_url: str = API_URL) -> Job:
    """The fetch job of one ``tweet:`` value of a post."""
    ref = parse_tweet_ref(value)
    host = urlsplit(api_url).netloc or api_url
    return Job(post_key=post_key, source=SOURCE, target=ref.id, host=host, published=published)


class TwitterSource:
    """Fetches the replies to announcement tweets through X API v2.

    The bearer token comes from the environment only.  One source object
    serves a whole build, so the request cap counts across all posts.
    """

    name = SOURCE

    def __init__(
        self,
        client: Client,
        token: str,
        api_url: str = API_URL,
        search: str = "recent",
        max_requests: int = 50,
        token_env: str = "ENGAGE_TWITTER_BEARER_TOKEN",
        clock: Any = None,
    ) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        self.api_url = api_url.rstrip("/")
        self.search = search
        self.max_requests = max_requests
        self.token_env = token_env
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._calls = 0
        self._lock = threading.Lock()

    def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        with self._lock:
            if self._calls >= self.max_requests:
                raise RequestCapReached(self.max_requests)
            self._calls += 1
        try:
            return self.client.get(self.api_url + path, params=params, headers=self.headers).json()
        except FetchError as exc:
            raise self._explain(exc, path) from None

    def _explain(self, exc: FetchError, path: str) -> FetchError:
        """Say which access is missing, once, for the whole source."""
        if exc.status == 401:
            return AccessDenied(
                exc.url,
                f"X rejected the bearer token in ${self.token_env} (401 Unauthorized); "
                "create a new one in the X Developer Console",
                401,
            )
        if exc.status == 403:
            problem = exc.body.decode("utf-8", "replace")
            if "client-not-enrolled" in problem or "client-forbidden" in problem:
                need = _ACCESS[self.search] if "search" in path else "this endpoint"
                return AccessDenied(
                    exc.url,
                    f"403 client-not-enrolled: your X app has no access to {need}; "
                    "the app must belong to a Project in the X Developer Console",
                    403,
                )
            return AccessDenied(exc.url, f"403 Forbidden by X: {problem[:200]}", 403)
        return exc

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        root = job.target
        info = dict(cursor.get("announcement") or {})
        editable = _time(info.get("editable_until"))
        if (
            not info.get("conversation_id")
            # Archived before edits were followed: learn the versions once.
            or "versions" not in info
            # Still editable: an edit would start a conversation of its own.
            or (editable is not None and self._clock() < editable)
        ):
            answer = self._get(
                f"/2/tweets/{root}",
                {
                    "tweet.fields": LOOKUP_FIELDS,
                    "expansions": "author_id",
                    "user.fields": "username",
                },
            )
            found = parse_announcement(answer, root)
            if found is None:
                # Deleted upstream: keep what is archived, stop asking.
                return Result((), {"deleted": True})
            info = {**info, **found}
        versions_ = [str(v) for v in _list(info.get("versions"))]
        main, *others = conversations(info, root)
        old_since = _dict(cursor.get("since_ids"))
        out: dict[str, Any] = {"announcement": info}
        items: list[Item] = []
        skipped: list[Skipped] = []
        gone: set[str] = set()
        error: Exception | None = None
        since_ids = {c: str(v) for c, v in old_since.items() if c in others}
        for conversation in [main, *others]:
            since = str(cursor.get("since_id") or "") if conversation == main else ""
            since = since or str(old_since.get(conversation) or "")
            found_items, newest, missing, error = self._conversation(
                root, info, conversation, since, versions_, skipped
            )
            items.extend(found_items)
            gone |= missing
            if error is not None:
                # Pages were missed: search from the old point again next time.
                newest = since
            if newest and conversation == main:
                out["since_id"] = newest
            elif newest:
                since_ids[conversation] = newest
            if error is not None:
                break
        if since_ids:
            out["since_ids"] = since_ids
        if main not in {root, *versions_}:
            # Later pages hold only new tweets: remember which ones are ours.
            branch = {*info.get("branch", ()), *(i.id.removeprefix("twitter:") for i in items)}
            info["branch"] = sorted(branch, key=lambda t: (len(t), t))
        # X said "Could not find tweet" for these ids (a reply's parent):
        # confirmed gone, so archived copies become tombstones.
        gone -= {root, *versions_}
        return Result(
            tuple(items),
            out,
            error,
            gone=tuple(f"twitter:{i}" for i in sorted(gone)),
            skipped=tuple(skipped),
        )

    def _conversation(
        self,
        root: str,
        info: dict[str, Any],
        conversation: str,
        since: str,
        edits: list[str],
        skipped: list[Skipped],
    ) -> tuple[list[Item], str, set[str], Exception | None]:
        """The conversation's tweets since ``since``, the newest id, the ids
        X said are gone, and the error that stopped the paging early (what
        came before it is kept); malformed tweets are added to ``skipped``."""
        params: dict[str, Any] = {
            "query": f"conversation_id:{conversation}",
            "max_results": 100,
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
            "media.fields": MEDIA_FIELDS,
        }
        posted = tweet_time(since) if since else None
        if since and not (
            self.search == "recent" and posted and self._clock() - posted > RECENT_WINDOW
        ):
            params["since_id"] = since
        items: list[Item] = []
        gone: set[str] = set()
        newest = since
        announcement = {root, *edits}
        while True:
            try:
                page = self._get(SEARCH_PATHS[self.search], params)
            except FetchError as exc:
                # The lookup (and any page) already paid for is kept.
                return items, newest, gone, exc
            parsed = read_search(page, root, conversation, info.get("branch", ()), announcement)
            items.extend(parsed.items)
            skipped.extend(parsed.skipped)
            gone |= not_found(page)
            for tweet in _list(_dict(page.get("includes")).get("tweets")):
                if isinstance(tweet, Mapping) and str(tweet.get("id")) in announcement:
                    info["metrics"] = dict(_dict(tweet.get("public_metrics")))
            meta = _dict(page.get("meta"))
            newest = _newest([newest, str(meta.get("newest_id") or "")])
            token = meta.get("next_token")
            if not token:
                return items, newest, gone, None
            params["next_token"] = token

    def discover(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        """Find the author's tweet that links to the article (target: its URL)."""
        url, _sep, handle = job.target.rpartition(" from:")
        answer = self._get(
            SEARCH_PATHS[self.search],
            {
                "query": f'url:"{url}" from:{handle}',
                "max_results": 10,
                "tweet.fields": "author_id,created_at,conversation_id,referenced_tweets",
            },
        )
        tweets = [t for t in answer.get("data") or () if isinstance(t, Mapping) and t.get("id")]
        # The first tweet that is not itself a reply is the announcement.
        tweets.sort(key=lambda t: int(str(t["id"])) if str(t["id"]).isdigit() else 0)
        chosen = [t for t in tweets if _parent(t) is None] or tweets
        found = [tweet_url(str(chosen[0]["id"]), handle)] if chosen else []
        return Result((), {"found": found})


class TwitterDiscovery:
    """The discovery search as its own source name, so its cursor and due
    times are kept apart from the conversations'."""

    name = "twitter-discover"

    def __init__(self, twitter: TwitterSource) -> None:
        self.twitter = twitter

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        return self.twitter.discover(job, cursor)


# -- The network's declaration (see sources/registry.py) ------------------------------

SETTING = "ENGAGE_TWITTER"
SETTING_KEYS = frozenset({"api_url", "token_env", "search", "max_requests", "discover"})
#: A tweet URL in dedup's normal form (no scheme, no www.).
_TWEET = re.compile(
    r"^(?:www\.|mobile\.)?(?:twitter|x)\.com/(?:i(?:/web)?|[A-Za-z0-9_]{1,15})"
    r"/status(?:es)?/(\d+)",
    re.IGNORECASE,
)
_PROFILE = re.compile(r"(?:mobile\.)?(?:twitter|x)\.com/(\w{1,15})", re.ASCII)


@dataclass(frozen=True)
class TwitterSettings:
    """ENGAGE_TWITTER, checked."""

    api_url: str = API_URL
    token_env: str = "ENGAGE_TWITTER_BEARER_TOKEN"
    #: "recent" (last 7 days) or "all" (full archive; costlier access).
    search: str = "recent"
    #: X bills per read: at most this many API calls per build.
    max_requests: int = 50
    #: Look for the author's tweet linking to posts without ``tweet:``.
    discover: bool = False


def load_settings(settings: Mapping[str, Any]) -> TwitterSettings:
    """ENGAGE_TWITTER of the Pelican settings; SettingsError names a bad key."""
    key = SETTING
    section = checks.section(settings, key, SETTING_KEYS)
    defaults = TwitterSettings()
    search = section.get("search", defaults.search)
    if search not in ("recent", "all"):
        raise checks.SettingsError(
            f"{key}['search']", f"expected 'recent' or 'all', got {search!r}"
        )
    discover = checks.flag(section, key, "discover", defaults.discover)
    max_requests = section.get("max_requests", defaults.max_requests)
    return TwitterSettings(
        api_url=checks.api_url(section, key, defaults.api_url),
        token_env=checks.env_name(section, key, defaults.token_env),
        search=search,
        max_requests=int(checks.number(max_requests, f"{key}['max_requests']", 1, whole=True)),
        discover=discover,
    )


def _unready(settings: TwitterSettings, secrets: Mapping[str, str], jobs: int) -> str:
    if secrets.get(settings.token_env):
        return ""
    return (
        f"no bearer token in ${settings.token_env}; {jobs} announcement(s) not fetched, "
        "archived tweets are still shown"
    )


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    settings: TwitterSettings = setup.settings
    token = setup.secrets.get(settings.token_env, "")
    if not token:
        return {}
    x = TwitterSource(
        setup.client,
        token,
        api_url=settings.api_url,
        search=settings.search,
        max_requests=settings.max_requests,
        token_env=settings.token_env,
    )
    return {x.name: x, TwitterDiscovery.name: TwitterDiscovery(x)}


def discovery_target(settings: TwitterSettings, engage: Any, article: ArticleView) -> str | None:
    """``<article URL> from:<handle>`` when discovery applies to the article:
    it is on, the author's X handle is known, the article has a URL and no
    ``tweet:`` of its own."""
    handles = sorted(engage.author.handles.get(SOURCE, ()))
    if not settings.discover or not handles or not article.url or article.values("tweet"):
        return None
    return f"{article.url} from:{handles[0]}"


def discovered(settings: TwitterSettings, engage: Any, article: ArticleView) -> list[str]:
    """The author's tweets discovery found linking to the article (archived)."""
    target = discovery_target(settings, engage, article)
    if target is None:
        return []
    cursor = article.cursors().get(f"{TwitterDiscovery.name}:{target}")
    found = cursor.get("found") if isinstance(cursor, Mapping) else None
    return [str(u) for u in found if isinstance(u, str)] if isinstance(found, list) else []


def discovery_jobs(
    settings: TwitterSettings, engage: Any, article: ArticleView, now: datetime
) -> list[Job]:
    """The search for the author's tweet linking to a young post.

    Recent search sees 7 days back, so older posts are only searched with
    full-archive access.
    """
    target = discovery_target(settings, engage, article)
    if target is None or discovered(settings, engage, article):
        return []
    if settings.search == "recent" and now - article.published > RECENT_WINDOW:
        return []
    host = urlsplit(settings.api_url).netloc
    return [Job(article.key, TwitterDiscovery.name, target, host, article.published)]


def _url_keys(plain: str) -> set[str]:
    match = _TWEET.match(plain)
    return {f"twitter:{match[1]}"} if match else set()


def _profile(plain: str) -> str | None:
    match = _PROFILE.fullmatch(plain)
    return match[1] if match else None


NETWORK = Network(
    name=SOURCE,
    display="X",
    # Its mark, 16x16 in currentColor: two crossed strokes.
    icon="M2 2h3.2l3.2 4.4L12.2 2H14l-4.8 5.6L14.5 14h-3.2L7.9 9.4 3.8 14H2l5-5.8z",
    metadata=("tweet",),
    job=lambda key, value, published, settings: job_for(key, value, published, settings.api_url),
    announcement=lambda value: parse_tweet_ref(value).url,
    setting=SETTING,
    setting_keys=SETTING_KEYS,
    load_settings=load_settings,
    secrets=lambda settings: (settings.token_env,),
    unready=_unready,
    fetchers=_fetchers,
    fetch_names=(SOURCE, TwitterDiscovery.name),
    billed=True,
    url_keys=_url_keys,
    bridgy_key=lambda _user, leaf: f"twitter:{leaf}",
    item_keys=lambda item: {item.id},
    profile=_profile,
    discovered=discovered,
    discovery_jobs=discovery_jobs,
    counts=lambda cursor: figures(cursor, "announcement.metrics", "like_count", "retweet_count"),
)
