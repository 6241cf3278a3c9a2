"""Checks shared by ``settings.py`` and each source's own settings section.

Kept apart from ``settings.py`` so a source module (imported by the source
registry, which ``settings.py`` imports) can check its section without an
import cycle.  Every check raises :class:`SettingsError` naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting has a value we cannot use; ``key`` names it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


def strings(key: str, value: Any) -> tuple[str, ...]:
    """A string or a list of strings, stripped, empty ones left out."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple, set, frozenset)) or not all(
        isinstance(v, str) for v in value
    ):
        raise SettingsError(key, f"expected a string or a list of strings, got {value!r}")
    return tuple(v.strip() for v in value if v.strip())


def section(
    settings: Mapping[str, Any], key: str, known: frozenset[str] | set[str]
) -> Mapping[str, Any]:
    """A dict setting whose keys must all be known; a typo is named, not ignored."""
    value = settings.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SettingsError(key, f"expected a dict, got {type(value).__name__}")
    unknown = sorted(set(value) - known)
    if unknown:
        raise SettingsError(
            key,
            f"unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}",
        )
    return value


def flag(section: Mapping[str, Any], key: str, name: str, default: bool) -> bool:
    """``section[name]``, which must be True or False."""
    value = section.get(name, default)
    if not isinstance(value, bool):
        raise SettingsError(f"{key}[{name!r}]", f"expected True or False, got {value!r}")
    return value


def number(value: Any, name: str, minimum: float, whole: bool = False) -> float:
    """A number (a whole one when ``whole``) at least ``minimum``."""
    kinds = (int,) if whole else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool) or value < minimum:
        kind = "a whole number" if whole else "a number"
        raise SettingsError(name, f"expected {kind} >= {minimum:g}, got {value!r}")
    return value


def env_name(section: Mapping[str, Any], key: str, default: str) -> str:
    """The *name* of the environment variable holding a secret."""
    name = section.get("token_env", default)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        # The value is not echoed: it may be the token itself, pasted by mistake.
        raise SettingsError(
            f"{key}['token_env']",
            "expected the name of an environment variable such as "
            f"{default}; the token itself never goes in settings",
        )
    return name


def api_url(section: Mapping[str, Any], key: str, default: str) -> str:
    """``section["api_url"]``: an http(s) base URL, without its final slash."""
    url = section.get("api_url", default)
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SettingsError(f"{key}['api_url']", f"expected an http(s) base URL, got {url!r}")
    return url.rstrip("/")


def hosts(section: Mapping[str, Any], key: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """Server host names under ``names`` (a string or a list each), as
    lower-case ``name[:port]``, in order, once each: the servers a token
    may be sent to."""
    found: list[str] = []
    for name in names:
        for value in strings(f"{key}[{name!r}]", section.get(name)):
            parts = urlsplit(f"//{value}")
            try:
                parts.port  # noqa: B018 - a bad port raises here
                bad = not parts.hostname or any(c in value for c in "/@?# \\")
            except ValueError:
                bad = True
            if bad:
                raise SettingsError(
                    f"{key}[{name!r}]",
                    "expected a server's host name such as 'mastodon.social' (with ':port' "
                    f"when it is not the default; no https://, no path), got {value!r}",
                )
            found.append(value.lower())
    return tuple(dict.fromkeys(found))
