"""The field cases of issue 14 (and security F9), each on a real Pelican site.

Inputs are copied byte for byte from the field cases into
``tests/data/import-cases/<case>/`` (F04 starts with a newline, F17 holds a
NUL byte), saved pages into ``tests/data/wordpress-html/``
(:data:`PAGE_OF_CASE`); the sites, commands and expected values are those of
each case's EXPECTED.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from tests.conftest import Site
from tests.loopback import Server, send

CASES = Path(__file__).parent / "data" / "import-cases"
DATED = {
    "ARTICLE_URL": "{date:%Y}/{date:%m}/{slug}/",
    "ARTICLE_SAVE_AS": "{date:%Y}/{date:%m}/{slug}/index.html",
}
FLAT = {"ARTICLE_URL": "{slug}.html", "ARTICLE_SAVE_AS": "{slug}.html"}
PEBBLES = ("hello-pebbles", "Hello Pebbles", "2020-05-01 12:00")
SECOND = ("second-post", "Second Post", "2020-06-01 12:00")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}")


def wp(comment_id: int, host: str = "pebble.example") -> str:
    return f"wordpress:{host}/{comment_id}"


def make_site(
    tmp_path: Path, articles: list[tuple[str, str, str]], **settings: Any
) -> tuple[Site, Path]:
    site = Site(tmp_path / "site")
    for slug, title, date, *meta in articles:
        lines = [f"Title: {title}", f"Date: {date}", f"Slug: {slug}", *meta]
        (site.content / f"{slug}.md").write_text(
            "\n".join(lines) + f"\n\nBody of {slug}.\n", encoding="utf-8"
        )
    base = {"SITEURL": "https://pebble.example", "TIMEZONE": "UTC", "ENGAGE_OFFLINE": True}
    return site, site.write_conf(**{**base, **DATED, **settings})


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


#: The saved pages of the cases live once, among the table-driven pairs of
#: tests/data/wordpress-html/ (page + expected JSON), byte for byte as given.
SAVED_PAGES = Path(__file__).parent / "data" / "wordpress-html"
PAGE_OF_CASE = {
    "F05-html-block-theme-comments": "block-theme.html",
    "F06-html-twentytwenty-div-comments": "twentytwenty-div.html",
    "F07-html-names-become-anonymous": "genesis-microdata.html",
    "F08-html-smilies-dropped": "smileys.html",
    "F16-html-date-read-from-commenter-name": "wpcom-date-in-words.html",
    "S-F9-parser-crash": "parser-trap.html",
}


def do_import(
    capsys: pytest.CaptureFixture[str], conf: Path, fmt: str, case: str, *extra: str
) -> tuple[int, str, str]:
    if fmt == "wordpress-html":
        path = SAVED_PAGES / PAGE_OF_CASE[case]
    else:
        path = CASES / case / {"wordpress-wxr": "export.xml", "disqus": "disqus.xml"}[fmt]
    return run(capsys, "import", fmt, str(path), "-s", str(conf), *extra)


def archived(conf: Path, key: str) -> dict[str, Any]:
    return {
        item_id: item.to_dict()
        for item_id, item in Archive(conf.parent / "archive").load(key).items.items()
    }


def row(item: dict[str, Any]) -> tuple[Any, ...]:
    author = item.get("author") or {}
    return (
        author.get("name"),
        author.get("url") or None,
        item.get("published"),
        item.get("content_html"),
        item.get("in_reply_to"),
    )


def archive_text(conf: Path) -> str:
    files = (conf.parent / "archive").rglob("*")
    return "".join(p.read_text(encoding="utf-8") for p in files if p.is_file())


# -- Accept what the tools that wrote the file accept ------------------------------


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("F01-wxr-https-namespace", {wp(7)}),
        ("F04-wxr-leading-blank-line", {wp(7), wp(9)}),
        ("F17-wxr-control-char-in-postmeta", {wp(7), wp(9)}),
    ],
)
def test_wxr_variants_wordpress_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, expected: set[str]
) -> None:
    _site, conf = make_site(tmp_path, [PEBBLES, SECOND])
    code, out, err = do_import(capsys, conf, "wordpress-wxr", case)
    assert code == 0, err
    found = set(archived(conf, "hello-pebbles")) | set(archived(conf, "second-post"))
    assert found == expected
    assert row(archived(conf, "hello-pebbles")[wp(7)]) == (
        "Ola Nordmann",
        None,
        "2020-05-02T08:00:00+00:00",
        "<p>Nice stones.</p>",
        None,
    )
    if case.startswith("F17"):
        assert "removed 1 character(s) not allowed in XML (U+0000) on line(s) 21" in out


def test_wxr_parts_around_a_blockquote_keep_their_paragraphs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _site, conf = make_site(tmp_path, [PEBBLES, SECOND])
    assert (
        do_import(capsys, conf, "wordpress-wxr", "F09-wxr-paragraphs-lost-next-to-blockquote")[0]
        == 0
    )
    assert re.sub(r">\s+<", "><", archived(conf, "hello-pebbles")[wp(7)]["content_html"]) == (
        "<blockquote>Round stones are best.</blockquote><p>I disagree with this part.</p>"
        "<p>Flat stones skip better.<br>Ask any child.</p>"
    )


def test_wxr_local_date_is_read_in_the_site_timezone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _site, conf = make_site(tmp_path, [PEBBLES, SECOND], TIMEZONE="Europe/Oslo")
    assert (
        do_import(capsys, conf, "wordpress-wxr", "F13-wxr-zero-gmt-local-date-read-as-utc")[0] == 0
    )
    assert archived(conf, "hello-pebbles")[wp(7)]["published"] == "2020-05-02T08:00:00+00:00"
    assert archived(conf, "second-post")[wp(9)]["published"] == "2020-06-02T08:00:00+00:00"


# -- Pages of every WordPress era --------------------------------------------------


def test_block_theme_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site, conf = make_site(tmp_path, [("hello-pebbles", "Hello Pebbles", "2024-05-01 12:00")])
    code, _out, err = do_import(capsys, conf, "wordpress-html", "F05-html-block-theme-comments")
    assert code == 0, err
    items = archived(conf, "hello-pebbles")
    assert {i: row(items[i]) for i in items} == {
        wp(11): (
            "Ola Nordmann",
            "https://ola.example/",
            "2024-05-02T08:00:00+00:00",
            "<p>Nice stones.</p>",
            None,
        ),
        wp(12): (
            "Pebble Admin",
            None,
            "2024-05-02T09:30:00+00:00",
            "<p>Thanks, Ola!</p>",
            wp(11),
        ),
    }
    code, out, _ = run(capsys, "report", "-s", str(conf), "--format", "json")
    assert code == 0 and json.loads(out)["waiting"] == []  # 11 was answered by the author
    site.build(**{**DATED, "SITEURL": "https://pebble.example", "ENGAGE_OFFLINE": True})
    answer = site.html("2024/05/hello-pebbles/index.html").select_one(
        f'li[data-engage-id="{wp(12)}"]'
    )
    assert "engage-by-author" in answer["class"]


@pytest.mark.parametrize(
    ("case", "date", "expected"),
    [
        (
            "F06-html-twentytwenty-div-comments",
            "2020-05-01 12:00",
            {
                wp(21): (
                    "Ola Nordmann",
                    "https://ola.example/",
                    "2020-05-02T08:00:00+00:00",
                    "<p>Nice stones.</p>",
                    None,
                ),
                wp(22): (
                    "Pebble Admin",
                    None,
                    "2020-05-02T09:30:00+00:00",
                    "<p>Thanks, Ola!</p>",
                    wp(21),
                ),
            },
        ),
        (
            "F07-html-names-become-anonymous",
            "2016-01-18 12:00",
            {
                wp(31): (
                    "Ola Nordmann",
                    None,
                    "2016-01-19T07:22:49+00:00",
                    "<p>Nice stones.</p>",
                    None,
                ),
                wp(32): (
                    "Pebble Admin",
                    "https://pebble.example",
                    "2016-01-19T08:43:49+00:00",
                    "<p>Thanks!</p>",
                    wp(31),
                ),
            },
        ),
    ],
)
def test_div_comments_and_microdata_names(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    date: str,
    expected: dict[str, tuple[Any, ...]],
) -> None:
    _site, conf = make_site(tmp_path, [("hello-pebbles", "Hello Pebbles", date)])
    code, out, err = do_import(capsys, conf, "wordpress-html", case)
    assert code == 0, err
    items = archived(conf, "hello-pebbles")
    assert {i: row(items[i]) for i in items} == expected
    # The second comment is the post author's (bypostauthor).
    assert [i for i in items if items[i].get("by_author")] == [max(expected)]
    assert "Anonymous" not in out


def test_smileys_become_their_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _site, conf = make_site(tmp_path, [("hello-pebbles", "Hello Pebbles", "2016-01-18 12:00")])
    assert do_import(capsys, conf, "wordpress-html", "F08-html-smilies-dropped")[0] == 0
    items = archived(conf, "hello-pebbles")
    assert {i: items[i]["content_html"] for i in items} == {
        wp(41): "<p>Love these stones :) see you 😀</p>",
        wp(42): "<p>;)</p>",
    }


def test_the_date_is_never_read_from_the_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _site, conf = make_site(
        tmp_path, [("a-day-at-the-river", "A Day At The River", "2016-01-29 12:00")], **FLAT
    )
    assert (
        do_import(capsys, conf, "wordpress-html", "F16-html-date-read-from-commenter-name")[0] == 0
    )
    items = archived(conf, "a-day-at-the-river")
    host = "pebblediary.wordpress.example"
    assert {i: (items[i]["author"]["name"], items[i]["published"]) for i in items} == {
        wp(515, host): ("April May", "2016-02-01T13:13:00+00:00"),
        wp(516, host): ("Studio 54", "2016-02-03T09:05:00+00:00"),
    }


def test_markup_the_parser_could_give_up_on_is_made_harmless(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, conf = make_site(
        tmp_path, [("post", "Post", "2026-01-02 10:00")], SITEURL="https://blog.example", **FLAT
    )
    code, _out, err = do_import(
        capsys, conf, "wordpress-html", "S-F9-parser-crash", "--post", "post"
    )
    assert (code, err) == (0, "")
    (item,) = archived(conf, "post").values()
    assert (item["id"], item["author"]["name"]) == ("wordpress:old.example/1", "Eve")
    assert item["content_html"].startswith("<p>hi")
    site.build(**FLAT, ENGAGE_OFFLINE=True)
    for text in (archive_text(conf), (site.output / "post.html").read_text(encoding="utf-8")):
        assert "onerror" not in text and "alert(39)" not in text
    assert "<img" not in archive_text(conf)


# -- Statuses and types mean what they meant ---------------------------------------


def test_disqus_deleted_thread_is_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _site, conf = make_site(
        tmp_path,
        [
            ("kept-post", "Kept Post", "2019-01-01 12:00"),
            ("retired-post", "Retired Post", "2019-02-01 12:00"),
        ],
        ARTICLE_URL="{slug}/",
        ARTICLE_SAVE_AS="{slug}/index.html",
    )
    code, out, err = do_import(capsys, conf, "disqus", "F03-disqus-deleted-thread")
    assert code == 0, err
    assert out.startswith("Read 1 comment(s) on 1 post(s); imported 1 into 1 post(s), 1 new.\n")
    assert "Left out: 1 on a deleted thread." in out
    assert set(archived(conf, "kept-post")) == {"disqus:9001"}
    assert not (conf.parent / "archive" / "posts" / "retired-post.json").exists()
    assert "deleted in Disqus" not in archive_text(conf)


def test_webmention_reactions_are_reactions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, conf = make_site(tmp_path, [PEBBLES, SECOND])
    assert (
        do_import(capsys, conf, "wordpress-wxr", "F12-wxr-webmention-likes-become-comments")[0] == 0
    )
    items = archived(conf, "hello-pebbles")
    assert {i: items[i]["kind"] for i in items} == {
        wp(7): "comment",
        wp(8): "like",
        wp(10): "repost",
    }
    _code, out, _ = run(capsys, "report", "-s", str(conf), "--format", "json")
    assert sorted(r["id"] for r in json.loads(out)["waiting"]) == [wp(7), wp(9)]
    site.build(**DATED, SITEURL="https://pebble.example", ENGAGE_OFFLINE=True)
    page = site.html("2020/05/hello-pebbles/index.html")
    text = page.get_text(" ")
    assert "liked this Article" not in text and "reposted this Article" not in text
    assert "1 comment" in text and "3 comments" not in text
    likes, reposts = page.select_one(".engage-likes"), page.select_one(".engage-reposts")
    assert "Kari Nordmann" in str(likes) and "Per Hansen" in str(reposts)
    cards = [li["data-engage-id"] for li in page.select("li.engage-item")]
    assert wp(8) not in cards and wp(10) not in cards


# -- Every exported post can be placed ---------------------------------------------


def test_engage_key_and_post_place_a_renamed_post(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    renamed = ("pebbles-hello", "Pebbles Hello", "2020-05-01 12:00", "engage_key: hello-pebbles")
    site, conf = make_site(tmp_path, [renamed, SECOND], SITEURL="https://new.example", **FLAT)
    case = "F02-renamed-post-cannot-be-mapped"
    code, out, _ = do_import(capsys, conf, "wordpress-wxr", case)
    assert code == 0 and "match no article" not in out
    assert set(archived(conf, "hello-pebbles")) == {wp(7)}
    assert set(archived(conf, "second-post")) == {wp(9)}
    (conf.parent / "archive" / "posts" / "hello-pebbles.json").unlink()
    code, out, _ = do_import(capsys, conf, "wordpress-wxr", case, "--post", "hello-pebbles")
    assert code == 0 and "match no article" not in out
    assert set(archived(conf, "hello-pebbles")) == {wp(7)}
    site.build(**FLAT, SITEURL="https://new.example", ENGAGE_OFFLINE=True)
    assert "Nice stones." in (site.output / "pebbles-hello.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("case", "fmt", "articles", "expected"),
    [
        (
            "F10-mapping-ignores-html-suffix",
            "disqus",
            [
                ("skipping-stones", "Skipping Stones", "2013-02-12 12:00"),
                ("river-stones", "River Stones", "2013-03-01 12:00"),
            ],
            {"skipping-stones": {"disqus:9101"}, "river-stones": {"disqus:9102"}},
        ),
        (
            "F15-mapping-percent-encoded-slugs",
            "wordpress-wxr",
            [("επίπεδο-2", "Επίπεδο 2", "2020-05-01 12:00"), SECOND],
            {"επίπεδο-2": {wp(7)}, "second-post": {wp(9)}},
        ),
    ],
)
def test_old_urls_are_normalised_before_matching(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    fmt: str,
    articles: list[tuple[str, str, str]],
    expected: dict[str, set[str]],
) -> None:
    _site, conf = make_site(tmp_path, articles)
    code, out, _ = do_import(capsys, conf, fmt, case)
    assert code == 0 and "match no article" not in out
    assert {key: set(archived(conf, key)) for key in expected} == expected


# -- Privacy -------------------------------------------------------------------------


def test_an_email_in_the_website_field_is_not_published(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, conf = make_site(tmp_path, [PEBBLES, SECOND])
    assert do_import(capsys, conf, "wordpress-wxr", "F11-email-in-website-field-published")[0] == 0
    ola = archived(conf, "hello-pebbles")[wp(7)]
    assert ola["author"]["name"] == "Ola Nordmann" and not ola["author"].get("url")
    site.build(**DATED, SITEURL="https://pebble.example", ENGAGE_OFFLINE=True)
    published = archive_text(conf) + "".join(
        p.read_text(encoding="utf-8") for p in site.output.rglob("*.html")
    )
    assert not EMAIL.findall(published)


def test_live_wordpress_drops_mirror_avatars_and_keeps_smileys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: Server
) -> None:
    case = CASES / "F14-live-wp-gravatar-mirror-and-smiley"
    posts = (case / "posts.json").read_text(encoding="utf-8").replace("{SERVER}", server.url)
    api = f'<{server.url}/wp-json/>; rel="https://api.w.org/"'
    server.routes["/archives/123/"] = lambda h, n: send(
        h, 200, b"<html><body>post</body></html>", Content_Type="text/html", Link=api
    )
    server.routes["/wp-json/wp/v2/posts"] = lambda h, n: send(
        h, 200, posts.encode(), Content_Type="application/json"
    )
    server.routes["/wp-json/wp/v2/comments"] = lambda h, n: send(
        h,
        200,
        (case / "comments.json").read_bytes(),
        Content_Type="application/json",
        X_WP_Total="2",
        X_WP_TotalPages="1",
    )
    article = (
        "archive-123",
        "Archive 123",
        "2022-12-20 12:00",
        f"wordpress_comments: {server.url}/archives/123/",
    )
    site, conf = make_site(
        tmp_path, [article], SITEURL="https://blog.example", ENGAGE_OFFLINE=False, **FLAT
    )
    code, _out, err = run(capsys, "fetch", "-s", str(conf), "--force")
    assert code == 0, err
    host = server.url.split("//", 1)[1]
    items = archived(conf, "archive-123")
    assert {i: (items[i]["content_html"], items[i].get("in_reply_to")) for i in items} == {
        wp(121, host): ("<p>Nice post :)</p>", None),
        wp(122, host): ("<p>👍</p>", wp(121, host)),
    }
    assert not [i for i in items.values() if i["author"].get("avatar")]
    site.build(**FLAT, SITEURL="https://blog.example", ENGAGE_OFFLINE=True)
    for text in (
        archive_text(conf),
        (site.output / "archive-123.html").read_text(encoding="utf-8"),
    ):
        assert not re.search(r"/avatar/[0-9a-f]{32}", text)
