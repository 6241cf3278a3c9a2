"""How fast pelican-engage fetches Mastodon replies, against the sequential baseline.

Serves a Mastodon API on loopback that answers every request after 50 ms
(``--latency``), announces each of 200 posts (``--posts``) on one of four
servers (as a blog whose readers share it from several instances), and
runs the fetch engine once cold.  The sequential time is the number of
requests times the latency, what a one-request-at-a-time fetcher needs at
best.  Target: wall time <= 0.25x sequential.  A second fetch right after
must send no request at all (everything is within its refresh interval).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path

from json_server import serve_json

from pelican_engage.archive import Archive
from pelican_engage.fetch import Fetcher
from pelican_engage.http import Client
from pelican_engage.sources.mastodon import MastodonSource, job_for

STATUS = {
    "id": "1",
    "created_at": "2026-03-01T09:00:00.000Z",
    "in_reply_to_id": None,
    "visibility": "public",
    "url": "https://social.example/@marin/1",
    "content": "<p>New post</p>",
    "replies_count": 3,
    "favourites_count": 0,
    "reblogs_count": 0,
    "account": {"id": "1", "username": "marin", "acct": "marin", "display_name": "Marin"},
}


def reply(n: int, parent: str) -> dict[str, object]:
    return {
        **STATUS,
        "id": str(1000 + n),
        "in_reply_to_id": parent,
        "content": f"<p>Reply {n}</p>",
        "account": {"id": str(n), "username": f"r{n}", "acct": f"r{n}", "display_name": f"R {n}"},
    }


def serve(latency: float) -> tuple[ThreadingHTTPServer, str]:
    context = {"ancestors": [], "descendants": [reply(1, "1"), reply(2, "1001")]}
    return serve_json(lambda path: context if path.endswith("/context") else STATUS, latency)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    servers = [serve(args.latency) for _ in range(args.servers)]
    now = datetime.now(timezone.utc)
    jobs = [
        job_for(
            f"post-{n}", f"{servers[n % len(servers)][1]}/@marin/{n + 1}", now - timedelta(days=n)
        )
        for n in range(args.posts)
    ]
    with tempfile.TemporaryDirectory() as folder:
        archive = Archive(Path(folder) / "archive")
        client = Client()
        fetcher = Fetcher(
            archive,
            {"mastodon": MastodonSource(client)},
            concurrency=args.concurrency,
        )
        started = time.perf_counter()
        summary = fetcher.run(fetcher.due(jobs))
        wall = time.perf_counter() - started
        first_requests = client.requests
        sequential = first_requests * args.latency
        again = fetcher.due(jobs)
        if again:
            fetcher.run(again)
        second_requests = client.requests - first_requests
        items = sum(len(archive.load(j.post_key).items) for j in jobs)
    for server, _url in servers:
        server.shutdown()

    ratio = wall / sequential
    print(
        f"{args.posts} posts on {args.servers} loopback Mastodon server(s), "
        f"{args.latency * 1000:.0f} ms per answer, concurrency {args.concurrency}"
    )
    print(f"requests: {first_requests}, new items: {summary.new_items} ({items} archived)")
    print(f"errors: {sum(summary.errors.values())}")
    print(f"sequential baseline: {sequential:.2f} s (requests x latency)")
    print(f"parallel fetch:      {wall:.2f} s = {ratio:.3f}x sequential")
    print(f"target wall <= 0.25x sequential: {'PASS' if ratio <= 0.25 else 'FAIL'}")
    verdict = "PASS" if second_requests == 0 else "FAIL"
    print(f"second fetch: {len(again)} due, {second_requests} request(s) sent: {verdict}")
    ok = ratio <= 0.25 and second_requests == 0 and not summary.errors and items == 2 * args.posts
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
