"""``pelican-engage import`` of comment exports, on a real Pelican site.

The site has the articles the fixtures of ``test_importers`` point at:
``hello-world`` (found by its slug), ``renamed-post`` (the old
``/2013/07/old-name/``, found by its kept URL path), ``greetings`` and
``first-steps``; ``gone-post`` of the exports matches nothing.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.sources.wordpress import parse_comment
from tests.conftest import Site

DATA = Path(__file__).parent / "data"
WXR = DATA / "wxr" / "export-1.2.xml"
DISQUS = DATA / "disqus" / "export.xml"
PAGES = DATA / "wordpress-html"

AUTHOR = {"names": ["Marin"], "emails": ["marin@mail.example"]}
SETTINGS: dict[str, Any] = {
    "ENGAGE_AUTHOR": AUTHOR,
    "ENGAGE_OFFLINE": True,
    "TIMEZONE": "Europe/Paris",
}
#: What must never reach the archive or the site: e-mails, IPs, left-out entries.
PRIVATE = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+|192\.0\.2\.|203\.0\.113\.|SPAMWORD|TRASHWORD|DELETEDWORD"
    # (The thread's JSON-LD is the one script element a page may have: data.)
    r'|ORPHANWORD|<script(?! type="application/ld\+json">)|alert\(|javascript:',
    re.IGNORECASE,
)


NOT_PLACED = (
    "Not placed: {n} exported post(s) match no article (by URL, path, slug, engage_key or "
    "old_urls). Set `engage_key: OLD_SLUG` or `old_urls: OLD_URL` on the article, or give "
    "--map OLD_URL=KEY (repeatable; --map-file for a CSV of OLD_URL,KEY rows); --post KEY "
    "for a one-post export:"
)


def wp(comment_id: int) -> str:
    return f"wordpress:old.example.org/{comment_id}"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def waiting(capsys: pytest.CaptureFixture[str], conf: Path) -> list[str]:
    code, out, _ = run(capsys, "report", "-s", str(conf), "--format", "json")
    assert code == 0
    # Sorted: the report puts questions first, which is not what these check.
    return sorted(row["id"] for row in json.loads(out)["waiting"])


def archived(conf: Path, key: str) -> set[str]:
    return set(Archive(conf.parent / "archive").load(key).items)


@pytest.fixture
def blog(site: Site, monkeypatch: pytest.MonkeyPatch) -> Site:
    site.article("hello-world", "Hello, world")
    # Moved from WordPress keeping its URL, under a new slug.
    site.article("renamed-post", url="2013/07/old-name/", save_as="2013/07/old-name/index.html")
    site.article("greetings")
    site.article("first-steps")
    monkeypatch.chdir(site.root)
    return site


@pytest.fixture
def conf(blog: Site) -> Path:
    return blog.write_conf(**SETTINGS)


def do_import(
    capsys: pytest.CaptureFixture[str], conf: Path, fmt: str, path: Path | str, *extra: str
) -> tuple[int, str, str]:
    return run(capsys, "import", fmt, str(path), "-s", str(conf), *extra)


def disqus_gz(tmp_path: Path) -> Path:
    """The export as Disqus mails it; built here so no binary is committed."""
    target = tmp_path / "marinsnotes-2016-02-01T10-00-00.xml.gz"
    target.write_bytes(gzip.compress(DISQUS.read_bytes()))
    return target


def output_text(site: Site) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in site.output.rglob("*.html"))


def test_wxr_import_end_to_end(blog: Site, conf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = do_import(capsys, conf, "wordpress-wxr", WXR)
    assert code == 0, err
    assert out == (
        "Read 11 comment(s) on 3 post(s); imported 10 into 2 post(s), 10 new.\n"
        "Left out: 2 pending, 1 spam, 1 trash.\n" + NOT_PLACED.format(n=1) + "\n"
        "  https://old.example.org/2014/01/gone-post/\n"
    )
    archive = conf.parent / "archive"
    assert sorted(snapshot(archive)) == ["posts/hello-world.json", "posts/renamed-post.json"]
    assert archived(conf, "renamed-post") == {wp(30), wp(31)}
    assert not PRIVATE.search(b"".join(snapshot(archive).values()).decode())

    # Alice (answered by 11), Bob (answered by 13) and Carol (a reader
    # answering a reader) wait for nobody; Eve and Dave do: Sam is not Marin.
    assert waiting(capsys, conf) == [wp(19), wp(30)]

    blog.build(**SETTINGS)
    html = blog.html("hello-world.html")

    def node(comment_id: int) -> Any:
        found = html.select_one(f'li[data-engage-id="{wp(comment_id)}"]')
        assert found is not None, comment_id
        return found

    for child, parent in ((11, 10), (12, 11), (13, 12), (20, 10)):
        assert node(child)["data-engage-parent"] == wp(parent)
        assert node(child).find_parent("li") is node(parent)
    # Marked by the user id and by the e-mail: neither name is "Marin".
    assert {n for n in (10, 11, 12, 13, 19, 20) if "engage-by-author" in node(n)["class"]} == {
        11,
        13,
    }
    for mention in (17, 18):
        assert "engage-kind-mention" in node(mention)["class"]
    assert node(17).select_one("a.p-name")["href"] == "https://other.example/2013/06/about-hello/"
    assert "click me" in node(19).get_text()
    moved = blog.html("2013/07/old-name/index.html")
    sam = moved.select_one(f'li[data-engage-id="{wp(31)}"]')
    assert sam["data-engage-parent"] == wp(30) and "engage-by-author" not in sam["class"]
    assert not PRIVATE.search(output_text(blog))


def test_disqus_import_of_the_gzipped_export(
    blog: Site, conf: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = do_import(capsys, conf, "disqus", disqus_gz(tmp_path))
    assert code == 0, err
    assert out == (
        "Read 5 comment(s) on 3 post(s); imported 4 into 2 post(s), 4 new.\n"
        "Left out: 2 deleted, 1 spam.\n" + NOT_PLACED.format(n=1) + "\n"
        "  https://old.example.org/2014/01/gone-post/\n"
        "Problems (1):\n"
        "  post 3006: orphan (its thread 2999 is not in the file)\n"
    )
    assert archived(conf, "hello-world") == {"disqus:3001", "disqus:3002", "disqus:3003"}
    assert archived(conf, "renamed-post") == {"disqus:3007"}
    # Bob answered the author; Alice was answered.
    assert waiting(capsys, conf) == ["disqus:3003", "disqus:3007"]

    blog.build(**SETTINGS)
    html = blog.html("hello-world.html")
    marin = html.select_one('li[data-engage-id="disqus:3002"]')
    assert "engage-by-author" in marin["class"]
    assert marin["data-engage-parent"] == "disqus:3001"
    assert marin.find_parent("li")["data-engage-id"] == "disqus:3001"
    bob = html.select_one('li[data-engage-id="disqus:3003"]')
    assert bob.find_parent("li") is marin and "engage-by-author" not in bob["class"]
    assert not PRIVATE.search(output_text(blog))


def test_a_page_matching_no_article_goes_where_post_says(
    blog: Site, conf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = PAGES / "core-legacy.html"
    code, out, _ = do_import(capsys, conf, "wordpress-html", page)
    assert code == 0
    assert out.endswith("  https://old.example.org/2009/03/spring-cleaning/\n")
    assert "imported 0 into 0 post(s), 0 new." in out
    assert not (conf.parent / "archive").exists()

    code, out, _ = do_import(capsys, conf, "wordpress-html", page, "--post", "greetings")
    assert code == 0
    assert out == "Read 3 comment(s) on 1 post(s); imported 3 into 1 post(s), 3 new.\n"
    assert archived(conf, "greetings") == {wp(60), wp(61), wp(62)}
    # Ivan is answered by the author (bypostauthor); Judy waits.
    assert waiting(capsys, conf) == [wp(62)]

    blog.build(**SETTINGS)
    html = blog.html("greetings.html")
    answer = html.select_one(f'li[data-engage-id="{wp(61)}"]')
    assert "engage-by-author" in answer["class"]
    assert answer.find_parent("li")["data-engage-id"] == wp(60)
    assert "Reply" not in answer.select_one(".e-content").get_text()


def test_a_saved_page_without_canonical_needs_url(
    conf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = PAGES / "saved-without-canonical.html"
    code, out, err = do_import(capsys, conf, "wordpress-html", page)
    assert code == 2 and out == ""
    assert str(page) in err and "--url" in err and "nothing imported" in err

    url = "https://old.example.org/2008/11/first-steps/"
    code, out, err = do_import(capsys, conf, "wordpress-html", page, "--url", url)
    assert code == 0, err
    assert out == "Read 1 comment(s) on 1 post(s); imported 1 into 1 post(s), 1 new.\n"
    (kim,) = Archive(conf.parent / "archive").load("first-steps").items.values()
    assert (kim.id, kim.url) == (wp(5), f"{url}#comment-5")


@pytest.mark.parametrize(
    ("fmt", "path", "extra"),
    [
        ("wordpress-wxr", WXR, ()),
        ("disqus", None, ()),
        ("wordpress-html", PAGES / "core-legacy.html", ("--post", "greetings")),
    ],
    ids=["wxr", "disqus-gz", "html"],
)
def test_importing_twice_changes_no_byte(
    conf: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    fmt: str,
    path: Path | None,
    extra: tuple[str, ...],
) -> None:
    path = path or disqus_gz(tmp_path)
    assert do_import(capsys, conf, fmt, path, *extra)[0] == 0
    before = snapshot(conf.parent / "archive")
    assert before
    code, out, _ = do_import(capsys, conf, fmt, path, *extra)
    assert code == 0 and " 0 new.\n" in out.splitlines(keepends=True)[0]
    assert snapshot(conf.parent / "archive") == before


@pytest.mark.parametrize(
    ("fmt", "file"),
    [
        ("wordpress-wxr", DATA / "wxr" / "truncated.xml"),
        ("wordpress-wxr", DATA / "disqus" / "not-disqus.xml"),
        ("disqus", DATA / "disqus" / "truncated.xml"),
        ("disqus", DATA / "disqus" / "not-disqus.xml"),
        ("disqus", WXR),
        ("wordpress-html", PAGES / "no-comments.html"),
        ("wordpress-html", PAGES / "missing.html"),
    ],
    ids=[
        "wxr-truncated",
        "wxr-rss",
        "disqus-truncated",
        "disqus-rss",
        "disqus-wxr",
        "html-no-list",
        "missing",
    ],
)
def test_a_malformed_file_imports_nothing(
    conf: Path, capsys: pytest.CaptureFixture[str], fmt: str, file: Path
) -> None:
    # An archive with something in it: a failed import must leave it alone.
    assert do_import(capsys, conf, "wordpress-wxr", WXR)[0] == 0
    before = snapshot(conf.parent / "archive")
    code, out, err = do_import(capsys, conf, fmt, file)
    assert code == 2 and out == ""
    assert err.startswith(f"pelican-engage: {file}") and err.endswith("; nothing imported\n")
    assert snapshot(conf.parent / "archive") == before


@pytest.mark.parametrize("order", ["wxr-first", "page-first"])
def test_export_page_and_live_fetch_merge_into_one_set(
    blog: Site, conf: Path, capsys: pytest.CaptureFixture[str], order: str
) -> None:
    wxr = ("wordpress-wxr", WXR)
    page = ("wordpress-html", PAGES / "html5-core.html")
    first, second = (wxr, page) if order == "wxr-first" else (page, wxr)
    assert do_import(capsys, conf, *first)[0] == 0
    code, out, _ = do_import(capsys, conf, *second)
    assert code == 0
    # The page repeats 10-13, its pingback 17 and 20; the export adds 18
    # and 19 to them, and old-name's 30 and 31.
    assert (
        out.splitlines()[0]
        == {
            "wxr-first": "Read 6 comment(s) on 1 post(s); imported 6 into 1 post(s), 0 new.",
            "page-first": "Read 11 comment(s) on 3 post(s); imported 10 into 2 post(s), 4 new.",
        }[order]
    )
    ids = {wp(n) for n in (10, 11, 12, 13, 17, 18, 19, 20)}
    assert archived(conf, "hello-world") == ids

    # A live fetch of the same WordPress site (REST API, 5b) names comments
    # alike, so it merges with the import too.
    live = parse_comment(
        {
            "id": 10,
            "post": 42,
            "parent": 0,
            "author": 0,
            "author_name": "Alice",
            "author_url": "https://alice.example.com/",
            "date": "2013-06-02T11:15:00",
            "date_gmt": "2013-06-02T09:15:00",
            "content": {"rendered": "<p>Great post!</p>\n"},
            "link": "https://old.example.org/2013/06/hello-world/#comment-10",
            "status": "approved",
            "type": "comment",
        },
        "old.example.org",
    )
    result = Archive(conf.parent / "archive").merge("hello-world", [live])
    assert result.added == 0 and archived(conf, "hello-world") == ids

    blog.build(**SETTINGS)
    shown = blog.html("hello-world.html").select("li[data-engage-id]")
    assert sorted(li["data-engage-id"] for li in shown) == sorted(ids)  # each once


def test_comment_system_check(blog: Site, conf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(DATA / "local" / "pcs-thread", blog.content / "comments" / "hello-world")
    code, out, err = run(capsys, "import", "pelican-comment-system", "-s", str(conf))
    assert (code, err) == (0, "")
    assert out == "5 comment file(s) read in 4 post(s); 0 problem(s).\n"

    broken = blog.comment("hello-world", "c9.md", "Hello", author="Zed", date="tomorrow-ish")
    code, out, _ = run(capsys, "import", "pelican-comment-system", "-s", str(conf))
    assert code == 1
    assert out.startswith("6 comment file(s) read in 4 post(s); 1 problem(s).\n")
    relative = broken.relative_to(blog.root).as_posix()
    assert f"  {relative}: has a bad date 'tomorrow-ish'" in out
