"""Comment files whose header their format's readers would show as text.

A header with a blank line or a second byte-order mark before it, a space
before a colon, Markdown ``key: value`` lines in a reST or HTML file, or an
HTML file's first lines as a mail client or an editor writes them
(``<p>author: Ann<br>email: ann@example.org</p>``, a block per line, bold
labels, a ``mailto:`` link, a table) is not metadata to those readers:
shown as text, it would publish the commenter's e-mail address.  These
functions find such a header, so the caller reads it as one and says so.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Any

from .local_formats import MARKDOWN_EXTENSIONS, PARSERS, render_markdown

#: A header line as people mistype it: indented, a reST colon first, a space
#: before the colon.
_LOOSE_META_LINE = re.compile(r"^\s*:?(?P<key>[A-Za-z0-9_-]+)\s*:\s*(?P<value>.*)$")
#: Keys that make a block of "key: value" lines a comment's header.
COMMENT_KEYS = frozenset({"author", "date", "email"})
#: Keys a recovered header may hold; it ends after the last of them, so a
#: first line of text such as "Update: it works now." stays text.
HEADER_KEYS = COMMENT_KEYS | {
    "e-mail", "mail", "from", "name", "url", "website", "web", "homepage", "replyto",
    "reply-to", "reply_to", "title", "subject", "lang", "locale", "slug", "summary",
}  # fmt: skip
#: Told when a header was recovered.
HEADER_SHOWN_AS_TEXT = (
    "its header is not in its format's form (a blank line before or inside it, a space "
    "before a colon, a Markdown header in another format, HTML lines as a mail client "
    "writes them), so readers show it as text; read as the header"
)
#: Where a body may begin with an address in a header's form (checked before parsing).
_ADDRESS_LABEL = re.compile(r"(?i)\b(?:e-?mail|mail|from)\s*:")
_NAME_LABEL = re.compile(r"(?i)\b(?:author|date)\s*:")


def _header_lines(lines: list[str]) -> tuple[dict[str, str], int]:
    """The header at the start of ``lines`` (blank ones skipped) and how many
    lines it spans: "key: value" lines, up to the last whose key is a
    header's."""
    meta: dict[str, str] = {}
    seen: dict[str, str] = {}
    spans = 0
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        match = _LOOSE_META_LINE.match(line.lstrip("\ufeff"))
        if match is None:
            break
        key = match["key"].lower()
        seen.setdefault(key, match["value"].strip())
        if key in HEADER_KEYS:
            meta.update(seen)
            spans = index + 1
    return _normal(meta), spans


def _normal(meta: dict[str, str]) -> dict[str, str]:
    """``meta`` with the address of "E-mail:", "Mail:" or "From: Ann <ann@...>"
    as ``email`` (and that name as ``author``) when they are not given."""
    found = dict(meta)
    if found.get("name") and "author" not in found:
        found["author"] = found["name"]
    for key in ("e-mail", "mail", "from"):
        name, address = parseaddr(found.get(key, ""))
        if "@" in address:
            found.setdefault("email", address)
            if key == "from" and name:
                found.setdefault("author", name)
    return found


def _names_address(meta: dict[str, str]) -> bool:
    return "@" in meta.get("email", "")


def header_shown_as_text(
    text: str, ext: str, meta: dict[str, str], body_html: str
) -> tuple[dict[str, str], str] | None:
    """The metadata and body HTML of a comment file (``text``, which its
    format's parser read as ``meta`` and ``body_html``) whose header its
    readers would show as text; None when it has none.

    With no author, date or e-mail read, the file's first lines may be the
    header (two of them, or an address).  With no e-mail read, the body's
    first lines may still give one (a blank line inside the header, a
    ``<meta name="Generator">`` of Word), and are taken out.
    """
    if COMMENT_KEYS.isdisjoint(meta):
        lines = text.lstrip("\ufeff \t\r\n").splitlines()
        found, spans = _header_lines(lines[: _block_end(lines)])
        if spans and (_names_address(found) or len(COMMENT_KEYS.intersection(found)) >= 2):
            rest = "\n".join(lines[spans:]).strip("\n")
            body = render_markdown(rest) if ext in MARKDOWN_EXTENSIONS else PARSERS[ext](rest)[1]
            return {**meta, **found}, body
    loose = COMMENT_KEYS.isdisjoint(meta)
    if "email" in meta or not (
        _ADDRESS_LABEL.search(body_html) or (loose and _NAME_LABEL.search(body_html))
    ):
        return None  # most comments: nothing to parse again
    recovered = header_in_markup(body_html, strict=not loose)
    return None if recovered is None else ({**meta, **recovered[0]}, recovered[1])


def _block_end(lines: list[str]) -> int:
    """The first blank line's index (a text header is one block)."""
    return next((i for i, line in enumerate(lines) if not line.strip()), len(lines))


#: Elements that start a line of text in a browser (not td and th: a row's
#: "author:" | "Ann" is one line).
_LINE_BREAKS = frozenset((
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "tbody", "tr", "ul",
))  # fmt: skip
#: Their text is not shown.
_HIDDEN = ("head", "meta", "title", "style", "script", "template", "noscript")
#: Left in place when their text is taken out: they show something themselves.
_MEDIA = ("img", "picture", "video", "audio", "iframe", "svg", "object", "embed")


#: Where an element starts a line (a source line break is "\n").
_BREAK = "\x00"


def _reading(text: str, browser: bool) -> tuple[dict[str, str], int]:
    """The header at the start of ``text`` (see :func:`header_in_markup`)
    and the offset where it ends; ``browser``: source line breaks are spaces."""
    lines = text.replace("\n", " " if browser else _BREAK).split(_BREAK)
    meta, spans = _header_lines(lines)
    return meta, sum(len(line) + 1 for line in lines[:spans])


def header_in_markup(html: str, strict: bool = False) -> tuple[dict[str, str], str] | None:
    """HTML whose first lines, as a browser shows them, are a comment's
    header: its metadata, and the HTML with those lines taken out.

    Read when the lines give an e-mail address, or (unless ``strict``) two
    of author, date and e-mail, so a first paragraph such as "Date: the
    12th suits me" stays.  A line break in the source counts both ways (a
    browser joins ``email:`` and the address on the next line; a header
    typed as text in a ``<div>`` has one per line): the reading that gives
    an address wins.
    """
    from bs4 import BeautifulSoup, NavigableString, Tag
    from bs4.element import PreformattedString

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_HIDDEN):
        tag.decompose()
    shown: list[str] = []
    spans: list[tuple[Any, int, int]] = []  # text node or <br>, start, end in ``shown``
    at = 0
    for node in soup.descendants:
        if isinstance(node, Tag) and node.name in _LINE_BREAKS:
            spans.append((node, at, at)) if node.name == "br" else None
            shown.append(_BREAK)
            at += 1
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            piece = re.sub(r"[\r\x00]", " ", str(node))  # one for one: offsets stay
            spans.append((node, at, at + len(piece)))
            shown.append(piece)
            at += len(piece)
    text = "".join(shown)
    readings = [_reading(text, browser=True), _reading(text, browser=False)]
    qualifying = [
        (meta, end)
        for meta, end in readings
        if _names_address(meta) or (not strict and len(COMMENT_KEYS.intersection(meta)) >= 2)
    ]
    if not qualifying:
        return None
    meta, end = max(qualifying, key=lambda found: (_names_address(found[0]), len(found[0])))
    emptied = []
    for node, start, stop in spans:
        if stop <= end or (node.name == "br" and start < end):
            emptied.append(node.parent)
            node.extract()
        elif start < end:  # the line after the header starts inside this text
            node.replace_with(str(node)[end - start :])
    for parent in emptied:  # the header's own elements, now without text
        while isinstance(parent, Tag) and parent is not soup and parent.parent is not None:
            if parent.get_text(strip=True) or parent.find(_MEDIA) or parent.name in _MEDIA:
                break
            above = parent.parent
            parent.extract()
            parent = above
    root = soup.body or soup
    return meta, root.decode_contents()
