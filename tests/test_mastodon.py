"""Mastodon's wire format (docs/sources.md, "Mastodon") into items."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pelican_engage.conversation import build_thread
from pelican_engage.model import Post
from pelican_engage.settings import author_identity
from pelican_engage.sources.mastodon import (
    StatusRef,
    parse_context,
    parse_reactions,
    parse_status,
    parse_status_url,
)

DATA = Path(__file__).parent / "data" / "mastodon"
REF = StatusRef("https://social.example", "social.example", "110000000000000001")


def load(name: str) -> object:
    return json.loads((DATA / name).read_text())


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://mastodon.social/@Gargron/1", ("https://mastodon.social", "mastodon.social", "1")),
        (
            "https://m.example:8443/@a@b.example/42/",
            ("https://m.example:8443", "m.example:8443", "42"),
        ),
        ("https://m.example/users/a/statuses/42", ("https://m.example", "m.example", "42")),
        ("http://127.0.0.1:5000/web/statuses/7", ("http://127.0.0.1:5000", "127.0.0.1:5000", "7")),
        (
            "https://pleroma.example/notice/AbC123",
            ("https://pleroma.example", "pleroma.example", "AbC123"),
        ),
    ],
)
def test_status_urls(url: str, expected: tuple[str, str, str]) -> None:
    ref = parse_status_url(url)
    assert (ref.base_url, ref.host, ref.id) == expected


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "https://m.example/@a", "mastodon.social/@a/1", "ftp://m/@a/1"]
)
def test_bad_status_urls_say_why(url: str) -> None:
    with pytest.raises(ValueError, match="not a Mastodon status URL"):
        parse_status_url(url)


def test_context_becomes_public_replies_in_a_tree() -> None:
    items = {i.id.rsplit("/", 1)[1][-1]: i for i in parse_context(load("context.json"), REF).items}
    # The private reply is not published; a reply to it stays, at the top.
    assert set(items) == {"2", "3", "4", "6"}
    ann, marin, bob, orphan = items["2"], items["3"], items["4"], items["6"]
    assert ann.id == "mastodon:social.example/110000000000000002"
    assert ann.in_reply_to is None  # answers the announcement, so the post
    assert marin.in_reply_to == ann.id
    assert bob.in_reply_to == marin.id
    assert orphan.in_reply_to == "mastodon:social.example/110000000000000005"
    assert ann.author.name == "Ann Reader" and ann.author.handle == "ann@elsewhere.example"
    assert marin.author.handle == "marin@social.example"  # local acct gets the host
    assert bob.author.name == "bob"  # empty display name falls back to the username
    assert ann.url == "https://elsewhere.example/@ann/99"
    assert ann.published.isoformat() == "2026-03-01T09:10:00+00:00"
    assert "<script" not in ann.content_html and "javascript:" not in ann.content_html
    assert "Lovely post!" in ann.content_html
    assert bob.content_html.startswith("<p>CW: ending of the book</p>")
    assert ann.extras["favourites"] == 2 and ann.reply_url == ann.url


def test_the_authors_mastodon_replies_answer_readers() -> None:
    author = author_identity({"names": ["Marin"], "mastodon": ["@marin@social.example"]})
    items = parse_context(load("context.json"), REF).items
    thread, _problems = build_thread(Post("post"), items, author)
    waiting = {i.rsplit("/", 1)[1][-1] for i in thread.waiting}
    # Ann was answered; Bob replied to the author and waits; the orphan waits.
    assert "mastodon:social.example/110000000000000003" in thread.by_author
    assert waiting == {"4", "6"}


def test_a_status_without_content_or_parent() -> None:
    status = dict(load("status.json"))  # type: ignore[arg-type]
    item = parse_status(status, StatusRef("https://social.example", "social.example", "0"))
    assert item.in_reply_to is None and "New post" in item.content_html


def test_favourites_become_likes() -> None:
    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    (like,) = parse_reactions(load("favourited_by.json"), REF, "like", when)  # type: ignore[arg-type]
    assert like.kind == "like"
    assert like.id == "mastodon:social.example/110000000000000001/favourite/7"
    assert like.author.handle == "fan@far.example"


def test_a_context_without_descendants_is_malformed() -> None:
    with pytest.raises(ValueError, match="descendants"):
        parse_context({"error": "Record not found"}, REF)
