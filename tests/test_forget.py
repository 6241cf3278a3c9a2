"""Erasure on request: ``pelican-engage forget ITEM_ID | --person URL_OR_HANDLE``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from tests.conftest import Site
from tests.loopback import Server
from tests.test_bluesky_deletions import ROOT, TreeAppView, post, settings

QUINN = "at://did:plc:quinn00000000000000000aa/app.bsky.feed.post/q1"
QUINN2 = "at://did:plc:quinn00000000000000000aa/app.bsky.feed.post/q2"
OTHER = "at://did:plc:other00000000000000000aa/app.bsky.feed.post/o1"


@pytest.fixture
def thread(server: Server, site: Site) -> TreeAppView:
    appview = TreeAppView(server)
    appview.add(ROOT, post(QUINN, "Quinn", "Quinn's private musings"))
    appview.add(QUINN, post(OTHER, "Other", "Other answers"))
    appview.add(ROOT, post(QUINN2, "Quinn", "Quinn again"))
    site.article("moving", bluesky=ROOT)
    site.comment(
        "moving",
        "c1.md",
        "A local comment by Quinn",
        author="Quinn",
        website="https://quinn.example/",
    )
    return appview


def run(
    site: Site, server: Server, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    conf = site.write_conf(**settings(server))
    capsys.readouterr()
    status = main([*args, "-s", str(conf)])
    out = capsys.readouterr()
    return status, out.out, out.err


def ids(site: Site) -> list[str]:
    page = site.html("moving.html")
    return sorted(li["data-engage-id"] for li in page.select("li.engage-item"))


def test_forget_a_person_erases_them_now_and_later(
    site: Site, server: Server, thread: TreeAppView, capsys: pytest.CaptureFixture[str]
) -> None:
    site.build(**settings(server))
    assert len(ids(site)) == 4
    status, out, _err = run(
        site, server, capsys, "forget", "--person", "https://bsky.app/profile/quinn.bsky.example"
    )
    assert status == 0 and "Forgot 2 item(s)" in out
    site.build(**settings(server))
    assert ids(site) == [f"bluesky:{OTHER}", "comment:moving/c1"]
    page = (site.output / "moving.html").read_text()
    assert "Quinn&#39;s private musings" not in page and "musings" not in page
    # Other's answer stays, under a placeholder where Quinn's reply was.
    assert site.html("moving.html").select_one(".engage-placeholder") is not None

    # A new reply by Quinn, under a new handle: the DID is remembered.
    moved = post("at://did:plc:quinn00000000000000000aa/app.bsky.feed.post/q3", "Q", "Back!")
    moved["author"]["handle"] = "q.example"
    thread.add(ROOT, moved)
    assert run(site, server, capsys, "fetch", "--force")[0] == 0
    archive = Archive(site.root / "archive")
    assert set(archive.load("moving").items) == {f"bluesky:{OTHER}"}
    forgotten = (site.root / "archive" / "forgotten.json").read_text()
    assert "quinn" not in forgotten.casefold()
    data = json.loads(archive.post_path("moving").read_text())
    assert "Quinn" not in json.dumps(data) and "musings" not in json.dumps(data)


def test_forget_one_item_and_its_local_file(
    site: Site, server: Server, thread: TreeAppView, capsys: pytest.CaptureFixture[str]
) -> None:
    site.build(**settings(server))
    status, out, _err = run(site, server, capsys, "forget", f"bluesky:{QUINN2}")
    assert status == 0 and "forgotten in 1 post(s)" in out
    status, out, _err = run(site, server, capsys, "forget", "comment:moving/c1")
    assert status == 0 and "also delete the comment file" in out and "c1.md" in out
    site.build(**settings(server))
    assert ids(site) == [f"bluesky:{OTHER}", f"bluesky:{QUINN}"]
    run(site, server, capsys, "fetch", "--force")
    site.build(**settings(server))
    assert ids(site) == [f"bluesky:{OTHER}", f"bluesky:{QUINN}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("forget", "bluesky:at://nobody/app.bsky.feed.post/x"), "no item"),
        (("forget",), "either ITEM_ID or --person"),
        (("forget", "x", "--person", "@quinn"), "either ITEM_ID or --person"),
    ],
)
def test_forget_says_what_is_wrong(
    site: Site,
    server: Server,
    thread: TreeAppView,
    capsys: pytest.CaptureFixture[str],
    args: Any,
    message: str,
) -> None:
    site.build(**settings(server))
    status, _out, err = run(site, server, capsys, *args)
    assert status == 2 and message in err


def test_forget_a_commenter_by_their_website(
    site: Site, server: Server, thread: TreeAppView, capsys: pytest.CaptureFixture[str]
) -> None:
    site.build(**settings(server))
    status, out, _err = run(site, server, capsys, "forget", "--person", "https://quinn.example")
    assert status == 0 and "Forgot 1 item(s)" in out and "c1.md" in out
    site.build(**settings(server))
    assert "comment:moving/c1" not in ids(site)
    assert "A local comment by Quinn" not in (site.output / "moving.html").read_text()
