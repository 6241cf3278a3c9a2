"""Reddit end to end: a Pelican build shows each submission as its own
branch ("Discussed on Reddit") with the comments nested under it, and
``pelican-engage report`` says which of them wait for the author."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.cli import main
from tests.conftest import Site
from tests.loopback import Server
from tests.test_reddit import LINK, OTHER, FakeReddit, load

PAGE = "https://blog.example/moving-house.html"
AUTHOR = {"names": ["Marin Quell"], "reddit": ["marin_q"]}


def comment(cid: str, who: str, text: str, when: int) -> dict[str, Any]:
    return {
        "kind": "t1",
        "data": {
            "id": cid,
            "name": f"t1_{cid}",
            "parent_id": f"t3_{LINK}",
            "author": who,
            "body": text,
            "body_html": f'<div class="md"><p>{text}</p></div>',
            "created_utc": when,
            "permalink": f"/r/selfhosted/comments/{LINK}/moving/{cid}/",
            "replies": "",
        },
    }


@pytest.fixture
def reddit(server: Server) -> FakeReddit:
    fake = FakeReddit(server)
    # The post's URL without the slash finds the one the author shared.
    fake.info = {PAGE: load("info.json"), PAGE + "/": load("info-other.json")}
    top = fake.trees[LINK][1]["data"]["children"]
    top.insert(0, comment("lx5eee1", "pine_r", "Did Marin Quell try crates?", 1732699100))
    top.insert(1, comment("lx5eee2", "wren_t", "Ask u/marin_q about the tape.", 1732699200))
    return fake


def settings(server: Server) -> dict[str, Any]:
    return {"ENGAGE_REDDIT": {"api_url": server.url}, "ENGAGE_AUTHOR": AUTHOR}


def test_a_build_shows_each_submission_with_its_comments_nested(
    site: Site, server: Server, reddit: FakeReddit, engage_warnings: Any
) -> None:
    site.article("moving-house", title="Moving house")
    site.build(**settings(server))
    page = site.html("moving-house.html")
    branches = page.select("li.engage-discussion")
    assert [li["data-engage-id"] for li in branches] == [f"reddit:{LINK}", f"reddit:{OTHER}"]
    first = branches[0]
    row = first.select_one(".engage-mention-row")
    assert row.get_text("", strip=False).startswith("Discussed on Reddit, shared by ")
    assert row.select_one(".p-name").get_text(strip=True) == "pgreen"
    assert "on Reddit" in row.get_text()
    assert first.select_one("a.engage-mention-link")["href"].startswith(
        f"https://www.reddit.com/r/selfhosted/comments/{LINK}/"
    )
    # otter_b's comment, then the author's answer under it, then the reply to that.
    nested = page.select_one('[data-engage-id="reddit:lx1aaa7"]')
    assert nested["data-engage-parent"] == "reddit:lx1aaa6"
    author = page.select_one('[data-engage-id="reddit:lx1aaa6"]')
    assert (
        author["data-engage-parent"] == "reddit:lx1aaa1" and "engage-by-author" in author["class"]
    )
    assert nested in author.find_all("li")
    # A reply to a deleted comment moved up; the deleted one is not there.
    assert page.select_one('[data-engage-id="reddit:lx1aaa3"]')["data-engage-parent"] == (
        "reddit:lx1aaa1"
    )
    ids = {li["data-engage-id"] for li in page.select("li.engage-item")}
    assert "reddit:lx1aaa2" not in ids and "reddit:lx1aaa4" not in ids
    assert "[deleted]" not in page.get_text() and "[removed]" not in page.get_text()
    assert "reddit:lx1aab3" in ids  # from the more stub
    assert not page.select("script:-soup-contains('alert')")
    assert engage_warnings() == []


def test_the_report_lists_only_what_waits_for_the_author(
    site: Site,
    server: Server,
    reddit: FakeReddit,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site.article("moving-house", title="Moving house")
    monkeypatch.chdir(site.root)
    conf: Path = site.write_conf(ENGAGE_OFFLINE=False, **settings(server))
    assert main(["report", "-s", str(conf), "--format", "json", "--fetch"]) == 0
    rows = json.loads(capsys.readouterr().out)["waiting"]
    waiting = {r["id"] for r in rows}
    assert waiting == {
        "reddit:lx4ddd1",  # on the author's own submission, a top-level comment answers them
        "reddit:lx5eee1",  # names the author
        "reddit:lx5eee2",  # u/-mentions the author
        "reddit:lx1aaa7",  # answers the author's comment
    }
    # Top-level comments on a stranger's submission talk to the submitter.
    assert not waiting & {"reddit:lx1aaa1", "reddit:lx1aaa5", "reddit:lx1aab1", "reddit:lx1aaa3"}
    row = next(r for r in rows if r["id"] == "reddit:lx1aaa7")
    assert row["author"]["name"] == "otter_b"
    assert row["reply_url"].startswith("https://www.reddit.com/r/selfhosted/comments/")
