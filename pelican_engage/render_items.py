"""One conversation item and its replies as HTML: the ``item`` macro of
``engage/macros.html``, written in Python.

A thread of 25 replies made ~250 Jinja macro calls and ~1,000 attribute
look-ups through the sandbox-aware ``getattr``; a 2,000-post site spent
about 4.5 s there on a cold build.  This writes the same markup with string
joins (byte for byte what the macro wrote under Pelican's Jinja options),
and remembers the words of a thread's language once per render.

Every string printed is either already sanitised HTML (``content_html``,
cleaned on the way in) or plain text escaped here, because Pelican does not
autoescape.  Themes that want other markup override ``engage/macros.html``
(or ``thread.html``) as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime, timezone, tzinfo
from typing import Any

from jinja2 import pass_context
from markupsafe import escape

from . import i18n, icons, reply_mail
from .model import anchor
from .sources.registry import NETWORKS, WITH_HANDLES

__all__ = [
    "DISCUSSION_NAMES",
    "NETWORK_NAMES",
    "ItemWriter",
    "PageParts",
    "host",
    "item_html",
    "local_time",
    "new_thread",
]

#: How templates name each announcing network in "Reply on X" and "Join the
#: conversation" (a source not in it gets the mailto: reply link instead).
NETWORK_NAMES = {n.name: n.display for n in WITH_HANDLES}
#: Discussion sites (Hacker News...): their submissions read "Discussed on ...".
DISCUSSION_NAMES = {n.name: n.display for n in NETWORKS if n.discussion}


def _e(value: Any) -> str:
    """Jinja's ``|e``: markup passes, anything else is escaped (``&#34;``
    and ``&#39;`` for quotes, as markupsafe writes them)."""
    if type(value) is str:
        # A plain string, the usual case: replace() is ~4 times faster
        # than making a Markup object for each attribute.
        return (
            value.replace("&", "&amp;")
            .replace(">", "&gt;")
            .replace("<", "&lt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;")
        )
    return str(escape(value))


@functools.lru_cache(maxsize=1024)
def _anchor(item_id: str) -> str:
    return anchor(item_id)


class PageParts:
    """What every item of one page shares: its settings and its words, read
    once, and the small parts of a card (author, time, source, actions).

    ``context`` is the page's template context (SITEURL, TIMEZONE,
    ENGAGE_DATE_FORMAT, ENGAGE_SHOW_WAITING, ENGAGE_COMMENT_EMAIL,
    SLUG_REGEX_SUBSTITUTIONS, ``engage_avatar`` and the article, whose
    ``lang`` chooses the words).
    """

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.lang = i18n.language_of(context)
        self.zone = context.get("TIMEZONE")
        self.date_format = context.get("ENGAGE_DATE_FORMAT", "medium")
        self.show_waiting = bool(context.get("ENGAGE_SHOW_WAITING"))
        self.comment_email = str(context.get("ENGAGE_COMMENT_EMAIL") or "")
        self.slug_subs = context.get("SLUG_REGEX_SUBSTITUTIONS")
        self.avatar: Callable[..., Any] | None = context.get("engage_avatar") or None
        self.translate = functools.partial(i18n.gettext_for, self.lang)
        # The environment's names (a host may give its own), else ours.
        self.networks: Mapping[str, str] = context.get("engage_networks", NETWORK_NAMES)
        self.discussions: Mapping[str, str] = context.get("engage_discussions", DISCUSSION_NAMES)
        self._words: dict[str, str] = {}
        self._marks: dict[str, str] = {}
        self._drawn: set[str] = set()
        self._reply_on: dict[str, str] = {}

    def _(self, message: str) -> str:
        """A message without variables, translated once per page."""
        words = self._words.get(message)
        if words is None:
            words = self._words[message] = i18n.gettext_for(self.lang, message)
        return words

    def _author(self, it: Any) -> str:
        """The author's h-card: avatar (or initials) and name."""
        person = it.author
        avatar = str(self.avatar(person)) if self.avatar else ""
        name = _e(person.name)
        if person.url:
            link = (
                f'<a class="p-name u-url" dir="auto" href="{_e(person.url)}" '
                f'rel="nofollow ugc noopener">{name}</a>'
            )
        else:
            link = f'<span class="p-name" dir="auto">{name}</span>'
        return f'<span class="p-author h-card">{avatar}{link}</span>'

    def _when(self, it: Any, link: bool = True) -> str:
        """When, in the site's TIMEZONE and locale, as the permalink or not."""
        local = local_time(it.published, self.zone)
        written = i18n.when_html(local, self.date_format, self.lang)
        stamp = f'<time class="dt-published" datetime="{local.isoformat()}">{written}</time>'
        if link:
            href = _e(it.url or "#" + _anchor(it.id))
            return f'<a class="u-url engage-permalink" href="{href}">{stamp}</a>'
        return f'<span class="engage-permalink">{stamp}</span>'

    def _mark(self, it: Any) -> str:
        """The source mark, made once per source and page.  The first one
        defines the drawing and the later ones point at it (see :func:`icons.mark`)."""
        source = icons.source_of(it)
        mark = self._marks.get(source)
        if mark is None:
            first = " " + str(icons.mark(it, self.translate, self._drawn))
            self._marks[source] = " " + str(icons.mark(it, self.translate, self._drawn))
            return first
        return mark

    def _actions(self, node: Any, post: Any, out: list[str]) -> None:
        """ "Reply on Mastodon", or the e-mail reply link for our own comments."""
        it = node.item
        if it.reply_url and it.source in self.networks:
            words = self._reply_on.get(it.source)
            if words is None:
                words = self._reply_on[it.source] = i18n.gettext_for(
                    self.lang, "Reply on %(network)s", network=_e(self.networks[it.source])
                )
            out.append(
                f'<p class="engage-actions"><a class="engage-reply-link" '
                f'href="{_e(it.reply_url)}" rel="nofollow noopener" target="_blank">{words}</a></p>'
            )
        elif self.comment_email and post and it.source not in self.networks:
            out.append(self._mail_reply(it, post))

    def _mail_reply(self, it: Any, post: Any) -> str:
        item_anchor = _anchor(it.id)
        subject = f"Re: {_striptags(post.title)} {reply_mail.tag(post.key, it.id)}"
        name = it.author.name
        body = (
            i18n.gettext_for(
                self.lang,
                "Your reply to %(name)s (%(url)s):",
                name=name,
                url=f"{post.url}#{item_anchor}",
            )
            + "\n\n\n\n"
            + self._(
                "Your reply may be published with the name of your From line; "
                "your e-mail address never is."
            )
            + "\n"
        )
        href = _e(reply_mail.mailto(self.comment_email, subject, body))
        label = _e(i18n.gettext_for(self.lang, "Reply to %(name)s by e-mail", name=name))
        reply = self._("Reply")
        return (
            f'<p class="engage-actions"><a class="engage-reply-link engage-reply-mail" '
            f'href="{href}" rel="nofollow" aria-label="{label}">{reply}</a></p>'
        )


class ItemWriter(PageParts):
    """Writes items for one page (see :class:`PageParts` for ``context``)."""

    def html(self, node: Any, post: Any = None) -> str:
        """``<li>`` of ``node`` (an ``Engagement`` node: item, children,
        parent, by_author, waiting, flat, placeholder, reply_to_name) and its
        replies; ``post`` (the thread's ``Post``) adds the e-mail reply link."""
        out: list[str] = []
        self._node(node, post, out)
        return "".join(out)

    # -- the three shapes of a node ------------------------------------------

    def _node(self, node: Any, post: Any, out: list[str]) -> None:
        if node.placeholder:
            self._placeholder(node, out)
        elif node.item.kind == "mention":
            self._mention(node, post, out)
        else:
            self._comment(node, post, out)

    def _ids(self, node: Any, out: list[str]) -> None:
        item_id = node.item.id
        out.append(f'" id="{_anchor(item_id)}" data-engage-id="{_e(item_id)}"')
        if node.parent:
            out.append(f' data-engage-parent="{_e(node.parent)}"')
        out.append(">")

    def _children(self, node: Any, post: Any, out: list[str]) -> None:
        if node.children:
            out.append('<ol class="engage-replies">\n')
            for child in node.children:
                self._node(child, post, out)
                out.append("\n")
            out.append("</ol>")
        out.append("</li>")

    def _placeholder(self, node: Any, out: list[str]) -> None:
        """A deleted or withheld item whose replies are still shown."""
        kind = node.placeholder
        out.append(f'<li class="engage-placeholder engage-placeholder-{_e(kind)}')
        self._ids(node, out)
        text = (
            self._("This reply was deleted.")
            if kind == "deleted"
            else self._("This reply is not shown here.")
        )
        out.append(
            f'\n<div class="engage-card"><p class="engage-placeholder-text">{text}</p></div>'
        )
        # Replies under a placeholder were written without the post (no
        # e-mail reply link) by the macro; kept so.
        self._children(node, None, out)

    def _mention(self, node: Any, post: Any, out: list[str]) -> None:
        """A mention, pingback or discussion-site submission: a compact row."""
        it = node.item
        # A WordPress pingback's URL is the comment on the old blog, and its
        # author's URL the mentioning page.
        page = it.author.url if it.source == "wordpress" and it.author.url else it.url
        where = host(page) if page else ""
        discussion = self.discussions.get(it.source, "")
        out.append(
            '<li class="engage-item engage-mention h-entry h-cite u-comment '
            f"engage-kind-mention engage-source-{_e(it.source)}"
        )
        if discussion:
            out.append(" engage-discussion")
        if node.by_author:
            out.append(" engage-by-author")
        self._ids(node, out)
        out.append('\n<p class="engage-mention-row">')
        name = self._author(it)
        label = discussion if discussion and page else where
        site = (
            f'<a class="u-url engage-mention-link" href="{_e(page)}" '
            f'rel="nofollow ugc noopener">{_e(label)}</a>'
        )
        if discussion and page:
            out.append(
                i18n.gettext_for(
                    self.lang, "Discussed on %(site)s, shared by %(name)s", site=site, name=name
                )
            )
        elif where:
            out.append(
                i18n.gettext_for(
                    self.lang, "%(name)s mentioned this on %(site)s", name=name, site=site
                )
            )
        else:
            out.append(i18n.gettext_for(self.lang, "%(name)s mentioned this", name=name))
        out.append(f" {self._when(it, not where)}{self._mark(it)}</p>")
        if it.content_html:
            out.append(f'<div class="e-content engage-mention-text">{it.content_html}</div>')
        self._children(node, post, out)

    def _comment(self, node: Any, post: Any, out: list[str]) -> None:
        """A comment, reply or quote: the card with its author, time and text."""
        it = node.item
        out.append(
            f'<li class="engage-item h-entry h-cite u-comment engage-kind-{_e(it.kind)} '
            f"engage-source-{_e(it.source)}"
        )
        if node.by_author:
            out.append(" engage-by-author")
        # Whom the author has not answered is private unless ENGAGE_SHOW_WAITING.
        waiting = node.waiting and self.show_waiting
        if waiting:
            out.append(" engage-waiting")
        self._ids(node, out)
        extras = it.extras
        old_anchor = extras.get("old_anchor") if isinstance(extras, Mapping) else None
        if old_anchor:
            out.append(f'<span id="{_e(old_anchor)}" class="engage-old-anchor"></span>')
        alias = _pcs_alias(it, self.slug_subs)
        card = f' id="{_e(alias)}"' if alias else ""
        out.append(f'<div class="engage-card"{card}>')
        out.append(f'\n<header class="engage-meta">\n{self._author(it)}')
        if node.by_author:
            title = _e(self._("The author of this blog"))
            badge = self._("Author")
            out.append(f' <span class="engage-badge" title="{title}">{badge}</span>')
        out.append(f" {self._when(it)}{self._mark(it)}")
        if node.flat and node.parent:
            reply_to = i18n.gettext_for(
                self.lang, "in reply to %(name)s", name=_e(node.reply_to_name)
            )
            out.append(
                f' <a class="u-in-reply-to engage-in-reply-to" '
                f'href="#{_anchor(node.parent)}">{reply_to}</a>'
            )
        if waiting:
            flag = self._("Waiting for a reply")
            out.append(f' <span class="engage-waiting-flag">{flag}</span>')
        out.append("</header>")
        warnings = extras.get("warnings") if isinstance(extras, Mapping) else None
        if warnings:
            summary = i18n.gettext_for(
                self.lang,
                "Content warning: %(warnings)s",
                warnings=_e(", ".join(map(str, warnings))),
            )
            out.append(
                f'<details class="engage-warning"><summary>{summary}</summary>\n'
                f'<div class="e-content">{it.content_html}</div>\n</details>'
            )
        else:
            out.append(f'<div class="e-content">{it.content_html}</div>')
        self._actions(node, post, out)
        out.append("</div>")
        self._children(node, post, out)


def local_time(when: datetime, zone: Any = None) -> datetime:
    """``when`` in the site's zone (TIMEZONE), so every item of a thread
    reads alike whatever zone its network gave; UTC when the zone is unknown."""
    return when.astimezone(_zone(str(zone or "UTC")))


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return timezone.utc


def host(url: str) -> str:
    """The host of ``url``, without "www." ("" when it has none)."""
    from urllib.parse import urlsplit

    try:
        name = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return name.removeprefix("www.")


def _pcs_alias(item: Any, slug_subs: Any) -> str:
    """pelican_comment_system's ``comment-<slug>`` id, on local comments only."""
    if item.source != "local":
        return ""
    from .pcs_compat import alias_id  # only sites with local comments need it

    return alias_id(item, slug_subs) if slug_subs else alias_id(item)


def _striptags(value: Any) -> str:
    """Jinja's ``striptags`` filter."""
    from markupsafe import Markup

    return Markup(str(value)).striptags()


#: The writer of the thread being rendered: its roots share one (a thread
#: calls the macro once per top-level item).  Only ever the last thread's.
_LAST: list[Any] = [None, None, None]


@pass_context
def item_html(context: Any, node: Any, post: Any = None) -> str:
    """Template name ``engage_item(node, post)``: what the ``item`` macro prints.

    A new writer for each page's context and each thread (``post``): the
    macros imported without context share one context across pages, and
    a writer remembers which drawings its page holds (:meth:`PageParts._mark`).
    """
    if _LAST[0] is not context or _LAST[1] is not post:
        _LAST[:] = [context, post, ItemWriter(context)]
    return str(_LAST[2].html(node, post))


def new_thread() -> None:
    """The next item written starts a thread (``engage_mark`` calls this)."""
    _LAST[:] = [None, None, None]
