"""Pelican pages get a conversation too: threads, the report, and imports of
WordPress pages (WXR ``wp:post_type`` page)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.importers import ExportedPost, SiteArticle, SitePosts
from pelican_engage.model import Item, Person
from tests.conftest import DATA, Site

WXR_PAGES = DATA / "wxr" / "pages.xml"


def page(site: Site, slug: str, body: str = "Who writes here.", **meta: str) -> Path:
    """A Pelican page (content/pages/, Pelican's PAGE_PATHS)."""
    folder = site.content / "pages"
    folder.mkdir(exist_ok=True)
    lines = [f"Title: {slug.title()}", f"Slug: {slug}", *(f"{k}: {v}" for k, v in meta.items())]
    path = folder / f"{slug}.md"
    path.write_text("\n".join(lines) + "\n\n" + body + "\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("theme", ["notmyidea", "simple"])
def test_a_page_with_a_local_comment_shows_its_thread(site: Site, theme: str) -> None:
    site.article("first-post")
    page(site, "about", body="Who *writes* here.")
    site.comment("about", "c1.md", "Nice to meet you.", author="Ann", date="2026-01-03 10:00")
    site.build(THEME=theme)
    html = site.html("pages/about.html")
    (section,) = html.select("section.engage")
    assert section["data-engage-thread"] == "about"
    assert "Nice to meet you." in section.get_text()
    text = str(html)
    assert text.index("writes") < text.index("data-engage-thread=")
    # The article keeps its own (empty) thread; the comment is the page's only.
    (other,) = site.html("first-post.html").select("section.engage")
    assert "Nice to meet you." not in other.get_text()


def test_a_page_shows_archived_items_and_an_engage_key(site: Site) -> None:
    page(site, "contact", engage_key="old-contact")
    Archive(site.root / "archive").merge(
        "old-contact",
        [
            Item(
                id="wordpress:old.example/5",
                source="wordpress",
                kind="comment",
                author=Person(name="Ben"),
                published=datetime(2015, 1, 2, tzinfo=timezone.utc),
                content_html="<p>Still here?</p>",
            )
        ],
    )
    site.build(ENGAGE_OFFLINE=True)
    (section,) = site.html("pages/contact.html").select("section.engage")
    assert section["data-engage-thread"] == "old-contact"
    assert "Still here?" in section.get_text()


def test_a_page_can_opt_out_and_keeps_its_comment_folder(site: Site, engage_warnings) -> None:
    page(site, "imprint", engage="off")
    site.comment("imprint", "c1.md", "Hidden.", author="Ann", date="2026-01-03 10:00")
    site.build()
    assert not site.html("pages/imprint.html").select("section.engage")
    assert not [w for w in engage_warnings() if "imprint" in w]


def test_a_theme_page_template_that_includes_the_thread_gets_exactly_one(site: Site) -> None:
    theme = site.root / "theme"
    (theme / "templates").mkdir(parents=True)
    (theme / "templates" / "page.html").write_text(
        "<html><body><article>{{ page.content }}"
        '{% include "engage/thread.html" ignore missing %}</article></body></html>',
        encoding="utf-8",
    )
    page(site, "about")
    site.comment("about", "c1.md", "Hello page.", author="Ann", date="2026-01-03 10:00")
    site.build(THEME=str(theme), THEME_TEMPLATES_OVERRIDES=[])
    (section,) = site.html("pages/about.html").select("section.engage")
    assert "Hello page." in section.get_text()


def test_the_report_and_post_accept_a_page_key(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.article("first-post")
    page(site, "about")
    site.comment("about", "c1.md", "A question for you?", author="Ann", date="2026-01-03 10:00")
    conf = site.write_conf(ENGAGE_OFFLINE=True)
    code, out, err = run(capsys, "report", "-s", str(conf), "--post", "about", "--format", "json")
    assert code == 0, err
    assert "A question for you?" in out
    assert "about" in json.dumps(json.loads(out))


def test_a_wxr_page_imports_into_the_pelican_page_with_its_slug(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.article("hello-world")
    page(site, "about")
    conf = site.write_conf(ENGAGE_OFFLINE=True, SITEURL="https://new.example")
    code, out, err = run(capsys, "import", "wordpress-wxr", str(WXR_PAGES), "-s", str(conf))
    assert code == 0, err
    archive = Archive(conf.parent / "archive")
    assert {k: set(archive.load(k).items) for k in archive.keys()} == {  # noqa: SIM118
        "about": {"wordpress:old.example.org/20"},
        "hello-world": {"wordpress:old.example.org/22"},
    }
    # The page the site does not have is listed, with what to do.
    assert "map it to an article" not in out
    assert "about/" not in out.split("Not placed", 1)[1]
    assert out.endswith(
        "  https://old.example.org/colophon/ (a WordPress page: look for a Pelican page)\n"
    )
    site.build(ENGAGE_OFFLINE=True, SITEURL="https://new.example")
    (section,) = site.html("pages/about.html").select("section.engage")
    assert "Lovely about page, Marin." in section.get_text()


@pytest.mark.parametrize(
    ("kind", "key"), [("page", "about-page"), ("post", "about-post")], ids=["page", "post"]
)
def test_a_wordpress_page_prefers_a_pelican_page_of_the_same_slug(kind: str, key: str) -> None:
    site = SitePosts.of(
        [
            SiteArticle("about-post", "about", "https://new.example/about.html"),
            SiteArticle("about-page", "about", "https://new.example/pages/about.html", page=True),
        ]
    )
    post = ExportedPost(slug="about", url="https://old.example/about/", kind=kind)
    assert site.find(post) == key


def test_a_page_and_an_article_with_one_slug_are_told_once(site: Site, engage_warnings) -> None:
    site.article("about")
    page(site, "about")
    page(site, "contact")
    site.build()
    shared = [w for w in engage_warnings() if "post key 'about'" in w]
    assert len(shared) == 1
    assert "pages/about.md" in shared[0] and "about.md" in shared[0]
    assert "engage_key" in shared[0]
    site.build()  # a page with its own key is quiet
    page(site, "about", engage_key="about-page")
    before = len([w for w in engage_warnings() if "post key 'about'" in w])
    site.build()
    assert len([w for w in engage_warnings() if "post key 'about'" in w]) == before
