"""Report and people output is data, never markup or terminal control.

Security field case F6: a Mastodon reply whose URL closes the Markdown link
and opens an image, whose author's name holds a right-to-left override and
whose text holds a C1 control (CSI).  The same kinds of value are tried on
every output format of ``report`` and ``people``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cmarkgfm
import pytest
from bs4 import BeautifulSoup

from pelican_engage import people, report
from pelican_engage.cli import main
from pelican_engage.identity import AuthorIdentity
from pelican_engage.model import Item, Person, Post, Thread
from pelican_engage.textsafe import md_link, safe_url
from tests.conftest import DATA, Site
from tests.loopback import Server, send

F6 = DATA / "report" / "f6-injection"
NOW = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)
#: C0 but tab and newline, C1, and the bidi embeddings, overrides and isolates.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

HOSTILE_URLS = [
    "https://a.example/x>)![pixel](https://track.example/p.png?who=author)<",
    "https://a.example/x)![pixel](https://track.example/p.png)",
    "https://a.example/a b)![p](https://track.example/p.png)",
    "https://a.example/x|![p](https://track.example/p.png)|",
    "https://a.example/x\\)![p](https://track.example/p.png)",
    "https://a.example/<img src=https://track.example/p.png>",
    "https://a.example/x]![p](https://track.example/p.png)[",
    "javascript:alert(1)//)![p](https://track.example/p.png)",
    "https://a.example/\u202ex\u009b31m)![p](https://track.example/p.png)",
]
HOSTILE_NAMES = [
    "Eve\u202egnp.exe",
    "![p](https://track.example/p.png)",
    "<img src=https://track.example/p.png>",
    "a | b | c",
    "x\n\n![p](https://track.example/p.png)",
    "&lt;img src=https://track.example/p.png&gt;",
    "`code` *em* _em_ [l](https://track.example/)",
    "Bell\x07\x1b[31mRed\u2066iso\u2069",
    "see https://track.example/p.png or www.track.example or eve@track.example",
]


def _thread(name: str, url: str, text: str = "Question?\u009b31m") -> Thread:
    item = Item(
        id="mastodon:a.example/2",
        source="mastodon",
        kind="reply",
        url=url,
        author=Person(name=name, handle="eve@a.example", url=url),
        published=NOW - timedelta(days=2),
        content_html=f"<p>{text}</p>",
        extras={"reply_url": url},
    )
    post = Post("post", f"Post {name}", url)
    return Thread(post=post, items=(item,), waiting=frozenset({item.id}))


def _rendered(markdown: str) -> BeautifulSoup:
    html = cmarkgfm.github_flavored_markdown_to_html(markdown)
    return BeautifulSoup(html, "html.parser")


def _assert_inert_markdown(markdown: str, ours: tuple[str, ...] = ()) -> None:
    page = _rendered(markdown)
    # No image, no raw HTML, and every link goes where we said: to a.example
    # (not even GFM's links made of bare URLs in text; a bare e-mail address
    # is linked by GFM whatever the escapes, and shows what it opens).
    assert page.find("img") is None, markdown
    for link in page.find_all("a"):
        mailto = link["href"] == f"mailto:{link.get_text()}"
        allowed = ("https://a.example/", *ours)
        assert mailto or link["href"].startswith(allowed), (link, markdown)
    # The table keeps its five columns (no "|" from a stranger splits a cell).
    for row in page.select("tbody tr"):
        assert len(row.find_all("td")) == 5, markdown
    assert not CONTROLS.search(markdown)


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_markdown_report_link_targets_cannot_break_out(url: str) -> None:
    rows = report.waiting_rows([_thread("Eve", url)], NOW)
    markdown = report.as_markdown(rows, 1)
    assert "![" not in markdown.replace("\\!\\[", "")
    _assert_inert_markdown(markdown)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_markdown_report_names_titles_and_excerpts_are_text(name: str) -> None:
    thread = _thread(name, "https://a.example/@eve/2", text=name.replace("<", "&lt;"))
    markdown = report.as_markdown(report.waiting_rows([thread], NOW), 1)
    _assert_inert_markdown(markdown)
    # The words are still there, for the author to read.
    visible = _rendered(markdown).get_text()
    assert "gnp.exe" in visible or "Eve" not in name


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("url", HOSTILE_URLS[:2] + HOSTILE_URLS[-1:])
def test_text_and_csv_reports_hold_no_control_characters(name: str, url: str) -> None:
    rows = report.waiting_rows([_thread(name, url)], NOW)
    text = report.as_text(rows, 1)
    assert not CONTROLS.search(text)
    table = report.as_csv(rows)
    assert not CONTROLS.search(table)
    (parsed,) = csv.DictReader(io.StringIO(table))
    assert parsed["excerpt"] == "Question?31m"


def test_csv_formula_is_neutralised_behind_a_control_character() -> None:
    rows = report.waiting_rows([_thread("\u202e=HYPERLINK(1)", "https://a.example/")], NOW)
    (parsed,) = csv.DictReader(io.StringIO(report.as_csv(rows)))
    assert parsed["author_name"] == "'=HYPERLINK(1)"


def test_json_report_keeps_the_data_with_controls_escaped() -> None:
    url = HOSTILE_URLS[0]
    rows = report.waiting_rows([_thread("Eve\u202egnp.exe", url)], NOW)
    out = report.as_json(rows, 1, NOW)
    assert not CONTROLS.search(out)
    assert "\\u202e" in out and "\\u009b" in out
    (row,) = json.loads(out)["waiting"]
    # Data, unchanged: a script gets what the network sent.
    assert row["author"]["name"] == "Eve\u202egnp.exe"
    assert row["reply_url"] == url
    assert row["excerpt"] == "Question?\u009b31m"


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_people_outputs_are_inert(name: str) -> None:
    thread = _thread(name, "https://a.example/@eve/2")
    found = people.relationships([thread], (), AuthorIdentity(names=("Marin",)))
    for fmt in ("text", "csv", "markdown", "json"):
        out = people.render(fmt, found)
        assert not CONTROLS.search(out), fmt
    page = _rendered(people.render("markdown", found))
    assert page.find("img") is None
    assert all(a["href"] == f"mailto:{a.get_text()}" for a in page.find_all("a"))
    (row,) = json.loads(people.render("json", found))["people"]
    assert row["name"] == name


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/p?q=1&r=2#c-3", "https://a.example/p?q=1&r=2#c-3"),
        ("https://a.example/x>)!<", "https://a.example/x%3E%29%21%3C"),
        ("https://a.example/a b", "https://a.example/a%20b"),
        ("https://a.example:8080/ü", "https://a.example:8080/%C3%BC"),
        ("javascript:alert(1)", ""),
        ("https://user@a.example/", ""),
        ("2026/02/post/#c3", ""),
    ],
)
def test_safe_url(url: str, expected: str) -> None:
    assert safe_url(url) == expected


def test_a_relative_or_odd_link_is_printed_as_text() -> None:
    assert md_link("reply", "post/#c3") == "reply post/\\#c3"
    assert md_link("reply", "javascript:alert(1)") == "reply javascript\\:alert\\(1\\)"


# -- The field case end to end: a live fetch, a build, the CLI -------------------


def _serve_f6(server: Server) -> None:
    text = (F6 / "status.json").read_text(encoding="utf-8")
    status = text.replace("{SERVER}", server.url).encode()
    context = (F6 / "context.json").read_bytes()
    base = "/api/v1/statuses/1"
    server.routes[base] = lambda h, n: send(h, 200, status, Content_Type="application/json")
    server.routes[base + "/context"] = lambda h, n: send(h, 200, context)
    for extra in ("favourited_by", "reblogged_by"):
        server.routes[f"{base}/{extra}"] = lambda h, n: send(h, 200, b"[]")


def test_field_case_f6_reports_hold_no_injected_markdown_or_controls(
    site: Site, server: Server, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    _serve_f6(server)
    site.article("post", title="Post", mastodon=f"{server.url}/@marin/1")
    site.build()
    capsys.readouterr()
    conf = site.write_conf()
    monkeypatch.setenv("ENGAGE_OFFLINE", "1")  # the report reads what the build fetched
    assert main(["report", "-s", str(conf), "--format", "markdown"]) == 0
    markdown, _ = capsys.readouterr()
    assert len(re.findall(r"!\[pixel\]", markdown)) == 0
    assert "x%3E%29%21%5Bpixel%5D%28" in markdown
    _assert_inert_markdown(markdown, ours=("https://blog.example/post.html",))
    assert main(["report", "-s", str(conf), "--format", "text"]) == 0
    text, _ = capsys.readouterr()
    assert "Eve" in text and "gnp.exe" in text and "Question?31m" in text
    assert sorted(hex(ord(c)) for c in set(text) if c in "\u009b\u202e") == []
    assert not CONTROLS.search(text)


def test_field_case_inputs_are_the_hostile_ones() -> None:
    # Positive control: the served data does carry what the report must remove.
    context = json.loads((F6 / "context.json").read_text(encoding="utf-8"))
    reply = context["descendants"][0]
    assert ")![pixel](" in reply["url"]
    assert "\u202e" in reply["account"]["display_name"]
    assert "\u009b" in reply["content"]
    assert Path(F6 / "status.json").is_file()
