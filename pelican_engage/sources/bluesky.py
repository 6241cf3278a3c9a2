"""Bluesky: the replies to a post's announcement, from the public AppView.

Pure functions first (a ``bluesky:`` value -> handle or DID and record key
in ``bluesky_refs``, post text with its facets -> safe HTML in
``bluesky_content``, both re-exported here; a getPostThread answer -> items);
the fetching class builds on them.  A handle is resolved to its DID once and
the resulting ``at://`` URI is kept in the archive's cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import checks
from ..deepjson import json_object
from ..deepjson import loads as deep_loads
from ..errors import FetchError
from ..fetch import Job, Result, Source
from ..model import Item, Person, parse_timestamp
from ..parsed import Skipped, entry_reason
from ..sanitize import clean_text, safe_url
from .bluesky_content import (  # noqa: F401  (post_html, labels: part of this module's API)
    WARN_LABELS,
    WITHHOLD_LABELS,
    consent_extras,
    labels,
    media_html,
    post_html,
)
from .bluesky_refs import (  # noqa: F401  (part of this module's API)
    _DID,
    INVALID_HANDLE,
    WEB,
    PostRef,
    _valid_handle,
    bridgy_key,
    item_keys,
    parse_post_ref,
    post_url,
    profile,
    url_keys,
)
from .network import FetchSetup, Network, figures

if TYPE_CHECKING:
    from ..http import Client

SOURCE = "bluesky"
API_URL = "https://public.api.bsky.app"
#: Reply levels asked per getPostThread.  Each level nests JSON twice, and
#: json.loads gives up near 495 levels: a deeper branch is asked again from
#: its deepest reply (below), so any depth is archived whole.
THREAD_DEPTH = 100
#: Further getPostThread requests per fetch for deeper branches (10,000 levels).
MAX_CONTINUATIONS = 100
#: getPosts takes at most 25 URIs.
POSTS_BATCH = 25


def parse_author(author: Mapping[str, Any]) -> Person:
    """A post's author; when the handle no longer verifies ("handle.invalid"),
    the DID stands in for it, in links and as the handle."""
    handle = str(author.get("handle") or "")
    did = str(author.get("did") or "")
    if not _valid_handle(handle):
        handle = did if _DID.match(did) else ""
    return Person(
        name=clean_text(str(author.get("displayName") or "")) or handle,
        handle=handle,
        url=f"{WEB}/profile/{handle}" if handle else "",
        avatar=safe_url(str(author.get("avatar") or "")),
    )


def parse_post(
    post: Mapping[str, Any], parent: str | None, root: str, hidden: bool = False
) -> Item:
    """One reply; ``parent`` is the at:// URI it answers (the root: the post).

    ``hidden``: the root's author hid it (threadgate ``hiddenReplies``).
    """
    uri = str(post["uri"])
    record = json_object(post.get("record"))
    author = json_object(post.get("author"))
    person = parse_author(author)
    created = str(record.get("createdAt") or post.get("indexedAt") or "")
    url = post_url(uri, person.handle)
    body = post_html(str(record.get("text") or ""), record.get("facets"))
    body += media_html(post.get("embed") or record.get("embed"), url)
    consent = consent_extras(post)
    extras: dict[str, Any] = {
        "likes": int(post.get("likeCount") or 0),
        "reposts": int(post.get("repostCount") or 0),
        "did": str(author.get("did") or ""),
    }
    if consent.get("warnings"):
        extras["warnings"] = consent["warnings"]
    return Item(
        id=f"bluesky:{uri}",
        source=SOURCE,
        kind="reply",
        author=person,
        published=parse_timestamp(created),
        content_html=body,
        url=url,
        in_reply_to=None if parent in (None, root) else f"bluesky:{parent}",
        extras=extras,
        reply_url=url,
        root=root,
        hidden=hidden,
        withheld=str(consent.get("withheld") or ""),
    )


@dataclass(frozen=True)
class ThreadPage:
    """What one getPostThread answer holds."""

    #: The anchor's post view (the announcement, or a deep reply asked again).
    anchor: Mapping[str, Any]
    items: list[Item]
    #: at:// URIs the answer names, as posts or as notFound/blocked entries.
    seen: frozenset[str]
    #: at:// URIs of notFoundPost entries: the network says they are gone.
    not_found: tuple[str, ...]
    #: Posts at the asked depth whose replies did not come: ask from them.
    frontier: tuple[str, ...]
    #: Replies the root's author hid (threadgate ``hiddenReplies``).
    hidden: frozenset[str]
    #: Replies that could not be read (their own replies are still kept).
    skipped: tuple[Skipped, ...] = ()


def hidden_replies(answer: Mapping[str, Any]) -> frozenset[str]:
    """The threadgate's ``hiddenReplies``: beside ``thread``, or on the root
    post view."""
    found: set[str] = set()
    thread = answer.get("thread")
    root = thread.get("post") if isinstance(thread, Mapping) else None
    gates = [
        answer.get("threadgate"),
        root.get("threadgate") if isinstance(root, Mapping) else None,
    ]
    for gate in gates:
        record = gate.get("record") if isinstance(gate, Mapping) else None
        uris = record.get("hiddenReplies") if isinstance(record, Mapping) else None
        if isinstance(uris, list):
            found.update(u for u in uris if isinstance(u, str))
    return frozenset(found)


def read_thread(
    answer: Any,
    root: str = "",
    depth: int | None = None,
    hidden: frozenset[str] = frozenset(),
) -> ThreadPage:
    """Every reply under the answer's anchor, as items.

    ``root`` is the announcement's URI when the anchor is a reply deeper in
    its thread (its replies then answer that reply); ``depth`` the depth
    asked, to find the posts whose replies it cut off.  notFound and blocked
    entries are left out with their subtrees; the walk is iterative, since
    reply chains can be thousands deep.
    """
    thread = answer.get("thread") if isinstance(answer, Mapping) else None
    if not isinstance(thread, Mapping) or not isinstance(thread.get("post"), Mapping):
        kind = thread.get("$type") if isinstance(thread, Mapping) else None
        raise ValueError(f"thread has no post ({kind or 'no thread'})")
    anchor = thread["post"]
    anchor_uri = str(anchor.get("uri") or "")
    root = root or anchor_uri
    hidden = hidden | hidden_replies(answer)
    items: list[Item] = []
    skipped: list[Skipped] = []
    seen, not_found, frontier = {anchor_uri}, [], []
    stack = [(reply, anchor_uri, 1) for reply in _replies(thread)]
    while stack:
        node, parent, level = stack.pop()
        post = node.get("post")
        uri = str(node.get("uri") or (post.get("uri") if isinstance(post, Mapping) else "") or "")
        seen.add(uri)
        if node.get("notFound"):
            not_found.append(uri)
            continue
        if not isinstance(post, Mapping) or node.get("blocked"):
            continue
        try:
            items.append(parse_post(post, parent, root, hidden=uri in hidden))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # Left out and told; its siblings and its own replies are kept
            # (they hang under its id, shown at the top level meanwhile).
            skipped.append(Skipped(uri, entry_reason(exc), "reply"))
        replies = _replies(node)
        if depth is not None and level >= depth and not replies and _count(post, "replyCount"):
            frontier.append(uri)
        stack.extend((reply, uri, level + 1) for reply in replies)
    return ThreadPage(
        anchor,
        items,
        frozenset(seen - {""}),
        tuple(not_found),
        tuple(frontier),
        hidden,
        tuple(skipped),
    )


def parse_thread(answer: Any) -> tuple[Mapping[str, Any], list[Item]]:
    """The root post and every reply under it, as items."""
    page = read_thread(answer)
    return page.anchor, page.items


def _count(post: Mapping[str, Any], key: str) -> int:
    value = post.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


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
                # A liker who asked not to be shown logged out is only counted.
                withheld=str(consent_extras({"author": actor}).get("withheld") or ""),
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
        response = self.client.get(f"{self.api_url}/xrpc/{method}", params=params)
        try:
            return deep_loads(response.body)
        except ValueError as exc:
            raise FetchError(response.url, f"answered with malformed JSON ({exc})") from exc

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

    def _thread(self, uri: str) -> Any:
        return self._xrpc(
            "app.bsky.feed.getPostThread", uri=uri, depth=THREAD_DEPTH, parentHeight=0
        )

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        ref = parse_post_ref(job.target)
        uri = self.resolve(ref, cursor)
        try:
            answer = self._thread(uri)
        except FetchError as exc:
            body = exc.body.decode("utf-8", "replace")
            if exc.status == 400 and "NotFound" in body:
                # Deleted upstream: keep what is archived, stop asking.
                return Result((), {"uri": uri, "deleted": True})
            raise
        page = read_thread(answer, depth=THREAD_DEPTH)
        root = page.anchor
        items, seen, gone = list(page.items), set(page.seen), list(page.not_found)
        skipped = list(page.skipped)
        # Branches deeper than one answer: ask again from their deepest
        # reply, breadth first, within a budget of requests.
        frontier, asked, error = list(page.frontier), 0, None
        while frontier and asked < MAX_CONTINUATIONS:
            deeper = frontier.pop(0)
            asked += 1
            try:
                more = read_thread(self._thread(deeper), uri, THREAD_DEPTH, page.hidden)
            except (FetchError, ValueError) as exc:
                error = exc
                break
            items += more.items
            skipped += more.skipped
            seen |= more.seen
            gone += more.not_found
            frontier += more.frontier
        counts = {
            "replies": _count(root, "replyCount"),
            "likes": _count(root, "likeCount"),
            "reposts": _count(root, "repostCount"),
        }
        out: dict[str, Any] = {"uri": uri, "counts": counts}
        if frontier and error is None:
            error = FetchError(
                f"{self.api_url}/xrpc/app.bsky.feed.getPostThread",
                f"{uri} is deeper than {THREAD_DEPTH * (MAX_CONTINUATIONS + 1)} replies; "
                f"{len(items)} archived, the rest comes with the next fetches",
            )
        degraded: list[str] = []
        if self.reactions and error is None:
            items += self._reactions(root, uri, counts, degraded)
        return Result(
            tuple(items),
            out,
            error=error,
            gone=tuple(f"bluesky:{u}" for u in gone if u),
            # The whole thread came: archived replies not in it are checked.
            complete=frozenset(f"bluesky:{u}" for u in seen) if error is None else None,
            skipped=tuple(skipped),
            degraded=tuple(degraded),
        )

    def _reactions(
        self, root: Mapping[str, Any], uri: str, counts: Mapping[str, int], degraded: list[str]
    ) -> list[Item]:
        """Likes and reposts of the announcement, asked together,
        best-effort: a failed getLikes or getRepostedBy is told in
        ``degraded`` and costs neither the thread nor the other list."""
        wanted = [w for w in _LISTS if counts[w[1]] > 0]
        asks = [partial(_attempt, self._xrpc, w[2], uri=uri, limit=100) for w in wanted]
        answers = self.client.together(*asks)
        items: list[Item] = []
        for (kind, _count, method, key), answer in zip(wanted, answers, strict=True):
            try:
                if isinstance(answer, Exception):
                    raise answer
                published = parse_timestamp(
                    str(_record(root).get("createdAt") or root.get("indexedAt") or "")
                )
                items += parse_reactions(answer, key, kind, uri, published)
            except (FetchError, KeyError, TypeError, ValueError) as exc:
                degraded.append(f"{method} not fetched ({entry_reason(exc)}); thread kept")
        return items

    def confirm_gone(
        self, job: Job, result: Result, archived: Mapping[str, Item]
    ) -> tuple[str, ...]:
        """Archived replies of this thread missing from its complete answer
        that getPosts does not return either: deleted upstream.

        A reply merely missing (a blocked branch, a partial answer) is one
        getPosts still returns, and stays.
        """
        root = str(result.cursor.get("uri") or "")
        if result.complete is None or not root:
            return ()
        missing = [
            item_id.removeprefix("bluesky:")
            for item_id, item in archived.items()
            if item.source == SOURCE
            and item.kind == "reply"
            and (item.root or root) == root
            and item_id not in result.complete
        ]
        gone = []
        for start in range(0, len(missing), POSTS_BATCH):
            batch = missing[start : start + POSTS_BATCH]
            alive = self._existing(batch)
            gone += [f"bluesky:{u}" for u in batch if u not in alive]
        return tuple(gone)

    def _existing(self, uris: list[str]) -> set[str]:
        """Which of ``uris`` getPosts returns.  An XRPC ``NotFound`` error
        for the request says none of them exists (asked one by one when
        there are several); any other failure confirms nothing, and raises."""
        url = f"{self.api_url}/xrpc/app.bsky.feed.getPosts"
        try:
            answer = self._xrpc("app.bsky.feed.getPosts", uris=uris)
        except FetchError as exc:
            if exc.status not in (400, 404) or b'"NotFound"' not in exc.body:
                raise
            if len(uris) == 1:
                return set()
            return {u for uri in uris for u in self._existing([uri])}
        posts = answer.get("posts") if isinstance(answer, Mapping) else None
        if not isinstance(posts, list):
            raise FetchError(url, "answered without a 'posts' list; no deletion confirmed")
        return {str(p.get("uri")) for p in posts if isinstance(p, Mapping)}


#: The reaction lists: (item kind, count, XRPC method, answer key).
_LISTS = (
    ("like", "likes", "app.bsky.feed.getLikes", "likes"),
    ("repost", "reposts", "app.bsky.feed.getRepostedBy", "repostedBy"),
)


def _attempt(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call``'s answer, or the FetchError or ValueError it raised."""
    try:
        return call(*args, **kwargs)
    except (FetchError, ValueError) as exc:
        return exc


def _record(post: Mapping[str, Any]) -> Mapping[str, Any]:
    return json_object(post.get("record"))


# -- The network's declaration (see sources/registry.py) ------------------------------

SETTING = "ENGAGE_BLUESKY"
# handle and pds_url: where `pelican-engage reply` posts (cli_reply reads them).
SETTING_KEYS = frozenset({"api_url", "reactions", "handle", "pds_url"})


@dataclass(frozen=True)
class BlueskySettings:
    """ENGAGE_BLUESKY, checked."""

    api_url: str = API_URL
    #: Fetch who liked and reposted the announcement (names in the row).
    reactions: bool = True


def load_settings(settings: Mapping[str, Any]) -> BlueskySettings:
    """ENGAGE_BLUESKY of the Pelican settings; SettingsError names a bad key."""
    section = checks.section(settings, SETTING, SETTING_KEYS)
    defaults = BlueskySettings()
    reactions = checks.flag(section, SETTING, "reactions", defaults.reactions)
    return BlueskySettings(checks.api_url(section, SETTING, defaults.api_url), reactions)


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    settings: BlueskySettings = setup.settings
    source = BlueskySource(setup.client, api_url=settings.api_url, reactions=settings.reactions)
    return {SOURCE: source}


NETWORK = Network(
    name=SOURCE,
    display="Bluesky",
    # Its mark, 16x16 in currentColor: a butterfly.
    icon=(
        "M3.5 2.2C5.2 3.4 7 6 8 7.4c1-1.4 2.8-4 4.5-5.2C13.7 1.3 15.7.6 15.7 2.9c0 .5-.3 3.8"
        "-.4 4.3-.6 2-2.6 2.5-4.4 2.2 3.2.5 4 2.3 2.2 4.1-3.3 3.4-4.8-.9-5.1-2L8 11l-.1.5"
        "c-.3 1.1-1.8 5.4-5.1 2-1.8-1.8-1-3.6 2.2-4.1-1.8.3-3.8-.2-4.4-2.2C.5 6.7.3 3.4.3"
        " 2.9c0-2.3 2-1.6 3.2-.7z"
    ),
    metadata=("bluesky",),
    job=lambda key, value, published, settings: job_for(key, value, published, settings.api_url),
    announcement=lambda value: parse_post_ref(value).url,
    setting=SETTING,
    setting_keys=SETTING_KEYS,
    load_settings=load_settings,
    fetchers=_fetchers,
    url_keys=url_keys,
    bridgy_key=bridgy_key,
    item_keys=item_keys,
    profile=profile,
    counts=lambda cursor: figures(cursor, "counts", "likes", "reposts"),
)
