"""Twitter / X: the replies to a post's announcement tweets, as items.

Pure functions first (a ``tweet:`` value -> tweet id, tweet text with its
entities -> safe HTML, X API v2 answers -> items); the fetching class builds
on them.  X bills per read, so every call goes through one per-build request
cap, and a conversation is searched with ``since_id`` after its first fetch.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from ..errors import AccessDenied, FetchError, SourceUnavailable
from ..fetch import Job, Result
from ..model import Item, Person, parse_timestamp
from ..sanitize import clean_text, paragraphs_html, safe_url

if TYPE_CHECKING:
    from ..http import Client

SOURCE = "twitter"
API_URL = "https://api.x.com"
WEB = "https://x.com"
TWEET_FIELDS = (
    "author_id,conversation_id,created_at,in_reply_to_user_id,referenced_tweets,"
    "public_metrics,entities"
)
#: ``referenced_tweets.id`` brings the parents of replies, even those older
#: than the search window; ``.author_id`` brings their authors.
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id"
USER_FIELDS = "name,username,profile_image_url,url"
SEARCH_PATHS = {"recent": "/2/tweets/search/recent", "all": "/2/tweets/search/all"}
#: Recent search refuses a since_id older than its window (HTTP 400).
RECENT_WINDOW = timedelta(days=6, hours=20)
_TWITTER_EPOCH_MS = 1288834974657

_STATUS_URL = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/"
    r"(?:i(?:/web)?|(?P<user>[A-Za-z0-9_]{1,15}))/status(?:es)?/(?P<id>\d{1,20})(?:[/?#].*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TweetRef:
    id: str
    username: str = ""

    @property
    def item_id(self) -> str:
        return f"twitter:{self.id}"

    @property
    def url(self) -> str:
        return tweet_url(self.id, self.username)


def parse_tweet_ref(value: str) -> TweetRef:
    """A tweet id from a twitter.com or x.com status URL or a bare id."""
    value = value.strip()
    if value.isdigit() and len(value) <= 20:
        return TweetRef(value)
    match = _STATUS_URL.match(value)
    if not match:
        raise ValueError(
            f"{value!r} is not a tweet (expected https://x.com/user/status/123 or a tweet id)"
        )
    return TweetRef(match["id"], match["user"] or "")


def tweet_url(tweet_id: str, username: str = "") -> str:
    return f"{WEB}/{username}/status/{tweet_id}" if username else f"{WEB}/i/web/status/{tweet_id}"


def reply_intent(tweet_id: str) -> str:
    """Opens X's composer as a reply to the tweet."""
    return f"{WEB}/intent/tweet?in_reply_to={tweet_id}"


def tweet_time(tweet_id: str) -> datetime | None:
    """When a tweet was posted, from its snowflake id (ids since late 2010)."""
    try:
        ms = (int(tweet_id) >> 22) + _TWITTER_EPOCH_MS
    except ValueError:
        return None
    return datetime.fromtimestamp(ms / 1000, timezone.utc) if int(tweet_id) >> 22 else None


# -- Text ------------------------------------------------------------------


@dataclass(frozen=True)
class _Link:
    token: str  # what the entity covers in the text, e.g. "https://t.co/x" or "@ann"
    start: int
    href: str
    label: str


def _indices(entity: Mapping[str, Any]) -> int:
    """The start offset of a v2 (start/end) or v1.1/archive (indices) entity."""
    if "start" in entity:
        return int(entity["start"])
    indices = entity.get("indices") or [0, 0]
    return int(indices[0])


def _entities(entities: Mapping[str, Any], *kinds: str) -> list[Mapping[str, Any]]:
    return [e for kind in kinds for e in _list(entities.get(kind)) if isinstance(e, Mapping)]


def _link(entity: Mapping[str, Any]) -> _Link | None:
    start = _indices(entity)
    if "url" in entity:
        token = str(entity.get("url") or "")
        href = safe_url(str(entity.get("expanded_url") or "")) or safe_url(token)
        label = str(entity.get("display_url") or entity.get("expanded_url") or token)
        return _Link(token, start, href, label) if token and href else None
    name = str(entity.get("username") or entity.get("screen_name") or "")
    if name:
        ok = re.fullmatch(r"\w{1,15}", name, re.ASCII)
        return _Link(f"@{name}", start, f"{WEB}/{name}", f"@{name}") if ok else None
    tag = str(entity.get("tag") or entity.get("text") or "")
    if tag and not any(ch.isspace() for ch in tag):
        return _Link(f"#{tag}", start, f"{WEB}/hashtag/{quote(tag)}", f"#{tag}")
    return None


def _links(entities: Mapping[str, Any]) -> list[_Link]:
    links = []
    for entity in _entities(entities, "urls", "media", "mentions", "user_mentions", "hashtags"):
        try:
            link = _link(entity)
        except (TypeError, ValueError, IndexError):
            continue  # a malformed entity leaves its text as text
        if link:
            links.append(link)
    return links


def _place(text: str, link: _Link, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Where the entity's token really is in ``text``.

    X documents offsets in code points of the text as delivered, HTML
    entities included, but copies that were unescaped somewhere on the way
    shift them.  The offset is used when the token is there; otherwise the
    token is looked up nearest to it, and never inside another link.
    """
    size = len(link.token)

    def free(start: int) -> bool:
        return all(start + size <= a or start >= b for a, b in taken)

    # "@ann" must not link the start of "@annabel".
    pattern = re.compile(re.escape(link.token) + (r"(?!\w)" if link.token[0] in "@#" else ""), re.I)
    if pattern.match(text, link.start) and free(link.start):
        return link.start, link.start + size
    found = [m.start() for m in pattern.finditer(text) if free(m.start())]
    if not found:
        return None
    start = min(found, key=lambda s: abs(s - link.start))
    return start, start + size


def tweet_html(text: str, entities: Mapping[str, Any] | None = None) -> str:
    """Safe HTML of a tweet's text: escaped once, links from the entities.

    Tweet text is plain text in which X already escaped ``& < >``.  Each
    plain segment is unescaped once and escaped once, so ``&amp;`` shows as
    "&" (never "&amp;amp;") and ``&lt;script&gt;`` stays text.  t.co links
    become their expanded URL with the display URL as text; @mentions and
    hashtags link to X.
    """
    spans: list[tuple[int, int, _Link]] = []
    taken: list[tuple[int, int]] = []
    for link in sorted(_links(entities or {}), key=lambda k: k.start):
        place = _place(text, link, taken)
        if place:
            taken.append(place)
            spans.append((*place, link))
    spans.sort(key=lambda span: span[0])
    parts, at = [], 0
    for start, end, link in spans:
        parts.append(html.escape(html.unescape(text[at:start]), quote=False))
        parts.append(
            f'<a href="{html.escape(link.href)}">{html.escape(html.unescape(link.label))}</a>'
        )
        at = end
    parts.append(html.escape(html.unescape(text[at:]), quote=False))
    body = "".join(parts).strip()
    return paragraphs_html(body)


# -- API v2 answers ----------------------------------------------------------


def _dict(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one: answers are untrusted."""
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_user(user: Mapping[str, Any]) -> Person:
    username = str(user.get("username") or "")
    return Person(
        name=clean_text(str(user.get("name") or "")) or username,
        handle=username,
        url=f"{WEB}/{username}" if re.fullmatch(r"\w{1,15}", username, re.ASCII) else "",
        avatar=safe_url(str(user.get("profile_image_url") or "")),
    )


def _parent(tweet: Mapping[str, Any]) -> str | None:
    for ref in _list(tweet.get("referenced_tweets")):
        if isinstance(ref, Mapping) and ref.get("type") == "replied_to":
            return str(ref.get("id"))
    return None


def parse_tweet(tweet: Mapping[str, Any], users: Mapping[str, Person], root: str) -> Item:
    """One tweet of the conversation under the announcement ``root``."""
    tweet_id = str(tweet["id"])
    author_id = str(tweet.get("author_id") or "")
    author = users.get(author_id) or Person(
        name=f"X user {author_id}" if author_id else "X user",
        url=f"{WEB}/i/user/{author_id}" if author_id.isdigit() else "",
    )
    parent = _parent(tweet)
    quoted = any(_dict(r).get("type") == "quoted" for r in _list(tweet.get("referenced_tweets")))
    metrics = _dict(tweet.get("public_metrics"))
    return Item(
        id=f"twitter:{tweet_id}",
        source=SOURCE,
        kind="quote" if quoted and parent is None else "reply",
        author=author,
        published=parse_timestamp(str(tweet["created_at"])),
        content_html=tweet_html(str(tweet.get("text") or ""), _dict(tweet.get("entities"))),
        url=tweet_url(tweet_id, author.handle),
        in_reply_to=None if parent in (None, root) else f"twitter:{parent}",
        extras={
            "reply_url": reply_intent(tweet_id),
            "likes": int(metrics.get("like_count") or 0),
            "reposts": int(metrics.get("retweet_count") or 0),
            "replies": int(metrics.get("reply_count") or 0),
        },
    )


def _users(answer: Mapping[str, Any]) -> dict[str, Person]:
    includes = _dict(answer.get("includes"))
    return {
        str(user["id"]): parse_user(user)
        for user in _list(includes.get("users"))
        if isinstance(user, Mapping) and user.get("id")
    }


def _in_subtree(
    tweets: Mapping[str, Mapping[str, Any]], root: str, branch: Iterable[str] = ()
) -> set[str]:
    """Ids whose reply chain (within ``tweets``, or through ``branch``, the
    ids already known to be under ``root``) reaches ``root``.

    An announcement in the middle of a longer thread shares its
    conversation_id with the tweets before it and their other branches.
    """
    inside: dict[str, bool] = {root: True, **dict.fromkeys(branch, True)}
    for start in tweets:
        path, node = [], start
        while node not in inside and node in tweets and node not in path:
            path.append(node)
            node = _parent(tweets[node]) or ""
        verdict = inside.get(node, False)
        for member in path:
            inside[member] = verdict
    return {tid for tid, yes in inside.items() if yes and tid != root}


def parse_search(
    answer: Mapping[str, Any], root: str, conversation: str = "", branch: Iterable[str] = ()
) -> list[Item]:
    """The conversation's tweets in one search page, as items.

    ``data`` is missing when nothing matched (``result_count`` 0); a 200
    with an ``errors`` list keeps whatever data came.  Parents included by
    the expansions join too when they belong to the conversation, which
    recovers replies that fell out of the 7-day search window.
    """
    if not isinstance(answer, Mapping):
        raise ValueError("search answer is not a JSON object")
    data = answer.get("data") or []
    if not isinstance(data, list):
        raise ValueError("search answer 'data' is not a list")
    conversation = conversation or root
    included = _list(_dict(answer.get("includes")).get("tweets"))
    tweets: dict[str, Mapping[str, Any]] = {}
    for tweet in [*included, *data]:
        if (
            isinstance(tweet, Mapping)
            and tweet.get("id")
            and tweet.get("created_at")
            and str(tweet.get("conversation_id") or conversation) == conversation
            and str(tweet["id"]) != root
        ):
            tweets[str(tweet["id"])] = tweet
    if conversation != root:
        keep = _in_subtree(tweets, root, branch)
        tweets = {tid: t for tid, t in tweets.items() if tid in keep}
    users = _users(answer)
    items = []
    for tweet in tweets.values():
        try:
            items.append(parse_tweet(tweet, users, root))
        except (KeyError, TypeError, ValueError):
            continue  # one malformed tweet is left out, not the page
    return items


def parse_announcement(answer: Mapping[str, Any], tweet_id: str) -> dict[str, Any] | None:
    """What the cursor keeps of the announcement; None when it is deleted.

    A deleted tweet comes back as HTTP 200 with no ``data`` and a
    resource-not-found error.
    """
    data = answer.get("data") if isinstance(answer, Mapping) else None
    if not isinstance(data, Mapping):
        problems = answer.get("errors") if isinstance(answer, Mapping) else None
        for problem in problems or ():
            if isinstance(problem, Mapping) and "not-found" in str(problem.get("type", "")):
                return None
        detail = "; ".join(
            str(p.get("detail") or p.get("title")) for p in problems or () if isinstance(p, Mapping)
        )
        raise ValueError(f"tweet {tweet_id}: {detail or 'answer has no data'}")
    author = _users(answer).get(str(data.get("author_id") or ""))
    return {
        "id": str(data.get("id") or tweet_id),
        "conversation_id": str(data.get("conversation_id") or tweet_id),
        "author": author.handle if author else "",
        "created_at": str(data.get("created_at") or ""),
        "metrics": dict(_dict(data.get("public_metrics"))),
    }


def _newest(ids: Iterable[str]) -> str:
    numeric = [int(i) for i in ids if str(i).isdigit()]
    return str(max(numeric)) if numeric else ""


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
        if not info.get("conversation_id"):
            answer = self._get(
                f"/2/tweets/{root}",
                {
                    "tweet.fields": TWEET_FIELDS,
                    "expansions": "author_id",
                    "user.fields": "username",
                },
            )
            found = parse_announcement(answer, root)
            if found is None:
                # Deleted upstream: keep what is archived, stop asking.
                return Result((), {"deleted": True})
            info = found
        since = str(cursor.get("since_id") or "")
        items, newest, error = self._conversation(root, info, since)
        out: dict[str, Any] = {"announcement": info}
        if error is not None:
            # Pages were missed: search from the old point again next time.
            newest = since
        if newest:
            out["since_id"] = newest
        if info.get("conversation_id", root) != root:
            # Later pages hold only new tweets: remember which ones are ours.
            branch = {*info.get("branch", ()), *(i.id.removeprefix("twitter:") for i in items)}
            info["branch"] = sorted(branch, key=lambda t: (len(t), t))
        return Result(tuple(items), out, error)

    def _conversation(
        self, root: str, info: dict[str, Any], since: str
    ) -> tuple[list[Item], str, Exception | None]:
        """The conversation's tweets since ``since``, the newest id, and the
        error that stopped the paging early (what came before it is kept)."""
        conversation = str(info.get("conversation_id") or root)
        params: dict[str, Any] = {
            "query": f"conversation_id:{conversation}",
            "max_results": 100,
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
        }
        posted = tweet_time(since) if since else None
        if since and not (
            self.search == "recent" and posted and self._clock() - posted > RECENT_WINDOW
        ):
            params["since_id"] = since
        items: list[Item] = []
        newest = since
        while True:
            try:
                page = self._get(SEARCH_PATHS[self.search], params)
            except FetchError as exc:
                # The lookup (and any page) already paid for is kept.
                return items, newest, exc
            items.extend(parse_search(page, root, conversation, info.get("branch", ())))
            for tweet in _list(_dict(page.get("includes")).get("tweets")):
                if isinstance(tweet, Mapping) and str(tweet.get("id")) == root:
                    info["metrics"] = dict(_dict(tweet.get("public_metrics")))
            meta = _dict(page.get("meta"))
            newest = _newest([newest, str(meta.get("newest_id") or "")])
            token = meta.get("next_token")
            if not token:
                return items, newest, None
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
