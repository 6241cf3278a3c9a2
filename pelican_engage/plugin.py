"""Pelican glue: signals in, calls to the library out.

Signals are process-global and ``pelican --autoreload`` runs the build again
in the same process, so everything a build learns lives in one ``_Build``
object that ``article_generator_init`` replaces at the start of each run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pelican import signals

from . import render
from .engine import Engine, is_opted_out
from .settings import CSS_OUTPUT, DEFAULTS, SettingsError, load

logger = logging.getLogger(__name__)


@dataclass
class _Build:
    engine: Engine | None
    started: float = field(default_factory=time.perf_counter)
    env: Any = None
    #: Output file (resolved) -> (article, rendered-into-page?)
    pages: dict[str, Any] = field(default_factory=dict)
    injected: int = 0
    summarised: bool = False
    own_templates: bool | None = None


_build: _Build | None = None


def prepare_settings(settings: dict[str, Any]) -> None:
    """Keep comment files out of Pelican's articles and pages.

    Runs at ``initialized``, before the generators read anything; the CLI
    calls it too.
    """
    folder = settings.get("ENGAGE_COMMENTS_PATH") or settings.get(
        "PELICAN_COMMENT_SYSTEM_DIR", "comments"
    )
    for key in ("ARTICLE_EXCLUDES", "PAGE_EXCLUDES"):
        excludes = list(settings.get(key) or [])
        if isinstance(folder, str) and folder not in excludes:
            excludes.append(folder)
        settings[key] = excludes
    # Templates read these from the context, so they need their defaults there.
    for key in ("ENGAGE_DISPLAY_DEPTH", "ENGAGE_CSS", "ENGAGE_SHOW_WAITING", "ENGAGE_DATE_FORMAT"):
        settings.setdefault(key, DEFAULTS[key])


def start_build(settings: dict[str, Any]) -> Engine | None:
    """The engine for one build, or None (with an error) if settings are bad."""
    try:
        return Engine(load(settings), settings)
    except SettingsError as exc:
        logger.error("engage: setting %s; conversations are left out of this build", exc)
        return None


def _articles(generator: Any) -> Iterable[Any]:
    for name in (
        "articles",
        "translations",
        "hidden_articles",
        "hidden_translations",
        "drafts",
        "drafts_translations",
    ):
        yield from getattr(generator, name, ()) or ()


def on_initialized(pelican: Any) -> None:
    prepare_settings(pelican.settings)


def on_generator_init(generator: Any) -> None:
    render.add_templates(generator.env)


def on_article_generator_init(generator: Any) -> None:
    global _build
    _build = _Build(engine=start_build(generator.settings), env=generator.env)


def on_article_generator_finalized(generator: Any) -> None:
    if _build is None or _build.engine is None:
        return
    output = Path(generator.output_path).resolve()
    seen: set[int] = set()
    for article in _articles(generator):
        if id(article) in seen or is_opted_out(article):
            continue
        seen.add(id(article))
        article.engage = _build.engine.engage(article)
        if article.save_as:
            _build.pages[str((output / article.save_as).resolve())] = article


def on_content_written(path: str, context: Any = None) -> None:
    build = _build
    if build is None or build.engine is None or not build.engine.settings.inject:
        return
    article = build.pages.get(str(Path(path).resolve()))
    if article is None or not context or context.get("article") is not article:
        return
    page = Path(path).read_text(encoding="utf-8")
    thread_html = _thread_html(build, article, context)
    updated = render.inject(page, thread_html, article.content)
    if updated is not None:
        Path(path).write_text(updated, encoding="utf-8")
        build.injected += 1


def _thread_html(build: _Build, article: Any, context: Any) -> str:
    """Render the thread, or reuse the HTML of an earlier build.

    Reuse is safe only with the plugin's own templates, whose output depends
    on nothing but the thread and the keys below; a theme's override may
    print anything from its context, so it is rendered every time.
    """
    engine = build.engine
    assert engine is not None
    if build.own_templates is None:
        build.own_templates = render.uses_own_templates(build.env)
    if not build.own_templates:
        return render.render_thread(build.env, context)
    key = article.engage.thread.post.key
    render_key = repr(
        [
            context.get(k)
            for k in ("SITEURL", "ENGAGE_CSS", "ENGAGE_SHOW_WAITING", "ENGAGE_DATE_FORMAT")
        ]
    )
    html = engine.threads.rendered(key, render_key)
    if html is None:
        html = render.render_thread(build.env, context)
        engine.threads.remember_render(key, render_key, html)
    return html


def on_article_writer_finalized(generator: Any, writer: Any = None) -> None:
    if _build is None or _build.engine is None or not _build.engine.settings.css:
        return
    render.write_stylesheet(Path(generator.output_path), CSS_OUTPUT)


def on_finalized(pelican: Any) -> None:
    build = _build
    if build is None or build.engine is None or build.summarised:
        return
    build.summarised = True
    engine = build.engine
    engine.finish()
    logger.info(
        "engage: %d conversation item(s) on %d post(s), %d waiting for your reply; "
        "%d comment file(s) parsed, %d thread(s) reused, %d problem(s); %.2f s",
        engine.items,
        engine.posts,
        engine.waiting,
        engine.local.parsed_files,
        engine.threads.hits,
        len(engine.problems),
        time.perf_counter() - build.started,
    )


_RECEIVERS = (
    (signals.initialized, on_initialized),
    (signals.generator_init, on_generator_init),
    (signals.article_generator_init, on_article_generator_init),
    (signals.article_generator_finalized, on_article_generator_finalized),
    (signals.content_written, on_content_written),
    (signals.article_writer_finalized, on_article_writer_finalized),
    (signals.finalized, on_finalized),
)


def register() -> None:
    """Pelican's entry point: ``PLUGINS = ["pelican_engage"]``."""
    for signal, receiver in _RECEIVERS:
        signal.connect(receiver)


def unregister() -> None:
    """Disconnect every receiver (tests, and hosts that build many sites)."""
    global _build
    for signal, receiver in _RECEIVERS:
        signal.disconnect(receiver)
    _build = None
