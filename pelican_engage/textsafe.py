"""Strangers' words in our reports: data, never markup or terminal control.

The report and the people table print names, excerpts and links that come
from anybody on the internet.  A terminal obeys control characters (U+009B
opens an escape sequence, as ESC ``[`` does), bidirectional overrides
(U+202E) make ``gnp.exe`` read as ``exe.png``, and Markdown turns ``)![x](``
inside a link into an image that loads when the report is viewed.  Every
human-facing format goes through these functions; JSON keeps the data as it
is, with those characters written as ``\\uXXXX`` escapes.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

#: C0 controls but tab and newline, DEL, C1 controls, and the bidirectional
#: embeddings, overrides, isolates and marks (Unicode's "Trojan Source" set).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: Markdown's punctuation, plus ``:`` so that GFM does not turn a stranger's
#: bare URL into a link (``www.`` gets its dot escaped).  An e-mail address
#: still becomes a ``mailto:`` link: GFM finds those after escapes, and one
#: shows the address it opens and loads nothing.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#|!~&:])|(?<=\bwww)(\.)", re.IGNORECASE)
#: Characters a link target keeps as they are; all else is percent-encoded,
#: so ``<``, ``>``, ``(``, ``)``, ``[``, ``]``, ``!``, ``|``, spaces and
#: backslashes can never end the target or start new Markdown.
_URL_SAFE = "/:@&=+$,;%?"
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?")


def printable(text: str) -> str:
    """``text`` without control characters and bidi controls (tab and
    newline are kept)."""
    return _CONTROLS.sub("", text)


def one_line(text: str) -> str:
    """``text`` printable, its whitespace runs as one space: for a table cell."""
    return " ".join(printable(text).split())


#: What makes a spreadsheet read a cell as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@")


def csv_cell(text: str) -> str:
    """``text`` for a CSV cell: one line, and never a formula.

    Comments are written by strangers; a cell starting with = + - @ is a
    formula to a spreadsheet, so it gets a leading "'".  Controls go first,
    so that none can hide the formula's first character.  The package's one
    CSV guard.
    """
    value = one_line(text)
    return "'" + value if value[:1] in _FORMULA_STARTS else value


def md_text(text: str) -> str:
    """Text as literal Markdown on one line: no emphasis, link, image, HTML,
    entity or table cell can start inside it."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m[0], one_line(text))


def safe_url(url: str) -> str:
    """An http(s) URL with every character outside a small safe set
    percent-encoded; ``""`` when it is not a plain http(s) URL."""
    parts = urlsplit(one_line(url).replace(" ", "%20"))
    if parts.scheme.lower() not in {"http", "https"} or not _HOST.fullmatch(parts.netloc):
        return ""
    return urlunsplit(
        (
            parts.scheme.lower(),
            parts.netloc,
            quote(parts.path, safe=_URL_SAFE),
            quote(parts.query, safe=_URL_SAFE),
            quote(parts.fragment, safe=_URL_SAFE),
        )
    )


def md_link(label: str, url: str) -> str:
    """A Markdown link whose target cannot break out; a URL that is not
    plain http(s) (or a relative one) is printed as escaped text."""
    target = safe_url(url)
    if not target:
        return f"{md_text(label)} {md_text(url)}".strip() if url else md_text(label)
    return f"[{md_text(label)}]({target})"


def _escape_controls(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def json_text(data: Any) -> str:
    """JSON with non-ASCII text kept readable, but control and bidi
    characters escaped: the values are unchanged, the bytes are inert."""
    return _CONTROLS.sub(_escape_controls, json.dumps(data, indent=2, ensure_ascii=False))
