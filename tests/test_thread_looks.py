"""How items look: where they came from, mentions as rows, times in the
site's zone, schema.org JSON-LD and microformats2 (read back with mf2py)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import mf2py
import pytest

from pelican_engage.archive import Archive
from pelican_engage.model import Item, Person, parse_timestamp
from tests.conftest import Site

SITEURL = "https://blog.example"


def _item(item_id: str, kind: str = "reply", **fields: Any) -> Item:
    source = item_id.split(":", 1)[0]
    defaults: dict[str, Any] = {
        "author": Person(name=f"Someone on {source}"),
        "published": datetime(2026, 1, 3, 9, 30, tzinfo=timezone.utc),
        "content_html": f"<p>Hello from {source}</p>",
    }
    defaults.update(fields)
    return Item(id=item_id, source=source, kind=kind, **defaults)


def _archive(site: Site, *items: Item) -> None:
    Archive(site.root / "archive").merge("post", list(items))


# -- Source marks -----------------------------------------------------------------------


EVERY_SOURCE = {
    "mastodon:social.example/1": "Mastodon",
    "twitter:1001": "X",
    "bluesky:at://did:plc:ann/app.bsky.feed.post/1": "Bluesky",
    "webmention:77": "webmention",
    "wordpress:old.example/5": "WordPress",
    "disqus:42": "Disqus",
    "feed:tag:old.example,2013:7": "comment feed",
}


def test_every_item_says_where_it_came_from_with_an_icon_and_a_label(site: Site) -> None:
    site.article("post")
    _archive(site, *(_item(i, "comment") for i in EVERY_SOURCE))
    site.comment("post", "c1.md", "Local", author="Lou", date="2026-01-04")
    site.comment(
        "post",
        "c2.md",
        "By mail",
        author="Mo",
        date="2026-01-04",
        message_id="<abc@reader.example>",
    )
    site.build(ENGAGE_OFFLINE=True)
    page = site.html("post.html")
    expected = {
        **EVERY_SOURCE,
        "comment:post/c1": "this site",
        "comment:post/c2": "e-mail",
    }
    for item_id, label in expected.items():
        li = page.select_one(f'li[data-engage-id="{item_id}"]')
        mark = li.select_one(".engage-meta .engage-source-mark")
        assert mark is not None, item_id
        # A decorative icon, and the label as text that is read out.
        icon = mark.select_one("svg")
        assert icon is not None and icon["aria-hidden"] == "true", item_id
        assert mark.select_one(".engage-visually-hidden").get_text() == f"on {label}"
        assert mark["title"] == label
    # Each network has its own drawing, defined once in the page (an SVG
    # symbol in its first mark) and used again by the later marks.
    symbols = page.select(".engage-source-mark symbol")
    assert len({s["id"] for s in symbols}) == len(symbols) == len(expected)
    drawings = {s["id"]: s.select_one("path")["d"] for s in symbols}
    assert len(set(drawings.values())) == len(expected)
    for li in page.select("li.engage-item"):
        use = li.select_one(".engage-meta .engage-source-mark use")
        assert use["href"].removeprefix("#") in drawings, li["data-engage-id"]


# -- Mentions and pingbacks -------------------------------------------------------------------


def test_mentions_and_pingbacks_are_rows_and_not_comments(site: Site) -> None:
    site.article("post")
    _archive(
        site,
        _item("mastodon:social.example/1", author=Person(name="Bo")),
        _item(
            "webmention:9",
            "mention",
            author=Person(name="Ann", url="https://ann.example/"),
            url="https://www.ann.example/notes/1",
            content_html="<p>I wrote about this post.</p>",
        ),
        # As WordPress keeps a pingback: its author's URL is the page that
        # links here; its own URL, the comment on the old blog.
        _item(
            "wordpress:old.example/pingback-1",
            "mention",
            author=Person(name="Old Friend's Blog", url="https://friend.example/2013/a-post/"),
            url="https://old.example/2013/hello/#comment-5",
            content_html="",
        ),
    )
    site.comment("post", "c1.md", "Nice", author="Lou", date="2026-01-04")
    site.build(ENGAGE_OFFLINE=True)
    page = site.html("post.html")
    # Two comments: mentions are shown but not counted as comments.
    assert page.select_one(".engage-heading").get_text() == "2 comments"
    for item_id, text in (
        ("webmention:9", "Ann mentioned this on ann.example"),
        ("wordpress:old.example/pingback-1", "Old Friend's Blog mentioned this on friend.example"),
    ):
        li = page.select_one(f'li[data-engage-id="{item_id}"]')
        assert "engage-mention" in li["class"]
        assert li.select_one(".engage-card") is None  # not a comment card
        row = li.select_one(".engage-mention-row")
        for hidden in row.select('[aria-hidden="true"]'):
            hidden.decompose()  # what a screen reader reads
        assert " ".join(row.get_text(" ", strip=True).split()).startswith(text)
        link = row.select_one("a.engage-mention-link")
        assert link["href"].endswith(("/notes/1", "/a-post/"))
        assert row.select_one("time.dt-published") is not None
    # What a mention says is kept, compactly.
    ann = page.select_one('li[data-engage-id="webmention:9"] .e-content')
    assert ann.get_text(strip=True) == "I wrote about this post."
    # The comment cards are only the comments.
    assert len(page.select("li.engage-item > .engage-card")) == 2


# -- Times in the site's zone --------------------------------------------------------------


def test_every_time_is_shown_in_the_site_zone(site: Site) -> None:
    site.article("post")
    _archive(
        site,
        # 09:30 UTC in winter and 20:15 UTC in summer.
        _item("mastodon:social.example/1"),
        _item(
            "bluesky:at://did:plc:ann/app.bsky.feed.post/2",
            published=datetime(2026, 7, 1, 20, 15, tzinfo=timezone.utc),
        ),
    )
    # A local comment's naive date is in TIMEZONE already.
    site.comment("post", "c1.md", "Local", author="Lou", date="2026-01-03 10:20")
    site.build(ENGAGE_OFFLINE=True, TIMEZONE="Europe/Paris", ENGAGE_DATE_FORMAT="%Y-%m-%d %H:%M")
    page = site.html("post.html")

    def when(item_id: str) -> tuple[str, str]:
        time = page.select_one(f'li[data-engage-id="{item_id}"] time.dt-published')
        return time["datetime"], time.get_text()

    assert when("comment:post/c1") == ("2026-01-03T10:20:00+01:00", "2026-01-03 10:20")
    assert when("mastodon:social.example/1") == ("2026-01-03T10:30:00+01:00", "2026-01-03 10:30")
    assert when("bluesky:at://did:plc:ann/app.bsky.feed.post/2") == (
        "2026-07-01T22:15:00+02:00",
        "2026-07-01 22:15",
    )
    # In the site's zone the thread reads in order.
    shown = [t.get_text() for t in page.select("ol.engage-thread > li time.dt-published")]
    assert shown == sorted(shown)

    # By default the site's language writes the date, still in the site's zone.
    site.build(ENGAGE_OFFLINE=True, TIMEZONE="Europe/Paris", DEFAULT_LANG="fr")
    page = site.html("post.html")
    assert when("mastodon:social.example/1") == ("2026-01-03T10:30:00+01:00", "3 janv. 2026, 10:30")


def test_an_unknown_zone_shows_utc() -> None:
    from pelican_engage.render import local_time

    when = datetime(2026, 1, 3, 9, 30, tzinfo=timezone.utc)
    assert local_time(when, "Mars/Olympus_Mons").isoformat() == "2026-01-03T09:30:00+00:00"
    assert local_time(when, "Asia/Kolkata").isoformat() == "2026-01-03T15:00:00+05:30"


# -- Structured data -----------------------------------------------------------------------

HOSTILE = '</script><script>alert(1)</script><!-- & "quoted" \u2028 end'


def _json_ld(page: str) -> Any:
    (found,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, flags=re.S)
    return found, json.loads(found)


def test_json_ld_describes_the_conversation_and_cannot_be_broken_out_of(site: Site) -> None:
    site.article("post", title="Hostile & friends")
    parent = _item(
        "mastodon:social.example/1",
        author=Person(name="Ann </script>", url="https://ann.example/"),
        url="https://social.example/@ann/1",
        content_html=f"<p>{HOSTILE.replace('&', '&amp;').replace('<', '&lt;')}</p>",
    )
    reply = _item(
        "mastodon:social.example/2",
        author=Person(name="Marin"),
        in_reply_to="mastodon:social.example/1",
        published=datetime(2026, 1, 4, tzinfo=timezone.utc),
        content_html="<p>Thanks</p>",
    )
    likes = [
        _item(f"mastodon:social.example/like-{n}", "like", author=Person(name=f"L{n}"))
        for n in range(3)
    ]
    repost = _item("bluesky:at://did:plc:r/app.bsky.feed.repost/1", "repost")
    mention = _item("webmention:9", "mention", url="https://ann.example/notes/1")
    _archive(site, parent, reply, *likes, repost, mention)
    site.build(ENGAGE_OFFLINE=True)
    page = (site.output / "post.html").read_text(encoding="utf-8")

    raw, data = _json_ld(page)
    # Nothing in the script can end it or open a comment.
    assert "<" not in raw and ">" not in raw and "&" not in raw and "\u2028" not in raw
    assert data["@context"] == "https://schema.org"
    assert data["@id"] == data["url"] == f"{SITEURL}/post.html"
    assert data["headline"] == "Hostile & friends"
    assert data["commentCount"] == 2
    stats = {s["interactionType"]: s["userInteractionCount"] for s in data["interactionStatistic"]}
    assert stats == {
        "https://schema.org/CommentAction": 2,
        "https://schema.org/LikeAction": 3,
        "https://schema.org/ShareAction": 1,
    }
    first, second = data["comment"]
    assert first["@type"] == "Comment"
    assert first["author"] == {
        "@type": "Person",
        "name": "Ann </script>",
        "url": "https://ann.example/",
    }
    assert first["text"] == " ".join(HOSTILE.split())
    assert first["dateCreated"] == "2026-01-03T09:30:00+00:00"
    assert first["url"] == "https://social.example/@ann/1"
    assert second["parentItem"] == {"@id": first["@id"]}
    assert first["@id"] == f"{SITEURL}/post.html#engage-mastodon-social.example-1"


def test_a_deep_chain_is_a_long_list_not_a_deep_one(site: Site) -> None:
    site.article("post")
    chain = [
        _item(
            f"mastodon:social.example/{n}",
            in_reply_to=f"mastodon:social.example/{n - 1}" if n else None,
            published=datetime(2026, 1, 3, tzinfo=timezone.utc).replace(microsecond=n),
        )
        for n in range(1500)
    ]
    _archive(site, *chain)
    site.build(ENGAGE_OFFLINE=True)
    _raw, data = _json_ld((site.output / "post.html").read_text(encoding="utf-8"))
    assert data["commentCount"] == 1500 and len(data["comment"]) == 1500


def _mf2_items(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    """Every microformat in a parse, nested ones included."""
    found, stack = [], list(parsed["items"])
    while stack:
        item = stack.pop()
        found.append(item)
        stack.extend(item.get("children", []))
        for values in item.get("properties", {}).values():
            stack.extend(v for v in values if isinstance(v, dict) and "type" in v)
    return found


@pytest.mark.parametrize("theme", ["notmyidea", "simple"])
def test_microformats2_read_back_with_mf2py(site: Site, theme: str) -> None:
    site.article("post")
    _archive(
        site,
        _item(
            "mastodon:social.example/1",
            author=Person(name="Ann", url="https://social.example/@ann"),
            url="https://social.example/@ann/1",
            content_html="<p>Question?</p>",
        ),
        _item(
            "mastodon:social.example/2",
            author=Person(name="Marin"),
            in_reply_to="mastodon:social.example/1",
            url="https://social.example/@marin/2",
            content_html="<p>Answer.</p>",
        ),
        _item("webmention:9", "mention", author=Person(name="Bo"), url="https://bo.example/x"),
    )
    site.build(ENGAGE_OFFLINE=True, THEME=theme)
    page = (site.output / "post.html").read_text(encoding="utf-8")
    parsed = mf2py.parse(doc=page, url=f"{SITEURL}/post.html")
    entries = {
        item["properties"]["url"][0]: item
        for item in _mf2_items(parsed)
        if "h-cite" in item["type"] and "url" in item["properties"]
    }
    ann = entries["https://social.example/@ann/1"]
    author = ann["properties"]["author"][0]
    assert "h-card" in author["type"]
    assert author["properties"]["name"] == ["Ann"]
    assert author["properties"]["url"] == ["https://social.example/@ann"]
    (published,) = ann["properties"]["published"]  # mf2py writes the offset as +0000
    # (Python 3.10's fromisoformat refuses "+0000": the project's one parser reads it.)
    assert parse_timestamp(published) == datetime(2026, 1, 3, 9, 30, tzinfo=timezone.utc)
    assert ann["properties"]["content"][0]["value"] == "Question?"
    # The reply is a comment of Ann's entry, as IndieWeb readers nest them.
    replies = ann["properties"].get("comment", [])
    assert [r["properties"]["url"][0] for r in replies] == ["https://social.example/@marin/2"]
    assert replies[0]["properties"]["content"][0]["value"] == "Answer."
    # The mention row is a citation with its author and link.
    bo = entries["https://bo.example/x"]
    assert bo["properties"]["author"][0]["properties"]["name"] == ["Bo"]
