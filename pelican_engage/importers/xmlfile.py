"""Reading an export's XML as the tools that wrote it read it, and no further.

WordPress and Disqus exports come with small defects their own importers
accept: blank lines or a byte-order mark before ``<?xml`` (a plugin printed
whitespace during the export), and characters XML does not allow (a NUL in a
post meta value).  Those are repaired, and each repair is said; any other
damage (a truncated file) still refuses the whole file, so an import never
stops half-way.

The repairs are made on the bytes rather than by libxml2's ``recover`` mode:
measured, recovery drops the text around a bad character (``Nice\\x01
stones.`` came out as `` stones.``) and reads a truncated export as a short
one.  lxml then parses strictly, expands no entity and fetches nothing.
"""

from __future__ import annotations

import codecs
import re
import threading

from lxml import etree

from . import ImportFormatError

# Characters XML 1.0 never allows (C0 controls but tab, newline and carriage
# return; U+FFFE and U+FFFF), raw or as character references.  In UTF-8 and
# the ASCII-compatible encodings these bytes only stand for themselves.
_INVALID = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]"
    rb"|&#(?:0*(?:[0-8]|1[124-9]|2\d|3[01])|x0*(?:[0-8bcef]|1[0-9a-f]|fff[ef]));",
    re.IGNORECASE,
)
_BOM = b"\xef\xbb\xbf"


_DECLARED = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_bad_bytes = threading.local()


def _note_bad_bytes(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeDecodeError)
    _bad_bytes.found.append(exc.start)
    return "\ufffd", exc.end


codecs.register_error("engage-xml-bad-bytes", _note_bad_bytes)


def _utf8_repair(data: bytes, notes: list[str]) -> bytes:
    """A file that says (or defaults to) UTF-8 but holds bytes that are not:
    an export from a database with mixed encodings.  WordPress's importer
    reads it; each bad sequence becomes U+FFFD and the lines are said."""
    declared = _DECLARED.match(data)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return data
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    _bad_bytes.found = []
    text = data.decode("utf-8", "engage-xml-bad-bytes")
    found = _bad_bytes.found
    lines = sorted({data.count(b"\n", 0, at) + 1 for at in found})
    where = ", ".join(map(str, lines[:10])) + (" …" if len(lines) > 10 else "")
    notes.append(
        f"replaced {len(found)} byte sequence(s) that are not UTF-8 by U+FFFD on line(s) {where}"
    )
    return text.encode("utf-8")


def _wide(data: bytes) -> bool:
    """UTF-16 or UTF-32: bytes there are not characters; libxml2 reads them."""
    return data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00<" in data[:4] or b"<\x00" in data[:4]


def _describe(match: bytes) -> str:
    if match.startswith(b"&#"):
        return match.decode("ascii")
    return f"U+{ord(match.decode('utf-8')):04X}"


def _repair(data: bytes) -> tuple[bytes, list[str]]:
    notes: list[str] = []
    if _wide(data):
        return data, notes
    data = data.removeprefix(_BOM).lstrip(b" \t\r\n")
    data = _utf8_repair(data, notes)
    found = [(m.start(), m.group()) for m in _INVALID.finditer(data)]
    if found:
        lines = sorted({data.count(b"\n", 0, at) + 1 for at, _ in found})
        kinds = sorted({_describe(raw) for _, raw in found})
        where = ", ".join(map(str, lines[:10])) + (" …" if len(lines) > 10 else "")
        notes.append(
            f"removed {len(found)} character(s) not allowed in XML ({', '.join(kinds[:5])}) "
            f"on line(s) {where}"
        )
        data = _INVALID.sub(b"", data)
    return data, notes


def read_xml(data: bytes, name: str) -> tuple[etree._Element, tuple[str, ...]]:
    """The root element of an export, and a line for each repair made.

    Raises ImportFormatError naming ``name`` and the problem (with its line)
    when the file is not XML, or declares entities (an expansion bomb or an
    external file; exports never declare any).
    """
    data, notes = _repair(data)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ImportFormatError(f"{name}: malformed XML ({exc.msg})") from None
    if root is None:
        raise ImportFormatError(f"{name}: malformed XML (no root element)")
    dtd = root.getroottree().docinfo.internalDTD
    entities = [entity.name for entity in dtd.iterentities()] if dtd is not None else []
    if entities:
        raise ImportFormatError(
            f"{name}: malformed XML (declares the entity {entities[0]!r}: exports never do, "
            "and entities are neither expanded nor fetched)"
        )
    return root, tuple(notes)
