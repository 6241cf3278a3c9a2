"""Answering an item: the pure parts (where, how long, what is written).

No I/O here: :mod:`pelican_engage.publish` sends, :mod:`pelican_engage.cli_reply`
reads the site and writes files.  Lengths are counted the way each network
counts them, so a reply is refused here rather than by the server:

- Bluesky: 300 grapheme clusters (``graphemeu``, the maintained ``grapheme``
  fork, follows the current Unicode segmentation rules);
- X: 280 weighted characters per twitter-text (CJK count 2, every URL 23),
  computed by ``twitter-text-parser``, the Python port of twitter-text 3;
- Mastodon: 500 characters, or the server's
  ``configuration.statuses.max_characters``; Mastodon counts every URL as 23.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from .identity import bare_handle
from .model import Item

#: How each item's source is answered.
COMMENT_SOURCES = frozenset({"local", "wordpress", "disqus"})
NETWORK_SOURCES = frozenset({"mastodon", "bluesky", "twitter"})
ELSEWHERE_SOURCES = frozenset({"webmention", "feed"})
#: Kinds one can answer (likes and reposts say nothing to answer).
ANSWERABLE = frozenset({"comment", "reply", "quote", "mention"})

BLUESKY_LIMIT = 300
TWITTER_LIMIT = 280
MASTODON_LIMIT = 500
#: Mastodon counts a link as this many characters, whatever its length.
MASTODON_URL_LENGTH = 23

#: X's pay-per-use price of one post (docs.x.com/x-api/getting-started/pricing,
#: "Content: Create"; a post with a URL costs more).  US dollars.
X_COST = 0.015
X_COST_WITH_URL = 0.200

_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def how(item: Item) -> str:
    """``"comment"`` (a file on the site), the network's name, or ``"elsewhere"``."""
    if item.source in COMMENT_SOURCES:
        return "comment"
    if item.source in NETWORK_SOURCES:
        return item.source
    return "elsewhere"


def _urls(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the http(s) links in ``text``,
    without the punctuation that ends a sentence."""
    spans = []
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _TRAILING:
            # A closing bracket that belongs to the URL stays (Wikipedia links).
            if text[end - 1] == ")" and text[start:end].count("(") >= text[start:end].count(")"):
                break
            end -= 1
        spans.append((start, end))
    return spans


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters)."""
    import grapheme

    return int(grapheme.length(text))


def x_weighted_length(text: str) -> int:
    """The length X counts: twitter-text 3 weights, URLs as 23."""
    with warnings.catch_warnings():
        # twitter-text-parser imports the deprecated pkg_resources (setuptools<82, see
        # setup.cfg): a warning its user can do nothing about.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from twitter_text import parse_tweet

    return int(parse_tweet(text).weightedLength)


def mastodon_length(text: str) -> int:
    """Characters as Mastodon counts them: code points, each URL as 23."""
    spans = _urls(text)
    return len(text) - sum(end - start for start, end in spans) + MASTODON_URL_LENGTH * len(spans)


@dataclass(frozen=True)
class Length:
    used: int
    limit: int
    unit: str

    @property
    def fits(self) -> bool:
        return self.used <= self.limit

    def __str__(self) -> str:
        return f"{self.used} of {self.limit} {self.unit}"


def length(network: str, text: str, mastodon_limit: int = MASTODON_LIMIT) -> Length | None:
    """How long ``text`` is for ``network``; None where nothing limits it."""
    if network == "bluesky":
        return Length(graphemes(text), BLUESKY_LIMIT, "characters (graphemes)")
    if network == "twitter":
        return Length(x_weighted_length(text), TWITTER_LIMIT, "weighted characters")
    if network == "mastodon":
        return Length(mastodon_length(text), mastodon_limit, "characters")
    return None


def x_cost(text: str) -> float:
    """What posting ``text`` costs on X's pay-per-use plan, in US dollars."""
    return X_COST_WITH_URL if _urls(text) else X_COST


def x_intent_url(tweet_id: str, text: str = "") -> str:
    """The page where a logged-in X user answers ``tweet_id`` by hand."""
    url = f"https://x.com/intent/post?in_reply_to={quote(tweet_id, safe='')}"
    return url + (f"&text={quote(text, safe='')}" if text else "")


_MENTION = re.compile(r"(?:^|(?<=[\s(]))@([a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?\.[a-zA-Z]+)")


def _byte(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def bluesky_facets(text: str, resolve: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """Link and mention facets of ``text``, indexed in UTF-8 bytes.

    ``resolve`` maps a handle to its DID (None when unknown: the text
    stays, without a mention facet, as the Bluesky app does).
    """
    facets: list[dict[str, Any]] = []
    for start, end in _urls(text):
        facets.append(
            {
                "index": {"byteStart": _byte(text, start), "byteEnd": _byte(text, end)},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": text[start:end]}],
            }
        )
    for match in _MENTION.finditer(text):
        did = resolve(match[1])
        if did:
            start, end = match.span()
            facets.append(
                {
                    "index": {"byteStart": _byte(text, start), "byteEnd": _byte(text, end)},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
                }
            )
    return sorted(facets, key=lambda f: f["index"]["byteStart"])


def mastodon_text(text: str, handle: str) -> str:
    """``text`` starting with ``@handle``, as Mastodon's own reply box does,
    so the person is notified; unchanged when it mentions them already."""
    handle = bare_handle(handle)
    if not handle:
        return text
    wanted = f"@{handle}".casefold()
    short = f"@{handle.split('@', 1)[0]}".casefold()
    words = [w.casefold().rstrip(_TRAILING) for w in text.split()]
    if wanted in words or (short in words and "@" not in handle):
        return text
    return f"@{handle} {text}"


_UNSAFE_STEM = re.compile(r"[^A-Za-z0-9_-]+")


def comment_stem(when: datetime, taken: set[str]) -> str:
    """A file stem for the author's comment: ``reply-20261130-0125``, with a
    number added when that is taken (``taken``: stems in the folder)."""
    base = "reply-" + when.strftime("%Y%m%d-%H%M%S")
    stem, n = base, 2
    while stem.casefold() in {t.casefold() for t in taken}:
        stem, n = f"{base}-{n}", n + 1
    return stem


def replyto_value(item: Item) -> str:
    """What the comment file's ``replyto`` says: a local comment's file stem
    (pelican_comment_system's form), any other item's full id."""
    prefix = "comment:"
    if item.source == "local" and item.id.startswith(prefix):
        return item.id[len(prefix) :].split("/", 1)[1]
    return item.id


def comment_file(author: str, when: datetime, item: Item, text: str) -> str:
    """The Markdown comment file of the author's answer to ``item``."""
    one_line = " ".join(author.split())
    return (
        f"author: {one_line}\n"
        f"date: {when.replace(microsecond=0).isoformat()}\n"
        f"replyto: {replyto_value(item)}\n"
        f"\n{text.strip()}\n"
    )


SCISSORS = "# ------------------------ >8 ------------------------"


def editor_template(item: Item, context: str) -> str:
    """What the editor opens with: room for the reply, then the item quoted
    below a scissors line (everything below it is dropped)."""
    return (
        f"\n\n{SCISSORS}\n# Write your reply above this line; everything below it is "
        "ignored.\n# An empty reply cancels.\n#\n"
        + "".join(f"# {line}\n" for line in context.splitlines())
    )


def from_editor(text: str) -> str:
    """The reply written in the editor: the text above the scissors line."""
    return text.split(SCISSORS, 1)[0].strip()


def mastodon_limit(instance: Mapping[str, Any]) -> int:
    """``configuration.statuses.max_characters`` of an ``/api/v2/instance``
    answer, or 500 when it does not say."""
    conf = instance.get("configuration") if isinstance(instance, Mapping) else None
    statuses = conf.get("statuses") if isinstance(conf, Mapping) else None
    value = statuses.get("max_characters") if isinstance(statuses, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 500
