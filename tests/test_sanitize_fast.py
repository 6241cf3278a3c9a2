"""Already clean HTML (an archived item read again) is proven clean by one
cleaner pass (``recheck_html``), or by a pattern when it is plain paragraphs
and links, and that shortcut never gives anything the whole way
(``clean_html``) would not."""

from __future__ import annotations

import pytest

from pelican_engage import sanitize
from pelican_engage.nesting import MAX_DEPTH
from pelican_engage.sanitize import clean_html, recheck_html

CLEAN = [
    '<p>Thanks! See <a href="https://example.org/a?b=1&amp;c=2" '
    'rel="nofollow ugc noopener">this</a>.</p>',
    "<p>one<br>two</p><blockquote><p>quoted <em>text</em></p></blockquote>",
    "<ul><li>a</li><li><code>b &lt; c</code></li></ul><pre>x\n  y</pre>",
    "plain text, no markup at all",
]

# Inputs the shortcut must send the whole way, or where it must agree with it.
TRICKY = [
    *CLEAN,
    '<p title="x">a <img alt=":)" src="x.png"> b</p>',
    "<tt>code</tt> and <h2>a heading</h2>",
    "<p>a &#1; control reference</p>",
    "<p>a \x01 control character</p>",
    '<abbr title="a<img alt=x>b">t</abbr>',
    '<abbr title="<tt>">t</abbr>',
    "<svg><p>x</p></svg>",
    "</b>stray end tags</p></em>",
    "<p><div><p>block in a paragraph</p></div></p>",
    "<pre>\n\nblank lines first</pre>",
    '<a href="https://a.example"><a href="https://b.example">nested</a></a>',
    "<b>" * (MAX_DEPTH - 1) + "x" + "</b>" * (MAX_DEPTH - 1),
    "<b>" * MAX_DEPTH + "x" + "</b>" * MAX_DEPTH,
    "<b>" * (MAX_DEPTH + 1) + "x" + "</b>" * (MAX_DEPTH + 1),
    "<blockquote>" * 40 + "deep" + "</blockquote>" * 40,
    "  <p>surrounding blanks</p>  ",
    '<a href="javascript:alert(1)">x</a><script>alert(2)</script>',
]


@pytest.mark.parametrize("text", TRICKY + [clean_html(t) for t in TRICKY])
def test_the_shortcut_gives_what_the_whole_way_gives(text: str) -> None:
    assert recheck_html(text) == clean_html(text)


@pytest.mark.parametrize("text", CLEAN)
def test_clean_html_is_proven_by_one_pass(
    text: str, monkeypatch: pytest.MonkeyPatch, cleaner_passes: list[str]
) -> None:
    # limit_nesting costs more than the cleaner itself on a comment; clean
    # HTML needs neither it nor a second pass.
    def no_nesting(_text: str, *_args: object) -> str:
        raise AssertionError("limit_nesting called on clean HTML")

    monkeypatch.setattr(sanitize, "limit_nesting", no_nesting)
    assert recheck_html(text) == text
    # Plain paragraphs and links are known by their pattern: no pass at all.
    plain = sanitize._PLAIN_HTML.fullmatch(text) is not None
    assert len(cleaner_passes) == (0 if plain else 1)
    assert plain == text.startswith("<p>Thanks!")


@pytest.mark.parametrize(
    "text",
    [
        '<p>x <img alt="y" src="z"></p>',
        "<p>\x02</p>",
        "<b>" * (MAX_DEPTH + 1) + "x" + "</b>" * (MAX_DEPTH + 1),
        '<p onclick="alert(1)">x</p>',
    ],
)
def test_what_is_not_clean_takes_the_whole_way(text: str) -> None:
    assert not sanitize._is_clean(text)
    assert recheck_html(text) == clean_html(text) != text


@pytest.mark.parametrize(
    "stored",
    [
        '<p>hi <a href="https://a.example" rel="nofollow ugc noopener">a</a></p>',  # as written
        '<p onmouseover="alert(1)">edited by hand</p><script>alert(2)</script>',
        "<p>" + "<b>" * 40 + "deep" + "</b>" * 40 + "</p>",
    ],
)
def test_archived_html_is_checked_not_trusted(stored: str) -> None:
    """The shortcut is taken on what the file holds, never on trust: an
    item whose HTML was edited by hand comes back as clean_html gives it."""
    from datetime import datetime, timezone

    from pelican_engage.archive_files import _checked
    from pelican_engage.model import Item, Person

    item = Item(
        id="i1",
        source="mastodon",
        kind="reply",
        author=Person(name="Ann"),
        published=datetime(2026, 1, 1, tzinfo=timezone.utc),
        content_html=stored,
    )
    assert _checked("i1", item).content_html == clean_html(stored)
