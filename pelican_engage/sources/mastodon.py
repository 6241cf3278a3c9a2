"""Mastodon: the replies to a post's announcement status, as items.

Pure functions first (status URL -> API location and accounts in
``mastodon_refs``, re-exported here; Status JSON -> Item); the
fetching class that calls ``/api/v1/statuses/:id/context`` on the status's
own server builds on them.  Status ids are local to a server, so the API is
always asked on the scheme, host and port of the status URL.  The server's
account domain (which may differ from that host) comes from
``/api/v2/instance``, asked once per server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import checks
from ..errors import FetchError
from ..fetch import Job, Result, Source
from ..model import Item, Problem, parse_timestamp
from ..netpolicy import token_host_matches
from ..parsed import Parsed, Skipped, entry_reason
from ..sanitize import clean_html, media_html, safe_url, text_to_html
from .mastodon_refs import (
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
from .network import FetchSetup, Network, figures

if TYPE_CHECKING:
    from ..http import Client

SOURCE = "mastodon"
#: Replies that are not public must not be published on a website.  Unlisted
#: ones ("quiet public") are kept out of timelines and search by choice:
#: archived, but withheld from the page unless ENGAGE_MASTODON["unlisted"].
PUBLIC = frozenset({"public", "unlisted"})
#: Without a token a server answers at most 60 descendants (and 20 levels)
#: per context; the context of deeper replies is asked for at most this
#: many times per announcement and fetch.
CONTEXT_REQUESTS = 10
#: Archived replies missing from a complete context are asked for one by
#: one (a 404/410 confirms a deletion), at most this many per fetch.
DELETION_CHECKS = 20


def _media(status: Mapping[str, Any], page: str) -> list[tuple[str, str, str]]:
    """(kind, description, link) of each attachment: the original file
    (``remote_url`` on the writer's server), else the copy, else the status."""
    found = []
    for media in status.get("media_attachments") or ():
        if isinstance(media, Mapping):
            href = safe_url(str(media.get("remote_url") or "")) or safe_url(
                str(media.get("url") or "")
            )
            kind = str(media.get("type") or "unknown")
            found.append((kind, str(media.get("description") or ""), href or page))
    return found


def parse_status(
    status: Mapping[str, Any], ref: StatusRef, domain: str = "", unlisted: bool = False
) -> Item:
    """One reply under the announcement ``ref``; parents outside are the post.

    ``domain`` is the server's account domain (for local accounts); an
    unlisted reply is marked withheld unless ``unlisted`` allows it.
    """
    content = clean_html(str(status.get("content") or ""))
    warning = str(status.get("spoiler_text") or "").strip()
    if warning:
        # Content warnings are plain text; keep them visible above the reply.
        content = text_to_html(f"CW: {warning}") + content
    parent = status.get("in_reply_to_id")
    in_reply_to = None if not parent or str(parent) == ref.id else f"mastodon:{ref.host}/{parent}"
    url = safe_url(str(status.get("url") or status.get("uri") or ""))
    # Pictures are links with their description: no remote image is loaded.
    content += media_html(_media(status, url))
    extras: dict[str, Any] = {
        "favourites": int(status.get("favourites_count") or 0),
        "reblogs": int(status.get("reblogs_count") or 0),
    }
    quiet = status.get("visibility") == "unlisted"
    return Item(
        id=f"mastodon:{ref.host}/{status['id']}",
        source=SOURCE,
        kind="reply",
        author=parse_account(status.get("account") or {}, ref.host, domain),
        published=parse_timestamp(str(status["created_at"])),
        content_html=content,
        url=url,
        in_reply_to=in_reply_to,
        extras=extras,
        reply_url=url,
        # The announcement it belongs to, so a deletion check asks only
        # about the replies of the thread that was fetched whole.
        root=ref.id,
        visibility="unlisted" if quiet else "",
        withheld="unlisted" if quiet and not unlisted else "",
    )


def apply_visibility(items: Iterable[Item], unlisted: bool) -> list[Item]:
    """``items`` with their unlisted Mastodon replies withheld, or not, as
    ENGAGE_MASTODON["unlisted"] says now: it may have changed since they
    were fetched, and a build (even offline) follows it at once."""
    out = []
    for item in items:
        if item.source == SOURCE and item.visibility == "unlisted":
            wanted = "" if unlisted else "unlisted"
            if item.withheld != wanted:
                item = replace(item, withheld=wanted)
        out.append(item)
    return out


def _descendants(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    descendants = context.get("descendants") if isinstance(context, Mapping) else None
    if not isinstance(descendants, list):
        raise ValueError("context has no 'descendants' list")
    return [s for s in descendants if isinstance(s, Mapping) and s.get("id")]


def parse_context(
    context: Mapping[str, Any], ref: StatusRef, domain: str = "", unlisted: bool = False
) -> Parsed:
    """The public descendants of the announcement, as items.

    The context is flat and chronological; ``in_reply_to_id`` rebuilds the
    tree.  A reply to a reply that is not public (or not returned) keeps
    its parent id, and the conversation shows it at the top level.
    Followers-only and direct replies are left out; unlisted ones are
    kept, marked withheld (see :func:`parse_status`).  ValueError when the
    answer is no context.
    """
    return parse_statuses(_descendants(context), ref, domain, unlisted)


def parse_statuses(
    statuses: Iterable[Mapping[str, Any]], ref: StatusRef, domain: str = "", unlisted: bool = False
) -> Parsed:
    """The public ``statuses`` as items; a malformed one (no ``created_at``,
    a bad date...) is skipped with its reason, never costing the others."""
    items: list[Item] = []
    skipped: list[Skipped] = []
    for status in statuses:
        if status.get("visibility", "public") not in PUBLIC:
            continue
        try:
            items.append(parse_status(status, ref, domain, unlisted))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped.append(Skipped(str(status.get("id")), entry_reason(exc), "reply"))
    return Parsed(tuple(items), tuple(skipped))


@dataclass(frozen=True)
class Completeness:
    """How much of a thread a context answer holds.

    ``returned`` counts the descendants that came back; ``expected`` adds
    the replies that ``replies_count`` of the announcement and of each
    returned status announces but that did not come; ``open`` lists the
    returned statuses with children missing, deepest first (their own
    context may bring them).
    """

    returned: int
    expected: int
    open: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return self.returned >= self.expected


def completeness(
    root: Mapping[str, Any], statuses: Mapping[str, Mapping[str, Any]]
) -> Completeness:
    """Compare the statuses that came with what ``replies_count`` says.

    ``replies_count`` counts a status's direct public and unlisted replies
    (the ones a context returns), so a shortfall is a reply not returned.
    """
    root_id = str(root.get("id") or "")
    children: dict[str, int] = {}
    for status in statuses.values():
        parent = str(status.get("in_reply_to_id") or "")
        children[parent] = children.get(parent, 0) + 1

    def missing(status: Mapping[str, Any]) -> int:
        count = status.get("replies_count")
        count = count if isinstance(count, int) else 0
        return max(0, count - children.get(str(status.get("id") or ""), 0))

    def depth(status_id: str) -> int:
        seen, node = 0, status_id
        while node in statuses and node != root_id and seen <= len(statuses):
            node, seen = str(statuses[node].get("in_reply_to_id") or ""), seen + 1
        return seen

    short = missing(root) + sum(missing(s) for s in statuses.values())
    open_ = sorted((sid for sid, s in statuses.items() if missing(s)), key=depth, reverse=True)
    return Completeness(len(statuses), len(statuses) + short, tuple(open_))


def parse_reactions(
    accounts: Iterable[Mapping[str, Any]],
    ref: StatusRef,
    kind: str,
    published: Any,
    domain: str = "",
) -> list[Item]:
    """Favourites ("like") or boosts ("repost") of the announcement, by account."""
    verb = "favourite" if kind == "like" else "reblog"
    return [
        Item(
            id=f"mastodon:{ref.host}/{ref.id}/{verb}/{account.get('id')}",
            source=SOURCE,
            kind=kind,
            author=parse_account(account, ref.host, domain),
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
        #: Account domain of each server (host -> domain), asked once a build.
        self._domains: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def _auth(self, url: str) -> dict[str, str]:
        """The token's header for its own server's URLs; nothing elsewhere."""
        return self.headers if token_host_matches(url, self.hosts) else {}

    def _get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, params=params or None, headers=self._auth(url)).json()

    def domain(self, ref: StatusRef, cursor: Mapping[str, Any]) -> str:
        """The server's account domain ("" when it does not say).

        Asked once per server and build, without the token (the instance
        answer is public), and kept in the cursor for later builds.
        """
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
        domain = self.domain(ref, cursor)
        # Local accounts' domain; a guess (see announcer_domain) only when
        # the server does not say, and never kept in the cursor.
        local = domain or announcer_domain(root, self.author_handles)
        # The context is the big answer; its ETag lets an unchanged thread
        # come back as a bodiless 304 (which means "no change", never "no
        # replies": archived items stay as they are).
        # The validator is only good for replies parsed under the same
        # unlisted setting (and archived since visibility was kept).
        old_etag = str(cursor.get("context_etag") or "")
        if cursor.get("unlisted") is not self.unlisted:
            old_etag = ""
        answer = self.client.get(f"{api}/context", headers=self._auth(api), etag=old_etag)
        etag = answer.headers.get("ETag") or old_etag
        cursor_out: dict[str, Any] = {"status": ref.item_id, "unlisted": self.unlisted}
        items: list[Item] = []
        skipped: tuple[Skipped, ...] = ()
        degraded: list[str] = []
        notice = ""
        complete: frozenset[str] | None = None
        if not answer.not_modified:
            statuses = {str(s["id"]): s for s in _descendants(answer.json())}
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
        if self.reactions:
            items += self._reactions(api, ref, root, local, degraded)
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

    def _reactions(
        self,
        api: str,
        ref: StatusRef,
        root: Mapping[str, Any],
        domain: str,
        degraded: list[str],
    ) -> list[Item]:
        """Favourites and boosts of the announcement, best-effort: a failed
        ``/favourited_by`` or ``/reblogged_by`` is told in ``degraded`` and
        costs neither the replies nor the other list."""
        items: list[Item] = []
        for kind, count_key, path in (
            ("like", "favourites_count", "favourited_by"),
            ("repost", "reblogs_count", "reblogged_by"),
        ):
            try:
                if int(root.get(count_key) or 0) <= 0:
                    continue
                published_at = parse_timestamp(str(root["created_at"]))
                accounts = self._get(f"{api}/{path}", limit=80)
                if not isinstance(accounts, list):
                    raise ValueError("answer is not a list of accounts")
                items += parse_reactions(accounts, ref, kind, published_at, domain)
            except (FetchError, KeyError, TypeError, ValueError) as exc:
                degraded.append(f"{path} not fetched ({entry_reason(exc)}); replies kept")
        return items

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
                found = _descendants(more)
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
