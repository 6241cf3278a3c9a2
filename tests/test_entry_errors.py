"""One error model for entries (issue 12, points 2 and 3).

A malformed entry never blocks its siblings: every parser returns what it
could read and the entries it skipped, with why, and each fetch tells them
in one line per source and post.  A failed secondary request (likes,
boosts) never costs the replies.

Each ``tests/data/<source>/malformed/<name>.<ext>`` holds one answer with
one malformed entry among good ones; ``<name>.expected.json`` says how many
items are read and which entries are skipped with which reason.  A new case
is a new file pair.  Comment files are their own entries: a local case is
a folder ``<name>/<post>/`` of comment files, skipped ones named by path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.archive import Archive
from pelican_engage.fetch import Fetcher
from pelican_engage.http import Client, HttpSettings
from pelican_engage.model import Item
from pelican_engage.parsed import Skipped, skipped_line
from pelican_engage.sources import bluesky, feed, mastodon, twitter_answers, webmention, wordpress
from pelican_engage.sources.local import LocalComments
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
FAST = HttpSettings(connect_timeout=2, read_timeout=1, backoff=0.01, max_wait=1, retries=1)
MASTODON_REF = mastodon.StatusRef("https://social.example", "social.example", "110000000000000001")
TWEET_ROOT = json.loads((DATA / "twitter" / "api" / "ids.json").read_text())["announcement"]


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _parse_webmention(path: Path) -> tuple[list[Item], list[Skipped]]:
    items, skipped, _newest = webmention.parse_feed(_json(path))
    return items, skipped


def _parse_local(path: Path) -> tuple[list[Item], list[Skipped]]:
    (post,) = (p.name for p in path.iterdir())
    items, problems = LocalComments({}, path).read_post(post, post)
    skipped = [Skipped("/".join(Path(p.origin).parts[-2:]), p.message) for p in problems]
    return items, skipped


#: source folder -> its parser, as (items, skipped) of one fixture file.
PARSERS: dict[str, Callable[[Path], tuple[Any, Any]]] = {
    "mastodon": lambda p: (
        (parsed := mastodon.parse_context(_json(p), MASTODON_REF)).items,
        parsed.skipped,
    ),
    "bluesky": lambda p: ((page := bluesky.read_thread(_json(p))).items, page.skipped),
    "twitter": lambda p: (
        (parsed := twitter_answers.read_search(_json(p), TWEET_ROOT)).items,
        parsed.skipped,
    ),
    "webmention": _parse_webmention,
    "wordpress-rest": lambda p: wordpress.parse_comments(_json(p), "blog.example.org"),
    "feed": lambda p: feed.parse_feed(p.read_bytes()),
    "local": _parse_local,
}
CASES = sorted(p for p in DATA.glob("*/malformed/*") if not p.name.endswith(".expected.json"))


def test_every_source_has_a_malformed_case() -> None:
    assert {p.parent.parent.name for p in CASES} == set(PARSERS)


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_malformed_entry_is_skipped_with_its_reason_and_its_siblings_kept(path: Path) -> None:
    stem = path.name.rsplit(".", 1)[0] if path.is_file() else path.name
    expected = _json(path.with_name(stem + ".expected.json"))
    items, skipped = PARSERS[path.parent.parent.name](path)
    assert len(items) == expected["items"]
    assert [[s.id, s.reason] for s in skipped] == expected["skipped"]
    skipped_ids = {s.id for s in skipped}
    assert not any(i.id.endswith(tuple(skipped_ids)) for i in items)


def test_a_bluesky_reply_skipped_keeps_its_own_replies() -> None:
    page = bluesky.read_thread(_json(DATA / "bluesky" / "malformed" / "thread-bad-created-at.json"))
    (gone,) = page.skipped
    orphans = [i for i in page.items if i.in_reply_to == f"bluesky:{gone.id}"]
    assert [i.author.handle for i in orphans] == ["chloe.bsky.social"]


@pytest.mark.parametrize(
    ("skipped", "line"),
    [
        (
            [Skipped("9", "no created_at", "reply")],
            "mastodon: 1 reply skipped (no created_at) on post P",
        ),
        (
            [Skipped("1", "no created_at", "reply"), Skipped("2", "bad", "reply")],
            "mastodon: 2 replies skipped (no created_at; bad) on post P",
        ),
        ([], ""),
    ],
)
def test_skipped_line(skipped: list[Skipped], line: str) -> None:
    assert skipped_line("mastodon", "P", skipped) == line


# -- Fetches on loopback ----------------------------------------------------------


def _json_route(body: bytes, status: int = 200) -> Callable[[Any, int], None]:
    return lambda h, _n: send(h, status, body, Content_Type="application/json")


def _mastodon(server: Server, context: Path, favourites: int = 500) -> Fetcher:
    status = _json(DATA / "mastodon" / "status.json")
    status["favourites_count"], status["reblogs_count"] = 2, 1
    base = "/api/v1/statuses/110000000000000001"
    server.routes[base] = _json_route(json.dumps(status).encode())
    server.routes[f"{base}/context"] = _json_route(context.read_bytes())
    server.routes[f"{base}/favourited_by"] = _json_route(
        (DATA / "mastodon" / "favourited_by.json").read_bytes(), favourites
    )
    server.routes[f"{base}/reblogged_by"] = _json_route(b"[]")
    server.routes["/api/v2/instance"] = _json_route(b'{"domain": "social.example"}')
    return mastodon.MastodonSource(Client(FAST, clock=lambda: NOW))


def _run(tmp_path: Path, source: Any, job: Any) -> Any:
    fetcher = Fetcher(Archive(tmp_path / "archive"), {source.name: source}, clock=lambda: NOW)
    return fetcher.run([job])


def test_one_mastodon_reply_without_created_at_costs_only_itself(
    server: Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = _mastodon(server, DATA / "mastodon" / "malformed" / "context-no-created-at.json", 200)
    job = mastodon.job_for("post", f"{server.url}/@marin/110000000000000001", NOW)
    with caplog.at_level(logging.INFO, logger="pelican_engage"):
        summary = _run(tmp_path, source, job)
    assert not summary.errors
    replies = list(Archive(tmp_path / "archive").load("post").items.values())
    assert sorted(i.id[-1] for i in replies if i.kind == "reply") == ["2", "3", "6"]
    assert "mastodon: 1 reply skipped (no created_at) on post post" in caplog.text


def test_a_failing_favourited_by_keeps_the_replies(
    server: Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = _mastodon(server, DATA / "mastodon" / "context.json", favourites=500)
    job = mastodon.job_for("post", f"{server.url}/@marin/110000000000000001", NOW)
    with caplog.at_level(logging.INFO, logger="pelican_engage"):
        summary = _run(tmp_path, source, job)
    assert not summary.errors
    kinds = sorted(i.kind for i in Archive(tmp_path / "archive").load("post").items.values())
    assert kinds.count("reply") == 4 and "like" not in kinds
    lines = [
        r.getMessage() for r in caplog.records if "favourited_by not fetched" in r.getMessage()
    ]
    assert len(lines) == 1 and "on post post" in lines[0] and "replies kept" in lines[0]


@pytest.mark.parametrize("failing", ["app.bsky.feed.getLikes", "app.bsky.feed.getRepostedBy"])
def test_a_failing_bluesky_enrichment_keeps_the_thread(
    failing: str, server: Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = DATA / "bluesky"
    for method, name in (
        ("app.bsky.feed.getPostThread", "thread.json"),
        ("app.bsky.feed.getLikes", "likes.json"),
        ("app.bsky.feed.getRepostedBy", "reposted-by.json"),
    ):
        server.routes[f"/xrpc/{method}"] = _json_route((data / name).read_bytes())
    server.routes[f"/xrpc/{failing}"] = _json_route(b'{"error": "InternalServerError"}', 502)
    source = bluesky.BlueskySource(Client(FAST, clock=lambda: NOW), api_url=server.url)
    ann = "at://did:plc:marin7hdynmk6r22z27h6tvu/app.bsky.feed.post/3l6oveex3ii2l"
    job = bluesky.job_for("post", ann, NOW - timedelta(days=2), server.url)
    with caplog.at_level(logging.INFO, logger="pelican_engage"):
        summary = _run(tmp_path, source, job)
    assert not summary.errors
    kinds = sorted(i.kind for i in Archive(tmp_path / "archive").load("post").items.values())
    assert kinds.count("reply") == 4
    # The other list still came.
    assert ("like" in kinds) == (failing != "app.bsky.feed.getLikes")
    assert ("repost" in kinds) == (failing != "app.bsky.feed.getRepostedBy")
    assert f"bluesky: {failing} not fetched" in caplog.text
