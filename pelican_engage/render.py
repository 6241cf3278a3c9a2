"""Templates, the stylesheet, and putting the thread into pages.

Themes can ``{% include "engage/thread.html" %}`` where they want the
conversation.  For the many themes that do not, the rendered thread is put
into each article page after the article body: a plain string operation on
the page Pelican renders (pages.py hands it over before it is written), so
it works with any theme and costs no HTML parse.
"""

from __future__ import annotations

import html
import re
import shutil
import weakref
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, TemplateNotFound

from . import i18n, icons, reply_mail, structured, template_names
from .model import anchor
from .render_items import (
    DISCUSSION_NAMES,
    NETWORK_NAMES,
    host,
    item_html,
    local_time,
    new_thread,
)
from .settings import TEMPLATE_DEFAULTS
from .sources.webmention import webmention_endpoint

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = Path(__file__).parent / "static" / "engage.css"
THREAD_TEMPLATE = "engage/thread.html"
MACROS_TEMPLATE = "engage/macros.html"
#: In every rendered thread.  Only consulted for themes that override the
#: templates (they may not call engage_mark); text can imitate it.
MARKER = re.compile(r"<[a-z]+\s[^<>]*\bdata-engage-thread=")
#: Articles whose thread a template rendered during this process.
_RENDERED: weakref.WeakSet[Any] = weakref.WeakSet()
#: What the plugin's own thread template reads from the page's context,
#: besides ``article.engage``; the rendered-HTML cache is keyed by these.
CONTEXT_KEYS = (
    "SITEURL",
    "ENGAGE_CSS",
    "ENGAGE_SHOW_WAITING",
    "ENGAGE_DATE_FORMAT",
    "ENGAGE_COMMENT_EMAIL",
    "ENGAGE_WEBMENTION",
    "ENGAGE_COMMENT_FEED",
    "DEFAULT_LANG",
    "ENGAGE_AVATARS",
    "TIMEZONE",
)


def add_templates(env: Environment) -> None:
    """Make ``engage/*`` templates available, after the theme's own.

    Appending (not prepending) the loader lets a theme override
    ``engage/thread.html`` by shipping its own copy.
    """
    ours = FileSystemLoader(str(TEMPLATES))
    loader = env.loader
    if isinstance(loader, ChoiceLoader):
        if not any(
            isinstance(existing, FileSystemLoader) and str(TEMPLATES) in existing.searchpath
            for existing in loader.loaders
        ):
            loader.loaders = [*loader.loaders, ours]
    else:
        env.loader = ChoiceLoader([loader, ours]) if loader else ours
    env.filters.setdefault("engage_anchor", anchor)
    env.filters.setdefault("engage_local", local_time)
    env.filters.setdefault("engage_strftime", format_time)
    # Names, not globals: see template_names.py.
    template_names.provide(
        env,
        {
            "engage_mark": mark_rendered,
            "engage_networks": NETWORK_NAMES,
            "engage_discussions": DISCUSSION_NAMES,
            "engage_mailto": reply_mail.mailto,
            "engage_mail_tag": reply_mail.tag,
            "engage_webmention_endpoint": webmention_endpoint,
            "engage_pcs_anchor": pcs_anchor,
            "engage_feed_path": feed_path,
            "engage_source_mark": icons.mark,
            "engage_json_ld": structured.script,
            "engage_host": host,
            "engage_item": item_html,
            **TEMPLATE_DEFAULTS,
        },
    )
    i18n.install(env)


#: Bump when the Python that writes a thread's HTML (render_items.py) writes
#: other markup: rendered threads cached by earlier versions are then not
#: reused (2: dates' invisible spaces as character references; 3: source
#: marks' drawings as SVG symbols).
MARKUP = 3


def render_key(env: Environment, context: Mapping[str, Any], *more: str) -> str:
    """What a thread's HTML depends on besides the thread: the markup's
    version, settings (as the templates of ``env`` read them: the page's
    ``context``, a global, or the default), the page's language, the
    catalogs' contents and ``more``."""
    values = [template_names.value(env, context, k) for k in CONTEXT_KEYS]
    return repr([MARKUP, *values, i18n.language_of(context), i18n.fingerprint(), *more])


def format_time(when: datetime, fmt: str) -> str:
    """``when`` formatted with ``fmt`` in the site's locale (Pelican's
    strftime: month and day names follow LOCALE, and ``%-d`` works everywhere)."""
    from pelican.utils import strftime

    return str(strftime(when, fmt))


def pcs_anchor(item: Any, slug_subs: Any = None) -> str:
    """pelican_comment_system's ``comment-<slug>`` id for a local comment."""
    from .pcs_compat import alias_id

    return alias_id(item, slug_subs) if slug_subs else alias_id(item)


def feed_path(pattern: Any, key: str) -> str:
    """Output path of a post's comment feed, "" when feeds are off."""
    from .comment_feed import feed_path, from_pcs

    return feed_path(from_pcs(pattern), key) if isinstance(pattern, str) and pattern else ""


def mark_rendered(article: Any) -> str:
    """Called by thread.html: this page shows the thread already (and its
    items are written afresh, see :func:`render_items.new_thread`)."""
    _RENDERED.add(article)
    new_thread()
    return ""


def has_thread(article: Any, page: str, body: str, own_templates: bool = True) -> bool:
    """Does the written page already show the article's thread?

    The plugin's template marks the article as it renders, which no text can
    imitate.  A theme's own copy may not, so then its markup is looked for,
    outside the article body (a post about this plugin may quote it).
    """
    if article in _RENDERED:
        return True
    if own_templates:
        return False
    start = page.find(body) if body.strip() else -1
    outside = page[:start] + page[start + len(body) :] if start >= 0 else page
    return bool(MARKER.search(outside))


def uses_own_templates(env: Environment) -> bool:
    """True when neither thread template is overridden by the theme."""
    for name in (THREAD_TEMPLATE, MACROS_TEMPLATE):
        try:
            # The loader's answer, without compiling the template (a warm
            # build that reuses every thread never renders one).
            loader = env.loader
            if loader is None:
                raise TypeError("no loader")
            filename = loader.get_source(env, name)[1] or ""
        except (AttributeError, TypeError, TemplateNotFound):
            filename = env.get_template(name).filename or ""
        if Path(filename).resolve().parent.parent != TEMPLATES.resolve():
            return False
    return True


def render_thread(env: Environment, context: Mapping[str, Any], page: bool = True) -> str:
    """The thread of ``context``'s article; ``page=False``: rendered ahead of
    its page, which is therefore not marked as showing it (see :func:`has_thread`)."""
    html = env.get_template(THREAD_TEMPLATE).render(dict(context))
    if not page:
        _RENDERED.discard(context.get("article"))
    return html


def inject(page: str, thread_html: str, body: str) -> str | None:
    """Put ``thread_html`` after the article ``body`` inside ``page``.

    Returns ``None`` when the page offers no place to put one.
    """
    start = page.find(body) if body.strip() else -1
    position = -1
    if start >= 0:
        end = start + len(body)
        # Most themes wrap the post in <article>; the thread goes last in it,
        # after the post's own footer, unless another <article> (a card of
        # related posts) opens first.
        closing = page.find("</article>", end)
        opening = page.find("<article", end)
        position = closing if closing >= 0 and (opening < 0 or closing < opening) else end
    else:
        for tag in ("</article>", "</main>", "</body>"):
            position = page.rfind(tag)
            if position >= 0:
                break
    if position < 0:
        return None
    # One copy of the page and its thread (tens of kB): chained "+" makes three.
    return "".join((page[:position], thread_html, "\n", page[position:]))


_WEBMENTION_LINK = re.compile(r"""<link\s[^<>]*\brel=["']?[^"'<>]*\bwebmention\b""", re.I)
_HEAD_END = re.compile(r"</head\s*>", re.I)


def add_webmention_link(page: str, endpoint: str) -> str | None:
    """``page`` with ``<link rel="webmention">`` before ``</head>``.

    ``None`` when the page has no head, or already names an endpoint (the
    theme's own, which wins).
    """
    if _WEBMENTION_LINK.search(page):
        return None
    head = _HEAD_END.search(page)
    if head is None:
        return None
    link = f'<link rel="webmention" href="{html.escape(endpoint, quote=True)}">\n'
    return page[: head.start()] + link + page[head.start() :]


def write_stylesheet(output_path: Path, relative: str) -> Path:
    target = output_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STYLESHEET, target)
    return target
