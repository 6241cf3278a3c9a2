"""Discourse: a topic named by ``discourse:`` metadata, its posts threaded.

Parser cases are data files (tests/data/discourse/topic-<id>.json, the
posts past its first page in more-posts-<id>.json, what must come of them in
topic-<id>.expected.json); fetching is tested against a loopback forum that
answers ``/t/<id>.json`` and ``/t/<id>/posts.json`` as Discourse does.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.fetch import Fetcher
from pelican_engage.http import Client, HttpSettings
from pelican_engage.sources import discourse
from pelican_engage.sources.discourse import DiscourseSource, job_for
from pelican_engage.sources.discourse_parse import (
    Topic,
    absolute_links,
    parse_posts,
    parse_submission,
    parse_topic_url,
)
from tests.conftest import Site
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "discourse"
FAST = HttpSettings(connect_timeout=2, read_timeout=1, backoff=0.01, max_wait=1, retries=1)
NOW = datetime(2026, 1, 4, tzinfo=timezone.utc)
CASES = sorted(p.name.removesuffix(".expected.json") for p in DATA.glob("*.expected.json"))


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def all_posts(case: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The topic answer, and every post of it (first page and the rest)."""
    topic = load(f"{case}.json")
    number = case.removeprefix("topic-")
    return topic, [*topic["post_stream"]["posts"], *load(f"more-posts-{number}.json")["posts"]]


# -- Topic URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "base", "topic_id"),
    [
        ("https://forum.example/t/moving-house/123", "https://forum.example", 123),
        ("https://forum.example/t/moving-house/123/4", "https://forum.example", 123),
        ("https://forum.example/t/123", "https://forum.example", 123),
        ("https://forum.example/t/123/", "https://forum.example", 123),
        # No slug, a post number: post 4 of topic 123 (not topic 4).
        ("https://forum.example/t/123/4", "https://forum.example", 123),
        ("https://forum.example/forum/t/123/4", "https://forum.example/forum", 123),
        ("http://blog.example/forum/t/moving-house/77", "http://blog.example/forum", 77),
    ],
)
def test_topic_urls_in_every_form_name_one_topic(value: str, base: str, topic_id: int) -> None:
    assert parse_topic_url(value) == Topic(base, topic_id)
    job = job_for("post", value, NOW)
    assert job.target == f"{base}/t/{topic_id}" and job.source == "discourse"


@pytest.mark.parametrize(
    "value",
    ["https://forum.example/c/general/5", "forum.example/t/x/1", "javascript:alert(1)//t/1", "123"],
)
def test_a_value_that_is_no_topic_url_names_the_expected_form(value: str) -> None:
    with pytest.raises(ValueError, match=r"not a Discourse topic URL \(expected https://forum"):
        job_for("post", value, NOW)


def test_a_bad_value_is_one_problem_naming_the_post_and_the_form(site: Site) -> None:
    from pelican.settings import read_settings

    from pelican_engage import cli, settings
    from pelican_engage.engine import Engine

    site.article("post", discourse="https://forum.example/c/general/5")
    pelican = read_settings(override=site.settings())
    settings.prepare_settings(pelican)
    engine = Engine(settings.load(pelican), pelican)
    assert engine.jobs(cli.site_articles(pelican)) == []
    assert [str(p) for p in engine.problems] == [
        "post post: metadata 'discourse': 'https://forum.example/c/general/5' is not a "
        "Discourse topic URL (expected https://forum.example/t/slug/123)"
    ]


# -- Parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_posts_thread_by_reply_to_post_number(case: str) -> None:
    expected = load(f"{case}.expected.json")
    topic_answer, posts = all_posts(case)
    topic = Topic("https://forum.example/forum", topic_answer["id"])
    head, stream, first_page = parse_submission(topic_answer, topic)
    assert stream == [p["id"] for p in posts] and len(first_page) == 5
    parsed = parse_posts(posts, topic, head)
    got = {head.id: head.in_reply_to, **{i.id: i.in_reply_to for i in parsed.items}}
    assert got == expected["items"]
    assert sorted(parsed.removed) == expected["removed"]
    assert [s.id for s in parsed.skipped] == expected["skipped"]
    for item in (head, *parsed.items):
        for bad in ("<script", "<img src=x", "javascript:", "data:", "&amp;lt;"):
            assert bad not in item.content_html
        assert not re.search(r"<[^>]*\son\w+=", item.content_html)
        assert item.in_reply_to != item.id
        assert not item.author.avatar or item.author.avatar.startswith("https://forum.example/")
        assert "/../" not in item.author.url and "?" not in item.author.url


def test_the_topic_is_the_submission_and_its_first_post_its_text() -> None:
    topic_answer, posts = all_posts("topic-123")
    topic = Topic("https://forum.example/forum", 123)
    head, _stream, _first = parse_submission(topic_answer, topic)
    assert head.kind == "mention" and head.author.handle == "pgreen"
    assert head.url == "https://forum.example/forum/t/moving-house/123"
    # The title is text; the first post's relative image is made absolute (then its alt kept).
    assert head.content_html.startswith("<p>Moving house &lt;and&gt; boxes</p>")
    assert "Marin's blog" in head.content_html or "Marin&#39;s blog" in head.content_html
    by_id = {i.id: i for i in parse_posts(posts, topic, head).items}
    assert "discourse:forum.example/501" not in by_id  # the first post is not a comment
    reply = by_id["discourse:forum.example/505"]
    assert "<script" not in reply.content_html and "Which ones then?" in reply.content_html
    assert reply.url == "https://forum.example/forum/t/moving-house/123/5"
    assert reply.author.avatar == (
        "https://forum.example/forum/user_avatar/forum.example/ann/96/505_2.png"
    )
    assert reply.author.url == "https://forum.example/forum/u/ann"
    mention = by_id["discourse:forum.example/510"]
    assert 'href="https://forum.example/forum/u/marin"' in mention.content_html
    assert reply.root == head.id


def test_relative_links_point_at_the_forum_not_the_blog() -> None:
    html = '<a href="/u/ann">@ann</a> <a href=\'//cdn.example/x.png\'>x</a> <a href="https://a.example/">a</a>'
    assert absolute_links(html, "https://forum.example/sub") == (
        '<a href="https://forum.example/u/ann">@ann</a> '
        "<a href='https://cdn.example/x.png'>x</a> <a href=\"https://a.example/\">a</a>"
    )


def test_an_answer_that_is_no_topic_is_an_error() -> None:
    topic = Topic("https://forum.example", 1)
    for answer in ([], {"post_stream": {"posts": []}}, {"errors": ["not found"]}):
        with pytest.raises(ValueError, match=r"t/1\.json"):
            parse_submission(answer, topic)


# -- A loopback forum ----------------------------------------------------------------------


class FakeForum:
    """``/forum/t/123.json`` (the first five posts and the stream) and
    ``/forum/t/123/posts.json?post_ids[]=...`` (any of the others), with an
    ETag; ``/forum/posts/<id>.json`` answers 404 for posts deleted since."""

    def __init__(self, server: Server, case: str = "topic-123", whole: bool = False) -> None:
        self.topic, posts = all_posts(case)
        if whole:  # a small topic: its first answer holds every post
            self.topic["post_stream"]["posts"] = posts
        self.posts = {p["id"]: p for p in posts}
        self.asked: list[list[int]] = []
        self.etags: list[str] = []
        self.deleted: set[int] = set()
        server.routes["/forum/t/123.json"] = self.topic_json
        server.routes["/forum/t/123/posts.json"] = self.posts_json
        for pid in (512, 599):
            server.routes[f"/forum/posts/{pid}.json"] = self.post_json

    def topic_json(self, handler: BaseHTTPRequestHandler, _n: int) -> None:
        sent = handler.headers.get("If-None-Match", "")
        self.etags.append(sent)
        body = json.dumps(self.topic).encode()
        etag = f'W/"{len(body)}"'
        if sent == etag:
            send(handler, 304, b"", ETag=etag)
            return
        send(handler, 200, body, Content_Type="application/json", ETag=etag)

    def posts_json(self, handler: BaseHTTPRequestHandler, _n: int) -> None:
        ids = [int(i) for i in parse_qs(urlsplit(handler.path).query)["post_ids[]"]]
        self.asked.append(ids)
        found = [self.posts[i] for i in ids if i in self.posts]
        body = {"post_stream": {"posts": found}, "id": 123}
        send(handler, 200, json.dumps(body).encode(), Content_Type="application/json")

    def post_json(self, handler: BaseHTTPRequestHandler, _n: int) -> None:
        pid = int(handler.path.rsplit("/", 1)[1].split(".")[0])
        if pid in self.deleted or pid not in self.posts:
            send(handler, 404, b'{"errors": ["The requested URL or resource could not be found."]}')
            return
        send(handler, 200, json.dumps(self.posts[pid]).encode())

    def drop(self, pid: int) -> None:
        """The post is deleted: a public forum leaves it out of the stream."""
        self.deleted.add(pid)
        stream = self.topic["post_stream"]
        stream["stream"] = [i for i in stream["stream"] if i != pid]
        self.posts.pop(pid, None)


def rig(tmp_path: Path, server: Server, cap: int = 30) -> tuple[Fetcher, Any, str]:
    source = DiscourseSource(Client(FAST, clock=lambda: NOW), max_requests=cap)
    fetcher = Fetcher(
        Archive(tmp_path / "archive"), {"discourse": source}, clock=lambda: NOW, concurrency=1
    )
    job = job_for("post", f"{server.url}/forum/t/moving-house/123", NOW - timedelta(days=1))
    return fetcher, job, f"discourse:{server.url.split('//', 1)[1]}"


def archived(tmp_path: Path) -> dict[str, Any]:
    return Archive(tmp_path / "archive").load("post").items


def test_fetch_pages_through_the_post_stream(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forum = FakeForum(server)
    monkeypatch.setattr(discourse, "CHUNK", 3)
    fetcher, job, host = rig(tmp_path, server)
    summary = fetcher.run([job])
    assert not summary.errors, summary.messages
    # The first page held 501-505; the other seven came three at a time.
    assert forum.asked == [[506, 507, 508], [509, 510, 511], [512]]
    expected = {
        k.replace("discourse:forum.example", host) for k in load("topic-123.expected.json")["items"]
    }
    assert set(archived(tmp_path)) == expected
    assert any("1 post skipped (no created_at)" in line for line in summary.entry_lines)


def test_an_unchanged_small_topic_costs_one_request(server: Server, tmp_path: Path) -> None:
    forum = FakeForum(server, whole=True)
    fetcher, job, _host = rig(tmp_path, server)
    fetcher.run([job])
    fetcher.run(fetcher.due([job], force=True))
    assert forum.etags[1].startswith('W/"') and forum.asked == []
    assert len(archived(tmp_path)) == 7


def test_a_topic_past_its_first_page_is_asked_whole_each_time(
    server: Server, tmp_path: Path
) -> None:
    # Its first answer does not cover post 510: a 304 would hide that it changed.
    forum = FakeForum(server)
    fetcher, job, _host = rig(tmp_path, server)
    fetcher.run([job])
    fetcher.run(fetcher.due([job], force=True))
    assert forum.etags == ["", ""] and len(forum.asked) == 2


def test_a_deleted_post_becomes_a_tombstone_and_its_reply_stays(
    server: Server, tmp_path: Path
) -> None:
    forum = FakeForum(server)
    fetcher, job, host = rig(tmp_path, server)
    fetcher.run([job])
    forum.drop(512)
    forum.posts[507]["reply_to_post_number"] = 6
    summary = fetcher.run(fetcher.due([job], force=True))
    assert [s.id for s in summary.deleted] == [f"{host}/512"]
    record = Archive(tmp_path / "archive").load("post")
    assert f"{host}/512" not in record.items and f"{host}/507" in record.items


def test_a_post_hidden_or_withdrawn_later_is_withdrawn_here(server: Server, tmp_path: Path) -> None:
    forum = FakeForum(server)
    fetcher, job, host = rig(tmp_path, server)
    fetcher.run([job])
    forum.posts[510]["hidden"] = True
    summary = fetcher.run(fetcher.due([job], force=True))
    assert [s.id for s in summary.deleted] == [f"{host}/510"]


def test_the_cap_keeps_what_came_and_leaves_the_rest_for_the_next_build(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forum = FakeForum(server)
    monkeypatch.setattr(discourse, "CHUNK", 3)
    fetcher, job, host = rig(tmp_path, server, cap=2)
    summary = fetcher.run([job])
    assert "ENGAGE_DISCOURSE['max_requests'] (2) reached" in summary.messages["discourse"]
    assert len(forum.asked) == 1
    assert f"{host}/504" in archived(tmp_path) and f"{host}/510" not in archived(tmp_path)
    cursor = Archive(tmp_path / "archive").load("post").cursors[job.cursor_key]
    assert "fetched_at" not in cursor and not cursor.get("etag")
    # The next build starts with the posts it has not seen yet.
    fetcher, job, host = rig(tmp_path, server, cap=2)
    fetcher.run(fetcher.due([job]))
    assert forum.asked == [[506, 507, 508], [509, 510, 511]]
    assert f"{host}/510" in archived(tmp_path)


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (500, b"", "server error 500"),
        (200, b'{"post_stream": {"stream": [501, 5', "malformed JSON"),
        (404, b'{"errors": ["not found"]}', "not public or does not exist (HTTP 404)"),
        (403, b'{"errors": ["private"]}', "check the 'discourse:' metadata"),
    ],
    ids=["5xx", "truncated", "404", "403"],
)
def test_failures_keep_the_archive(
    server: Server, tmp_path: Path, status: int, body: bytes, says: str
) -> None:
    FakeForum(server)
    fetcher, job, _host = rig(tmp_path, server)
    fetcher.run([job])
    path = Archive(tmp_path / "archive").post_path("post")
    before = path.read_bytes()
    server.routes["/forum/t/123.json"] = lambda h, n: send(h, status, body)
    summary = fetcher.run(fetcher.due([job], force=True))
    assert summary.errors["discourse"] == 1 and says in summary.messages["discourse"]
    assert path.read_bytes() == before


def test_a_rate_limit_defers_the_forum_for_the_build(server: Server, tmp_path: Path) -> None:
    FakeForum(server)
    server.routes["/forum/t/123/posts.json"] = lambda h, n: send(h, 429, b"", Retry_After="3600")
    fetcher, job, host = rig(tmp_path, server)
    other = job_for("other", f"{server.url}/forum/t/moving-house/123", NOW)
    summary = fetcher.run([job, other])
    assert "rate limited until" in summary.messages["discourse"] and summary.skipped == 1
    # The first page came before the limit: it is kept.
    assert f"{host}/505" in archived(tmp_path)


@pytest.mark.parametrize(
    "body",
    [b'{"posts": []}', b'{"post_stream": {}}', b'{"post_stream": {"posts": {}}}', b"[]"],
    ids=["no-post-stream", "no-posts", "posts-not-a-list", "a-list"],
)
def test_a_post_list_of_another_shape_is_an_error_not_silence(
    server: Server, tmp_path: Path, body: bytes
) -> None:
    """A 200 from posts.json that holds no post list (a proxy, another
    version) must not quietly cost the topic its later posts."""
    FakeForum(server)
    server.routes["/forum/t/123/posts.json"] = lambda h, n: send(h, 200, body)
    fetcher, job, host = rig(tmp_path, server)
    summary = fetcher.run([job])
    assert summary.errors["discourse"] == 1
    assert "posts.json" in summary.messages["discourse"]
    assert f"{host}/505" in archived(tmp_path)  # the first page is kept


# -- A site: the branch on the page, and who waits ---------------------------------------


def test_the_page_shows_the_topic_with_its_posts_nested_and_the_report_who_waits(
    site: Site, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeForum(server)
    site.article("moving-house", discourse=f"{server.url}/forum/t/moving-house/123")
    author = {"names": ["Marin Quell"], "discourse": ["marin"]}
    site.build(ENGAGE_AUTHOR=author)
    page = site.html("moving-house.html")
    host = server.url.split("//", 1)[1]
    head = page.select_one(f'li[data-engage-id="discourse:{host}/t/123"]')
    assert head is not None and "Discussed on" in head.get_text(" ")
    assert "Pat Green" in head.select_one(".engage-mention-row").get_text()
    nested = head.select_one(f'li[data-engage-id="discourse:{host}/502"]')
    deeper = nested.select_one(f'li[data-engage-id="discourse:{host}/504"]')
    assert deeper.select_one(f'li[data-engage-id="discourse:{host}/505"]') is not None
    assert "Staff only" not in page.get_text() and "withdrawn by author" not in page.get_text()

    conf = site.write_conf(ENGAGE_AUTHOR=author, ENGAGE_OFFLINE=True)
    capsys.readouterr()
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    waiting = {row["id"] for row in report["waiting"]}
    # 502 and 512 answer the submission; 505 answers the author's 504; 510 names @marin.
    assert waiting == {f"discourse:{host}/505", f"discourse:{host}/510"}


def test_the_people_view_counts_forum_members(
    site: Site, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeForum(server)
    site.article("moving-house", discourse=f"{server.url}/forum/t/moving-house/123")
    author = {"names": ["Marin Quell"], "discourse": ["marin"]}
    site.build(ENGAGE_AUTHOR=author)
    conf = site.write_conf(ENGAGE_AUTHOR=author, ENGAGE_OFFLINE=True)
    capsys.readouterr()
    assert main(["people", "-s", str(conf), "--format", "json"]) == 0
    people = {p["name"]: p for p in json.loads(capsys.readouterr().out)["people"]}
    # Ann wrote twice, once to the author (505 answers the author's 504; 502
    # answers the topic), and the author answered her once.
    assert people["Ann Lee"]["sources"] == ["discourse"]
    assert (people["Ann Lee"]["messages"], people["Ann Lee"]["author_replies"]) == (1, 1)
    assert "Marin Quell" not in people


def test_one_post_linked_in_any_form_is_one_item_in_dedup() -> None:
    from pelican_engage.dedup import dedupe
    from pelican_engage.model import Item, Person

    topic_answer, posts = all_posts("topic-123")
    topic = Topic("https://forum.example", 123)
    head, _stream, _first = parse_submission(topic_answer, topic)
    ours = parse_posts(posts, topic, head).items[0]
    number = ours.url.rsplit("/", 1)[1]
    # The same post reached another way (a feed, a copy): its share link has
    # no slug and a ?u= query.
    copy = Item(
        id="feed:elsewhere-1",
        source="feed",
        kind="comment",
        author=ours.author,
        published=ours.published,
        content_html=ours.content_html,
        url=f"https://forum.example/t/123/{number}?u=someone",
    )
    kept, _aliases = dedupe([head, ours, copy])
    assert [i.id for i in kept] == [head.id, ours.id]
    other = Item(
        "feed:x",
        "feed",
        "comment",
        Person("x"),
        ours.published,
        "",
        url="https://forum.example/t/123/99",
    )
    assert len(dedupe([ours, other])[0]) == 2
