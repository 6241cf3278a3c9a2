"""Replying by e-mail: mailto: links built into the page, parsed back as a mail client would."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

import pytest

from pelican_engage import reply_mail
from pelican_engage.archive import Archive
from pelican_engage.model import Item, Person
from tests.conftest import DATA, Site

TITLE = "Tea & <Biscuits>: 100% “ünïcode”, a+b=c?"


def _parse_mailto(url: str) -> tuple[str, dict[str, str]]:
    """Split a mailto: URL the way RFC 6068 section 2 reads it."""
    parts = urlsplit(url)
    assert parts.scheme == "mailto"
    fields: dict[str, str] = {}
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        # Every reserved character must arrive encoded, or a client splits wrongly.
        assert "=" not in value and " " not in value and "+" not in value
        fields[name] = unquote(value, encoding="utf-8", errors="strict")
    return unquote(parts.path), fields


def _site(site: Site, title: str = TITLE) -> Site:
    site.article("first-post", title=title.replace("<", "&lt;").replace(">", "&gt;"))
    site.copy_comments("first-post", DATA / "local" / "pcs-thread")
    Archive(site.root / "archive").merge(
        "first-post",
        [
            Item(
                id="mastodon:social.example/7",
                source="mastodon",
                kind="reply",
                author=Person(name="Dee", handle="dee@social.example"),
                published=datetime(2026, 3, 1, tzinfo=timezone.utc),
                content_html="<p>From Mastodon</p>",
                url="https://social.example/@dee/7",
                extras={"reply_url": "https://social.example/@dee/7"},
            ),
            Item(
                id="wordpress:old.example/12",
                source="wordpress",
                kind="comment",
                author=Person(name="Eve"),
                published=datetime(2026, 3, 2, tzinfo=timezone.utc),
                content_html="<p>Imported from the old blog</p>",
            ),
        ],
    )
    return site


def test_every_local_and_imported_item_has_a_reply_link_and_the_thread_ends_with_one(
    site: Site,
) -> None:
    _site(site).build(ENGAGE_COMMENT_EMAIL="comments+blog@blog.example")
    section = site.html("first-post.html").select_one("section.engage")
    assert section is not None
    # No JavaScript: the only script is the thread's JSON-LD data.
    assert [s.get("type") for s in section.find_all("script")] == ["application/ld+json"]

    leave = section.select_one("a.engage-mail-comment")
    assert leave.get_text(strip=True) == "Leave a comment"
    # Last thing in the thread.
    assert section.select("a[href]")[-1] is leave
    address, fields = _parse_mailto(leave["href"])
    assert address == "comments+blog@blog.example"
    assert fields["subject"] == f"Re: {TITLE} [engage first-post]"
    assert reply_mail.parse_tag(fields["subject"]) == ("first-post", None)
    assert "https://blog.example/first-post.html" in fields["body"]
    assert "\r\n" in fields["body"] and "\n" not in fields["body"].replace("\r\n", "")

    replies = {}
    for el in section.select("[data-engage-id]"):
        link = el.find("a", class_="engage-reply-link", recursive=True)
        # The link of this item, not of a nested reply.
        assert link.find_parent(attrs={"data-engage-id": True}) is el
        replies[el["data-engage-id"]] = link
    local = {f"comment:first-post/c{n}" for n in range(1, 6)}
    assert set(replies) == local | {"mastodon:social.example/7", "wordpress:old.example/12"}
    # Items of a network are answered there; the others by mail.
    assert replies["mastodon:social.example/7"]["href"] == "https://social.example/@dee/7"
    for item_id in local | {"wordpress:old.example/12"}:
        link = replies[item_id]
        assert link.get_text(strip=True) == "Reply"
        address, fields = _parse_mailto(link["href"])
        assert address == "comments+blog@blog.example"
        assert fields["subject"].startswith(f"Re: {TITLE} [engage first-post ")
        assert reply_mail.parse_tag(fields["subject"]) == ("first-post", item_id)
        assert "https://blog.example/first-post.html#engage-" in fields["body"]
    _address, fields = _parse_mailto(replies["comment:first-post/c1"]["href"])
    assert "Ann Reader" in fields["body"]
    # No e-mail address of a commenter in any link.
    assert "reader.example" not in str(section)


def test_without_an_address_there_is_no_mail_link(site: Site) -> None:
    _site(site).build()
    section = site.html("first-post.html").select_one("section.engage")
    assert section.select("a[href^='mailto:']") == []
    assert section.select_one(".engage-mail-comment") is None


def test_a_bad_address_is_a_settings_error_naming_the_key(site: Site, caplog) -> None:
    _site(site).build(ENGAGE_COMMENT_EMAIL="not an address")
    assert any("ENGAGE_COMMENT_EMAIL" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("key", "item"),
    [
        ("post", None),
        ("post", "comment:post/c1"),
        ("with space]%", "feed:urn:uuid:1 2 [x]"),
        ("ünï", "bluesky:at://did:plc:abc/app.bsky.feed.post/3k"),
    ],
)
def test_tags_round_trip_through_a_subject(key: str, item: str | None) -> None:
    subject = f"AW: Re: Some [bracketed] title {reply_mail.tag(key, item)}"
    assert reply_mail.parse_tag(subject) == (key, item)
    assert reply_mail.parse_tag("Re: no tag here [engage]") is None


def test_mailto_encodes_what_rfc_6068_reserves() -> None:
    url = reply_mail.mailto("a.b+c@x.example", "a&b=c?d #e %f +g", "line 1\nline 2")
    assert url.startswith("mailto:a.b+c@x.example?subject=")
    _address, fields = _parse_mailto(url)
    assert fields == {"subject": "a&b=c?d #e %f +g", "body": "line 1\r\nline 2"}
