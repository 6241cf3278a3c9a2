"""X API v2 answers into items: pure functions, no I/O.

A search page becomes the conversation's items (the announcement's
branch only, one item per edited tweet, whole long posts, media as
links); a lookup becomes what the fetch cursor keeps of the announcement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..model import Item, Person, parse_timestamp
from ..parsed import Parsed, Skipped, entry_reason
from ..sanitize import clean_text, media_html, safe_url
from .twitter_text import (
    SOURCE,
    WEB,
    _dict,
    _entities,
    _list,
    reply_intent,
    tweet_html,
    tweet_time,
    tweet_url,
)


def parse_user(user: Mapping[str, Any]) -> Person:
    username = str(user.get("username") or "")
    return Person(
        name=clean_text(str(user.get("name") or "")) or username,
        handle=username,
        url=f"{WEB}/{username}" if re.fullmatch(r"\w{1,15}", username, re.ASCII) else "",
        avatar=safe_url(str(user.get("profile_image_url") or "")),
    )


def _parent(tweet: Mapping[str, Any]) -> str | None:
    for ref in _list(tweet.get("referenced_tweets")):
        if isinstance(ref, Mapping) and ref.get("type") == "replied_to":
            return str(ref.get("id"))
    return None


def versions(tweet: Mapping[str, Any]) -> list[str]:
    """Ids of every version of a tweet, oldest first.

    An edit gets a new id; ``edit_history_tweet_ids`` lists them all (the
    first is the original).  A tweet never edited is its only version.
    """
    tweet_id = str(tweet.get("id") or "")
    ids = [str(i) for i in _list(tweet.get("edit_history_tweet_ids")) if str(i).isdigit()]
    return ids if tweet_id in ids else [tweet_id]


#: Media key prefixes, for media that came without their ``includes`` entry.
_MEDIA_KEY_KINDS = {"3": "photo", "7": "video", "13": "video", "16": "animated_gif"}


def _media_of(
    tweet: Mapping[str, Any], entities: Mapping[str, Any], media: Mapping[str, Any], page: str
) -> list[tuple[str, str, str]]:
    """(kind, alt text, page) of each picture or video attached to the tweet.

    The page is the one X links from the tweet (``…/photo/1``), else the
    picture itself, else the tweet.
    """
    pages = {
        str(e.get("media_key")): safe_url(str(e.get("expanded_url") or ""))
        for e in _entities(entities, "urls")
        if e.get("media_key")
    }
    found = []
    for key in _list(_dict(tweet.get("attachments")).get("media_keys")):
        key = str(key)
        entry = _dict(media.get(key))
        kind = str(entry.get("type") or _MEDIA_KEY_KINDS.get(key.split("_", 1)[0], "attachment"))
        picture = safe_url(str(entry.get("url") or "")) if kind == "photo" else ""
        found.append((kind, str(entry.get("alt_text") or ""), pages.get(key) or picture or page))
    return found


def tweet_content(tweet: Mapping[str, Any], media: Mapping[str, Any], page: str) -> str:
    """Safe HTML of a v2 tweet: its whole text, then its media as links.

    A post over 280 characters has its whole text (and the entities that
    go with it) in ``note_tweet``; ``text`` is then cut short.
    """
    note = _dict(tweet.get("note_tweet"))
    own = _dict(tweet.get("entities"))
    if note.get("text"):
        text, entities = str(note["text"]), _dict(note.get("entities")) or own
    else:
        text, entities = str(tweet.get("text") or ""), own
    urls = [*_entities(own, "urls"), *_entities(entities, "urls")]
    attached = _media_of(tweet, {"urls": urls}, media, page)
    if attached and entities is not own:
        # The media's t.co link may end the long text too; its entity is
        # only in ``entities`` of the short one (it is then found by token).
        extra = [e for e in _entities(own, "urls") if e.get("media_key")]
        entities = {**entities, "urls": [*_entities(entities, "urls"), *extra]}
    return tweet_html(text, entities, drop_media=bool(attached)) + media_html(attached)


def parse_tweet(
    tweet: Mapping[str, Any],
    users: Mapping[str, Person],
    root: str,
    media: Mapping[str, Any] | None = None,
    canonical: Mapping[str, str] | None = None,
) -> Item:
    """One tweet of the conversation under the announcement ``root``.

    ``canonical`` maps the ids of edited tweets' versions to the original
    (and every version of the announcement to ``root``): an edited reply
    is one item, under its first id, showing its latest text.
    """
    canonical = canonical or {}
    tweet_id = str(tweet["id"])
    first = versions(tweet)[0]
    author_id = str(tweet.get("author_id") or "")
    author = users.get(author_id) or Person(
        name=f"X user {author_id}" if author_id else "X user",
        url=f"{WEB}/i/user/{author_id}" if author_id.isdigit() else "",
    )
    parent = _parent(tweet)
    parent = canonical.get(parent, parent) if parent else None
    quoted = any(_dict(r).get("type") == "quoted" for r in _list(tweet.get("referenced_tweets")))
    metrics = _dict(tweet.get("public_metrics"))
    url = tweet_url(tweet_id, author.handle)
    published = parse_timestamp(str(tweet["created_at"]))
    if first != tweet_id:
        # An edit's created_at is the edit's time; the reply dates from its first version.
        published = tweet_time(first) or published
    return Item(
        id=f"twitter:{first}",
        source=SOURCE,
        kind="quote" if quoted and parent is None else "reply",
        author=author,
        published=published,
        content_html=tweet_content(tweet, media or {}, url),
        url=url,
        in_reply_to=None if parent in (None, root) else f"twitter:{parent}",
        extras={
            "likes": int(metrics.get("like_count") or 0),
            "reposts": int(metrics.get("retweet_count") or 0),
            "replies": int(metrics.get("reply_count") or 0),
        },
        reply_url=reply_intent(tweet_id),
    )


def _users(answer: Mapping[str, Any]) -> dict[str, Person]:
    includes = _dict(answer.get("includes"))
    return {
        str(user["id"]): parse_user(user)
        for user in _list(includes.get("users"))
        if isinstance(user, Mapping) and user.get("id")
    }


def _media(answer: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    includes = _dict(answer.get("includes"))
    return {
        str(entry["media_key"]): entry
        for entry in _list(includes.get("media"))
        if isinstance(entry, Mapping) and entry.get("media_key")
    }


def _in_subtree(parents: Mapping[str, str], root: str, branch: Iterable[str] = ()) -> set[str]:
    """Ids whose reply chain (through ``parents``, or through ``branch``,
    the ids already known to be under ``root``) reaches ``root``.

    An announcement in the middle of a longer thread shares its
    conversation_id with the tweets before it and their other branches.
    """
    inside: dict[str, bool] = {root: True, **dict.fromkeys(branch, True)}
    for start in parents:
        path, node = [], start
        while node not in inside and node in parents and node not in path:
            path.append(node)
            node = parents[node]
        verdict = inside.get(node, False)
        for member in path:
            inside[member] = verdict
    return {tid for tid, yes in inside.items() if yes and tid != root}


def parse_search(
    answer: Mapping[str, Any],
    root: str,
    conversation: str = "",
    branch: Iterable[str] = (),
    announcement: Iterable[str] = (),
) -> list[Item]:
    """The conversation's tweets in one search page, as items (see
    :func:`read_search`, which also says which tweets were skipped)."""
    return list(read_search(answer, root, conversation, branch, announcement).items)


def _newer(tweet: Mapping[str, Any], than: Mapping[str, Any]) -> bool:
    """Whether ``tweet`` is a later version (a higher snowflake id)."""
    first, second = str(tweet["id"]), str(than["id"])
    if first.isdigit() and second.isdigit():
        return int(first) > int(second)
    return (len(first), first) > (len(second), second)


def read_search(
    answer: Mapping[str, Any],
    root: str,
    conversation: str = "",
    branch: Iterable[str] = (),
    announcement: Iterable[str] = (),
) -> Parsed:
    """The conversation's tweets in one search page, as items, and the
    malformed ones skipped with their reasons.

    ``data`` is missing when nothing matched (``result_count`` 0); a 200
    with an ``errors`` list keeps whatever data came.  Parents included by
    the expansions join too when they belong to the conversation, which
    recovers replies that fell out of the 7-day search window.
    ``announcement`` lists the ids of the announcement's versions when it
    was edited: replies to any of them answer the post.  The versions of an
    edited reply make one item, with the latest text.
    """
    if not isinstance(answer, Mapping):
        raise ValueError("search answer is not a JSON object")
    data = answer.get("data") or []
    if not isinstance(data, list):
        raise ValueError("search answer 'data' is not a list")
    conversation = conversation or root
    roots = {root, *announcement}
    included = _list(_dict(answer.get("includes")).get("tweets"))
    canonical: dict[str, str] = dict.fromkeys(roots, root)
    latest: dict[str, Mapping[str, Any]] = {}
    skipped: dict[str, Skipped] = {}
    for tweet in [*included, *data]:
        if not isinstance(tweet, Mapping) or not tweet.get("id"):
            continue
        ids = versions(tweet)
        if roots.intersection(ids):
            canonical.update(dict.fromkeys(ids, root))
            continue
        for version in ids:
            canonical.setdefault(version, ids[0])
        if str(tweet.get("conversation_id") or conversation) != conversation:
            continue
        if not tweet.get("created_at"):
            if any(tweet is t for t in data):  # an expansion may lack fields; a result may not
                skipped[str(tweet["id"])] = Skipped(str(tweet["id"]), "no created_at", "tweet")
        else:
            kept = latest.get(ids[0])
            if kept is None or _newer(tweet, kept):
                latest[ids[0]] = tweet
    if conversation not in roots:
        parents = {first: canonical.get(p, p) for first, t in latest.items() if (p := _parent(t))}
        keep = _in_subtree(parents, root, branch)
        latest = {first: t for first, t in latest.items() if first in keep}
    users, media = _users(answer), _media(answer)
    items = []
    for tweet in latest.values():
        try:
            items.append(parse_tweet(tweet, users, root, media, canonical))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # One malformed tweet is left out and told, not the page.
            skipped[str(tweet["id"])] = Skipped(str(tweet["id"]), entry_reason(exc), "tweet")
    return Parsed(tuple(items), tuple(skipped.values()))


def not_found(answer: Any) -> set[str]:
    """Ids of tweets X says are gone ("Could not find tweet…"): a partial
    error of a 200 answer, typed resource-not-found for a tweet."""
    problems = answer.get("errors") if isinstance(answer, Mapping) else None
    return {
        str(problem.get("resource_id") or problem.get("value"))
        for problem in _list(problems)
        if isinstance(problem, Mapping)
        and "resource-not-found" in str(problem.get("type") or "")
        and str(problem.get("resource_type") or "tweet") == "tweet"
        and str(problem.get("resource_id") or problem.get("value") or "").isdigit()
    }


def parse_announcement(answer: Mapping[str, Any], tweet_id: str) -> dict[str, Any] | None:
    """What the cursor keeps of the announcement; None when it is deleted.

    A deleted tweet comes back as HTTP 200 with no ``data`` and a
    resource-not-found error.
    """
    data = answer.get("data") if isinstance(answer, Mapping) else None
    if not isinstance(data, Mapping):
        problems = answer.get("errors") if isinstance(answer, Mapping) else None
        for problem in problems or ():
            if isinstance(problem, Mapping) and "not-found" in str(problem.get("type", "")):
                return None
        detail = "; ".join(
            str(p.get("detail") or p.get("title")) for p in problems or () if isinstance(p, Mapping)
        )
        raise ValueError(f"tweet {tweet_id}: {detail or 'answer has no data'}")
    author = _users(answer).get(str(data.get("author_id") or ""))
    info = {
        "id": str(data.get("id") or tweet_id),
        "conversation_id": str(data.get("conversation_id") or tweet_id),
        "author": author.handle if author else "",
        "created_at": str(data.get("created_at") or ""),
        "metrics": dict(_dict(data.get("public_metrics"))),
        "versions": versions({"edit_history_tweet_ids": [tweet_id], "id": tweet_id, **data}),
    }
    editable = str(_dict(data.get("edit_controls")).get("editable_until") or "")
    if editable:
        info["editable_until"] = editable
    return info


def conversations(info: Mapping[str, Any], root: str) -> list[str]:
    """The conversation ids to search for the announcement's replies.

    An edited announcement that starts a conversation is a new tweet with
    its own conversation: replies written after the edit are only found
    there.  One in the middle of a thread keeps the thread's conversation.
    """
    main = str(info.get("conversation_id") or root)
    edits = [str(v) for v in _list(info.get("versions")) if str(v).isdigit()]
    if main in {root, *edits}:
        return [main, *(v for v in edits if v != main)]
    return [main]


def _time(value: Any) -> datetime | None:
    """A time the cursor keeps; a hand-edited, unreadable one is none."""
    try:
        return parse_timestamp(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _newest(ids: Iterable[str]) -> str:
    numeric = [int(i) for i in ids if str(i).isdigit()]
    return str(max(numeric)) if numeric else ""
