"""The site as the ``pelican-engage`` commands see it: settings, articles, threads.

Shared by the commands in :mod:`pelican_engage.cli` and its ``cli_*``
modules, with the checks of arguments that name a post, an item or a date.
"""

from __future__ import annotations

import difflib
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from .engine import Engine, article_lists, is_opted_out, post_key
from .model import Thread, parse_timestamp
from .settings import SettingsError, load, prepare_settings


class UsageError(Exception):
    """Bad arguments or settings: exit status 2."""


def read_site_settings(path: str) -> dict[str, Any]:
    """The Pelican settings of the file at ``path``; UsageError when unusable."""
    settings_file = Path(path)
    if not settings_file.is_file():
        raise UsageError(f"settings file {path} not found (use -s pelicanconf.py)")
    from pelican.settings import read_settings

    try:
        settings = read_settings(str(settings_file))
    except Exception as exc:  # a broken settings file can raise anything
        raise UsageError(f"{path}: {exc}") from exc
    # Relative archive and report paths are the settings file's, as Pelican
    # makes PATH: the command finds the same archive from any folder.
    prepare_settings(settings, folder=os.path.dirname(os.path.abspath(path)))
    return settings


def make_engine(settings: dict[str, Any]) -> Engine:
    try:
        # The CLI reads the build cache but never writes it: its SITEURL and
        # drafts are not the build's.
        return Engine(load(settings), settings, persist=False)
    except SettingsError as exc:
        raise UsageError(f"setting {exc}") from exc


def site_articles(settings: dict[str, Any]) -> list[Any]:
    """The site's published articles and pages (pages have threads too),
    read as Pelican would.

    The site's plugins are loaded first, because readers and slugs can come
    from them; this plugin's own receivers are then disconnected, since the
    command does its work directly.
    """
    from pelican import Pelican
    from pelican.generators import ArticlesGenerator, PagesGenerator

    from . import plugin

    Pelican(settings)
    plugin.unregister()
    context = dict(settings)
    context.update(
        generated_content={},
        static_links=set(),
        static_content={},
        localsiteurl=settings.get("SITEURL", ""),
    )
    found = []
    for kind in (ArticlesGenerator, PagesGenerator):  # Pelican's order
        generator = kind(
            context=context,
            settings=settings,
            path=settings["PATH"],
            theme=settings["THEME"],
            output_path=settings["OUTPUT_PATH"],
        )
        generator.generate_context()
        found += [article for article, _published in article_lists(generator)]
    return found


def warn_missing_archive(engine: Engine, articles: list[Any]) -> None:
    """Say so when the archive is missing but the site has replies to keep
    there (announcements, feeds, webmentions); a site of local comments
    needs none."""
    folder = engine.settings.archive_path
    if not folder.is_dir() and engine.jobs(articles):
        sys.stderr.write(
            f"pelican-engage: warning: the archive folder {folder} does not exist "
            "(ENGAGE_ARCHIVE_PATH, relative to the settings file); only local comment "
            "files are read\n"
        )


def check_post(key: str | None, articles: list[Any]) -> None:
    """``--post`` must name a post of the site: a typo is not an empty result."""
    if not key:
        return
    keys = sorted({post_key(a) for a in articles if not is_opted_out(a)})
    if key in keys:
        return
    close = difflib.get_close_matches(key, keys, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    shown = ", ".join(keys[:40]) + (f" and {len(keys) - 40} more" if len(keys) > 40 else "")
    raise UsageError(f"--post {key!r}: no such post; {hint}post keys: {shown or 'none'}")


def known_item(threads: list[Thread], item_id: str) -> None:
    """An ``ITEM_ID`` argument must name an item of the site."""
    if not any(item.id == item_id for thread in threads for item in thread.items):
        raise UsageError(
            f"no item {item_id!r} on this site; "
            "`pelican-engage report` lists the ids of waiting items"
        )


def date_arg(value: str, name: str) -> datetime:
    """The date an option gives (``2026-11-01``); UsageError naming ``name``."""
    try:
        return parse_timestamp(value)
    except ValueError:
        raise UsageError(f"{name}: {value!r} is not a date like 2026-11-01") from None


def site_threads(
    settings: dict[str, Any], articles: list[Any] | None = None
) -> tuple[list[Thread], Engine]:
    """Build the thread of every published article."""
    engine = make_engine(settings)
    articles = site_articles(settings) if articles is None else articles
    warn_missing_archive(engine, articles)
    threads = []
    seen: set[str] = set()
    for article in articles:
        if is_opted_out(article):
            continue
        result = engine.engage(article)
        if result.thread.post.key not in seen:
            seen.add(result.thread.post.key)
            threads.append(result.thread)
    # The build's cache is keyed by its own SITEURL and drafts; leave it be.
    engine.finish(save=False)
    return threads, engine
