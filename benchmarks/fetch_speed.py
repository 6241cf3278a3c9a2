"""How fast ``pelican-engage fetch --force`` is, against the sequential time.

Writes a Pelican site of 200 posts (``--posts``), each announced on one of
four loopback Mastodon servers (``--servers``; real HTTP on 127.0.0.1, the
documented wire format: ``/api/v1/statuses/:id``, ``/context``,
``/favourited_by``, ``/reblogged_by``, ``/api/v2/instance``) that answer
every request after 50 ms (``--latency``).  Each announcement has 2
replies, 2 favourites and 1 boost, so a post costs 4 requests.

The whole command is timed, as a user runs it: a fresh process
(interpreter start, imports, reading the site with Pelican's readers),
with an empty archive each round.  The sequential time is the requests the
servers saw times the latency: what a one-request-at-a-time fetcher needs
at best (``--sequential`` also measures it, with ENGAGE_CONCURRENCY = 1).

Targets (issue 16): on 4 servers, wall <= 0.2x sequential; on one server,
wall within 10% of the politeness floor, requests x latency / 4 (at most 4
requests at once per host).  The servers record the requests in flight at
once, per host and in all: a host never sees more than 4, and the whole
fetch never more than ENGAGE_CONCURRENCY.  Every reply and reaction must be
archived, and a second ``fetch`` right after (without ``--force``) sends no
request.  ``--check`` exits 1 when any of this is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

from json_server import serve_json

PER_HOST = 4
DEFAULT_CONCURRENCY = 16  # ENGAGE_CONCURRENCY's default
REPLIES = 2
FAVOURITES = 2
REBLOGS = 1
#: The requests of one post: status, context, favourited_by, reblogged_by.
PER_POST = 4


class Gauge:
    """Requests in flight: now and at most, per host and in all."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.total_now = 0
        self.total_peak = 0
        self.requests = 0

    @contextmanager
    def request(self, host: str) -> Iterator[None]:
        with self.lock:
            self.requests += 1
            self.now[host] = self.now.get(host, 0) + 1
            self.peak[host] = max(self.peak.get(host, 0), self.now[host])
            self.total_now += 1
            self.total_peak = max(self.total_peak, self.total_now)
        try:
            yield
        finally:
            with self.lock:
                self.now[host] -= 1
                self.total_now -= 1


def account(n: int) -> dict[str, object]:
    return {"id": str(n), "username": f"r{n}", "acct": f"r{n}@else.example", "display_name": "R"}


def status(host: str, sid: int, parent: int | None, replies: int, **extra: object) -> dict:
    return {
        "id": str(sid),
        "created_at": "2026-03-01T09:00:00.000Z",
        "in_reply_to_id": None if parent is None else str(parent),
        "visibility": "public",
        "url": f"http://{host}/@marin/{sid}",
        "content": f"<p>Status {sid}</p>",
        "replies_count": replies,
        "favourites_count": 0,
        "reblogs_count": 0,
        "account": {"id": "1", "username": "marin", "acct": "marin", "display_name": "Marin"},
        **extra,
    }


def answer(host: str, path: str) -> object | None:
    """The Mastodon API's answer at ``path`` (None: 404).  Post n's status
    is n; its replies are 100000 + 10n + k, one under the other."""
    path = path.split("?", 1)[0]
    if path == "/api/v2/instance":
        return {"domain": host.split(":", 1)[0], "title": "Loopback"}
    parts = path.removeprefix("/api/v1/statuses/").split("/")
    if not path.startswith("/api/v1/statuses/") or not parts[0].isdigit():
        return None
    sid = int(parts[0])
    tail = parts[1] if len(parts) > 1 else ""
    if sid >= 100000:
        return None  # the benchmark never asks for a reply itself
    if tail == "":
        return status(host, sid, None, 1, favourites_count=FAVOURITES, reblogs_count=REBLOGS)
    if tail == "context":
        chain = [100000 + 10 * sid + k for k in range(REPLIES)]
        return {
            "ancestors": [],
            "descendants": [
                status(host, rid, chain[k - 1] if k else sid, 1 if k < REPLIES - 1 else 0)
                for k, rid in enumerate(chain)
            ],
        }
    if tail == "favourited_by":
        return [account(10 * sid + k) for k in range(FAVOURITES)]
    if tail == "reblogged_by":
        return [account(10 * sid + 5 + k) for k in range(REBLOGS)]
    return None


def serve(latency: float, gauge: Gauge) -> ThreadingHTTPServer:
    """One loopback server answering for every host it is named as, keep-alive
    like a real one, each request counted by ``gauge``."""
    server, _url = serve_json(None, latency, by_host=answer, keep_alive=True, around=gauge.request)
    return server


def write_site(root: Path, hosts: list[str], posts: int, concurrency: int | None) -> Path:
    content = root / "content"
    content.mkdir(parents=True)
    for n in range(posts):
        (content / f"post-{n}.md").write_text(
            f"Title: Post {n}\nDate: 2026-01-02 10:00\nSlug: post-{n}\n"
            f"Mastodon: http://{hosts[n % len(hosts)]}/@marin/{n + 1}\n\nBody of post {n}.\n",
            encoding="utf-8",
        )
    conf = root / "pelicanconf.py"
    settings = {
        "PATH": str(content),
        "OUTPUT_PATH": str(root / "output"),
        "CACHE_PATH": str(root / "cache"),
        "ENGAGE_ARCHIVE_PATH": str(root / "archive"),
        "SITEURL": "https://blog.example",
        "AUTHOR": "Marin",
        "SITENAME": "Fetch benchmark",
        "TIMEZONE": "UTC",
        "PLUGINS": ["pelican_engage"],
    }
    if concurrency is not None:
        settings["ENGAGE_CONCURRENCY"] = concurrency
    conf.write_text("".join(f"{k} = {v!r}\n" for k, v in settings.items()), encoding="utf-8")
    return conf


def command() -> list[str]:
    script = Path(sys.executable).with_name("pelican-engage")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pelican_engage.cli"]


def archived(archive: Path, posts: int) -> tuple[int, int]:
    """(posts whose archive holds every reply and reaction, items in all)."""
    whole = items = 0
    for n in range(posts):
        path = archive / "posts" / f"post-{n}.json"
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        kinds = [i.get("kind") for i in (data.get("items") or {}).values()]
        items += len(kinds)
        wanted = {"reply": REPLIES, "like": FAVOURITES, "repost": REBLOGS}
        whole += all(kinds.count(k) == c for k, c in wanted.items())
    return whole, items


def run_once(
    servers: int, posts: int, latency: float, concurrency: int | None
) -> dict[str, float | int]:
    """One cold ``pelican-engage fetch --force``; its figures."""
    gauge = Gauge()
    httpds = [serve(latency, gauge) for _ in range(servers)]
    hosts = [f"127.0.0.1:{h.server_port}" for h in httpds]
    root = Path(tempfile.mkdtemp(prefix="fetch-speed-"))
    try:
        conf = write_site(root, hosts, posts, concurrency)
        env = command_env()
        started = time.perf_counter()
        done = subprocess.run(
            [*command(), "fetch", "--force", "-s", str(conf)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
        whole, items = archived(root / "archive", posts)
        # Right after, nothing is due (all within their refresh interval).
        before = gauge.requests
        subprocess.run(
            [*command(), "fetch", "-s", str(conf)], cwd=root, env=env, capture_output=True
        )
        again = gauge.requests - before
        if os.environ.get("FETCH_SPEED_KEEP"):
            print(done.stdout, done.stderr, sorted(p.name for p in root.rglob("*"))[:20])
    finally:
        for httpd in httpds:
            httpd.shutdown()
            httpd.server_close()
        shutil.rmtree(root, ignore_errors=True)
    said = re.search(r"error\(s\), ([0-9.]+) s", done.stdout)
    return {
        "again": again,
        "wall": wall,
        "fetch": float(said[1]) if said else float("nan"),
        "requests": gauge.requests,
        "host_peak": max(gauge.peak.values(), default=0),
        "total_peak": gauge.total_peak,
        "whole": whole,
        "items": items,
        "status": done.returncode,
    }


#: Compiled modules, as an install has them (pip compiles the package's);
#: set by main() to a temporary folder that a warm-up run fills.
PYCACHE: Path | None = None


def command_env() -> dict[str, str]:
    """The command's environment: online, no token, byte code cached (an
    environment with PYTHONDONTWRITEBYTECODE would compile pelican-engage's
    hundred modules again in every run, 0.6 s here, which no install does)."""
    env = {**os.environ, "ENGAGE_OFFLINE": ""}
    env.pop("ENGAGE_MASTODON_TOKEN", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if PYCACHE is not None:
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def bare(requests: int, latency: float) -> float:
    """Seconds for a bare ``http.client`` loop to send ``requests`` GETs to
    one such server, 4 at a time on kept-alive connections: what this
    machine and the stand-in server allow, without any fetcher."""
    import http.client

    gauge = Gauge()
    httpd = serve(latency, gauge)
    left = iter(range(requests))
    lock = threading.Lock()

    def loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", httpd.server_port)
        while True:
            with lock:
                n = next(left, None)
            if n is None:
                break
            conn.request("GET", f"/api/v1/statuses/{n + 1}")
            conn.getresponse().read()
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=loop) for _ in range(PER_HOST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    httpd.shutdown()
    httpd.server_close()
    return wall


def startup() -> float:
    """Seconds for ``pelican-engage --version``: the interpreter and the CLI's imports."""
    started = time.perf_counter()
    subprocess.run([*command(), "--version"], capture_output=True, check=True, env=command_env())
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--concurrency", type=int, default=None, help="ENGAGE_CONCURRENCY (default: the setting's)"
    )
    parser.add_argument(
        "--sequential", action="store_true", help="also measure ENGAGE_CONCURRENCY=1 once"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    limit = args.concurrency or DEFAULT_CONCURRENCY

    print(
        f"{args.posts} posts, {args.latency * 1000:.0f} ms per answer, "
        f"{PER_POST} requests per post; `pelican-engage fetch --force` in a fresh process, "
        f"empty archive, {args.rounds} round(s); cores: {os.cpu_count()}"
    )
    global PYCACHE
    PYCACHE = Path(tempfile.mkdtemp(prefix="fetch-speed-pycache-"))
    run_once(1, 4, args.latency, args.concurrency)  # compiles what a fetch imports, untimed
    print(f"interpreter + CLI imports (`pelican-engage --version`): {startup():.2f} s")
    ok = True
    cases = [(f"{args.servers} servers", args.servers)] if args.servers > 1 else []
    cases.append(("1 server", 1))
    for name, servers in cases:
        runs = [
            run_once(servers, args.posts, args.latency, args.concurrency)
            for _ in range(args.rounds)
        ]
        requests = int(runs[0]["requests"])
        sequential = requests * args.latency
        floor = sequential / min(PER_HOST * servers, limit)
        walls = [float(r["wall"]) for r in runs]
        wall = statistics.median(walls)
        print(f"\n{name}: {requests} requests, sequential {sequential:.2f} s (requests x latency)")
        print("  runs: " + ", ".join(f"{w:.2f} s" for w in walls) + f"; median {wall:.2f} s")
        phase = statistics.median(float(r["fetch"]) for r in runs)
        print(
            f"  of which fetching (as the command reports it): {phase:.1f} s "
            f"= {phase / floor:.3f}x the floor; the rest is start-up and reading the site"
        )
        print(
            f"  = {wall / sequential:.3f}x sequential, {wall / floor:.3f}x the floor {floor:.2f} s"
        )
        if servers == 1:
            loop = bare(requests, args.latency)
            print(
                f"  a bare http.client loop, {PER_HOST} at a time, sends as many in "
                f"{loop:.2f} s = {loop / floor:.3f}x the floor (this machine's own overhead)"
            )
            passed = wall <= 1.10 * floor
            print(f"  target within 10% of the floor (<= {1.10 * floor:.2f} s): {_v(passed)}")
        else:
            passed = wall <= 0.2 * sequential
            print(f"  target <= 0.2x sequential: {_v(passed)}")
        peak = max(int(r["host_peak"]) for r in runs)
        total = max(int(r["total_peak"]) for r in runs)
        polite = peak <= PER_HOST and total <= limit
        print(
            f"  in flight at most: {peak} per host (limit {PER_HOST}), {total} in all "
            f"(limit {limit}): {_v(polite)}"
        )
        complete = all(r["whole"] == args.posts and r["status"] == 0 for r in runs)
        print(
            f"  archived: {min(int(r['whole']) for r in runs)}/{args.posts} posts whole, "
            f"{runs[0]['items']} items: {_v(complete)}"
        )
        again = max(int(r["again"]) for r in runs)
        print(f"  a second `fetch` right after sends {again} request(s): {_v(again == 0)}")
        ok = ok and passed and polite and complete and again == 0
    if args.sequential:
        run = run_once(args.servers, args.posts, args.latency, 1)
        print(
            f"\nENGAGE_CONCURRENCY=1 on {args.servers} servers: {float(run['wall']):.2f} s "
            f"for {run['requests']} requests (at most {run['total_peak']} in flight)"
        )
    shutil.rmtree(PYCACHE, ignore_errors=True)
    return 1 if args.check and not ok else 0


def _v(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


if __name__ == "__main__":
    sys.exit(main())
