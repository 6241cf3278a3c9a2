"""The XSS harness: public vector corpora through every input channel, in Chromium.

Every vector of tests/data/xss/ (DOMPurify's fixtures, the HTML5 Security
Cheatsheet, the Big List of Naughty Strings) enters through every way
outside text reaches a page: local comment files (.md, .html, .rst bodies
and their author/website metadata), and the wire formats of Mastodon,
Bluesky (text and link facets), webmention.io, X, comment feeds, the
WordPress REST API, WordPress WXR and Disqus exports and saved WordPress
pages, each read by the source's own parser and archived as a fetch would.
One site is built with a post per channel, and each page is loaded in
headless Chromium with ``alert``/``confirm``/``prompt``/``print``/``open``
hooked; then every element gets synthetic events and a click.  Nothing may
run.  The same harness on a page holding the raw vectors (each in its own
frame, so one cannot swallow the next) must see many run: without that
positive control, "nothing ran" would prove nothing.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pelican_engage.archive import Archive
from pelican_engage.identity import AuthorIdentity
from pelican_engage.importers.disqus import parse_disqus
from pelican_engage.importers.wordpress_html import parse_page
from pelican_engage.importers.wordpress_wxr import parse_wxr
from pelican_engage.model import Item
from pelican_engage.sources import bluesky, feed, mastodon, twitter, webmention, wordpress

from .browser import Page, Pipe
from .conftest import Site
from .xss_corpus import vectors

CORPORA = vectors()
VECTORS = [v for found in CORPORA.values() for v in found]
#: The raw vectors must run at least this often in the positive control.
#: Chromium 150 gives 180 executions (71 vectors caught during the events,
#: the rest on load); most vectors target old browsers or need a user.
POSITIVE_CONTROL_MIN = 120
START = datetime(2026, 1, 3, 10, tzinfo=timezone.utc)
AUTHOR = AuthorIdentity(names=("Marin",))

# Runs in every frame before the page's own scripts.  Calls are reported
# on the console, which DevTools reports for every frame, even ones of
# another origin (data: URLs), where "top" is out of reach.
HOOK = r"""
(() => {
  const report = (kind, arg) => {
    let where = '';
    try { where = String(window.top.__engageCurrent || ''); } catch (e) {}
    console.debug('__ENGAGE_XSS__', kind, where, String(arg).slice(0, 60));
    return kind === 'confirm' ? false : null;
  };
  for (const kind of ['alert', 'confirm', 'prompt', 'print', 'open']) {
    try { window[kind] = (arg) => report(kind, arg); } catch (e) {}
  }
  const isScript = (url) =>
    /^javascript:/i.test(String(url || '').replace(/[\s\u0000-\u001f]/g, ''));
  // Let javascript: links and form actions run (that is an execution), but
  // no other navigation: it would unload the page under test.
  addEventListener('click', (e) => {
    const link = e.target && e.target.closest && e.target.closest('a[href], area[href]');
    if (link && !isScript(link.href)) e.preventDefault();
  }, true);
  addEventListener('submit', (e) => {
    const action = (e.submitter && e.submitter.formAction) || e.target.action;
    if (!isScript(action)) e.preventDefault();
  }, true);
})();
"""

#: Event types fired at every element (inline handlers run on synthetic events).
EVENTS = (
    "click dblclick auxclick contextmenu mousedown mouseup mouseover mouseout mouseenter "
    "mouseleave mousemove pointerdown pointerup pointerover pointerenter focus blur focusin "
    "focusout keydown keyup keypress input change select submit reset invalid toggle "
    "load error abort scroll wheel copy cut paste drag dragstart dragend dragenter dragover "
    "drop animationstart animationend transitionend play playing pause ended "
    "loadstart canplay beforeinput touchstart touchend search show begin end"
)

# Fires EVENTS and a click on every element of the page and of its
# same-origin frames; each element is tagged with the vector it belongs to.
EXERCISE = r"""
(async () => {
  const events = EVENTS;
  const docs = [document];
  for (let i = 0; i < docs.length; i++) {
    for (const frame of docs[i].querySelectorAll('iframe, frame, object, embed')) {
      try { if (frame.contentDocument) docs.push(frame.contentDocument); } catch (e) {}
    }
  }
  let count = 0;
  for (const doc of docs) {
    for (const el of Array.from(doc.querySelectorAll('*'))) {
      const owner = el.closest('[data-vector]') ||
        (doc.defaultView.frameElement && doc.defaultView.frameElement.closest('[data-vector]'));
      window.__engageCurrent = owner ? owner.getAttribute('data-vector') : '';
      for (const type of events) {
        try { el.dispatchEvent(new Event(type, {bubbles: true, cancelable: true})); } catch (e) {}
      }
      try { if (el.focus) el.focus(); } catch (e) {}
      try { if (el.click) el.click(); } catch (e) {}
      count++;
    }
  }
  window.__engageCurrent = 'after';
  await new Promise((resolve) => setTimeout(resolve, 300));
  return count;
})()
""".replace("EVENTS", json.dumps(EVENTS.split(" ")))


def run(browser: Pipe, page_path: Path) -> tuple[int, set[str], int]:
    """(executions, vectors seen running, elements exercised) for one page."""
    tab = Page(browser, hook=HOOK)
    try:
        tab.load(page_path)
        elements = tab.evaluate(EXERCISE)
        executions, ran = 0, set()
        for event in tab.events("Runtime.consoleAPICalled"):
            args = [a.get("value") for a in event["params"].get("args", [])]
            if args and args[0] == "__ENGAGE_XSS__":
                executions += 1
                if len(args) > 2 and args[2] not in ("", "after"):
                    ran.add(str(args[2]))
        executions += len(tab.events("Page.javascriptDialogOpening"))  # unhooked frames
    finally:
        tab.close()
    return executions, ran, int(elements or 0)


# --------------------------------------------------------------------------
# Channels: vectors -> wire format -> the source's own parser -> items
# --------------------------------------------------------------------------


def one_line(vector: str) -> str:
    return " ".join(vector.split()) or "x"


def when(index: int) -> str:
    return (START + timedelta(minutes=index)).strftime("%Y-%m-%dT%H:%M:%SZ")


_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def cdata(vector: str) -> str:
    """``vector`` inside CDATA; characters XML cannot carry at all are left out."""
    return "<![CDATA[" + _XML_INVALID.sub("", vector).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xml_text(vector: str) -> str:
    return html.escape(_XML_INVALID.sub("", vector))


def mastodon_items(vs: list[str]) -> list[Item]:
    ref = mastodon.parse_status_url("https://social.example/@marin/1000")
    statuses = [
        {
            "id": str(2000 + i),
            "created_at": when(i),
            "in_reply_to_id": "1000",
            "visibility": "public",
            "content": v,
            "spoiler_text": v if i % 2 else "",
            "url": one_line(v),
            "account": {"acct": f"u{i}", "display_name": v, "url": one_line(v), "avatar": v},
        }
        for i, v in enumerate(vs)
    ]
    return list(mastodon.parse_context({"descendants": statuses}, ref).items)


def bluesky_items(vs: list[str]) -> list[Item]:
    root = "at://did:plc:marin/app.bsky.feed.post/root"
    replies = []
    for i, v in enumerate(vs):
        size = len(v.encode("utf-8"))
        replies.append(
            {
                "post": {
                    "uri": f"at://did:plc:u{i}/app.bsky.feed.post/{i}",
                    "author": {"did": f"did:plc:u{i}", "handle": f"u{i}.example", "displayName": v},
                    "record": {
                        "text": v,
                        "createdAt": when(i),
                        "facets": [
                            {
                                "index": {"byteStart": 0, "byteEnd": size},
                                "features": [
                                    {"$type": "app.bsky.richtext.facet#link", "uri": one_line(v)}
                                ],
                            }
                        ],
                    },
                }
            }
        )
    answer = {"thread": {"post": {"uri": root}, "replies": replies}}
    return bluesky.parse_thread(answer)[1]


def webmention_items(vs: list[str]) -> list[Item]:
    children = [
        {
            "wm-id": 3000 + i,
            "wm-property": "in-reply-to",
            "wm-received": when(i),
            "url": one_line(v),
            "wm-source": one_line(v),
            "author": {"name": v, "url": one_line(v), "photo": one_line(v)},
            "content": {"html": v, "text": v},
        }
        for i, v in enumerate(vs)
    ]
    return webmention.parse_feed({"type": "feed", "children": children})[0]


def x_items(vs: list[str]) -> list[Item]:
    root = "1800000000000000000"
    data, users = [], []
    for i, v in enumerate(vs):
        text = f"{v} https://t.co/abc{i}"
        start = len(v) + 1
        data.append(
            {
                "id": str(1800000000000001000 + i),
                "created_at": when(i),
                "text": text,
                "author_id": str(500 + i),
                "conversation_id": root,
                "referenced_tweets": [{"type": "replied_to", "id": root}],
                "entities": {
                    "urls": [
                        {
                            "start": start,
                            "end": start + len(f"https://t.co/abc{i}"),
                            "url": f"https://t.co/abc{i}",
                            "expanded_url": one_line(v),
                            "display_url": v,
                        }
                    ]
                },
            }
        )
        users.append({"id": str(500 + i), "name": v, "username": f"u{i}"})
    return twitter.parse_search({"data": data, "includes": {"users": users}}, root)


def feed_items(vs: list[str]) -> list[Item]:
    entries = "".join(
        f"<entry><id>urn:comment:{i}</id><title>{xml_text(v)}</title>"
        f"<published>{when(i)}</published><updated>{when(i)}</updated>"
        f"<author><name>{xml_text(v)}</name><uri>{xml_text(one_line(v))}</uri></author>"
        f'<link href="{xml_text(one_line(v))}"/>'
        f'<content type="html">{xml_text(v)}</content></entry>'
        for i, v in enumerate(vs)
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Comments</title><id>urn:feed</id><updated>{when(0)}</updated>{entries}</feed>"
    )
    return feed.parse_feed(body.encode("utf-8"), {"content-type": "application/atom+xml"})[0]


def wordpress_rest_items(vs: list[str]) -> list[Item]:
    answer = [
        {
            "id": 4000 + i,
            "post": 42,
            "parent": 0,
            "author": 0,
            "author_name": v,
            "author_url": one_line(v),
            "date_gmt": when(i)[:-1],
            "content": {"rendered": v},
            "link": one_line(v),
            "author_avatar_urls": {"96": one_line(v)},
        }
        for i, v in enumerate(vs)
    ]
    return wordpress.parse_comments(answer, "old.example.org")[0]


def wxr_items(vs: list[str]) -> list[Item]:
    comments = "".join(
        f"<wp:comment><wp:comment_id>{i + 1}</wp:comment_id>"
        f"<wp:comment_author>{cdata(v)}</wp:comment_author>"
        f"<wp:comment_author_email></wp:comment_author_email>"
        f"<wp:comment_author_url>{xml_text(one_line(v))}</wp:comment_author_url>"
        f"<wp:comment_date>2026-01-03 10:00:00</wp:comment_date>"
        f"<wp:comment_date_gmt>2026-01-03 10:00:00</wp:comment_date_gmt>"
        f"<wp:comment_content>{cdata(v)}</wp:comment_content>"
        f"<wp:comment_approved>1</wp:comment_approved><wp:comment_type></wp:comment_type>"
        f"<wp:comment_parent>0</wp:comment_parent></wp:comment>"
        for i, v in enumerate(vs)
    )
    export = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>Old</title>'
        "<link>https://old.example.org</link><wp:wxr_version>1.2</wp:wxr_version>"
        "<item><title>Post</title><link>https://old.example.org/post/</link>"
        "<wp:post_id>42</wp:post_id><wp:post_name>post</wp:post_name>"
        "<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>"
        f"{comments}</item></channel></rss>"
    )
    (post,) = parse_wxr(export.encode("utf-8"), AUTHOR, "export.xml").posts
    return list(post.items)


def disqus_items(vs: list[str]) -> list[Item]:
    posts = "".join(
        f'<post dsq:id="{5000 + i}"><id/><message>{cdata(v)}</message>'
        f"<createdAt>{when(i)}</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>"
        f"<author><name>{xml_text(v)}</name><isAnonymous>true</isAnonymous></author>"
        f'<thread dsq:id="2001"/></post>'
        for i, v in enumerate(vs)
    )
    export = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">'
        '<thread dsq:id="2001"><id/><forum>f</forum><link>https://old.example.org/post/</link>'
        "<title>Post</title><createdAt>2026-01-02T10:00:00Z</createdAt>"
        "<isClosed>false</isClosed><isDeleted>false</isDeleted></thread>"
        f"{posts}</disqus>"
    )
    (post,) = parse_disqus(export.encode("utf-8"), AUTHOR, "export.xml").posts
    return list(post.items)


def wordpress_page_items(vs: list[str]) -> list[Item]:
    """Saved WordPress pages hold the vectors as the page's HTML had them.

    One page per vector: a raw vector can break the page's own markup, and
    a page html.parser gives up on is refused (issue 11, point 10).
    """
    items: list[Item] = []
    for i, v in enumerate(vs):
        page = (
            '<!DOCTYPE html><html><head><link rel="canonical" '
            'href="https://old.example.org/post/"></head><body><ol class="comment-list">'
            f'<li id="comment-{i + 1}" class="comment depth-1"><article class="comment-body">'
            '<footer class="comment-meta"><div class="comment-author vcard">'
            f'<b class="fn"><a href="{html.escape(one_line(v))}" class="url">'
            f'{html.escape(v)}</a></b></div><div class="comment-metadata">'
            f'<a href="https://old.example.org/post/#comment-{i + 1}">'
            '<time datetime="2026-01-03T10:00:00+00:00">January 3, 2026</time></a></div>'
            f'</footer><div class="comment-content">{v}</div></article></li></ol></body></html>'
        )
        try:
            export = parse_page(page, name=f"page-{i}.html")
        except Exception:  # refused: the page's comments are not counted
            continue
        items += [item for post in export.posts for item in post.items]
    return items


REMOTE: dict[str, Callable[[list[str]], list[Item]]] = {
    "mastodon": mastodon_items,
    "bluesky": bluesky_items,
    "webmention": webmention_items,
    "x": x_items,
    "feed": feed_items,
    "wordpress-rest": wordpress_rest_items,
    "wxr": wxr_items,
    "disqus": disqus_items,
    "wordpress-page": wordpress_page_items,
}
LOCAL = ("local-md", "local-html", "local-rst")
CHANNELS = (*LOCAL, *REMOTE)


def write_local(site: Site, slug: str, vs: list[str]) -> None:
    folder = site.content / "comments" / slug
    folder.mkdir(parents=True, exist_ok=True)
    ext = slug.rsplit("-", 1)[1]
    if ext == "rst":
        # docutils is slow; twenty vectors per file, as paragraphs.
        for start in range(0, len(vs), 20):
            body = "\n\n".join(one_line(v) for v in vs[start : start + 20])
            head = f":author: {one_line(vs[start])}\n:website: {one_line(vs[start])}\n"
            (folder / f"c{start:04d}.rst").write_text(
                f"{head}:date: 2026-01-03 10:00\n\n{body}\n", encoding="utf-8"
            )
        return
    for i, v in enumerate(vs):
        meta = {"author": one_line(v), "website": one_line(v), "date": "2026-01-03 10:00"}
        if ext == "md":
            header = "".join(f"{k}: {value}\n" for k, value in meta.items())
            text = f"{header}\n{v}\n"
        else:
            tags = "".join(
                f'<meta name="{k}" content="{html.escape(value)}">' for k, value in meta.items()
            )
            text = f"<html><head>{tags}</head><body>{v}</body></html>"
        (folder / f"c{i:04d}.{ext}").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, dict[str, int]]:
    """The site with one post per channel; and how many items each channel gave."""
    site = Site(tmp_path_factory.mktemp("xss") / "site")
    archive = Archive(site.root / "archive")
    counts = {}
    for slug in CHANNELS:
        site.article(slug, body=f"Channel {slug}.")
        if slug in LOCAL:
            write_local(site, slug, VECTORS)
            counts[slug] = len(VECTORS)
        else:
            items = REMOTE[slug](VECTORS)
            archive.merge(slug, items)
            counts[slug] = len(items)
    site.build(SITEURL="", RELATIVE_URLS=True, ENGAGE_OFFLINE=True)
    return site, counts


def raw_pages(folder: Path, size: int = 160) -> list[Path]:
    """The vectors unsanitised, each in a frame of its own (the positive control)."""
    pages = []
    for start in range(0, len(VECTORS), size):
        frames = "".join(
            f'<div data-vector="{start + i}"><iframe width="300" height="60" '
            f'srcdoc="{html.escape(v)}"></iframe></div>'
            for i, v in enumerate(VECTORS[start : start + size])
        )
        page = folder / f"raw-{start:04d}.html"
        page.write_text(
            '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
            + frames
            + "</body></html>",
            encoding="utf-8",
        )
        pages.append(page)
    return pages


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_corpora_are_there() -> None:
    assert len(CORPORA["H5SC"]) >= 130
    assert len(CORPORA["BLNS"]) >= 450


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_carries_the_vectors(
    built: tuple[Site, dict[str, int]], channel: str
) -> None:
    """The vectors really reach the pages: an empty page would prove nothing."""
    site, counts = built
    shown = len(site.html(f"{channel}.html").select("li.engage-item"))
    if channel == "local-rst":
        assert shown == -(-len(VECTORS) // 20)
    else:
        # Left out, each with a line saying so: a blank string is no comment,
        # and html.parser gives up on a vector or two (issue 11, point 10).
        # Importers also leave out, and count, comments that sanitise to
        # nothing (issue 14: an emptied comment is no comment), and many
        # vectors are nothing but markup.
        importer = channel in ("wxr", "disqus", "wordpress-page")
        assert shown >= (0.6 if importer else 0.9) * len(VECTORS)
        if channel not in LOCAL:
            assert shown == counts[channel]


@pytest.mark.parametrize("channel", CHANNELS)
def test_no_vector_runs_in_any_channel(
    browser: Pipe, built: tuple[Site, dict[str, int]], channel: str
) -> None:
    site, _counts = built
    executions, ran, elements = run(browser, site.output / f"{channel}.html")
    assert elements > len(VECTORS)  # the page was exercised
    assert executions == 0, f"{executions} executions in {channel} (vectors {sorted(ran)})"


def raw_inline_page(folder: Path) -> Path:
    """The HTML vectors written straight into one page, as a broken sanitiser would."""
    blocks = "".join(
        f'<div data-vector="{i}">{v}</div>'
        for i, v in enumerate(VECTORS)
        if v in CORPORA["H5SC"] or v in CORPORA["DOMPurify"]
    )
    page = folder / "raw-inline.html"
    page.write_text(f'<!DOCTYPE html><meta charset="utf-8"><body>{blocks}', encoding="utf-8")
    return page


def test_positive_control_raw_vectors_run(browser: Pipe, tmp_path: Path) -> None:
    """The same harness, on the raw vectors, sees many run: in frames of their
    own, and written straight into one page (as the channel pages are)."""
    total, vectors_ran = 0, set()
    for page in raw_pages(tmp_path):
        executions, ran, _elements = run(browser, page)
        total += executions
        vectors_ran |= ran
    inline, _ran, _elements = run(browser, raw_inline_page(tmp_path))
    assert inline >= 5
    assert total >= POSITIVE_CONTROL_MIN, (total, sorted(vectors_ran))
