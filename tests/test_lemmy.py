"""Lemmy (docs/sources.md, "Lemmy"): posts found by the post's URL on each
listed instance, their comments threaded by ``path``, federated copies
counted once, against loopback servers speaking Lemmy's API v3."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pelican_engage.archive import Archive
from pelican_engage.dedup import dedupe, url_keys
from pelican_engage.errors import AccessDenied, RateLimited
from pelican_engage.fetch import Fetcher, Job, Refresh
from pelican_engage.http import Client, HttpSettings
from pelican_engage.model import Item, Person, profile_handle
from pelican_engage.sources import lemmy_parse
from pelican_engage.sources.discussion import RequestCapReached
from pelican_engage.sources.lemmy import LemmySettings, LemmySource, load_settings
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "lemmy"
CASES = sorted(p for p in (DATA / "cases").glob("*.json") if not p.name.endswith(".expected.json"))
URL = "https://blog.example/moving-house/"
OLD = "http://old.example/?p=12"
PUBLISHED = datetime(2024, 11, 27, tzinfo=timezone.utc)
FAST = HttpSettings(connect_timeout=2, read_timeout=2, backoff=0.01, max_wait=1, retries=1)


def load(name: str, **hosts: str) -> Any:
    """A fixture, with ``https://lemmy.world`` etc. replaced by loopback URLs."""
    text = (DATA / name).read_text(encoding="utf-8")
    for real, url in hosts.items():
        text = text.replace(f"https://{real.replace('_', '.')}", url)
    return json.loads(text)


class FakeLemmy:
    """One instance: search by URL and comment lists by post id, paged."""

    def __init__(self, server: Server, **hosts: str) -> None:
        self.server = server
        self.queries: list[tuple[str, dict[str, list[str]]]] = []
        self.search = {
            URL.rstrip("/"): load("search.json", **hosts),
        }
        self.comments: dict[int, list[Any]] = {
            101: load("cases/comments.json", **hosts)["comments"],
            102: [],
        }
        self.broken: dict[str, tuple[int, bytes]] = {}
        server.routes["/api/v3/search"] = self._search
        server.routes["/api/v3/comment/list"] = self._comment_list

    def _record(self, h: BaseHTTPRequestHandler) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(h.path)
        query = parse_qs(parts.query)
        self.queries.append((parts.path, query))
        return parts.path, query

    def _send(self, h: BaseHTTPRequestHandler, path: str, body: Any) -> None:
        if path in self.broken:
            status, raw = self.broken[path]
            send(h, status, raw, Content_Type="application/json")
            return
        send(h, 200, json.dumps(body).encode(), Content_Type="application/json")

    def _search(self, h: BaseHTTPRequestHandler, _n: int) -> None:
        path, query = self._record(h)
        page = int(query["page"][0])
        found = self.search.get(query["q"][0]) if query.get("type_") == ["Url"] else None
        body = copy.deepcopy(found or load("search-empty.json"))
        body["posts"] = body["posts"][(page - 1) * 50 : page * 50]
        self._send(h, path, body)

    def _comment_list(self, h: BaseHTTPRequestHandler, _n: int) -> None:
        path, query = self._record(h)
        page, limit = int(query["page"][0]), int(query["limit"][0])
        views = self.comments.get(int(query["post_id"][0]), [])
        self._send(h, path, {"comments": views[(page - 1) * limit : page * limit]})

    def asked(self, path: str) -> list[dict[str, list[str]]]:
        return [q for p, q in self.queries if p == path]


def source(*servers: Server, **settings: Any) -> LemmySource:
    instances = [s.url for s in servers]
    return LemmySource(
        Client(FAST), load_settings({"ENGAGE_LEMMY": {"instances": instances, **settings}})
    )


def job(server: Server, *old: str, key: str = "moving-house") -> Job:
    host = server.url.split("//", 1)[1]
    return Job(key, "lemmy", " ".join([server.url, URL, *old]), host, PUBLISHED)


# -- Parsing (tests/data/lemmy/cases/*.json and their .expected.json) ----------------


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_comments_are_threaded_by_path(case: Path) -> None:
    expected = json.loads(case.with_suffix(".expected.json").read_text(encoding="utf-8"))
    views = lemmy_parse.comments(json.loads(case.read_text(encoding="utf-8")))
    items, skipped, gone = lemmy_parse.thread(
        views, "lemmy.example", "https://lemmy.example", expected["post"]
    )
    host = "lemmy:lemmy.example/"
    assert [[i.id, i.in_reply_to] for i in items] == [
        [host + a, host + b] for a, b in expected["items"]
    ]
    assert gone == [host + g for g in expected["gone"]]
    assert [s.id for s in skipped] == expected["skipped"]
    for item in items:
        assert (
            item.url == item.reply_url == "https://lemmy.example/comment/" + item.id.split("/")[-1]
        )
        assert item.extras["ap_id"].startswith("https://")
        assert "<script" not in item.content_html and 'href="javascript' not in item.content_html
        assert "data:" not in item.content_html and "['" not in item.content_html
        assert not item.author.url or item.author.url.startswith("https://")


def test_comment_markdown_is_rendered_then_sanitised() -> None:
    views = lemmy_parse.comments(load("cases/comments.json"))
    items, _s, _g = lemmy_parse.thread(views, "lemmy.example", "https://lemmy.example", 101)
    by_id = {i.id.split("/")[-1]: i for i in items}
    first = by_id["201"].content_html
    assert "<strong>write-up</strong>" in first
    assert 'href="https://crates.example/"' in first
    hostile = by_id["208"].content_html
    for bad in ("<script", 'href="javascript', "<img"):
        assert bad not in hostile
    # markdown-it makes no link of a javascript: target: it stays text.
    assert "[click](javascript:alert(1))" in hostile
    assert "&lt;script&gt;" in hostile  # raw HTML is text in Lemmy's Markdown
    assert "<blockquote>" in hostile and "<s>2</s>" in hostile
    assert "| a | b |" in hostile  # a table stays readable text
    # Lemmy 0.18's zone-less times are UTC.
    assert by_id["208"].published == datetime(2024, 11, 27, 11, tzinfo=timezone.utc)
    author = by_id["204"].author
    assert author == Person(
        name="marin", handle="marin@lemmy.world", url="https://lemmy.world/u/marin"
    )
    assert by_id["203"].author.name == "Hazel"  # display_name first


def test_a_post_is_the_submission_with_its_community() -> None:
    view = lemmy_parse.posts(load("search.json"))[0]
    item = lemmy_parse.parse_post(view, "lemmy.example", "https://lemmy.example")
    assert item.id == "lemmy:lemmy.example/post/101" and item.kind == "mention"
    assert item.url == item.reply_url == "https://lemmy.example/post/101"
    assert item.author.handle == "pgreen@lemmy.world" and item.author.name == "P. Green"
    assert item.content_html == "<p>Moving house without losing a box</p>"
    assert item.extras == {"ap_id": "https://lemmy.world/post/101", "community": "Selfhosted"}
    with pytest.raises(ValueError, match="no 'posts' list"):
        lemmy_parse.posts({"error": "couldnt_find_object"})


# -- Fetching ----------------------------------------------------------------------


def test_posts_are_found_by_url_and_read_with_their_comments(server: Server) -> None:
    fake = FakeLemmy(server)
    result = source(server).fetch(job(server, OLD), {})
    searches = fake.asked("/api/v3/search")
    # One search per URL: Lemmy matches part of the URL, so the form without
    # the slash finds both forms (posts 101 and 102); 103 links elsewhere.
    assert [q["q"][0] for q in searches] == [URL.rstrip("/"), OLD.rstrip("/")]
    assert all(q["type_"] == ["Url"] and q["listing_type"] == ["All"] for q in searches)
    host = server.url.split("//", 1)[1]
    ids = [i.id for i in result.items]
    assert f"lemmy:{host}/post/101" in ids and f"lemmy:{host}/post/102" in ids
    assert f"lemmy:{host}/post/103" not in ids
    # 104 was removed by a moderator: not shown, withdrawn if archived.
    assert f"lemmy:{host}/post/104" not in ids and f"lemmy:{host}/post/104" in result.gone
    assert {f"lemmy:{host}/202", f"lemmy:{host}/206"} <= set(result.gone)
    lists = fake.asked("/api/v3/comment/list")
    assert [(q["post_id"], q["sort"], q["limit"]) for q in lists] == [
        (["101"], ["Old"], ["50"]),
        (["102"], ["Old"], ["50"]),
    ]
    assert result.cursor == {"posts": [101, 102]}
    assert {s.id for s in result.skipped} == {"209", "210"}
    assert result.error is None and result.notice == ""


def test_comments_are_paged_and_a_long_tail_is_told(server: Server) -> None:
    fake = FakeLemmy(server)
    template = fake.comments[101][0]
    many = []
    for n in range(1, 521):
        view = copy.deepcopy(template)
        view["comment"].update(id=1000 + n, path=f"0.{1000 + n}")
        many.append(view)
    fake.comments[101] = many
    result = source(server).fetch(job(server), {})
    pages = [q["page"][0] for q in fake.asked("/api/v3/comment/list") if q["post_id"] == ["101"]]
    assert pages == [str(n) for n in range(1, 11)]
    assert len([i for i in result.items if i.kind == "reply"]) == 500
    assert "more than 500 comments" in result.notice and "101" in result.notice


def test_a_post_found_before_is_read_even_when_search_misses_it(server: Server) -> None:
    fake = FakeLemmy(server)
    fake.search = {}
    result = source(server).fetch(job(server), {"posts": [101, "x", True, 999]})
    host = server.url.split("//", 1)[1]
    # The post comes back from its comments' answers.
    assert f"lemmy:{host}/post/101" in {i.id for i in result.items}
    assert [q["post_id"] for q in fake.asked("/api/v3/comment/list")] == [["101"], ["999"]]
    # One with nothing to read any more is not asked for again.
    assert result.cursor == {"posts": [101]}


@pytest.mark.parametrize(
    ("status", "body"),
    [(502, b"<html>Bad gateway</html>"), (200, b'{"posts": [{"post": {"id": 1')],
    ids=["5xx", "truncated"],
)
def test_a_failed_search_forgets_no_post_found_before(
    server: Server, status: int, body: bytes
) -> None:
    fake = FakeLemmy(server)
    fake.broken["/api/v3/search"] = (status, body)
    # 999 has no comments: after a search that answered it would be let go,
    # but this search failed, so nothing says the post is gone.
    result = source(server).fetch(job(server), {"posts": [101, 999]})
    assert result.cursor == {"posts": [101, 999]}
    assert [q["post_id"] for q in fake.asked("/api/v3/comment/list")] == [["101"], ["999"]]


def test_posts_past_the_per_fetch_limit_are_told_and_kept(server: Server) -> None:
    fake = FakeLemmy(server)
    fake.search = {}
    many = list(range(1001, 1026))
    fake.comments = dict.fromkeys(many, fake.comments[101])
    result = source(server).fetch(job(server), {"posts": many})
    assert len(fake.asked("/api/v3/comment/list")) == 20
    assert "5 post(s)" in result.notice and "not read" in result.notice
    assert result.cursor == {"posts": many}  # the rest waits, not forgotten


def test_a_known_post_deleted_since_is_withdrawn_not_shown_again(server: Server) -> None:
    fake = FakeLemmy(server)
    fake.search = {}  # Lemmy's search leaves deleted posts out
    views = copy.deepcopy(fake.comments[101])
    for view in views:
        view["post"]["deleted"] = True
    fake.comments = {101: views}
    host = server.url.split("//", 1)[1]
    result = source(server).fetch(job(server), {"posts": [101]})
    assert result.gone == (f"lemmy:{host}/post/101",)
    assert result.items == () and result.cursor == {"posts": []}


def test_a_comment_whose_path_names_itself_is_skipped_not_its_siblings() -> None:
    when = "2024-11-28T10:00:00Z"
    views = [
        {"comment": {"id": 7, "path": "0.7.7", "content": "loop", "published": when},
         "creator": {"name": "a", "actor_id": "https://lemmy.world/u/a"}},
        {"comment": {"id": 8, "path": "0.8", "content": "fine", "published": when},
         "creator": {"name": "b", "actor_id": "https://lemmy.world/u/b"}},
    ]  # fmt: skip
    items, skipped, gone = lemmy_parse.thread(views, "lemmy.world", "https://lemmy.world", 1)
    assert [i.id for i in items] == ["lemmy:lemmy.world/8"]
    assert [s.id for s in skipped] == ["7"] and "ancestor" in skipped[0].reason
    assert gone == []


def test_a_federated_post_is_read_on_its_home_instance_only(server: Server) -> None:
    home = Server()
    try:
        world = FakeLemmy(server, lemmy_ml=home.url, lemmy_world=server.url)
        ml = FakeLemmy(home, lemmy_ml=home.url, lemmy_world=server.url)
        ml.search = {URL.rstrip("/"): load("search-home.json", lemmy_ml=home.url)}
        ml.comments = {555: load("comments-home.json", lemmy_ml=home.url)["comments"]}
        both = source(server, home)
        on_world = both.fetch(job(server), {})
        on_ml = both.fetch(job(home), {})
        # lemmy.world lists post 102, whose home (its ap_id) is lemmy.ml:
        # only lemmy.ml's job reads it.
        assert [q["post_id"][0] for q in world.asked("/api/v3/comment/list")] == ["101"]
        assert [q["post_id"][0] for q in ml.asked("/api/v3/comment/list")] == ["555"]
        ml_host = home.url.split("//", 1)[1]
        assert f"lemmy:{ml_host}/post/555" in {i.id for i in on_ml.items}
        assert on_world.cursor == {"posts": [101]}
    finally:
        home.close()


def test_copies_of_one_post_and_comment_on_two_instances_count_once(server: Server) -> None:
    other = Server()
    try:
        a, b = FakeLemmy(server), FakeLemmy(other)
        b.comments = {101: b.comments[101][:1], 102: []}  # only the first comment there
        # Neither instance is the posts' home: each job reads its copy.
        items = [
            *source(server).fetch(job(server), {}).items,
            *source(other).fetch(job(other), {}).items,
        ]
        kept, aliases = dedupe(items)
        submissions = [i for i in kept if i.kind == "mention"]
        assert len(submissions) == 2  # posts 101 and 102, once each
        firsts = [i for i in kept if i.extras.get("ap_id", "").endswith("/comment/9201")]
        assert len(firsts) == 1 and len(aliases) == 3
        # Replies to the copy that was dropped hang under the one kept.
        assert {i.in_reply_to for i in kept if i.kind == "reply"} <= {i.id for i in kept}
        assert a.queries and b.queries
    finally:
        other.close()


def test_a_search_that_finds_nothing_waits_for_the_refresh_interval(
    server: Server, tmp_path: Path
) -> None:
    fake = FakeLemmy(server)
    fake.search = {}
    now = datetime(2026, 1, 10, tzinfo=timezone.utc)
    archive = Archive(tmp_path)
    post = Job("p", "lemmy", f"{server.url} {URL}", "127.0.0.1", now - timedelta(days=2))
    fetcher = Fetcher(archive, {"lemmy": source(server)}, Refresh(), clock=lambda: now)
    fetcher.run(fetcher.due([post]))
    assert len(fake.queries) == 1
    assert fetcher.due([post]) == []
    later = Fetcher(archive, {"lemmy": source(server)}, clock=lambda: now + timedelta(hours=6))
    assert later.due([post]) == [post]


def test_the_request_cap_holds_across_instances_and_posts(server: Server) -> None:
    fake = FakeLemmy(server)
    lemmy = source(server, max_requests=2)
    result = lemmy.fetch(job(server), {})
    assert isinstance(result.error, RequestCapReached)
    assert len(fake.queries) == 2  # the search, then post 101's comments
    assert any(i.id.endswith("/post/101") for i in result.items)
    with pytest.raises(RequestCapReached):
        lemmy.fetch(job(server, key="other"), {})


def test_a_rate_limit_defers_lemmy(server: Server) -> None:
    FakeLemmy(server)
    server.routes["/api/v3/search"] = lambda h, n: send(h, 429, b"{}", Retry_After="900")
    with pytest.raises(RateLimited):
        source(server).fetch(job(server), {})


def test_an_instance_refusing_anonymous_reads_is_named(server: Server) -> None:
    server.routes["/api/v3/search"] = lambda h, n: send(h, 401, b'{"error": "not_logged_in"}')
    with pytest.raises(
        AccessDenied, match=r"refuses anonymous API reads.*ENGAGE_LEMMY\['instances'\]"
    ):
        source(server).fetch(job(server), {})


@pytest.mark.parametrize(
    ("status", "body"),
    [(502, b"<html>Bad gateway</html>"), (200, b'{"comments": [{"comment": {"id": 2')],
    ids=["5xx", "truncated"],
)
def test_a_failed_comment_list_keeps_the_archive(
    server: Server, tmp_path: Path, status: int, body: bytes
) -> None:
    fake = FakeLemmy(server)
    fake.broken["/api/v3/comment/list"] = (status, body)
    archive = Archive(tmp_path)
    host = server.url.split("//", 1)[1]
    old = Item(
        id=f"lemmy:{host}/150",
        source="lemmy",
        kind="reply",
        author=Person("otter", handle="otter@lemmy.world"),
        published=PUBLISHED,
        content_html="<p>Archived.</p>",
        in_reply_to=f"lemmy:{host}/post/101",
    )
    archive.merge("moving-house", [old])
    summary = Fetcher(archive, {"lemmy": source(server)}).run([job(server)])
    record = archive.load("moving-house")
    assert f"lemmy:{host}/150" in record.items
    assert summary.errors["lemmy"] == 1


def test_a_failed_later_page_keeps_the_comments_of_the_pages_that_came(
    server: Server, tmp_path: Path
) -> None:
    """Page 1 came, page 2 failed: page 1's comments are archived (they
    were lost with it), and the job stays due for the rest."""
    fake = FakeLemmy(server)
    first = fake.comments[101][0]
    fake.comments[101] = [
        {**first, "comment": {**first["comment"], "id": 300 + n, "path": f"0.{300 + n}"}}
        for n in range(60)
    ]
    answer = fake._comment_list

    def page_two_fails(h: BaseHTTPRequestHandler, n: int) -> None:
        if "page=2" in h.path:
            send(h, 502, b'{"error": "bad gateway"}', Content_Type="application/json")
        else:
            answer(h, n)

    server.routes["/api/v3/comment/list"] = page_two_fails
    archive = Archive(tmp_path)
    host = server.url.split("//", 1)[1]
    summary = Fetcher(archive, {"lemmy": source(server)}).run([job(server)])
    record = archive.load("moving-house")
    assert {f"lemmy:{host}/{300 + n}" for n in range(50)} <= set(record.items)
    assert f"lemmy:{host}/post/101" in record.items
    assert summary.errors["lemmy"] == 1
    assert all("fetched_at" not in c for c in record.cursors.values())  # still due


def test_a_comment_deleted_since_it_was_archived_becomes_a_tombstone(
    server: Server, tmp_path: Path
) -> None:
    FakeLemmy(server)
    archive = Archive(tmp_path)
    host = server.url.split("//", 1)[1]
    was = Item(
        id=f"lemmy:{host}/202",
        source="lemmy",
        kind="reply",
        author=Person("quill", handle="quill@beehaw.org"),
        published=PUBLISHED,
        content_html="<p>I said something.</p>",
        in_reply_to=f"lemmy:{host}/201",
    )
    archive.merge("moving-house", [was])
    Fetcher(archive, {"lemmy": source(server)}).run([job(server)])
    record = archive.load("moving-house")
    assert f"lemmy:{host}/202" in record.tombstones
    assert record.items[f"lemmy:{host}/203"].in_reply_to == f"lemmy:{host}/201"


# -- Settings, dedup keys, profiles ------------------------------------------------


def test_instances_are_hosts_or_base_urls() -> None:
    assert load_settings({}) == LemmySettings()
    assert load_settings({"ENGAGE_LEMMY": {}}).instances == ("https://lemmy.world",)
    checked = load_settings(
        {"ENGAGE_LEMMY": {"instances": ["Lemmy.ML", "http://127.0.0.1:8536", "lemmy.ml"]}}
    )
    assert checked.instances == ("https://lemmy.ml", "http://127.0.0.1:8536")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"instance": ["lemmy.world"]}, r"unknown key\(s\) 'instance'"),
        ({"instances": ["lemmy.world/c/selfhosted"]}, "instance host names such as 'lemmy.world'"),
        ({"instances": ["ftp://lemmy.world"]}, "instance host names"),
        ({"instances": []}, "at least one instance"),
        ({"instances": [3]}, "a string or a list of strings"),
        ({"max_requests": "many"}, "max_requests"),
    ],
)
def test_bad_settings_are_named(value: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_settings({"ENGAGE_LEMMY": value})


def test_lemmy_urls_give_dedup_keys_and_profiles_handles() -> None:
    assert "lemmy:lemmy.world/post/101" in url_keys("https://lemmy.world/post/101")
    assert "lemmy:lemmy.world/201" in url_keys("https://lemmy.world/comment/201")
    assert profile_handle("https://lemmy.world/u/marin") == ("lemmy", "marin@lemmy.world")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("<div> soup & more", "<p>&lt;div&gt; soup &amp; more</p>"),  # Lemmy 0.19: text
        ("Fish &amp; chips", "<p>Fish &amp; chips</p>"),  # Lemmy 0.18 escaped it
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ],
)
def test_a_post_title_is_text_escaped_once(name: str, shown: str) -> None:
    view = copy.deepcopy(load("search.json")["posts"][0])
    view["post"]["name"] = name
    assert lemmy_parse.parse_post(view, "lemmy.world", "https://lemmy.world").content_html == shown
