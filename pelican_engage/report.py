"""Who is waiting for the author's reply: rows, and the formats to print them.

The JSON form is a contract (DESIGN.md); the text, Markdown and CSV forms
print the same rows for people and spreadsheets.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .model import Item, Post, Thread, anchor
from .sanitize import excerpt

FORMATS = ("text", "json", "markdown", "csv")


@dataclass(frozen=True)
class Row:
    item: Item
    post: Post
    waiting_days: float

    @property
    def url(self) -> str:
        return self.item.url or f"{self.post.url}#{anchor(self.item.id)}"

    @property
    def reply_url(self) -> str:
        return str(self.item.extras.get("reply_url") or self.url)

    @property
    def excerpt(self) -> str:
        return excerpt(self.item.content_html)

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


def waiting_rows(threads: Iterable[Thread], now: datetime | None = None) -> list[Row]:
    """Every waiting item, the longest-waiting first."""
    now = now or datetime.now(timezone.utc)
    rows = [
        Row(
            item=item,
            post=thread.post,
            waiting_days=round(max(0.0, (now - item.published).total_seconds()) / 86400, 1),
        )
        for thread in threads
        for item in thread.items
        if item.id in thread.waiting
    ]
    rows.sort(key=lambda r: (r.item.published, r.item.id))
    return rows


def as_json(rows: list[Row], total_items: int, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    data = {
        "generated_at": now.replace(microsecond=0).isoformat(),
        "waiting": [row.to_dict() for row in rows],
        "totals": {"items": total_items, "waiting": len(rows)},
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


_COLUMNS = ("days", "who", "source", "post", "excerpt")
_WIDTHS = {"days": 5, "who": 18, "source": 9, "post": 28}


def _cells(row: Row) -> dict[str, str]:
    return {
        "days": f"{row.waiting_days:.1f}",
        "who": row.item.author.name,
        "source": row.item.source,
        "post": row.post.title or row.post.key,
        "excerpt": row.excerpt,
    }


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def as_text(rows: list[Row], total_items: int, width: int = 110) -> str:
    """A table for people: one line per item, then its id and link to act on."""
    if not rows:
        return f"Nobody is waiting for a reply ({total_items} item(s) checked).\n"
    widths = dict(_WIDTHS, excerpt=max(20, width - sum(_WIDTHS.values()) - 2 * len(_WIDTHS)))
    lines = [
        "  ".join(c.upper().ljust(widths[c]) for c in _COLUMNS).rstrip(),
        "  ".join("-" * widths[c] for c in _COLUMNS),
    ]
    indent = " " * (widths["days"] + 2)
    for row in rows:
        cells = _cells(row)
        lines.append(
            "  ".join(_clip(cells[c], widths[c]).ljust(widths[c]) for c in _COLUMNS).rstrip()
        )
        lines.append(f"{indent}{row.item.id}  {row.url}")
    lines.append("")
    lines.append(f"{len(rows)} waiting for a reply, of {total_items} item(s).")
    return "\n".join(lines) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#|!~])")


def _md(text: str) -> str:
    """Text as literal Markdown: strangers' names must not become markup."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def as_markdown(rows: list[Row], total_items: int) -> str:
    lines = [
        "| Waiting (days) | Post | Who | Source | Excerpt |",
        "|---:|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.waiting_days:.1f} | [{_md(row.post.title or row.post.key)}](<{row.url}>) "
            f"| {_md(row.item.author.name)} | {row.item.source} | {_md(row.excerpt)} |"
        )
    lines.append("")
    lines.append(f"{len(rows)} waiting for a reply, of {total_items} item(s).")
    return "\n".join(lines) + "\n"


def _cell(value: object) -> object:
    # A cell starting with = + - @ is a formula to a spreadsheet; comments
    # are written by strangers.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


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
]


def _flat(row: Row) -> dict[str, object]:
    data = row.to_dict()
    for group in ("post", "author"):
        data.update({f"{group}_{k}": v for k, v in data.pop(group).items()})
    return {k: _cell(v) for k, v in data.items()}


def as_csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_flat(row) for row in rows)
    return buffer.getvalue()


def render(fmt: str, rows: list[Row], total_items: int, now: datetime | None = None) -> str:
    if fmt == "json":
        return as_json(rows, total_items, now)
    if fmt == "markdown":
        return as_markdown(rows, total_items)
    if fmt == "csv":
        return as_csv(rows)
    return as_text(rows, total_items)
