"""Reading mailboxes (mbox, Maildir, IMAP) and writing comment files from them.

``pelican-engage import mail SOURCE``: SOURCE is an mbox file, a Maildir
folder, or ``imaps://user@host[:port]/Folder`` with the password in the
environment variable ``ENGAGE_IMAP_PASSWORD`` (never in a settings file).
The server's folder is opened read-only: nothing is marked, moved or
deleted there.  Plain ``imap://`` is accepted for loopback hosts only, so a
password never crosses a network in clear.

Each message is parsed by :mod:`pelican_engage.importers.mail`; comment
files are written atomically, and a message whose Message-ID a file of its
post already carries is not written again.
"""

from __future__ import annotations

import contextlib
import imaplib
import ipaddress
import mailbox
import os
import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..atomic import atomic_write
from ..engine import Engine, post_key
from .mail import MailComment, Rejected, comment_file, parse_message, replyto_value

PASSWORD_ENV = "ENGAGE_IMAP_PASSWORD"
IMAP_TIMEOUT = 30.0


class MailSourceError(Exception):
    """The source cannot be read at all: the CLI exits with status 2."""


@dataclass(frozen=True)
class ImapSource:
    """``imaps://user@host:port/Folder``, parsed."""

    secure: bool
    user: str
    host: str
    port: int
    folder: str

    @property
    def label(self) -> str:
        scheme = "imaps" if self.secure else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_imap_url(url: str) -> ImapSource:
    parts = urlsplit(url)
    if parts.scheme not in {"imaps", "imap"} or not parts.hostname or not parts.username:
        raise MailSourceError(f"{url}: expected imaps://user@host/Folder")
    if parts.password is not None:
        raise MailSourceError(
            f"{parts.scheme}://{parts.username}@{parts.hostname}: no password in the URL; "
            f"put it in ${PASSWORD_ENV}"
        )
    if parts.scheme == "imap" and not _loopback(parts.hostname):
        raise MailSourceError(
            f"imap://{parts.hostname}: plain IMAP would send the password in clear; use imaps://"
        )
    try:
        port = parts.port or (993 if parts.scheme == "imaps" else 143)
    except ValueError:
        raise MailSourceError(f"{url}: bad port") from None
    return ImapSource(
        secure=parts.scheme == "imaps",
        user=unquote(parts.username),
        host=parts.hostname,
        port=port,
        folder=unquote(parts.path.strip("/")) or "INBOX",
    )


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_imap(source: ImapSource, password: str) -> Iterator[tuple[str, bytes]]:
    """Every message of the folder, read-only (``BODY.PEEK``), by UID."""

    def fail(what: str, exc: BaseException) -> MailSourceError:
        text = str(exc).replace(password, "***") if password else str(exc)
        return MailSourceError(f"{source.label}: {what} ({text or type(exc).__name__})")

    try:
        if source.secure:
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                source.host,
                source.port,
                ssl_context=ssl.create_default_context(),
                timeout=IMAP_TIMEOUT,
            )
        else:
            client = imaplib.IMAP4(source.host, source.port, timeout=IMAP_TIMEOUT)
    except (OSError, ssl.SSLError, imaplib.IMAP4.error) as exc:
        raise fail("cannot connect", exc) from None
    try:
        try:
            client.login(source.user, password)
        except imaplib.IMAP4.error as exc:
            raise fail("login refused", exc) from None
        status, data = client.select(_quoted(source.folder), readonly=True)
        if status != "OK":
            raise MailSourceError(f"{source.label}: no such folder ({data[0]!r})")
        status, data = client.uid("SEARCH", "ALL")
        uids = (data[0] or b"").split() if status == "OK" else []
        for uid in uids:
            status, fetched = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            raw = next((part[1] for part in fetched if isinstance(part, tuple)), None)
            if status == "OK" and isinstance(raw, bytes):
                yield f"{source.label}, UID {uid.decode()}", raw
    except (OSError, ssl.SSLError, imaplib.IMAP4.abort) as exc:
        raise fail("connection lost", exc) from None
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def read_source(spec: str, environ: dict[str, str] | None = None) -> Iterator[tuple[str, bytes]]:
    """(origin, raw bytes) of every message of an mbox, a Maildir or an IMAP folder."""
    env = os.environ if environ is None else environ
    if spec.startswith(("imaps://", "imap://")):
        source = parse_imap_url(spec)
        password = env.get(PASSWORD_ENV, "")
        if not password:
            raise MailSourceError(f"{source.label}: set ${PASSWORD_ENV} to the IMAP password")
        yield from read_imap(source, password)
        return
    path = Path(spec)
    if path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
        box: mailbox.Mailbox = mailbox.Maildir(path, factory=None, create=False)
        label = f"{spec} (Maildir)"
    elif path.is_file():
        box = mailbox.mbox(path, factory=None, create=False)
        label = spec
    else:
        raise MailSourceError(f"{spec}: neither an mbox file, a Maildir folder nor an imaps:// URL")
    try:
        for number, key in enumerate(sorted(box.keys(), key=_delivery_order), 1):
            try:
                raw = box.get_bytes(key)
            except (OSError, KeyError) as exc:
                raise MailSourceError(f"{label}: message {number} cannot be read ({exc})") from None
            yield f"{label}, message {number}", raw
    except OSError as exc:
        raise MailSourceError(f"{label}: cannot be read ({exc.strerror or exc})") from None
    finally:
        box.close()


def _delivery_order(key: str) -> list[Any]:
    """A Maildir name's numbers as numbers: ``1796102668.M99999P1Q1`` (its
    delivery second, microsecond, process, count) comes before ``...M100000``,
    which sorts first as text; an mbox's keys are numbers already."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(str(key))]


_DIGITS = re.compile(r"(\d+)")


def message_ids(folder: Path) -> set[str]:
    """The ``message_id`` of every comment file in ``folder``."""
    from ..sources.local_formats import parse_metadata_header

    found: set[str] = set()
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                head = handle.read(8192)
        except OSError:
            continue
        meta, _body = parse_metadata_header(head)
        if meta.get("message_id"):
            found.add(meta["message_id"].strip())
    return found


@dataclass
class Outcome:
    read: int = 0
    written: list[tuple[Path, MailComment]] = field(default_factory=list)
    already: list[MailComment] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def import_messages(
    messages: Iterator[tuple[str, bytes]],
    known_posts: frozenset[str],
    folder_for: Callable[[str], Path],
    dry_run: bool = False,
) -> Outcome:
    """Write a comment file for each good message not imported before."""
    outcome = Outcome()
    seen: dict[str, set[str]] = {}
    for origin, raw in messages:
        outcome.read += 1
        try:
            parsed = parse_message(raw, origin, known_posts)
        except Exception as exc:  # one broken message never stops the others
            parsed = Rejected(origin, f"cannot be parsed ({type(exc).__name__}: {exc})")
        if isinstance(parsed, Rejected):
            outcome.rejected.append(parsed)
            continue
        folder = folder_for(parsed.post_key)
        if parsed.post_key not in seen:
            seen[parsed.post_key] = message_ids(folder)
        if parsed.message_id in seen[parsed.post_key]:
            outcome.already.append(parsed)
            continue
        seen[parsed.post_key].add(parsed.message_id)
        name, text = comment_file(parsed)
        target = folder / name
        if not dry_run:
            atomic_write(target, text)
        outcome.written.append((target, parsed))
    return outcome


def describe(outcome: Outcome, source: str, dry_run: bool) -> str:
    """What happened, for the terminal: every message accounted for."""
    verb = "Would write" if dry_run else "Wrote"
    lines = [
        f"Read {outcome.read} message(s) from {source}. {verb} {len(outcome.written)} "
        f"comment file(s); {len(outcome.already)} already imported; "
        f"{len(outcome.rejected)} not imported."
    ]
    for path, comment in outcome.written:
        answer = replyto_value(comment)
        detail = f", reply to {answer}" if answer else ""
        lines.append(f"  {path}: {comment.author}, {comment.date.isoformat()}{detail}")
        lines += [f"    {note}" for note in comment.notes]
    if outcome.rejected:
        lines.append("Not imported:")
        lines += [f"  {rejected}" for rejected in outcome.rejected]
    return "\n".join(lines) + "\n"


def run(engine: Engine, articles: list[Any], source: str, dry_run: bool) -> str:
    """The whole import for the CLI; what to print.  Raises MailSourceError."""
    slugs = {post_key(a): str(a.slug) for a in articles}

    def folder_for(key: str) -> Path:
        return engine.local.folder_for(key, slugs[key]) or engine.settings.comments_path / key

    outcome = import_messages(read_source(source), frozenset(slugs), folder_for, dry_run)
    return describe(outcome, source, dry_run)
