"""Lobsters: stories found by the post's URL, their comments, and what a build
and the report make of them.

The parsers run over tests/data/lobsters/ (``story-<case>.json`` with its
``.expected.json``; ``bad-*.json`` answers that are no story); the source
runs against a loopback server speaking the site's JSON.
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

from pelican_engage import settings
from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.errors import FetchError, RateLimited
from pelican_engage.fetch import Job
from pelican_engage.http import Client, HttpSettings
from pelican_engage.model import normal_url, profile_handle
from pelican_engage.sources.discussion import RequestCap, RequestCapReached
from pelican_engage.sources.lobsters import (
    LobstersSource,
    load_settings,
    parse_stories,
    parse_story,
)
from tests.conftest import Site
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "lobsters"
POST = "https://blog.example/moving-house/"
WHEN = datetime(2026, 11, 19, tzinfo=timezone.utc)


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


# -- Parsers over the fixtures -------------------------------------------------------------


@pytest.mark.parametrize(
    "case", sorted(p.name[: -len(".expected.json")] for p in DATA.glob("story-*.expected.json"))
)
def test_a_story_threads_its_comments(case: str) -> None:
    story = parse_story(load(f"{case}.json"))
    expected = load(f"{case}.expected.json")
    assert [[i.id, i.in_reply_to, i.author.handle, i.kind] for i in story.items] == expected[
        "items"
    ]
    assert sorted(story.gone) == expected["gone"]
    assert [s.id for s in story.skipped] == expected["skipped"]
    for item in story.items:
        assert "<script" not in item.content_html
        assert item.url.startswith("https://lobste.rs/")
        assert item.author.url == f"https://lobste.rs/~{item.author.handle}"


def test_a_story_keeps_what_the_site_gives_and_sanitises_it() -> None:
    story, first, *_ = parse_story(load("story-threads.json")).items
    assert story.content_html == "<p>Moving house, &lt;slowly&gt; &amp; calmly</p>"
    assert story.url == "https://lobste.rs/s/ab12cd/moving_house_slowly"
    assert story.published == datetime(2026, 11, 20, 8, 14, 2, tzinfo=timezone.utc)
    assert story.extras == {"score": 24}
    assert 'href="https://crates.example/"' in first.content_html
    assert "alert(1)" not in first.content_html
    assert first.reply_url == "https://lobste.rs/c/c00001"
    assert first.url == "https://lobste.rs/s/ab12cd/moving_house_slowly#c_c00001"
    old = parse_story(load("story-old-users.json")).items
    assert old[0].author.avatar == "https://lobste.rs/avatars/elder-100.png"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("bad-short-id.json", "is not a Lobsters short id"),
        ("bad-list.json", "not a Lobsters story"),
        ("bad-no-submitter.json", "no user name"),
    ],
)
def test_an_answer_that_is_no_story_is_refused(name: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_story(load(name))


def test_the_lookup_lists_short_ids() -> None:
    assert parse_stories(load("url-all.json")) == ["ab12cd", "ef34gh"]
    with pytest.raises(ValueError, match="not a list of stories"):
        parse_stories({"error": "x"})


def test_lobsters_links_and_profiles_are_recognised() -> None:
    from pelican_engage import dedup

    assert "lobsters:ab12cd" in dedup.url_keys("https://lobste.rs/s/ab12cd/moving_house_slowly")
    assert "lobsters:c00001" in dedup.url_keys("https://lobste.rs/c/c00001")
    # A comment's link on its story's page names the comment, not the story.
    keys = dedup.url_keys("https://lobste.rs/s/ab12cd/moving_house_slowly#c_c00001")
    assert "lobsters:c00001" in keys and "lobsters:ab12cd" not in keys
    assert profile_handle("https://lobste.rs/~mquell") == ("lobsters", "mquell")
    assert profile_handle("https://lobste.rs/about") is None


# -- A loopback Lobsters ---------------------------------------------------------------------


class FakeLobsters:
    """``/stories/url/all.json`` and ``/s/<short id>.json`` as lobste.rs answers
    them, with ETags (Rails answers a matching ``If-None-Match`` with 304)."""

    def __init__(self, server: Server, stories: list[dict[str, Any]] | None = None) -> None:
        self.server = server
        self.url = server.url
        self.stories = stories if stories is not None else load("url-all.json")[:2]
        self.lookups: list[str] = []
        self.not_modified = 0
        self.lookup_status = 200
        server.routes["/stories/url/all.json"] = self._lookup
        for name in ("story-threads.json", "story-author.json"):
            self.story(load(name))

    def story(self, answer: Any, status: int = 200, body: bytes | None = None) -> None:
        def route(handler: Any, _n: int) -> None:
            data = body if body is not None else json.dumps(answer).encode()
            self._answer(handler, status, data)

        self.server.routes[f"/s/{answer['short_id']}.json"] = route

    def _answer(self, handler: Any, status: int, data: bytes) -> None:
        etag = f'W/"{abs(hash(data))}"'
        if status == 200 and handler.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            send(handler, 304, ETag=etag)
            return
        send(handler, status, data, Content_Type="application/json", ETag=etag)

    def _lookup(self, handler: Any, _n: int) -> None:
        url = parse_qs(urlsplit(handler.path).query)["url"][0]
        self.lookups.append(url)
        if self.lookup_status != 200:
            send(handler, self.lookup_status, b"{}", Retry_After="3600")
            return
        # The site normalises URLs: scheme, www., trailing slash.
        found = [s for s in self.stories if normal_url(s["url"]) == normal_url(url)]
        self._answer(handler, 200, json.dumps(found).encode())


def source(fake: FakeLobsters, cap: int = 100) -> LobstersSource:
    client = Client(HttpSettings(retries=0, backoff=0.0))
    return LobstersSource(client, RequestCap("ENGAGE_LOBSTERS", cap), api_url=fake.url)


def lookup_job(*urls: str) -> Job:
    return Job("moving-house", "lobsters", " ".join(urls or (POST, POST.rstrip("/"))), "h", WHEN)


def test_a_lookup_finds_the_stories_and_fetches_their_comments(server: Server) -> None:
    fake = FakeLobsters(server)
    result = source(fake).fetch(lookup_job(), {})
    assert result.error is None
    assert result.cursor["stories"] == ["ab12cd", "ef34gh"]
    ids = {i.id for i in result.items}
    assert {"lobsters:ab12cd", "lobsters:c00003", "lobsters:d00001"} <= ids
    # The site matches both slash forms itself: one lookup per page.
    assert fake.lookups == ["https://blog.example/moving-house"]
    assert set(result.gone) == {"lobsters:c00004", "lobsters:c00006"}
    assert [s.id for s in result.skipped] == ["c00007"]


def test_old_urls_are_looked_up_too(server: Server) -> None:
    old = "https://old.example/2019/moving/"
    fake = FakeLobsters(server)
    fake.stories = [{**fake.stories[0], "url": old}]
    result = source(fake).fetch(lookup_job(POST, POST.rstrip("/"), old, old.rstrip("/")), {})
    assert fake.lookups == ["https://blog.example/moving-house", "https://old.example/2019/moving"]
    assert result.cursor["stories"] == ["ab12cd"]


def test_unchanged_answers_cost_a_304_and_keep_the_cursor(server: Server) -> None:
    fake = FakeLobsters(server)
    first = source(fake).fetch(lookup_job(), {})
    again = source(fake).fetch(lookup_job(), first.cursor)
    assert fake.not_modified == 3  # the lookup and both stories
    assert again.items == () and again.gone == ()
    assert again.cursor == first.cursor


def test_a_removed_story_is_a_tombstone_and_no_longer_followed(server: Server) -> None:
    fake = FakeLobsters(server, stories=[])
    fake.story({"short_id": "zz9999"}, status=404, body=b"{}")
    result = source(fake).fetch(lookup_job(), {"stories": ["ab12cd", "zz9999"]})
    assert result.cursor["stories"] == ["ab12cd"]
    assert "lobsters:zz9999" in result.gone
    assert "lobsters:c00001" in {i.id for i in result.items}


def test_a_site_without_the_lookup_is_not_asked_again(server: Server) -> None:
    fake = FakeLobsters(server)
    fake.lookup_status = 404
    result = source(fake).fetch(lookup_job(), {"stories": ["ab12cd"]})
    assert result.cursor["lookup"] is False and result.error is None
    assert "lobsters:c00001" in {i.id for i in result.items}
    source(fake).fetch(lookup_job(), result.cursor)
    assert len(fake.lookups) == 1


def test_429_defers_the_source(server: Server) -> None:
    fake = FakeLobsters(server)
    fake.lookup_status = 429
    with pytest.raises(RateLimited):
        source(fake).fetch(lookup_job(), {})


@pytest.mark.parametrize(("status", "body"), [(502, b"bad gateway"), (200, b'{"short_id": "ef')])
def test_a_failed_story_keeps_what_came_and_confirms_nothing_gone(
    server: Server, status: int, body: bytes
) -> None:
    fake = FakeLobsters(server)
    fake.story({"short_id": "ef34gh"}, status=status, body=body)
    result = source(fake).fetch(lookup_job(), {})
    assert isinstance(result.error, FetchError)
    assert "lobsters:c00003" in {i.id for i in result.items}
    assert result.gone == ()
    assert result.cursor["stories"] == ["ab12cd", "ef34gh"]


def test_the_request_cap_stops_the_build_and_keeps_what_came(server: Server) -> None:
    fake = FakeLobsters(server)
    result = source(fake, cap=2).fetch(lookup_job(), {})
    assert isinstance(result.error, RequestCapReached)
    assert "ENGAGE_LOBSTERS['max_requests'] (2)" in str(result.error)
    ids = {i.id for i in result.items}
    assert "lobsters:ab12cd" in ids and "lobsters:d00001" not in ids


def test_settings_are_checked() -> None:
    assert not load_settings({}).enabled
    on = load_settings({"ENGAGE_LOBSTERS": {}})
    assert on.enabled and on.api_url == "https://lobste.rs" and on.max_requests == 100
    with pytest.raises(settings.SettingsError, match=r"unknown key\(s\) 'instances'"):
        load_settings({"ENGAGE_LOBSTERS": {"instances": []}})


# -- A site: the build and the report ----------------------------------------------------------


def site_settings(fake: FakeLobsters) -> dict[str, Any]:
    return {
        "ARTICLE_URL": "{slug}/",
        "ARTICLE_SAVE_AS": "{slug}/index.html",
        "ENGAGE_LOBSTERS": {"api_url": fake.url},
        "ENGAGE_AUTHOR": {"names": ["Marin"], "lobsters": ["mquell"]},
    }


def test_the_page_shows_each_discussion_with_its_comments_nested(
    site: Site, server: Server, engage_warnings: Callable[[], list[str]]
) -> None:
    fake = FakeLobsters(server)
    site.article("moving-house")
    site.build(**site_settings(fake))
    page = site.html("moving-house/index.html")
    stories = page.select("li.engage-discussion")
    assert [li["data-engage-id"] for li in stories] == ["lobsters:ab12cd", "lobsters:ef34gh"]
    row = stories[0].select_one(".engage-mention-row").get_text(" ", strip=True)
    assert re.fullmatch(r"Discussed on Lobsters , shared by .*pgreen .* on Lobsters", row)
    deep = stories[0].select_one('[data-engage-id="lobsters:c00003"]')
    parents = [li["data-engage-id"] for li in deep.find_parents("li")]
    assert parents[:3] == ["lobsters:c00002", "lobsters:c00001", "lobsters:ab12cd"]
    assert "Comment removed" not in str(page) and "c00004" not in str(page)
    assert engage_warnings() == []


def test_the_report_shows_who_waits_on_lobsters(
    site: Site, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeLobsters(server)
    site.article("moving-house")
    conf = site.write_conf(**site_settings(fake))
    assert main(["fetch", "-s", str(conf)]) == 0
    capsys.readouterr()
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["waiting"]
    # c00003 answers the author; c00005 names @mquell; d00001 comments on
    # the author's own submission.  c00001 and c00008 wait for nobody.
    waiting = sorted(r["id"] for r in rows)
    assert waiting == ["lobsters:c00003", "lobsters:c00005", "lobsters:d00001"]


def test_a_lookup_that_found_nothing_is_not_repeated_before_its_interval(
    site: Site, server: Server
) -> None:
    fake = FakeLobsters(server, stories=[])
    site.article("moving-house")
    conf = site.write_conf(**site_settings(fake))
    assert main(["fetch", "-s", str(conf)]) == 0
    assert main(["fetch", "-s", str(conf)]) == 0
    assert len(fake.lookups) == 1
    cursors = Archive(site.root / "archive").load("moving-house").cursors
    (cursor,) = [c for k, c in cursors.items() if k.startswith("lobsters:")]
    assert cursor["stories"] == []
