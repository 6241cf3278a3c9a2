"""A post's independent requests go out together, and hosts still get no
more than their share: a loopback Mastodon records the requests in flight."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from pelican_engage.archive import Archive
from pelican_engage.errors import NotAsked
from pelican_engage.fetch import Fetcher, by_turns
from pelican_engage.http import Client, HttpSettings
from pelican_engage.slots import RequestSlots
from pelican_engage.sources.mastodon import MastodonSource, job_for
from pelican_engage.together import Together
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "mastodon"
NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
FAST = HttpSettings(connect_timeout=2, read_timeout=5, backoff=0.01, retries=0)
STATUS = json.loads((DATA / "status.json").read_text())
HOLD = 5.0  # seconds a request may wait for its siblings: only a failing run waits


class Flight:
    """Requests in flight at once, per server and in all; ``meet(name)``
    holds a request until ``name``'s siblings have all arrived."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.total = 0
        self.total_peak = 0
        self.barriers: dict[str, threading.Barrier] = {}

    def route(self, server: Server, answer: Callable[[], bytes], meet: str = "") -> object:
        def handle(h: BaseHTTPRequestHandler, n: int) -> None:
            with self.lock:
                self.now[server.url] = self.now.get(server.url, 0) + 1
                self.peak[server.url] = max(self.peak.get(server.url, 0), self.now[server.url])
                self.total += 1
                self.total_peak = max(self.total_peak, self.total)
            try:
                if meet:
                    self.barriers[meet].wait()  # BrokenBarrierError: they came one by one
                body, status = answer(), 200
            except threading.BrokenBarrierError:
                body, status = b'{"error": "served alone"}', 500
            finally:
                with self.lock:
                    self.now[server.url] -= 1
                    self.total -= 1
            send(h, status, body, Content_Type="application/json")

        return handle


def announce(server: Server, flight: Flight, sid: str, meet: bool = False) -> None:
    """Status ``sid`` with one reply, favourites and boosts; with ``meet``,
    its context and both lists answer only once all three are asked."""
    status = {**STATUS, "id": sid, "replies_count": 1, "favourites_count": 1, "reblogs_count": 1}
    reply = {**STATUS, "id": f"{sid}9", "in_reply_to_id": sid, "replies_count": 0}
    account = [{"id": "7", "username": "ann", "acct": "ann@else.example"}]
    key = sid if meet else ""
    if meet:
        flight.barriers[sid] = threading.Barrier(3, timeout=HOLD)
    base = f"/api/v1/statuses/{sid}"
    server.routes[base] = flight.route(server, lambda: json.dumps(status).encode())
    context = json.dumps({"ancestors": [], "descendants": [reply]}).encode()
    server.routes[base + "/context"] = flight.route(server, lambda: context, key)
    for path in ("/favourited_by", "/reblogged_by"):
        server.routes[base + path] = flight.route(server, lambda: json.dumps(account).encode(), key)
    instance = json.dumps({"domain": "127.0.0.1"}).encode()
    server.routes["/api/v2/instance"] = flight.route(server, lambda: instance)


def run(tmp_path: Path, jobs: list, per_host: int = 4, concurrency: int = 8):
    client = Client(FAST, clock=lambda: NOW)
    fetcher = Fetcher(
        Archive(tmp_path / "archive"),
        {"mastodon": MastodonSource(client)},
        clock=lambda: NOW,
        per_host=per_host,
        concurrency=concurrency,
    )
    assert client.slots is fetcher.slots  # the sources' clients count with the fetcher
    summary = fetcher.run(jobs)
    client.close()
    return summary, Archive(tmp_path / "archive")


def job(server: Server, n: int, sid: str):
    return job_for(f"p{n}", f"{server.url}/@marin/{sid}", NOW - timedelta(days=1))


def test_a_posts_context_and_reaction_lists_are_asked_together(
    server: Server, tmp_path: Path
) -> None:
    """Each of the three answers only once the other two are asked: one
    after the other, they would fail (500 after HOLD seconds)."""
    flight = Flight()
    announce(server, flight, "101", meet=True)
    summary, archive = run(tmp_path, [job(server, 0, "101")])
    assert not summary.errors and not summary.entry_lines
    kinds = sorted(i.kind for i in archive.load("p0").items.values())
    assert kinds == ["like", "reply", "repost"]
    assert flight.peak[server.url] >= 3


def test_a_host_never_has_more_than_its_share_in_flight(server: Server, tmp_path: Path) -> None:
    flight = Flight()
    for n in range(12):
        announce(server, flight, str(200 + n), meet=n == 0)
    summary, archive = run(tmp_path, [job(server, n, str(200 + n)) for n in range(12)])
    assert not summary.errors
    assert all(len(archive.load(f"p{n}").items) == 3 for n in range(12))
    assert 1 < flight.peak[server.url] <= 4


@pytest.mark.parametrize("per_host", [1, 2])
def test_a_lower_per_host_limit_holds_for_requests(
    server: Server, tmp_path: Path, per_host: int
) -> None:
    flight = Flight()
    for n in range(6):
        announce(server, flight, str(300 + n))
    summary, _archive = run(tmp_path, [job(server, n, str(300 + n)) for n in range(6)], per_host)
    assert not summary.errors
    assert flight.peak[server.url] <= per_host


def test_the_fetch_bound_counts_requests_across_hosts(tmp_path: Path) -> None:
    servers = [Server() for _ in range(3)]
    try:
        flight = Flight()
        jobs = []
        for n in range(9):
            server = servers[n % 3]
            announce(server, flight, str(400 + n))
            jobs.append(job(server, n, str(400 + n)))
        summary, _archive = run(tmp_path, jobs, concurrency=2)
        assert not summary.errors
        assert flight.total_peak <= 2
    finally:
        for server in servers:
            server.close()


def test_one_request_at_a_time_when_the_bound_is_one(server: Server, tmp_path: Path) -> None:
    """ENGAGE_CONCURRENCY = 1 is sequential, a post's own requests too."""
    flight = Flight()
    for n in range(3):
        announce(server, flight, str(500 + n))
    summary, _archive = run(tmp_path, [job(server, n, str(500 + n)) for n in range(3)], 4, 1)
    assert not summary.errors
    assert flight.total_peak == 1


def test_together_raises_the_first_failure_after_every_call_ended() -> None:
    together = Together(4)
    ended: list[str] = []
    release = threading.Event()

    def slow() -> str:
        release.wait(HOLD)
        ended.append("slow")
        return "slow"

    def boom() -> str:
        release.set()
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        together(boom, slow)
    assert ended == ["slow"]  # the sibling was not left running unseen
    assert together(lambda: 1, lambda: 2, lambda: 3) == [1, 2, 3]
    together.close()


def test_together_inside_together_runs_inline() -> None:
    """Calls that wait for calls cannot take every thread of the pool."""
    together = Together(1)
    inner = [lambda: together(lambda: "a", lambda: "b") for _ in range(3)]
    assert together(*inner) == [["a", "b"]] * 3
    together.close()


def test_request_slots_wait_no_longer_than_the_deadline() -> None:
    slots = RequestSlots(per_host=1)
    with slots.hold("a.example"):
        with pytest.raises(NotAsked, match=r"a\.example"), slots.hold("a.example", deadline=0.0):
            pass
        with slots.hold("b.example", deadline=0.0):
            pass  # another host has its own slots


def test_hosts_take_turns_in_the_queue() -> None:
    jobs = [job_for(f"k{n}", f"https://{h}/@m/{n}", NOW) for n, h in enumerate("aaabbc")]
    assert [j.host for j in by_turns(jobs)] == list("abcaba")
    assert sorted(j.post_key for j in by_turns(jobs)) == sorted(j.post_key for j in jobs)


def test_a_bluesky_posts_like_and_repost_lists_are_asked_together(
    server: Server, tmp_path: Path
) -> None:
    from tests.test_bluesky import FakeAppView, bsky_fetcher, bsky_job

    FakeAppView(server)
    flight = Flight()
    flight.barriers["lists"] = threading.Barrier(2, timeout=HOLD)
    for method, name in (("getLikes", "likes.json"), ("getRepostedBy", "reposted-by.json")):
        body = (Path(__file__).parent / "data" / "bluesky" / name).read_bytes()
        server.routes[f"/xrpc/app.bsky.feed.{method}"] = flight.route(
            server, lambda body=body: body, "lists"
        )
    summary = bsky_fetcher(tmp_path, server).run([bsky_job(server)])
    assert not summary.errors and not summary.entry_lines
    kinds = sorted(i.kind for i in Archive(tmp_path / "archive").load("post").items.values())
    assert kinds.count("like") == 2 and kinds.count("repost") == 1
