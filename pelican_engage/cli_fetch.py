"""``pelican-engage fetch``: the replies that are due, fetched into the archive.

In parallel, with a progress bar on a terminal (a line per job otherwise)
and a summary; avatars of the archived items are stored after.  Exit
status 1 when every fetch failed or the archive could not be written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import fetching
from .archive import ArchiveError
from .cli_site import check_post, make_engine, read_site_settings, site_articles
from .engine import Engine
from .fetch import Job
from .sources.registry import NETWORKS

#: What ``fetch --source`` takes: the sources that fetch.
FETCH_SOURCES = tuple(sorted(name for n in NETWORKS for name in n.fetch_names or (n.name,)))
OFFLINE = "offline (ENGAGE_OFFLINE, in the settings or the environment): no request sent"


def add_commands(commands: Any, common: argparse.ArgumentParser) -> dict[str, Callable[..., int]]:
    """Add ``fetch`` to the CLI's subparsers; its handler."""
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
    return {"fetch": cmd_fetch}


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
    with progress() as advance:
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
def progress(terminal: bool | None = None) -> Iterator[Callable[[Job, str, int, int], None]]:
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
