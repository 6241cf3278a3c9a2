"""webmention.io: replies, likes, reposts and mentions sent to an article.

No metadata is needed: when ENGAGE_WEBMENTION is set, every article is looked
up by its URLs (with and without a trailing slash, plus old URLs the post
lists).  Pure functions turn jf2 entries into items; the fetching class
pages through ``/api/mentions.jf2`` with ``since_id`` after the first fetch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import checks
from ..deepjson import json_object
from ..errors import AccessDenied, FetchError
from ..fetch import Job, Result, Source
from ..model import Item, Person, Problem, parse_timestamp
from ..parsed import Skipped, entry_reason
from ..sanitize import clean_html, clean_text, safe_url, text_to_html
from .network import ArticleView, FetchSetup, Network

if TYPE_CHECKING:
    from ..http import Client

SOURCE = "webmention"
API_URL = "https://webmention.io"
PER_PAGE = 100
#: At most this many pages per fetch; the rest comes with the next one.
MAX_PAGES = 20
KINDS = {
    "in-reply-to": "reply",
    "like-of": "like",
    "repost-of": "repost",
    "bookmark-of": "mention",
    "mention-of": "mention",
    "rsvp": "mention",
}


#: Bridgy's page for a reply on a social network: a reply, whatever property
#: webmention.io gave it (it types some of them ``mention-of``).
_BRIDGY_COMMENT = re.compile(r"^https?://brid\.gy/comment/", re.IGNORECASE)


def targets(url: str, old_urls: Iterable[str] = ()) -> list[str]:
    """The article URL with and without its trailing slash, and old URLs."""
    found: list[str] = []
    for candidate in (url, *old_urls):
        candidate = candidate.strip()
        if not safe_url(candidate):
            continue
        for form in (
            candidate,
            candidate.rstrip("/") if candidate.endswith("/") else candidate + "/",
        ):
            if form not in found:
                found.append(form)
    return found


def _author(card: Any) -> Person:
    card = json_object(card)
    url = safe_url(str(card.get("url") or ""))
    name = clean_text(str(card.get("name") or "")) or (urlsplit(url).netloc if url else "")
    return Person(name=name or "Someone", url=url, avatar=safe_url(str(card.get("photo") or "")))


def _content(entry: Mapping[str, Any]) -> str:
    content = entry.get("content")
    if isinstance(content, Mapping):
        if content.get("html"):
            return clean_html(str(content["html"]))
        if content.get("text"):
            return text_to_html(str(content["text"]))
        if content.get("value"):  # sites created before 2018 get content-type/value
            return text_to_html(str(content["value"]))
    summary = entry.get("summary")
    if isinstance(summary, Mapping) and summary.get("value"):
        return text_to_html(str(summary["value"]))
    return text_to_html(str(entry.get("name") or "")) if entry.get("name") else ""


def parse_entry(entry: Mapping[str, Any]) -> Item:
    """One jf2 entry; ValueError (or KeyError) when it cannot be one."""
    wm_id = entry["wm-id"]
    if not isinstance(wm_id, int) or isinstance(wm_id, bool):
        raise ValueError(f"wm-id {wm_id!r} is not a number")
    kind = KINDS.get(str(entry.get("wm-property") or ""), "mention")
    if kind == "mention" and _BRIDGY_COMMENT.match(str(entry.get("wm-source") or "")):
        kind = "reply"
    # published is null when the source page gave no date: use the time
    # webmention.io received it, which is always there (UTC).
    published = parse_timestamp(str(entry.get("published") or entry["wm-received"]))
    url = safe_url(str(entry.get("url") or "")) or safe_url(str(entry.get("wm-source") or ""))
    syndication = entry.get("syndication")
    return Item(
        id=f"webmention:{wm_id}",
        source=SOURCE,
        kind=kind,
        author=_author(entry.get("author")),
        published=published,
        content_html=_content(entry) if kind in {"reply", "mention"} else "",
        url=url,
        wm_source=safe_url(str(entry.get("wm-source") or "")),
        syndication=tuple(
            u for u in (safe_url(str(s)) for s in syndication or ()) if u
        ) if isinstance(syndication, list) else (),
        reply_url=url,
    )  # fmt: skip


def parse_feed(answer: Any) -> tuple[list[Item], list[Skipped], int]:
    """Items, the entries skipped (with why) and the highest wm-id of a page."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("children"), list):
        raise ValueError("answer is not a jf2 feed (no 'children' list)")
    items, problems, newest = [], [], 0
    for number, entry in enumerate(answer["children"]):
        if not isinstance(entry, Mapping) or entry.get("wm-private"):
            continue  # private mentions are never published
        try:
            item = parse_entry(entry)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            name = entry.get("wm-id")
            problems.append(Skipped(str(name or f"entry {number}"), entry_reason(exc), "mention"))
            continue
        items.append(item)
        newest = max(newest, int(entry["wm-id"]))
    return items, problems, newest


def parse_deleted(answer: Any) -> tuple[list[str], str]:
    """Item ids of a ``/api/deleted.jf2`` page, and its latest ``wm-deleted``
    time (for ``since`` next time); ValueError when it is no such page."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("children"), list):
        raise ValueError("deleted mentions answer is not a jf2 feed (no 'children' list)")
    ids, latest = [], ""
    for entry in answer["children"]:
        wm_id = entry.get("wm-id") if isinstance(entry, Mapping) else None
        if isinstance(wm_id, int) and not isinstance(wm_id, bool):
            ids.append(f"webmention:{wm_id}")
            when = str(entry.get("wm-deleted") or "")
            try:
                if when and (not latest or parse_timestamp(when) > parse_timestamp(latest)):
                    latest = when
            except ValueError:
                pass
    return ids, latest


def job_for(post_key: str, url: str, published: datetime, api_url: str = API_URL) -> Job:
    host = urlsplit(api_url).netloc or api_url
    return Job(post_key, SOURCE, url, host, published)


class WebmentionSource:
    """Pages through webmention.io's jf2 API for each article's URLs.

    ``job.target`` is the article URL, then any old URLs, separated by
    spaces (URLs hold none).
    """

    name = SOURCE

    def __init__(
        self,
        client: Client,
        api_url: str = API_URL,
        token: str = "",
        per_page: int = PER_PAGE,
        token_env: str = "ENGAGE_WEBMENTION_TOKEN",
    ) -> None:
        self.client = client
        self.token_env = token_env
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.per_page = per_page

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        url, *old = job.target.split(" ")
        params: dict[str, Any] = {
            "target[]": targets(url, old),
            "per-page": self.per_page,
            "sort-by": "created",
            "sort-dir": "up",
        }
        if self.token:
            params["token"] = self.token
        since = int(cursor.get("since_id") or 0)
        if since:
            params["since_id"] = since
        items: list[Item] = []
        newest = since
        skipped: list[Skipped] = []
        for page in range(MAX_PAGES):
            try:
                answer = self.client.get(
                    f"{self.api_url}/api/mentions.jf2", params={**params, "page": page}
                ).json()
            except FetchError as exc:
                if exc.status in (401, 403):
                    raise AccessDenied(
                        exc.url,
                        f"webmention.io refused the token in ${self.token_env} "
                        f"(HTTP {exc.status}); check it on webmention.io/settings",
                        exc.status,
                    ) from None
                if items:
                    # Earlier pages are kept; the cursor stays, so the rest
                    # is asked again next time.
                    return Result(tuple(items), {}, error=exc, skipped=tuple(skipped))
                raise
            found, problems, top = parse_feed(answer)
            items.extend(found)
            skipped += problems
            newest = max(newest, top)
            if len(answer["children"]) < self.per_page:
                break
        out: dict[str, Any] = {"since_id": newest} if newest else {}
        if skipped:
            out["skipped_entries"] = len(skipped)
        gone: list[str] = []
        error: Exception | None = None
        if cursor.get("deleted_api", True):
            try:
                gone, since_deleted = self._deleted(params, str(cursor.get("deleted_since") or ""))
            except FetchError as exc:
                if exc.status != 404:
                    error = exc
                # 404: a webmention.io without the list of deleted mentions.
                out["deleted_api"] = exc.status != 404
                since_deleted = str(cursor.get("deleted_since") or "")
            if since_deleted:
                out["deleted_since"] = since_deleted
        return Result(tuple(items), out, error=error, gone=tuple(gone), skipped=tuple(skipped))

    def _deleted(self, params: Mapping[str, Any], since: str) -> tuple[list[str], str]:
        """Mentions of the article webmention.io removed (the source page is
        gone or stopped linking, or the site's owner deleted them), since the
        last time asked."""
        query = {k: v for k, v in params.items() if k in ("target[]", "per-page", "token")}
        if since:
            query["since"] = since
        gone, latest = [], since
        for page in range(MAX_PAGES):
            answer = self.client.get(
                f"{self.api_url}/api/deleted.jf2", params={**query, "page": page}
            ).json()
            ids, newest = parse_deleted(answer)
            gone += ids
            if newest and (not latest or parse_timestamp(newest) > parse_timestamp(latest)):
                latest = newest
            if len(answer["children"]) < self.per_page:
                break
        return gone, latest


# -- The network's declaration (see sources/registry.py) ------------------------------

SETTING = "ENGAGE_WEBMENTION"
SETTING_KEYS = frozenset({"api_url", "token_env", "endpoint"})


@dataclass(frozen=True)
class WebmentionSettings:
    """ENGAGE_WEBMENTION, checked; ``enabled`` when the setting is a dict."""

    enabled: bool = False
    api_url: str = API_URL
    #: Optional: a token also returns mentions webmention.io keeps private.
    token_env: str = "ENGAGE_WEBMENTION_TOKEN"
    #: Where senders post webmentions (``<link rel="webmention">`` and the
    #: form); "" when it cannot be known (no SITEURL and none given).
    endpoint: str = ""


def webmention_endpoint(value: Any, siteurl: Any) -> str:
    """The site's webmention endpoint, or "" when webmentions are off.

    ``ENGAGE_WEBMENTION["endpoint"]`` when given; otherwise webmention.io's
    per-site endpoint, ``<api_url>/<SITEURL's host>/webmention``.  Also a
    template name: pages and the thread's form call it with the context's
    ``ENGAGE_WEBMENTION`` and ``SITEURL``.
    """
    if not isinstance(value, Mapping):
        return ""
    explicit = value.get("endpoint")
    if explicit:
        return str(explicit)
    host = urlsplit(str(siteurl or "")).netloc
    if not host:
        return ""
    api_url = value.get("api_url") or WebmentionSettings.api_url
    return f"{str(api_url).rstrip('/')}/{host}/webmention"


def load_settings(settings: Mapping[str, Any]) -> WebmentionSettings:
    """ENGAGE_WEBMENTION of the Pelican settings; SettingsError names a bad key."""
    key = SETTING
    section = checks.section(settings, key, SETTING_KEYS)
    defaults = WebmentionSettings()
    endpoint = section.get("endpoint")
    if endpoint is not None:
        parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
        if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
            raise checks.SettingsError(
                f"{key}['endpoint']", f"expected an http(s) URL, got {endpoint!r}"
            )
    enabled = settings.get(key) is not None
    api_url = checks.api_url(section, key, defaults.api_url)
    return WebmentionSettings(
        enabled=enabled,
        api_url=api_url,
        token_env=checks.env_name(section, key, defaults.token_env),
        endpoint=webmention_endpoint(
            {**section, "api_url": api_url} if enabled else None, settings.get("SITEURL")
        ),
    )


def _article_jobs(
    settings: WebmentionSettings, article: ArticleView
) -> tuple[list[Job], list[Problem]]:
    """Every article is asked for by its full URL (and its ``old_urls``)."""
    if not settings.enabled:
        return [], []
    if not article.url:
        why = "needs SITEURL: webmention.io is asked by each article's full URL"
        return [], [Problem(SETTING, why)]
    # URLs hold no spaces: the target lists the URL, then old ones.
    urls = [article.url, *(u for u in article.values("old_urls") if " " not in u)]
    return [job_for(article.key, " ".join(urls), article.published, settings.api_url)], []


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    settings: WebmentionSettings = setup.settings
    token = setup.secrets.get(settings.token_env, "")
    source = WebmentionSource(
        setup.client, api_url=settings.api_url, token=token, token_env=settings.token_env
    )
    return {SOURCE: source}


NETWORK = Network(
    name=SOURCE,
    display="Webmention",
    # Its mark, 16x16 in currentColor: two chain links.
    icon=(
        "M6.6 9.4a2.5 2.5 0 0 0 3.5 0l2.6-2.6a2.5 2.5 0 0 0-3.5-3.5l-.9.9 1 1 .9-.9a1.1 1.1 0"
        " 0 1 1.5 1.5L9.1 8.4a1.1 1.1 0 0 1-1.5 0zm2.8-2.8a2.5 2.5 0 0 0-3.5 0L3.3 9.2a2.5 2.5"
        " 0 0 0 3.5 3.5l.9-.9-1-1-.9.9a1.1 1.1 0 0 1-1.5-1.5l2.6-2.6a1.1 1.1 0 0 1 1.5 0z"
    ),
    setting=SETTING,
    setting_keys=SETTING_KEYS,
    setting_default=None,  # off; a dict (even {}) turns it on
    load_settings=load_settings,
    secrets=lambda settings: (settings.token_env,),
    fetchers=_fetchers,
    article_jobs=_article_jobs,
)
