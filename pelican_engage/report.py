"""Who is waiting for the author's reply: rows, and the formats to print them.

The JSON form is a contract (docs/design.md); the text, Markdown and CSV forms
print the same rows for people and spreadsheets.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, TypeVar

from .model import Item, Post, Thread, anchor
from .sanitize import excerpt, html_to_text
from .textsafe import csv_cell, json_text, md_link, md_text, one_line

FORMATS = ("text", "json", "markdown", "csv")


#: Words that open a question, per language (the site's languages are used).
QUESTION_WORDS = {
    "en": "who what when where why how which whose whom can could would should do does did is are",
    "fr": "qui que quoi quand où pourquoi comment quel quelle quels quelles combien est-ce "
    "peux pouvez as-tu avez-vous",
    "de": "wer was wann wo warum wie welche welcher welches wieso weshalb kannst können hast "
    "habt gibt",
    "es": "qué quién quiénes cuándo dónde por cómo cuál cuáles cuánto puedes puede hay",
    "it": "chi che cosa quando dove perché come quale quali quanto puoi può",
    "pt": "quem que quando onde porque por como qual quais quanto pode podes",
    "nl": "wie wat wanneer waar waarom hoe welke kun kunt heb hebt",
}
_SENTENCES = re.compile(r"(?:^|[.!?…]\s+|\n)([^\W\d][\w'-]*)", re.UNICODE)
#: A question mark, also fullwidth, Spanish and Arabic.
_QUESTION_MARK = re.compile("[?\uff1f\u00bf\u061f]")
#: Social replies open with the @handles of the thread.
_LEADING_HANDLES = re.compile(r"^(?:\s*@[\w.\-]+(?:@[\w.\-]+)?)+")
#: "What a great post!" exclaims.
_EXCLAMATION = re.compile(
    r"\b(what|quel|quelle|was für|qué|che|que)\s+(an?|un|une|ein|eine)\b", re.IGNORECASE
)


@functools.lru_cache(maxsize=32)
def _question_words(languages: tuple[str, ...]) -> frozenset[str]:
    """The question words of ``languages`` ("pt_BR" and "pt-br" read as "pt")."""
    words: set[str] = set()
    for lang in languages:
        words.update(QUESTION_WORDS.get(lang.split("_")[0].split("-")[0].casefold(), "").split())
    return frozenset(words)


def is_question(text: str, languages: Iterable[str] = ("en",)) -> bool:
    """Does the text ask something: a question mark, or a sentence opening
    with a question word of one of the site's languages?"""
    if _QUESTION_MARK.search(text):
        return True
    words = _question_words(tuple(languages))
    text = text.lstrip()
    if text.startswith("@"):
        text = _LEADING_HANDLES.sub("", text).lstrip()
    text = _EXCLAMATION.sub("", text)
    return any(m[1].casefold() in words for m in _SENTENCES.finditer(text))


def age(days: float) -> str:
    """How long somebody has waited, for people: "3 hours", "12 days", "5 months"."""
    hours = days * 24
    if hours < 1:
        count, unit = max(1, round(days * 1440)), "minute"
    elif hours < 48:
        count, unit = round(hours), "hour"
    elif days < 60:
        count, unit = round(days), "day"
    elif days < 730:
        count, unit = round(days / 30.44), "month"
    else:
        count, unit = round(days / 365.25), "year"
    return f"{count} {unit}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Row:
    item: Item
    post: Post
    waiting_days: float
    question: bool = False

    @property
    def published(self) -> datetime:
        return self.item.published

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def url(self) -> str:
        return self.item.url or f"{self.post.url}#{anchor(self.item.id)}"

    @property
    def reply_url(self) -> str:
        """Where to answer: the X intent, the Mastodon or Bluesky post, or
        the comment on the site (an imported comment's old site is gone:
        its place on the new page)."""
        if self.item.extras.get("old_anchor") and self.post.url:
            return f"{self.post.url}#{anchor(self.item.id)}"
        return self.item.reply_url or self.url

    @property
    def excerpt(self) -> str:
        return excerpt(self.item.content_html)

    @property
    def age(self) -> str:
        return age(self.waiting_days)

    def to_dict(self) -> dict[str, Any]:
        author = self.item.author
        return {
            "id": self.item.id,
            "source": self.item.source,
            "kind": self.item.kind,
            "post": self.post.to_dict(),
            "author": {"name": author.name, "handle": author.handle, "url": author.url},
            "published": self.item.published.isoformat(),
            "waiting_days": self.waiting_days,
            "url": self.url,
            "reply_url": self.reply_url,
            "excerpt": self.excerpt,
        }


@dataclass(frozen=True)
class Filters:
    """What `pelican-engage report` narrows the rows to."""

    post: str = ""
    source: str = ""
    older_than: timedelta | None = None
    since: datetime | None = None

    def keep(self, row: Row, now: datetime) -> bool:
        item = row.item
        return (
            (not self.post or row.post.key == self.post)
            and (not self.source or item.source == self.source)
            and (self.older_than is None or now - item.published >= self.older_than)
            and (self.since is None or item.published >= self.since)
        )


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$", re.IGNORECASE)
#: Units and their length in hours.  "m" is refused: minutes or months?
_UNITS = {
    **dict.fromkeys(("min", "mins", "minute", "minutes"), 1 / 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 1),
    **dict.fromkeys(("d", "day", "days"), 24),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 24 * 7),
    **dict.fromkeys(("mo", "month", "months"), 24 * 30),
}


class AmbiguousDuration(ValueError):
    """ "1m": minutes or months?"""


def parse_duration(value: str) -> timedelta:
    """ "30min", "12h", "2d", "3w" or "1mo" (30 days); ValueError otherwise,
    also for the ambiguous "1m"."""
    match = _DURATION.match(value)
    unit = match[2].lower() if match else ""
    if match and unit == "m":
        raise AmbiguousDuration(f"{value!r} is ambiguous: write {match[1]}min or {match[1]}mo")
    if not match or unit not in _UNITS:
        raise ValueError(f"{value!r} is not a duration like 30min, 12h, 2d, 3w or 1mo")
    return timedelta(hours=float(match[1]) * _UNITS[unit])


def waiting_rows(
    threads: Iterable[Thread],
    now: datetime | None = None,
    filters: Filters | None = None,
    languages: Iterable[str] = ("en",),
) -> list[Row]:
    """Every waiting item: questions first, then the longest-waiting."""
    now = now or datetime.now(timezone.utc)
    languages = tuple(languages)
    rows = [
        Row(
            item=item,
            post=thread.post,
            waiting_days=round(max(0.0, (now - item.published).total_seconds()) / 86400, 1),
            question=is_question(html_to_text(item.content_html), languages),
        )
        for thread in threads
        for item in thread.items
        if item.id in thread.waiting
    ]
    if filters:
        rows = [row for row in rows if filters.keep(row, now)]
    rows.sort(key=wait_order)
    return rows


class Waiting(Protocol):
    """A waiting item as lists show it: a :class:`Row`, or the author's
    page's slimmer line."""

    @property
    def post(self) -> Post: ...
    @property
    def question(self) -> bool: ...
    @property
    def published(self) -> datetime: ...
    @property
    def id(self) -> str: ...


W = TypeVar("W", bound=Waiting)


def wait_order(row: Waiting) -> tuple[bool, datetime, str]:
    """Questions first, then the longest-waiting."""
    return (not row.question, row.published, row.id)


def by_post(rows: Iterable[W]) -> list[tuple[Post, list[W]]]:
    """Rows grouped by post, the post with the longest wait first; in each,
    questions first, then the oldest."""
    groups: dict[str, tuple[Post, list[W]]] = {}
    for row in rows:
        groups.setdefault(row.post.key, (row.post, []))[1].append(row)
    for _post, members in groups.values():
        members.sort(key=wait_order)
    return sorted(groups.values(), key=lambda g: (min(r.published for r in g[1]), g[0].key))


def as_json(
    rows: list[Row],
    total_items: int,
    now: datetime | None = None,
    hidden: int = 0,
    new: frozenset[str] | None = None,
    waiting_total: int | None = None,
) -> str:
    """``hidden``: items the networks say not to show (never rows, never in
    ``items``); ``new``: ids that arrived since the last report or build,
    marked ``"new": true`` (no mark at all when None); ``waiting_total``:
    everybody waiting, when ``rows`` are only some of them (``--new``)."""
    now = now or datetime.now(timezone.utc)
    waiting = [row.to_dict() for row in rows]
    everybody = len(rows) if waiting_total is None else waiting_total
    totals = {"items": total_items, "waiting": everybody, "hidden": hidden}
    if new is not None:
        for data in waiting:
            data["new"] = data["id"] in new
        totals["new"] = sum(1 for data in waiting if data["new"])
    data = {
        "generated_at": now.replace(microsecond=0).isoformat(),
        "waiting": waiting,
        "totals": totals,
    }
    return json_text(data) + "\n"


_COLUMNS = ("age", "source", "who", "excerpt")
_WIDTHS = {"age": 10, "source": 10, "who": 20}


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def hidden_note(hidden: int) -> str:
    return f"; {hidden} hidden as their network asks" if hidden else ""


def _footer(rows: list[Row], total_items: int, hidden: int, waiting_total: int | None) -> str:
    questions = sum(1 for row in rows if row.question)
    listed = f"{len(rows)}"
    if waiting_total is not None and waiting_total != len(rows):  # --new: some of them
        listed = f"{len(rows)} new of {waiting_total}"
    return (
        f"{listed} waiting for a reply ({questions} question(s)), of {total_items} item(s)"
        f"{hidden_note(hidden)}."
    )


def as_text(
    rows: list[Row],
    total_items: int,
    width: int = 100,
    hidden: int = 0,
    waiting_total: int | None = None,
) -> str:
    """A table for people, grouped by post: age, source, who, excerpt, and
    under each line the id (for ``ack``) and the link to reply;
    ``waiting_total`` as for :func:`as_json`."""
    if not rows:
        checked = f"{total_items} item(s) checked{hidden_note(hidden)}"
        return f"Nobody is waiting for a reply ({checked}).\n"
    widths = dict(_WIDTHS, excerpt=max(20, width - sum(_WIDTHS.values()) - 2 * len(_WIDTHS)))
    lines = []
    indent = " " * (widths["age"] + 2)
    for post, members in by_post(rows):
        lines.append(f"{one_line(post.title or post.key)}  ({one_line(post.url or post.key)})")
        for row in members:
            cells = {
                "age": row.age,
                "source": row.item.source,
                "who": one_line(row.item.author.name),
                "excerpt": ("? " if row.question else "  ") + one_line(row.excerpt),
            }
            lines.append(
                "  ".join(_clip(cells[c], widths[c]).ljust(widths[c]) for c in _COLUMNS).rstrip()
            )
            lines.append(f"{indent}{one_line(row.item.id)}  reply: {one_line(row.reply_url)}")
        lines.append("")
    lines.append(_footer(rows, total_items, hidden, waiting_total))
    return "\n".join(lines) + "\n"


def as_markdown(
    rows: list[Row], total_items: int, hidden: int = 0, waiting_total: int | None = None
) -> str:
    lines = []
    for post, members in by_post(rows):
        lines.append(f"### {md_link(post.title or post.key, post.url)}")
        lines.append("")
        lines.append("| Waiting | Source | Who | Message | |")
        lines.append("|---|---|---|---|---|")
        for row in members:
            flag = "❓ " if row.question else ""
            lines.append(
                f"| {row.age} | {md_text(row.item.source)} | {md_text(row.item.author.name)} "
                f"| {flag}{md_text(row.excerpt)} | {md_link('reply', row.reply_url)} |"
            )
        lines.append("")
    lines.append(_footer(rows, total_items, hidden, waiting_total))
    return "\n".join(lines) + "\n"


def _cell(value: object) -> object:
    return csv_cell(value) if isinstance(value, str) else value


_CSV_FIELDS = [
    "id",
    "source",
    "kind",
    "post_key",
    "post_title",
    "post_url",
    "author_name",
    "author_handle",
    "author_url",
    "published",
    "waiting_days",
    "url",
    "reply_url",
    "excerpt",
    "question",
]


def _flat(row: Row) -> dict[str, object]:
    # The JSON keys are a contract (docs/design.md); the question flag rides in
    # the order there, and in its own column here.
    data = {**row.to_dict(), "question": row.question}
    for group in ("post", "author"):
        data.update({f"{group}_{k}": v for k, v in data.pop(group).items()})
    return {k: _cell(v) for k, v in data.items()}


def as_csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_flat(row) for row in rows)
    return buffer.getvalue()


def render(
    fmt: str,
    rows: list[Row],
    total_items: int,
    now: datetime | None = None,
    hidden: int = 0,
    new: frozenset[str] | None = None,
    waiting_total: int | None = None,
) -> str:
    """``hidden`` counts the items not shown as their network asks; ``new``
    marks the JSON rows that arrived since the last report or build;
    ``waiting_total``: everybody waiting, when ``rows`` are only the new."""
    if fmt == "json":
        return as_json(rows, total_items, now, hidden, new, waiting_total)
    if fmt == "markdown":
        return as_markdown(rows, total_items, hidden, waiting_total)
    if fmt == "csv":
        return as_csv(rows)
    return as_text(rows, total_items, hidden=hidden, waiting_total=waiting_total)
