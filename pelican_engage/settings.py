"""``ENGAGE_*`` settings: defaults and one validation pass.

Pelican settings are a flat dict.  This module turns the keys we own into a
frozen :class:`EngageSettings`, so the rest of the code never has to guess a
default or re-check a type.  A bad value raises :class:`SettingsError`, whose
message names the key.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import comment_feed
from .model import NETWORKS, AuthorIdentity, normal_handle, normal_url
from .reply_mail import valid_address

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
    # The article's locale's own way (Babel, CLDR "medium"); or a strftime pattern.
    "ENGAGE_DATE_FORMAT": "medium",
    "ENGAGE_CONCURRENCY": 8,
    "ENGAGE_FETCH_BUDGET": 120,
    "ENGAGE_REFRESH": {},
    "ENGAGE_MASTODON": {},
    "ENGAGE_TWITTER": {},
    "ENGAGE_BLUESKY": {},
    "ENGAGE_WEBMENTION": None,  # None: off; a dict (even {}) turns it on
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
_MASTODON_KEYS = {"token_env", "reactions", "unlisted", "host", "hosts"}
_TWITTER_KEYS = {"api_url", "token_env", "search", "max_requests", "discover"}
# handle and pds_url: where `pelican-engage reply` posts (cli_reply).
_BLUESKY_KEYS = {"api_url", "reactions", "handle", "pds_url"}
_WEBMENTION_KEYS = {"api_url", "token_env", "endpoint"}


@dataclass(frozen=True)
class BlueskySettings:
    """ENGAGE_BLUESKY, checked."""

    api_url: str = "https://public.api.bsky.app"
    #: Fetch who liked and reposted the announcement (names in the row).
    reactions: bool = True


@dataclass(frozen=True)
class WebmentionSettings:
    """ENGAGE_WEBMENTION, checked; ``enabled`` when the setting is a dict."""

    enabled: bool = False
    api_url: str = "https://webmention.io"
    #: Optional: a token also returns mentions webmention.io keeps private.
    token_env: str = "ENGAGE_WEBMENTION_TOKEN"
    #: Where senders post webmentions (``<link rel="webmention">`` and the
    #: form); "" when it cannot be known (no SITEURL and none given).
    endpoint: str = ""


@dataclass(frozen=True)
class TwitterSettings:
    """ENGAGE_TWITTER, checked."""

    api_url: str = "https://api.x.com"
    token_env: str = "ENGAGE_TWITTER_BEARER_TOKEN"
    #: "recent" (last 7 days) or "all" (full archive; costlier access).
    search: str = "recent"
    #: X bills per read: at most this many API calls per build.
    max_requests: int = 50
    #: Look for the author's tweet linking to posts without ``tweet:``.
    discover: bool = False


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
            for net in NETWORKS
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
    fetch_budget: float
    refresh: Mapping[str, float]
    mastodon_token_env: str
    mastodon_reactions: bool
    #: Publish unlisted ("quiet public") Mastodon replies too; off by default.
    mastodon_unlisted: bool
    twitter: TwitterSettings
    bluesky: BlueskySettings
    webmention: WebmentionSettings
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
    #: The Mastodon server(s) the token is for ("host" or "host:port"); the
    #: token goes to no other server, and to none when this is empty.
    mastodon_hosts: tuple[str, ...] = ()
    #: Show avatars (copies served by the site, or initials) beside items.
    avatars: bool = True

    @property
    def comments_path(self) -> Path:
        return self.content_path / self.comments_dir


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


#: Settings that templates read from the context, so they need a value there.
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
    """Keep comment files out of the site, give templates our defaults, and
    resolve our relative paths against ``folder`` (the settings file's).

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
    # Templates read these from the context, so they need their defaults there.
    for key in TEMPLATE_KEYS:
        settings.setdefault(key, DEFAULTS[key])


def _number(
    settings: Mapping[str, Any],
    key: str,
    minimum: float,
    whole: bool = False,
    name: str = "",
) -> float:
    value = settings.get(key, DEFAULTS.get(key))
    kinds = (int,) if whole else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool) or value < minimum:
        kind = "a whole number" if whole else "a number"
        raise SettingsError(name or key, f"expected {kind} >= {minimum:g}, got {value!r}")
    return value


def _section(
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


def _env_name(section: Mapping[str, Any], key: str, default: str) -> str:
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


def _api_url(section: Mapping[str, Any], key: str, default: str) -> str:
    url = section.get("api_url", default)
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SettingsError(f"{key}['api_url']", f"expected an http(s) base URL, got {url!r}")
    return url.rstrip("/")


def _twitter(settings: Mapping[str, Any]) -> TwitterSettings:
    key = "ENGAGE_TWITTER"
    section = _section(settings, key, _TWITTER_KEYS)
    defaults = TwitterSettings()
    search = section.get("search", defaults.search)
    if search not in ("recent", "all"):
        raise SettingsError(f"{key}['search']", f"expected 'recent' or 'all', got {search!r}")
    discover = section.get("discover", defaults.discover)
    if not isinstance(discover, bool):
        raise SettingsError(f"{key}['discover']", f"expected True or False, got {discover!r}")
    return TwitterSettings(
        api_url=_api_url(section, key, defaults.api_url),
        token_env=_env_name(section, key, defaults.token_env),
        search=search,
        max_requests=int(
            _number(
                {"v": section.get("max_requests", defaults.max_requests)},
                "v",
                minimum=1,
                whole=True,
                name=f"{key}['max_requests']",
            )
        ),
        discover=discover,
    )


def _bluesky(settings: Mapping[str, Any]) -> BlueskySettings:
    key = "ENGAGE_BLUESKY"
    section = _section(settings, key, _BLUESKY_KEYS)
    defaults = BlueskySettings()
    reactions = section.get("reactions", defaults.reactions)
    if not isinstance(reactions, bool):
        raise SettingsError(f"{key}['reactions']", f"expected True or False, got {reactions!r}")
    return BlueskySettings(_api_url(section, key, defaults.api_url), reactions)


def webmention_endpoint(value: Any, siteurl: Any) -> str:
    """The site's webmention endpoint, or "" when webmentions are off.

    ``ENGAGE_WEBMENTION["endpoint"]`` when given; otherwise webmention.io's
    per-site endpoint, ``<api_url>/<SITEURL's host>/webmention``.  Also a
    template global: pages and the thread's form call it with the context's
    ``ENGAGE_WEBMENTION`` and ``SITEURL``.
    """
    if not isinstance(value, Mapping):
        return ""
    explicit = value.get("endpoint")
    if explicit:
        return str(explicit)
    host = urlsplit(str(siteurl or "")).netloc
    if not host:
        return ""
    api_url = value.get("api_url") or WebmentionSettings.api_url
    return f"{str(api_url).rstrip('/')}/{host}/webmention"


def _webmention(settings: Mapping[str, Any]) -> WebmentionSettings:
    key = "ENGAGE_WEBMENTION"
    section = _section(settings, key, _WEBMENTION_KEYS)
    defaults = WebmentionSettings()
    endpoint = section.get("endpoint")
    if endpoint is not None:
        parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
        if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
            raise SettingsError(f"{key}['endpoint']", f"expected an http(s) URL, got {endpoint!r}")
    enabled = settings.get(key) is not None
    api_url = _api_url(section, key, defaults.api_url)
    return WebmentionSettings(
        enabled=enabled,
        api_url=api_url,
        token_env=_env_name(section, key, defaults.token_env),
        endpoint=webmention_endpoint(
            {**section, "api_url": api_url} if enabled else None, settings.get("SITEURL")
        ),
    )


def _mastodon_hosts(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """ENGAGE_MASTODON's "host" and "hosts", as lower-case ``name[:port]``."""
    key = "ENGAGE_MASTODON"
    section = _section(settings, key, _MASTODON_KEYS)
    found: list[str] = []
    for name in ("host", "hosts"):
        for value in _strings(f"{key}[{name!r}]", section.get(name)):
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
                not sep or network not in {*NETWORKS, "local", "webmention"}
            ):
                raise SettingsError(
                    f"ENGAGE_PEOPLE[{n}]",
                    f"{entry!r} is neither a profile URL nor network:handle "
                    f"(networks: {', '.join(NETWORKS)})",
                )
    return groups


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


def _mastodon(settings: Mapping[str, Any]) -> tuple[str, bool, bool]:
    """ENGAGE_MASTODON: the token's variable name, whether to fetch reactions,
    and whether to publish unlisted replies."""
    key = "ENGAGE_MASTODON"
    section = _section(settings, key, _MASTODON_KEYS)
    flags = []
    for name, default in (("reactions", True), ("unlisted", False)):
        value = section.get(name, default)
        if not isinstance(value, bool):
            raise SettingsError(f"{key}[{name!r}]", f"expected True or False, got {value!r}")
        flags.append(value)
    return _env_name(section, key, "ENGAGE_MASTODON_TOKEN"), flags[0], flags[1]


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
    refresh = _refresh(settings)
    token_env, mastodon_reactions, mastodon_unlisted = _mastodon(settings)
    twitter = _twitter(settings)
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
        fetch_budget=float(budget),
        refresh=refresh,
        mastodon_token_env=token_env,
        mastodon_reactions=mastodon_reactions,
        mastodon_unlisted=mastodon_unlisted,
        twitter=twitter,
        bluesky=_bluesky(settings),
        webmention=_webmention(settings),
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
        mastodon_hosts=_mastodon_hosts(settings),
        avatars=_bool(settings, "ENGAGE_AVATARS"),
    )
