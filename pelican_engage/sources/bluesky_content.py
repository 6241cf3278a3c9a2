"""Bluesky post content: text with facets, labels, media; pure functions.

Text is plain with UTF-8 byte-offset facets (links, mentions, tags);
labels on a post or its author say whether a logged-out reader may see it;
embedded pictures and videos are told by their alt text, never loaded.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from .. import sanitize
from ..deepjson import json_object
from ..sanitize import clean_text, paragraphs_html, safe_url

WEB = "https://bsky.app"
_DID = re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]{1,2048}$")
#: Labels that keep a post off a page read by logged-out people: the
#: author's own request (!no-unauthenticated), moderation (!hide, a
#: takedown), and adult content, which Bluesky never shows logged out.
WITHHOLD_LABELS = frozenset(
    {"!no-unauthenticated", "!hide", "!takedown", "!suspend", "porn", "sexual", "nudity"}
)
#: Labels that Bluesky shows behind a warning: so do we (a <details>).
WARN_LABELS = frozenset({"!warn", "graphic-media", "gore"})

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
        parts.append(sanitize.link_html(href, label))
        at = end
    parts.append(html.escape(data[at:].decode("utf-8"), quote=False))
    body = "".join(parts).strip()
    return paragraphs_html(body)


def labels(*views: Any) -> list[str]:
    """The label values in force on a post and its author.

    A label with ``neg`` true withdraws the same label (same source and
    value) given earlier.
    """
    active: dict[tuple[str, str], bool] = {}
    for view in views:
        found = view.get("labels") if isinstance(view, Mapping) else None
        for label in found if isinstance(found, list) else ():
            if isinstance(label, Mapping) and isinstance(label.get("val"), str):
                active[(str(label.get("src") or ""), label["val"])] = not label.get("neg")
    return sorted({val for (_src, val), on in active.items() if on})


def consent_extras(post: Mapping[str, Any]) -> dict[str, Any]:
    """``withheld`` (a reason) or ``warnings`` (label names) for a post view,
    from its labels and its author's."""
    author = json_object(post.get("author"))
    found = labels(post, author)
    withheld = [val for val in found if val in WITHHOLD_LABELS]
    if withheld:
        return {"withheld": withheld[0]}
    warnings = [val.lstrip("!") for val in found if val in WARN_LABELS]
    return {"warnings": warnings} if warnings else {}


def media_html(embed: Any, url: str) -> str:
    """Pictures, videos and link cards of a post as links, never loaded.

    Each picture or video is its alt text (or "[image]") linking to the
    post on bsky.app, so a reply that is only a picture still says what it
    shows; the package's one media helper (:func:`sanitize.media_html`)
    writes them as every network's.  ``embed`` is the post view's
    (``…#view``) or the record's.
    """
    if not isinstance(embed, Mapping):
        return ""
    kind = str(embed.get("$type") or "")
    if "recordWithMedia" in kind:
        return media_html(embed.get("media"), url)
    media: list[tuple[str, str, str]] = []
    card = ""
    if ".images" in kind:
        images = embed.get("images")
        for image in images if isinstance(images, list) else ():
            alt = str(image.get("alt") or "") if isinstance(image, Mapping) else ""
            media.append(("image", alt, url))
    elif ".video" in kind:
        media.append(("video", str(embed.get("alt") or ""), url))
    elif ".external" in kind:
        external = embed.get("external")
        if isinstance(external, Mapping):
            href = safe_url(str(external.get("uri") or ""))
            title = clean_text(str(external.get("title") or "")) or href
            if href:
                label = html.escape(title, quote=False)
                card = f'<p class="engage-media">{sanitize.link_html(href, label)}</p>'
    return sanitize.media_html(media) + card
