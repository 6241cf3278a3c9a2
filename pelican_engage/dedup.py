"""One reply reached by two paths shows once: pure functions, no I/O.

A Mastodon reply fetched from its server may also arrive as a webmention
sent by Bridgy; a tweet found by search may come back through webmention.io
too.  Each item gets a set of canonical keys (its post on its network, its
URL, its syndication links, the Bridgy source URL); items sharing a key are
one, and the richer copy is kept.  Which URLs name a post on a network, and
an item's native keys, each network declares (``sources/registry.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from .identity import normal_url
from .model import Item
from .sources.registry import BY_NAME, NETWORKS

#: brid.gy/comment/<network>/<user>/<post>/<comment> and like/repost forms.
_BRIDGY = re.compile(r"^brid\.gy/(comment|like|repost|reaction)/([a-z]+)/([^/]+)/([^/]+)/([^/]+)")


def url_keys(url: str) -> set[str]:
    """Canonical keys of a URL: the post it names on its network, or itself."""
    if not url:
        return set()
    # The fragment stays: comments of one page differ only by "#comment-12".
    plain = normal_url(url)
    keys = {f"url:{plain}"}
    for network in NETWORKS:
        found = network.url_keys(plain) if network.url_keys else set()
        if found:
            return keys | found
    if match := _BRIDGY.match(plain):
        kind, name, user, _post, leaf = match.groups()
        relayed = BY_NAME.get(name)
        if kind == "comment" and relayed is not None and relayed.bridgy_key:
            key = relayed.bridgy_key(user, leaf)
            if key:
                keys.add(key)
    return keys


def item_keys(item: Item) -> set[str]:
    """Every key under which ``item`` may have been seen."""
    if item.kind in {"like", "repost"}:
        # One person likes a post once, whichever way we heard of it.
        who = normal_url(item.author.url) if item.author.url else ""
        return {f"{item.kind}:{who}"} if who else set()
    if item.source == "webmention":
        return _webmention_keys(item)
    keys = url_keys(item.url)
    network = BY_NAME.get(item.source)
    if network is not None and network.item_keys:
        keys |= network.item_keys(item)
    for link in item.syndication:
        keys |= url_keys(link)
    return keys


def vouched(url: str, source_url: str) -> bool:
    """Whether a webmention's page can speak for ``url``.

    Everything in a webmention but its source URL (which webmention.io
    fetched) is what the sender's page says.  A page speaks for URLs on its
    own host; Bridgy's pages are built from the networks' own data.
    """
    source = host(source_url)
    return bool(url) and bool(source) and (source == "brid.gy" or host(url) == source)


def host(url: str) -> str:
    return normal_url(url).split("/", 1)[0]


def _webmention_keys(item: Item) -> set[str]:
    """Keys a sender cannot forge: its source URL, and the links its own
    page (or Bridgy) vouches for.  Otherwise a spam webmention listing a
    real reply's URL as its syndication link would replace that reply."""
    source = item.wm_source
    keys = url_keys(source)
    links = [item.url, *item.syndication]
    for link in links:
        if vouched(link, source):
            keys |= url_keys(link)
    return keys


def _richness(item: Item) -> tuple[int, int, int, str]:
    # A native copy knows its parent and its network's id; a webmention
    # only knows it answers the page.  Then: more text, a known parent.
    return (
        0 if item.source == "webmention" else 1,
        len(item.content_html),
        1 if item.in_reply_to else 0,
        item.id,
    )


def dedupe(items: Iterable[Item]) -> tuple[list[Item], dict[str, str]]:
    """The items without duplicates, and each dropped id -> the id kept.

    Replies to a dropped copy are pointed at the kept one.
    """
    ordered = sorted(items, key=_richness, reverse=True)
    owner: dict[str, str] = {}
    kept: list[Item] = []
    aliases: dict[str, str] = {}
    for item in ordered:
        keys = item_keys(item)
        twin = next((owner[k] for k in keys if k in owner), None)
        if twin is not None and twin != item.id:
            aliases[item.id] = twin
            continue
        kept.append(item)
        for key in keys:
            owner.setdefault(key, item.id)
    if aliases:
        kept = [
            item if item.in_reply_to not in aliases else _reparent(item, aliases[item.in_reply_to])  # type: ignore[index]
            for item in kept
        ]
    return kept, aliases


def _reparent(item: Item, parent: str) -> Item:
    return replace(item, in_reply_to=None if parent == item.id else parent)
