"""pelican_comment_system themes after the switch: its template API, its anchors, its macros."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import unquote

from bs4 import Tag
from hypothesis import given
from hypothesis import strategies as st

from pelican_engage.archive import Archive
from pelican_engage.model import Item, Person
from tests.conftest import DATA, Site

PCS_THEME = DATA / "pcs-theme" / "templates"
MACROS_THEME = DATA / "pcs-theme-macros" / "templates"

#: What pelican_comment_system showed for tests/data/local/pcs-thread:
#: slug (file name with extension, slugified) -> (author, parent slug, words of the body).
EXPECTED = {
    "c1md": ("Ann Reader", None, "Lovely post"),
    "c2md": ("Marin", "c1md", "I build this very blog"),
    "c3md": ("Ann Reader", "c2md", "what about"),
    "c4markdown": ("Bea", "c1md", "I was wondering the same"),
    "c5rst": ("Carl", None, "which Pelican reads too"),
}


def _site(site: Site) -> Site:
    site.article("first-post", title="First post", body="The body.")
    site.article("quiet-post", title="Quiet post", body="Nobody commented here.")
    site.copy_comments("first-post", DATA / "local" / "pcs-thread")
    return site


def _pcs_tree(section: Tag) -> dict[str, tuple[str, str | None, str]]:
    found = {}
    for li in section.select("li.pcs-comment"):
        parent = li.find_parent("li", class_="pcs-comment")
        slug = li["id"].removeprefix("comment-")
        author = li.select_one(".pcs-author").get_text(strip=True)
        text = li.select_one(".pcs-comment-content").get_text(" ", strip=True)
        found[slug] = (author, parent["id"].removeprefix("comment-") if parent else None, text)
    return found


def test_a_pcs_theme_renders_the_same_comments_without_error(site: Site) -> None:
    _site(site).build(
        THEME="simple",
        THEME_TEMPLATES_OVERRIDES=[str(PCS_THEME)],
        PELICAN_COMMENT_SYSTEM=True,
        DEFAULT_DATE_FORMAT="%d %B %Y",
    )
    page = site.html("first-post.html")
    (section,) = page.select("#pcs-comments")
    tree = _pcs_tree(section)
    assert set(tree) == set(EXPECTED)
    for slug, (author, parent, words) in EXPECTED.items():
        assert tree[slug][:2] == (author, parent), slug
        assert words in tree[slug][2], slug
    # Siblings oldest first, as pcs sorted them.
    c1 = page.select_one("#comment-c1md")
    assert [li["id"] for li in c1.find("ul").find_all("li", recursive=False)] == [
        "comment-c2md",
        "comment-c4markdown",
    ]
    assert page.select_one(".comment-count").get_text(strip=True) == "5 comments"
    # The theme shows the comments: no second thread is injected.
    assert page.select("section.engage") == []
    # Fields the theme prints.
    assert c1.select_one(".pcs-author a")["href"] == "https://ann.example"
    time = c1.select_one("time")
    assert time["datetime"] == "2026-02-01T10:00:00+00:00"
    assert time.get_text() == "01 February 2026"
    assert c1.select_one(".pcs-permalink")["title"] == "Posted by: Ann Reader"
    assert page.select_one("#comment-c3md .pcs-replyto")["href"] == "#comment-c2md"
    # Avatars are files of the site (never a stranger's server), one per person.
    sources = {img["src"] for img in section.select("img.pcs-avatar")}
    assert len(sources) == 4  # Ann twice
    for src in sources:
        assert src.startswith("https://blog.example/images/identicon/")
        svg = site.output / src.removeprefix("https://blog.example/")
        assert svg.read_text().startswith("<svg")
    assert c1.select_one("img.pcs-avatar")["width"] == "72"
    assert "ann@reader.example" not in str(page)
    # The theme's feed link (PELICAN_COMMENT_SYSTEM_FEED|format(article.slug)) leads to a feed.
    feed = section.select_one("a.pcs-feed")["href"]
    assert feed == "https://blog.example/feeds/comment.first-post.atom.xml"
    assert (site.output / feed.removeprefix("https://blog.example/")).is_file()
    # A post without comments: pcs's empty state, and no error.
    quiet = site.html("quiet-post.html")
    assert "There are no comments yet." in quiet.get_text()
    assert quiet.select_one(".comment-count").get_text(strip=True) == "0 comments"


def test_printed_values_are_escaped_in_a_pcs_theme(site: Site) -> None:
    _site(site)
    Archive(site.root / "archive").merge(
        "first-post",
        [
            Item(
                id="wordpress:old.example/1",
                source="wordpress",
                kind="comment",
                author=Person(name='<b>Eve</b> & "co"', url='https://eve.example/?a="x"'),
                published=datetime(2026, 3, 2, tzinfo=timezone.utc),
                content_html="<p>Imported</p>",
            ),
            Item(
                id="twitter:9",
                source="twitter",
                kind="like",
                author=Person(name="Liker"),
                published=datetime(2026, 3, 2, tzinfo=timezone.utc),
            ),
        ],
    )
    site.build(
        THEME="simple", THEME_TEMPLATES_OVERRIDES=[str(PCS_THEME)], PELICAN_COMMENT_SYSTEM=True
    )
    page = site.html("first-post.html")
    eve = page.find(id="comment-wordpress-old.example-1")
    assert eve.select_one(".pcs-author").get_text(strip=True) == '<b>Eve</b> & "co"'
    assert eve.select_one(".pcs-author b") is None
    assert eve.select_one(".pcs-author a")["href"] == 'https://eve.example/?a="x"'
    # A like is counted elsewhere, never a comment.
    assert page.select_one(".comment-count").get_text(strip=True) == "6 comments"
    assert "Liker" not in page.get_text()


def test_old_comment_anchors_land_on_the_injected_thread(site: Site) -> None:
    # The same theme, with pelican_comment_system switched off in the conf.
    _site(site).build(THEME="simple", THEME_TEMPLATES_OVERRIDES=[str(PCS_THEME)])
    page = site.html("first-post.html")
    assert page.select("#pcs-comments") == []
    (section,) = page.select("section.engage")
    for slug in EXPECTED:
        (target,) = page.select(f"#comment-{slug}")
        item = target.find_parent(attrs={"data-engage-id": True})
        assert item["data-engage-id"].endswith(
            "/" + slug.removesuffix("md").removesuffix("markdown").removesuffix("rst")
        ), slug
        assert target.find_parent("section") is section
    ids = [el["id"] for el in page.select("[id]")]
    assert len(ids) == len(set(ids))


def test_the_pcs_macros_render_one_thread_with_a_mail_link(site: Site) -> None:
    _site(site).build(THEME="simple", THEME_TEMPLATES_OVERRIDES=[str(MACROS_THEME)])
    page = site.html("first-post.html")
    (section,) = page.select("section.engage")
    assert len(section.select("[data-engage-id]")) == 5
    # No JavaScript: the only script is JSON-LD data.
    assert [s.get("type") for s in page.find_all("script")] == ["application/ld+json"]
    leave = section.select_one("a.engage-mail-comment")
    assert unquote(leave["href"]).startswith("mailto:emailuser@example.com?subject=Re: First post")
    assert section.select_one("#comment-c1md") is not None


@given(st.text(alphabet="aZ09_.- é\t", min_size=1, max_size=12))
def test_the_slug_shortcut_is_pelicans_slugify(name: str) -> None:
    from pelican.settings import DEFAULT_CONFIG
    from pelican.utils import slugify

    from pelican_engage.pcs_compat import _slugify

    subs = DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"]
    assert _slugify(name, subs) == slugify(name, regex_subs=subs)
    custom = [*subs, ("z", "y")]
    assert _slugify(name, custom) == slugify(name, regex_subs=custom)
