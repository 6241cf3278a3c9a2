"""Erasure on request: ``pelican-engage forget ITEM_ID | --person URL_OR_HANDLE``.

An item becomes a tombstone in its post's archive file (no content, no
author), so the page stops showing it and no later fetch or import adds it
again.  A person is remembered by digests of their handles, profile URLs and
DIDs (``forgotten.json``), so their later replies are left out as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .archive import Archive, ArchiveError, identities, identities_of
from .model import Thread


class ForgetError(Exception):
    """Nothing to forget, or the archive cannot be written."""


@dataclass(frozen=True)
class Forgotten:
    items: int = 0
    posts: int = 0
    #: Local comment files holding a forgotten item: the user deletes them.
    files: tuple[str, ...] = ()


def forget_item(archive: Archive, item_id: str, threads: Iterable[Thread]) -> Forgotten:
    """Tombstone ``item_id`` wherever it is (archived or a local comment)."""
    keys: dict[str, None] = {}
    files = []
    for thread in threads:
        for item in thread.items:
            if item.id == item_id:
                keys[thread.post.key] = None
                if item.origin:
                    files.append(item.origin)
        if item_id in thread.hidden:
            keys[thread.post.key] = None
    try:
        archived = archive.keys()
        for key in archived:
            if item_id in archive.load(key).items:
                keys[key] = None
        if not keys:
            raise ForgetError(
                f"no item {item_id!r} on this site or in the archive; "
                "`pelican-engage report` lists the ids of waiting items"
            )
        for key in keys:
            archive.tombstone(key, [item_id], reason="forgotten")
    except (ArchiveError, OSError) as exc:
        raise ForgetError(str(exc)) from exc
    return Forgotten(items=1, posts=len(keys), files=tuple(files))


def forget_person(archive: Archive, who: str, threads: Iterable[Thread]) -> Forgotten:
    """Tombstone everything by ``who`` (a profile URL, a handle or a DID)
    and remember them, so later fetches and imports leave them out."""
    wanted = identities_of(who)
    if not wanted:
        raise ForgetError(f"{who!r} is neither a profile URL, a handle nor a DID")
    known = set(wanted)
    found: dict[str, list[str]] = {}
    files = []
    try:
        archived = archive.keys()
        for key in archived:
            for item in archive.load(key).items.values():
                mine = identities(item.author, item.extras)
                if mine & wanted:
                    found.setdefault(key, []).append(item.id)
                    known |= mine  # the DID, the other form of the handle
        for thread in threads:
            for item in thread.items:
                if item.origin and identities(item.author, item.extras) & wanted:
                    found.setdefault(thread.post.key, []).append(item.id)
                    files.append(item.origin)
        for key, ids in found.items():
            archive.tombstone(key, ids, reason="forgotten")
        archive.forget_person(known)
    except (ArchiveError, OSError) as exc:
        raise ForgetError(str(exc)) from exc
    return Forgotten(
        items=len({i for ids in found.values() for i in ids}),
        posts=len(found),
        files=tuple(files),
    )
