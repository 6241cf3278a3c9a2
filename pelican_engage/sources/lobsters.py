"""Lobsters: stories linking the post, and their comments.

Lobsters answers JSON at its page URLs: ``/stories/url/all.json?url=<URL>``
lists the stories of a URL (the site normalises it: scheme, ``www.``,
trailing slash), and ``/s/<short id>.json`` is a story with its comments in
thread order.  Each story becomes a submission item (kind ``mention``) with
its comments under it (docs/design.md, "Waiting for a reply").

The wire format, as ``Story#as_json`` and ``Comment#as_json`` write it: a
story has ``short_id``, ``short_id_url``, ``created_at`` (ISO 8601 with an
offset), ``title``, ``url``, ``score``, ``comment_count``,
``comments_url``, ``submitter_user`` and ``comments``; a comment has
``short_id``, ``short_id_url``, ``created_at``, ``is_deleted``,
``is_moderated``, ``parent_comment`` (its parent's short id, or null),
``comment`` (HTML), ``depth`` and ``commenting_user``.  Older versions of
the site give users as objects (``username``, ``avatar_url``); both are read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

from ..errors import FetchError
from ..fetch import Job, Result, Source
from ..model import Item, Person, Problem, parse_timestamp
from ..parsed import Skipped, entry_reason
from ..sanitize import clean_html, clean_text, safe_url
from .discussion import (
    SITE_KEYS,
    RequestCap,
    SiteSettings,
    flagged,
    load_site_settings,
    search_jobs,
    submission,
    untangle,
)
from .network import ArticleView, FetchSetup, Network

if TYPE_CHECKING:
    from ..http import Client

SOURCE = "lobsters"
API_URL = "https://lobste.rs"
_SHORT_ID = re.compile(r"^[a-z0-9]{1,10}$")


def _short_id(value: Any) -> str:
    if not isinstance(value, str) or not _SHORT_ID.match(value):
        raise ValueError(f"short_id {value!r} is not a Lobsters short id")
    return value


def _own(value: Any, base: str) -> str:
    """A link the answer gives, when it is an http(s) page of the site asked
    (a story or comment must not link elsewhere, nor pass for another
    network's item in dedup); "" otherwise."""
    url = safe_url(str(value or ""))
    return url if url and urlsplit(url).netloc == urlsplit(base).netloc else ""


def _user(value: Any, base: str) -> Person:
    """``submitter_user``/``commenting_user``: a name, or (older sites) an object."""
    avatar = ""
    if isinstance(value, Mapping):
        avatar = str(value.get("avatar_url") or "")
        value = value.get("username")
    name = clean_text(value) if isinstance(value, str) else ""
    if not name.strip():
        raise ValueError("no readable user name")
    return Person(
        name=name,
        handle=name,
        url=f"{base}/~{quote(name)}",
        avatar=safe_url(urljoin(base + "/", avatar)) if avatar else "",
    )


def parse_stories(answer: Any) -> list[str]:
    """Short ids of a ``/stories/url/all.json`` answer (a list of stories);
    ValueError when it is no such list.  An entry without a short id is
    passed over: the stories listed are only searched, not shown."""
    if not isinstance(answer, list):
        raise ValueError("answer is not a list of stories")
    found: list[str] = []
    for story in answer:
        try:
            short = _short_id(story.get("short_id") if isinstance(story, Mapping) else None)
        except ValueError:
            continue
        if short not in found:
            found.append(short)
    return found


@dataclass(frozen=True)
class Story:
    """What one ``/s/<short id>.json`` answer holds."""

    items: tuple[Item, ...] = ()
    #: Comments the answer shows deleted or removed (tombstones when archived).
    gone: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()


def _comment(node: Mapping[str, Any], parent: str, root: str, base: str) -> Item:
    short = _short_id(node.get("short_id"))
    html = node.get("comment")
    if not isinstance(html, str):
        raise ValueError("no comment HTML")
    url = _own(node.get("short_id_url"), base) or f"{base}/c/{short}"
    return Item(
        id=f"{SOURCE}:{short}",
        source=SOURCE,
        kind="reply",
        author=_user(node.get("commenting_user"), base),
        published=parse_timestamp(str(node["created_at"])),
        content_html=clean_html(html),
        url=_own(node.get("url"), base) or url,
        in_reply_to=parent,
        reply_url=url,
        root=root,
    )


def parse_story(answer: Any, base: str = API_URL) -> Story:
    """A story and its comments.  Comments come in thread order, each naming
    its parent by ``parent_comment``; a deleted or moderated one is left
    out and its live replies hang under its nearest shown ancestor (or the
    story).  ``base`` is the site, for profile links.  ValueError when the
    answer is no story."""
    if not isinstance(answer, Mapping):
        raise ValueError("answer is not a Lobsters story")
    short = _short_id(answer.get("short_id"))
    page = _own(answer.get("comments_url"), base) or f"{base}/s/{short}"
    story = submission(
        SOURCE,
        short,
        title=str(answer.get("title") or ""),  # plain text: submission() escapes it
        url=page,
        author=_user(answer.get("submitter_user"), base),
        published=parse_timestamp(str(answer["created_at"])),
        reply_url=page,
        extras={"score": answer["score"]} if isinstance(answer.get("score"), int) else {},
    )
    comments = answer.get("comments")
    items, gone, skipped = [story], [], []
    #: Each comment's short id -> the item id its replies hang under.
    shown: dict[str, str] = {}
    for number, node in enumerate(comments if isinstance(comments, list) else []):
        name = node.get("short_id") if isinstance(node, Mapping) else None
        if not isinstance(node, Mapping) or not isinstance(name, str):
            skipped.append(Skipped(f"comment {number}", "no short_id", "comment"))
            continue
        parent = node.get("parent_comment")
        # A parent not in the answer (or not yet seen): the story, not nowhere.
        under = shown.get(parent, story.id) if isinstance(parent, str) else story.id
        shown[name] = under
        try:
            if flagged(node, "is_deleted", "is_moderated"):
                gone.append(f"{SOURCE}:{name}")
                continue
            item = _comment(node, under, story.id, base)
        except (KeyError, TypeError, ValueError) as exc:
            skipped.append(Skipped(name, entry_reason(exc), "comment"))
            continue
        items.append(item)
        shown[name] = item.id
    return Story(tuple(untangle(items, story.id)), tuple(gone), tuple(skipped))


def _etag(response: Any) -> str:
    return str({k.lower(): v for k, v in response.headers.items()}.get("etag") or "")


class LobstersSource:
    """Looks each of the post's URLs up, then fetches each story found.

    ``job.target`` is the post's URLs separated by spaces.  The cursor keeps
    the stories found (``stories``: a story found once is followed even if
    the lookup stops listing it; ``[]`` remembers a lookup that found
    nothing until the post is due again) and each answer's ``ETag``
    (``etags``), sent back as ``If-None-Match``: an unchanged story costs a
    304 and no parsing.
    """

    name = SOURCE

    def __init__(self, client: Client, cap: RequestCap, api_url: str = API_URL) -> None:
        self.client = client
        self.cap = cap
        self.api_url = api_url.rstrip("/")

    def _get(self, url: str, etag: str = "", params: Mapping[str, Any] | None = None) -> Any:
        self.cap.take()
        return self.client.get(url, params=params, etag=etag)

    def lookup(self, urls: list[str], etags: dict[str, str]) -> list[str] | None:
        """Short ids of the stories of ``urls``; None when the site has no
        lookup by URL (a 404: an older Lobsters)."""
        found: list[str] = []
        # The site matches every form of a URL: one lookup per page.
        for url in dict.fromkeys(u.rstrip("/") for u in urls):
            key = f"url:{url}"
            try:
                response = self._get(
                    f"{self.api_url}/stories/url/all.json", etags.get(key, ""), {"url": url}
                )
            except FetchError as exc:
                if exc.status == 404:
                    return None
                raise
            if response.not_modified:
                continue  # the stories it lists are in the cursor already
            try:
                found += [s for s in parse_stories(response.json()) if s not in found]
            except ValueError as exc:
                raise FetchError(response.url, str(exc)) from None
            if _etag(response):
                etags[key] = _etag(response)
        return found

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        known = [
            s for s in cursor.get("stories") or () if isinstance(s, str) and _SHORT_ID.match(s)
        ]
        old_etags = cursor.get("etags")
        etags = {
            k: v for k, v in (old_etags.items() if isinstance(old_etags, Mapping) else ()) if
            isinstance(k, str) and isinstance(v, str)
        }  # fmt: skip
        stories = list(known)
        items: list[Item] = []
        gone: list[str] = []
        withdrawn: list[str] = []  # stories answered 404
        skipped: list[Skipped] = []
        lookup = cursor.get("lookup", True) is not False

        def out() -> dict[str, Any]:
            state: dict[str, Any] = {"stories": stories, "etags": etags}
            if not lookup:
                state["lookup"] = False
            return state

        try:
            if lookup:
                found = self.lookup(job.target.split(" "), etags)
                if found is None:
                    lookup = False
                else:
                    stories += [s for s in found if s not in stories]
            for short in list(stories):
                url = f"{self.api_url}/s/{short}.json"
                try:
                    response = self._get(url, etags.get(short, ""))
                except FetchError as exc:
                    if exc.status != 404:
                        raise
                    # Deleted or removed: the site shows it to nobody now.
                    gone.append(f"{SOURCE}:{short}")
                    withdrawn.append(f"{SOURCE}:{short}")
                    stories.remove(short)
                    etags.pop(short, None)
                    continue
                if response.not_modified:
                    continue
                try:
                    story = parse_story(response.json(), self.api_url)
                except ValueError as exc:
                    raise FetchError(url, str(exc)) from None
                items += story.items
                gone += story.gone
                skipped += story.skipped
                if _etag(response):
                    etags[short] = _etag(response)
        except FetchError as exc:
            if not items and not withdrawn:
                raise
            # What came is kept.  A story the site answered 404 for left the
            # cursor: it is withdrawn even though a later request failed.
            return Result(tuple(items), out(), error=exc, gone=tuple(withdrawn))
        return Result(tuple(items), out(), gone=tuple(gone), skipped=tuple(skipped))


# -- The network's declaration (see sources/registry.py) ------------------------------

SETTING = "ENGAGE_LOBSTERS"
SETTING_KEYS = SITE_KEYS


def load_settings(settings: Mapping[str, Any]) -> SiteSettings:
    return load_site_settings(settings, SETTING, API_URL)


def _article_jobs(settings: SiteSettings, article: ArticleView) -> tuple[list[Job], list[Problem]]:
    """With the setting on, every post is looked up by its URLs."""
    return search_jobs(settings, article, SOURCE, SETTING, "stories")


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    settings: SiteSettings = setup.settings
    cap = RequestCap(SETTING, settings.max_requests)
    return {SOURCE: LobstersSource(setup.client, cap, api_url=settings.api_url)}


#: A story's page (``/s/<id>/<title>``), a comment on it (``#c_<id>``), a
#: comment's own link (``/c/<id>``): each names one item, never another.
_LINKS = (
    re.compile(r"^lobste\.rs/s/[a-z0-9]{1,10}(?:/[^#?]*)?#c_([a-z0-9]{1,10})$"),
    re.compile(r"^lobste\.rs/s/([a-z0-9]{1,10})(?:/[^#?]*)?$"),
    re.compile(r"^lobste\.rs/c/([a-z0-9]{1,10})$"),
)
_PROFILE = re.compile(r"^lobste\.rs/(?:~|u/)([A-Za-z0-9_-]+)$", re.IGNORECASE)


def _url_keys(plain: str) -> set[str]:
    for pattern in _LINKS:
        if match := pattern.match(plain):
            return {f"{SOURCE}:{match[1]}"}
    return set()


def _profile(plain: str) -> str | None:
    match = _PROFILE.match(plain)
    return match[1] if match else None


NETWORK = Network(
    name=SOURCE,
    display="Lobsters",
    # Its mark, 16x16 in currentColor: a rounded square with an "L" cut out of it.
    icon=(
        "M3 1h10a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H3a2 2 0 0 1-2-2V3a2 2 0 0 1 2-2z"
        "m2 3v8h6v-1.6H6.6V4z"
    ),
    discussion=True,
    setting=SETTING,
    setting_keys=SETTING_KEYS,
    setting_default=None,  # off; a dict (even {}) turns it on
    load_settings=load_settings,
    fetchers=_fetchers,
    article_jobs=_article_jobs,
    url_keys=_url_keys,
    profile=_profile,
)
