"""``pelican-engage inbox``: everyone waiting, one at a time.

Questions first, then the longest-waiting (the report's order).  Each item
is shown with its parent and post; one command a line answers it:

- ``r`` reply (``$EDITOR`` on a terminal when set, else the lines typed up
  to one holding only ``.``); ``r TEXT`` replies with TEXT at once;
- ``a`` acknowledge (no reply needed), ``s`` snooze 3 days, ``w`` snooze a week;
- ``o`` open where to answer in the browser;
- ``n`` (or an empty line) skip, ``q`` quit, ``?`` help.

The same commands come from standard input when it is not a terminal, so
the inbox works over SSH and in scripts.  :func:`triage` is the loop with
its I/O passed in; :func:`run` wires it to the site and the terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .archive import ArchiveError
from .model import Item, Thread
from .report import Row, waiting_rows

SNOOZES = {"s": timedelta(days=3), "w": timedelta(weeks=1)}
PROMPT = "[r]eply [a]ck [s]nooze 3d [w] 1w [o]pen [n]ext [q]uit > "
HELP = (
    "r: reply (r TEXT: reply with TEXT)   a: acknowledge, no reply needed\n"
    "s: snooze 3 days   w: snooze a week   o: open in the browser\n"
    "n or Enter: skip   q: quit\n"
)


@dataclass(frozen=True)
class Actions:
    """What the commands do to one item; each returns True when the item is done."""

    reply: Callable[[Item, Thread, str], bool]
    compose: Callable[[Item, Thread], str]
    acknowledge: Callable[[Item], bool]
    snooze: Callable[[Item, timedelta], bool]
    open: Callable[[str], None]


@dataclass
class Tally:
    replied: int = 0
    acknowledged: int = 0
    snoozed: int = 0
    skipped: int = 0
    left: int = 0

    def __str__(self) -> str:
        return (
            f"{self.replied} replied, {self.acknowledged} acknowledged, "
            f"{self.snoozed} snoozed, {self.skipped} skipped, {self.left} still waiting"
        )


def triage(
    rows: list[Row],
    threads: dict[str, Thread],
    describe: Callable[[Item, Thread], str],
    ask: Callable[[str], str | None],
    say: Callable[[str], None],
    act: Actions,
) -> Tally:
    """Go through ``rows``; ``ask`` returns a line, or None at the end of input."""
    tally = Tally()
    total = len(rows)
    for index, row in enumerate(rows):
        thread = threads[row.post.key]
        remaining = total - index
        say(f"\n[{index + 1}/{total}] {remaining} waiting, waiting for {row.age}\n")
        say(describe(row.item, thread) + "\n")
        while True:
            line = ask(PROMPT)
            if line is None or line.strip().lower() in ("q", "quit"):
                tally.left = total - index
                say(f"\n{tally}\n")
                return tally
            command, _, rest = line.strip().partition(" ")
            command = command.lower()
            if command in ("", "n", "next", "skip"):
                tally.skipped += 1
                break
            if command == "?":
                say(HELP)
                continue
            if command == "o":
                act.open(row.reply_url)
                say(f"opened {row.reply_url}\n")
                continue
            if command == "a":
                if act.acknowledge(row.item):
                    tally.acknowledged += 1
                    break
                continue
            if command in SNOOZES:
                if act.snooze(row.item, SNOOZES[command]):
                    tally.snoozed += 1
                    break
                continue
            if command == "r":
                text = rest.strip() or act.compose(row.item, thread)
                if not text:
                    say("empty reply: nothing sent\n")
                    continue
                if act.reply(row.item, thread, text):
                    tally.replied += 1
                    break
                continue
            say(f"unknown command {command!r}; ? for help\n")
    say(f"\nall done: {tally}\n")
    return tally


def read_until_dot(ask: Callable[[str], str | None], say: Callable[[str], None]) -> str:
    """Reply lines up to one holding only "." (or the end of input)."""
    say("Your reply; end with a line holding only '.':\n")
    lines: list[str] = []
    while True:
        line = ask("")
        if line is None or line.strip() == ".":
            return "\n".join(lines).strip()
        lines.append(line)


def run(args: argparse.Namespace) -> int:
    from .cli_reply import ReplySite, answer, edit
    from .cli_site import UsageError

    site = ReplySite.read(args.settings)
    now = datetime.now(timezone.utc)
    languages = tuple({str(site.settings.get("DEFAULT_LANG") or "en"), "en"})
    rows = waiting_rows(site.threads, now, None, languages)
    threads = {t.post.key: t for t in site.threads}
    terminal = sys.stdin.isatty()
    out = site.out

    def say(text: str) -> None:
        out.write(text)
        out.flush()

    def ask(prompt: str) -> str | None:
        say(prompt)
        line = sys.stdin.readline()
        if not line:
            return None
        if not terminal:
            # Echo scripted commands, so a log reads like the session.
            say(line if line.endswith("\n") else line + "\n")
        return line.rstrip("\n")

    def compose(item: Item, thread: Thread) -> str:
        if terminal and (os.environ.get("VISUAL") or os.environ.get("EDITOR")):
            return edit(item, thread, site.zone)
        return read_until_dot(ask, say)

    def reply(item: Item, thread: Thread, text: str) -> bool:
        try:
            done = answer(site, item, thread, text, dry_run=args.dry_run) == 0
        except UsageError as exc:
            say(f"{exc}\n")
            return False
        # A dry run shows the reply; the item stays, for a real command.
        return done and not args.dry_run

    def stamp() -> str:
        return datetime.now(timezone.utc).replace(microsecond=0).isoformat()

    def acknowledge(item: Item) -> bool:
        try:
            site.engine.archive.acknowledge(item.id, note="inbox", at=stamp())
        except (ArchiveError, OSError, ValueError) as exc:
            say(f"cannot acknowledge: {exc}\n")
            return False
        say(f"{item.id} acknowledged\n")
        return True

    def snooze(item: Item, delta: timedelta) -> bool:
        until = (datetime.now(timezone.utc) + delta).replace(microsecond=0)
        try:
            site.engine.archive.acknowledge(
                item.id, note="inbox", at=stamp(), until=until.isoformat()
            )
        except (ArchiveError, OSError, ValueError) as exc:
            say(f"cannot snooze: {exc}\n")
            return False
        say(f"{item.id} snoozed until {until.date().isoformat()}\n")
        return True

    if not rows:
        say("Nobody is waiting for your reply.\n")
        return 0

    def open_url(url: str) -> None:
        webbrowser.open(url)

    actions = Actions(reply, compose, acknowledge, snooze, open_url)
    triage(rows, threads, site.describe, ask, say, actions)
    return 0
