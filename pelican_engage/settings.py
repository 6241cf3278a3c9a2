"""``ENGAGE_*`` settings: defaults and one validation pass.

Pelican settings are a flat dict.  This module turns the keys we own into a
frozen :class:`EngageSettings`, so the rest of the code never has to guess a
default or re-check a type.  A bad value raises :class:`SettingsError`, whose
message names the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import Person

#: Networks whose handles ENGAGE_AUTHOR may list, besides names/emails/urls.
NETWORKS = ("twitter", "mastodon", "bluesky")
_AUTHOR_KEYS = frozenset({"names", "emails", "urls", *NETWORKS})

DEFAULTS: dict[str, Any] = {
    "ENGAGE_AUTHOR": None,  # None: {"names": [AUTHOR]}
    "ENGAGE_ARCHIVE_PATH": "engage-archive",
    "ENGAGE_OFFLINE": False,
    "ENGAGE_INJECT": True,
    "ENGAGE_CSS": True,
    "ENGAGE_COMMENTS_PATH": None,  # None: PELICAN_COMMENT_SYSTEM_DIR or "comments"
    "ENGAGE_DISPLAY_DEPTH": 5,
    "ENGAGE_SHOW_WAITING": False,
    "ENGAGE_DATE_FORMAT": "%Y-%m-%d %H:%M",
}

#: Where the stylesheet is written, relative to OUTPUT_PATH.
CSS_OUTPUT = "engage/engage.css"


class SettingsError(ValueError):
    """A setting has a value we cannot use; ``key`` names it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


def _strings(key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple, set, frozenset)) or not all(
        isinstance(v, str) for v in value
    ):
        raise SettingsError(key, f"expected a string or a list of strings, got {value!r}")
    return tuple(v.strip() for v in value if v.strip())


def _handle(value: str) -> str:
    return value.strip().lstrip("@").casefold()


def _url(value: str) -> str:
    value = value.strip().casefold()
    for prefix in ("https://", "http://"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    return value.removeprefix("www.").rstrip("/")


@dataclass(frozen=True)
class AuthorIdentity:
    """Who "the author" is, on every network at once."""

    names: tuple[str, ...] = ()
    emails: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    handles: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)

    @classmethod
    def from_setting(cls, value: Any, default_name: str = "") -> AuthorIdentity:
        key = "ENGAGE_AUTHOR"
        if value is None:
            value = {"names": [default_name] if default_name else []}
        elif isinstance(value, (str, list, tuple)):
            value = {"names": value}
        if not isinstance(value, Mapping):
            raise SettingsError(key, f"expected a dict, got {type(value).__name__}")
        unknown = sorted(set(value) - _AUTHOR_KEYS)
        if unknown:
            raise SettingsError(
                key,
                f"unknown key(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(_AUTHOR_KEYS))}",
            )
        return cls(
            names=_strings(f"{key}['names']", value.get("names")),
            emails=frozenset(
                e.casefold() for e in _strings(f"{key}['emails']", value.get("emails"))
            ),
            urls=frozenset(_url(u) for u in _strings(f"{key}['urls']", value.get("urls"))),
            handles={
                net: frozenset(_handle(h) for h in _strings(f"{key}[{net!r}]", value.get(net)))
                for net in NETWORKS
            },
        )

    @property
    def all_handles(self) -> frozenset[str]:
        found: set[str] = set()
        for handles in self.handles.values():
            found |= handles
            # "marin@mastodon.social" is addressed as "@marin" on its home server.
            found |= {h.split("@", 1)[0] for h in handles if "@" in h}
        return frozenset(found)

    def is_author(self, person: Person, source: str) -> bool:
        if person.email and person.email.casefold() in self.emails:
            return True
        if person.url and _url(person.url) in self.urls:
            return True
        handle = _handle(person.handle)
        if handle and handle in self.handles.get(source, frozenset()):
            return True
        # Local comments have no account behind them: the name is all there is.
        folded = person.name.strip().casefold()
        return bool(folded) and folded in {n.casefold() for n in self.names}


@dataclass(frozen=True)
class EngageSettings:
    author: AuthorIdentity
    archive_path: Path
    cache_path: Path
    content_path: Path
    comments_dir: str
    offline: bool
    inject: bool
    css: bool
    display_depth: int
    show_waiting: bool
    date_format: str
    timezone: str
    siteurl: str

    @property
    def comments_path(self) -> Path:
        return self.content_path / self.comments_dir


def _bool(settings: Mapping[str, Any], key: str) -> bool:
    value = settings.get(key, DEFAULTS[key])
    if not isinstance(value, bool):
        raise SettingsError(key, f"expected True or False, got {value!r}")
    return value


def load(settings: Mapping[str, Any]) -> EngageSettings:
    """Read and check every ``ENGAGE_*`` key of a Pelican settings dict."""
    comments_dir = settings.get("ENGAGE_COMMENTS_PATH") or settings.get(
        "PELICAN_COMMENT_SYSTEM_DIR", "comments"
    )
    if not isinstance(comments_dir, str) or not comments_dir.strip():
        raise SettingsError("ENGAGE_COMMENTS_PATH", f"expected a folder name, got {comments_dir!r}")
    depth = settings.get("ENGAGE_DISPLAY_DEPTH", DEFAULTS["ENGAGE_DISPLAY_DEPTH"])
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise SettingsError("ENGAGE_DISPLAY_DEPTH", f"expected a whole number >= 1, got {depth!r}")
    archive = settings.get("ENGAGE_ARCHIVE_PATH", DEFAULTS["ENGAGE_ARCHIVE_PATH"])
    if not isinstance(archive, (str, os.PathLike)) or not str(archive):
        raise SettingsError("ENGAGE_ARCHIVE_PATH", f"expected a folder path, got {archive!r}")
    date_format = settings.get("ENGAGE_DATE_FORMAT", DEFAULTS["ENGAGE_DATE_FORMAT"])
    if not isinstance(date_format, str) or not date_format:
        raise SettingsError(
            "ENGAGE_DATE_FORMAT", f"expected a strftime format, got {date_format!r}"
        )
    offline = _bool(settings, "ENGAGE_OFFLINE") or os.environ.get(
        "ENGAGE_OFFLINE", ""
    ).strip().lower() in {"1", "true", "yes", "on"}
    author = settings.get("AUTHOR") or ""
    return EngageSettings(
        author=AuthorIdentity.from_setting(
            settings.get("ENGAGE_AUTHOR"), author if isinstance(author, str) else ""
        ),
        archive_path=Path(archive),
        cache_path=Path(settings.get("CACHE_PATH") or "cache") / "engage",
        content_path=Path(settings.get("PATH") or "content"),
        comments_dir=comments_dir.strip().strip("/"),
        offline=offline,
        inject=_bool(settings, "ENGAGE_INJECT"),
        css=_bool(settings, "ENGAGE_CSS"),
        display_depth=depth,
        show_waiting=_bool(settings, "ENGAGE_SHOW_WAITING"),
        date_format=date_format,
        timezone=str(settings.get("TIMEZONE") or "UTC"),
        siteurl=str(settings.get("SITEURL") or ""),
    )
