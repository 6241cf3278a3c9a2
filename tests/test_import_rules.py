"""The rules behind the field cases of issue 14, each on its neighbours too.

WXR variants and repairs, WordPress's paragraphs, comment types, mapping
old URLs to articles, the CLI's remedies (--post, --map, --map-file) and
messages, user-info URLs and e-mail-hash avatars.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.identity import AuthorIdentity
from pelican_engage.importers import (
    ExportedPost,
    ImportFormatError,
    SiteArticle,
    SitePosts,
    url_path,
)
from pelican_engage.importers.disqus import parse_disqus
from pelican_engage.importers.wordpress_wxr import autop, parse_wxr
from pelican_engage.sanitize import clean_html, images_to_alt, safe_url
from pelican_engage.sources.wordpress import parse_comment, public_avatar
from tests.conftest import Site

DATA = Path(__file__).parent / "data"
NOBODY = AuthorIdentity()


def wxr(
    comments: str,
    ns: str = "http://wordpress.org/export/1.2/",
    item: str = "",
    prefix: bytes = b"",
    site: str = "https://old.example",
) -> bytes:
    """A one-post WXR file around ``comments``."""
    return (
        prefix
        + (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:wp="{ns}" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><link>{site}</link>'
            f"<item><title>Post</title><link>{site}/2020/05/post/</link>"
            f"<wp:post_name>post</wp:post_name><wp:post_id>12</wp:post_id>{item}"
            f"{comments}</item></channel></rss>"
        ).encode()
    )


def comment(cid: int, text: str = "Hi.", ctype: str = "", meta: str = "", **fields: str) -> str:
    extra = "".join(f"<wp:{k}>{v}</wp:{k}>" for k, v in fields.items())
    return (
        f"<wp:comment><wp:comment_id>{cid}</wp:comment_id>"
        f"<wp:comment_author>Reader {cid}</wp:comment_author>"
        f"<wp:comment_date_gmt>2020-05-02 08:00:00</wp:comment_date_gmt>"
        f"<wp:comment_content><![CDATA[{text}]]></wp:comment_content>"
        f"<wp:comment_approved>1</wp:comment_approved>"
        f"<wp:comment_type>{ctype}</wp:comment_type>{extra}{meta}</wp:comment>"
    )


def ids(data: bytes, **kwargs: str) -> list[str]:
    export = parse_wxr(data, NOBODY, "export.xml", **kwargs)
    return [item.id for post in export.posts for item in post.items]


# -- WXR variants ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "ns",
    [
        "http://wordpress.org/export/1.0/",
        "http://wordpress.org/export/1.1/",
        "https://wordpress.org/export/1.2/",
        "https://wordpress.org/export/1.2",
        "http://www.wordpress.org/export/1.1/",
    ],
)
def test_every_wxr_namespace_spelling_is_read(ns: str) -> None:
    assert ids(wxr(comment(7), ns=ns)) == ["wordpress:old.example/7"]


@pytest.mark.parametrize(
    "ns", ["http://wordpress.org/export/2.0/", "http://wordpress.example/export/1.2/"]
)
def test_other_namespaces_are_still_refused(ns: str) -> None:
    with pytest.raises(ImportFormatError, match="no WordPress export namespace"):
        ids(wxr(comment(7), ns=ns))


@pytest.mark.parametrize(
    "prefix", [b"\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n\r\n  \t", b"   \n\n"], ids=repr
)
def test_a_bom_and_blank_lines_before_the_declaration_are_skipped(prefix: bytes) -> None:
    assert ids(wxr(comment(7), prefix=prefix)) == ["wordpress:old.example/7"]


def test_a_utf16_export_is_read() -> None:
    data = wxr(comment(7, "Çà et là")).decode().replace('"UTF-8"', '"UTF-16"')
    export = parse_wxr(data.encode("utf-16"), NOBODY, "export.xml")
    assert export.posts[0].items[0].content_html == "<p>Çà et là</p>"


def test_characters_xml_forbids_are_removed_and_counted() -> None:
    data = wxr(comment(7, "Nice\x01 st\x0bones.&#1;") + comment(8, "Fine"), item="<x>a\x00b</x>")
    export = parse_wxr(data, NOBODY, "export.xml")
    assert [i.content_html for i in export.posts[0].items] == ["<p>Nice stones.</p>", "<p>Fine</p>"]
    assert export.notes == (
        "removed 4 character(s) not allowed in XML (&#1;, U+0000, U+0001, U+000B) on line(s) 2",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY who "Eve">]>'
            b'<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><link>https://a.example'
            b"</link><item><title>&who;</title></item></channel></rss>",
            "declares the entity 'who'",
        ),
        (wxr(comment(7))[:-40], "malformed XML"),
    ],
    ids=["internal-entity", "truncated"],
)
def test_entities_and_damage_are_still_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(ImportFormatError, match=message) as caught:
        parse_wxr(data, NOBODY, "export.xml")
    assert str(caught.value).startswith("export.xml: ")


# -- Dates, types, empties ------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Oslo", datetime(2020, 5, 2, 8, tzinfo=timezone.utc)),
        ("America/New_York", datetime(2020, 5, 2, 14, tzinfo=timezone.utc)),
        ("UTC", datetime(2020, 5, 2, 10, tzinfo=timezone.utc)),
    ],
)
def test_a_zero_gmt_date_is_local_time(zone: str, expected: datetime) -> None:
    zero = comment(7).replace("2020-05-02 08:00:00", "0000-00-00 00:00:00")
    zero = zero.replace("</wp:comment>", "<wp:comment_date>2020-05-02 10:00:00</wp:comment_date>"
                        "</wp:comment>")  # fmt: skip
    export = parse_wxr(wxr(zero), NOBODY, "export.xml", timezone_name=zone)
    assert export.posts[0].items[0].published == expected


def semantic(kind: str) -> str:
    return (
        "<wp:commentmeta><wp:meta_key>semantic_linkbacks_type</wp:meta_key>"
        f"<wp:meta_value>{kind}</wp:meta_value></wp:commentmeta>"
    )


def test_comment_types_become_kinds_and_unknown_ones_are_counted() -> None:
    data = wxr(
        comment(1)
        + comment(2, ctype="comment")
        + comment(3, "A post about yours", ctype="pingback")
        + comment(4, "liked this", ctype="like")
        + comment(5, "reposted", ctype="repost")
        + comment(6, "A reply from my site", ctype="webmention", meta=semantic("reply"))
        + comment(7, "liked", ctype="webmention", meta=semantic("like"))
        + comment(8, "favourited", ctype="", meta=semantic("favorite"))
        + comment(9, "mentioned it", ctype="webmention")
        + comment(10, "Order #1 paid", ctype="order_note")
        + comment(11, "going", ctype="webmention", meta=semantic("rsvp"))
    )
    export = parse_wxr(data, NOBODY, "export.xml")
    kinds = {item.id.rsplit("/", 1)[1]: item.kind for item in export.posts[0].items}
    assert kinds == {
        "1": "comment",
        "2": "comment",
        "3": "mention",
        "4": "like",
        "5": "repost",
        "6": "comment",
        "7": "like",
        "8": "like",
        "9": "mention",
    }
    assert export.skipped == {
        "of type 'order_note' (not a comment or a linkback)": 1,
        "of type 'rsvp' (not a comment or a linkback)": 1,
    }
    likes = [i for i in export.posts[0].items if i.kind in {"like", "repost"}]
    assert [i.content_html for i in likes] == ["", "", "", ""]  # the plugin's sentences


def test_a_comment_left_empty_by_sanitising_is_skipped_and_counted() -> None:
    data = wxr(comment(1, "<script>alert(1)</script>") + comment(2, '<img src="x.png">'))
    data = data.replace(b"</item>", comment(3, "<img alt=':)' src='s.png'>").encode() + b"</item>")
    export = parse_wxr(data, NOBODY, "export.xml")
    assert [i.content_html for i in export.posts[0].items] == ["<p>:)</p>"]
    assert export.skipped == {"empty after sanitising": 2}
    disqus = parse_disqus(
        b'<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">'
        b'<thread dsq:id="1"><link>https://b.example/p/</link><isDeleted>false</isDeleted></thread>'
        b'<post dsq:id="5"><message><![CDATA[<img src="x.gif">]]></message>'
        b"<createdAt>2013-10-10T19:20:29Z</createdAt><isDeleted>false</isDeleted>"
        b'<isSpam>false</isSpam><thread dsq:id="1"/></post></disqus>',
        NOBODY,
    )
    assert disqus.posts == () and disqus.skipped == {"empty after sanitising": 1}


# -- Paragraphs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # WordPress's own first comment ("Hi, this is a comment."), as wpautop shows it.
        (
            "Hi, this is a comment.\nTo get started with moderating, editing, and deleting "
            "comments, please visit the Comments screen in the dashboard.\nCommenter avatars "
            'come from <a href="https://en.gravatar.com/">Gravatar</a>.',
            "<p>Hi, this is a comment.<br>To get started with moderating, editing, and deleting "
            "comments, please visit the Comments screen in the dashboard.<br>Commenter avatars "
            'come from <a href="https://en.gravatar.com/">Gravatar</a>.</p>',
        ),
        ("One.\n\nTwo.\r\n\r\nThree.", "<p>One.</p><p>Two.</p><p>Three.</p>"),
        (
            "Before.\n<blockquote>Quoted.</blockquote>\nAfter,\nand more.",
            "<p>Before.</p><blockquote>Quoted.</blockquote><p>After,<br>and more.</p>",
        ),
        (
            "<blockquote>First.\n\nSecond.</blockquote>Mine.",
            "<blockquote><p>First.</p><p>Second.</p></blockquote><p>Mine.</p>",
        ),
        (
            "Code:\n<pre>a\n\nb</pre>\nDone.",
            "<p>Code:</p><pre>a\n\nb</pre><p>Done.</p>",
        ),
        ("<ul>\n<li>one</li>\n<li>two</li>\n</ul>\nAfter.", None),
        ("<p>Already</p><p>paragraphs</p>", "<p>Already</p><p>paragraphs</p>"),
        ("Open <blockquote>never closed\n\nstill", None),
    ],
    ids=[
        "wp-first-comment",
        "blank-lines",
        "quote-between",
        "quote-paragraphs",
        "pre",
        "list",
        "paragraphs",
        "unclosed",
    ],
)
def test_autop_works_run_by_run(raw: str, expected: str | None) -> None:
    got = re.sub(r">\s+<", "><", clean_html(autop(raw)))
    if expected is not None:
        assert got == clean_html(expected)
    else:  # no text is lost, and every text run is in a paragraph or block
        assert html_words(got) == html_words(raw)
        assert "\n\n" not in got


def html_words(html: str) -> list[str]:
    return re.sub(r"<[^>]+>", " ", html).split()


# -- Mapping -------------------------------------------------------------------------------

#: επίπεδο-2 as WordPress writes it in wp:post_name and <link>.
OLD = "https://old.example"
GREEK = "%ce%b5%cf%80%ce%af%cf%80%ce%b5%ce%b4%ce%bf-2"
SITE = SitePosts.of(
    [
        SiteArticle("skipping-stones", "skipping-stones", "https://new.example/skipping-stones/"),
        SiteArticle("epipedo", "επίπεδο-2", "https://new.example/2020/05/επίπεδο-2/"),
        SiteArticle("hello-pebbles", "pebbles-hello", "https://new.example/pebbles-hello.html"),
        SiteArticle(
            "moved",
            "moved",
            "https://new.example/moved/",
            old_urls=("https://old.example/?p=42", "https://old.example/archives/Moved-Post.php"),
        ),
        SiteArticle("about", "about", "https://new.example/pages/about/"),
    ]
)


@pytest.mark.parametrize(
    ("post", "key"),
    [
        (ExportedPost(url="http://old.example/2013/02/skipping-stones.html"), "skipping-stones"),
        (ExportedPost(url="http://old.example/blog/skipping-stones/index.html"), "skipping-stones"),
        (ExportedPost(url="http://old.example/Skipping-Stones.htm"), "skipping-stones"),
        (ExportedPost(url="https://old.example/skipping-stones/index.php"), "skipping-stones"),
        (ExportedPost(url=f"https://old.example/{GREEK.upper()}/"), "epipedo"),
        (ExportedPost(slug=GREEK, url="https://old.example/?p=3"), "epipedo"),
        (ExportedPost(slug="hello-pebbles", url="https://old.example/2020/05/x/"), "hello-pebbles"),
        (ExportedPost(url="https://new.example/pebbles-hello/"), "hello-pebbles"),
        (ExportedPost(url="https://old.example/x/", aliases=(f"{OLD}/?p=42",)), "moved"),
        (ExportedPost(url="http://www.old.example/?p=42"), "moved"),
        (ExportedPost(url="https://old.example/archives/moved-post"), "moved"),
        (ExportedPost(url="https://old.example/?page_id=7", slug="about", kind="page"), "about"),
        (ExportedPost(url="https://old.example/?p=43"), None),
        (ExportedPost(url="https://old.example/"), None),
    ],
    ids=lambda v: v.url if isinstance(v, ExportedPost) else str(v),
)  # fmt: skip
def test_both_sides_are_normalised_before_matching(post: ExportedPost, key: str | None) -> None:
    assert SITE.find(post) == key


def test_url_path_rules() -> None:
    assert url_path("https://a.example/Blog/2013/Post%20One/index.HTML") == "blog/2013/post one"
    assert url_path("https://a.example/p.php?x=1") == "p"
    assert url_path("https://a.example/") == ""


# -- The CLI's remedies and messages -------------------------------------------------------


@pytest.fixture
def conf(site: Site) -> Path:
    site.article("first-post")
    site.article("second-post")
    return site.write_conf(ENGAGE_OFFLINE=True, SITEURL="https://new.example")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def keys_of(conf: Path) -> dict[str, set[str]]:
    archive = Archive(conf.parent / "archive")
    return {key: set(archive.load(key).items) for key in archive.keys()}  # noqa: SIM118


def two_posts(tmp_path: Path) -> Path:
    data = wxr(comment(7)).replace(b"</channel>", (
        "<item><title>Other</title><link>https://old.example/2020/06/other-post/</link>"
        "<guid>https://old.example/?p=13</guid><wp:post_name>other-post</wp:post_name>"
        f"<wp:post_id>13</wp:post_id>{comment(9)}</item></channel>"
    ).encode())  # fmt: skip
    path = tmp_path / "export.xml"
    path.write_bytes(data)
    return path


def test_unplaced_posts_name_every_remedy_and_map_places_them(
    conf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = two_posts(tmp_path)
    code, out, _ = run(capsys, "import", "wordpress-wxr", str(export), "-s", str(conf))
    assert code == 0
    assert "Not placed: 2 exported post(s) match no article" in out
    for remedy in ("engage_key: OLD_SLUG", "old_urls: OLD_URL", "--map OLD_URL=KEY", "--map-file",
                   "--post KEY"):  # fmt: skip
        assert remedy in out
    assert out.endswith(
        "  https://old.example/2020/05/post/\n  https://old.example/2020/06/other-post/\n"
    )
    code, out, _ = run(capsys, "import", "wordpress-wxr", str(export), "-s", str(conf),
                       "--map", "https://old.example/2020/05/post/=first-post",
                       "--map", "https://old.example/?p=13=second-post")  # fmt: skip
    assert code == 0 and "Not placed" not in out, out
    code, out, _ = run(capsys, "import", "wordpress-wxr", str(export), "-s", str(conf),
                       "--map", "https://old.example/2020/05/psot/=first-post")  # fmt: skip
    assert "--map https://old.example/2020/05/psot/=first-post: no exported post has" in out
    assert keys_of(conf) == {
        "first-post": {"wordpress:old.example/7"},
        "second-post": {"wordpress:old.example/9"},
    }


def test_a_map_file_places_posts_and_names_its_bad_lines(
    conf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = two_posts(tmp_path)
    table = tmp_path / "map.csv"
    table.write_text(
        "old_url,key\n# moved in 2021\nhttp://OLD.example/2020/05/post,second-post\n\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "import", "wordpress-wxr", str(export), "-s", str(conf),
                         "--map-file", str(table))  # fmt: skip
    assert code == 0, err
    assert keys_of(conf) == {"second-post": {"wordpress:old.example/7"}}
    assert "Not placed: 1 exported post(s)" in out
    table.write_text("https://old.example/2020/05/post/\n", encoding="utf-8")
    code, out, err = run(capsys, "import", "wordpress-wxr", str(export), "-s", str(conf),
                         "--map-file", str(table))  # fmt: skip
    assert code == 2 and out == ""
    assert f"{table}, line 1: expected OLD_URL,KEY" in err


@pytest.mark.parametrize(
    "extra",
    [("--post", "no-such-post"), ("--map", "https://old.example/2020/05/post/=no-such-post")],
    ids=["post", "map"],
)
def test_an_unknown_key_exits_2_naming_it(
    conf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, str]
) -> None:
    code, out, err = run(capsys, "import", "wordpress-wxr", str(two_posts(tmp_path)),
                         "-s", str(conf), *extra)  # fmt: skip
    assert (code, out) == (2, "")
    # --post is checked like every command's (no such post); --map by the importer.
    assert "'no-such-post'" in err and ("no article or page has" in err or "no such post" in err)
    assert "first-post, second-post" in err
    assert not (conf.parent / "archive").exists()


def test_post_puts_a_one_post_export_into_its_key(
    conf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "one.xml"
    export.write_bytes(wxr(comment(7) + comment(8)))
    code, out, _ = run(capsys, "import", "wordpress-wxr", str(export), "-s", str(conf),
                       "--post", "second-post")  # fmt: skip
    assert code == 0
    assert out == "Read 2 comment(s) on 1 post(s); imported 2 into 1 post(s), 2 new.\n"
    assert keys_of(conf) == {"second-post": {"wordpress:old.example/7", "wordpress:old.example/8"}}


def test_a_page_whose_every_comment_failed_exits_1_with_the_reasons(
    conf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = DATA / "wordpress-html" / "all-failed.html"
    code, out, _ = run(capsys, "import", "wordpress-html", str(page), "-s", str(conf),
                       "--post", "first-post")  # fmt: skip
    assert code == 1
    assert out.startswith("Read 0 comment(s) on 1 post(s)")
    assert "Problems (2):\n  comment 801: no date" in out


def test_fallbacks_and_repairs_have_their_own_heading(
    conf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = DATA / "wordpress-html" / "fallbacks.html"
    code, out, _ = run(capsys, "import", "wordpress-html", str(page), "-s", str(conf),
                       "--post", "first-post")  # fmt: skip
    assert code == 0
    assert out == (
        "Read 2 comment(s) on 1 post(s); imported 2 into 1 post(s), 2 new.\n"
        "Left out: 1 empty after sanitising.\n"
        "Repaired or guessed while reading (2):\n"
        "  1 comment(s) show no name the importer can read: imported as 'Anonymous' (701)\n"
        "  1 comment(s) show no date the importer can read: they take the date of the comment "
        "before them (702)\n"
    )


def test_linkless_pingbacks_count_as_new_once_each(
    conf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = DATA / "wordpress-html" / "pingbacks-without-links.html"
    args = ("import", "wordpress-html", str(page), "-s", str(conf), "--post", "first-post")
    assert run(capsys, *args)[1].startswith(
        "Read 4 comment(s) on 1 post(s); imported 4 into 1 post(s), 4 new."
    )
    assert len(keys_of(conf)["first-post"]) == 4
    assert " 0 new." in run(capsys, *args)[1]


def test_an_imported_comment_answers_to_its_old_anchor_and_is_answered_there(
    site: Site, conf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "one.xml"
    export.write_bytes(wxr(comment(7)))
    assert run(capsys, "import", "wordpress-wxr", str(export), "-s", str(conf),
               "--post", "first-post")[0] == 0  # fmt: skip
    _code, out, _ = run(capsys, "report", "-s", str(conf), "--format", "json")
    (row,) = json.loads(out)["waiting"]
    assert row["reply_url"] == (
        "https://new.example/first-post.html#engage-wordpress-old.example-7"
    )
    site.build(ENGAGE_OFFLINE=True, SITEURL="https://new.example")
    page = site.html("first-post.html")
    item = page.select_one('[id="engage-wordpress-old.example-7"]')
    old = page.select_one('[id="comment-7"]')
    assert old is not None and old.find_parent("li") is item


# -- Privacy --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://ola.nordmann@mail.example",
        "https://ann@mail.example/",
        "http://user:secret@blog.example/",
        "https://@blog.example/",
        "http://blog.example@evil.example/",
        "ann@mail.example",
        "mailto:ann@mail.example",
    ],
)
def test_urls_with_user_info_or_addresses_are_not_websites(url: str) -> None:
    assert safe_url(url) == ""


def test_a_url_with_an_at_sign_in_its_path_is_still_a_website() -> None:
    assert safe_url("https://mastodon.example/@ann") == "https://mastodon.example/@ann"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://secure.gravatar.com/avatar/0123456789abcdef0123456789abcdef?s=96", False),
        ("https://cravatar.example/avatar/0123456789abcdef0123456789abcdef?s=96&d=mm", False),
        ("https://dn-qiniu-avatar.qbox.example/avatar/FEDCBA9876543210FEDCBA9876543210", False),
        ("https://seccdn.libravatar.example/avatar/" + "ab" * 32 + "?s=80", False),
        ("https://cdn.example/avatar/0123456789abcdef0123456789abcdef.png", False),
        ("https://blog.example/wp-content/uploads/avatar/me.png", True),
        ("https://blog.example/avatar/12345/", True),
        ("https://blog.example/u/0123456789abcdef0123456789abcdef.png", True),
    ],
)
def test_avatars_carrying_an_email_hash_are_dropped_from_any_host(url: str, kept: bool) -> None:
    assert public_avatar(url) == (url if kept else "")
    item = parse_comment(
        {"id": 1, "date_gmt": "2022-12-22T08:30:29", "content": {"rendered": "<p>x</p>"},
         "author_name": "Li", "author_avatar_urls": {"96": url}},
        "blog.example",
    )  # fmt: skip
    assert item.author.avatar == (url if kept else "")


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<p>Hi <img src="s.png" alt=":)" class="wp-smiley"></p>', "<p>Hi :)</p>"),
        ("<p><IMG SRC='e.png' ALT='&#x1f600;'/></p>", "<p>😀</p>"),
        ('<p><img alt="a &amp; b" src=x></p>', "<p>a &amp; b</p>"),
        ('<p><img src="x.png"></p>', "<p></p>"),
        ('<a href="https://a.example/"><img alt="Logo" src="l.png"></a>',
         '<a href="https://a.example/" rel="nofollow ugc noopener">Logo</a>'),
        ('<img alt="<script>alert(1)</script>" src=x>', "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('<img alt=x onerror=alert(1) src=y>', "x"),
        ('<img src="a>b" alt="c">', "c"),
    ],
)  # fmt: skip
def test_images_become_their_alt_text_in_every_source(html: str, expected: str) -> None:
    assert clean_html(html) == expected
    assert "<img" not in images_to_alt(html).lower()


# -- Saved pages: parser failures and size ------------------------------------------------


def test_a_page_the_parser_gives_up_on_is_an_error_naming_the_file() -> None:
    from pelican_engage.importers.wordpress_html import parse_page

    markup = (DATA / "wordpress-html" / "smileys.html").read_text(encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"^saved\.html: the HTML parser gave up"):
        parse_page(markup.replace("Love these", "Love \ud800 these"), name="saved.html")


def test_deep_threads_and_deep_markup_stay_fast() -> None:
    from pelican_engage.importers.wordpress_html import parse_page

    def one(n: int, body: str = "") -> str:
        return (f'<ol><li id="comment-{n}"><b class="fn">R{n}</b>'
                f'<time datetime="2020-01-01T00:00:00Z">x</time>'
                f'<div class="comment-content"><p>c{n}</p>{body}</div>')  # fmt: skip

    deep = "<div>" * 3000 + "deep" + "</div>" * 3000
    markup = '<link rel="canonical" href="https://b.example/p/">' + one(1, deep)
    markup += "".join(one(n) for n in range(2, 301)) + "</li></ol>" * 300
    started = time.process_time()
    (post,) = parse_page(markup).posts
    assert time.process_time() - started < 20  # html5lib or per-comment searches: minutes
    assert [i.in_reply_to for i in post.items[1:]] == [
        f"wordpress:b.example/{n}" for n in range(1, 300)
    ]
    assert "deep" in post.items[0].content_html


def test_live_wordpress_reads_comment_types_alike() -> None:
    from pelican_engage.sources.wordpress import parse_comments

    def rest(cid: int, kind: str) -> dict[str, object]:
        text = {"rendered": f"<p>{kind} text</p>"}
        return {"id": cid, "date_gmt": "2022-12-22T08:30:29", "type": kind,
                "author_name": f"R{cid}", "content": text}  # fmt: skip

    items, bad = parse_comments(
        [rest(1, "comment"), rest(2, "like"), rest(3, "repost"), rest(4, "pingback"),
         rest(5, "order_note")],
        "blog.example",
    )  # fmt: skip
    assert [(i.kind, i.content_html) for i in items] == [
        ("comment", "<p>comment text</p>"),
        ("like", ""),
        ("repost", ""),
        ("mention", "<p>pingback text</p>"),
    ]
    assert [(b.id, b.what) for b in bad] == [("5", "comment")]  # told, with why


@pytest.mark.parametrize(
    "hostile",
    ['<img src="' * 100_000, "<img " * 200_000, "<img" + "'\"" * 300_000, "<img alt=x>" * 100_000],
    ids=["open-quotes", "open-tags", "mixed-quotes", "many-images"],
)
def test_images_to_alt_is_linear(hostile: str) -> None:
    started = time.process_time()
    images_to_alt(hostile)
    assert time.process_time() - started < 5  # a regex over each start: minutes


@pytest.mark.parametrize(
    "hostile",
    [
        "<p " * 50_000,
        "<blockquote>" * 50_000 + "x",
        "<div>" * 30_000 + "\n\n".join(["a"] * 100),
        "<div><blockquote>" * 30_000 + "x\n\ny" + "</div>" * 30_000 + "</blockquote>" * 30_000,
    ],
    ids=["open-tags", "deep", "deep-paragraphs", "misnested"],
)
def test_autop_is_linear(hostile: str) -> None:
    started = time.process_time()
    assert autop(hostile)
    assert time.process_time() - started < 5  # a search per block: minutes, or RecursionError


def test_bytes_that_are_not_utf8_are_replaced_and_said_not_fatal() -> None:
    """A WXR saying UTF-8 with one Latin-1 byte (mixed-encoding databases):
    WordPress's importer reads it, so do we, saying where; a file that
    declares its real encoding is read as it says."""
    from pelican_engage.importers.xmlfile import read_xml

    root, notes = read_xml(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<rss><c>caf\xe9 ok</c>\n<d>\xff</d></rss>',
        "x.xml",
    )
    assert root[0].text == "caf\ufffd ok"
    assert notes == ("replaced 2 byte sequence(s) that are not UTF-8 by U+FFFD on line(s) 2, 3",)
    root, notes = read_xml(
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<rss><c>caf\xe9</c></rss>', "x"
    )
    assert (root[0].text, notes) == ("café", ())
