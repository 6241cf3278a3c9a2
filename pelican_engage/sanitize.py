"""Untrusted text and HTML in, safe HTML out.

Pelican's Jinja environment does not autoescape, so every string that came
from outside passes through here exactly once, on its way into the model.
The policy is the intersection of what WordPress and Mastodon allow in
comments (docs/sources.md, "Outside HTML: the comment policy").
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import nh3

from .nesting import MAX_DEPTH, limit_nesting

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "cite",
        "code",
        "del",
        "em",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "strong",
        "sub",
        "sup",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"


def _policy(extra_tags: frozenset[str] = frozenset()) -> nh3.Cleaner:
    # No <img>: remote images are tracking pixels that leak readers' addresses.
    # Relative URLs are denied because "//evil.example" would otherwise slip
    # past the scheme policy.
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS) | extra_tags,
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        clean_content_tags={"script", "style", "template", "iframe", "noscript"},
        strip_comments=True,
        attribute_filter=lambda _tag, name, value: _cite_filter(name, value),
    )


#: Blocks the policy drops but for their line (see :func:`_unblock`).
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "caption", "center", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup",
        "hr", "legend", "main", "nav", "section", "summary", "table", "tbody", "td", "tfoot",
        "th", "thead", "tr", "menu", "dir", "search", "listing", "xmp",
    }
)  # fmt: skip
_CLEANER = _policy()
#: The same policy, keeping the blocks (without attributes) for :func:`_unblock`.
_BLOCK_KEEPER = _policy(_BLOCKS)
_TEXT_ONLY = nh3.Cleaner(
    tags=set(), attributes={}, clean_content_tags={"script", "style"}, link_rel=None
)

# C0 controls other than tab, newline and carriage return have no place in
# a comment and confuse some parsers.
# C0 and C1 controls (U+009B is a terminal's CSI): never text in a page.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Bidi overrides, embeddings, isolates and marks: in a one-line field (a
#: name) they only serve to make "Eve\u202egnp.exe" read as "Eveexe.png".
_BIDI = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _cite_filter(name: str, value: str) -> str | None:
    # nh3 applies the scheme policy to href and src only; cite is a URL too.
    if name != "cite":
        return value
    return value if safe_url(html.unescape(value), URL_SCHEMES - {"mailto"}) else None


# Kept as their nearest allowed meaning instead of losing their markup:
# docutils writes inline literals as <tt>, and headings become bold
# paragraphs as Mastodon does.  The cleaner still sees the result.
_RENAMES = (
    (re.compile(r"<(/?)tt\b", re.IGNORECASE), r"<\1code"),
    (re.compile(r"<h[1-6]\b[^>]*>", re.IGNORECASE), "<p><strong>"),
    (re.compile(r"</h[1-6]\s*>", re.IGNORECASE), "</strong></p>"),
)


def _trie(words: Iterable[str]) -> str:
    """A pattern matching exactly ``words``, factored by their first letters:
    a plain alternation of 36 names is tried name by name at each "<" (3.8
    µs a comment, a tenth of its cleaning), this one letter by letter."""
    groups: dict[str, list[str]] = {}
    for word in sorted(set(words)):
        groups.setdefault(word[:1], []).append(word[1:])
    parts = []
    for first, rests in groups.items():
        if rests == [""]:
            parts.append(re.escape(first))
            continue
        tail = _trie(r for r in rests if r)
        parts.append(re.escape(first) + (f"(?:{tail})?" if "" in rests else f"(?:{tail})"))
    return "|".join(parts)


# Block elements the policy drops keep their content but, stripped, would
# glue it to the next ("From: AnnDate: Mon" from Gmail's or Word's line
# <div>s, a GitHub table's cells run together).  A first pass of the cleaner
# keeps them (no attributes), so what follows reads real tags only, in a
# well-formed tree (a table's implied rows and cells written out); each is
# then dropped for a <br> where text goes on in the same line, a cell's for a
# space.  The cleaner proper never sees them: a table's text between cells
# would be moved before it.
_HAS_BLOCK = re.compile(rf"<(?:{_trie(_BLOCKS)})\b", re.IGNORECASE)
#: HTML's blank characters, and a byte-order mark (the cleaner drops a first one).
_BLANK = " \t\n\f\r\ufeff"
#: What the cleaner writes that starts a line by itself.
_LINE_TAGS = frozenset({"p", "ul", "ol", "li", "blockquote", "pre", "br"})
# The cleaner's output: every "<" starts a tag, ">" in an attribute is "&gt;".
_TOKEN = re.compile(r"<(/?)([a-z0-9]+)[^<>]*>|[^<]+")


def _unblock(kept: str) -> str:
    """The blocks of ``kept`` (cleaned HTML with blocks) made line breaks:
    a <br> where a block ends or starts with text on its line on both sides
    (written where the first block was, before any space or inline tag that
    follows it), a space between a row's cells."""
    out: list[str] = []
    pending = 0  # 2: a line break is due before the next text, 1: a space
    at = 0  # where in ``out`` it goes
    line_start, cell_start, pre = True, False, 0
    for token in _TOKEN.finditer(kept):
        closing, name = token.group(1), token.group(2)
        if name is None:  # text
            text = token.group(0)
            if text.strip(_BLANK):
                # In <pre>, a text starting on a new line needs no break.
                if pending and not line_start and not (pre and text.lstrip(" \t")[:1] == "\n"):
                    out.insert(at, "<br>" if pending == 2 else " ")
                pending, line_start, cell_start = 0, bool(pre) and text.endswith("\n"), False
            elif pre and "\n" in text:
                pending, line_start = 0, True
            out.append(text)
        elif name in ("td", "th"):
            # Cells stand side by side, whatever lines they hold; a block
            # first in a cell parts nothing from the cell before.
            if closing:
                pending, at, cell_start = 1, len(out), False
            else:
                cell_start = True
        elif name in _BLOCKS:
            if not cell_start and pending < 2:
                at = at if pending else len(out)
                pending = 2
        else:
            if name == "br" and pending == 2 and not line_start:
                out.insert(at, "<br>")  # the line ends, then this one is empty
            if name in _LINE_TAGS:
                pending, line_start = 0, True
                if name == "pre":
                    pre += -1 if closing else 1
            out.append(token.group(0))
    return "".join(out)


# The start of an <img>, the rest of a tag (quoted values may hold ">"), as
# a browser's tokenizer reads them; and the alt attribute.
_IMG = re.compile(r"<img\b", re.IGNORECASE)
_TAG_REST = re.compile(r"""(?:[^>"']|"[^"]*"|'[^']*')*>""")
_ALT = re.compile(r"""\salt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)


def images_to_alt(untrusted: str) -> str:
    """Each ``<img>`` replaced by its alt text, escaped (linear time).

    No image is rendered (see ALLOWED_TAGS), and WordPress prints typed
    smileys and emoji as ``<img class="wp-smiley" alt=":)">``: without
    this, ":)" vanishes and an emoji-only comment comes out empty.
    """
    if "<img" not in untrusted.lower():
        return untrusted
    out, position = [], 0
    while (start := _IMG.search(untrusted, position)) is not None:
        end = _TAG_REST.match(untrusted, start.end())
        if end is None:
            # Never closed: a browser reads the rest as this one tag, and
            # the cleaner drops it; later "<img" are inside it.
            break
        found = _ALT.search(untrusted, start.end(), end.end())
        value = next((g for g in found.groups() if g is not None), "") if found else ""
        out += [untrusted[position : start.start()], html.escape(html.unescape(value), quote=False)]
        position = end.end()
    out.append(untrusted[position:])
    return "".join(out)


# Paragraphs of text, line breaks and http(s) links, written exactly as the
# cleaner writes them, are their own cleaned form: most archived items are
# this, and each is read again on every cold build, so it is known by one
# regular expression (0.75 us) instead of a pass of the cleaner (4 us).
# Text: no markup character but as the entities the serializer writes, no
# control character, no no-break space (written "&nbsp;"), no lone
# surrogate (which the cleaner refuses).  A link: a host whose labels are
# letters, digits and inner hyphens (no "xn--"), the last one starting with
# a letter (the URL parser reads a numeric one as an IPv4 address, and the
# cleaner drops a link whose host fails); a port of at most 4 digits (the
# parser's limit is 65535: kept on the safe side); then printable ASCII but
# '"', "&" (only as "&amp;"), "<", ">" and space.  Anything else goes to the
# cleaner; and what this accepts is safe in itself (no other tag or
# attribute, http(s) links only, no raw "<" or ">").
_CHARS = r"[^<>&\x00-\x08\x0b-\x1f\x7f-\x9f\u00a0\ud800-\udfff]*"
# Unrolled (a run, then an entity and a run, again): linear, no backtracking.
_TEXT = rf"{_CHARS}(?:&(?:amp|lt|gt);{_CHARS})*"
_LABEL = r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
_HOST = rf"(?:{_LABEL}\.)*[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*"
#: "!", "#" to "%", "'" to ";", "=", "?" to "~" (so "\\", "@", "`", "{|}"
#: too): printable ASCII without '"', "&", "<", ">" and space.
_URL_CHARS = r"[!#$%'-;=?-~]*"
_URL = rf"https?://{_HOST}(?::[0-9]{{1,4}})?(?:[/?#]{_URL_CHARS}(?:&amp;{_URL_CHARS})*)?"
_LINK = rf'<a href="{_URL}" rel="{LINK_REL}">{_TEXT}</a>'
_INLINE = rf"{_TEXT}(?:(?:<br>|{_LINK}){_TEXT})*"
_PLAIN_HTML = re.compile(rf"<p>{_INLINE}</p>(?:\n<p>{_INLINE}</p>)*")

#: A link as Markdown writes it (href, maybe a title, no rel).
_BARE_LINK = re.compile(r'<a (href="[^"<>]*"(?: title="[^"<>]*")?)>')
_REL_ADDED = rf'<a \1 rel="{LINK_REL}">'


def clean_html(untrusted: str) -> str:
    """Return ``untrusted`` HTML reduced to the comment policy.

    Cleaning runs until the output stops changing: some markup (a block
    inside <p>, nested <a>, a <pre> starting with blank lines) comes out of
    one pass in a form that the next parse reads differently, and what we
    store must be exactly what a browser will see.  Already clean HTML (an
    archived item read again) takes one pass.

    Nesting deeper than :data:`~pelican_engage.nesting.MAX_DEPTH` is
    unwrapped first, so the cost is linear in the input's size: the parser
    inside nh3 costs size times depth.
    """
    text = images_to_alt(untrusted)
    for pattern, replacement in _RENAMES:
        text = pattern.sub(replacement, text)
    text = limit_nesting(text)
    if _HAS_BLOCK.search(text):
        text = _unblock(_CONTROL.sub("", _BLOCK_KEEPER.clean(_CONTROL.sub("", text))))
    # The first pass's output is the fixed point when it is the input but
    # for whitespace at the edges (text nodes there, which the strip
    # removes) and the rel the cleaner gives every link as Markdown writes it
    # (its output holds no raw text, comment or "<" in an attribute, so each
    # such link there was a tag in the input).  So Markdown's HTML, which ends
    # in a newline and has plain links, takes one pass, not two.  Not when a
    # byte-order mark follows the stripped space: the parser drops one only
    # as the very first character, so the next pass would.
    expected = text.strip()
    if expected.startswith("\ufeff"):
        expected = text
    elif "<a " in expected:
        expected = _BARE_LINK.sub(_REL_ADDED, expected)
    for _ in range(5):
        # Control characters can arrive as character references, which only
        # the parser decodes, so they are removed from its output too.
        cleaned = _CONTROL.sub("", _CLEANER.clean(_CONTROL.sub("", text))).strip()
        if cleaned == expected:
            break
        text = expected = cleaned
    return cleaned


def recheck_html(stored: str) -> str:
    """:func:`clean_html` of HTML we cleaned before (an archived item): the
    same result, at the cost of one match of a pattern when it is plain
    paragraphs and links, one cleaner pass when it is otherwise clean.

    Not for fresh input, which is seldom in the cleaner's form: the check
    would be one pass more before the whole way.
    """
    if _PLAIN_HTML.fullmatch(stored) or _is_clean(stored):
        return stored
    return clean_html(stored)


#: What the steps before the cleaner would change: an image, a renamed tag.
_REWRITTEN = re.compile(rf"<(?:img|/?tt|/?h[1-6]|/?(?:{_trie(_BLOCKS)}))\b", re.IGNORECASE)


def _is_clean(text: str) -> bool:
    """True when :func:`clean_html` would return ``text`` unchanged, proven
    by one pass of the cleaner rather than the whole way (an archived item
    read again: its HTML is what we wrote, unless someone edited the file).

    ``text`` must be the cleaner's own output (so well-formed, only allowed
    tags, nothing to strip), and hold nothing the steps before the cleaner
    would rewrite: no ``<img``, ``<tt`` or heading, no control character,
    and too few start tags to nest deeper than ``MAX_DEPTH`` (so
    :func:`limit_nesting` keeps it as it is).  Anything else takes the
    whole way.
    """
    if text.count("<") - text.count("</") > MAX_DEPTH or _CONTROL.search(text):
        return False
    if "<" in text and _REWRITTEN.search(text):
        return False
    return _CLEANER.clean(text).strip() == text


def link_html(href: str, label_html: str) -> str:
    """A link to an outside page, as the cleaner writes every one
    (``rel="nofollow ugc noopener"``): ``href`` a checked URL, ``label_html``
    already escaped."""
    return f'<a href="{html.escape(href)}" rel="{LINK_REL}">{label_html}</a>'


def text_to_html(text: str) -> str:
    """Escape plain text and keep its paragraphs and line breaks."""
    paragraphs = re.split(r"\n\s*\n", _CONTROL.sub("", text).strip())
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs if p)


def paragraphs_html(inline_html: str) -> str:
    """Plain-text paragraphs that already hold escaped text and links (a
    tweet or a Bluesky post after its entities were linked), as clean HTML:
    blank lines part paragraphs, single line breaks become ``<br>``."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", inline_html.strip()) if p.strip()]
    return clean_html("".join("<p>" + p.replace("\n", "<br>") + "</p>" for p in parts))


def clean_text(untrusted: str) -> str:
    """Plain text for a one-line field such as a name: markup removed.

    The result is *text*, not HTML: templates escape it when they print it.
    """
    text = _CONTROL.sub("", untrusted)
    # Without "<" or "&" the parser reads one text node, the text itself (a
    # name, nearly always), and the cleaner would give it back; but for a
    # byte-order mark first, which the parser drops, and lone surrogates,
    # which the cleaner refuses (UnicodeEncodeError), as before.
    if "<" in text or "&" in text or text.startswith("\ufeff") or _SURROGATE.search(text):
        # Character references may decode to control characters.
        text = _CONTROL.sub("", html.unescape(_TEXT_ONLY.clean(limit_nesting(text))))
    return " ".join(_BIDI.sub("", text).split())


def safe_url(untrusted: str, schemes: frozenset[str] = frozenset({"http", "https"})) -> str:
    """Return ``untrusted`` if it is an absolute URL with an allowed scheme.

    Anything else (``javascript:``, relative or protocol-relative paths,
    garbage) gives the empty string.
    """
    if not untrusted and isinstance(untrusted, str):
        return ""  # no link: most avatars, reply and source links of an item
    if not isinstance(untrusted, str) or len(untrusted) > 2048:
        return _safe_url(untrusted, schemes)
    # Most links are plain http(s) URLs, each item's its own (too many to
    # remember): those the full check would return as they are pass here
    # without urlsplit (~10 µs each, 100,000 on a 2,000-post archive).
    plain = _PLAIN_HTTP.match(untrusted)
    if plain and plain[1] in schemes:
        return untrusted
    # Pure, and the same profile and avatar links come back on every item
    # of a person: an archive of 50,000 items asks about a few thousand.
    return _safe_url_cached(untrusted, schemes)


#: A subset of what :func:`_safe_url` returns unchanged: http(s), a host
#: of letters, digits, dots and hyphens (no user-info), an optional port,
#: then printable ASCII only (no space, no control character).
_PLAIN_HTTP = re.compile(r"(https?)://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?(?:[/?#][!-~]*)?\Z")


@functools.lru_cache(maxsize=8192)
def _safe_url_cached(untrusted: str, schemes: frozenset[str]) -> str:
    return _safe_url(untrusted, schemes)


_SPACE = re.compile(r"\s")


def _safe_url(untrusted: str, schemes: frozenset[str]) -> str:
    # A metadata value is text, not HTML: "&copy=1" in a query string is not
    # an entity, so nothing is unescaped here.
    candidate = _CONTROL.sub("", untrusted or "").strip()
    if not candidate or _SPACE.search(candidate):
        return ""
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return ""
    if parts.scheme.lower() not in schemes:
        return ""
    if parts.scheme.lower() in {"http", "https"} and not parts.netloc:
        return ""
    # User-info ("http://ann@mail.example"): a commenter typed an e-mail
    # address into the Website field, or a link hides its real host.
    if "@" in parts.netloc:
        return ""
    return candidate


_TAG = re.compile(r"<[^>]*>")
#: Tags that part words; inline ones (a link, an emphasis) sit inside a run
#: of text, and "#EU</a>." reads "#EU." -- never "#EU .".
_BREAK = re.compile(
    r"<br\s*/?>|</?(?:p|li|ul|ol|blockquote|pre|div|h[1-6]|tr|td|th|table|hr)\b[^>]*>",
    re.IGNORECASE,
)


# Asked of each item two or three times in a row (whether it mentions the
# author, its JSON-LD; the report's question test and excerpt): the last
# few are kept.  A pure function of the text, so nothing goes stale.
@functools.lru_cache(maxsize=256)
def html_to_text(safe_html: str) -> str:
    """Visible text of already sanitised HTML, for excerpts and mentions."""
    text = _TAG.sub("", _BREAK.sub(" ", safe_html))
    return " ".join(html.unescape(text).split())


def excerpt(safe_html: str, limit: int = 140) -> str:
    """A short plain-text excerpt, cut on a word boundary."""
    text = html_to_text(safe_html)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


#: What a network calls its attachment kinds -> the word shown for them.
_MEDIA_WORDS = {
    "image": "image",
    "photo": "image",
    "gifv": "video",
    "animated_gif": "video",
    "video": "video",
    "audio": "audio",
}


def media_html(media: list[tuple[str, str, str]]) -> str:
    """Attachments as text links, for replies that hold pictures or videos.

    ``media`` lists (kind, description, href): the network's kind
    ("image", "photo", "gifv", "video", "audio"...), the alt text the
    writer gave (plain text, may be empty) and the page or file on the
    network that shows it.  Each becomes a paragraph
    ``<p class="engage-media"><a href=…>[image] description</a></p>``; no
    remote image is ever loaded, so readers' addresses do not leak to the
    media host.  The package's one media helper: Mastodon, Bluesky and X
    each only say what their attachments are.
    """
    parts = []
    for kind, description, href in media:
        word = _MEDIA_WORDS.get(kind.casefold(), "attachment")
        # Alt text is plain text: shown as typed ("<3" too), escaped once.
        said = " ".join(_CONTROL.sub("", description).split())
        label = html.escape(f"[{word}] {said}".strip(), quote=False)
        url = safe_url(href)
        if url:
            label = link_html(url, label)
        parts.append(f'<p class="engage-media">{label}</p>')
    return "".join(parts)
