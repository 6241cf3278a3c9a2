"""The HTTP client against a real server on loopback."""

from __future__ import annotations

import gzip
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler

import pytest

from pelican_engage.http import (
    USER_AGENT,
    Client,
    FetchError,
    HttpSettings,
    RateLimited,
    parse_reset,
    parse_retry_after,
)
from tests.loopback import Server, send


def fast(**overrides: float) -> HttpSettings:
    values = {"connect_timeout": 2.0, "read_timeout": 0.5, "backoff": 0.01, "max_wait": 2.0}
    values.update(overrides)
    return HttpSettings(**values)  # type: ignore[arg-type]


def test_json_and_user_agent(server: Server) -> None:
    server.routes["/a"] = lambda h, n: send(
        h, 200, b'{"ok": true}', Content_Type="application/json"
    )
    client = Client(fast())
    assert client.get(server.url + "/a").json() == {"ok": True}
    assert server.seen[0]["User-Agent"] == USER_AGENT
    assert "pelican-engage" in USER_AGENT and "https://" in USER_AGENT


def test_conditional_request_gives_304_not_an_error(server: Server) -> None:
    def route(h: BaseHTTPRequestHandler, n: int) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            send(h, 304)
        else:
            send(h, 200, b"[]", ETag='"v1"')

    server.routes["/c"] = route
    client = Client(fast())
    first = client.get(server.url + "/c")
    assert first.headers["ETag"] == '"v1"'
    again = client.get(server.url + "/c", etag=first.headers["ETag"])
    assert again.not_modified and again.body == b""


def test_5xx_is_retried_then_succeeds(server: Server) -> None:
    server.routes["/r"] = lambda h, n: send(h, 503) if n < 3 else send(h, 200, b"1")
    assert Client(fast(retries=2)).get(server.url + "/r").body == b"1"
    assert server.hits["/r"] == 3


def test_5xx_gives_up_after_the_retries(server: Server) -> None:
    server.routes["/x"] = lambda h, n: send(h, 500)
    with pytest.raises(FetchError, match="server error 500"):
        Client(fast(retries=1)).get(server.url + "/x")
    assert server.hits["/x"] == 2


def test_short_rate_limit_is_waited_out(server: Server) -> None:
    server.routes["/l"] = lambda h, n: send(h, 429, Retry_After="1") if n == 1 else send(h, 200)
    waits: list[float] = []
    Client(fast(), sleep=waits.append).get(server.url + "/l")
    assert waits == [1.0]


def test_long_rate_limit_defers_instead_of_sleeping(server: Server) -> None:
    reset = int(time.time()) + 86400
    server.routes["/t"] = lambda h, n: send(h, 429, x_rate_limit_reset=str(reset))
    started = time.monotonic()
    with pytest.raises(RateLimited) as exc:
        Client(fast()).get(server.url + "/t")
    assert time.monotonic() - started < 2
    assert exc.value.reset_at == datetime.fromtimestamp(reset, timezone.utc)
    assert server.hits["/t"] == 1


def test_slow_answer_times_out(server: Server) -> None:
    def slow(h: BaseHTTPRequestHandler, n: int) -> None:
        time.sleep(1.5)
        send(h, 200, b"late")

    server.routes["/s"] = slow
    with pytest.raises(FetchError, match=r"timed out|cannot connect"):
        Client(fast(retries=0, read_timeout=0.3)).get(server.url + "/s")


def test_connection_refused_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match="cannot connect"):
        Client(fast(retries=0)).get("http://127.0.0.1:9/nothing")


def test_body_over_the_cap_is_refused_even_when_compressed(server: Server) -> None:
    bomb = gzip.compress(b"0" * (3 * 1024 * 1024))
    server.routes["/g"] = lambda h, n: send(h, 200, bomb, Content_Encoding="gzip")
    assert len(bomb) < 64 * 1024
    with pytest.raises(FetchError, match="larger than"):
        Client(fast(max_bytes=1024 * 1024)).get(server.url + "/g")
    server.routes["/big"] = lambda h, n: send(h, 200, b"x" * 2048)
    with pytest.raises(FetchError, match="larger than"):
        Client(fast(max_bytes=1024)).get(server.url + "/big")


def test_redirect_loop_stops(server: Server) -> None:
    server.routes["/loop"] = lambda h, n: send(h, 302, Location="/loop")
    with pytest.raises(FetchError, match="too many redirects"):
        Client(fast()).get(server.url + "/loop")
    assert server.hits["/loop"] <= 6


def test_malformed_json_is_a_fetch_error(server: Server) -> None:
    server.routes["/j"] = lambda h, n: send(h, 200, b'{"truncated": ')
    with pytest.raises(FetchError, match="malformed JSON"):
        Client(fast()).get(server.url + "/j").json()


def test_secrets_never_appear_in_errors(server: Server) -> None:
    server.routes["/api"] = lambda h, n: send(h, 401)
    with pytest.raises(FetchError) as exc:
        Client(fast(), secrets=["CANARY-123"]).get(
            server.url + "/api", params={"token": "CANARY-123"}
        )
    assert exc.value.status == 401
    assert "CANARY-123" not in str(exc.value)
    with pytest.raises(FetchError) as exc:
        Client(fast(), secrets=["CANARY-123"]).get(server.url + "/api?token=CANARY-123")
    assert "CANARY-123" not in str(exc.value) and "[redacted]" in str(exc.value)


def test_rate_limit_headers_of_each_network() -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)
    epoch = int((now + timedelta(minutes=5)).timestamp())
    in_five = now + timedelta(minutes=5)
    assert parse_reset({"x-rate-limit-reset": str(epoch)}, now) == in_five  # X
    assert parse_reset({"RateLimit-Reset": str(epoch)}, now) == in_five  # Bluesky
    iso = {"X-RateLimit-Reset": "2026-11-26T12:05:00.000Z"}  # Mastodon
    assert parse_reset(iso, now) == in_five
    assert parse_reset({"Retry-After": "300"}, now) == in_five
    assert parse_reset({}, now) is None
    assert parse_retry_after("Thu, 26 Nov 2026 12:05:00 GMT", now) == 300.0
    assert parse_retry_after("soon", now) is None


def test_json_helper_round_trip(server: Server) -> None:
    payload = {"a": [1, 2, {"b": "ü"}]}
    server.routes["/p"] = lambda h, n: send(h, 200, json.dumps(payload).encode())
    assert Client(fast()).get(server.url + "/p").json() == payload


def test_the_request_count_is_exact_across_threads(server: Server) -> None:
    """The fetch engine's worker threads share one client; the build summary and the X
    request cap read its count.  Every try and redirect counts, from every thread."""
    server.routes["/ok"] = lambda h, n: send(h, 200, b"{}", Content_Type="application/json")
    server.routes["/moved"] = lambda h, n: send(h, 302, b"", Location=server.url + "/ok")
    client = Client(fast())
    urls = [server.url + ("/moved" if n % 4 == 0 else "/ok") for n in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda url: client.get(url).json(), urls))
    assert answers == [{}] * 200
    assert client.requests == 200 + 50 == len(server.seen)
    with pytest.raises(AttributeError):  # counted by the client alone
        client.requests = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "secret", "expected"),
    [
        # A one-letter token (as in examples and tests) stands alone only.
        (
            "http://h/2/tweets/search/recent Bearer t",
            "t",
            "http://h/2/tweets/search/recent Bearer [redacted]",
        ),
        ("token=t&next=1", "t", "token=[redacted]&next=1"),
        # A real token is redacted wherever it appears, in every spelling.
        ("a=s3cr3t-token-value!x", "s3cr3t-token-value", "a=[redacted]!x"),
        ("q=ab%20cdefgh", "ab cdefgh", "q=[redacted]"),
    ],
)
def test_redaction_does_not_shred_messages_around_short_tokens(
    text: str, secret: str, expected: str
) -> None:
    from pelican_engage.http import redact

    assert redact(text, [secret]) == expected
