"""X replies in real Pelican builds, and the bearer token kept out of everything."""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest

from pelican_engage.archive import Archive
from tests.conftest import Site
from tests.loopback import Server, send
from tests.test_twitter import DATA, IDS, ROOT, TOKEN, FakeX

ENV = "ENGAGE_TWITTER_BEARER_TOKEN"
AUTHOR = {"names": ["Marin"], "twitter": ["marin"]}


@pytest.fixture
def fake_x(server: Server) -> FakeX:
    return FakeX(server)


def x_settings(server: Server, **twitter: object) -> dict[str, object]:
    return {"ENGAGE_TWITTER": {"api_url": server.url, **twitter}, "ENGAGE_AUTHOR": AUTHOR}


def engage_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("pelican_engage")]


def fresh_article(site: Site) -> None:
    """An article from yesterday, young enough for recent search to see."""
    posted = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    (site.content / "fresh.md").write_text(
        f"Title: Fresh\nDate: {posted}\nSlug: fresh\n\nNew.\n", encoding="utf-8"
    )


def assert_token_nowhere(root: Path, logs: list[str]) -> None:
    """The canary token, raw, URL-encoded or base64, in no file and no log."""
    forms = {TOKEN, quote(TOKEN, safe=""), base64.b64encode(TOKEN.encode()).decode()}
    forms.add(TOKEN.split("%")[0])  # the token's distinctive prefix, decoded or not
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for form in forms:
                assert form.encode() not in data, f"token found in {path}"
    for line in logs:
        for form in forms:
            assert form not in line


def test_a_build_fetches_threads_and_links_replies_on_x(
    site: Site,
    fake_x: FakeX,
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    caplog.set_level(logging.INFO)
    site.article("moving", tweet=f"https://x.com/marin/status/{ROOT}")
    site.build(**x_settings(server))

    page = site.html("moving.html")
    items = {li["data-engage-id"]: li for li in page.select("li.engage-item")}
    assert len(items) == 7
    answer = items[f"twitter:{IDS['r3']}"]
    assert "engage-by-author" in answer["class"] and answer.select_one(".engage-badge")
    assert answer["data-engage-parent"] == f"twitter:{IDS['r1']}"
    # Marin's answer is nested inside Ann's tweet.
    assert answer.find_parent("li", class_="engage-item") is items[f"twitter:{IDS['r1']}"]
    reply = items[f"twitter:{IDS['r4']}"].select_one("a.engage-reply-link")
    assert reply.get_text() == "Reply on X"
    assert reply["href"] == f"https://x.com/intent/tweet?in_reply_to={IDS['r4']}"
    link = page.select_one("a.engage-announcement")
    assert link["href"] == f"https://x.com/marin/status/{ROOT}" and link.get_text() == "on X"
    text = items[f"twitter:{IDS['r1']}"].select_one(".e-content")
    assert "Great read & thanks! Does it escape <script>?" in text.get_text()
    assert not page.select(".e-content script")

    summary = [m for m in engage_logs(caplog) if "announcement(s) due" in m]
    assert len(summary) == 1
    assert summary[0].startswith("engage: 1 of 1 announcement(s) due, 1 fetched: 7 new item(s)")
    assert "3 request(s) (3 to X)" in summary[0]
    assert_token_nowhere(site.root, [r.getMessage() for r in caplog.records])


def test_without_a_token_archived_tweets_still_render(
    site: Site,
    fake_x: FakeX,
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    site.article("moving", tweet=ROOT)
    site.build(**x_settings(server))
    monkeypatch.delenv(ENV)
    fake_x.queries.clear()
    caplog.set_level(logging.INFO)
    site.build(**x_settings(server), ENGAGE_REFRESH={"min_seconds": 0, "ratio": 0})
    assert fake_x.queries == []
    lines = [m for m in engage_logs(caplog) if "no bearer token" in m]
    assert lines == [
        f"engage: twitter: no bearer token in ${ENV}; 1 announcement(s) not fetched, "
        "archived tweets are still shown"
    ]
    assert len(site.html("moving.html").select("li.engage-item")) == 7


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, "401.json", "rejected the bearer token"),
        (403, "403-client-not-enrolled.json", "client-not-enrolled"),
        (503, "429.json", "server error 503"),
    ],
)
def test_an_api_failure_never_fails_the_build(
    site: Site,
    fake_x: FakeX,
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: str,
    expected: str,
) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    site.article("moving", tweet=ROOT)
    site.article("second", tweet=IDS["r1"])
    fake_x.fail(f"/2/tweets/{ROOT}", status, (DATA / body).read_bytes())
    fake_x.fail(f"/2/tweets/{IDS['r1']}", status, (DATA / body).read_bytes())
    caplog.set_level(logging.INFO)
    site.build(**x_settings(server), ENGAGE_CONCURRENCY=1)
    assert (site.output / "moving.html").exists()
    lines = [m for m in engage_logs(caplog) if m.startswith("engage: twitter:")]
    assert len(lines) == 1 and expected in lines[0] and "archived items kept" in lines[0]
    # A refused token or access is for the user to fix: a warning, once.
    # An outage is not.
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == (1 if status in (401, 403) else 0)
    assert_token_nowhere(site.root, [r.getMessage() for r in caplog.records])


def test_discovery_finds_the_announcement_and_says_what_to_add(
    site: Site,
    fake_x: FakeX,
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    fresh_article(site)
    site.article("old-post")  # too old for recent search: not searched
    fake_x.discovered = {
        "data": [
            {"id": IDS["r3"], "text": "a reply", "author_id": "100", "conversation_id": ROOT,
             "created_at": "2026-11-20T12:30:00.000Z",
             "referenced_tweets": [{"type": "replied_to", "id": IDS["r1"]}]},
            {"id": ROOT, "text": "New post", "author_id": "100", "conversation_id": ROOT,
             "created_at": "2026-11-05T10:00:00.000Z"},
        ],
        "meta": {"result_count": 2},
    }  # fmt: skip
    caplog.set_level(logging.INFO)
    site.build(**x_settings(server, discover=True))
    searches = [q.get("query", "") for q in fake_x.queries if q.get("query", "").startswith("url:")]
    assert searches == ['url:"https://blog.example/fresh.html" from:marin']
    hint = f"add 'tweet: https://x.com/marin/status/{ROOT}' to its metadata"
    assert [m for m in engage_logs(caplog) if hint in m]
    # Found and fetched in the same build, and linked from the thread.
    page = site.html("fresh.html")
    assert len(page.select("li.engage-item")) == 7
    assert page.select_one("a.engage-announcement")["href"].endswith(f"/status/{ROOT}")

    fake_x.queries.clear()
    site.build(**x_settings(server, discover=True))
    assert not [q for q in fake_x.queries if q.get("query", "").startswith("url:")]
    record = Archive(site.root / "archive").load("fresh")
    assert record.cursors[f"twitter:{ROOT}"]["since_id"] == IDS["r6"]


def test_bad_tweet_metadata_names_the_file(
    site: Site, server: Server, monkeypatch: pytest.MonkeyPatch, engage_warnings
) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    server.routes["/2/tweets/search/recent"] = lambda h, n: send(h, 500)
    site.article("moving", tweet="https://x.com/marin")
    site.build(**x_settings(server))
    assert [w for w in engage_warnings() if "moving.md" in w and "metadata 'tweet'" in w]


def test_a_refused_token_stops_discovery_and_fetching_alike(
    site: Site,
    fake_x: FakeX,
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    fresh_article(site)
    site.article("moving", tweet=ROOT)
    fake_x.fail("/2/tweets/search/recent", 401, (DATA / "401.json").read_bytes())
    caplog.set_level(logging.INFO)
    site.build(**x_settings(server, discover=True), ENGAGE_CONCURRENCY=1)
    # Discovery ran first and was refused: the conversation is not even tried.
    assert server.hits.get("/2/tweets/search/recent") == 1
    assert f"/2/tweets/{ROOT}" not in server.hits
    lines = [m for m in engage_logs(caplog) if m.startswith("engage: twitter")]
    assert len(lines) == 1 and "rejected the bearer token" in lines[0]


def test_a_token_with_a_line_break_is_refused_and_never_logged(
    site: Site,
    fake_x: FakeX,
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(ENV, "AAAAsecretpart1\nsecretpart2")
    site.article("moving", tweet=ROOT)
    caplog.set_level(logging.INFO)
    site.build(**x_settings(server))
    assert fake_x.queries == []
    messages = [r.getMessage() for r in caplog.records]
    assert any("holds a space or line break" in m for m in messages)
    assert not any("secretpart" in m for m in messages)
