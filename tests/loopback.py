"""A real HTTP server on loopback, for the remote-source tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[[BaseHTTPRequestHandler, int], None]


class Server:
    """Answers each path with a handler; ``hits`` counts requests per path."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: dict[str, int] = {}
        self.seen: list[dict[str, str]] = []
        owner = self

        class RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                owner.hits[path] = owner.hits.get(path, 0) + 1
                owner.seen.append(dict(self.headers))
                try:
                    route = owner.routes[path]  # a dict subclass may answer every path
                except KeyError:
                    route = None
                if route is None:
                    # As the field cases' stand-in servers: paths not listed are 404.
                    send(self, 404, b'{"error": "NotFound"}', Content_Type="application/json")
                    return
                route(self, owner.hits[path])

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
