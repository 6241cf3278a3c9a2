"""The formats of local comment files: Markdown (cmark-gfm, with the
metadata header of Python-Markdown's ``meta`` extension, which
pelican_comment_system's files have), reStructuredText and HTML, each
parsed to ``(metadata, body HTML)`` without trusting the file (no reST
includes or raw HTML, no configuration read).  The body is sanitised by
the caller (:func:`pelican_engage.sources.local.parse_comment`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from ..nesting import limit_markdown_quotes

MARKDOWN_EXTENSIONS = ("md", "markdown", "mkd", "mdown")
#: Other formats, parsed here rather than by Pelican's readers, which trust
#: their input like an article's (reST includes, a title required...).
OTHER_FORMATS = ("rst", "html", "htm")

# Raw HTML is passed on because nh3 sanitises the result anyway; autolink
# and strikethrough are what commenters expect from GitHub-style Markdown.
_CMARK_EXTENSIONS = ["autolink", "strikethrough"]


def render_markdown(text: str) -> str:
    """CommonMark (cmark-gfm) to HTML: about 30 times faster than
    Python-Markdown, which matters with ten thousand comments."""
    # Imported here: a build whose threads are all cached parses no comment.
    import cmarkgfm
    from cmarkgfm.cmark import Options

    return cmarkgfm.markdown_to_html_with_extensions(
        limit_markdown_quotes(text),
        options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_VALIDATE_UTF8,
        extensions=_CMARK_EXTENSIONS,
    )


_META_LINE = re.compile(r"^[ ]{0,3}(?P<key>[A-Za-z0-9_-]+):\s*(?P<value>.*)$")
_META_MORE = re.compile(r"^[ ]{4,}(?P<value>.*)$")


def parse_metadata_header(text: str) -> tuple[dict[str, str], str]:
    """Split Markdown-reader metadata ("Key: value" lines) from the body.

    Follows Python-Markdown's ``meta`` extension, which Pelican uses: an
    optional ``---`` line first, indented continuation lines, and the
    header ends at the first blank line or ``---``/``...``.
    """
    lines = text.splitlines()
    meta: dict[str, str] = {}
    index = 0
    if lines and lines[0].strip() == "---":
        index = 1
    key = None
    while index < len(lines):
        line = lines[index]
        if not line.strip() or (index and line.strip() in {"---", "..."}):
            index += 1
            break
        match = _META_LINE.match(line)
        if match:
            key = match["key"].lower()
            meta[key] = match["value"].strip()
        elif key and _META_MORE.match(line):
            meta[key] = f"{meta[key]} {line.strip()}".strip()
        else:
            break
        index += 1
    return meta, "\n".join(lines[index:])


#: A header line as people mistype it: indented, a reST colon first, a space
#: before the colon.
_LOOSE_META_LINE = re.compile(r"^\s*:?(?P<key>[A-Za-z0-9_-]+)\s*:\s*(?P<value>.*)$")
#: Keys that make a block of "key: value" lines a comment's header.
COMMENT_KEYS = frozenset({"author", "date", "email"})
#: Told when :func:`header_shown_as_text` read one.
HEADER_SHOWN_AS_TEXT = (
    "its header is not in its format's form (a blank line first, a space before a colon, "
    "a Markdown header in another format), so readers show it as text; read as the header"
)


def _loose_header(text: str) -> tuple[dict[str, str], str]:
    """ "key: value" lines after leading blank lines and byte-order marks, up
    to a blank line, and the text after them."""
    lines = text.lstrip("\ufeff \t\r\n").splitlines()
    meta: dict[str, str] = {}
    body_start = len(lines)
    for index, line in enumerate(lines):
        match = _LOOSE_META_LINE.match(line.lstrip("\ufeff"))
        if not line.strip() or match is None:
            body_start = index
            break
        meta[match["key"].lower()] = match["value"].strip()
    return meta, "\n".join(lines[body_start:]).strip("\n")


def header_shown_as_text(text: str, ext: str) -> tuple[dict[str, str], str] | None:
    """The metadata and body HTML of a comment file in which its format's
    parser found no metadata, when its first lines are a header all the same:
    "key: value" lines naming the author, the date or the e-mail.  Shown as
    text they would publish the commenter's e-mail address.  None otherwise.
    """
    meta, rest = _loose_header(text)
    if COMMENT_KEYS.isdisjoint(meta):
        return _header_in_markup(text) if ext in ("html", "htm") else None
    body = render_markdown(rest) if ext in MARKDOWN_EXTENSIONS else PARSERS[ext](rest)[1]
    return meta, body


#: Elements that start a line of text in a browser (not td and th: a row's
#: "author:" | "Ann" is one line).
_LINE_BREAKS = frozenset((
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "tbody", "tr", "ul",
))  # fmt: skip
#: Left in place when their text is taken out: they show something themselves.
_MEDIA = ("img", "picture", "video", "audio", "iframe", "svg", "object", "embed")


def _header_in_markup(text: str) -> tuple[dict[str, str], str] | None:
    """An HTML comment whose first lines, as a browser shows them, are its
    header (``<p>author: Ann<br>email: ann@example.org</p>``, one block per
    line, bold labels, a mailto link: as a mail client or an editor writes
    it): its metadata, and the body with those lines taken out.

    Read only when the lines name an e-mail address, or two of author, date
    and e-mail, so a first paragraph such as "Date: the 12th suits me" stays.
    """
    from bs4 import BeautifulSoup, NavigableString, Tag
    from bs4.element import PreformattedString

    soup = BeautifulSoup(text, "html.parser")
    for tag in soup.find_all(["head", "meta", "title"]):
        tag.decompose()
    shown: list[str] = []
    spans: list[tuple[Any, int, int]] = []  # text node or <br>, start, end in ``shown``
    at = 0
    for node in soup.descendants:
        if isinstance(node, Tag) and node.name in _LINE_BREAKS:
            spans.append((node, at, at)) if node.name == "br" else None
            shown.append("\n")
            at += 1
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            piece = str(node)  # its own line breaks too: a header typed as text
            spans.append((node, at, at + len(piece)))
            shown.append(piece)
            at += len(piece)
    lines = "".join(shown).split("\n")
    meta: dict[str, str] = {}
    end = 0
    for line in lines:
        if line.strip():
            match = _LOOSE_META_LINE.match(line.strip())
            if match is None:
                break
            meta[match["key"].lower()] = match["value"].strip()
        end += len(line) + 1
    named = COMMENT_KEYS.intersection(meta)
    if not ("@" in meta.get("email", "") or len(named) >= 2):
        return None
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


def parse_markdown(text: str) -> tuple[dict[str, str], str]:
    """A Markdown comment's metadata (the meta extension's header) and its
    body as HTML."""
    meta, body = parse_metadata_header(text)
    return meta, render_markdown(body)


_RST_FIELD = re.compile(r"^:(?P<key>[A-Za-z][\w-]*):\s*(?P<value>.*)$")
_RST_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1*\s*$")


def parse_rst(text: str) -> tuple[dict[str, str], str]:
    """A reStructuredText comment: optional title, ``:field:`` metadata, body.

    Runs docutils with file inclusion, ``raw`` and configuration files off:
    a comment is a stranger's text, and must not pull anything from the
    build machine.  The title stays in the body (it becomes bold text).
    """
    from docutils.core import publish_parts
    from docutils.writers.html5_polyglot import Writer

    lines = text.splitlines()
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    # Skip an overlined or underlined title; it is kept as body text.
    body_start = start

    def underlines(title: int, line: int) -> bool:
        return bool(_RST_ADORNMENT.match(lines[line])) and len(lines[line].strip()) >= len(
            lines[title].strip()
        )

    if (
        start + 2 < len(lines)
        and _RST_ADORNMENT.match(lines[start])
        and underlines(start + 1, start + 2)
    ):
        body_start = start + 3
    elif (
        start + 1 < len(lines) and lines[start].strip()[:1] != ":" and underlines(start, start + 1)
    ):
        body_start = start + 2
    meta: dict[str, str] = {}
    index = body_start
    while index < len(lines) and not lines[index].strip():
        index += 1
    while index < len(lines) and (match := _RST_FIELD.match(lines[index])):
        meta[match["key"].lower()] = match["value"].strip()
        index += 1
    source = "\n".join([*lines[start:body_start], "", *lines[index:]])
    parts = publish_parts(
        source=source,
        writer=Writer(),
        settings_overrides={
            "file_insertion_enabled": False,
            "raw_enabled": False,
            "_disable_config": True,
            "doctitle_xform": False,
            "halt_level": 5,
            "report_level": 5,
            "warning_stream": io.StringIO(),
            "input_encoding": "unicode",
        },
    )
    return meta, parts["body"]


def parse_html(text: str) -> tuple[dict[str, str], str]:
    """An HTML comment: ``<meta name=... content=...>`` metadata and the body."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    meta = {
        str(tag["name"]).lower(): str(tag.get("content", ""))
        for tag in soup.find_all("meta")
        if tag.get("name")
    }
    for tag in soup.find_all(["head", "meta", "title"]):
        tag.decompose()
    body = soup.body.decode_contents() if soup.body else str(soup)
    return meta, body


PARSERS: dict[str, Callable[[str], tuple[dict[str, str], str]]] = {
    **dict.fromkeys(MARKDOWN_EXTENSIONS, parse_markdown),
    "rst": parse_rst,
    "html": parse_html,
    "htm": parse_html,
}
