#!/usr/bin/env python3
"""What engage's template names cost Pelican's own pages.

What it measures
    Pelican reads a generated site of N articles (``build_speed``'s site,
    without comments) and writes it once, so each article's content, dates
    and URLs are computed; then one process renders the default theme's
    ``article.html`` for each article, in interleaved rounds, three ways:

    plain    Pelican's environment and context, as without the plugin.
    names    engage's names given as it gives them (template_names.py): the
             environment's context class looks them up when asked.
    globals  the same names as Jinja globals, and the setting defaults
             templates read put into the context, as before that module.

    It prints each way's median time per page and its ratio to plain's.
    Only Jinja's rendering is timed (no thread is shown: the theme does not
    include one), so the ratio is what the names cost every page of a site.

Why
    Jinja copies the globals and the whole context into every context it
    makes (a page of this theme makes about 28: includes, imports with
    context).  Each name added there slows every page a little, with a
    thread or not.

    python benchmarks/template_names.py                  # 300 articles, 15 rounds
    python benchmarks/template_names.py --articles 100 --rounds 5
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from build_speed import generate_site
from jinja2 import Environment
from pelican import Pelican, signals
from pelican.settings import read_settings

from pelican_engage import pages, pcs_compat, render, template_names

WAYS = ("plain", "names", "globals")


def written_site(root: Path, articles: int) -> Any:
    """The articles generator of a plain build of the generated site."""
    site = generate_site(root, articles, comments=0, seed=1)
    settings = read_settings(
        override={
            "PATH": str(site.content),
            "OUTPUT_PATH": str(root / "output"),
            "SITEURL": "https://blog.example.org",
            "TIMEZONE": "UTC",
            "PLUGINS": [],
            "ARTICLE_EXCLUDES": ["comments"],
            "FEED_ALL_ATOM": None,
            "CATEGORY_FEED_ATOM": None,
        }
    )
    found: dict[str, Any] = {}

    def keep(generator: Any, writer: Any = None) -> None:
        found["articles"] = generator

    signals.article_writer_finalized.connect(keep)
    try:
        Pelican(settings=settings).run()
    finally:
        signals.article_writer_finalized.disconnect(keep)
    return found["articles"]


def engage_names(generator: Any) -> dict[str, Any]:
    """Every name engage gives templates, as the plugin gives them."""
    scratch = generator.env.overlay(cache_size=0)
    render.add_templates(scratch)
    template_names.provide(scratch, pcs_compat.template_defaults(generator.settings))
    template_names.provide(scratch, {"engage_avatar": None, pages.HOOK: None})
    return template_names.given(scratch)


def _like(env: Environment) -> Environment:
    """A new environment with ``env``'s loader, options, filters, tests and globals."""
    made = Environment(
        loader=env.loader,
        extensions=[type(e) for e in env.extensions.values()],
        trim_blocks=env.trim_blocks,
        lstrip_blocks=env.lstrip_blocks,
        keep_trailing_newline=env.keep_trailing_newline,
        autoescape=env.autoescape,
        undefined=env.undefined,
    )
    made.filters.update(env.filters)
    made.tests.update(env.tests)
    made.globals.update(env.globals)
    return made


def measure(generator: Any, rounds: int) -> dict[str, list[float]]:
    """Seconds per page of each way, one figure per round."""
    names = engage_names(generator)
    helpers = {k: v for k, v in names.items() if k.startswith("engage_")}
    settings_like = {k: v for k, v in names.items() if k not in helpers}
    # One environment per way, made as Pelican makes its own (not an
    # overlay, whose names take a slower path); each compiles its templates.
    envs = {way: _like(generator.env) for way in WAYS}
    template_names.provide(envs["names"], names)
    envs["globals"].globals = {**generator.env.globals, **helpers}
    extra = {"plain": {}, "names": {}, "globals": settings_like}

    def one(way: str) -> float:
        template = envs[way].get_template("article.html")
        started = time.perf_counter()
        for article in generator.articles:
            context = {**generator.context, **extra[way], "article": article}
            context["output_file"] = article.save_as
            template.render(context)
        return (time.perf_counter() - started) / len(generator.articles)

    for way in WAYS:  # untimed: every template compiled and cached
        one(way)
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    for _ in range(rounds):
        order = list(WAYS)
        random.shuffle(order)
        for way in order:
            times[way].append(one(way))
    return times


def report(times: dict[str, list[float]], articles: int, rounds: int) -> None:
    print(f"article.html of Pelican's default theme, {articles} articles, {rounds} rounds")
    for way in WAYS:
        median = statistics.median(times[way])
        ratios = [t / p for t, p in zip(times[way], times["plain"], strict=True)]
        print(
            f"  {way:8s} {median * 1e6:7.1f} us/page   "
            f"x{statistics.median(ratios):.3f} of plain (paired medians)"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=15)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="engage-names-") as folder:
        generator = written_site(Path(folder), args.articles)
        times = measure(generator, args.rounds)
    report(times, args.articles, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
