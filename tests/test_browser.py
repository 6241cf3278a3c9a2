"""A real browser loads the built page: no comment payload may run.

Static checks can only look for what we thought of; Chromium runs what is
actually there.  Each payload fires by itself on load (no click needed) and,
if it runs, marks ``<html>`` with ``data-pwned-<name>``.  Two positive
controls prove the harness can see a payload fire: a hand-written page with
the payloads raw, and the same site built with the sanitiser switched off.
Only ``file://`` URLs are loaded, and host resolution is disabled; one
Chromium serves the whole session (tests/browser.py), each test in its own tab.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

import pelican_engage.sources.local

from .browser import Page, Pipe
from .conftest import Site

SLUG = "post"


def mark(name: str, target: str = "document") -> str:
    """JavaScript that marks the page if it runs."""
    return f"{target}.documentElement.setAttribute('data-pwned-{name}','1')"


#: name -> payload that runs on load, unsanitised, in Chromium.  (Mutation-XSS
#: vectors that need a sanitise-and-reparse round trip to fire, such as
#: ``<math><mtext><table><mglyph><style>``, do not fire on a plain load; the
#: unit tests in test_sanitize.py cover them.)
BODY_PAYLOADS: dict[str, str] = {
    "script": f"<script>document.title='pwned';{mark('script')}</script>",
    "img-onerror": f'<img src=x onerror="{mark("img-onerror")}">',
    "svg-onload": f'<svg onload="{mark("svg-onload")}"></svg>',
    "autofocus": f'<input autofocus onfocus="{mark("autofocus")}">',
    "details-ontoggle": (
        f'<details open ontoggle="{mark("details-ontoggle")}"><summary>s</summary></details>'
    ),
    "iframe-srcdoc": (
        f'<iframe srcdoc="<script>{mark("iframe-srcdoc", "parent.document")}</script>"></iframe>'
    ),
    "iframe-javascript": (
        f'<iframe src="javascript:{mark("iframe-javascript", "parent.document")}"></iframe>'
    ),
    "body-onload": f'<body onload="{mark("body-onload")}">',
    "style-onload": f'<style onload="{mark("style-onload")}"></style>',
    "audio-onerror": f'<audio src=x onerror="{mark("audio-onerror")}"></audio>',
    "video-source-onerror": f'<video><source onerror="{mark("video-source-onerror")}"></video>',
    "svg-animate-onbegin": (
        f'<svg><animate onbegin="{mark("svg-animate-onbegin")}" attributeName=x dur=1s>'
        "</animate></svg>"
    ),
    "entity-encoded-handler": (
        '<img src=x onerror="&#100;ocument.documentElement.setAttribute'
        '(&#39;data-pwned-entity-encoded-handler&#39;,&#39;1&#39;)">'
    ),
    "comment-trick": f'<!--><img src=x onerror="{mark("comment-trick")}">-->',
    "noscript-title": (
        f'<noscript><p title="</noscript><img src=x onerror={mark("noscript-title")}>">'
    ),
    "mxss-svg-style": f'<svg><style><img src=x onerror="{mark("mxss-svg-style")}"></style></svg>',
}
#: The author field carries a payload too; the template escapes names.
AUTHOR_PAYLOAD = ("author-img", f'<img src=x onerror="{mark("author-img")}">Mallory')
ALL_MARKERS = {f"data-pwned-{name}" for name in [*BODY_PAYLOADS, AUTHOR_PAYLOAD[0]]}
#: One comment per body payload, and one for the author payload.
COMMENTS = len(BODY_PAYLOADS) + 1


def readable(index: int) -> str:
    return f"Readable comment number {index}."


# --------------------------------------------------------------------------
# Chromium (one for the session: tests/browser.py)
# --------------------------------------------------------------------------


def dump_dom(browser: Pipe, page: Path) -> BeautifulSoup:
    """Load ``page`` in a tab, let load events and timers run, return the live DOM."""
    tab = Page(browser)
    try:
        tab.load(page)
        tab.evaluate("new Promise((resolve) => setTimeout(resolve, 500))")
        html = tab.evaluate("document.documentElement.outerHTML")
    finally:
        tab.close()
    return BeautifulSoup(html or "", "html.parser")


def dump_dom_without_javascript(browser: Pipe, page: Path) -> BeautifulSoup:
    """Load ``page`` in a tab with scripting off and return its DOM.

    The DOM domain of the protocol needs no script, unlike ``evaluate``.
    """
    tab = Page(browser, javascript=False)
    try:
        tab.load(page)
        root = browser.call("DOM.getDocument", {"depth": -1}, session=tab.session)["root"]
        html = browser.call("DOM.getOuterHTML", {"nodeId": root["nodeId"]}, session=tab.session)
    finally:
        tab.close()
    return BeautifulSoup(html["outerHTML"], "html.parser")


def fired(dom: BeautifulSoup) -> set[str]:
    """The markers payloads set on ``<html>``, plus "title" if the script payload ran."""
    root = dom.find("html")
    markers = {name for name in (root.attrs if root else {}) if name.startswith("data-pwned")}
    title = dom.find("title")
    if title is not None and title.get_text() == "pwned":
        markers.add("title")
    return markers


def visible_text(dom: BeautifulSoup) -> str:
    return " ".join(dom.get_text(" ").split())


# --------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------


def build_site(root: Path) -> Path:
    """A site whose post has one comment per payload; returns the article's page."""
    site = Site(root)
    site.article(SLUG, body="The article body.")
    for index, (name, payload) in enumerate(BODY_PAYLOADS.items(), start=1):
        site.comment(
            SLUG,
            f"{index:02d}-{name}.md",
            f"{readable(index)}\n\n{payload}",
            author=f"Tester {index}",
            date=f"2026-01-03 10:{index:02d}",
        )
    site.comment(
        SLUG,
        f"{COMMENTS:02d}-{AUTHOR_PAYLOAD[0]}.md",
        readable(COMMENTS),
        author=AUTHOR_PAYLOAD[1],
        date="2026-01-03 11:00",
    )
    # Relative URLs: the page must not point the browser at https://blog.example.
    site.build(SITEURL="", RELATIVE_URLS=True)
    page = site.output / f"{SLUG}.html"
    assert page.exists()
    return page


def raw_page(folder: Path) -> Path:
    """Every payload written straight into a page, as if nothing sanitised it."""
    blocks = [f'<p class="author">{AUTHOR_PAYLOAD[1]}</p>']
    blocks += [
        f'<div class="comment"><p>{readable(index)}</p>\n{payload}\n</div>'
        for index, payload in enumerate(BODY_PAYLOADS.values(), start=1)
    ]
    page = folder / "raw.html"
    page.write_text(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>raw</title></head>\n<body>\n'
        + "\n".join(blocks)
        + "\n</body></html>\n",
        encoding="utf-8",
    )
    return page


@pytest.fixture(scope="module")
def sanitised_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("browser") / "site")


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_positive_control_raw_payloads_run(browser: Pipe, tmp_path: Path) -> None:
    """Every payload, unsanitised, runs here: otherwise "nothing ran" would prove nothing."""
    got = fired(dump_dom(browser, raw_page(tmp_path)))
    expected = ALL_MARKERS | {"title"}
    assert expected <= got, sorted(expected - got)


def test_positive_control_site_without_sanitiser_runs_payloads(
    browser: Pipe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payloads survive Markdown and the template: only the sanitiser stops them."""
    monkeypatch.setattr(pelican_engage.sources.local, "clean_html", lambda html: html)
    got = fired(dump_dom(browser, build_site(tmp_path / "site")))
    expected = {f"data-pwned-{name}" for name in BODY_PAYLOADS} | {"title"}
    assert expected <= got, sorted(expected - got)
    # Names are escaped by the template, so this one cannot run even here.
    assert f"data-pwned-{AUTHOR_PAYLOAD[0]}" not in got


def test_no_payload_runs_in_the_built_page(browser: Pipe, sanitised_page: Path) -> None:
    dom = dump_dom(browser, sanitised_page)
    text = visible_text(dom)
    # The thread really loaded: an empty page would show no markers either.
    assert readable(1) in text and readable(COMMENTS) in text
    assert fired(dom) == set()


def test_every_comment_is_readable_without_javascript(
    browser: Pipe, sanitised_page: Path, tmp_path: Path
) -> None:
    """Comments are static HTML: readers without JavaScript see every one of them."""
    # The switch works: with it, even the raw payloads stay inert.
    raw = dump_dom_without_javascript(browser, raw_page(tmp_path))
    assert fired(raw) == set()
    assert readable(1) in visible_text(raw)

    dom = dump_dom_without_javascript(browser, sanitised_page)
    text = visible_text(dom)
    missing = [readable(i) for i in range(1, COMMENTS + 1) if readable(i) not in text]
    assert missing == []
    assert "Tester 1" in text and "Mallory" in text
    assert len(dom.select("li[data-engage-id]")) == COMMENTS
