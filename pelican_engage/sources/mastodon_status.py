"""Mastodon statuses into items: pure functions, beside ``mastodon.py``
(which re-exports them and fetches).

A status JSON -> an :class:`Item` (content warning, media as links,
visibility); a context -> the public descendants, each malformed one
skipped with its reason; what ``replies_count`` says is missing from a
context; favourites and boosts -> items.  Wire format: docs/sources.md,
"Mastodon".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..model import Item, parse_timestamp
from ..parsed import Parsed, Skipped, entry_reason
from ..sanitize import clean_html, media_html, safe_url, text_to_html
from .mastodon_refs import StatusRef, parse_account

SOURCE = "mastodon"
#: Replies that are not public must not be published on a website.  Unlisted
#: ones ("quiet public") are kept out of timelines and search by choice:
#: archived, but withheld from the page unless ENGAGE_MASTODON["unlisted"].
PUBLIC = frozenset({"public", "unlisted"})


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


def descendants(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The statuses of a context answer that have an id; ValueError when
    the answer has no ``descendants`` list."""
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
    return parse_statuses(descendants(context), ref, domain, unlisted)


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
