"""One of each helper (issue 12, point 6): every file the package writes goes
through the archive's atomic writer (with fsync), every spreadsheet cell
through one formula guard, every timestamp through one parser, every
attachment's alt text through one media helper."""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pelican_engage import author_page, feed_copies
from pelican_engage.atomic import atomic_write
from pelican_engage.backoff import HostBackoff
from pelican_engage.cache import ThreadCache
from pelican_engage.http import parse_reset
from pelican_engage.model import parse_timestamp
from pelican_engage.textsafe import csv_cell

NOW = datetime(2026, 11, 30, tzinfo=timezone.utc)


def _author_page(tmp_path: Path) -> Path:
    author_page._write(tmp_path / "report" / "index.html", "<p>hi</p>")
    return tmp_path / "report" / "index.html"


def _comment_feed(tmp_path: Path) -> Path:
    feed_copies.write_feed(tmp_path / "feeds" / "p.atom.xml", "<feed/>")
    return tmp_path / "feeds" / "p.atom.xml"


def _feed_stamps(tmp_path: Path) -> Path:
    stamps = feed_copies.FeedStamps(tmp_path / "cache" / "stamps.pickle")
    stamps.keep("feeds/p.atom.xml", "digest", "<feed/>")
    stamps.save()
    return tmp_path / "cache" / "stamps.pickle"


def _backoff(tmp_path: Path) -> Path:
    hosts = HostBackoff(tmp_path / "cache" / "hosts.json")
    hosts.failed("social.example", "timed out", NOW)
    hosts.save()
    return tmp_path / "cache" / "hosts.json"


def _thread_cache(tmp_path: Path) -> Path:
    cache = ThreadCache(tmp_path / "cache", "salt")
    cache._changed = True
    cache.save()
    return cache.path


WRITERS: dict[str, Callable[[Path], Path]] = {
    "author page": _author_page,
    "comment feed stamps": _feed_stamps,
    "host backoff": _backoff,
    "thread cache": _thread_cache,
}


@pytest.mark.parametrize("name", WRITERS)
def test_every_file_is_written_whole_and_synced(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    target = WRITERS[name](tmp_path)
    assert target.is_file()
    # The temporary file's data, then the folder holding the rename.
    assert any(Path(p).parent == target.parent and Path(p).name.startswith(f".{target.name}.")
               for p in synced), synced  # fmt: skip
    assert str(target.parent) in synced
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.txt"
    atomic_write(target, "old")
    target.chmod(0o640)

    def boom(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        atomic_write(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o640


def test_a_comment_feed_is_written_whole_but_not_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Feeds are output, rebuilt by every build like Pelican's own pages: a
    rename makes each whole, and no fsync per feed (issue 16: on a loaded
    disk that was most of the feeds' cost)."""
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    target = _comment_feed(tmp_path)
    assert target.read_text() == "<feed/>" and synced == []
    assert [p.name for p in target.parent.iterdir()] == [target.name]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\x1b=1", "'=1"),  # a control cannot hide the formula's "="
        ("line\nbreak", "line break"),
        ("Ann", "Ann"),
    ],
)
def test_csv_cell(value: str, cell: str) -> None:
    assert csv_cell(value) == cell


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-30T01:00:00Z",
        "2026-11-30T01:00:00.1Z",
        "2026-11-30T01:00:00.123456789Z",
        "2026-11-30T02:00:00+01:00",
        "2026-11-30T01:00:00",
    ],
)
def test_the_rate_limit_reset_header_reads_every_timestamp_form(value: str) -> None:
    reset = parse_reset({"X-RateLimit-Reset": value}, NOW)
    assert reset is not None and reset - NOW < timedelta(hours=1, seconds=1)
    assert reset == parse_timestamp(value)


def test_a_time_without_zone_is_in_the_zone_given() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert parse_timestamp("2026-11-30 09:00", naive=paris).utcoffset() == timedelta(hours=1)
    assert parse_timestamp("2026-11-30T09:00:00Z", naive=paris).utcoffset() == timedelta(0)
    assert parse_timestamp("2026-11-30T09:00").tzinfo is timezone.utc


#: Alt text as a writer may type it: markup and entities are text, a
#: control character goes, runs of spaces become one.
ALT = 'Crumb <b>shot</b> &amp; "rye"\x07  loaf'
SHOWN = '[image] Crumb &lt;b&gt;shot&lt;/b&gt; &amp;amp; "rye" loaf'
PAGE = "https://social.example/@ana/2"


def _mastodon_media() -> str:
    from pelican_engage.sources.mastodon_refs import StatusRef
    from pelican_engage.sources.mastodon_status import parse_status

    status = {
        "id": "2",
        "created_at": "2026-11-30T10:00:00Z",
        "url": PAGE,
        "account": {"username": "ana", "acct": "ana"},
        "media_attachments": [{"type": "image", "description": ALT, "url": PAGE}],
    }
    ref = StatusRef("https://social.example", "social.example", "1")
    return parse_status(status, ref).content_html


def _bluesky_media() -> str:
    from pelican_engage.sources.bluesky_content import media_html

    return media_html({"$type": "app.bsky.embed.images#view", "images": [{"alt": ALT}]}, PAGE)


def _x_media() -> str:
    from pelican_engage.sources.twitter_answers import tweet_content

    tweet = {"text": "", "attachments": {"media_keys": ["3_1"]}}
    return tweet_content(tweet, {"3_1": {"type": "photo", "alt_text": ALT, "url": PAGE}}, PAGE)


@pytest.mark.parametrize(
    "media", [_mastodon_media, _bluesky_media, _x_media], ids=["mastodon", "bluesky", "x"]
)
def test_alt_text_is_told_alike_on_every_network(media: Callable[[], str]) -> None:
    """One media helper (sanitize.media_html): a picture is its alt text,
    as typed, linking to the post (never loaded), written alike on every
    network."""
    import re

    (shown,) = re.findall(r'<p class="engage-media">.*?</p>', media())
    rel = 'rel="nofollow ugc noopener"'
    assert shown == f'<p class="engage-media"><a href="{PAGE}" {rel}>{SHOWN}</a></p>'


PACKAGE = Path(__file__).parent.parent / "pelican_engage"


def _writes(tree: ast.AST) -> list[int]:
    """Lines that write a file by hand: ``.write_text``/``.write_bytes``, or
    ``open``/``.open``/``os.fdopen`` with a writing mode."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in {"write_text", "write_bytes"}:
            found.append(node.lineno)
        elif name in {"open", "fdopen"}:
            modes = [a for a in node.args[1:2] if isinstance(a, ast.Constant)]
            modes += [k.value for k in node.keywords if k.arg == "mode"]  # type: ignore[misc]
            if name == "open" and isinstance(func, ast.Attribute) and node.args:
                modes = [a for a in node.args[:1] if isinstance(a, ast.Constant)]
            if any(isinstance(m, ast.Constant) and set(str(m.value)) & set("wax+") for m in modes):
                found.append(node.lineno)
    return found


def test_no_module_writes_a_file_but_through_the_atomic_writer() -> None:
    """A file written by hand can be left half-written by a crash; the one
    writer (atomic.py) is the only one."""
    by_hand = {
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "atomic.py" and _writes(ast.parse(path.read_text(encoding="utf-8")))
    }
    # plugin.py rewrites in place the page Pelican has just written (Pelican
    # writes its output in place too; the build rewrites it on a crash), in
    # one open, which is most of that step's cost.
    assert by_hand == {"plugin.py"}


def test_an_exclusive_write_never_replaces_a_file(tmp_path: Path) -> None:
    target = tmp_path / "reply.md"
    atomic_write(target, "first", exclusive=True)
    with pytest.raises(FileExistsError):
        atomic_write(target, "second", exclusive=True)
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["reply.md"]


def test_the_write_finder_sees_each_way_of_writing() -> None:
    code = """
Path(p).write_text("x")
p.write_bytes(b"x")
open(p, "w")
open(p, mode="ab")
p.open("wb")
os.fdopen(fd, "w+")
open(p)
p.open()
open(p, "rb")
"""
    assert _writes(ast.parse(code)) == [2, 3, 4, 5, 6, 7]


def test_every_link_a_parser_writes_is_marked_as_the_cleaner_marks_them() -> None:
    """Links built from plain text (facets, entities, link cards) carry the
    same rel as the links the cleaner keeps: the reader's site vouches for none."""
    import re

    from pelican_engage.sanitize import LINK_REL, clean_html
    from pelican_engage.sources.bluesky_content import media_html, post_html
    from pelican_engage.sources.twitter_text import tweet_html

    facet = {
        "index": {"byteStart": 5, "byteEnd": 16},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://ex.example/"}],
    }
    card = {
        "$type": "app.bsky.embed.external",
        "external": {"uri": "https://card.example/", "title": "A card"},
    }
    url = {
        "start": 4,
        "end": 27,
        "url": "https://t.co/abcdefghij",
        "expanded_url": "https://x.example/",
        "display_url": "x.example",
    }
    written = [
        post_html("see ex.example/ ok", [facet]),
        media_html(card, "https://bsky.app/profile/a/post/1"),
        tweet_html("see https://t.co/abcdefghij ok", {"urls": [url]}),
        clean_html('<a href="https://y.example/">y</a>'),
    ]
    for html in written:
        links = re.findall(r"<a [^>]*>", html)
        assert links, html
        assert all(f'rel="{LINK_REL}"' in link for link in links), html
