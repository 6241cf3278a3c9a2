"""How far a build runs past ENGAGE_FETCH_BUDGET when servers stall.

Builds a small site (``--posts`` posts, each announced on one loopback
Mastodon server) with ``pelican content`` in a fresh process, against a
server that misbehaves in one of these ways:

- ``drip-body``: 200, ``Content-Length: 100000``, then one byte a second (F4);
- ``drip-headers``: the status line, then a header one byte a second;
- ``silent``: accepts the connection and never sends a byte.

Each build is timed against the same site built offline (``ENGAGE_OFFLINE``),
so the figure is the fetch phase alone: **overrun = fetch time - budget**.
Target: overrun <= 1 s (``--check`` exits 1 otherwise).  Every run uses a
fresh cache, so no host is remembered from an earlier run.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

GRACE = 1.0


def drip_body(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    _drip(handler, b" ")


def drip_headers(handler: BaseHTTPRequestHandler) -> None:
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    _drip(handler, b"a")


def _drip(handler: BaseHTTPRequestHandler, byte: bytes) -> None:
    try:
        for _ in range(600):
            handler.wfile.write(byte)
            handler.wfile.flush()
            time.sleep(1)
    except OSError:
        pass  # the client gave up


def serve(kind: str) -> tuple[object, str]:
    if kind == "silent":
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)  # the kernel accepts; nobody ever answers
        return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"
    answer = {"drip-body": drip_body, "drip-headers": drip_headers}[kind]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def make_site(root: Path, url: str, posts: int, budget: float) -> None:
    content = root / "content"
    content.mkdir(parents=True)
    for n in range(posts):
        (content / f"p{n}.md").write_text(
            f"Title: Post {n}\nDate: 2026-01-02 10:00\nSlug: p{n}\n"
            f"mastodon: {url}/@marin/{n + 1}\n\nBody.\n"
        )
    (root / "pelicanconf.py").write_text(
        "PATH = 'content'\nOUTPUT_PATH = 'output'\nCACHE_PATH = 'cache'\n"
        "ENGAGE_ARCHIVE_PATH = 'archive'\nENGAGE_REPORT_PAGE = None\n"
        "SITEURL = 'https://blog.example'\nAUTHOR = 'Marin'\nTIMEZONE = 'UTC'\n"
        "PLUGINS = ['pelican_engage']\nFEED_ALL_ATOM = None\nCATEGORY_FEED_ATOM = None\n"
        f"ENGAGE_FETCH_BUDGET = {budget!r}\n"
    )


def build(root: Path, offline: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k != "ENGAGE_OFFLINE"}
    if offline:
        env["ENGAGE_OFFLINE"] = "1"
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-s", "pelicanconf.py", "-q"],
        cwd=root,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[5.0, 10.0])
    parser.add_argument("--posts", type=int, default=12)
    parser.add_argument("--kinds", nargs="+", default=["drip-body", "drip-headers", "silent"])
    parser.add_argument("--check", action="store_true", help=f"exit 1 when overrun > {GRACE} s")
    args = parser.parse_args()
    worst = 0.0
    print(f"{'server':<14}{'budget':>8}{'build':>9}{'offline':>9}{'fetch':>8}{'overrun':>9}")
    for kind in args.kinds:
        for budget in args.budgets:
            server, url = serve(kind)
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                make_site(root, url, args.posts, budget)
                offline = build(root, offline=True)
                for folder in ("cache", "output"):
                    subprocess.run(["rm", "-rf", str(root / folder)], check=True)
                took = build(root, offline=False)
            if isinstance(server, socket.socket):
                server.close()
            else:
                server.shutdown()  # type: ignore[attr-defined]
            fetch = took - offline
            over = fetch - budget
            worst = max(worst, over)
            print(
                f"{kind:<14}{budget:>7g}s{took:>8.1f}s{offline:>8.1f}s{fetch:>7.1f}s{over:>+8.1f}s"
            )
    print(f"worst overrun: {worst:+.1f} s (target <= {GRACE:g} s)")
    return 1 if args.check and worst > GRACE else 0


if __name__ == "__main__":
    sys.exit(main())
