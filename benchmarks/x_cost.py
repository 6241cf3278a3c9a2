"""What fetching X replies costs: requests, billed reads and time, on a loopback X.

X bills per resource returned, so the figures that matter are how many
requests a build sends and how many posts and users come back.  A loopback
server speaks X API v2 for ``--posts`` conversations of ``--replies``
replies each (paged 100 at a time, ``--latency`` per answer).  Three runs:

1. first fetch: the announcement lookup, then every search page;
2. the next fetch (forced, as if the refresh interval had passed): one
   search per post with ``since_id``, which returns nothing new;
3. a build with ENGAGE_TWITTER["max_requests"] = 50: exactly 50 requests.

Times are compared with the sequential baseline (requests x latency).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from json_server import serve_json

from pelican_engage.archive import Archive
from pelican_engage.fetch import Fetcher
from pelican_engage.http import Client
from pelican_engage.sources.twitter import TwitterSource, job_for

#: Pay-per-use prices per resource returned (docs.x.com, November 2026).
POST_READ, USER_READ = 0.005, 0.010
_TWITTER_EPOCH_MS = 1288834974657


def snowflake(when: datetime) -> int:
    """A tweet id from a time: recent search refuses a since_id older than 7 days."""
    return (int(when.timestamp() * 1000) - _TWITTER_EPOCH_MS) << 22


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts = 0
        self.users = 0

    def add(self, posts: int, users: int) -> None:
        with self.lock:
            self.posts += posts
            self.users += users


def conversation(root: int, replies: int) -> list[dict[str, object]]:
    return [
        {
            "id": str(root + n),
            "text": f"@marin reply {n}",
            "author_id": str(10 + n % 40),
            "conversation_id": str(root),
            "created_at": "2026-11-20T10:00:00.000Z",
            "referenced_tweets": [{"type": "replied_to", "id": str(root)}],
        }
        for n in range(replies, 0, -1)  # newest first, as X sends them
    ]


def serve(latency: float, replies: int, counts: Counts) -> tuple[ThreadingHTTPServer, str]:
    def answer(path: str) -> dict[str, object]:
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if not url.path.startswith("/2/tweets/search/"):
            tweet_id = url.path.rsplit("/", 1)[1]
            counts.add(1, 1)
            return {
                "data": {"id": tweet_id, "conversation_id": tweet_id, "author_id": "1",
                         "created_at": "2026-11-19T10:00:00.000Z", "text": "New post"},
                "includes": {"users": [{"id": "1", "name": "Marin", "username": "marin"}]},
            }  # fmt: skip
        root = int(query["query"].split(":", 1)[1])
        tweets = conversation(root, replies)
        if "since_id" in query:
            tweets = [t for t in tweets if int(str(t["id"])) > int(query["since_id"])]
        start = int(query.get("next_token", "0"))
        page = tweets[start : start + 100]
        users = {str(t["author_id"]) for t in page}
        counts.add(len(page), len(users))
        if not page:
            return {"meta": {"result_count": 0}}
        meta: dict[str, object] = {"result_count": len(page), "newest_id": page[0]["id"]}
        if start + 100 < len(tweets):
            meta["next_token"] = str(start + 100)
        return {
            "data": page,
            "includes": {
                "users": [{"id": u, "name": f"R {u}", "username": f"r{u}"} for u in users]
            },
            "meta": meta,
        }

    return serve_json(answer, latency)


def run(url: str, jobs: list, folder: Path, cap: int, concurrency: int, force: bool) -> tuple:
    client = Client()
    source = TwitterSource(client, "benchmark-token", api_url=url, max_requests=cap)
    fetcher = Fetcher(Archive(folder), {"twitter": source}, concurrency=concurrency)
    started = time.perf_counter()
    summary = fetcher.run(fetcher.due(jobs, force=force))
    return client.requests, time.perf_counter() - started, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--replies", type=int, default=150)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--check", action="store_true", help="exit 1 when a check fails")
    args = parser.parse_args()

    counts = Counts()
    server, url = serve(args.latency, args.replies, counts)
    now = datetime.now(timezone.utc)
    base = snowflake(now - timedelta(days=1))
    jobs = [
        job_for(f"post-{n}", str(base + n * 10_000), now - timedelta(days=1), url)
        for n in range(args.posts)
    ]
    pages = -(-args.replies // 100)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "archive"
        first, wall, summary = run(url, jobs, folder, 10**6, args.concurrency, force=False)
        first_posts, first_users = counts.posts, counts.users
        second, wall2, _ = run(url, jobs, folder, 10**6, args.concurrency, force=True)
        second_posts = counts.posts - first_posts
        items = sum(len(Archive(folder).load(j.post_key).items) for j in jobs)
    with tempfile.TemporaryDirectory() as tmp:
        capped, _wall, capped_summary = run(
            url, jobs, Path(tmp) / "archive", 50, args.concurrency, force=False
        )
    server.shutdown()

    cost = first_posts * POST_READ + first_users * USER_READ
    ratio = wall / (first * args.latency)
    print(
        f"{args.posts} posts x {args.replies} replies on a loopback X API v2, "
        f"{args.latency * 1000:.0f} ms per answer, concurrency {args.concurrency}"
    )
    expected_first = args.posts * (1 + pages)
    checks = {
        f"first fetch: {first} requests (1 lookup + {pages} pages per post = {expected_first})": (
            first == expected_first
        ),
        f"archived {items} replies of {args.posts * args.replies}": (
            items == args.posts * args.replies
        ),
        f"next fetch: {second} requests (1 since_id search per post), {second_posts} tweets "
        "returned": second == args.posts and second_posts == 0,
        f"max_requests 50: {capped} requests sent, "
        f"{capped_summary.skipped + sum(capped_summary.errors.values())} posts left for "
        "the next build": capped == 50,
    }
    for label, ok in checks.items():
        print(f"{label}: {'PASS' if ok else 'FAIL'}")
    print(
        f"first fetch returned {first_posts} posts and {first_users} users: "
        f"about ${cost:.2f} (${cost / args.posts:.2f} per post) at ${POST_READ}/post and "
        f"${USER_READ}/user"
    )
    print(
        f"time: sequential baseline {first * args.latency:.2f} s, parallel {wall:.2f} s "
        f"= {ratio:.3f}x; next fetch {wall2:.2f} s"
    )
    failed = not all(checks.values()) or bool(summary.errors)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
