"""webmention.io: Bridgy comments typed as mentions, and deleted mentions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.sources.webmention import parse_deleted, parse_entry
from tests.conftest import Site
from tests.loopback import Server, send
from tests.test_webmention import FakeWebmentionIO, wm_fetcher, wm_job

DATA = Path(__file__).parent / "data" / "webmention"


def entry(source: str, prop: str = "mention-of") -> dict[str, Any]:
    return {
        "wm-id": 7,
        "wm-source": source,
        "wm-received": "2024-12-07T10:05:00Z",
        "wm-property": prop,
        "author": {"name": "Sam", "url": "https://social.example/@sam"},
        "content": {"text": "a question?"},
    }


@pytest.mark.parametrize(
    ("source", "prop", "kind"),
    [
        ("https://brid.gy/comment/mastodon/@marin@social.example/1/2", "mention-of", "reply"),
        ("https://brid.gy/comment/bluesky/marin.example/x/y", "mention-of", "reply"),
        ("https://brid.gy/comment/mastodon/@marin@social.example/1/2", "in-reply-to", "reply"),
        ("https://brid.gy/like/mastodon/@marin@social.example/1/2", "like-of", "like"),
        ("https://brid.gy/post/mastodon/@sam@social.example/3", "mention-of", "mention"),
        ("https://someone.example/brid.gy/comment/x", "mention-of", "mention"),
        ("https://sam.example/notes/1", "mention-of", "mention"),
    ],
)
def test_a_bridgy_comment_is_a_reply_whatever_its_property(
    source: str, prop: str, kind: str
) -> None:
    assert parse_entry(entry(source, prop)).kind == kind


def test_f11_the_bridgy_comment_waits_on_the_page_and_in_the_report(
    site: Site, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    page0 = (DATA / "bridgy-comment-as-mention.json").read_bytes()
    server.routes["/api/mentions.jf2"] = lambda h, n: send(
        h, 200, page0 if "page=0" in h.path else b'{"children": []}'
    )
    server.routes["/api/deleted.jf2"] = lambda h, n: send(h, 200, b'{"children": []}')
    site.article("guestbook", title="Guestbook")
    settings = {
        "ENGAGE_AUTHOR": {"names": ["Marin"], "mastodon": ["marin@social.example"]},
        "ENGAGE_WEBMENTION": {"api_url": server.url},
        "ENGAGE_SHOW_WAITING": True,
        "ENGAGE_REPORT_PAGE": None,
    }
    site.build(**settings)
    li = site.html("guestbook.html").select_one('li[data-engage-id="webmention:1900001"]')
    assert "engage-waiting" in li["class"] and "engage-kind-reply" in li["class"]
    conf = site.write_conf(**settings)
    capsys.readouterr()
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["waiting"]
    assert [r["id"] for r in rows] == ["webmention:1900001"]
    assert rows[0]["kind"] == "reply" and rows[0]["author"]["name"] == "Sam Reader"


def test_deleted_mentions_become_tombstones_and_are_asked_since_the_last(
    server: Server, tmp_path: Path
) -> None:
    fake = FakeWebmentionIO(server)
    fetcher, _client = wm_fetcher(tmp_path, server)
    fetcher.run([wm_job(server)])
    archive = Archive(tmp_path / "archive")
    assert "webmention:1611001" in archive.load("post").items
    # 1611001 is removed; 999 was never archived.
    fake.deleted = [(1611001, "2026-11-23T08:00:00Z"), (999, "2026-11-20T00:00:00Z")]
    summary = fetcher.run(fetcher.due([wm_job(server)], force=True))
    assert [s.id for s in summary.deleted] == ["webmention:1611001"] and not summary.errors
    record = archive.load("post")
    assert "webmention:1611001" not in record.items
    assert set(record.tombstones) == {"webmention:1611001"}
    cursor = record.cursors[f"webmention:{wm_job(server).target}"]
    assert cursor["deleted_since"] == "2026-11-23T08:00:00Z"
    assert fake.deleted_queries[-1]["target[]"] == fake.queries[-1]["target[]"]

    fetcher.run(fetcher.due([wm_job(server)], force=True))
    assert fake.deleted_queries[-1]["since"] == ["2026-11-23T08:00:00Z"]
    # Webmention.io sending the mention again does not bring it back.
    assert "webmention:1611001" not in archive.load("post").items


def test_a_webmention_io_without_the_deleted_list_is_not_asked_again(
    server: Server, tmp_path: Path
) -> None:
    FakeWebmentionIO(server)
    server.routes["/api/deleted.jf2"] = lambda h, n: send(h, 404, b'{"error": "not_found"}')
    fetcher, _client = wm_fetcher(tmp_path, server)
    summary = fetcher.run([wm_job(server)])
    assert not summary.errors and summary.new_items == 8
    fetcher.run(fetcher.due([wm_job(server)], force=True))
    assert server.hits["/api/deleted.jf2"] == 1


def test_a_failed_deleted_list_keeps_everything_and_is_told(server: Server, tmp_path: Path) -> None:
    FakeWebmentionIO(server)
    server.routes["/api/deleted.jf2"] = lambda h, n: send(h, 500)
    fetcher, _client = wm_fetcher(tmp_path, server)
    summary = fetcher.run([wm_job(server)])
    assert summary.errors["webmention"] == 1 and summary.new_items == 8
    assert len(Archive(tmp_path / "archive").load("post").items) == 8


@pytest.mark.parametrize("answer", [[], {"links": []}, {"children": "x"}])
def test_a_deleted_list_that_is_no_feed_is_an_error(answer: Any) -> None:
    with pytest.raises(ValueError, match="deleted mentions"):
        parse_deleted(answer)
