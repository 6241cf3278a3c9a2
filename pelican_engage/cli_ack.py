"""``pelican-engage ack``, ``snooze`` and ``unack``: marks in the archive on
items that need no reply, or not yet; the report leaves them out."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from . import report
from .archive import ArchiveError
from .cli_site import UsageError, date_arg, known_item, read_site_settings, site_threads


def add_commands(commands: Any, common: argparse.ArgumentParser) -> dict[str, Callable[..., int]]:
    """Add ``ack``, ``snooze`` and ``unack`` to the CLI's subparsers; their handlers."""
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
    return {"ack": cmd_ack, "snooze": cmd_snooze, "unack": cmd_unack}


def cmd_ack(args: argparse.Namespace) -> int:
    threads, engine = site_threads(read_site_settings(args.settings))
    known_item(threads, args.item_id)
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    try:
        added = engine.archive.acknowledge(args.item_id, note=args.note, at=now)
    except (ArchiveError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    state = "acknowledged" if added else "was already acknowledged"
    sys.stdout.write(f"{args.item_id} {state}.\n")
    return 0


def cmd_snooze(args: argparse.Namespace) -> int:
    threads, engine = site_threads(read_site_settings(args.settings))
    known_item(threads, args.item_id)
    now = datetime.now(timezone.utc)
    try:
        until = now + report.parse_duration(args.until)
    except report.AmbiguousDuration as exc:
        raise UsageError(f"--until: {exc}") from exc
    except ValueError:
        until = date_arg(args.until, "--until")
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
