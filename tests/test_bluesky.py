"""Bluesky (docs/sources.md, "Bluesky AppView"): facets, threads, and a loopback AppView."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st

from pelican_engage.archive import Archive
from pelican_engage.conversation import build_thread
from pelican_engage.fetch import Fetcher
from pelican_engage.http import Client, HttpSettings
from pelican_engage.model import Post
from pelican_engage.settings import author_identity
from pelican_engage.sources.bluesky import (
    THREAD_DEPTH,
    BlueskySource,
    job_for,
    parse_post_ref,
    parse_thread,
    post_html,
)
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "bluesky"
ROOT_DID = "did:plc:marin7hdynmk6r22z27h6tvu"
ANN = f"at://{ROOT_DID}/app.bsky.feed.post/3l6oveex3ii2l"
ALICE = "at://did:plc:alice6zhxrhs64oiz/app.bsky.feed.post/3l6ovjq5xhk2c"
NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
FAST = HttpSettings(connect_timeout=2, read_timeout=1, backoff=0.01, max_wait=1, retries=1)


def load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://bsky.app/profile/marin.example/post/3l6oveex3ii2l", ("marin.example", False)),
        (f"https://bsky.app/profile/{ROOT_DID}/post/3l6oveex3ii2l", (ROOT_DID, True)),
        (ANN, (ROOT_DID, True)),
    ],
)
def test_post_references(value: str, expected: tuple[str, bool]) -> None:
    ref = parse_post_ref(value)
    assert (ref.actor, ref.is_did, ref.rkey) == (*expected, "3l6oveex3ii2l")


@pytest.mark.parametrize(
    "value",
    [
        "https://bsky.app/profile/marin.example",
        "https://evil.example/profile/a.b/post/1",
        "at://did:plc:x/app.bsky.feed.like/1",
        "https://bsky.app/profile/not a handle/post/1",
        "javascript:alert(1)",
    ],
)
def test_bad_references_say_why(value: str) -> None:
    with pytest.raises(ValueError, match="not a Bluesky post"):
        parse_post_ref(value)


# -- Facets: UTF-8 byte offsets ------------------------------------------------


def facet(text: str, sub: str, feature: dict[str, Any]) -> dict[str, Any]:
    start = text.encode().index(sub.encode())
    return {
        "index": {"byteStart": start, "byteEnd": start + len(sub.encode())},
        "features": [feature],
    }


def link(uri: str) -> dict[str, str]:
    return {"$type": "app.bsky.richtext.facet#link", "uri": uri}


def test_facets_are_byte_ranges_after_multibyte_text() -> None:
    text = "Ünïcödé 👩‍💻 then blog.example/x & more"
    out = post_html(text, [facet(text, "blog.example/x", link("https://blog.example/x"))])
    assert '<a href="https://blog.example/x" rel="nofollow ugc noopener">blog.example/x</a>' in out
    assert "👩‍💻 then " in out and "&amp; more" in out


def test_mentions_and_tags_link_to_bluesky() -> None:
    text = "@alice.bsky.social loves #pelican"
    mention = {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"}
    tag = {"$type": "app.bsky.richtext.facet#tag", "tag": "pelican"}
    out = post_html(
        text, [facet(text, "@alice.bsky.social", mention), facet(text, "#pelican", tag)]
    )
    assert 'href="https://bsky.app/profile/did:plc:alice"' in out
    assert 'href="https://bsky.app/hashtag/pelican"' in out


@pytest.mark.parametrize(
    "facets",
    [
        [{"index": {"byteStart": 0, "byteEnd": 999}, "features": [link("https://a.example/")]}],
        [{"index": {"byteStart": 1, "byteEnd": 3}, "features": [link("https://a.example/")]}],
        [{"index": {"byteStart": 5, "byteEnd": 2}, "features": [link("https://a.example/")]}],
        [{"index": {"byteStart": 0, "byteEnd": 4}, "features": [link("javascript:alert(1)")]}],
        [{"index": {"byteStart": "a", "byteEnd": 4}, "features": [link("https://a.example/")]}],
        [{"index": None}, "junk", None],
    ],
    ids=["out-of-range", "splits-a-character", "backwards", "javascript", "not-a-number", "junk"],
)
def test_bad_facets_are_rendered_as_text(facets: list[Any]) -> None:
    out = post_html("é😀 text", facets)
    assert "<a" not in out and "é😀 text" in out


def test_overlapping_facets_keep_the_first() -> None:
    text = "abcdef"
    out = post_html(
        text,
        [
            {"index": {"byteStart": 0, "byteEnd": 4}, "features": [link("https://one.example/")]},
            {"index": {"byteStart": 2, "byteEnd": 6}, "features": [link("https://two.example/")]},
        ],
    )
    assert "one.example" in out and "two.example" not in out and "ef" in out


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)


@given(_TEXT, _TEXT, _TEXT.filter(lambda t: t.strip()))
def test_rendered_text_is_the_post_text(before: str, after: str, linked: str) -> None:
    text = before + linked + after
    start = len(before.encode())
    facets = [
        {
            "index": {"byteStart": start, "byteEnd": start + len(linked.encode())},
            "features": [link("https://a.example/")],
        }
    ]
    out = post_html(text, facets)
    shown = BeautifulSoup(out, "html.parser").get_text()
    # Every character once (line breaks become markup), nothing escaped twice.
    assert "".join(shown.split()) == "".join(text.split())
    assert out.count("<a ") == 1


# -- Threads ----------------------------------------------------------------------


def test_thread_walks_every_level_and_skips_placeholders() -> None:
    root, items = parse_thread(load_json("thread.json"))
    assert root["uri"] == ANN and root["likeCount"] == 2
    by_author = {i.author.handle: i for i in items}
    assert set(by_author) == {
        "alice.bsky.social",
        "marin.example",
        "bob.example.com",
        "chloe.bsky.social",
    }
    alice, marin = by_author["alice.bsky.social"], by_author["marin.example"]
    assert alice.id == f"bluesky:{ALICE}" and alice.in_reply_to is None
    assert marin.in_reply_to == alice.id
    assert by_author["chloe.bsky.social"].in_reply_to == marin.id
    assert alice.url == "https://bsky.app/profile/alice.bsky.social/post/3l6ovjq5xhk2c"
    assert alice.reply_url == alice.url
    assert alice.author.name == "Alice" and alice.author.avatar.startswith("https://cdn.bsky.app/")
    bob = by_author["bob.example.com"]
    assert bob.author.name == "bob.example.com"  # no displayName
    assert "<script" not in bob.content_html and "javascript" not in bob.content_html
    assert "&lt;script&gt;" in bob.content_html
    assert by_author["chloe.bsky.social"].published == datetime(
        2026, 11, 21, 8, 30, tzinfo=timezone.utc
    )

    thread, problems = build_thread(
        Post("post"), items, author_identity({"names": ["Marin"], "bluesky": ["marin.example"]})
    )
    assert thread.by_author == {marin.id} and problems == []
    # Alice was answered; Chloé asks the author's reply a question; Bob
    # answers the post.
    assert thread.waiting == {by_author["chloe.bsky.social"].id, bob.id}


def test_a_deep_thread_is_walked_without_recursion() -> None:
    node: dict[str, Any] = {"post": {"uri": ANN}, "replies": []}
    top = node
    for n in range(3000):
        child = {
            "post": {
                "uri": f"at://did:plc:a/app.bsky.feed.post/{n}",
                "author": {"did": "did:plc:a", "handle": "a.example"},
                "record": {"text": str(n), "createdAt": "2026-11-20T10:00:00Z"},
            },
            "replies": [],
        }
        node["replies"].append(child)
        node = child
    _root, items = parse_thread({"thread": top})
    assert len(items) == 3000


@pytest.mark.parametrize(
    "answer",
    [{}, {"thread": {"$type": "app.bsky.feed.defs#notFoundPost", "notFound": True}}, []],
)
def test_a_thread_without_a_root_is_an_error(answer: Any) -> None:
    with pytest.raises(ValueError, match="thread has no post"):
        parse_thread(answer)


# -- A loopback AppView ---------------------------------------------------------


class FakeAppView:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.queries: list[dict[str, str]] = []
        for method, name in (
            ("com.atproto.identity.resolveHandle", "resolve-handle.json"),
            ("app.bsky.feed.getPostThread", "thread.json"),
            ("app.bsky.feed.getLikes", "likes.json"),
            ("app.bsky.feed.getRepostedBy", "reposted-by.json"),
        ):
            server.routes[f"/xrpc/{method}"] = self._answer(name)

    def _answer(self, name: str):
        def handler(h: BaseHTTPRequestHandler, _n: int) -> None:
            url = urlsplit(h.path)
            self.queries.append(
                {"method": url.path, **{k: v[0] for k, v in parse_qs(url.query).items()}}
            )
            send(h, 200, (DATA / name).read_bytes(), Content_Type="application/json")

        return handler

    def fail(self, method: str, status: int, name: str, **headers: str) -> None:
        body = (DATA / name).read_bytes()
        self.server.routes[f"/xrpc/{method}"] = lambda h, n: send(h, status, body, **headers)


@pytest.fixture
def appview(server: Server) -> FakeAppView:
    return FakeAppView(server)


def bsky_fetcher(tmp_path: Path, server: Server, **kwargs: Any) -> Fetcher:
    source = BlueskySource(Client(FAST, clock=lambda: NOW), api_url=server.url, **kwargs)
    return Fetcher(Archive(tmp_path / "archive"), {"bluesky": source}, clock=lambda: NOW)


def bsky_job(
    server: Server, value: str = "https://bsky.app/profile/marin.example/post/3l6oveex3ii2l"
):
    return job_for("post", value, NOW - timedelta(days=2), server.url)


def test_fetch_resolves_the_handle_once_and_archives_the_thread(
    appview: FakeAppView, server: Server, tmp_path: Path
) -> None:
    fetcher = bsky_fetcher(tmp_path, server)
    summary = fetcher.run([bsky_job(server)])
    assert not summary.errors and summary.new_items == 4 + 2 + 1
    methods = [q["method"] for q in appview.queries]
    assert methods[:2] == [
        "/xrpc/com.atproto.identity.resolveHandle",
        "/xrpc/app.bsky.feed.getPostThread",
    ]
    # The two lists go out together, in either order.
    assert sorted(methods[2:]) == [
        "/xrpc/app.bsky.feed.getLikes",
        "/xrpc/app.bsky.feed.getRepostedBy",
    ]
    assert appview.queries[0]["handle"] == "marin.example"
    assert appview.queries[1]["uri"] == ANN and appview.queries[1]["depth"] == str(THREAD_DEPTH)
    record = Archive(tmp_path / "archive").load("post")
    cursor = record.cursors[f"bluesky:{bsky_job(server).target}"]
    assert cursor["uri"] == ANN and cursor["counts"] == {"replies": 4, "likes": 2, "reposts": 1}
    kinds = sorted(i.kind for i in record.items.values())
    assert kinds == ["like", "like", "reply", "reply", "reply", "reply", "repost"]

    appview.queries.clear()
    fetcher.run(fetcher.due([bsky_job(server)], force=True))
    # The DID is in the archive: no second resolveHandle.
    assert "/xrpc/com.atproto.identity.resolveHandle" not in [q["method"] for q in appview.queries]


def test_a_did_url_needs_no_resolution(
    appview: FakeAppView, server: Server, tmp_path: Path
) -> None:
    bsky_fetcher(tmp_path, server, reactions=False).run([bsky_job(server, ANN)])
    assert [q["method"] for q in appview.queries] == ["/xrpc/app.bsky.feed.getPostThread"]


def test_a_deleted_post_is_marked_and_the_archive_kept(
    appview: FakeAppView, server: Server, tmp_path: Path
) -> None:
    fetcher = bsky_fetcher(tmp_path, server)
    fetcher.run([bsky_job(server)])
    appview.fail("app.bsky.feed.getPostThread", 400, "not-found.json")
    fetcher.run(fetcher.due([bsky_job(server)], force=True))
    record = Archive(tmp_path / "archive").load("post")
    assert len(record.items) == 7
    assert record.cursors[f"bluesky:{bsky_job(server).target}"]["deleted"] is True


@pytest.mark.parametrize(
    ("method", "status", "name", "expected"),
    [
        ("com.atproto.identity.resolveHandle", 400, "bad-handle.json", "HTTP 400"),
        ("app.bsky.feed.getPostThread", 429, "rate-limited.json", "rate limited until"),
        ("app.bsky.feed.getPostThread", 503, "rate-limited.json", "server error 503"),
    ],
)
def test_failures_keep_the_archive(
    appview: FakeAppView,
    server: Server,
    tmp_path: Path,
    method: str,
    status: int,
    name: str,
    expected: str,
) -> None:
    fetcher = bsky_fetcher(tmp_path, server)
    fetcher.run([bsky_job(server, ANN)])
    path = Archive(tmp_path / "archive").post_path("post")
    before = path.read_bytes()
    reset = str(int(datetime.now(timezone.utc).timestamp()) + 3600)
    appview.fail(method, status, name, ratelimit_reset=reset, ratelimit_remaining="0")
    fetcher = bsky_fetcher(tmp_path, server)
    summary = fetcher.run([bsky_job(server)])  # by handle: resolveHandle first
    assert summary.errors["bluesky"] == 1 and expected in summary.messages["bluesky"]
    assert path.read_bytes() == before
