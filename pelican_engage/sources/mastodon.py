"""Mastodon: the replies to a post's announcement status, as items.

Pure functions first (status URL -> API location and accounts in
``mastodon_refs``; status and context JSON -> items in ``mastodon_status``;
both re-exported here); the fetching class that calls
``/api/v1/statuses/:id/context`` on the status's own server builds on them.
Status ids are local to a server, so the API is always asked on the scheme,
host and port of the status URL.  The server's account domain (which may
differ from that host) comes from ``/api/v2/instance``, asked once per
server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from .. import checks
from ..errors import FetchError
from ..fetch import Job, Result, Source
from ..model import Item, Problem, parse_timestamp
from ..netpolicy import token_host_matches
from ..parsed import Skipped, entry_reason
from .mastodon_refs import (  # noqa: F401  (part of this module's API)
    _DOMAIN,
    StatusRef,
    announcer_domain,
    bridgy_key,
    parse_account,
    parse_instance_domain,
    parse_status_url,
    profile,
    url_keys,
)
from .mastodon_status import (  # noqa: F401  (part of this module's API)
    PUBLIC,
    SOURCE,
    Completeness,
    apply_visibility,
    completeness,
    descendants,
    parse_context,
    parse_reactions,
    parse_status,
    parse_statuses,
)
from .network import FetchSetup, Network, figures

if TYPE_CHECKING:
    from ..http import Client

#: Without a token a server answers at most 60 descendants (and 20 levels)
#: per context; the context of deeper replies is asked for at most this
#: many times per announcement and fetch.
CONTEXT_REQUESTS = 10
#: Archived replies missing from a complete context are asked for one by
#: one (a 404/410 confirms a deletion), at most this many per fetch.
DELETION_CHECKS = 20
#: The reaction lists of a status: (item kind, count key, API path).
_LISTS = (
    ("like", "favourites_count", "favourited_by"),
    ("repost", "reblogs_count", "reblogged_by"),
)


def job_for(post_key: str, url: str, published: datetime) -> Job:
    """The fetch job of one ``mastodon:`` status URL of a post."""
    ref = parse_status_url(url)
    return Job(post_key=post_key, source=SOURCE, target=url, host=ref.host, published=published)


def _accounts(
    get: Callable[..., Any], api: str, root: Mapping[str, Any], count: str, path: str
) -> Any:
    """The accounts at ``{api}/{path}``; None when the status's ``count``
    says there are none, the exception when it failed."""
    try:
        if int(root.get(count) or 0) <= 0:
            return None
        accounts = get(f"{api}/{path}", limit=80)
        if not isinstance(accounts, list):
            raise ValueError("answer is not a list of accounts")
        return accounts
    except (FetchError, TypeError, ValueError) as exc:
        return exc


def _reactions(
    wanted: Iterable[tuple[str, str, str]],
    lists: list[Any],
    ref: StatusRef,
    root: Mapping[str, Any],
    domain: str,
    degraded: list[str],
) -> list[Item]:
    """Favourites and boosts of the announcement from what :func:`_accounts`
    returned for each ``wanted`` list, best-effort: a failed
    ``/favourited_by`` or ``/reblogged_by`` is told in ``degraded`` and
    costs neither the replies nor the other list."""
    items: list[Item] = []
    for (kind, _count, path), accounts in zip(wanted, lists, strict=True):
        try:
            if isinstance(accounts, Exception):
                raise accounts
            if accounts is not None:
                published_at = parse_timestamp(str(root["created_at"]))
                items += parse_reactions(accounts, ref, kind, published_at, domain)
        except (FetchError, KeyError, TypeError, ValueError) as exc:
            degraded.append(f"{path} not fetched ({entry_reason(exc)}); replies kept")
    return items


class AccountDomains:
    """The account domain of each server (host -> domain, "" when it does
    not say), asked once per server and build.

    Asked without a token (the instance answer is public); the threads of
    one build that ask about the same server wait for one answer.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self._domains: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, ref: StatusRef, cursor: Mapping[str, Any]) -> str:
        """The domain of ``ref``'s server: the one kept in the ``cursor`` by
        an earlier build, else ``/api/v2/instance`` (``/api/v1`` on older
        servers); "" when neither says."""
        known = cursor.get("domain")
        if isinstance(known, str) and _DOMAIN.match(known):
            return known
        with self._lock:
            lock = self._locks.setdefault(ref.host, threading.Lock())
        with lock:
            if ref.host not in self._domains:
                found = ""
                for path in ("/api/v2/instance", "/api/v1/instance"):
                    try:
                        found = parse_instance_domain(self.client.get(ref.base_url + path).json())
                    except FetchError as exc:
                        if exc.status in (404, 410):
                            continue  # older servers have v1 only
                    except ValueError:
                        pass
                    break
                self._domains[ref.host] = found
            return self._domains[ref.host]


class MastodonSource:
    """Fetches an announcement's replies (and its favourites and boosts).

    The token, when there is one, comes from the environment only; it opens
    servers in authorized-fetch mode and raises the context limits.  It is
    sent only to ``hosts`` (the server that issued it): statuses on other
    servers are asked without it, as anyone may.  ``unlisted`` publishes
    unlisted replies (ENGAGE_MASTODON["unlisted"]).
    """

    name = SOURCE

    def __init__(
        self,
        client: Client,
        token: str = "",
        reactions: bool = True,
        hosts: tuple[str, ...] = (),
        unlisted: bool = False,
        token_env: str = "ENGAGE_MASTODON_TOKEN",
        author_handles: Iterable[str] = (),
    ) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.hosts = hosts
        self.reactions = reactions
        self.unlisted = unlisted
        self.token_env = token_env
        self.author_handles = frozenset(author_handles)
        self.domains = AccountDomains(client)

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
        # The validator is only good for replies parsed under the same
        # unlisted setting (and archived since visibility was kept).
        old_etag = str(cursor.get("context_etag") or "")
        if cursor.get("unlisted") is not self.unlisted:
            old_etag = ""
        wanted = _LISTS if self.reactions else ()
        # The status exists and says whether it has favourites and boosts:
        # its context, those lists and the server's account domain need not
        # wait for each other (each still waits for a slot of the host).
        answer, domain, *lists = self.client.together(
            lambda: self.client.get(f"{api}/context", headers=self._auth(api), etag=old_etag),
            lambda: self.domains.get(ref, cursor),
            *(partial(_accounts, self._get, api, root, c, path) for _k, c, path in wanted),
        )
        # Local accounts' domain; a guess (see announcer_domain) only when
        # the server does not say, and never kept in the cursor.
        local = domain or announcer_domain(root, self.author_handles)
        etag = answer.headers.get("ETag") or old_etag
        cursor_out: dict[str, Any] = {"status": ref.item_id, "unlisted": self.unlisted}
        items: list[Item] = []
        skipped: tuple[Skipped, ...] = ()
        degraded: list[str] = []
        notice = ""
        complete: frozenset[str] | None = None
        if not answer.not_modified:
            statuses = {str(s["id"]): s for s in descendants(answer.json())}
            state = self._complete(ref, root, statuses)
            parsed = parse_statuses(statuses.values(), ref, local, self.unlisted)
            items, skipped = list(parsed.items), parsed.skipped
            if state.complete:
                # Only a whole thread tells that an archived reply left it
                # (see confirm_gone); a reply skipped as malformed is there.
                complete = frozenset(item.id for item in items) | {
                    f"mastodon:{ref.host}/{entry.id}" for entry in skipped
                }
            else:
                cursor_out["incomplete"] = [state.returned, state.expected]
                if not self._auth(api):
                    notice = (
                        f"{state.returned} of {state.expected} replies; "
                        f"a token in ${self.token_env} raises the limit"
                    )
        elif cursor.get("incomplete"):
            cursor_out["incomplete"] = cursor["incomplete"]
        items += _reactions(wanted, lists, ref, root, local, degraded)
        cursor_out["counts"] = {
            "replies": int(root.get("replies_count") or 0),
            "favourites": int(root.get("favourites_count") or 0),
            "reblogs": int(root.get("reblogs_count") or 0),
        }
        if etag:
            cursor_out["context_etag"] = etag
        if domain:
            cursor_out["domain"] = domain
        return Result(
            tuple(items),
            cursor_out,
            notice=notice,
            complete=complete,
            skipped=skipped,
            degraded=tuple(degraded),
        )

    def confirm_gone(self, job: Job, result: Result, archived: Mapping[str, Item]) -> list[str]:
        """Archived replies of this announcement missing from its whole
        context that the server answers 404/410 for: deleted upstream.

        A reply merely missing (the server's limits, a block) still
        answers, and stays.  At most DELETION_CHECKS are asked per fetch.
        """
        ref = parse_status_url(job.target)
        prefix = f"mastodon:{ref.host}/"
        if result.complete is None:
            return []
        missing = [
            item_id.removeprefix(prefix)
            for item_id, item in archived.items()
            if item_id.startswith(prefix)
            and item.kind == "reply"
            and (item.root or ref.id) == ref.id
            and item_id not in result.complete
        ]
        return [prefix + i for i in self._deleted(ref, missing[:DELETION_CHECKS])]

    def _complete(
        self, ref: StatusRef, root: Mapping[str, Any], statuses: dict[str, Mapping[str, Any]]
    ) -> Completeness:
        """Ask the context of the deepest replies with missing children,
        until the thread is complete or CONTEXT_REQUESTS are spent.

        A server answers at most 60 descendants (20 levels) without a
        token; a reply's own context starts again from that reply.
        """
        asked: set[str] = set()
        for _ in range(CONTEXT_REQUESTS):
            state = completeness(root, statuses)
            todo = [sid for sid in state.open if sid not in asked]
            if state.complete or not todo:
                return state
            asked.add(todo[0])
            try:
                more = self._get(f"{ref.base_url}/api/v1/statuses/{todo[0]}/context")
                found = descendants(more)
            except (FetchError, ValueError):
                break  # what came is kept; the notice says what is missing
            for status in found:
                statuses.setdefault(str(status["id"]), status)
        return completeness(root, statuses)

    def _deleted(self, ref: StatusRef, ids: Iterable[str]) -> list[str]:
        """The ids among ``ids`` that the server confirms are gone (404/410)."""
        lost = []
        for status_id in ids:
            try:
                self.client.get(
                    f"{ref.base_url}/api/v1/statuses/{status_id}", headers=self._auth(ref.base_url)
                )
            except FetchError as exc:
                if exc.status not in (404, 410):
                    break  # an outage proves nothing; ask again next time
                lost.append(status_id)
        return lost


# -- The network's declaration (see sources/registry.py) ------------------------------

SETTING = "ENGAGE_MASTODON"
SETTING_KEYS = frozenset({"token_env", "reactions", "unlisted", "host", "hosts"})


@dataclass(frozen=True)
class MastodonSettings:
    """ENGAGE_MASTODON, checked."""

    token_env: str = "ENGAGE_MASTODON_TOKEN"
    #: Fetch who favourited and boosted the announcement.
    reactions: bool = True
    #: Publish unlisted ("quiet public") replies too; off by default.
    unlisted: bool = False
    #: The server(s) the token is for ("host" or "host:port"); the token
    #: goes to no other server, and to none when this is empty.
    hosts: tuple[str, ...] = ()


def load_settings(settings: Mapping[str, Any]) -> MastodonSettings:
    """ENGAGE_MASTODON of the Pelican settings; SettingsError names a bad key."""
    section = checks.section(settings, SETTING, SETTING_KEYS)
    defaults = MastodonSettings()
    return MastodonSettings(
        token_env=checks.env_name(section, SETTING, defaults.token_env),
        reactions=checks.flag(section, SETTING, "reactions", defaults.reactions),
        unlisted=checks.flag(section, SETTING, "unlisted", defaults.unlisted),
        hosts=checks.hosts(section, SETTING, ("host", "hosts")),
    )


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    settings: MastodonSettings = setup.settings
    token = setup.secrets.get(settings.token_env, "")
    if token and not settings.hosts and setup.jobs:
        setup.report(
            Problem(
                SETTING,
                f"${settings.token_env} holds a token but no 'host' says "
                "which server issued it, so it is sent to none; add e.g. "
                "'host': 'mastodon.social'",
            )
        )
    source = MastodonSource(
        setup.client,
        token=token,
        reactions=settings.reactions,
        hosts=settings.hosts,
        unlisted=settings.unlisted,
        token_env=settings.token_env,
        author_handles=setup.engage.author.handles.get(SOURCE, ()),
    )
    return {SOURCE: source}


def _announcement(value: str) -> str:
    parse_status_url(value)
    return value


NETWORK = Network(
    name=SOURCE,
    display="Mastodon",
    # Its mark, 16x16 in currentColor: a rounded speech balloon with an "m".
    icon=(
        "M8 1.5c-3.3 0-5.5 1.3-5.5 4.6v3.1c0 3 1.9 4.6 5 4.9 1.3.1 2.5-.1 3.3-.4l-.1-1.2"
        "c-1 .3-2.2.4-3.3.3-1.2-.1-1.9-.6-2-1.4 1.6.4 3.6.5 5.3.2 2-.3 3.3-1.5 3.3-3.4V6.1"
        "c0-3.3-2.2-4.6-5.5-4.6zM5 10V6.3c0-.8.5-1.2 1.2-1.2s1.3.5 1.3 1.3V8h1V6.4"
        "c0-.8.5-1.3 1.3-1.3S11 5.5 11 6.3V10H9.8V6.6c0-.4-.3-.6-.6-.6s-.6.2-.6.6V9H7.4"
        "V6.6c0-.4-.3-.6-.6-.6s-.6.2-.6.6V10z"
    ),
    metadata=("mastodon",),
    job=lambda key, value, published, _settings: job_for(key, value, published),
    announcement=_announcement,
    setting=SETTING,
    setting_keys=SETTING_KEYS,
    load_settings=load_settings,
    secrets=lambda settings: (settings.token_env,),
    fetchers=_fetchers,
    url_keys=url_keys,
    bridgy_key=bridgy_key,
    item_keys=lambda item: {item.id.casefold()},
    profile=profile,
    shown=lambda items, settings: apply_visibility(items, settings.unlisted),
    counts=lambda cursor: figures(cursor, "counts", "favourites", "reblogs"),
)
