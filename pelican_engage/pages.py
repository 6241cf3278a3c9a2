"""Finishing Pelican's pages: the thread after the article, and the
webmention link in every page's head.

Pelican has no signal before it writes a page.  Each generator's Jinja
environment therefore gets a template class (:func:`hook`) whose
``render`` hands the page to the plugin before Pelican writes it: one
write, nothing read back.  Pages rendered another way (another plugin
replaced the template class after us) are finished after they are
written, on ``content_written``, by reading and rewriting the file; both
ways go through :func:`finish`, so the page is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Environment, Template

from . import render, template_names

#: The environment's name (template_names.py) for the plugin's
#: ``(context, page) -> page``.
HOOK = "engage_page_hook"
#: Our own templates are parts of pages, never pages.
_OWN = ("engage/", "pcs/")


def hook(env: Environment, finish_page: Callable[[Mapping[str, Any], str], str]) -> None:
    """Have ``finish_page`` see each page ``env`` renders, before it is written.

    The environment's template class is subclassed (whatever it is), once;
    templates it loaded already keep their class, and so are finished on
    ``content_written`` instead.
    """
    template_names.provide(env, {HOOK: finish_page})
    if not getattr(env.template_class, "_engage_hooked", False):
        env.template_class = _hooked(env.template_class)


def _hooked(base: type[Template]) -> type[Template]:
    class EngagePageTemplate(base):  # type: ignore[valid-type,misc]
        _engage_hooked = True

        def render(self, *args: Any, **kwargs: Any) -> str:
            # Another plugin may have replaced the context class since.
            template_names.ensure(self.environment)
            page: str = super().render(*args, **kwargs)
            finish_page = template_names.lookup(self.environment, HOOK)
            if finish_page is None or (self.name or "").startswith(_OWN):
                return page
            one = len(args) == 1 and not kwargs and isinstance(args[0], Mapping)
            return str(finish_page(args[0] if one else kwargs, page))

    return EngagePageTemplate


def page_context(generator: Any, article: Any, save_as: str) -> dict[str, Any]:
    """The context ``generator`` will render the article's page with, as
    Pelican's ``Writer.write_file`` makes it, as far as the thread's HTML
    depends on it: a thread rendered ahead with it is reused only when the
    page's own context gives the same :func:`render.render_key`."""
    return {**generator.context, **page_overrides(generator, article, save_as)}


def page_overrides(generator: Any, article: Any, save_as: str) -> dict[str, Any]:
    """What :func:`page_context` changes of the generator's context."""
    overrides = {"output_file": save_as, "article": article}
    if generator.settings.get("RELATIVE_URLS"):
        from pelican.utils import get_relative_path, path_to_url

        overrides["SITEURL"] = path_to_url(get_relative_path(save_as))
    return overrides


def finish(
    page: str,
    article: Any,
    thread_html: Callable[[], str] | None,
    endpoint: str,
    own_templates: bool,
) -> str:
    """``page`` with the article's thread after its body (unless the page
    shows it already; ``thread_html`` None: not an article's page) and the
    ``<link rel="webmention">`` of ``endpoint`` ("": none)."""
    updated = page
    if thread_html is not None and article is not None:
        body = article.content
        if not render.has_thread(article, page, body, own_templates):
            updated = render.inject(page, thread_html(), body) or page
    if endpoint:
        updated = render.add_webmention_link(updated, endpoint) or updated
    return updated
