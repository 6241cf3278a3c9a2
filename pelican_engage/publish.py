"""Posting the author's reply on Mastodon, Bluesky and X.

Each ``*_reply`` function sends the documented requests and returns the
author's new :class:`~pelican_engage.model.Item`, ready to archive; any
failure raises :class:`PublishError`, whose message says whether anything
may have been posted.  POSTs are never retried (a retry could post twice);
Mastodon's ``Idempotency-Key`` makes a retry by hand within an hour safe.
Redirects are not followed, so a token reaches only the server it is for,
and every message is redacted of the secrets in play.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import requests

from .http import USER_AGENT, redact
from .model import Item, Person, parse_timestamp
from .netpolicy import token_host_matches
from .reply import bluesky_facets, mastodon_limit
from .sanitize import clean_html, clean_text, safe_url, text_to_html

TIMEOUT = 20.0


class PublishError(Exception):
    """The reply was not posted (``maybe_sent``: the server may have taken it)."""

    def __init__(self, message: str, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


@dataclass
class Sender:
    """One ``requests`` session for the reply; secrets are redacted from
    every message it raises."""

    secrets: tuple[str, ...] = ()
    timeout: float = TIMEOUT

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # No proxy or .netrc credentials from the environment for a secret's trip.
        self.session.trust_env = False

    def call(
        self,
        network: str,
        method: str,
        url: str,
        *,
        token: str = "",
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The JSON answer of one request; PublishError for anything else."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            answer = self.session.request(
                method,
                url,
                json=body,
                params=params,
                headers=sent,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise PublishError(
                self._clean(f"{network}: no answer from {_origin(url)} in time ({exc})"),
                maybe_sent=method == "POST",
            ) from None
        except requests.RequestException as exc:
            raise PublishError(
                self._clean(f"{network}: cannot reach {_origin(url)} ({type(exc).__name__})")
            ) from None
        if answer.status_code >= 300:
            raise PublishError(self._clean(explain(network, answer)))
        try:
            return answer.json()
        except ValueError:
            raise PublishError(
                f"{network}: {_origin(url)} answered {answer.status_code} without JSON",
                maybe_sent=method == "POST",
            ) from None

    def _clean(self, text: str) -> str:
        return redact(text, self.secrets)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _message(answer: requests.Response) -> str:
    """The server's own words: Mastodon ``error``, XRPC ``error: message``,
    X problem ``detail``/``title``, or the start of the body."""
    try:
        data = answer.json()
    except ValueError:
        return answer.text.strip()[:200]
    if not isinstance(data, Mapping):
        return str(data)[:200]
    if "errors" in data and isinstance(data["errors"], list) and data["errors"]:
        first = data["errors"][0]
        if isinstance(first, Mapping):
            return str(first.get("message") or first.get("detail") or first)[:300]
    parts = [str(data[k]) for k in ("error", "message", "title", "detail") if data.get(k)]
    return ": ".join(dict.fromkeys(parts))[:300]


def explain(network: str, answer: requests.Response) -> str:
    """One line for an error answer, saying what the user can do."""
    status, said = answer.status_code, _message(answer)
    said = f" ({said})" if said else ""
    if status == 401:
        hint = "the credentials were refused; check the token or app password"
    elif status == 403:
        hint = "not allowed; the token may lack write access"
    elif status in (400, 422):
        hint = "the server refused the reply"
    elif status == 429:
        wait = answer.headers.get("Retry-After") or answer.headers.get("X-RateLimit-Reset")
        wait = wait or answer.headers.get("RateLimit-Reset") or ""
        hint = "rate limited; try again later" + (f" (reset: {wait})" if wait else "")
    elif status >= 500:
        hint = "the server failed"
    elif 300 <= status < 400:
        hint = f"redirected to {answer.headers.get('Location', '?')}, not followed"
    else:
        hint = "unexpected answer"
    return f"{network}: {hint}: HTTP {status}{said}; nothing was posted"


# Mastodon ------------------------------------------------------------------


def mastodon_base(host: str, known_urls: list[str]) -> str:
    """The author's server as a base URL: the scheme of a known URL on that
    host (an announcement), else https."""
    for url in known_urls:
        parts = urlsplit(url)
        if parts.netloc.lower() == host and parts.scheme in ("http", "https"):
            return f"{parts.scheme}://{parts.netloc}"
    return f"https://{host}"


def mastodon_status_id(item: Item) -> tuple[str, str]:
    """(host, status id) of a ``mastodon:<host>/<id>`` item."""
    host, _, status = item.id.removeprefix("mastodon:").partition("/")
    return host.lower(), status


def mastodon_server_limit(sender: Sender, base: str) -> int:
    """The server's limit; 500 when it does not say or cannot be asked."""
    try:
        return mastodon_limit(sender.call("mastodon", "GET", f"{base}/api/v2/instance"))
    except PublishError:
        return 500


def mastodon_reply(
    sender: Sender, base: str, hosts: tuple[str, ...], token: str, item: Item, text: str
) -> Item:
    """Post ``text`` as a reply to ``item`` from the author's server ``base``."""
    if not token_host_matches(base, hosts):
        raise PublishError(f"mastodon: {base} is not a server in ENGAGE_MASTODON['host']")
    host, status_id = mastodon_status_id(item)
    own = urlsplit(base).netloc.lower()
    if host != own:
        # Status ids are per server: find the item as the author's server knows it.
        found = sender.call(
            "mastodon",
            "GET",
            f"{base}/api/v2/search",
            token=token,
            params={"q": item.url, "type": "statuses", "resolve": "true", "limit": "1"},
        )
        statuses = found.get("statuses") if isinstance(found, Mapping) else None
        if not statuses or not isinstance(statuses[0], Mapping) or not statuses[0].get("id"):
            raise PublishError(
                f"mastodon: your server {own} cannot find {item.url}; nothing was posted"
            )
        status_id = str(statuses[0]["id"])
    visibility = "unlisted" if item.visibility == "unlisted" else "public"
    key = hashlib.sha256(f"{item.id}\n{text}".encode()).hexdigest()
    status = sender.call(
        "mastodon",
        "POST",
        f"{base}/api/v1/statuses",
        token=token,
        body={"status": text, "in_reply_to_id": status_id, "visibility": visibility},
        headers={"Idempotency-Key": key},
    )
    if not isinstance(status, Mapping) or not status.get("id"):
        raise PublishError("mastodon: the answer holds no status id", maybe_sent=True)
    from .sources.mastodon import parse_account

    url = safe_url(str(status.get("url") or status.get("uri") or ""))
    return Item(
        id=f"mastodon:{own}/{status['id']}",
        source="mastodon",
        kind="reply",
        author=parse_account(status.get("account") or {}, own),
        published=_when(status.get("created_at")),
        content_html=clean_html(str(status.get("content") or "")) or text_to_html(text),
        url=url,
        in_reply_to=item.id,
        reply_url=url,
        by_author=True,
    )


def _when(value: Any) -> datetime:
    try:
        return parse_timestamp(str(value))
    except ValueError:
        return datetime.now(timezone.utc).replace(microsecond=0)


# Bluesky -------------------------------------------------------------------


def _ref(value: Any) -> dict[str, str] | None:
    if isinstance(value, Mapping) and value.get("uri") and value.get("cid"):
        return {"uri": str(value["uri"]), "cid": str(value["cid"])}
    return None


def bluesky_refs(sender: Sender, api_url: str, uri: str) -> tuple[dict[str, str], dict[str, str]]:
    """(root, parent) strong refs for answering the post at ``uri``, from
    the public AppView's ``app.bsky.feed.getPosts``."""
    found = sender.call(
        "bluesky", "GET", f"{api_url}/xrpc/app.bsky.feed.getPosts", params={"uris": uri}
    )
    posts = found.get("posts") if isinstance(found, Mapping) else None
    first: Mapping[str, Any] = {}
    if isinstance(posts, list) and posts and isinstance(posts[0], Mapping):
        first = posts[0]
    parent = _ref(first)
    if parent is None:
        raise PublishError(f"bluesky: {uri} was not found (deleted?); nothing was posted")
    record = first.get("record")
    reply = record.get("reply") if isinstance(record, Mapping) else None
    return (_ref(reply.get("root")) if isinstance(reply, Mapping) else None) or parent, parent


def bluesky_reply(
    sender: Sender,
    api_url: str,
    pds_url: str,
    handle: str,
    password: str,
    item: Item,
    text: str,
    now: datetime,
) -> Item:
    """Post ``text`` under ``item``: createSession, then createRecord."""
    uri = item.id.removeprefix("bluesky:")
    root, parent = bluesky_refs(sender, api_url, uri)

    def resolve(name: str) -> str | None:
        try:
            found = sender.call(
                "bluesky",
                "GET",
                f"{api_url}/xrpc/com.atproto.identity.resolveHandle",
                params={"handle": name},
            )
        except PublishError:
            return None
        did = found.get("did") if isinstance(found, Mapping) else None
        return str(did) if did else None

    facets = bluesky_facets(text, resolve)
    session = sender.call(
        "bluesky",
        "POST",
        f"{pds_url}/xrpc/com.atproto.server.createSession",
        body={"identifier": handle, "password": password},
    )
    jwt = str(session.get("accessJwt") or "") if isinstance(session, Mapping) else ""
    did = str(session.get("did") or "") if isinstance(session, Mapping) else ""
    if not jwt or not did:
        raise PublishError("bluesky: createSession gave no session; nothing was posted")
    sender.secrets = (*sender.secrets, jwt, str(session.get("refreshJwt") or ""))
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "reply": {"root": root, "parent": parent},
    }
    if facets:
        record["facets"] = facets
    created = sender.call(
        "bluesky",
        "POST",
        f"{pds_url}/xrpc/com.atproto.repo.createRecord",
        token=jwt,
        body={"repo": did, "collection": "app.bsky.feed.post", "record": record},
    )
    new_uri = str(created.get("uri") or "") if isinstance(created, Mapping) else ""
    if not new_uri:
        raise PublishError("bluesky: createRecord gave no uri", maybe_sent=True)
    from .sources.bluesky import post_url
    from .sources.bluesky_content import post_html

    own = str(session.get("handle") or handle)
    url = post_url(new_uri, own)
    return Item(
        id=f"bluesky:{new_uri}",
        source="bluesky",
        kind="reply",
        author=Person(name=clean_text(own), handle=own, url=f"https://bsky.app/profile/{own}"),
        published=now,
        content_html=post_html(text, facets),
        url=url,
        in_reply_to=item.id,
        extras={"did": did},
        reply_url=url,
        root=root["uri"],
        by_author=True,
    )


# X -------------------------------------------------------------------------


def twitter_reply(
    sender: Sender, api_url: str, token: str, username: str, item: Item, text: str, now: datetime
) -> Item:
    """``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``."""
    tweet_id = item.id.removeprefix("twitter:")
    answer = sender.call(
        "twitter",
        "POST",
        f"{api_url}/2/tweets",
        token=token,
        body={"text": text, "reply": {"in_reply_to_tweet_id": tweet_id}},
    )
    data = answer.get("data") if isinstance(answer, Mapping) else None
    if not isinstance(data, Mapping) or not data.get("id"):
        raise PublishError("twitter: the answer holds no post id", maybe_sent=True)
    from .sources.twitter_text import tweet_url

    new_id = str(data["id"])
    url = tweet_url(new_id, username)
    return Item(
        id=f"twitter:{new_id}",
        source="twitter",
        kind="reply",
        author=Person(name=username or "me", handle=username, url=f"https://x.com/{username}"),
        published=now,
        content_html=text_to_html(str(data.get("text") or text)),
        url=url,
        in_reply_to=item.id,
        reply_url=url,
        by_author=True,
    )
