"""Whom the author has not answered stays out of the public page unless asked for."""

from __future__ import annotations

import re

from tests.conftest import DATA, Site

PCS_THEME = DATA / "pcs-theme" / "templates"
#: Waiting in tests/data/local/pcs-thread: Ann wrote again after the author's
#: answer (c3), and Carl's comment is unanswered (c5).
WAITING = {"comment:first-post/c3", "comment:first-post/c5"}


def _site(site: Site) -> Site:
    site.article("first-post", title="First post", body="The body.")
    site.copy_comments("first-post", DATA / "local" / "pcs-thread")
    return site


def _source(site: Site, name: str = "first-post.html") -> str:
    """The page as view-source shows it."""
    return (site.output / name).read_text(encoding="utf-8")


def test_by_default_the_page_source_says_nothing_about_waiting(site: Site) -> None:
    _site(site).build(FEED_ALL_ATOM="feeds/all.atom.xml")
    for name in ("first-post.html", "index.html", "feeds/all.atom.xml"):
        source = _source(site, name)
        assert not re.search(r"waiting", source, re.I), name
    for feed in (site.output / "feeds").glob("comment*.xml"):
        assert "waiting" not in feed.read_text().lower()
    # The thread is all there, only the state is private.
    page = site.html("first-post.html")
    assert len(page.select("[data-engage-id]")) == 5
    # The author still sees it: the report page (outside the output) lists both.
    report = (site.root / "engage-report" / "index.html").read_text()
    assert "Carl" in report and "Ann Reader" in report


def test_show_waiting_marks_the_waiting_items_with_the_class_and_the_flag(site: Site) -> None:
    _site(site).build(ENGAGE_SHOW_WAITING=True)
    page = site.html("first-post.html")
    marked = {el["data-engage-id"] for el in page.select(".engage-waiting")}
    assert marked == WAITING
    flags = page.select(".engage-waiting-flag")
    assert len(flags) == 2
    assert all(f.get_text(strip=True) == "Waiting for a reply" for f in flags)
    assert page.select_one("section.engage.engage-show-waiting") is not None


def test_turning_it_off_again_is_not_undone_by_the_render_cache(site: Site) -> None:
    _site(site).build(ENGAGE_SHOW_WAITING=True)
    assert "engage-waiting" in _source(site)
    site.build(ENGAGE_SHOW_WAITING=False)
    assert "waiting" not in _source(site).lower()


def test_a_pcs_theme_shows_no_waiting_state_either(site: Site) -> None:
    _site(site).build(
        THEME="simple", THEME_TEMPLATES_OVERRIDES=[str(PCS_THEME)], PELICAN_COMMENT_SYSTEM=True
    )
    assert "waiting" not in _source(site).lower()
