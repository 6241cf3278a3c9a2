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

#: A header line as people mistype it: indented, a list dash or a reST colon
#: first, a space before the colon, a label of words ("Your e-mail").
_LOOSE_META_LINE = re.compile(
    r"^\s*(?:[-*]\s+)?:?\**(?P<key>[A-Za-z][A-Za-z0-9_ -]{0,30}?)\**\s*:\**\s*(?P<value>.*)$"
)
#: An e-mail address, as people type one.  Bounded (RFC 5321's lengths), so a
#: stranger's 256 kB line without "@" is scanned in linear time.
_ADDRESS = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
#: Keys that make a block of "key: value" lines a comment's header.
COMMENT_KEYS = frozenset({"author", "date", "email"})
#: Keys a recovered header may hold; it ends after the last of them (or of a
#: key naming a mail address), so a first line of text such as "Update: it
#: works now." stays text.
HEADER_KEYS = COMMENT_KEYS | {
    "name", "url", "website", "web", "homepage", "replyto", "reply-to", "reply_to", "title",
    "subject", "message_id", "lang", "locale", "slug", "summary", "from", "contact",
}  # fmt: skip
#: Told when a header was recovered.
HEADER_SHOWN_AS_TEXT = (
    "its header is not in its format's form (a blank line before or inside it, a space "
    "before a colon, a Markdown header in another format, HTML lines as a mail client "
    "writes them), so readers show it as text; read as the header"
)
#: A date must have one to count: "Date: also wrong" is text.
_DIGIT = re.compile(r"\d")
#: Words of a label that may give an address (checked before parsing again).
_LABEL_WORDS = re.compile(r"(?i)mail|from|contact|reply|author|date")


def _key(raw: str) -> str:
    """A label as a key: "Your E-mail" -> "your-e-mail"."""
    return re.sub(r"\s+", "-", raw.strip().lower())


def _gives_address(key: str, strict: bool) -> bool:
    """Does a line of this key give the commenter's address?  ``strict`` (a
    file whose header was read): only a mail label, not a quoted "From:"."""
    return "mail" in key or key == "contact" or (not strict and key in ("from", "reply-to"))


def _header_lines(lines: list[str], strict: bool = False) -> tuple[dict[str, str], int]:
    """The header at the start of ``lines`` (blank ones skipped) and how many
    lines it spans: "key: value" lines up to the last with a header's key or
    giving an address (``strict``: up to the last giving an address).  A
    label alone on its line takes an address on the next one."""
    meta: dict[str, str] = {}
    seen: dict[str, str] = {}
    spans = 0
    index = 0
    while index < len(lines):
        line = lines[index].strip().lstrip("\ufeff")
        index += 1
        if not line:
            continue
        match = _LOOSE_META_LINE.match(line)
        if match is None:
            break
        key, value = _key(match["key"]), match["value"].strip()
        if " " in match["key"].strip() and key not in HEADER_KEYS and "mail" not in key:
            break  # words before a colon: text, not a label
        address = _gives_address(key, strict)
        if address and not value:
            following = next((i for i in range(index, len(lines)) if lines[i].strip()), None)
            if following is not None and _ADDRESS.search(lines[following]):
                value, index = lines[following].strip(), following + 1
        seen.setdefault(key, value)
        if (address and _ADDRESS.search(value)) or (not strict and key in HEADER_KEYS):
            meta.update(seen)
            spans = index
    return _normal(meta, strict), spans


def _normal(meta: dict[str, str], strict: bool) -> dict[str, str]:
    """``meta`` with the address given under another label ("E-mail:",
    "Author_Email:", "From: Ann <ann@...>", Outlook's "From: Ann
    [mailto:ann@...]") as ``email``, and that name as ``author``."""
    found = dict(meta)
    for key, value in meta.items():
        address = _ADDRESS.search(value) if _gives_address(key, strict) else None
        if address is None:
            continue
        found.setdefault("email", address[0])
        if key == "from":
            name = parseaddr(value)[0] or re.split(r"[<\[(]", value)[0]
            if name.strip(" \"'"):
                found.setdefault("author", name.strip(" \"'"))
    if found.get("name") and "author" not in found:
        found["author"] = found["name"]
    return found


def _names_address(meta: dict[str, str]) -> bool:
    return bool(_ADDRESS.search(meta.get("email", "")))


def _is_header(meta: dict[str, str], strict: bool) -> bool:
    """An address, or (a file without a header) two of author, date and
    e-mail, the date with a digit: "Date: also wrong" is text."""
    if _names_address(meta):
        return True
    named = {k for k in COMMENT_KEYS if meta.get(k) and (k != "date" or _DIGIT.search(meta[k]))}
    return not strict and len(named) >= 2


def header_shown_as_text(
    text: str, ext: str, meta: dict[str, str], body_html: str
) -> tuple[dict[str, str], str] | None:
    """The metadata and body HTML of a comment file (``text``, which its
    format's parser read as ``meta`` and ``body_html``) whose header its
    readers would show as text; None when it has none.

    With no author, date or e-mail read, the file's first lines may be the
    header (an address, or two of them).  With no e-mail read, the body's
    first lines may still give one (a blank line inside the header, a
    ``<meta name="Generator">`` of Word), and are taken out.  What the
    format read wins over what is recovered.
    """
    loose = COMMENT_KEYS.isdisjoint(meta)
    if loose:
        lines = text.lstrip("\ufeff \t\r\n").splitlines()
        found, spans = _header_lines(lines[: _block_end(lines)])
        if spans and _is_header(found, strict=False):
            rest = "\n".join(lines[spans:]).strip("\n")
            body = render_markdown(rest) if ext in MARKDOWN_EXTENSIONS else PARSERS[ext](rest)[1]
            return {**found, **meta}, body
    head = body_html[:4000]  # a header is at the start
    if "email" in meta or not (("@" in head or loose) and _LABEL_WORDS.search(head)):
        return None  # most comments: nothing to parse again
    recovered = header_in_markup(body_html, strict=not loose)
    return None if recovered is None else ({**recovered[0], **meta}, recovered[1])


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


def _reading(text: str, browser: bool, strict: bool) -> tuple[dict[str, str], int]:
    """The header at the start of ``text`` (see :func:`header_in_markup`)
    and the offset where it ends; ``browser``: source line breaks are spaces."""
    lines = text.replace("\n", " " if browser else _BREAK).split(_BREAK)
    meta, spans = _header_lines(lines, strict)
    return meta, sum(len(line) + 1 for line in lines[:spans])


def header_in_markup(html: str, strict: bool = False) -> tuple[dict[str, str], str] | None:
    """HTML whose first lines, as a browser shows them, are a comment's
    header: its metadata, and the HTML with those lines taken out.

    Read when the lines give an e-mail address, or (unless ``strict``) two
    of author, date and e-mail, so a first paragraph such as "Date: the
    12th suits me" stays.  A line break in the source counts both ways (a
    browser joins ``email:`` and the address on the next line; a header
    typed as text in a ``<div>`` has one per line): the reading that gives
    an address wins, then the one that takes out less.
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
            if node.name == "br":
                spans.append((node, at, at))
            shown.append(_BREAK)
            at += 1
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            piece = re.sub(r"[\r\x00]", " ", str(node))  # one for one: offsets stay
            spans.append((node, at, at + len(piece)))
            shown.append(piece)
            at += len(piece)
    text = "".join(shown)
    readings = [_reading(text, True, strict), _reading(text, False, strict)]
    qualifying = [(meta, end) for meta, end in readings if _is_header(meta, strict)]
    if not qualifying:
        return None
    # An address first; then the reading that takes out less of the text.
    meta, end = max(qualifying, key=lambda found: (_names_address(found[0]), -found[1]))
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
    if not root.get_text(strip=True) and not _names_address(meta):
        return None  # all of it would go: text such as "Name: ..., Date: ...", not a header
    return meta, root.decode_contents()
