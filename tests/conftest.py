"""Shared fixtures: building real Pelican sites in temporary folders."""

from __future__ import annotations

import ipaddress
import logging
import shutil
import socket
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from hypothesis import settings as hypothesis_settings
from pelican import Pelican
from pelican.log import LimitFilter
from pelican.settings import read_settings

import pelican_engage
from pelican_engage import plugin
from tests.loopback import Server

DATA = Path(__file__).parent / "data"


_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    """getaddrinfo for IP literals and localhost only: tests never reach the
    internet, even when fixture data names real hosts (avatar URLs on a
    network's CDN), so no test can depend on or wait for a real DNS answer."""
    name = host.decode() if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(name.strip("[]").split("%", 1)[0])
    except ValueError:
        try:
            socket.inet_aton(name)  # numeric spellings (2852039166, 0251.0376...)
        except OSError:
            numeric = False
        else:
            numeric = True
        if not numeric and name.lower().rstrip(".") != "localhost":
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: no internet in tests") from None
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only)


@pytest.fixture(autouse=True)
def _isolated_logs_and_signals() -> Iterator[None]:
    # Pelican drops repeated warnings for the whole process; each test must
    # see its own.  Signals are process-global: never leak receivers.
    LimitFilter._raised_messages.clear()
    LimitFilter._group_count.clear()
    yield
    plugin.unregister()


class Site:
    """A small Pelican site in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.content = root / "content"
        self.output = root / "output"
        self.content.mkdir(parents=True, exist_ok=True)

    def article(self, slug: str, title: str = "", body: str = "Body text.", **meta: str) -> Path:
        lines = [f"Title: {title or slug.replace('-', ' ').title()}", "Date: 2026-01-02 10:00"]
        lines.append(f"Slug: {slug}")
        lines += [f"{k}: {v}" for k, v in meta.items()]
        path = self.content / f"{slug}.md"
        path.write_text("\n".join(lines) + "\n\n" + body + "\n", encoding="utf-8")
        return path

    def comment(self, slug: str, name: str, text: str | bytes, **meta: str) -> Path:
        folder = self.content / "comments" / slug
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            header = "".join(f"{k}: {v}\n" for k, v in meta.items())
            path.write_text(header + "\n" + textwrap.dedent(text).strip() + "\n", encoding="utf-8")
        return path

    def copy_comments(self, slug: str, source: Path) -> None:
        shutil.copytree(source, self.content / "comments" / slug, dirs_exist_ok=True)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "PATH": str(self.content),
            "OUTPUT_PATH": str(self.output),
            "CACHE_PATH": str(self.root / "cache"),
            "ENGAGE_ARCHIVE_PATH": str(self.root / "archive"),
            "ENGAGE_REPORT_PAGE": str(self.root / "engage-report" / "index.html"),
            "SITEURL": "https://blog.example",
            "AUTHOR": "Marin",
            "SITENAME": "Test blog",
            "TIMEZONE": "UTC",
            "PLUGINS": [pelican_engage],
            "FEED_ALL_ATOM": None,
            "CATEGORY_FEED_ATOM": None,
            "TRANSLATION_FEED_ATOM": None,
            "AUTHOR_FEED_ATOM": None,
            "AUTHOR_FEED_RSS": None,
        }
        base.update(overrides)
        return base

    def build(self, **overrides: Any) -> None:
        settings = read_settings(override=self.settings(**overrides))
        Pelican(settings=settings).run()

    def write_conf(self, **overrides: Any) -> Path:
        settings = self.settings(**overrides)
        settings["PLUGINS"] = ["pelican_engage"]
        conf = self.root / "pelicanconf.py"
        conf.write_text("".join(f"{k} = {v!r}\n" for k, v in settings.items()), encoding="utf-8")
        return conf

    def html(self, name: str) -> BeautifulSoup:
        return BeautifulSoup((self.output / name).read_text(encoding="utf-8"), "html.parser")


@pytest.fixture
def server() -> Iterator[Server]:
    """A loopback HTTP server; tests give it routes."""
    s = Server()
    yield s
    s.close()


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path / "site")


@pytest.fixture
def engage_warnings(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    caplog.set_level(logging.INFO)

    def warnings() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.WARNING and r.name.startswith("pelican_engage")
        ]

    return warnings


# One Chromium for every browser test of the session.
from tests.browser import browser  # noqa: E402, F401

# Property tests check results, not speed: a loaded CI machine must not fail
# them on Hypothesis's 200 ms per-example deadline.  CPU-bound cost bounds are
# measured with time.process_time() where they are asserted.
hypothesis_settings.register_profile("engage", deadline=None)
hypothesis_settings.load_profile("engage")


@pytest.fixture
def cleaner_passes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The inputs of each pass of the sanitiser's cleaner, as they happen."""
    from pelican_engage import sanitize

    passes: list[str] = []
    real = sanitize._CLEANER

    class Counting:
        def clean(self, html: str) -> str:
            passes.append(html)
            return real.clean(html)

    monkeypatch.setattr(sanitize, "_CLEANER", Counting())
    return passes
