"""``pelican-engage forget ITEM_ID | --person URL_OR_HANDLE``: erasure on request."""

from __future__ import annotations

import argparse
import sys

from .cli_site import UsageError, read_site_settings, site_threads


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
