"""A host that does not answer is remembered, in the build and across builds."""

from __future__ import annotations

import functools
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pelican_engage import http
from pelican_engage.archive import Archive
from pelican_engage.backoff import HostBackoff, next_try, parse_state
from pelican_engage.fetch import Fetcher
from pelican_engage.http import Client, HttpSettings
from pelican_engage.sources.mastodon import MastodonSource, job_for
from tests.loopback import Server, send

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
QUICK = HttpSettings(connect_timeout=1, read_timeout=0.5, backoff=0.01, retries=2)


class Silent:
    """Accepts connections and never answers; counts them."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.host = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    s = Silent()
    yield s
    s.close()


def closed_port() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    host = f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    return host


def jobs(host: str, count: int = 3) -> list:
    return [
        job_for(f"post-{n}", f"http://{host}/@marin/{n + 1}", NOW - timedelta(days=1))
        for n in range(count)
    ]


def fetcher(tmp_path: Path, at: datetime = NOW, force: bool = False) -> Fetcher:
    client = Client(QUICK)
    return Fetcher(
        Archive(tmp_path / "archive"),
        {"mastodon": MastodonSource(client)},
        clock=lambda: at,
        backoff=HostBackoff(tmp_path / "cache" / "hosts.json"),
        retry_hosts=force,
    )


def state(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "cache" / "hosts.json").read_text())["hosts"]


def test_a_silent_host_costs_one_timeout_not_three(silent: Silent, tmp_path: Path) -> None:
    started = time.monotonic()
    summary = fetcher(tmp_path).run(jobs(silent.host))
    took = time.monotonic() - started
    assert len(silent.accepted) == 1, "one request, not one per announcement or per retry"
    assert took < 2 * QUICK.read_timeout + 0.5
    assert summary.errors["mastodon"] == 1 and summary.skipped == 2
    assert summary.hosts[silent.host] == (
        f"{silent.host} did not answer (timed out); 2 more fetch(es) skipped, "
        "next try after 2026-03-02 12:15 UTC (`pelican-engage fetch --force` tries now)"
    )
    entry = state(tmp_path)[silent.host]
    assert entry["failures"] == 1 and entry["problem"] == "timed out"
    assert not (tmp_path / "archive" / "posts").exists()  # nothing lost, nothing written


def test_the_next_build_skips_the_host_and_says_until_when(
    silent: Silent, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fetcher(tmp_path).run(jobs(silent.host))
    caplog.set_level(logging.INFO, logger="pelican_engage")
    later = NOW + timedelta(minutes=5)
    summary = fetcher(tmp_path, at=later).run(jobs(silent.host))
    assert len(silent.accepted) == 1  # not asked at all
    assert summary.skipped == 3 and not summary.errors
    lines = [r.getMessage() for r in caplog.records if silent.host in r.getMessage()]
    assert lines == [
        f"engage: {silent.host} did not answer on the last try (timed out); next try after "
        "2026-03-02 12:15 UTC (`pelican-engage fetch --force` tries now); 3 fetch(es) skipped"
    ]

    # --force tries anyway; a new failure doubles the rest.
    forced = fetcher(tmp_path, at=later, force=True).run(jobs(silent.host))
    assert len(silent.accepted) == 2 and forced.errors["mastodon"] == 1
    assert state(tmp_path)[silent.host]["failures"] == 2
    assert state(tmp_path)[silent.host]["retry_at"] == (later + timedelta(minutes=30)).isoformat()

    # After the rest, it is tried again by itself.
    fetcher(tmp_path, at=later + timedelta(minutes=31)).run(jobs(silent.host))
    assert len(silent.accepted) == 3


def test_a_closed_port_is_remembered_too(tmp_path: Path) -> None:
    host = closed_port()
    summary = fetcher(tmp_path).run(jobs(host))
    assert summary.errors["mastodon"] == 1 and summary.skipped == 2
    assert "did not answer (cannot connect)" in summary.hosts[host]
    assert state(tmp_path)[host]["problem"] == "cannot connect"


def test_an_answer_forgets_the_host(server: Server, tmp_path: Path) -> None:
    host = server.url.split("//", 1)[1]
    for n in (1, 2):
        base = f"/api/v1/statuses/{n}"
        server.routes[base] = lambda h, i: send(
            h, 200, b'{"id": "1", "created_at": "2026-03-01T10:00:00Z", "replies_count": 0}'
        )
        server.routes[base + "/context"] = lambda h, i: send(h, 200, b'{"descendants": []}')
    path = tmp_path / "cache" / "hosts.json"
    path.parent.mkdir()
    stale = {"failures": 3, "retry_at": (NOW - timedelta(minutes=1)).isoformat(), "problem": "x"}
    path.write_text(json.dumps({"hosts": {host: stale, "other.example": stale}}))
    summary = fetcher(tmp_path).run(jobs(host, 2))
    assert not summary.errors and not summary.hosts
    assert set(state(tmp_path)) == {"other.example"}


def test_other_failures_are_not_the_host_s_silence(server: Server, tmp_path: Path) -> None:
    server.routes["/api/v1/statuses/1"] = lambda h, n: send(h, 500)
    summary = fetcher(tmp_path).run(jobs(server.url.split("//", 1)[1], 1))
    assert summary.errors["mastodon"] == 1 and not summary.hosts
    assert not (tmp_path / "cache" / "hosts.json").exists()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"hosts": []}',
        '{"hosts": {"a.example": {"retry_at": "soon"}, "b.example": 3}}',
    ],
)
def test_a_damaged_state_file_costs_only_a_try(text: str, silent: Silent, tmp_path: Path) -> None:
    path = tmp_path / "cache" / "hosts.json"
    path.parent.mkdir()
    path.write_text(text)
    assert parse_state(text) == {}
    summary = fetcher(tmp_path).run(jobs(silent.host, 1))
    assert summary.errors["mastodon"] == 1 and silent.host in state(tmp_path)


def test_the_rest_grows_from_a_quarter_hour_to_a_day() -> None:
    waits = [next_try(n, NOW) - NOW for n in (1, 2, 3, 4, 7, 8, 100)]
    minutes = [w.total_seconds() / 60 for w in waits]
    assert minutes == [15, 30, 60, 120, 960, 1440, 1440]


def test_builds_and_fetch_force(
    silent: Silent,
    site,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """End to end: the state lives under CACHE_PATH; `fetch --force` tries."""
    from pelican_engage.cli import main

    monkeypatch.delenv("ENGAGE_OFFLINE", raising=False)
    # Default timeouts are for the internet; a test waits half a second.
    monkeypatch.setattr(http, "HttpSettings", functools.partial(HttpSettings, read_timeout=0.5))
    for n in range(3):
        site.article(f"post-{n}", mastodon=f"http://{silent.host}/@marin/{n + 1}")
    caplog.set_level(logging.INFO, logger="pelican_engage")
    site.build()
    assert len(silent.accepted) == 1
    assert (site.root / "cache" / "engage" / "hosts.json").exists()
    assert any(
        f"{silent.host} did not answer (timed out)" in r.getMessage() for r in caplog.records
    )

    caplog.clear()
    site.build()
    assert len(silent.accepted) == 1
    assert any(
        f"{silent.host} did not answer on the last try" in r.getMessage() for r in caplog.records
    )

    conf = site.write_conf()
    monkeypatch.chdir(site.root)
    assert main(["fetch", "-s", str(conf)]) == 0
    assert len(silent.accepted) == 1
    assert f"{silent.host} did not answer on the last try" in capsys.readouterr().out
    # --force asks the silent host again; every request failing is exit 1.
    assert main(["fetch", "-s", str(conf), "--force"]) == 1
    assert len(silent.accepted) == 2
    assert f"{silent.host} did not answer (timed out); 2 more" in capsys.readouterr().out


def test_a_silent_wordpress_site_costs_one_timeout(silent: Silent, tmp_path: Path) -> None:
    """WordPress tries several API roots; on a silent host only the first."""
    from pelican_engage.sources import wordpress

    client = Client(QUICK)
    fetch = Fetcher(
        Archive(tmp_path / "archive"),
        {"wordpress": wordpress.WordPressSource(client)},
        clock=lambda: NOW,
    )
    job = wordpress.job_for("post", f"http://{silent.host}/2026/01/post/", NOW)
    started = time.monotonic()
    summary = fetch.run([job])
    assert summary.errors["wordpress"] == 1 and "timed out" in summary.messages["wordpress"]
    assert len(silent.accepted) == 1
    assert time.monotonic() - started < 2 * QUICK.read_timeout + 0.5
