"""The comment importers, as pure parsers: WordPress WXR, WordPress pages, Disqus.

The fixtures are files as WordPress and Disqus write them (docs/sources.md,
"Importers").  ``wxr/export-1.2.xml`` holds, on the post
``hello-world`` (by the user ``marin``, wp:author_id 1)::

    10 Alice                         approved
      11 Marin Dubois (user id 1)    the post author, by user id
        12 Bob
          13 "Marin (phone)"         the author, by ENGAGE_AUTHOR e-mail only
      20 Carol                       a reader answering a reader
    14 pending, 15 spam, 16 trash    left out and counted
    17 pingback, 18 trackback        mentions
    19 Eve                           hostile HTML, comment_date_gmt 0000-00-00

then ``old-name`` (30 Dave, 31 Sam: a co-author, user id 2, not the post's
author; 32 pending), ``gone-post`` (40, matches no article of the CLI
tests) and a page without comments.  ``disqus/export.xml`` holds the same
readers as Disqus posts 3001-3009, and the pages of ``wordpress-html``
the same blog's comments as several themes printed them.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pelican_engage.identity import AuthorIdentity
from pelican_engage.importers import Export, ImportFormatError
from pelican_engage.importers.disqus import parse_disqus
from pelican_engage.importers.wordpress_html import parse_date_text, parse_page
from pelican_engage.importers.wordpress_wxr import parse_wxr
from pelican_engage.model import Item

DATA = Path(__file__).parent / "data"
WXR = DATA / "wxr"
PAGES = DATA / "wordpress-html"
DISQUS = DATA / "disqus"

AUTHOR = AuthorIdentity(names=("Marin",), emails=frozenset({"marin@mail.example"}))
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
#: Words that only occur in entries that must be left out.
LEFT_OUT_WORDS = ("SPAMWORD", "TRASHWORD", "DELETEDWORD", "ORPHANWORD", "moderation")


def wp(comment_id: int, host: str = "old.example.org") -> str:
    return f"wordpress:{host}/{comment_id}"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


def items_of(export: Export) -> dict[str, Item]:
    return {item.id: item for post in export.posts for item in post.items}


def wxr(name: str = "export-1.2.xml", author: AuthorIdentity = AUTHOR) -> Export:
    return parse_wxr((WXR / name).read_bytes(), author, str(WXR / name))


def disqus(data: bytes | None = None, author: AuthorIdentity = AUTHOR) -> Export:
    return parse_disqus(data or (DISQUS / "export.xml").read_bytes(), author, "export.xml")


def page(name: str, timezone_name: str = "Europe/Paris", url: str = "") -> Export:
    return parse_page((PAGES / name).read_text(encoding="utf-8"), url, timezone_name, name=name)


# -- WordPress WXR ---------------------------------------------------------------


def test_wxr_keeps_approved_comments_and_counts_the_rest() -> None:
    export = wxr()
    assert export.skipped == {"pending": 2, "spam": 1, "trash": 1}
    assert export.problems == ()
    # The page without comments and the pending-only entries give no post.
    assert [(p.slug, p.url, p.title) for p in export.posts] == [
        ("hello-world", "https://old.example.org/2013/06/hello-world/", "Hello, world"),
        ("old-name", "https://old.example.org/2013/07/old-name/", "Old name"),
        ("gone-post", "https://old.example.org/2014/01/gone-post/", "Gone post"),
    ]
    assert [[i.id for i in p.items] for p in export.posts] == [
        [wp(n) for n in (10, 11, 12, 13, 17, 18, 19, 20)],
        [wp(30), wp(31)],
        [wp(40)],
    ]
    text = repr(export)
    assert not [word for word in LEFT_OUT_WORDS if word in text]


def test_wxr_threads_dates_kinds_and_links() -> None:
    items = items_of(wxr())
    assert {i: items[i].in_reply_to for i in items if items[i].in_reply_to} == {
        wp(11): wp(10),
        wp(12): wp(11),
        wp(13): wp(12),
        wp(20): wp(10),
        wp(31): wp(30),
    }
    assert {i for i in items if items[i].kind == "mention"} == {wp(17), wp(18)}
    # An empty comment_type (WordPress before 5.5) is a comment.
    assert items[wp(19)].kind == "comment"
    for item in items.values():
        assert item.published.utcoffset() == timedelta(0), item.id
    # comment_date_gmt is used, not the local comment_date two hours later...
    assert items[wp(10)].published == utc(2013, 6, 2, 9, 15)
    # ...unless it is 0000-00-00 00:00:00: then comment_date is all there is.
    assert items[wp(19)].published == utc(2013, 6, 5, 8, 0)
    alice = items[wp(10)]
    assert alice.url == "https://old.example.org/2013/06/hello-world/#comment-10"
    assert alice.author.name == "Alice" and alice.author.url == "https://alice.example.com/"
    # WXR stores comments without paragraphs; blank lines part them.
    assert alice.content_html == "<p>Great post!</p><p>Does it work with <em>Pelican</em> too?</p>"
    pingback = items[wp(17)]
    assert pingback.author.name == "Other blog » A post about yours"
    assert pingback.author.url == "https://other.example/2013/06/about-hello/"


def test_wxr_marks_the_author_by_user_id_and_by_email() -> None:
    marked = {i for i, item in items_of(wxr()).items() if item.by_author}
    # 11: comment_user_id is the post's dc:creator; 13: ENGAGE_AUTHOR e-mail,
    # in another case.  31 is a logged-in co-author, not the post's author.
    assert marked == {wp(11), wp(13)}
    nobody = AuthorIdentity(names=("Marin",))
    marked = {i for i, item in items_of(wxr(author=nobody)).items() if item.by_author}
    assert marked == {wp(11)}


def test_wxr_sanitises_hostile_html() -> None:
    eve = items_of(wxr())[wp(19)]
    html = eve.content_html.casefold()
    for bad in ("<script", "alert(", "onerror", "javascript:", "<img"):
        assert bad not in html
    assert "click me" in eve.content_html
    assert eve.author.url == ""  # comment_author_url was javascript:alert(4)


def test_wxr_1_1_namespace_and_a_channel_without_base_blog_url() -> None:
    export = wxr("export-1.1.xml")
    assert export.skipped == {} and export.problems == ()
    (post,) = export.posts
    assert (post.slug, post.url) == ("hello-world", "http://legacy.example.net/?p=1")
    first, answer = post.items
    host = "legacy.example.net"  # from <link>: 1.1 exports may lack wp:base_blog_url
    assert (first.id, answer.id, answer.in_reply_to) == (wp(1, host), wp(2, host), wp(1, host))
    assert first.published == utc(2010, 1, 2, 14, 2)
    assert first.content_html.startswith("<p>Hi, this is a comment.<br>")
    assert answer.by_author and not first.by_author
    assert answer.extras == {"old_anchor": "comment-2"}
    assert first.extras == {"old_anchor": "comment-1"}


@pytest.mark.parametrize(
    ("parse", "file", "message"),
    [
        (parse_wxr, WXR / "truncated.xml", "malformed XML"),
        (parse_wxr, DISQUS / "not-disqus.xml", "no WordPress export namespace"),
        (parse_wxr, DISQUS / "export.xml", "no WordPress export namespace"),
        (parse_disqus, DISQUS / "truncated.xml", "malformed XML"),
        (parse_disqus, DISQUS / "not-disqus.xml", "not a Disqus export"),
        (parse_disqus, WXR / "export-1.2.xml", "not a Disqus export"),
    ],
    ids=["wxr-truncated", "wxr-rss", "wxr-disqus", "disqus-truncated", "disqus-rss", "disqus-wxr"],
)
def test_a_malformed_export_is_refused_by_name(
    parse: Callable[[bytes, AuthorIdentity, str], Export], file: Path, message: str
) -> None:
    with pytest.raises(ImportFormatError) as caught:
        parse(file.read_bytes(), AUTHOR, str(file))
    assert str(caught.value).startswith(f"{file}: ") and message in str(caught.value)


@pytest.mark.parametrize("export", [wxr, lambda: wxr("export-1.1.xml"), disqus])
def test_no_email_address_is_kept(export: Callable[[], Export]) -> None:
    parsed = export()
    assert parsed.posts
    for item in items_of(parsed).values():
        assert item.author.email == ""
        for text in (repr(item), json.dumps(item.to_dict(private=True))):
            assert not EMAIL.search(text), text


# -- WordPress pages, theme by theme ---------------------------------------------

#: id -> (parent, name, author URL, by the post author, content) per theme.
THEMES: dict[str, dict[int, tuple[int | None, str, str, bool, str]]] = {
    "html5-core.html": {
        10: (
            None,
            "Alice",
            "https://alice.example.com/",
            False,
            "<p>Great post!</p>\n<p>Does it work with <em>Pelican</em> too?</p>",
        ),
        11: (
            10,
            "Marin Dubois",
            "https://old.example.org",
            True,
            "<p>It does, Alice: this very blog will move to it.</p>",
        ),
        12: (11, "Bob", "", False, "<p>And with Pelican 3?</p>"),
        13: (12, "Marin (phone)", "", True, "<p>Not tried yet, Bob.</p>"),
        20: (10, "Carol", "https://carol.example/", False, "<p>Alice, it works with mine.</p>"),
    },
    "twentyten.html": {
        50: (
            None,
            "Grace",
            "https://grace.example/",
            False,
            "<p>Happy new year to you!</p>\n<p>Same to the readers.</p>",
        ),
        51: (50, "Marin Dubois", "", True, "<p>Thank you, Grace.</p>"),
        52: (None, "Heidi", "", False, "<p>Late, but happy new year.</p>"),
    },
    "core-legacy.html": {
        60: (
            None,
            "Ivan",
            "https://ivan.example/",
            False,
            "<p>Which theme will you use now?</p>"
            "<blockquote><p>Out with the old themes.</p></blockquote><p>I liked the old one.</p>",
        ),
        61: (60, "Marin Dubois", "", True, "<p>The default one, Ivan.</p>"),
        62: (None, "Judy", "", False, "<p>Looks cleaner.</p>"),
    },
    "french.html": {
        80: (
            None,
            "Léa",
            "https://lea.example.fr/",
            False,
            "<p>Bonne année à toi aussi&nbsp;!</p>",
        ),
        81: (80, "Marin Dubois", "", True, "<p>Merci Léa.</p>"),
        82: (None, "Hugo", "", False, "<p>En retard, mais bonne année.</p>"),
    },
}


def between_tags(html: str) -> str:
    """HTML without the layout whitespace between tags (themes differ in it)."""
    return re.sub(r">\s+<", "><", html.strip())


#: Saved pages of many themes, each beside a JSON file of what it must give:
#: a new theme is one more pair (see tests/data/wordpress-html/).
PAGE_FILES = sorted(PAGES.glob("*.html"))


def page_as_json(path: Path) -> dict[str, object]:
    spec = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    out: dict[str, object] = {"timezone": spec["timezone"]}
    if spec.get("url"):
        out["url"] = spec["url"]
    try:
        export = parse_page(path.read_text(encoding="utf-8"), spec.get("url", ""),
                            spec["timezone"], name=path.name)  # fmt: skip
    except ImportFormatError as exc:
        return {**out, "error": str(exc)}
    (post,) = export.posts
    return {
        **out,
        "post": {"url": post.url, "slug": post.slug, "title": post.title},
        "skipped": dict(export.skipped),
        "problems": list(export.problems),
        "notes": list(export.notes),
        "items": [
            {
                "id": i.id,
                "kind": i.kind,
                "author": i.author.name,
                "author_url": i.author.url,
                "published": i.published.isoformat(),
                "in_reply_to": i.in_reply_to,
                "by_author": i.by_author,
                "url": i.url,
                "content_html": i.content_html,
            }
            for i in post.items
        ],
    }


def test_every_saved_page_has_its_expected_json() -> None:
    assert len(PAGE_FILES) >= 20
    assert [p.name for p in PAGE_FILES if not p.with_suffix(".json").is_file()] == []


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.stem)
def test_each_saved_page_gives_what_its_json_says(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert page_as_json(path) == expected


@pytest.mark.parametrize("name", list(THEMES))
def test_each_theme_gives_ids_parents_names_and_clean_content(name: str) -> None:
    (post,) = page(name).posts
    comments = {i.id: i for i in post.items if i.kind == "comment"}
    expected = {
        wp(cid): (wp(parent) if parent else None, who, url, by_author, content)
        for cid, (parent, who, url, by_author, content) in THEMES[name].items()
    }
    # The exact content also shows the reply link, avatar, "says:" and the
    # date were left out of it.
    assert {
        i: (
            c.in_reply_to,
            c.author.name,
            c.author.url,
            c.by_author,
            between_tags(c.content_html),
        )
        for i, c in comments.items()
    } == {i: (*rest, between_tags(html)) for i, (*rest, html) in expected.items()}
    for cid, item in comments.items():
        assert item.url == f"{post.url}#comment-{cid.rsplit('/', 1)[1]}"
        assert item.source == "wordpress"


@pytest.mark.parametrize(
    ("name", "comment_id", "zone", "expected"),
    [
        # time[datetime] carries its offset: the zone given does not apply.
        ("html5-core.html", 10, "America/New_York", utc(2013, 6, 2, 9, 15)),
        # Dates in words are the blog's local time (Paris: UTC+1 in March).
        ("core-legacy.html", 60, "Europe/Paris", utc(2009, 3, 5, 8, 41)),
        ("core-legacy.html", 62, "UTC", utc(2009, 3, 6, 23, 59)),
        ("twentyten.html", 50, "Europe/Paris", utc(2010, 1, 2, 14, 2)),
        ("french.html", 80, "Europe/Paris", utc(2010, 1, 2, 14, 2)),
    ],
)
def test_comment_dates_are_aware_and_in_the_zone_given(
    name: str, comment_id: int, zone: str, expected: datetime
) -> None:
    found = {i.id: i.published for p in page(name, zone).posts for i in p.items}
    assert found.get(wp(comment_id)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("January 2, 2010 at 3:02 pm", utc(2010, 1, 2, 14, 2)),
        ("January 2, 2010 at 12:05 am", utc(2010, 1, 1, 23, 5)),
        ("June 2, 2013 at 12:00 pm", utc(2013, 6, 2, 10, 0)),  # summer: UTC+2
        ("2. Januar 2010 um 15:02", utc(2010, 1, 2, 14, 2)),
        ("2010-01-02", utc(2010, 1, 1, 23, 0)),
        ("15 août 2010", utc(2010, 8, 14, 22, 0)),  # summer, and an accented month
        ("2 janvier 2010 à 15 h 02", utc(2010, 1, 2, 14, 2)),  # French: time_format 'G \h i'
        # Kubrick, WordPress's default theme until 2.9: comment_date('F jS, Y').
        ("November 3rd, 2008 at 8:15 pm", utc(2008, 11, 3, 19, 15)),
        ("1er mars 2011 à 9 h 05", utc(2011, 3, 1, 8, 5)),
    ],
)
def test_parse_date_text(text: str, expected: datetime) -> None:
    assert parse_date_text(text, ZoneInfo("Europe/Paris")) == expected


@pytest.mark.parametrize(
    ("name", "author_url"),
    [
        # Walker_Comment::ping prints no date: the pingback takes the date
        # of the comment before it.
        ("html5-core.html", "https://other.example/2013/06/about-hello/"),
        # Twenty Ten prints pingbacks as <li class="post pingback">, no id.
        ("twentyten.html", "https://friend.example/2010/01/links/"),
    ],
)
def test_pingbacks_become_mentions(name: str, author_url: str) -> None:
    export = page(name)
    mentions = [i for p in export.posts for i in p.items if i.kind == "mention"]
    assert [m.author.url for m in mentions] == [author_url]
    assert export.problems == ()


def test_unclosed_tags_still_parse() -> None:
    (post,) = page("unclosed-tags.html").posts
    found = {i.id: (i.in_reply_to, i.author.name, i.by_author) for i in post.items}
    assert found == {
        wp(90): (None, "Mallory", False),
        wp(91): (wp(90), "Marin Dubois", True),
        wp(92): (None, "Niaj", False),
    }
    mallory = post.items[0]
    assert mallory.author.url == "https://mallory.example/"
    assert (
        "unclosed italic" in mallory.content_html and "A second paragraph" in mallory.content_html
    )
    # The parser closed the tags inside the comment: nothing leaks into the page.
    assert mallory.content_html.count("<b>") == mallory.content_html.count("</b>")


def test_omitted_li_end_tags_keep_siblings_apart() -> None:
    comment = (
        '<li id="comment-{n}" class="comment"><article class="comment-body"><b class="fn">'
        '{who}</b><time datetime="2015-02-03T08:00:00+00:00">x</time>'
        '<div class="comment-content"><p>Hi</p></div></article>\n'
    )
    html = (
        '<link rel="canonical" href="https://old.example.org/p/"><ol class="comment-list">'
        + comment.format(n=1, who="A")
        + comment.format(n=2, who="B")
        + "</ol>"
    )
    (post,) = parse_page(html).posts
    assert [i.in_reply_to for i in post.items] == [None, None]


def test_a_page_without_comment_list_is_refused() -> None:
    with pytest.raises(ImportFormatError, match=r"^no-comments.html: no WordPress comment list"):
        page("no-comments.html")


def test_a_page_without_canonical_needs_its_url() -> None:
    with pytest.raises(ImportFormatError, match=r"^saved-without-canonical.html: .*--url"):
        page("saved-without-canonical.html")
    url = "https://old.example.org/2008/11/first-steps/"
    (post,) = page("saved-without-canonical.html", url=url).posts
    assert (post.url, post.slug, post.title) == (
        url,
        "first-steps",
        "Marin's notes » Blog Archive » First steps",
    )
    assert [(i.id, i.url, i.author.name) for i in post.items] == [
        (wp(5), f"{url}#comment-5", "Kim")
    ]
    # A URL that is not http(s) does not stand in for the canonical one.
    with pytest.raises(ImportFormatError):
        page("saved-without-canonical.html", url="javascript:alert(1)")


# -- Disqus ---------------------------------------------------------------------


def test_disqus_links_flat_posts_to_their_threads() -> None:
    export = disqus()
    assert export.skipped == {"deleted": 2, "spam": 1}
    assert export.problems == ("post 3006: orphan (its thread 2999 is not in the file)",)
    # Threads without a live post (2004: its only post is deleted) give no post.
    assert [(p.url, p.title, [i.id for i in p.items]) for p in export.posts] == [
        (
            "https://old.example.org/2013/06/hello-world/",
            "Hello, world",
            ["disqus:3001", "disqus:3002", "disqus:3003"],
        ),
        ("https://old.example.org/2013/07/old-name/", "Old name", ["disqus:3007"]),
        ("https://old.example.org/2014/01/gone-post/", "Gone post", ["disqus:3008"]),
    ]
    items = items_of(export)
    assert {i: items[i].in_reply_to for i in items} == {
        "disqus:3001": None,
        "disqus:3002": "disqus:3001",
        "disqus:3003": "disqus:3002",
        "disqus:3007": None,
        "disqus:3008": None,
    }
    alice, marin, bob = (items[f"disqus:300{n}"] for n in (1, 2, 3))
    assert (alice.author.name, alice.author.handle, alice.author.url) == (
        "Alice",
        "alice_reads",
        "https://disqus.com/by/alice_reads/",
    )
    # An anonymous commenter has no username, so no profile link.
    assert (bob.author.name, bob.author.handle, bob.author.url) == ("Bob", "", "")
    assert alice.published == utc(2013, 6, 2, 9, 15)
    assert bob.published == utc(2013, 6, 3, 7, 30)  # createdAt without "Z" is UTC
    # MARIN@mail.example is ENGAGE_AUTHOR's marin@mail.example.
    assert {i for i in items if items[i].by_author} == {"disqus:3002"}
    assert marin.source == "disqus" and marin.kind == "comment"
    assert not [word for word in LEFT_OUT_WORDS if word in repr(export)]


def test_disqus_sanitises_messages() -> None:
    dave = items_of(disqus())["disqus:3007"].content_html.casefold()
    for bad in ("<script", "alert(", "onclick", "javascript:"):
        assert bad not in dave
    assert "why the new name?" in dave and "details" in dave


def test_disqus_reads_the_gzipped_file_it_mails() -> None:
    plain = (DISQUS / "export.xml").read_bytes()
    assert disqus(gzip.compress(plain)) == disqus(plain)
    with pytest.raises(ImportFormatError, match=r"^export.xml: broken gzip file"):
        disqus(gzip.compress(plain)[:200])
