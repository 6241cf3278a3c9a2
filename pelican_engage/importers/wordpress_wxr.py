"""WordPress's export file (WXR, Tools -> Export): every approved comment.

Only approved comments are imported: pending, spam and trash are counted and
left out.  ``comment_parent`` threads.  Types: pingbacks and trackbacks are
mentions; the Webmention and Semantic Linkbacks plugins' reactions are
likes, reposts, mentions or replies by their ``comment_type`` or their
``semantic_linkbacks_type`` meta; other types (a shop's order notes...) are
counted and left out.  GMT dates are used; a comment whose GMT date is the
``0000-00-00`` placeholder is read in the site's TIMEZONE.  Commenter e-mails
only serve to recognise the author (with ENGAGE_AUTHOR's e-mails, or the
post author's user id); the item keeps a mark, never the address.

Any WXR version's namespace is read (``http`` or ``https``, 1.0 to 1.2;
WordPress.com writes ``https``), and the repairs of :mod:`.xmlfile` apply.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from datetime import datetime, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from ..identity import AuthorIdentity
from ..model import Item, Person, parse_timestamp
from ..sanitize import clean_html, clean_text, html_to_text, safe_url
from ..sources.wordpress import KINDS, SOURCE, item_id, parse_gmt
from . import Export, ExportedPost, ImportFormatError, orphan_replies
from .xmlfile import read_xml

_EXPORT_NS = re.compile(r"^https?://(?:www\.)?wordpress\.org/export/1\.[0-2]/?$")
_ZERO_DATE = re.compile(r"^0000-00-00")
DC = "http://purl.org/dc/elements/1.1/"

# -- Paragraphs: WordPress's wpautop, run by run --------------------------------

_BLOCKS = (
    "address|article|aside|blockquote|details|div|dl|dd|dt|fieldset|figcaption|figure"
    "|footer|form|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|table|tbody|td|tfoot|th"
    "|thead|tr|ul"
)
_BLOCK_START = re.compile(rf"<(/?)({_BLOCKS})\b", re.IGNORECASE)
#: Inside these the text is the author's layout: never paragraphs or <br>.
_VERBATIM = {"pre"}
#: These hold flowing text that WordPress also breaks into paragraphs.
_FLOW = {"blockquote", "div", "li", "td", "th", "dd", "section", "article", "figure"}
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def _run(text: str) -> str:
    """Blank lines part paragraphs, single line breaks become <br>."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>" + re.sub(r"\s*\n\s*", "<br>", p) + "</p>" for p in paragraphs)


def _block_tags(text: str) -> list[tuple[int, int, bool, str]]:
    """(start, end, is an end tag, name) of each block tag, in one pass.

    A tag that never closes (no ">") ends the list: the rest is text, and
    no later tag could close either.
    """
    tags = []
    position = 0
    while (start := _BLOCK_START.search(text, position)) is not None:
        end = text.find(">", start.end())
        if end < 0:
            break
        tags.append((start.start(), end + 1, bool(start[1]), start[2].casefold()))
        position = end + 1
    return tags


def autop(raw: str) -> str:
    """WordPress stores comments without paragraphs; its wpautop adds them
    when showing, to each run of text between block elements: a comment
    with a ``<blockquote>`` keeps the paragraphs around it.  Text inside a
    block is left as written unless the block holds a blank line (then it
    gets paragraphs too); ``<pre>`` is never touched.  One pass, no
    recursion: hostile nesting costs linear time.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    tags = _block_tags(text)
    # Each start tag's end tag (same name, nesting counted), or None.
    closes: dict[int, int | None] = {}
    open_by_name: dict[str, list[int]] = {}
    for index, (_start, _end, closing, name) in enumerate(tags):
        if name == "hr":
            continue
        if not closing:
            open_by_name.setdefault(name, []).append(index)
            closes[index] = None
        elif open_by_name.get(name):
            closes[open_by_name[name].pop()] = index
    blanks = [m.start() for m in _BLANK_LINE.finditer(text)]

    def has_blank_line(index: int) -> bool:
        close = closes[index]
        inner_end = tags[close][0] if close is not None else len(text)
        first = bisect.bisect_left(blanks, tags[index][1])
        return first < len(blanks) and blanks[first] < inner_end

    out: list[str] = []
    stack: list[int] = []  # open blocks, innermost last
    closed: set[int] = set()
    verbatim = 0
    position = 0

    def text_run(run: str) -> str:
        if verbatim:
            return run
        if not stack:
            return _run(run)
        inner = stack[-1]
        if tags[inner][3] in _FLOW and has_blank_line(inner):
            return _run(run)
        return run.strip()

    ends = {close: start for start, close in closes.items() if close is not None}
    for index, (start, end, _closing, name) in enumerate(tags):
        out.append(text_run(text[position:start]))
        out.append(text[start:end])
        position = end
        if index in closes:
            stack.append(index)
            verbatim += name in _VERBATIM
        elif index in ends:
            # Misnested blocks close below the top: they leave the stack
            # when they come up, so the innermost open block is on top.
            closed.add(ends[index])
            while stack and stack[-1] in closed:
                stack.pop()
            verbatim -= name in _VERBATIM
    out.append(text_run(text[position:]))
    return "".join(out)


# -- Reading ------------------------------------------------------------------


def _wp_namespace(root: etree._Element) -> str:
    for element in root.iter(tag=etree.Element):
        uri = etree.QName(element).namespace
        if uri and _EXPORT_NS.match(uri):
            return uri
    raise ImportFormatError("no WordPress export namespace (http(s)://wordpress.org/export/1.x/)")


def _zone(name: str) -> timezone | ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def parse_wxr(
    data: bytes, author: AuthorIdentity, name: str = "export", timezone_name: str = "UTC"
) -> Export:
    """Every post of a WXR file with its approved comments (pure).

    ``timezone_name`` is the site's TIMEZONE, for dates WordPress gives in
    local time only.  Raises ImportFormatError naming ``name``.
    """
    root, notes = read_xml(data, name)
    try:
        wp = _wp_namespace(root)
    except ImportFormatError as exc:
        raise ImportFormatError(f"{name}: {exc}") from None

    def text(element: etree._Element, tag: str) -> str:
        return _text(element, wp, tag)

    channel = root.find("channel")
    if channel is None:
        raise ImportFormatError(f"{name}: no <channel> element")
    site = text(channel, "base_blog_url") or (channel.findtext("link") or "").strip()
    host = urlsplit(site).netloc
    if not host:
        raise ImportFormatError(f"{name}: no site URL (<link> or wp:base_blog_url)")
    logins = {
        text(a, "author_login"): text(a, "author_id") for a in channel.findall(f"{{{wp}}}author")
    }
    zone = _zone(timezone_name)
    skipped: Counter[str] = Counter()
    problems: list[str] = []
    posts = []
    for entry in channel.findall("item"):
        post_author = logins.get((entry.findtext(f"{{{DC}}}creator") or "").strip(), "")
        link = (entry.findtext("link") or "").strip()
        items = []
        for comment in entry.iterchildren(f"{{{wp}}}comment"):
            fields = _fields(comment, wp)
            status = fields.get("comment_approved", "")
            if status != "1":
                skipped[{"0": "pending", "spam": "spam", "trash": "trash"}.get(status, status)] += 1
                continue
            cid = fields.get("comment_id", "")
            kind = KINDS.get(_type(fields))
            if kind is None:
                skipped[f"of type {_type(fields)!r} (not a comment or a linkback)"] += 1
                continue
            try:
                item = _comment(fields, host, link, post_author, author.emails, kind, zone)
            except (ValueError, KeyError) as exc:
                problems.append(f"comment {cid or '?'} of {entry.findtext('title')!r}: {exc}")
                continue
            if item.kind in {"comment", "mention"} and not html_to_text(item.content_html):
                skipped["empty after sanitising"] += 1
                continue
            items.append(item)
        if items:
            problems.extend(orphan_replies(items, link or text(entry, "post_name")))
            posts.append(
                ExportedPost(
                    slug=text(entry, "post_name"),
                    url=link,
                    title=(entry.findtext("title") or "").strip(),
                    items=tuple(items),
                    aliases=_aliases(entry, wp, site),
                    kind="page" if text(entry, "post_type") == "page" else "post",
                )
            )
    return Export(tuple(posts), dict(skipped), tuple(problems), notes)


def _aliases(entry: etree._Element, wp: str, site: str) -> tuple[str, ...]:
    """The guid and ``/?p=ID`` (``?page_id=ID`` for a page): the addresses a
    blog without pretty permalinks gave, which old_urls may list."""
    found = []
    guid = (entry.findtext("guid") or "").strip()
    if guid.startswith(("http://", "https://")):
        found.append(guid)
    post_id = _text(entry, wp, "post_id")
    if post_id.isdigit() and site:
        query = "page_id" if _text(entry, wp, "post_type") == "page" else "p"
        found.append(f"{site.rstrip('/')}/?{query}={post_id}")
    return tuple(found)


def _text(element: etree._Element, ns: str, tag: str) -> str:
    found = element.find(f"{{{ns}}}{tag}")
    return (found.text or "").strip() if found is not None else ""


def _fields(comment: etree._Element, wp: str) -> dict[str, str]:
    """A comment's fields by local name, read in one pass (lxml's find()
    per field cost most of the time on a 40,000-comment export); its
    ``commentmeta`` as ``meta:<key>``."""
    prefix = f"{{{wp}}}"
    fields: dict[str, str] = {}
    for child in comment:
        tag = child.tag
        if not isinstance(tag, str) or not tag.startswith(prefix):
            continue
        name = tag[len(prefix) :]
        if name == "commentmeta":
            key = _text(child, wp, "meta_key")
            fields.setdefault(f"meta:{key}", _text(child, wp, "meta_value"))
        else:
            fields.setdefault(name, (child.text or "").strip())
    return fields


def _type(fields: dict[str, str]) -> str:
    """The comment's type; a webmention's own (reply, like...) when the
    Semantic Linkbacks plugin recorded it."""
    declared = fields.get("comment_type", "").casefold()
    semantic = fields.get("meta:semantic_linkbacks_type", "").casefold()
    return semantic if semantic and declared in {"", "comment", "webmention"} else declared


def _local(value: str, zone: timezone | ZoneInfo) -> datetime:
    return parse_timestamp(value, naive=zone).astimezone(timezone.utc)


def _comment(
    fields: dict[str, str],
    host: str,
    link: str,
    post_author: str,
    emails: frozenset[str],
    kind: str,
    zone: timezone | ZoneInfo,
) -> Item:
    def text(tag: str) -> str:
        return fields.get(tag, "")

    cid = text("comment_id")
    if not cid.isdigit():
        raise ValueError(f"comment id {cid!r} is not a number")
    gmt = text("comment_date_gmt")
    if gmt and not _ZERO_DATE.match(gmt):
        when = parse_gmt(gmt)
    else:  # WordPress's placeholder: only the blog's local time is known
        when = _local(text("comment_date"), zone)
    parent = text("comment_parent")
    email = text("comment_author_email").casefold()
    user = text("comment_user_id")
    by_author = bool(email and email in emails) or bool(
        post_author and user and user != "0" and user == post_author
    )
    # A like's or repost's text is a sentence the plugin wrote, not theirs.
    content = "" if kind in {"like", "repost"} else clean_html(autop(text("comment_content")))
    return Item(
        id=item_id(host, int(cid)),
        source=SOURCE,
        kind=kind,
        author=Person(
            name=clean_text(text("comment_author")) or "Anonymous",
            url=safe_url(text("comment_author_url")),
        ),
        published=when,
        content_html=content,
        url=f"{link}#comment-{cid}" if safe_url(link) else "",
        in_reply_to=item_id(host, int(parent)) if parent.isdigit() and parent != "0" else None,
        # WordPress's own anchor, so old links (#comment-7) find it on the new page.
        extras={"old_anchor": f"comment-{cid}"},
        by_author=by_author,
    )
