"""Lemmy end to end: a Pelican build shows each post linking the article as
its own branch ("Discussed on Lemmy") with comments nested by ``path``, and
``pelican-engage report`` says which of them wait for the author."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from pelican_engage.cli import main
from tests.conftest import Site
from tests.loopback import Server
from tests.test_lemmy import FakeLemmy, load

PAGE = "https://blog.example/moving-house.html"
AUTHOR = {"names": ["Marin Quell"], "lemmy": ["marin@lemmy.world"]}


@pytest.fixture
def lemmy(server: Server) -> FakeLemmy:
    fake = FakeLemmy(server)
    found = load("search.json")
    for view in found["posts"]:
        if view["post"]["id"] != 103:
            view["post"]["url"] = PAGE
    # Post 102 is the author's own.
    marin = copy.deepcopy(fake.comments[101][3]["creator"])
    found["posts"][1]["creator"] = marin
    found["posts"][1]["post"]["ap_id"] = "https://lemmy.world/post/102"
    fake.search = {PAGE: found}
    on_own = copy.deepcopy(fake.comments[101][0])
    on_own["comment"].update(id=401, path="0.401", content="Thanks for sharing your post.")
    on_own["comment"]["ap_id"] = "https://lemmy.world/comment/9401"
    naming = copy.deepcopy(fake.comments[101][0])
    naming["comment"].update(id=211, path="0.211", content="Did @marin@lemmy.world try crates?")
    naming["comment"]["ap_id"] = "https://lemmy.world/comment/9211"
    fake.comments[101].append(naming)
    fake.comments[102] = [on_own]
    return fake


def settings(server: Server) -> dict[str, Any]:
    return {"ENGAGE_LEMMY": {"instances": [server.url]}, "ENGAGE_AUTHOR": AUTHOR}


def test_a_build_shows_each_post_with_its_comments_nested(
    site: Site, server: Server, lemmy: FakeLemmy, engage_warnings: Any
) -> None:
    site.article("moving-house", title="Moving house")
    site.build(**settings(server))
    page = site.html("moving-house.html")
    host = server.url.split("//", 1)[1]
    branches = page.select("li.engage-discussion")
    assert [li["data-engage-id"] for li in branches] == [
        f"lemmy:{host}/post/101",
        f"lemmy:{host}/post/102",
    ]
    row = branches[0].select_one(".engage-mention-row")
    assert row.get_text().startswith("Discussed on Lemmy, shared by ")
    assert row.select_one(".p-name").get_text(strip=True) == "P. Green"
    assert row.select_one("a.engage-mention-link")["href"] == f"{server.url}/post/101"
    reply = page.select_one(f'[data-engage-id="lemmy:{host}/205"]')
    mine = page.select_one(f'[data-engage-id="lemmy:{host}/204"]')
    assert reply["data-engage-parent"] == f"lemmy:{host}/204"
    assert "engage-by-author" in mine["class"] and reply in mine.find_all("li")
    assert page.select_one(f'[data-engage-id="lemmy:{host}/203"]')["data-engage-parent"] == (
        f"lemmy:{host}/201"
    )
    ids = {li["data-engage-id"] for li in page.select("li.engage-item")}
    assert f"lemmy:{host}/202" not in ids and f"lemmy:{host}/206" not in ids
    assert f"lemmy:{host}/post/104" not in ids and f"lemmy:{host}/post/103" not in ids
    assert "<strong>write-up</strong>" in str(
        page.select_one(f'[data-engage-id="lemmy:{host}/201"]')
    )
    # The hostile comment is text everywhere, in the JSON-LD too (escaped there).
    raw = (site.output / "moving-house.html").read_text(encoding="utf-8")
    assert "<script>alert" not in raw
    assert not [
        s
        for s in page.select("script")
        if "alert" in s.get_text() and "ld+json" not in s.get("type", "")
    ]
    assert engage_warnings() == []


def test_the_report_lists_only_what_waits_for_the_author(
    site: Site,
    server: Server,
    lemmy: FakeLemmy,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site.article("moving-house", title="Moving house")
    monkeypatch.chdir(site.root)
    conf = site.write_conf(ENGAGE_OFFLINE=False, **settings(server))
    assert main(["report", "-s", str(conf), "--format", "json", "--fetch"]) == 0
    rows = json.loads(capsys.readouterr().out)["waiting"]
    host = server.url.split("//", 1)[1]
    assert {r["id"] for r in rows} == {
        f"lemmy:{host}/205",  # answers the author's comment
        f"lemmy:{host}/211",  # @-mentions the author
        f"lemmy:{host}/401",  # a top-level comment on the author's own post
    }
    row = next(r for r in rows if r["id"] == f"lemmy:{host}/205")
    assert row["reply_url"] == f"{server.url}/comment/205"
