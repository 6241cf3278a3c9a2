"""The ``pelican-engage`` command: a thin layer over the library.

``report`` and ``people`` are here; the other commands each live in a
``cli_*`` module that adds its subcommands and returns their handlers
(``cli_fetch``, ``cli_import``, ``cli_ack``, ``cli_forget``, ``cli_upgrade``,
``cli_reply``);
``cli_site`` reads the site for all of them.

Exit status: 0 ok, 1 when ``--fail-on-waiting`` finds rows, 2 for a usage or
configuration error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from . import (
    __version__,
    cli_ack,
    cli_fetch,
    cli_forget,
    cli_import,
    cli_reply,
    cli_upgrade,
    fetching,
    notify,
    report,
)
from .cli_fetch import OFFLINE
from .cli_site import (  # site_articles and site_threads: also for scripts and tests
    UsageError,
    check_post,
    date_arg,
    make_engine,
    read_site_settings,
    site_articles,
    site_threads,
)
from .sources import local
from .sources.registry import NETWORKS

logger = logging.getLogger("pelican_engage")

Handler = Callable[[argparse.Namespace], int]

#: What ``report --source`` takes: the sources items come from.
REPORT_SOURCES = tuple(
    sorted({"disqus", local.SOURCE, *(n.name for n in NETWORKS)})  # disqus: imported only
)


def _build() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    """The argument parser, and the handler of each command."""
    parser = argparse.ArgumentParser(
        prog="pelican-engage",
        description="Threaded comments and social replies for Pelican sites.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-s",
        "--settings",
        default="pelicanconf.py",
        help="the Pelican settings file (default: pelicanconf.py)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="say more")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    handlers: dict[str, Handler] = {"report": cmd_report, "people": cmd_people}
    rep = commands.add_parser(
        "report",
        parents=[common],
        help="list everyone still waiting for your reply",
        description="List comments and replies still waiting for the author's answer. "
        "Reads the archive and local comment files; no network.",
    )
    rep.add_argument(
        "--format",
        choices=report.FORMATS,
        default="text",
        help="text (default), json, markdown or csv",
    )
    rep.add_argument("--post", metavar="KEY", help="only this post key")
    rep.add_argument(
        "--source",
        choices=REPORT_SOURCES,
        metavar="NAME",
        help=f"only this source: {', '.join(REPORT_SOURCES)}",
    )
    rep.add_argument(
        "--older-than", metavar="AGE", help="only items older than AGE: 30min, 12h, 2d, 3w, 1mo"
    )
    rep.add_argument("--since", metavar="DATE", help="only items since DATE (2026-11-01)")
    rep.add_argument("--fetch", action="store_true", help="fetch what is due first")
    rep.add_argument(
        "--new",
        action="store_true",
        help="only items that arrived since the last report or build",
    )
    rep.add_argument(
        "--fail-on-waiting",
        action="store_true",
        help="exit with status 1 when anybody is waiting",
    )

    # In this order in --help: the everyday commands first.
    for module in (cli_fetch, cli_import, cli_ack, cli_forget, cli_upgrade):
        handlers.update(module.add_commands(commands, common))
    ppl = commands.add_parser(
        "people",
        parents=[common],
        help="who you talk with: response rates, reply times, silences",
        description="Everyone who wrote on the site, merged across networks, with "
        "messages to you, your replies, response rate, median time to your first "
        "reply and last contact; the people you wrote to who never answered; and "
        "answer rate and response time by month.",
    )
    ppl.add_argument(
        "--format",
        choices=("text", "json", "markdown", "csv"),
        default="text",
        help="text (default), json, markdown or csv",
    )
    handlers.update(cli_reply.add_commands(commands, common))
    return parser, handlers


def _parser() -> argparse.ArgumentParser:
    return _build()[0]


def _languages(settings: dict[str, Any]) -> tuple[str, ...]:
    return tuple({str(settings.get("DEFAULT_LANG") or "en"), "en"})


def cmd_report(args: argparse.Namespace) -> int:
    settings = read_site_settings(args.settings)
    try:
        filters = report.Filters(
            post=args.post or "",
            source=args.source or "",
            older_than=report.parse_duration(args.older_than) if args.older_than else None,
            since=date_arg(args.since, "--since") if args.since else None,
        )
    except ValueError as exc:
        raise UsageError(f"--older-than: {exc}") from exc
    articles = site_articles(settings)
    check_post(args.post, articles)
    if args.fetch:
        engine = make_engine(settings)
        if engine.settings.offline:
            sys.stderr.write(f"{OFFLINE}; the report reads the archive as it is\n")
        else:
            summary, _jobs = fetching.fetch(engine, articles)
            engine.finish(save=False)
            sys.stderr.write(
                f"fetched: {summary.new_items} new item(s), {summary.requests} request(s)\n"
            )
    threads, engine_used = site_threads(settings, articles)
    now = datetime.now(timezone.utc)
    rows = report.waiting_rows(threads, now, filters, _languages(settings))
    total = sum(len(t.items) for t in threads)
    hidden = sum(len(t.hidden) for t in threads)
    cache = engine_used.settings.cache_path
    seen = notify.load_seen(cache)
    new = notify.new_ids(rows, seen)
    waiting = len(rows)
    if args.new:
        rows = [row for row in rows if row.item.id in new]
    if args.new and not rows and args.format == "text":  # not "nobody is waiting"
        sys.stdout.write(
            f"Nothing new since the last report or build ({waiting} waiting, "
            f"{total} item(s) checked{report.hidden_note(hidden)}).\n"
        )
    else:
        everybody = waiting if args.new else None
        sys.stdout.write(
            report.render(args.format, rows, total, now, hidden, new, waiting_total=everybody)
        )
    shown = {row.item.id for row in rows}
    unshown = {i for t in threads for i in t.waiting if i not in shown}
    if problem := notify.remember(cache, threads, seen, unshown):
        sys.stderr.write(f"pelican-engage: {problem}\n")
    return 1 if args.fail_on_waiting and rows else 0


def cmd_people(args: argparse.Namespace) -> int:
    from . import people

    settings = read_site_settings(args.settings)
    threads, engine = site_threads(settings)
    found = people.relationships(threads, engine.settings.people, engine.settings.author)
    sys.stdout.write(people.render(args.format, found))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = _build()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return handlers[args.command](args)
    except UsageError as exc:
        sys.stderr.write(f"pelican-engage: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
