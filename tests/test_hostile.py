"""Hostile comment files, built into a real Pelican site.

The sanitiser's unit tests say what ``clean_html`` does; these say what reaches
the page, through every way a comment file can carry markup: body, ``author``,
``website``, ``replyto``, ``date``, the file's own name, and Pelican's HTML
reader.  A hostile comment must be defused *and still shown*: dropping it
would let one bad byte silence a commenter.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup, Tag

from pelican_engage.sanitize import ALLOWED_TAGS

from .conftest import Site

DATA = Path(__file__).parent / "data" / "hostile"
SLUG = "post"
PAGE = f"{SLUG}.html"

# File names no checkout on Windows could hold, so they are written here.
HOSTILE_FILE_NAMES = {
    '"><img src=x onerror=alert(1)>': "Niaj",
    "javascript:alert(1)": "Olivia",
}

#: stem -> (author name as it must read, harmless sentence from the body)
EXPECTED = {
    "01-script": ("Alice", "Harmless words from Alice."),
    "02-events": ("Bob", "Harmless words from Bob."),
    "03-links": ("Carol", "Harmless words from Carol."),
    "04-mxss": ("Dave", "Harmless words from Dave."),
    "05-breakout": ("Erin", "Harmless words from Erin."),
    "06-author-img": ("Mallory", "Harmless words from Mallory."),
    "07-author-breakout": ('">Trudy', "Harmless words from Trudy."),
    "08-author-encoded": ("<script>alert(1)</script>Oscar", "Harmless words from Oscar."),
    "09-website-js": ("Peggy", "Harmless words from Peggy."),
    "10-website-attr": ("Victor", "Harmless words from Victor."),
    "11-website-quote": ("Walter", "Harmless words from Walter."),
    "12-website-encoded": ("Sybil", "Harmless words from Sybil."),
    "13-replyto": ("Zoe", "Harmless words from Zoe."),
    "14-replyto-traversal": ("Yves", "Harmless words from Yves."),
    "15-nested-reply": ("Xavier", "Harmless words from Xavier."),
    "16-date": ("Uma", "Harmless words from Uma."),
    "17-author-reply": ("Marin", "Harmless words from Marin, the blog's author."),
    "18-html-reader": ("Hazel", "Harmless words from Hazel."),
    **{stem: (name, f"Harmless words from {name}.") for stem, name in HOSTILE_FILE_NAMES.items()},
}

COMMENTER_EMAILS = ("alice.private@mail.example", "Marin.Private@Blog.Example")

#: Markup the thread template itself writes around the comments.
TEMPLATE_TAGS = {"section", "link", "h2", "ol", "li", "div", "header", "span", "a", "time", "p"}
#: The template's own drawings (source marks, initials) and its JSON-LD data.
OWN_TAGS = {"svg", "path", "rect", "text", "symbol", "use", "script"}


def _own(element: Tag) -> bool:
    """Is this svg or script the template's own, outside every comment body?"""
    if element.find_parent(class_="e-content"):
        return False
    if element.name == "script":
        return element.get("type") == "application/ld+json"
    classes = set(element.get("class") or ())
    return bool(classes & {"engage-icon", "engage-initials"})


URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "cite",
    "data",
    "poster",
    "background",
    "xlink:href",
    "ping",
}
_URL_IGNORED = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def _as_browser_reads(url: str) -> str:
    """What a browser's URL parser sees at the start of an attribute value."""
    return _URL_IGNORED.sub("", url).strip(_C0_AND_SPACE).lower()


def _attributes(root: Tag) -> Iterator[tuple[Tag, str, str]]:
    for element in [root, *root.find_all(True)]:
        for name, value in element.attrs.items():
            yield element, name.lower(), " ".join(value) if isinstance(value, list) else value


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """One site holding every hostile comment, built once for the module (speed)."""
    site = Site(tmp_path_factory.mktemp("hostile") / "site")
    site.article(SLUG, body="The article body.")
    site.copy_comments(SLUG, DATA)
    for stem, name in HOSTILE_FILE_NAMES.items():
        site.comment(SLUG, f"{stem}.md", f"Harmless words from {name}.", author=name)
    site.build(ENGAGE_AUTHOR={"names": ["Marin"], "emails": ["marin.private@blog.example"]})
    return site


@pytest.fixture
def page(built: Site) -> BeautifulSoup:
    return built.html(PAGE)


@pytest.fixture
def section(page: BeautifulSoup) -> Tag:
    found = page.select_one("section.engage")
    assert found is not None, "the thread was not rendered at all"
    return found


def _comment(section: Tag, stem: str) -> Tag | None:
    return section.find("li", attrs={"data-engage-id": f"comment:{SLUG}/{stem}"})


def test_data_files_cover_the_expected_comments() -> None:
    """Guard: a renamed data file must not silently drop a case from the tests below."""
    stems = {p.name.rsplit(".", 1)[0] for p in DATA.iterdir()}
    assert stems == set(EXPECTED) - set(HOSTILE_FILE_NAMES)


def test_every_hostile_comment_still_renders_as_a_comment(section: Tag) -> None:
    """Defused, not dropped: each comment keeps its element, author and harmless text."""
    problems = {}
    for stem, (name, sentence) in EXPECTED.items():
        item = _comment(section, stem)
        if item is None:
            problems[stem] = "missing"
            continue
        content = item.select_one(".e-content")
        text = " ".join(content.get_text(" ").split()) if content else ""
        if sentence not in text:
            problems[stem] = f"text lost: {text!r}"
        author = item.select_one(".p-author .p-name")
        if author is None or author.get_text() != name:
            problems[stem] = f"author shown as {author.get_text() if author else None!r}"
    assert problems == {}
    assert len(section.select("li.engage-item")) == len(EXPECTED)
    heading = section.select_one("h2.engage-heading")
    assert heading is not None and heading.get_text() == f"{len(EXPECTED)} comments"


def test_author_names_are_plain_text(section: Tag) -> None:
    """A name is text: hostile markup in ``author:`` must not become elements."""
    for item in section.select("li.engage-item"):
        name = item.select_one(".p-author .p-name")
        assert name is not None
        assert name.find(True) is None, name
    oscar = _comment(section, "08-author-encoded")
    assert oscar is not None
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Oscar" in str(oscar.select_one(".p-name"))


def test_no_script_handler_or_script_url_anywhere_on_the_page(
    built: Site, page: BeautifulSoup
) -> None:
    """The whole page, not just the thread: the default theme has none of these itself."""
    raw = (built.output / PAGE).read_text(encoding="utf-8")
    # The one script is the thread's JSON-LD: data, which no browser runs.
    assert raw.lower().count("<script") == raw.count('<script type="application/ld+json">') == 1
    risky = page.find_all(["script", "iframe", "object", "embed", "base", "img", "svg"])
    assert [e for e in risky if not _own(e)] == []
    assert all(meta.find_parent("head") for meta in page.find_all("meta"))
    findings = []
    for element, name, value in _attributes(page):
        if name.startswith("on"):
            findings.append(f"<{element.name} {name}={value!r}>")
        if name == "style" and element.find_parent("section", class_="engage"):
            findings.append(f"<{element.name} style={value!r}>")
        if _as_browser_reads(value).startswith(("javascript:", "vbscript:", "data:")):
            findings.append(f"<{element.name} {name}={value!r}>")
    assert findings == []


def test_thread_holds_only_template_and_allowed_markup(section: Tag) -> None:
    """No img (tracking), svg, math, style, forms, frames or media from comments."""
    used = {element.name for element in section.find_all(True)}
    allowed = TEMPLATE_TAGS | ALLOWED_TAGS | OWN_TAGS
    assert used <= allowed, used - allowed
    assert all(_own(e) for e in section.find_all(["svg", "script"]))
    # A source mark's drawing is defined once and used again, only in our svg.
    for element in section.find_all(["symbol", "use"]):
        assert _own(element.find_parent("svg")), element
    assert all(use["href"].startswith("#engage-icon-") for use in section.find_all("use"))
    assert section.find_all(style=True) == []


def test_every_link_in_the_thread_is_http_https_mailto_or_a_permalink(section: Tag) -> None:
    bad = {}
    for element, name, value in _attributes(section):
        if name not in URL_ATTRIBUTES:
            continue
        url = _as_browser_reads(value)
        if not (url.startswith(("http://", "https://", "mailto:")) or value.startswith("#")):
            bad[f"{element.name}[{name}]"] = value
    assert bad == {}
    for link in section.select(".e-content a[href]"):
        assert link.get("rel") == ["nofollow", "ugc", "noopener"], link


def test_links_in_comment_bodies_lose_only_their_dangerous_hrefs(section: Tag) -> None:
    carol = _comment(section, "03-links")
    assert carol is not None
    links = {a.get_text(): a.get("href") for a in carol.select(".e-content a")}
    assert links["ok link"] == "https://ok.example/carol"
    for text in ("click me", "data", "vb", "relative", "spaced", "tabbed", "encoded", "colon"):
        assert links.get(text) is None, (text, links)
    assert "click me" in carol.get_text()
    bob = _comment(section, "02-events")
    assert bob is not None
    assert {a.get_text(): a.get("href") for a in bob.select(".e-content a")} == {
        "a fine link": "https://ok.example/bob"
    }


@pytest.mark.parametrize(
    ("stem", "href"),
    [
        ("01-script", "https://alice.example/"),
        ("09-website-js", None),
        ("10-website-attr", None),
        ("11-website-quote", 'https://ok.example/"onmouseover="alert(1)"x="'),
        ("12-website-encoded", None),
        ("18-html-reader", None),
    ],
)
def test_hostile_websites_give_no_link_or_an_inert_one(
    section: Tag, stem: str, href: str | None
) -> None:
    """``website:`` becomes the author link only if http(s), and can never add attributes."""
    item = _comment(section, stem)
    assert item is not None
    author = item.select_one(".p-author .p-name")
    assert author is not None
    if href is None:
        assert author.name == "span"
    else:
        assert author.name == "a"
        assert dict(author.attrs) == {
            "class": ["p-name", "u-url"],
            # A stranger's name is isolated: no bidi override can reorder
            # the text around it.
            "dir": "auto",
            "href": href,
            "rel": ["nofollow", "ugc", "noopener"],
        }


def test_hostile_replyto_leaves_the_comment_at_top_level(section: Tag) -> None:
    """A ``replyto`` naming no comment cannot hide or misplace the comment."""
    for stem in ("13-replyto", "14-replyto-traversal", *HOSTILE_FILE_NAMES):
        item = _comment(section, stem)
        assert item is not None
        assert item.parent is not None and "engage-thread" in item.parent.get("class", []), stem
        assert not item.has_attr("data-engage-parent")


@pytest.mark.parametrize(
    ("child", "parent"), [("15-nested-reply", "01-script"), ("17-author-reply", "02-events")]
)
def test_replies_to_hostile_comments_nest_under_them(section: Tag, child: str, parent: str) -> None:
    item = _comment(section, child)
    assert item is not None
    assert item.get("data-engage-parent") == f"comment:{SLUG}/{parent}"
    assert item.find_parent("li", attrs={"data-engage-id": f"comment:{SLUG}/{parent}"})


def test_comment_markup_cannot_close_the_thread_or_comment_out_the_page(
    page: BeautifulSoup, section: Tag
) -> None:
    """Stray ``</section>``s and an unclosed ``<!--`` stay inside their own comment."""
    assert all(
        li.find_parent("section", class_="engage") is section
        for li in page.select("li.engage-item")
    )
    erin = _comment(section, "05-breakout")
    assert erin is not None and erin.find_next_sibling("li") is not None
    later = section.find_all("li", class_="engage-item")[-1]
    assert later.select_one(".e-content") is not None
    assert "<!--" not in str(section)
    footer = page.find(id="contentinfo")
    assert footer is not None and footer.find_parent("section", class_="engage") is None


def test_hostile_file_names_are_escaped_in_ids_and_anchors(section: Tag) -> None:
    for stem in HOSTILE_FILE_NAMES:
        item = _comment(section, stem)
        assert item is not None
        assert re.fullmatch(r"engage-[A-Za-z0-9_.-]+", item["id"]), item["id"]
        permalink = item.select_one("a.engage-permalink")
        assert permalink is not None and permalink["href"] == f"#{item['id']}"


def test_commenter_email_never_reaches_the_output(built: Site, section: Tag) -> None:
    """No e-mail address, nor its Gravatar-style MD5/SHA-256, in any output file (G6)."""
    marin = _comment(section, "17-author-reply")
    assert marin is not None and marin.select_one(".engage-badge") is not None, (
        "the author's e-mail was not used to recognise them, so this test proves little"
    )
    needles: set[str] = set()
    for email in COMMENTER_EMAILS:
        for form in {email, email.lower(), email.strip().lower()}:
            needles |= {
                form.lower(),
                quote(form).lower(),
                hashlib.md5(form.encode()).hexdigest(),
                hashlib.sha256(form.encode()).hexdigest(),
            }
    found = []
    folders = [built.output, built.root / "archive"]
    for path in (p for folder in folders if folder.exists() for p in folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes().lower()
            found += [f"{path.relative_to(built.root)}: {n}" for n in needles if n.encode() in data]
    assert found == []


def test_rst_comment_cannot_read_files_from_the_build_machine(site: Site) -> None:
    """reST ``include`` / ``raw :file:`` in a comment must not publish local files.

    Comment files hold strangers' words; Pelican's reST reader trusts its
    input like an article's and inserts any file the directive names.
    """
    secret = site.root / "secret.txt"
    secret.write_text("CANARY-5f2b9c-do-not-publish\n", encoding="utf-8")
    site.article(SLUG)
    folder = site.content / "comments" / SLUG
    folder.mkdir(parents=True)
    (folder / "r1.rst").write_text(
        "Comment\n#######\n\n:author: Rita\n:date: 2026-01-05\n\n"
        "Harmless words from Rita.\n\n"
        f".. include:: {secret}\n   :literal:\n\n"
        f".. raw:: html\n   :file: {secret}\n",
        encoding="utf-8",
    )
    site.build()
    rita = site.html(PAGE).find("li", attrs={"data-engage-id": f"comment:{SLUG}/r1"})
    assert rita is not None and "Harmless words from Rita." in rita.get_text()
    leaked = [
        str(p.relative_to(site.output))
        for p in site.output.rglob("*")
        if p.is_file() and b"CANARY-5f2b9c" in p.read_bytes()
    ]
    assert leaked == []
