"""One post answered on Mastodon, Bluesky and by webmention: one conversation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Site
from tests.loopback import Server
from tests.test_bluesky import ANN, FakeAppView
from tests.test_fetch import ROOT as TOOT
from tests.test_fetch import serve_mastodon
from tests.test_webmention import FakeWebmentionIO

INDEX = """{% extends "!simple/index.html" %}
{% block content %}{% for article in articles_page.object_list %}
<p class="counts" data-slug="{{ article.slug }}">{{ article.engage.counts.get("like", 0) }}
{{ article.engage.counts.get("repost", 0) }} {{ article.engage.total }}</p>
{% endfor %}{% endblock %}
"""


@pytest.fixture
def networks(server: Server) -> Server:
    serve_mastodon(server)
    FakeAppView(server)
    FakeWebmentionIO(server)
    return server


def build(site: Site, server: Server, tmp_path: Path) -> None:
    overrides = tmp_path / "overrides"
    overrides.mkdir(exist_ok=True)
    (overrides / "index.html").write_text(INDEX, encoding="utf-8")
    host = server.url.split("//", 1)[1].split(":", 1)[0]
    site.build(
        ENGAGE_AUTHOR={
            "names": ["Marin"],
            "mastodon": [f"marin@{host}", "marin@social.example"],
            "bluesky": ["marin.example"],
        },
        ENGAGE_BLUESKY={"api_url": server.url},
        ENGAGE_WEBMENTION={"api_url": server.url},
        THEME_TEMPLATES_OVERRIDES=[str(overrides)],
    )


def test_three_networks_make_one_conversation(
    site: Site, networks: Server, tmp_path: Path, engage_warnings
) -> None:
    site.article(
        "hello",
        mastodon=f"{networks.url}/@marin/{TOOT}",
        bluesky="https://bsky.app/profile/marin.example/post/3l6oveex3ii2l",
        old_urls="https://old.example/2013/hello/",
    )
    build(site, networks, tmp_path)
    page = site.html("hello.html")
    ids = [li["data-engage-id"] for li in page.select("li.engage-item")]
    assert len(ids) == len(set(ids))
    sources = sorted({i.split(":", 1)[0] for i in ids})
    assert sources == ["bluesky", "mastodon", "webmention"]
    # Bridgy's copies of Ann's toot and Alice's Bluesky reply are gone: each
    # reply shows once, as the native copy that knows its place.
    assert "webmention:1611007" not in ids and "webmention:1611008" not in ids
    # (A mention without text is a bare row, with no e-content.)
    texts = [c.get_text() for c in page.select("li.engage-item > div > .e-content")]
    assert sum("Great read!" in t for t in texts) == 1
    alice = page.select_one(f'[data-engage-id="bluesky:{ANN.rsplit("/", 1)[0]}"]')
    assert alice is None  # the announcement itself is not an item
    # The author, on each network, wears the badge.
    badges = {
        li["data-engage-id"].split(":", 1)[0]
        for li in page.select("li.engage-by-author")
    }  # fmt: skip
    assert badges == {"mastodon", "bluesky", "webmention"}
    # Likes and reposts are a row, never comments.
    assert not page.select("li.engage-kind-like, li.engage-kind-repost")
    likes = page.select_one(".engage-likes").get_text(" ", strip=True)
    reposts = page.select_one(".engage-reposts").get_text(" ", strip=True)
    # Mastodon counts 2 (names 1), Bluesky 2 (names 2), a webmention 1.
    assert likes.startswith("Liked by 5:") and "and 1 more" in likes
    # Mastodon's one boost is the one Bridgy sent as a webmention: counted once.
    assert reposts.startswith("Reposted by 2:")
    assert len(page.select(".engage-reposts a.engage-reactor")) == 2
    for img in page.select(".engage-reactions img"):
        assert img["alt"]
    assert [a.get_text() for a in page.select("a.engage-announcement")] == [
        "on Mastodon",
        "on Bluesky",
    ]
    counts = site.html("index.html").select_one('p.counts[data-slug="hello"]').get_text().split()
    assert counts == ["5", "2", str(len(ids))]
    assert engage_warnings() == []


def test_webmentions_without_siteurl_say_what_is_missing(
    site: Site, networks: Server, engage_warnings
) -> None:
    site.article("hello")
    site.build(SITEURL="", ENGAGE_WEBMENTION={"api_url": networks.url})
    assert engage_warnings() == [
        "engage: ENGAGE_WEBMENTION: needs SITEURL: webmention.io is asked by each "
        "article's full URL"
    ]
    assert "/api/mentions.jf2" not in networks.hits


def test_one_announcement_under_two_names_counts_once(site: Site, tmp_path: Path) -> None:
    from pelican_engage.archive import Archive

    site.article("hello", bluesky=ANN)
    # The metadata once named the post by its bsky.app URL: two cursors, one post.
    counts = {"replies": 0, "likes": 2, "reposts": 1}
    Archive(site.root / "archive").merge(
        "hello",
        [],
        {
            f"bluesky:{ANN}": {
                "uri": ANN,
                "counts": counts,
                "fetched_at": "2026-11-21T00:00:00+00:00",
            },
            "bluesky:https://bsky.app/profile/marin.example/post/3l6oveex3ii2l": {
                "uri": ANN,
                "counts": {**counts, "likes": 1},
                "fetched_at": "2026-11-20T00:00:00+00:00",
            },
        },
    )
    site.build(ENGAGE_OFFLINE=True)
    page = site.html("hello.html")
    assert page.select_one(".engage-likes").get_text(" ", strip=True) == "Liked by 2"
    assert page.select_one(".engage-reposts").get_text(" ", strip=True) == "Reposted by 1"
