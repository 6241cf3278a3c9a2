"""X's tweets on their own: references, URLs and text.

A ``tweet:`` value becomes a tweet id; a tweet's text with its entities
becomes safe HTML.  Pure functions, shared by the API source and the
archive importer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from ..deepjson import json_object
from ..sanitize import link_html, paragraphs_html, safe_url

SOURCE = "twitter"
WEB = "https://x.com"
_TWITTER_EPOCH_MS = 1288834974657

_STATUS_URL = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/"
    r"(?:i(?:/web)?|(?P<user>[A-Za-z0-9_]{1,15}))/status(?:es)?/(?P<id>\d{1,20})(?:[/?#].*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TweetRef:
    id: str
    username: str = ""

    @property
    def item_id(self) -> str:
        return f"twitter:{self.id}"

    @property
    def url(self) -> str:
        return tweet_url(self.id, self.username)


def parse_tweet_ref(value: str) -> TweetRef:
    """A tweet id from a twitter.com or x.com status URL or a bare id."""
    value = value.strip()
    if value.isdigit() and len(value) <= 20:
        return TweetRef(value)
    match = _STATUS_URL.match(value)
    if not match:
        raise ValueError(
            f"{value!r} is not a tweet (expected https://x.com/user/status/123 or a tweet id)"
        )
    return TweetRef(match["id"], match["user"] or "")


def tweet_url(tweet_id: str, username: str = "") -> str:
    return f"{WEB}/{username}/status/{tweet_id}" if username else f"{WEB}/i/web/status/{tweet_id}"


def reply_intent(tweet_id: str) -> str:
    """Opens X's composer as a reply to the tweet."""
    return f"{WEB}/intent/tweet?in_reply_to={tweet_id}"


def tweet_time(tweet_id: str) -> datetime | None:
    """When a tweet was posted, from its snowflake id (ids since late 2010)."""
    try:
        ms = (int(tweet_id) >> 22) + _TWITTER_EPOCH_MS
    except ValueError:
        return None
    return datetime.fromtimestamp(ms / 1000, timezone.utc) if int(tweet_id) >> 22 else None


#: A JSON object or {} (answers are untrusted); the package's one helper.
_dict = json_object


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class _Link:
    token: str  # what the entity covers in the text, e.g. "https://t.co/x" or "@ann"
    start: int
    href: str
    label: str


def _indices(entity: Mapping[str, Any]) -> int:
    """The start offset of a v2 (start/end) or v1.1/archive (indices) entity."""
    if "start" in entity:
        return int(entity["start"])
    indices = entity.get("indices") or [0, 0]
    return int(indices[0])


def _entities(entities: Mapping[str, Any], *kinds: str) -> list[Mapping[str, Any]]:
    return [e for kind in kinds for e in _list(entities.get(kind)) if isinstance(e, Mapping)]


def _link(entity: Mapping[str, Any], drop_media: bool = False) -> _Link | None:
    start = _indices(entity)
    if drop_media and entity.get("media_key") and entity.get("url"):
        # The t.co link of an attached picture: the picture is shown as its
        # own link (with its alt text), so the token is left out.
        return _Link(str(entity["url"]), start, "", "")
    if "url" in entity:
        token = str(entity.get("url") or "")
        href = safe_url(str(entity.get("expanded_url") or "")) or safe_url(token)
        label = str(entity.get("display_url") or entity.get("expanded_url") or token)
        return _Link(token, start, href, label) if token and href else None
    name = str(entity.get("username") or entity.get("screen_name") or "")
    if name:
        ok = re.fullmatch(r"\w{1,15}", name, re.ASCII)
        return _Link(f"@{name}", start, f"{WEB}/{name}", f"@{name}") if ok else None
    tag = str(entity.get("tag") or entity.get("text") or "")
    if tag and not any(ch.isspace() for ch in tag):
        return _Link(f"#{tag}", start, f"{WEB}/hashtag/{quote(tag)}", f"#{tag}")
    return None


def _links(entities: Mapping[str, Any], drop_media: bool = False) -> list[_Link]:
    links = []
    for entity in _entities(entities, "urls", "media", "mentions", "user_mentions", "hashtags"):
        try:
            link = _link(entity, drop_media)
        except (TypeError, ValueError, IndexError):
            continue  # a malformed entity leaves its text as text
        if link:
            links.append(link)
    return links


def _place(text: str, link: _Link, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Where the entity's token really is in ``text``.

    X documents offsets in code points of the text as delivered, HTML
    entities included, but copies that were unescaped somewhere on the way
    shift them.  The offset is used when the token is there; otherwise the
    token is looked up nearest to it, and never inside another link.
    """
    size = len(link.token)

    def free(start: int) -> bool:
        return all(start + size <= a or start >= b for a, b in taken)

    # "@ann" must not link the start of "@annabel".
    pattern = re.compile(re.escape(link.token) + (r"(?!\w)" if link.token[0] in "@#" else ""), re.I)
    if pattern.match(text, link.start) and free(link.start):
        return link.start, link.start + size
    found = [m.start() for m in pattern.finditer(text) if free(m.start())]
    if not found:
        return None
    start = min(found, key=lambda s: abs(s - link.start))
    return start, start + size


def tweet_html(
    text: str, entities: Mapping[str, Any] | None = None, drop_media: bool = False
) -> str:
    """Safe HTML of a tweet's text: escaped once, links from the entities.

    Tweet text is plain text in which X already escaped ``& < >``.  Each
    plain segment is unescaped once and escaped once, so ``&amp;`` shows as
    "&" (never "&amp;amp;") and ``&lt;script&gt;`` stays text.  t.co links
    become their expanded URL with the display URL as text; @mentions and
    hashtags link to X.  With ``drop_media`` the t.co links of attached
    media are left out (the caller shows the media).
    """
    spans: list[tuple[int, int, _Link]] = []
    taken: list[tuple[int, int]] = []
    for link in sorted(_links(entities or {}, drop_media), key=lambda k: k.start):
        place = _place(text, link, taken)
        if place:
            taken.append(place)
            spans.append((*place, link))
    spans.sort(key=lambda span: span[0])
    parts, at = [], 0
    for start, end, link in spans:
        parts.append(html.escape(html.unescape(text[at:start]), quote=False))
        if link.href:
            label = html.escape(html.unescape(link.label))
            parts.append(link_html(link.href, label))
        at = end
    parts.append(html.escape(html.unescape(text[at:]), quote=False))
    body = "".join(parts).strip()
    return paragraphs_html(body)
