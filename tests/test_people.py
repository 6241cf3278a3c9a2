"""Relationships: one person across networks, response rates, silences, months."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pelican_engage.cli import main
from pelican_engage.conversation import build_thread
from pelican_engage.model import Item, Person, Post, Thread
from pelican_engage.people import PeopleCounter, relationships, render
from pelican_engage.settings import author_identity
from tests.conftest import Site

START = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
AUTHOR = author_identity({"names": ["Marin"], "mastodon": ["marin@social.example"]})


def it(n: str, person: Person, hours: float, parent: str | None = None, source: str = "mastodon",
       text: str = "Hello") -> Item:  # fmt: skip
    return Item(
        id=f"{source}:{n}",
        source=source,
        kind="reply",
        author=person,
        published=START + timedelta(hours=hours),
        content_html=f"<p>{text}</p>",
        in_reply_to=f"{parent}" if parent else None,
    )


ANN_M = Person("Ann", handle="ann@social.example", url="https://social.example/@ann")
ANN_W = Person("Ann Reader", url="https://social.example/@ann")  # a webmention: same profile
ANN_X = Person("ann", handle="ann_x", url="https://x.com/ann_x")
BO = Person("Bo", handle="bo@social.example", url="https://social.example/@bo")
CY = Person("Cy", handle="cy@social.example", url="https://social.example/@cy")
MARIN = Person("Marin", handle="marin@social.example")
MARIN_X = Person("Marin", handle="marin", url="https://x.com/marin")


def threads() -> list[Thread]:
    first = [
        it("1", ANN_M, 0),
        it("2", MARIN, 2, "mastodon:1"),  # answered in 2 hours
        it("3", BO, 5),
        it("4", MARIN, 29, "mastodon:3"),  # answered in 24 hours; Bo never writes back
        it("5", CY, 6),  # never answered
        it("6", ANN_W, 40, source="webmention"),
    ]
    second = [
        it("7", ANN_X, 24 * 40, source="twitter", text="@marin again"),
        it("8", MARIN_X, 24 * 40 + 10, "twitter:7", source="twitter"),
        it("9", ANN_X, 24 * 40 + 11, "twitter:8", source="twitter"),
    ]
    author = author_identity({"names": ["Marin"], "mastodon": ["marin@social.example"],
                              "twitter": ["marin"]})  # fmt: skip
    return [
        build_thread(Post("a", "A"), first, author)[0],
        build_thread(Post("b", "B"), list(second), author)[0],
    ]


def test_one_person_across_networks_by_profile_url_and_links() -> None:
    found = relationships(threads())
    names = sorted(r.name for r in found.relations)
    # Ann on Mastodon and Ann by webmention share a profile URL; Ann on X is
    # someone else until the author links them.
    assert names == ["Ann", "Bo", "Cy", "ann"]
    linked = relationships(threads(), links=[["https://social.example/@ann", "twitter:ann_x"]])
    ann = next(r for r in linked.relations if r.name == "Ann")
    assert len(linked.relations) == 3
    assert ann.sources == {"mastodon", "webmention", "twitter"}
    assert ann.messages == 4 and ann.answered == 2 and ann.author_replies == 2
    assert ann.response_rate == 0.5
    assert ann.median_response_days == round(((2 + 10) / 2) / 24, 1)
    assert not ann.silent  # she wrote back after the author's last word


def test_response_rate_median_silence_and_months() -> None:
    found = relationships(threads())
    by_name = {r.name: r for r in found.relations}
    bo, cy = by_name["Bo"], by_name["Cy"]
    assert (bo.messages, bo.answered, bo.median_response_days) == (1, 1, 1.0)
    assert bo.silent  # the author wrote to him last, and he never answered
    assert (cy.messages, cy.answered, cy.response_rate, cy.silent) == (1, 0, 0.0, False)
    months = {m.month: m for m in found.months}
    assert set(months) == {"2026-03", "2026-04"}
    march = months["2026-03"]
    assert (march.messages, march.answered) == (4, 2)
    assert march.answer_rate == 0.5


def test_output_formats_are_safe_and_complete() -> None:
    hostile = Person('=HYPERLINK("x")|*bold*', url="https://evil.example/")
    extra = build_thread(Post("c"), [it("h", hostile, 1)], AUTHOR)[0]
    found = relationships([*threads(), extra])
    rows = list(csv.DictReader(io.StringIO(render("csv", found))))
    assert next(r for r in rows if "HYPERLINK" in r["name"])["name"].startswith("'=")
    md = render("markdown", found)
    assert "\\*bold\\*" in md and "\\|" in md and "| 2026-03 |" in md
    data = json.loads(render("json", found))
    assert {p["name"] for p in data["people"]} >= {"Ann", "Bo", "Cy"}
    assert data["months"][0]["month"] == "2026-03"
    text = render("text", found)
    assert "never heard back (1):\n  Bo" in text


def test_people_command(site: Site, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    site.article("first-post")
    site.comment(
        "first-post", "c1.md", "Hi", author="Ann", date="2026-01-02", website="https://ann.example/"
    )
    site.comment("first-post", "c2.md", "Thanks!", author="Marin", date="2026-01-03", replyto="c1")
    site.comment("first-post", "c3.md", "Me again", author="Ann", date="2026-01-04")
    monkeypatch.chdir(site.root)
    conf: Path = site.write_conf(ENGAGE_OFFLINE=True)
    assert main(["people", "-s", str(conf), "--format", "json"]) == 0
    (ann,) = json.loads(capsys.readouterr().out)["people"]
    assert (ann["name"], ann["messages"], ann["answered"], ann["author_replies"]) == (
        "Ann",
        2,
        1,
        1,
    )
    assert ann["median_response_days"] == 1.0 and ann["silent"] is False


def test_an_item_without_a_name_does_not_break_the_view() -> None:
    nameless = build_thread(Post("d"), [it("n", Person(""), 1, source="local")], AUTHOR)[0]
    found = relationships([*threads(), nameless])
    assert any(r.name == "" for r in found.relations)


def test_people_links_must_name_a_network() -> None:
    from pelican_engage.settings import SettingsError, load

    with pytest.raises(SettingsError, match=r"ENGAGE_PEOPLE\[0\].*neither a profile URL"):
        load({"PATH": "content", "ENGAGE_PEOPLE": [["@bob", "@bob@m.example"]]})


def test_people_counted_in_one_walk_merge_when_a_later_thread_links_them() -> None:
    """Figures are kept per key as threads pass; a key linked only by a later
    thread (one person under two handles) merges with what came before, and
    the person keeps the name first seen."""
    ann_moved = Person(
        "Ann (new home)", handle="ann@other.example", url="https://social.example/@ann"
    )
    later = build_thread(Post("c", "C"), [it("20", ann_moved, 24 * 50, source="mastodon")], AUTHOR)[
        0
    ]
    walked = []
    counter = PeopleCounter()
    for thread in counter.passing([*threads(), later]):
        walked.append(thread.post.key)
    assert walked == ["a", "b", "c"]
    found = counter.people()
    assert found == relationships([*threads(), later])
    ann = next(r for r in found.relations if "https://social.example/@ann" in r.urls)
    assert ann.name == "Ann"  # the first seen, not the later thread's
    assert ann.messages == 3 and ann.sources == {"mastodon", "webmention"}
