"""Hacker News: stories linking the post, and their comment trees.

Found through the Algolia HN Search API (``hn.algolia.com/api/v1``): a
search restricted to the ``url`` attribute with ``tags=story`` for each URL
the post is known by (``discussion.article_urls``), then ``/items/<id>`` for
each story's whole comment tree.  Each story becomes a submission item
(kind ``mention``) with its comments under it (docs/design.md, "Waiting for
a reply").  Metadata ``hackernews: <item URL or id>`` pins a story the
search cannot find (submitted under another URL).

The wire format, as the API's serializer writes it: a hit has ``objectID``
(a string), ``url``, ``title``, ``author``, ``created_at_i`` and ``_tags``;
an item has ``id``, ``type``, ``author``, ``created_at``/``created_at_i``,
``title``, ``url``, ``text`` (HTML), ``points``, ``parent_id``,
``story_id`` and ``children`` (items); a deleted or dead item keeps only
``id`` and ``children``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from ..errors import FetchError
from ..fetch import Job, Result, Source
from ..model import Item, Person, Problem, normal_url, parse_timestamp
from ..parsed import Skipped, entry_reason
from ..sanitize import clean_html, clean_text
from .discussion import (
    SITE_KEYS,
    RequestCap,
    SiteSettings,
    load_site_settings,
    search_jobs,
    submission,
    untangle,
)
from .network import ArticleView, FetchSetup, Network

if TYPE_CHECKING:
    from ..http import Client

SOURCE = "hackernews"
API_URL = "https://hn.algolia.com/api/v1"
#: Where people read and answer (the API only serves data).
SITE = "https://news.ycombinator.com"
HITS_PER_PAGE = 50
#: Search pages per URL at most (a post is rarely submitted more than a few times).
MAX_PAGES = 4
#: Item types a story can be (a comment id is not a submission).
STORY_TYPES = frozenset({"story", "poll", "job"})
EXPECTED = f"expected {SITE}/item?id=123 or a story id"


def item_url(item_id: int | str) -> str:
    return f"{SITE}/item?id={item_id}"


def user_url(name: str) -> str:
    return f"{SITE}/user?id={quote(name, safe='')}"


def parse_story_ref(value: str) -> str:
    """A story id from metadata: ``12345`` or an item URL on news.ycombinator.com;
    ValueError naming the expected form."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return str(int(value))
    parts = urlsplit(value)
    host = (parts.hostname or "").removeprefix("www.")
    ids = parse_qs(parts.query).get("id", [])
    item = ids[0] if len(ids) == 1 else ""
    if (
        parts.scheme in {"http", "https"}
        and host == "news.ycombinator.com"
        and parts.path.rstrip("/") == "/item"
        and item.isascii()
        and item.isdigit()
    ):
        return str(int(item))
    raise ValueError(f"{value!r} is not a Hacker News story ({EXPECTED})")


def same_page(url: str) -> str:
    """What two URLs of one page share: no scheme, no ``www.``, no final slash."""
    return normal_url(url)


def parse_search(answer: Any, wanted: Iterable[str]) -> tuple[list[str], int]:
    """Story ids (strings) of a search page whose ``url`` is one of ``wanted``
    (the search matches words, so other pages' stories come too), and the
    answer's page count; ValueError when it is no search answer."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("hits"), list):
        raise ValueError("answer is not an HN search result (no 'hits' list)")
    pages = answer.get("nbPages")
    pages = pages if isinstance(pages, int) and not isinstance(pages, bool) else 1
    forms = {same_page(u) for u in wanted}
    found: list[str] = []
    for hit in answer["hits"]:
        if not isinstance(hit, Mapping):
            continue
        story_id, url, tags = hit.get("objectID"), hit.get("url"), hit.get("_tags")
        if not (isinstance(story_id, str) and story_id.isascii() and story_id.isdigit()):
            continue
        if isinstance(tags, list) and "story" not in tags:
            continue
        if isinstance(url, str) and same_page(url) in forms and story_id not in found:
            found.append(story_id)
    return found, pages


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _published(node: Mapping[str, Any]) -> datetime:
    stamp = node.get("created_at_i")
    if isinstance(stamp, int) and not isinstance(stamp, bool):
        return datetime.fromtimestamp(stamp, timezone.utc)
    return parse_timestamp(str(node["created_at"]))


def _person(name: str) -> Person:
    """An HN account; ValueError when nothing readable is left of the name
    (markup in place of a username: no handle, no profile to link)."""
    if not name:
        raise ValueError("no readable author name")
    return Person(name=name, handle=name, url=user_url(name))


def _gone(node: Mapping[str, Any]) -> bool:
    """Deleted or dead: the API leaves only ``id`` and ``children`` (the
    Firebase API's flags are honoured too, should a mirror pass them on)."""
    return not node.get("author") or bool(node.get("deleted")) or bool(node.get("dead"))


@dataclass(frozen=True)
class Tree:
    """What one ``/items/<story id>`` answer holds."""

    items: tuple[Item, ...] = ()
    #: Item ids the answer shows deleted or dead (tombstones when archived).
    gone: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()


def _comment(node: Mapping[str, Any], parent: str, root: str) -> Item:
    author = clean_text(str(node["author"]))
    text = node.get("text")
    if text is not None and not isinstance(text, str):
        raise ValueError(f"text is {type(text).__name__}, not HTML")
    return Item(
        id=f"{SOURCE}:{node['id']}",
        source=SOURCE,
        kind="reply",
        author=_person(author),
        published=_published(node),
        content_html=clean_html(text or ""),
        url=item_url(node["id"]),
        in_reply_to=parent,
        reply_url=item_url(node["id"]),
        root=root,
    )


def parse_tree(answer: Any) -> Tree:
    """A story's ``/items/<id>`` answer: its submission item and its comments,
    each ``in_reply_to`` its nearest shown ancestor (a deleted or dead
    comment is left out, its live replies kept).  ValueError when the answer
    is not a live story (a comment's id, a deleted story, no id)."""
    if not isinstance(answer, Mapping) or not _is_id(answer.get("id")):
        raise ValueError("answer is not an HN item (no numeric 'id')")
    story_id = answer["id"]
    if _gone(answer):
        raise ValueError(f"story {story_id} is deleted or dead")
    if answer.get("type") not in STORY_TYPES:
        raise ValueError(f"item {story_id} is a {answer.get('type')!r}, not a story")
    author = clean_text(str(answer["author"]))
    story = submission(
        SOURCE,
        str(story_id),
        title=str(answer.get("title") or ""),  # plain text: submission() escapes it
        url=item_url(story_id),
        author=_person(author) if author else Person(name="[unknown]"),
        published=_published(answer),
        reply_url=item_url(story_id),
        extras={"points": answer["points"]} if _is_id(answer.get("points")) else {},
    )
    items, gone, skipped = [story], [], []
    # Depth first without recursion: a hostile answer may nest deeply.
    stack = [(child, story.id) for child in reversed(_children(answer))]
    while stack:
        node, parent = stack.pop()
        shown = parent
        if not isinstance(node, Mapping):
            skipped.append(Skipped("comment", "not a JSON object", "comment"))
            continue
        if _gone(node):
            if _is_id(node.get("id")):
                gone.append(f"{SOURCE}:{node['id']}")
        elif not _is_id(node.get("id")):
            skipped.append(Skipped(str(node.get("id")), "no numeric id", "comment"))
        else:
            try:
                item = _comment(node, parent, story.id)
            except (KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
                skipped.append(Skipped(str(node["id"]), entry_reason(exc), "comment"))
            else:
                items.append(item)
                shown = item.id
        stack += [(child, shown) for child in reversed(_children(node))]
    return Tree(tuple(untangle(items, story.id)), tuple(gone), tuple(skipped))


def _children(node: Mapping[str, Any]) -> list[Any]:
    children = node.get("children")
    return children if isinstance(children, list) else []


class HackerNewsSource:
    """Searches stories by the post's URLs and fetches each one's tree.

    ``job.target`` is either the post's URLs separated by spaces (a search
    job, one per post) or a story id (pinned by metadata).  The search job's
    cursor remembers the stories found (``stories``), so a story found once
    is followed even if the search stops finding it; a search that found
    nothing is remembered too, and not repeated before the job is due again.
    """

    name = SOURCE

    def __init__(
        self,
        client: Client,
        cap: RequestCap,
        api_url: str = API_URL,
        pinned: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.client = client
        self.cap = cap
        self.api_url = api_url.rstrip("/")
        #: (post key, story id) of stories pinned by metadata: their own
        #: jobs fetch them, so a search finding them too does not.
        self.pinned = pinned

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.cap.take()
        return self.client.get(f"{self.api_url}{path}", params=params).json()

    def search(self, urls: list[str]) -> list[str]:
        """Ids of stories whose URL is one of ``urls``.  One query per page:
        the search matches words, so the URL without scheme, ``www.`` and
        final slash finds every form of it (http or https, with or without
        the slash), and :func:`parse_search` keeps exact matches only."""
        found: list[str] = []
        for query in dict.fromkeys(same_page(u) for u in urls):
            for page in range(MAX_PAGES):
                answer = self._get(
                    "/search",
                    {
                        "query": query,
                        "restrictSearchableAttributes": "url",
                        "tags": "story",
                        "hitsPerPage": HITS_PER_PAGE,
                        "page": page,
                    },
                )
                try:
                    ids, pages = parse_search(answer, urls)
                except ValueError as exc:
                    raise FetchError(f"{self.api_url}/search", str(exc)) from None
                found += [i for i in ids if i not in found]
                if page + 1 >= pages:
                    break
        return found

    def tree(self, story_id: str) -> tuple[Tree, bool]:
        """The story's tree, and False when the API says it is gone (404)."""
        try:
            answer = self._get(f"/items/{story_id}")
        except FetchError as exc:
            if exc.status == 404:
                return Tree(), False
            raise
        try:
            return parse_tree(answer), True
        except ValueError as exc:
            if isinstance(answer, Mapping) and _is_id(answer.get("id")) and _gone(answer):
                return Tree(), False
            raise FetchError(f"{self.api_url}/items/{story_id}", str(exc)) from None

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        searching = not job.target.isdigit()
        known = [str(s) for s in cursor.get("stories") or () if str(s).isdigit()]
        items: list[Item] = []
        gone: list[str] = []
        skipped: list[Skipped] = []
        stories = list(known)
        try:
            if searching:
                stories += [s for s in self.search(job.target.split(" ")) if s not in stories]
            else:
                stories = [job.target]
            for story_id in stories:
                if searching and (job.post_key, story_id) in self.pinned:
                    continue
                tree, alive = self.tree(story_id)
                if not alive:
                    gone.append(f"{SOURCE}:{story_id}")
                items += tree.items
                gone += tree.gone
                skipped += tree.skipped
        except FetchError as exc:
            if not items:
                raise
            # What came is kept; the cursor keeps the stories known so far.
            return Result(tuple(items), {"stories": stories} if searching else {}, error=exc)
        alive_ids = [s for s in stories if f"{SOURCE}:{s}" not in gone]
        # A story found by searching was archived: its tombstone is named
        # when it goes.  One named in metadata may never have existed: the
        # author should check the value.
        pinned_gone = "" if searching or alive_ids else job.target
        return Result(
            tuple(items),
            {"stories": alive_ids} if searching else {},
            gone=tuple(gone),
            skipped=tuple(skipped),
            notice=(
                f"story {pinned_gone} is not on Hacker News (deleted, dead or never there); "
                "check the post's 'hackernews:' value"
                if pinned_gone
                else ""
            ),
        )


# -- The network's declaration (see sources/registry.py) ------------------------------

SETTING = "ENGAGE_HACKERNEWS"
SETTING_KEYS = SITE_KEYS


def load_settings(settings: Mapping[str, Any]) -> SiteSettings:
    return load_site_settings(settings, SETTING, API_URL)


def _host(settings: SiteSettings) -> str:
    return urlsplit(settings.api_url).netloc


def job_for(post_key: str, value: str, published: datetime, settings: SiteSettings) -> Job:
    """The job of a story pinned by ``hackernews:`` metadata."""
    return Job(post_key, SOURCE, parse_story_ref(value), _host(settings), published)


def _article_jobs(settings: SiteSettings, article: ArticleView) -> tuple[list[Job], list[Problem]]:
    """With the setting on, every post is searched by its URLs."""
    return search_jobs(settings, article, SOURCE, SETTING, "stories")


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    settings: SiteSettings = setup.settings
    cap = RequestCap(SETTING, settings.max_requests)
    pinned = frozenset((j.post_key, j.target) for j in setup.jobs if j.target.isdigit())
    return {SOURCE: HackerNewsSource(setup.client, cap, settings.api_url, pinned)}


_ITEM = re.compile(r"^news\.ycombinator\.com/item\?id=(\d+)(?:[&#].*)?$")


def _url_keys(plain: str) -> set[str]:
    match = _ITEM.match(plain)
    return {f"{SOURCE}:{int(match[1])}"} if match else set()


NETWORK = Network(
    name=SOURCE,
    display="Hacker News",
    # Its mark, 16x16 in currentColor: a square with a Y cut out of it.
    icon=("M1 1h14v14H1zm4.2 3L7.3 8.2V12h1.4V8.2L10.8 4H9.3L8 6.8 6.7 4z"),
    metadata=("hackernews",),
    job=job_for,
    discussion=True,
    setting=SETTING,
    setting_keys=SETTING_KEYS,
    setting_default=None,  # off; a dict (even {}) turns the search on
    load_settings=load_settings,
    fetchers=_fetchers,
    article_jobs=_article_jobs,
    url_keys=_url_keys,
)
