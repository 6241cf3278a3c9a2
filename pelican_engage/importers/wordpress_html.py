"""An old WordPress post page, scraped: for blogs whose database is gone.

WordPress themes have printed comments in several ways over the years; this
reads all the common ones: ``ol.commentlist`` or ``ol.comment-list``;
``li#comment-N``, or ``li#li-comment-N`` with the id on an inner element;
replies in ``ul.children`` or ``ol.children``; the name in ``.fn`` (a
``cite`` or a ``b``); ``time[datetime]`` or a date written out in words; the
``bypostauthor`` class for the post's author.  Pingbacks become mentions.
"""

from __future__ import annotations

import hashlib
import html
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
#: "3:02 pm", "15:02", "15h02", "15 h 02" (French), never digits of a year.
_TIME = re.compile(r"(?<![\d.])(\d{1,2})\s*[:h]\s*(\d{2})(?!\d)\s*(am|pm|a\.m\.|p\.m\.)?", re.I)
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|er|e|º|ª)\b", re.IGNORECASE)


def parse_date_text(text: str, tz: timezone | ZoneInfo) -> datetime:
    """A date written out by a theme: "January 2, 2021 at 3:02 am",
    "2 janvier 2021 à 15 h 02", "2. Januar 2021 um 15:02"."""
    text = _ORDINAL.sub(r"\1", text)
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


def _own(scope: Tag, selector: str) -> Tag | None:
    """The first match of ``selector`` in this comment, not in its replies."""
    own = scope if scope.name == "li" else scope.find_parent("li")
    for found in scope.select(selector):
        if found.find_parent("li") is own:
            return found
    return None


def _content(scope: Tag) -> str:
    content = _own(scope, ".comment-content, .comment-text, .comment-entry")
    if content is None:
        # Old markup: the paragraphs sit in the body next to author and date
        # (core before HTML5), or alone in it (Twenty Ten).
        body = _own(scope, ".comment-body") or scope
        parts = [str(child) for child in body.find_all(["p", "blockquote", "pre"], recursive=False)]
        return clean_html("\n".join(parts))
    content = BeautifulSoup(str(content), "html.parser")
    for extra in content.select(".reply, .comment-reply-link"):
        extra.decompose()
    return clean_html(content.decode_contents())


def _comments(
    tree: Tag, host: str, page: str, tz: timezone | ZoneInfo, fallback: datetime | None
) -> tuple[list[Item], list[str]]:
    items: list[Item] = []
    problems: list[str] = []
    for li in tree.find_all("li"):
        classes = set(li.get("class") or [])
        cid = _comment_id(li)
        pingback = bool(classes & {"pingback", "trackback"})
        if cid is None and not pingback:
            continue
        parent_li = li.find_parent("li")
        parent = _comment_id(parent_li) if parent_li is not None else None
        inner = li.find(id=f"comment-{cid}") if cid and li.get("id") != f"comment-{cid}" else None
        scope = inner if isinstance(inner, Tag) else li
        # A pingback has no date in most themes: it gets the date of the
        # comment before it (or of the post), which keeps the reading order.
        previous = items[-1].published if items else fallback
        try:
            items.append(_item(scope, cid, parent, classes, host, page, tz, previous))
        except ValueError as exc:
            problems.append(f"comment {cid or '(pingback)'}: {exc}")
    return items, problems


def _item(
    scope: Tag,
    cid: str | None,
    parent: str | None,
    classes: set[str],
    host: str,
    page: str,
    tz: timezone | ZoneInfo,
    previous: datetime | None,
) -> Item:
    pingback = bool(classes & {"pingback", "trackback"})
    fn = _own(scope, ".fn") or _own(scope, "cite")
    link = fn.find("a") if fn is not None else None
    if pingback and link is None:
        link = scope.find("a", href=True)
    who = fn if fn is not None else link
    name = clean_text(who.get_text(" ") if who is not None else "")
    when_tag = _own(scope, "time[datetime]")
    meta = _own(scope, ".comment-meta, .commentmetadata, .comment-metadata")
    if when_tag is not None:
        when = parse_timestamp(str(when_tag["datetime"]))
    elif meta is not None:
        when = parse_date_text(meta.get_text(" "), tz)
    elif pingback and previous is not None:
        when = previous
    else:
        raise ValueError("no date (no time[datetime] and no .comment-meta)")
    href = safe_url(str(link.get("href") or "")) if link is not None else ""
    content = "" if pingback else _content(scope)
    if pingback:
        content = clean_html(f'<p><a href="{html.escape(href)}">{html.escape(name)}</a></p>')
    # Twenty Ten prints pingbacks without an id: name them by their link.
    cid_text = cid or "pingback-" + hashlib.sha256(href.encode()).hexdigest()[:12]
    return Item(
        id=item_id(host, cid_text),
        source=SOURCE,
        kind="mention" if pingback else "comment",
        author=Person(name=name or "Anonymous", url=href),
        published=when,
        content_html=content,
        url=f"{page}#comment-{cid}" if cid else href,
        in_reply_to=item_id(host, int(parent)) if parent else None,
        # The theme marks the post author's comments itself.
        by_author="bypostauthor" in classes,
    )


def _post_date(soup: BeautifulSoup) -> datetime | None:
    meta = soup.find("meta", property="article:published_time")
    stamp = meta.get("content") if isinstance(meta, Tag) else None
    if not stamp:
        entry = soup.select_one("time.entry-date[datetime], .entry-meta time[datetime]")
        stamp = entry.get("datetime") if isinstance(entry, Tag) else None
    try:
        return parse_timestamp(str(stamp)) if stamp else None
    except ValueError:
        return None


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
    page = url.split("#", 1)[0]
    items, problems = _comments(tree, host, page, _zone(timezone_name), _post_date(soup))
    title = soup.title.get_text(strip=True) if soup.title else ""
    slug = [p for p in urlsplit(url).path.split("/") if p]
    post = ExportedPost(slug=slug[-1] if slug else "", url=url, title=title, items=tuple(items))
    return Export((post,), {}, tuple(problems))
