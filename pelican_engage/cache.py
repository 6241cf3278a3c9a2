"""The build cache of finished threads and their rendered HTML, one file per post.

A warm build of a 2,000-post blog should cost almost nothing and hold
almost nothing, so each post's :class:`~pelican_engage.conversation.Engagement`
is kept in a file of its own, with a fingerprint of everything it was built
from (the post, its comment files' stamps, its archive file's stamp).  An
index holds the fingerprints and a :class:`Summary` per post (the figures
the build summary, the report and the feeds need); the thread itself is read
only when something asks for it (:class:`LazyEngagement`), and dropped again
when nothing uses it.  The rendered HTML is a file beside it, read when its
page is written.  All of it lives under CACHE_PATH and can be deleted at any
time; a damaged file (torn, truncated, edited) fails its checksum and the
post is rebuilt from its sources.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import pickle
import re
import secrets
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .archive_files import file_name
from .atomic import atomic_write, read_whole, write_checked
from .conversation import Engagement
from .filestamps import Stamps
from .model import Problem

logger = logging.getLogger(__name__)

#: Bump when the pickled classes change shape, so old caches are not trusted.
_FORMAT = 7  # 6: one file per post, an index of summaries; 7: slotted Post, Summary
#: A temporary file this old is what a killed build left: a write that is
#: still going on finishes in seconds.
STALE_SECONDS = 600.0
#: Items of threads a build keeps in memory (about 2.5 kB each): a site up
#: to this size reads no thread twice; a larger one keeps the first ones and
#: reads the others again when they are needed (its page, the feeds, the
#: author's page: each walks the threads once).  10,000 held cost a
#: 2,000-post site ~25 MB of its peak for ~0.2 s of reads saved.
HELD_ITEMS = 2_500


class _Held:
    """Threads held in memory during a build: the first ones, up to
    :data:`HELD_ITEMS` items (a sequential walk over the site's threads,
    which each consumer does, gains nothing from an LRU), and the last
    few read, for a template reading several attributes of one."""

    def __init__(self) -> None:
        self.first: list[Engagement] = []
        self.items = 0
        self.recent: deque[Engagement] = deque(maxlen=16)

    def hold(self, engagement: Engagement) -> None:
        size = len(engagement.thread.items)
        if self.items + size <= HELD_ITEMS:
            self.first.append(engagement)
            self.items += size
        else:
            self.recent.append(engagement)

    def clear(self) -> None:
        self.first.clear()
        self.items = 0
        self.recent.clear()


_RECENT = _Held()


def remove_stale_temporary(folder: Path, prefix: str, now: float | None = None) -> int:
    """Remove ``<prefix>*`` temporary files older than :data:`STALE_SECONDS`
    in ``folder`` (left by a ``kill -9`` mid-write); how many went."""
    now = time.time() if now is None else now
    removed = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.name.startswith(prefix) or not entry.is_file(follow_symlinks=False):
                    continue
                try:
                    if now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                        os.unlink(entry.path)
                        removed += 1
                except OSError:
                    continue
    except OSError:
        pass
    return removed


@dataclass
class CachedThread:
    fingerprint: Any
    engagement: Engagement
    problems: tuple[Problem, ...]
    #: Per comment file: its stamp, ``replyto`` and problems, and its item's
    #: id, so a changed post re-parses only the files that changed.
    files: dict[str, tuple[Any, str | None, tuple[str, ...], str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Summary:
    """What a build needs of a post's thread without reading it: totals,
    the problems told on every build, the ids ``report --new`` remembers,
    the avatars to copy and the digest of its comment feed."""

    key: str
    items: int
    waiting: int
    hidden: int
    #: Comments and their replies (pcs's ``comments_count``).
    comments: int
    #: Publication time of the oldest item waiting for a reply.
    oldest_waiting: datetime | None
    ids: tuple[str, ...]
    avatars: tuple[tuple[str, str], ...]
    feed_digest: str
    problems: tuple[Problem, ...] = ()

    @classmethod
    def of(cls, engagement: Engagement, problems: tuple[Problem, ...]) -> Summary:
        from .avatars import urls_of
        from .comment_feed import thread_digest
        from .model import ANSWERABLE_KINDS

        thread = engagement.thread
        return cls(
            key=thread.post.key,
            items=len(thread.items),
            waiting=len(thread.waiting),
            hidden=len(thread.hidden),
            comments=sum(1 for i in thread.items if i.kind in ANSWERABLE_KINDS),
            oldest_waiting=min(
                (i.published for i in thread.items if i.id in thread.waiting), default=None
            ),
            ids=tuple(i.id for i in thread.items),
            avatars=tuple(urls_of(thread.items).items()),
            feed_digest=thread_digest(thread),
            problems=problems,
        )


class LazyEngagement:
    """``article.engage``: a post's :class:`Engagement`, read from the cache
    when a template (or the report) first asks for one of its attributes.

    Only a weak reference is kept (and a few in :data:`_RECENT`), so
    a site's threads are never all in memory at once; ``keep`` holds it
    (a cache that cannot be written, the CLI).
    """

    __slots__ = ("__weakref__", "_kept", "_load", "_ref", "summary")

    def __init__(
        self,
        summary: Summary,
        load: Callable[[], Engagement],
        engagement: Engagement | None = None,
        keep: bool = False,
    ) -> None:
        self.summary = summary
        self._load = load
        self._kept = engagement if keep else None
        self._ref: weakref.ref[Engagement] | None = None
        if engagement is not None:
            self._hold(engagement)

    @property
    def key(self) -> str:
        return self.summary.key

    @property
    def held(self) -> Engagement | None:
        """The engagement when it is kept in memory (its cache file could
        not be written), else None."""
        return self._kept

    @property
    def feed_digest(self) -> str:
        return self.summary.feed_digest

    def _hold(self, engagement: Engagement) -> None:
        self._ref = weakref.ref(engagement)
        _RECENT.hold(engagement)

    def get(self) -> Engagement:
        """The engagement itself (read again if nothing held it)."""
        found = self._ref() if self._ref is not None else None
        if found is None:
            found = self._load()
            self._hold(found)
        return found

    def __getattr__(self, name: str) -> Any:
        # Only for names not defined here: the Engagement's fields and properties.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.get(), name)

    def __repr__(self) -> str:
        return f"LazyEngagement({self.summary.key!r})"


def _sealed(payload: bytes) -> bytes:
    """``payload`` behind its SHA-256, so a torn or edited file is noticed."""
    return hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def _unsealed(data: bytes) -> memoryview | None:
    """The payload of :func:`_sealed` ``data`` (a view: rendered threads are
    tens of kB, read on every build), or None when it fails its digest."""
    cut = data.find(b"\n")
    payload = memoryview(data)[cut + 1 :]
    if cut != 64 or data[:64] != hashlib.sha256(payload).hexdigest().encode():
        return None
    return payload


def _read_index(path: Path, salt: str) -> tuple[dict[str, tuple[Any, str, Summary]], Stamps]:
    """The posts and the rendered files' stamps of the index at ``path``,
    when made with ``salt``; none when missing, damaged (told) or another's."""
    # Unpickling makes many small objects; the cyclic garbage collector
    # would run over them for nothing (they hold no cycles).
    enabled = gc.isenabled()
    gc.disable()
    try:
        sealed, found = read_whole(path)
        payload = _unsealed(sealed)
        data = pickle.loads(payload) if payload is not None else None
        if isinstance(data, dict) and data.get("salt") == salt:
            return data["posts"], Stamps(data.get("stamps"), found.st_mtime_ns)
        if payload is None:
            logger.info("engage: the build cache %s is damaged; threads are rebuilt", path)
    except FileNotFoundError:
        pass
    except Exception as exc:  # another version's, or damaged: build afresh
        logger.info("engage: the build cache %s cannot be used (%s); rebuilt", path, exc)
    finally:
        if enabled:
            gc.enable()
    return {}, Stamps()


class ThreadCache:
    """Per-post results of earlier builds, valid while ``salt`` is unchanged.

    ``salt`` holds what every thread depends on (the plugin version, who the
    author is, acknowledgements, display settings); a change empties the
    cache.  ``persist=False`` (the CLI, whose SITEURL differs) writes nothing.
    """

    def __init__(self, folder: Path, salt: str, site: str = "", persist: bool = True) -> None:
        self.folder = folder / (f"threads-{site}" if site else "threads")
        self.path = self.folder / "index.pickle"
        self._folder = str(self.folder)
        #: Render key -> the suffix of its rendered files.
        self._suffixes: dict[str, str] = {}
        # Only a digest is stored: the salt names the author's e-mail
        # addresses, and cache folders get uploaded (CI artifacts).
        self.salt = hashlib.sha256(f"{_FORMAT}:{salt}".encode()).hexdigest()
        self.persist = persist
        #: Post key -> (fingerprint, token of its files, summary).
        self._new: dict[str, tuple[Any, str, Summary]] = {}
        self.hits = 0
        #: Threads read from their files, and rebuilt because a file was damaged.
        self.loads = 0
        self.damaged = 0
        self._changed = False
        _RECENT.clear()
        #: The last build's posts (as ``_new``), the rendered files known whole.
        self._old, self.stamps = _read_index(self.path, self.salt)

    def _file(self, key: str, token: str, suffix: str) -> Path:
        return self.folder / f"{file_name(key)[:-5]}.{token}{suffix}"

    def get(self, key: str, fingerprint: Any) -> tuple[str, Summary] | None:
        """The token and summary of the post's cached thread, when its
        fingerprint still matches (the thread itself is read by :meth:`load`)."""
        cached = self._entry(key, fingerprint)
        if cached is None:
            return None
        self.hits += 1
        self._new[key] = cached
        return cached[1], cached[2]

    def fingerprint(self, key: str) -> Any:
        """The fingerprint stored with the post's thread by :meth:`get`
        (or :meth:`put`) in this build; KeyError when there is none."""
        return self._new[key][0]

    @property
    def empty(self) -> bool:
        """No thread of an earlier build (the first build, or all rebuilt)."""
        return not self._old

    def peek(self, key: str, fingerprint: Any) -> bool:
        """Is the post's thread cached for ``fingerprint`` (not counted as used)?"""
        return self._entry(key, fingerprint) is not None

    def _entry(self, key: str, fingerprint: Any) -> tuple[Any, str, Summary] | None:
        cached = self._new.get(key) or self._old.get(key)
        return cached if cached is not None and cached[0] == fingerprint else None

    def load(self, key: str, token: str) -> CachedThread | None:
        """The cached thread of ``key``; None when its file is missing,
        damaged or of another build (the caller rebuilds it)."""
        path = self._file(key, token, ".pickle")
        try:
            payload = _unsealed(path.read_bytes())
            data = pickle.loads(payload) if payload is not None else None
        except FileNotFoundError:
            data = None
        except Exception as exc:
            logger.debug("engage: %s cannot be read: %s", path, exc)
            data = None
        if (
            not isinstance(data, dict)
            or data.get("salt") != self.salt
            or data.get("token") != token
            or not isinstance(data.get("entry"), CachedThread)
        ):
            self.damaged += 1
            logger.info("engage: the cached thread of %r is missing or damaged; rebuilt", key)
            return None
        self.loads += 1
        return data["entry"]

    def previous(self, key: str) -> CachedThread | None:
        """The entry of an earlier build, whatever its fingerprint."""
        old = self._old.get(key)
        return self.load(key, old[1]) if old is not None else None

    def put(self, key: str, entry: CachedThread, summary: Summary) -> bool:
        """Keep ``entry``; False when it could not be written (hold it then)."""
        token = secrets.token_hex(8)
        self._new[key] = (entry.fingerprint, token, summary)
        self._changed = True
        if not self.persist:
            return False
        data = {"salt": self.salt, "token": token, "entry": entry}
        try:
            payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
            write_checked(self._file(key, token, ".pickle"), _sealed(payload))
        except (OSError, pickle.PicklingError, RecursionError) as exc:
            logger.debug("engage: could not write the cache of %r: %s", key, exc)
            return False
        return True

    def adopt(self, key: str, fingerprint: Any, token: str, summary: Summary) -> None:
        """Take in the thread another process built and wrote under ``token``."""
        self._new[key] = (fingerprint, token, summary)
        self._changed = True

    def tokens(self) -> dict[str, str]:
        """Post key -> the token of its files, as they are now."""
        return {key: entry[1] for key, entry in self._new.items()}

    def changed_since(self, tokens: dict[str, str]) -> list[tuple[str, Any, str, Summary]]:
        """The entries (key, fingerprint, token, summary) whose files changed
        since ``tokens`` (:meth:`tokens`): threads rebuilt meanwhile."""
        return [
            (key, fingerprint, token, summary)
            for key, (fingerprint, token, summary) in self._new.items()
            if tokens.get(key) != token
        ]

    def token(self, key: str) -> str:
        found = self._new.get(key)
        return found[1] if found else ""

    def rendered_file(self, key: str, render_key: str) -> str | None:
        """Where the post's thread rendered for ``render_key`` is kept (it
        may not be there); None when nothing is kept for the post."""
        token = self.token(key)
        if not token or not self.persist:
            return None
        # A warm build asks once per page: strings, and each render key
        # (one per language) hashed once, not a Path and a digest a page.
        suffix = self._suffixes.get(render_key)
        if suffix is None:
            suffix = self._suffixes[render_key] = f".{_short(render_key)}.html"
        return os.path.join(self._folder, f"{file_name(key)[:-5]}.{token}{suffix}")

    def remember_render(self, key: str, render_key: str, html: str) -> None:
        path = self.rendered_file(key, render_key)
        if path is None:
            return
        with contextlib.suppress(OSError):
            write_checked(Path(path), _sealed(html.encode("utf-8")))
            self.stamps.record(os.path.basename(path), os.stat(path))

    def read_rendered(self, path: str) -> str | None:
        """A rendered thread's text (:meth:`rendered_file`); None when missing
        or damaged (told).

        A file with the stamp recorded when it was written or last checked
        (:mod:`filestamps`) is used without checking its SHA-256; any other
        is checked, and recorded when whole.
        """
        name = os.path.basename(path)
        try:
            data, found = read_whole(path)
        except OSError:
            return None
        trusted = data[64:65] == b"\n" and self.stamps.trusted(name, found)
        payload = memoryview(data)[65:] if trusted else _unsealed(data)
        if payload is None:
            self.stamps.forget(name)
            logger.info("engage: the rendered thread %s is damaged; rendered again", path)
            return None
        if not trusted:
            self.stamps.record(name, found)
        return str(payload, "utf-8", "replace")

    def save(self) -> None:
        """Keep this build's posts only: files of removed posts and of
        earlier versions of changed ones are deleted."""
        if not self.persist:
            return
        if not (self._changed or self.stamps.recorded) and self._new.keys() == self._old.keys():
            return
        current = {f"{file_name(k)[:-5]}.{token}" for k, (_f, token, _s) in self._new.items()}
        stamps = self.stamps.kept(lambda name: _post_file(name) in current)
        data = {"salt": self.salt, "posts": self._new, "stamps": stamps}
        try:
            payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
            atomic_write(self.path, _sealed(payload))
            remove_stale_temporary(self.folder, ".")
        except (OSError, pickle.PicklingError, RecursionError) as exc:
            logger.debug("engage: could not write %s: %s", self.path, exc)
            return
        self._remove_unused(current)

    def _remove_unused(self, current: set[str]) -> None:
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    name = _post_file(entry.name)
                    if name and name not in current:
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)
        except OSError:
            pass


#: A post's files: "<name>.<token>.pickle", "<name>.<token>.<render key>.html".
_POST_FILE = re.compile(r"^([^.].*\.[0-9a-f]{16})\.(?:pickle|[0-9a-f]{16}\.html)$")


def _post_file(name: str) -> str:
    """The post-and-token part of a post's file name; "" for other files."""
    match = _POST_FILE.match(name)
    return match[1] if match else ""


def _short(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
