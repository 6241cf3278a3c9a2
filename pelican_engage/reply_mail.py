"""Replying by e-mail: ``mailto:`` links and the subject tag that files them.

pelican_comment_system's model, without its JavaScript: every "Reply" and
"Leave a comment" link is a plain ``mailto:`` URL (RFC 6068) whose subject
carries a tag naming the post and the item replied to::

    Re: My post [engage my-post]
    Re: My post [engage my-post comment:my-post/c3]

``pelican-engage import mail`` finds the tag again with :func:`parse_tag`,
so a reader's answer lands in the right place without anybody typing
metadata.  Keys and ids are written with ``%``-escapes for the few
characters that would break the tag (whitespace, ``[``, ``]``, ``%``).
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

#: Characters percent-encoded inside a tag: they would end or split it.
_TAG_UNSAFE = re.compile(r"[\s\[\]%]")
#: The tag, anywhere in a subject (mail clients prepend "Re:", "AW:", ...).
_TAG = re.compile(r"\[engage\s+(?P<key>[^\s\[\]]+)(?:\s+(?P<item>[^\s\[\]]+))?\s*\]")
#: Characters that RFC 6068 lets stand as they are in an address; the rest
#: of an addr-spec is percent-encoded.
_ADDRESS_SAFE = "@!$'*+-.^_`{|}~"


def _escape(value: str) -> str:
    return _TAG_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), value)


def tag(post_key: str, item_id: str | None = None) -> str:
    """``[engage <post key>]`` or ``[engage <post key> <item id>]``."""
    parts = [_escape(post_key)]
    if item_id:
        parts.append(_escape(item_id))
    return f"[engage {' '.join(parts)}]"


def parse_tag(subject: str) -> tuple[str, str | None] | None:
    """(post key, item id or None) from a subject holding a tag, else None.

    The last tag wins: a reply to a reply may quote the earlier subject.
    """
    found = list(_TAG.finditer(subject or ""))
    if not found:
        return None
    match = found[-1]
    item = match["item"]
    return unquote(match["key"]), unquote(item) if item else None


def mailto(address: str, subject: str, body: str = "") -> str:
    """A ``mailto:`` URL (RFC 6068) with the subject and body percent-encoded.

    Text is encoded as UTF-8, spaces as ``%20`` (never ``+``, which mail
    clients keep literally) and line breaks as ``%0D%0A``, as section 5 of
    the RFC asks.  The result is a URL, not HTML: escape it in an attribute.
    """
    fields = [f"subject={quote(subject, safe='')}"]
    if body:
        crlf = body.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
        fields.append(f"body={quote(crlf, safe='')}")
    return f"mailto:{quote(address.strip(), safe=_ADDRESS_SAFE)}?{'&'.join(fields)}"


_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+")


def valid_address(value: object) -> bool:
    """A plain ``user@host.tld`` address (no display name, no list)."""
    return isinstance(value, str) and bool(_ADDRESS.fullmatch(value.strip()))
