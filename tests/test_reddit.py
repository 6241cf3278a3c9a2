"""Reddit (docs/sources.md, "Reddit"): submissions found by the post's URL,
their comment trees, ``more`` stubs, deletions, OAuth and the request cap,
against a loopback server speaking Reddit's JSON."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pelican_engage.archive import Archive
from pelican_engage.errors import AccessDenied, FetchError, RateLimited
from pelican_engage.fetch import Fetcher, Job, Refresh
from pelican_engage.http import Client, HttpSettings
from pelican_engage.model import Item, Person
from pelican_engage.sources import reddit_parse
from pelican_engage.sources.discussion import RequestCapReached
from pelican_engage.sources.reddit import RedditSettings, RedditSource, load_settings
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "reddit"
CASES = sorted(p for p in (DATA / "cases").glob("*.json") if not p.name.endswith(".expected.json"))
URL = "https://blog.example/moving-house/"
OLD = "http://old.example/?p=12"
LINK = "1h2k3l4"
OTHER = "1h9z8y7"
PUBLISHED = datetime(2024, 11, 27, tzinfo=timezone.utc)
FAST = HttpSettings(connect_timeout=2, read_timeout=2, backoff=0.01, max_wait=1, retries=1)
CLIENT_ID, SECRET = "app-id-canary-41", "app-secret-canary-93"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def other_tree() -> list[Any]:
    """The second submission (the author's own, in r/homelab), one comment."""
    tree = load("cases/deleted-submitter.json")
    link = load("info-other.json")["data"]["children"][0]
    tree[0]["data"]["children"] = [link]
    comment = tree[1]["data"]["children"][0]["data"]
    comment.update(id="lx4ddd1", parent_id=f"t3_{OTHER}", body_html="<p>Great post.</p>")
    comment["permalink"] = f"/r/homelab/comments/{OTHER}/x/lx4ddd1/"
    return tree


class FakeReddit:
    """Reddit's public JSON pages (``.json``), or its OAuth host (no suffix)."""

    def __init__(self, server: Server, oauth: bool = False) -> None:
        self.server = server
        self.queries: list[tuple[str, dict[str, list[str]]]] = []
        self.headers: list[dict[str, str]] = []
        self.info = {URL: load("info.json"), URL.rstrip("/"): load("info-other.json")}
        self.trees: dict[str, Any] = {LINK: load("cases/tree.json"), OTHER: other_tree()}
        self.more = load("morechildren.json")
        self.broken: dict[str, tuple[int, bytes]] = {}
        suffix = "" if oauth else ".json"
        server.routes[f"/api/info{suffix}"] = self._info
        server.routes[f"/api/morechildren{suffix}"] = self._more
        for link in self.trees:
            server.routes[f"/comments/{link}{suffix}"] = self._comments

    def _record(self, h: BaseHTTPRequestHandler) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(h.path)
        query = parse_qs(parts.query)
        self.queries.append((parts.path, query))
        self.headers.append({k.lower(): v for k, v in h.headers.items()})
        return parts.path, query

    def _answer(self, h: BaseHTTPRequestHandler, path: str, body: Any) -> None:
        if path in self.broken:
            status, raw = self.broken[path]
            send(h, status, raw, Content_Type="application/json")
            return
        send(h, 200, json.dumps(body).encode(), Content_Type="application/json")

    def _info(self, h: BaseHTTPRequestHandler, _n: int) -> None:
        path, query = self._record(h)
        empty = load("info-empty.json")
        self._answer(h, path, self.info.get(query.get("url", [""])[0], empty))

    def _comments(self, h: BaseHTTPRequestHandler, _n: int) -> None:
        path, _query = self._record(h)
        link = path.split("/")[2].removesuffix(".json")
        self._answer(h, path, self.trees[link])

    def _more(self, h: BaseHTTPRequestHandler, _n: int) -> None:
        path, _query = self._record(h)
        self._answer(h, path, self.more)

    def paths(self) -> list[str]:
        return [p for p, _q in self.queries]


def source(server: Server, **settings: Any) -> RedditSource:
    checked = load_settings({"ENGAGE_REDDIT": {"api_url": server.url, **settings}})
    return RedditSource(
        Client(FAST), checked, user_agent="python:pelican-engage:test (by /u/marin_q)"
    )


def job(*old: str) -> Job:
    return Job("moving-house", "reddit", " ".join([URL, *old]), "127.0.0.1", PUBLISHED)


# -- Parsing (tests/data/reddit/cases/*.json and their .expected.json) ---------------


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_comment_trees_become_threaded_items(case: Path) -> None:
    expected = json.loads(case.with_suffix(".expected.json").read_text(encoding="utf-8"))
    link, tree = reddit_parse.comment_tree(json.loads(case.read_text(encoding="utf-8")))
    sub = reddit_parse.parse_link(link)
    assert (sub.id, sub.kind, sub.author.name, sub.url) == (
        expected["submission"]["id"],
        "mention",
        expected["submission"]["author"],
        expected["submission"]["url"],
    )
    if "text" in expected["submission"]:
        assert sub.content_html == expected["submission"]["text"]
    items, skipped, gone = reddit_parse.thread(link["id"], tree.records)
    assert [[i.id, i.in_reply_to] for i in items] == expected["items"]
    assert gone == expected["gone"]
    assert [s.id for s in skipped] == expected["skipped"]
    assert list(tree.more) == expected["more"]
    assert list(tree.continued) == expected["continued"]
    for item in items:
        assert item.source == "reddit" and item.kind == "reply"
        assert item.url.startswith("https://www.reddit.com/r/") and item.reply_url == item.url
        for bad in ("<script", "onerror", "<img", "[deleted]", "[removed]", "javascript:"):
            assert bad not in item.content_html
        assert item.in_reply_to != item.id


def test_a_comment_keeps_its_words_its_links_and_its_author() -> None:
    link, tree = reddit_parse.comment_tree(load("cases/tree.json"))
    items, _skipped, _gone = reddit_parse.thread(link["id"], tree.records)
    by_id = {i.id: i for i in items}
    quill = by_id["reddit:lx1aaa8"]
    assert 'href="https://crates.example/"' in quill.content_html
    assert quill.author == Person(
        name="quill_j", handle="quill_j", url="https://www.reddit.com/user/quill_j"
    )
    assert quill.published == datetime.fromtimestamp(1732698700, timezone.utc)
    sub = reddit_parse.parse_link(link)
    assert sub.content_html == "<p>Moving house without losing a box</p>"
    assert sub.extras["subreddit"] == "r/selfhosted"
    # A deleted account: no handle, no link to a profile that is gone.
    assert reddit_parse.person("[deleted]") == Person(name="[deleted]")


def test_morechildren_threads_by_parent_id_around_deleted_comments() -> None:
    more = reddit_parse.morechildren(load("morechildren.json"))
    items, _skipped, gone = reddit_parse.thread(LINK, more.records)
    assert [(i.id, i.in_reply_to) for i in items] == [
        ("reddit:lx1aab1", f"reddit:{LINK}"),
        ("reddit:lx1aab3", "reddit:lx1aab1"),
    ]
    assert gone == ["reddit:lx1aab2"]
    with pytest.raises(ValueError, match="refused"):
        reddit_parse.morechildren({"json": {"errors": [["RATELIMIT", "slow down"]]}})
    with pytest.raises(ValueError, match="not a Reddit Listing"):
        reddit_parse.links({"error": 404})


def test_a_thread_deeper_than_json_recursion_is_read() -> None:
    deep: Any = ""
    for n in range(1500, 0, -1):
        child = {
            "kind": "t1",
            "data": {
                "id": f"d{n}",
                "parent_id": f"t1_d{n - 1}" if n > 1 else f"t3_{LINK}",
                "author": "otter_b",
                "body": "deeper",
                "created_utc": 1732698000 + n,
                "permalink": f"/r/x/comments/{LINK}/t/d{n}/",
                "replies": deep,
            },
        }
        deep = {"kind": "Listing", "data": {"children": [child]}}
    tree = reddit_parse.things(deep["data"]["children"])
    items, _s, _g = reddit_parse.thread(LINK, tree.records)
    assert len(items) == 1500 and items[-1].in_reply_to == "reddit:d1499"


# -- Fetching ----------------------------------------------------------------------


def test_submissions_are_found_by_every_url_form_and_read_with_their_comments(
    server: Server,
) -> None:
    fake = FakeReddit(server)
    result = source(server).fetch(job(OLD), {})
    searched = [q["url"][0] for p, q in fake.queries if p == "/api/info.json"]
    assert searched == [URL, URL.rstrip("/"), OLD, OLD + "/"]
    ids = [i.id for i in result.items]
    assert ids[:2] == [f"reddit:{OTHER}", "reddit:lx4ddd1"]  # the newest submission first
    assert f"reddit:{LINK}" in ids and "reddit:lx1aaa7" in ids
    # The more stub's comments came through /api/morechildren, threaded.
    more = [q for p, q in fake.queries if p == "/api/morechildren.json"]
    assert more == [
        {
            "api_type": ["json"],
            "link_id": [f"t3_{LINK}"],
            "children": ["lx1aab1,lx1aab2"],
            "raw_json": ["1"],
        }
    ]
    by_id = {i.id: i for i in result.items}
    assert by_id["reddit:lx1aab3"].in_reply_to == "reddit:lx1aab1"
    assert set(result.gone) == {"reddit:lx1aaa2", "reddit:lx1aaa4", "reddit:lx1aab2"}
    assert [s.id for s in result.skipped] == ["lx1aaa0"]
    assert result.cursor == {"submissions": sorted([LINK, OTHER])}
    assert result.error is None and result.notice == ""
    # Every request says who makes it, as Reddit's rules ask.
    assert {h["user-agent"] for h in fake.headers} == {"python:pelican-engage:test (by /u/marin_q)"}
    assert all("authorization" not in h for h in fake.headers)


def test_a_link_with_an_odd_time_is_skipped_not_fatal(server: Server) -> None:
    fake = FakeReddit(server)
    fake.info[URL]["data"]["children"][0]["data"]["created_utc"] = "soon"
    fake.trees[LINK][0]["data"]["children"][0]["data"]["created_utc"] = "soon"
    result = source(server).fetch(job(), {})
    assert [(s.id, s.what) for s in result.skipped] == [(LINK, "submission")]
    assert f"reddit:{OTHER}" in {i.id for i in result.items}


def test_an_entry_that_is_neither_a_comment_nor_a_stub_is_told_not_dropped(
    server: Server,
) -> None:
    fake = FakeReddit(server)
    comments = fake.trees[OTHER][1]["data"]["children"]
    comments[:0] = [{"kind": "t1"}, {"kind": "t1", "data": {}}, {"kind": "t9", "data": {"id": "q"}}]
    fake.more["json"]["data"]["things"].append({"kind": "t1", "data": None})
    result = source(server).fetch(job(), {})
    told = [(s.id, s.reason) for s in result.skipped if s.reason == "neither a comment nor a stub"]
    assert told == [(OTHER, "neither a comment nor a stub")] * 3 + [
        (LINK, "neither a comment nor a stub")
    ]
    assert "reddit:lx4ddd1" in {i.id for i in result.items}  # the sibling is kept


def test_a_submission_found_before_is_read_even_when_search_misses_it(server: Server) -> None:
    fake = FakeReddit(server)
    fake.info = {}
    result = source(server).fetch(job(), {"submissions": [LINK, "../etc", "zz9"]})
    assert f"reddit:{LINK}" in {i.id for i in result.items}
    assert "/comments/../etc.json" not in fake.paths()
    # One Reddit no longer has (404) is withdrawn and not asked for again.
    assert "/comments/zz9.json" in server.hits and "reddit:zz9" in result.gone
    assert result.cursor == {"submissions": [LINK]} and result.error is None


def test_a_search_that_finds_nothing_waits_for_the_refresh_interval(
    server: Server, tmp_path: Path
) -> None:
    fake = FakeReddit(server)
    fake.info = {}
    now = datetime(2026, 1, 10, tzinfo=timezone.utc)
    archive = Archive(tmp_path)
    fetcher = Fetcher(archive, {"reddit": source(server)}, Refresh(), clock=lambda: now)
    post = Job("moving-house", "reddit", URL, "127.0.0.1", now - timedelta(days=2))
    fetcher.run(fetcher.due([post]))
    assert len(fake.queries) == 2  # both slash forms, nothing found
    assert fetcher.due([post]) == []  # remembered: not asked again before the interval
    later = Fetcher(archive, {"reddit": source(server)}, clock=lambda: now + timedelta(hours=6))
    assert later.due([post]) == [post]


def test_comments_past_the_more_budget_are_told_not_dropped(server: Server) -> None:
    fake = FakeReddit(server)
    stub = fake.trees[LINK][1]["data"]["children"][-1]["data"]
    stub["children"] = [f"m{n}" for n in range(650)]
    result = source(server).fetch(job(), {})
    assert len([p for p in fake.paths() if p == "/api/morechildren.json"]) == 5
    assert result.notice.startswith("150 comment(s) or thread(s) behind Reddit's 'more' links")


def test_the_request_cap_stops_the_build_and_keeps_what_came(server: Server) -> None:
    fake = FakeReddit(server)
    reddit = source(server, max_requests=4)
    result = reddit.fetch(job(), {})
    assert isinstance(result.error, RequestCapReached)
    assert "ENGAGE_REDDIT['max_requests'] (4) reached" in str(result.error)
    assert f"reddit:{OTHER}" in {i.id for i in result.items}  # read before the cap
    assert len(fake.queries) == 4
    with pytest.raises(RequestCapReached):
        reddit.fetch(job(), {})  # the cap is per build, across posts


def test_a_rate_limit_defers_reddit_for_the_build(server: Server, tmp_path: Path) -> None:
    FakeReddit(server)
    server.routes["/api/info.json"] = lambda h, n: send(h, 429, b"{}", Retry_After="600")
    fetcher = Fetcher(Archive(tmp_path), {"reddit": source(server)}, concurrency=1)
    posts = [job(), Job("other", "reddit", "https://blog.example/other/", "127.0.0.1", PUBLISHED)]
    summary = fetcher.run(posts)
    assert "reddit" in fetcher.deferred and summary.skipped == 1
    with pytest.raises(RateLimited):
        source(server).fetch(job(), {})


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b'{"message": "Internal Server Error"}'), (200, b'[{"kind": "Listing", "data": {"chi')],
    ids=["5xx", "truncated"],
)
def test_a_failed_tree_keeps_the_archive_and_the_job_due(
    server: Server, tmp_path: Path, status: int, body: bytes
) -> None:
    fake = FakeReddit(server)
    archive = Archive(tmp_path)
    old = Item(
        id="reddit:lx0zzz1",
        source="reddit",
        kind="reply",
        author=Person("otter_b", handle="otter_b"),
        published=PUBLISHED,
        content_html="<p>Archived.</p>",
        in_reply_to=f"reddit:{LINK}",
    )
    archive.merge("moving-house", [old])
    fake.broken[f"/comments/{LINK}.json"] = (status, body)
    fetcher = Fetcher(archive, {"reddit": source(server)})
    summary = fetcher.run([job()])
    record = archive.load("moving-house")
    assert "reddit:lx0zzz1" in record.items
    assert f"reddit:{OTHER}" in record.items  # what came before the failure is kept
    assert summary.errors["reddit"] == 1
    assert "fetched_at" not in record.cursors[f"reddit:{URL}"]  # still due


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b'{"message": "Internal Server Error"}'),
        (200, b'{"json": {}}'),
        (200, b'{"json": {"data": {"thi'),
    ],
    ids=["5xx", "no-things", "truncated"],
)
def test_a_failed_more_stub_keeps_the_tree_that_came(
    server: Server, tmp_path: Path, status: int, body: bytes
) -> None:
    """The tree came whole; only its "load more comments" stub failed:
    the comments of the tree are archived, the stub's wait (job still due)."""
    fake = FakeReddit(server)
    fake.broken["/api/morechildren.json"] = (status, body)
    archive = Archive(tmp_path)
    summary = Fetcher(archive, {"reddit": source(server)}).run([job()])
    record = archive.load("moving-house")
    assert {f"reddit:{LINK}", "reddit:lx1aaa1", "reddit:lx1aaa7"} <= set(record.items)
    assert "reddit:lx1aab3" not in record.items  # from the stub that failed
    assert summary.errors["reddit"] == 1 and "morechildren" in summary.messages["reddit"]
    assert "fetched_at" not in record.cursors[f"reddit:{URL}"]  # still due


def test_a_comment_deleted_since_it_was_archived_becomes_a_tombstone(
    server: Server, tmp_path: Path
) -> None:
    FakeReddit(server)
    archive = Archive(tmp_path)
    was = Item(
        id="reddit:lx1aaa2",
        source="reddit",
        kind="reply",
        author=Person("wren_t", handle="wren_t"),
        published=PUBLISHED,
        content_html="<p>I said something.</p>",
        in_reply_to="reddit:lx1aaa1",
    )
    archive.merge("moving-house", [was])
    Fetcher(archive, {"reddit": source(server)}).run([job()])
    record = archive.load("moving-house")
    assert "reddit:lx1aaa2" not in record.items
    assert "reddit:lx1aaa2" in record.tombstones
    assert record.items["reddit:lx1aaa3"].in_reply_to == "reddit:lx1aaa1"


# -- OAuth: the app's credentials to the token endpoint, its token to the API host ----


@pytest.fixture
def oauth_host() -> Any:
    other = Server()
    yield other
    other.close()


def test_app_credentials_buy_a_token_used_only_on_the_oauth_host(
    server: Server, oauth_host: Server
) -> None:
    tokens: list[dict[str, Any]] = []

    def token(h: BaseHTTPRequestHandler, _n: int) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        tokens.append(
            {
                "method": h.command,
                "auth": h.headers.get("Authorization"),
                "form": parse_qs(h.rfile.read(length).decode()),
                "agent": h.headers.get("User-Agent"),
            }
        )
        send(h, 200, (DATA / "access_token.json").read_bytes(), Content_Type="application/json")

    server.routes["/api/v1/access_token"] = token
    public = FakeReddit(server)
    fake = FakeReddit(oauth_host, oauth=True)
    checked = load_settings({"ENGAGE_REDDIT": {"api_url": server.url, "oauth_url": oauth_host.url}})
    reddit = RedditSource(Client(FAST), checked, client_id=CLIENT_ID, client_secret=SECRET)
    result = reddit.fetch(job(), {})
    reddit.fetch(job(), {})
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    # One token per build, by a form POST with the app's id and secret.
    assert [(t["method"], t["auth"], t["form"]) for t in tokens] == [
        ("POST", f"Basic {basic}", {"grant_type": ["client_credentials"]})
    ]
    assert tokens[0]["agent"].startswith("python:pelican-engage:")
    assert f"reddit:{LINK}" in {i.id for i in result.items}
    assert {h["authorization"] for h in fake.headers} == {"bearer reddit-app-token-5e1c"}
    assert public.queries == []  # the public pages are not asked with a token
    assert all(SECRET not in str(h) and CLIENT_ID not in str(h) for h in fake.headers)


def test_refused_credentials_say_which_variables_to_check(server: Server) -> None:
    server.routes["/api/v1/access_token"] = lambda h, n: send(
        h, 401, (DATA / "401.json").read_bytes()
    )
    checked = load_settings({"ENGAGE_REDDIT": {"api_url": server.url}})
    reddit = RedditSource(Client(FAST), checked, client_id=CLIENT_ID, client_secret=SECRET)
    with pytest.raises(
        AccessDenied, match=r"\$ENGAGE_REDDIT_CLIENT_ID and \$ENGAGE_REDDIT_CLIENT_SECRET"
    ):
        reddit.fetch(job(), {})


def test_an_anonymous_refusal_says_how_to_get_through(server: Server) -> None:
    server.routes["/api/info.json"] = lambda h, n: send(h, 403, b'{"reason": "blocked"}')
    with pytest.raises(AccessDenied, match="register an app"):
        source(server).fetch(job(), {})


def test_a_redirected_token_request_is_not_followed(server: Server, oauth_host: Server) -> None:
    def moved(h: BaseHTTPRequestHandler, _n: int) -> None:
        send(h, 307, b"", Location=f"{oauth_host.url}/steal")

    server.routes["/api/v1/access_token"] = moved
    checked = load_settings({"ENGAGE_REDDIT": {"api_url": server.url}})
    reddit = RedditSource(Client(FAST), checked, client_id=CLIENT_ID, client_secret=SECRET)
    with pytest.raises(FetchError, match="refused: not for a POST"):
        reddit.fetch(job(), {})
    assert oauth_host.hits == {}


def test_the_bearer_token_stays_on_the_oauth_host_through_a_redirect(
    server: Server, oauth_host: Server
) -> None:
    elsewhere = Server()  # another loopback port: another origin
    try:
        server.routes["/api/v1/access_token"] = lambda h, n: send(
            h, 200, (DATA / "access_token.json").read_bytes(), Content_Type="application/json"
        )
        oauth_host.routes["/api/info"] = lambda h, n: send(
            h, 302, b"", Location=f"{elsewhere.url}/api/info"
        )
        elsewhere.routes["/api/info"] = lambda h, n: send(h, 200, b"{}")
        checked = load_settings(
            {"ENGAGE_REDDIT": {"api_url": server.url, "oauth_url": oauth_host.url}}
        )
        reddit = RedditSource(Client(FAST), checked, client_id=CLIENT_ID, client_secret=SECRET)
        with contextlib.suppress(Exception):
            reddit.fetch(job(), {})
        assert oauth_host.seen and all("Authorization" in h for h in oauth_host.seen)
        assert elsewhere.seen, "the redirect was followed"
        sent = json.dumps(elsewhere.seen)
        assert "Authorization" not in sent and "reddit-app-token" not in sent
        assert SECRET not in sent and CLIENT_ID not in sent
    finally:
        elsewhere.close()


# -- Settings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"subreddits": ["x"]}, r"unknown key\(s\) 'subreddits'"),
        ({"client_id_env": "abc-123 secret"}, "client_id_env.*name of an environment variable"),
        ({"oauth_url": "ftp://x"}, r"\['oauth_url'\]: expected an http\(s\) base URL"),
        ({"max_requests": 0}, "max_requests"),
    ],
)
def test_bad_settings_are_named(value: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_settings({"ENGAGE_REDDIT": value})


def test_reddit_is_off_by_default_and_on_with_a_dict() -> None:
    assert load_settings({}) == RedditSettings()
    assert not load_settings({}).enabled and load_settings({"ENGAGE_REDDIT": {}}).enabled


@pytest.mark.parametrize(
    ("url", "key"),
    [
        (f"https://www.reddit.com/r/selfhosted/comments/{LINK}/moving_house/", f"reddit:{LINK}"),
        (f"https://old.reddit.com/r/selfhosted/comments/{LINK}/moving/lx1aaa1/", "reddit:lx1aaa1"),
        (f"https://brid.gy/comment/reddit/otter_b/{LINK}/lx1aaa1", "reddit:lx1aaa1"),
    ],
)
def test_reddit_urls_give_dedup_keys(url: str, key: str) -> None:
    from pelican_engage.dedup import url_keys

    assert key in url_keys(url)


def test_reddit_profiles_give_handles() -> None:
    from pelican_engage.model import profile_handle

    assert profile_handle("https://www.reddit.com/user/marin_q/") == ("reddit", "marin_q")
    assert profile_handle("https://old.reddit.com/u/marin_q") == ("reddit", "marin_q")
    assert profile_handle("https://www.reddit.com/r/selfhosted") is None
