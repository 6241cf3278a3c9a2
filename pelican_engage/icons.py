"""Source marks: where each item came from, as a small inline SVG and a label.

Inline SVG needs no request and no font; the drawings are plain shapes in
``currentColor`` (so they follow the theme's text colour, light or dark),
decorative to screen readers, which read the label beside them instead.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from .i18n import N_

#: Source (or ``via``) -> the label readers see and hear.
LABELS: Mapping[str, str] = {
    "twitter": "X",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "webmention": N_("webmention"),
    "wordpress": "WordPress",
    "disqus": "Disqus",
    "feed": N_("comment feed"),
    "email": N_("e-mail"),
    "local": N_("this site"),
}

#: 16x16 drawings (SVG path data), filled with currentColor.
_PATHS: Mapping[str, str] = {
    # Two crossed strokes.
    "twitter": "M2 2h3.2l3.2 4.4L12.2 2H14l-4.8 5.6L14.5 14h-3.2L7.9 9.4 3.8 14H2l5-5.8z",
    # A rounded speech balloon with an "m".
    "mastodon": (
        "M8 1.5c-3.3 0-5.5 1.3-5.5 4.6v3.1c0 3 1.9 4.6 5 4.9 1.3.1 2.5-.1 3.3-.4l-.1-1.2"
        "c-1 .3-2.2.4-3.3.3-1.2-.1-1.9-.6-2-1.4 1.6.4 3.6.5 5.3.2 2-.3 3.3-1.5 3.3-3.4V6.1"
        "c0-3.3-2.2-4.6-5.5-4.6zM5 10V6.3c0-.8.5-1.2 1.2-1.2s1.3.5 1.3 1.3V8h1V6.4"
        "c0-.8.5-1.3 1.3-1.3S11 5.5 11 6.3V10H9.8V6.6c0-.4-.3-.6-.6-.6s-.6.2-.6.6V9H7.4"
        "V6.6c0-.4-.3-.6-.6-.6s-.6.2-.6.6V10z"
    ),
    # A butterfly.
    "bluesky": (
        "M3.5 2.2C5.2 3.4 7 6 8 7.4c1-1.4 2.8-4 4.5-5.2C13.7 1.3 15.7.6 15.7 2.9c0 .5-.3 3.8"
        "-.4 4.3-.6 2-2.6 2.5-4.4 2.2 3.2.5 4 2.3 2.2 4.1-3.3 3.4-4.8-.9-5.1-2L8 11l-.1.5"
        "c-.3 1.1-1.8 5.4-5.1 2-1.8-1.8-1-3.6 2.2-4.1-1.8.3-3.8-.2-4.4-2.2C.5 6.7.3 3.4.3"
        " 2.9c0-2.3 2-1.6 3.2-.7z"
    ),
    # Two chain links.
    "webmention": (
        "M6.6 9.4a2.5 2.5 0 0 0 3.5 0l2.6-2.6a2.5 2.5 0 0 0-3.5-3.5l-.9.9 1 1 .9-.9a1.1 1.1 0"
        " 0 1 1.5 1.5L9.1 8.4a1.1 1.1 0 0 1-1.5 0zm2.8-2.8a2.5 2.5 0 0 0-3.5 0L3.3 9.2a2.5 2.5"
        " 0 0 0 3.5 3.5l.9-.9-1-1-.9.9a1.1 1.1 0 0 1-1.5-1.5l2.6-2.6a1.1 1.1 0 0 1 1.5 0z"
    ),
    # A "W" in a ring.
    "wordpress": (
        "M8 .8a7.2 7.2 0 1 0 0 14.4A7.2 7.2 0 0 0 8 .8zm0 1.4a5.8 5.8 0 1 1 0 11.6A5.8 5.8 0"
        " 0 1 8 2.2zM3.9 5.5l2 5.7L7.3 7 6.6 5.5zm3.6 0 2 5.7 1.4-4.2-.7-1.5zm3 0 .8 2.2.9"
        "-2.2z"
    ),
    # A speech bubble with a "D".
    "disqus": (
        "M8 1a7 7 0 0 0-6.3 10L1 15l3.9-.8A7 7 0 1 0 8 1zM5.5 4.5H8a3.5 3.5 0 0 1 0 7H5.5z"
        "m1.4 1.4v4.2H8a2.1 2.1 0 0 0 0-4.2z"
    ),
    # The RSS quarter rings.
    "feed": (
        "M2.5 11.5a2 2 0 1 1 0 4 2 2 0 0 1 0-4zM1 6.5a8.5 8.5 0 0 1 8.5 8.5H7.3A6.3 6.3 0 0 0"
        " 1 8.7zM1 1.5A13.5 13.5 0 0 1 14.5 15h-2.2A11.3 11.3 0 0 0 1 3.7z"
    ),
    # An envelope.
    "email": ("M1 3.5h14v9H1zm1.4 1.4v.3L8 9l5.6-3.8v-.3zm11.2 2L8 10.7 2.4 6.9v4.2h11.2z"),
    # A speech bubble.
    "local": "M2 2.5h12v8.5H7l-3.5 3v-3H2z",
}


def source_of(item: Any) -> str:
    """Which mark an item gets: its source, or ``email`` for a local comment
    that came home by e-mail (``pelican-engage import mail``)."""
    source = str(getattr(item, "source", "") or "")
    extras = getattr(item, "extras", None) or {}
    if source == "local" and extras.get("via") == "email":
        return "email"
    return source


def label(item: Any) -> str:
    """The readable name of where the item came from."""
    source = source_of(item)
    return LABELS.get(source, source)


def _same(message: str, **variables: Any) -> str:
    return message % variables if variables else message


def mark(item: Any, translate: Any = _same) -> Markup:
    """``<span class="engage-source-mark">``: the icon and its label.

    The label is in the page as text (visually hidden), so it is read out,
    found by search and translated like any other string; the icon's
    ``title`` shows it on hover.  An unknown source gets the label alone.
    ``translate(message, **variables)`` puts the words in the page's language.
    """
    source = source_of(item)
    label_text = translate(LABELS.get(source, source))
    return Markup(_html(source, label_text, translate("on %(network)s", network=label_text)))


@functools.lru_cache(maxsize=256)
def _html(source: str, name: str, text: str) -> str:
    """The mark's markup; a thread repeats a handful of these thousands of times."""
    path = _PATHS.get(source)
    icon = (
        Markup(
            '<svg class="engage-icon" aria-hidden="true" focusable="false" width="16" '
            'height="16" viewBox="0 0 16 16"><path fill="currentColor" d="{}"/></svg>'
        ).format(path)
        if path
        else Markup("")
    )
    return str(
        Markup(
            '<span class="engage-source-mark engage-source-mark-{}" title="{}">{}'
            '<span class="engage-visually-hidden">{}</span></span>'
        ).format(source, name, icon, text)
    )
