"""Exports are untrusted: bombs fail cleanly, and what an import knows is kept."""

from __future__ import annotations

import gzip
import logging
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.identity import AuthorIdentity
from pelican_engage.importers import ImportFormatError
from pelican_engage.importers.disqus import parse_disqus
from pelican_engage.importers.wordpress_wxr import parse_wxr
from pelican_engage.model import Item, Person
from tests.conftest import Site

DATA = Path(__file__).parent / "data" / "hostile-xml"


def test_an_entity_bomb_is_refused_quickly() -> None:
    started = time.process_time()
    with pytest.raises(ImportFormatError, match=r"billion-laughs-wxr.xml: malformed XML"):
        parse_wxr(
            (DATA / "billion-laughs-wxr.xml").read_bytes(),
            AuthorIdentity(),
            "billion-laughs-wxr.xml",
        )
    assert time.process_time() - started < 5  # expat's amplification limit, not a gigabyte


def test_an_external_entity_is_never_read() -> None:
    with pytest.raises(ImportFormatError, match="declares the entity 'x'") as caught:
        parse_disqus((DATA / "external-entity-disqus.xml").read_bytes(), AuthorIdentity(), "x.xml")
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd


def test_a_gzip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pelican_engage.importers import disqus

    monkeypatch.setattr(disqus, "MAX_XML_BYTES", 1024 * 1024)
    bomb = gzip.compress(b"<disqus>" + b" " * (8 * 1024 * 1024) + b"</disqus>")
    assert len(bomb) < 20_000
    with pytest.raises(ImportFormatError, match="unpacks to more than 1 MiB"):
        disqus.parse_disqus(bomb, AuthorIdentity(), "bomb.xml.gz")


def test_replies_whose_parent_the_export_lacks_are_reported() -> None:
    export = parse_disqus(
        b"""<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
        <thread dsq:id="1"><link>https://b.example/p/</link></thread>
        <post dsq:id="5"><message>gone</message><createdAt>2013-10-10T19:20:29Z</createdAt>
          <isDeleted>true</isDeleted><isSpam>false</isSpam><thread dsq:id="1"/></post>
        <post dsq:id="6"><message>hi</message><createdAt>2013-10-11T19:20:29Z</createdAt>
          <isDeleted>false</isDeleted><isSpam>false</isSpam><thread dsq:id="1"/>
          <parent dsq:id="5"/></post>
        </disqus>""",
        AuthorIdentity(),
    )
    assert export.skipped == {"deleted": 1}
    (problem,) = export.problems
    assert problem.startswith("disqus:6 on https://b.example/p/: replies to disqus:5")


def test_a_mark_found_once_is_not_unsaid_by_a_later_copy(tmp_path: Path) -> None:
    when = datetime(2021, 1, 2, tzinfo=timezone.utc)
    marked = Item("wordpress:b.example/13", "wordpress", "comment", Person("M"), when,
                  by_author=True)  # fmt: skip
    archive = Archive(tmp_path / "archive")
    archive.merge("p", [marked])
    # The live REST API cannot tell a guest comment by the author's e-mail.
    archive.merge("p", [replace(marked, content_html="<p>edited</p>", by_author=False)])
    (item,) = archive.load("p").items.values()
    assert item.by_author and item.content_html == "<p>edited</p>"


def test_a_comment_without_a_date_never_borrows_its_replys() -> None:
    from pelican_engage.importers.wordpress_html import parse_page

    html = """<link rel="canonical" href="https://b.example/p/"><ol class="comment-list">
      <li id="comment-1" class="comment"><article class="comment-body"><b class="fn">A</b>
        <div class="comment-content"><p>no date here</p></div></article>
        <ol class="children"><li id="comment-2" class="comment"><article class="comment-body">
          <b class="fn">B</b><time datetime="2015-02-03T08:00:00+00:00">x</time>
          <div class="comment-content"><p>reply</p></div></article></li></ol></li></ol>"""
    export = parse_page(html)
    (post,) = export.posts
    assert [(i.id, i.author.name) for i in post.items] == [("wordpress:b.example/2", "B")]
    assert export.problems == ("comment 1: no date (no time[datetime] and no .comment-meta)",)


def test_post_puts_a_page_where_it_says(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    site.article("hello-world")
    site.article("greetings")
    conf = site.write_conf(ENGAGE_OFFLINE=True, SITEURL="https://old.example.org")
    page = Path(__file__).parent / "data" / "wordpress-html" / "html5-core.html"
    code = main(["import", "wordpress-html", str(page), "--post", "greetings", "-s", str(conf)])
    assert code == 0
    archive = Archive(site.root / "archive")
    assert archive.load("greetings").items and not archive.load("hello-world").items
    assert "into 1 post(s)" in capsys.readouterr().out


def test_odd_cursors_in_a_hand_edited_archive_do_not_break_the_build(site: Site, server) -> None:
    from tests.loopback import send

    status = f"{server.url}/@marin/1"
    server.routes["/api/v1/statuses/1"] = lambda h, n: send(h, 503)  # an outage, on loopback
    site.article("post", mastodon=status)
    Archive(site.root / "archive").merge(
        "post",
        [],
        {
            f"mastodon:{status}": {"counts": "many", "fetched_at": "x"},
            "nocolon": {"announcement": "x", "found": 3},
            "twitter-discover:https://blog.example/post.html from:marin": {"found": "oops"},
        },
    )
    author = {"names": ["Marin"], "twitter": ["marin"]}
    site.build(ENGAGE_OFFLINE=True, ENGAGE_TWITTER={"discover": True}, ENGAGE_AUTHOR=author)
    assert (site.output / "post.html").exists()
    site.build()  # online: the unreadable fetch time makes the job due
    assert server.hits["/api/v1/statuses/1"] >= 1
    assert (site.output / "post.html").exists()


def test_a_token_in_a_query_string_is_not_logged_by_urllib3(
    server, caplog: pytest.LogCaptureFixture
) -> None:
    from pelican_engage.http import Client
    from tests.loopback import send

    server.routes["/api"] = lambda h, n: send(h, 200, b"{}")
    caplog.set_level(logging.DEBUG)
    Client(secrets=["wm-canary-9f2"]).get(f"{server.url}/api", params={"token": "wm-canary-9f2"})
    lines = [r.getMessage() for r in caplog.records]
    assert any("/api" in line for line in lines)  # urllib3 did log the request
    assert not any("wm-canary-9f2" in line for line in lines)
