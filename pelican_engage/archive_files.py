"""The archive's files: their names, how they are read and checked, and the
records they hold (see ``archive.py`` for the folder and its writes).

Everything here is pure or touches one file: reading a post file checks its
schema and sanitises its items again, since the archive is committed and may
be edited by hand.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .atomic import atomic_write
from .model import Item, Person, Tombstone, normal_handle, normal_url, profile_handle
from .parsed import entry_reason
from .sanitize import recheck_html, safe_url

#: 2: the facts that decide trust, waiting and dedup (``by_author``,
#: ``reply_url``, ``wm_source``, ``syndication``, ``root``, ``hidden``,
#: ``withheld``...) are item fields, no longer keys of ``extras``.
SCHEMA = 2
#: Older schemas this version reads (and rewrites in the current one).
READABLE_SCHEMAS = frozenset({1, SCHEMA})
ACKS_FILE = "acknowledged.json"
#: People erased on request, as digests of their handles and profile URLs.
FORGOTTEN_FILE = "forgotten.json"
_LOCK_TIMEOUT = 60.0


class ArchiveError(Exception):
    """An archive file exists but cannot be used; it is left untouched."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


class ArchiveWriteError(ArchiveError):
    """An archive file could not be written (full disk, permissions, a lock
    held too long): the file on disk is as it was, and what was to be
    written is not in it.  A disk problem, never a source's failure."""

    def __init__(self, path: Path, exc: OSError) -> None:
        super().__init__(path, f"cannot be written ({exc.strerror or exc})")
        self.errno = exc.errno


#: Temporary files of ``atomic_write_json``: ".<name>.json.<random>.tmp".
_TEMPORARY = re.compile(r"^\..+\.json\.[^.]+\.tmp$")


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as stable, diff-friendly JSON, all or nothing.

    Raises :class:`ArchiveWriteError` naming ``path`` when the disk refuses
    (no space, no permission); the old file is then unchanged, and no
    temporary file is left behind.  A process killed mid-write leaves one,
    which :meth:`Archive.remove_temporary_files` clears on the next run.
    """
    text = json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise ArchiveWriteError(path, exc) from exc


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def file_name(key: str) -> str:
    """A post key as a portable file name ("../x" cannot escape the folder).

    When the key has to be changed to be safe, a digest of the original is
    added, so "a/b", "a_b" and two non-ASCII slugs never share a file.
    """
    safe = _UNSAFE.sub("_", key).lstrip(".")
    if safe != key or not safe:
        safe = f"{safe}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
    return safe + ".json"


def _read_json(path: Path, kind: str) -> dict[str, Any]:
    """A JSON object with a schema we know, or an ArchiveError naming the file.

    The schema is checked before anything else, so a file from a newer
    version asks for an upgrade whatever its layout.
    """
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError(path, f"cannot be read ({exc}); left as it is") from exc
    if "\\ud" in text or "\\uD" in text:
        # A "\udcff" escape alone is no character: it would stop the build
        # where the page is written.  (Escaped pairs, e.g. emoji, are fine.)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start : exc.end].encode("utf-8", "backslashreplace").decode()
            raise ArchiveError(
                path, f"holds an escaped lone surrogate ({bad}), which is not text; left as it is"
            ) from exc
    schema = data.get("schema") if isinstance(data, dict) else None
    if isinstance(schema, int) and schema > SCHEMA:
        raise ArchiveError(
            path,
            f"has schema {schema}, newer than this version of pelican-engage "
            f"knows ({SCHEMA}); upgrade pelican-engage. Left as it is",
        )
    if (
        not isinstance(data, dict)
        or schema not in READABLE_SCHEMAS
        or not isinstance(data.get("items"), dict)
    ):
        raise ArchiveError(path, f"is not an engage {kind} file; left as it is")
    return data


def _checked(key: str, item: Item) -> Item:
    """An archived item, sanitised again: the file is committed and can be
    edited by hand or in a pull request, so it is a way in like any other.
    Cleaning is idempotent, so items we wrote come back unchanged."""
    if item.id != key:
        raise ValueError(f"item stored under {key!r} has the id {item.id!r}")
    author = item.author
    url, avatar = safe_url(author.url), safe_url(author.avatar)
    if url != author.url or avatar != author.avatar:
        author = replace(author, url=url, avatar=avatar)
    checked: dict[str, Any] = {
        "url": safe_url(item.url),
        "author": author,
        "content_html": recheck_html(item.content_html),
        "extras": _checked_extras(item.extras),
        "reply_url": safe_url(item.reply_url),
        "wm_source": safe_url(item.wm_source),
        "syndication": tuple(u for u in map(safe_url, item.syndication) if u),
    }
    # Items we wrote come back clean: a copy (with its __post_init__) only
    # for what cleaning changed.
    changed = {
        k: v for k, v in checked.items() if v is not getattr(item, k) and v != getattr(item, k)
    }
    return replace(item, **changed) if changed else item


def _checked_extras(extras: Mapping[str, Any]) -> Mapping[str, Any]:
    """Links among the extras (reply links, sources, syndication) that
    templates print as ``href`` pass the same URL check as the item's own."""
    if not extras:
        return extras
    checked = dict(extras)
    for key, value in extras.items():
        if key.endswith("_url") or key == "wm_source":
            checked[key] = safe_url(value) if isinstance(value, str) else ""
        elif key == "syndication":
            links = value if isinstance(value, list) else []
            checked[key] = [u for u in (safe_url(v) for v in links if isinstance(v, str)) if u]
    return checked


def _normal(data: Any) -> Any:
    # What an item looks like once written and read back ("" parents become
    # None, tuples lists), so re-merging it is recognised as no change.
    return json.loads(json.dumps(data))


def identities(person: Person, extras: Mapping[str, Any] | None = None) -> set[str]:
    """The normalised handles, profile URLs and DIDs a person is known by."""
    found = set()
    if person.handle:
        found.add("handle:" + normal_handle(person.handle))
    if person.url:
        found.add("url:" + normal_url(person.url))
        profile = profile_handle(person.url)
        if profile:
            found.add("handle:" + normal_handle(profile[1]))
    did = str((extras or {}).get("did") or "")
    if did.startswith("did:"):
        found.add("handle:" + did.casefold())
    found.discard("handle:")
    found.discard("url:")
    return found


def identities_of(value: str) -> set[str]:
    """What ``forget --person`` was given: a profile URL, a handle or a DID."""
    value = value.strip()
    if value.startswith(("http://", "https://")):
        return identities(Person(name="", url=value))
    return identities(Person(name="", handle=value), {"did": value})


def _digest(identity: str) -> str:
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def is_forgotten(item: Item, forgotten: frozenset[str]) -> bool:
    """Is ``item`` by a person erased on request (``forgotten``: digests)?"""
    return any(_digest(i) in forgotten for i in identities(item.author, item.extras))


@dataclass(frozen=True)
class PostRecord:
    """What the archive knows about one post."""

    key: str
    items: Mapping[str, Item] = field(default_factory=dict)
    cursors: Mapping[str, Any] = field(default_factory=dict)
    #: Items gone upstream or erased: kept so that nothing brings them back.
    tombstones: Mapping[str, Tombstone] = field(default_factory=dict)
    #: Read for display only (``lenient``): what was wrong with each item
    #: left out ("item 'c1': no id").  Such a record is never written back.
    malformed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = {
            "schema": SCHEMA,
            "post": self.key,
            "items": {i: item.to_dict() for i, item in sorted(self.items.items())},
            "cursors": dict(self.cursors),
        }
        if self.tombstones:
            # Only when there are any: files without deletions stay as they were.
            data["tombstones"] = {i: t.to_dict() for i, t in sorted(self.tombstones.items())}
        return data


@dataclass(frozen=True)
class MergeResult:
    added: int = 0
    updated: int = 0
    #: Items left out because they are tombstoned or their author was forgotten.
    refused: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


def _read_items(raw: Mapping[str, Any], malformed: list[str] | None) -> dict[str, Item]:
    """The items of a post file by id; ValueError naming the first bad one
    and what is wrong with it (``item 'x': no published``), so a hand edit
    gone wrong can be found in a long file.  With a ``malformed`` list, a
    bad item is named there instead and its siblings are read."""
    items = {}
    for key, data in raw.items():
        try:
            items[str(key)] = _checked(key, Item.from_dict(data))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            if malformed is None:
                raise ValueError(f"item {key!r}: {entry_reason(exc)}") from exc
            malformed.append(f"item {key!r}: {entry_reason(exc)}")
    return items


def read_record(path: Path, key: str | None = None, lenient: bool = False) -> PostRecord:
    """The checked record of one post file; ArchiveError naming it when it
    is damaged, or belongs to another post than ``key``.

    ``lenient`` (what a page shows): a malformed item is left out and named
    in ``malformed`` rather than costing its siblings; writers read strictly,
    so such a file is never rewritten without it."""
    data = _read_json(path, "archive")
    malformed: list[str] | None = [] if lenient else None
    try:
        items = _read_items(data["items"], malformed)
        cursors = data.get("cursors") or {}
        if not isinstance(cursors, dict):
            raise TypeError(f"cursors are a {type(cursors).__name__}, not an object")
        tombstones = {
            str(i): Tombstone.from_dict(d) for i, d in (data.get("tombstones") or {}).items()
        }
        # A tombstone wins over an item of the same id (one added back
        # by hand, or by an older version of pelican-engage).
        items = {i: item for i, item in items.items() if i not in tombstones}
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ArchiveError(path, f"holds malformed data ({exc}); left as it is") from exc
    stored = str(data.get("post", path.stem))
    if key is not None and stored != key:
        raise ArchiveError(path, f"belongs to post {stored!r}, not {key!r}; left as it is")
    # Read-only views: a loaded record may be shared by later loads.
    return PostRecord(
        key=stored,
        items=MappingProxyType(items),
        cursors=MappingProxyType(cursors),
        tombstones=MappingProxyType(tombstones),
        malformed=tuple(malformed or ()),
    )
