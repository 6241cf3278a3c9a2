"""``ENGAGE_*`` settings: defaults and one validation pass.

Pelican settings are a flat dict.  This module turns the keys we own into a
frozen :class:`EngageSettings`, so the rest of the code never has to guess a
default or re-check a type.  A bad value raises :class:`SettingsError`, whose
message names the key.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import checks, comment_feed
from .checks import SettingsError
from .checks import section as _section
from .checks import strings as _strings
from .identity import AuthorIdentity, normal_handle, normal_url
from .reply_mail import valid_address
from .sources.registry import NETWORKS, WITH_HANDLES
from .sources.webmention import webmention_endpoint

__all__ = ["SettingsError", "webmention_endpoint"]  # re-exported: older imports keep working

#: Networks whose handles ENGAGE_AUTHOR may list, besides names, emails, urls.
HANDLE_NETWORKS = tuple(n.name for n in WITH_HANDLES)
_AUTHOR_KEYS = frozenset({"names", "emails", "urls", *HANDLE_NETWORKS})
#: Where ENGAGE_PEOPLE's "network:handle" may point: networks of accounts,
#: and local comments (whose handle is what the file says).
_PEOPLE_NETWORKS = frozenset({"local", *(n.name for n in NETWORKS if n.accounts)})

DEFAULTS: dict[str, Any] = {
    "ENGAGE_AUTHOR": None,  # None: {"names": [AUTHOR]}
    "ENGAGE_ARCHIVE_PATH": "engage-archive",
    "ENGAGE_OFFLINE": False,
    "ENGAGE_INJECT": True,
    "ENGAGE_CSS": True,
    "ENGAGE_COMMENTS_PATH": None,  # None: PELICAN_COMMENT_SYSTEM_DIR or "comments"
    "ENGAGE_DISPLAY_DEPTH": 5,
    "ENGAGE_SHOW_WAITING": False,
    # The article's locale's own way (Babel, CLDR "medium"); or a strftime pattern.
    "ENGAGE_DATE_FORMAT": "medium",
    "ENGAGE_CONCURRENCY": 16,
    "ENGAGE_WORKERS": None,  # None: the CPUs available, at most 4 (workers.py)
    "ENGAGE_FETCH_BUDGET": 120,
    "ENGAGE_REFRESH": {},
    # Each network's own dict (ENGAGE_MASTODON...; ENGAGE_WEBMENTION is None,
    # off, by default): its module under sources/ declares it.
    **{n.setting: n.setting_default for n in NETWORKS if n.setting},
    "ENGAGE_ANSWER_BY_MENTION": True,
    "ENGAGE_REPORT_PAGE": "engage-report/index.html",  # outside the output; None: off
    "ENGAGE_PEOPLE": [],
    "ENGAGE_COMMENT_EMAIL": None,  # an address: "Reply" and "Leave a comment" mailto: links
    # Atom feeds of comments; None: off.  Unset: pelican_comment_system's
    # PELICAN_COMMENT_SYSTEM_FEED(_ALL) when the conf still has them.
    "ENGAGE_COMMENT_FEED": comment_feed.DEFAULT_POST_FEED,
    "ENGAGE_COMMENT_FEED_ALL": comment_feed.DEFAULT_ALL_FEED,
    # Avatars copied into the site (never hot-linked), initials otherwise; False: none.
    "ENGAGE_AVATARS": True,
}

#: Settings given as paths relative to the settings file's folder.
RELATIVE_PATHS = ("ENGAGE_ARCHIVE_PATH", "ENGAGE_REPORT_PAGE")

_REFRESH_KEYS = {"min_seconds", "max_seconds", "ratio"}
#: ENGAGE_REFRESH's defaults (the same as fetch.Refresh's).
_REFRESH_DEFAULTS = {"min_seconds": 3600.0, "max_seconds": 7 * 86400.0, "ratio": 0.1}


#: Where the stylesheet is written, relative to OUTPUT_PATH.
CSS_OUTPUT = "engage/engage.css"


def author_identity(value: Any, default_name: str = "") -> AuthorIdentity:
    """ENGAGE_AUTHOR (a dict, or names as a string or list) as an identity."""
    key = "ENGAGE_AUTHOR"
    if value is None:
        value = {"names": [default_name] if default_name else []}
    elif isinstance(value, (str, list, tuple)):
        value = {"names": value}
    value = _section({key: value}, key, _AUTHOR_KEYS)
    return AuthorIdentity(
        names=_strings(f"{key}['names']", value.get("names")),
        emails=frozenset(e.casefold() for e in _strings(f"{key}['emails']", value.get("emails"))),
        urls=frozenset(normal_url(u) for u in _strings(f"{key}['urls']", value.get("urls"))),
        handles={
            net: frozenset(normal_handle(h) for h in _strings(f"{key}[{net!r}]", value.get(net)))
            for net in HANDLE_NETWORKS
        },
    )


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
    concurrency: int
    #: Processes building threads (None: as many as CPUs, see workers.py).
    workers: int | None
    fetch_budget: float
    refresh: Mapping[str, float]
    answer_by_mention: bool
    #: The author's page of waiting items (and waiting.atom beside it).
    report_page: Path | None
    #: Groups of profile URLs and "network:handle" naming one person.
    people: tuple[tuple[str, ...], ...]
    timezone: str
    siteurl: str
    #: Where "Reply" and "Leave a comment" mailto: links go; "" for none.
    comment_email: str
    #: Output paths of the comment feeds (per post, with {slug}; the site's).
    comment_feed: str | None
    comment_feed_all: str | None
    #: Pelican settings a thread depends on, for the build cache.
    salt: str
    #: Each network's own settings (what its module's ``load_settings`` made).
    networks: Mapping[str, Any] = field(default_factory=dict, hash=False)
    #: Show avatars (copies served by the site, or initials) beside items.
    avatars: bool = True

    @property
    def comments_path(self) -> Path:
        return self.content_path / self.comments_dir

    def network(self, name: str) -> Any:
        """The settings of the network called ``name`` (KeyError if none)."""
        return self.networks[name]

    # Shorthands for the networks other modules ask about by name.
    @property
    def twitter(self) -> Any:
        return self.networks["twitter"]

    @property
    def mastodon(self) -> Any:
        return self.networks["mastodon"]

    @property
    def bluesky(self) -> Any:
        return self.networks["bluesky"]

    @property
    def webmention(self) -> Any:
        return self.networks["webmention"]


def _bool(settings: Mapping[str, Any], key: str) -> bool:
    value = settings.get(key, DEFAULTS[key])
    if not isinstance(value, bool):
        raise SettingsError(key, f"expected True or False, got {value!r}")
    return value


def comments_dir(settings: Mapping[str, Any]) -> str:
    """The comment folder inside PATH, as one normal relative path."""
    folder = settings.get("ENGAGE_COMMENTS_PATH") or settings.get(
        "PELICAN_COMMENT_SYSTEM_DIR", "comments"
    )
    if not isinstance(folder, str) or not folder.strip().strip("/"):
        raise SettingsError("ENGAGE_COMMENTS_PATH", f"expected a folder name, got {folder!r}")
    return folder.strip().strip("/")


#: Settings that templates read: unset, they still have their default there.
TEMPLATE_KEYS = (
    "ENGAGE_DISPLAY_DEPTH",
    "ENGAGE_CSS",
    "ENGAGE_SHOW_WAITING",
    "ENGAGE_DATE_FORMAT",
    "ENGAGE_COMMENT_EMAIL",
    "ENGAGE_WEBMENTION",
    "ENGAGE_COMMENT_FEED",
    "ENGAGE_COMMENT_FEED_ALL",
    "ENGAGE_AVATARS",
)
#: Their defaults, which templates get as names (template_names.py), not as
#: settings: each key in the context makes every page slower to render.
TEMPLATE_DEFAULTS: Mapping[str, Any] = MappingProxyType({k: DEFAULTS[k] for k in TEMPLATE_KEYS})


def _comment_email(settings: Mapping[str, Any]) -> str:
    value = settings.get("ENGAGE_COMMENT_EMAIL")
    if value is None or value == "":
        return ""
    if not valid_address(value):
        raise SettingsError(
            "ENGAGE_COMMENT_EMAIL",
            f"expected an address such as comments@blog.example, got {value!r}",
        )
    return str(value).strip()


def _comment_feed(settings: Mapping[str, Any], key: str, per_post: bool) -> str | None:
    value = settings.get(key, DEFAULTS[key])
    if value is None or value is False:
        return None
    value = comment_feed.from_pcs(value)
    problem = comment_feed.valid_pattern(value, per_post)
    if problem:
        raise SettingsError(key, f"{problem}; got {value!r}")
    return str(value).strip().lstrip("/")


def resolve_paths(settings: dict[str, Any], folder: str | os.PathLike[str]) -> None:
    """Make a relative ENGAGE_ARCHIVE_PATH and ENGAGE_REPORT_PAGE (or their
    defaults) absolute, against ``folder``: the settings file's folder, as
    Pelican does for PATH.  Values of a wrong type are left to :func:`load`.
    """
    for key in RELATIVE_PATHS:
        value = settings.get(key, DEFAULTS[key])
        if isinstance(value, (str, os.PathLike)) and str(value).strip():
            path = Path(value).expanduser()
            if not path.is_absolute():
                settings[key] = str(Path(os.path.abspath(Path(folder) / path)))


def prepare_settings(
    settings: dict[str, Any], folder: str | os.PathLike[str] | None = None
) -> None:
    """Keep comment files out of the site, take pelican_comment_system's
    feed settings, and resolve our relative paths against ``folder`` (the settings file's).

    Runs at ``initialized``, before the generators read anything (the CLI
    calls it too).  Comment files must never become articles or pages, nor
    be copied as static files: they hold commenters' e-mail addresses.
    """
    if folder is not None:
        resolve_paths(settings, folder)
    try:
        folder = comments_dir(settings)
    except SettingsError:
        folder = None  # reported by load(), where the build learns of it
    if folder:
        for key in ("ARTICLE_EXCLUDES", "PAGE_EXCLUDES", "STATIC_EXCLUDES"):
            excludes = list(settings.get(key) or [])
            if folder not in excludes:
                excludes.append(folder)
            settings[key] = excludes
    # pelican_comment_system's feed names, when its settings are still there.
    for ours, theirs in (
        ("ENGAGE_COMMENT_FEED", "PELICAN_COMMENT_SYSTEM_FEED"),
        ("ENGAGE_COMMENT_FEED_ALL", "PELICAN_COMMENT_SYSTEM_FEED_ALL"),
    ):
        if ours not in settings and theirs in settings:
            settings[ours] = comment_feed.from_pcs(settings[theirs])


def _report_page(settings: Mapping[str, Any]) -> Path | None:
    value = settings.get("ENGAGE_REPORT_PAGE", DEFAULTS["ENGAGE_REPORT_PAGE"])
    if value is None or value is False:
        return None
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise SettingsError("ENGAGE_REPORT_PAGE", f"expected a file path or None, got {value!r}")
    return Path(value)


def _people(settings: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
    value = settings.get("ENGAGE_PEOPLE") or []
    if not isinstance(value, (list, tuple)):
        raise SettingsError("ENGAGE_PEOPLE", f"expected a list of lists, got {value!r}")
    groups = tuple(_strings(f"ENGAGE_PEOPLE[{n}]", group) for n, group in enumerate(value))
    for n, group in enumerate(groups):
        for entry in group:
            network, sep, _handle = entry.partition(":")
            if not entry.startswith(("http://", "https://")) and (
                not sep or network not in _PEOPLE_NETWORKS
            ):
                raise SettingsError(
                    f"ENGAGE_PEOPLE[{n}]",
                    f"{entry!r} is neither a profile URL nor network:handle "
                    f"(networks: {', '.join(HANDLE_NETWORKS)})",
                )
    return groups


def _number(
    settings: Mapping[str, Any],
    key: str,
    minimum: float,
    whole: bool = False,
    name: str = "",
) -> float:
    return checks.number(settings.get(key, DEFAULTS.get(key)), name or key, minimum, whole)


def _unknown(settings: Mapping[str, Any]) -> None:
    """A top-level ENGAGE_* key we do not know is a typo: name the closest."""
    unknown = sorted(k for k in settings if k.startswith("ENGAGE_") and k not in DEFAULTS)
    if not unknown:
        return
    secrets = [k for k in unknown if k.endswith("_TOKEN")]
    if secrets:
        # A token pasted into settings ends up in the repository: the value
        # is not echoed, and the fix is named.
        raise SettingsError(
            secrets[0],
            "is an environment variable holding a secret, not a setting; set it in the "
            "environment (tokens never go in settings files)",
        )
    import difflib  # only for a misspelt setting

    named = []
    for key in unknown:
        close = difflib.get_close_matches(key, list(DEFAULTS), n=1, cutoff=0.8)
        named.append(f"{key} (did you mean {close[0]}?)" if close else key)
    raise SettingsError(
        unknown[0],
        f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(named)}; "
        "the README's configuration reference lists them all",
    )


def _refresh(settings: Mapping[str, Any]) -> dict[str, float]:
    """ENGAGE_REFRESH: finite numbers >= 0 (0: no minimum, fetch every
    build), and min_seconds <= max_seconds."""
    key = "ENGAGE_REFRESH"
    refresh = _section(settings, key, _REFRESH_KEYS)
    values = {
        name: float(_number(refresh, name, minimum=0, name=f"{key}[{name!r}]")) for name in refresh
    }
    for name, value in values.items():
        if not math.isfinite(value):
            raise SettingsError(f"{key}[{name!r}]", f"expected a finite number, got {value!r}")
    low = values.get("min_seconds", _REFRESH_DEFAULTS["min_seconds"])
    high = values.get("max_seconds", _REFRESH_DEFAULTS["max_seconds"])
    if low > high:
        raise SettingsError(
            key,
            f"min_seconds ({low:g}) is more than max_seconds ({high:g}); "
            "the interval would never be within both",
        )
    return values


def load(settings: Mapping[str, Any]) -> EngageSettings:
    """Read and check every ``ENGAGE_*`` key of a Pelican settings dict."""
    _unknown(settings)
    folder = comments_dir(settings)
    depth = settings.get("ENGAGE_DISPLAY_DEPTH", DEFAULTS["ENGAGE_DISPLAY_DEPTH"])
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise SettingsError("ENGAGE_DISPLAY_DEPTH", f"expected a whole number >= 1, got {depth!r}")
    archive = settings.get("ENGAGE_ARCHIVE_PATH", DEFAULTS["ENGAGE_ARCHIVE_PATH"])
    if not isinstance(archive, (str, os.PathLike)) or not str(archive):
        raise SettingsError("ENGAGE_ARCHIVE_PATH", f"expected a folder path, got {archive!r}")
    date_format = settings.get("ENGAGE_DATE_FORMAT", DEFAULTS["ENGAGE_DATE_FORMAT"])
    if not isinstance(date_format, str) or not (
        "%" in date_format or date_format in ("short", "medium", "long", "full")
    ):
        raise SettingsError(
            "ENGAGE_DATE_FORMAT",
            f'expected "short", "medium", "long", "full" or a strftime format, got {date_format!r}',
        )
    concurrency = _number(settings, "ENGAGE_CONCURRENCY", minimum=1, whole=True)
    budget = _number(settings, "ENGAGE_FETCH_BUDGET", minimum=1)
    workers = settings.get("ENGAGE_WORKERS")
    if workers is not None:
        workers = int(_number(settings, "ENGAGE_WORKERS", minimum=1, whole=True))
    refresh = _refresh(settings)
    networks = {n.name: n.load_settings(settings) for n in NETWORKS}
    offline = _bool(settings, "ENGAGE_OFFLINE") or os.environ.get(
        "ENGAGE_OFFLINE", ""
    ).strip().lower() in {"1", "true", "yes", "on"}
    author = settings.get("AUTHOR") or ""
    return EngageSettings(
        author=author_identity(
            settings.get("ENGAGE_AUTHOR"), author if isinstance(author, str) else ""
        ),
        archive_path=Path(archive),
        cache_path=Path(settings.get("CACHE_PATH") or "cache") / "engage",
        content_path=Path(settings.get("PATH") or "content"),
        comments_dir=folder,
        offline=offline,
        inject=_bool(settings, "ENGAGE_INJECT"),
        css=_bool(settings, "ENGAGE_CSS"),
        display_depth=depth,
        show_waiting=_bool(settings, "ENGAGE_SHOW_WAITING"),
        date_format=date_format,
        concurrency=int(concurrency),
        workers=workers,
        fetch_budget=float(budget),
        refresh=refresh,
        answer_by_mention=_bool(settings, "ENGAGE_ANSWER_BY_MENTION"),
        report_page=_report_page(settings),
        people=_people(settings),
        timezone=str(settings.get("TIMEZONE") or "UTC"),
        siteurl=str(settings.get("SITEURL") or ""),
        comment_email=_comment_email(settings),
        comment_feed=_comment_feed(settings, "ENGAGE_COMMENT_FEED", per_post=True),
        comment_feed_all=_comment_feed(settings, "ENGAGE_COMMENT_FEED_ALL", per_post=False),
        salt=json.dumps(
            [settings.get(k) for k in ("SLUG_REGEX_SUBSTITUTIONS", "LOCALE", "DEFAULT_LANG")],
            sort_keys=True,
            default=str,
        ),
        networks=MappingProxyType(networks),
        avatars=_bool(settings, "ENGAGE_AVATARS"),
    )


#: Settings Pelican makes absolute against the settings file's folder.
_PELICAN_PATHS = ("PATH", "OUTPUT_PATH", "CACHE_PATH")


def settings_folder(settings: dict[str, Any]) -> str | None:
    """The folder of the settings file these settings were read from.

    Pelican resolves a relative PATH against it but does not pass it on.
    ``read_settings`` loads the file as a module (left in ``sys.modules``,
    as Python does for every import); the module whose relative PATH (or
    OUTPUT_PATH, CACHE_PATH) resolves from its own folder to exactly the
    path Pelican uses is the one.  None when no module proves it (settings
    built in code): relative paths then stay relative to the current folder.
    """
    found = set()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        # A settings file is a top-level module named after its file.
        if not isinstance(file, str) or os.path.basename(file) != f"{name}.py":
            continue
        folder = os.path.dirname(os.path.abspath(file))
        names = vars(module)  # not getattr: no module __getattr__ runs
        for key in _PELICAN_PATHS:
            value = names.get(key)
            used = settings.get(key)
            if (
                isinstance(value, str)
                and value
                and not os.path.isabs(value)
                and isinstance(used, str)
                and os.path.abspath(os.path.join(folder, value)) == os.path.abspath(used)
            ):
                found.add(folder)
                break
    return found.pop() if len(found) == 1 else None
