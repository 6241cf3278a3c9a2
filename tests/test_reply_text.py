"""The pure parts of answering: lengths as each network counts, facets, files."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pelican_engage import reply
from pelican_engage.model import Item, Person


@pytest.mark.parametrize(
    ("text", "weighted"),
    [
        ("hello", 5),
        ("日本語", 6),  # CJK weigh 2
        ("see https://example.org/a/very/long/path/that/goes/on/and/on", 27),  # URL = 23
        ("é" * 10, 10),  # Latin-1 supplement weighs 1
        ("👍🏽", 2),  # an emoji sequence counts 2
    ],
)
def test_x_weighted_length(text: str, weighted: int) -> None:
    assert reply.x_weighted_length(text) == weighted


def test_mastodon_counts_links_as_23() -> None:
    url = "https://example.org/" + "x" * 100
    assert reply.mastodon_length(f"look {url}.") == len("look ") + 23 + 1


@pytest.mark.parametrize(
    ("text", "count"), [("e\u0301", 1), ("👨‍👩‍👧", 1), ("🇫🇷🇩🇪", 2), ("abc", 3)]
)
def test_graphemes(text: str, count: int) -> None:
    assert reply.graphemes(text) == count


def test_lengths_per_network() -> None:
    assert str(reply.length("bluesky", "a" * 301)) == "301 of 300 characters (graphemes)"
    assert not reply.length("bluesky", "a" * 301).fits  # type: ignore[union-attr]
    assert reply.length("mastodon", "a" * 501).fits is False  # type: ignore[union-attr]
    assert reply.length("mastodon", "a" * 501, 1000).fits  # type: ignore[union-attr]
    assert reply.length("comment", "a" * 10_000) is None


def test_facets_are_byte_offsets_and_skip_unknown_handles() -> None:
    text = "ça va @bob.example.com? (https://x.example/é) @nobody.example"
    facets = reply.bluesky_facets(text, {"bob.example.com": "did:plc:bob"}.get)
    data = text.encode()
    got = [
        (data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(), f["features"][0])
        for f in facets
    ]
    assert got == [
        ("@bob.example.com", {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob"}),
        (
            "https://x.example/é",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://x.example/é"},
        ),
    ]


def test_mastodon_text_mentions_the_person_once() -> None:
    assert reply.mastodon_text("Thanks", "alice@m.example") == "@alice@m.example Thanks"
    assert reply.mastodon_text("@alice@m.example thanks", "alice@m.example").count("@alice") == 1
    assert reply.mastodon_text("Thanks", "") == "Thanks"


def test_comment_files_and_stems() -> None:
    when = datetime(2026, 11, 30, 1, 2, 3, tzinfo=timezone.utc)
    stem = reply.comment_stem(when, set())
    assert stem == "reply-20261130-010203"
    assert reply.comment_stem(when, {stem}) == stem + "-2"
    item = Item("comment:post/c3", "local", "comment", Person("A"), when)
    text = reply.comment_file("Marin\nEvil: x", when, item, "  Hi  ")
    assert text.splitlines()[:3] == [
        "author: Marin Evil: x",
        f"date: {when.isoformat()}",
        "replyto: c3",
    ]
    other = Item("disqus:123", "disqus", "comment", Person("A"), when)
    assert "replyto: disqus:123" in reply.comment_file("M", when, other, "x")


def test_editor_text_stops_at_the_scissors() -> None:
    item = Item("comment:post/c3", "local", "comment", Person("A"), datetime.now(timezone.utc))
    template = reply.editor_template(item, "post: P\nA wrote")
    assert reply.from_editor("My answer\n\n# a heading stays\n" + template) == (
        "My answer\n\n# a heading stays"
    )
    assert reply.from_editor(template) == ""


@pytest.mark.parametrize(
    ("answer", "limit"),
    [
        ({"configuration": {"statuses": {"max_characters": 5000}}}, 5000),
        ({"configuration": {"statuses": {}}}, 500),
        ({"configuration": {"statuses": {"max_characters": "lots"}}}, 500),
        ([], 500),
    ],
)
def test_mastodon_limit_from_the_instance(answer, limit) -> None:
    assert reply.mastodon_limit(answer) == limit


def test_x_cost_and_intent() -> None:
    assert reply.x_cost("plain") == 0.015 and reply.x_cost("see https://a.example") == 0.2
    assert reply.x_intent_url("12", "a b&c") == (
        "https://x.com/intent/post?in_reply_to=12&text=a%20b%26c"
    )
