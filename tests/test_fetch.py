"""The fetch engine with the Mastodon source, against a loopback Mastodon."""

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
from pelican_engage.fetch import Fetcher, Refresh
from pelican_engage.http import Client, HttpSettings
from pelican_engage.sources.mastodon import MastodonSource, job_for
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "mastodon"
ROOT = "110000000000000001"
NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
FAST = HttpSettings(connect_timeout=2, read_timeout=1, backoff=0.01, max_wait=1, retries=1)


def serve_mastodon(server: Server, status_id: str = ROOT) -> None:
    """Answer the status, its context and its favourites as Mastodon does."""
    status = (DATA / "status.json").read_bytes()
    context = (DATA / "context.json").read_bytes()
    favourites = (DATA / "favourited_by.json").read_bytes()
    base = f"/api/v1/statuses/{status_id}"
    server.routes[base] = lambda h, n: send(h, 200, status, Content_Type="application/json")
    server.routes[base + "/context"] = lambda h, n: send(h, 200, context)
    server.routes[base + "/favourited_by"] = lambda h, n: send(h, 200, favourites)
    server.routes[base + "/reblogged_by"] = lambda h, n: send(h, 200, b"[]")
    instance = json.dumps({"domain": "127.0.0.1", "title": "Test"}).encode()
    server.routes["/api/v2/instance"] = lambda h, n: send(h, 200, instance)


def fetcher(
    tmp_path: Path, token: str = "", hosts: tuple[str, ...] = (), **kwargs: object
) -> tuple[Fetcher, Client]:
    client = Client(FAST, secrets=[token], clock=lambda: NOW)
    source = MastodonSource(client, token=token, hosts=hosts)
    return Fetcher(
        Archive(tmp_path / "archive"), {"mastodon": source}, clock=lambda: NOW, **kwargs
    ), client  # type: ignore[arg-type]


def job(server: Server, key: str = "post", status_id: str = ROOT, days_old: float = 1):
    url = f"{server.url}/@marin/{status_id}"
    return job_for(key, url, NOW - timedelta(days=days_old))


def test_fetch_archives_replies_and_likes_then_waits_for_the_interval(
    server: Server, tmp_path: Path
) -> None:
    serve_mastodon(server)
    engine, client = fetcher(tmp_path)
    jobs = engine.due([job(server)])
    summary = engine.run(jobs)
    assert summary.new_items == 5 and not summary.errors
    record = Archive(tmp_path / "archive").load("post")
    host = server.url.split("//", 1)[1]
    assert f"mastodon:{host}/110000000000000002" in record.items
    kinds = sorted(i.kind for i in record.items.values())
    assert kinds == ["like", "reply", "reply", "reply", "reply"]
    cursor = record.cursors[f"mastodon:{server.url}/@marin/{ROOT}"]
    assert cursor["fetched_at"] == NOW.isoformat() and cursor["counts"]["favourites"] == 2
    sent = client.requests
    # Within the refresh interval nothing is due, so no request is sent.
    assert engine.due([job(server)]) == []
    assert client.requests == sent
    assert len(engine.due([job(server)], force=True)) == 1


def test_refresh_interval_grows_with_age() -> None:
    refresh = Refresh(min_seconds=3600, max_seconds=7 * 86400, ratio=0.1)
    assert refresh.interval(NOW - timedelta(hours=2), NOW) == timedelta(hours=1)
    assert refresh.interval(NOW - timedelta(days=10), NOW) == timedelta(days=1)
    assert refresh.interval(NOW - timedelta(days=400), NOW) == timedelta(days=7)
    assert refresh.is_due(None, NOW, NOW)
    assert not refresh.is_due(NOW - timedelta(minutes=30), NOW - timedelta(days=1), NOW)


def _slow(h: BaseHTTPRequestHandler, n: int) -> None:
    time.sleep(1.5)
    send(h, 200, b"{}")


@pytest.mark.parametrize(
    "failure",
    [
        lambda h, n: send(h, 503),
        lambda h, n: send(h, 200, b'{"descendants": [{"id": '),
        lambda h, n: send(h, 401, b'{"error": "This API requires an authenticated user"}'),
        _slow,
    ],
    ids=["503", "truncated-json", "401", "slow"],
)
def test_a_failed_fetch_keeps_the_archive(
    server: Server, tmp_path: Path, failure, caplog: pytest.LogCaptureFixture
) -> None:
    serve_mastodon(server)
    engine, _ = fetcher(tmp_path)
    engine.run([job(server)])
    archive = Archive(tmp_path / "archive")
    before = archive.post_path("post").read_bytes()
    server.routes[f"/api/v1/statuses/{ROOT}/context"] = failure
    caplog.set_level(logging.INFO, logger="pelican_engage")
    summary = engine.run([job(server)])
    assert summary.errors["mastodon"] == 1
    assert archive.post_path("post").read_bytes() == before
    lines = [r.getMessage() for r in caplog.records if r.name == "pelican_engage.fetch"]
    assert len(lines) == 1 + (failure is _slow) and "archived items kept" in lines[0]
    if failure is _slow:  # a host that does not answer is also told once
        assert "did not answer (timed out)" in lines[1]


def test_deleted_announcement_is_marked_and_not_asked_again(server: Server, tmp_path: Path) -> None:
    serve_mastodon(server)
    engine, _client = fetcher(tmp_path)
    engine.run([job(server)])
    server.routes[f"/api/v1/statuses/{ROOT}"] = lambda h, n: send(
        h, 404, b'{"error": "Record not found"}'
    )
    engine.run(engine.due([job(server)], force=True))
    record = Archive(tmp_path / "archive").load("post")
    assert len(record.items) == 5  # kept
    assert record.cursors[f"mastodon:{server.url}/@marin/{ROOT}"]["deleted"] is True
    assert engine.due([job(server, days_old=400)]) == []


def test_a_long_rate_limit_defers_the_source(server: Server, tmp_path: Path) -> None:
    reset = "2026-03-02T13:00:00.000000Z"
    for n in range(6):
        serve_mastodon(server, f"{n + 1}")
        server.routes[f"/api/v1/statuses/{n + 1}"] = lambda h, i: send(
            h, 429, b'{"error": "Too many requests"}', X_RateLimit_Reset=reset
        )
    engine, client = fetcher(tmp_path, concurrency=1)
    summary = engine.run([job(server, f"p{n}", f"{n + 1}") for n in range(6)])
    assert summary.errors["mastodon"] == 1
    assert summary.skipped == 5
    assert client.requests == 1
    assert "rate limited until 2026-03-02T13:00:00+00:00" in summary.messages["mastodon"]


def test_concurrency_is_bounded_per_host(server: Server, tmp_path: Path) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    status = (DATA / "status.json").read_bytes()

    def slow_status(h: BaseHTTPRequestHandler, n: int) -> None:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.1)
        with lock:
            in_flight -= 1
        send(h, 200, status)

    jobs = []
    for n in range(12):
        base = f"/api/v1/statuses/{n + 1}"
        server.routes[base] = slow_status
        server.routes[base + "/context"] = lambda h, i: send(h, 200, b'{"descendants": []}')
        server.routes[base + "/favourited_by"] = lambda h, i: send(h, 200, b"[]")
        server.routes[base + "/reblogged_by"] = lambda h, i: send(h, 200, b"[]")
        jobs.append(job(server, f"p{n}", f"{n + 1}"))
    engine, _ = fetcher(tmp_path, concurrency=8, per_host=4)
    summary = engine.run(jobs)
    assert not summary.errors
    assert 2 <= peak <= 4


def test_the_token_is_sent_but_never_stored(server: Server, tmp_path: Path) -> None:
    serve_mastodon(server)
    host = server.url.split("//", 1)[1]
    engine, _ = fetcher(tmp_path, token="SECRET-TOKEN-1", hosts=(host,))
    engine.run([job(server)])
    assert "Bearer SECRET-TOKEN-1" in [h.get("Authorization") for h in server.seen]
    for path in (tmp_path / "archive").rglob("*"):
        if path.is_file():
            assert "SECRET-TOKEN-1" not in path.read_text()
    data = json.loads(Archive(tmp_path / "archive").post_path("post").read_text())
    assert data["schema"] == 2


def test_a_build_fetches_renders_and_survives_an_outage(
    server: Server, site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: `mastodon:` metadata, a build, then a build while the server is down."""
    monkeypatch.delenv("ENGAGE_OFFLINE", raising=False)
    serve_mastodon(server)
    site.article("post", mastodon=f"{server.url}/@marin/{ROOT}")
    settings = {
        "ENGAGE_AUTHOR": {"names": ["Marin"], "mastodon": ["marin@127.0.0.1"]},
        "ENGAGE_REFRESH": {"min_seconds": 0, "max_seconds": 0},
    }
    site.build(**settings)
    page = site.html("post.html")
    ids = {el["data-engage-id"] for el in page.select("[data-engage-id]")}
    host = server.url.split("//", 1)[1]
    assert f"mastodon:{host}/110000000000000002" in ids
    authored = page.select_one(f'[data-engage-id="mastodon:{host}/110000000000000003"]')
    assert "engage-by-author" in authored["class"]
    # The status counts 2 favourites; its server named one of them.
    likes = page.select_one(".engage-likes")
    assert "Liked by 2:" in likes.get_text() and "and 1 more" in likes.get_text()
    assert len(likes.select("a.engage-reactor")) == 1

    # The server fails: the archive still renders everything.
    for path in list(server.routes):
        server.routes[path] = lambda h, n: send(h, 503)
    site.build(**settings)
    again = {el["data-engage-id"] for el in site.html("post.html").select("[data-engage-id]")}
    assert again == ids

    # Offline: no request at all.
    hits = sum(server.hits.values())
    monkeypatch.setenv("ENGAGE_OFFLINE", "1")
    site.build(**settings)
    assert sum(server.hits.values()) == hits
    assert {el["data-engage-id"] for el in site.html("post.html").select("[data-engage-id]")} == ids


def test_a_bad_mastodon_url_is_reported_with_the_file(site, engage_warnings) -> None:
    site.article("post", mastodon="https://social.example/@marin")
    site.build()
    (warning,) = engage_warnings()
    assert "post.md" in warning and "not a Mastodon status URL" in warning


def test_fetch_command_fetches_once_per_interval(
    server: Server, site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pelican_engage.cli import main

    serve_mastodon(server)
    site.article("post", mastodon=f"{server.url}/@marin/{ROOT}")
    site.article("other")
    conf = site.write_conf()
    monkeypatch.chdir(site.root)
    assert main(["fetch", "-s", str(conf)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith(
        "1 of 1 announcement(s) due, 5 request(s) (mastodon: 5), 5 new item(s), 0 error(s)"
    )
    assert "fetched mastodon post" in out.err  # plain progress lines off a terminal
    assert len(Archive(site.root / "archive").load("post").items) == 5

    assert main(["fetch", "-s", str(conf)]) == 0
    assert capsys.readouterr().out.startswith("0 of 1 announcement(s) due, 0 request(s)")
    assert main(["fetch", "-s", str(conf), "--force", "--source", "mastodon"]) == 0
    assert capsys.readouterr().out.startswith(
        "1 of 1 announcement(s) due, 4 request(s) (mastodon: 4), 0 new"
    )
    assert main(["fetch", "-s", str(conf), "--post", "other"]) == 0
    assert capsys.readouterr().out.startswith("0 of 0 announcement(s)")


def test_an_unchanged_context_comes_back_as_304_and_keeps_the_archive(
    server: Server, tmp_path: Path
) -> None:
    serve_mastodon(server)
    context = (DATA / "context.json").read_bytes()

    def with_etag(h: BaseHTTPRequestHandler, n: int) -> None:
        if h.headers.get("If-None-Match") == 'W/"c1"':
            send(h, 304)
        else:
            send(h, 200, context, ETag='W/"c1"')

    server.routes[f"/api/v1/statuses/{ROOT}/context"] = with_etag
    engine, _ = fetcher(tmp_path)
    engine.run([job(server)])
    archive = Archive(tmp_path / "archive")
    assert len(archive.load("post").items) == 5
    summary = engine.run(engine.due([job(server)], force=True))
    assert not summary.errors and summary.new_items == 0
    assert len(archive.load("post").items) == 5
    cursor = archive.load("post").cursors[f"mastodon:{server.url}/@marin/{ROOT}"]
    assert cursor["context_etag"] == 'W/"c1"'
    assert [h.get("If-None-Match") for h in server.seen if h.get("If-None-Match")] == ['W/"c1"']
