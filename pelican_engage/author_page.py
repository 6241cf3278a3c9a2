"""The author's own page of waiting items, its Atom feed, and the monthly chart.

Written by each build to ENGAGE_REPORT_PAGE, outside the published site by
default: it lists strangers' messages for the author alone.  When the author
puts it inside the output anyway, it is still never linked, and it says
``noindex`` to search engines.  The feed beside it (``waiting.atom``) turns a
feed reader into the author's notifications for a static site.  Everything
printed is escaped here: excerpts and names are plain text.
"""

from __future__ import annotations

import functools
import locale
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timezone, tzinfo
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from . import report
from .atomic import atomic_write
from .cache import remove_stale_temporary
from .model import Post, Problem, Thread
from .people import Month, People, PeopleCounter
from .report import Row

if TYPE_CHECKING:
    from .engine import Engine

FEED_NAME = "waiting.atom"
_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}"
    "td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}"
    ".q{font-weight:600}.muted{color:#666}svg{max-width:100%;height:auto}"
    # Ids and links are long unbroken strings: they wrap rather than widen the page.
    "td,a,code,h2{overflow-wrap:anywhere;word-break:break-word}"
    # A phone (390 px) gets one block per item instead of six squeezed columns.
    "@media (max-width:40rem){body{margin:1rem auto}"
    "table.items,table.items tbody,table.items tr,table.items td{display:block;width:auto}"
    "table.items tr{border-bottom:1px solid #ddd;padding:.4rem 0}"
    "table.items td{border:0;padding:.1rem 0}}"
)


def month_chart(months: Sequence[Month], width: int = 640, height: int = 180) -> str:
    """An inline SVG: answer rate per month as bars, median days as labels."""
    shown = list(months)[-24:]
    if not shown:
        return ""
    step = width / len(shown)
    bars = []
    for n, month in enumerate(shown):
        rate = month.answer_rate or 0.0
        bar = (height - 40) * rate
        x = n * step + 4
        y = height - 20 - bar
        days = month.median_response_days
        tip = f"{month.month}: {round(rate * 100)}% of {month.messages} answered" + (
            f", median {days:g} d" if days is not None else ""
        )
        bars.append(
            f'<g><title>{escape(tip)}</title><rect x="{x:.1f}" y="{y:.1f}" '
            f'width="{max(2.0, step - 8):.1f}" height="{bar:.1f}" fill="#2e7df6"/>'
            f'<text x="{x:.1f}" y="{height - 6}" font-size="10">{escape(month.month[2:])}</text>'
            + (
                f'<text x="{x:.1f}" y="{max(12.0, y - 4):.1f}" font-size="10">{days:g}d</text>'
                if days is not None
                else ""
            )
            + "</g>"
        )
    return (
        "<figure>"
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Share of messages answered per month, with the median days to answer">'
        + "".join(bars)
        + '</svg><figcaption class="muted">Bar height: the share of messages you answered '
        "that month (full height is 100%). Number above a bar: median days to your first "
        "answer. Below: the month (YY-MM).</figcaption></figure>"
    )


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return timezone.utc


def in_words(when: datetime, zone: str) -> str:
    """``"Monday 30 November 2026, 01:20 (Europe/Paris)"``: the site's TIMEZONE."""
    local = when.astimezone(_zone(zone))
    day = _day_in_words(local.date(), locale.setlocale(locale.LC_TIME))
    return f"{day}, {local.hour:02d}:{local.minute:02d} ({zone})"


@functools.lru_cache(maxsize=4096)
def _day_in_words(day: date, _names: str) -> str:
    """``"Monday 30 November 2026"``; ``_names`` is the locale that names
    days and months (LC_TIME, which Pelican's LOCALE setting sets), there
    to key the cache: strftime twice per waiting item was a tenth of the
    author's page, and a site's items fall on far fewer days."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def _when(when: datetime, zone: str) -> str:
    return f'<time datetime="{escape(when.isoformat())}">{escape(in_words(when, zone))}</time>'


class Line(NamedTuple):
    """What the page and its feed show of one waiting item: a report Row
    without the rest of the item (a site lists tens of thousands of them;
    whole items would hold every text at once)."""

    post: Post
    id: str
    source: str
    name: str
    published: datetime
    excerpt: str
    reply_url: str
    waiting_days: float
    question: bool

    @classmethod
    def of(cls, row: Row) -> Line:
        item = row.item
        return cls(
            row.post,
            item.id,
            item.source,
            item.author.name,
            item.published,
            row.excerpt,
            row.reply_url,
            row.waiting_days,
            row.question,
        )

    @property
    def age(self) -> str:
        return report.age(self.waiting_days)


def render_page(
    lines: Sequence[Line], people: People, generated: datetime, total: int, zone: str = "UTC"
) -> Iterator[str]:
    """The page, a line at a time (written as it is made: never whole in memory)."""
    yield from (
        "<!DOCTYPE html>\n",
        '<html lang="en"><head><meta charset="utf-8">\n',
        '<meta name="robots" content="noindex, nofollow">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>Waiting for your reply ({len(lines)})</title><style>{_STYLE}</style>\n",
        f'<link rel="alternate" type="application/atom+xml" href="{FEED_NAME}">\n',
        "</head><body>\n",
        f"<h1>Waiting for your reply: {len(lines)}</h1>\n",
        f'<p class="muted">Of {total} item(s), as of {_when(generated, zone)}. '
        "Questions first. Not linked from the site.</p>\n",
    )
    for post, members in report.by_post(lines):
        title = escape(post.title or post.key)
        yield f'<h2><a href="{escape(post.url)}">{title}</a></h2><table class="items">\n'
        for line in members:
            flag = ' class="q"' if line.question else ""
            yield (
                f"<tr{flag}><td>waiting {escape(line.age)}, since "
                f"{_when(line.published, zone)}</td><td>{escape(line.source)}</td>"
                f"<td>{escape(line.name)}</td><td>{escape(line.excerpt)}</td>"
                f'<td><a href="{escape(line.reply_url)}">reply</a></td>'
                f'<td class="muted">{escape(line.id)}</td></tr>\n'
            )
        yield "</table>\n"
    if not lines:
        yield "<p>Nobody is waiting. Well done.</p>\n"
    yield "<h2>Answer rate by month</h2>\n"
    yield month_chart(people.months) + "\n"
    yield "<table><tr><th>Month</th><th>Messages</th><th>Answered</th><th>Median</th></tr>\n"
    for month in people.months:
        rate = "-" if month.answer_rate is None else f"{round(month.answer_rate * 100)}%"
        days = month.median_response_days
        yield (
            f"<tr><td>{month.month}</td><td>{month.messages}</td><td>{rate}</td>"
            f"<td>{'-' if days is None else f'{days:g} d'}</td></tr>\n"
        )
    yield "</table>\n"
    silent = [r for r in people.relations if r.silent]
    if silent:
        names = ", ".join(escape(r.name) for r in silent)
        yield f"<h2>You wrote last, no answer yet</h2><p>{names}</p>\n"
    yield "</body></html>\n"


#: An http(s) URL that ``urljoin`` gives back as it is: with a host, no
#: empty query or fragment and no ";" (which its parse and unparse would drop).
_AS_IS = re.compile(r"https?://[A-Za-z0-9.:@%!$&'()*+,;=~_-]+(?:[/?#][\x21-\x7e]*)?")


def absolute(base: str, url: str) -> str:
    """``urljoin(base, url)``, without parsing an absolute URL (most reply
    links are: 30,000 urljoins were a third of the author's feed)."""
    plain = not url.endswith(("?", "#")) and "?#" not in url and ";" not in url
    if plain and _AS_IS.fullmatch(url):
        return url
    return urljoin(base, url)


def render_feed(lines: Sequence[Line], generated: datetime, site: str) -> Iterator[str]:
    """One Atom entry per waiting item, newest first, a line at a time.

    An entry's id is the item's (stable across builds), so a feed reader
    shows each waiting item once, as it arrives.  Links are absolute: made
    so against SITEURL, which is also the feed's ``xml:base``.
    """
    stamp = generated.replace(microsecond=0).isoformat()
    base = site.rstrip("/") + "/" if site else ""
    yield from (
        '<?xml version="1.0" encoding="utf-8"?>\n',
        '<feed xmlns="http://www.w3.org/2005/Atom"'
        + (f' xml:base="{escape(base)}">\n' if base else ">\n"),
        f"<title>Waiting for your reply ({len(lines)})</title>\n",
        f"<id>urn:pelican-engage:waiting:{escape(site or 'site')}</id>\n",
        f"<updated>{stamp}</updated>\n",
    )
    for line in sorted(lines, key=lambda line: line.published, reverse=True):
        title = f"{line.name} on {line.post.title or line.post.key}"
        yield (
            "<entry>\n"
            f"<id>urn:pelican-engage:{escape(line.id)}</id>\n"
            f"<title>{'Question: ' if line.question else ''}{escape(title)}</title>\n"
            f'<link rel="alternate" href="{escape(absolute(base, line.reply_url))}"/>\n'
            f"<updated>{line.published.isoformat()}</updated>\n"
            f"<author><name>{escape(line.name)}</name></author>\n"
            f'<content type="text">{escape(line.excerpt)}</content>\n'
            "</entry>\n"
        )
    yield "</feed>\n"


def _write(path: Path, text: str | Iterable[str]) -> None:
    # Served by a web server: world-readable, as the rest of the output.
    atomic_write(path, text, mode=0o644)
    remove_stale_temporary(path.parent, f".{path.name}.")


def write(
    page: Path,
    lines: Sequence[Line],
    people: People,
    generated: datetime,
    total: int,
    site: str,
    zone: str = "UTC",
) -> None:
    """Write the page and, beside it, the feed; times in ``zone`` (TIMEZONE)."""
    _write(page, render_page(lines, people, generated, total, zone))
    _write(page.parent / FEED_NAME, render_feed(lines, generated, site))


#: A page whose threads all came from the cache is rewritten only this often
#: (its ages are in days; a warm build should not pay for it every time).
_PAGE_REFRESH_SECONDS = 6 * 3600


def oldest_wait(engine: Engine) -> str:
    """How long the longest-waiting item has waited, in words ("" for none)."""
    oldest = min(
        (e.summary.oldest_waiting for e in engine.counted if e.summary.oldest_waiting),
        default=None,
    )
    if oldest is None:
        return ""
    now = datetime.now(timezone.utc)
    return report.age(max(0.0, (now - oldest).total_seconds()) / 86400)


def is_due(engine: Engine) -> bool:
    """Is the build's author's page to be written (see :func:`_page_is_due`)?"""
    page = engine.settings.report_page
    return page is not None and _page_is_due(engine, page)


def write_due(
    engine: Engine, site_lang: str, threads: Iterable[Thread] | None = None
) -> list[Problem]:
    """Write the build's author's page and feed of waiting items (when
    :func:`is_due`); the problems to tell (a page that cannot be written).
    ``threads``: the build's counted threads, in order, when another walk
    reads them (``engine.counted_threads`` otherwise)."""
    page = engine.settings.report_page
    if page is None:
        return []
    now = datetime.now(timezone.utc)
    languages = (site_lang, "en")
    # One walk: each thread is read from the cache once for both.
    counter = PeopleCounter(engine.settings.people, engine.settings.author)
    lines: list[Line] = []
    walked = engine.counted_threads if threads is None else threads
    for thread in counter.passing(walked):
        lines += map(Line.of, report.waiting_rows([thread], now, None, languages))
    lines.sort(key=report.wait_order)
    found = counter.people()
    # The summaries' count: walking the threads for it read each again.
    total = engine.items
    try:
        write(page, lines, found, now, total, engine.settings.siteurl, engine.settings.timezone)
    except OSError as exc:
        return [Problem(str(page), f"cannot be written ({exc.strerror or exc})")]
    return []


def _page_is_due(engine: Engine, page: Path) -> bool:
    """Rewrite when a thread changed, or the page is a few hours old."""
    rebuilt = engine.posts - engine.threads.hits
    try:
        age = time.time() - page.stat().st_mtime
    except OSError:
        return True
    return rebuilt > 0 or age > _PAGE_REFRESH_SECONDS
