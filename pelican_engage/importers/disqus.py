"""Disqus's export (Admin -> Community -> Export), a flat XML file.

Threads and posts are siblings, linked by ``dsq:id`` attributes.  Deleted and
spam posts, and the posts of a deleted thread (Disqus no longer shows them),
are counted and left out; a closed thread's posts stay (Disqus still shows
them).  Posts whose thread is missing are reported as orphans.  E-mails only
recognise the author, and are not kept.
"""

from __future__ import annotations

import gzip
import io
import re
from collections import Counter

from lxml import etree

from ..identity import AuthorIdentity
from ..model import Item, Person, parse_timestamp
from ..sanitize import clean_html, clean_text, html_to_text
from . import Export, ExportedPost, ImportFormatError, orphan_replies
from .xmlfile import read_xml

NS = "{http://disqus.com}"
DSQ = "{http://disqus.com/disqus-internals}id"
SOURCE = "disqus"
#: The most XML a gzipped export may unpack to (a bomb stops here).
MAX_XML_BYTES = 512 * 1024 * 1024


def _text(element: etree._Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def parse_disqus(data: bytes, author: AuthorIdentity, name: str = "export") -> Export:
    """Every thread of a Disqus export with its live posts (pure)."""
    if data[:2] == b"\x1f\x8b":  # Disqus mails the export as .xml.gz
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(MAX_XML_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise ImportFormatError(f"{name}: broken gzip file ({exc})") from None
        if len(data) > MAX_XML_BYTES:
            raise ImportFormatError(
                f"{name}: unpacks to more than {MAX_XML_BYTES // 2**20} MiB; not read"
            )
    root, notes = read_xml(data, name)
    if root.tag != f"{NS}disqus":
        raise ImportFormatError(f"{name}: not a Disqus export (no <disqus> root element)")
    threads = {
        thread.get(DSQ, ""): thread for thread in root.findall(f"{NS}thread") if thread.get(DSQ)
    }
    skipped: Counter[str] = Counter()
    problems: list[str] = []
    by_thread: dict[str, list[Item]] = {}
    for post in root.findall(f"{NS}post"):
        post_id = post.get(DSQ, "")
        if _text(post, f"{NS}isDeleted") == "true":
            skipped["deleted"] += 1
            continue
        if _text(post, f"{NS}isSpam") == "true":
            skipped["spam"] += 1
            continue
        thread_ref = post.find(f"{NS}thread")
        thread_id = thread_ref.get(DSQ, "") if thread_ref is not None else ""
        if thread_id not in threads:
            problems.append(
                f"post {post_id}: orphan (its thread {thread_id or '?'} is not in the file)"
            )
            continue
        if _text(threads[thread_id], f"{NS}isDeleted") == "true":
            skipped["on a deleted thread"] += 1
            continue
        try:
            item = _post(post, post_id, author)
        except ValueError as exc:
            problems.append(f"post {post_id or '?'}: {exc}")
            continue
        if not html_to_text(item.content_html):
            skipped["empty after sanitising"] += 1
            continue
        by_thread.setdefault(thread_id, []).append(item)
    posts = []
    for thread_id, items in by_thread.items():
        thread = threads[thread_id]
        link = _text(thread, f"{NS}link")
        problems.extend(orphan_replies(items, link or thread_id))
        posts.append(
            ExportedPost(
                slug=_text(thread, f"{NS}id"),
                url=link,
                title=_text(thread, f"{NS}title"),
                items=tuple(items),
            )
        )
    return Export(tuple(posts), dict(skipped), tuple(problems), notes)


def _post(post: etree._Element, post_id: str, author: AuthorIdentity) -> Item:
    if not post_id:
        raise ValueError("no dsq:id")
    created = _text(post, f"{NS}createdAt")
    if not created:
        raise ValueError("no createdAt")
    who = post.find(f"{NS}author")
    name = clean_text(_text(who, f"{NS}name")) if who is not None else ""
    username = _text(who, f"{NS}username") if who is not None else ""
    email = _text(who, f"{NS}email").casefold() if who is not None else ""
    parent = post.find(f"{NS}parent")
    parent_id = parent.get(DSQ, "") if parent is not None else ""
    return Item(
        id=f"disqus:{post_id}",
        source=SOURCE,
        kind="comment",
        author=Person(
            name=name or username or "Anonymous",
            handle=username,
            url=f"https://disqus.com/by/{username}/"
            if re.fullmatch(r"[\w-]{1,64}", username)
            else "",
        ),
        published=parse_timestamp(created),
        content_html=clean_html(_text(post, f"{NS}message")),
        in_reply_to=f"disqus:{parent_id}" if parent_id else None,
        by_author=bool(email and email in author.emails),
    )
