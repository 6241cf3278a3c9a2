"""Who someone is across networks: handles, profile URLs, the author.

The package's one leading-@ rule (:func:`bare_handle`), handles and URLs
as they are compared, a profile URL read as (network, handle) by the
network it belongs to, and :class:`AuthorIdentity`, which recognises the
site's author on every network at once.  Pure; the registry is imported
late (its source modules import this one).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Person


#: Sources with no account behind an item, besides the networks that say so
#: (``Network.accounts``): a name is all there is.  Elsewhere anybody can
#: call themselves by the author's name.
NAME_ONLY_SOURCES = frozenset({"local", "disqus"})


@functools.lru_cache(maxsize=64)
def name_only(source: str) -> bool:
    """Whether ``source``'s items carry a name and no account."""
    if source in NAME_ONLY_SOURCES:
        return True
    from .sources.registry import BY_NAME  # the registry's modules import this one

    network = BY_NAME.get(source)
    return network is not None and not network.accounts


def bare_handle(value: str) -> str:
    """A handle without spaces and leading "@"s, as written: the package's
    one leading-@ rule ("@@marin@social.example" -> "marin@social.example")."""
    return value.strip().lstrip("@")


def normal_handle(value: str) -> str:
    """A handle for comparison: bare and case-folded."""
    return bare_handle(value).casefold()


# The same people's profile links come back on every item they wrote:
# remembered, as is what each reads as (pure functions of a string).
@functools.lru_cache(maxsize=16384)
def normal_url(value: str) -> str:
    value = value.strip().casefold()
    for prefix in ("https://", "http://"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    return value.removeprefix("www.").rstrip("/")


@functools.lru_cache(maxsize=16384)
def profile_handle(url: str) -> tuple[str, str] | None:
    """(network, handle) of a profile URL on a network of the registry
    (X, Bluesky, a Mastodon server...); each network's ``profile`` reads it.

    A webmention or an import knows a person by their profile URL only; this
    lets the author's handles recognise them there too.
    """
    from .sources.registry import NETWORKS  # the registry's modules import this one

    plain = normal_url(url.split("?", 1)[0].split("#", 1)[0])
    for network in NETWORKS:
        handle = network.profile(plain) if network.profile else None
        if handle:
            return network.name, handle
    return None


@dataclass(frozen=True)
class AuthorIdentity:
    """Who "the author" is, on every network at once."""

    names: tuple[str, ...] = ()
    emails: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    handles: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)

    @functools.cached_property
    def all_handles(self) -> frozenset[str]:
        found: set[str] = set()
        for handles in self.handles.values():
            found |= handles
            # "marin@mastodon.social" is addressed as "@marin" on its home server.
            found |= {h.split("@", 1)[0] for h in handles if "@" in h}
        return frozenset(found)

    @functools.cached_property
    def mention_patterns(self) -> tuple[list[re.Pattern[str]], dict[str, list[re.Pattern[str]]]]:
        """What names the author in a text, compiled once: "@handle" and the
        names (any network), and "u/handle" by network (see
        ``conversation.mentions_author``)."""
        anywhere = [
            re.compile(rf"@{re.escape(handle)}(?![\w.@-]*\w)") for handle in self.all_handles
        ]
        anywhere += [
            re.compile(rf"(?<![\w@]){re.escape(name.casefold())}(?!\w)") for name in self.names
        ]
        by_network = {
            network: [re.compile(rf"(?<![\w/])/?u/{re.escape(h)}(?![\w-])") for h in handles]
            for network, handles in self.handles.items()
        }
        return anywhere, by_network

    def is_author(self, person: Person, source: str) -> bool:
        if person.email and person.email.casefold() in self.emails:
            return True
        if person.url and normal_url(person.url) in self.urls:
            return True
        handle = normal_handle(person.handle)
        if handle and handle in self.handles.get(source, frozenset()):
            return True
        profile = profile_handle(person.url) if person.url else None
        if profile and normal_handle(profile[1]) in self.handles.get(profile[0], frozenset()):
            return True
        if not name_only(source):
            return False
        folded = person.name.strip().casefold()
        return bool(folded) and folded in {n.casefold() for n in self.names}
