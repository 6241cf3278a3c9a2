"""The archive is the only durable copy of fetched replies: these tests hold it to that.

Every test works on real files in ``tmp_path``; crash and locking tests run real
processes, because the failures they guard against (a half-written file, two builds
interleaving their writes) do not happen inside one interpreter.
"""

from __future__ import annotations

import difflib
import errno
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pelican_engage.archive import (
    ACKS_FILE,
    SCHEMA,
    Archive,
    ArchiveError,
    ArchiveWriteError,
    PostRecord,
    atomic_write_json,
    file_name,
)
from pelican_engage.model import KINDS, Item, Person, Post, Thread

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "archive"
WHEN = datetime(2026, 1, 2, 10, 0, tzinfo=timezone.utc)
IST = timezone(timedelta(hours=5, minutes=30))
PST = timezone(timedelta(hours=-8))


def make_item(n: int | str, **changes: Any) -> Item:
    """A plain comment; ``changes`` overrides any field."""
    fields: dict[str, Any] = {
        "id": f"c{n:03d}" if isinstance(n, int) else n,
        "source": "test",
        "kind": "comment",
        "author": Person(name=f"Reader {n}", url=f"https://r{n}.example"),
        "published": WHEN + timedelta(minutes=n if isinstance(n, int) else 0),
        "content_html": f"<p>Reply number {n}</p>",
    }
    fields.update(changes)
    return Item(**fields)


def items(count: int, start: int = 0) -> list[Item]:
    return [make_item(n) for n in range(start, start + count)]


def ids(archive: Archive, key: str) -> set[str]:
    return set(archive.load(key).items)


def dicts(found: Iterable[Item]) -> dict[str, dict[str, Any]]:
    """Items by id in their JSON form, which (unlike ``==``) sees origin and UTC offsets."""
    return {item.id: item.to_dict() for item in found}


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def age(path: Path) -> int:
    """Push the mtime an hour back so any rewrite, however fast, shows up."""
    old = path.stat().st_mtime_ns - 3600 * 10**9
    os.utime(path, ns=(old, old))
    return old


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "archive")


# --- Round trip -------------------------------------------------------------------------


def full_item() -> Item:
    """An item with every field set, a non-UTC zone and non-ASCII text."""
    return Item(
        id="mastodon:https://social.example/@ana/1",
        source="mastodon",
        kind="reply",
        author=Person(
            name="Ana Ñúñez",
            handle="@ana@social.example",
            url="https://social.example/@ana",
            avatar="https://social.example/a.png",
            email="ana@private.example",
        ),
        published=datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=IST),
        content_html="<p>Olá, 世界 🎉 &amp; “quotes”</p>",
        url="https://social.example/@ana/1",
        in_reply_to="comment:post/c1",
        origin="comments/post/c2.md",
        extras={"likes": 3, "tags": ["a", "b"], "nested": {"z": 1, "a": None}},
    )


def test_person_round_trip_keeps_email_only_when_private() -> None:
    """The email must survive the private cache but never the public form."""
    person = full_item().author
    assert Person.from_dict(person.to_dict(private=True)) == person
    public = person.to_dict()
    assert "email" not in public
    assert Person.from_dict(public) == Person(
        name=person.name, handle=person.handle, url=person.url, avatar=person.avatar
    )


def test_item_round_trip_preserves_every_field() -> None:
    """``==`` ignores origin and compares instants, so check the JSON form too."""
    item = full_item()
    data = json.loads(json.dumps(item.to_dict(private=True)))
    back = Item.from_dict(data)
    assert back == item
    assert back.to_dict(private=True) == item.to_dict(private=True)
    assert back.origin == item.origin
    assert back.author.email == item.author.email
    assert back.published.utcoffset() == timedelta(hours=5, minutes=30)
    assert back.published.isoformat() == item.published.isoformat()


def test_post_round_trip() -> None:
    post = Post(key="2026/hello-wörld", title="Hello “wörld”", url="https://blog.example/hello")
    assert Post.from_dict(json.loads(json.dumps(post.to_dict()))) == post


def test_thread_round_trip_and_no_email() -> None:
    """A thread read back from JSON must render the same; it never carries emails."""
    root = full_item()
    child = make_item(1, in_reply_to=root.id, published=datetime(2026, 3, 5, tzinfo=PST))
    thread = Thread(
        post=Post(key="post", title="Post", url="https://blog.example/post"),
        items=(root, child),
        parents={child.id: root.id, root.id: None},
        by_author=frozenset({child.id}),
        waiting=frozenset({root.id}),
    )
    text = json.dumps(thread.to_dict())
    back = Thread.from_dict(json.loads(text))
    public = tuple(replace(i, author=replace(i.author, email="")) for i in thread.items)
    assert back == replace(thread, items=public)
    assert back.to_dict() == thread.to_dict()
    assert [i.published.utcoffset() for i in back] == [
        timedelta(hours=5, minutes=30),
        timedelta(hours=-8),
    ]
    assert "ana@private.example" not in text


def test_archive_round_trip_preserves_items_and_zones(archive: Archive) -> None:
    """What goes in comes out unchanged, offsets included (not just the same instant)."""
    put = [
        full_item(),
        make_item(1, published=datetime(2026, 1, 1, 23, 30, tzinfo=PST)),
        make_item(2, published=datetime(2026, 1, 1, 23, 30, tzinfo=IST), kind="like"),
    ]
    archive.merge("post", put, cursors={"mastodon": {"since_id": "109"}})
    record = Archive(archive.path).load("post")
    expected = dicts(put)
    expected[put[0].id]["author"].pop("email", None)
    assert dicts(record.items.values()) == expected
    assert record.items["c001"].published.utcoffset() == timedelta(hours=-8)
    assert record.items["c002"].published.utcoffset() == timedelta(hours=5, minutes=30)
    assert record.cursors == {"mastodon": {"since_id": "109"}}
    assert record.key == "post"


def test_archive_never_writes_email(archive: Archive) -> None:
    """Emails stay in memory; the archive is committed to a public repository."""
    secret = "reader.secret@private.example"
    person = Person(name="Reader", email=secret)
    archive.merge("post", [make_item(1, author=person)])
    # An update of the same item, and a reply by the same person, must not leak it either.
    archive.merge("post", [make_item(1, author=person, content_html="<p>edited</p>")])
    archive.merge("post", [make_item(2, author=person)])
    text = archive.post_path("post").read_text(encoding="utf-8")
    assert secret not in text
    assert "email" not in text
    assert all(i.author.email == "" for i in archive.load("post").items.values())


def test_golden_v1_file_loads_and_reserialises_identically(tmp_path: Path) -> None:
    """Pins the on-disk format: a committed schema-1 file reads, and writes
    back as schema 2 (v2-post.json) with nothing else changed; an unchanged
    merge does not rewrite it."""
    golden = DATA / "v1-post.json"
    archive = Archive(tmp_path)
    target = archive.post_path("2026/hello")
    target.parent.mkdir(parents=True)
    target.write_bytes(golden.read_bytes())
    record = archive.load("2026/hello")
    assert record.key == "2026/hello"
    assert set(record.items) == {"comment:2026/hello/c1", "mastodon:https://social.example/1"}
    assert record.items["mastodon:https://social.example/1"].published.utcoffset() == timedelta(
        hours=-8
    )
    assert record.cursors == {"mastodon": {"since_id": "1"}}
    out = tmp_path / "again.json"
    atomic_write_json(out, record.to_dict())
    assert out.read_bytes() == (DATA / "v2-post.json").read_bytes()
    assert not archive.merge("2026/hello", record.items.values()).changed
    assert target.read_bytes() == golden.read_bytes()


# --- Merge semantics --------------------------------------------------------------------


def test_merge_adds_items(archive: Archive) -> None:
    result = archive.merge("post", items(3))
    assert (result.added, result.updated, result.changed) == (3, 0, True)
    result = archive.merge("post", items(2, start=3))
    assert (result.added, result.updated) == (2, 0)
    assert ids(archive, "post") == {"c000", "c001", "c002", "c003", "c004"}


def test_merge_updates_a_changed_item(archive: Archive) -> None:
    archive.merge("post", items(3))
    edited = make_item(1, content_html="<p>edited</p>")
    result = archive.merge("post", [*items(3)[:1], edited, *items(3)[2:]])
    assert (result.added, result.updated) == (0, 1)
    assert archive.load("post").items["c001"].content_html == "<p>edited</p>"
    assert archive.load("post").items["c000"] == make_item(0)


def test_remerging_the_same_items_changes_nothing(archive: Archive) -> None:
    """A build that fetched nothing new must not touch the file (no spurious git diff)."""
    archive.merge("post", items(5), cursors={"src": 1})
    path = archive.post_path("post")
    before, mtime = path.read_bytes(), age(path)
    result = archive.merge("post", items(5), cursors={"src": 1})
    assert not result.changed
    assert (result.added, result.updated) == (0, 0)
    assert path.stat().st_mtime_ns == mtime
    assert path.read_bytes() == before
    # Items read back from the archive are the same items too.
    assert not archive.merge("post", archive.load("post").items.values()).changed
    assert path.stat().st_mtime_ns == mtime


def test_email_alone_is_not_a_change(archive: Archive) -> None:
    """The email is never archived, so a copy that differs only there is the same item."""
    archive.merge("post", [make_item(1)])
    path = archive.post_path("post")
    mtime = age(path)
    with_email = make_item(1, author=Person(name="Reader 1", url="https://r1.example", email="x@y"))
    assert not archive.merge("post", [with_email]).changed
    assert path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(make_item(1, in_reply_to=""), id="empty-in_reply_to"),
        pytest.param(make_item(1, extras={"counts": (1, 2)}), id="tuple-in-extras"),
    ],
)
def test_remerging_an_item_that_json_normalises_changes_nothing(
    archive: Archive, item: Item
) -> None:
    """Merge compares the stored (JSON) form with the in-memory one; they must agree.

    ``Item.from_dict`` turns ``in_reply_to=""`` into ``None`` and JSON turns tuples into
    lists, so an item built with either differs from its own archived copy forever.
    """
    archive.merge("post", [item])
    path = archive.post_path("post")
    mtime = age(path)
    result = archive.merge("post", [item])
    assert (result.added, result.updated) == (0, 0), "same item reported as updated"
    assert path.stat().st_mtime_ns == mtime, "file rewritten for an unchanged item"


def test_item_missing_from_a_later_merge_is_kept(archive: Archive) -> None:
    """A source that stops returning an item (deleted, paged out) must not erase it."""
    archive.merge("post", items(5))
    result = archive.merge("post", [make_item(1), make_item(9)])
    assert (result.added, result.updated) == (1, 0)
    assert ids(archive, "post") == {"c000", "c001", "c002", "c003", "c004", "c009"}
    assert archive.load("post").items["c003"] == make_item(3)


def test_merging_nothing_leaves_the_file_byte_identical(archive: Archive) -> None:
    """An empty or failed fetch is the common case and must be a no-op."""
    assert not archive.merge("new", []).changed
    assert not archive.post_path("new").exists()
    archive.merge("post", items(3), cursors={"a": 1})
    path = archive.post_path("post")
    before, mtime = path.read_bytes(), age(path)
    assert not archive.merge("post", []).changed
    assert not archive.merge("post", [], cursors={}).changed
    assert not archive.merge("post", iter(()), cursors={"a": 1}).changed
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime


def test_cursors_merge(archive: Archive) -> None:
    """Each source keeps its own cursor; a merge updates only the ones it names."""
    archive.merge("post", [], cursors={"mastodon": {"since_id": "1"}})
    assert archive.load("post").cursors == {"mastodon": {"since_id": "1"}}
    archive.merge("post", items(1), cursors={"webmention": "2026-01-01"})
    archive.merge("post", [], cursors={"mastodon": {"since_id": "7"}})
    record = archive.load("post")
    assert record.cursors == {"mastodon": {"since_id": "7"}, "webmention": "2026-01-01"}
    assert set(record.items) == {"c000"}
    path = archive.post_path("post")
    mtime = age(path)
    archive.merge("post", [], cursors={"webmention": "2026-01-01"})
    assert path.stat().st_mtime_ns == mtime


# --- Stable output ----------------------------------------------------------------------


def test_file_is_sorted_json_with_trailing_newline(archive: Archive) -> None:
    """Sorted keys at every level keep git diffs small and reviewable."""
    archive.merge("post", [full_item(), *items(3)], cursors={"z": 1, "a": {"y": 2, "b": 3}})
    text = archive.post_path("post").read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert "世界" in text  # readable, not \\u escapes
    seen: list[list[str]] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen.append([k for k, _ in pairs])
        return dict(pairs)

    json.loads(text, object_pairs_hook=hook)
    assert len(seen) > 5
    for keys in seen:
        assert keys == sorted(keys)


def test_bytes_do_not_depend_on_insertion_order(tmp_path: Path) -> None:
    """Two machines merging the same replies in another order must commit the same file."""
    everything = [full_item(), *items(30)]
    shuffled = everything[:]
    random.Random(7).shuffle(shuffled)
    one, two = Archive(tmp_path / "one"), Archive(tmp_path / "two")
    one.merge("post", everything, cursors={"a": 1, "b": {"x": 1, "y": 2}})
    two.merge("post", shuffled[:10], cursors={"b": {"y": 2, "x": 1}})
    two.merge("post", shuffled[10:], cursors={"a": 1})
    assert one.post_path("post").read_bytes() == two.post_path("post").read_bytes()


def test_one_new_item_is_a_small_diff(archive: Archive) -> None:
    """A new reply must show up in review as a few added lines, not a rewritten file."""
    archive.merge("post", [make_item(n) for n in range(0, 100, 2)])
    path = archive.post_path("post")
    before = path.read_text(encoding="utf-8").splitlines()
    archive.merge("post", [make_item(51)])
    after = path.read_text(encoding="utf-8").splitlines()
    diff = [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    added = [line for line in diff if line.startswith("+")]
    removed = [line for line in diff if line.startswith("-")]
    item_lines = len(json.dumps(make_item(51).to_dict(), indent=1).splitlines())
    assert len(before) > 50 * item_lines
    assert len(added) <= item_lines + 1
    assert len(removed) <= 1
    assert any('"c051"' in line for line in added)


# --- Schema and damaged files -----------------------------------------------------------


def write_post_file(archive: Archive, key: str, content: str | bytes) -> Path:
    path = archive.post_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def test_file_records_schema_2(archive: Archive) -> None:
    archive.merge("post", items(1))
    data = json.loads(archive.post_path("post").read_text(encoding="utf-8"))
    assert SCHEMA == 2
    assert data["schema"] == 2
    assert data["post"] == "post"


NEWER = {
    "same-layout": {"schema": 3, "post": "post", "items": {}, "cursors": {}},
    # A future version is free to change the layout; the version must be read first.
    "new-layout": {"schema": 3, "post": "post", "items": [{"id": "c1"}], "tombstones": []},
}


@pytest.mark.parametrize("data", NEWER.values(), ids=NEWER.keys())
def test_newer_schema_asks_for_an_upgrade(archive: Archive, data: dict[str, Any]) -> None:
    path = write_post_file(archive, "post", json.dumps(data))
    with pytest.raises(ArchiveError, match="upgrade") as caught:
        archive.load("post")
    assert caught.value.path == path


@pytest.mark.parametrize("data", NEWER.values(), ids=NEWER.keys())
def test_merge_into_newer_schema_refuses_and_leaves_file(
    archive: Archive, data: dict[str, Any]
) -> None:
    """An older build must never downgrade a file written by a newer one."""
    path = write_post_file(archive, "post", json.dumps(data))
    before, mtime = path.read_bytes(), age(path)
    with pytest.raises(ArchiveError):
        archive.merge("post", items(2), cursors={"x": 1})
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime


def test_truncated_file_raises_naming_path_and_is_not_overwritten(archive: Archive) -> None:
    """The jekyll-webmention_io failure: a damaged file silently restarted from empty."""
    archive.merge("post", items(5))
    path = archive.post_path("post")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    truncated = path.read_bytes()
    with pytest.raises(ArchiveError) as caught:
        archive.load("post")
    assert str(path) in str(caught.value)
    assert caught.value.path == path
    with pytest.raises(ArchiveError):
        archive.merge("post", items(1, start=10))
    assert path.read_bytes() == truncated
    assert archive.keys() == ["post"]


# A hand edit gone wrong in one item of a long file: the message names the
# item and what is wrong, not a bare KeyError ("('id')").
BAD_ITEMS = {
    "no-id": ("id", None, "item 'c001': no id"),
    "bad-date": ("published", "yesterday", "item 'c001': 'yesterday' is not an ISO 8601"),
    "author-a-string": ("author", "Ann", "item 'c001': "),
}


@pytest.mark.parametrize("field, value, said", BAD_ITEMS.values(), ids=BAD_ITEMS.keys())
def test_a_malformed_item_is_named_with_its_problem(
    archive: Archive, field: str, value: Any, said: str
) -> None:
    archive.merge("post", items(3))
    path = archive.post_path("post")
    data = json.loads(path.read_text(encoding="utf-8"))
    if value is None:
        del data["items"]["c001"][field]
    else:
        data["items"]["c001"][field] = value
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ArchiveError) as caught:
        archive.load("post")
    assert said in str(caught.value) and str(path) in str(caught.value)
    assert "left as it is" in str(caught.value)


NOT_ARCHIVES: dict[str, str | bytes] = {
    "empty": "",
    "list": "[1, 2]",
    "string": '"post"',
    "null": "null",
    "empty-object": "{}",
    "no-items": '{"schema": 1, "post": "post"}',
    "items-list": '{"schema": 1, "items": []}',
    "item-not-object": '{"schema": 1, "items": {"a": "text"}}',
    "item-missing-id": '{"schema": 1, "items": {"a": {"kind": "comment"}}}',
    "bad-kind": json.dumps({"schema": 1, "items": {"a": {**make_item(1).to_dict(), "kind": "x"}}}),
    "bad-date": json.dumps(
        {"schema": 1, "items": {"a": {**make_item(1).to_dict(), "published": "soon"}}}
    ),
    "author-string": json.dumps(
        {"schema": 1, "items": {"a": {**make_item(1).to_dict(), "author": "Ana"}}}
    ),
    "cursors-list": '{"schema": 1, "items": {}, "cursors": [1, 2]}',
    "not-utf8": b'{"schema": 1, "items": {}, "post": "\xff\xfe"}',
}


@pytest.mark.parametrize("content", NOT_ARCHIVES.values(), ids=NOT_ARCHIVES.keys())
def test_valid_but_foreign_files_raise_archive_error(
    archive: Archive, content: str | bytes
) -> None:
    """The build reports ArchiveError and goes on; any other exception would stop it."""
    path = write_post_file(archive, "post", content)
    before = path.read_bytes()
    with pytest.raises(ArchiveError) as caught:
        archive.load("post")
    assert caught.value.path == path
    with pytest.raises(ArchiveError):
        archive.merge("post", items(1))
    assert path.read_bytes() == before


# --- Keys as file names -----------------------------------------------------------------


HOSTILE_KEYS = [
    "../../etc/passwd",
    "a/b",
    "..",
    ".",
    "",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "C:\\temp\\x",
    "~/x",
    ".hidden",
    "nul\x00byte",
    "line\nbreak",
    "日本語/記事",
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_keys_stay_inside_the_archive_folder(tmp_path: Path, key: str) -> None:
    archive = Archive(tmp_path / "archive")
    posts = (archive.path / "posts").resolve()
    assert archive.post_path(key).resolve().parent == posts
    name = file_name(key)
    assert name.endswith(".json")
    assert not name.startswith(".")
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    archive.merge(key, items(1))
    for path in files_under(tmp_path):
        assert path.resolve().is_relative_to(archive.path.resolve())
    assert set(archive.load(key).items) == {"c000"}
    if key:  # "" reads back as "_"; Pelican never makes an empty slug
        assert archive.load(key).key == key


@pytest.mark.parametrize(
    ("first", "second"),
    [("a/b", "a_b"), ("日本", "中文"), ("café", "cafè")],
)
def test_distinct_keys_keep_distinct_records(archive: Archive, first: str, second: str) -> None:
    """Two posts must never share a file: each would show the other's replies."""
    archive.merge(first, [make_item("only-first")])
    archive.merge(second, [make_item("only-second")])
    assert set(archive.load(first).items) == {"only-first"}, "replies of another post mixed in"
    assert set(archive.load(second).items) == {"only-second"}
    assert archive.load(first).key == first
    assert archive.load(second).key == second
    assert archive.post_path(first) != archive.post_path(second)


# --- Atomicity under crash --------------------------------------------------------------


CRASH_WORKER = """
import os, sys, tempfile, time
from datetime import datetime, timezone
from pelican_engage.archive import Archive
from pelican_engage.model import Item, Person

archive, n, mode = Archive(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
real_mkstemp, real_fsync = tempfile.mkstemp, os.fsync


def mkstemp(*args, **kwargs):
    made = real_mkstemp(*args, **kwargs)
    if mode == "write":  # tell the parent a temp file now exists
        os.write(1, b"w\\n")
    return made


def fsync(fd):
    real_fsync(fd)
    if mode == "rename":  # data written and synced, rename not done: wait to be killed
        os.write(1, b"w\\n")
        time.sleep(60)


tempfile.mkstemp, os.fsync = mkstemp, fsync
when = datetime(2026, 1, 2, tzinfo=timezone.utc)
pad = "<p>" + "x" * 400 + "</p>"
print("ready", flush=True)
while True:
    batch = [
        Item(id=f"k{n + j:08d}", source="crash", kind="comment", author=Person("W"),
             published=when, content_html=pad)
        for j in range(7)
    ]
    archive.merge("big", batch, cursors={"n": n})
    n += 7
"""


def python(code: str, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, text=True, **kwargs)


def kill_merging_worker(archive: Archive, start: int, mode: str, rng: random.Random) -> None:
    """Run CRASH_WORKER and SIGKILL it: at a random time, mid-write, or before the rename."""
    proc = python(CRASH_WORKER, str(archive.path), str(start), mode, stdout=subprocess.PIPE)
    watchdog = threading.Timer(15, proc.kill)  # a worker that never writes must not hang us
    watchdog.start()
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        if mode == "random":
            time.sleep(rng.uniform(0.05, 1.0))
        else:
            assert proc.stdout.readline().strip() == "w", "worker never reached a write"
            time.sleep(rng.uniform(0, 0.01) if mode == "write" else 0)
        proc.send_signal(signal.SIGKILL)
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_mid_merge_never_loses_or_corrupts(archive: Archive) -> None:
    """G3: kill -9 during merges; the file always parses and its item set never shrinks."""
    big = "<p>" + "y" * 400 + "</p>"
    archive.merge("big", [make_item(f"seed{n:05d}", content_html=big) for n in range(1500)])
    path = archive.post_path("big")
    known = ids(archive, "big")
    rng = random.Random(20260102)
    grew, leftovers, modes = 0, 0, ["random", "write", "rename"] * 4
    deadline = time.monotonic() + 8
    for round_, mode in enumerate(modes):
        if round_ >= 3 and time.monotonic() > deadline:
            break
        kill_merging_worker(archive, round_ * 10**6, mode, rng)
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["schema"] == SCHEMA
        now = ids(archive, "big")
        assert set(data["items"]) == now
        assert known <= now, f"round {round_} ({mode}): {len(known - now)} items lost"
        grew += now != known
        known = now
        # A kill between mkstemp and os.replace leaves a temp file (which the
        # next worker's first merge removes, see test_archive_writes.py).
        leftovers += any(p.name.endswith(".tmp") for p in path.parent.iterdir())
    assert grew >= 1, "the worker never completed a merge; the random kills prove little"
    assert leftovers, "no kill landed between temp file and rename"
    # So does a planted one. Neither may disturb loading, listing or merging.
    (path.parent / f".{path.name}.planted.tmp").write_text('{"schema": 1, "it', encoding="utf-8")
    assert archive.keys() == ["big"]
    assert ids(archive, "big") == known
    assert archive.merge("big", [make_item("after")]).added == 1
    assert ids(archive, "big") == known | {"after"}


# --- Locking ----------------------------------------------------------------------------


LOCK_WORKER = """
import sys, time
from datetime import datetime, timezone
from pathlib import Path
from pelican_engage.archive import Archive
from pelican_engage.model import Item, Person

archive, worker, go = Archive(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
when = datetime(2026, 1, 2, tzinfo=timezone.utc)
while not go.exists():
    time.sleep(0.001)
added = 0
for n in range(25):
    item = Item(id=f"w{worker}-{n:02d}", source="lock", kind="comment",
                author=Person(f"Worker {worker}"), published=when, content_html="x" * 500)
    added += archive.merge("shared", [item], cursors={f"w{worker}": n}).added
print(added, flush=True)
"""


def test_concurrent_merges_lose_no_update(tmp_path: Path) -> None:
    """Two builds at once (autoreload plus CI) must not drop each other's items."""
    archive = Archive(tmp_path / "archive")
    archive.merge("shared", [make_item("seed")])
    go = tmp_path / "go"
    procs = [
        python(LOCK_WORKER, str(archive.path), str(w), str(go), stdout=subprocess.PIPE)
        for w in range(4)
    ]
    time.sleep(0.3)  # let them all import and wait at the gate
    go.touch()
    outputs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        outputs.append(out.strip())
    assert outputs == ["25"] * 4
    data = json.loads(archive.post_path("shared").read_text(encoding="utf-8"))
    expected = {"seed"} | {f"w{w}-{n:02d}" for w in range(4) for n in range(25)}
    assert set(data["items"]) == expected
    assert data["cursors"] == {f"w{w}": 24 for w in range(4)}


# --- Acknowledgements -------------------------------------------------------------------


def test_acknowledge_adds_once_and_reads_back(archive: Archive) -> None:
    assert archive.acknowledged() == frozenset()
    assert archive.acknowledge("c1", note="thanked in person", at="2026-01-02T10:00:00+00:00")
    assert not archive.acknowledge("c1", note="again")
    assert archive.acknowledge("c2")
    assert Archive(archive.path).acknowledged() == frozenset({"c1", "c2"})
    data = json.loads((archive.path / ACKS_FILE).read_text(encoding="utf-8"))
    assert data["schema"] == SCHEMA
    assert data["items"]["c1"] == {"note": "thanked in person", "at": "2026-01-02T10:00:00+00:00"}


CORRUPT_ACKS = {
    "truncated": '{"schema": 1, "items": {"c1": {"no',
    "list": "[1, 2]",
    "items-number": '{"schema": 1, "items": 5}',
    "not-utf8": b'{"schema": 1, "items": {"\xff": {}}}',
}


def write_acks(archive: Archive, content: str | bytes) -> Path:
    path = archive.path / ACKS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize("content", CORRUPT_ACKS.values(), ids=CORRUPT_ACKS.keys())
def test_corrupt_acknowledgements_raise_archive_error(
    archive: Archive, content: str | bytes
) -> None:
    """The engine turns ArchiveError into a warning; anything else would stop the build."""
    path = write_acks(archive, content)
    with pytest.raises(ArchiveError) as caught:
        archive.acknowledged()
    assert caught.value.path == path


@pytest.mark.parametrize("content", CORRUPT_ACKS.values(), ids=CORRUPT_ACKS.keys())
def test_acknowledge_into_corrupt_file_raises_and_leaves_it(
    archive: Archive, content: str | bytes
) -> None:
    """Same contract as post files: ArchiveError, and the file is left as it is."""
    path = write_acks(archive, content)
    before = path.read_bytes()
    with pytest.raises(ArchiveError):
        archive.acknowledge("c9")
    assert path.read_bytes() == before


def test_acknowledge_refuses_a_newer_schema(archive: Archive) -> None:
    """Security notes 4: never write into a file whose schema is newer than the code."""
    path = write_acks(archive, json.dumps({"schema": 3, "items": {}, "by_author": {}}))
    before = path.read_bytes()
    with pytest.raises(ArchiveError, match="upgrade"):
        archive.acknowledge("c9")
    assert path.read_bytes() == before


# --- atomic_write_json ------------------------------------------------------------------


def test_atomic_write_uses_a_synced_temp_file_in_the_same_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename is only atomic within one file system, and only safe after the data is synced."""
    target = tmp_path / "sub" / "data.json"
    events: list[str] = []
    real_replace, real_fsync = os.replace, os.fsync

    def spy_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        src_path, dst_path = Path(src), Path(dst)
        assert src_path.parent == dst_path.parent == target.parent
        assert src_path.name.startswith(".data.json.")
        assert json.loads(src_path.read_text(encoding="utf-8")) == {"b": 1, "a": [1, "é"]}
        events.append("replace")
        real_replace(src, dst)

    def spy_fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    monkeypatch.setattr(os, "replace", spy_replace)
    monkeypatch.setattr(os, "fsync", spy_fsync)
    atomic_write_json(target, {"b": 1, "a": [1, "é"]})
    assert events[:2] == ["fsync", "replace"]
    assert target.read_text(encoding="utf-8") == '{\n "a": [\n  1,\n  "é"\n ],\n "b": 1\n}\n'
    assert files_under(tmp_path) == [target]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_write_leaves_original_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """ENOSPC or a failed rename: the old file stays whole, and no debris is left behind."""
    target = tmp_path / "data.json"
    atomic_write_json(target, {"old": True})
    before = target.read_bytes()

    def boom(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    # One error naming the file, whatever step the disk refused.
    with pytest.raises(ArchiveWriteError, match=r"data\.json: cannot be written \(No space"):
        atomic_write_json(target, {"new": True})
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert files_under(tmp_path) == [target]


def test_failed_merge_keeps_the_archive(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk-full build fails loudly but loses nothing already archived."""
    archive.merge("post", items(3))
    before = archive.post_path("post").read_bytes()

    def boom(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ArchiveWriteError):
        archive.merge("post", items(2, start=10))
    monkeypatch.undo()
    assert archive.post_path("post").read_bytes() == before
    assert [p.name for p in files_under(archive.path / "posts")] == ["post.json"]


def test_unserialisable_data_leaves_original(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    atomic_write_json(target, {"old": True})
    before = target.read_bytes()
    with pytest.raises(TypeError):
        atomic_write_json(target, {"new": object()})
    assert target.read_bytes() == before
    assert files_under(tmp_path) == [target]


# --- Properties -------------------------------------------------------------------------


ITEM_IDS = st.text(alphabet="ab/.", min_size=1, max_size=3)
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
MOMENTS = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    OFFSETS,
)
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=4)
ITEMS = st.builds(
    Item,
    id=ITEM_IDS,
    source=st.sampled_from(["local", "mastodon", "webmention"]),
    kind=st.sampled_from(KINDS),
    author=st.builds(Person, name=st.text(max_size=6), email=st.text(max_size=6)),
    published=MOMENTS,
    # Already-clean values: the archive stores items sanitised (see
    # test_archive_stores_items_sanitised), and these must come back as given.
    content_html=st.sampled_from(["", "<p>hi</p>", "<p>a &amp; b</p>", "<p><em>x</em></p>"]),
    url=st.sampled_from(["", "https://x.example/1", "http://y.example/?a=1&b=2"]),
    in_reply_to=st.none() | ITEM_IDS,
    extras=st.dictionaries(st.text(max_size=3), SCALARS, max_size=2),
)
ITEM_LISTS = st.lists(ITEMS, max_size=8)


def last_versions(*batches: list[Item]) -> dict[str, dict[str, Any]]:
    """What the archive should hold: the last version of every id ever merged."""
    expected: dict[str, dict[str, Any]] = {}
    for batch in batches:
        expected.update(dicts(batch))
    return expected


PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(first=ITEM_LISTS, second=ITEM_LISTS)
def test_property_merges_accumulate_the_union(first: list[Item], second: list[Item]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        archive = Archive(folder)
        archive.merge("post", first)
        archive.merge("post", second)
        record = Archive(folder).load("post")
        assert set(record.items) == {i.id for i in first} | {i.id for i in second}
        assert dicts(record.items.values()) == last_versions(first, second)


@PROPERTY_SETTINGS
@given(batch=st.lists(ITEMS, max_size=8, unique_by=lambda item: item.id))
def test_property_merging_twice_equals_merging_once(batch: list[Item]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        once, twice = Archive(Path(folder) / "once"), Archive(Path(folder) / "twice")
        once.merge("post", batch)
        twice.merge("post", batch)
        second = twice.merge("post", batch)
        assert not second.changed
        if batch:
            path = once.post_path("post")
            assert path.read_bytes() == twice.post_path("post").read_bytes()
            assert PostRecord(key="post", items=once.load("post").items).to_dict() == json.loads(
                path.read_text(encoding="utf-8")
            )
        else:
            assert not twice.post_path("post").exists()


def test_archive_stores_items_sanitised(tmp_path: Path) -> None:
    """The committed archive is a way in: what it holds is clean, and stays so."""
    archive = Archive(tmp_path)
    hostile = Item(
        id="twitter:1",
        source="twitter",
        kind="reply",
        author=Person(name="M", url="javascript:alert(1)", avatar="//evil.example/a.png"),
        published=datetime(2026, 1, 1, tzinfo=timezone.utc),
        content_html='<p onclick="x()">hi<script>alert(1)</script></p>',
        url="javascript:alert(2)",
    )
    assert archive.merge("post", [hostile]).added == 1
    stored = archive.load("post").items["twitter:1"]
    assert (stored.url, stored.author.url, stored.author.avatar) == ("", "", "")
    assert stored.content_html == "<p>hi</p>"
    assert archive.merge("post", [hostile]).changed is False
    # A hand-edited file is cleaned when read, too.
    path = archive.post_path("post")
    path.write_text(path.read_text().replace('"url": ""', '"url": "javascript:alert(3)"'))
    assert archive.load("post").items["twitter:1"].url == ""


def test_loads_are_reused_until_the_file_changes(archive: Archive) -> None:
    archive.merge("post", [make_item(1)])
    first = archive.load("post")
    assert archive.load("post") is first  # unchanged file: no second parse
    path = archive.post_path("post")
    # A hand edit (or a pull request) is seen at once, and checked again.
    path.write_text(
        path.read_text(encoding="utf-8").replace("</p>", " <script>x</script>edited</p>"),
        encoding="utf-8",
    )
    again = archive.load("post")
    assert again is not first
    (item,) = again.items.values()
    assert "edited" in item.content_html and "<script" not in item.content_html
    with pytest.raises(TypeError):
        again.items["x"] = item  # type: ignore[index]


def test_links_among_the_extras_are_checked_on_the_way_in(archive: Archive) -> None:
    archive.merge("post", [make_item(1)])
    path = archive.post_path("post")
    data = json.loads(path.read_text(encoding="utf-8"))
    (stored,) = data["items"].values()
    stored["extras"] = {
        "reply_url": "javascript:alert(document.domain)",
        "wm_source": "https://ok.example/",
        "syndication": ["data:text/html,x", "https://fine.example/", 3],
        "likes": 2,
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    (item,) = archive.load("post").items.values()
    # Schema 1 kept them among the extras: read into their typed fields.
    assert item.extras == {"likes": 2}
    assert item.reply_url == "" and item.wm_source == "https://ok.example/"
    assert item.syndication == ("https://fine.example/",)
    # The same check when they are stored as fields (schema 2).
    stored.pop("extras")
    stored.update(reply_url="javascript:x", wm_source="data:,y", syndication=["https://z.example/"])
    path.write_text(json.dumps(data), encoding="utf-8")
    (item,) = archive.load("post").items.values()
    assert (item.reply_url, item.wm_source, item.syndication) == ("", "", ("https://z.example/",))


def test_a_malformed_item_costs_the_page_only_itself_and_the_file_is_never_rewritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A hand edit gone wrong in one item: the page shows its siblings and one
    warning names the file and the item; a fetch or import still refuses to
    write the file, which would lose the broken item."""
    from tests.conftest import Site

    site = Site(tmp_path / "site")
    site.article("post")
    archive = Archive(tmp_path / "site" / "archive")
    archive.merge("post", items(3))
    path = archive.post_path("post")
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["items"]["c001"]["published"]
    path.write_text(json.dumps(data), encoding="utf-8")
    before = path.read_bytes()

    with caplog.at_level(logging.WARNING):
        site.build()
    page = (site.output / "post.html").read_text(encoding="utf-8")
    assert 'data-engage-id="c000"' in page and 'data-engage-id="c002"' in page
    assert 'data-engage-id="c001"' not in page
    said = [r.getMessage() for r in caplog.records if str(path) in r.getMessage()]
    assert len(said) == 1 and "item 'c001': no published" in said[0]

    with pytest.raises(ArchiveError, match="left as it is"):
        Archive(tmp_path / "site" / "archive").merge("post", items(1, start=5))
    assert path.read_bytes() == before
