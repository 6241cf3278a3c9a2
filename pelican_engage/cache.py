"""The build cache of finished threads and their rendered HTML.

A warm build of a 500-post blog should cost almost nothing, so each post's
:class:`~pelican_engage.conversation.Engagement` is kept together with a
fingerprint of everything it was built from (the post, its comment files'
stamps, its archive file's stamp).  When the fingerprint still matches, the
thread is neither re-read nor re-built nor re-rendered.  It lives under
CACHE_PATH and can be deleted at any time.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic import atomic_write
from .conversation import Engagement
from .model import Problem

logger = logging.getLogger(__name__)

#: Bump when the pickled classes change shape, so old caches are not trusted.
_FORMAT = 5  # 5: Item has typed trust fields (archive schema 2)
#: A temporary file this old is what a killed build left: a write that is
#: still going on finishes in seconds.
STALE_SECONDS = 600.0


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
    #: Rendered thread HTML by render key (SITEURL and display settings).
    rendered: dict[str, str] = field(default_factory=dict)


class ThreadCache:
    """Per-post results of earlier builds, valid while ``salt`` is unchanged.

    ``salt`` holds what every thread depends on (the plugin version, who the
    author is, acknowledgements, display settings); a change empties the cache.
    """

    def __init__(self, folder: Path, salt: str, site: str = "") -> None:
        self.path = folder / (f"threads-{site}.pickle" if site else "threads.pickle")
        # Only a digest is stored: the salt names the author's e-mail
        # addresses, and cache folders get uploaded (CI artifacts).
        self.salt = hashlib.sha256(f"{_FORMAT}:{salt}".encode()).hexdigest()
        self._old: dict[str, CachedThread] = {}
        self._new: dict[str, CachedThread] = {}
        self.hits = 0
        self._changed = False
        # Unpickling makes ~50,000 objects for a 500-post blog; the cyclic
        # garbage collector would run dozens of times over them, for nothing
        # (they hold no cycles), tripling the load time.
        enabled = gc.isenabled()
        gc.disable()
        try:
            with self.path.open("rb") as handle:
                data = pickle.load(handle)
            if isinstance(data, dict) and data.get("salt") == self.salt:
                self._old = data["posts"]
        except Exception:  # no cache, or one from another version: build afresh
            self._old = {}
        finally:
            if enabled:
                gc.enable()

    def get(self, key: str, fingerprint: Any) -> CachedThread | None:
        cached = self._new.get(key) or self._old.get(key)
        if cached is None or cached.fingerprint != fingerprint:
            return None
        self.hits += 1
        self._new[key] = cached
        return cached

    def previous(self, key: str) -> CachedThread | None:
        """The entry of an earlier build, whatever its fingerprint."""
        return self._old.get(key)

    def put(self, key: str, entry: CachedThread) -> CachedThread:
        self._new[key] = entry
        self._changed = True
        return entry

    def rendered(self, key: str, render_key: str) -> str | None:
        entry = self._new.get(key)
        return entry.rendered.get(render_key) if entry else None

    def remember_render(self, key: str, render_key: str, html: str) -> None:
        entry = self._new.get(key)
        if entry is not None:
            entry.rendered[render_key] = html
            self._changed = True

    def save(self) -> None:
        """Keep this build's posts only, so removed posts drop out."""
        if not self._changed and self._new.keys() == self._old.keys():
            return
        data = {"salt": self.salt, "posts": self._new}
        try:
            atomic_write(self.path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
            remove_stale_temporary(self.path.parent, f".{self.path.name}.")
        except (OSError, pickle.PicklingError, RecursionError) as exc:
            logger.debug("engage: could not write %s: %s", self.path, exc)
