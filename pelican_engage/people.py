"""The relationships behind the conversations: pure functions, no I/O.

Who writes to the author, how often the author answers and how fast, who
the author wrote to and never heard back from, and how the answer rate
moves month by month.  One person on several networks counts once when
their profile URLs or handles are linked (by ENGAGE_PEOPLE, or because two
of their items share a URL or handle).
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .conversation import mentions_author
from .identity import AuthorIdentity, name_only, normal_handle, normal_url
from .model import ANSWERABLE_KINDS, Item, Person, Thread
from .textsafe import csv_cell, json_text, md_text, one_line


def person_keys(person: Person, source: str) -> set[str]:
    """Everything that names a person: profile URL, handle on a network."""
    keys = set()
    if person.url:
        keys.add(f"url:{normal_url(person.url)}")
    if person.handle:
        keys.add(f"{source}:{normal_handle(person.handle)}")
    if person.email:  # in memory only (local comment files); never printed
        keys.add(f"email:{person.email.casefold()}")
    if person.name and (name_only(source) or not keys):
        # Where there is no account, the name is what a person is known by.
        keys.add(f"name:{source}:{' '.join(person.name.casefold().split())}")
    return keys


def _link_key(value: str) -> str:
    value = value.strip()
    if value.startswith(("http://", "https://")):
        return f"url:{normal_url(value)}"
    network, _sep, handle = value.partition(":")
    return f"{network}:{normal_handle(handle)}"


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        root = key
        while self.parent.setdefault(root, root) != root:
            root = self.parent[root]
        while self.parent[key] != root:  # path compression, iteratively
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _rate_of(answered: int, messages: int) -> float | None:
    return answered / messages if messages else None


def _median_days(seconds: Sequence[float]) -> float | None:
    return round(statistics.median(seconds) / 86400, 1) if seconds else None


@dataclass
class Relation:
    """One person, seen from the author's side."""

    name: str
    urls: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    messages: int = 0
    answered: int = 0
    author_replies: int = 0
    response_seconds: list[float] = field(default_factory=list)
    #: Their latest item, and the latest exchange either way.
    last_message: datetime | None = None
    last_contact: datetime | None = None
    #: The author's latest reply to them.
    last_reply: datetime | None = None

    @property
    def silent(self) -> bool:
        """The author wrote to them last, and they never wrote back."""
        return self.last_reply is not None and (
            self.last_message is None or self.last_message < self.last_reply
        )

    @property
    def response_rate(self) -> float | None:
        return _rate_of(self.answered, self.messages)

    @property
    def median_response_days(self) -> float | None:
        return _median_days(self.response_seconds)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "urls": sorted(self.urls),
            "sources": sorted(self.sources),
            "messages": self.messages,
            "answered": self.answered,
            "author_replies": self.author_replies,
            "response_rate": None if self.response_rate is None else round(self.response_rate, 2),
            "median_response_days": self.median_response_days,
            "last_contact": self.last_contact.isoformat() if self.last_contact else None,
            "silent": self.silent,
        }


@dataclass
class Month:
    month: str
    messages: int = 0
    answered: int = 0
    response_seconds: list[float] = field(default_factory=list)

    @property
    def answer_rate(self) -> float | None:
        return _rate_of(self.answered, self.messages)

    @property
    def median_response_days(self) -> float | None:
        return _median_days(self.response_seconds)

    def to_dict(self) -> dict[str, object]:
        return {
            "month": self.month,
            "messages": self.messages,
            "answered": self.answered,
            "answer_rate": None if self.answer_rate is None else round(self.answer_rate, 2),
            "median_response_days": self.median_response_days,
        }


@dataclass(frozen=True)
class People:
    relations: tuple[Relation, ...]
    months: tuple[Month, ...]


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def _first_author_answer(
    item: Item, thread: Thread, children: Mapping[str, list[Item]]
) -> datetime | None:
    """The earliest author item in the item's subtree, after it."""
    best = None
    stack = list(children.get(item.id, ()))
    while stack:
        node = stack.pop()
        if node.id in thread.by_author and node.published >= item.published:
            best = node.published if best is None else min(best, node.published)
        stack.extend(children.get(node.id, ()))
    return best


def relationships(
    threads: Iterable[Thread],
    links: Sequence[Sequence[str]] = (),
    author: AuthorIdentity | None = None,
) -> People:
    """Everyone who wrote on the site, merged across networks, with figures.

    A message "to the author" answers the post or one of the author's
    items, or names the author (two readers talking are not counted).  It
    is answered when an author item is in its branch, or named its writer
    later (thread.mention_answers).  ``threads`` is walked once.
    """
    counter = PeopleCounter(links, author)
    for thread in threads:
        counter.add(thread)
    return counter.people()


class PeopleCounter:
    """:func:`relationships` one thread at a time, so a caller walking the
    site's (lazily read) threads for something else counts people on the way.

    Figures are kept per person key as seen; who is the same person is only
    known at the end (a later thread may link two keys), when they merge.
    """

    def __init__(
        self, links: Sequence[Sequence[str]] = (), author: AuthorIdentity | None = None
    ) -> None:
        self.author = author
        self.union = _Union()
        for group in links:
            keys = [_link_key(v) for v in group if v.strip()]
            for key in keys[1:]:
                self.union.union(keys[0], key)
        #: Person key -> (order first seen, figures under that key).
        self.seen: dict[str, tuple[int, Relation]] = {}
        self.months: dict[str, Month] = {}

    def _relation(self, item: Item) -> Relation:
        keys = sorted(person_keys(item.author, item.source)) or [f"item:{item.id}"]
        found = self.seen.get(keys[0])
        if found is None:
            found = self.seen[keys[0]] = (len(self.seen), Relation(name=item.author.name))
        rel = found[1]
        if item.author.url:
            rel.urls.add(item.author.url)
        rel.sources.add(item.source)
        rel.last_message = _later(rel.last_message, item.published)
        rel.last_contact = _later(rel.last_contact, item.published)
        return rel

    def add(self, thread: Thread) -> None:
        """Count one thread's people and messages."""
        author = self.author
        by_id = {item.id: item for item in thread.items}
        children: dict[str, list[Item]] = defaultdict(list)
        for item in thread.items:
            if item.id not in thread.by_author:
                keys = sorted(person_keys(item.author, item.source))
                for key in keys[1:]:
                    self.union.union(keys[0], key)
            parent = thread.parents.get(item.id)
            if parent:
                children[parent].append(item)
        for item in thread.items:
            if item.id in thread.by_author:
                answered = by_id.get(thread.parents.get(item.id) or "")
                if answered is not None and answered.id not in thread.by_author:
                    rel = self._relation(answered)
                    rel.author_replies += 1
                    rel.last_reply = _later(rel.last_reply, item.published)
                    rel.last_contact = _later(rel.last_contact, item.published)
                continue
            if item.kind not in ANSWERABLE_KINDS:
                continue
            rel = self._relation(item)
            parent = thread.parents.get(item.id)
            if not (
                parent is None
                or parent in thread.by_author
                or (author is not None and mentions_author(item, author))
            ):
                continue
            rel.messages += 1
            named = by_id.get(thread.mention_answers.get(item.id, ""))
            answer = _first_author_answer(item, thread, children) or (
                named.published if named else None
            )
            # Not strftime: Pelican's SafeDatetime makes it ten times slower.
            stamp = f"{item.published.year:04d}-{item.published.month:02d}"
            month = self.months.setdefault(stamp, Month(stamp))
            month.messages += 1
            if answer is not None:
                rel.answered += 1
                month.answered += 1
                seconds = max(0.0, (answer - item.published).total_seconds())
                rel.response_seconds.append(seconds)
                month.response_seconds.append(seconds)

    def passing(self, threads: Iterable[Thread]) -> Iterator[Thread]:
        """``threads``, each counted as it passes on to another walk."""
        for thread in threads:
            self.add(thread)
            yield thread

    def people(self) -> People:
        """Everyone counted, each person once (named as first seen)."""
        merged: dict[str, tuple[int, Relation]] = {}
        for key, (order, rel) in sorted(self.seen.items(), key=lambda kv: kv[1][0]):
            root = self.union.find(key)
            if root not in merged:
                merged[root] = (order, rel)
                continue
            into = merged[root][1]
            into.urls |= rel.urls
            into.sources |= rel.sources
            into.messages += rel.messages
            into.answered += rel.answered
            into.author_replies += rel.author_replies
            into.response_seconds += rel.response_seconds
            into.last_message = _latest(into.last_message, rel.last_message)
            into.last_contact = _latest(into.last_contact, rel.last_contact)
            into.last_reply = _latest(into.last_reply, rel.last_reply)
        ordered = sorted(
            (rel for _order, rel in merged.values()),
            key=lambda r: (-(r.messages + r.author_replies), r.name.casefold()),
        )
        return People(tuple(ordered), tuple(self.months[m] for m in sorted(self.months)))


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


# -- Output ------------------------------------------------------------------


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{round(value * 100)}%"


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:g} d"


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value else "-"


def as_text(found: People) -> str:
    lines = [
        f"{'WHO':<24}  {'MSGS':>4}  {'YOUR REPLIES':>12}  {'ANSWERED':>8}  "
        f"{'MEDIAN WAIT':>11}  {'LAST CONTACT':<12}  SOURCES"
    ]
    for r in found.relations:
        name = one_line(r.name)
        name = name if len(name) <= 24 else name[:23] + "…"
        lines.append(
            f"{name:<24}  {r.messages:>4}  {r.author_replies:>12}  {_rate(r.response_rate):>8}  "
            f"{_days(r.median_response_days):>11}  {_date(r.last_contact):<12}  "
            f"{', '.join(sorted(r.sources))}"
        )
    silent = [one_line(r.name) for r in found.relations if r.silent]
    lines += ["", f"You wrote to them last, and never heard back ({len(silent)}):"]
    lines += [f"  {name}" for name in silent] or ["  nobody"]
    lines += ["", f"{'MONTH':<8}  {'MSGS':>4}  {'ANSWERED':>8}  {'MEDIAN WAIT':>11}"]
    for m in found.months:
        lines.append(
            f"{m.month:<8}  {m.messages:>4}  {_rate(m.answer_rate):>8}  "
            f"{_days(m.median_response_days):>11}"
        )
    return "\n".join(lines) + "\n"


def as_markdown(found: People) -> str:
    lines = [
        "| Who | Messages | Your replies | Answered | Median wait | Last contact |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in found.relations:
        lines.append(
            f"| {md_text(r.name)} | {r.messages} | {r.author_replies} | {_rate(r.response_rate)} "
            f"| {_days(r.median_response_days)} | {_date(r.last_contact)} |"
        )
    silent = [md_text(r.name) for r in found.relations if r.silent]
    lines += ["", f"**Never answered back:** {', '.join(silent) or 'nobody'}", ""]
    lines += ["| Month | Messages | Answered | Median wait |", "|---|---:|---:|---:|"]
    for m in found.months:
        lines.append(
            f"| {m.month} | {m.messages} | {_rate(m.answer_rate)} | "
            f"{_days(m.median_response_days)} |"
        )
    return "\n".join(lines) + "\n"


def as_json(found: People) -> str:
    data = {
        "people": [r.to_dict() for r in found.relations],
        "months": [m.to_dict() for m in found.months],
    }
    return json_text(data) + "\n"


def as_csv(found: People) -> str:
    buffer = io.StringIO()
    fields = list(Relation(name="").to_dict())
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in found.relations:
        row = r.to_dict()
        row["urls"] = " ".join(row["urls"])  # type: ignore[arg-type]
        row["sources"] = " ".join(row["sources"])  # type: ignore[arg-type]
        # Names and URLs come from strangers: no controls, no formulas.
        for key in ("name", "urls"):
            row[key] = csv_cell(str(row[key]))
        writer.writerow(row)
    return buffer.getvalue()


def render(fmt: str, found: People) -> str:
    return {"json": as_json, "markdown": as_markdown, "csv": as_csv}.get(fmt, as_text)(found)
