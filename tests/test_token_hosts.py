"""A token goes only to its own server (security field case F8)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import pytest

from pelican_engage.http import Client, HttpSettings
from pelican_engage.netpolicy import token_host_matches
from pelican_engage.settings import SettingsError, load
from tests.loopback import Server, send

CANARY = "CANARY-mastodon-token-not-real"
FAST = HttpSettings(connect_timeout=2, read_timeout=2, backoff=0.01, retries=0)


def status(server: Server, status_id: str) -> bytes:
    return json.dumps(
        {
            "id": status_id,
            "created_at": "2026-01-02T10:00:00.000Z",
            "visibility": "public",
            "url": f"{server.url}/@marin/{status_id}",
            "content": "<p>root</p>",
            "favourites_count": 0,
            "reblogs_count": 0,
            "replies_count": 0,
            "account": {
                "id": "1",
                "username": "marin",
                "acct": "marin",
                "display_name": "Marin",
                "url": f"{server.url}/@marin",
            },
        }
    ).encode()


def mastodon(host: str, status_id: str) -> Server:
    server = Server(host)
    body = status(server, status_id)
    base = f"/api/v1/statuses/{status_id}"
    server.routes[base] = lambda h, n: send(h, 200, body, Content_Type="application/json")
    server.routes[base + "/context"] = lambda h, n: send(
        h, 200, b'{"ancestors": [], "descendants": []}'
    )
    return server


@pytest.fixture
def two_servers() -> Iterator[tuple[Server, Server]]:
    home, other = mastodon("127.0.0.1", "1"), mastodon("127.0.0.2", "2")
    yield home, other
    home.close()
    other.close()


def authorizations(server: Server) -> list[str]:
    return [h["Authorization"] for h in server.seen if "Authorization" in h]


def build(site, home: Server, other: Server, monkeypatch, **mastodon_settings: object) -> None:
    monkeypatch.delenv("ENGAGE_OFFLINE", raising=False)
    monkeypatch.setenv("ENGAGE_MASTODON_TOKEN", CANARY)
    site.article("post", mastodon=f"{home.url}/@marin/1, {other.url}/@marin/2")
    site.build(ENGAGE_MASTODON=mastodon_settings)


def test_the_token_goes_to_its_host_only(two_servers, site, monkeypatch) -> None:
    home, other = two_servers
    build(site, home, other, monkeypatch, host=home.url.split("//")[1])
    assert authorizations(home) == [f"Bearer {CANARY}"] * 2  # the status and its context
    assert other.seen and authorizations(other) == []


def test_hosts_may_be_a_list(two_servers, site, monkeypatch) -> None:
    home, other = two_servers
    hosts = [home.url.split("//")[1], other.url.split("//")[1]]
    build(site, home, other, monkeypatch, hosts=hosts)
    assert authorizations(home) and authorizations(other)


def test_a_token_without_a_host_goes_nowhere_and_says_so(
    two_servers, site, monkeypatch, engage_warnings
) -> None:
    home, other = two_servers
    build(site, home, other, monkeypatch)
    assert home.seen and other.seen  # both are still fetched, without the token
    assert authorizations(home) == [] and authorizations(other) == []
    (warning,) = engage_warnings()
    assert "ENGAGE_MASTODON" in warning and "$ENGAGE_MASTODON_TOKEN" in warning
    assert "'host'" in warning and CANARY not in warning


def test_a_redirect_to_another_server_carries_no_token(server: Server) -> None:
    """Whatever source set it (Mastodon, X's bearer), Authorization stays home."""
    other = Server("127.0.0.2")
    try:
        other.routes["/api"] = lambda h, n: send(h, 200, b"{}")
        server.routes["/api"] = lambda h, n: send(h, 302, Location=f"{other.url}/api")
        server.routes["/same"] = lambda h, n: send(h, 302, Location="/api-2")
        server.routes["/api-2"] = lambda h, n: send(h, 200, b"{}")
        client = Client(FAST, secrets=[CANARY])
        client.get(f"{server.url}/api", headers={"Authorization": f"Bearer {CANARY}"})
        assert other.seen and "Authorization" not in other.seen[0]
        # On the same server the header is kept (it is the same API).
        client.get(f"{server.url}/same", headers={"Authorization": f"Bearer {CANARY}"})
        assert server.seen[-1].get("Authorization") == f"Bearer {CANARY}"
    finally:
        other.close()


@pytest.mark.parametrize(
    ("url", "hosts", "expected"),
    [
        ("https://mastodon.social/api/v1/statuses/1", ("mastodon.social",), True),
        ("https://Mastodon.Social./api/v1/statuses/1", ("mastodon.social",), True),
        ("https://mastodon.social:443/api", ("mastodon.social",), True),
        ("https://mastodon.social:8443/api", ("mastodon.social",), False),
        ("https://mastodon.social:8443/api", ("mastodon.social:8443",), True),
        ("http://127.0.0.1:8080/api", ("127.0.0.1:8080",), True),
        ("http://127.0.0.1:8081/api", ("127.0.0.1:8080",), False),
        ("https://mastodon.social.evil.example/api", ("mastodon.social",), False),
        ("https://evil.example/mastodon.social/api", ("mastodon.social",), False),
        ("https://mastodon.social@evil.example/api", ("mastodon.social",), False),
        ("https://fosstodon.org/api", ("mastodon.social", "fosstodon.org"), True),
        ("https://mastodon.social/api", (), False),
        ("ftp://mastodon.social/api", ("mastodon.social",), False),
        ("http://[::1]:8080/api", ("[::1]:8080",), True),
    ],
)
def test_which_urls_a_token_goes_to(url: str, hosts: tuple[str, ...], expected: bool) -> None:
    assert token_host_matches(url, hosts) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"host": "mastodon.social"}, ("mastodon.social",)),
        (
            {"host": "Mastodon.Social", "hosts": ["a.example:8443"]},
            ("mastodon.social", "a.example:8443"),
        ),
        ({"hosts": ("a.example", "a.example")}, ("a.example",)),
        ({}, ()),
    ],
)
def test_mastodon_hosts_setting(value: dict[str, object], expected: tuple[str, ...]) -> None:
    assert load({"ENGAGE_MASTODON": value}).network("mastodon").hosts == expected


@pytest.mark.parametrize(
    "value",
    [
        "https://mastodon.social",
        "mastodon.social/@marin",
        "marin@mastodon.social",
        "mastodon.social:port",
        "mastodon.social:99999",
        3,
        ["mastodon.social", 4],
    ],
)
def test_a_bad_mastodon_host_is_refused(value: object) -> None:
    key = "hosts" if isinstance(value, list) else "host"
    with pytest.raises(SettingsError, match=rf"ENGAGE_MASTODON\['{key}'\]"):
        load({"ENGAGE_MASTODON": {key: value}})


@pytest.mark.parametrize("network", ["twitter", "webmention"])
def test_other_secrets_stay_with_their_api_through_a_redirect(network: str, server: Server) -> None:
    """X's bearer token and webmention.io's token go to their api_url only."""
    from datetime import datetime, timezone

    from pelican_engage.sources import twitter, webmention

    other = Server("127.0.0.2")
    home_asked: list[str] = []
    other_asked: list[str] = []

    def elsewhere(h, n) -> None:
        other_asked.append(h.path)
        send(h, 200, b"{}")

    class Everything(dict):
        def __missing__(self, path: str):
            def moved(h, n) -> None:
                home_asked.append(h.path)
                send(h, 302, Location=f"{other.url}/moved")

            return moved

    server.routes = Everything()
    other.routes["/moved"] = elsewhere
    when = datetime(2026, 1, 2, tzinfo=timezone.utc)
    try:
        client = Client(FAST, secrets=[CANARY])
        if network == "twitter":
            source = twitter.TwitterSource(client, CANARY, api_url=server.url)
            job = twitter.job_for("post", "1862100000000000001", when, server.url)
        else:
            source = webmention.WebmentionSource(client, api_url=server.url, token=CANARY)
            job = webmention.job_for("post", "https://blog.example/post.html", when, server.url)
        # "{}" is no answer either source accepts: only what was sent matters.
        with contextlib.suppress(Exception):
            source.fetch(job, {})
        sent_home = [h.get("Authorization", "") for h in server.seen] + home_asked
        assert any(CANARY in value for value in sent_home), "the API got its token"
        assert other.seen, "the redirect was followed"
        assert all("Authorization" not in h for h in other.seen)
        assert all(CANARY not in path for path in other_asked)
    finally:
        other.close()
