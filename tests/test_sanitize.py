"""The sanitiser: the one place untrusted text and HTML become safe HTML.

Everything a stranger writes reaches the page through ``pelican_engage.sanitize``,
so these tests hold it to the comment policy of docs/sources.md ("Outside HTML")
and to the goal figures G1 (no XSS) and G2 (idempotent and total).
"""

from __future__ import annotations

import html
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pelican_engage import sanitize
from pelican_engage.sanitize import (
    ALLOWED_TAGS,
    LINK_REL,
    clean_html,
    clean_text,
    safe_url,
    text_to_html,
)

# --------------------------------------------------------------------------
# Static XSS invariants (after DOMPurify's fast-check oracle)
# --------------------------------------------------------------------------
# They read *serialised* sanitiser output, in which "<" and ">" are always
# escaped in text and attribute values (checked below), so every literal "<"
# starts a real tag.

SCRIPT_TAG = re.compile(r"<\s*script", re.IGNORECASE)
EVENT_ATTR = re.compile(r"[\s/]on[a-z]+\s*=", re.IGNORECASE)
BAD_URL = re.compile(
    r"(?:^|[\s/])(?:href|src|action|formaction|xlink:href)\s*=\s*[\"']?\s*(?:javascript|vbscript|data):",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]*>")
_TAG_NAME = re.compile(r"</?([A-Za-z][^\s/>]*)")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_ATTR = re.compile(r"""([^\s"'<>/=]+)\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+)""")
# What browsers ignore inside a URL before its scheme (WHATWG URL parser).
_URL_IGNORED = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_URL_ATTRS = frozenset({"href", "src", "action", "formaction", "xlink:href"})


def _tag_with_url_values_decoded(tag: str) -> str:
    """``tag`` with each attribute value entity-decoded and trimmed like a browser would.

    ``href="java&#x09;script:"`` is ``javascript:`` to a browser, so the
    invariant must see it that way too.
    """

    def decode(match: re.Match[str]) -> str:
        if match[1].lower() not in _URL_ATTRS:
            # Any other value is text to a browser, whatever it says.
            return f'{match[1]}=""'
        value = match[2]
        if value[:1] in {'"', "'"}:
            value = value[1:-1]
        value = _URL_IGNORED.sub("", html.unescape(value)).lstrip(_C0_AND_SPACE)
        return f'{match[1]}="{value}"'

    return _ATTR.sub(decode, tag)


def xss_findings(markup: str) -> list[str]:
    """Every violation of the three XSS invariants in ``markup``."""
    findings = []
    if SCRIPT_TAG.search(markup):
        findings.append("script tag")
    for tag in _TAG.findall(markup):
        # Attribute *values* may say " onclick=" harmlessly; names may not.
        if EVENT_ATTR.search(_QUOTED.sub('""', tag)):
            findings.append(f"event handler attribute in {tag!r}")
        if BAD_URL.search(_tag_with_url_values_decoded(tag)[1:]):
            findings.append(f"dangerous URL scheme in {tag!r}")
    return findings


def tag_names(markup: str) -> set[str]:
    return {name.lower() for name in _TAG_NAME.findall(markup)}


def assert_safe(markup: str) -> None:
    """The output invariants every ``clean_html`` result must satisfy."""
    assert xss_findings(markup) == []
    assert tag_names(markup) <= ALLOWED_TAGS, markup
    for tag in _TAG.findall(markup):
        assert not re.search(r"\sstyle\s*=", _QUOTED.sub('""', tag), re.IGNORECASE), tag


KNOWN_BAD = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<svg/onload="alert(1)">',
    "<p\nonclick='alert(1)'>x</p>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    "<a href=vbscript:msgbox(1)>x</a>",
    '<iframe src="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    '<form action="javascript:alert(1)"><button>x</button></form>',
]


@pytest.mark.parametrize("markup", KNOWN_BAD)
def test_negative_control_invariants_detect_known_bad_markup(markup: str) -> None:
    """Without this the properties below could pass because the oracle is blind."""
    assert xss_findings(markup)


@pytest.mark.parametrize(
    "markup",
    [
        "<p>say onclick=1 and &lt;script&gt; in prose</p>",
        '<a href="https://ok.example/?q=javascript:x" title=" onmouseover=1">t</a>',
        "<p>data: javascript: vbscript: as words</p>",
    ],
)
def test_negative_control_invariants_do_not_flag_harmless_text(markup: str) -> None:
    """The oracle must not cry wolf either, or real findings drown in noise."""
    assert xss_findings(markup) == []


def test_serialised_attributes_escape_angle_brackets() -> None:
    """The invariants assume no raw "<" or ">" in output attribute values."""
    out = clean_html('<a title="<b onclick=x>" href="https://ok.example/?a=<b>">t</a>')
    assert all(tag.count("<") == 1 for tag in _TAG.findall(out)), out
    assert "&lt;b onclick=x&gt;" in out


# --------------------------------------------------------------------------
# clean_html: the allowlist
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "markup",
    [
        "<p>Plain paragraph.</p>",
        "<p><em>em</em> <strong>strong</strong> <b>b</b> <i>i</i></p>",
        "<p><code>x &lt; y &amp;&amp; z</code></p>",
        "<pre><code>def f():\n    return 1\n</code></pre>",
        "<blockquote><p>Quoted.</p></blockquote>",
        '<blockquote cite="https://ok.example/src"><p>Quoted.</p></blockquote>',
        "<ul><li>one</li><li>two</li></ul>",
        "<ol><li>first</li><li>second</li></ol>",
        "<p><del>del</del> <s>s</s> <sub>sub</sub> <sup>sup</sup></p>",
        '<p><q cite="https://ok.example/">q</q> <cite>cite</cite></p>',
        '<p><abbr title="HyperText Markup Language">HTML</abbr></p>',
        "<p>line one<br>line two</p>",
    ],
)
def test_allowed_markup_survives_unchanged(markup: str) -> None:
    """What WordPress and Mastodon both allow must reach the page as written."""
    assert clean_html(markup) == markup


def test_link_keeps_href_and_title_and_gets_the_ugc_rel() -> None:
    """Comment links must carry nofollow/ugc (SEO spam) and noopener."""
    out = clean_html('<a href="https://ok.example/x?a=1&amp;b=2" title="T">link</a>')
    assert out == (
        '<a href="https://ok.example/x?a=1&amp;b=2" title="T" rel="nofollow ugc noopener">link</a>'
    )


def test_commenter_rel_and_target_are_replaced() -> None:
    """A commenter must not drop nofollow or open a window with an opener."""
    out = clean_html('<a href="https://ok.example/" rel="opener follow" target="_blank">x</a>')
    assert out == f'<a href="https://ok.example/" rel="{LINK_REL}">x</a>'
    assert LINK_REL.split() == ["nofollow", "ugc", "noopener"]


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<div>div</div>", "div"),
        ("<span>span</span>", "span"),
        ("<table><tr><td>cell</td></tr></table>", "cell"),
        ("<font color=red>font</font>", "font"),
        ('<p class="x" id="y" dir="rtl">attrs</p>', "<p>attrs</p>"),
        ('<p style="position:fixed;top:0">positioned</p>', "<p>positioned</p>"),
        ('<em style="color:red" onclick="alert(1)">em</em>', "<em>em</em>"),
        (
            '<a href="https://ok.example/" onmouseover="alert(1)">a</a>',
            f'<a href="https://ok.example/" rel="{LINK_REL}">a</a>',
        ),
    ],
)
def test_other_tags_and_attributes_are_dropped_text_kept(markup: str, expected: str) -> None:
    """Unknown markup loses its tags, not its words: a comment stays readable."""
    out = clean_html(markup)
    assert out == expected
    assert_safe(out)


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        # Gmail's and Word's lines, Outlook's quoted header: one line each.
        ("<div>From: Ann</div><div>Date: Mon</div>", "From: Ann<br>Date: Mon"),
        ("<div>a<div>b</div></div>c", "a<br>b<br>c"),
        ("see<section>one</section><section>two</section>", "see<br>one<br>two"),
        ("<dl><dt>Name</dt><dd>Ann</dd></dl>", "Name<br>Ann"),
        ("x<hr>y", "x<br>y"),
        # A table (GitHub, Discourse): a row a line, its cells apart, with or
        # without their end tags; the text between cells, which a browser
        # moves before the table, is no help.
        (
            "<table><tr><th>OS</th><th>Works</th></tr><tr><td>Linux</td><td>yes</td></tr></table>",
            "OS Works<br>Linux yes",
        ),
        ("see<table><tr><td>a<td>b<tr><td>c<td>d</table>after", "see<br>a b<br>c d<br>after"),
        # Where a paragraph, list or break parts them already: nothing added.
        ('<div class="md"><p>x</p><p>y</p></div>', "<p>x</p><p>y</p>"),
        ("<div><p>a</p></div><div><p>b</p></div>", "<p>a</p><p>b</p>"),
        ("<p>x</p><hr><p>y</p>", "<p>x</p><p>y</p>"),
        ("<ul><li><div>a</div><div>b</div></li></ul>", "<ul><li>a<br>b</li></ul>"),
        ("<blockquote><div>q</div></blockquote>after", "<blockquote>q</blockquote>after"),
        ("a<br><div>b</div>", "a<br>b"),
        ("a<br><br>b", "a<br><br>b"),  # the writer's own breaks are kept as they are
        (
            '<a href="https://x.example/"><div>one</div><div>two</div></a>',
            f'<a href="https://x.example/" rel="{LINK_REL}">one<br>two</a>',
        ),
        ("<pre>a<div>b</div>c</pre>", "<pre>a<br>b<br>c</pre>"),
        # A closed table followed by text, in a line or in <pre>.
        ("<table><tr><td>a</td></tr></table>y", "a<br>y"),
        ("x<table><tr><td>a</td><td>b</td></tr></table>y", "x<br>a b<br>y"),
        ("<pre>a<table><tr><td>x</td></tr></table>b</pre>", "<pre>a<br>x<br>b</pre>"),
        # One break, not two, across inline elements; none at a link's start.
        ("<em><div>a</div></em><em><div>b</div></em>", "<em>a<br></em><em>b</em>"),
        # Where the block was, before the spaces and inline tags after it.
        (
            '<div>Ann</div><a href="https://x.example/">site</a>',
            f'Ann<br><a href="https://x.example/" rel="{LINK_REL}">site</a>',
        ),
        (
            "<pre><div>def f():</div><div>    <b>return</b> 1</div></pre>",
            "<pre>def f():<br>    <b>return</b> 1</pre>",
        ),
        ("<div>本文</div><div>\u3000<b>強調</b>です</div>", "本文<br>\u3000<b>強調</b>です"),
        # Gmail's and Apple Mail's blank line: a line with only a break.
        ("<div>Hi</div><div><br></div><div>Text</div>", "Hi<br><br>Text"),
        ("<div>a</div><br>b", "a<br><br>b"),
        ("<p>a</p><br>b", "<p>a</p><br>b"),
        ("<div>\ufeff</div>a", "a"),
        # Cells stand side by side, whatever they hold.
        ("<table><tr><td>a</td><td><div>b</div></td></tr></table>", "a b"),
        (
            "<table><tr><td><table><tr><td>a</td><td>b</td></tr></table></td><td>c</td></tr>"
            "</table>",
            "a b c",
        ),
        ("<table><tr><td></td><td>x</td></tr><tr><td>y</td></tr></table>", "x<br>y"),
        ("<div>a</div>b<menu>c</menu>d", "a<br>b<br>c<br>d"),
        (
            f'<a href="https://x.example/{"a" * 400}"><div>one</div></a>',
            f'<a href="https://x.example/{"a" * 400}" rel="{LINK_REL}">one</a>',
        ),
        # In <pre>, a block on its own lines adds none; its spaces are kept.
        ("<pre>line1\n\n<div>x</div>\n\nline2</pre>", "<pre>line1\n\nx\n\nline2</pre>"),
        ("<pre>def f():<div>    return 1</div></pre>", "<pre>def f():<br>    return 1</pre>"),
        # A tag's name in an attribute or in raw text is not a tag.
        (
            '<a title="<div>" href="https://x.example/?q=<td>">t</a>',
            f'<a title="&lt;div&gt;" href="https://x.example/?q=&lt;td&gt;" rel="{LINK_REL}">t</a>',
        ),
        ("<textarea>a<div>b</textarea>", "a&lt;div&gt;b"),
        ("<details><summary>Spoiler</summary>hidden</details>", "Spoiler<br>hidden"),
        ("a\ue000<div>b</div>", "a\ue000<br>b"),
    ],
)
def test_dropped_blocks_still_part_their_text(markup: str, expected: str) -> None:
    """A block the policy drops leaves its line break, not glued words
    ("From: AnnDate: Mon" in a page, a report excerpt and JSON-LD)."""
    out = clean_html(markup)
    assert out == expected
    assert clean_html(out) == out
    assert sanitize.recheck_html(out) == out
    assert_safe(out)


def test_headings_become_strong_paragraphs() -> None:
    """A commenter's <h1> must not outrank the article's headings."""
    out = clean_html("<h1>Heading</h1><h6>Small</h6>")
    assert "<h" not in out
    assert "Heading" in out and "Small" in out
    assert_safe(out)


@pytest.mark.parametrize(
    "markup",
    [
        "<script>alert(1)</script>",
        "<style>body{display:none}</style>",
        '<iframe src="https://evil.example/">frame</iframe>',
        "<noscript>noscript</noscript>",
        "<template><p>template</p></template>",
    ],
)
def test_dangerous_containers_are_removed_with_their_content(markup: str) -> None:
    """Script or CSS source shown as text would be junk at best, a payload at worst."""
    assert clean_html(markup) == ""


@pytest.mark.parametrize(
    "markup",
    [
        "<img src=x onerror=alert(1)>",
        '<img src="https://tracker.example/pixel.gif">',
        '<svg onload="alert(1)"><circle r="1"/></svg>',
        '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
        '<form action="https://evil.example/"><input name=pw><button>Go</button></form>',
        '<textarea onfocus="alert(1)" autofocus>t</textarea>',
        '<object data="javascript:alert(1)"></object>',
        '<embed src="javascript:alert(1)">',
        '<link rel="stylesheet" href="https://evil.example/x.css">',
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
        '<base href="https://evil.example/">',
        '<video><source onerror="alert(1)"></video>',
        '<audio src=x onerror="alert(1)"></audio>',
        '<details open ontoggle="alert(1)"><summary>s</summary></details>',
        '<body onload="alert(1)">',
        '<marquee onstart="alert(1)">m</marquee>',
        '<select autofocus onfocus="alert(1)"><option>o</option></select>',
        '<isindex action="javascript:alert(1)" type=image>',
    ],
)
def test_no_active_or_embedded_content_survives(markup: str) -> None:
    """No img (tracking pixels), svg, math, forms, frames, plugins or on* handlers."""
    out = clean_html(markup)
    assert_safe(out)
    for word in ("img", "svg", "math", "form", "input", "iframe", "object", "embed", "style"):
        assert f"<{word}" not in out
    assert not re.search(r"\son\w+=", out), out


# --------------------------------------------------------------------------
# clean_html: URL schemes
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "http://ok.example/",
        "https://ok.example/path?q=1#frag",
        "HTTPS://OK.EXAMPLE/",
        "mailto:someone@ok.example",
    ],
)
def test_http_https_and_mailto_links_survive(href: str) -> None:
    out = clean_html(f'<a href="{href}">x</a>')
    assert f'href="{href}"' in out


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "\tjavascript:alert(1)",
        "java\tscript:alert(1)",
        "java&#x09;script:alert(1)",
        "java&#x0A;script:alert(1)",
        "java&#13;script:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)",
        "javascript&colon;alert(1)",
        "&#0000106avascript:alert(1)",
        "\x01javascript:alert(1)",
        "jav&#x61;script:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "DATA:image/svg+xml,<svg onload=alert(1)>",
        "vbscript:msgbox(1)",
        "VBScript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://ok.example/",
        "/relative/path",
        "relative/path",
        "../up",
        "?query",
        "#fragment",
        "//evil.example/x",
        "\\\\evil.example\\x",
        "/\\evil.example/x",
        "http:javascript:alert(1)",
    ],
)
def test_other_hrefs_are_removed_link_text_kept(href: str) -> None:
    """Only absolute http(s)/mailto: no script schemes, no way around the host policy."""
    out = clean_html(f'<a href="{href}">text</a>')
    assert "href" not in out, out
    assert out == f'<a rel="{LINK_REL}">text</a>'


def test_markdownish_unquoted_javascript_href_is_removed() -> None:
    out = clean_html("<a href=javascript:alert(1)>x</a> <a href=//evil.example>y</a>")
    assert "href" not in out
    assert_safe(out)


def test_cite_urls_follow_the_scheme_policy() -> None:
    """``cite`` is a URL attribute too: the same http/https/mailto, no-relative policy applies.

    Security-notes G1's static check rejects any non-http(s)/mailto scheme in
    the output, whatever the attribute.
    """
    for value in ("javascript:alert(1)", "data:text/html,x", "//evil.example/x", "/relative"):
        for markup in (f'<blockquote cite="{value}">b</blockquote>', f'<q cite="{value}">q</q>'):
            assert "cite=" not in clean_html(markup), (markup, clean_html(markup))


# --------------------------------------------------------------------------
# clean_html: mutation XSS and parser differentials
# --------------------------------------------------------------------------

MXSS = [
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    (
        "<math><mtext><table><mglyph><style><!--</style>"
        '<img title="--&gt;&lt;img src=1 onerror=alert(1)&gt;">'
    ),
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    '<svg><p><style><a id="</style><img src=1 onerror=alert(1)>">',
    '<math><mi><mglyph><svg><mtext><textarea><path id="</textarea><img onerror=alert(1) src=1>">',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "<template><style></template><img src=x onerror=alert(1)></style>",
    '<xmp><p title="</xmp><img src=x onerror=alert(1)>">',
    '<textarea><p title="</textarea><img src=x onerror=alert(1)>">',
    '<title><p title="</title><img src=x onerror=alert(1)>">',
    '<iframe><p title="</iframe><img src=x onerror=alert(1)>">',
    (
        '<select><template><style><!--</style><a rel="--></style></template>'
        '</select><img src onerror=alert(1)>">'
    ),
    "<!--<img src=x onerror=alert(1)>-->",
    "<!--><img src=x onerror=alert(1)>-->",
    "<!---><img src=x onerror=alert(1)>-->",
    "<!-- --!><img src=x onerror=alert(1)> -->",
    "<!-- <!-- nested --> <img src=x onerror=alert(1)> -->",
    "<!--[if IE]><img src=x onerror=alert(1)><![endif]-->",
    "<![CDATA[<img src=x onerror=alert(1)>]]>",
    "<?xml foo><img src=x onerror=alert(1)>?>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<a href="https://ok.example/"><svg><a xlink:href="javascript:alert(1)">x</a></svg></a>',
    "<p><svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg></p>",
    (
        '<math><annotation-xml encoding="text/html">'
        "<img src=x onerror=alert(1)></annotation-xml></math>"
    ),
    "<img/src=x/onerror=alert(1)>",
    "<IMG SRC=x ONERROR=alert(1)>",
    "<img src=x onerror\x00=alert(1)>",
    '<a href="https://ok.example/" \x0conclick=alert(1)>x</a>',
]


@pytest.mark.parametrize("markup", MXSS)
def test_mutation_xss_classics_come_out_inert(markup: str) -> None:
    """Namespace confusion, raw-text breakouts and comment tricks (DOMPurify, ammonia)."""
    out = clean_html(markup)
    assert_safe(out)
    assert "<img" not in out and "<svg" not in out and "<math" not in out and "<style" not in out


@pytest.mark.parametrize("markup", MXSS)
def test_mutation_xss_output_is_stable_when_parsed_again(markup: str) -> None:
    """The browser re-parses our output; it must see what the sanitiser saw."""
    once = clean_html(markup)
    assert clean_html(once) == once


def test_control_characters_are_removed() -> None:
    assert clean_html("<p>a\x00b\x07c\x1b[31md\x7fe</p>") == "<p>abc[31mde</p>"
    assert clean_html("<p>tab\tnew\nline</p>") == "<p>tab\tnew\nline</p>"


CONTROL_REFS = ["&#1;", "&#x08;", "&#x1b;", "&#11;", "&#x0C;", "&#x7f;"]
_C0 = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def test_control_characters_written_as_character_references_are_removed() -> None:
    """``&#x1b;`` is a raw ESC once parsed; it must not get through where a raw one cannot.

    (G2: C0 controls have no place in a comment, and the output must be stable.)
    """
    outputs = {ref: clean_html(f"<p>a{ref}b</p>") for ref in CONTROL_REFS}
    leaked = {ref: out for ref, out in outputs.items() if _C0.search(out)}
    assert leaked == {}
    assert all(clean_html(out) == out for out in outputs.values())


# --------------------------------------------------------------------------
# clean_html: properties (G2)
# --------------------------------------------------------------------------

_FRAGMENTS = [
    "<",
    ">",
    "</",
    "/>",
    "<!--",
    "-->",
    "--!>",
    "<!",
    "<?",
    "<![CDATA[",
    "]]>",
    '"',
    "'",
    "`",
    "=",
    " ",
    "\n",
    "\t",
    "\x00",
    "\x0c",
    "&",
    "&amp;",
    "&lt;",
    "&gt;",
    "&quot;",
    "&#x09;",
    "&#10;",
    "&#106;",
    "&colon;",
    "<script>",
    "</script>",
    "<style>",
    "</style>",
    "<svg>",
    "</svg>",
    "<math>",
    "</math>",
    "<mtext>",
    "<mglyph>",
    "<mi>",
    "<foreignObject>",
    "<desc>",
    "<title>",
    "</title>",
    '<annotation-xml encoding="text/html">',
    "<noscript>",
    "</noscript>",
    "<template>",
    "</template>",
    "<textarea>",
    "</textarea>",
    "<xmp>",
    "</xmp>",
    "<iframe>",
    "</iframe>",
    "<plaintext>",
    "<table>",
    "<tr>",
    "<td>",
    "<select>",
    "<option>",
    "<form>",
    "</form>",
    "<p>",
    "</p>",
    "<a>",
    "</a>",
    "<pre>",
    "</pre>",
    "<code>",
    "</code>",
    "<blockquote>",
    "<ul>",
    "<ol>",
    "<li>",
    "<br>",
    "<b>",
    "</b>",
    "<q>",
    "<img ",
    "<svg ",
    "<a ",
    "onerror=",
    "onload=",
    " onclick=",
    "href=",
    "src=",
    "xlink:href=",
    "style=",
    "cite=",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java&#x09;script:alert(1)",
    "data:text/html,",
    "vbscript:x",
    "//evil.example/",
    "https://ok.example/",
    "mailto:a@ok.example",
    "alert(1)",
]
_ATTR_NAMES = [
    "href",
    "src",
    "title",
    "cite",
    "onerror",
    "onclick",
    "onload",
    "style",
    "xlink:href",
    "formaction",
    "action",
    "rel",
    "target",
    "class",
    "id",
    "srcdoc",
]
_ATTR_VALUES = [
    "javascript:alert(1)",
    " javascript:alert(1)",
    "java&#x09;script:alert(1)",
    "&#106;avascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/",
    "/rel",
    "https://ok.example/",
    "mailto:a@ok.example",
    '"><img src=x onerror=alert(1)>',
    "alert(1)",
]
_TAG_NAMES = sorted(
    ALLOWED_TAGS
    | {
        "script",
        "style",
        "svg",
        "math",
        "img",
        "iframe",
        "noscript",
        "template",
        "textarea",
        "title",
        "xmp",
        "table",
        "select",
        "form",
        "input",
        "mglyph",
        "mtext",
        "foreignObject",
        "object",
        "embed",
        "body",
        "div",
        "span",
        "details",
        "video",
        "audio",
        "source",
        "base",
    }
)


def _element(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(_TAG_NAMES))
    attrs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(_ATTR_NAMES),
                st.one_of(st.sampled_from(_ATTR_VALUES), st.text(max_size=8)),
                st.sampled_from(['"', "'", ""]),
            ),
            max_size=3,
        )
    )
    rendered = "".join(f" {n}={q}{v}{q}" for n, v, q in attrs)
    inner = draw(st.text(max_size=6))
    close = draw(st.booleans())
    return f"<{name}{rendered}>{inner}" + (f"</{name}>" if close else "")


elements = st.composite(_element)
html_ish = st.lists(
    st.one_of(elements(), st.sampled_from(_FRAGMENTS), st.text(max_size=4)), max_size=20
).map("".join)

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(st.text())
def test_property_any_text_is_cleaned_safely_and_idempotently(text: str) -> None:
    """Total (never raises) and idempotent on arbitrary Unicode (G2)."""
    once = clean_html(text)
    assert_safe(once)
    assert clean_html(once) == once


@PROPERTY_SETTINGS
@given(html_ish)
def test_property_html_ish_input_never_breaks_the_invariants(markup: str) -> None:
    """Tag soup built from XSS ingredients never yields script, on*, or bad URLs (G1)."""
    assert_safe(clean_html(markup))


@PROPERTY_SETTINGS
@given(html_ish)
def test_property_html_ish_input_is_cleaned_idempotently(markup: str) -> None:
    """clean(clean(x)) == clean(x): the browser's parse of our output is the sanitised tree (G2)."""
    once = clean_html(markup)
    assert clean_html(once) == once


@pytest.mark.parametrize(
    "markup",
    [
        pytest.param("<pre>\n\nindented after a blank line</pre>", id="pre-leading-newline"),
        pytest.param("<p>para<select><ul><li>x</li></ul></p>", id="block-inside-p"),
        pytest.param(
            '<a href="https://ok.example/">a<table><a href="https://ok.example/">b',
            id="nested-anchor",
        ),
    ],
)
def test_idempotent_on_known_reparse_traps(markup: str) -> None:
    """Counterexamples the idempotence property found, pinned so they stay fixed."""
    once = clean_html(markup)
    assert clean_html(once) == once


def _clean_html_by_definition(untrusted: str) -> str:
    """clean_html without its shortcuts: passes until the output is its input
    (the blocks the policy drops made line breaks first)."""
    text = sanitize.limit_nesting(_renamed(sanitize.images_to_alt(untrusted)))
    kept = sanitize._BLOCK_KEEPER.clean(sanitize._CONTROL.sub("", text))
    text = sanitize._unblock(sanitize._CONTROL.sub("", kept))
    for _ in range(5):
        cleaned = sanitize._CONTROL.sub(
            "", sanitize._CLEANER.clean(sanitize._CONTROL.sub("", text))
        ).strip()
        if cleaned == text:
            break
        text = cleaned
    return cleaned


def _renamed(text: str) -> str:
    for pattern, replacement in sanitize._RENAMES:
        text = pattern.sub(replacement, text)
    return text


_EDGES = st.text(alphabet=" \n\t\r\x0c\x1c\x85\u00a0\u2003\ufeff", max_size=3)
_LINKS = st.builds(
    lambda href, title, text: f'<a href="{href}"{title}>{text}</a>',
    st.sampled_from(["https://ok.example/a?b=1&amp;c", "javascript:alert(1)", "//x", "", "x>y"]),
    st.sampled_from(["", ' title="t"', ' title="a&quot;b"', " title='q'"]),
    st.text(max_size=4),
)
shortcut_inputs = st.builds(
    lambda before, body, after: before + body + after,
    _EDGES,
    st.lists(st.one_of(html_ish, _LINKS, st.just("<p>x</p>\n")), max_size=4).map("".join),
    _EDGES,
)


@PROPERTY_SETTINGS
@given(shortcut_inputs)
def test_property_shortcuts_give_what_the_definition_gives(markup: str) -> None:
    """The stripped-input stop and the links' rel written ahead change no result."""
    assert clean_html(markup) == _clean_html_by_definition(markup)


@pytest.mark.parametrize(
    "markup",
    [
        '<p>See <a href="https://ok.example/">this</a>.</p>\n',
        '<p><a href="https://ok.example/" title="t">t</a></p>\n<ul>\n<li>a</li>\n</ul>\n',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="https://ok.example/">a<a href="https://ok.example/">b</a></a>',
        "\x1c<p>x</p>\x85",
        "\u00a0<p>x</p>",
        "<p>open  ",
        "<pre>\n\nx</pre>\n",
        # The parser drops a byte-order mark only as the first character.
        " \ufeff",
        "\n\ufeff<p>hi</p>\n",
        ' \ufeff<p>See <a href="https://ok.example/">this</a>.</p>\n',
    ],
)
def test_shortcuts_on_markdown_output_and_edges(markup: str) -> None:
    assert clean_html(markup) == _clean_html_by_definition(markup)


_LABELS = st.sampled_from(
    ["example", "a", "b-c", "xn--bcher-kva", "Blog", "1", "999", "0x1f", "-x", "x-", "", "a_b"]
)
_HOSTS = st.lists(_LABELS, min_size=1, max_size=4).map(".".join)
_PATHS = st.text(alphabet="/?#=&;%'()*+,.-_~!$:@[]\\\"<> \u00e9aZ09", max_size=12)
_HREFS = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
    st.sampled_from(["https", "http", "HTTPS", "ftp", "javascript"]),
    _HOSTS,
    st.sampled_from(["", ":8080", ":0", ":65535", ":99999", ":", ":x"]),
    _PATHS,
)
_PLAIN_TEXT = st.text(alphabet="ab \t\n\r&<>\"'\u00a0\u00e9\x00\x0b\x85\u2028;#", max_size=8)
_PLAIN_INLINE = st.one_of(
    _PLAIN_TEXT,
    st.sampled_from(["&amp;", "&lt;", "&gt;", "&quot;", "&nbsp;", "&#39;", "<br>", "<br/>"]),
    st.builds(
        lambda href, rel, text: f'<a href="{href}"{rel}>{text}</a>',
        _HREFS,
        st.sampled_from(["", f' rel="{LINK_REL}"', ' rel="nofollow"', ' title="t"']),
        _PLAIN_TEXT,
    ),
)
plain_html = st.lists(
    st.lists(_PLAIN_INLINE, max_size=5).map(lambda parts: "<p>" + "".join(parts) + "</p>"),
    min_size=1,
    max_size=3,
).flatmap(lambda blocks: st.sampled_from(["\n", "", "\n\n", " "]).map(lambda s: s.join(blocks)))


@PROPERTY_SETTINGS
@given(plain_html)
def test_property_plain_html_is_known_without_the_cleaner(markup: str) -> None:
    """What the plain-HTML pattern accepts is the cleaner's own output; each
    way in gives what the definition gives."""
    if sanitize._PLAIN_HTML.fullmatch(markup):
        assert sanitize._CLEANER.clean(markup) == markup
    assert clean_html(markup) == _clean_html_by_definition(markup)
    assert sanitize.recheck_html(markup) == _clean_html_by_definition(markup)


@pytest.mark.parametrize(
    ("markup", "plain"),
    [
        ("<p>a &amp; b</p>\n<p>c<br>d</p>", True),
        (f'<p><a href="https://x.example/a?b=1&amp;c=2" rel="{LINK_REL}">@ann</a> hi</p>', True),
        (f'<p><a href="https://999.1.1.1/" rel="{LINK_REL}">x</a></p>', False),  # no host
        (f'<p><a href="https://x.example:99999/" rel="{LINK_REL}">x</a></p>', False),  # port
        (f'<p><a href="https://xn--a/" rel="{LINK_REL}">x</a></p>', False),  # punycode
        ("<p>a\u00a0b</p>", False),  # written &nbsp;
        ("<p>a</p><p>b</p>", False),
        ("<p>a\rb</p>", False),
    ],
)
def test_plain_html_pattern(markup: str, plain: bool) -> None:
    assert bool(sanitize._PLAIN_HTML.fullmatch(markup)) is plain
    assert (sanitize._CLEANER.clean(markup) == markup) or not plain
    assert clean_html(markup) == _clean_html_by_definition(markup)


def test_markdown_link_takes_one_cleaner_pass(cleaner_passes: list[str]) -> None:
    """A comment's Markdown HTML (links, a final newline) is cleaned in one pass."""
    out = clean_html('<p>See <a href="https://ok.example/" title="t">this</a>.</p>\n')
    link = f'<a href="https://ok.example/" title="t" rel="{LINK_REL}">this</a>'
    assert out == f"<p>See {link}.</p>"
    assert len(cleaner_passes) == 1


# --------------------------------------------------------------------------
# clean_text
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("untrusted", "expected"),
    [
        ("Ann", "Ann"),
        ("<b>Ann</b> <i>Lee</i>", "Ann Lee"),
        ("<img src=x onerror=alert(1)>Mallory", "Mallory"),
        ('"><script>alert(1)</script>Eve', '">Eve'),
        ("<style>*{}</style>Bob", "Bob"),
        ("Ann &amp; Bob", "Ann & Bob"),
        ("  Ann \n\t Lee  ", "Ann Lee"),
        ("A\x00n\x07n\x1b\x7f", "Ann"),
        ("", ""),
    ],
)
def test_clean_text_removes_markup_and_controls(untrusted: str, expected: str) -> None:
    assert clean_text(untrusted) == expected


def test_clean_text_returns_text_not_html() -> None:
    """Escaped markup comes back as the characters a person typed; templates escape it."""
    assert clean_text("&lt;script&gt;x&lt;/script&gt; &amp;") == "<script>x</script> &"


def test_clean_text_removes_control_character_references() -> None:
    """A name with ``&#x1b;`` must not smuggle an ESC into terminals (``engage report``)."""
    outputs = {ref: clean_text(f"Mal{ref}[31mlory") for ref in CONTROL_REFS}
    assert {ref: out for ref, out in outputs.items() if _C0.search(out)} == {}


@PROPERTY_SETTINGS
@given(st.one_of(st.text(), html_ish))
def test_property_clean_text_is_one_plain_line(untrusted: str) -> None:
    """Names are one line of text: no tags from the input's markup, no controls, trimmed."""
    out = clean_text(untrusted)
    assert out == out.strip()
    assert not re.search(r"[\x00-\x1f\x7f]", out), repr(out)
    assert "  " not in out


def _clean_text_by_definition(untrusted: str) -> str:
    stripped = html.unescape(
        sanitize._TEXT_ONLY.clean(sanitize.limit_nesting(sanitize._CONTROL.sub("", untrusted)))
    )
    return " ".join(sanitize._BIDI.sub("", sanitize._CONTROL.sub("", stripped)).split())


@PROPERTY_SETTINGS
@given(st.one_of(st.text(), html_ish, st.text(alphabet="ab >\"'\r\n\t\x00\x1b\u202e\ufeff")))
def test_property_clean_text_without_markup_skips_the_cleaner_alike(untrusted: str) -> None:
    """Text with no "<" or "&" is not parsed: the same result as parsing it."""
    assert clean_text(untrusted) == _clean_text_by_definition(untrusted)


@pytest.mark.parametrize("untrusted", ["\ufeffName", "\x1b\ufeff", " \ufeffAnn"])
def test_clean_text_drops_a_leading_byte_order_mark_as_the_parser_does(untrusted: str) -> None:
    assert clean_text(untrusted) == _clean_text_by_definition(untrusted)


def test_lone_surrogates_are_refused_as_before() -> None:
    """The cleaner refuses text that is no Unicode: neither shortcut hides it."""
    for call in (clean_text, sanitize.recheck_html, clean_html):
        with pytest.raises(UnicodeEncodeError):
            call("<p>a\ud800b</p>" if call is not clean_text else "Ann\ud800")


# --------------------------------------------------------------------------
# safe_url
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://ok.example",
        "https://ok.example/",
        "https://ok.example/path/to?q=1&r=2#frag",
        "HTTPS://OK.EXAMPLE/Path",
        "https://ok.example:8443/x",
        "https://[2001:db8::1]/",
        "https://xn--bcher-kva.example/",
    ],
)
def test_safe_url_accepts_absolute_http_and_https(url: str) -> None:
    assert safe_url(url) == url


def test_safe_url_keeps_accepted_urls_intact() -> None:
    """A valid URL must not be rewritten: ``&copy=1`` is a query parameter, not ``©``."""
    urls = [
        "https://shop.example/item?id=7&copy=1",
        "https://ok.example/?a=1&not=2",
        "https://ok.example/?sect=1&para=2&reg=3",
    ]
    assert {url: safe_url(url) for url in urls} == {url: url for url in urls}


def test_safe_url_trims_surrounding_whitespace() -> None:
    assert safe_url("  https://ok.example/  ") == "https://ok.example/"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "java\x00script:alert(1)",
        "&#106;avascript:alert(1)",
        "javascript&colon;alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "mailto:someone@ok.example",
        "ftp://ok.example/",
        "file:///etc/passwd",
        "/relative",
        "relative/path",
        "//evil.example/",
        "\\\\evil.example",
        "#frag",
        "http:",
        "https:",
        "http:/ok.example",
        "http:///path",
        "https://ok example/",
        "https://ok.example/a b",
        "https://ok.example/\tx",
        '" onmouseover="alert(1)',
        "https://[::1",
        "not a url",
        "garbage",
        "",
        "   ",
    ],
)
def test_safe_url_rejects_everything_else(url: str) -> None:
    """Script schemes, relative and protocol-relative paths, whitespace and junk give ''."""
    assert safe_url(url) == ""


def test_safe_url_with_explicit_schemes() -> None:
    mail = frozenset({"mailto"})
    assert safe_url("mailto:someone@ok.example", mail) == "mailto:someone@ok.example"
    assert safe_url("https://ok.example/", mail) == ""


@PROPERTY_SETTINGS
@given(st.text())
def test_property_safe_url_is_total_and_only_returns_http_urls(text: str) -> None:
    out = safe_url(text)
    assert out == "" or re.match(r"(?i)https?://[^\s/]", out), out
    assert not any(ch.isspace() for ch in out)


# --------------------------------------------------------------------------
# text_to_html
# --------------------------------------------------------------------------


def test_text_to_html_escapes_everything() -> None:
    """Plain-text sources (names, APIs) must never become markup."""
    out = text_to_html("<script>alert(1)</script> & \"q\" 'a' <img src=x onerror=alert(1)>")
    assert out == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#x27;a&#x27; "
        "&lt;img src=x onerror=alert(1)&gt;</p>"
    )
    assert_safe(out)


def test_text_to_html_keeps_paragraphs_and_line_breaks() -> None:
    assert text_to_html("one\ntwo\n\n\nthree\x07\n") == "<p>one<br>two</p><p>three</p>"
    assert text_to_html("") == ""


def test_text_to_html_does_not_double_escape_through_clean_html() -> None:
    """Escaped text passed on to the sanitiser must keep its entities exactly once."""
    escaped = text_to_html("a < b & c")
    assert clean_html(escaped) == escaped == "<p>a &lt; b &amp; c</p>"


@PROPERTY_SETTINGS
@given(st.text())
def test_property_text_to_html_output_is_inert(text: str) -> None:
    out = text_to_html(text)
    assert tag_names(out) <= {"p", "br"}
    assert xss_findings(out) == []


def test_c1_controls_and_bidi_overrides_never_reach_a_name_or_a_body() -> None:
    """Security F6's neighbours in the page: U+009B (CSI) in a body, U+202E in a
    display name ("Eve\u202egnp.exe" reads as "Eveexe.png")."""
    from pelican_engage.sanitize import clean_html, clean_text

    assert clean_text("Eve\u202egnp.exe\u2066\u200f\x9b") == "Evegnp.exe"
    assert clean_html("<p>a\x9b[31mb\x85c</p>") == "<p>a[31mbc</p>"
    # Right-to-left text itself stays.
    assert clean_text("\u05e9\u05dc\u05d5\u05dd") == "\u05e9\u05dc\u05d5\u05dd"


@settings(max_examples=2000, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.builds(
            "".join,
            st.lists(
                st.sampled_from(
                    [
                        "http",
                        "https",
                        "HTTP",
                        "javascript",
                        ":",
                        "//",
                        "/",
                        "@",
                        "a",
                        "b.example",
                        ".",
                        "-",
                        ":80",
                        ":99999",
                        "?",
                        "#",
                        "%20",
                        " ",
                        "\t",
                        "\x7f",
                        "\x85",
                        "é",
                        "[",
                        "]",
                        "\\",
                        "'",
                        '"',
                        "<",
                        ">",
                        "ann@",
                        "\u202e",
                    ]
                ),
                max_size=12,
            ),
        ),
    ),
    st.sampled_from([frozenset({"http", "https"}), frozenset({"https"}), frozenset({"mailto"})]),
)
def test_the_shortcut_for_plain_links_agrees_with_the_full_check(value: str, schemes) -> None:
    """safe_url's quick path for plain http(s) links returns exactly what the
    whole check returns, for any text and any allowed schemes."""
    from pelican_engage.sanitize import _safe_url, safe_url

    assert safe_url(value, schemes) == _safe_url(value, schemes)


@pytest.mark.parametrize(
    "markup",
    [
        "<div>x</div>a" + " " * 100_000 + "b",
        "<div>x</div>a" + "\n" * 100_000 + "b",
        "<td " * 25_000,
        "<tr " * 25_000,
        '<td title="' * 25_000,
        "<div>x</div>" * 20_000,
        "<table>" + "<tr><td>a</td><td>b</td></tr>" * 10_000 + "</table>",
    ],
    ids=["spaces", "newlines", "open-td", "open-tr", "open-title", "divs", "rows"],
)
def test_dropped_blocks_cost_linear_time(markup: str) -> None:
    """A first try of the block breaks took seconds to minutes on these (a
    long run of spaces after a block, a tag left open): a stranger's comment
    must not stall a build."""
    started = time.perf_counter()
    clean_html(markup)
    assert time.perf_counter() - started < 1.0


def test_the_block_pattern_names_exactly_the_blocks() -> None:
    """_HAS_BLOCK is built letter by letter from _BLOCKS (a plain alternation
    cost a tenth of a comment's cleaning): every block, in any case, and no
    allowed tag or longer name."""
    for name in sanitize._BLOCKS:
        assert sanitize._HAS_BLOCK.search(f"<{name}>")
        assert sanitize._HAS_BLOCK.search(f"x<{name.upper()} class=a>")
    for name in [*ALLOWED_TAGS, "span", "font", "img", "tdx", "dlx", "details2", "thx"]:
        assert not sanitize._HAS_BLOCK.search(f"<{name}>"), name
