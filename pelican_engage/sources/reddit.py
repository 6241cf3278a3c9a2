"""Reddit: submissions linking a post, and their comment trees.

Each article is one job (``job.target``: its URL then its ``old_urls``,
space-separated).  A fetch asks ``/api/info?url=`` for each URL form (with
and without the trailing slash), adds the submissions found before (kept in
the cursor), then reads each one's ``/comments/<id>`` tree and follows its
``more`` stubs through ``/api/morechildren``, a few per submission.  The
parsing is in ``reddit_parse.py``.

With an app's client id and secret in the environment, it takes an
application-only token (``grant_type=client_credentials``) from
``<api_url>/api/v1/access_token`` and asks ``oauth_url`` with it; without
them it asks ``api_url``'s public ``.json`` pages.  Either way with a
descriptive User-Agent, as Reddit's API rules require.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import __version__, checks
from ..deepjson import loads as deep_loads
from ..errors import AccessDenied, FetchError, SourceUnavailable
from ..fetch import Job, Result, Source
from ..model import Item, Problem
from ..parsed import Skipped, entry_reason
from . import reddit_parse as parse
from .discussion import RequestCap, article_urls
from .network import ArticleView, FetchSetup, Network

if TYPE_CHECKING:
    from ..http import Client, Response

SOURCE = parse.SOURCE
API_URL = "https://www.reddit.com"
OAUTH_URL = "https://oauth.reddit.com"
#: ``/api/morechildren`` takes at most 100 ids per request.
MORE_BATCH = 100
#: ``more`` requests per submission and fetch; the rest comes next time.
MAX_MORE = 5
#: Pages of ``/api/info`` per URL (100 links each).
MAX_PAGES = 3
#: Submissions whose comments are read per fetch (the most recent first).
MAX_SUBMISSIONS = 20


def _denied(exc: FetchError, settings: RedditSettings, with_app: bool) -> FetchError:
    """A 401/403 as the one warning that says which credentials to fix."""
    if exc.status not in (401, 403):
        return exc
    names = f"${settings.client_id_env} and ${settings.client_secret_env}"
    if with_app:
        why = (
            f"Reddit refused the app credentials in {names} (HTTP {exc.status}); "
            "check them on reddit.com/prefs/apps"
        )
    else:
        why = (
            f"Reddit refused an anonymous request (HTTP {exc.status}); register an app and "
            f"put its id and secret in {names}"
        )
    return AccessDenied(exc.url, why, exc.status)


class RedditSource:
    """Fetches one article's submissions and comments per job."""

    name = SOURCE

    def __init__(
        self,
        client: Client,
        settings: RedditSettings,
        client_id: str = "",
        client_secret: str = "",
        user_agent: str = "",
    ) -> None:
        self.client = client
        self.settings = settings
        self.client_id = client_id
        self.client_secret = client_secret
        self.user_agent = user_agent or default_user_agent("")
        self.cap = RequestCap(SETTING, settings.max_requests)
        self._token = ""
        self._lock = threading.Lock()

    # -- Requests ---------------------------------------------------------------

    def _token_header(self) -> dict[str, str]:
        """``Authorization`` for the OAuth host, taking a token once per build."""
        if not self.client_id:
            return {}
        with self._lock:
            if not self._token:
                self.cap.take()
                basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode(
                    "ascii"
                )
                try:
                    answer = self.client.post_form(
                        f"{self.settings.api_url}/api/v1/access_token",
                        {"grant_type": "client_credentials"},
                        headers={"Authorization": f"Basic {basic}", "User-Agent": self.user_agent},
                    ).json()
                except FetchError as exc:
                    raise _denied(exc, self.settings, bool(self.client_id)) from None
                token = answer.get("access_token") if isinstance(answer, Mapping) else None
                if not isinstance(token, str) or not token:
                    raise AccessDenied(
                        f"{self.settings.api_url}/api/v1/access_token",
                        f"Reddit gave no access_token for ${self.settings.client_id_env}",
                    )
                self._token = token
            return {"Authorization": f"bearer {self._token}"}

    def _get(self, path: str, params: Mapping[str, Any]) -> Response:
        """One request to the API (public pages, or the OAuth host with a token)."""
        auth = self._token_header()
        self.cap.take()
        # The OAuth host takes bare paths; the public site wants ``.json``.
        base = self.settings.oauth_url if auth else self.settings.api_url
        url = f"{base}{path}" if auth else f"{base}{path}.json"
        try:
            return self.client.get(
                url,
                params={**params, "raw_json": 1},
                headers={**auth, "User-Agent": self.user_agent},
            )
        except FetchError as exc:
            raise _denied(exc, self.settings, bool(self.client_id)) from None

    def _json(self, path: str, params: Mapping[str, Any]) -> Any:
        response = self._get(path, params)
        try:
            # A long reply chain nests deeper than json.loads recurses.
            return deep_loads(response.body)
        except ValueError as exc:
            raise FetchError(response.url, f"answered with malformed JSON ({exc})") from None

    # -- A job ------------------------------------------------------------------

    def search(self, urls: list[str]) -> tuple[dict[str, Mapping[str, Any]], list[Skipped]]:
        """Links submitted with one of ``urls``, by id."""
        found: dict[str, Mapping[str, Any]] = {}
        skipped: list[Skipped] = []
        for url in urls:
            after = ""
            for _page in range(MAX_PAGES):
                params: dict[str, Any] = {"url": url, "limit": 100}
                if after:
                    params["after"] = after
                answer = self._json("/api/info", params)
                try:
                    page, after = parse.links(answer)
                except ValueError as exc:
                    raise FetchError(url, f"/api/info: {exc}") from None
                for data in page:
                    if isinstance(data.get("id"), str):
                        found.setdefault(data["id"], data)
                    else:
                        skipped.append(Skipped("link", "no id", "submission"))
                if not after:
                    break
        return found, skipped

    def comments(
        self, link_id: str
    ) -> tuple[Mapping[str, Any], parse.Comments, int, FetchError | None]:
        """The link, its comments (``more`` stubs followed up to MAX_MORE
        requests), how many comments were left in stubs, and the error that
        stopped following them (see :func:`_follow_more`)."""
        answer = self._json(f"/comments/{link_id}", {"limit": 500, "sort": "old"})
        try:
            link, tree = parse.comment_tree(answer)
        except ValueError as exc:
            raise FetchError(f"/comments/{link_id}", str(exc)) from None
        return (link, *_follow_more(self._json, link_id, tree))

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        url, *old = job.target.split(" ")
        urls = article_urls(
            ArticleView(job.post_key, url, job.published, {"old_urls": ",".join(old)})
        )
        known = cursor.get("submissions")
        known_ids = (
            [k for k in known if isinstance(k, str) and k.isalnum()]
            if isinstance(known, list)
            else []
        )
        items: list[Item] = []
        skipped: list[Skipped] = []
        gone: list[str] = []
        left = 0
        try:
            found, skipped = self.search(urls)
        except FetchError as exc:
            if not known_ids or isinstance(exc, SourceUnavailable):
                raise  # a refusal, a rate limit or the cap holds for every request
            found = {}  # the known submissions are still read
        ids = list(dict.fromkeys([*found, *known_ids]))
        # The newest first: the cap and MAX_SUBMISSIONS leave the oldest for later.
        ids.sort(key=lambda i: -_number(found.get(i, {}).get("created_utc")))
        done: list[str] = []
        for link_id in ids[:MAX_SUBMISSIONS]:
            try:
                link, tree, stubs, stub_error = self.comments(link_id)
            except FetchError as exc:
                if exc.status == 404 and not isinstance(exc, SourceUnavailable):
                    # Gone from Reddit (its subreddit banned, say): withdrawn
                    # if archived, and not asked for again.
                    gone.append(f"{SOURCE}:{link_id}")
                    ids.remove(link_id)
                    continue
                cursor_out = {"submissions": sorted(set(ids))}
                return Result(
                    tuple(items), cursor_out, error=exc, skipped=tuple(skipped), gone=tuple(gone)
                )
            try:
                items.append(parse.parse_link(link))
            except (KeyError, TypeError, ValueError) as exc:
                skipped.append(Skipped(link_id, entry_reason(exc), "submission"))
                continue
            found_items, problems, deleted = parse.thread(link_id, tree.records)
            items += found_items
            skipped += problems
            skipped += [Skipped(link_id, "neither a comment nor a stub", "entry")] * tree.unreadable
            gone += deleted
            if stub_error is not None:
                # What came is archived; the job stays due for the rest.
                cursor_out = {"submissions": sorted(set(ids))}
                return Result(
                    tuple(items),
                    cursor_out,
                    error=stub_error,
                    skipped=tuple(skipped),
                    gone=tuple(gone),
                )
            left += stubs + len(tree.continued)
            done.append(link_id)
        out: dict[str, Any] = {"submissions": sorted(set(ids))}
        notes = []
        if left:
            notes.append(
                f"{left} comment(s) or thread(s) behind Reddit's 'more' links not fetched yet"
            )
        if len(ids) > MAX_SUBMISSIONS:
            notes.append(
                f"{len(ids) - MAX_SUBMISSIONS} older submission(s) past the newest "
                f"{MAX_SUBMISSIONS} not read this fetch"
            )
        notice = "; ".join(notes)
        return Result(tuple(items), out, gone=tuple(gone), skipped=tuple(skipped), notice=notice)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _follow_more(
    get: Callable[[str, Mapping[str, Any]], Any], link_id: str, tree: parse.Comments
) -> tuple[parse.Comments, int, FetchError | None]:
    """The tree with its ``more`` stubs read through ``/api/morechildren``
    (``get(path, params)`` -> JSON, up to MAX_MORE requests), how many
    comments were left in stubs, and the error that stopped reading them:
    the tree that came is kept all the same, since one failed stub must not
    cost the comments already read."""
    records, pending = list(tree.records), list(tree.more)
    continued = list(tree.continued)
    unreadable = tree.unreadable
    error: FetchError | None = None
    for _ in range(MAX_MORE):
        if not pending:
            break
        batch = pending[:MORE_BATCH]
        try:
            answer = get(
                "/api/morechildren",
                {"api_type": "json", "link_id": f"t3_{link_id}", "children": ",".join(batch)},
            )
            try:
                more = parse.morechildren(answer)
            except ValueError as exc:
                raise FetchError(f"/api/morechildren for {link_id}", str(exc)) from None
        except FetchError as exc:
            error = exc  # the batch stays pending: a later fetch asks again
            break
        pending = pending[MORE_BATCH:]
        records += more.records
        pending += [i for i in more.more if i not in batch]
        continued += more.continued
        unreadable += more.unreadable
    comments = parse.Comments(tuple(records), (), tuple(continued), unreadable)
    return comments, len(pending), error


# -- The network's declaration (see sources/registry.py) ------------------------------

SETTING = "ENGAGE_REDDIT"
SETTING_KEYS = frozenset(
    {"api_url", "oauth_url", "client_id_env", "client_secret_env", "max_requests"}
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PROFILE = re.compile(r"(?:old\.|new\.|m\.)?reddit\.com/(?:user|u)/([\w-]{3,20})", re.ASCII)
_THING = re.compile(r"(?:old\.|new\.|m\.)?reddit\.com/r/\w+/comments/(\w+)(?:/[^/]*/(\w+))?")


@dataclass(frozen=True)
class RedditSettings:
    """ENGAGE_REDDIT, checked; ``enabled`` when the setting is a dict."""

    enabled: bool = False
    api_url: str = API_URL
    oauth_url: str = OAUTH_URL
    #: Optional: an app's id and secret (reddit.com/prefs/apps, "script"
    #: or "web app") for the OAuth API's higher rate limit.
    client_id_env: str = "ENGAGE_REDDIT_CLIENT_ID"
    client_secret_env: str = "ENGAGE_REDDIT_CLIENT_SECRET"
    #: Requests per build, all posts together.
    max_requests: int = 60


def _env(section: Mapping[str, Any], name: str, default: str) -> str:
    value = section.get(name, default)
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        # Not echoed: it may be the secret itself, pasted by mistake.
        raise checks.SettingsError(
            f"{SETTING}[{name!r}]",
            f"expected the name of an environment variable such as {default}; "
            "the secret itself never goes in settings",
        )
    return value


def load_settings(settings: Mapping[str, Any]) -> RedditSettings:
    """ENGAGE_REDDIT of the Pelican settings; SettingsError names a bad key."""
    section = checks.section(settings, SETTING, SETTING_KEYS)
    defaults = RedditSettings()
    try:
        oauth = checks.api_url({"api_url": section.get("oauth_url", defaults.oauth_url)}, "", "")
    except checks.SettingsError as exc:
        raise checks.SettingsError(
            f"{SETTING}['oauth_url']", exc.args[0].split(": ", 1)[1]
        ) from None
    max_requests = section.get("max_requests", defaults.max_requests)
    return RedditSettings(
        enabled=settings.get(SETTING) is not None,
        api_url=checks.api_url(section, SETTING, defaults.api_url),
        oauth_url=oauth,
        client_id_env=_env(section, "client_id_env", defaults.client_id_env),
        client_secret_env=_env(section, "client_secret_env", defaults.client_secret_env),
        max_requests=int(checks.number(max_requests, f"{SETTING}['max_requests']", 1, whole=True)),
    )


def default_user_agent(handle: str) -> str:
    """Reddit's asked-for form, ``<platform>:<app id>:<version> (by /u/<name>)``;
    the blog author's Reddit handle (ENGAGE_AUTHOR) names who runs it."""
    by = f"by /u/{handle}" if handle else "+https://github.com/pelican-engage/pelican-engage"
    return f"python:pelican-engage:{__version__} ({by})"


def _article_jobs(
    settings: RedditSettings, article: ArticleView
) -> tuple[list[Job], list[Problem]]:
    """Every article is looked up by its URL (and its ``old_urls``)."""
    if not settings.enabled:
        return [], []
    if not article.url:
        return [], [Problem(SETTING, "needs SITEURL: Reddit is searched by each article's URL")]
    urls = [article.url, *(u for u in article.values("old_urls") if " " not in u)]
    host = urlsplit(settings.api_url).netloc
    return [Job(article.key, SOURCE, " ".join(urls), host, article.published)], []


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    settings: RedditSettings = setup.settings
    client_id = setup.secrets.get(settings.client_id_env, "")
    secret = setup.secrets.get(settings.client_secret_env, "")
    if bool(client_id) != bool(secret):
        missing = settings.client_secret_env if client_id else settings.client_id_env
        setup.report(
            Problem(SETTING, f"${missing} is not set: both the app's id and secret are needed; "
                    "asking Reddit without them")
        )  # fmt: skip
        client_id = secret = ""
    handles = sorted(setup.engage.author.handles.get(SOURCE, ()))
    source = RedditSource(
        setup.client,
        settings,
        client_id=client_id,
        client_secret=secret,
        user_agent=default_user_agent(handles[0] if handles else ""),
    )
    return {SOURCE: source}


def _url_keys(plain: str) -> set[str]:
    match = _THING.match(plain)
    if not match:
        return set()
    return {f"{SOURCE}:{match[2] or match[1]}"}


def _profile(plain: str) -> str | None:
    match = _PROFILE.fullmatch(plain.rstrip("/"))
    return match[1] if match else None


NETWORK = Network(
    name=SOURCE,
    display="Reddit",
    # Its mark, 16x16 in currentColor: a wide head with two eyes and an antenna.
    icon=(
        "M2.5 9.5a5.5 3.8 0 1 0 11 0a5.5 3.8 0 1 0-11 0zM5 9a1 1 0 1 1 2 0a1 1 0 1 1-2 0z"
        "M9 9a1 1 0 1 1 2 0a1 1 0 1 1-2 0zM7.6 5.7l1-4 2.6.6-.2.8-1.8-.4-.8 3z"
        "M12.4 1.3a1 1 0 1 0 0 2a1 1 0 1 0 0-2z"
    ),
    discussion=True,
    setting=SETTING,
    setting_keys=SETTING_KEYS,
    setting_default=None,  # off; a dict (even {}) turns it on
    load_settings=load_settings,
    secrets=lambda settings: (settings.client_id_env, settings.client_secret_env),
    fetchers=_fetchers,
    article_jobs=_article_jobs,
    url_keys=_url_keys,
    # Bridgy backfeeds Reddit comments as brid.gy/comment/reddit/<user>/<post>/<comment>.
    bridgy_key=lambda _user, leaf: f"{SOURCE}:{leaf}",
    item_keys=lambda item: {item.id},
    profile=_profile,
)
