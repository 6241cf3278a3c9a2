"""Local comment files: ``<PATH>/comments/<post key>/*.md`` and friends.

The folder layout and metadata are pelican_comment_system's, so its users
switch without touching a file: ``author``, ``date``, ``replyto`` (the
parent's file stem, or the slug pelican_comment_system derives from the
parent's file name, e.g. ``c3md``), ``email`` (only to recognise the
author) and ``website``.

Parsing is split in two: :func:`parse_comment` turns one file into a
:class:`ParsedComment` (kept by the engine's thread cache under the file's
stamp, so an unchanged file is never rendered again), and
:func:`link_replies` resolves ``replyto`` within a post, because it depends
on the other files.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..model import Item, Person, Problem, parse_timestamp
from ..sanitize import clean_html, clean_text, safe_url
from .local_files import (
    NotRegular,
    display_path,
    find_post_folder,
    list_folder,
    printable_name,
    read_regular,
)
from .local_formats import MARKDOWN_EXTENSIONS, OTHER_FORMATS, PARSERS
from .local_headers import HEADER_SHOWN_AS_TEXT, header_shown_as_text

logger = logging.getLogger(__name__)

SOURCE = "local"
#: A comment longer than this is not a comment.
MAX_FILE_BYTES = 256 * 1024


@dataclass(frozen=True)
class ParsedComment:
    """One comment file, parsed; ``item.in_reply_to`` is not resolved yet."""

    item: Item
    replyto: str | None
    problems: tuple[str, ...] = ()


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return timezone.utc


def parse_date(value: Any, zone: tzinfo) -> datetime:
    """A metadata date as an aware datetime; naive dates are in ``zone``."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            # Nearly every comment uses ISO dates: the package's parser.
            parsed = parse_timestamp(str(value), naive=zone)
        except ValueError:
            from pelican.utils import get_date  # dateutil with Pelican's leniency

            parsed = get_date(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return datetime.fromtimestamp(parsed.timestamp(), parsed.tzinfo)


def parse_comment(
    post_key: str,
    stem: str,
    origin: str,
    meta: Mapping[str, Any],
    body_html: str,
    zone: tzinfo,
    fallback_date: datetime,
    file_problem: str = "",
    author_emails: frozenset[str] = frozenset(),
) -> ParsedComment:
    """Build the item of one comment from its metadata and rendered body;
    ``file_problem``: what reading the file found (bytes not UTF-8, a header
    read leniently), told with the item's own problems.

    The ``email`` field only tells whether the site's author wrote it
    (``author_emails``, case-folded): the item keeps that mark, never the
    address, so no cache or page can hold it.
    """
    problems = [file_problem] if file_problem else []
    author = clean_text(str(meta.get("author") or ""))
    if not author:
        problems.append("has no author; shown as 'Anonymous'")
        author = "Anonymous"
    raw_date = meta.get("date")
    try:
        if not raw_date:
            raise ValueError("missing")
        published = parse_date(raw_date, zone)
    except (ValueError, OverflowError) as exc:
        detail = "has no date" if str(exc) == "missing" else f"has a bad date {str(raw_date)!r}"
        problems.append(f"{detail}; using the file's modification time")
        published = fallback_date
    website = str(meta.get("website") or meta.get("url") or "")
    replyto = str(meta.get("replyto") or "").strip() or None
    email = str(meta.get("email") or "").strip().casefold()
    item = Item(
        id=f"comment:{post_key}/{stem}",
        source=SOURCE,
        kind="comment",
        author=Person(name=author, url=safe_url(website)),
        published=published,
        content_html=clean_html(body_html),
        origin=origin,
        by_author=bool(email and email in author_emails),
        # Written by `pelican-engage import mail`: the page marks it as e-mail.
        extras={"via": "email"} if meta.get("message_id") else {},
    )
    return ParsedComment(item=item, replyto=replyto, problems=tuple(problems))


def link_replies(
    parsed: Iterable[tuple[str, ParsedComment]], slugify: Callable[[str], str]
) -> tuple[list[Item], list[Problem]]:
    """Resolve each ``replyto`` to the id of a comment of the same post.

    ``parsed`` pairs each comment with its file name.  A ``replyto`` that
    names no file is reported, and its comment shown at the top level.
    """
    pairs = list(parsed)
    names: dict[str, str] = {}
    for filename, comment in pairs:
        stem = filename.rsplit(".", 1)[0]
        # pelican_comment_system slugifies the file name with its extension
        # ("c3.md" -> "c3md"); the plain form covers the default settings.
        plain_slug = re.sub(r"[^\w-]", "", filename.lower())
        for alias in (stem, filename, plain_slug):
            names.setdefault(alias.casefold(), comment.item.id)
    slugs: dict[str, str] | None = None
    items: list[Item] = []
    problems: list[Problem] = []
    for _filename, comment in pairs:
        parent = None
        if comment.replyto:
            wanted = comment.replyto.casefold()
            parent = names.get(wanted)
            if parent is None:
                # Custom SLUG_REGEX_SUBSTITUTIONS: Pelican's slugify is slow,
                # so it only runs when the cheap names found nothing.
                if slugs is None:
                    slugs = {}
                    for filename, other in pairs:
                        for alias in (filename, filename.rsplit(".", 1)[0]):
                            slugs.setdefault(slugify(alias).casefold(), other.item.id)
                parent = slugs.get(wanted) or slugs.get(slugify(comment.replyto).casefold())
            if parent is None and re.match(r"[a-z]+:\S", comment.replyto):
                # An item id (a reply by mail to an imported or social item):
                # the thread resolves it, and says so if it is not there.
                parent = comment.replyto
            if parent is None:
                problems.append(
                    Problem(
                        comment.item.origin,
                        f"replyto {comment.replyto!r} names no comment of this post; "
                        "shown as a top-level comment",
                    )
                )
        item = comment.item
        items.append(item if item.in_reply_to == parent else replace(item, in_reply_to=parent))
    return items, problems


@dataclass(frozen=True)
class Skipped:
    """A file that gave no comment, and why; kept so warm builds say it again."""

    problem: str


#: A file's stamp (mtime_ns, size, post key) and what was parsed from it.
Parsed = tuple[tuple[int, int, str], "ParsedComment | Skipped"]


@dataclass(frozen=True, slots=True)
class Scan:
    """A post's comment folder: file names with modification time and size,
    and the entries refused without being read (links, pipes...)."""

    folder: Path | None
    files: tuple[tuple[str, int, int], ...]
    refused: tuple[Problem, ...] = ()


#: A post without a comment folder (most, on a site whose replies come from
#: the networks): one object shared, not one per post alive all build long.
NO_FOLDER = Scan(None, ())


class LocalComments:
    """Reads the comment folder of each post."""

    def __init__(
        self,
        pelican_settings: Mapping[str, Any],
        comments_path: Path,
        author_emails: frozenset[str] = frozenset(),
    ):
        self.settings = pelican_settings
        self.comments_path = comments_path
        self.author_emails = author_emails
        self.zone = _zone(str(pelican_settings.get("TIMEZONE") or "UTC"))
        self.parsed_files = 0

    # Reading --------------------------------------------------------------
    def folder_for(self, key: str, slug: str) -> Path | None:
        return find_post_folder(self.comments_path, (key, slug))[0]

    def scan(self, key: str, slug: str) -> Scan:
        """The post's comment files and their stamps; cheap (no file is read).

        Only regular files count: a symbolic link (which could point at
        ``/proc/self/environ`` or a key file) or a pipe with a comment's
        name is refused, with a problem naming it, and never opened.
        """
        folder, refused = find_post_folder(self.comments_path, (key, slug))
        if folder is None:
            return Scan(None, (), refused) if refused else NO_FOLDER
        files, odd = list_folder(folder, self._readable)
        return Scan(folder, files, odd)

    def read_post(self, key: str, slug: str) -> tuple[list[Item], list[Problem]]:
        items, problems, _parsed = self.read(key, self.scan(key, slug))
        return items, problems

    def read(
        self, key: str, scan: Scan, previous: Mapping[str, Parsed] | None = None
    ) -> tuple[list[Item], list[Problem], dict[str, Parsed]]:
        """Parse every file of ``scan``, reusing ``previous`` where the stamp matches.

        Returns the linked items, the problems, and each file's parse (for the
        caller to keep as the next build's ``previous``).
        """
        if scan.folder is None:
            return [], list(scan.refused), {}
        previous = previous or {}
        parsed: dict[str, Parsed] = {}
        problems: list[Problem] = list(scan.refused)
        by_id: dict[str, str] = {}
        shown: dict[str, str] = {}
        origin = display_path(scan.folder)
        for name, mtime_ns, size in scan.files:
            stamp = (mtime_ns, size, key)
            # The name as text (a name that is not UTF-8 would break every
            # page it is written to); it makes the id and the messages.
            shown[name] = printable_name(name)
            file_origin = os.path.join(origin, shown[name])
            earlier = previous.get(name)
            if earlier is not None and earlier[0] == stamp:
                result = earlier[1]
            else:
                path = os.path.join(scan.folder, name)  # a str: 10,000 Paths cost 30 ms
                result = self._parse_file(key, path, file_origin, shown[name])
            parsed[name] = (stamp, result)
            if isinstance(result, Skipped):
                problems.append(Problem(file_origin, result.problem))
                continue
            notes = list(result.problems)
            if result.item.id in by_id:
                # c1.md and c1.rst: keep both, the later one under its full name.
                other = by_id[result.item.id]
                result = replace(
                    result, item=replace(result.item, id=f"comment:{key}/{shown[name]}")
                )
                parsed[name] = (stamp, result)
                notes.append(f"has the same name as {other}; its id is {result.item.id}")
            by_id[result.item.id] = shown[name]
            if notes:
                problems.append(Problem(file_origin, "; ".join(notes)))
        comments = [(shown[n], c) for n, (_s, c) in parsed.items() if isinstance(c, ParsedComment)]
        items, link_problems = link_replies(comments, self._slugify)
        return items, problems + link_problems, parsed

    def _readable(self, name: str) -> bool:
        _stem, dot, ext = name.rpartition(".")
        if not dot or name.startswith(".") or name.endswith("~"):
            return False
        ext = ext.lower()
        return ext in MARKDOWN_EXTENSIONS or ext in OTHER_FORMATS

    def _slugify(self, value: str) -> str:
        from pelican.utils import slugify

        return slugify(value, regex_subs=self.settings.get("SLUG_REGEX_SUBSTITUTIONS", []))

    def _parse_file(self, key: str, path: str, origin: str, name: str) -> ParsedComment | Skipped:
        """Parse one file; ``name`` is its printable name (see ``printable_name``)."""
        self.parsed_files += 1
        try:
            raw, mtime = read_regular(path, MAX_FILE_BYTES)
        except NotRegular as exc:
            return Skipped(f"{exc}; not read (comment files must be regular files)")
        except ValueError as exc:
            return Skipped(f"{exc}; skipped")
        except OSError as exc:
            return Skipped(f"cannot be read ({exc.strerror or exc}); skipped")
        file_problem = ""
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            file_problem = (
                f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset "
                f"{exc.start}); unreadable characters were replaced"
            )
            text = raw.decode("utf-8-sig", errors="replace")
        ext = os.path.splitext(path)[1].lstrip(".").lower()
        try:
            meta, body_html = PARSERS[ext](text)
        except Exception as exc:  # a stranger's file must not stop the build
            return Skipped(f"cannot be parsed ({type(exc).__name__}: {exc}); skipped")
        try:  # a header its format did not read
            found = header_shown_as_text(text, ext, meta, body_html)
        except Exception:  # only a recovery: the file as its format reads it
            found = None
        if found is not None:
            meta, body_html = found
            file_problem = "; ".join(p for p in (file_problem, HEADER_SHOWN_AS_TEXT) if p)
        if not body_html.strip():
            return Skipped("has no text; skipped")
        fallback = datetime.fromtimestamp(int(mtime), timezone.utc)
        stem = name.rsplit(".", 1)[0]
        return parse_comment(
            key,
            stem,
            origin,
            meta,
            body_html,
            self.zone,
            fallback,
            file_problem,
            author_emails=self.author_emails,
        )
