"""End to end: real Pelican builds in temporary folders, read back with BeautifulSoup."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

import pytest

from pelican_engage.archive import Archive
from pelican_engage.model import Item, Person
from tests.conftest import DATA, Site

THREAD = DATA / "local" / "pcs-thread"


def _thread_site(site: Site) -> Site:
    site.article("first-post", title="First post", body="The *body* of the first post.")
    site.article("quiet-post", title="Quiet post", body="Nobody commented here.")
    site.copy_comments("first-post", THREAD)
    return site


@pytest.mark.parametrize("theme", ["notmyidea", "simple"])
def test_thread_is_injected_after_the_body_with_the_html_contract(site: Site, theme: str) -> None:
    _thread_site(site).build(THEME=theme, ENGAGE_SHOW_WAITING=True)
    page = site.html("first-post.html")
    (section,) = page.select("section.engage")
    assert section["id"] == "comments"
    # After the article body, inside the article.
    article = section.find_parent("article")
    assert article is not None
    body = article.find(string=lambda s: "of the first post" in s)
    assert body is not None
    all_text = str(page)
    assert all_text.index("of the first post") < all_text.index("data-engage-thread=")

    items = {el["data-engage-id"]: el for el in section.select("[data-engage-id]")}
    assert set(items) == {f"comment:first-post/c{n}" for n in range(1, 6)}
    for el in items.values():
        assert {"engage-item", "h-entry"} <= set(el["class"])
        assert el.select_one(".p-author.h-card") is not None
        assert el.select_one(".e-content") is not None
        time = el.select_one("time.dt-published")
        assert time is not None and time["datetime"].startswith("2026-02-0")
        assert el.select_one("a.u-url") is not None

    c2 = items["comment:first-post/c2"]
    assert c2["data-engage-parent"] == "comment:first-post/c1"
    # Replies nest inside their parent's element.
    assert c2.find_parent(attrs={"data-engage-id": "comment:first-post/c1"}) is not None
    assert "data-engage-parent" not in items["comment:first-post/c1"].attrs

    # The author's reply is marked, with a visible badge; only it.
    authored = section.select(".engage-by-author")
    assert [el["data-engage-id"] for el in authored] == ["comment:first-post/c2"]
    assert c2.select_one(".engage-badge").get_text(strip=True) == "Author"

    # Ann wrote again after the author's answer; Carl's top-level comment is unanswered.
    waiting = {el["data-engage-id"] for el in section.select(".engage-waiting")}
    assert waiting == {"comment:first-post/c3", "comment:first-post/c5"}

    # Email addresses are never rendered; no script anywhere in the thread
    # (JSON-LD is data, which browsers never run).
    assert "ann@reader.example" not in all_text
    assert [s.get("type") for s in section.find_all("script")] == ["application/ld+json"]
    assert (site.output / "engage" / "engage.css").is_file()
    assert section.select_one('link[rel="stylesheet"]')["href"].endswith("engage/engage.css")


def test_post_without_comments_gets_an_empty_thread(site: Site) -> None:
    _thread_site(site).build()
    section = site.html("quiet-post.html").select_one("section.engage")
    assert section is not None
    assert section.select("[data-engage-id]") == []
    assert "No comments yet" in section.get_text()


def test_index_pages_and_feeds_carry_no_thread(site: Site) -> None:
    _thread_site(site).build(FEED_ALL_ATOM="feeds/all.atom.xml")
    assert "data-engage-id" not in (site.output / "index.html").read_text()
    assert "data-engage-id" not in (site.output / "feeds" / "all.atom.xml").read_text()
    assert "Lovely post" not in (site.output / "feeds" / "all.atom.xml").read_text()


def test_theme_that_includes_the_template_gets_exactly_one_thread(site: Site) -> None:
    _thread_site(site)
    overrides = site.root / "overrides"
    overrides.mkdir()
    (overrides / "article.html").write_text(
        '{% extends "!simple/article.html" %}\n'
        "{% block content %}{{ super() }}\n"
        '<aside id="where-the-theme-wants-it">{% include "engage/thread.html" %}</aside>\n'
        "<p id='counts'>{{ article.engage.counts.comment }} comments, "
        "{{ article.engage.waiting|length }} waiting, {{ article.engage.total }} in all</p>\n"
        "{% endblock %}\n"
    )
    site.build(THEME="simple", THEME_TEMPLATES_OVERRIDES=[str(overrides)])
    page = site.html("first-post.html")
    sections = page.select("section.engage")
    assert len(sections) == 1
    assert sections[0].find_parent("aside")["id"] == "where-the-theme-wants-it"
    assert page.select_one("#counts").get_text() == "5 comments, 2 waiting, 5 in all"


def test_a_theme_that_includes_the_template_shows_no_thread_for_an_opted_out_post(
    site: Site,
) -> None:
    """``engage: off`` leaves the string "off" in ``article.engage``: the
    included template shows nothing for it (it failed the whole build)."""
    _thread_site(site)
    site.article("private", body="No comments please.", engage="off")
    overrides = site.root / "overrides"
    overrides.mkdir()
    (overrides / "article.html").write_text(
        '{% extends "!simple/article.html" %}\n'
        '{% block content %}{{ super() }}{% include "engage/thread.html" %}{% endblock %}\n'
    )
    site.build(THEME="simple", THEME_TEMPLATES_OVERRIDES=[str(overrides)])
    assert "No comments please." in (site.output / "private.html").read_text()
    assert site.html("private.html").select("section.engage") == []
    assert len(site.html("first-post.html").select("section.engage")) == 1


def test_a_theme_can_override_the_thread_template(site: Site) -> None:
    _thread_site(site)
    overrides = site.root / "overrides"
    (overrides / "engage").mkdir(parents=True)
    (overrides / "engage" / "thread.html").write_text(
        '<div class="my-thread" data-engage-thread="x">{{ article.engage.total }}</div>'
    )
    site.build(THEME_TEMPLATES_OVERRIDES=[str(overrides)])
    page = site.html("first-post.html")
    assert page.select_one(".my-thread").get_text() == "5"
    assert page.select("section.engage") == []


def test_injection_can_be_turned_off(site: Site) -> None:
    _thread_site(site).build(ENGAGE_INJECT=False)
    assert "data-engage-id" not in (site.output / "first-post.html").read_text()


def test_a_post_can_opt_out(site: Site, engage_warnings) -> None:
    site.article("private", body="No comments please.", engage="off")
    site.copy_comments("private", THREAD)
    site.build()
    assert engage_warnings() == []  # its folder is not "unused"
    assert "engage" not in (site.output / "private.html").read_text().split("</header>", 1)[-1]


def test_bad_comment_files_warn_once_each_and_the_build_goes_on(
    site: Site, engage_warnings
) -> None:
    _thread_site(site)
    site.comment("first-post", "nodate.md", "No date here.", author="Dan")
    site.comment("first-post", "noauthor.md", "Who am I?", date="2026-02-06 10:00")
    site.comment("first-post", "orphan.md", "Lost.", author="Eve", date="2026-02-07", replyto="c99")
    site.comment("first-post", "bytes.md", b"author: Fr\xe9d\ndate: 2026-02-08\n\nBonjour\n")
    site.build()
    warnings = engage_warnings()
    assert len(warnings) == 4
    for name, problem in [
        ("nodate.md", "has no date"),
        ("noauthor.md", "has no author"),
        ("orphan.md", "replyto 'c99' names no comment of this post"),
        ("bytes.md", "not valid UTF-8"),
    ]:
        assert any(name in w and problem in w for w in warnings), (name, warnings)
    ids = {el["data-engage-id"] for el in site.html("first-post.html").select("[data-engage-id]")}
    assert len(ids) == 9  # everything still renders


def test_a_header_after_a_blank_line_never_publishes_the_address(
    site: Site, engage_warnings
) -> None:
    """Markdown readers show such a header as text; its e-mail address would
    reach the page, the feeds, the report and the cache."""
    _thread_site(site)
    site.comment(
        "first-post",
        "late.md",
        b"\nauthor: Blank First\ndate: 2026-02-09 10:00\nemail: blank.first@leak.example\n"
        b"\nLeading blank line.\n",
    )
    # A Markdown header in a reST file: no field list, so text too.
    site.comment(
        "first-post",
        "other.rst",
        b"author: Rest Writer\ndate: 2026-02-10 10:00\nemail: rest.writer@leak.example\n"
        b"\nA reST comment.\n",
    )
    # An HTML file whose header became a paragraph (a mail client, an editor).
    site.comment(
        "first-post",
        "mailed.html",
        b'<html><head><meta name="Generator" content="Microsoft Word 15"></head><body>'
        b"<p><b>author:</b> Html Writer<br>\r\ndate: 2026-02-11 10:00<br>\r\nemail: "
        b'<a href="mailto:html.writer@leak.example">html.writer@leak.example</a></p>'
        b"\n<p>An HTML comment.</p></body></html>\n",
    )
    # A blank line inside a Markdown header: the meta extension reads only the author.
    site.comment(
        "first-post",
        "split.md",
        b"author: Split Header\ndate: 2026-02-12 10:00\n\nemail: split.header@leak.example\n"
        b"\nA split header.\n",
    )
    site.build(ENGAGE_COMMENT_FEED="feeds/comment.{slug}.atom.xml")
    leaks = [
        path
        for path in site.root.rglob("*")
        if path.is_file()
        and re.search(
            rb"(blank\.first|rest\.writer|html\.writer|split\.header)@leak", path.read_bytes()
        )
    ]
    comments = site.content / "comments" / "first-post"
    assert sorted(leaks) == [
        comments / name for name in ("late.md", "mailed.html", "other.rst", "split.md")
    ]
    warnings = engage_warnings()
    assert len(warnings) == 4
    assert any("split.md" in w and "read as the header" in w for w in warnings), warnings
    html = site.html("first-post.html").select_one('[data-engage-id="comment:first-post/mailed"]')
    assert "Html Writer" in html.get_text() and "An HTML comment." in html.get_text()
    for name in ("late.md", "other.rst", "mailed.html"):
        assert any(name in w and "read as the header" in w for w in warnings), warnings
    rest = site.html("first-post.html").select_one('[data-engage-id="comment:first-post/other"]')
    assert "Rest Writer" in rest.get_text() and "A reST comment." in rest.get_text()
    page = site.html("first-post.html")
    card = page.select_one('[data-engage-id="comment:first-post/late"]')
    assert "Blank First" in card.get_text() and "Leading blank line." in card.get_text()
    assert (site.output / "feeds" / "comment.first-post.atom.xml").is_file()


def test_a_reply_cycle_warns_once_and_renders_every_item(site: Site, engage_warnings) -> None:
    site.article("loop")
    site.comment("loop", "a.md", "A", author="A", date="2026-02-01", replyto="b")
    site.comment("loop", "b.md", "B", author="B", date="2026-02-02", replyto="a")
    site.build()
    (warning,) = engage_warnings()
    assert "a.md" in warning and "b.md" in warning and "cycle" in warning
    section = site.html("loop.html").select_one("section.engage")
    assert len(section.select("[data-engage-id]")) == 2


def test_a_3000_deep_reply_chain_builds_and_renders(site: Site) -> None:
    site.article("deep")
    for n in range(3000):
        reply = {"replyto": f"c{n - 1}"} if n else {}
        site.comment(
            "deep", f"c{n}.md", f"Level {n}", author=f"R{n % 5}", date="2026-02-01", **reply
        )
    site.build(ENGAGE_DISPLAY_DEPTH=4)
    section = site.html("deep.html").select_one("section.engage")
    items = section.select("[data-engage-id]")
    assert len(items) == 3000
    assert items[-1]["data-engage-parent"] == "comment:deep/c2998"
    # Nesting stops at the display depth.
    assert max(len(el.find_parents("li")) for el in items) == 3


def test_warm_build_reads_comments_from_the_cache(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pelican_engage")
    _thread_site(site).build()
    first = (site.output / "first-post.html").read_text()
    summaries = [r.getMessage() for r in caplog.records if r.name == "pelican_engage.plugin"]
    assert len(summaries) == 1 and "5 comment file(s) parsed" in summaries[0]
    caplog.clear()
    site.build()  # same process, like pelican --autoreload
    summaries = [r.getMessage() for r in caplog.records if r.name == "pelican_engage.plugin"]
    assert len(summaries) == 1 and "0 comment file(s) parsed" in summaries[0]
    assert (site.output / "first-post.html").read_text() == first


def test_translations_get_their_own_key(site: Site) -> None:
    site.article("hello", title="Hello", lang="en")
    site.article("hello-fr", title="Bonjour", lang="fr", body="Le corps.")
    # Pelican pairs translations by slug; give the French file the same slug.
    fr = site.content / "hello-fr.md"
    fr.write_text(fr.read_text().replace("Slug: hello-fr", "Slug: hello"))
    site.comment("hello", "c1.md", "Nice", author="A", date="2026-02-01")
    site.comment("hello-fr", "c1.md", "Sympa", author="B", date="2026-02-01")
    site.build(DEFAULT_LANG="en")
    assert (
        site.html("hello.html").select_one("[data-engage-id]")["data-engage-id"]
        == "comment:hello/c1"
    )
    fr_page = site.html("hello-fr.html")
    assert fr_page.select_one("[data-engage-id]")["data-engage-id"] == "comment:hello-fr/c1"


def test_engage_key_keeps_the_thread_of_a_renamed_post(site: Site) -> None:
    site.article("new-name", engage_key="old-name")
    site.comment("old-name", "c1.md", "Still here", author="A", date="2026-02-01")
    site.build()
    item = site.html("new-name.html").select_one("[data-engage-id]")
    assert item["data-engage-id"] == "comment:old-name/c1"


def test_comment_files_are_not_read_as_articles(site: Site) -> None:
    _thread_site(site).build()
    assert not list(site.output.glob("**/c1.html"))
    assert not (site.output / "comments").exists()


def test_bad_settings_name_the_key_and_the_build_goes_on(site: Site, caplog) -> None:
    _thread_site(site).build(ENGAGE_AUTHOR={"nmes": ["Marin"]})
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("ENGAGE_AUTHOR" in e and "'nmes'" in e for e in errors)
    assert (site.output / "first-post.html").exists()


def test_relative_urls_link_the_stylesheet_relatively(site: Site) -> None:
    site.article("nested")
    site.comment("nested", "c1.md", "Hi", author="A", date="2026-02-01")
    site.build(
        RELATIVE_URLS=True,
        ARTICLE_URL="posts/{slug}/",
        ARTICLE_SAVE_AS="posts/{slug}/index.html",
    )
    page = site.html("posts/nested/index.html")
    href = page.select_one("section.engage link")["href"]
    assert href == "../../engage/engage.css"
    # The relative link reaches the stylesheet the build wrote.
    stylesheet = (site.output / "posts" / "nested" / href).resolve()
    assert stylesheet == (site.output / "engage" / "engage.css").resolve()
    assert stylesheet.is_file()


def _archive_reply(site: Site, key: str, name: str, handle: str, text: str) -> None:
    """An item as a remote source or an import would leave it in the archive."""
    Archive(site.root / "archive").merge(
        key,
        [
            Item(
                id="twitter:1",
                source="twitter",
                kind="reply",
                author=Person(name=name, handle=handle),
                published=datetime(2026, 3, 1, tzinfo=timezone.utc),
                content_html=f"<p>{text}</p>",
            )
        ],
    )


def _summary(caplog: pytest.LogCaptureFixture) -> str:
    from pelican.log import LimitFilter

    (line,) = [r.getMessage() for r in caplog.records if r.name == "pelican_engage.plugin"]
    caplog.clear()
    # Pelican drops a repeated identical message, and two builds can log the
    # same summary down to the hundredth of a second.
    LimitFilter._raised_messages.clear()
    return line


def test_warm_build_reuses_threads_until_an_input_changes(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pelican_engage")
    _thread_site(site)
    site.build(ENGAGE_SHOW_WAITING=True)
    assert "0 thread(s) reused" in _summary(caplog)
    site.build(ENGAGE_SHOW_WAITING=True)
    assert "2 thread(s) reused" in _summary(caplog)

    # An edited comment: only its post is rebuilt, and the edit shows.
    c5 = site.content / "comments" / "first-post" / "c5.rst"
    c5.write_text(c5.read_text().replace("Pelican reads too", "Pelican reads as well"))
    site.build(ENGAGE_SHOW_WAITING=True)
    assert "1 comment file(s) parsed, 1 thread(s) reused" in _summary(caplog)
    assert "Pelican reads as well" in (site.output / "first-post.html").read_text()

    # A new archived item (from a source or an import) shows on the next build.
    _archive_reply(site, "quiet-post", "Tweeter", "tw", "From the archive")
    site.build(ENGAGE_SHOW_WAITING=True)
    assert "1 thread(s) reused" in _summary(caplog)
    assert "From the archive" in (site.output / "quiet-post.html").read_text()

    # An acknowledgement changes every thread's waiting state.
    Archive(site.root / "archive").acknowledge("comment:first-post/c5")
    site.build(ENGAGE_SHOW_WAITING=True)
    assert "0 thread(s) reused" in _summary(caplog)
    waiting = site.html("first-post.html").select(".engage-waiting")
    assert [el["data-engage-id"] for el in waiting] == ["comment:first-post/c3"]

    # So does a change of who the author is.
    site.build(ENGAGE_SHOW_WAITING=True, ENGAGE_AUTHOR={"names": ["Ann Reader"]})
    assert "0 thread(s) reused" in _summary(caplog)
    badges = site.html("first-post.html").select(".engage-by-author")
    assert [el["data-engage-id"] for el in badges] == [
        "comment:first-post/c1",
        "comment:first-post/c3",
    ]

    # A new SITEURL is a new rendering of the same thread.
    site.build(SITEURL="https://elsewhere.example")
    page = site.html("first-post.html")
    assert page.select_one("section.engage link")["href"].startswith("https://elsewhere.example")


def test_problems_are_told_again_on_a_warm_build(site: Site, engage_warnings) -> None:
    _thread_site(site)
    site.comment("first-post", "nodate.md", "No date here.", author="Dan")
    site.build()
    assert len(engage_warnings()) == 1
    from pelican.log import LimitFilter

    LimitFilter._raised_messages.clear()
    site.build()
    assert len(engage_warnings()) == 2


def test_a_theme_override_is_rendered_on_every_build(site: Site) -> None:
    _thread_site(site)
    overrides = site.root / "overrides" / "engage"
    overrides.mkdir(parents=True)
    (overrides / "thread.html").write_text(
        '<div class="t" data-engage-thread="x">'
        "{{ article.title }}: {{ article.engage.total }}</div>"
    )
    site.build(THEME_TEMPLATES_OVERRIDES=[str(overrides.parent)])
    article = site.content / "first-post.md"
    article.write_text(article.read_text().replace("Title: First post", "Title: Renamed"))
    site.build(THEME_TEMPLATES_OVERRIDES=[str(overrides.parent)])
    assert site.html("first-post.html").select_one(".t").get_text() == "Renamed: 5"


def test_a_sub_site_built_inside_the_main_build_keeps_both_threads(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """i18n_subsites runs a whole Pelican build from the get_writer signal."""
    from pelican import Pelican, signals
    from pelican.settings import read_settings

    caplog.set_level(logging.INFO, logger="pelican_engage")
    _thread_site(site)

    def build_sub_site(pelican: object) -> None:
        if getattr(pelican, "output_path", "").endswith("fr"):
            return  # the sub-site's own get_writer
        sub = site.settings(OUTPUT_PATH=str(site.output / "fr"))
        Pelican(settings=read_settings(override=sub)).run()

    signals.get_writer.connect(build_sub_site)
    try:
        site.build()
    finally:
        signals.get_writer.disconnect(build_sub_site)
    for page in ("first-post.html", "fr/first-post.html"):
        assert len(site.html(page).select("[data-engage-id]")) == 5, page
    summaries = [r for r in caplog.records if r.name == "pelican_engage.plugin"]
    assert len(summaries) == 2


def test_a_translation_does_not_borrow_the_originals_comments(site: Site) -> None:
    site.article("hello", title="Hello", lang="en")
    site.article("hello-fr", title="Bonjour", lang="fr")
    fr = site.content / "hello-fr.md"
    fr.write_text(fr.read_text().replace("Slug: hello-fr", "Slug: hello"))
    site.comment("hello", "c1.md", "Nice", author="A", date="2026-02-01")
    site.build(DEFAULT_LANG="en")
    assert len(site.html("hello.html").select("[data-engage-id]")) == 1
    assert site.html("hello-fr.html").select("[data-engage-id]") == []


def test_a_post_that_quotes_the_marker_still_gets_its_thread(site: Site) -> None:
    site.article(
        "about-markers",
        body='Themes include it as `<section data-engage-thread="x">`, see data-engage-thread.',
    )
    site.comment("about-markers", "c1.md", "Nice", author="A", date="2026-02-01")
    site.build()
    assert len(site.html("about-markers.html").select("[data-engage-id]")) == 1


def test_comment_files_never_reach_the_output_as_static_files(site: Site) -> None:
    _thread_site(site)
    site.build(STATIC_PATHS=[""], ENGAGE_COMMENTS_PATH="comments/")
    assert not (site.output / "comments").exists()
    assert "ann@reader.example" not in "".join(
        p.read_text(errors="replace") for p in site.output.rglob("*") if p.is_file()
    )
    assert len(site.html("first-post.html").select("[data-engage-id]")) == 5


def test_a_comment_folder_without_its_post_is_reported(site: Site, engage_warnings) -> None:
    _thread_site(site)
    site.comment("old-slug", "c1.md", "Where did the post go?", author="A", date="2026-02-01")
    site.build()
    (warning,) = engage_warnings()
    assert "old-slug" in warning and "matches no article" in warning
    assert "engage_key: old-slug" in warning


def test_drafts_get_a_thread_but_are_not_counted_as_waiting(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pelican_engage")
    site.article("draft-post", status="draft")
    site.comment("draft-post", "c1.md", "Early reader", author="A", date="2026-02-01")
    site.build()
    assert len(site.html("drafts/draft-post.html").select("[data-engage-id]")) == 1
    assert "0 items on 0 posts, 0 waiting;" in _summary(caplog)


def test_social_items_named_like_the_author_are_not_the_author(site: Site) -> None:
    site.article("post")
    _archive_reply(site, "post", "Marin", "not_marin", "I am not who you think")
    site.build(ENGAGE_SHOW_WAITING=True)
    (item,) = site.html("post.html").select("[data-engage-id]")
    assert "engage-by-author" not in item["class"]
    assert "engage-waiting" in item["class"]


def _opens_of_written_pages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths the plugin opens to rewrite a page Pelican already wrote."""
    import builtins

    from pelican_engage import plugin

    opened: list[str] = []

    def counting_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(str(file))
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(plugin, "open", counting_open, raising=False)
    return opened


def test_pages_are_finished_before_pelican_writes_them(site: Site, monkeypatch) -> None:
    """The thread and the webmention link go into the page as Pelican renders
    it: each page is written once, never read back and rewritten."""
    opened = _opens_of_written_pages(monkeypatch)
    _thread_site(site).build(
        ENGAGE_WEBMENTION={"endpoint": "https://webmention.io/blog/webmention"}
    )
    page = site.html("first-post.html")
    assert len(page.select("section.engage [data-engage-id]")) == 5
    assert page.select_one('link[rel="webmention"]') is not None
    assert site.html("index.html").select_one('link[rel="webmention"]') is not None
    assert opened == []


def test_a_template_class_set_after_ours_still_gets_the_thread(site: Site, monkeypatch) -> None:
    """Another plugin replacing the environment's template class after ours:
    its pages are finished once written, by reading them back."""
    import jinja2
    from pelican import signals

    def replace_class(generator) -> None:  # type: ignore[no-untyped-def]
        generator.env.template_class = jinja2.Template

    opened = _opens_of_written_pages(monkeypatch)
    # Sent after generator_init, where ours hooks the environment.
    signals.article_generator_init.connect(replace_class)
    try:
        _thread_site(site).build()
    finally:
        signals.article_generator_init.disconnect(replace_class)
    page = site.html("first-post.html")
    assert len(page.select("section.engage [data-engage-id]")) == 5
    assert any(path.endswith("first-post.html") for path in opened)
