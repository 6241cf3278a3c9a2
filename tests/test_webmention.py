"""webmention.io (docs/sources.md, "webmention.io"), and one reply reached by two paths."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pelican_engage.archive import Archive
from pelican_engage.conversation import build_thread
from pelican_engage.dedup import dedupe, item_keys, url_keys
from pelican_engage.fetch import Fetcher
from pelican_engage.http import Client, HttpSettings
from pelican_engage.identity import profile_handle
from pelican_engage.model import Item, Person, Post
from pelican_engage.settings import author_identity
from pelican_engage.sources import bluesky, mastodon
from pelican_engage.sources.mastodon import StatusRef
from pelican_engage.sources.webmention import WebmentionSource, job_for, parse_feed, targets
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data"
TARGET = "https://blog.example/hello.html"
NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
FAST = HttpSettings(connect_timeout=2, read_timeout=1, backoff=0.01, max_wait=1, retries=1)
TOKEN = "wm-canary-token-7f3a"


def feed() -> dict[str, Any]:
    return json.loads((DATA / "webmention" / "mentions.json").read_text())


def test_targets_cover_both_slash_forms_and_old_urls() -> None:
    assert targets("https://blog.example/post/", ["http://old.example/2013/post", "junk"]) == [
        "https://blog.example/post/",
        "https://blog.example/post",
        "http://old.example/2013/post",
        "http://old.example/2013/post/",
    ]


def test_entries_become_items_by_wm_property() -> None:
    items, problems, newest = parse_feed(feed())
    by_id = {i.id: i for i in items}
    assert newest == 1611009
    assert [(p.id, p.reason) for p in problems] == [
        ("not-a-number", "wm-id 'not-a-number' is not a number")
    ]
    assert "webmention:1611006" not in by_id  # private: never published
    kinds = {i.id.split(":")[1]: i.kind for i in items}
    assert kinds["1611001"] == "reply" and kinds["1611002"] == "like"
    assert kinds["1611003"] == "repost"
    assert kinds["1611004"] == kinds["1611005"] == "mention"
    reply = by_id["webmention:1611001"]
    assert reply.in_reply_to is None and reply.url == "https://priya.example/2026/11/reply/"
    for bad in ("<img", "<script", "onerror", "javascript:"):
        assert bad not in reply.content_html
    assert 'href="https://priya.example/more"' in reply.content_html
    assert reply.published == datetime(2026, 11, 21, 9, tzinfo=timezone.utc)
    like = by_id["webmention:1611002"]
    # published is null: the time webmention.io received it.
    assert like.published == datetime(2026, 11, 21, 10, 27, 17, tzinfo=timezone.utc)
    assert like.content_html == ""
    mention = by_id["webmention:1611005"]
    assert mention.author.name == "Lena Bold"
    assert "I wrote about &lt;this&gt; &amp; that" in mention.content_html


def test_a_feed_that_is_not_jf2_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a jf2 feed"):
        parse_feed({"links": []})


# -- Canonical keys and dedup -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://twitter.com/ann/status/123#favorited-by-9", "twitter:123"),
        ("https://x.com/i/web/status/123", "twitter:123"),
        ("https://bsky.app/profile/Alice.bsky.social/post/3abc", "bsky:alice.bsky.social/3abc"),
        ("https://social.example/users/ann/statuses/42", "mastodon:social.example/42"),
        ("https://social.example/@ann/42", "mastodon:social.example/42"),
        (
            "https://brid.gy/comment/mastodon/@marin@social.example/1/42",
            "mastodon:social.example/42",
        ),
        ("https://brid.gy/comment/twitter/marin/1/99", "twitter:99"),
        (
            "https://brid.gy/comment/bluesky/did:plc:m/x/at%3A%2F%2Fdid%3Aplc%3Aa%2Fapp.bsky.feed.post%2F3q",
            "bsky:did:plc:a/3q",
        ),
    ],
)
def test_url_keys(url: str, key: str) -> None:
    assert key in url_keys(url)


def native_items() -> list[Item]:
    ref = StatusRef("https://social.example", "social.example", "110000000000000001")
    toots = mastodon.parse_context(
        json.loads((DATA / "mastodon" / "context.json").read_text()), ref
    )
    _root, posts = bluesky.parse_thread(json.loads((DATA / "bluesky" / "thread.json").read_text()))
    return [*toots.items, *posts]


def test_the_same_reply_by_two_paths_shows_once_as_the_richer_copy() -> None:
    webmentions, _problems, _newest = parse_feed(feed())
    native = native_items()
    kept, aliases = dedupe([*webmentions, *native])
    ids = {i.id for i in kept}
    # Bridgy's copies of Alice's Bluesky reply and Ann's Mastodon reply go;
    # the native copies, which know their parents, stay.
    assert aliases == {
        "webmention:1611007": "bluesky:at://did:plc:alice6zhxrhs64oiz/app.bsky.feed.post/3l6ovjq5xhk2c",
        "webmention:1611008": "mastodon:social.example/110000000000000002",
    }
    assert ids == {i.id for i in [*webmentions, *native]} - set(aliases)
    assert dedupe(kept) == (kept, {})


def test_a_reply_to_a_dropped_copy_moves_to_the_kept_one() -> None:
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    native = Item(
        "twitter:5",
        "twitter",
        "reply",
        Person("Ann"),
        when,
        "<p>long text</p>",
        url="https://x.com/ann/status/5",
    )
    copy = Item(
        "webmention:1",
        "webmention",
        "reply",
        Person("Ann"),
        when,
        "<p>x</p>",
        url="https://twitter.com/ann/status/5",
        extras={"wm_source": "https://brid.gy/comment/twitter/marin/1/5"},
    )
    child = Item("comment:p/c1", "local", "comment", Person("Bo"), when, in_reply_to="webmention:1")
    kept, aliases = dedupe([copy, child, native])
    assert aliases == {"webmention:1": "twitter:5"}
    assert next(i for i in kept if i.id == child.id).in_reply_to == "twitter:5"  # fmt: skip


def test_likes_are_one_per_person_and_kind() -> None:
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    marin = Person("Marin", url="https://social.example/@marin")
    native = Item("mastodon:s/1/favourite/9", "mastodon", "like", marin, when)
    bridgy = Item(
        "webmention:7",
        "webmention",
        "like",
        Person("Marin", url="https://social.example/@marin/"),
        when,
    )
    boost = Item("webmention:8", "webmention", "repost", marin, when)
    kept, aliases = dedupe([bridgy, native, boost])
    assert aliases == {"webmention:7": native.id} and len(kept) == 2
    assert item_keys(Item("webmention:9", "webmention", "like", Person("Anon"), when)) == set()


# -- Identity by profile URL --------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://twitter.com/Marin", ("twitter", "marin")),
        ("https://x.com/marin?s=1", ("twitter", "marin")),
        ("https://bsky.app/profile/marin.example", ("bluesky", "marin.example")),
        ("https://social.example/@marin", ("mastodon", "marin@social.example")),
        ("https://marin.example/about", None),
    ],
)
def test_profile_urls_name_handles(url: str, expected: tuple[str, str] | None) -> None:
    assert profile_handle(url) == expected


def test_the_author_is_recognised_on_every_network() -> None:
    items, _problems, _newest = parse_feed(feed())
    author = author_identity(
        {"names": ["Marin"], "mastodon": ["marin@social.example"], "bluesky": ["marin.example"]}
    )
    thread, _ = build_thread(Post("p"), items, author)
    # The webmention from Marin's Mastodon profile is the author's.
    assert thread.by_author == {"webmention:1611009"}
    assert "webmention:1611001" in thread.waiting  # Priya's reply answers the post
    assert not any(thread.waiting & {"webmention:1611004", "webmention:1611005"})  # mentions


# -- A loopback webmention.io -------------------------------------------------------


class FakeWebmentionIO:
    """Pages ``mentions.json`` two entries at a time, as webmention.io pages."""

    def __init__(self, server: Server) -> None:
        self.queries: list[dict[str, list[str]]] = []
        self.deleted_queries: list[dict[str, list[str]]] = []
        #: (wm-id, wm-deleted) of mentions webmention.io removed, newest first.
        self.deleted: list[tuple[int, str]] = []
        server.routes["/api/mentions.jf2"] = self.mentions
        server.routes["/api/deleted.jf2"] = self.removed

    def removed(self, handler: BaseHTTPRequestHandler, _n: int) -> None:
        """``/api/deleted.jf2``: {wm-id, wm-source, wm-target, wm-deleted}, newest
        first, ``since`` a deletion time."""
        query = parse_qs(urlsplit(handler.path).query)
        self.deleted_queries.append(query)
        since = query.get("since", [""])[0]
        children = [
            {"wm-id": i, "wm-source": f"https://gone.example/{i}", "wm-target": TARGET,
             "wm-deleted": when}
            for i, when in self.deleted
            if not since or when > since
        ]  # fmt: skip
        page, size = int(query["page"][0]), int(query["per-page"][0])
        body = {"type": "feed", "children": children[page * size : page * size + size]}
        send(handler, 200, json.dumps(body).encode(), Content_Type="application/json")

    def mentions(self, handler: BaseHTTPRequestHandler, _n: int) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        self.queries.append(query)
        since = int(query.get("since_id", ["0"])[0])
        children = [
            c
            for c in feed()["children"]
            if not isinstance(c.get("wm-id"), int) or c["wm-id"] > since
        ]
        page, size = int(query["page"][0]), int(query["per-page"][0])
        body = {
            "type": "feed",
            "name": "Webmentions",
            "children": children[page * size : page * size + size],
        }
        send(handler, 200, json.dumps(body).encode(), Content_Type="application/json")


def wm_fetcher(tmp_path: Path, server: Server, token: str = "") -> tuple[Fetcher, Client]:
    client = Client(FAST, secrets=[token], clock=lambda: NOW)
    source = WebmentionSource(client, api_url=server.url, token=token, per_page=2)
    return Fetcher(Archive(tmp_path / "archive"), {"webmention": source}, clock=lambda: NOW), client


def wm_job(server: Server):
    return job_for(
        "post", f"{TARGET} https://old.example/hello/", NOW - timedelta(days=3), server.url
    )


def test_fetch_pages_from_zero_then_asks_since_the_newest(server: Server, tmp_path: Path) -> None:
    fake = FakeWebmentionIO(server)
    fetcher, _client = wm_fetcher(tmp_path, server, token=TOKEN)
    summary = fetcher.run([wm_job(server)])
    assert not summary.errors and summary.new_items == 8
    assert [q["page"] for q in fake.queries] == [[str(n)] for n in range(6)]
    assert fake.queries[0]["target[]"] == [
        TARGET, TARGET + "/", "https://old.example/hello/", "https://old.example/hello"
    ]  # fmt: skip
    assert fake.queries[0]["token"] == [TOKEN]
    record = Archive(tmp_path / "archive").load("post")
    cursor = record.cursors[f"webmention:{wm_job(server).target}"]
    assert cursor["since_id"] == 1611009 and cursor["skipped_entries"] == 1
    assert TOKEN not in Archive(tmp_path / "archive").post_path("post").read_text()

    fake.queries.clear()
    fetcher.run(fetcher.due([wm_job(server)], force=True))
    assert fake.queries[0]["since_id"] == ["1611009"] and len(fake.queries) == 1


@pytest.mark.parametrize(
    "failure",
    [
        lambda h, n: send(h, 401, (DATA / "webmention" / "401.json").read_bytes()),
        lambda h, n: send(h, 500),
        lambda h, n: send(h, 200, b'{"type": "feed", "children": [{"wm-id'),
    ],
    ids=["401", "500", "truncated"],
)
def test_failures_keep_the_archive(server: Server, tmp_path: Path, failure: Any) -> None:
    FakeWebmentionIO(server)
    fetcher, _client = wm_fetcher(tmp_path, server, token=TOKEN)
    fetcher.run([wm_job(server)])
    path = Archive(tmp_path / "archive").post_path("post")
    before = path.read_bytes()
    server.routes["/api/mentions.jf2"] = failure
    summary = fetcher.run(fetcher.due([wm_job(server)], force=True))
    assert summary.errors["webmention"] == 1 and TOKEN not in summary.messages["webmention"]
    assert path.read_bytes() == before


def wm_entry(wm_id: int, **fields: Any) -> dict[str, Any]:
    entry = {
        "type": "entry",
        "wm-id": wm_id,
        "wm-property": "in-reply-to",
        "wm-received": "2026-11-21T09:00:00Z",
        "published": None,
        "author": {"type": "card", "name": "X", "photo": None, "url": None},
        "content": {"text": "text"},
    }
    entry.update(fields)
    return entry


def test_a_page_cannot_claim_to_be_the_author() -> None:
    marin = {"type": "card", "name": "Marin", "photo": None, "url": "https://social.example/@marin"}

    def sent(wm_id: int, url: str, source: str) -> dict[str, Any]:
        return wm_entry(wm_id, author=marin, url=url, **{"wm-source": source})

    forged = sent(1, "https://evil.example/r", "https://evil.example/r")
    own = sent(2, "https://social.example/@marin/7", "https://social.example/@marin/7")
    bridgy = sent(
        3,
        "https://social.example/@marin/8",
        "https://brid.gy/comment/mastodon/@marin@social.example/1/8",
    )
    items, _problems, _newest = parse_feed({"children": [forged, own, bridgy]})
    author = author_identity({"names": ["Marin"], "mastodon": ["marin@social.example"]})
    thread, _ = build_thread(Post("p"), items, author)
    assert thread.by_author == {"webmention:2", "webmention:3"}
    assert "webmention:1" in thread.waiting  # a stranger, answering the post  # fmt: skip


def test_a_webmention_cannot_take_the_place_of_another() -> None:
    real = wm_entry(2, url="https://priya.example/r", **{"wm-source": "https://priya.example/r"})
    spam = wm_entry(
        3,
        url="https://spam.example/x",
        syndication=["https://priya.example/r"],
        content={"text": "a much longer text, to look like the richer copy of the two"},
        **{"wm-source": "https://spam.example/x"},
    )
    items, _problems, _newest = parse_feed({"children": [real, spam]})
    kept, aliases = dedupe(items)
    assert aliases == {} and len(kept) == 2


def test_bridgy_likes_are_part_of_the_networks_total() -> None:
    from pelican_engage.conversation import engagement

    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    bridgy = [
        Item(
            f"webmention:{n}",
            "webmention",
            "like",
            Person(f"P{n}", url=f"https://bsky.app/profile/p{n}"),
            when,
            extras={"wm_source": f"https://brid.gy/like/bluesky/did:plc:m/3abc/did:plc:p{n}"},
        )
        for n in range(2)
    ]
    blog = Item("webmention:9", "webmention", "like", Person("Q", url="https://q.example/"), when)
    thread, _ = build_thread(Post("p"), [*bridgy, blog], author_identity("Marin"))
    # Bluesky counts 5 likes (reactions not fetched); Bridgy named 2 of them.
    counts = engagement(thread, announced={"bluesky": {"like": 5, "repost": 0}}).counts
    assert counts["like"] == 5 + 1


def test_a_refused_token_stops_webmentions_with_a_warning(
    server: Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.routes["/api/mentions.jf2"] = lambda h, n: send(
        h, 401, (DATA / "webmention" / "401.json").read_bytes()
    )
    client = Client(FAST, secrets=[TOKEN], clock=lambda: NOW)
    source = WebmentionSource(client, api_url=server.url, token=TOKEN)
    fetcher = Fetcher(
        Archive(tmp_path / "archive"), {"webmention": source}, clock=lambda: NOW, concurrency=1
    )
    jobs = [job_for(f"p{n}", f"https://blog.example/{n}.html", NOW, server.url) for n in range(5)]
    caplog.set_level("INFO")
    summary = fetcher.run(jobs)
    assert server.hits["/api/mentions.jf2"] == 1 and summary.skipped == 4
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "ENGAGE_WEBMENTION_TOKEN" in warnings[0]
    assert TOKEN not in warnings[0]


def test_a_rate_limit_defers_webmentions(server: Server, tmp_path: Path) -> None:
    # An hour's wait: deferred to the next build, not slept on.
    server.routes["/api/mentions.jf2"] = lambda h, n: send(h, 429, b"", Retry_After="3600")
    client = Client(FAST, secrets=[TOKEN])
    source = WebmentionSource(client, api_url=server.url)
    fetcher = Fetcher(Archive(tmp_path / "archive"), {"webmention": source}, concurrency=1)
    jobs = [job_for(f"p{n}", f"https://blog.example/{n}.html", NOW, server.url) for n in range(3)]
    summary = fetcher.run(jobs)
    assert "rate limited until" in summary.messages["webmention"] and summary.skipped == 2


def test_comments_of_one_page_are_not_one_comment() -> None:
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    comments = [
        Item(f"feed:{n}", "feed", "comment", Person(f"P{n}"), when, url=f"https://b.example/p/#comment-{n}")
        for n in range(3)
    ]  # fmt: skip
    kept, aliases = dedupe(comments)
    assert aliases == {} and len(kept) == 3
