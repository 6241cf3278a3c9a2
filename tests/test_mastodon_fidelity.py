"""What Mastodon shows and hides, honoured: media, context limits, split
domains, visibility and deletions.

Each case folder under ``tests/data/mastodon/cases/`` holds a loopback
Mastodon's answers: ``status-<id>.json`` (``GET /api/v1/statuses/<id>``),
``context-<id>.json`` (its ``/context``) and ``instance.json``
(``/api/v2/instance``), with ``{SERVER}`` standing for the server's URL.
Any other path is a 404, as on a server where the status does not exist.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.sources.mastodon import announcer_domain, parse_instance_domain
from tests.conftest import Site
from tests.loopback import Server, send

CASES = Path(__file__).parent / "data" / "mastodon" / "cases"


class CaseMastodon:
    """A loopback Mastodon answering from one case folder."""

    def __init__(self, server: Server, case: str) -> None:
        self.server = server
        self.use(case)

    def use(self, case: str) -> None:
        """Answer from ``case`` from now on (the server's state changed)."""
        for path in [p for p in self.server.routes if p.startswith("/api/")]:
            del self.server.routes[path]
        for path in (CASES / case).glob("*.json"):
            body = path.read_bytes().replace(b"{SERVER}", self.server.url.encode())
            kind, _sep, status = path.stem.partition("-")
            route = {
                "status": f"/api/v1/statuses/{status}",
                "context": f"/api/v1/statuses/{status}/context",
                "instance": "/api/v2/instance",
            }[kind]
            self.server.routes[route] = lambda h, n, body=body: send(
                h, 200, body, Content_Type="application/json"
            )

    @property
    def context_requests(self) -> list[str]:
        return sorted(p for p in self.server.hits if p.endswith("/context"))


def build(site: Site, server: Server, status: str, **settings: Any) -> Any:
    site.article("p", mastodon=f"{server.url}/@marin/{status}")
    site.build(ENGAGE_REFRESH={"min_seconds": 0, "max_seconds": 0}, **settings)
    return site.html("p.html")


def items(page: Any) -> dict[str, Any]:
    return {li["data-engage-id"]: li for li in page.select("li.engage-item")}


def host(server: Server) -> str:
    return server.url.split("//", 1)[1]


@pytest.fixture(autouse=True)
def _online(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENGAGE_OFFLINE", raising=False)
    monkeypatch.delenv("ENGAGE_MASTODON_TOKEN", raising=False)


def test_a_media_only_reply_shows_its_description_as_a_link(site: Site, server: Server) -> None:
    """f04: the picture's description, linking to the picture; no image loaded."""
    CaseMastodon(server, "f04-media")
    page = build(site, server, "113700000000000001")
    reply = items(page)[f"mastodon:{host(server)}/113700000000000002"]
    (link,) = reply.select(".e-content a")
    assert link.get_text() == (
        "[image] My loaf after following your schedule: open crumb, dark crust"
    )
    assert link["href"] == "https://bakers.example/media/9.jpg"
    assert not page.select(".engage img[src*='bakers.example']")


def test_replies_beyond_the_context_limit_are_fetched_from_the_deepest_reply(
    site: Site, server: Server, engage_warnings
) -> None:
    """A 25-deep chain: the server stops at 20 levels; the 20th reply's
    context brings the rest.  A reply that is only a picture without a
    description says "[image]"."""
    mastodon = CaseMastodon(server, "deep-chain")
    page = build(site, server, "114000000000000000")
    shown = items(page)
    assert len(shown) == 26
    assert f"mastodon:{host(server)}/114000000000000025" in shown
    assert mastodon.context_requests == [
        "/api/v1/statuses/114000000000000000/context",
        "/api/v1/statuses/114000000000000020/context",
    ]
    deepest = page.select_one(f'[data-engage-id="mastodon:{host(server)}/114000000000000025"]')
    assert deepest["data-engage-parent"] == f"mastodon:{host(server)}/114000000000000024"
    pics = shown[f"mastodon:{host(server)}/114000000000000100"].select_one(".e-content")
    assert pics.get_text(strip=True) == "[image]"
    assert pics.select_one("a")["href"] == "https://pics.example/media/5.png"
    assert engage_warnings() == []  # complete: nothing to say


def test_a_thread_cut_at_the_limit_is_said_in_the_build_summary(
    site: Site, server: Server, engage_warnings
) -> None:
    """f05: 60 of 75 direct replies, and no deeper reply to ask: a warning."""
    CaseMastodon(server, "f05-context-limit")
    page = build(site, server, "113600000000000000")
    assert len(items(page)) == 60
    assert engage_warnings() == [
        "engage: mastodon: p: 60 of 75 replies; a token in $ENGAGE_MASTODON_TOKEN raises the limit"
    ]
    cursor = next(iter(Archive(site.root / "archive").load("p").cursors.values()))
    assert cursor["incomplete"] == [60, 75]


def test_the_authors_replies_on_a_split_domain_server_are_marked(
    site: Site, server: Server, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """f09: handles say @zoe@zoe.example; the server answers at another host."""
    CaseMastodon(server, "f09-split-domain")
    settings = {
        "AUTHOR": "Zoë",
        "ENGAGE_AUTHOR": {"names": ["Zoë"], "mastodon": ["zoe@zoe.example"]},
    }
    page = build(site, server, "113500000000000001", **settings)
    shown = items(page)
    zoe = shown[f"mastodon:{host(server)}/113500000000000011"]
    ann = shown[f"mastodon:{host(server)}/113500000000000010"]
    assert "engage-by-author" in zoe["class"]
    assert "engage-by-author" not in ann["class"]
    # Remote accounts keep their own domain.
    record = Archive(site.root / "archive").load("p")
    handles = {i.author.handle for i in record.items.values()}
    assert handles == {"zoe@zoe.example", "ann@other.example"}
    assert server.hits["/api/v2/instance"] == 1
    monkeypatch.chdir(site.root)
    conf = site.write_conf(ENGAGE_OFFLINE=True, **settings)
    capsys.readouterr()
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["waiting"] == []
    # The domain is kept: the next fetch does not ask again.
    site.build(ENGAGE_REFRESH={"min_seconds": 0, "max_seconds": 0}, **settings)
    assert server.hits["/api/v2/instance"] == 1


def test_without_an_instance_answer_the_announcers_handle_gives_the_domain(
    site: Site, server: Server
) -> None:
    """f09 exactly as the field case serves it: no /api/v2/instance.  The
    announcement named in the metadata is Zoë's (local acct ``zoe``), and
    ``zoe@zoe.example`` is the one author handle with that name."""
    CaseMastodon(server, "f09-split-domain")
    del server.routes["/api/v2/instance"]
    settings = {"ENGAGE_AUTHOR": {"names": ["Zoë"], "mastodon": ["zoe@zoe.example"]}}
    shown = items(build(site, server, "113500000000000001", **settings))
    assert "engage-by-author" in shown[f"mastodon:{host(server)}/113500000000000011"]["class"]
    assert "engage-waiting" not in shown[f"mastodon:{host(server)}/113500000000000010"]["class"]
    # A guess is not kept: a later fetch asks the server again.
    cursor = next(iter(Archive(site.root / "archive").load("p").cursors.values()))
    assert "domain" not in cursor


@pytest.mark.parametrize(
    ("handles", "domain"),
    [
        (["zoe@zoe.example"], "zoe.example"),
        (["@Zoe@Zoe.Example", "marin@other.example"], "zoe.example"),
        (["zoe@a.example", "zoe@b.example"], ""),  # which one? no guess
        (["anna@zoe.example"], ""),  # someone else announced the post
        (["zoe"], ""),
    ],
)
def test_announcer_domain_guess(handles: list[str], domain: str) -> None:
    root = {"account": {"id": "1", "username": "zoe", "acct": "zoe"}}
    assert announcer_domain(root, handles) == domain
    remote = {"account": {"id": "1", "username": "zoe", "acct": "zoe@else.example"}}
    assert announcer_domain(remote, handles) == ""


@pytest.mark.parametrize(
    ("answer", "domain"),
    [
        ({"domain": "zoe.example"}, "zoe.example"),
        ({"uri": "Social.Example"}, "social.example"),  # v1
        ({"uri": "https://old.example/"}, "old.example"),  # very old v1
        ({"domain": "evil example/<x>"}, ""),
        ({"domain": 42}, ""),
        ([], ""),
    ],
)
def test_instance_domains(answer: Any, domain: str) -> None:
    assert parse_instance_domain(answer) == domain


def test_a_server_without_the_v2_instance_answer_is_asked_v1(site: Site, server: Server) -> None:
    CaseMastodon(server, "f09-split-domain")
    del server.routes["/api/v2/instance"]
    server.routes["/api/v1/instance"] = lambda h, n: send(h, 200, b'{"uri": "zoe.example"}')
    settings = {"ENGAGE_AUTHOR": {"names": ["Zoë"], "mastodon": ["zoe@zoe.example"]}}
    page = build(site, server, "113500000000000001", **settings)
    zoe = items(page)[f"mastodon:{host(server)}/113500000000000011"]
    assert "engage-by-author" in zoe["class"]


def test_unlisted_replies_are_not_published_by_default(site: Site, server: Server, caplog) -> None:
    """f12: only the public reply is on the page."""
    CaseMastodon(server, "f12-unlisted")
    caplog.set_level(logging.INFO)
    page = build(site, server, "113900000000000001")
    names = [li.select_one(".p-name").get_text(strip=True) for li in page.select("li.engage-item")]
    assert names == ["Pub"]
    for path in site.output.rglob("*"):
        if path.is_file():
            assert "Quiet public reply" not in path.read_text(encoding="utf-8", errors="replace")
    # Archived with its visibility, so the setting can change without losing it.
    (quiet,) = [
        i
        for i in Archive(site.root / "archive").load("p").items.values()
        if i.author.name == "Quiet"
    ]
    assert quiet.visibility == "unlisted"


def test_unlisted_replies_are_published_when_the_setting_says_so(
    site: Site, server: Server
) -> None:
    CaseMastodon(server, "f12-unlisted")
    build(site, server, "113900000000000001")
    page = build(site, server, "113900000000000001", ENGAGE_MASTODON={"unlisted": True})
    names = [li.select_one(".p-name").get_text(strip=True) for li in page.select("li.engage-item")]
    assert names == ["Pub", "Quiet"]
    # The setting holds at once, even in a build that fetches nothing.
    hits = sum(server.hits.values())
    for unlisted, expected in ((False, ["Pub"]), (True, ["Pub", "Quiet"])):
        site.build(ENGAGE_OFFLINE=True, ENGAGE_MASTODON={"unlisted": unlisted})
        page = site.html("p.html")
        shown = [
            li.select_one(".p-name").get_text(strip=True) for li in page.select("li.engage-item")
        ]
        assert shown == expected
    assert sum(server.hits.values()) == hits


def test_an_unlisted_reply_by_the_author_still_answers(
    site: Site, server: Server, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    CaseMastodon(server, "unlisted-author")
    settings = {"ENGAGE_AUTHOR": {"names": ["Marin"], "mastodon": ["marin@127.0.0.1"]}}
    page = build(site, server, "114100000000000000", **settings)
    shown = items(page)
    h = host(server)
    assert f"mastodon:{h}/114100000000000001" in shown  # Ann, public
    assert f"mastodon:{h}/114100000000000002" not in shown  # Marin, unlisted
    assert f"mastodon:{h}/114100000000000004" not in shown  # Quiet, unlisted
    assert f"mastodon:{h}/114100000000000005" not in shown  # followers only
    assert "cast-iron" not in page.decode() and "Followers only" not in page.decode()
    monkeypatch.chdir(site.root)
    conf = site.write_conf(ENGAGE_OFFLINE=True, **settings)
    capsys.readouterr()
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    waiting = {row["id"] for row in json.loads(capsys.readouterr().out)["waiting"]}
    # Ann was answered (unlisted); Bo asks the author under that answer.
    assert f"mastodon:{h}/114100000000000001" not in waiting
    assert f"mastodon:{h}/114100000000000003" in waiting


def test_a_reply_the_server_confirms_deleted_leaves_the_page(
    site: Site, server: Server, caplog
) -> None:
    """Missing from a complete context, then a 404 for that very status:
    a tombstone.  Its reply is still there (the server answers for it)."""
    caplog.set_level(logging.INFO)
    mastodon = CaseMastodon(server, "deleted-reply/before")
    h = host(server)
    first = items(build(site, server, "114200000000000000"))
    assert set(first) == {f"mastodon:{h}/114200000000000001", f"mastodon:{h}/114200000000000002"}
    mastodon.use("deleted-reply/after")
    page = build(site, server, "114200000000000000")
    shown = items(page)
    assert f"mastodon:{h}/114200000000000001" not in shown
    assert "I will delete this" not in page.decode()
    assert f"mastodon:{h}/114200000000000002" in shown
    assert f"mastodon:{h}/114200000000000003" in shown
    record = Archive(site.root / "archive").load("p")
    assert set(record.tombstones) == {f"mastodon:{h}/114200000000000001"}
    assert f"mastodon:{h}/114200000000000001" not in record.items
    assert f"mastodon:{h}/114200000000000002" in record.items
    assert any("114200000000000001 was deleted upstream" in r.getMessage() for r in caplog.records)


def test_a_failed_or_cut_context_never_deletes(site: Site, server: Server) -> None:
    """Absent from an answer is not deleted: an outage or a short thread
    asks nothing and removes nothing."""
    mastodon = CaseMastodon(server, "deleted-reply/before")
    build(site, server, "114200000000000000")
    mastodon.use("deleted-reply/after")
    # The thread now says 3 replies but only one came: not complete.
    status = json.loads((CASES / "deleted-reply/after/status-114200000000000000.json").read_text())
    status["replies_count"] = 3
    body = json.dumps(status).encode()
    server.routes["/api/v1/statuses/114200000000000000"] = lambda h_, n: send(h_, 200, body)
    build(site, server, "114200000000000000")
    assert "/api/v1/statuses/114200000000000001" not in server.hits
    record = Archive(site.root / "archive").load("p")
    assert not record.tombstones and len(record.items) == 3
    # A 503 for the status itself proves nothing either.
    server.routes["/api/v1/statuses/114200000000000000"] = lambda h_, n: send(h_, 503)
    build(site, server, "114200000000000000")
    assert not Archive(site.root / "archive").load("p").tombstones
