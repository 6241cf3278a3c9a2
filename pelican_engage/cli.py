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
from typing import Any

from . import __version__, fetching, notify, report
from .archive import ArchiveError
from .cli_forget import cmd_forget
from .cli_import import cmd_import
from .cli_reply import add_commands as add_reply_commands
from .cli_site import (  # site_articles and site_threads: also for scripts and tests
    UsageError,
    check_post,
    make_engine,
    read_site_settings,
    site_articles,
    site_threads,
)
from .engine import Engine
from .fetch import Job
from .model import Thread, parse_timestamp
from .sources import local
from .sources.registry import NETWORKS

logger = logging.getLogger("pelican_engage")


IMPORT_FORMATS = (
    "wordpress-wxr",
    "wordpress-html",
    "disqus",
    "twitter-archive",
    "pelican-comment-system",
    "mail",
    "utterances",
)


#: What ``report --source`` takes: the sources items come from.
REPORT_SOURCES = tuple(
    sorted({"disqus", local.SOURCE, *(n.name for n in NETWORKS)})  # disqus: imported only
)
#: What ``fetch --source`` takes: the sources that fetch.
FETCH_SOURCES = tuple(sorted(name for n in NETWORKS for name in n.fetch_names or (n.name,)))


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

    fetch = commands.add_parser(
        "fetch",
        parents=[common],
        help="fetch replies from the networks into the archive",
        description="Fetch the replies that are due (by each post's refresh interval) "
        "into the archive, in parallel, with a progress bar and a summary. Nothing is "
        "sent when ENGAGE_OFFLINE is set. Exit status 1 when every fetch failed.",
    )
    fetch.add_argument(
        "--force",
        action="store_true",
        help="ignore refresh intervals, and try hosts that did not answer lately",
    )
    fetch.add_argument("--post", metavar="KEY", help="only this post key")
    fetch.add_argument(
        "--source",
        choices=FETCH_SOURCES,
        metavar="NAME",
        help=f"only this source: {', '.join(FETCH_SOURCES)}",
    )

    imp = commands.add_parser(
        "import",
        parents=[common],
        help="bring in replies or comments from an export",
        description="Import an export into the archive. wordpress-wxr: a WordPress export "
        "file; wordpress-html: a saved post page or its URL; disqus: a Disqus export "
        "(.xml or .xml.gz); twitter-archive: your X archive (zip or folder), whose "
        "replies join conversations already archived; pelican-comment-system: check the "
        "comment folders, which are read in place; mail: messages answering the Reply and "
        "Leave a comment links (an mbox file, a Maildir folder, or imaps://user@host/Folder "
        "with the password in $ENGAGE_IMAP_PASSWORD) become comment files; utterances: "
        "the GitHub issues of OWNER/NAME (token in $ENGAGE_GITHUB_TOKEN, optional). "
        "Importing twice changes nothing.",
    )
    imp.add_argument(
        "format", choices=IMPORT_FORMATS, metavar="FORMAT", help=", ".join(IMPORT_FORMATS)
    )
    imp.add_argument(
        "path", metavar="PATH_OR_URL", nargs="?", default="", help="the export file, folder or URL"
    )
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
    imp.add_argument(
        "--dry-run", action="store_true", help="mail: show what would be written, write nothing"
    )

    ack = commands.add_parser(
        "ack",
        parents=[common],
        help="mark an item as needing no reply",
        description="Record in the archive that ITEM_ID needs no reply, so the "
        "report stops listing it. The file is meant to be committed.",
    )
    ack.add_argument("item_id", metavar="ITEM_ID", help="an id from the report")
    ack.add_argument("--note", default="", help="why no reply is needed")

    snooze = commands.add_parser(
        "snooze",
        parents=[common],
        help="hide an item from the report until a date",
        description="ITEM_ID leaves the report until DATE, then waits again.",
    )
    snooze.add_argument("item_id", metavar="ITEM_ID", help="an id from the report")
    snooze.add_argument("--until", required=True, metavar="DATE", help="2026-12-24 or 3d")
    snooze.add_argument("--note", default="", help="why it can wait")

    unack = commands.add_parser(
        "unack",
        parents=[common],
        help="make an acknowledged or snoozed item wait again",
        description="Remove ITEM_ID's acknowledgement or snooze from the archive, so the "
        "report lists it again while it waits.",
    )
    unack.add_argument("item_id", metavar="ITEM_ID", help="an acknowledged or snoozed id")

    forget = commands.add_parser(
        "forget",
        parents=[common],
        help="erase an item, or everything by one person, for good",
        description="Replace ITEM_ID (or every item by the person given with --person: "
        "a profile URL, a handle or a DID) by a tombstone in the archive: the page stops "
        "showing it and no later fetch or import brings it back. For a person who asks "
        "to be removed. Commit the archive afterwards.",
    )
    forget.add_argument(
        "item_id", metavar="ITEM_ID", nargs="?", default="", help="the item to erase"
    )
    forget.add_argument(
        "--person",
        metavar="URL_OR_HANDLE",
        default="",
        help="erase everything by this person: a profile URL, a handle or a DID",
    )

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
    REPLY_COMMANDS.update(add_reply_commands(commands, common))
    return parser


def _date(value: str, name: str) -> datetime:
    try:
        return parse_timestamp(value)
    except ValueError:
        raise UsageError(f"{name}: {value!r} is not a date like 2026-11-01") from None


def _languages(settings: dict[str, Any]) -> tuple[str, ...]:
    return tuple({str(settings.get("DEFAULT_LANG") or "en"), "en"})


def cmd_report(args: argparse.Namespace) -> int:
    settings = read_site_settings(args.settings)
    try:
        filters = report.Filters(
            post=args.post or "",
            source=args.source or "",
            older_than=report.parse_duration(args.older_than) if args.older_than else None,
            since=_date(args.since, "--since") if args.since else None,
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
    if args.new:
        rows = [row for row in rows if row.item.id in new]
    sys.stdout.write(report.render(args.format, rows, total, now, hidden=hidden, new=new))
    shown = {row.item.id for row in rows}
    unshown = {i for t in threads for i in t.waiting if i not in shown}
    if problem := notify.remember(cache, threads, seen, unshown):
        sys.stderr.write(f"pelican-engage: {problem}\n")
    return 1 if args.fail_on_waiting and rows else 0


def cmd_snooze(args: argparse.Namespace) -> int:
    threads, engine = site_threads(read_site_settings(args.settings))
    _known_item(threads, args.item_id)
    now = datetime.now(timezone.utc)
    try:
        until = now + report.parse_duration(args.until)
    except report.AmbiguousDuration as exc:
        raise UsageError(f"--until: {exc}") from exc
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
    _threads, engine = site_threads(read_site_settings(args.settings))
    try:
        removed = engine.archive.unacknowledge(args.item_id)
    except (ArchiveError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    state = "waits again" if removed else "was not acknowledged"
    sys.stdout.write(f"{args.item_id} {state}.\n")
    return 0


def cmd_people(args: argparse.Namespace) -> int:
    from . import people

    settings = read_site_settings(args.settings)
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


#: reply and inbox (cli_reply), filled in by _parser().
REPLY_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


OFFLINE = "offline (ENGAGE_OFFLINE, in the settings or the environment): no request sent"


def _damaged(engine: Engine, jobs: list[Job]) -> list[str]:
    """The archive files of these jobs' posts that cannot be read: their
    jobs are skipped (the file is never overwritten), and the user told."""
    found = []
    for key in sorted({job.post_key for job in jobs}):
        try:
            engine.archive.load(key)
        except ArchiveError as exc:
            found.append(str(exc))
    return found


def cmd_fetch(args: argparse.Namespace) -> int:
    settings = read_site_settings(args.settings)
    engine = make_engine(settings)
    if engine.settings.offline:
        # Offline is a promise about the network; --force is about intervals.
        sys.stdout.write(f"{OFFLINE}; nothing fetched\n")
        return 0
    articles = site_articles(settings)
    check_post(args.post, articles)

    def wanted(job: Job) -> bool:
        return (not args.post or job.post_key == args.post) and (
            not args.source or job.source == args.source
        )

    jobs = [j for j in engine.jobs(articles) if wanted(j)]
    damaged = _damaged(engine, jobs)
    with _progress() as advance:
        summary, _count = fetching.fetch(
            engine, articles, force=args.force, progress=advance, select=wanted
        )
    errors = sum(summary.errors.values())
    per_source = ", ".join(f"{n}: {c}" for n, c in sorted(summary.requests_by_source.items()))
    sys.stdout.write(
        f"{summary.jobs} of {len(jobs)} announcement(s) due, {summary.requests} request(s)"
        f"{f' ({per_source})' if per_source else ''}, "
        f"{summary.new_items} new item(s), {errors} error(s), {summary.seconds:.1f} s\n"
    )
    for source, message in sorted(summary.messages.items()):
        sys.stdout.write(f"  {source}: {message}\n")
    for line in summary.hosts.values():
        sys.stdout.write(f"  {line}\n")
    for key, url in summary.discovered:
        sys.stdout.write(f"  {key} was announced on X; add to its metadata:  tweet: {url}\n")
    for stone in summary.deleted:
        sys.stdout.write(f"  {stone.source}: {stone.id} was deleted upstream; withdrawn\n")
    _fetch_avatars(engine, articles, args.post)
    if damaged:
        sys.stdout.write(
            f"  skipped {len(damaged)} post(s) whose archive file is damaged "
            "(fix or move it away; it is never overwritten):\n"
        )
        for problem in damaged:
            sys.stdout.write(f"    {problem}\n")
    engine.finish(save=False)
    attempted = summary.jobs - summary.skipped
    # 1 when the archive could not be written (full disk...: fetched data was
    # lost) or when every request failed; a partial failure keeps what came.
    return 1 if summary.unsaved or (attempted > 0 and errors >= attempted) else 0


def _fetch_avatars(engine: Engine, articles: list[Any], only: str | None) -> None:
    """Fetch the avatars of archived items that are due, and say so in a line."""
    from . import avatars
    from .engine import post_key

    if not engine.settings.avatars:
        return
    keys = {post_key(a) for a in articles} if not only else {only}
    urls = avatars.urls_of(i for key in sorted(keys) for i in engine.archived_items(key)[0])
    fetched = avatars.fetch_urls(avatars.store_for(engine.settings), urls, engine.settings)
    if fetched.stored or fetched.failed:
        line = avatars.summary_line(fetched.failed)
        sys.stdout.write(f"  avatars: {fetched.stored} stored{'; ' + line if line else ''}\n")


@contextmanager
def _progress(terminal: bool | None = None) -> Iterator[Callable[[Job, str, int, int], None]]:
    """A rich progress bar on a terminal; a plain line per job otherwise.

    Both say how many jobs are done of how many are due, the requests sent
    and the errors so far, and the post of the job that just ended.
    """
    done = errors = 0

    def count(outcome: str) -> None:
        nonlocal done, errors
        done += 1
        errors += outcome == "failed"

    if not (sys.stderr.isatty() if terminal is None else terminal):

        def line(job: Job, outcome: str, requests: int, due: int) -> None:
            count(outcome)
            verb = {"ok": "fetched", "failed": "failed"}.get(outcome, "skipped")
            sys.stderr.write(
                f"{verb} {job.source} {job.post_key} ({done}/{due} done, "
                f"{requests} request(s), {errors} error(s))\n"
            )

        yield line
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (
        TextColumn("fetching"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[requests]} request(s), {task.fields[errors]} error(s)"),
        TextColumn("{task.fields[post]}"),
    )
    console = Console(file=sys.stderr, force_terminal=True)
    with Progress(*columns, console=console, transient=True) as progress:
        # The total is known once the due jobs are: at the first one's end.
        task = progress.add_task("fetching", total=None, requests=0, errors=0, post="")

        def bar(job: Job, outcome: str, requests: int, due: int) -> None:
            count(outcome)
            progress.update(
                task,
                total=due,
                completed=done,
                requests=requests,
                errors=errors,
                post=f"{job.source} {job.post_key}",
            )

        yield bar


def cmd_ack(args: argparse.Namespace) -> int:
    threads, engine = site_threads(read_site_settings(args.settings))
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
        "forget": cmd_forget,
        **REPLY_COMMANDS,
    }
    try:
        return commands[args.command](args)
    except UsageError as exc:
        sys.stderr.write(f"pelican-engage: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
