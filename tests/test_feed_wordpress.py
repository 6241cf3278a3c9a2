"""Comment feeds (RSS, Atom threading) and live WordPress comments, on loopback."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pelican_engage.archive import Archive
from pelican_engage.conversation import build_thread
from pelican_engage.fetch import Fetcher
from pelican_engage.http import Client, HttpSettings
from pelican_engage.model import Post
from pelican_engage.settings import author_identity
from pelican_engage.sources import feed, wordpress
from tests.conftest import Site
from tests.loopback import Server, send

FEEDS = Path(__file__).parent / "data" / "feed"
REST = Path(__file__).parent / "data" / "wordpress-rest"
NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
FAST = HttpSettings(connect_timeout=2, read_timeout=1, backoff=0.01, max_wait=1, retries=1)
ALICE = "feed:https://blog.example.org/?p=1#comment-12"


@pytest.mark.parametrize("name", ["wordpress-atom-comments.xml", "other-prefix-atom.xml"])
def test_atom_threading_sets_parents_whatever_the_prefix(name: str) -> None:
    items, skipped = feed.parse_feed((FEEDS / name).read_bytes())
    by_name = {i.author.name: i for i in items}
    assert skipped == () and set(by_name) == {"Alice", "Marin", "Bob"}
    assert by_name["Alice"].id == ALICE and by_name["Alice"].in_reply_to is None
    assert by_name["Marin"].in_reply_to == ALICE  # answers a comment of this feed
    assert by_name["Alice"].author.url == "https://alice.example.com/"
    assert by_name["Alice"].url == "https://blog.example.org/2019/01/hello-world/#comment-12"
    assert by_name["Alice"].published == datetime(2019, 1, 8, 10, 15, tzinfo=timezone.utc)
    content = by_name["Alice"].content_html
    assert "Nice post \u2013 thanks!" in content
    assert "<script" not in content and "javascript:" not in content


def test_rss_without_threading_stays_flat() -> None:
    items, skipped = feed.parse_feed((FEEDS / "wordpress-rss2-comments.xml").read_bytes())
    assert len(skipped) == 1  # no date: left out, not guessed
    assert skipped[0].reason == "no readable date"
    assert {i.author.name for i in items} == {"Alice", "Bob"}
    assert all(i.in_reply_to is None for i in items)
    assert {i.id for i in items} == {ALICE, "feed:https://blog.example.org/?p=1#comment-14"}


def test_a_page_that_is_not_a_feed_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a readable RSS or Atom feed"):
        feed.parse_feed((FEEDS / "not-a-feed.html").read_bytes())


def test_the_author_of_a_feed_comment_is_known_by_name() -> None:
    items, _ = feed.parse_feed((FEEDS / "wordpress-atom-comments.xml").read_bytes())
    thread, _ = build_thread(Post("p"), items, author_identity("Marin"))
    assert {thread.post.key} == {"p"}
    bob = "feed:https://blog.example.org/?p=1#comment-14"
    assert thread.waiting == {bob}  # Alice was answered by Marin


def test_feed_fetch_is_conditional_and_304_keeps_the_archive(
    server: Server, tmp_path: Path
) -> None:
    body = (FEEDS / "wordpress-atom-comments.xml").read_bytes()
    seen: list[dict[str, str]] = []

    def atom(handler: BaseHTTPRequestHandler, _n: int) -> None:
        seen.append(dict(handler.headers))
        if handler.headers.get("If-None-Match") == '"v1"':
            return send(handler, 304)
        send(handler, 200, body, ETag='"v1"', Last_Modified="Tue, 08 Jan 2019 12:00:00 GMT")

    server.routes["/2019/01/hello-world/feed/atom/"] = atom
    client = Client(FAST)
    fetcher = Fetcher(
        Archive(tmp_path / "archive"), {"feed": feed.FeedSource(client)}, clock=lambda: NOW
    )
    job = feed.job_for("hello", f"{server.url}/2019/01/hello-world/feed/atom/", NOW)
    assert fetcher.run([job]).new_items == 3
    summary = fetcher.run(fetcher.due([job], force=True))
    assert seen[1]["If-None-Match"] == '"v1"'
    assert seen[1]["If-Modified-Since"] == "Tue, 08 Jan 2019 12:00:00 GMT"
    assert not summary.errors and len(Archive(tmp_path / "archive").load("hello").items) == 3


@pytest.mark.parametrize("value", ["feed.example/comments", "javascript:alert(1)", "ftp://x/y"])
def test_bad_feed_urls_say_why(value: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        feed.job_for("p", value, NOW)


# -- Live WordPress ---------------------------------------------------------------


class FakeWordPress:
    """The REST API of one post, at /wp-json or (pretty=False) ?rest_route=."""

    def __init__(self, server: Server, pretty: bool = True, prefix: str = "") -> None:
        self.queries: list[dict[str, str]] = []
        self.pretty = pretty
        self.link = f"{server.url}{prefix}/2019/01/hello-world/"
        server.routes["/wp-json/wp/v2/posts"] = self.pretty_route("/wp/v2/posts")
        server.routes["/wp-json/wp/v2/comments"] = self.pretty_route("/wp/v2/comments")
        server.routes["/"] = self.plain_route

    def pretty_route(self, route: str):
        def handler(h: BaseHTTPRequestHandler, _n: int) -> None:
            if not self.pretty:
                return send(h, 404, b"<html>Not Found</html>", Content_Type="text/html")
            self.answer(h, route)

        return handler

    def plain_route(self, h: BaseHTTPRequestHandler, _n: int) -> None:
        route = parse_qs(urlsplit(h.path).query).get("rest_route", [""])[0]
        if not route:
            return send(h, 200, b"<html>home</html>")
        self.answer(h, route)

    def answer(self, h: BaseHTTPRequestHandler, route: str) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(h.path).query).items()}
        self.queries.append({"route": route, **query})
        if route == "/wp/v2/posts":
            assert query["slug"] == "hello-world"
            posts = json.loads((REST / "posts-by-slug.json").read_text())
            posts[0]["link"] = self.link  # the post lives on this (loopback) site
            return send(h, 200, json.dumps(posts).encode())
        page = int(query.get("page", "1"))
        if page > 2:
            return send(h, 200, b"[]", X_WP_Total="4", X_WP_TotalPages="2")
        body = (REST / f"comments-page{page}.json").read_bytes()
        send(h, 200, body, X_WP_Total="4", X_WP_TotalPages="2")


def wp_fetch(server: Server, tmp_path: Path) -> tuple[Fetcher, object]:
    fetcher = Fetcher(
        Archive(tmp_path / "archive"),
        {"wordpress": wordpress.WordPressSource(Client(FAST))},
        clock=lambda: NOW,
    )
    job = wordpress.job_for("hello", f"{server.url}/2019/01/hello-world/", NOW - timedelta(days=9))
    return fetcher, job


@pytest.mark.parametrize("pretty", [True, False], ids=["wp-json", "rest_route"])
def test_live_comments_are_paged_and_threaded(server: Server, tmp_path: Path, pretty: bool) -> None:
    fake = FakeWordPress(server, pretty=pretty)
    fetcher, job = wp_fetch(server, tmp_path)
    summary = fetcher.run([job])  # type: ignore[list-item]
    assert not summary.errors and summary.new_items == 3
    comments = [q for q in fake.queries if q["route"] == "/wp/v2/comments"]
    assert [q["page"] for q in comments] == ["1", "2"]
    assert comments[0]["post"] == "1" and comments[0]["per_page"] == "100"
    record = Archive(tmp_path / "archive").load("hello")
    host = server.url.split("//", 1)[1]
    alice, marin = record.items[f"wordpress:{host}/12"], record.items[f"wordpress:{host}/13"]
    assert marin.in_reply_to == alice.id and alice.in_reply_to is None
    assert alice.author.avatar.endswith("alice-96.png")  # the biggest avatar
    assert marin.author.avatar == ""  # Gravatar: a hash of an e-mail address
    assert "<img" not in alice.content_html and "onerror" not in alice.content_html
    assert alice.published == datetime(2019, 1, 8, 10, 15, tzinfo=timezone.utc)
    assert marin.by_author and not marin.extras  # the post author's own user id
    cursor = record.cursors[f"wordpress:{job.target}"]  # type: ignore[attr-defined]
    root = f"{server.url}/wp-json/" if pretty else f"{server.url}/?rest_route=/"
    assert cursor["post_id"] == 1 and cursor["api"] == root
    assert cursor["skipped_entries"] == 1  # the malformed entry

    fake.queries.clear()
    fetcher.run(fetcher.due([job], force=True))  # type: ignore[list-item]
    # The post id is known: no second lookup.
    assert all(q["route"] == "/wp/v2/comments" for q in fake.queries)

    thread, _ = build_thread(Post("hello"), record.items.values(), author_identity("Nobody"))
    assert marin.id in thread.by_author and alice.id not in thread.waiting


def test_a_site_without_the_rest_api_keeps_the_archive(server: Server, tmp_path: Path) -> None:
    server.routes["/wp-json/wp/v2/posts"] = lambda h, n: send(
        h, 404, (REST / "no-route.json").read_bytes()
    )
    server.routes["/"] = lambda h, n: send(h, 404, (REST / "no-route.json").read_bytes())
    fetcher, job = wp_fetch(server, tmp_path)
    summary = fetcher.run([job])  # type: ignore[list-item]
    assert summary.errors["wordpress"] == 1 and "HTTP 404" in summary.messages["wordpress"]
    assert not Archive(tmp_path / "archive").post_path("hello").exists()


def test_a_build_reads_feed_and_wordpress_comments(
    site: Site, server: Server, engage_warnings
) -> None:
    FakeWordPress(server)
    server.routes["/feed/atom/"] = lambda h, n: send(
        h, 200, (FEEDS / "wordpress-atom-comments.xml").read_bytes()
    )
    site.article("hello", wordpress_comments=f"{server.url}/2019/01/hello-world/")
    site.article("other", comments_feed=f"{server.url}/feed/atom/")
    site.article("broken", comments_feed="not a url")
    site.build()
    hello = site.html("hello.html")
    assert len(hello.select("li.engage-source-wordpress")) == 3
    assert hello.select_one("li.engage-by-author .p-name").get_text() == "Marin Ferrand"
    other = site.html("other.html")
    nested = other.select_one("li.engage-source-feed li.engage-source-feed")
    assert nested is not None and "Thank you, Alice!" in nested.get_text()
    assert [w for w in engage_warnings() if "broken.md" in w and "comments_feed" in w]
    for page in (hello, other):
        assert not page.select(".e-content script")


def test_a_blog_in_a_subfolder_is_found_by_its_api_link(server: Server, tmp_path: Path) -> None:
    # The host's root runs another WordPress, with its own "hello-world".
    root_posts = [{"id": 99, "author": 1, "link": f"{server.url}/2019/01/hello-world/"}]
    server.routes["/wp-json/wp/v2/posts"] = lambda h, n: send(
        h, 200, json.dumps(root_posts).encode()
    )
    blog = FakeWordPress(server, prefix="/blog")
    for route in ("posts", "comments"):
        server.routes[f"/blog/wp-json/wp/v2/{route}"] = blog.pretty_route(f"/wp/v2/{route}")
    api = f'<{server.url}/blog/wp-json/>; rel="https://api.w.org/"'
    server.routes["/blog/2019/01/hello-world/"] = lambda h, n: send(
        h, 200, b"<html></html>", Link=api
    )
    fetcher = Fetcher(
        Archive(tmp_path / "archive"),
        {"wordpress": wordpress.WordPressSource(Client(FAST))},
        clock=lambda: NOW,
    )
    job = wordpress.job_for("hello", f"{server.url}/blog/2019/01/hello-world/", NOW)
    assert fetcher.run([job]).new_items == 3
    assert {q["route"] for q in blog.queries} == {"/wp/v2/posts", "/wp/v2/comments"}
    cursor = Archive(tmp_path / "archive").load("hello").cursors[f"wordpress:{job.target}"]
    assert cursor["api"] == f"{server.url}/blog/wp-json/" and cursor["post_id"] == 1


def test_gravatar_addresses_are_not_kept() -> None:
    # Gravatar's address is a hash of the commenter's e-mail.
    comment = json.loads((REST / "comments-page1.json").read_text())[1]
    assert wordpress.parse_comment(comment, "b.example").author.avatar == ""
    comment["author_avatar_urls"] = {"96": "https://b.example/avatars/alice.png"}
    assert wordpress.parse_comment(comment, "b.example").author.avatar.endswith("alice.png")


def test_feed_authors_never_carry_an_email_and_parents_survive_the_feed_window() -> None:
    atom = (FEEDS / "wordpress-atom-comments.xml").read_text()
    atom = atom.replace("<name>Bob</name>", "<name>Bob</name><email>bob@example.com</email>")
    # Alice's comment has left the feed (the latest 10 only); Marin's
    # answer to it still names it as its parent.
    start = atom.index("<entry>")
    atom = atom[:start] + atom[atom.index("</entry>") + len("</entry>") :]
    items, _ = feed.parse_feed(atom.encode())
    by_name = {i.author.name: i for i in items}
    assert set(by_name) == {"Marin", "Bob"}
    assert "bob@example.com" not in repr(items)
    assert by_name["Marin"].in_reply_to == ALICE
