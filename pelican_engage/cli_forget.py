"""``pelican-engage forget ITEM_ID | --person URL_OR_HANDLE``: erasure on request."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .cli_site import UsageError, read_site_settings, site_threads


def add_commands(commands: Any, common: argparse.ArgumentParser) -> dict[str, Callable[..., int]]:
    """Add ``forget`` to the CLI's subparsers; its handler."""
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
    return {"forget": cmd_forget}


def cmd_forget(args: argparse.Namespace) -> int:
    from .forget import ForgetError, forget_item, forget_person

    if bool(args.item_id) == bool(args.person):
        raise UsageError("forget takes either ITEM_ID or --person URL_OR_HANDLE")
    threads, engine = site_threads(read_site_settings(args.settings))
    try:
        if args.person:
            done = forget_person(engine.archive, args.person, threads)
            sys.stdout.write(
                f"Forgot {done.items} item(s) by {args.person} in {done.posts} post(s); "
                "later fetches and imports leave them out.\n"
            )
        else:
            done = forget_item(engine.archive, args.item_id, threads)
            sys.stdout.write(f"{args.item_id} forgotten in {done.posts} post(s).\n")
    except ForgetError as exc:
        raise UsageError(str(exc)) from exc
    for path in done.files:
        sys.stdout.write(f"  also delete the comment file {path}\n")
    return 0
