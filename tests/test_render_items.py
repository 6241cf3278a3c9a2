"""render_items.py writes, byte for byte, what the ``item`` macro wrote.

The macro as it was is kept in tests/data/render/item_macro.html; every
shape of node (comment, reply chain, mention, pingback, discussion
submission, placeholder, content warning, the author's reply, waiting,
flat, e-mail reply link, pcs alias, hostile names) is rendered both ways
in Pelican's Jinja environment, with and without ENGAGE_SHOW_WAITING and
ENGAGE_COMMENT_EMAIL, and in French.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment
from markupsafe import Markup, escape

from pelican_engage import i18n, render, render_items
from pelican_engage.conversation import build_thread, engagement
from pelican_engage.model import Item, Person, Post, Tombstone
from pelican_engage.settings import author_identity

ORACLE = Path(__file__).parent / "data" / "render" / "item_macro.html"
START = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
AUTHOR = author_identity({"names": ["Marin"], "mastodon": ["marin@social.example"]})


def _item(n: int, source: str, kind: str = "reply", parent: str | None = None, **more: Any) -> Item:
    fields: dict[str, Any] = {
        "author": Person(f"Reader {n}", url=f"https://{source}.example/@r{n}"),
        "published": START + timedelta(hours=n),
        "content_html": f"<p>Text {n}?</p>",
        "url": f"https://{source}.example/{n}",
    }
    fields.update(more)
    return Item(id=f"{source}:{n}", source=source, kind=kind, in_reply_to=parent, **fields)


def _items() -> list[Item]:
    hostile = Person("<b>\"Eve\" & 'co'</b>", url='https://evil.example/?a=1&b="2"')
    return [
        _item(1, "mastodon", reply_url="https://social.example/interact/1"),
        _item(
            2,
            "mastodon",
            parent="mastodon:1",
            author=Person("Marin", handle="marin@social.example"),
        ),
        _item(3, "mastodon", parent="mastodon:2", extras={"warnings": ["spoilers", "<food>"]}),
        _item(4, "local", kind="comment", author=hostile, url=""),
        _item(5, "local", kind="reply", parent="local:4", extras={"old_anchor": "comment-5"}),
        _item(6, "webmention", kind="mention", content_html=""),
        _item(
            7,
            "wordpress",
            kind="mention",
            url="https://old.example/c7",
            author=Person("Pinger", url="https://pinger.example/post"),
        ),
        _item(8, "webmention", kind="mention", url="", content_html="<p>Named it</p>"),
        _item(9, "hackernews", kind="mention", url="https://news.ycombinator.com/item?id=9"),
        _item(10, "hackernews", kind="comment", parent="hackernews:9"),
        _item(11, "bluesky", parent="bluesky:99"),  # its parent was deleted
        _item(12, "twitter", kind="quote"),
        *(
            _item(20 + d, "mastodon", parent=f"mastodon:{19 + d}" if d else "mastodon:1")
            for d in range(8)
        ),  # fmt: skip  (deeper than the display depth: flat)
    ]


def _nodes() -> tuple[Any, Post]:
    post = Post("post", "A <em>post</em> & more", url="https://blog.example/post.html")
    stones = [Tombstone("bluesky:99", "bluesky", START, "deleted", None)]
    thread, _more = build_thread(post, _items(), AUTHOR, tombstones=stones)
    shown = engagement(thread, display_depth=3)
    assert any(n.placeholder for n in shown.roots)
    return shown, post


_SYMBOL = re.compile(
    r'(<svg class="engage-icon"[^>]*height="16")>'
    r'<symbol id="engage-icon-(\w+)" viewBox="0 0 16 16">(<path [^>]*/>)</symbol>'
    r'<use href="#engage-icon-\2"/></svg>'
)
_USE = re.compile(
    r'(<svg class="engage-icon"[^>]*height="16")><use href="#engage-icon-(\w+)"/></svg>'
)


def _inline_drawings(html: str) -> str:
    """``html`` with each source mark's drawing in the mark, as the macro
    printed it, after checking that the writer defined each drawing once,
    as an SVG symbol in the page's first mark of that source, and pointed at
    it with ``<use>`` from the later ones."""
    defined = _SYMBOL.findall(html)
    sources = [source for _, source, _ in defined]
    assert len(sources) == len(set(sources)) >= 5, sources
    paths = {source: path for _, source, path in defined}
    for use in _USE.finditer(html):
        source = use.group(2)
        assert source in paths and html.index(f'id="engage-icon-{source}"') < use.start()
    html = _SYMBOL.sub(r'\1 viewBox="0 0 16 16">\3</svg>', html)
    return _USE.sub(lambda m: f'{m.group(1)} viewBox="0 0 16 16">{paths[m.group(2)]}</svg>', html)


def _env() -> Environment:
    env = Environment(trim_blocks=True, lstrip_blocks=True)  # Pelican's options
    env.globals["engage_avatar"] = lambda person, size=40: Markup(f"<i>{escape(person.name)}</i>")
    # The date's invisible spaces as character references, as the writer does.
    env.filters["invisible_refs"] = lambda text: Markup(str(text).translate(i18n.INVISIBLE_REFS))
    render.add_templates(env)
    return env


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("waiting", [False, True])
@pytest.mark.parametrize("email", ["", "comments@blog.example"])
def test_the_python_writer_prints_what_the_macro_printed(
    lang: str, waiting: bool, email: str
) -> None:
    env = _env()
    shown, post = _nodes()
    context = {
        "ENGAGE_SHOW_WAITING": waiting,
        "ENGAGE_COMMENT_EMAIL": email,
        "ENGAGE_DATE_FORMAT": "medium",
        "TIMEZONE": "Europe/Paris",
        "DEFAULT_LANG": lang,
    }
    oracle = env.from_string(ORACLE.read_text(encoding="utf-8")).make_module(context)
    ours = env.from_string("{% for n in roots %}{{ engage_item(n, post) }}|{% endfor %}")
    expected = "".join(f"{oracle.item(n, post)}|" for n in shown.roots)
    written = ours.render(roots=shown.roots, post=post, **context)
    assert _inline_drawings(written) == expected
    assert "&lt;b&gt;&#34;Eve&#34; &amp; &#39;co&#39;&lt;/b&gt;" in expected  # escaped as |e does


@pytest.mark.parametrize(
    "value", ["", "plain", '<a href="x">&amp;</a>', "'\"<>&", "\u2028 é", Markup("<b>kept</b>"), 42]
)
def test_escaping_is_jinja_s(value: Any) -> None:
    assert render_items._e(value) == str(escape(value))


def test_a_host_s_network_names_are_used() -> None:
    env = _env()
    env.globals["engage_networks"] = {"mastodon": "the Fediverse"}
    shown, post = _nodes()
    root = next(n for n in shown.roots if n.item.id == "mastodon:1")
    html = env.from_string("{{ engage_item(root, post) }}").render(root=root, post=post)
    assert "Reply on the Fediverse" in html


def test_each_page_defines_its_drawings_with_macros_imported_without_context() -> None:
    """A theme's ``{% import "engage/macros.html" as m %}`` (no context) shares
    one context across pages: each page's marks still point at drawings in
    that page."""
    from dataclasses import replace

    env = _env()
    shown, post = _nodes()
    page = env.from_string(
        '{% import "engage/macros.html" as m %}'
        "{% for n in roots %}{{ m.item(n, post) }}{% endfor %}"
    )
    for each in (post, replace(post, key="other"), post):
        html = page.render(roots=shown.roots, post=each)
        defined = set(re.findall(r'<symbol id="(engage-icon-\w+)"', html))
        used = set(re.findall(r'<use href="#(engage-icon-\w+)"', html))
        assert len(defined) >= 5 and used == defined, (each.key, used - defined)
