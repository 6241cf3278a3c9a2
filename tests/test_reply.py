"""`pelican-engage reply`: comment files, and posts on Mastodon, Bluesky and X
sent to loopback servers that speak each network's documented wire format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.model import Item, Person
from tests.conftest import Site
from tests.loopback_write import Request, WriteServer

TOKEN = "sekrit-token-CANARY-1234"
PASSWORD = "app-pass-CANARY-5678"
WHEN = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def author_server() -> Iterator[WriteServer]:
    s = WriteServer()
    yield s
    s.close()


@pytest.fixture
def other_server() -> Iterator[WriteServer]:
    s = WriteServer()
    yield s
    s.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out + err


def waiting(capsys: pytest.CaptureFixture[str], conf: Path) -> list[str]:
    code, out = run(capsys, "report", "-s", str(conf), "--format", "json")
    assert code == 0, out
    return [row["id"] for row in json.loads(out)["waiting"]]


def archived(site: Site, key: str = "hello") -> dict[str, Item]:
    return dict(Archive(site.root / "archive").load(key).items)


def seed(site: Site, *items: Item, key: str = "hello") -> None:
    Archive(site.root / "archive").merge(key, items)


def reader_item(item_id: str, source: str, url: str, handle: str = "", **extras: Any) -> Item:
    return Item(
        id=item_id,
        source=source,
        kind="reply" if source in ("mastodon", "bluesky", "twitter") else "comment",
        author=Person(name="Alice", handle=handle, url="https://alice.example"),
        published=WHEN,
        content_html="<p>How did you measure that?</p>",
        url=url,
        extras=extras,
    )


# Comment files ---------------------------------------------------------------


def test_a_local_comment_is_answered_by_a_comment_file_in_the_authors_name(
    site: Site, capsys, monkeypatch
) -> None:
    site.article("hello")
    site.comment("hello", "c1.md", "How did you measure that?", author="Alice", date="2026-11-20")
    conf = site.write_conf(TIMEZONE="Europe/Paris")
    assert waiting(capsys, conf) == ["comment:hello/c1"]

    code, out = run(capsys, "reply", "comment:hello/c1", "-m", "With a stopwatch.", "--dry-run")
    assert code == 2  # no -s: the default pelicanconf.py is not in this folder
    monkeypatch.chdir(site.root)
    code, out = run(
        capsys, "reply", "comment:hello/c1", "-m", "With a stopwatch.", "--dry-run", "-s", str(conf)
    )
    assert code == 0 and "would write" in out
    assert sorted(p.name for p in (site.content / "comments" / "hello").iterdir()) == ["c1.md"]

    code, out = run(capsys, "reply", "comment:hello/c1", "-m", "With a stopwatch.", "-s", str(conf))
    assert code == 0, out
    written = [p for p in (site.content / "comments" / "hello").iterdir() if p.name != "c1.md"]
    assert len(written) == 1
    text = written[0].read_text(encoding="utf-8")
    assert "author: Marin\n" in text and "replyto: c1\n" in text
    date = next(line for line in text.splitlines() if line.startswith("date: "))
    stamp = datetime.fromisoformat(date[6:])
    assert str(stamp.utcoffset()) in ("1:00:00", "2:00:00")  # Paris, not UTC
    assert text.rstrip().endswith("With a stopwatch.")
    assert waiting(capsys, conf) == []
    site.build()
    page = site.html("hello.html")
    answer = page.select_one(f'[data-engage-id="comment:hello/{written[0].stem}"]')
    assert answer is not None and answer["data-engage-parent"] == "comment:hello/c1"


def test_an_imported_wordpress_comment_is_answered_under_it(site: Site, capsys) -> None:
    site.article("hello")
    seed(site, reader_item("wordpress:old.example/12", "wordpress", "https://old.example/p#c12"))
    conf = site.write_conf()
    assert waiting(capsys, conf) == ["wordpress:old.example/12"]
    code, out = run(capsys, "reply", "wordpress:old.example/12", "-m", "Thanks!", "-s", str(conf))
    assert code == 0, out
    (written,) = (site.content / "comments" / "hello").iterdir()
    assert "replyto: wordpress:old.example/12\n" in written.read_text(encoding="utf-8")
    assert waiting(capsys, conf) == []


def test_webmentions_and_feeds_say_where_to_answer(site: Site, capsys) -> None:
    site.article("hello")
    seed(
        site,
        reader_item("webmention:99", "webmention", "https://alice.example/reply"),
        reader_item("feed:tag:x,1", "feed", "https://forum.example/t/1#p2"),
    )
    conf = site.write_conf()
    code, out = run(capsys, "reply", "webmention:99", "-m", "hi", "-s", str(conf))
    assert code == 0 and "https://alice.example/reply" in out
    code, out = run(capsys, "reply", "feed:tag:x,1", "-s", str(conf), "-m", "")
    assert code == 0 and "https://forum.example/t/1#p2" in out


def test_an_unknown_item_is_a_usage_error(site: Site, capsys) -> None:
    site.article("hello")
    conf = site.write_conf()
    code, out = run(capsys, "reply", "mastodon:nowhere/1", "-m", "hi", "-s", str(conf))
    assert code == 2 and "no item" in out


# Mastodon ----------------------------------------------------------------------


def status(server: WriteServer, status_id: str, text: str, acct: str = "marin") -> dict[str, Any]:
    return {
        "id": status_id,
        "created_at": "2026-11-30T01:00:00.000Z",
        "in_reply_to_id": "555",
        "visibility": "public",
        "url": f"{server.url}/@{acct}/{status_id}",
        "uri": f"{server.url}/users/{acct}/statuses/{status_id}",
        "content": f"<p>{text}</p>",
        "account": {
            "id": "1",
            "username": acct,
            "acct": acct,
            "display_name": "Marin",
            "url": f"{server.url}/@{acct}",
        },
    }


def mastodon_site(site: Site, author: WriteServer, item: Item) -> Path:
    site.article("hello", mastodon=f"{author.url}/@marin/100")
    seed(site, item)
    return site.write_conf(
        ENGAGE_MASTODON={"host": author.host},
        ENGAGE_AUTHOR={"names": ["Marin"], "mastodon": ["marin@127.0.0.1"]},
    )


def test_a_mastodon_reply_on_the_authors_server(
    site: Site, capsys, monkeypatch, author_server: WriteServer
) -> None:
    item = reader_item(
        f"mastodon:{author_server.host}/555",
        "mastodon",
        f"{author_server.url}/@alice/555",
        handle="alice@127.0.0.1",
    )
    conf = mastodon_site(site, author_server, item)
    monkeypatch.setenv("ENGAGE_MASTODON_TOKEN", TOKEN)
    author_server.routes["GET /api/v2/instance"] = lambda r: (
        200,
        {"configuration": {"statuses": {"max_characters": 1000}}},
        {},
    )
    author_server.routes["POST /api/v1/statuses"] = lambda r: (
        200,
        status(author_server, "777", r.body["status"]),
        {},
    )
    assert waiting(capsys, conf) == [item.id]

    code, out = run(capsys, "reply", item.id, "-m", "With a stopwatch.", "-s", str(conf))
    assert code == 0, out
    (post,) = author_server.posts()
    assert post.path == "/api/v1/statuses"
    assert post.header("Authorization") == f"Bearer {TOKEN}"
    assert post.header("Idempotency-Key")
    assert post.body == {
        "status": "@alice@127.0.0.1 With a stopwatch.",
        "in_reply_to_id": "555",
        "visibility": "public",
    }
    assert TOKEN not in out
    mine = archived(site)[f"mastodon:{author_server.host}/777"]
    assert mine.in_reply_to == item.id and mine.author.handle == "marin@127.0.0.1"
    assert waiting(capsys, conf) == []


def test_a_status_elsewhere_is_resolved_on_the_authors_server_only(
    site: Site, capsys, monkeypatch, author_server: WriteServer, other_server: WriteServer
) -> None:
    item = reader_item(
        f"mastodon:{other_server.host}/9001",
        "mastodon",
        f"{other_server.url}/@alice/9001",
        handle="alice@127.0.0.1",
    )
    conf = mastodon_site(site, author_server, item)
    monkeypatch.setenv("ENGAGE_MASTODON_TOKEN", TOKEN)

    def search(r: Request) -> tuple[int, Any, dict[str, str]]:
        assert r.query["q"] == [item.url] and r.query["resolve"] == ["true"]
        assert r.header("Authorization") == f"Bearer {TOKEN}"
        return 200, {"accounts": [], "statuses": [{"id": "555"}], "hashtags": []}, {}

    author_server.routes["GET /api/v2/search"] = search
    author_server.routes["POST /api/v1/statuses"] = lambda r: (
        200,
        status(author_server, "778", r.body["status"]),
        {},
    )
    code, out = run(capsys, "reply", item.id, "-m", "Hello", "-s", str(conf))
    assert code == 0, out
    assert author_server.posts()[0].body["in_reply_to_id"] == "555"
    assert other_server.requests == []  # the token's server only
    assert waiting(capsys, conf) == []


@pytest.mark.parametrize(
    ("status_code", "body", "said"),
    [
        (401, {"error": "The access token is invalid"}, "401"),
        (403, {"error": "This action is outside the authorized scopes"}, "403"),
        (422, {"error": "Validation failed: Text character limit of 500 exceeded"}, "422"),
        (429, {"error": "Too many requests"}, "429"),
        (503, {"error": "Service Unavailable"}, "503"),
    ],
)
def test_mastodon_errors_leave_nothing_half_done(
    site: Site, capsys, monkeypatch, author_server: WriteServer, status_code, body, said
) -> None:
    item = reader_item(
        f"mastodon:{author_server.host}/555", "mastodon", f"{author_server.url}/@alice/555"
    )
    conf = mastodon_site(site, author_server, item)
    monkeypatch.setenv("ENGAGE_MASTODON_TOKEN", TOKEN)
    author_server.routes["POST /api/v1/statuses"] = lambda r: (
        status_code,
        {**body, "echo": TOKEN},  # a server that echoes the token must not leak it
        {"Retry-After": "60"},
    )
    before = archived(site)
    code, out = run(capsys, "reply", item.id, "-m", "Hello", "-s", str(conf))
    assert code == 1
    assert said in out and "Nothing was archived" in out and TOKEN not in out
    assert archived(site) == before
    assert waiting(capsys, conf) == [item.id]


def test_mastodon_length_follows_the_servers_limit(
    site: Site, capsys, monkeypatch, author_server: WriteServer
) -> None:
    item = reader_item(
        f"mastodon:{author_server.host}/555", "mastodon", f"{author_server.url}/@alice/555"
    )
    conf = mastodon_site(site, author_server, item)
    monkeypatch.setenv("ENGAGE_MASTODON_TOKEN", TOKEN)
    author_server.routes["GET /api/v2/instance"] = lambda r: (
        200,
        {"configuration": {"statuses": {"max_characters": 20}}},
        {},
    )
    code, out = run(capsys, "reply", item.id, "-m", "x" * 30, "-s", str(conf))
    assert code == 1 and "too long" in out and "of 20" in out
    assert author_server.posts() == []


def test_a_dry_run_sends_nothing_anywhere(
    site: Site, capsys, monkeypatch, author_server: WriteServer
) -> None:
    items = [
        reader_item(
            f"mastodon:{author_server.host}/555", "mastodon", f"{author_server.url}/@a/555"
        ),
        reader_item("bluesky:at://did:plc:alice/app.bsky.feed.post/3k", "bluesky", "https://b/x"),
        reader_item("twitter:1460323737035677698", "twitter", "https://x.com/a/status/1"),
    ]
    site.article("hello", mastodon=f"{author_server.url}/@marin/100")
    seed(site, *items)
    conf = site.write_conf(
        ENGAGE_MASTODON={"host": author_server.host},
        ENGAGE_BLUESKY={"api_url": author_server.url, "pds_url": author_server.url},
        ENGAGE_TWITTER={"api_url": author_server.url},
        ENGAGE_AUTHOR={
            "names": ["Marin"],
            "mastodon": ["marin@127.0.0.1"],
            "bluesky": ["marin.bsky.social"],
            "twitter": ["marin"],
        },
    )
    monkeypatch.setenv("ENGAGE_MASTODON_TOKEN", TOKEN)
    monkeypatch.setenv("ENGAGE_BLUESKY_APP_PASSWORD", PASSWORD)
    monkeypatch.setenv("ENGAGE_TWITTER_USER_TOKEN", TOKEN)
    before = archived(site)
    for item in items:
        code, out = run(capsys, "reply", item.id, "-m", "Hi there", "--dry-run", "-s", str(conf))
        assert code == 0 and "dry run" in out and TOKEN not in out and PASSWORD not in out
    assert author_server.requests == []
    assert archived(site) == before


# Bluesky -------------------------------------------------------------------------

ROOT = {
    "uri": "at://did:plc:marin/app.bsky.feed.post/3root",
    "cid": "bafyroot",
}
PARENT_URI = "at://did:plc:alice/app.bsky.feed.post/3parent"


def bluesky_server(server: WriteServer, session_status: int = 200) -> None:
    server.routes["GET /xrpc/app.bsky.feed.getPosts"] = lambda r: (
        200,
        {
            "posts": [
                {
                    "uri": PARENT_URI,
                    "cid": "bafyparent",
                    "author": {"did": "did:plc:alice", "handle": "alice.bsky.social"},
                    "record": {
                        "$type": "app.bsky.feed.post",
                        "text": "How?",
                        "createdAt": "2026-11-20T09:00:00.000Z",
                        "reply": {"root": ROOT, "parent": ROOT},
                    },
                }
            ]
        },
        {},
    )
    server.routes["GET /xrpc/com.atproto.identity.resolveHandle"] = lambda r: (
        (200, {"did": "did:plc:alice"}, {})
        if r.query["handle"] == ["alice.bsky.social"]
        else (400, {"error": "InvalidRequest", "message": "Unable to resolve handle"}, {})
    )
    server.routes["POST /xrpc/com.atproto.server.createSession"] = lambda r: (
        (
            200,
            {
                "accessJwt": "jwt-CANARY",
                "refreshJwt": "refresh-CANARY",
                "handle": "marin.bsky.social",
                "did": "did:plc:marin",
            },
            {},
        )
        if session_status == 200
        else (
            session_status,
            {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
            {},
        )
    )
    server.routes["POST /xrpc/com.atproto.repo.createRecord"] = lambda r: (
        200,
        {
            "uri": "at://did:plc:marin/app.bsky.feed.post/3mine",
            "cid": "bafymine",
            "commit": {"cid": "bafycommit", "rev": "3abc"},
            "validationStatus": "valid",
        },
        {},
    )


def bluesky_site(site: Site, server: WriteServer) -> tuple[Path, Item]:
    item = reader_item(
        f"bluesky:{PARENT_URI}",
        "bluesky",
        "https://bsky.app/profile/alice.bsky.social/post/3parent",
        handle="alice.bsky.social",
    )
    site.article("hello", bluesky="https://bsky.app/profile/did:plc:marin/post/3root")
    seed(site, item)
    conf = site.write_conf(
        ENGAGE_BLUESKY={"api_url": server.url, "pds_url": server.url},
        ENGAGE_AUTHOR={"names": ["Marin"], "bluesky": ["marin.bsky.social"]},
    )
    return conf, item


def test_a_bluesky_reply_with_refs_and_byte_facets(
    site: Site, capsys, monkeypatch, author_server: WriteServer
) -> None:
    bluesky_server(author_server)
    conf, item = bluesky_site(site, author_server)
    monkeypatch.setenv("ENGAGE_BLUESKY_APP_PASSWORD", PASSWORD)
    assert waiting(capsys, conf) == [item.id]
    text = "Merci 🙂 @alice.bsky.social, see https://blog.example/été."
    code, out = run(capsys, "reply", item.id, "-m", text, "-s", str(conf))
    assert code == 0, out
    session, create = author_server.posts()
    assert session.body == {"identifier": "marin.bsky.social", "password": PASSWORD}
    assert create.header("Authorization") == "Bearer jwt-CANARY"
    assert create.body["repo"] == "did:plc:marin"
    assert create.body["collection"] == "app.bsky.feed.post"
    record = create.body["record"]
    assert record["text"] == text and record["createdAt"].endswith("Z")
    assert record["reply"] == {"root": ROOT, "parent": {"uri": PARENT_URI, "cid": "bafyparent"}}
    data = text.encode("utf-8")
    spans = {
        f["features"][0]["$type"].rsplit("#", 1)[1]: data[
            f["index"]["byteStart"] : f["index"]["byteEnd"]
        ].decode("utf-8")
        for f in record["facets"]
    }
    assert spans == {"mention": "@alice.bsky.social", "link": "https://blog.example/été"}
    for secret in (PASSWORD, "jwt-CANARY", "refresh-CANARY"):
        assert secret not in out
    assert waiting(capsys, conf) == []


def test_a_refused_bluesky_login_posts_nothing(
    site: Site, capsys, monkeypatch, author_server: WriteServer
) -> None:
    bluesky_server(author_server, session_status=401)
    conf, item = bluesky_site(site, author_server)
    monkeypatch.setenv("ENGAGE_BLUESKY_APP_PASSWORD", PASSWORD)
    code, out = run(capsys, "reply", item.id, "-m", "Hi", "-s", str(conf))
    assert code == 1 and "401" in out and PASSWORD not in out
    assert [r.path for r in author_server.posts()] == ["/xrpc/com.atproto.server.createSession"]
    assert waiting(capsys, conf) == [item.id]


def test_bluesky_counts_graphemes(site: Site, capsys, monkeypatch, author_server) -> None:
    bluesky_server(author_server)
    conf, item = bluesky_site(site, author_server)
    monkeypatch.setenv("ENGAGE_BLUESKY_APP_PASSWORD", PASSWORD)
    # 301 thumbs with a skin tone: 301 graphemes, 602 code points.
    code, out = run(capsys, "reply", item.id, "-m", "👍🏽" * 301, "-s", str(conf))
    assert code == 1 and "301 of 300" in out and author_server.posts() == []
    code, out = run(capsys, "reply", item.id, "-m", "👍🏽" * 300, "-s", str(conf))
    assert code == 0, out


# X -----------------------------------------------------------------------------


def x_site(site: Site, server: WriteServer) -> tuple[Path, Item]:
    item = reader_item(
        "twitter:1460323737035677698", "twitter", "https://x.com/alice/status/1460323737035677698"
    )
    site.article("hello", tweet="https://x.com/marin/status/1460323737035670000")
    seed(site, item)
    conf = site.write_conf(
        ENGAGE_TWITTER={"api_url": server.url},
        ENGAGE_AUTHOR={"names": ["Marin"], "twitter": ["marin"]},
    )
    return conf, item


def test_an_x_reply_prints_the_cost_and_posts_with_the_user_token(
    site: Site, capsys, monkeypatch, author_server: WriteServer
) -> None:
    conf, item = x_site(site, author_server)
    monkeypatch.setenv("ENGAGE_TWITTER_USER_TOKEN", TOKEN)
    author_server.routes["POST /2/tweets"] = lambda r: (
        201,
        {"data": {"id": "1460323737035677699", "text": r.body["text"]}},
        {},
    )
    code, out = run(capsys, "reply", item.id, "-m", "Thanks!", "-s", str(conf))
    assert code == 0, out
    assert "$0.015" in out and TOKEN not in out
    (post,) = author_server.posts()
    assert post.header("Authorization") == f"Bearer {TOKEN}"
    assert post.body == {
        "text": "Thanks!",
        "reply": {"in_reply_to_tweet_id": "1460323737035677698"},
    }
    assert waiting(capsys, conf) == []


def test_without_a_user_token_x_gives_the_intent_url(
    site: Site, capsys, monkeypatch, author_server: WriteServer
) -> None:
    conf, item = x_site(site, author_server)
    monkeypatch.delenv("ENGAGE_TWITTER_USER_TOKEN", raising=False)
    code, out = run(
        capsys, "reply", item.id, "-m", "Thanks, see https://a.example", "-s", str(conf)
    )
    assert code == 0
    assert "costs" not in out  # by hand is free
    assert "https://x.com/intent/post?in_reply_to=1460323737035677698&text=Thanks" in out
    assert author_server.requests == []


@pytest.mark.parametrize("status_code", [401, 403, 429, 500])
def test_x_errors_archive_nothing(
    site: Site, capsys, monkeypatch, author_server: WriteServer, status_code: int
) -> None:
    conf, item = x_site(site, author_server)
    monkeypatch.setenv("ENGAGE_TWITTER_USER_TOKEN", TOKEN)
    author_server.routes["POST /2/tweets"] = lambda r: (
        status_code,
        {
            "title": "Forbidden",
            "detail": "You are not allowed to create a Tweet with duplicate content.",
            "type": "about:blank",
            "status": status_code,
        },
        {"x-rate-limit-reset": "1700000000"},
    )
    before = archived(site)
    code, out = run(capsys, "reply", item.id, "-m", "Thanks!", "-s", str(conf))
    assert code == 1 and str(status_code) in out and TOKEN not in out
    assert archived(site) == before


def test_a_link_costs_more_on_x(site: Site, capsys, monkeypatch, author_server) -> None:
    conf, item = x_site(site, author_server)
    monkeypatch.setenv("ENGAGE_TWITTER_USER_TOKEN", TOKEN)
    text = "See https://blog.example/more"
    code, out = run(capsys, "reply", item.id, "-m", text, "--dry-run", "-s", str(conf))
    assert code == 0 and "$0.200" in out and author_server.requests == []


def test_x_length_is_weighted(site: Site, capsys, monkeypatch, author_server) -> None:
    conf, item = x_site(site, author_server)
    monkeypatch.setenv("ENGAGE_TWITTER_USER_TOKEN", TOKEN)
    code, out = run(capsys, "reply", item.id, "-m", "日" * 141, "-s", str(conf))
    assert code == 1 and "282 of 280" in out and author_server.requests == []


@pytest.mark.parametrize(
    ("status_code", "error"),
    [
        (401, "ExpiredToken"),
        (403, "Forbidden"),
        (422, "InvalidRecord"),
        (429, "RateLimitExceeded"),
        (502, "UpstreamFailure"),
    ],
)
def test_bluesky_create_record_errors_archive_nothing(
    site: Site, capsys, monkeypatch, author_server: WriteServer, status_code: int, error: str
) -> None:
    bluesky_server(author_server)
    author_server.routes["POST /xrpc/com.atproto.repo.createRecord"] = lambda r: (
        status_code,
        {"error": error, "message": f"Record refused {PASSWORD}"},
        {"RateLimit-Reset": "1733000000"},
    )
    conf, item = bluesky_site(site, author_server)
    monkeypatch.setenv("ENGAGE_BLUESKY_APP_PASSWORD", PASSWORD)
    before = archived(site)
    code, out = run(capsys, "reply", item.id, "-m", "Hi", "-s", str(conf))
    assert code == 1 and str(status_code) in out and error in out
    assert PASSWORD not in out and "jwt-CANARY" not in out
    assert archived(site) == before
    assert waiting(capsys, conf) == [item.id]


def test_an_unreachable_server_leaves_nothing_half_done(
    site: Site, capsys, monkeypatch, author_server: WriteServer
) -> None:
    conf, item = x_site(site, author_server)
    author_server.close()  # nothing listens there any more
    monkeypatch.setenv("ENGAGE_TWITTER_USER_TOKEN", TOKEN)
    before = archived(site)
    code, out = run(capsys, "reply", item.id, "-m", "Thanks!", "-s", str(conf))
    assert code == 1 and "cannot reach" in out and "Nothing was archived" in out
    assert TOKEN not in out and archived(site) == before


def test_a_status_the_authors_server_cannot_find(
    site: Site, capsys, monkeypatch, author_server: WriteServer, other_server: WriteServer
) -> None:
    item = reader_item(
        f"mastodon:{other_server.host}/9001", "mastodon", f"{other_server.url}/@alice/9001"
    )
    conf = mastodon_site(site, author_server, item)
    monkeypatch.setenv("ENGAGE_MASTODON_TOKEN", TOKEN)
    author_server.routes["GET /api/v2/search"] = lambda r: (
        200,
        {"accounts": [], "statuses": [], "hashtags": []},
        {},
    )
    code, out = run(capsys, "reply", item.id, "-m", "Hello", "-s", str(conf))
    assert code == 1 and "cannot find" in out and author_server.posts() == []


def test_offline_sends_nothing(site: Site, capsys, monkeypatch, author_server) -> None:
    conf, item = x_site(site, author_server)
    conf.write_text(conf.read_text() + "ENGAGE_OFFLINE = True\n")
    monkeypatch.setenv("ENGAGE_TWITTER_USER_TOKEN", TOKEN)
    code, out = run(capsys, "reply", item.id, "-m", "Thanks!", "-s", str(conf))
    assert code == 1 and "offline" in out and author_server.requests == []


def test_mastodon_needs_the_authors_server(site: Site, capsys, monkeypatch, author_server) -> None:
    item = reader_item(
        f"mastodon:{author_server.host}/555", "mastodon", f"{author_server.url}/@alice/555"
    )
    site.article("hello")
    seed(site, item)
    conf = site.write_conf(ENGAGE_AUTHOR={"names": ["Marin"], "mastodon": ["marin@127.0.0.1"]})
    monkeypatch.setenv("ENGAGE_MASTODON_TOKEN", TOKEN)
    code, out = run(capsys, "reply", item.id, "-m", "Hi", "-s", str(conf))
    assert code == 2 and "ENGAGE_MASTODON['host']" in out and author_server.requests == []


def test_a_reply_that_would_not_count_as_yours_is_refused(
    site: Site, capsys, monkeypatch, author_server
) -> None:
    conf, item = x_site(site, author_server)
    conf.write_text(conf.read_text() + "ENGAGE_AUTHOR = {'names': ['Marin']}\n")
    monkeypatch.setenv("ENGAGE_TWITTER_USER_TOKEN", TOKEN)
    code, out = run(capsys, "reply", item.id, "-m", "Hi", "-s", str(conf))
    assert code == 2 and "ENGAGE_AUTHOR['twitter']" in out and author_server.requests == []


def test_a_like_cannot_be_answered(site: Site, capsys) -> None:
    site.article("hello")
    like = Item(
        "bluesky:at://did:plc:a/app.bsky.feed.like/1",
        "bluesky",
        "like",
        Person("Alice"),
        WHEN,
    )
    seed(site, like)
    conf = site.write_conf()
    code, out = run(capsys, "reply", like.id, "-m", "Hi", "-s", str(conf))
    assert code == 2 and "nothing to answer" in out


def test_a_linked_comment_folder_is_not_written_through(site: Site, capsys, tmp_path: Path) -> None:
    site.article("hello")
    seed(site, reader_item("disqus:77", "disqus", "https://old.example/p#c77"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (site.content / "comments").mkdir()
    (site.content / "comments" / "hello").symlink_to(elsewhere)
    conf = site.write_conf()
    code, out = run(capsys, "reply", "disqus:77", "-m", "Thanks!", "-s", str(conf))
    assert code == 2 and "not a plain folder" in out
    assert list(elsewhere.iterdir()) == []


def test_reply_in_the_editor_drops_the_quoted_item(
    site: Site, capsys, monkeypatch, tmp_path: Path
) -> None:
    import sys

    site.article("hello")
    site.comment("hello", "c1.md", "How did you do it?", author="Alice", date="2026-11-20")
    conf = site.write_conf()
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys\np = sys.argv[1]\nold = open(p).read()\n"
        "assert 'How did you do it?' in old\n"
        "open(p, 'w').write('Carefully.\\n' + old)\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    monkeypatch.delenv("VISUAL", raising=False)
    code, out = run(capsys, "reply", "comment:hello/c1", "--editor", "-s", str(conf))
    assert code == 0, out
    (written,) = (site.content / "comments" / "hello").glob("reply-*.md")
    text = written.read_text(encoding="utf-8")
    assert text.endswith("\nCarefully.\n") and "How did you do it" not in text
    # An editor left empty cancels.
    editor.write_text("pass\n", encoding="utf-8")
    code, out = run(capsys, "reply", "comment:hello/c1", "--editor", "-s", str(conf))
    assert code == 2 and "empty" in out


def test_an_unlisted_reply_is_answered_unlisted(
    site: Site, capsys, monkeypatch, author_server: WriteServer
) -> None:
    """The reply keeps the reader's quiet: visibility is a typed field of the
    item (archive schema 2), read from old and new archives alike."""
    item = reader_item(
        f"mastodon:{author_server.host}/556",
        "mastodon",
        f"{author_server.url}/@alice/556",
        handle="alice@127.0.0.1",
        visibility="unlisted",  # schema 1 kept it among the extras
    )
    assert item.visibility == "unlisted"
    site.article("hello", mastodon=f"{author_server.url}/@marin/100")
    seed(site, item)
    conf = site.write_conf(
        ENGAGE_MASTODON={"host": author_server.host, "unlisted": True},
        ENGAGE_AUTHOR={"names": ["Marin"], "mastodon": ["marin@127.0.0.1"]},
    )
    monkeypatch.setenv("ENGAGE_MASTODON_TOKEN", TOKEN)
    author_server.routes["POST /api/v1/statuses"] = lambda r: (
        200,
        status(author_server, "779", r.body["status"]),
        {},
    )
    code, out = run(capsys, "reply", item.id, "-m", "Quietly.", "-s", str(conf))
    assert code == 0, out
    assert author_server.posts()[0].body["visibility"] == "unlisted"
