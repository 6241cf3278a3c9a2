"""Notifications without a server: `report --new`, waiting.atom, the author's
page on a phone, and the CI workflow with its issue body."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from pelican_engage.cli import main
from tests.conftest import Site

ROOT = Path(__file__).parent.parent
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def conf(site: Site, monkeypatch: pytest.MonkeyPatch) -> Path:
    site.article("hello", title="Hello world")
    site.comment("hello", "c1.md", "How did you do it?", author="Al", date="2026-11-02T10:00")
    site.comment("hello", "c2.md", "Nice.", author="Bo", date="2026-11-03T10:00")
    monkeypatch.chdir(site.root)
    return site.write_conf(TIMEZONE="Europe/Paris")


def report(capsys: pytest.CaptureFixture[str], conf: Path, *more: str) -> dict:
    assert main(["report", "-s", str(conf), "--format", "json", *more]) == 0
    return json.loads(capsys.readouterr().out)


def test_report_new_lists_only_what_arrived_since_the_last_report(
    conf: Path, site: Site, capsys
) -> None:
    first = report(capsys, conf)
    assert [(r["id"], r["new"]) for r in first["waiting"]] == [
        ("comment:hello/c1", True),
        ("comment:hello/c2", True),
    ]
    assert report(capsys, conf, "--new")["waiting"] == []
    assert main(["report", "-s", str(conf), "--new"]) == 0
    assert capsys.readouterr().out == (
        "Nothing new since the last report or build (2 waiting, 2 item(s) checked).\n"
    )
    site.comment("hello", "c3.md", "And then?", author="Cy", date="2026-11-04T10:00")
    marked = report(capsys, conf)
    assert {r["id"]: r["new"] for r in marked["waiting"]} == {
        "comment:hello/c1": False,
        "comment:hello/c3": True,
        "comment:hello/c2": False,
    }
    assert marked["totals"]["new"] == 1
    assert report(capsys, conf, "--new")["waiting"] == []


def test_report_new_counts_everybody_waiting_and_says_how_many_are_new(
    conf: Path, site: Site, capsys
) -> None:
    """--new lists the new rows only; its totals still count everybody
    waiting (a fresh tester read 1 waiting where 3 were)."""
    report(capsys, conf)
    site.comment("hello", "c3.md", "And then?", author="Cy", date="2026-11-04T10:00")
    shown = report(capsys, conf, "--new")
    assert [r["id"] for r in shown["waiting"]] == ["comment:hello/c3"]
    assert (shown["totals"]["waiting"], shown["totals"]["new"]) == (3, 1)
    site.comment("hello", "c4.md", "Still there?", author="Di", date="2026-11-05T10:00")
    assert main(["report", "-s", str(conf), "--new"]) == 0
    text = capsys.readouterr().out
    assert text.rstrip().endswith("1 new of 4 waiting for a reply (1 question(s)), of 4 item(s).")
    site.comment("hello", "c5.md", "Well.", author="Ed", date="2026-11-06T10:00")
    assert main(["report", "-s", str(conf), "--new", "--format", "markdown"]) == 0
    assert "1 new of 5 waiting for a reply" in capsys.readouterr().out
    everything = report(capsys, conf)  # without --new: as before
    assert (everything["totals"]["waiting"], everything["totals"]["new"]) == (5, 0)
    assert main(["report", "-s", str(conf)]) == 0
    assert "\n5 waiting for a reply" in capsys.readouterr().out


def test_a_filtered_report_leaves_the_rest_new(conf: Path, site: Site, capsys) -> None:
    site.article("other")
    site.comment("other", "c1.md", "Hm?", author="Di", date="2026-11-04T10:00")
    assert [r["id"] for r in report(capsys, conf, "--post", "hello")["waiting"]] == [
        "comment:hello/c1",
        "comment:hello/c2",
    ]
    assert [r["id"] for r in report(capsys, conf, "--new")["waiting"]] == ["comment:other/c1"]


def test_a_build_counts_as_a_report(conf: Path, site: Site, capsys) -> None:
    site.build(TIMEZONE="Europe/Paris")
    capsys.readouterr()  # Pelican's own output
    assert report(capsys, conf, "--new")["waiting"] == []
    site.comment("hello", "c3.md", "And then?", author="Cy", date="2026-11-04T10:00")
    assert [r["id"] for r in report(capsys, conf, "--new")["waiting"]] == ["comment:hello/c3"]


def test_a_warm_build_leaves_seen_json_unread_until_something_changed(
    conf: Path, site: Site, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pelican_engage import notify

    seen = site.root / "cache" / "engage" / "seen.json"
    loads: list[Path] = []
    load_seen = notify.load_seen
    monkeypatch.setattr(notify, "load_seen", lambda path: loads.append(path) or load_seen(path))

    def build_then_report_new() -> list[dict]:
        site.build(TIMEZONE="Europe/Paris")
        capsys.readouterr()  # Pelican's own output
        return report(capsys, conf, "--new")["waiting"]

    site.build(TIMEZONE="Europe/Paris")
    site.build(TIMEZONE="Europe/Paris")  # same threads, seen.json as the last build left it
    assert len(loads) == 1
    assert build_then_report_new() == []  # a report that changes nothing keeps the file
    assert len(loads) == 2
    seen.write_text('{"seen": []}', encoding="utf-8")  # changed since: read again
    assert build_then_report_new() == []
    assert len(loads) == 4
    site.comment("hello", "c3.md", "And then?", author="Cy", date="2026-11-04T10:00")
    assert build_then_report_new() == []  # a thread changed: the build saw c3
    assert len(loads) == 6
    seen.unlink()
    assert build_then_report_new() == []
    assert len(loads) == 8


def feed_entries(site: Site) -> tuple[ElementTree.Element, dict[str, str]]:
    tree = ElementTree.parse(site.root / "engage-report" / "waiting.atom").getroot()
    entries = {
        e.findtext(f"{ATOM}id"): e.find(f"{ATOM}link").get("href")  # type: ignore[union-attr]
        for e in tree.iter(f"{ATOM}entry")
    }
    return tree, entries  # type: ignore[return-value]


def test_waiting_atom_has_stable_ids_and_absolute_links(conf: Path, site: Site) -> None:
    site.build(SITEURL="https://blog.example/sub")
    tree, first = feed_entries(site)
    assert tree.get("{http://www.w3.org/XML/1998/namespace}base") == "https://blog.example/sub/"
    assert set(first) == {
        "urn:pelican-engage:comment:hello/c1",
        "urn:pelican-engage:comment:hello/c2",
    }
    assert all(link.startswith("https://blog.example/sub/hello.html#") for link in first.values())
    site.comment("hello", "c3.md", "And then?", author="Cy", date="2026-11-04T10:00")
    site.build(SITEURL="https://blog.example/sub")
    _tree, second = feed_entries(site)
    assert set(second) - set(first) == {"urn:pelican-engage:comment:hello/c3"}
    assert {k: second[k] for k in first} == first


def test_a_relative_siteurl_still_gives_absolute_feed_links(conf: Path, site: Site) -> None:
    site.build(SITEURL="")
    tree, _entries = feed_entries(site)
    # Without SITEURL nothing can make them absolute: no xml:base pretends to.
    assert tree.get("{http://www.w3.org/XML/1998/namespace}base") is None


def test_the_authors_page_speaks_in_words_and_in_the_sites_timezone(conf: Path, site: Site) -> None:
    site.comment("hello", "m1.md", "Thanks!", author="Marin", date="2026-11-05", replyto="c2")
    site.build(TIMEZONE="Europe/Paris")
    page = (site.root / "engage-report" / "index.html").read_text(encoding="utf-8")
    # c1 was written 10:00 in Paris: 10:00 on the page, with the zone named.
    assert "Monday 2 November 2026, 10:00 (Europe/Paris)" in page
    assert re.search(r"as of <time datetime=\"[^\"]+\">\w+day \d+ \w+ \d{4}, \d\d:\d\d", page)
    assert "Bar height: the share of messages you answered" in page
    assert 'class="items"' in page and "overflow-wrap:anywhere" in page


def test_the_authors_page_fits_a_390_px_phone(site: Site, tmp_path: Path) -> None:
    chromium = next(
        (
            shutil.which(n)
            for n in ("chromium", "chromium-browser", "google-chrome")
            if shutil.which(n)
        ),
        None,
    )
    if chromium is None:
        pytest.skip("no Chromium on PATH")
    site.article("a-rather-long-title-for-a-post-" + "x" * 60)
    long_slug = "a-rather-long-title-for-a-post-" + "x" * 60
    site.comment(
        long_slug,
        "a-very-long-comment-file-name-without-any-break-" + "y" * 80 + ".md",
        "See https://example.org/" + "z" * 200,
        author="Somebody With A Long Name",
        date="2026-11-02T10:00",
    )
    site.build()
    page = site.root / "engage-report" / "index.html"
    probe = page.parent / "probe.html"
    # Headless Chromium's window is at least 500 px wide: the page is loaded
    # in a 390 px frame, and the probe (the page itself has no script)
    # measures the frame's document.
    probe.write_text(
        '<iframe id="f" src="index.html" style="width:390px;height:844px;border:0"></iframe>'
        "<script>const f=document.getElementById('f');f.onload=()=>{"
        "const d=f.contentDocument.documentElement;"
        "document.documentElement.setAttribute('data-width',"
        "d.scrollWidth+'/'+f.contentWindow.innerWidth)}</script>",
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--allow-file-access-from-files",
            "--virtual-time-budget=3000",
            "--hide-scrollbars",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    found = re.search(r'data-width="(\d+)/(\d+)"', done.stdout)
    assert found, done.stderr[-2000:]
    scroll, inner = int(found[1]), int(found[2])
    assert inner == 390 and scroll <= inner


def test_the_issue_body_and_title(conf: Path, site: Site, capsys, tmp_path: Path) -> None:
    title = tmp_path / "title.txt"
    assert main(["issue", "-s", str(conf), "--title-file", str(title)]) == 0
    body = capsys.readouterr().out
    assert title.read_text(encoding="utf-8") == "2 people are waiting for your reply\n"
    assert body.startswith("**2 people are waiting for your reply** (2 new since the last run)")
    assert "| Waiting | Source | Who | Message | |" in body and "How did you do it?" in body
    assert main(["issue", "-s", str(conf), "--title-file", str(title)]) == 0
    assert "new since" not in capsys.readouterr().out
    site.comment("hello", "m1.md", "Thanks!", author="Marin", date="2026-11-05", replyto="c1")
    site.comment("hello", "m2.md", "Thanks!", author="Marin", date="2026-11-05", replyto="c2")
    assert main(["issue", "-s", str(conf), "--title-file", str(title)]) == 0
    assert title.read_text(encoding="utf-8") == "0 people are waiting for your reply\n"


# The CI workflows ---------------------------------------------------------------

WORKFLOWS = {
    "github-engage.yml": "vendor.github-workflows",
    "gitlab-engage.yml": "vendor.gitlab-ci",
}


def fenced_yaml(markdown: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", markdown, re.S)


def test_docs_show_the_validated_workflow_files() -> None:
    shown = fenced_yaml((ROOT / "docs" / "ci.md").read_text(encoding="utf-8"))
    files = [(ROOT / "docs" / "ci" / name).read_text(encoding="utf-8") for name in WORKFLOWS]
    assert shown == files


@pytest.mark.parametrize(("name", "schema"), WORKFLOWS.items())
def test_workflow_files_validate_against_their_schemas(name: str, schema: str) -> None:
    pytest.importorskip("check_jsonschema")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            schema,
            str(ROOT / "docs" / "ci" / name),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_fetch_commit_build_and_write_the_issue_the_tests_write() -> None:
    yaml = pytest.importorskip("yaml")
    github = yaml.safe_load((ROOT / "docs" / "ci" / "github-engage.yml").read_text())
    # PyYAML reads the key "on" as True (YAML 1.1).
    triggers = github.get("on", github.get(True))
    assert triggers["schedule"][0]["cron"]
    assert github["permissions"] == {"contents": "write", "issues": "write"}
    steps = " ".join(str(s.get("run", "")) for s in github["jobs"]["engage"]["steps"])
    gitlab = yaml.safe_load((ROOT / "docs" / "ci" / "gitlab-engage.yml").read_text())
    assert gitlab["engage"]["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "schedule"'
    script = " ".join(gitlab["engage"]["script"])
    for text in (steps, script):
        order = [
            text.index("pelican-engage fetch"),
            text.index("git commit"),
            text.index("pelican content"),
            text.index("pelican-engage issue -s pelicanconf.py --title-file title.txt"),
        ]
        assert order == sorted(order)
    # Tokens come from the CI's secret store, never from a file in the repository.
    assert (
        "${{ secrets.ENGAGE_MASTODON_TOKEN }}" in (ROOT / "docs/ci/github-engage.yml").read_text()
    )
    assert "oauth2:${ENGAGE_GITLAB_TOKEN}@" in script
