"""ENGAGE_FETCH_BUDGET is a wall clock (security field case F4).

The servers here trickle their answers: each byte comes well within the
read timeout, so only a deadline on the whole request stops them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from pelican_engage.archive import Archive
from pelican_engage.errors import OutOfTime, Unreachable
from pelican_engage.fetch import Fetcher
from pelican_engage.http import Client, HttpSettings
from pelican_engage.sources import feed, webmention
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
#: Each byte comes within the read timeout: a per-read timeout never trips.
DRIP = 0.05
QUICK = HttpSettings(connect_timeout=2, read_timeout=0.5, backoff=0.01, retries=2)


def drip_body(h: BaseHTTPRequestHandler, n: int, seconds: float = 30.0) -> None:
    """200 with a long Content-Length, then one space now and then (F4)."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    _drip(h, b" ", seconds)


def drip_headers(h: BaseHTTPRequestHandler, n: int) -> None:
    h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    _drip(h, b"a", 30.0)


def _drip(h: BaseHTTPRequestHandler, byte: bytes, seconds: float) -> None:
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            h.wfile.write(byte)
            h.wfile.flush()
            time.sleep(DRIP)
    except OSError:
        pass  # the client hung up: that is the point


@pytest.mark.parametrize("route", [drip_body, drip_headers], ids=["body", "headers"])
def test_a_trickle_is_stopped_at_the_request_deadline(server: Server, route) -> None:
    server.routes["/slow"] = route
    client = Client(HttpSettings(**{**QUICK.__dict__, "total_timeout": 1.0}))
    started = time.monotonic()
    with pytest.raises(Unreachable, match=r"/slow: no complete answer within 1 s; stopped"):
        client.get(f"{server.url}/slow")
    assert time.monotonic() - started < 1.6
    assert server.hits["/slow"] == 1  # a trickle is not asked for again


def test_the_budget_stops_a_request_in_flight(server: Server) -> None:
    server.routes["/slow"] = drip_body
    client = Client(QUICK)
    client.deadline = time.monotonic() + 0.8
    started = time.monotonic()
    with pytest.raises(OutOfTime, match="the fetch budget ran out"):
        client.get(f"{server.url}/slow")
    assert time.monotonic() - started < 1.4


def test_no_request_starts_once_the_budget_is_spent(server: Server) -> None:
    server.routes["/a"] = lambda h, n: send(h, 200, b"{}")
    client = Client(QUICK)
    client.deadline = time.monotonic() - 0.01
    with pytest.raises(OutOfTime, match="not asked"):
        client.get(f"{server.url}/a")
    assert server.hits == {}


def test_a_whole_answer_just_in_time_is_kept(server: Server) -> None:
    """The watch must not cut an answer that came complete."""
    body = json.dumps({"ok": list(range(2000))}).encode()
    server.routes["/a"] = lambda h, n: send(h, 200, body)
    client = Client(HttpSettings(**{**QUICK.__dict__, "total_timeout": 0.5}))
    for _ in range(20):
        assert client.get(f"{server.url}/a").json()["ok"][-1] == 1999
    time.sleep(0.6)  # the watches of those requests are over: the connection still works
    assert client.get(f"{server.url}/a").json()["ok"][0] == 0


def test_jobs_queued_for_a_slot_do_not_start_after_the_budget(
    server: Server, tmp_path: Path
) -> None:
    atom = (DATA / "feed" / "wordpress-atom-comments.xml").read_bytes()
    started: list[float] = []

    def slow_feed(h: BaseHTTPRequestHandler, n: int) -> None:
        started.append(time.monotonic())
        time.sleep(0.7)
        send(h, 200, atom, Content_Type="application/atom+xml")

    jobs = []
    for n in range(4):
        server.routes[f"/p{n}/feed/"] = slow_feed
        jobs.append(feed.job_for(f"p{n}", f"{server.url}/p{n}/feed/", NOW - timedelta(days=1)))
    client = Client(HttpSettings(read_timeout=2))
    fetcher = Fetcher(
        Archive(tmp_path / "archive"),
        {"feed": feed.FeedSource(client)},
        concurrency=4,
        per_host=1,
        budget_seconds=1.0,
        clock=lambda: NOW,
    )
    client.deadline = fetcher.start()
    began = time.monotonic()
    summary = fetcher.run(jobs)
    assert time.monotonic() - began < 1.6
    # On old code all four started, one after the other, past the budget.
    assert 1 <= len(started) <= 2 and all(t - began < 1.0 for t in started)
    assert summary.skipped == 4 - len(started)
    if len(started) == 2:  # the second was cut by the budget
        assert summary.errors["feed"] == 1
        assert "fetch budget ran out" in summary.messages["feed"]
    # What came in time is kept.
    archive = Archive(tmp_path / "archive")
    assert len(archive.load("p0").items) > 0 and not archive.post_path("p1").exists()


def test_what_came_before_the_budget_ran_out_is_kept(server: Server, tmp_path: Path) -> None:
    page = json.loads((DATA / "webmention" / "mentions.json").read_text())
    per_page = len(page["children"])
    server.routes["/api/mentions.jf2"] = lambda h, n: (
        send(h, 200, json.dumps(page).encode()) if n == 1 else drip_body(h, n)
    )
    client = Client(QUICK)
    source = webmention.WebmentionSource(client, api_url=server.url, per_page=per_page)
    fetcher = Fetcher(
        Archive(tmp_path / "archive"), {"webmention": source}, budget_seconds=1.0, clock=lambda: NOW
    )
    client.deadline = fetcher.start()
    job = webmention.job_for("hello", "https://blog.example/hello.html", NOW, server.url)
    summary = fetcher.run([job])
    assert summary.errors["webmention"] == 1
    assert server.hits["/api/mentions.jf2"] == 2
    items = Archive(tmp_path / "archive").load("hello").items
    assert items and all(i.startswith("webmention:") for i in items)


def test_a_build_ends_within_the_budget(
    server: Server, site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """F4: a server answering a byte at a time holds the build no longer
    than ENGAGE_FETCH_BUDGET, plus a small grace."""
    monkeypatch.delenv("ENGAGE_OFFLINE", raising=False)
    for path in ("/api/v1/statuses/123", "/api/v1/statuses/123/context"):
        server.routes[path] = drip_body
    site.article("post", mastodon=f"{server.url}/@marin/123")
    caplog.set_level(logging.INFO, logger="pelican_engage")
    budget = 2
    started = time.monotonic()
    site.build(ENGAGE_FETCH_BUDGET=budget)
    took = time.monotonic() - started
    assert took < budget + 2.5, f"the build took {took:.1f} s with a {budget} s budget"
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        "mastodon: 1 of 1 fetch(es) failed" in line and "fetch budget ran out" in line
        for line in lines
    ), lines
    assert (site.output / "post.html").exists()
    assert not (site.root / "archive" / "posts" / "post.json").exists()


def test_the_watch_leaves_no_thread_behind(server: Server) -> None:
    server.routes["/a"] = lambda h, n: send(h, 200, b"{}")
    before = threading.active_count()
    client = Client(QUICK)
    for _ in range(30):
        client.get(f"{server.url}/a")
    time.sleep(0.1)
    assert threading.active_count() <= before + 2  # the server's handlers, at most
