"""``pelican-engage reply`` and ``pelican-engage inbox``: answering from the terminal.

A reply goes where the item lives: a comment file on the site (local,
e-mailed, imported WordPress or Disqus comments), a post on Mastodon,
Bluesky or X, or, for webmentions and feeds, a line saying where to answer.
What was posted is archived at once as the author's item under the answered
one, so the report stops listing the person.  Exit status: 0 done, 1 the
network refused or failed (nothing archived), 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from . import reply as pure
from .archive import ArchiveError
from .atomic import atomic_write
from .cli_site import UsageError, read_site_settings, site_articles, site_threads
from .conversation import is_by_author
from .engine import Engine, is_opted_out, post_key
from .model import Item, Thread
from .publish import (
    PublishError,
    Sender,
    bluesky_reply,
    mastodon_base,
    mastodon_reply,
    mastodon_server_limit,
    twitter_reply,
)
from .sanitize import excerpt, html_to_text

BLUESKY_PASSWORD_ENV = "ENGAGE_BLUESKY_APP_PASSWORD"
TWITTER_USER_TOKEN_ENV = "ENGAGE_TWITTER_USER_TOKEN"
BLUESKY_PDS = "https://bsky.social"


def add_commands(commands: Any, common: argparse.ArgumentParser) -> dict[str, Callable[..., int]]:
    """Add ``reply`` and ``inbox`` to the CLI's subparsers; their handlers."""
    rep = commands.add_parser(
        "reply",
        parents=[common],
        help="answer an item where it lives",
        description="Answer ITEM_ID: a comment file for site comments (local, e-mailed, "
        "imported), a reply on Mastodon, Bluesky or X, or where to answer a webmention or "
        "feed item. The reply is archived at once as yours. The text comes from -m, "
        "--editor, or standard input.",
    )
    rep.add_argument("item_id", metavar="ITEM_ID", help="an id from the report")
    text = rep.add_mutually_exclusive_group()
    text.add_argument("-m", "--message", metavar="TEXT", help="the reply's text")
    text.add_argument("--editor", action="store_true", help="write the reply in $EDITOR")
    rep.add_argument(
        "--dry-run", action="store_true", help="show what would be sent or written; do nothing"
    )
    inbox = commands.add_parser(
        "inbox",
        parents=[common],
        help="go through everyone waiting, one by one",
        description="Questions first, then the longest-waiting: each waiting item with "
        "its parent and post. Commands: r reply (r TEXT inline), a acknowledge, s snooze "
        "3 days, w snooze a week, o open in the browser, n skip, q quit. Reads commands "
        "from standard input when it is not a terminal.",
    )
    inbox.add_argument(
        "--dry-run", action="store_true", help="show replies instead of sending them"
    )
    issue = commands.add_parser(
        "issue",
        parents=[common],
        help="the Markdown body of a CI issue: N people are waiting for your reply",
        description="Print the Markdown report for a scheduled CI job's issue, marking "
        "what is new since the last report or build; --title-file writes the title "
        "('N people are waiting for your reply') to a file. See docs/ci.md.",
    )
    issue.add_argument("--title-file", metavar="PATH", default="", help="write the title here")
    return {"reply": cmd_reply, "inbox": cmd_inbox, "issue": cmd_issue}


@dataclass
class ReplySite:
    """What answering needs: the site's settings, engine, threads and slugs."""

    settings: dict[str, Any]
    engine: Engine
    threads: list[Thread]
    slugs: dict[str, str] = field(default_factory=dict)
    out: TextIO = sys.stdout

    @classmethod
    def read(cls, path: str) -> ReplySite:
        settings = read_site_settings(path)
        articles = site_articles(settings)
        threads, engine = site_threads(settings, articles)
        slugs = {post_key(a): str(a.slug) for a in articles if not is_opted_out(a)}
        return cls(settings, engine, threads, slugs, sys.stdout)

    def find(self, item_id: str) -> tuple[Item, Thread]:
        for thread in self.threads:
            for item in thread.items:
                if item.id == item_id:
                    return item, thread
        raise UsageError(
            f"no item {item_id!r} on this site; `pelican-engage report` lists the ids "
            "of waiting items"
        )

    @property
    def zone(self) -> Any:
        """The site's TIMEZONE (UTC when it names no zone)."""
        try:
            return ZoneInfo(self.engine.settings.timezone)
        except (ValueError, KeyError, OSError):
            return timezone.utc

    def now(self) -> datetime:
        return datetime.now(self.zone).replace(microsecond=0)

    def describe(self, item: Item, thread: Thread) -> str:
        return describe(item, thread, self.zone)

    def section(self, key: str) -> dict[str, Any]:
        value = self.settings.get(key)
        return dict(value) if isinstance(value, dict) else {}


def describe(item: Item, thread: Thread, zone: Any = timezone.utc) -> str:
    """The item, its parent and its post, as plain text for people; the
    time in ``zone`` (the site's TIMEZONE)."""
    by_id = {i.id: i for i in thread.items}
    lines = [f"post: {thread.post.title or thread.post.key}"]
    parent = by_id.get(thread.parents.get(item.id) or item.in_reply_to or "")
    if parent is not None:
        lines.append(f"in reply to {parent.author.name}: {excerpt(parent.content_html, 200)}")
    who = item.author.name + (f" (@{item.author.handle})" if item.author.handle else "")
    when = item.published.astimezone(zone)
    lines.append(f"{who} on {item.source}, {when:%Y-%m-%d %H:%M} ({zone}):")
    lines.extend("  " + line for line in html_to_text(item.content_html).splitlines())
    lines.append(f"id: {item.id}")
    return "\n".join(lines)


def edit(item: Item, thread: Thread, zone: Any = timezone.utc) -> str:
    """The reply written in ``$VISUAL``/``$EDITOR`` (vi when unset)."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as f:
        f.write(pure.editor_template(item, describe(item, thread, zone)))
        name = f.name
    try:
        done = subprocess.run([*shlex.split(editor), name], check=False)
        if done.returncode != 0:
            raise UsageError(f"the editor ({editor}) exited with status {done.returncode}")
        return pure.from_editor(Path(name).read_text(encoding="utf-8"))
    finally:
        os.unlink(name)


def cmd_reply(args: argparse.Namespace) -> int:
    site = ReplySite.read(args.settings)
    item, thread = site.find(args.item_id)
    if args.message is not None:
        text = args.message.strip()
    elif args.editor:
        text = edit(item, thread, site.zone)
    else:
        if sys.stdin.isatty():
            sys.stderr.write("Type your reply; end with Ctrl-D on a line of its own.\n")
        text = sys.stdin.read().strip()
    return answer(site, item, thread, text, dry_run=args.dry_run)


def answer(site: ReplySite, item: Item, thread: Thread, text: str, dry_run: bool) -> int:
    """Answer ``item`` with ``text``; the exit status (see the module)."""
    out = site.out
    if item.kind not in pure.ANSWERABLE:
        raise UsageError(f"{item.id} is a {item.kind}; there is nothing to answer")
    network = pure.how(item)
    if network == "elsewhere":
        where = item.reply_url or item.url or thread.post.url
        out.write(
            f"{item.id} came from {item.source}: answer at its source, {where}\n"
            f"(then `pelican-engage ack {item.id}` takes it off the report)\n"
        )
        return 0
    if not text:
        raise UsageError("the reply is empty; nothing sent")
    if network == "comment":
        return _comment(site, item, thread, text, dry_run)
    return _network(site, item, thread, network, text, dry_run)


def _comment(site: ReplySite, item: Item, thread: Thread, text: str, dry_run: bool) -> int:
    names = site.engine.settings.author.names
    if not names:
        raise UsageError("ENGAGE_AUTHOR has no names: who is answering?")
    now = site.now()
    key = thread.post.key
    local = site.engine.local
    folder = local.folder_for(key, site.slugs.get(key, key)) or local.comments_path / key
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        # The reader refuses links (they could point anywhere); so does the writer.
        raise UsageError(f"{folder} is not a plain folder; no comment written")
    taken = {p.name.rsplit(".", 1)[0] for p in folder.iterdir()} if folder.is_dir() else set()
    path = folder / f"{pure.comment_stem(now, taken)}.md"
    content = pure.comment_file(names[0], now, item, text)
    if dry_run:
        site.out.write(f"dry run: would write {path}:\n{content}")
        return 0
    try:
        atomic_write(path, content, exclusive=True)
    except OSError as exc:
        site.out.write(f"cannot write {path} ({exc.strerror or exc}); nothing written\n")
        return 1
    site.out.write(f"wrote {path}: your reply to {item.id}; the next build shows it\n")
    return 0


def _secret(name: str) -> str:
    return os.environ.get(name, "").strip()


def _network(
    site: ReplySite, item: Item, thread: Thread, network: str, text: str, dry_run: bool
) -> int:
    out, now, conf = site.out, site.now(), site.engine.settings
    if not conf.author.handles.get(network):
        # Without it the archived reply would not count as the author's, and
        # the person would stay on the report although answered.
        raise UsageError(
            f"ENGAGE_AUTHOR[{network!r}] names none of your accounts: add yours, so "
            "that your reply counts as yours"
        )
    if network == "mastodon":
        text = pure.mastodon_text(text, item.author.handle)
    limit = pure.MASTODON_LIMIT
    sender = Sender()
    if network == "mastodon" and not dry_run and not conf.offline:
        if not conf.network("mastodon").hosts:
            raise UsageError(
                "ENGAGE_MASTODON['host'] names no server: set it to your own Mastodon "
                "server, the one your token is for"
            )
        known = [u for t in site.threads for s, u in t.post.announcements if s == "mastodon"]
        base = mastodon_base(conf.network("mastodon").hosts[0], known)
        limit = mastodon_server_limit(sender, base)
    size = pure.length(network, text, limit)
    if size is not None and not size.fits:
        out.write(f"{network}: the reply is too long: {size}; nothing sent\n")
        return 1
    if network == "twitter":
        if not _secret(TWITTER_USER_TOKEN_ENV):
            # By hand on x.com: free, and nothing to archive until the next fetch.
            tweet_id = item.id.removeprefix("twitter:")
            out.write(
                f"${TWITTER_USER_TOKEN_ENV} is not set: answer by hand at\n"
                f"  {pure.x_intent_url(tweet_id, text)}\n"
            )
            return 0
        cost = pure.x_cost(text)
        out.write(f"twitter: posting through the API costs ${cost:.3f} (X's pay-per-use plan)\n")
    if conf.offline and not dry_run:
        out.write(f"offline (ENGAGE_OFFLINE): nothing sent to {network}\n")
        return 1
    if dry_run:
        out.write(
            f"dry run: would reply to {item.id} on {network}"
            f"{f' ({size})' if size else ''}:\n{text}\n"
        )
        return 0
    try:
        new = _send(site, item, network, text, now, sender)
    except PublishError as exc:
        more = (
            " It may have been posted anyway: look before trying again." if exc.maybe_sent else ""
        )
        out.write(f"{exc}.{more} Nothing was archived.\n")
        return 1
    try:
        site.engine.archive.merge(thread.post.key, [new])
    except (ArchiveError, OSError) as exc:
        out.write(
            f"posted {new.url}, but the archive could not be written ({exc}); "
            "the next fetch brings the reply in\n"
        )
        return 1
    out.write(f"replied on {network}: {new.url}\narchived as {new.id}\n")
    if not is_by_author(new, conf.author):
        out.write(
            f"note: {new.author.handle or new.author.name} is not in "
            f"ENGAGE_AUTHOR[{network!r}], so the reply does not count as yours yet\n"
        )
    return 0


def _send(
    site: ReplySite, item: Item, network: str, text: str, now: datetime, sender: Sender
) -> Item:
    conf = site.engine.settings
    if network == "mastodon":
        token_env = conf.network("mastodon").token_env
        token = _secret(token_env)
        if not token:
            raise PublishError(f"mastodon: ${token_env} is not set; nothing sent")
        sender.secrets = (token,)
        known = [u for t in site.threads for s, u in t.post.announcements if s == "mastodon"]
        base = mastodon_base(conf.network("mastodon").hosts[0], known)
        return mastodon_reply(sender, base, conf.network("mastodon").hosts, token, item, text)
    if network == "bluesky":
        section = site.section("ENGAGE_BLUESKY")
        own = sorted(conf.author.handles.get("bluesky", ()))
        handle = str(section.get("handle") or (own[0] if own else ""))
        password = _secret(BLUESKY_PASSWORD_ENV)
        if not handle or not password:
            raise PublishError(
                "bluesky: needs ENGAGE_BLUESKY['handle'] and an app password in "
                f"${BLUESKY_PASSWORD_ENV}; nothing sent"
            )
        sender.secrets = (password,)
        pds = str(section.get("pds_url") or BLUESKY_PDS).rstrip("/")
        parts = urlsplit(pds)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(
                f"ENGAGE_BLUESKY['pds_url']: expected your PDS's http(s) URL, got {pds!r}"
            )
        return bluesky_reply(sender, conf.bluesky.api_url, pds, handle, password, item, text, now)
    token = _secret(TWITTER_USER_TOKEN_ENV)
    sender.secrets = (token,)
    own = sorted(conf.author.handles.get("twitter", ()))
    return twitter_reply(
        sender, conf.twitter.api_url, token, own[0] if own else "", item, text, now
    )


def cmd_inbox(args: argparse.Namespace) -> int:
    from .inbox import run

    return run(args)


def cmd_issue(args: argparse.Namespace) -> int:
    from . import notify
    from .report import waiting_rows

    site = ReplySite.read(args.settings)
    languages = tuple({str(site.settings.get("DEFAULT_LANG") or "en"), "en"})
    rows = waiting_rows(site.threads, datetime.now(timezone.utc), None, languages)
    cache = site.engine.settings.cache_path
    seen = notify.load_seen(cache)
    new = notify.new_ids(rows, seen)
    total = sum(len(t.items) for t in site.threads)
    hidden = sum(len(t.hidden) for t in site.threads)
    if args.title_file:
        try:
            atomic_write(Path(args.title_file), notify.issue_title(rows) + "\n")
        except OSError as exc:
            raise UsageError(f"--title-file {args.title_file}: {exc.strerror or exc}") from exc
    site.out.write(notify.issue_body(rows, total, hidden, new))
    if problem := notify.remember(cache, site.threads, seen):
        sys.stderr.write(f"pelican-engage: {problem}\n")
    return 0
