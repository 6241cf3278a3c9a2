"""An old WordPress post page, scraped: for blogs whose database is gone.

WordPress themes have printed comments in several ways over the years; this
reads all the common ones: ``ol.commentlist`` or ``ol.comment-list``;
``li#comment-N``, or ``li#li-comment-N`` with the id on an inner element;
replies in ``ul.children`` or ``ol.children``; the name in ``.fn`` (a
``cite`` or a ``b``); ``time[datetime]`` or a date written out in words; the
``bypostauthor`` class for the post's author.  Pingbacks become mentions.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bs4 import BeautifulSoup, Tag

from ..model import Item, Person, parse_timestamp
from ..sanitize import clean_html, clean_text, safe_url
from ..sources.wordpress import SOURCE, item_id
from . import Export, ExportedPost, ImportFormatError

_COMMENT_ID = re.compile(r"^(?:li-)?comment-(\d+)$")
#: Month names of the languages WordPress blogs were most often written in.
_MONTHS = {
    name: number
    for names in (
        "january february march april may june july august september october november december",
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        "januar februar märz april mai juni juli august september oktober november dezember",
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
        "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
        "dicembre",
        "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
        "januari februari maart april mei juni juli augustus september oktober november december",
    )
    for number, name in enumerate(names.split(), start=1)
}
_TIME = re.compile(r"(\d{1,2})[:h.](\d{2})\s*(am|pm|a\.m\.|p\.m\.)?", re.IGNORECASE)


def parse_date_text(text: str, tz: timezone | ZoneInfo) -> datetime:
    """A date written out by a theme: "January 2, 2021 at 3:02 am",
    "2 janvier 2021 à 15 h 02", "2. Januar 2021 um 15:02"."""
    words = re.sub(r"[,.]", " ", text.casefold()).split()
    month = next((_MONTHS[w] for w in words if w in _MONTHS), None)
    numbers = [int(w) for w in words if w.isdigit()]
    year = next((n for n in numbers if n > 1900), None)
    day = next((n for n in numbers if 1 <= n <= 31), None)
    if month is None or year is None or day is None:
        numeric = re.search(r"(\d{4})-(\d{2})-(\d{2})|(\d{1,2})/(\d{1,2})/(\d{4})", text)
        if not numeric:
            raise ValueError(f"no date in {text.strip()!r}")
        if numeric[1]:
            year, month, day = int(numeric[1]), int(numeric[2]), int(numeric[3])
        else:
            month, day, year = int(numeric[4]), int(numeric[5]), int(numeric[6])
    hour = minute = 0
    clock = _TIME.search(text)
    if clock:
        hour, minute = int(clock[1]), int(clock[2])
        half = (clock[3] or "").replace(".", "").casefold()
        if half == "pm" and hour < 12:
            hour += 12
        elif half == "am" and hour == 12:
            hour = 0
    local = datetime(year, month, day, hour, minute, tzinfo=tz)
    return local.astimezone(timezone.utc)


def _zone(name: str) -> timezone | ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _comment_id(li: Tag) -> str | None:
    for element in (li, *li.find_all(id=True, limit=3)):
        match = _COMMENT_ID.match(str(element.get("id") or ""))
        if match:
            return match[1]
    return None


def _content(li: Tag, body: Tag) -> str:
    content = body.select_one(".comment-content, .comment-text, .comment-entry")
    if content is None:
        # Old markup: the paragraphs sit in the body next to author and date.
        parts = [
            str(child)
            for child in body.find_all(["p", "blockquote", "ul", "ol", "pre"], recursive=False)
            if child.name not in {"ul", "ol"} or "children" not in (child.get("class") or [])
        ]
        return clean_html("".join(parts))
    for extra in content.select(".reply, .comment-reply-link"):
        extra.decompose()
    return clean_html(content.decode_contents())


def _comments(
    tree: Tag, host: str, page: str, tz: timezone | ZoneInfo
) -> tuple[list[Item], list[str]]:
    items: list[Item] = []
    problems: list[str] = []
    for li in tree.find_all("li"):
        cid = _comment_id(li)
        if cid is None:
            continue
        classes = set(li.get("class") or [])
        parent_li = li.find_parent("li")
        parent = _comment_id(parent_li) if parent_li is not None else None
        inner = li.find(id=f"comment-{cid}") if li.get("id") != f"comment-{cid}" else None
        body = inner if isinstance(inner, Tag) else li
        body = body.select_one(".comment-body") or body
        try:
            items.append(_item(li, body, cid, parent, classes, host, page, tz))
        except ValueError as exc:
            problems.append(f"comment {cid}: {exc}")
    return items, problems


def _item(
    li: Tag,
    body: Tag,
    cid: str,
    parent: str | None,
    classes: set[str],
    host: str,
    page: str,
    tz: timezone | ZoneInfo,
) -> Item:
    pingback = bool(classes & {"pingback", "trackback"})
    fn = body.select_one(".fn") or body.select_one("cite")
    link = fn.find("a") if fn is not None else None
    if pingback and link is None:
        link = body.find("a", href=True)
    name = clean_text(fn.get_text(" ") if fn is not None else (link.get_text(" ") if link else ""))
    when_tag = body.find("time", attrs={"datetime": True})
    if when_tag is not None:
        when = parse_timestamp(str(when_tag["datetime"]))
    else:
        meta = body.select_one(".comment-meta, .commentmetadata, .comment-metadata")
        if meta is None:
            raise ValueError("no date (no time[datetime] and no .comment-meta)")
        when = parse_date_text(meta.get_text(" "), tz)
    href = safe_url(str(link.get("href") or "")) if link is not None else ""
    content = "" if pingback else _content(li, body)
    if pingback and not content:
        content = clean_html(f'<p><a href="{href}">{name}</a></p>') if href else ""
    return Item(
        id=item_id(host, int(cid)),
        source=SOURCE,
        kind="mention" if pingback else "comment",
        author=Person(name=name or "Anonymous", url=href),
        published=when,
        content_html=content,
        url=f"{page}#comment-{cid}",
        in_reply_to=item_id(host, int(parent)) if parent else None,
        # The theme marks the post author's comments itself.
        extras={"by_author": True} if "bypostauthor" in classes else {},
    )


def parse_page(
    html: str, page_url: str = "", timezone_name: str = "UTC", name: str = "page"
) -> Export:
    """The comments of one scraped post page (pure)."""
    soup = BeautifulSoup(html, "html.parser")
    canonical = soup.find("link", rel="canonical") or soup.find("meta", property="og:url")
    found_url = ""
    if isinstance(canonical, Tag):
        found_url = str(canonical.get("href") or canonical.get("content") or "")
    url = safe_url(page_url) or safe_url(found_url)
    host = urlsplit(url).netloc
    if not host:
        raise ImportFormatError(
            f"{name}: the page's URL is unknown (no <link rel=canonical>); give the URL with --url"
        )
    tree = soup.select_one("ol.commentlist, ol.comment-list, ul.commentlist, ul.comment-list")
    if tree is None:
        raise ImportFormatError(
            f"{name}: no WordPress comment list (ol.commentlist or ol.comment-list)"
        )
    items, problems = _comments(tree, host, url.split("#", 1)[0], _zone(timezone_name))
    title = soup.title.get_text(strip=True) if soup.title else ""
    slug = [p for p in urlsplit(url).path.split("/") if p]
    post = ExportedPost(slug=slug[-1] if slug else "", url=url, title=title, items=tuple(items))
    return Export((post,), {}, tuple(problems))
