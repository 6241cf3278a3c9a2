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
