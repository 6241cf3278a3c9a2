"""``pelican-engage import``: exports into the archive, and the comment folders checked."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .archive import ArchiveError
from .cli_site import (
    UsageError,
    check_post,
    make_engine,
    read_site_settings,
    site_articles,
    site_threads,
)
from .engine import is_opted_out, post_key

IMPORT_FORMATS = (
    "wordpress-wxr",
    "wordpress-html",
    "disqus",
    "twitter-archive",
    "pelican-comment-system",
    "mail",
    "utterances",
)


def add_commands(commands: Any, common: argparse.ArgumentParser) -> dict[str, Callable[..., int]]:
    """Add ``import`` to the CLI's subparsers; its handler."""
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
    return {"import": cmd_import}


def cmd_import(args: argparse.Namespace) -> int:
    if args.format == "pelican-comment-system":
        return _check_comment_folders(args)
    if args.format == "mail":
        return _import_mail(args)
    if args.format == "utterances":
        return _import_utterances(args)
    if not args.path:
        raise UsageError(f"import {args.format} needs a PATH_OR_URL")
    if args.format != "twitter-archive":
        return _import_comments(args)
    from .importers import twitter_archive

    settings = read_site_settings(args.settings)
    engine = make_engine(settings)
    articles = [a for a in site_articles(settings) if not is_opted_out(a)]
    check_post(args.post, articles)
    try:
        archive = twitter_archive.read_archive(Path(args.path))
    except twitter_archive.ArchiveFormatError as exc:
        raise UsageError(f"{exc}; nothing imported") from exc
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
            loaded = engine.archive.load(key).items
        except ArchiveError as exc:
            raise UsageError(f"{exc}; nothing imported") from exc
        archived.update(
            {
                item_id.removeprefix("twitter:"): key
                for item_id in loaded
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

    settings = read_site_settings(args.settings)
    engine = make_engine(settings)
    articles = site_articles(settings)
    check_post(args.post, articles)
    try:
        maps = apply.parse_map(args.map)
        if args.map_file:
            maps += apply.read_map_file(args.map_file)
        export = apply.read_export(args.format, args.path, engine, page_url=args.url)
        report = apply.apply_export(engine, articles, export, args.post, maps)
    except apply.ImportWriteError as exc:
        raise UsageError(str(exc)) from exc
    except ImportFormatError as exc:
        raise UsageError(f"{exc}; nothing imported") from exc
    sys.stdout.write(apply.summary(export, report))
    return apply.exit_status(export)


def _import_utterances(args: argparse.Namespace) -> int:
    """``import utterances OWNER/NAME``: the repository's issues, read through
    GitHub's REST API (ENGAGE_GITHUB's api_url and token), placed as the
    other exports are."""
    import os

    from .http import Client
    from .importers import ImportFormatError, apply, utterances
    from .sources.github_parse import check_repo

    repo = args.path.strip().removeprefix("https://github.com/").strip("/")
    try:
        repo = check_repo(repo)
    except ValueError as exc:
        raise UsageError(f"import utterances needs OWNER/NAME: {exc}") from None
    settings = read_site_settings(args.settings)
    engine = make_engine(settings)
    articles = site_articles(settings)
    check_post(args.post, articles)
    github = engine.settings.network("github")
    token = os.environ.get(github.token_env, "")
    client = Client(secrets=[token])
    try:
        maps = apply.parse_map(args.map)
        if args.map_file:
            maps += apply.read_map_file(args.map_file)
        export = utterances.read_repository(
            repo, client, github.api_url, token, engine.settings.siteurl
        )
        report = apply.apply_export(engine, articles, export, args.post, maps)
    except apply.ImportWriteError as exc:
        raise UsageError(str(exc)) from exc
    except ImportFormatError as exc:
        raise UsageError(f"{exc}; nothing imported") from exc
    finally:
        client.close()
    sys.stdout.write(apply.summary(export, report))
    return apply.exit_status(export)


def _import_mail(args: argparse.Namespace) -> int:
    from .importers import mailboxes

    if not args.path:
        raise UsageError("import mail needs a SOURCE: an mbox file, a Maildir or imaps://...")
    settings = read_site_settings(args.settings)
    engine = make_engine(settings)
    articles = [a for a in site_articles(settings) if not is_opted_out(a)]
    try:
        text = mailboxes.run(engine, articles, args.path, args.dry_run)
    except mailboxes.MailSourceError as exc:
        raise UsageError(f"{exc}; nothing imported") from exc
    except OSError as exc:
        raise UsageError(f"cannot write a comment file ({exc})") from exc
    sys.stdout.write(text)
    return 0


def _check_comment_folders(args: argparse.Namespace) -> int:
    """Comment folders are read in place: check them as a build would."""
    threads, engine = site_threads(read_site_settings(args.settings))
    problems = [*engine.problems, *engine.unused_comment_folders()]
    files = engine.local.parsed_files
    sys.stdout.write(
        f"{files} comment file(s) read in {len(threads)} post(s); {len(problems)} problem(s).\n"
    )
    for problem in problems:
        sys.stdout.write(f"  {problem}\n")
    return 1 if problems else 0
