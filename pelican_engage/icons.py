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
from .sources.registry import NETWORKS

#: Source (or ``via``) -> the label readers see and hear.
LABELS: Mapping[str, str] = {
    # Discussion sites (Hacker News...) are named as they name themselves.
    **{n.name: n.display for n in NETWORKS if n.discussion},
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
    # Each network declares its own (Network.icon).
    **{n.name: n.icon for n in NETWORKS},
    # A speech bubble with a "D".
    "disqus": (
        "M8 1a7 7 0 0 0-6.3 10L1 15l3.9-.8A7 7 0 1 0 8 1zM5.5 4.5H8a3.5 3.5 0 0 1 0 7H5.5z"
        "m1.4 1.4v4.2H8a2.1 2.1 0 0 0 0-4.2z"
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


def mark(item: Any, translate: Any = _same, drawn: set[str] | None = None) -> Markup:
    """``<span class="engage-source-mark">``: the icon and its label.

    The label is in the page as text (visually hidden), so it is read out,
    found by search and translated like any other string; the icon's
    ``title`` shows it on hover.  An unknown source gets the label alone.
    ``translate(message, **variables)`` puts the words in the page's language.

    ``drawn``: the sources whose drawing this page already holds.  The first
    mark of a source on a page then defines the drawing once, as an SVG
    ``<symbol>`` (id ``engage-icon-<source>``), and the later ones point at
    it with ``<use>``: the thread of a post with 25 Mastodon replies goes
    from 63 to 55 kB.  Without ``drawn`` (the template name
    ``engage_source_mark``) every mark carries its own path.
    """
    source = source_of(item)
    label_text = translate(LABELS.get(source, source))
    text = translate("on %(network)s", network=label_text)
    if drawn is None:
        return Markup(_html(source, label_text, text, _icon(source)))
    if source in drawn:
        return Markup(_html(source, label_text, text, _used(source)))
    drawn.add(source)
    return Markup(_html(source, label_text, text, _symbol(source)))


_SVG = '<svg class="engage-icon" aria-hidden="true" focusable="false" width="16" height="16"'


def _icon(source: str) -> str:
    """The drawing in the mark itself."""
    path = _PATHS.get(source)
    if not path:
        return ""
    return str(
        Markup(_SVG + ' viewBox="0 0 16 16"><path fill="currentColor" d="{}"/></svg>').format(path)
    )


def _symbol(source: str) -> str:
    """The drawing defined for the page, and shown here (see :func:`mark`)."""
    path = _PATHS.get(source)
    if not path:
        return ""
    return str(
        Markup(
            _SVG + '><symbol id="engage-icon-{0}" viewBox="0 0 16 16"><path fill="currentColor" '
            'd="{1}"/></symbol><use href="#engage-icon-{0}"/></svg>'
        ).format(source, path)
    )


def _used(source: str) -> str:
    """The page's drawing again (see :func:`mark`)."""
    if not _PATHS.get(source):
        return ""
    return str(Markup(_SVG + '><use href="#engage-icon-{}"/></svg>').format(source))


@functools.lru_cache(maxsize=256)
def _html(source: str, name: str, text: str, icon: str) -> str:
    """The mark's markup; a thread repeats a handful of these thousands of times."""
    return str(
        Markup(
            '<span class="engage-source-mark engage-source-mark-{}" title="{}">{}'
            '<span class="engage-visually-hidden">{}</span></span>'
        ).format(source, name, Markup(icon), text)
    )
