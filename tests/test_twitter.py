"""X API v2 (docs/sources.md, "X API v2"): tweet text, answers, and a loopback X."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
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
from pelican_engage.errors import AccessDenied, FetchError, RateLimited, SourceUnavailable
from pelican_engage.fetch import Fetcher
from pelican_engage.http import Client, HttpSettings
from pelican_engage.model import Post
from pelican_engage.sanitize import html_to_text
from pelican_engage.settings import SettingsError, author_identity, load
from pelican_engage.sources.twitter import (
    RequestCapReached,
    TwitterSource,
    job_for,
    parse_announcement,
    parse_search,
    parse_tweet_ref,
    tweet_html,
    tweet_time,
)
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "twitter" / "api"
IDS: dict[str, str] = json.loads((DATA / "ids.json").read_text())
ROOT = IDS["announcement"]
TOKEN = "AAAAAAAAAAAAAAAAAAAAAcanary%2Bbearer%3Dtoken"
NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
FAST = HttpSettings(connect_timeout=2, read_timeout=1, backoff=0.01, max_wait=1, retries=1)


def load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text())


# -- Announcement references --------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://x.com/marin/status/1800000000000000001", ("1800000000000000001", "marin")),
        ("https://twitter.com/Marin_B/status/42?s=20", ("42", "Marin_B")),
        ("https://mobile.twitter.com/marin/statuses/42/", ("42", "marin")),
        ("https://x.com/i/web/status/42", ("42", "")),
        ("https://x.com/i/status/42#m", ("42", "")),
        (" 1800000000000000001 ", ("1800000000000000001", "")),
    ],
)
def test_tweet_references(value: str, expected: tuple[str, str]) -> None:
    ref = parse_tweet_ref(value)
    assert (ref.id, ref.username) == expected


@pytest.mark.parametrize(
    "value",
    [
        "https://x.com/marin",
        "https://evil.example/marin/status/1",
        "javascript:alert(1)",
        "12a",
        "https://x.com.evil.example/a/status/1",
    ],
)
def test_bad_tweet_references_say_why(value: str) -> None:
    with pytest.raises(ValueError, match="is not a tweet"):
        parse_tweet_ref(value)


def test_snowflake_ids_tell_the_time() -> None:
    assert tweet_time(IDS["r1"]) == datetime(2026, 11, 20, 11, tzinfo=timezone.utc)
    assert tweet_time("20") is None


# -- Tweet text -----------------------------------------------------------------


def test_text_is_unescaped_once_and_escaped_once() -> None:
    text = "Fish &amp; chips &lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; done"
    out = tweet_html(text)
    assert "<script" not in out
    assert "Fish &amp; chips &lt;script&gt;" in out
    # A literal "&amp;" typed by the user arrives as "&amp;amp;": shown as "&amp;".
    assert html_to_text(out).endswith("&amp; done")
    assert "&amp;amp;amp;" not in out


def test_entities_become_links_at_their_code_point_offsets() -> None:
    tweet = load_json("search-page2.json")["data"][2]  # Ann: "&amp;" before the link
    out = tweet_html(tweet["text"], tweet["entities"])
    assert '<a href="https://x.com/marin" rel="nofollow ugc noopener">@marin</a>' in out
    assert (
        '<a href="https://docs.getpelican.com/en/latest/" rel="nofollow ugc noopener">'
        "docs.getpelican.com/en/latest/</a>"
    ) in out
    assert "t.co" not in out
    emoji = load_json("search-page1.json")["data"][2]  # Carol: emoji before the entities
    out = tweet_html(emoji["text"], emoji["entities"])
    assert '<a href="https://x.com/hashtag/pelican" rel="nofollow ugc noopener">#pelican</a>' in out
    assert "🎉🎉 loved it" in out
    # The t.co link expands to javascript: -- it is not turned into that link.
    assert "javascript" not in out


def test_offsets_counted_on_unescaped_text_still_find_their_token() -> None:
    text = "a &amp; b @ann https://t.co/x"
    # Offsets as they would be on "a & b @ann https://t.co/x".
    entities = {
        "mentions": [{"start": 6, "end": 10, "username": "ann"}],
        "urls": [
            {"start": 11, "end": 25, "url": "https://t.co/x", "expanded_url": "https://e.example/"}
        ],
    }
    out = tweet_html(text, entities)
    assert ">@ann</a>" in out and 'href="https://e.example/"' in out
    assert html_to_text(out) == "a & b @ann https://e.example/"


def test_mentions_do_not_link_inside_longer_handles() -> None:
    out = tweet_html("@annabel hi", {"mentions": [{"start": 0, "end": 4, "username": "ann"}]})
    assert "<a" not in out


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
)
def test_linked_text_reads_as_the_tweet(before: str, after: str) -> None:
    raw_before = html.escape(before, quote=False)
    text = f"{raw_before}@ann {html.escape(after, quote=False)}"
    start = len(raw_before)
    out = tweet_html(text, {"mentions": [{"start": start, "end": start + 4, "username": "ann"}]})
    shown = BeautifulSoup(out, "html.parser").get_text()
    # Every character once, nothing escaped twice (line breaks become markup).
    assert "".join(shown.split()) == "".join(f"{before}@ann {after}".split())


# -- Answers --------------------------------------------------------------------


def test_search_pages_become_a_thread_under_the_post() -> None:
    items = {
        i.id: i
        for page in ("search-page1.json", "search-page2.json")
        for i in parse_search(load_json(page), ROOT)
    }
    t = {name: f"twitter:{IDS[name]}" for name in IDS}
    assert set(items) == {t["old"], t["r1"], t["r2"], t["r3"], t["r4"], t["r5"], t["r6"]}
    assert t["announcement"] not in items
    ann = items[t["r1"]]
    assert ann.in_reply_to is None  # answers the announcement, so the post
    assert items[t["r2"]].in_reply_to == ann.id
    assert items[t["r6"]].in_reply_to == t["old"]  # the old parent came from includes
    assert ann.author.name == "Ann Reads" and ann.author.handle == "ann_reads"
    assert ann.author.url == "https://x.com/ann_reads"
    assert ann.url == f"https://x.com/ann_reads/status/{IDS['r1']}"
    assert ann.reply_url == f"https://x.com/intent/tweet?in_reply_to={IDS['r1']}"
    assert ann.published == datetime(2026, 11, 20, 11, tzinfo=timezone.utc)
    assert items[t["r2"]].author.avatar == ""  # javascript: avatar dropped

    thread, _ = build_thread(
        Post("post"), items.values(), author_identity({"names": ["Marin"], "twitter": ["marin"]})
    )
    assert thread.by_author == {t["r3"]}
    # Ann was answered; Bob only talks to Ann (the leading @-run names the
    # author); Dave asks the author by name; Carol and Erin answer the post.
    assert thread.waiting == {t["r4"], t["r5"], t["old"]}


def test_empty_and_partial_answers() -> None:
    assert parse_search(load_json("empty.json"), ROOT) == []
    page = load_json("search-page2.json")
    assert page["errors"] and len(parse_search(page, ROOT)) == 3
    with pytest.raises(ValueError, match="not a list"):
        parse_search({"data": {"id": "1"}}, ROOT)


def thread_tweet(tid: str, parent: str) -> dict[str, Any]:
    """A tweet of conversation 1 answering ``parent``."""
    return {
        "id": tid,
        "text": "x",
        "author_id": "1",
        "conversation_id": "1",
        "created_at": "2026-11-20T10:00:00.000Z",
        "referenced_tweets": [{"type": "replied_to", "id": parent}],
    }


def test_an_announcement_inside_a_longer_thread_keeps_only_its_branch() -> None:
    # 1 <- 2 (announcement) <- 3 <- 4, and 1 <- 5 (another branch).
    page = {"data": [thread_tweet("3", "2"), thread_tweet("4", "3"), thread_tweet("5", "1")]}
    assert {i.id for i in parse_search(page, "2", conversation="1")} == {"twitter:3", "twitter:4"}


def test_announcement_lookup() -> None:
    info = parse_announcement(load_json("tweet.json"), ROOT)
    assert info and info["author"] == "marin" and info["conversation_id"] == ROOT
    assert info["metrics"]["like_count"] == 12
    assert parse_announcement(load_json("tweet-deleted.json"), ROOT) is None
    with pytest.raises(ValueError, match="not authorized"):
        parse_announcement(
            {"errors": [{"detail": "Sorry, you are not authorized", "type": ".../not-authorized"}]},
            ROOT,
        )


# -- A loopback X ----------------------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler, int], None]


class FakeX:
    """Speaks X API v2 for one conversation: lookup, paged search, discovery."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.queries: list[dict[str, str]] = []
        self.auth: list[str] = []
        server.routes[f"/2/tweets/{ROOT}"] = self.lookup
        server.routes["/2/tweets/search/recent"] = self.search
        server.routes["/2/tweets/search/all"] = self.search
        self.discovered: dict[str, Any] = {"meta": {"result_count": 0}}

    def _params(self, handler: BaseHTTPRequestHandler) -> dict[str, str]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        self.queries.append({"path": urlsplit(handler.path).path, **query})
        self.auth.append(handler.headers.get("Authorization", ""))
        return query

    def _json(self, handler: BaseHTTPRequestHandler, body: Any, status: int = 200) -> None:
        send(handler, status, json.dumps(body).encode(), Content_Type="application/json")

    def lookup(self, handler: BaseHTTPRequestHandler, _n: int) -> None:
        self._params(handler)
        self._json(handler, load_json("tweet.json"))

    def search(self, handler: BaseHTTPRequestHandler, _n: int) -> None:
        query = self._params(handler)
        if query["query"].startswith("url:"):
            return self._json(handler, self.discovered)
        assert query["query"] == f"conversation_id:{ROOT}"
        if "since_id" in query:
            return self._json(handler, load_json("empty.json"))
        page = "search-page2.json" if query.get("next_token") else "search-page1.json"
        return self._json(handler, load_json(page))

    def fail(self, path: str, status: int, body: bytes, **headers: str) -> None:
        self.server.routes[path] = lambda h, n: send(h, status, body, **headers)


@pytest.fixture
def fake_x(server: Server) -> FakeX:
    return FakeX(server)


def x_fetcher(
    tmp_path: Path, server: Server, max_requests: int = 50, workers: int = 8, **kwargs: Any
) -> tuple[Fetcher, TwitterSource]:
    client = Client(kwargs.pop("http", FAST), secrets=[TOKEN], clock=lambda: NOW)
    source = TwitterSource(
        client, TOKEN, api_url=server.url, max_requests=max_requests, clock=lambda: NOW, **kwargs
    )
    fetcher = Fetcher(
        Archive(tmp_path / "archive"), {"twitter": source}, clock=lambda: NOW, concurrency=workers
    )
    return fetcher, source


def x_job(server: Server, key: str = "post", tweet: str = ROOT):
    return job_for(key, tweet, NOW - timedelta(days=2), server.url)


def test_fetch_pages_to_the_end_then_searches_since_the_newest(
    fake_x: FakeX, server: Server, tmp_path: Path
) -> None:
    fetcher, _source = x_fetcher(tmp_path, server)
    summary = fetcher.run([x_job(server)])
    assert summary.new_items == 7 and not summary.errors
    paths = [q["path"] for q in fake_x.queries]
    assert paths == [f"/2/tweets/{ROOT}", "/2/tweets/search/recent", "/2/tweets/search/recent"]
    first, second = fake_x.queries[1], fake_x.queries[2]
    assert "next_token" not in first and second["next_token"].startswith("b26v89")
    assert first["max_results"] == "100" and "referenced_tweets.id" in first["expansions"]
    assert "entities" in first["tweet.fields"] and "username" in first["user.fields"]
    assert set(fake_x.auth) == {f"Bearer {TOKEN}"}
    cursor = Archive(tmp_path / "archive").load("post").cursors[f"twitter:{ROOT}"]
    assert cursor["since_id"] == IDS["r6"]
    assert cursor["announcement"]["author"] == "marin"

    fake_x.queries.clear()
    summary = fetcher.run([x_job(server)])
    # The announcement is known: one search, from the newest tweet seen.
    assert [q["path"] for q in fake_x.queries] == ["/2/tweets/search/recent"]
    assert fake_x.queries[0]["since_id"] == IDS["r6"]
    assert summary.new_items == 0
    assert len(Archive(tmp_path / "archive").load("post").items) == 7


def test_a_since_id_older_than_the_window_is_not_sent(
    fake_x: FakeX, server: Server, tmp_path: Path
) -> None:
    fetcher, source = x_fetcher(tmp_path, server)
    fetcher.run([x_job(server)])
    source._clock = lambda: NOW + timedelta(days=9)
    fake_x.queries.clear()
    fetcher.run([x_job(server)])
    # Recent search would answer 400 to it: the whole window is searched.
    assert all("since_id" not in q for q in fake_x.queries)


def test_full_archive_search_is_a_setting(fake_x: FakeX, server: Server, tmp_path: Path) -> None:
    fetcher, _source = x_fetcher(tmp_path, server, search="all")
    fetcher.run([x_job(server)])
    assert fake_x.queries[-1]["path"] == "/2/tweets/search/all"


def test_401_and_403_say_which_access_is_missing(
    fake_x: FakeX, server: Server, tmp_path: Path
) -> None:
    _fetcher, source = x_fetcher(tmp_path, server)
    fake_x.fail(f"/2/tweets/{ROOT}", 401, (DATA / "401.json").read_bytes())
    with pytest.raises(SourceUnavailable, match=r"bearer token in \$ENGAGE_TWITTER_BEARER_TOKEN"):
        source.fetch(x_job(server), {})
    fake_x.fail(
        "/2/tweets/search/recent", 403, (DATA / "403-client-not-enrolled.json").read_bytes()
    )
    result = source.fetch(
        x_job(server), {"announcement": {"conversation_id": ROOT, "versions": [ROOT]}}
    )
    # Raised by the fetcher once the result is merged; the lookup is kept.
    assert isinstance(result.error, AccessDenied)
    assert re.search(r"client-not-enrolled.*recent search", str(result.error))
    assert TOKEN not in str(result.error) and "since_id" not in result.cursor


def test_a_long_rate_limit_defers_the_source_for_this_build(
    fake_x: FakeX, server: Server, tmp_path: Path
) -> None:
    reset = str(int((datetime.now(timezone.utc) + timedelta(minutes=14)).timestamp()))
    fake_x.fail(
        f"/2/tweets/{ROOT}",
        429,
        (DATA / "429.json").read_bytes(),
        x_rate_limit_limit="450",
        x_rate_limit_remaining="0",
        x_rate_limit_reset=reset,
    )
    # One worker, so the order is known: the first post meets the limit.
    fetcher, source = x_fetcher(tmp_path, server, http=FAST, workers=1)
    source.client._clock = lambda: datetime.now(timezone.utc)
    jobs = [x_job(server, key=f"post-{n}") for n in range(5)]
    summary = fetcher.run(jobs)
    assert summary.errors["twitter"] == 1 and summary.skipped == 4
    assert "rate limited until" in summary.messages["twitter"]
    # Not slept on, not retried, and not asked again for the other posts.
    assert server.hits[f"/2/tweets/{ROOT}"] == 1


def test_a_short_rate_limit_is_waited_out(fake_x: FakeX, server: Server, tmp_path: Path) -> None:
    waited: list[float] = []
    reset = str(int(NOW.timestamp()) + 1)

    def limited_once(handler: BaseHTTPRequestHandler, n: int) -> None:
        if n == 1:
            return send(handler, 429, b"{}", x_rate_limit_reset=reset)
        return fake_x.lookup(handler, n)

    server.routes[f"/2/tweets/{ROOT}"] = limited_once
    client = Client(FAST, secrets=[TOKEN], sleep=waited.append, clock=lambda: NOW)
    source = TwitterSource(client, TOKEN, api_url=server.url, clock=lambda: NOW)
    result = source.fetch(x_job(server), {})
    assert len({i.id for i in result.items}) == 7 and waited == [1.0]


@pytest.mark.parametrize(
    "failure",
    [
        lambda h, n: send(h, 503, b"Service Unavailable"),
        lambda h, n: send(h, 200, b'{"data": [{"id": "1", "text'),
        lambda h, n: send(h, 200, b"<html>garbage</html>"),
    ],
    ids=["503", "truncated-json", "garbage"],
)
def test_failures_keep_the_archive(
    fake_x: FakeX, server: Server, tmp_path: Path, failure: Route
) -> None:
    fetcher, _source = x_fetcher(tmp_path, server)
    fetcher.run([x_job(server)])
    path = Archive(tmp_path / "archive").post_path("post")
    before = path.read_bytes()
    server.routes["/2/tweets/search/recent"] = failure
    summary = fetcher.run([x_job(server)])
    assert summary.errors["twitter"] == 1
    assert path.read_bytes() == before


def test_an_empty_window_keeps_archived_tweets(
    fake_x: FakeX, server: Server, tmp_path: Path
) -> None:
    fetcher, _source = x_fetcher(tmp_path, server)
    fetcher.run([x_job(server)])
    # A week later recent search finds nothing: that is normal, not a loss.
    server.routes["/2/tweets/search/recent"] = lambda h, n: send(
        h, 200, (DATA / "empty.json").read_bytes()
    )
    summary = fetcher.run([x_job(server)])
    assert not summary.errors
    assert len(Archive(tmp_path / "archive").load("post").items) == 7


def test_a_deleted_announcement_is_marked(fake_x: FakeX, server: Server, tmp_path: Path) -> None:
    fake_x.fail(f"/2/tweets/{ROOT}", 200, (DATA / "tweet-deleted.json").read_bytes())
    fetcher, _source = x_fetcher(tmp_path, server)
    fetcher.run([x_job(server)])
    cursor = Archive(tmp_path / "archive").load("post").cursors[f"twitter:{ROOT}"]
    assert cursor["deleted"] is True
    assert fetcher.due([x_job(server)]) == []


def test_the_request_cap_holds_across_posts(fake_x: FakeX, server: Server, tmp_path: Path) -> None:
    fetcher, source = x_fetcher(tmp_path, server, max_requests=4, workers=1)
    summary = fetcher.run([x_job(server, key="a"), x_job(server, key="b")])
    # 3 calls for the first post; the 4th is the second post's lookup, and
    # its first search page would be the 5th: kept for the next build.
    assert len(fake_x.queries) == 4
    assert "max_requests" in summary.messages["twitter"]
    with pytest.raises(RequestCapReached):
        source.fetch(x_job(server), {})


def test_a_cap_reached_between_pages_keeps_what_came(
    fake_x: FakeX, server: Server, tmp_path: Path
) -> None:
    fetcher, _source = x_fetcher(tmp_path, server, max_requests=2)
    fetcher.run([x_job(server)])
    record = Archive(tmp_path / "archive").load("post")
    assert len(record.items) == 5  # the first page and its included parents
    cursor = record.cursors[f"twitter:{ROOT}"]
    assert "since_id" not in cursor and cursor["announcement"]["conversation_id"] == ROOT


# -- Settings -----------------------------------------------------------------------


def test_twitter_settings_are_checked() -> None:
    base = {"PATH": "content"}
    assert load(base).network("twitter").max_requests == 50
    with pytest.raises(SettingsError, match=r"ENGAGE_TWITTER\['search'\]"):
        load({**base, "ENGAGE_TWITTER": {"search": "everything"}})
    with pytest.raises(SettingsError, match=r"ENGAGE_TWITTER\['max_requests'\]"):
        load({**base, "ENGAGE_TWITTER": {"max_requests": 0}})
    with pytest.raises(SettingsError, match=r"ENGAGE_TWITTER\['api_url'\]"):
        load({**base, "ENGAGE_TWITTER": {"api_url": "api.x.com"}})
    with pytest.raises(SettingsError, match="unknown key") as exc:
        load({**base, "ENGAGE_TWITTER": {"token": TOKEN}})
    with pytest.raises(SettingsError, match="token_env") as exc:
        load({**base, "ENGAGE_TWITTER": {"token_env": TOKEN}})
    # A token pasted where its variable's name belongs is never echoed.
    assert TOKEN not in str(exc.value)


def test_errors_never_carry_the_token(server: Server) -> None:
    server.routes["/x"] = lambda h, n: send(h, 403, f'{{"detail": "{TOKEN}"}}'.encode())
    client = Client(FAST, secrets=[TOKEN])
    with pytest.raises(FetchError) as exc:
        client.get(f"{server.url}/x?token={TOKEN}")
    assert TOKEN not in str(exc.value) and TOKEN.encode() not in exc.value.body
    assert isinstance(RateLimited(server.url, None), SourceUnavailable)
    assert re.search(r"\[redacted\]", str(exc.value))


def test_a_reply_to_a_tweet_we_cannot_see_is_a_quiet_root() -> None:
    # Its parent is protected or deleted: nothing the author could fix, so
    # no warning (which --fatal warnings would turn into a failed build).
    page = load_json("search-page1.json")
    users = page["includes"]["users"]
    (orphan,) = parse_search({"data": [page["data"][0]], "includes": {"users": users}}, ROOT)
    assert orphan.in_reply_to == f"twitter:{IDS['old']}"
    thread, problems = build_thread(Post("post"), [orphan], author_identity("Marin"))
    assert problems == [] and thread.parents[orphan.id] is None


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
_TWEET = st.fixed_dictionaries(
    {
        "id": st.text("0123456789", min_size=1, max_size=5),
        "created_at": st.just("2026-11-20T10:00:00Z"),
    },
    optional={
        "text": _JSON,
        "entities": _JSON | st.fixed_dictionaries({"urls": _JSON, "mentions": _JSON}),
        "referenced_tweets": _JSON,
        "public_metrics": _JSON,
        "author_id": _JSON,
    },
)


@given(st.lists(_TWEET, max_size=3), _JSON)
def test_hostile_answers_give_items_or_a_value_error(data: list[Any], includes: Any) -> None:
    try:
        items = parse_search({"data": data, "includes": includes}, ROOT)
    except (ValueError, KeyError, TypeError):
        return
    assert all("<script" not in item.content_html for item in items)


def test_new_replies_under_a_mid_thread_announcement_are_kept() -> None:
    # A since_id page: only 5 (answering 4) and its parent 4 in includes.
    # 4 is known to be under the announcement 2 from an earlier fetch.
    page = {"data": [thread_tweet("5", "4")], "includes": {"tweets": [thread_tweet("4", "3")]}}
    assert parse_search(page, "2", conversation="1") == []
    kept = parse_search(page, "2", conversation="1", branch=["3", "4"])
    assert {i.id for i in kept} == {"twitter:4", "twitter:5"}


def test_a_failure_on_a_later_page_keeps_the_pages_before_it(
    fake_x: FakeX, server: Server, tmp_path: Path
) -> None:
    def second_page_fails(handler: BaseHTTPRequestHandler, n: int) -> None:
        if "next_token" in handler.path:
            return send(handler, 503, b"Service Unavailable")
        return fake_x.search(handler, n)

    server.routes["/2/tweets/search/recent"] = second_page_fails
    fetcher, _source = x_fetcher(tmp_path, server)
    summary = fetcher.run([x_job(server)])
    assert summary.errors["twitter"] == 1 and "server error 503" in summary.messages["twitter"]
    record = Archive(tmp_path / "archive").load("post")
    assert len(record.items) == 5  # page 1 and its included parents
    cursor = record.cursors[f"twitter:{ROOT}"]
    # The lookup is not paid for twice; the search starts over; still due.
    assert cursor["announcement"]["conversation_id"] == ROOT
    assert "since_id" not in cursor and "fetched_at" not in cursor
    assert fetcher.due([x_job(server)]) != []


def test_one_malformed_tweet_leaves_the_rest_of_the_page() -> None:
    for field, bad in (("created_at", "yesterday"), ("public_metrics", {"like_count": "many"})):
        page = load_json("search-page2.json")
        page["data"][0][field] = bad
        assert {i.id for i in parse_search(page, ROOT)} == {
            f"twitter:{IDS['r1']}",
            f"twitter:{IDS['r2']}",
        }


def test_a_token_with_a_line_break_never_reaches_a_message(server: Server) -> None:
    token = "AAAAsecretpart1\nsecretpart2"
    server.routes["/x"] = lambda h, n: send(h, 200, b"{}")
    client = Client(FAST, secrets=[token])
    with pytest.raises(FetchError) as exc:
        client.get(f"{server.url}/x", headers={"Authorization": f"Bearer {token}"})
    assert "secretpart" not in str(exc.value)
