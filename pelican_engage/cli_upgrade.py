"""``pelican-engage upgrade``: every archive file rewritten in today's schema.

Reading an older file already gives today's items, and any fetch or import
rewrites the files it touches; this does all of them at once after an
upgrade of pelican-engage, so the next commit of the archive holds one
format (docs/design.md, "Archive").
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .archive import ArchiveError
from .cli_site import make_engine, read_site_settings


def add_commands(commands: Any, common: argparse.ArgumentParser) -> dict[str, Callable[..., int]]:
    """Add ``upgrade`` to the CLI's subparsers; its handler."""
    commands.add_parser(
        "upgrade",
        parents=[common],
        help="rewrite every archive file in the current schema",
        description="Rewrite each archive file written by an older pelican-engage in the "
        "current schema (older files are read as they are; this makes the committed "
        "archive one format). A file that cannot be read is named and left untouched. "
        "Commit the archive afterwards.",
    )
    return {"upgrade": cmd_upgrade}


def cmd_upgrade(args: argparse.Namespace) -> int:
    """Exit 0 when every file is current, 1 when a file could not be read
    (each one named; the others are upgraded all the same) or written."""
    archive = make_engine(read_site_settings(args.settings)).archive
    damaged: list[ArchiveError] = []
    try:
        done = archive.upgrade(damaged)
    except ArchiveError as exc:  # a write the disk refused: stop there
        sys.stderr.write(
            f"pelican-engage: {exc}; the files before it were upgraded, the rest are unchanged\n"
        )
        return 1
    for key in done:
        sys.stdout.write(f"upgraded {archive.post_path(key)}\n")
    sys.stdout.write(
        f"{len(done)} archive file(s) rewritten in the current schema"
        + ("; commit the archive\n" if done else " (all were current)\n")
    )
    for problem in damaged:
        sys.stderr.write(f"pelican-engage: {problem}\n")
    if damaged:
        sys.stderr.write(
            f"pelican-engage: {len(damaged)} archive file(s) could not be read and were "
            "left as they are; fix or move them away, then run upgrade again\n"
        )
    return 1 if damaged else 0
