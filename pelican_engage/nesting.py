"""Bound the element nesting of untrusted HTML before the sanitiser parses it.

A spec HTML parser checks "has an element in scope" by walking the stack of
open elements, so its cost is the input size times the nesting depth: 100,000
nested ``<blockquote>`` cost nh3 minutes.  :func:`limit_nesting` runs first,
in one linear pass, and unwraps elements (drops their tags, keeps their
content) that would open more than ``max_depth`` levels deep.

The pass reads the markup with the HTML tokenizer's rules (tags, attributes,
comments, raw text of ``<script>``/``<style>``/``<textarea>``...), and keeps
a model of the parser's stack of open elements that is never much
shallower than the real one: it pops an element only where every spec
parser certainly does (its end tag with nothing blocking in between, or a
``<p>``/``<li>``/``<dd>``/``<dt>``/``<option>`` closed by the next one), and
counts formatting elements the parser will reopen.  So a model depth of at
most ``max_depth`` bounds the parser's depth to a small multiple of it,
whatever the input does; tests/test_nesting.py checks this against nh3's
parser with generated tag soup.  ``<svg>``/``<math>`` tags are removed:
foreign content has other tokenizer rules, and the comment policy drops both
anyway.  A ``<`` of text right before a removed tag is written ``&lt;`` (the
same text), so that no removal can splice a new tag.

Libraries were tried first.  lxml (libxml2) stops at 255 levels (2,047 with
``huge_tree``) and loses the text inside and after; html5lib's tree builder
walks the same stack as html5ever, in Python (4,000 nested ``<blockquote>``:
4 s).
"""

from __future__ import annotations

import re

#: Deeper elements are unwrapped.  Real comments nest a few levels; quotes of
#: quotes rarely pass ten.
MAX_DEPTH = 32


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VOID = _names(
    "area base basefont bgsound br col embed frame hr image img input keygen link meta "
    "param source track wbr"
)
#: Start tags the in-body rules ignore or merge (they never push).
_NO_PUSH = frozenset({"html", "head", "body", "frameset"})
#: Foreign content (other tokenizer rules); removed, the policy drops it anyway.
_FOREIGN = frozenset({"svg", "math"})
#: Ignored outside a table.
_TABLE_PARTS = _names("caption col colgroup tbody td tfoot th thead tr")
#: Elements whose content is text up to their end tag.  nh3 parses with
#: scripting on, so ``<noscript>`` holds text too (tests/test_nesting.py
#: checks it).
_RAWTEXT = _names("style xmp iframe noembed noframes noscript textarea title")
#: Start tags that close an open ``<p>`` on top of the stack.
_CLOSES_P = _names(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer header hgroup hr main menu nav ol p search section summary ul h1 h2 h3 h4 "
    "h5 h6 pre listing form li dd dt xmp"
)
#: Start tag -> open elements on top of the stack that it certainly closes.
_CLOSES_SIBLING = {"li": {"li"}, "dd": {"dd", "dt"}, "dt": {"dd", "dt"}, "option": {"option"}}
_SCOPE = _names(
    "applet caption html table td th marquee object template select"
)  # plus select: in a select, other end tags are ignored
_HEADINGS = _names("h1 h2 h3 h4 h5 h6")
_FORMATTING = _names("a b big code em font i nobr s small strike strong tt u")
#: End tags that pop everything above their element when it is in scope.
_SCOPED_END = _names(
    "address article aside blockquote button center details dialog dir div dl fieldset "
    "figcaption figure footer header hgroup listing main menu nav ol pre search section "
    "summary ul p li dd dt applet marquee object table caption td th tr tbody thead tfoot "
    "template h1 h2 h3 h4 h5 h6"
)
_SPECIAL = _names(
    "address applet area article aside base basefont bgsound blockquote body br button "
    "caption center col colgroup dd details dir div dl dt embed fieldset figcaption figure "
    "footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe img input "
    "keygen li link listing main marquee menu meta nav noembed noframes noscript object ol p "
    "param plaintext pre script search section select source style summary table tbody td "
    "template textarea tfoot th thead title tr track ul wbr xmp"
)

# One token of markup.  Comments, doctypes and bogus comments (group 1 is
# None) are kept as they are.  A tag gives its "/" (group 1) and name
# (group 2); group 4 is set when its attributes (group 3) are plain, the
# common case, and then the whole tag is matched.  A match of those is also a valid
# reading of the tokenizer's states, so both agree where it matches; any
# other tag is read step by step by _tag_end.
_TOKEN = re.compile(
    r"<!--(?:>|->|.*?--!?>|.*)"
    r"|<[!?][^>]*>?"
    r"|</(?![A-Za-z])[^>]*>?"
    r"|<(/?)([A-Za-z][^\t\n\f\r />]*)"
    r"(?:((?:[\t\n\f\r /]+[^\t\n\f\r />=\"'<`][^\t\n\f\r />=\"'<`]*"
    r"(?:=(?:\"[^\"]*\"|'[^']*'|[^\t\n\f\r >\"'=<`/]+(?=[\t\n\f\r >])))?)*)"
    r"[\t\n\f\r /]*(>))?",
    re.DOTALL,
)
_SPACE_OR_SLASH = re.compile(r"[\t\n\f\r /]*")
_SPACES = re.compile(r"[\t\n\f\r ]*")
_ATTR_NAME_REST = re.compile(r"[^\t\n\f\r />=]*")
_UNQUOTED = re.compile(r"[^\t\n\f\r >]*")
_SCRIPT_EVENT = re.compile(r"<!--|-->|<(/?)script(?=[\t\n\f\r />])", re.IGNORECASE)


def _end(pattern: re.Pattern[str], markup: str, pos: int) -> int:
    """Where ``pattern`` stops matching at ``pos`` (each of the patterns above
    matches the empty string, so there is always a match)."""
    found = pattern.match(markup, pos)
    assert found is not None
    return found.end()


def _tag_end(markup: str, pos: int) -> int:
    """Index after the ``>`` closing the tag whose name ends at ``pos``, or -1
    if the input ends inside the tag (the tokenizer then drops it)."""
    size = len(markup)
    while True:
        pos = _end(_SPACE_OR_SLASH, markup, pos)
        if pos >= size:
            return -1
        if markup[pos] == ">":
            return pos + 1
        # An attribute name; its first character may even be "=".
        pos = _end(_ATTR_NAME_REST, markup, pos + 1)
        after = _end(_SPACES, markup, pos)
        if after < size and markup[after] == "=":
            pos = _end(_SPACES, markup, after + 1)
            if pos >= size:
                return -1
            quote = markup[pos]
            if quote in "\"'":
                close = markup.find(quote, pos + 1)
                if close < 0:
                    return -1
                pos = close + 1
            elif quote != ">":
                pos = _end(_UNQUOTED, markup, pos)


_RAW_TEXT_END = {
    name: re.compile(rf"</{name}(?=[\t\n\f\r />])", re.IGNORECASE) for name in _RAWTEXT
}


def _raw_text_end(markup: str, pos: int, name: str) -> int:
    """Where the text of a raw-text element (``<style>``, ``<textarea>``...) ends."""
    found = _RAW_TEXT_END[name].search(markup, pos)
    return found.start() if found else len(markup)


def _script_end(markup: str, pos: int) -> int:
    """Where a ``<script>``'s text ends, following the tokenizer's escape
    states (``<!--`` and ``<script>`` inside a script hide its end tag)."""
    state = "data"  # data -> escaped -> double-escaped
    while True:
        event = _SCRIPT_EVENT.search(markup, pos)
        if event is None:
            return len(markup)
        token = event[0]
        pos = event.end()
        if token == "<!--":
            if state == "data":
                # "<!-->" and "<!--->" open and close at once.
                state = "data" if re.match(r"-*>", markup[pos : pos + 64]) else "escaped"
        elif token == "-->":
            state = "data"
        elif event[1]:  # </script
            if state == "double":
                state = "escaped"
            else:
                return event.start()
        elif state == "escaped":  # <script
            state = "double"


def _is_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _key(name: str) -> str:
    # Any heading's end tag closes any open heading.
    return "h*" if name in _HEADINGS else name


class _Stack:
    """A model of the parser's stack of open elements (never shallower).

    Besides the names it keeps, per name and per kind of blocking element,
    the stack positions, so that an end tag costs O(1) plus what it pops.
    """

    def __init__(self) -> None:
        self.names: list[str] = []
        #: Formatting elements' name and attributes, the parser's identity for them.
        self.keys: list[str] = []
        self.where: dict[str, list[int]] = {}
        self.special: list[int] = []
        self.scope: list[int] = []
        self.button: list[int] = []
        self.lists: list[int] = []
        #: Start tags dropped for depth, so their end tags are dropped too.
        self.unwrapped: dict[str, int] = {}

    def push(self, name: str, attributes: str = "") -> None:
        index = len(self.names)
        self.names.append(name)
        self.keys.append(f"{name} {attributes.strip()}" if name in _FORMATTING else "")
        self.where.setdefault(_key(name), []).append(index)
        if name in _SPECIAL:
            self.special.append(index)
        if name in _SCOPE:
            self.scope.append(index)
        if name == "button":
            self.button.append(index)
        if name in {"ol", "ul"}:
            self.lists.append(index)

    def pop_to(self, index: int, reopen: bool = False) -> None:
        """Pop the element at ``index`` and everything above it.

        With ``reopen``, formatting elements popped above ``index`` are pushed
        again: the parser keeps them in its list of active formatting
        elements and reopens them at the next text or tag ("reconstruct the
        active formatting elements"), at most three of a kind (its "Noah's
        Ark" clause).
        """
        reopened = (
            [
                (name, key)
                for name, key in zip(self.names[index + 1 :], self.keys[index + 1 :], strict=True)
                if key
            ]
            if reopen
            else []
        )
        for name in self.names[index:]:
            self.where[_key(name)].pop()
        del self.names[index:]
        del self.keys[index:]
        for positions in (self.special, self.scope, self.button, self.lists):
            while positions and positions[-1] >= index:
                positions.pop()
        for name, key in reopened:
            if self.keys.count(key) < 3:
                self.push(name, key.split(" ", 1)[1])

    def close_siblings(self, name: str) -> None:
        names = self.names
        if names and names[-1] == "p" and name in _CLOSES_P:
            self.pop_to(len(names) - 1)
        closes = _CLOSES_SIBLING.get(name)
        if closes and names and names[-1] in closes:
            self.pop_to(len(names) - 1)

    def end(self, name: str) -> bool:
        """Apply the end tag ``</name>``; False if it belongs to an unwrapped element."""
        if self.unwrapped.get(name):
            self.unwrapped[name] -= 1
            return False
        names = self.names
        if name == "form":  # removed from the middle, never pops others
            if names and names[-1] == "form":
                self.pop_to(len(names) - 1)
            return True
        positions = self.where.get(_key(name))
        if not positions:
            return True
        target = positions[-1]
        if name in _SCOPED_END:
            blockers = [self.scope]
            if name == "p":
                blockers.append(self.button)
            elif name == "li":
                blockers.append(self.lists)
        else:
            blockers = [self.special]
        if any(found and found[-1] > target for found in blockers):
            return True
        self.pop_to(target, reopen=True)
        return True


def limit_nesting(markup: str, max_depth: int = MAX_DEPTH) -> str:
    """``markup`` with elements deeper than ``max_depth`` unwrapped.

    Linear in ``len(markup)``.  Text is kept and ``<svg>``/``<math>`` tags
    are removed (see the module docstring); markup nested no deeper than
    ``max_depth`` is otherwise returned unchanged, character for character.
    """
    if "<" not in markup:
        return markup
    if markup.count("<") <= max_depth:
        # No more tags than the limit cannot nest past it: unless one is
        # foreign, nothing is dropped (most comments, ~60 µs saved each).
        lowered = markup.lower()
        if "svg" not in lowered and "math" not in lowered:
            return markup
    return _limit(markup, max_depth)


def _limit(markup: str, max_depth: int) -> str:
    """:func:`limit_nesting` the whole way: one pass over every tag."""
    out: list[str] = []
    copied = 0  # markup[:copied] is in out

    def drop(start: int, end: int) -> None:
        nonlocal copied
        kept = markup[copied:start]
        # A "<" of text right before a dropped tag must not join what follows.
        out.append(kept[:-1] + "&lt;" if kept.endswith("<") else kept)
        copied = end

    stack = _Stack()
    names = stack.names
    pos = 0
    while True:
        token = _TOKEN.search(markup, pos)
        if token is None:
            break
        pos = token.end()
        name = token[2]
        if name is None:  # a comment or the like
            continue
        start = token.start()
        if token[4] is None:
            attributes_start = pos
            pos = _tag_end(markup, pos)
            if pos < 0:  # the input ends inside a tag: the parser drops it
                break
            attributes = markup[attributes_start : pos - 1]
        else:
            attributes = token[3]
        name = name.lower()
        if name in _FOREIGN:
            drop(start, pos)
            continue
        if token[1]:
            if name != "br" and not stack.end(name):  # "</br>" is a <br>
                drop(start, pos)
            continue
        if name == "plaintext":  # everything after it is text
            break
        stack.close_siblings(name)
        if name in _VOID or name in _NO_PUSH:
            continue
        if name in _TABLE_PARTS and not stack.where.get("table"):
            continue
        if name == "script":
            pos = _script_end(markup, pos)
        elif name in _RAWTEXT:
            # A leaf: its text is not markup, so it adds one level at most.
            pos = _raw_text_end(markup, pos, name)
        elif len(names) >= max_depth:
            stack.unwrapped[name] = stack.unwrapped.get(name, 0) + 1
            drop(start, pos)
        else:
            stack.push(name, attributes)
    if not out:
        return markup
    out.append(markup[copied:])
    return "".join(out)


# A line's run of block-quote markers ("> > >") beyond the first MAX_DEPTH.
# Up to 4 blanks may part two markers (one after a marker, three of
# indentation); blanks and ">" never overlap, so the match cannot backtrack
# far on a line with fewer markers.
_DEEP_QUOTE_MARKERS = re.compile(
    rf"^([ ]{{0,3}}>(?:[ \t]{{0,4}}>){{{MAX_DEPTH - 1}}})(?:[ \t]{{0,4}}>)+", re.MULTILINE
)


def limit_markdown_quotes(text: str) -> str:
    """Markdown with block-quote markers beyond :data:`MAX_DEPTH` on a line removed.

    Not needed for safety or for a linear cost (:func:`limit_nesting` sees
    the HTML), but 2 bytes of ``> `` become 27 bytes of HTML, so a quote
    nested 100,000 deep is cut while it is still small.
    """
    if ">" * 2 not in text.replace(" ", "").replace("\t", ""):
        return text
    return _DEEP_QUOTE_MARKERS.sub(r"\1", text)
