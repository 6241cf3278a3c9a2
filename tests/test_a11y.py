"""Accessibility of the rendered thread, checked in a real browser.

axe-core (vendored under tests/data/axe/, from the npm registry) runs in
headless Chromium on thread pages built with Pelican's two bundled themes,
in light and dark colour schemes: no serious or critical violation in the
thread.  Then the keyboard (every control reachable with Tab, in reading
order, with a visible focus mark) and a 360 px wide phone (a thread eight
replies deep scrolls nowhere sideways and keeps its text readable).
The session's one Chromium (tests/browser.py) serves them all, a tab each.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.archive import Archive
from pelican_engage.model import Item, Person
from tests.browser import Page, Pipe
from tests.conftest import DATA, Site

AXE = DATA / "axe" / "axe.min.js"
THEMES = ("notmyidea", "simple")
DEPTH = 8
SLUG = "deep"


def build(root: Path, theme: str) -> Path:
    """A post whose thread has every kind of row: nested replies DEPTH deep,
    the author's badge, waiting flags, a content warning, a mention, likes,
    e-mail reply links, the webmention form and the comment feed link."""
    site = Site(root)
    site.article(SLUG, title="A deep thread", body="The article body.")
    for level in range(DEPTH):
        meta = {"author": "Marin" if level % 3 == 1 else f"Reader {level}"}
        if level:
            meta["replyto"] = f"c{level - 1}"
        site.comment(
            SLUG,
            f"c{level}.md",
            f"Reply at depth {level}: " + "a fairly long sentence to wrap " * 4,
            date=f"2026-01-03 10:{level:02d}",
            **meta,
        )
    site.comment(SLUG, "side.md", "A second top-level comment.", author="Bea", date="2026-01-04")
    when = datetime(2026, 1, 5, tzinfo=timezone.utc)
    Archive(site.root / "archive").merge(
        SLUG,
        [
            Item(
                id="mastodon:social.example/1",
                source="mastodon",
                kind="reply",
                author=Person(name="Dee", url="https://social.example/@dee"),
                published=when,
                content_html="<p>Spoilers inside.</p>",
                extras={"warnings": ["spoilers"]},
            ),
            Item(
                id="webmention:1",
                source="webmention",
                kind="mention",
                author=Person(name="Eve", url="https://eve.example/"),
                published=when,
                url="https://eve.example/post",
                content_html="<p>Eve wrote about it.</p>",
            ),
            *(
                Item(
                    id=f"mastodon:social.example/like{n}",
                    source="mastodon",
                    kind="like",
                    author=Person(name=f"Fan {n}", url=f"https://social.example/@f{n}"),
                    published=when,
                )
                for n in range(3)
            ),
        ],
    )
    site.build(
        THEME=theme,
        # Absolute post URLs (the webmention form needs one), relative links
        # in the page: the stylesheet loads from the output folder.
        SITEURL="https://blog.example",
        RELATIVE_URLS=True,
        ENGAGE_OFFLINE=True,
        ENGAGE_SHOW_WAITING=True,
        ENGAGE_DISPLAY_DEPTH=DEPTH,
        ENGAGE_COMMENT_EMAIL="comments@blog.example",
        ENGAGE_WEBMENTION={"endpoint": "https://webmention.example/endpoint"},
    )
    page = site.output / f"{SLUG}.html"
    assert page.is_file()
    return page


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {theme: build(tmp_path_factory.mktemp(f"a11y-{theme}"), theme) for theme in THEMES}


def emulate(page: Page, width: int, height: int = 800, dark: bool = False) -> None:
    """A ``width`` x ``height`` screen in the light or dark colour scheme."""
    page.pipe.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        session=page.session,
    )
    scheme = {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}
    page.pipe.call("Emulation.setEmulatedMedia", {"features": [scheme]}, session=page.session)


def open_page(browser: Pipe, path: Path, width: int = 1280, dark: bool = False) -> Page:
    page = Page(browser)
    emulate(page, width, dark=dark)
    page.load(path)
    return page


def press_tab(page: Page) -> None:
    for kind in ("rawKeyDown", "keyUp"):
        page.pipe.call(
            "Input.dispatchKeyEvent",
            {"type": kind, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9},
            session=page.session,
        )


def screenshot(page: Page, x: float, y: float, width: float, height: float) -> bytes:
    """A PNG of that part of the document (CSS pixels from its top)."""
    clip = {"x": x, "y": y, "width": width, "height": height, "scale": 1}
    answer = page.pipe.call(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True, "clip": clip},
        session=page.session,
    )
    return base64.b64decode(answer["data"])


def axe_violations(page: Page, context: str = "section.engage") -> list[dict[str, Any]]:
    """axe's violations within ``context`` (a CSS selector), compactly."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    script = """
      axe.run({include: [[CONTEXT]]}, {resultTypes: ['violations']})
      .then(r => r.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), why: n.failureSummary}))
      })))
    """.replace("CONTEXT", json.dumps(context))
    return page.evaluate(script)


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("theme", THEMES)
def test_axe_finds_nothing_serious_in_the_thread(
    browser: Pipe, pages: dict[str, Path], theme: str, dark: bool
) -> None:
    page = open_page(browser, pages[theme], dark=dark)
    try:
        # The colour scheme really switched (the thread's own styles follow it).
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is dark
        assert page.evaluate("document.querySelectorAll('section.engage li').length") > DEPTH
        # The stylesheet is loaded (its badge colours are being checked).
        badge = "getComputedStyle(document.querySelector('.engage-badge')).backgroundColor"
        assert page.evaluate(badge) == "rgb(29, 91, 191)"
        found = serious(axe_violations(page))
    finally:
        page.close()
    assert found == [], json.dumps(found, indent=1)


def test_axe_sees_a_contrast_failure_when_there_is_one(
    browser: Pipe, pages: dict[str, Path]
) -> None:
    """Positive control: light grey text on white is reported as serious."""
    page = open_page(browser, pages["simple"])
    try:
        page.evaluate(
            "document.querySelector('.engage-badge').style.cssText = "
            "'background:#fff !important;color:#ccc !important'"
        )
        found = {v["id"] for v in serious(axe_violations(page))}
    finally:
        page.close()
    assert "color-contrast" in found


FOCUS_PROBE = """(() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const thread = document.querySelector('section.engage');
  return {
    inThread: thread.contains(el),
    tag: el.tagName.toLowerCase(),
    cls: el.className && el.className.baseVal === undefined ? el.className : '',
    text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    shadow: style.boxShadow !== 'none',
  };
})()"""

#: The thread's visible controls in document (reading) order, described as FOCUS_PROBE does.
CONTROLS = """Array.from(document.querySelectorAll(
  'section.engage a[href], section.engage input:not([type=hidden]), section.engage button, '
  + 'section.engage summary'
)).filter(el => el.getClientRects().length > 0).map(el => el.tagName.toLowerCase()
  + ':' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40))"""


@pytest.mark.parametrize("theme", THEMES)
def test_the_thread_is_usable_by_keyboard(
    browser: Pipe, pages: dict[str, Path], theme: str
) -> None:
    """Tab reaches every link, the content warning and the form in reading
    order, each with a visible focus mark (2 px outline or a ring)."""
    page = open_page(browser, pages[theme])
    try:
        expected = page.evaluate(CONTROLS)
        # Start just before the thread, as a reader tabbing down the page would.
        page.evaluate(
            "(() => { const s = document.querySelector('section.engage');"
            " s.setAttribute('tabindex', '-1'); s.focus(); s.removeAttribute('tabindex'); })()"
        )
        visited = []
        for _ in range(len(expected) + 5):
            press_tab(page)
            probe = page.evaluate(FOCUS_PROBE)
            if not probe["inThread"]:
                break
            visited.append(probe)
    finally:
        page.close()
    assert len(expected) > 20  # every reply link, author, time, the form...
    assert [f"{v['tag']}:{v['text']}" for v in visited] == expected
    unmarked = [v for v in visited if not (v["outline"] or v["shadow"])]
    assert unmarked == []
    assert {"a", "summary", "input", "button"} <= {v["tag"] for v in visited}


@pytest.mark.parametrize("theme", THEMES)
def test_a_deep_thread_fits_a_360_pixel_screen(
    browser: Pipe, pages: dict[str, Path], theme: str
) -> None:
    page = open_page(browser, pages[theme], width=360)
    try:
        layout = page.evaluate(
            """(() => {
              const cards = Array.from(document.querySelectorAll('section.engage .engage-card'));
              const thread = document.querySelector('section.engage').getBoundingClientRect();
              const deepest = cards[DEEPEST].getBoundingClientRect();
              return {
                scroll: document.documentElement.scrollWidth,
                view: document.documentElement.clientWidth,
                threadWidth: thread.width,
                deepest: deepest.width,
                right: Math.max(...cards.map(c => c.getBoundingClientRect().right)),
              };
            })()""".replace("DEEPEST", str(DEPTH - 1))
        )
    finally:
        page.close()
    # Nothing sticks out of the screen...
    assert layout["scroll"] <= layout["view"], layout
    assert layout["right"] <= layout["view"], layout
    # ...and the deepest reply keeps most of the thread's width to read in.
    assert layout["deepest"] >= 0.6 * layout["threadWidth"], layout


def test_every_source_mark_is_drawn(browser: Pipe, pages: dict[str, Path]) -> None:
    """Each source's drawing is defined once (an SVG symbol in its first mark)
    and used again by the later marks: Chromium draws every one of them."""
    page = open_page(browser, pages["simple"])
    try:
        marks = page.evaluate(
            """(() => {
              const box = use => { const b = use.getBBox(); return [b.width, b.height]; };
              const marks = Array.from(document.querySelectorAll('.engage-source-mark svg'));
              // The control: a use whose drawing is not in the page draws nothing.
              const lost = document.createElementNS('http://www.w3.org/2000/svg', 'use');
              lost.setAttribute('href', '#engage-icon-nowhere');
              marks[0].appendChild(lost);
              const control = box(lost);
              lost.remove();
              // A theme hiding the items that hold the drawings leaves the others drawn.
              const holders = Array.from(document.querySelectorAll('.engage-source-mark symbol'))
                .map(symbol => symbol.closest('li'));
              holders.forEach(li => { li.hidden = true; });
              const others = marks.filter(svg => !holders.some(li => li.contains(svg)));
              const hidden = others.map(svg => box(svg.querySelector('use')));
              holders.forEach(li => { li.hidden = false; });
              return {
                control,
                hidden,
                drawn: marks.map(svg => [svg.querySelector('use').getAttribute('href'),
                                         box(svg.querySelector('use')),
                                         svg.getBoundingClientRect().width]),
              };
            })()"""
        )
    finally:
        page.close()
    assert marks["control"] == [0, 0]
    drawn = marks["drawn"]
    assert len(drawn) > 9 and len({href for href, _, _ in drawn}) >= 2, drawn
    undrawn = [(href, box) for href, box, width in drawn if min(box) < 8 or width < 8]
    assert undrawn == []
    assert marks["hidden"] and all(min(box) >= 8 for box in marks["hidden"]), marks["hidden"]
