"""Threads, the author's items and who is waiting: pure functions, no I/O.

Every walk over a tree here is iterative.  Reply chains come from strangers,
and a 3,000-deep chain (or a crafted cycle) must not hit Python's recursion
limit or loop forever.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from .consent import consent
from .dedup import dedupe, vouched
from .identity import AuthorIdentity, normal_handle, normal_url
from .model import (
    ANSWERABLE_KINDS,
    CONVERSATION_KINDS,
    Item,
    Node,
    Person,
    Post,
    Problem,
    Thread,
    Tombstone,
)
from .sanitize import html_to_text


@dataclass(frozen=True)
class Engagement:
    """What templates see as ``article.engage``."""

    thread: Thread
    counts: Mapping[str, int] = field(default_factory=dict, hash=False)
    waiting: tuple[Item, ...] = ()
    display_depth: int = 5

    @cached_property
    def roots(self) -> tuple[Node, ...]:
        """The nested view, built when a template first asks for it.

        A warm build that reuses the rendered HTML never does, so the view
        is neither built nor kept in the cache.
        """
        return tree_view(self.thread, self.display_depth)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("roots", None)
        return state

    @property
    def total(self) -> int:
        """Items in the conversation (comments, replies, quotes, mentions)."""
        return self.counts.get("conversation", 0)

    @property
    def comments(self) -> int:
        """Comments, replies and quotes: what "N comments" counts.  Mentions
        and pingbacks are in the conversation but are not comments."""
        return sum(self.counts.get(kind, 0) for kind in ANSWERABLE_KINDS)

    @property
    def likes(self) -> tuple[Item, ...]:
        return tuple(i for i in self.thread.items if i.kind == "like")

    @property
    def reposts(self) -> tuple[Item, ...]:
        return tuple(i for i in self.thread.items if i.kind == "repost")

    def __bool__(self) -> bool:
        return bool(self.thread.items)


def _sorted(items: Iterable[Item]) -> list[Item]:
    unique: dict[str, Item] = {}
    for item in items:
        unique.setdefault(item.id, item)
    return sorted(unique.values(), key=lambda i: (i.published, i.id))


def resolve_parents(
    items: Iterable[Item],
) -> tuple[dict[str, str | None], list[Problem]]:
    """Map each item id to a parent that exists and is not part of a cycle.

    A reply to a missing item, or every member of a reply cycle, becomes a
    root, and the problem is reported once (per item, or per cycle).
    """
    by_id = {item.id: item for item in items}
    problems: list[Problem] = []
    parents: dict[str, str | None] = {}
    for item in by_id.values():
        parent = item.in_reply_to
        if parent is not None and parent not in by_id:
            # A fetched reply whose parent is private, deleted or outside a
            # search window is normal and nothing the author can fix; only
            # a comment file (which has an origin) is worth a warning.
            if item.origin:
                problems.append(
                    Problem(
                        item.origin,
                        f"replies to {parent}, which is not in this conversation; "
                        "shown as a top-level item",
                    )
                )
            parent = None
        if parent == item.id:
            problems.append(
                Problem(item.origin or item.id, "replies to itself; shown as a top-level item")
            )
            parent = None
        parents[item.id] = parent

    # Colour walk: 0 unseen, 1 on the current path, 2 known to reach a root.
    state: dict[str, int] = dict.fromkeys(parents, 0)
    for start in parents:
        path: list[str] = []
        node: str | None = start
        while node is not None and state[node] == 0:
            state[node] = 1
            path.append(node)
            node = parents[node]
        if node is not None and state[node] == 1:
            cycle = path[path.index(node) :]
            for member in cycle:
                parents[member] = None
            names = sorted(by_id[m].origin or m for m in cycle)
            # A crafted cycle can be thousands long: name a few, count the rest.
            origins = ", ".join(names[:5]) + (
                f" and {len(names) - 5} more" if len(names) > 5 else ""
            )
            problems.append(
                Problem(
                    by_id[cycle[0]].origin or cycle[0],
                    f"reply cycle between {origins}; each is shown as a top-level item",
                )
            )
        for member in path:
            state[member] = 2
    return parents, problems


_LEADING_HANDLES = re.compile(r"^(?:\s*@[\w.\-]+(?:@[\w.\-]+)?)+")


def mentions_author(item: Item, author: AuthorIdentity) -> bool:
    """Does the item name the author outside the leading run of @handles?"""
    text = _LEADING_HANDLES.sub("", html_to_text(item.content_html)).casefold()
    if not text:
        return False
    # "@handle" or a name anywhere; Reddit addresses people as u/name (or
    # /u/name): only the author's handles on the item's own network count,
    # so "u/x" elsewhere stays text.
    anywhere, by_network = author.mention_patterns
    return any(p.search(text) for p in anywhere) or any(
        p.search(text) for p in by_network.get(item.source, ())
    )


#: Sources whose own data says which comments the post's author wrote (the
#: user id in WordPress, the e-mail at import time or in a local comment
#: file).  It comes from the author's own site, export or files, and the
#: mark is all the archive and the build cache keep.
MARKED_SOURCES = frozenset({"wordpress", "disqus", "local"})


def _same_person(a: Person, b: Person) -> bool:
    """The same account or site (an avatar or e-mail may change), or, with
    neither, the same name."""
    if a.handle or b.handle:
        return normal_handle(a.handle) == normal_handle(b.handle)
    if a.url or b.url:
        return normal_url(a.url) == normal_url(b.url)
    return a.name.casefold().strip() == b.name.casefold().strip()


def is_by_author(item: Item, author: AuthorIdentity) -> bool:
    """Whether the author wrote ``item``.

    A webmention's author card is whatever the sending page claims, so its
    profile URL counts only when that page (or Bridgy) vouches for it.
    """
    person = item.author
    if item.source in MARKED_SOURCES and item.by_author:
        return True
    if item.source == "webmention":
        source = item.wm_source or item.url
        if not vouched(person.url, source):
            person = replace(person, url="")
    return author.is_author(person, item.source)


def build_thread(
    post: Post,
    items: Iterable[Item],
    author: AuthorIdentity,
    acknowledged: frozenset[str] = frozenset(),
    by_mention: bool = True,
    tombstones: Iterable[Tombstone] = (),
) -> tuple[Thread, list[Problem]]:
    """Thread ``items`` under ``post`` and work out who is waiting.

    The same reply reached by two paths (a native fetch and a webmention)
    counts once.  What the network does not show (see :func:`consent`) is
    left out of the thread, and never waits.
    """
    unique, _aliases = dedupe(items)
    shown = consent(unique, tombstones, lambda item: is_by_author(item, author))
    ordered = _sorted(shown.visible)
    stand_ins = {item.id: item for item in shown.placeholders}
    tree_items = _sorted(
        [*(i for i in ordered if i.kind in CONVERSATION_KINDS), *stand_ins.values()]
    )
    parents, problems = resolve_parents(tree_items)
    children, preorder = _tree(tree_items, parents)
    by_author = frozenset(i.id for i in ordered if is_by_author(i, author))
    # A withheld answer by the author still answers (it is just not shown).
    answering = by_author | (shown.withheld_by_author & set(stand_ins))

    author_below: dict[str, bool] = {}
    for node, _depth in reversed(preorder):
        author_below[node] = any(c in answering or author_below[c] for c in children[node])

    by_id = {item.id: item for item in tree_items}

    def reopens(item: Item) -> bool:
        """Writing again under one's own acknowledged item reopens it."""
        node = parents[item.id]
        while node is not None and node not in answering:
            if node in acknowledged and _same_person(by_id[node].author, item.author):
                return True
            node = parents[node]
        return False

    waiting = frozenset(
        item.id
        for item in tree_items
        if item.kind in ANSWERABLE_KINDS
        and item.id not in stand_ins
        and item.id not in by_author
        and item.id not in acknowledged
        and not author_below[item.id]
        and (
            parents[item.id] is None
            or parents[item.id] in answering
            or mentions_author(item, author)
            or reopens(item)
        )
    )
    answered = answers_by_mention(ordered, by_author, waiting) if by_mention else {}
    thread = Thread(
        post=post,
        items=tuple(ordered),
        parents=parents,
        by_author=by_author,
        waiting=waiting - set(answered),
        mention_answers=answered,
        hidden=shown.hidden,
        placeholders=tuple(stand_ins.values()),
    )
    return thread, problems


def _addressed(item: Item, text: str, first_names: Mapping[str, int]) -> bool:
    """Does the author's ``text`` name the writer of ``item``: an @handle of
    theirs (past the leading run that every social reply starts with), or
    their name opening it ("Antonia, thanks...")?  A first name alone counts
    only when one waiting person on the post has it."""
    handle = normal_handle(item.author.handle)
    body = _LEADING_HANDLES.sub("", text)
    if handle:
        for form in {handle, handle.split("@", 1)[0]}:
            if re.search(rf"@{re.escape(form)}(?![\w.@-]*\w)", body, re.IGNORECASE):
                return True
    name = " ".join(item.author.name.split()).casefold()
    opening = _OPENING.match(text)
    if not name or not opening:
        return False
    said = opening[1].casefold()
    first = name.split()[0]
    return said == name or (said == first and first_names.get(first, 0) == 1)


#: The words before the first comma, colon or dash of a reply, after a
#: greeting ("Hi Antonia, ...").
_GREETING = r"(?:(?:hi|hello|hey|dear|thanks|thank you|merci|salut|hallo|hola|ciao)\s+)?"
_WORD = r"[^\W\d][\w'\u2019.-]*"
_OPENING = re.compile(
    rf"^\s*{_GREETING}({_WORD}(?:\s+{_WORD})?)\s*[,:!\u2014\u2013-]", re.IGNORECASE
)


def answers_by_mention(
    ordered: Sequence[Item], by_author: frozenset[str], waiting: frozenset[str]
) -> dict[str, str]:
    """Waiting items answered by a later author item that names their writer.

    On a post, the author often answers several people in one comment, or
    answers on another branch.  Each author item counts as the answer to
    the latest waiting item, before it, of each person it addresses.
    """
    answered: dict[str, str] = {}
    pending = [i for i in ordered if i.id in waiting]
    by_id = {i.id: i for i in ordered}
    people = {(i.author.name.casefold(), normal_handle(i.author.handle)) for i in pending}
    first_names: dict[str, int] = {}
    for name, _handle in people:
        if name.split():
            first_names[name.split()[0]] = first_names.get(name.split()[0], 0) + 1
    for reply in ordered:
        if reply.id not in by_author:
            continue
        text = html_to_text(reply.content_html)
        # A reply under someone's item answers that item, in its branch; it
        # names them because the network put their handle first.
        parent = by_id.get(reply.in_reply_to or "")
        latest: dict[tuple[str, str], Item] = {}
        for item in pending:
            if item.id in answered or item.published >= reply.published:
                continue
            if parent is not None and _same_person(parent.author, item.author):
                continue
            if _addressed(item, text, first_names):
                who = (item.author.name.casefold(), normal_handle(item.author.handle))
                if who not in latest or latest[who].published <= item.published:
                    latest[who] = item
        for item in latest.values():
            answered[item.id] = reply.id
    return answered


def _tree(
    tree_items: Iterable[Item], parents: Mapping[str, str | None]
) -> tuple[dict[str | None, list[str]], list[tuple[str, int]]]:
    """Children of each item (None: the post) and the reading order with depths."""
    children: dict[str | None, list[str]] = {None: []}
    for item in tree_items:
        children.setdefault(item.id, [])
        children.setdefault(parents[item.id], []).append(item.id)
    preorder: list[tuple[str, int]] = []
    stack = [(child, 0) for child in reversed(children[None])]
    while stack:
        node, depth = stack.pop()
        preorder.append((node, depth))
        stack.extend((child, depth + 1) for child in reversed(children[node]))
    return children, preorder


def tree_view(thread: Thread, display_depth: int = 5) -> tuple[Node, ...]:
    """The thread as nested nodes for templates, at most ``display_depth`` deep."""
    tree_items = _sorted(
        [*(i for i in thread.items if i.id in thread.parents), *thread.placeholders]
    )
    children, preorder = _tree(tree_items, thread.parents)
    by_id = {item.id: item for item in tree_items}
    return _nodes(
        preorder, children, thread.parents, by_id, thread.by_author, thread.waiting, display_depth
    )


def _nodes(
    preorder: list[tuple[str, int]],
    children: Mapping[str | None, list[str]],
    parents: Mapping[str, str | None],
    by_id: Mapping[str, Item],
    by_author: frozenset[str],
    waiting: frozenset[str],
    display_depth: int,
) -> tuple[Node, ...]:
    """Build the nested view bottom-up; past ``display_depth`` levels it is flat.

    The items of the deepest level are shown as siblings, in reading order,
    so templates never recurse deeper than ``display_depth``.
    """
    # Depth of the nodes whose descendants are all listed flat below them.
    last = display_depth - 2

    def node(item_id: str, depth: int, kids: tuple[Node, ...] = (), flat: bool = False) -> Node:
        parent = parents[item_id]
        item = by_id[item_id]
        return Node(
            item=item,
            parent=parent,
            # A placeholder has no author to name.
            reply_to_name=(by_id[parent].author.name or "a reply not shown") if parent else "",
            depth=depth,
            by_author=item_id in by_author,
            waiting=item_id in waiting,
            children=kids,
            flat=flat,
            placeholder=item.placeholder,
        )

    if last < 0:
        return tuple(node(i, d, flat=d > 0) for i, d in preorder)
    built: dict[str, Node] = {}
    for item_id, depth in reversed(preorder):
        if depth > last:
            continue
        if depth < last:
            kids = tuple(built[c] for c in children[item_id])
        else:
            flat: list[Node] = []
            stack = [(c, depth + 1) for c in reversed(children[item_id])]
            while stack:
                desc, d = stack.pop()
                flat.append(node(desc, d, flat=d > depth + 1))
                stack.extend((c, d + 1) for c in reversed(children[desc]))
            kids = tuple(flat)
        built[item_id] = node(item_id, depth, kids)
    return tuple(built[c] for c in children[None])


_BRIDGY_REACTION = re.compile(r"^https?://brid\.gy/(?:like|repost|reaction)/([a-z]+)/")


def _named_on(item: Item, network: str) -> bool:
    """Is this like or repost one of those ``network`` counts?  Bridgy sends
    a network's likes as webmentions: they are in its total already."""
    if item.source == network:
        return True
    bridgy = _BRIDGY_REACTION.match(item.wm_source)
    return bridgy is not None and bridgy[1] == network


def engagement(
    thread: Thread,
    display_depth: int = 5,
    announced: Mapping[str, Mapping[str, int]] | None = None,
) -> Engagement:
    """Counts and waiting items of a built thread, for templates.

    ``announced`` holds the like and repost counts that each network gave
    for the post's announcements (source -> kind -> count).  A network may
    report more likes than it names (Bluesky names 100, X names none), so
    each source counts the larger of the two.
    """
    counts: dict[str, int] = {}
    for item in thread.items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    for source, totals in (announced or {}).items():
        for kind in ("like", "repost"):
            named = sum(1 for i in thread.items if i.kind == kind and _named_on(i, source))
            extra = max(0, int(totals.get(kind, 0)) - named)
            if extra:
                counts[kind] = counts.get(kind, 0) + extra
    counts["conversation"] = sum(1 for i in thread.items if i.kind in CONVERSATION_KINDS)
    counts["waiting"] = len(thread.waiting)
    counts["hidden"] = len(thread.hidden)
    waiting = tuple(i for i in thread.items if i.id in thread.waiting)
    return Engagement(thread=thread, counts=counts, waiting=waiting, display_depth=display_depth)
