"""Every network pelican-engage fetches, in one tuple.

The engine, settings, dedup, render, people and the CLI iterate over
:data:`NETWORKS`; nothing else names a network.  To add one, write its
module under ``sources/`` with a ``NETWORK = Network(...)`` and list it
here (CONTRIBUTING.md has the checklist).
"""

from __future__ import annotations

from collections.abc import Mapping

from . import (
    bluesky,
    discourse,
    feed,
    github,
    hackernews,
    lemmy,
    lobsters,
    mastodon,
    reddit,
    twitter,
    webmention,
    wordpress,
)
from .network import ArticleView, FetchSetup, Network

__all__ = [
    "BY_NAME",
    "NETWORKS",
    "WITH_HANDLES",
    "ArticleView",
    "FetchSetup",
    "Network",
    "network",
    "owner",
]

#: In the order jobs are made and settings are checked.
NETWORKS: tuple[Network, ...] = (
    twitter.NETWORK,
    mastodon.NETWORK,
    bluesky.NETWORK,
    feed.NETWORK,
    wordpress.NETWORK,
    webmention.NETWORK,
    hackernews.NETWORK,
    lobsters.NETWORK,
    reddit.NETWORK,
    lemmy.NETWORK,
    discourse.NETWORK,
    github.NETWORK,
)
BY_NAME: Mapping[str, Network] = {n.name: n for n in NETWORKS}
#: Networks where the author announces posts (``tweet:``, ``mastodon:``...).
ANNOUNCING: tuple[Network, ...] = tuple(n for n in NETWORKS if n.announces)
#: Networks of accounts where the author has handles: the announcing ones
#: and the discussion sites (Hacker News, Reddit...).
WITH_HANDLES: tuple[Network, ...] = tuple(n for n in NETWORKS if n.has_handles)


def network(name: str) -> Network:
    """The network called ``name``; KeyError names the known ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no network {name!r}; known: {', '.join(BY_NAME)}") from None


def owner(value: str, besides: str = "") -> Network | None:
    """The announcing network (other than ``besides``) whose form ``value`` has.

    Lets "metadata 'tweet': ... is not a tweet" add "it is a Mastodon
    status: put it under 'mastodon:'" instead of guessing.
    """
    for net in ANNOUNCING:
        if net.name == besides or net.announcement is None:
            continue
        try:
            net.announcement(value)
        except ValueError:
            continue
        return net
    return None
