"""Engage's template names (template_names.py): every name a theme reads
still resolves, in pages, includes and macros imported without context,
while neither Jinja's globals nor Pelican's context hold them; a setting, a
global or another plugin's context class does not lose them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from jinja2 import DictLoader, Environment
from jinja2.runtime import Context
from pelican import signals

from pelican_engage import template_names
from pelican_engage.comment_feed import DEFAULT_POST_FEED
from pelican_engage.pcs_compat import IDENTICON_SIZE
from pelican_engage.render_items import NETWORK_NAMES
from pelican_engage.settings import DEFAULTS
from tests.conftest import DATA, Site

THEME = DATA / "template-names"


def _build(site: Site, **settings: Any) -> BeautifulSoup:
    site.article("first-post")
    site.comment("first-post", "c1.md", "Hello there.", author="Ann", date="2026-01-03 10:00")
    site.build(THEME_TEMPLATES_OVERRIDES=[str(THEME)], **settings)
    return site.html("first-post.html")


def _printed(html: BeautifulSoup) -> dict[str, str]:
    return {dd["id"]: dd.get_text().strip() for dd in html.select("#names dd")}


@pytest.fixture
def seen() -> Iterator[dict[str, set[str]]]:
    """The keys of the articles' context and of their environment's globals,
    as the pages are written."""
    found: dict[str, set[str]] = {}

    def look(generator: Any, writer: Any = None) -> None:
        found["context"] = set(generator.context)
        found["globals"] = set(generator.env.globals)

    signals.article_writer_finalized.connect(look)
    yield found
    signals.article_writer_finalized.disconnect(look)


def test_every_name_resolves_without_globals_or_settings(
    site: Site, seen: dict[str, set[str]]
) -> None:
    printed = _printed(html := _build(site))
    assert printed == {
        "css": str(DEFAULTS["ENGAGE_CSS"]),
        "waiting": str(DEFAULTS["ENGAGE_SHOW_WAITING"]),
        "depth": str(DEFAULTS["ENGAGE_DISPLAY_DEPTH"]),
        "feed": DEFAULT_POST_FEED,
        "pcs-size": str(IDENTICON_SIZE),
        "pcs-feed": DEFAULT_POST_FEED.replace("{slug}", "first-post"),
        "network": NETWORK_NAMES["mastodon"],
        "words": "Leave a comment",
        "mark": "True",
        "unknown": "False",
        "included": f"{DEFAULTS['ENGAGE_DISPLAY_DEPTH']}/{NETWORK_NAMES['twitter']}",
        "macro": NETWORK_NAMES["bluesky"],
    }
    # The theme's own include of the thread works with the names alone.
    (section,) = html.select("section.engage")
    assert "Hello there." in section.get_text()
    # What made every page slower: nothing of engage's in what Jinja copies.
    assert not {k for k in seen["globals"] if k.startswith("engage_")}
    assert not {k for k in seen["context"] if k.startswith(("ENGAGE_", "PELICAN_COMMENT"))} - {
        "ENGAGE_ARCHIVE_PATH",
        "ENGAGE_REPORT_PAGE",
    }


def test_settings_and_globals_of_the_same_name_win(site: Site) -> None:
    printed = _printed(
        _build(
            site,
            ENGAGE_CSS=False,
            ENGAGE_DISPLAY_DEPTH=2,
            PELICAN_COMMENT_SYSTEM_IDENTICON_SIZE=48,
            JINJA_GLOBALS={"engage_networks": {"mastodon": "the Fediverse", "twitter": "X"}},
        )
    )
    assert printed["css"] == "False"
    assert printed["depth"] == "2"
    assert printed["pcs-size"] == "48"
    assert printed["network"] == "the Fediverse"
    assert printed["included"] == "2/X"


class _TheirContext(Context):
    """Another plugin's context class."""

    def resolve_or_missing(self, key: str) -> Any:
        if key == "their_name":
            return "theirs"
        return super().resolve_or_missing(key)


def _replace_context_class(generator: Any) -> None:
    generator.env.context_class = _TheirContext


@pytest.fixture
def other_plugin() -> Iterator[None]:
    # As late as a plugin could: after every name engage gives was given.
    signals.article_generator_finalized.connect(_replace_context_class)
    yield
    signals.article_generator_finalized.disconnect(_replace_context_class)


def test_a_context_class_replaced_by_another_plugin_keeps_both(
    site: Site, other_plugin: None
) -> None:
    printed = _printed(_build(site))
    assert printed["network"] == NETWORK_NAMES["mastodon"]
    assert printed["words"] == "Leave a comment"
    assert printed["included"].endswith(NETWORK_NAMES["twitter"])


def test_names_in_a_bare_environment_and_its_overlay() -> None:
    env = Environment(
        loader=DictLoader(
            {
                "page.html": "{{ engage_x }} {{ engage_y }} {{ engage_z is defined }}",
                "theirs.html": "{{ their_name }} {{ engage_x }}",
            }
        )
    )
    template_names.provide(env, {"engage_x": 1, "engage_y": 2})
    template_names.provide(env, {"engage_y": 3})  # replaced
    assert env.get_template("page.html").render() == "1 3 False"
    assert env.get_template("page.html").render(engage_x="given") == "given 3 False"
    overlay = env.overlay()
    assert overlay.from_string("{{ engage_y }}").render() == "3"
    assert template_names.lookup(overlay, "engage_x") == 1
    # A class set later is subclassed on the next ensure(), not lost.
    env.context_class = _TheirContext
    template_names.ensure(env)
    assert issubclass(env.context_class, _TheirContext)
    assert env.get_template("theirs.html").render() == "theirs 1"
