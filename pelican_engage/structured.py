"""schema.org JSON-LD for a post's conversation.

Search engines read comments from ``<script type="application/ld+json">``:
the post (``@id`` its URL) with ``commentCount``, ``interactionStatistic``
(comments, likes, reposts) and one ``Comment`` per comment, reply or quote
(author, dateCreated, text, url; replies name their parent in
``parentItem``).  Comments are listed flat, with references, so a
3,000-deep reply chain makes a long list, never a deep one.

Everything inside comes from strangers and the script element is raw text
to the HTML parser: ``</script>`` or ``<!--`` inside a string would end or
confuse it.  :func:`dumps` escapes ``<``, ``>`` and ``&`` (and the two line
separators JavaScript parsers choke on) as ``\\uXXXX``, which JSON reads back
as the same characters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from .model import ANSWERABLE_KINDS, Item, anchor
from .sanitize import html_to_text

_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_TABLE = str.maketrans(_ESCAPES)


def dumps(data: Any) -> str:
    """JSON that is safe as the text of a ``<script>`` element."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_TABLE)


def _person(item: Item) -> dict[str, str]:
    person = {"@type": "Person", "name": item.author.name or "Anonymous"}
    if item.author.url:
        person["url"] = item.author.url
    return person


def _counter(action: str, count: int) -> dict[str, Any]:
    return {
        "@type": "InteractionCounter",
        "interactionType": f"https://schema.org/{action}",
        "userInteractionCount": count,
    }


def json_ld(engagement: Any) -> dict[str, Any]:
    """The post's conversation as a schema.org object (see the module doc).

    ``engagement`` is an :class:`~pelican_engage.conversation.Engagement`.
    Likes, reposts and mentions are counted, never listed as comments;
    hidden and deleted items are not in the thread's items at all.
    """
    thread = engagement.thread
    post = thread.post
    comments = [i for i in thread.items if i.kind in ANSWERABLE_KINDS]
    listed = {i.id for i in comments}
    entries = []
    for item in comments:
        entry: dict[str, Any] = {
            "@type": "Comment",
            "@id": f"{post.url}#{anchor(item.id)}",
            "author": _person(item),
            "dateCreated": item.published.isoformat(),
            "text": html_to_text(item.content_html),
        }
        if item.url:
            entry["url"] = item.url
        parent = thread.parents.get(item.id)
        if parent in listed:
            entry["parentItem"] = {"@id": f"{post.url}#{anchor(parent)}"}
        entries.append(entry)
    counts: Mapping[str, int] = engagement.counts
    statistics = [_counter("CommentAction", len(comments))]
    for kind, action in (("like", "LikeAction"), ("repost", "ShareAction")):
        if counts.get(kind):
            statistics.append(_counter(action, int(counts[kind])))
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "commentCount": len(comments),
        "interactionStatistic": statistics,
        "comment": entries,
    }
    if post.url:
        data["@id"] = post.url
        data["url"] = post.url
    if post.title:
        data["headline"] = html_to_text(post.title)
    return data


def script(engagement: Any) -> Markup:
    """The ``<script type="application/ld+json">`` element, for templates."""
    return Markup('<script type="application/ld+json">{}</script>').format(
        Markup(dumps(json_ld(engagement)))
    )
