"""Hacker News: stories found by the post's URL through the Algolia HN Search
API, their comment trees, and what a build and the report make of them.

The parsers run over tests/data/hackernews/ (``tree-<case>.json`` with its
``.expected.json``; ``bad-*.json`` answers that are no live story); the
source runs against a loopback server speaking the API's wire format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pelican_engage import fetching, settings
from pelican_engage.archive import Archive
from pelican_engage.cli import main, site_articles
from pelican_engage.engine import Engine
from pelican_engage.errors import FetchError, RateLimited
from pelican_engage.fetch import Job
from pelican_engage.http import Client, HttpSettings
from pelican_engage.sources.discussion import RequestCap, RequestCapReached
from pelican_engage.sources.hackernews import (
    HackerNewsSource,
    load_settings,
    parse_search,
    parse_story_ref,
    parse_tree,
)
from tests.conftest import Site
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "hackernews"
POST = "https://blog.example/moving-house/"
WHEN = datetime(2026, 11, 19, tzinfo=timezone.utc)


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


# -- Parsers over the fixtures -------------------------------------------------------------


@pytest.mark.parametrize(
    "case", sorted(p.name[: -len(".expected.json")] for p in DATA.glob("tree-*.expected.json"))
)
def test_a_story_tree_threads_its_comments(case: str) -> None:
    tree = parse_tree(load(f"{case}.json"))
    expected = load(f"{case}.expected.json")
    assert [[i.id, i.in_reply_to, i.author.handle, i.kind] for i in tree.items] == expected["items"]
    assert sorted(tree.gone) == expected["gone"]
    assert [s.id for s in tree.skipped] == expected["skipped"]
    for item in tree.items:
        assert "<script" not in item.content_html
        assert "javascript:" not in item.content_html and "data:" not in item.content_html
        assert "&amp;lt;" not in item.content_html  # escaped once, not twice
        assert item.url.startswith("https://news.ycombinator.com/item?id=")
        assert item.author.url == f"https://news.ycombinator.com/user?id={item.author.handle}"


def test_a_tree_keeps_what_the_site_gives_and_sanitises_it() -> None:
    story, first, *_ = parse_tree(load("tree-story.json")).items
    assert story.content_html == "<p>Moving house, &lt;slowly&gt; &amp; calmly</p>"
    assert story.extras == {"points": 112}
    assert story.published == datetime(2026, 11, 20, 8, 14, 2, tzinfo=timezone.utc)
    assert 'href="https://crates.example/"' in first.content_html
    assert "Boxes are overrated." in first.content_html and "alert(1)" not in first.content_html
    assert first.root == story.id and first.reply_url == first.url


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("bad-comment-id.json", "item 42000040 is a 'comment', not a story"),
        ("bad-deleted-story.json", "story 42000050 is deleted or dead"),
        ("bad-no-id.json", "not an HN item"),
    ],
)
def test_an_answer_that_is_no_live_story_is_refused(name: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_tree(load(name))


def test_the_search_keeps_stories_of_the_post_only() -> None:
    urls = [POST, POST.rstrip("/")]
    # Both slash forms, and http://www., are one page; "part two" is another.
    assert parse_search(load("search-moving-house.json"), urls) == (["42000001", "42000002"], 1)
    with pytest.raises(ValueError, match="no 'hits' list"):
        parse_search({"message": "Invalid"}, urls)


@pytest.mark.parametrize(
    ("value", "story"),
    [
        ("42000001", "42000001"),
        (" https://news.ycombinator.com/item?id=42000001 ", "42000001"),
        ("http://www.news.ycombinator.com/item?id=7", "7"),
    ],
)
def test_metadata_pins_a_story_by_url_or_id(value: str, story: str) -> None:
    assert parse_story_ref(value) == story


@pytest.mark.parametrize(
    "value",
    [
        "https://news.ycombinator.com/user?id=42",
        "https://evil.example/item?id=42",
        "https://news.ycombinator.com/item?id=4x",
        "javascript:alert(1)",
        "",
    ],
)
def test_metadata_that_is_no_story_names_the_expected_form(value: str) -> None:
    with pytest.raises(ValueError, match=r"expected https://news\.ycombinator\.com/item\?id=123"):
        parse_story_ref(value)


# -- A loopback Algolia HN API ---------------------------------------------------------------


class FakeHN:
    """``/api/v1/search`` and ``/api/v1/items/<id>`` as hn.algolia.com answers them.

    The search matches words (a URL is split at every non-alphanumeric
    character), as Algolia does, so one query finds both slash forms.
    """

    def __init__(self, server: Server, hits: list[dict[str, Any]] | None = None) -> None:
        self.server = server
        self.url = f"{server.url}/api/v1"
        self.hits = hits if hits is not None else load("search-moving-house.json")["hits"]
        self.queries: list[dict[str, list[str]]] = []
        self.per_page: int | None = None
        self.search_status = 200
        server.routes["/api/v1/search"] = self._search
        for name in ("tree-story.json", "tree-author-story.json"):
            self.story(load(name))

    def story(self, answer: Any, status: int = 200, body: bytes | None = None) -> None:
        def route(handler: Any, _n: int) -> None:
            data = body if body is not None else json.dumps(answer).encode()
            send(handler, status, data, Content_Type="application/json")

        self.server.routes[f"/api/v1/items/{answer['id']}"] = route

    def _search(self, handler: Any, _n: int) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        self.queries.append(query)
        if self.search_status == 429:
            send(handler, 429, b'{"message":"rate limited"}', Retry_After="3600")
            return
        words = set(re.findall(r"[a-z0-9]+", query["query"][0].lower()))
        found = [h for h in self.hits if words <= set(re.findall(r"[a-z0-9]+", h["url"].lower()))]
        per_page = self.per_page or int(query["hitsPerPage"][0])
        page = int(query["page"][0])
        body = {
            "hits": found[page * per_page : (page + 1) * per_page],
            "nbHits": len(found),
            "page": page,
            "nbPages": max(1, -(-len(found) // per_page)),
            "hitsPerPage": per_page,
        }
        send(handler, 200, json.dumps(body).encode(), Content_Type="application/json")


def source(fake: FakeHN, cap: int = 100) -> HackerNewsSource:
    client = Client(HttpSettings(retries=0, backoff=0.0))
    return HackerNewsSource(client, RequestCap("ENGAGE_HACKERNEWS", cap), api_url=fake.url)


def search_job(*urls: str) -> Job:
    return Job("moving-house", "hackernews", " ".join(urls or (POST, POST.rstrip("/"))), "h", WHEN)


def test_a_search_job_finds_the_stories_and_fetches_their_trees(server: Server) -> None:
    fake = FakeHN(server)
    result = source(fake).fetch(search_job(), {})
    assert result.error is None
    assert result.cursor == {"stories": ["42000001", "42000002"]}
    ids = {i.id for i in result.items}
    assert {"hackernews:42000001", "hackernews:42000012", "hackernews:42000060"} <= ids
    assert "hackernews:42000003" not in ids
    # One query finds both slash forms; it searches the url attribute, stories only.
    (query,) = fake.queries
    assert query["query"] == ["blog.example/moving-house"]
    assert query["restrictSearchableAttributes"] == ["url"] and query["tags"] == ["story"]
    assert set(result.gone) == {"hackernews:42000020", "hackernews:42000022"}
    assert [s.id for s in result.skipped] == ["42000030"]


def test_old_urls_are_searched_too_and_pages_are_followed(server: Server) -> None:
    old = "https://old.example/2019/moving/"
    hits = [
        {"objectID": str(n), "url": POST, "_tags": ["story"], "title": "t"}
        for n in (42000001, 42000002)
    ]
    hits.append({"objectID": "42000002", "url": old, "_tags": ["story"], "title": "t"})
    fake = FakeHN(server, hits)
    fake.per_page = 1
    result = source(fake).fetch(search_job(POST, POST.rstrip("/"), old, old.rstrip("/")), {})
    assert result.cursor == {"stories": ["42000001", "42000002"]}
    asked = [(q["query"][0], q["page"][0]) for q in fake.queries]
    assert asked == [
        ("blog.example/moving-house", "0"),
        ("blog.example/moving-house", "1"),
        ("old.example/2019/moving", "0"),
    ]


def test_a_story_found_once_is_followed_and_a_vanished_one_is_a_tombstone(server: Server) -> None:
    fake = FakeHN(server, hits=[])
    fake.story({"id": 42000099}, status=404, body=b'{"error":"Not Found"}')
    result = source(fake).fetch(search_job(), {"stories": ["42000001", "42000099"]})
    assert result.cursor == {"stories": ["42000001"]}
    assert "hackernews:42000099" in result.gone
    assert "hackernews:42000012" in {i.id for i in result.items}
    assert result.notice == ""  # archived before: its tombstone is named when it goes


def test_a_pinned_story_that_is_not_there_is_said(server: Server) -> None:
    """A ``hackernews:`` value naming no story: said once, not dropped silently."""
    fake = FakeHN(server)
    fake.story({"id": 42000077}, status=404, body=b'{"error":"Not Found"}')
    result = source(fake).fetch(Job("moving-house", "hackernews", "42000077", "h", WHEN), {})
    assert result.items == () and "hackernews:42000077" in result.gone
    assert "story 42000077 is not on Hacker News" in result.notice
    assert "'hackernews:'" in result.notice


def test_a_pinned_story_is_fetched_without_a_search(server: Server) -> None:
    fake = FakeHN(server)
    job = Job("moving-house", "hackernews", "42000002", "h", WHEN)
    result = source(fake).fetch(job, {})
    assert [i.id for i in result.items] == ["hackernews:42000002", "hackernews:42000060"]
    assert fake.queries == [] and result.cursor == {}


def test_429_defers_the_source(server: Server) -> None:
    fake = FakeHN(server)
    fake.search_status = 429
    with pytest.raises(RateLimited):
        source(fake).fetch(search_job(), {})


@pytest.mark.parametrize(
    ("status", "body"),
    [(503, b"unavailable"), (200, b'{"id": 42000002, "children": [')],
)
def test_a_failed_tree_keeps_what_came_and_confirms_nothing_gone(
    server: Server, status: int, body: bytes
) -> None:
    fake = FakeHN(server)
    fake.story({"id": 42000002}, status=status, body=body)
    result = source(fake).fetch(search_job(), {})
    assert isinstance(result.error, FetchError)
    assert "hackernews:42000012" in {i.id for i in result.items}
    assert result.gone == ()  # a partial answer never removes anything
    assert result.cursor == {"stories": ["42000001", "42000002"]}


def test_the_request_cap_stops_the_build_and_keeps_what_came(server: Server) -> None:
    fake = FakeHN(server)
    result = source(fake, cap=2).fetch(search_job(), {})  # a search and one tree
    assert isinstance(result.error, RequestCapReached)
    assert "ENGAGE_HACKERNEWS['max_requests'] (2)" in str(result.error)
    assert {i.id for i in result.items} >= {"hackernews:42000001"}
    assert "hackernews:42000060" not in {i.id for i in result.items}


def test_settings_are_checked() -> None:
    assert not load_settings({}).enabled
    on = load_settings({"ENGAGE_HACKERNEWS": {}})
    assert on.enabled and on.api_url == "https://hn.algolia.com/api/v1" and on.max_requests == 100
    with pytest.raises(settings.SettingsError, match=r"unknown key\(s\) 'token'"):
        load_settings({"ENGAGE_HACKERNEWS": {"token": "x"}})
    with pytest.raises(settings.SettingsError, match="max_requests"):
        load_settings({"ENGAGE_HACKERNEWS": {"max_requests": 0}})


# -- A site: the build, the archive, the report ----------------------------------------------

AUTHOR = {"names": ["Marin"], "hackernews": ["mquell"]}


def site_settings(fake: FakeHN, **more: Any) -> dict[str, Any]:
    return {
        "ARTICLE_URL": "{slug}/",
        "ARTICLE_SAVE_AS": "{slug}/index.html",
        "ENGAGE_HACKERNEWS": {"api_url": fake.url},
        "ENGAGE_AUTHOR": AUTHOR,
        **more,
    }


def fetch(site: Site, **overrides: Any) -> Any:
    from pelican.settings import read_settings

    pelican = read_settings(override=site.settings(**overrides))
    settings.prepare_settings(pelican)
    engine = Engine(settings.load(pelican), pelican)
    return fetching.fetch(engine, site_articles(pelican), force=True)[0]


def test_the_page_shows_each_discussion_with_its_comments_nested(
    site: Site, server: Server, engage_warnings: Callable[[], list[str]]
) -> None:
    fake = FakeHN(server)
    site.article("moving-house")
    site.build(**site_settings(fake))
    page = site.html("moving-house/index.html")
    stories = page.select("li.engage-discussion")
    assert [li["data-engage-id"] for li in stories] == [
        "hackernews:42000001",
        "hackernews:42000002",
    ]
    first = stories[0]
    row = first.select_one(".engage-mention-row").get_text(" ", strip=True)
    assert re.fullmatch(r"Discussed on Hacker News , shared by .*pgreen .* on Hacker News", row)
    assert first.select_one("a.engage-mention-link")["href"] == (
        "https://news.ycombinator.com/item?id=42000001"
    )
    # 42000012 answers 42000011, which answers 42000010: nested three deep.
    deep = first.select_one('[data-engage-id="hackernews:42000012"]')
    parents = [li["data-engage-id"] for li in deep.find_parents("li")]
    assert parents[:3] == ["hackernews:42000011", "hackernews:42000010", "hackernews:42000001"]
    # A deleted comment is left out; its live reply hangs under the story.
    assert "42000020" not in str(page)
    lurker = first.select_one('[data-engage-id="hackernews:42000021"]')
    assert lurker.find_parent("li")["data-engage-id"] == "hackernews:42000001"
    assert "<script" not in str(first)
    assert engage_warnings() == []


def test_the_report_shows_who_waits_on_hacker_news(
    site: Site, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeHN(server)
    site.article("moving-house")
    conf = site.write_conf(**site_settings(fake))
    assert main(["fetch", "-s", str(conf)]) == 0
    capsys.readouterr()
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["waiting"]
    # 12 answers the author's comment; 31 names @mquell; 60 comments on the
    # author's own submission.  Top-level talk among readers (10, 21) waits for nobody.
    assert sorted(r["id"] for r in rows) == [
        "hackernews:42000012",
        "hackernews:42000031",
        "hackernews:42000060",
    ]
    assert {r["source"] for r in rows} == {"hackernews"}
    # The people view has them too; the author is not one of "the people".
    assert main(["people", "-s", str(conf), "--format", "json"]) == 0
    people = {p["name"]: p for p in json.loads(capsys.readouterr().out)["people"]}
    assert {"reader", "visitor", "lurker"} <= set(people)
    assert "mquell" not in people
    # reader's top-level comment addressed nobody; the answer to the author did.
    assert people["reader"]["sources"] == ["hackernews"] and people["reader"]["messages"] == 1


def test_a_search_that_found_nothing_is_not_repeated_before_its_interval(
    site: Site, server: Server
) -> None:
    fake = FakeHN(server, hits=[])
    site.article("moving-house")
    conf = site.write_conf(**site_settings(fake))
    assert main(["fetch", "-s", str(conf)]) == 0
    assert len(fake.queries) == 1
    cursors = Archive(site.root / "archive").load("moving-house").cursors
    (cursor,) = [c for k, c in cursors.items() if k.startswith("hackernews:")]
    assert cursor["stories"] == []
    assert main(["fetch", "-s", str(conf)]) == 0
    assert len(fake.queries) == 1  # remembered: not due again yet


def test_a_comment_deleted_upstream_becomes_a_tombstone(site: Site, server: Server) -> None:
    fake = FakeHN(server)
    site.article("moving-house")
    fetch(site, **site_settings(fake))
    archive = Archive(site.root / "archive")
    assert "hackernews:42000060" in archive.load("moving-house").items
    fake.story(load("tree-author-story.json") | {"children": [{"id": 42000060, "children": []}]})
    fetch(site, **site_settings(fake))
    record = archive.load("moving-house")
    assert "hackernews:42000060" in record.tombstones
    assert "hackernews:42000012" in record.items  # the rest stays


def test_a_pinned_story_is_fetched_when_the_search_cannot_find_it(
    site: Site, server: Server
) -> None:
    fake = FakeHN(server, hits=[])  # submitted under another URL
    site.article("moving-house", hackernews="https://news.ycombinator.com/item?id=42000002")
    summary = fetch(site, **site_settings(fake))
    assert len(fake.queries) == 1
    record = Archive(site.root / "archive").load("moving-house")
    assert "hackernews:42000060" in record.items and summary.new_items == 2
    assert record.cursors["hackernews:42000002"]["fetched_at"]


@pytest.mark.parametrize("answer", [(500, b"oops"), (200, b'{"hits": [{"objectID"')])
def test_a_failed_search_keeps_the_archive(
    site: Site, server: Server, answer: tuple[int, bytes]
) -> None:
    fake = FakeHN(server)
    site.article("moving-house")
    fetch(site, **site_settings(fake))
    before = Archive(site.root / "archive").load("moving-house")

    def broken(handler: Any, _n: int) -> None:
        send(handler, answer[0], answer[1], Content_Type="application/json")

    server.routes["/api/v1/search"] = broken
    summary = fetch(site, **site_settings(fake))
    after = Archive(site.root / "archive").load("moving-house")
    assert summary.errors["hackernews"] == 1
    assert set(after.items) == set(before.items) and not after.tombstones


def test_a_pinned_story_the_search_also_finds_is_fetched_once(site: Site, server: Server) -> None:
    fake = FakeHN(server)
    site.article("moving-house", hackernews="42000002")
    fetch(site, **site_settings(fake))
    assert server.hits["/api/v1/items/42000002"] == 1
    assert server.hits["/api/v1/items/42000001"] == 1
    record = Archive(site.root / "archive").load("moving-house")
    assert {"hackernews:42000012", "hackernews:42000060"} <= set(record.items)


def test_bad_metadata_is_named_and_the_build_goes_on(
    site: Site, server: Server, engage_warnings: Callable[[], list[str]]
) -> None:
    fake = FakeHN(server)
    site.article("moving-house", hackernews="https://news.ycombinator.com/user?id=pg")
    site.build(**site_settings(fake))
    assert any(
        "metadata 'hackernews'" in w and "is not a Hacker News story" in w
        for w in engage_warnings()
    )
    assert (site.output / "moving-house" / "index.html").is_file()
