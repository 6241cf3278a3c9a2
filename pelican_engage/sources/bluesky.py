"""Bluesky: the replies to a post's announcement, from the public AppView.

Pure functions first (a ``bluesky:`` value -> handle or DID and record key,
post text with its facets -> safe HTML, a getPostThread answer -> items);
the fetching class builds on them.  A handle is resolved to its DID once and
the resulting ``at://`` URI is kept in the archive's cursor.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from ..errors import FetchError
from ..fetch import Job, Result
from ..model import Item, Person, parse_timestamp
from ..sanitize import clean_text, paragraphs_html, safe_url

if TYPE_CHECKING:
    from ..http import Client

SOURCE = "bluesky"
API_URL = "https://public.api.bsky.app"
WEB = "https://bsky.app"
#: getPostThread's largest depth: the whole tree, however deep.
THREAD_DEPTH = 1000
_POST_COLLECTION = "app.bsky.feed.post"
_HANDLE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*$", re.I
)
_DID = re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]{1,2048}$")
_RKEY = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")


@dataclass(frozen=True)
class PostRef:
    """A Bluesky post: its author (handle or DID) and record key."""

    actor: str
    rkey: str

    @property
    def is_did(self) -> bool:
        return self.actor.startswith("did:")

    def uri(self, did: str = "") -> str:
        return f"at://{did or self.actor}/{_POST_COLLECTION}/{self.rkey}"

    @property
    def url(self) -> str:
        return f"{WEB}/profile/{self.actor}/post/{self.rkey}"


def parse_post_ref(value: str) -> PostRef:
    """A bsky.app post URL or an at:// URI; ValueError says what is wrong."""
    value = value.strip()
    if value.startswith("at://"):
        parts = value[len("at://") :].split("/")
        if len(parts) == 3 and parts[1] == _POST_COLLECTION:
            actor, rkey = parts[0], parts[2]
        else:
            raise ValueError(f"{value!r} is not a Bluesky post URI (at://did/{_POST_COLLECTION}/…)")
    else:
        url = urlsplit(value)
        match = re.fullmatch(r"/profile/([^/]+)/post/([^/]+)/?", url.path)
        if url.scheme not in {"http", "https"} or url.netloc.lower() != "bsky.app" or not match:
            raise ValueError(
                f"{value!r} is not a Bluesky post (expected https://bsky.app/profile/you/post/…)"
            )
        actor, rkey = match[1], match[2]
    if not (_DID.match(actor) or _HANDLE.match(actor)) or not _RKEY.match(rkey):
        raise ValueError(f"{value!r} is not a Bluesky post (bad handle, DID or record key)")
    return PostRef(actor, rkey)


def post_url(uri: str, handle: str = "") -> str:
    """The bsky.app page of an at:// post URI (by handle when known)."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3:
        return ""
    return f"{WEB}/profile/{handle or parts[0]}/post/{parts[2]}"


# -- Text ---------------------------------------------------------------------


def _feature_link(feature: Mapping[str, Any]) -> str:
    kind = str(feature.get("$type") or "")
    if kind.endswith("#link"):
        # A crafted record can carry any scheme: only http(s) becomes a link.
        return safe_url(str(feature.get("uri") or ""))
    if kind.endswith("#mention"):
        did = str(feature.get("did") or "")
        return f"{WEB}/profile/{did}" if _DID.match(did) else ""
    if kind.endswith("#tag"):
        tag = str(feature.get("tag") or "")
        return f"{WEB}/hashtag/{quote(tag)}" if tag and len(tag) <= 640 else ""
    return ""


def _facets(data: bytes, facets: Any) -> Iterator[tuple[int, int, str]]:
    """(byte start, byte end, href) of the usable facets, in order.

    Offsets are UTF-8 bytes.  A facet out of range, overlapping another,
    unsorted or cutting a character in two is rendered as plain text.
    """
    spans = []
    for facet in facets if isinstance(facets, list) else ():
        try:
            index = facet["index"]
            start, end = int(index["byteStart"]), int(index["byteEnd"])
            features = facet.get("features") or []
            href = next((h for f in features if (h := _feature_link(f))), "")
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if href and 0 <= start < end <= len(data):
            spans.append((start, end, href))
    at = 0
    for start, end, href in sorted(spans):
        if start < at:
            continue  # overlaps the previous facet
        try:
            data[start:end].decode("utf-8")
            data[:start].decode("utf-8")
        except UnicodeDecodeError:
            continue  # splits a multi-byte character
        at = end
        yield start, end, href


def post_html(text: str, facets: Any = None) -> str:
    """Safe HTML of a post's plain text, with its facets as links."""
    data = text.encode("utf-8")
    parts, at = [], 0
    for start, end, href in _facets(data, facets):
        parts.append(html.escape(data[at:start].decode("utf-8"), quote=False))
        label = html.escape(data[start:end].decode("utf-8"), quote=False)
        parts.append(f'<a href="{html.escape(href)}">{label}</a>')
        at = end
    parts.append(html.escape(data[at:].decode("utf-8"), quote=False))
    body = "".join(parts).strip()
    return paragraphs_html(body)


# -- Answers ------------------------------------------------------------------


def parse_author(author: Mapping[str, Any]) -> Person:
    handle = str(author.get("handle") or "")
    did = str(author.get("did") or "")
    shown = handle if _HANDLE.match(handle) else did if _DID.match(did) else ""
    return Person(
        name=clean_text(str(author.get("displayName") or "")) or handle or did,
        handle=handle,
        url=f"{WEB}/profile/{shown}" if shown else "",
        avatar=safe_url(str(author.get("avatar") or "")),
    )


def parse_post(post: Mapping[str, Any], parent: str | None, root: str) -> Item:
    """One reply; ``parent`` is the at:// URI it answers (the root: the post)."""
    uri = str(post["uri"])
    record = post.get("record") if isinstance(post.get("record"), Mapping) else {}
    author = post.get("author") if isinstance(post.get("author"), Mapping) else {}
    person = parse_author(author)
    created = str(record.get("createdAt") or post.get("indexedAt") or "")
    url = post_url(uri, person.handle)
    return Item(
        id=f"bluesky:{uri}",
        source=SOURCE,
        kind="reply",
        author=person,
        published=parse_timestamp(created),
        content_html=post_html(str(record.get("text") or ""), record.get("facets")),
        url=url,
        in_reply_to=None if parent in (None, root) else f"bluesky:{parent}",
        extras={
            "reply_url": url,
            "likes": int(post.get("likeCount") or 0),
            "reposts": int(post.get("repostCount") or 0),
            "did": str(author.get("did") or ""),
        },
    )


def parse_thread(answer: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[Item]]:
    """The root post and every reply under it, as items.

    notFoundPost and blockedPost entries are skipped with their subtrees;
    the walk is iterative, since reply chains can be thousands deep.
    """
    thread = answer.get("thread") if isinstance(answer, Mapping) else None
    if not isinstance(thread, Mapping) or not isinstance(thread.get("post"), Mapping):
        kind = thread.get("$type") if isinstance(thread, Mapping) else None
        raise ValueError(f"thread has no post ({kind or 'no thread'})")
    root = thread["post"]
    root_uri = str(root.get("uri") or "")
    items: list[Item] = []
    stack = [(reply, root_uri) for reply in _replies(thread)]
    while stack:
        node, parent = stack.pop()
        post = node.get("post")
        if not isinstance(post, Mapping) or node.get("notFound") or node.get("blocked"):
            continue
        try:
            item = parse_post(post, parent, root_uri)
        except (KeyError, TypeError, ValueError):
            continue  # a malformed reply is left out, its siblings are not
        items.append(item)
        stack.extend((reply, str(post["uri"])) for reply in _replies(node))
    return root, items


def _replies(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    replies = node.get("replies")
    return [r for r in replies if isinstance(r, Mapping)] if isinstance(replies, list) else []


def parse_reactions(
    answer: Mapping[str, Any], key: str, kind: str, root: str, published: datetime
) -> list[Item]:
    """getLikes (``likes[].actor``) or getRepostedBy (``repostedBy[]``) as items."""
    entries = answer.get(key) if isinstance(answer, Mapping) else None
    items = []
    for entry in entries if isinstance(entries, list) else ():
        actor = entry.get("actor", entry) if isinstance(entry, Mapping) else None
        if not isinstance(actor, Mapping) or not _DID.match(str(actor.get("did") or "")):
            continue
        person = parse_author(actor)
        items.append(
            Item(
                id=f"bluesky:{root}/{kind}/{actor['did']}",
                source=SOURCE,
                kind=kind,
                author=person,
                published=published,
                url=person.url,
            )
        )
    return items


# -- Fetching ---------------------------------------------------------------------


def job_for(post_key: str, value: str, published: datetime, api_url: str = API_URL) -> Job:
    """The fetch job of one ``bluesky:`` value of a post."""
    ref = parse_post_ref(value)
    host = urlsplit(api_url).netloc or api_url
    return Job(post_key, SOURCE, ref.uri() if ref.is_did else ref.url, host, published)


class BlueskySource:
    """Fetches an announcement's thread, likes and reposts from an AppView."""

    name = SOURCE

    def __init__(self, client: Client, api_url: str = API_URL, reactions: bool = True) -> None:
        self.client = client
        self.api_url = api_url.rstrip("/")
        self.reactions = reactions

    def _xrpc(self, method: str, **params: Any) -> Any:
        return self.client.get(f"{self.api_url}/xrpc/{method}", params=params).json()

    def resolve(self, ref: PostRef, cursor: Mapping[str, Any]) -> str:
        """The post's at:// URI with a DID, resolved once and kept in the cursor."""
        if ref.is_did:
            return ref.uri()
        known = str(cursor.get("uri") or "")
        if known:
            return known
        answer = self._xrpc("com.atproto.identity.resolveHandle", handle=ref.actor)
        did = str(answer.get("did") or "") if isinstance(answer, Mapping) else ""
        if not _DID.match(did):
            raise ValueError(f"handle {ref.actor} resolved to no DID")
        return ref.uri(did)

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        ref = parse_post_ref(job.target)
        uri = self.resolve(ref, cursor)
        try:
            answer = self._xrpc(
                "app.bsky.feed.getPostThread", uri=uri, depth=THREAD_DEPTH, parentHeight=0
            )
        except FetchError as exc:
            body = exc.body.decode("utf-8", "replace")
            if exc.status == 400 and "NotFound" in body:
                # Deleted upstream: keep what is archived, stop asking.
                return Result((), {"uri": uri, "deleted": True})
            raise
        root, items = parse_thread(answer)
        counts = {
            "replies": int(root.get("replyCount") or 0),
            "likes": int(root.get("likeCount") or 0),
            "reposts": int(root.get("repostCount") or 0),
        }
        if self.reactions:
            published = parse_timestamp(
                str(_record(root).get("createdAt") or root.get("indexedAt") or "")
            )
            for kind, count, method, key in (
                ("like", "likes", "app.bsky.feed.getLikes", "likes"),
                ("repost", "reposts", "app.bsky.feed.getRepostedBy", "repostedBy"),
            ):
                if counts[count] > 0:
                    answer = self._xrpc(method, uri=uri, limit=100)
                    items.extend(parse_reactions(answer, key, kind, uri, published))
        return Result(tuple(items), {"uri": uri, "counts": counts})


def _record(post: Mapping[str, Any]) -> Mapping[str, Any]:
    record = post.get("record")
    return record if isinstance(record, Mapping) else {}
