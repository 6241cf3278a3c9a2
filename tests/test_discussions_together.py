"""All six discussion sites at once, as a user turns them on: one Pelican
site, one post found on Hacker News, Lobsters, Reddit and Lemmy by its URL,
pinned to a Discourse topic and a GitHub discussion, and announced on
Mastodon; each network a loopback server speaking its wire format.

Built twice (the second offline, from the archive: the same page), and the
report says who waits (issue 18, point 7): a comment answering one of the
author's items waits, a top-level comment on a stranger's submission does
not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pelican_engage.cli import main
from tests.conftest import Site
from tests.loopback import Server
from tests.test_discourse import FakeForum
from tests.test_fetch import ROOT as TOOT
from tests.test_fetch import serve_mastodon
from tests.test_github import DISCUSSION, TOKEN, FakeGitHub
from tests.test_github import P as GH
from tests.test_hackernews import FakeHN
from tests.test_lemmy import FakeLemmy
from tests.test_lobsters import FakeLobsters
from tests.test_reddit import LINK, FakeReddit

SITES = ("hackernews", "lobsters", "reddit", "lemmy", "discourse", "github", "mastodon")


@pytest.fixture
def nets() -> Iterator[dict[str, Server]]:
    servers = {name: Server() for name in SITES}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.close()


def host(server: Server) -> str:
    return server.url.split("//", 1)[1]


def conf(nets: dict[str, Server], **more: Any) -> dict[str, Any]:
    return {
        "ARTICLE_URL": "{slug}/",
        "ARTICLE_SAVE_AS": "{slug}/index.html",
        "ENGAGE_AUTHOR": {
            "names": ["Marin Quell"],
            "hackernews": ["mquell"],
            "lobsters": ["mquell"],
            "reddit": ["marin_q"],
            "lemmy": ["marin@lemmy.world"],
            "discourse": ["marin"],
            "github": ["marin"],
            "mastodon": [f"marin@{host(nets['mastodon']).split(':')[0]}"],
        },
        "ENGAGE_HACKERNEWS": {"api_url": f"{nets['hackernews'].url}/api/v1"},
        "ENGAGE_LOBSTERS": {"api_url": nets["lobsters"].url},
        "ENGAGE_REDDIT": {"api_url": nets["reddit"].url},
        "ENGAGE_LEMMY": {"instances": [nets["lemmy"].url]},
        "ENGAGE_GITHUB": {"api_url": nets["github"].url},
        # ENGAGE_DISCOURSE is on by default: the metadata names the topic.
        **more,
    }


def engage_html(site: Site) -> str:
    page = site.html("moving-house/index.html")
    section = page.select_one("section#comments.engage")
    assert section is not None and section.select("li.engage-item")
    return str(section)


def test_six_discussion_sites_and_mastodon_make_one_page_and_one_report(
    site: Site,
    nets: dict[str, Server],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engage_warnings: Any,
) -> None:
    FakeHN(nets["hackernews"])
    FakeLobsters(nets["lobsters"])
    FakeReddit(nets["reddit"])
    FakeLemmy(nets["lemmy"])
    FakeForum(nets["discourse"])
    FakeGitHub(nets["github"])
    serve_mastodon(nets["mastodon"])
    monkeypatch.setenv("ENGAGE_GITHUB_TOKEN", TOKEN)
    site.article(
        "moving-house",
        title="Moving house",
        discourse=f"{nets['discourse'].url}/forum/t/moving-house/123",
        github_discussion=DISCUSSION,
        mastodon=f"{nets['mastodon'].url}/@marin/{TOOT}",
    )
    site.build(**conf(nets))
    assert engage_warnings() == []
    page = site.html("moving-house/index.html")
    lem, forum = host(nets["lemmy"]), host(nets["discourse"])
    branches = [li["data-engage-id"] for li in page.select("li.engage-discussion")]
    # Every site's submission is its own branch, each once.
    assert len(branches) == len(set(branches))
    for wanted in (
        "hackernews:42000001",
        "lobsters:ab12cd",
        f"reddit:{LINK}",
        f"lemmy:{lem}/post/101",
        f"discourse:{forum}/t/123",
        f"{GH}D_kwDOD7",
    ):
        assert wanted in branches, wanted
    rows = " ".join(li.get_text(" ", strip=True) for li in page.select(".engage-mention-row"))
    for name in ("Hacker News", "Lobsters", "Reddit", "Lemmy", "Discourse", "GitHub"):
        assert f"Discussed on {name}" in rows
    # Nested under their branches, each site's replies.
    for child, branch in (
        ("hackernews:42000012", "hackernews:42000001"),
        ("lobsters:c00003", "lobsters:ab12cd"),
        ("reddit:lx1aaa7", f"reddit:{LINK}"),
        (f"lemmy:{lem}/205", f"lemmy:{lem}/post/101"),
        (f"discourse:{forum}/505", f"discourse:{forum}/t/123"),
        (f"{GH}DC_kwDOR1", f"{GH}D_kwDOD7"),
    ):
        node = page.select_one(f'li[data-engage-id="{child}"]')
        assert node is not None, child
        assert branch in [li["data-engage-id"] for li in node.find_parents("li")]
    ids = [li["data-engage-id"] for li in page.select("li.engage-item")]
    assert len(ids) == len(set(ids))
    assert any(i.startswith("mastodon:") for i in ids)
    # "Reply on <Site>" where the site has a reply page.
    replies = {a.get_text(" ", strip=True) for a in page.select("a[href]")}
    for name in ("Hacker News", "Lobsters", "Reddit", "Lemmy", "Discourse", "GitHub"):
        assert f"Reply on {name}" in replies, name
    # Hostile words in the fixtures are text; no link goes to javascript: or data:.
    raw = (site.output / "moving-house" / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in raw
    for tag in page.select("[href], [src]"):
        link = (tag.get("href") or tag.get("src") or "").strip().lower()
        assert not link.startswith(("javascript:", "data:")), tag
    first = engage_html(site)

    # Offline, from the archive: the same conversation, nothing asked.
    for server in nets.values():
        server.hits.clear()
    site.build(**conf(nets, ENGAGE_OFFLINE=True))
    assert all(not server.hits for server in nets.values())
    assert engage_html(site) == first

    written = site.write_conf(**conf(nets, ENGAGE_OFFLINE=True))
    capsys.readouterr()
    assert main(["report", "-s", str(written), "--format", "json"]) == 0
    rows_ = json.loads(capsys.readouterr().out)["waiting"]
    waiting = {r["id"] for r in rows_}
    toots = host(nets["mastodon"])
    # Each answers one of the author's items, names them, or comments on a
    # submission of theirs: they wait (the same rows as each site alone).
    assert waiting == {
        "hackernews:42000012",  # answers the author's comment
        "hackernews:42000031",  # names @mquell
        "hackernews:42000060",  # on the author's own story
        "lobsters:c00003",
        "lobsters:c00005",
        "lobsters:d00001",
        "reddit:lx1aaa7",  # answers the author's comment
        "reddit:lx4ddd1",  # on the author's own submission
        f"lemmy:{lem}/205",  # answers the author's comment
        f"discourse:{forum}/505",  # answers the author's post
        f"discourse:{forum}/510",  # names @marin
        f"{GH}DC_kwDOR2",  # names @marin
        f"mastodon:{toots}/110000000000000004",  # answers the author's reply
        f"mastodon:{toots}/110000000000000006",  # a reply to the toot (its parent hidden)
    }
    # Top-level comments on a stranger's submission talk to the submitter.
    assert not waiting & {
        "hackernews:42000010",
        "lobsters:c00001",
        "reddit:lx1aaa1",
        f"lemmy:{lem}/201",
        f"discourse:{forum}/502",
        f"{GH}DC_kwDOC1",
    }
    # The submissions themselves wait for nobody; the author's items neither.
    assert not {i for i in waiting if i in branches}
    for row in rows_:
        assert row["reply_url"].startswith(("https://", "http://127.0.0.1"))
