"""Bluesky threads as the network shows them, built into a site.

Table-driven: each ``tests/data/bluesky/cases/<name>.json`` is a
getPostThread answer served by a loopback AppView, and ``<name>.expected.json``
says what the page, the archive and ``report --format json`` must hold:
``shown`` (item id -> facts), ``waiting`` ids, the ``hidden`` count, text that
must be ``absent`` from the output and the report.  A new case is a new pair.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from tests.conftest import Site
from tests.loopback import Server, send

CASES = Path(__file__).parent / "data" / "bluesky" / "cases"
AUTHOR = {"names": ["Marin"], "bluesky": ["marin.example"]}


def serve_thread(server: Server, answer: Callable[[], bytes] | bytes) -> None:
    def thread(handler: Any, _n: int) -> None:
        body = answer() if callable(answer) else answer
        send(handler, 200, body, Content_Type="application/json")

    server.routes["/xrpc/app.bsky.feed.getPostThread"] = thread


def report(site: Site, capsys: pytest.CaptureFixture[str], **settings: Any) -> dict[str, Any]:
    conf = site.write_conf(**settings)
    capsys.readouterr()
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def output_text(site: Site) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in site.output.rglob("*")
        if p.is_file()
    )


@pytest.mark.parametrize(
    "case", sorted(p.name[: -len(".expected.json")] for p in CASES.glob("*.expected.json"))
)
def test_bluesky_case(
    case: str,
    site: Site,
    server: Server,
    capsys: pytest.CaptureFixture[str],
    engage_warnings: Callable[[], list[str]],
) -> None:
    answer = (CASES / f"{case}.json").read_bytes()
    expected = json.loads((CASES / f"{case}.expected.json").read_text())
    root = json.loads(answer)["thread"]["post"]["uri"]
    serve_thread(server, answer)
    site.article("p", bluesky=root)
    settings = {
        "ENGAGE_AUTHOR": AUTHOR,
        "ENGAGE_BLUESKY": {"api_url": server.url, "reactions": False},
        "ENGAGE_REPORT_PAGE": None,
    }
    site.build(**settings)
    page = site.html("p.html")
    shown = {li["data-engage-id"]: li for li in page.select("li.engage-item")}
    assert set(shown) == set(expected["shown"])
    for item_id, facts in expected["shown"].items():
        li = shown[item_id]
        if "published" in facts:
            assert li.select_one("time.dt-published")["datetime"] == facts["published"]
        if "parent" in facts:
            assert li["data-engage-parent"] == facts["parent"]
        if "by_author" in facts:
            assert ("engage-by-author" in li["class"]) == facts["by_author"]
        if "name" in facts:
            assert li.select_one(".p-name").get_text() == facts["name"]
        if "permalink" in facts:
            assert li.select_one("a.engage-permalink")["href"] == facts["permalink"]
        if "author_url" in facts:
            assert li.select_one(".p-name")["href"] == facts["author_url"]
        if "content" in facts:
            content = li.select_one(".e-content")
            assert content.get_text(" ", strip=True) == facts["content"]
            assert [a["href"] for a in content.select("a")] == facts["links"]
        if "warning" in facts:
            details = li.select_one("details.engage-warning")
            assert facts["warning"] in details.summary.get_text()
            assert details.select_one(".e-content").get_text(strip=True)
        if "placeholder_parent" in facts:
            holder = li.find_parent("li")
            assert holder is not None and "engage-placeholder" in holder["class"]
            assert f"engage-placeholder-{facts['placeholder_parent']}" in holder["class"]
            assert li["data-engage-parent"] == holder["data-engage-id"]
    assert len(page.select(".engage-placeholder")) == expected.get("placeholders", 0)

    data = report(site, capsys, **settings)
    assert sorted(row["id"] for row in data["waiting"]) == sorted(expected["waiting"])
    assert data["totals"]["hidden"] == expected["hidden"]
    for item_id, facts in expected["shown"].items():
        row = next((r for r in data["waiting"] if r["id"] == item_id), None)
        if row and "reply_url" in facts:
            assert row["reply_url"] == facts["reply_url"]
    text = output_text(site) + json.dumps(data)
    for word in expected.get("absent", []):
        assert word not in text
    # What the network withholds is still archived, for the count and in
    # case the author unhides it; the page and the report never show it.
    archived = Archive(site.root / "archive").load("p").items
    assert set(expected["shown"]) <= set(archived)
    assert len(archived) == len(expected["shown"]) + expected["hidden"]
    assert engage_warnings() == []
