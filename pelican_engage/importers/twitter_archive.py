"""The author's own X archive: their replies, free and complete.

Recent search sees 7 days back and X bills every read, but the archive the
author can download ("Download an archive of your data") holds every tweet
they ever posted.  Its replies that answer a conversation already in the
pelican-engage archive are added to it, so old threads show the author's
answers (and nobody stays "waiting") long after the search window passed.

The archive is a zip (or its unpacked folder) of JavaScript files, not JSON:
``window.YTD.tweets.part0 = [...]``.  Only the few files needed are read,
in memory, with a size cap; nothing is extracted.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ..deepjson import json_object
from ..model import Item, Person
from ..sources.twitter import SOURCE, WEB, reply_intent, tweet_html, tweet_url
from . import ImportFormatError

#: Largest archive file read; a prolific account's tweets.js is ~100 MB.
MAX_FILE_BYTES = 512 * 1024 * 1024
_TWEET_FILES = re.compile(r"^(?:tweets?|tweets-part\d+|tweet-part\d+)\.js$")


class ArchiveFormatError(ImportFormatError):
    """The archive cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class TwitterArchive:
    owner: Person
    tweets: tuple[Mapping[str, Any], ...]
    files: tuple[str, ...]
    #: Entries that are no tweet object at all, named by file and number:
    #: left out, listed, never stopping the others.
    bad: tuple[str, ...] = ()


def parse_js(text: str, name: str) -> list[Any]:
    """The array of a ``window.YTD.<kind>.partN = [...]`` file."""
    start = text.find("[")
    prefix = text[:start].strip() if start >= 0 else text[:40]
    if start < 0 or (prefix and not re.fullmatch(r"window\.YTD\.[\w.]+\s*=", prefix)):
        raise ArchiveFormatError(f"{name}: not an X archive data file (no 'window.YTD... = [')")
    try:
        data = json.loads(text[start:])
    except ValueError as exc:
        raise ArchiveFormatError(f"{name}: malformed data ({exc})") from None
    if not isinstance(data, list):
        raise ArchiveFormatError(f"{name}: expected a list")
    return data


def parse_owner(entries: list[Any], name: str) -> Person:
    try:
        account = entries[0]["account"]
        username = str(account["username"])
    except (IndexError, KeyError, TypeError):
        raise ArchiveFormatError(f"{name}: no account username") from None
    return Person(
        name=str(account.get("accountDisplayName") or username),
        handle=username,
        url=f"{WEB}/{username}",
    )


_mapping = json_object


def parse_archive_tweet(entry: Mapping[str, Any], owner: Person) -> Item:
    """One archive tweet as an item; ``in_reply_to`` is the raw parent item id."""
    tweet = entry.get("tweet", entry)
    if not isinstance(tweet, Mapping):
        raise TypeError(f"'tweet' is {type(tweet).__name__}, not an object")
    tweet_id = str(tweet.get("id_str") or tweet["id"])
    parent = str(tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id") or "")
    # Not strptime: %a and %b follow the process locale, which Pelican sets
    # from the site's LOCALE.  X writes RFC 2822-style English dates.
    published = parsedate_to_datetime(str(tweet["created_at"]))
    if published.tzinfo is None:
        raise ValueError(f"created_at {tweet['created_at']!r} has no time zone")
    entities = dict(_mapping(tweet.get("entities")))
    media = _mapping(tweet.get("extended_entities")).get("media") or entities.get("media")
    if isinstance(media, list):
        # Several photos share one t.co link; link it once.
        unique = {m.get("url"): m for m in media if isinstance(m, Mapping)}
        entities["media"] = list(unique.values())
    return Item(
        id=f"twitter:{tweet_id}",
        source=SOURCE,
        kind="reply",
        author=owner,
        published=published,
        content_html=tweet_html(str(tweet.get("full_text") or tweet.get("text") or ""), entities),
        url=tweet_url(tweet_id, owner.handle),
        in_reply_to=f"twitter:{parent}" if parent else None,
        extras={
            "likes": int(tweet.get("favorite_count") or 0),
            "reposts": int(tweet.get("retweet_count") or 0),
            "from_archive": True,
        },
        reply_url=reply_intent(tweet_id),
    )


def _read_capped(read: Any, size: int, name: str) -> str:
    if size > MAX_FILE_BYTES:
        raise ArchiveFormatError(f"{name}: larger than {MAX_FILE_BYTES // 2**20} MiB; not read")
    data = read()
    if len(data) > MAX_FILE_BYTES:
        raise ArchiveFormatError(f"{name}: larger than {MAX_FILE_BYTES // 2**20} MiB; not read")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArchiveFormatError(f"{name}: not UTF-8 ({exc.reason})") from None


def _data_files(names: Iterable[str], shown: str) -> dict[str, str]:
    """Archive file name -> member, for the files right under the zip's
    ``data/`` folder: at its top, or in the one folder a download puts
    everything in.  Nothing deeper is read."""
    by_top: dict[str, dict[str, str]] = {}
    for member in names:
        parts = PurePosixPath(member).parts
        if len(parts) == 2 and parts[0] == "data":
            by_top.setdefault("", {}).setdefault(parts[1], member)
        elif len(parts) == 3 and parts[1] == "data":
            by_top.setdefault(parts[0], {}).setdefault(parts[2], member)
    if "" in by_top:
        return by_top[""]
    if len(by_top) > 1:
        folders = ", ".join(f"{top}/data/" for top in sorted(by_top))
        raise ArchiveFormatError(f"{shown}: more than one data/ folder ({folders}); unzip one")
    return next(iter(by_top.values()), {})


def _folder_files(path: Path, shown: str) -> dict[str, Path]:
    """File name -> path, for the ``*.js`` files of ``path/data/`` only:
    an X archive keeps its data there, and a whole tree (a home folder
    given by mistake) is never walked."""
    data = path / "data"
    if not data.is_dir():
        # One level down is a common slip (the folder holding the download):
        # named, not searched further.
        inside = sorted(c.name for c in path.iterdir() if (c / "data" / "account.js").is_file())
        hint = f"; did you mean {path / inside[0]}?" if len(inside) == 1 else ""
        raise ArchiveFormatError(f"{shown}: no data/ folder, so not an X archive{hint}")
    return {p.name: p for p in sorted(data.glob("*.js")) if p.is_file()}


def read_archive(path: Path) -> TwitterArchive:
    """Read a zip or unpacked folder; ArchiveFormatError names what is wrong."""
    shown = str(path)
    if path.is_dir():
        members = _folder_files(path, shown)

        def text(name: str) -> tuple[str, str]:
            file = members[name]
            return str(file), _read_capped(file.read_bytes, file.stat().st_size, str(file))

        return _collect(shown, list(members), text)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}
            located = _data_files(infos, shown)

            def unzip(name: str) -> tuple[str, str]:
                info = infos[located[name]]
                label = f"{shown}:{info.filename}"
                try:
                    return label, _read_capped(lambda: archive.read(info), info.file_size, label)
                except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                    raise ArchiveFormatError(f"{label}: {exc}") from None

            return _collect(shown, list(located), unzip)
    if not path.exists():
        raise ArchiveFormatError(f"{shown}: no such file or folder")
    if path.suffix.lower() == ".zip":
        raise ArchiveFormatError(f"{shown}: not a readable zip file (a cut-off download?)")
    raise ArchiveFormatError(f"{shown}: neither a zip file nor a folder")


def _collect(
    shown: str, names: list[str], text: Callable[[str], tuple[str, str]]
) -> TwitterArchive:
    """The owner and every tweet, from the archive's data files by name."""
    tweet_files = sorted((n for n in names if _TWEET_FILES.match(n)), key=_part_order)
    if "account.js" not in names or not tweet_files:
        raise ArchiveFormatError(
            f"{shown}: not an X archive (expected data/account.js and data/tweets.js)"
        )
    label, content = text("account.js")
    owner = parse_owner(parse_js(content, label), label)
    tweets: list[Mapping[str, Any]] = []
    bad: list[str] = []
    for name in tweet_files:
        label, content = text(name)
        entries = parse_js(content, label)
        found = [e for e in entries if isinstance(e, Mapping)]
        if entries and not found:
            # Not one tweet: this is no tweets file, not a bad entry in one.
            raise ArchiveFormatError(f"{label}: entry 0 is not an object")
        bad += [
            f"{label}: entry {n} is not an object"
            for n, e in enumerate(entries)
            if not isinstance(e, Mapping)
        ]
        tweets += found
    files = tuple(f"data/{n}" for n in tweet_files)
    return TwitterArchive(owner, tuple(tweets), files, tuple(bad))


def _part_order(name: str) -> tuple[int, str]:
    number = re.search(r"part(\d+)", name)
    return (int(number[1]) if number else 0, name)


@dataclass(frozen=True)
class Plan:
    """What an import would add, per post, and what it could not place."""

    additions: Mapping[str, tuple[Item, ...]]
    already: int
    unplaced_replies: int
    tweets: int
    bad: tuple[str, ...] = ()


def plan_import(
    archive: TwitterArchive,
    announcements: Mapping[str, str],
    archived: Mapping[str, str],
) -> Plan:
    """Place the author's replies into known conversations.

    ``announcements`` and ``archived`` map tweet ids (announcement tweets,
    and tweets already in the pelican-engage archive) to post keys.  Tweets
    are taken oldest first, so a reply to the author's own earlier reply
    finds its place too.  Pure: the caller writes the result.
    """
    items, bad = [], list(archive.bad)
    for number, entry in enumerate(archive.tweets):
        try:
            items.append(parse_archive_tweet(entry, archive.owner))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            bad.append(f"tweet {number}: {exc.__class__.__name__} {exc}")
    items.sort(key=lambda i: (i.published, i.id))
    places = {**announcements, **archived}
    additions: dict[str, list[Item]] = {}
    already = unplaced = 0
    for item in items:
        if item.in_reply_to is None:
            continue
        parent = item.in_reply_to.removeprefix("twitter:")
        key = places.get(parent)
        if key is None:
            unplaced += 1
            continue
        tweet_id = item.id.removeprefix("twitter:")
        places[tweet_id] = key
        if tweet_id in archived:
            already += 1
            continue
        if parent in announcements and parent not in archived:
            # Answering the announcement is answering the post.
            item = replace(item, in_reply_to=None)
        additions.setdefault(key, []).append(item)
    return Plan(
        {k: tuple(v) for k, v in additions.items()},
        already,
        unplaced,
        len(archive.tweets),
        tuple(bad),
    )
