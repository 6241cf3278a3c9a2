"""Redirects are checked before any connection (security field case F7)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.errors import FetchError
from pelican_engage.http import Client, HttpSettings
from pelican_engage.netpolicy import redirect_headers, redirect_refusal
from tests.loopback import Server, send

FAST = HttpSettings(connect_timeout=2, read_timeout=2, backoff=0.01, retries=1)
METADATA_IP = "http://169.254.169.254/latest/meta-data/iam/"
METADATA_NAME = "http://metadata.google.internal/computeMetadata/v1/"
#: Stand-ins for public addresses: never connected to, only classified.
PUBLIC_IP = "151.101.1.1"
FAKE_DNS = {
    "public.example": [PUBLIC_IP],
    "intranet.example": ["10.1.2.3"],
    "both.example": [PUBLIC_IP, "192.168.1.9"],
    "rebound.example": ["169.254.169.254"],
    "mapped.example": ["::ffff:169.254.169.254"],
    "home.example": ["127.0.0.1"],
}


class Network:
    """Records every name lookup and connection the process tries."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self.connects: list[str] = []


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[Network]:
    seen = Network()
    real_lookup, real_connect = socket.getaddrinfo, socket.socket.connect

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen.lookups.append(str(host))
        if host in FAKE_DNS:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0))
                for a in FAKE_DNS[host]
            ]
        return real_lookup(host, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> Any:
        seen.connects.append(str(address[0]))
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield seen


@pytest.mark.parametrize(
    ("source", "target", "refused"),
    [
        # Link-local and metadata targets: refused from anywhere, even loopback.
        ("http://127.0.0.1:8000/a", METADATA_IP, "link-local"),
        ("http://127.0.0.1:8000/a", METADATA_NAME, "cloud metadata host"),
        ("http://127.0.0.1:8000/a", "http://METADATA/", "cloud metadata host"),
        ("http://127.0.0.1:8000/a", "http://metadata.google.internal./x", "cloud metadata"),
        ("http://127.0.0.1:8000/a", "http://[fe80::1]/", "link-local"),
        ("http://127.0.0.1:8000/a", "http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://127.0.0.1:8000/a", "http://[fd00:ec2::254]/", "metadata"),
        ("http://127.0.0.1:8000/a", "http://rebound.example/", "link-local"),
        ("http://127.0.0.1:8000/a", "http://2852039166/", "link-local"),  # 169.254.169.254
        ("http://127.0.0.1:8000/a", "http://0251.0376.0251.0376/", "link-local"),
        ("http://127.0.0.1:8000/a", "http://mapped.example/", "link-local"),
        ("http://127.0.0.1:8000/a", "file:///etc/passwd", "not an http(s) URL"),
        # From a public address to a non-public one: refused.
        (f"http://{PUBLIC_IP}/a", "http://127.0.0.1:631/", "not a public address"),
        (f"http://{PUBLIC_IP}/a", "http://10.0.0.1/", "not a public address"),
        (f"http://{PUBLIC_IP}/a", "http://[::1]/", "not a public address"),
        (f"http://{PUBLIC_IP}/a", "http://0.0.0.0:22/", "not a public address"),
        ("https://public.example/a", "http://intranet.example/", "10.1.2.3 is not"),
        ("https://public.example/a", "http://both.example/", "192.168.1.9 is not"),
        ("https://public.example/a", "http://home.example:8080/", "127.0.0.1 is not"),
        # Allowed: public to public, and within loopback or a private network.
        ("https://public.example/a", "https://public.example/b", ""),
        (f"http://{PUBLIC_IP}/a", "https://public.example/b", ""),
        ("http://127.0.0.1:8000/a", "http://127.0.0.2:9000/b", ""),
        ("http://home.example:8000/a", "http://127.0.0.1:9000/b", ""),
        ("http://intranet.example/a", "http://10.9.9.9/b", ""),
    ],
)
def test_which_redirects_are_refused(network: Network, source: str, target: str, refused: str):
    reason = redirect_refusal(source, target)
    if refused:
        assert refused in reason
    else:
        assert reason == ""
    assert not {"metadata.google.internal", "metadata"} & {
        h.rstrip(".").lower() for h in network.lookups
    }
    assert network.connects == []  # deciding never connects


@pytest.mark.parametrize(
    ("source", "target", "kept"),
    [
        ("https://a.example/x", "https://A.example/y", True),  # host names ignore case
        ("https://a.example/x", "https://a.example:443/y", True),  # the default port
        ("https://a.example/x", "https://a.example:8443/y", False),
        ("https://a.example/x", "http://a.example/y", False),  # a scheme is part of the origin
        ("https://a.example/x", "https://b.a.example/y", False),
    ],
)
def test_a_token_follows_a_redirect_only_within_its_origin(
    source: str, target: str, kept: bool
) -> None:
    sent = redirect_headers(source, target, {"authorization": "Bearer t", "Accept": "a/b"})
    assert sent == ({"authorization": "Bearer t"} if kept else {}) | {"Accept": "a/b"}


@pytest.mark.parametrize("target", [METADATA_IP, METADATA_NAME])
def test_a_redirect_to_the_metadata_service_is_refused_before_connecting(
    server: Server, network: Network, target: str
) -> None:
    server.routes["/api/v1/statuses/1"] = lambda h, n: send(h, 302, Location=target)
    with pytest.raises(FetchError) as exc:
        Client(FAST).get(f"{server.url}/api/v1/statuses/1")
    assert str(exc.value).startswith(f"{server.url}/api/v1/statuses/1: redirect to {target}")
    assert "refused" in str(exc.value)
    assert server.hits["/api/v1/statuses/1"] == 1  # not retried either
    assert set(network.connects) == {"127.0.0.1"}
    assert "metadata.google.internal" not in network.lookups


def test_a_relative_redirect_on_loopback_is_still_followed(server: Server) -> None:
    other = Server("127.0.0.2")
    try:
        server.routes["/a"] = lambda h, n: send(h, 301, Location="/b")
        server.routes["/b"] = lambda h, n: send(h, 307, Location=f"{other.url}/c")
        other.routes["/c"] = lambda h, n: send(h, 200, b"done")
        answer = Client(FAST).get(f"{server.url}/a")
        assert answer.body == b"done" and answer.url == f"{other.url}/c"
    finally:
        other.close()


def test_a_failure_after_a_redirect_names_the_target(server: Server) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    server.routes["/a"] = lambda h, n: send(h, 302, Location=f"http://127.0.0.1:{port}/moved")
    with pytest.raises(
        FetchError, match=rf"cannot connect \(redirected to http://127.0.0.1:{port}/moved\)"
    ):
        Client(FAST).get(f"{server.url}/a")


def test_a_secret_in_a_redirect_target_is_redacted(server: Server) -> None:
    server.routes["/a"] = lambda h, n: send(h, 302, Location=f"{METADATA_IP}?token=CANARY-9")
    with pytest.raises(FetchError) as exc:
        Client(FAST, secrets=["CANARY-9"]).get(f"{server.url}/a")
    assert "CANARY-9" not in str(exc.value) and "[redacted]" in str(exc.value)


SOURCES: dict[str, Callable[[str], dict[str, Any]]] = {
    "mastodon": lambda url: {"meta": {"mastodon": f"{url}/@marin/1"}},
    "twitter": lambda url: {
        "meta": {"tweet": "1862100000000000001"},
        "settings": {"ENGAGE_TWITTER": {"api_url": url}},
    },
    "bluesky": lambda url: {
        "meta": {"bluesky": "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3kabc"},
        "settings": {"ENGAGE_BLUESKY": {"api_url": url}},
    },
    "feed": lambda url: {"meta": {"comments_feed": f"{url}/comments/feed/"}},
    "wordpress": lambda url: {"meta": {"wordpress_comments": f"{url}/2026/01/post/"}},
    "webmention": lambda url: {"settings": {"ENGAGE_WEBMENTION": {"api_url": url}}},
}


@pytest.mark.parametrize("target", [METADATA_IP, METADATA_NAME])
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_source_refuses_the_redirect_in_a_build(
    server: Server,
    site,
    network: Network,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    source: str,
    target: str,
) -> None:
    import logging

    monkeypatch.delenv("ENGAGE_OFFLINE", raising=False)
    monkeypatch.setenv("ENGAGE_TWITTER_BEARER_TOKEN", "CANARY-x")
    server.routes.clear()

    class Everything(dict):  # every path answers the redirect
        def __missing__(self, path: str) -> Callable[..., None]:
            return lambda h, n: send(h, 302, Location=target)

    server.routes = Everything()
    setup = SOURCES[source](server.url)
    site.article("post", **setup.get("meta", {}))
    caplog.set_level(logging.INFO, logger="pelican_engage")
    site.build(**setup.get("settings", {}))
    assert server.hits, "the source asked the server"
    lines = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert any(f"redirect to {target} refused" in line for line in lines), lines
    assert not [a for a in network.connects if a != "127.0.0.1"]
    assert "metadata.google.internal" not in network.lookups
    assert (site.output / "post.html").exists()
    assert not list(Path(site.root / "archive").rglob("*.json"))
