"""Mastodon: the replies to a post's announcement status, as items.

Pure functions first (status URL -> API location, Status JSON -> Item); the
fetching class that calls ``/api/v1/statuses/:id/context`` on the status's
own server builds on them.  Status ids are local to a server, so the API is
always asked on the scheme, host and port of the status URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import FetchError
from ..fetch import Job, Result
from ..model import Item, Person, parse_timestamp
from ..netpolicy import token_host_matches
from ..sanitize import clean_html, clean_text, safe_url, text_to_html

if TYPE_CHECKING:
    from ..http import Client

SOURCE = "mastodon"
#: Replies that are not public must not be published on a website.
PUBLIC = frozenset({"public", "unlisted"})

_STATUS_PATHS = (
    re.compile(r"^/@[^/]+/(?P<id>\d+)/?$"),  # /@user/123 and /@user@remote/123
    re.compile(r"^/users/[^/]+/statuses/(?P<id>\d+)/?$"),
    re.compile(r"^/web/statuses/(?P<id>\d+)/?$"),
    re.compile(r"^/notice/(?P<id>[A-Za-z0-9]+)/?$"),  # Pleroma/Akkoma
)


@dataclass(frozen=True)
class StatusRef:
    """Where a status lives: its server's base URL, host (with port) and id."""

    base_url: str
    host: str
    id: str

    @property
    def item_id(self) -> str:
        return f"mastodon:{self.host}/{self.id}"


def parse_status_url(url: str) -> StatusRef:
    """The API location of a status URL; ValueError names what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{url!r} is not a Mastodon status URL (no http(s) host)")
    for pattern in _STATUS_PATHS:
        match = pattern.match(parts.path)
        if match:
            return StatusRef(f"{parts.scheme}://{parts.netloc}", parts.netloc, match["id"])
    raise ValueError(f"{url!r} is not a Mastodon status URL (expected https://server/@user/123456)")


def _handle(account: Mapping[str, Any], host: str) -> str:
    acct = str(account.get("acct") or account.get("username") or "")
    if acct and "@" not in acct:
        # A local account's acct has no domain: it is the status's server's.
        acct = f"{acct}@{host.split(':', 1)[0]}"
    return acct


def parse_account(account: Mapping[str, Any], host: str) -> Person:
    name = clean_text(str(account.get("display_name") or "")) or str(account.get("username") or "")
    return Person(
        name=clean_text(name),
        handle=_handle(account, host),
        url=safe_url(str(account.get("url") or "")),
        avatar=safe_url(str(account.get("avatar_static") or account.get("avatar") or "")),
    )


def parse_status(status: Mapping[str, Any], ref: StatusRef) -> Item:
    """One reply under the announcement ``ref``; parents outside are the post."""
    content = clean_html(str(status.get("content") or ""))
    warning = str(status.get("spoiler_text") or "").strip()
    if warning:
        # Content warnings are plain text; keep them visible above the reply.
        content = text_to_html(f"CW: {warning}") + content
    parent = status.get("in_reply_to_id")
    in_reply_to = None if not parent or str(parent) == ref.id else f"mastodon:{ref.host}/{parent}"
    url = safe_url(str(status.get("url") or status.get("uri") or ""))
    return Item(
        id=f"mastodon:{ref.host}/{status['id']}",
        source=SOURCE,
        kind="reply",
        author=parse_account(status.get("account") or {}, ref.host),
        published=parse_timestamp(str(status["created_at"])),
        content_html=content,
        url=url,
        in_reply_to=in_reply_to,
        extras={
            "favourites": int(status.get("favourites_count") or 0),
            "reblogs": int(status.get("reblogs_count") or 0),
            "reply_url": url,
        },
    )


def parse_context(context: Mapping[str, Any], ref: StatusRef) -> list[Item]:
    """The public descendants of the announcement, as items.

    The context is flat and chronological; ``in_reply_to_id`` rebuilds the
    tree.  A reply to a reply that is not public (or not returned) keeps
    its parent id, and the conversation shows it at the top level.
    """
    descendants = context.get("descendants")
    if not isinstance(descendants, list):
        raise ValueError("context has no 'descendants' list")
    return [
        parse_status(status, ref)
        for status in descendants
        if isinstance(status, Mapping) and status.get("visibility", "public") in PUBLIC
    ]


def parse_reactions(
    accounts: Iterable[Mapping[str, Any]], ref: StatusRef, kind: str, published: Any
) -> list[Item]:
    """Favourites ("like") or boosts ("repost") of the announcement, by account."""
    verb = "favourite" if kind == "like" else "reblog"
    return [
        Item(
            id=f"mastodon:{ref.host}/{ref.id}/{verb}/{account.get('id')}",
            source=SOURCE,
            kind=kind,
            author=parse_account(account, ref.host),
            published=published,
            url=safe_url(str(account.get("url") or "")),
        )
        for account in accounts
        if isinstance(account, Mapping) and account.get("id")
    ]


def job_for(post_key: str, url: str, published: datetime) -> Job:
    """The fetch job of one ``mastodon:`` status URL of a post."""
    ref = parse_status_url(url)
    return Job(post_key=post_key, source=SOURCE, target=url, host=ref.host, published=published)


class MastodonSource:
    """Fetches an announcement's replies (and its favourites and boosts).

    The token, when there is one, comes from the environment only; it opens
    servers in authorized-fetch mode and raises the context limits.  It is
    sent only to ``hosts`` (the server that issued it): statuses on other
    servers are asked without it, as anyone may.
    """

    name = SOURCE

    def __init__(
        self,
        client: Client,
        token: str = "",
        reactions: bool = True,
        hosts: tuple[str, ...] = (),
    ) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.hosts = hosts
        self.reactions = reactions

    def _auth(self, url: str) -> dict[str, str]:
        """The token's header for its own server's URLs; nothing elsewhere."""
        return self.headers if token_host_matches(url, self.hosts) else {}

    def _get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, params=params or None, headers=self._auth(url)).json()

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        ref = parse_status_url(job.target)
        api = f"{ref.base_url}/api/v1/statuses/{ref.id}"
        try:
            root = self._get(api)
        except FetchError as exc:
            if exc.status in (404, 410):
                # Deleted upstream: keep what is archived, stop asking.
                return Result((), {"deleted": True})
            raise
        # The context is the big answer; its ETag lets an unchanged thread
        # come back as a bodiless 304 (which means "no change", never "no
        # replies": archived items stay as they are).
        answer = self.client.get(
            f"{api}/context", headers=self._auth(api), etag=str(cursor.get("context_etag") or "")
        )
        items = [] if answer.not_modified else parse_context(answer.json(), ref)
        etag = answer.headers.get("ETag") or str(cursor.get("context_etag") or "")
        if self.reactions:
            published = parse_timestamp(str(root["created_at"]))
            for kind, count_key, path in (
                ("like", "favourites_count", "favourited_by"),
                ("repost", "reblogs_count", "reblogged_by"),
            ):
                if int(root.get(count_key) or 0) > 0:
                    accounts = self._get(f"{api}/{path}", limit=80)
                    items.extend(parse_reactions(accounts, ref, kind, published))
        counts = {
            "replies": int(root.get("replies_count") or 0),
            "favourites": int(root.get("favourites_count") or 0),
            "reblogs": int(root.get("reblogs_count") or 0),
        }
        cursor_out: dict[str, Any] = {"status": ref.item_id, "counts": counts}
        if etag:
            cursor_out["context_etag"] = etag
        return Result(tuple(items), cursor_out)
