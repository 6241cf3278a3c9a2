"""A loopback JSON server with a fixed latency, shared by the fetch benchmarks."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve_json(
    answer: Callable[[str], object] | None,
    latency: float,
    *,
    by_host: Callable[[str, str], object] | None = None,
    keep_alive: bool = False,
    around: Callable[[str], AbstractContextManager[object]] | None = None,
) -> tuple[ThreadingHTTPServer, str]:
    """Answer every GET with ``answer(path)`` as JSON, ``latency`` seconds late.

    ``by_host(host, path)`` replaces ``answer`` when the Host header matters
    (one server standing in for several); None from it is a 404.
    ``keep_alive``: HTTP/1.1 with headers and body sent at once, as real
    servers do.  ``around(host)`` wraps each request (a gauge of requests
    in flight).
    """

    class Handler(BaseHTTPRequestHandler):
        if keep_alive:
            protocol_version = "HTTP/1.1"
            # Headers and body leave at once, not 40 ms apart (Nagle's
            # algorithm waiting for the client's delayed ACK).
            disable_nagle_algorithm = True

        def do_GET(self) -> None:
            host = self.headers.get("Host", "")
            with around(host) if around else contextlib.nullcontext():
                time.sleep(latency)
                if by_host is not None:
                    found = by_host(host, self.path)
                else:
                    found = answer(self.path) if answer else None
            missing = by_host is not None and found is None
            body = json.dumps({"error": "Not found"} if missing else found).encode()
            self.send_response(404 if missing else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"
