"""The ``pelican-engage`` command: a thin layer over the library.

Exit status: 0 ok, 1 when ``--fail-on-waiting`` finds rows, 2 for a usage or
configuration error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__, report
from .archive import ArchiveError
from .engine import Engine, article_lists, is_opted_out, post_key
from .fetch import Job
from .model import Thread
from .settings import SettingsError, load, prepare_settings

logger = logging.getLogger("pelican_engage")


IMPORT_FORMATS = (
    "wordpress-wxr",
    "wordpress-html",
    "disqus",
    "twitter-archive",
    "pelican-comment-system",
)


class UsageError(Exception):
    """Bad arguments or settings: exit status 2."""


def _parser() -> argparse.ArgumentParser:
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

    rep = commands.add_parser(
        "report",
        parents=[common],
        help="list everyone still waiting for your reply",
        description="List comments and replies still waiting for the author's answer. "
        "Reads the archive and local comment files; no network.",
    )
    rep.add_argument("--format", choices=report.FORMATS, default="text")
    rep.add_argument("--post", metavar="KEY", help="only this post key")
    rep.add_argument("--source", metavar="NAME", help="only this source (local, twitter...)")
    rep.add_argument("--older-than", metavar="AGE", help="only items older than 12h, 2d, 3w, 1m")
    rep.add_argument("--since", metavar="DATE", help="only items since DATE (2026-11-01)")
    rep.add_argument("--fetch", action="store_true", help="fetch what is due first")
    rep.add_argument(
        "--fail-on-waiting",
        action="store_true",
        help="exit with status 1 when anybody is waiting",
    )

    fetch = commands.add_parser(
        "fetch",
        parents=[common],
        help="fetch replies from the networks into the archive",
        description="Fetch the replies that are due (by each post's refresh interval) "
        "into the archive, in parallel, with a progress bar and a summary.",
    )
    fetch.add_argument("--force", action="store_true", help="ignore refresh intervals")
    fetch.add_argument("--post", metavar="KEY", help="only this post key")
    fetch.add_argument(
        "--source",
        metavar="NAME",
        help="only this source: mastodon, twitter, twitter-discover, bluesky, webmention, feed, "
        "wordpress",
    )

    imp = commands.add_parser(
        "import",
        parents=[common],
        help="bring in replies or comments from an export",
        description="Import an export into the archive. wordpress-wxr: a WordPress export "
        "file; wordpress-html: a saved post page or its URL; disqus: a Disqus export "
        "(.xml or .xml.gz); twitter-archive: your X archive (zip or folder), whose "
        "replies join conversations already archived; pelican-comment-system: check the "
        "comment folders, which are read in place. Importing twice changes nothing.",
    )
    imp.add_argument(
        "format", choices=IMPORT_FORMATS, metavar="FORMAT", help=", ".join(IMPORT_FORMATS)
    )
    imp.add_argument("path", metavar="PATH_OR_URL", nargs="?", default="")
    imp.add_argument(
        "--post",
        metavar="KEY",
        help="the post key a one-post export or a page goes into; of a bigger export, "
        "only the post that belongs to KEY",
    )
    imp.add_argument(
        "--map",
        metavar="OLD_URL=KEY",
        action="append",
        default=[],
        help="place the exported post at OLD_URL into post KEY (repeatable)",
    )
    imp.add_argument("--map-file", metavar="CSV", help="rows of OLD_URL,KEY, as --map")
    imp.add_argument("--url", default="", help="wordpress-html: the page's URL, for a saved file")

    ack = commands.add_parser(
        "ack",
        parents=[common],
        help="mark an item as needing no reply",
        description="Record in the archive that ITEM_ID needs no reply, so the "
        "report stops listing it. The file is meant to be committed.",
    )
    ack.add_argument("item_id", metavar="ITEM_ID")
    ack.add_argument("--note", default="", help="why no reply is needed")

    snooze = commands.add_parser(
        "snooze",
        parents=[common],
        help="hide an item from the report until a date",
        description="ITEM_ID leaves the report until DATE, then waits again.",
    )
    snooze.add_argument("item_id", metavar="ITEM_ID")
    snooze.add_argument("--until", required=True, metavar="DATE", help="2026-12-24 or 3d")
    snooze.add_argument("--note", default="")

    unack = commands.add_parser(
        "unack",
        parents=[common],
        help="make an acknowledged or snoozed item wait again",
    )
    unack.add_argument("item_id", metavar="ITEM_ID")

    ppl = commands.add_parser(
        "people",
        parents=[common],
        help="who you talk with: response rates, reply times, silences",
        description="Everyone who wrote on the site, merged across networks, with "
        "messages to you, your replies, response rate, median time to your first "
        "reply and last contact; the people you wrote to who never answered; and "
        "answer rate and response time by month.",
    )
    ppl.add_argument("--format", choices=("text", "json", "markdown", "csv"), default="text")
    return parser


def _settings(path: str) -> dict[str, Any]:
    settings_file = Path(path)
    if not settings_file.is_file():
        raise UsageError(f"settings file {path} not found (use -s pelicanconf.py)")
    from pelican.settings import read_settings

    try:
        settings = read_settings(str(settings_file))
    except Exception as exc:  # a broken settings file can raise anything
        raise UsageError(f"{path}: {exc}") from exc
    prepare_settings(settings)
    return settings


def _engine(settings: dict[str, Any]) -> Engine:
    try:
        return Engine(load(settings), settings)
    except SettingsError as exc:
        raise UsageError(f"setting {exc}") from exc


def site_articles(settings: dict[str, Any]) -> list[Any]:
    """The site's published articles, read as Pelican would.

    The site's plugins are loaded first, because readers and slugs can come
    from them; this plugin's own receivers are then disconnected, since the
    command does its work directly.
    """
    from pelican import Pelican
    from pelican.generators import ArticlesGenerator

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
    generator = ArticlesGenerator(
        context=context,
        settings=settings,
        path=settings["PATH"],
        theme=settings["THEME"],
        output_path=settings["OUTPUT_PATH"],
    )
    generator.generate_context()
    return [article for article, _published in article_lists(generator)]


def site_threads(settings: dict[str, Any]) -> tuple[list[Thread], Engine]:
    """Build the thread of every published article."""
    engine = _engine(settings)
    threads = []
    seen: set[str] = set()
    for article in site_articles(settings):
        if is_opted_out(article):
            continue
        result = engine.engage(article)
        if result.thread.post.key not in seen:
            seen.add(result.thread.post.key)
            threads.append(result.thread)
    # The build's cache is keyed by its own SITEURL and drafts; leave it be.
    engine.finish(save=False)
    return threads, engine


def _date(value: str, name: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{name}: {value!r} is not a date like 2026-11-01") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _languages(settings: dict[str, Any]) -> tuple[str, ...]:
    return tuple({str(settings.get("DEFAULT_LANG") or "en"), "en"})


def cmd_report(args: argparse.Namespace) -> int:
    settings = _settings(args.settings)
    try:
        filters = report.Filters(
            post=args.post or "",
            source=args.source or "",
            older_than=report.parse_duration(args.older_than) if args.older_than else None,
            since=_date(args.since, "--since") if args.since else None,
        )
    except ValueError as exc:
        raise UsageError(f"--older-than: {exc}") from exc
    if args.fetch:
        engine = _engine(settings)
        summary, _jobs = engine.fetch(site_articles(settings))
        engine.finish(save=False)
        sys.stderr.write(
            f"fetched: {summary.new_items} new item(s), {summary.requests} request(s)\n"
        )
    threads, _engine_used = site_threads(settings)
    now = datetime.now(timezone.utc)
    rows = report.waiting_rows(threads, now, filters, _languages(settings))
    total = sum(len(t.items) for t in threads)
    sys.stdout.write(report.render(args.format, rows, total, now))
    return 1 if args.fail_on_waiting and rows else 0


def cmd_snooze(args: argparse.Namespace) -> int:
    threads, engine = site_threads(_settings(args.settings))
    _known_item(threads, args.item_id)
    now = datetime.now(timezone.utc)
    try:
        until = now + report.parse_duration(args.until)
    except ValueError:
        until = _date(args.until, "--until")
    if until <= now:
        raise UsageError(f"--until {args.until} is not in the future")
    stamp = now.replace(microsecond=0).isoformat()
    try:
        engine.archive.acknowledge(
            args.item_id, note=args.note, at=stamp, until=until.replace(microsecond=0).isoformat()
        )
    except (ArchiveError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    sys.stdout.write(f"{args.item_id} snoozed until {until.date().isoformat()}.\n")
    return 0


def cmd_unack(args: argparse.Namespace) -> int:
    _threads, engine = site_threads(_settings(args.settings))
    try:
        removed = engine.archive.unacknowledge(args.item_id)
    except (ArchiveError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    state = "waits again" if removed else "was not acknowledged"
    sys.stdout.write(f"{args.item_id} {state}.\n")
    return 0


def cmd_people(args: argparse.Namespace) -> int:
    from . import people

    settings = _settings(args.settings)
    threads, engine = site_threads(settings)
    found = people.relationships(threads, engine.settings.people, engine.settings.author)
    sys.stdout.write(people.render(args.format, found))
    return 0


def _known_item(threads: list[Thread], item_id: str) -> None:
    if not any(item.id == item_id for thread in threads for item in thread.items):
        raise UsageError(
            f"no item {item_id!r} on this site; "
            "`pelican-engage report` lists the ids of waiting items"
        )


def cmd_fetch(args: argparse.Namespace) -> int:
    settings = _settings(args.settings)
    engine = _engine(settings)
    articles = site_articles(settings)

    def wanted(job: Job) -> bool:
        return (not args.post or job.post_key == args.post) and (
            not args.source or job.source == args.source
        )

    jobs = [j for j in engine.jobs(articles) if wanted(j)]
    with _progress(len(jobs)) as advance:
        summary, _count = engine.fetch(articles, force=args.force, progress=advance, select=wanted)
    errors = sum(summary.errors.values())
    per_source = ", ".join(f"{n}: {c}" for n, c in sorted(summary.requests_by_source.items()))
    sys.stdout.write(
        f"{summary.jobs} of {len(jobs)} announcement(s) due, {summary.requests} request(s)"
        f"{f' ({per_source})' if per_source else ''}, "
        f"{summary.new_items} new item(s), {errors} error(s), {summary.seconds:.1f} s\n"
    )
    for source, message in sorted(summary.messages.items()):
        sys.stdout.write(f"  {source}: {message}\n")
    for key, url in summary.discovered:
        sys.stdout.write(f"  {key} was announced on X; add to its metadata:  tweet: {url}\n")
    engine.finish(save=False)
    return 0


@contextmanager
def _progress(total: int) -> Iterator[Callable[[Job], None]]:
    """A rich progress bar on a terminal; a plain line per job otherwise."""
    if not sys.stderr.isatty():

        def line(job: Job) -> None:
            sys.stderr.write(f"fetched {job.source} {job.post_key}\n")

        yield line
        return
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("fetching", total=total)
        yield lambda job: progress.advance(task)


def cmd_import(args: argparse.Namespace) -> int:
    if args.format == "pelican-comment-system":
        return _check_comment_folders(args)
    if not args.path:
        raise UsageError(f"import {args.format} needs a PATH_OR_URL")
    if args.format != "twitter-archive":
        return _import_comments(args)
    from .importers import twitter_archive

    settings = _settings(args.settings)
    engine = _engine(settings)
    try:
        archive = twitter_archive.read_archive(Path(args.path))
    except twitter_archive.ArchiveFormatError as exc:
        raise UsageError(f"{exc}; nothing imported") from exc
    articles = [a for a in site_articles(settings) if not is_opted_out(a)]
    keys = {post_key(a) for a in articles}
    wanted = (lambda key: key == args.post) if args.post else (lambda key: key in keys)
    announcements = {
        job.target: job.post_key
        for job in engine.jobs(articles)
        if job.source == "twitter" and wanted(job.post_key)
    }
    archived: dict[str, str] = {}
    for key in filter(wanted, engine.archive.keys()):
        try:
            items = engine.archive.load(key).items
        except ArchiveError as exc:
            raise UsageError(f"{exc}; nothing imported") from exc
        archived.update(
            {
                item_id.removeprefix("twitter:"): key
                for item_id in items
                if item_id.startswith("twitter:")
            }
        )
    plan = twitter_archive.plan_import(archive, announcements, archived)
    added = 0
    for key, items in sorted(plan.additions.items()):
        try:
            added += engine.archive.merge(key, items).added
        except (ArchiveError, OSError) as exc:
            raise UsageError(f"{exc}; {added} reply(ies) imported before it") from exc
    owner = archive.owner
    sys.stdout.write(
        f"Read {plan.tweets} tweet(s) by @{owner.handle} from {', '.join(archive.files)}.\n"
        f"Added {added} of your replies to {len(plan.additions)} post(s); "
        f"{plan.already} already archived; {plan.unplaced_replies} reply(ies) to tweets "
        "outside the archived conversations left out.\n"
    )
    for problem in plan.bad[:10]:
        sys.stdout.write(f"  skipped {problem}\n")
    if owner.handle.casefold() not in engine.settings.author.handles.get("twitter", frozenset()):
        sys.stderr.write(
            f"pelican-engage: @{owner.handle} is not in ENGAGE_AUTHOR['twitter']; add it, "
            "or these replies will not count as yours\n"
        )
    return 0


def _import_comments(args: argparse.Namespace) -> int:
    from .importers import ImportFormatError, apply

    settings = _settings(args.settings)
    engine = _engine(settings)
    try:
        maps = apply.parse_map(args.map)
        if args.map_file:
            maps += apply.read_map_file(args.map_file)
        export = apply.read_export(args.format, args.path, engine, page_url=args.url)
        report = apply.apply_export(engine, site_articles(settings), export, args.post, maps)
    except apply.ImportWriteError as exc:
        raise UsageError(str(exc)) from exc
    except ImportFormatError as exc:
        raise UsageError(f"{exc}; nothing imported") from exc
    sys.stdout.write(apply.summary(export, report))
    return apply.exit_status(export)


def _check_comment_folders(args: argparse.Namespace) -> int:
    """Comment folders are read in place: check them as a build would."""
    threads, engine = site_threads(_settings(args.settings))
    problems = [*engine.problems, *engine.unused_comment_folders()]
    files = engine.local.parsed_files
    sys.stdout.write(
        f"{files} comment file(s) read in {len(threads)} post(s); {len(problems)} problem(s).\n"
    )
    for problem in problems:
        sys.stdout.write(f"  {problem}\n")
    return 1 if problems else 0


def cmd_ack(args: argparse.Namespace) -> int:
    threads, engine = site_threads(_settings(args.settings))
    _known_item(threads, args.item_id)
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    try:
        added = engine.archive.acknowledge(args.item_id, note=args.note, at=now)
    except (ArchiveError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    state = "acknowledged" if added else "was already acknowledged"
    sys.stdout.write(f"{args.item_id} {state}.\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    commands = {
        "report": cmd_report,
        "fetch": cmd_fetch,
        "import": cmd_import,
        "ack": cmd_ack,
        "snooze": cmd_snooze,
        "unack": cmd_unack,
        "people": cmd_people,
    }
    try:
        return commands[args.command](args)
    except UsageError as exc:
        sys.stderr.write(f"pelican-engage: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
