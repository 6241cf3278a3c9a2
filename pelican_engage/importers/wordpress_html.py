"""An old WordPress post page, scraped: for blogs whose database is gone.

WordPress themes have printed comments in many ways since 2005; this reads
them by what all of them share, the comment's id: ``comment-N`` (on the
``li``, or on an inner ``div``/``article`` with ``li-comment-N`` outside).
That covers ``ol.commentlist`` (classic themes), the Comments block of block
themes (``ol.wp-block-comment-template``), Twenty Twenty's ``div`` comments,
Genesis's schema.org markup and lists without an ``ol``.  A reply is a
comment inside another one.  Per comment:

- the name: ``.fn``, ``[itemprop=name]``, ``.wp-block-comment-author-name``,
  ``.comment-author-name``, ``cite``, or the author link ("says:" and
  screen-reader text left out);
- the date: ``time[datetime]``, else the text of the comment's own
  permalink (``#comment-N``), else its meta line without the name; dates in
  words are the blog's local time (TIMEZONE);
- the text: ``.comment-content`` (and its equivalents), or the paragraphs
  of an old ``.comment-body``;
- ``bypostauthor`` marks the post's author; pingbacks become mentions.

The page is read with libxml2's HTML parser (lxml, through BeautifulSoup),
which closes omitted ``</li>`` and unclosed tags as browsers do, in linear
time whatever the nesting.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bs4 import BeautifulSoup, NavigableString, Tag

from ..model import Item, Person, parse_timestamp
from ..sanitize import clean_html, clean_text, html_to_text, safe_url
from ..sources.wordpress import SOURCE, item_id
from . import Export, ExportedPost, ImportFormatError

_COMMENT_ID = re.compile(r"^(?:li-|div-)?comment-(\d+)$")
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
#: Chinese, Japanese and Korean dates: 2020年5月2日, 2020년 5월 2일.
_CJK_DATE = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]?")
#: Morning and afternoon written before the time: 上午/下午, 午前/午後, 오전/오후.
_CJK_AM, _CJK_PM = ("上午", "午前", "오전"), ("下午", "午後", "오후")


def parse_date_text(text: str, tz: timezone | ZoneInfo) -> datetime:
    """A date written out by a theme: "January 2, 2021 at 3:02 am",
    "2 janvier 2021 à 15 h 02", "2. Januar 2021 um 15:02",
    "2021年1月2日 下午3:02".  ValueError when it holds no date."""
    cjk = _CJK_DATE.search(text)
    if cjk:
        year, month, day = int(cjk[1]), int(cjk[2]), int(cjk[3])
        rest = text[: cjk.start()] + " " + text[cjk.end() :]
    else:
        year, month, day = _western_date(text)
        rest = text
    hour = minute = 0
    clock = _TIME.search(rest)
    if clock:
        hour, minute = int(clock[1]), int(clock[2])
        half = (clock[3] or "").replace(".", "").casefold()
        if not half and any(mark in rest for mark in _CJK_PM):
            half = "pm"
        elif not half and any(mark in rest for mark in _CJK_AM):
            half = "am"
        if half == "pm" and hour < 12:
            hour += 12
        elif half == "am" and hour == 12:
            hour = 0
    local = datetime(year, month, day, hour, minute, tzinfo=tz)
    return local.astimezone(timezone.utc)


def _western_date(text: str) -> tuple[int, int, int]:
    text = _ORDINAL.sub(r"\1", text)
    words = re.sub(r"[,.]", " ", text.casefold()).split()
    month = next((_MONTHS[w] for w in words if w in _MONTHS), None)
    numbers = [int(w) for w in words if w.isdigit()]
    year = next((n for n in numbers if n > 1900), None)
    day = next((n for n in numbers if 1 <= n <= 31), None)
    if month is not None and year is not None and day is not None:
        return year, month, day
    numeric = re.search(r"(\d{4})-(\d{2})-(\d{2})|(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if not numeric:
        raise ValueError(f"no date in {' '.join(text.split())!r}")
    if numeric[1]:
        return int(numeric[1]), int(numeric[2]), int(numeric[3])
    return int(numeric[6]), int(numeric[4]), int(numeric[5])


def _zone(name: str) -> timezone | ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


# -- Finding the comments ------------------------------------------------------

_PINGBACK = {"pingback", "trackback"}
_PINGBACK_PREFIX = re.compile(r"^\s*(?:pingback|trackback)\s*:\s*", re.IGNORECASE)
#: Never part of a name or a text: "says:", reply links, screen-reader text.
_NOISE = ".says, .screen-reader-text, .reply, .comment-reply-link, .by-post-author"


def _scan(soup: BeautifulSoup) -> tuple[list[tuple[Tag, str | None]], dict[str, list[Tag]]]:
    """(outermost element, comment id) of each comment in page order (an
    id-less pingback, as Twenty Ten prints them, has the id None), and the
    elements named after each comment id."""
    found: list[tuple[Tag, str | None]] = []
    named: dict[str, list[Tag]] = {}
    inside: set[int] = set()
    for element in soup.find_all(True):
        match = _COMMENT_ID.match(str(element.get("id") or ""))
        if match:
            if match[1] not in named:
                # Ancestors come first in page order: the first element named
                # after a comment is its outermost one.  An empty anchor
                # (<a id="comment-5"></a>) stands for its parent.
                box = element.parent if element.name in {"a", "span"} else element
                if isinstance(box, Tag):
                    found.append((box, match[1]))
                    inside.add(id(box))
            named.setdefault(match[1], []).append(element)
        elif (
            element.name in {"li", "div", "article"}
            and _PINGBACK & set(element.get("class") or [])
            and not any(id(parent) in inside for parent in element.parents)
        ):
            found.append((element, None))
            inside.add(id(element))
    return found, named


class _Page:
    """The comments of a parsed page, and which comment each element is in.

    Each selector is run once over the page and its matches filed under
    the comment that holds them, so a page of thousands of comments (or a
    thread nested hundreds deep) costs one pass per selector.
    """

    def __init__(self, soup: BeautifulSoup) -> None:
        self.soup = soup
        self.comments, self.named = _scan(soup)
        self.boxes = {id(box): cid for box, cid in self.comments}
        self._matches: dict[str, dict[int, list[Tag]]] = {}

    def owner(self, element: Tag) -> Tag | None:
        """The innermost comment holding ``element`` (itself included)."""
        for candidate in (element, *element.parents):
            if id(candidate) in self.boxes:
                return candidate
        return None

    def own_all(self, box: Tag, selector: str) -> list[Tag]:
        """The matches of ``selector`` in this comment, not in its replies."""
        if selector not in self._matches:
            filed: dict[int, list[Tag]] = {}
            for found in self.soup.select(selector):
                holder = self.owner(found)
                if holder is not None:
                    filed.setdefault(id(holder), []).append(found)
            self._matches[selector] = filed
        return self._matches[selector].get(id(box), [])

    def own(self, box: Tag, selector: str) -> Tag | None:
        """The first match of ``selector`` in this comment, not in its replies."""
        found = self.own_all(box, selector)
        return found[0] if found else None

    def parent_id(self, box: Tag) -> str | None:
        for ancestor in box.parents:
            if self.boxes.get(id(ancestor)):
                return self.boxes[id(ancestor)]
        return None


def _visible_text(tag: Tag, skip: Tag | None = None) -> str:
    """The words of ``tag`` without "says:", screen-reader text and ``skip``."""
    hidden = [*tag.select(_NOISE), *([skip] if skip is not None else [])]
    if any(h is tag for h in hidden):
        return ""
    # A string's ancestors are looked at up to ``tag`` only, and only when
    # something is hidden.
    skipped = {id(h) for h in hidden}
    words = []
    for node in tag.descendants:
        if isinstance(node, Tag):
            continue
        if type(node) is not NavigableString:
            continue  # HTML comments, CDATA
        parent = node.parent
        if skipped and _inside(parent, tag, skipped):
            continue
        words.append(str(node))
    return " ".join(" ".join(words).split())


def _inside(element: Tag | None, stop: Tag, marked: set[int]) -> bool:
    """Whether ``element`` or an ancestor below ``stop`` is marked."""
    while element is not None and element is not stop:
        if id(element) in marked:
            return True
        element = element.parent
    return False


#: Where themes put the name, best first.
_NAMES = (
    ".fn",
    "[itemprop=author] [itemprop=name]",
    "[itemprop=name]",
    ".wp-block-comment-author-name",
    ".comment-author-name",
    "cite",
    ".comment-author",
    # get_comment_author_link() alone, in a theme's own markup.
    "a.url",
    'a[rel~="external"]',
)
_CONTENT = (
    ".comment-content, .comment-text, .comment-entry, .wp-block-comment-content, "
    "[itemprop=text], .commenttext"
)
_META = (
    ".comment-meta, .commentmetadata, .comment-metadata, .wp-block-comment-date, "
    ".comment-date, .comment-time"
)


def _name(page: _Page, box: Tag) -> tuple[str, Tag | None, Tag | None]:
    """(name, the element holding it, the author link)."""
    for selector in _NAMES:
        found = page.own(box, selector)
        if found is None:
            continue
        name = clean_text(_visible_text(found))
        if not name:
            continue
        link = found if found.name == "a" else found.find("a", href=True)
        if link is None:
            enclosing = found.find_parent("a")
            if enclosing is not None and page.owner(enclosing) is box:
                link = enclosing
        return name, found, link if isinstance(link, Tag) and link.get("href") else None
    return "", None, None


def _date(
    page: _Page, box: Tag, cid: str | None, named: Tag | None, tz: timezone | ZoneInfo
) -> datetime | None:
    """From ``time[datetime]``, the permalink's text or the meta line; the
    commenter's name is never read as a date ("April May")."""
    stamp = page.own(box, "time[datetime]")
    if stamp is not None:
        try:
            return parse_timestamp(str(stamp["datetime"]))
        except ValueError:
            pass
    # schema.org microdata without a <time>: <meta itemprop=datePublished content=…>.
    stamp = page.own(box, _MICRODATA_DATE)
    if stamp is not None:
        try:
            return parse_timestamp(str(stamp["content"]))
        except ValueError:
            pass
    texts = []
    if cid:
        permalinks = page.own_all(box, 'a[href*="#comment-"]')
        mine = [a for a in permalinks if str(a.get("href")).endswith(f"#comment-{cid}")]
        if mine:
            texts.append(_visible_text(mine[0]))
    meta = page.own(box, _META)
    if meta is not None:
        texts.append(_visible_text(meta, skip=named))
    for text in texts:
        try:
            return parse_date_text(text, tz)
        except ValueError:
            continue
    return None


def _content(page: _Page, box: Tag, named: Tag | None) -> str:
    content = page.own(box, _CONTENT)
    if content is None:
        # Old or own markup: the text sits in the body next to author and
        # date (core before HTML5, Kubrick), or alone in it (Twenty Ten).
        # What holds the name, the comment's permalink or a reply link is
        # not text; nor are the replies.
        body = page.own(box, ".comment-body") or box
        meta = {id(a) for a in page.own_all(box, 'a[href*="#comment-"]')}
        meta |= {id(t) for t in page.own_all(box, _NOISE)}
        if named is not None:
            meta.add(id(named))

        def is_text(part: Tag) -> bool:
            inside = {id(part)} | {id(t) for t in part.find_all(True)}
            return page.owner(part) is box and not inside & meta and bool(_visible_text(part))

        parts = body.find_all(["p", "blockquote", "pre", "ul", "ol", "div"], recursive=False)
        return clean_html("\n".join(str(part) for part in parts if is_text(part)))
    fragment = BeautifulSoup(str(content), "html.parser")
    for extra in fragment.select(_NOISE):
        extra.decompose()
    return clean_html(fragment.decode_contents())


_NO_DATE = ".comment-meta"
_MICRODATA_DATE = "[itemprop=datePublished][content], [itemprop=dateCreated][content]"


class _Tally:
    """What fell back, for one line per kind on the page."""

    def __init__(self) -> None:
        self.nameless: list[str] = []
        self.dateless: list[str] = []
        self.empty = 0


def _items(
    page: _Page,
    host: str,
    url: str,
    tz: timezone | ZoneInfo,
    fallback: datetime | None,
    tally: _Tally,
) -> Iterator[Item | str]:
    """Each comment as an Item, or a line saying why it is not one."""
    previous = fallback
    linkless: dict[str, int] = {}
    for box, cid in page.comments:
        classes = set(box.get("class") or [])
        for element in page.named.get(cid, []) if cid else []:
            classes |= set(element.get("class") or [])
        pingback = bool(classes & _PINGBACK)
        name, named, link = _name(page, box)
        if pingback and link is None:
            found = page.own(box, "a[href]")
            link = found if isinstance(found, Tag) else None
        href = safe_url(str(link.get("href") or "")) if link is not None else ""
        if pingback and not name:
            # "Pingback: <a>Their title</a>", or the title alone once the
            # linking site is gone.
            words = _visible_text(link) if link is not None else _visible_text(box)
            name = clean_text(_PINGBACK_PREFIX.sub("", words))
        when = _date(page, box, cid, named, tz)
        if when is None:
            # Most themes print no date on a pingback; a comment without one
            # takes the date of the comment before it, which keeps the order.
            if previous is None:
                which = cid or "(pingback)"
                yield f"comment {which}: no date (no time[datetime] and no {_NO_DATE})"
                continue
            if not pingback:
                tally.dateless.append(cid or "(pingback)")
            when = previous
        previous = when
        if pingback:
            title = html.escape(name)
            content = (
                f'<p><a href="{html.escape(href)}">{title}</a></p>' if href else f"<p>{title}</p>"
            )
            content = clean_html(content)
        else:
            content = _content(page, box, named)
            if not html_to_text(content):
                tally.empty += 1
                continue
        if not name:
            tally.nameless.append(cid or "(pingback)")
        parent = page.parent_id(box)
        yield Item(
            id=item_id(host, cid or _pingback_id(href, name, linkless)),
            source=SOURCE,
            kind="mention" if pingback else "comment",
            author=Person(name=name or "Anonymous", url=href),
            published=when,
            content_html=content,
            url=f"{url}#comment-{cid}" if cid else href,
            in_reply_to=item_id(host, int(parent)) if parent else None,
            # The theme marks the post author's comments itself.
            extras={"old_anchor": f"comment-{cid}"} if cid else {},
            by_author="bypostauthor" in classes,
        )


def _pingback_id(href: str, name: str, seen: dict[str, int]) -> str:
    """Twenty Ten prints pingbacks without an id: name them by their link,
    or by their title and place when they have none, never alike."""
    key = href or f"no link: {name}"
    seen[key] = seen.get(key, 0) + 1
    if seen[key] > 1:
        key = f"{key} #{seen[key]}"
    return "pingback-" + hashlib.sha256(key.encode()).hexdigest()[:12]


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


def _soup(markup: str, name: str) -> BeautifulSoup:
    try:
        return BeautifulSoup(markup, "lxml")
    except Exception as exc:
        raise ImportFormatError(
            f"{name}: the HTML parser gave up on this page ({type(exc).__name__}: {exc})"
        ) from None


def parse_page(
    markup: str, page_url: str = "", timezone_name: str = "UTC", name: str = "page"
) -> Export:
    """The comments of one scraped post page (pure).

    ImportFormatError (naming ``name``) when the page's URL is unknown, it
    holds no comments, or the parser gives up.
    """
    soup = _soup(markup, name)
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
    page = _Page(soup)
    if not page.comments:
        raise ImportFormatError(
            f"{name}: no WordPress comment list (no element with an id comment-N, as "
            "ol.commentlist, the Comments block and div comments print)"
        )
    post_url = url.split("#", 1)[0]
    tally = _Tally()
    items: list[Item] = []
    problems: list[str] = []
    for found in _items(page, host, post_url, _zone(timezone_name), _post_date(soup), tally):
        if isinstance(found, Item):
            items.append(found)
        else:
            problems.append(found)
    notes = []
    if tally.nameless:
        notes.append(
            f"{len(tally.nameless)} comment(s) show no name the importer can read: imported as "
            f"'Anonymous' ({', '.join(tally.nameless[:10])})"
        )
    if tally.dateless:
        notes.append(
            f"{len(tally.dateless)} comment(s) show no date the importer can read: they take "
            f"the date of the comment before them ({', '.join(tally.dateless[:10])})"
        )
    title = soup.title.get_text(strip=True) if soup.title else ""
    slug = [p for p in urlsplit(url).path.split("/") if p]
    post = ExportedPost(slug=slug[-1] if slug else "", url=url, title=title, items=tuple(items))
    skipped = {"empty after sanitising": tally.empty} if tally.empty else {}
    return Export((post,), skipped, tuple(problems), tuple(notes))
