"""Comments that came by e-mail, turned into comment files.

The "Reply" and "Leave a comment" links (:mod:`pelican_engage.reply_mail`)
put ``[engage <post key> <item id>]`` in the subject; a message that keeps
it becomes ``<PATH>/<comments>/<post key>/mail-<digest>.md`` with the
metadata pelican_comment_system used::

    author: Ann Reader                     (the From display name)
    date: 2026-02-01T10:00:00+01:00        (the Date header, in its zone)
    replyto: c1                            (from the tag; absent for a new comment)
    email: ann@reader.example              (only to recognise the author; never rendered)
    message_id: <abc@reader.example>       (makes importing twice a no-op)

Everything here is pure: :func:`parse_message` turns the bytes of one
message into a :class:`MailComment` or a :class:`Rejected` with the reason,
and :func:`comment_file` gives the file's name and text.  Reading mailboxes
and writing files is :mod:`pelican_engage.importers.mailboxes`.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime

from ..reply_mail import parse_tag

#: A message larger than this is not a comment (attachments, a forwarded thread).
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
#: The comment text itself, as local comment files allow.
MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class MailComment:
    """One message that becomes a comment file."""

    post_key: str
    #: The item answered (its id), or None for a comment on the post.
    in_reply_to: str | None
    author: str
    email: str
    date: datetime
    message_id: str
    body: str
    #: Where it was read ("inbox.mbox, message 3"), for the listing.
    origin: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    """A message that is listed, not imported."""

    origin: str
    reason: str
    subject: str = ""
    message_id: str = ""

    def __str__(self) -> str:
        subject = f" {self.subject!r}" if self.subject else ""
        return f"{self.origin}{subject}: {self.reason}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _one_line(value: str) -> str:
    """Header text as one metadata line: no line breaks can add fields."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _header(message: EmailMessage, name: str) -> str:
    """A header as one line of text; a header the stdlib refuses to parse
    (a line break encoded in a name, say) is decoded by hand."""
    try:
        value = message.get(name)
        return _one_line(str(value)) if value is not None else ""
    except (ValueError, TypeError, IndexError, LookupError):
        pass
    for key, raw in message.raw_items():
        if key.lower() == name.lower():
            try:
                return _one_line(str(make_header(decode_header(str(raw)))))
            except (ValueError, LookupError, UnicodeError):
                return _one_line(str(raw))
    return ""


_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|bounces?)\b", re.I)


def is_automatic(message: EmailMessage, sender: str) -> str:
    """Why the message looks sent by a machine (RFC 3834, bounces), or ""."""
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if _header(message, name):
            return name
    if _header(message, "Precedence").lower() in _AUTO_PRECEDENCE:
        return f"Precedence: {_header(message, 'Precedence').lower()}"
    if message.get_content_type() == "multipart/report":
        return "a delivery report"
    if _DAEMONS.match(sender.split("@", 1)[0]):
        return f"sent by {sender.split('@', 1)[0]}"
    return ""


# A quoted reply's attribution line, in the languages of the shipped catalogs.
_ATTRIBUTION = re.compile(
    r"^(On\b.*\bwrote:|Le\b.*\ba écrit\s?:|Am\b.*\bschrieb\b.*:|El\b.*\bescribió:"
    r"|Il\b.*\bha scritto:|Em\b.*\bescreveu:|Op\b.*\bschreef\b.*:)\s*$",
    re.I,
)
_FORWARD = re.compile(r"^-{2,}\s*(Original Message|Forwarded message|Message d'origine)", re.I)
_SENT_FROM = re.compile(r"^(Sent from my |Envoyé de mon |Von meinem .* gesendet)", re.I)
#: The body template of our mailto: links (render's macros), which the
#: reader may have left in place.
_TEMPLATE = re.compile(
    r"^(Your (comment on|reply to) .*\(https?://\S+\):"
    r"|Your (comment|reply) may be published with the name of your From line.*)\s*$"
)


def trim(text: str) -> str:
    """The reader's own words: quotes, their attribution, signatures and
    the link's body template removed; outer blank lines stripped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for line in lines:
        bare = line.rstrip()
        if bare == "--" or _FORWARD.match(bare) or _SENT_FROM.match(bare):
            break  # a signature or a forwarded message: the rest is not the comment
        if bare.startswith(">") or _ATTRIBUTION.match(bare.strip()):
            continue
        if _TEMPLATE.match(bare.strip()):
            continue
        kept.append(bare)
    return "\n".join(kept).strip() + "\n" if any(line.strip() for line in kept) else ""


def html_to_text(markup: str) -> str:
    """An HTML mail body as plain text, paragraphs kept, quotes dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(["script", "style", "head", "blockquote"]):
        tag.decompose()
    # Gmail and Apple Mail put the quoted message in these.
    for tag in soup.select(".gmail_quote, .gmail_signature, [type=cite]"):
        tag.decompose()
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(["p", "div", "li", "h1", "h2", "h3", "h4", "tr"]):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    text = soup.get_text()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.split("\n")))


def _body(message: EmailMessage) -> tuple[str, str]:
    """(text, problem): the text/plain part, or the HTML one as text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", "has no text part"
    try:
        content = part.get_content()
    except LookupError:
        charset = part.get_content_charset() or "?"
        raw = part.get_payload(decode=True)
        try:
            content = raw.decode("utf-8") if isinstance(raw, bytes) else ""
        except UnicodeDecodeError:
            return "", f"is in an unknown charset {charset!r}"
    except (ValueError, AssertionError) as exc:
        return "", f"has a body that cannot be decoded ({exc})"
    if not isinstance(content, str):
        return "", "has no text part"
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return content, ""


def _date(message: EmailMessage) -> datetime | None:
    raw = _header(message, "Date")
    try:
        when = parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError, IndexError, OverflowError):
        when = None
    return when if when is not None and when.tzinfo is not None else None


def _sender(message: EmailMessage) -> tuple[str, str]:
    """(display name, address) of From, decoded; a name's line breaks removed."""
    try:
        addresses = message["From"].addresses if message["From"] is not None else ()
    except (AttributeError, ValueError, TypeError, IndexError):
        addresses = ()
    if addresses:
        return _one_line(addresses[0].display_name), _one_line(addresses[0].addr_spec)
    raw = _header(message, "From")
    # "Name <address>" read plainly: parseaddr takes a colon in a name for
    # the start of a group and loses both.
    plain = re.fullmatch(r'"?(?P<name>[^<>]*?)"?\s*<(?P<address>[^<>\s]+@[^<>\s]+)>', raw)
    if plain:
        return _one_line(plain["name"]), plain["address"]
    name, address = parseaddr(raw)
    return _one_line(name), _one_line(address)


def message_key(raw: bytes, message_id: str) -> str:
    """The identity of a message: its Message-ID, or a digest of its bytes."""
    return message_id or f"<sha256-{hashlib.sha256(raw).hexdigest()[:32]}@pelican-engage>"


def parse_message(raw: bytes, origin: str, known_posts: frozenset[str]) -> MailComment | Rejected:
    """One message as a comment, or why it is not one."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return Rejected(origin, f"is larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MiB")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        subject = _header(message, "Subject")
        message_id = _header(message, "Message-ID")
    except Exception as exc:  # any broken message is listed, never fatal
        return Rejected(origin, f"cannot be read as a message ({type(exc).__name__})")
    assert isinstance(message, EmailMessage)
    identity = message_key(raw, message_id)

    def reject(reason: str) -> Rejected:
        return Rejected(origin, reason, subject, identity)

    tag = parse_tag(subject)
    if tag is None:
        return reject("has no [engage …] tag in its subject")
    key, item_id = tag
    name, address = _sender(message)
    why = is_automatic(message, address)
    if why:
        return reject(f"looks like an automatic reply or a bounce ({why})")
    if key not in known_posts:
        return reject(f"names post {key!r}, which is not on this site")
    when = _date(message)
    if when is None:
        return reject("has no readable Date header")
    text, problem = _body(message)
    if problem:
        return reject(problem)
    body = trim(text)
    if not body.strip():
        return reject("has no text once quotes and signature are removed")
    if len(body.encode()) > MAX_BODY_BYTES:
        return reject(f"has more than {MAX_BODY_BYTES // 1024} KiB of text")
    notes = []
    author = _one_line(name)
    if not author:
        author = "Anonymous"
        notes.append("no name in From; shown as 'Anonymous' (edit the file)")
    return MailComment(
        post_key=key,
        in_reply_to=item_id,
        author=author,
        email=_one_line(address),
        date=when,
        message_id=identity,
        body=body,
        origin=origin,
        notes=tuple(notes),
    )


def replyto_value(comment: MailComment) -> str:
    """``replyto`` for the file: a local comment's file stem, else the item id."""
    item = comment.in_reply_to
    if not item:
        return ""
    prefix = f"comment:{comment.post_key}/"
    return item.removeprefix(prefix) if item.startswith(prefix) else item


def file_name(comment: MailComment) -> str:
    digest = hashlib.sha256(comment.message_id.encode()).hexdigest()[:12]
    return f"mail-{comment.date.strftime('%Y%m%d')}-{digest}.md"


def comment_file(comment: MailComment) -> tuple[str, str]:
    """(file name, text) of the comment file."""
    fields = [
        ("author", comment.author),
        ("date", comment.date.isoformat()),
        ("replyto", replyto_value(comment)),
        ("email", comment.email),
        ("message_id", comment.message_id),
    ]
    header = "".join(f"{k}: {_one_line(v)}\n" for k, v in fields if v)
    return file_name(comment), f"{header}\n{comment.body}"
