"""The source registry: each network declared once, and everything reads it.

A registered network without a parser fixture, a loopback fetch test or a
README section fails here (CONTRIBUTING.md, "Adding a network"); metadata is
only ever parsed by the network whose key it is under.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from pelican.settings import read_settings

from pelican_engage import cli, cli_fetch, dedup, icons, render, settings
from pelican_engage.articles import jobs as article_jobs
from pelican_engage.engine import Engine, announced
from pelican_engage.identity import name_only, profile_handle
from pelican_engage.model import Item, Person, Problem
from pelican_engage.sources.registry import ANNOUNCING, BY_NAME, NETWORKS, network, owner
from tests.conftest import Site

ROOT = Path(__file__).parent.parent
TESTS = Path(__file__).parent
README = ROOT / "README.md"
WHEN = datetime(2026, 1, 2, tzinfo=timezone.utc)
TOOT = "https://social.example/@marin/110000000000000001"
TWEET = "https://x.com/marin/status/1790000000000000001"
BSKY = "https://bsky.app/profile/marin.example/post/3l6oveex3ii2l"

# -- Every registered network is complete ----------------------------------------------


def _module(net: object) -> str:
    """``mastodon`` for the network declared in ``sources/mastodon.py``."""
    for module in ("fetchers", "job", "load_settings"):
        hook = getattr(net, module)
        name = getattr(hook, "__module__", "")
        if name.startswith("pelican_engage.sources.") and name != "pelican_engage.sources.network":
            return name.rsplit(".", 1)[1]
    raise AssertionError(f"cannot tell which module declares {net!r}")


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) of each Markdown section (levels 2 to 4)."""
    parts = re.split(r"^(#{2,4} .*)$", text, flags=re.MULTILINE)
    return list(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.parametrize("net", NETWORKS, ids=lambda n: n.name)
def test_network_has_a_parser_fixture(net: object) -> None:
    """tests/data/<name>/ (or <name>-<api>/, as wordpress-rest/) holds answers."""
    name = net.name  # type: ignore[attr-defined]
    folders = [TESTS / "data" / name, *(TESTS / "data").glob(f"{name}-*")]
    assert any(f.is_dir() and any(f.iterdir()) for f in folders), (
        f"network {name!r} has no parser fixtures in tests/data/{name}/"
    )


@pytest.mark.parametrize("net", NETWORKS, ids=lambda n: n.name)
def test_network_has_a_loopback_fetch_test(net: object) -> None:
    module = _module(net)
    found = [
        path.name
        for path in TESTS.glob("test_*.py")
        if "loopback" in (text := path.read_text(encoding="utf-8"))
        and (
            f"pelican_engage.sources.{module} import" in text
            or re.search(rf"from pelican_engage\.sources import [^\n]*\b{module}\b", text)
        )
    ]
    assert found, f"no test file imports both tests.loopback and sources/{module}.py"


@pytest.mark.parametrize("net", NETWORKS, ids=lambda n: n.name)
def test_network_has_a_readme_section(net: object) -> None:
    """A section named after the network that names its metadata keys and setting."""
    wanted = [*net.metadata, *([net.setting] if net.setting else [])]  # type: ignore[attr-defined]
    display = re.escape(net.display)  # type: ignore[attr-defined]
    sections = [
        body
        for heading, body in _sections(README.read_text(encoding="utf-8"))
        if re.search(rf"\b{display}", heading, re.IGNORECASE)
    ]
    assert any(all(re.search(rf"\b{w}\b", body) for w in wanted) for body in sections), (
        f"README has no section on {net.display} naming {wanted}"  # type: ignore[attr-defined]
    )


def test_names_keys_and_settings_are_declared_once() -> None:
    names = [n.name for n in NETWORKS]
    keys = [k for n in NETWORKS for k in n.metadata]
    fetch_names = [f for n in NETWORKS for f in n.fetch_names or (n.name,)]
    declared = [n.setting for n in NETWORKS if n.setting]
    for listing in (names, keys, fetch_names, declared):
        assert len(listing) == len(set(listing)), listing
    assert {n.name: n for n in NETWORKS} == BY_NAME
    with pytest.raises(KeyError, match="no network 'threads'; known: twitter"):
        network("threads")


def test_every_module_reads_the_registry() -> None:
    assert {n.setting for n in NETWORKS if n.setting} <= set(settings.DEFAULTS)
    assert {n.name: n.display for n in NETWORKS if n.has_handles} == render.NETWORK_NAMES
    assert {"twitter": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}.items() <= (
        render.NETWORK_NAMES.items()
    )
    assert all(icons._PATHS[n.name] == n.icon for n in NETWORKS)
    assert set(cli_fetch.FETCH_SOURCES) == {"twitter-discover", *BY_NAME}
    assert set(cli.REPORT_SOURCES) == {"local", "disqus", *BY_NAME}
    # The author's handles: where they announce posts, and discussion sites.
    assert tuple(n.name for n in NETWORKS if n.has_handles) == settings.HANDLE_NETWORKS
    assert {n.name for n in ANNOUNCING} <= set(settings.HANDLE_NETWORKS)
    # Comment forms carry a name only; accounts never count by name.
    assert [n.name for n in NETWORKS if name_only(n.name)] == ["feed", "wordpress"]
    loaded = settings.load({})
    assert set(loaded.networks) == set(BY_NAME)
    assert loaded.network("twitter").max_requests == 50


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.com/marin", ("twitter", "marin")),
        ("https://bsky.app/profile/marin.example", ("bluesky", "marin.example")),
        ("https://social.example/@marin", ("mastodon", "marin@social.example")),
        ("https://github.com/Marin/", ("github", "marin")),
        ("https://github.com/marin/blog-comments", None),
        ("https://blog.example/about", None),
    ],
)
def test_profile_urls_are_read_by_their_network(url: str, expected: tuple[str, str] | None) -> None:
    assert profile_handle(url) == expected


def test_each_network_gives_its_dedup_keys() -> None:
    assert "twitter:1790000000000000001" in dedup.url_keys(TWEET)
    assert "mastodon:social.example/110000000000000001" in dedup.url_keys(TOOT)
    assert "bsky:marin.example/3l6oveex3ii2l" in dedup.url_keys(BSKY)
    bridgy = "https://brid.gy/comment/mastodon/@ann@social.example/1/2"
    assert "mastodon:social.example/2" in dedup.url_keys(bridgy)
    item = Item(
        id="bluesky:at://did:plc:abc/app.bsky.feed.post/3k",
        source="bluesky",
        kind="reply",
        author=Person(name="Ann", handle="ann.example"),
        published=WHEN,
    )
    assert {"bsky:did:plc:abc/3k", "bsky:ann.example/3k"} <= dedup.item_keys(item)


def test_announcement_counts_come_from_each_networks_own_fields() -> None:
    cursors = {
        f"mastodon:{TOOT}": {"status": "m", "counts": {"favourites": 3, "reblogs": 1}},
        f"bluesky:{BSKY}": {"uri": "b", "counts": {"likes": 5, "reposts": 2}},
        "twitter:1": {"announcement": {"metrics": {"like_count": 7, "retweet_count": 4}}},
        # A Bluesky field under Mastodon's name is not Mastodon's count.
        "mastodon:https://other.example/@a/1": {"status": "o", "counts": {"likes": 9}},
        "twitter-discover:x from:marin": {"found": []},
        "lemmy:https://lemmy.example/post/1": {"counts": {"likes": 9}},
    }
    assert announced(cursors) == {
        "mastodon": {"like": 3, "repost": 1},
        "bluesky": {"like": 5, "repost": 2},
        "twitter": {"like": 7, "repost": 4},
    }


# -- Metadata only goes to the network whose key it is under ---------------------------


@pytest.mark.parametrize(
    ("value", "network_name"),
    [(TOOT, "mastodon"), (TWEET, "twitter"), (BSKY, "bluesky"), ("1790000000000000001", "twitter")],
)
def test_owner_recognises_each_networks_form(value: str, network_name: str) -> None:
    found = owner(value)
    assert found is not None and found.name == network_name
    assert owner(value, besides=network_name) is None


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        # Another network's link: the message names the key, the form and the right key.
        (
            "mastodon",
            BSKY,
            "metadata 'mastodon': '{v}' is not a Mastodon status URL (expected "
            "https://server/@user/123456) (this belongs under 'bluesky:' (Bluesky), "
            "not 'mastodon:')",
        ),
        (
            "tweet",
            TOOT,
            "metadata 'tweet': '{v}' is not a tweet (expected https://x.com/user/status/123 "
            "or a tweet id) (this belongs under 'mastodon:' (Mastodon), not 'tweet:')",
        ),
        (
            "bluesky",
            TWEET,
            "metadata 'bluesky': '{v}' is not a Bluesky post (expected "
            "https://bsky.app/profile/you/post/…) (this belongs under 'tweet:' (X), "
            "not 'bluesky:')",
        ),
        # An unknown URL: the key and the expected form, no guess.
        (
            "mastodon",
            "https://lemmy.example/post/12",
            "metadata 'mastodon': '{v}' is not a Mastodon status URL (expected "
            "https://server/@user/123456)",
        ),
        (
            "tweet",
            "https://lemmy.example/post/12",
            "metadata 'tweet': '{v}' is not a tweet (expected https://x.com/user/status/123 "
            "or a tweet id)",
        ),
    ],
)
def test_a_value_under_the_wrong_key_is_refused_and_named(
    tmp_path: Path, key: str, value: str, says: str
) -> None:
    loaded = settings.load(
        {"CACHE_PATH": str(tmp_path), "ENGAGE_ARCHIVE_PATH": str(tmp_path / "archive")}
    )
    archive = Engine(loaded, {"PATH": str(tmp_path)}).archive

    article = SimpleNamespace(slug="post", source_path="content/post.md", metadata={key: value})
    problems: list[Problem] = []
    assert article_jobs([article], loaded, archive, problems.append, lambda a: a.source_path) == []
    (problem,) = problems
    assert problem.message == says.format(v=value)


def test_values_under_their_own_key_become_their_networks_jobs(site: Site) -> None:
    site.article("post", tweet=TWEET, mastodon=TOOT, bluesky=BSKY)
    pelican = read_settings(override=site.settings())
    settings.prepare_settings(pelican)
    engine = Engine(settings.load(pelican), pelican)
    found = engine.jobs(cli.site_articles(pelican))
    assert {(j.source, j.host) for j in found} == {
        ("twitter", "api.x.com"),
        ("mastodon", "social.example"),
        ("bluesky", "public.api.bsky.app"),
    }
    assert engine.problems == []


def test_a_posts_identity_is_made_once_per_build_and_only_when_final(site: Site) -> None:
    """Pelican computes an article's URL on each read: the fetch jobs and the
    plan share one Post, which the plan then holds alone; an article just read
    (offered to the early worker, note=False) is not remembered, since other
    plugins may change it yet."""
    from pelican_engage.engine import inputs

    site.article("post", mastodon=TOOT)
    pelican = read_settings(override=site.settings())
    settings.prepare_settings(pelican)
    engine = Engine(settings.load(pelican), pelican)
    (article,) = cli.site_articles(pelican)
    inputs(engine, article, note=False)
    article.override_url = "moved.html"  # as a plugin may, after the article was read
    (_job,) = engine.jobs([article])
    post = engine.post_memo.of(article)
    assert post.url.endswith("/moved.html")
    assert engine.post_memo.of(article) is post
    assert inputs(engine, article)[0] is post
    assert len(engine.post_memo) == 0  # the plan holds it now, not the engine
    other = SimpleNamespace(**vars(article))  # another object: its own Post
    assert engine.post_memo.of(other) is not post


# -- The engine never touches the network ------------------------------------------------


def test_the_engine_leaves_fetching_to_fetching_py() -> None:
    """engine.py builds threads; clients, secrets and sources are fetching.py's."""
    import pelican_engage.engine as engine_module

    text = Path(engine_module.__file__).read_text(encoding="utf-8")
    tree = ast.parse(text)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
    assert not imported & {"http", "fetching", "requests", "os"}, imported
    assert not hasattr(Engine, "fetch")
    assert not hasattr(Engine, "discovery_jobs")
    (engine_class,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Engine"]
    assert (engine_class.end_lineno or 0) - engine_class.lineno < 200
