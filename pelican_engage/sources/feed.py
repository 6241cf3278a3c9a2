"""RSS and Atom comment feeds (metadata ``comments_feed:``), via feedparser.

The feed is fetched by our own client (feedparser's has no timeout) with
ETag and Last-Modified, then parsed from bytes.  Atom threading (RFC 4685
``thr:in-reply-to``) sets parents; feedparser keys those elements by
whatever prefix the document declares, so the prefix is looked up.  RSS
without threading (WordPress's ``/feed/``) stays flat.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..fetch import Job, Result, Source, url_job
from ..model import Item, Person, parse_timestamp
from ..parsed import Skipped
from ..sanitize import clean_html, clean_text, safe_url
from .network import FetchSetup, Network

if TYPE_CHECKING:
    from ..http import Client

SOURCE = "feed"
THREADING = "http://purl.org/syndication/thread/1.0"


def _threading_key(parsed: Any) -> str | None:
    """feedparser's key for thr:in-reply-to under this document's prefix."""
    for prefix, uri in (getattr(parsed, "namespaces", None) or {}).items():
        if uri.rstrip("/") == THREADING:
            return f"{prefix}_in-reply-to" if prefix else "in-reply-to"
    return None


def _published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime(*value[:6]).replace(tzinfo=timezone.utc)
    for key in ("published", "updated"):
        if entry.get(key):
            try:
                return parse_timestamp(str(entry[key]))
            except ValueError:
                continue
    return None


def _content(entry: Any) -> str:
    for content in entry.get("content") or ():
        if content.get("value"):
            return clean_html(str(content["value"]))
    return clean_html(str(entry.get("summary") or ""))


def parse_feed(
    body: bytes, headers: Mapping[str, str] | None = None
) -> tuple[list[Item], tuple[Skipped, ...]]:
    """Items of a comment feed, and the entries left out (no id or no
    date), with why.  ValueError when the document is no feed at all."""
    import feedparser  # only builds with a comment feed pay for the import

    parsed = feedparser.parse(io.BytesIO(body), response_headers=dict(headers or {}))
    if parsed.get("bozo") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise ValueError(f"not a readable RSS or Atom feed ({problem})")
    threading = _threading_key(parsed)
    raw: list[tuple[str, Any]] = []
    skipped: list[Skipped] = []
    for number, entry in enumerate(parsed.entries):
        entry_id = str(entry.get("id") or entry.get("link") or "").strip()
        if not entry_id or _published(entry) is None:
            why = "no id or link" if not entry_id else "no readable date"
            skipped.append(Skipped(entry_id or f"entry {number}", why, "comment"))
            continue
        raw.append((entry_id, entry))
    ids = {entry_id for entry_id, _entry in raw}
    items = []
    for entry_id, entry in raw:
        parent = None
        if threading and isinstance(entry.get(threading), Mapping):
            ref = str(entry[threading].get("ref") or "")
            # A reference to a comment stays even when that comment has left
            # the feed (WordPress shows the latest 10): the archive has it.
            # A reference to the post itself makes a top-level comment.
            if ref != entry_id and (ref in ids or "comment" in ref.casefold()):
                parent = f"feed:{ref}"
        detail = entry.get("author_detail") or {}
        # Only the name: feedparser's "author" is "Name (e-mail)" when the
        # feed gives an address, and RSS <author> is an address.
        name = clean_text(str(detail.get("name") or ""))
        if not name:
            name = clean_text(str(entry.get("author") or ""))
            name = "" if "@" in name else name
        name = name or "Anonymous"
        items.append(
            Item(
                id=f"feed:{entry_id}",
                source=SOURCE,
                kind="comment",
                author=Person(name=name, url=safe_url(str(detail.get("href") or ""))),
                published=_published(entry),  # type: ignore[arg-type]
                content_html=_content(entry),
                url=safe_url(str(entry.get("link") or "")),
                in_reply_to=parent,
            )
        )
    return items, tuple(skipped)


def job_for(post_key: str, url: str, published: datetime) -> Job:
    return url_job(post_key, SOURCE, url, published, "a feed")


class FeedSource:
    """Fetches comment feeds with conditional requests."""

    name = SOURCE

    def __init__(self, client: Client) -> None:
        self.client = client

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        answer = self.client.get(
            job.target,
            headers={"Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9"},
            etag=str(cursor.get("etag") or ""),
            last_modified=str(cursor.get("modified") or ""),
        )
        out = {k: v for k, v in cursor.items() if k in {"etag", "modified"}}
        if answer.not_modified:
            # "No change", never "no comments": the archive stays as it is.
            return Result((), out)
        items, skipped = parse_feed(answer.body, answer.headers)
        headers = {k.lower(): v for k, v in answer.headers.items()}
        if headers.get("etag"):
            out["etag"] = headers["etag"]
        if headers.get("last-modified"):
            out["modified"] = headers["last-modified"]
        if skipped:
            out["skipped_entries"] = len(skipped)
        return Result(tuple(items), out, skipped=skipped)


# -- The network's declaration (see sources/registry.py) ------------------------------


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    return {SOURCE: FeedSource(setup.client)}


NETWORK = Network(
    name=SOURCE,
    display="Comment feed",
    # Its mark, 16x16 in currentColor: the RSS quarter rings.
    icon=(
        "M2.5 11.5a2 2 0 1 1 0 4 2 2 0 0 1 0-4zM1 6.5a8.5 8.5 0 0 1 8.5 8.5H7.3A6.3 6.3 0 0 0"
        " 1 8.7zM1 1.5A13.5 13.5 0 0 1 14.5 15h-2.2A11.3 11.3 0 0 0 1 3.7z"
    ),
    metadata=("comments_feed",),
    job=lambda key, value, published, _settings: job_for(key, value, published),
    # Comment forms: anybody may type any name, so a name alone can be the author's.
    accounts=False,
    fetchers=_fetchers,
)
