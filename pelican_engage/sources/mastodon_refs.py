"""Where things are on Mastodon: status URLs, profile URLs, accounts' handles.

Pure functions, beside ``mastodon.py`` (which re-exports them): a status URL
-> its API location, an account -> a :class:`Person` with a full handle,
and the URL shapes dedup and author recognition read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..identity import normal_handle
from ..model import Person
from ..sanitize import clean_text, safe_url

_DOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?$")

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


def _handle(account: Mapping[str, Any], host: str, domain: str = "") -> str:
    acct = str(account.get("acct") or account.get("username") or "")
    if acct and "@" not in acct:
        # A local account's acct has no domain: it is the server's account
        # domain, which may differ from the host that serves it
        # (``@zoe@zoe.example`` served by social.zoe.example).
        acct = f"{acct}@{domain or host.split(':', 1)[0]}"
    return acct


def parse_instance_domain(answer: Any) -> str:
    """The account domain from ``/api/v2/instance`` (``domain``) or
    ``/api/v1/instance`` (``uri``); "" when the answer has none."""
    if not isinstance(answer, Mapping):
        return ""
    value = answer.get("domain") or answer.get("uri")
    if not isinstance(value, str):
        return ""
    value = value.strip().casefold()
    value = value.removeprefix("https://").removeprefix("http://").rstrip("/")
    return value if _DOMAIN.match(value) else ""


def announcer_domain(root: Mapping[str, Any], author_handles: Iterable[str]) -> str:
    """The account domain of the server, guessed from the announcement.

    For servers that do not say (no ``/api/v2/instance``): the article's
    metadata names the author's own announcement, so when it was posted by
    a local account (``acct`` without a domain) whose name is the user part
    of exactly one of the author's handles (``zoe`` and ``zoe@zoe.example``),
    that handle's domain is this server's.  "" otherwise.
    """
    account = root.get("account") if isinstance(root, Mapping) else None
    acct = str(account.get("acct") or "") if isinstance(account, Mapping) else ""
    if not acct or "@" in acct:
        return ""
    domains = {
        handle.rsplit("@", 1)[1]
        for handle in map(normal_handle, author_handles)
        if "@" in handle and handle.rsplit("@", 1)[0] == acct.casefold()
    }
    (domain,) = domains if len(domains) == 1 else ("",)
    return domain if _DOMAIN.match(domain) else ""


def parse_account(account: Mapping[str, Any], host: str, domain: str = "") -> Person:
    name = clean_text(str(account.get("display_name") or "")) or str(account.get("username") or "")
    return Person(
        name=clean_text(name),
        handle=_handle(account, host, domain),
        url=safe_url(str(account.get("url") or "")),
        avatar=safe_url(str(account.get("avatar_static") or account.get("avatar") or "")),
    )


# -- URL shapes for dedup and author recognition ------------------------------------------

#: A status URL in dedup's normal form (no scheme): /@user/123 or /users/user/statuses/123.
_TOOT = re.compile(r"^([^/]+)/(?:@[^/]+|users/[^/]+/statuses)/(\d+)$")
_PROFILE = re.compile(r"([^/@]+)/@([\w.-]+)")


def url_keys(plain: str) -> set[str]:
    """Dedup's key of a status URL in normal form (no scheme), e.g.
    ``mastodon:social.example/123``."""
    match = _TOOT.match(plain)
    return {f"mastodon:{match[1]}/{match[2]}"} if match else set()


def bridgy_key(user: str, leaf: str) -> str:
    # Bridgy names a Mastodon user "user@host": the status id is the host's.
    host = user.rsplit("@", 1)[-1] if "@" in user else ""
    return f"mastodon:{host.casefold()}/{leaf}" if host else ""


def profile(plain: str) -> str | None:
    """``user@host`` of a profile URL in normal form (``host/@user``)."""
    match = _PROFILE.fullmatch(plain)
    return f"{match[2]}@{match[1]}" if match else None
