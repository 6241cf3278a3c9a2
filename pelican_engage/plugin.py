"""Pelican glue: signals in, calls to the library out.

Signals are process-global, ``pelican --autoreload`` runs the build again in
the same process, and i18n_subsites runs whole sub-site builds inside the
main one.  So everything a build learns lives in a ``_Build`` keyed by its
output folder, replaced when that site's next run starts.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pelican import signals

from . import (
    author_page,
    avatars,
    build_status,
    consumers,
    fetching,
    notify,
    pages,
    pcs_compat,
    prebuild,
    prefetch,
    render,
    template_names,
    workers,
)
from .articles import shared_key_problem
from .cache import LazyEngagement
from .engine import After, Engine, article_lists, engage_all, is_opted_out
from .settings import CSS_OUTPUT, SettingsError, load, prepare_settings, settings_folder

logger = logging.getLogger(__name__)


@dataclass
class _Build:
    engine: Engine | None
    env: Any = None
    started: float = field(default_factory=time.perf_counter)
    #: Written article page (absolute path) -> its article.
    pages: dict[str, Any] = field(default_factory=dict)
    own_templates: bool | None = None
    #: pelican_comment_system's names for themes written for it.
    pcs: pcs_compat.Options | None = None
    #: The avatars templates show (None: ENGAGE_AVATARS is off).
    avatars: avatars.Avatars | None = None
    #: Stored avatar files the build's threads show, copied into the output.
    avatar_files: set[str] = field(default_factory=set)
    #: Post key -> the first article or page with a thread under it.
    owners: dict[str, Any] = field(default_factory=dict)
    #: Seconds spent in the plugin's own receivers (engage's share of the build).
    own: float = 0.0
    #: Threads rendered by this build (not reused from the cache).
    rendered: int = 0
    #: Pages finished as they were rendered, before Pelican wrote them.
    finished: set[str] = field(default_factory=set)
    #: The articles' generator (its articles get comment feeds).
    articles: Any = None
    #: The worker building threads while Pelican reads the articles.
    early: prebuild.Early | None = None
    #: The comment feeds and the author's page, written beside Pelican's
    #: writing (another process, when workers are allowed): their problems.
    writing: workers.Background[consumers.Written] | None = None
    #: The child reading a warm build's files ahead (prefetch.py).
    prefetch: Any = None
    #: Archive files the build's fetch could not write: file -> the error.
    unsaved: dict[str, str] = field(default_factory=dict)


_builds: dict[str, _Build] = {}


#: Absolute path -> as compared (abspath): a page's is asked for three times.
_SITES: dict[str, str] = {}


def _site(path: str) -> str:
    found = _SITES.get(path)
    if found is None:
        found = os.path.abspath(path)
        if os.path.isabs(path):  # a relative one depends on the working folder
            _SITES[path] = found
    return found


def _build_for_file(path: str) -> _Build | None:
    """The build whose output folder holds ``path`` (the deepest one)."""
    target = _site(path)
    found = None
    for folder in _builds:
        if target.startswith(folder + os.sep) and (found is None or len(folder) > len(found)):
            found = folder
    return _builds[found] if found else None


def on_initialized(pelican: Any) -> None:
    prepare_settings(pelican.settings, folder=settings_folder(pelican.settings))
    # Every plugin is registered by now: this one runs after theirs.
    signals.finalized.disconnect(on_finalized_last)
    signals.finalized.connect(on_finalized_last)


def on_generator_init(generator: Any) -> None:
    render.add_templates(generator.env)
    template_names.provide(generator.env, pcs_compat.template_defaults(generator.settings))
    pages.hook(generator.env, functools.partial(_finish_rendered, generator.output_path))


def on_article_generator_init(generator: Any) -> None:
    started = time.perf_counter()
    _SITES.clear()
    last = _builds.get(_site(generator.output_path))
    if last is not None:  # that build failed (autoreload): its workers' work is unwanted
        if last.early is not None:
            last.early.finish()
        if last.writing is not None:
            last.writing.cancel()
        prefetch.stop(last.prefetch)
    try:
        engine: Engine | None = Engine(load(generator.settings), generator.settings)
    except SettingsError as exc:
        logger.error("engage: setting %s; conversations are left out of this build", exc)
        engine = None
    shown = None
    if engine is not None and engine.settings.avatars:
        shown = avatars.Avatars(avatars.store_for(engine.settings), engine.settings.siteurl)
    # Per build, not setdefault: the next build (autoreload) may turn them off.
    template_names.provide(generator.env, {"engage_avatar": shown})
    build = _builds[_site(generator.output_path)] = _Build(
        engine=engine,
        env=generator.env,
        pcs=pcs_compat.options(generator.settings),
        avatars=shown,
        own=time.perf_counter() - started,
    )
    if engine is not None and not engine.threads.empty:
        forked = time.perf_counter()
        build.prefetch = prefetch.start(engine)
        build.own += time.perf_counter() - forked
    # Only when nothing is cached: offering each article costs its inputs
    # twice, for nothing in a warm build.
    if engine and engine.threads.empty and workers.workers_for(engine.settings.workers) > 1:
        build.early = prebuild.Early(engine, _after(build, generator))
    # Each article read is offered to an early worker; with none (a warm
    # build), not even asked: Pelican's signal costs ~10 µs a receiver.
    if any(b.early is not None for b in _builds.values()):
        signals.content_object_init.connect(on_content_object_init)
    else:
        signals.content_object_init.disconnect(on_content_object_init)


def on_content_object_init(content: Any) -> None:
    """An article Pelican just read: its thread may be built meanwhile
    (connected while an early worker waits for articles)."""
    from pelican.contents import Article

    settings = getattr(content, "settings", None) or {}
    build = _builds.get(_site(str(settings.get("OUTPUT_PATH") or ".")))
    if build is not None and build.early is not None and isinstance(content, Article):
        started = time.perf_counter()
        build.early.offer(content)
        build.own += time.perf_counter() - started


def _timed(receiver: Any) -> Any:
    """Add the receiver's time to its build's ``own`` seconds (the build
    summary's "engage X s": what the plugin costs, apart from Pelican)."""

    @functools.wraps(receiver)
    def timed(first: Any, *rest: Any, **named: Any) -> Any:
        started = time.perf_counter()
        try:
            return receiver(first, *rest, **named)
        finally:
            if isinstance(first, str):
                build = _build_for_file(first)
            else:
                build = _builds.get(_site(getattr(first, "output_path", "") or "."))
            if build is not None:
                build.own += time.perf_counter() - started

    return timed


@_timed
def on_article_generator_finalized(generator: Any) -> None:
    build = _builds.get(_site(generator.output_path))
    if build is None or build.engine is None:
        return
    build.articles = generator
    _engage_all(build, build.engine, generator)


@_timed
def on_page_generator_finalized(generator: Any) -> None:
    """Pages (an imported WordPress page, an "About") get a conversation too.

    Pelican makes every article and page before it writes any, so the
    avatars of both are fetched here, once.
    """
    build = _builds.get(_site(generator.output_path))
    if build is None or build.engine is None:
        return
    _engage_all(build, build.engine, generator)
    if build.avatars is not None:
        _avatars(build, build.engine)
    # Every thread is known now, and the feeds and the author's page need
    # nothing Pelican does next: they are written while Pelican writes pages.
    if build.writing is None:
        processes = workers.workers_for(build.engine.settings.workers)
        build.writing = consumers.start(build.engine, build.articles, processes)


def _stamp(build: _Build) -> str:
    """The avatars' part of a thread's render key."""
    return build.avatars.store.stamp if build.avatars else ""


def _engage_all(build: _Build, engine: Engine, generator: Any) -> None:
    """Fetch what is due for the generator's articles or pages, then give
    each its ``engage`` (its thread), noting the page it is written to."""
    # Stopped before fetching changes the archive (what it built from the
    # old one is not used then: its fingerprints differ).
    early = build.early.finish() if build.early is not None else {}
    build.early = None
    listed = [a for a, published in article_lists(generator) if published]
    build.unsaved.update(fetching.fetch_and_tell(engine, listed))
    seen: set[int] = set()
    chosen = []
    for article, counted in article_lists(generator, drafts=True):
        if id(article) in seen:
            continue
        if is_opted_out(article):
            engine.opted_out(article)
            continue
        seen.add(id(article))
        chosen.append((article, counted))
    processes = workers.workers_for(engine.settings.workers)
    built = engage_all(engine, chosen, _after(build, generator), processes, early)
    for (article, _counted), engagement in zip(chosen, built, strict=True):
        article.engage = engagement
        first = build.owners.setdefault(article.engage.key, article)
        problem = shared_key_problem(first, article)
        if problem is not None:
            engine.report(problem)
        if build.pcs is not None:
            pcs_compat.attach(article, article.engage, build.pcs)
        save_as = article.save_as  # a property Pelican computes on each read
        if save_as:
            build.pages[_site(os.path.join(generator.output_path, save_as))] = article


def _after(build: _Build, generator: Any) -> After | None:
    return functools.partial(_render_ahead, build, generator) if _renders_ahead(build) else None


def _renders_ahead(build: _Build) -> bool:
    """Threads are rendered as they are built (while in hand, and by the
    workers) when pages show them through the plugin's own templates."""
    engine = build.engine
    if engine is None or not engine.settings.inject or not engine.threads.persist:
        return False
    if build.own_templates is None:
        build.own_templates = render.uses_own_templates(build.env)
    return build.own_templates


def _render_ahead(build: _Build, generator: Any, article: Any, engagement: LazyEngagement) -> bool:
    """Render the article's thread now, into the build cache, for its page
    to reuse (:func:`_thread_html`) when its context is the one expected."""
    assert build.engine is not None
    save_as = article.save_as
    if not save_as:
        return False
    context = pages.page_context(generator, article, save_as)
    article.engage = engagement
    html = render.render_thread(build.env, context, page=False)
    render_key = render.render_key(build.env, context, _stamp(build))
    build.engine.threads.remember_render(engagement.key, render_key, html)
    return True


def _avatars(build: _Build, engine: Engine) -> None:
    """Fetch the avatars the threads show that are due (not offline), note
    the stored files to copy, and say in one line which could not be used."""
    assert build.avatars is not None
    # From the summaries: the threads themselves stay unread.
    urls: dict[str, str] = {}
    for article in build.pages.values():
        if isinstance(getattr(article, "engage", None), LazyEngagement):
            for url, named_by in article.engage.summary.avatars:
                urls.setdefault(url, named_by)
    if not engine.settings.offline:
        avatars.fetch_urls(build.avatars.store, urls, engine.settings)
    store = build.avatars.store
    build.avatar_files = {store.file_for(u) for u in urls} - {""}
    line = avatars.summary_line(build.avatars.problems(list(urls)))
    if line:
        logger.info("engage: %s", line)


def _finish_rendered(output_path: str, context: Mapping[str, Any], page: str) -> str:
    """A page Pelican rendered and is about to write: finished now (see
    pages.py), so ``content_written`` has nothing left to do."""
    name = context.get("output_file")
    if not isinstance(name, str) or not name:
        return page
    path = _site(os.path.join(output_path, name))
    build = _build_for_file(path)
    if build is None or build.engine is None:
        return page
    started = time.perf_counter()
    try:
        finished = _finish(build, path, context, page)
    finally:
        build.own += time.perf_counter() - started
    build.finished.add(path)
    return page if finished is None else finished


def _finish(build: _Build, path: str, context: Any, page: str) -> str | None:
    """The page with its thread and webmention link; None: nothing to add."""
    assert build.engine is not None
    settings = build.engine.settings
    article = build.pages.get(path)
    # An article's page names it ``article``, a page's ``page``.
    thread = (
        settings.inject
        and article is not None
        and bool(context)
        and any(context.get(name) is article for name in ("article", "page"))
    )
    # Every page announces the webmention endpoint, not only articles:
    # senders may mention any of them.
    endpoint = settings.webmention.endpoint if path.endswith((".html", ".htm")) else ""
    if not thread and not endpoint:
        return None
    if thread and build.own_templates is None:
        build.own_templates = render.uses_own_templates(build.env)
    thread_html = (lambda: _thread_html(build, article, context)) if thread else None
    return pages.finish(page, article, thread_html, endpoint, bool(build.own_templates))


@_timed
def on_content_written(path: str, context: Any = None) -> None:
    build = _build_for_file(path)
    if build is None or build.engine is None:
        return
    site_path = _site(path)
    if site_path in build.finished:  # before it was written
        build.finished.discard(site_path)
        return
    # Rendered by a template class not ours: read back and rewritten, in
    # one open, in binary (a text file seeks and asks the terminal more).
    with open(path, "r+b") as handle:
        page = handle.read().decode("utf-8")
        updated = _finish(build, site_path, context, page)
        if updated is not None and updated is not page:
            handle.seek(0)
            handle.write(updated.encode("utf-8"))
            handle.truncate()


def _thread_html(build: _Build, article: Any, context: Any) -> str:
    """Render the thread, or reuse the HTML of an earlier build.

    Reuse is safe only with the plugin's own templates, whose output depends
    on nothing but the thread and the keys below; a theme's override may
    print anything from its context, so it is rendered every time.
    """
    engine = build.engine
    assert engine is not None
    if context.get("article") is not article:  # a page: the template reads ``article``
        context = {**context, "article": article}
    if not build.own_templates:
        build.rendered += 1
        return render.render_thread(build.env, context)
    key = article.engage.key
    render_key = render.render_key(build.env, context, _stamp(build))
    path = engine.threads.rendered_file(key, render_key)
    html = engine.threads.read_rendered(path) if path is not None else None
    if html is None:
        build.rendered += 1
        html = render.render_thread(build.env, context)
        engine.threads.remember_render(key, render_key, html)
    return html


@_timed
def on_article_writer_finalized(generator: Any, writer: Any = None) -> None:
    build = _builds.get(_site(generator.output_path))
    if build is None or build.engine is None:
        return
    if build.engine.settings.css:
        render.write_stylesheet(Path(generator.output_path), CSS_OUTPUT)
    if build.avatars is not None:
        build.avatars.store.copy_to(Path(generator.output_path), build.avatar_files)
    if build.pcs is not None:
        # Only the avatars a theme asked for (pcs's comment.avatar).
        build.pcs.avatars.write(Path(generator.output_path))


def on_finalized(pelican: Any) -> None:
    started = time.perf_counter()
    build = _builds.pop(_site(pelican.output_path), None)
    if build is None or build.engine is None:
        return
    engine = build.engine
    prefetch.stop(build.prefetch)
    for problem in engine.unused_comment_folders():
        engine.report(problem)
    if build.writing is None:  # no page generator ran
        build.writing = consumers.start(engine, build.articles, 1)
    consumers.finish(engine, build.writing)
    oldest = author_page.oldest_wait(engine)
    tokens = engine.threads.tokens() if engine.threads.persist else None  # see notify
    notify.remember_build(engine.settings.cache_path, engine.counted, tokens)
    engine.finish()
    logger.info(
        "engage: %d item%s on %d post%s, %d waiting%s%s; %d comment file(s) parsed, "
        "%d thread(s) reused, %d archive file(s) read, %d thread(s) rendered, "
        "%d problem(s); engage %.2f s of %.2f s",
        engine.items,
        "" if engine.items == 1 else "s",
        engine.posts,
        "" if engine.posts == 1 else "s",
        engine.waiting,
        f" (oldest {oldest})" if oldest else "",
        f", {engine.hidden} hidden" if engine.hidden else "",
        engine.local.parsed_files,
        engine.threads.hits,
        engine.archive_reads,
        build.rendered + engine.prepared,
        len(engine.problems),
        build.own + time.perf_counter() - started,
        time.perf_counter() - build.started,
    )
    build_status.note(build.unsaved)


def on_finalized_last(pelican: Any) -> None:
    """After every plugin's ``finalized``: see build_status.py."""
    build_status.fail(outermost=not _builds)


_RECEIVERS = (
    (signals.initialized, on_initialized),
    (signals.generator_init, on_generator_init),
    (signals.article_generator_init, on_article_generator_init),
    (signals.content_object_init, on_content_object_init),
    (signals.article_generator_finalized, on_article_generator_finalized),
    (signals.page_generator_finalized, on_page_generator_finalized),
    (signals.content_written, on_content_written),
    (signals.article_writer_finalized, on_article_writer_finalized),
    (signals.finalized, on_finalized),
    (signals.finalized, on_finalized_last),
)


def register() -> None:
    """Pelican's entry point: ``PLUGINS = ["pelican_engage"]``."""
    for signal, receiver in _RECEIVERS:
        signal.connect(receiver)


def unregister() -> None:
    """Disconnect every receiver (tests, and hosts that build many sites)."""
    for signal, receiver in _RECEIVERS:
        signal.disconnect(receiver)
    _builds.clear()
    _SITES.clear()
    build_status.reset()
