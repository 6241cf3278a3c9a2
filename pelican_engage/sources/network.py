"""What a network declares about itself: the :class:`Network` record.

Each source module (``sources/mastodon.py``...) defines one
``NETWORK = Network(...)``; ``sources/registry.py`` lists them.  The engine,
settings, dedup, render, people and the CLI read these records instead of
naming networks, so adding one is one module (see CONTRIBUTING.md).

This module imports no source, so every source can import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..fetch import Job, Source
from ..model import Item, Problem


@dataclass(frozen=True)
class ArticleView:
    """What a network may read of one article while making its jobs."""

    #: The post key (slug, ``engage_key``...).
    key: str
    #: The article's full URL (SITEURL + its URL); "" without SITEURL.
    url: str
    published: datetime
    #: The article's metadata (Pelican lower-cases the keys).
    metadata: Mapping[str, Any]
    #: The post's archived cursors ({} when the archive file is unreadable).
    cursors: Callable[[], Mapping[str, Any]] = lambda: {}

    def values(self, key: str) -> list[str]:
        """A comma-separated metadata value as a list."""
        raw = str(self.metadata.get(key) or "")
        return [v.strip() for v in raw.split(",") if v.strip()]


@dataclass(frozen=True)
class FetchSetup:
    """What a network's fetcher is built from, for one fetch."""

    #: The network's own settings (what its ``load_settings`` returned).
    settings: Any
    #: The whole :class:`~pelican_engage.settings.EngageSettings`.
    engage: Any
    #: Its secrets: environment variable name -> value ("" when unset).
    secrets: Mapping[str, str]
    #: The network's :class:`~pelican_engage.http.Client` (its secrets registered).
    client: Any
    #: The fetch's jobs for this network.
    jobs: Sequence[Job]
    #: Tells the user something they must fix (once per build).
    report: Callable[[Problem], None]


def figures(cursor: Mapping[str, Any], path: str, likes: str, reposts: str) -> tuple[int, int]:
    """(likes, reposts) read from ``cursor[path][likes]`` and ``[reposts]``
    (``path`` may be dotted); a missing or odd value counts 0, since the
    archive is committed and editable."""
    node: Any = cursor
    for step in path.split("."):
        node = node.get(step) if isinstance(node, Mapping) else None
    node = node if isinstance(node, Mapping) else {}
    values = (node.get(likes), node.get(reposts))
    return tuple(v if isinstance(v, int) else 0 for v in values)  # type: ignore[return-value]


def _no_settings(_settings: Mapping[str, Any]) -> None:
    return None


def _no_secrets(_settings: Any) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class Network:
    """One network, declared in one place.  Hooks left None do not apply."""

    #: Item ``source`` and id prefix, archive cursor prefix, CLI ``--source``.
    name: str
    #: How pages name it ("Reply on X", "Join the conversation on Mastodon").
    display: str
    #: Its mark beside each of its items: SVG path data, 16x16, drawn in
    #: ``currentColor`` (``icons.py`` makes the ``<svg>``).
    icon: str
    #: Article metadata keys whose comma-separated values are this network's.
    metadata: tuple[str, ...] = ()
    #: (post key, metadata value, published, settings) -> its fetch job;
    #: ValueError names the expected form.
    job: Callable[[str, str, datetime, Any], Job] | None = None
    #: For a network where the author announces posts (its metadata names the
    #: announcement, ENGAGE_AUTHOR lists the author's handles there): a
    #: metadata value -> the announcement's URL (ValueError when it is not one).
    announcement: Callable[[str], str] | None = None
    #: Items are by accounts (a handle, a profile): a name alone never makes
    #: the author.  False for comment forms where anybody types any name.
    accounts: bool = True
    #: A site where readers submit links and discuss them (Hacker News,
    #: Reddit...), found by the post's URL.  Each submission is an item of
    #: kind ``mention`` (its submitter as author, its title as text) and its
    #: comments hang under it, so a top-level comment answers the submission,
    #: not the author: it waits only when it mentions the author or the
    #: author submitted the link (docs/design.md, "Waiting for a reply").
    #: ENGAGE_AUTHOR may list the author's handles there.
    discussion: bool = False
    #: Its dict setting (``ENGAGE_MASTODON``), its keys and its default.
    setting: str = ""
    setting_keys: frozenset[str] = frozenset()
    setting_default: Any = field(default_factory=dict)
    #: Pelican settings -> its checked settings (frozen); SettingsError names the key.
    load_settings: Callable[[Mapping[str, Any]], Any] = _no_settings
    #: Its settings -> the names of the environment variables holding its secrets.
    secrets: Callable[[Any], tuple[str, ...]] = _no_secrets
    #: (settings, secrets, job count) -> why its jobs cannot be fetched ("" if they can).
    unready: Callable[[Any, Mapping[str, str], int], str] | None = None
    #: How it is built for a fetch: source name -> source (a network may
    #: bring several, e.g. X's discovery).
    fetchers: Callable[[FetchSetup], Mapping[str, Source]] | None = None
    #: It bills per request (X): the build's log line says how many it got.
    billed: bool = False
    #: What ``fetch --source`` takes for it (default: its name); any other
    #: is ``<name>-<what>``, so a refused token defers them all (fetch.py).
    fetch_names: tuple[str, ...] = ()
    #: Dedup: a normal URL (no scheme, no www.) -> keys of the post it names.
    url_keys: Callable[[str], set[str]] | None = None
    #: Dedup: (user, leaf) of ``brid.gy/comment/<name>/<user>/<post>/<leaf>`` -> a key.
    bridgy_key: Callable[[str, str], str] | None = None
    #: Dedup: the keys of one of its items besides its URL's.
    item_keys: Callable[[Item], set[str]] | None = None
    #: A normal profile URL -> the person's handle on it (None: not its profile).
    profile: Callable[[str], str | None] | None = None
    #: (settings, article) -> jobs and problems of its own, not from metadata.
    article_jobs: Callable[[Any, ArticleView], tuple[list[Job], list[Problem]]] | None = None
    #: (settings, engage settings, article) -> announcements found for it
    #: (not in its metadata), read from the archive.
    discovered: Callable[[Any, Any, ArticleView], list[str]] | None = None
    #: (settings, engage settings, article, now) -> jobs that look for announcements.
    discovery_jobs: Callable[[Any, Any, ArticleView, datetime], list[Job]] | None = None
    #: (archived items, settings) -> what pages may show of them.
    shown: Callable[[list[Item], Any], list[Item]] | None = None
    #: An announcement's archived cursor -> (likes, reposts) the network
    #: counted for it (it may name fewer people than it counts).
    counts: Callable[[Mapping[str, Any]], tuple[int, int]] | None = None

    @property
    def announces(self) -> bool:
        return self.announcement is not None

    @property
    def has_handles(self) -> bool:
        """ENGAGE_AUTHOR may list the author's handles on it, and its items
        link to "Reply on <display>"."""
        return self.announces or self.discussion
