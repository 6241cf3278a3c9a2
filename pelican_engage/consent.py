"""What each network lets us publish: pure functions, no I/O.

Sources mark what their network does not show (an item hidden by the post's
author, a label, a visibility); the archive keeps tombstones of items that
are gone.  This module turns those marks into what a thread shows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from .dedup import item_keys
from .model import Item, Person, Tombstone

#: ``Item.withheld`` reasons that are a preference of the writer's own
#: account: the blog's author publishing their own words is their consent.
SELF_PREFERENCES = frozenset({"!no-unauthenticated"})
#: Why a placeholder stands where an item was.
DELETED, WITHHELD = "deleted", "withheld"


@dataclass(frozen=True)
class Consent:
    """What the networks let us publish of one post's items."""

    visible: list[Item]
    #: Not published: id -> why.
    hidden: dict[str, str]
    #: Stand-ins for deleted or withheld items that visible replies hang under.
    placeholders: list[Item]
    #: Stand-ins of withheld items by the author: they still answer people.
    withheld_by_author: frozenset[str] = frozenset()


def consent(
    items: Sequence[Item],
    tombstones: Iterable[Tombstone],
    is_author: Callable[[Item], bool],
) -> Consent:
    """Split ``items`` into what is published and what is not.

    Sources mark what their network does not show: ``Item.hidden``
    (hidden by the post's author, with every reply under it, as the
    network's own app does) and ``Item.withheld`` (a reason: a label,
    a visibility; the item goes, its replies stay under a placeholder).
    Tombstoned items, and copies of them reached by another path, go too;
    their replies stay under a "deleted" placeholder.
    """
    stones = {stone.id: stone for stone in tombstones}
    stone_keys: set[str] = set()
    for stone in stones.values():
        stand_in = Item(stone.id, stone.source, "reply", Person(""), stone.at)
        stone_keys |= item_keys(stand_in)
    kept = [
        i for i in items if i.id not in stones and not (stone_keys and item_keys(i) & stone_keys)
    ]
    by_id = {item.id: item for item in kept}
    children: dict[str, list[str]] = {}
    for item in kept:
        if item.in_reply_to:
            children.setdefault(item.in_reply_to, []).append(item.id)
    hidden: dict[str, str] = {}
    withheld_by_author = set()
    for item in kept:
        reason = item.withheld
        if reason and item.id not in hidden:
            own = is_author(item)
            if not (own and reason in SELF_PREFERENCES):
                hidden[item.id] = reason
                if own:
                    withheld_by_author.add(item.id)
        if item.hidden:
            # Iterative: a hidden reply can head a chain thousands deep.
            why = item.hidden_reason or "hidden by the post's author"
            stack = [item.id]
            while stack:
                node = stack.pop()
                if hidden.get(node) == why:
                    continue
                hidden[node] = why
                stack.extend(children.get(node, ()))
    visible = [i for i in kept if i.id not in hidden]
    # Each visible reply under a withheld or deleted item keeps its place:
    # stand-ins up its chain of gone ancestors.
    stand_ins: dict[str, Item] = {}
    for item in visible:
        parent = item.in_reply_to
        while parent and parent not in stand_ins:
            if parent in by_id and parent in hidden and not by_id[parent].hidden:
                gone = by_id[parent]
                kind, when, up = WITHHELD, gone.published, gone.in_reply_to
            elif parent in stones:
                stone = stones[parent]
                kind, when, up = DELETED, stone.at, stone.in_reply_to
            else:
                break
            stand_ins[parent] = Item(
                id=_opaque(parent),
                source=parent.split(":", 1)[0],
                kind="reply",
                author=Person(""),
                published=when,
                in_reply_to=up,
                placeholder=kind,
            )
            parent = up
    # The page names a stand-in by a digest: a Bluesky id holds its author's DID.
    renamed = [
        replace(s, in_reply_to=_opaque(s.in_reply_to)) if s.in_reply_to in stand_ins else s
        for s in [*visible, *stand_ins.values()]
    ]
    return Consent(
        renamed[: len(visible)],
        hidden,
        renamed[len(visible) :],
        frozenset(_opaque(i) for i in withheld_by_author),
    )


def _opaque(item_id: str) -> str:
    """The public name of a deleted or withheld item's stand-in."""
    return "gone:" + hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:16]
