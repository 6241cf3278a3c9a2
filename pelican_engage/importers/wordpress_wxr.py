"""WordPress's export file (WXR, Tools -> Export): every approved comment.

Only approved comments are imported: pending, spam and trash are counted and
left out.  Pingbacks and trackbacks become mentions, ``comment_parent``
threads, and GMT dates are used.  Commenter e-mails only serve to recognise
the author (with ENGAGE_AUTHOR's e-mails, or the post author's user id); the
item keeps a mark, never the address.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from urllib.parse import urlsplit

from ..model import AuthorIdentity, Item, Person
from ..sanitize import clean_html, clean_text, safe_url
from ..sources.wordpress import SOURCE, item_id, parse_gmt
from . import Export, ExportedPost, ImportFormatError, orphan_replies

_EXPORT_NS = re.compile(r"^http://wordpress\.org/export/1\.\d+/?$")
_BLOCK = re.compile(r"<(p|div|ul|ol|blockquote|pre|h\d|table)\b", re.IGNORECASE)
_ZERO_DATE = "0000-00-00 00:00:00"
DC = "http://purl.org/dc/elements/1.1/"


def autop(raw: str) -> str:
    """WordPress stores comments without paragraphs (its wpautop adds them
    when showing): blank lines part paragraphs, line breaks become <br>."""
    text = raw.replace("\r\n", "\n").strip()
    if _BLOCK.search(text):
        return text
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>" + p.replace("\n", "<br>\n") + "</p>" for p in paragraphs)


def _wp_namespace(root: ET.Element) -> str:
    for element in root.iter():
        if element.tag.startswith("{"):
            uri = element.tag[1:].split("}", 1)[0]
            if _EXPORT_NS.match(uri):
                return uri
    raise ImportFormatError("no WordPress export namespace (http://wordpress.org/export/1.x/)")


def parse_wxr(data: bytes, author: AuthorIdentity, name: str = "export") -> Export:
    """Every post of a WXR file with its approved comments (pure)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ImportFormatError(f"{name}: malformed XML ({exc})") from None
    try:
        wp = _wp_namespace(root)
    except ImportFormatError as exc:
        raise ImportFormatError(f"{name}: {exc}") from None

    def text(element: ET.Element, tag: str) -> str:
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
    emails = author.emails
    skipped: Counter[str] = Counter()
    problems: list[str] = []
    posts = []
    for entry in channel.findall("item"):
        post_author = logins.get((entry.findtext(f"{{{DC}}}creator") or "").strip(), "")
        items = []
        for comment in entry.findall(f"{{{wp}}}comment"):
            status = text(comment, "comment_approved")
            if status != "1":
                skipped[{"0": "pending", "spam": "spam", "trash": "trash"}.get(status, status)] += 1
                continue
            cid = text(comment, "comment_id")
            try:
                link = (entry.findtext("link") or "").strip()
                items.append(_comment(comment, wp, host, link, post_author, emails))
            except (ValueError, KeyError) as exc:
                problems.append(f"comment {cid or '?'} of {entry.findtext('title')!r}: {exc}")
        if items:
            where = (entry.findtext("link") or "").strip() or text(entry, "post_name")
            problems.extend(orphan_replies(items, where))
            posts.append(
                ExportedPost(
                    slug=text(entry, "post_name"),
                    url=(entry.findtext("link") or "").strip(),
                    title=(entry.findtext("title") or "").strip(),
                    items=tuple(items),
                )
            )
    return Export(tuple(posts), dict(skipped), tuple(problems))


def _text(element: ET.Element, ns: str, tag: str) -> str:
    found = element.find(f"{{{ns}}}{tag}")
    return (found.text or "").strip() if found is not None else ""


def _comment(
    comment: ET.Element, wp: str, host: str, link: str, post_author: str, emails: frozenset[str]
) -> Item:
    def text(tag: str) -> str:
        return _text(comment, wp, tag)

    cid = text("comment_id")
    if not cid.isdigit():
        raise ValueError(f"comment id {cid!r} is not a number")
    gmt = text("comment_date_gmt")
    when = parse_gmt(gmt if gmt and gmt != _ZERO_DATE else text("comment_date"))
    parent = text("comment_parent")
    kind = "mention" if text("comment_type") in {"pingback", "trackback"} else "comment"
    email = text("comment_author_email").casefold()
    user = text("comment_user_id")
    by_author = bool(email and email in emails) or bool(
        post_author and user and user != "0" and user == post_author
    )
    return Item(
        id=item_id(host, int(cid)),
        source=SOURCE,
        kind=kind,
        author=Person(
            name=clean_text(text("comment_author")) or "Anonymous",
            url=safe_url(text("comment_author_url")),
        ),
        published=when,
        content_html=clean_html(autop(text("comment_content"))),
        url=f"{link}#comment-{cid}" if safe_url(link) else "",
        in_reply_to=item_id(host, int(parent)) if parent.isdigit() and parent != "0" else None,
        by_author=by_author,
    )
