"""GitHub Discussions read into items: pure functions over GitHub's GraphQL
answers (sources/github.py asks), and the terms giscus maps pages by.

The discussion is the submission (kind ``mention``, id
``github:<owner>/<repo>/<discussion node id>``) with its body as text; its
comments hang under it and their replies under them (GitHub nests one
level).  Ids: ``github:<owner>/<repo>/<comment node id>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..model import Item, Person, parse_timestamp
from ..parsed import Skipped, entry_reason
from ..sanitize import clean_html, clean_text, safe_url
from .discussion import submission

SOURCE = "github"
#: What giscus and utterances map a page by (their ``data-mapping`` and
#: ``issue-term``); "specific" and "number" name the discussion itself,
#: which is what ``github_discussion:`` metadata is for.
MAPPINGS = ("pathname", "url", "title", "og:title")
_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_DISCUSSION = re.compile(
    r"^/(?P<repo>[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+)/discussions/(?P<number>\d+)/?$"
)


@dataclass(frozen=True)
class DiscussionRef:
    """A discussion named by its repository ("owner/name") and number."""

    repo: str
    number: int

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repo}/discussions/{self.number}"


def check_repo(value: str) -> str:
    """``owner/name``; ValueError names the expected form."""
    if not isinstance(value, str) or not _REPO.match(value.strip()):
        raise ValueError(f"{value!r} is not a GitHub repository (expected owner/name)")
    return value.strip()


def parse_discussion_url(value: str) -> DiscussionRef:
    """``https://github.com/owner/name/discussions/42`` (a comment's
    ``#discussioncomment-…`` is ignored); ValueError names the form."""
    parts = urlsplit(value.strip())
    found = _DISCUSSION.match(parts.path or "")
    if parts.scheme != "https" or parts.netloc.lower() not in {"github.com", "www.github.com"}:
        found = None
    if not found:
        raise ValueError(
            f"{value!r} is not a GitHub discussion URL "
            "(expected https://github.com/owner/name/discussions/42)"
        )
    return DiscussionRef(found["repo"], int(found["number"]))


def page_term(mapping: str, url: str, title: str) -> str:
    """The discussion title giscus looks for on the page at ``url``:
    ``pathname``: the path without its first slash and a final
    ``.extension`` ("index" for the root); ``url``: the whole URL without
    its fragment; ``title``/``og:title``: the article's title (a theme whose
    ``<title>`` adds the site's name gives another; use the metadata then)."""
    if mapping == "url":
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
    if mapping in ("title", "og:title"):
        return title.strip()
    path = urlsplit(url).path
    return "index" if len(path) < 2 else re.sub(r"\.\w+$", "", path[1:])


def term_titles(term: str) -> set[str]:
    """Titles that count as the page's: the term, and with a trailing slash
    added or removed (the same page served both ways)."""
    bare = term.rstrip("/") or term
    return {term, bare, bare + "/"}


def pick_discussion(answer: Any, repo: str, term: str) -> int | None:
    """The number of the discussion in ``repo`` whose title is the term,
    from a ``search(type: DISCUSSION)`` answer's ``data.search.nodes``
    (GitHub's search matches words, so titles are compared here); None
    when there is none.  ValueError when the answer is no search."""
    nodes = dig(answer, "data", "search", "nodes")
    if not isinstance(nodes, list):
        raise ValueError("the search answer has no data.search.nodes")
    titles = {t.casefold() for t in term_titles(term)}
    for node in nodes:
        if not isinstance(node, Mapping):
            continue
        where = dig(node, "repository", "nameWithOwner")
        if str(where or "").casefold() != repo.casefold():
            continue
        number = node.get("number")
        if str(node.get("title") or "").strip().casefold() in titles and isinstance(number, int):
            return number
    return None


def dig(node: Any, *path: str) -> Any:
    """``node[path[0]][path[1]]...``; None where a step is missing or no object."""
    for step in path:
        node = node.get(step) if isinstance(node, Mapping) else None
    return node


def person(author: Any) -> Person:
    """A GraphQL ``author`` (null for a deleted account: GitHub's "ghost")."""
    if not isinstance(author, Mapping):
        return Person(name="ghost", handle="ghost", url="https://github.com/ghost")
    login = clean_text(str(author.get("login") or ""))
    return Person(
        name=login or "ghost",
        handle=login,
        url=safe_url(str(author.get("url") or "")),
        avatar=safe_url(str(author.get("avatarUrl") or "")),
    )


def shown(node: Mapping[str, Any]) -> bool:
    """Neither deleted nor minimized (hidden as spam, off-topic, outdated...)."""
    return not node.get("deletedAt") and not node.get("isMinimized")


def item_id(repo: str, node_id: str) -> str:
    return f"{SOURCE}:{repo}/{node_id}"


def parse_head(discussion: Any, repo: str) -> Item:
    """The discussion as the submission: its title and body as text, by its
    author."""
    if not isinstance(discussion, Mapping) or not isinstance(discussion.get("id"), str):
        raise ValueError("the answer has no discussion")
    head = submission(
        SOURCE,
        f"{repo}/{discussion['id']}",
        title=str(discussion.get("title") or ""),
        url=str(discussion.get("url") or ""),
        author=person(discussion.get("author")),
        published=parse_timestamp(str(discussion["createdAt"])),
        reply_url=str(discussion.get("url") or ""),
    )
    body = clean_html(str(discussion.get("bodyHTML") or ""))
    return replace(head, content_html=f"{head.content_html}\n{body}".strip())


def as_comments(head: Item, items: Sequence[Item]) -> list[Item]:
    """A discussion in the author's own comment repository (giscus opened it
    for the post) is the post's comment section, not a site where others
    discuss it: no submission, and its comments are top-level comments,
    which answer the author (they wait as a comment form's do)."""
    return [
        replace(i, in_reply_to=None) if i.in_reply_to == head.id else i
        for i in items
        if i.id != head.id
    ]


@dataclass(frozen=True)
class Comments:
    """A page of comments (or of one comment's replies), read."""

    items: tuple[Item, ...] = ()
    #: Ids the answer says are deleted or minimized.
    removed: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    #: Comments whose replies go on past this answer: (item id, node id,
    #: end cursor, whether the comment is shown).
    more_replies: tuple[tuple[str, str, str, bool], ...] = ()


def parse_comments(connection: Any, repo: str, head: Item, parent: str = "") -> Comments:
    """A ``comments`` (or ``replies``) connection's ``nodes``.  Comments
    answer ``head``; replies answer ``parent`` (the comment's item id), or
    ``head`` when that comment is not shown.  A removed comment's replies
    are kept."""
    nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
    if not isinstance(nodes, list):
        raise ValueError("the answer has no comments.nodes")
    items: list[Item] = []
    removed: list[str] = []
    skipped: list[Skipped] = []
    more: list[tuple[str, str, str, bool]] = []
    for index, node in enumerate(nodes):
        node_id = node.get("id") if isinstance(node, Mapping) else None
        if not isinstance(node_id, str) or not node_id:
            skipped.append(Skipped(f"comment {index}", "no id", "comment"))
            continue
        this = item_id(repo, node_id)
        visible = shown(node)
        if not visible:
            removed.append(this)
        else:
            try:
                items.append(_comment(node, this, parent or head.id, head))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped.append(Skipped(node_id, entry_reason(exc), "comment"))
                visible = False
        replies = node.get("replies")
        if not parent and isinstance(replies, Mapping):
            below = parse_comments(replies, repo, head, this if visible else head.id)
            items += below.items
            removed += below.removed
            skipped += below.skipped
            if dig(replies, "pageInfo", "hasNextPage"):
                end = str(dig(replies, "pageInfo", "endCursor") or "")
                more.append((this if visible else head.id, node_id, end, visible))
    return Comments(tuple(items), tuple(removed), tuple(skipped), tuple(more))


def _comment(node: Mapping[str, Any], this: str, parent: str, head: Item) -> Item:
    url = safe_url(str(node.get("url") or ""))
    return Item(
        id=this,
        source=SOURCE,
        kind="reply",
        author=person(node.get("author")),
        published=parse_timestamp(str(node["createdAt"])),
        content_html=clean_html(str(node.get("bodyHTML") or "")),
        url=url,
        in_reply_to=parent,
        reply_url=url or head.url,
        root=head.id,
    )


def graphql_errors(answer: Any) -> list[Mapping[str, Any]]:
    """The ``errors`` of a GraphQL answer (an HTTP 200 may carry them)."""
    errors = answer.get("errors") if isinstance(answer, Mapping) else None
    return [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []
