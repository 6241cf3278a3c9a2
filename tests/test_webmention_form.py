"""Webmention discovery and the no-JS form: built pages, read back, the form submitted."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode

import pytest
import requests

from pelican_engage import render
from tests.conftest import Site
from tests.loopback import Server, send


def _site(site: Site) -> Site:
    site.article("first-post", title="First post")
    (site.content / "pages").mkdir()
    (site.content / "pages" / "about.md").write_text("Title: About\n\nAbout me.\n")
    return site


def _endpoints(site: Site, name: str) -> list[str]:
    return [link["href"] for link in site.html(name).select('link[rel="webmention"]')]


def test_pages_carry_the_derived_webmention_io_endpoint_and_the_thread_a_form(
    site: Site,
) -> None:
    _site(site).build(ENGAGE_WEBMENTION={}, ENGAGE_OFFLINE=True)
    endpoint = "https://webmention.io/blog.example/webmention"
    for name in ("first-post.html", "index.html", "pages/about.html"):
        assert _endpoints(site, name) == [endpoint], name
        assert site.html(name).head.select_one('link[rel="webmention"]') is not None
    form = site.html("first-post.html").select_one("section.engage form.engage-webmention")
    assert form["action"] == endpoint and form["method"] == "post"
    source = form.select_one("input[name=source]")
    assert source["type"] == "url" and source.has_attr("required")
    label = form.select_one(f"label[for={source['id']}]")
    assert "Responded on your own site? Send the link" in label.get_text()
    assert form.select_one("input[name=target]")["value"] == "https://blog.example/first-post.html"
    # No JavaScript: the only script is the thread's JSON-LD data, if any.
    scripts = site.html("first-post.html").find_all("script")
    assert {s.get("type") for s in scripts} <= {"application/ld+json"}


def test_an_explicit_endpoint_wins_and_the_form_posts_source_and_target(
    site: Site, server: Server
) -> None:
    received: list[dict[str, list[str]]] = []

    def endpoint(handler: BaseHTTPRequestHandler, _hit: int) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        assert handler.command == "POST"
        assert handler.headers["Content-Type"] == "application/x-www-form-urlencoded"
        received.append(parse_qs(handler.rfile.read(length).decode()))
        send(handler, 201, b"queued", Location=f"{server.url}/status/1")

    server.routes["/wm/endpoint"] = endpoint
    url = f"{server.url}/wm/endpoint"
    _site(site).build(ENGAGE_WEBMENTION={"endpoint": url}, ENGAGE_OFFLINE=True)
    assert _endpoints(site, "first-post.html") == [url]
    form = site.html("first-post.html").select_one("form.engage-webmention")
    # What a browser sends for this form: every named input, urlencoded.
    fields = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
    fields["source"] = "https://reader.example/my-reply"
    answer = requests.post(
        form["action"],
        data=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert answer.status_code == 201
    assert received == [
        {
            "source": ["https://reader.example/my-reply"],
            "target": ["https://blog.example/first-post.html"],
        }
    ]


def test_without_webmentions_there_is_neither_link_nor_form(site: Site) -> None:
    _site(site).build()
    assert _endpoints(site, "first-post.html") == []
    assert site.html("first-post.html").select_one("form.engage-webmention") is None


def test_a_theme_that_names_its_own_endpoint_keeps_it() -> None:
    page = '<html><head><link href="https://mine.example/wm" rel="webmention"></head></html>'
    assert render.add_webmention_link(page, "https://webmention.io/x/webmention") is None
    page = "<html><HEAD></HEAD><body></body></html>"
    assert render.add_webmention_link(page, "https://w.example/?a=1&b=2") == (
        '<html><HEAD><link rel="webmention" href="https://w.example/?a=1&amp;b=2">\n'
        "</HEAD><body></body></html>"
    )


@pytest.mark.parametrize("value", ["webmention.io/x", "javascript:alert(1)", 3])
def test_a_bad_endpoint_names_the_key(site: Site, caplog, value: object) -> None:
    _site(site).build(ENGAGE_WEBMENTION={"endpoint": value}, ENGAGE_OFFLINE=True)
    assert any("ENGAGE_WEBMENTION['endpoint']" in r.getMessage() for r in caplog.records)
    assert _endpoints(site, "first-post.html") == []
