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

from pelican_engage import render, template_names
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


THEIR_NETWORKS = {"mastodon": "their Mastodon", "twitter": "their X", "bluesky": "their Bluesky"}


class _TheirContext(Context):
    """Another plugin's context class, which answers one of engage's names too."""

    def resolve_or_missing(self, key: str) -> Any:
        if key == "their_name":
            return "theirs"
        if key == "engage_networks":
            return THEIR_NETWORKS
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
    # Their lookup is asked first; engage's names answer the rest.
    assert printed["network"] == THEIR_NETWORKS["mastodon"]
    assert printed["included"].endswith(THEIR_NETWORKS["twitter"])
    assert printed["words"] == "Leave a comment"
    assert printed["depth"] == str(DEFAULTS["ENGAGE_DISPLAY_DEPTH"])


def test_names_in_a_bare_environment_and_its_overlays() -> None:
    env = Environment(
        loader=DictLoader(
            {
                "page.html": "{{ engage_x }} {{ engage_y }} {{ engage_z is defined }}",
                "theirs.html": "{{ their_name }} {{ engage_x }} {{ engage_networks.mastodon }}",
            }
        )
    )
    early = env.overlay()  # made before the names were given
    template_names.provide(env, {"engage_x": 1, "engage_y": 2})
    template_names.provide(env, {"engage_y": 3})  # replaced
    assert env.get_template("page.html").render() == "1 3 False"
    assert env.get_template("page.html").render(engage_x="given") == "given 3 False"
    # Overlays see what they overlay; their own names come first.
    late = env.overlay()
    assert late.from_string("{{ engage_y }}").render() == "3"
    template_names.provide(late, {"engage_y": "late"})
    assert late.from_string("{{ engage_x }} {{ engage_y }}").render() == "1 late"
    assert env.from_string("{{ engage_y }}").render() == "3"
    template_names.ensure(early)
    assert early.from_string("{{ engage_x }} {{ engage_y }}").render() == "1 3"
    assert template_names.lookup(late, "engage_x") == 1
    # A class set later is subclassed on the next ensure(), not lost, and
    # its own lookup is asked first.
    env.context_class = _TheirContext
    template_names.provide(env, {"engage_networks": {"mastodon": "ours"}})
    assert issubclass(env.context_class, _TheirContext)
    assert env.get_template("theirs.html").render() == "theirs 1 their Mastodon"


def test_the_render_key_reads_settings_as_templates_do() -> None:
    """A rendered thread is reused only when what its template read is the
    same: a global of a setting's name counts, as it wins in templates."""
    env = Environment()
    render.add_templates(env)
    plain = render.render_key(env, {"SITEURL": "https://blog.example"})
    assert plain == render.render_key(
        env, {"SITEURL": "https://blog.example", "ENGAGE_CSS": DEFAULTS["ENGAGE_CSS"]}
    )
    env.globals["ENGAGE_CSS"] = False
    assert env.from_string("{{ ENGAGE_CSS }}").render() == "False"
    assert render.render_key(env, {"SITEURL": "https://blog.example"}) != plain
    assert template_names.value(env, {"ENGAGE_CSS": True}, "ENGAGE_CSS") is True
