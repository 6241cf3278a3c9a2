"""Every setting is wired: a non-default value changes what the product does.

``WIRED`` holds one check per top-level setting of ``settings.DEFAULTS`` and
per key of each dict setting; :func:`test_every_setting_has_a_check` fails
when a setting (or a key) is added without one, and when the README's
configuration reference and the defaults table disagree.  Each check runs
the product twice, with the default and with another value, and asserts
the difference a user would see: on the page, in the archive, in the
report, or in the requests a loopback server receives.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pelican.settings import read_settings

from pelican_engage import cli, fetching, settings
from pelican_engage.archive import Archive
from pelican_engage.articles import discovery_jobs
from pelican_engage.conversation import build_thread
from pelican_engage.engine import Engine
from pelican_engage.fetch import Summary
from pelican_engage.model import Item, Person, Post
from pelican_engage.sources import mastodon
from pelican_engage.sources.registry import NETWORKS
from tests.conftest import Site
from tests.loopback import Server, send
from tests.test_bluesky import FakeAppView
from tests.test_fetch import serve_mastodon
from tests.test_lemmy import FakeLemmy
from tests.test_lemmy import load as lemmy_answer
from tests.test_reddit import FakeReddit
from tests.test_reddit import load as reddit_answer
from tests.test_twitter import ROOT as TWEET
from tests.test_twitter import FakeX
from tests.test_webmention import FakeWebmentionIO

DATA = Path(__file__).parent / "data"

README = Path(__file__).parent.parent / "README.md"
TOOT = "110000000000000001"
BSKY = "https://bsky.app/profile/marin.example/post/3l6oveex3ii2l"


@dataclass
class Rig:
    """A site, a loopback server and the environment, for one check."""

    site: Site
    server: Server
    monkeypatch: pytest.MonkeyPatch

    def settings(self, **overrides: Any) -> dict[str, Any]:
        result = read_settings(override=self.site.settings(**overrides))
        settings.prepare_settings(result)
        return result

    def engine(self, **overrides: Any) -> tuple[Engine, list[Any]]:
        pelican = self.settings(**overrides)
        return Engine(settings.load(pelican), pelican), cli.site_articles(pelican)

    def fetch(self, force: bool = True, **overrides: Any) -> Summary:
        engine, articles = self.engine(**overrides)
        summary, _jobs = fetching.fetch(engine, articles, force=force)
        return summary

    def threads(self, **overrides: Any) -> list[Any]:
        return cli.site_threads(self.settings(**overrides))[0]

    def waiting(self, **overrides: Any) -> set[str]:
        return {i for t in self.threads(**overrides) for i in t.waiting}

    def page(self, name: str = "post.html", **overrides: Any) -> str:
        self.site.build(**overrides)
        return (self.site.output / name).read_text(encoding="utf-8")

    def archive_reply(self, folder: Path, key: str = "post") -> None:
        Archive(folder).merge(
            key,
            [
                Item(
                    id="mastodon:social.example/9",
                    source="mastodon",
                    kind="reply",
                    author=Person(name="Ann", handle="ann@social.example"),
                    published=datetime(2026, 1, 3, tzinfo=timezone.utc),
                    content_html="<p>From the archive?</p>",
                )
            ],
        )

    def paths(self) -> list[str]:
        return [p for p, n in self.server.hits.items() for _ in range(n)]


WIRED: dict[str, Callable[[Rig], None]] = {}


def wired(*names: str) -> Callable[[Callable[[Rig], None]], Callable[[Rig], None]]:
    def register(check: Callable[[Rig], None]) -> Callable[[Rig], None]:
        for name in names:
            WIRED[name] = check
        return check

    return register


# -- Who the author is ------------------------------------------------------------------


@wired("ENGAGE_AUTHOR")
def _author(rig: Rig) -> None:
    rig.site.article("post")
    rig.site.comment("post", "c1.md", "Hello", author="Ann", date="2026-01-03")
    assert rig.waiting() == {"comment:post/c1"}
    assert rig.waiting(ENGAGE_AUTHOR={"names": ["Ann"]}) == set()


_IDENTITIES = {
    "names": ("local", Person(name="Ann"), ["Ann"]),
    "emails": ("local", Person(name="A.", email="ann@mail.example"), ["ann@mail.example"]),
    "urls": ("wordpress", Person(name="A.", url="https://ann.example/"), ["https://ann.example"]),
    "twitter": ("twitter", Person(name="A.", handle="ann_x"), ["@ann_x"]),
    "mastodon": (
        "mastodon",
        Person(name="A.", handle="ann@social.example"),
        ["ann@social.example"],
    ),
    "bluesky": ("bluesky", Person(name="A.", handle="ann.example"), ["ann.example"]),
    "hackernews": ("hackernews", Person(name="ann_hn", handle="ann_hn"), ["ann_hn"]),
    "lobsters": ("lobsters", Person(name="ann_l", handle="ann_l"), ["ann_l"]),
    "reddit": ("reddit", Person(name="A.", handle="ann_r"), ["ann_r"]),
    "lemmy": ("lemmy", Person(name="A.", handle="ann@lemmy.example"), ["ann@lemmy.example"]),
    "discourse": ("discourse", Person(name="A.", handle="ann"), ["ann"]),
    "github": ("github", Person(name="A.", handle="ann-gh"), ["ann-gh"]),
}


def _identity_check(key: str) -> Callable[[Rig], None]:
    source, person, value = _IDENTITIES[key]

    def check(rig: Rig) -> None:
        item = Item(
            id=f"{source}:1",
            source=source,
            kind="comment",
            author=person,
            published=datetime(2026, 1, 3, tzinfo=timezone.utc),
            content_html="<p>Hi</p>",
        )
        post = Post("post", "Post", "https://blog.example/post.html")
        for setting, mine in ((None, False), ({key: value}, True)):
            author = settings.load({"AUTHOR": "Marin", "ENGAGE_AUTHOR": setting}).author
            thread, _ = build_thread(post, [item], author)
            assert (item.id in thread.by_author) is mine, (key, setting)

    return check


for _key in _IDENTITIES:
    WIRED[f"ENGAGE_AUTHOR[{_key!r}]"] = _identity_check(_key)


@wired("ENGAGE_ANSWER_BY_MENTION")
def _by_mention(rig: Rig) -> None:
    rig.site.article("post")
    rig.site.comment("post", "c1.md", "A question?", author="Ann", date="2026-01-03")
    rig.site.comment("post", "c2.md", "Ann, thanks!", author="Marin", date="2026-01-04")
    assert rig.waiting() == set()
    assert rig.waiting(ENGAGE_ANSWER_BY_MENTION=False) == {"comment:post/c1"}


@wired("ENGAGE_PEOPLE")
def _people(rig: Rig) -> None:
    rig.site.article("post")
    archive = Archive(rig.site.root / "archive")
    for n, (source, handle) in enumerate((("mastodon", "ann@social.example"), ("twitter", "ann"))):
        item = Item(
            id=f"{source}:{n}",
            source=source,
            kind="reply",
            author=Person(name=f"Ann {n}", handle=handle),
            published=datetime(2026, 1, 3, tzinfo=timezone.utc),
            content_html="<p>Hi</p>",
        )
        archive.merge("post", [item])

    def people(**overrides: Any) -> int:
        from pelican_engage import people as people_module

        threads, engine = cli.site_threads(rig.settings(**overrides))
        found = people_module.relationships(threads, engine.settings.people, engine.settings.author)
        return len(found.relations)

    assert people() == 2
    assert people(ENGAGE_PEOPLE=[["mastodon:ann@social.example", "twitter:ann"]]) == 1


# -- Where things are ----------------------------------------------------------------------


@wired("ENGAGE_ARCHIVE_PATH")
def _archive_path(rig: Rig) -> None:
    rig.site.article("post")
    other = rig.site.root / "other-archive"
    rig.archive_reply(other)
    assert rig.waiting() == set()
    assert rig.waiting(ENGAGE_ARCHIVE_PATH=str(other)) == {"mastodon:social.example/9"}


@wired("ENGAGE_COMMENTS_PATH")
def _comments_path(rig: Rig) -> None:
    rig.site.article("post")
    folder = rig.site.content / "talk" / "post"
    folder.mkdir(parents=True)
    (folder / "c1.md").write_text("author: Ann\ndate: 2026-01-03\n\nHi?\n", encoding="utf-8")
    assert rig.waiting() == set()
    assert rig.waiting(ENGAGE_COMMENTS_PATH="talk") == {"comment:post/c1"}


@wired("ENGAGE_REPORT_PAGE")
def _report_page(rig: Rig) -> None:
    rig.site.article("post")
    rig.site.build()
    default = rig.site.root / "engage-report" / "index.html"
    assert default.is_file()
    default.unlink()
    mine = rig.site.root / "private" / "waiting.html"
    rig.site.build(ENGAGE_REPORT_PAGE=str(mine))
    assert mine.is_file() and not default.exists()
    mine.unlink()
    rig.site.build(ENGAGE_REPORT_PAGE=None)
    assert not mine.exists() and not default.exists()


# -- The page ----------------------------------------------------------------------------


def _one_comment(rig: Rig) -> None:
    rig.site.article("post")
    rig.site.comment("post", "c1.md", "Hello?", author="Ann", date="2026-01-03 10:20")


@wired("ENGAGE_INJECT")
def _inject(rig: Rig) -> None:
    _one_comment(rig)
    assert '<section class="engage' in rig.page()
    assert '<section class="engage' not in rig.page(ENGAGE_INJECT=False)


@wired("ENGAGE_CSS")
def _css(rig: Rig) -> None:
    _one_comment(rig)
    css = rig.site.output / "engage" / "engage.css"
    page = rig.page(ENGAGE_CSS=False)
    assert "engage/engage.css" not in page and not css.exists()
    page = rig.page()
    assert "engage/engage.css" in page and css.is_file()


@wired("ENGAGE_SHOW_WAITING")
def _show_waiting(rig: Rig) -> None:
    # docs/design.md: readers must not learn whom the author has not answered,
    # from the page or its source, unless the author wants it shown.
    _one_comment(rig)
    page = rig.page()
    assert "engage-waiting" not in page and "Waiting for a reply" not in page
    page = rig.page(ENGAGE_SHOW_WAITING=True)
    assert re.search(r'class="[^"]*engage-waiting[^"]*"[^>]*data-engage-id="comment:post/c1"', page)
    assert '<span class="engage-waiting-flag">Waiting for a reply</span>' in page


@wired("ENGAGE_DATE_FORMAT")
def _date_format(rig: Rig) -> None:
    _one_comment(rig)
    # The default is the locale's own (CLDR "medium"; Babel puts a narrow
    # space before AM, written as its character reference).
    assert ">Jan 3, 2026, 10:20&#8239;AM</time>" in rig.page()
    assert ">03.01.2026</time>" in rig.page(ENGAGE_DATE_FORMAT="%d.%m.%Y")
    assert ">January 3, 2026" in rig.page(ENGAGE_DATE_FORMAT="long")


@wired("ENGAGE_DISPLAY_DEPTH")
def _display_depth(rig: Rig) -> None:
    rig.site.article("post")
    rig.site.comment("post", "c1.md", "One?", author="Ann", date="2026-01-03")
    rig.site.comment("post", "c2.md", "Two", author="Bo", date="2026-01-04", replyto="c1md")
    nested = re.compile(r'data-engage-id="comment:post/c1".*<ol[^>]*>\s*<li[^>]*c2', re.S)
    assert nested.search(rig.page())
    assert not nested.search(rig.page(ENGAGE_DISPLAY_DEPTH=1))


@wired("ENGAGE_AVATARS")
def _avatars(rig: Rig) -> None:
    from tests.images import png

    rig.server.routes["/ann.png"] = lambda h, _hit: send(h, 200, png(), Content_Type="image/png")
    rig.site.article("post")
    Archive(rig.site.root / "archive").merge(
        "post",
        [
            Item(
                id="mastodon:social.example/9",
                source="mastodon",
                kind="reply",
                author=Person(name="Ann", avatar=f"{rig.server.url}/ann.png"),
                published=datetime(2026, 1, 3, tzinfo=timezone.utc),
                content_html="<p>Hi</p>",
                url=f"{rig.server.url}/@ann/9",
            )
        ],
    )
    page = rig.page(ENGAGE_AVATARS=False)
    assert "engage-avatar" not in page and rig.server.hits == {}
    page = rig.page()
    assert rig.server.hits == {"/ann.png": 1}
    copy = r'<img class="engage-avatar[^>]*src="https://blog.example/engage/avatars/'
    assert re.search(copy, page)


# -- Fetching ------------------------------------------------------------------------------


def _announced(rig: Rig, count: int = 1) -> None:
    for n in range(count):
        status = str(int(TOOT) + 10 * n)
        serve_mastodon(rig.server, status)
        rig.site.article(f"post-{n}" if n else "post", mastodon=f"{rig.server.url}/@marin/{status}")


@wired("ENGAGE_OFFLINE")
def _offline(rig: Rig) -> None:
    _announced(rig)
    rig.site.build(ENGAGE_OFFLINE=True)
    assert rig.server.hits == {}
    rig.site.build()
    assert rig.server.hits


@wired("ENGAGE_CONCURRENCY")
def _concurrency(rig: Rig) -> None:
    _announced(rig, 4)
    lock, now, peak = threading.Lock(), [0], [0]
    for n in range(4):
        path = f"/api/v1/statuses/{int(TOOT) + 10 * n}"
        answer = rig.server.routes[path]

        def slow(h: Any, hit: int, answer: Any = answer) -> None:
            with lock:
                now[0] += 1
                peak[0] = max(peak[0], now[0])
            time.sleep(0.15)
            with lock:
                now[0] -= 1
            answer(h, hit)

        rig.server.routes[path] = slow
    rig.fetch()
    assert peak[0] > 1
    peak[0] = 0
    rig.fetch(ENGAGE_CONCURRENCY=1)
    assert peak[0] == 1


@wired("ENGAGE_WORKERS")
def _workers(rig: Rig) -> None:
    import os

    from pelican_engage import engine, workers

    for n in range(4):
        rig.site.article(f"post{n}")
        rig.site.comment(f"post{n}", "c1.md", f"Hello {n}", author="Ann", date="2026-01-03")
    rig.monkeypatch.setattr(workers, "MIN_POSTS", 2)
    rig.monkeypatch.setattr(workers, "CHUNK", 1)
    built_in = rig.site.root / "built-in.txt"
    build = engine._build
    parent = os.getpid()

    def noted(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() == parent:  # it builds too: slowed, it leaves the worker some
            time.sleep(0.05)
        with built_in.open("a", encoding="utf-8") as log:
            log.write(f"{os.getpid()}\n")
        return build(*args, **kwargs)

    rig.monkeypatch.setattr(engine, "_build", noted)
    one = rig.page("post2.html", ENGAGE_WORKERS=1)
    assert built_in.read_text().split() == [str(os.getpid())] * 4
    built_in.unlink()
    shutil.rmtree(rig.site.root / "cache")
    two = rig.page("post2.html", ENGAGE_WORKERS=2)
    # Built by forked workers (and this process); the page is the same.
    assert len(set(built_in.read_text().split()) - {str(parent)}) >= 1
    assert len(built_in.read_text().split()) == 4
    assert two == one and "Hello 2" in two


@wired("ENGAGE_FETCH_BUDGET")
def _budget(rig: Rig) -> None:
    _announced(rig, 3)
    path = f"/api/v1/statuses/{TOOT}"
    answer = rig.server.routes[path]

    def slow(h: Any, hit: int) -> None:
        time.sleep(1.2)
        answer(h, hit)

    rig.server.routes[path] = slow
    assert rig.fetch(ENGAGE_CONCURRENCY=1).skipped == 0
    assert rig.fetch(ENGAGE_CONCURRENCY=1, ENGAGE_FETCH_BUDGET=1).skipped >= 1


def _fetched_ago(rig: Rig, key: str, ago: timedelta) -> None:
    """Pretend the last fetch of ``key``'s announcement was ``ago``."""
    archive = Archive(rig.site.root / "archive")
    cursors = dict(archive.load(key).cursors)
    when = (datetime.now(timezone.utc) - ago).replace(microsecond=0).isoformat()
    archive.merge(key, [], {k: {**v, "fetched_at": when} for k, v in cursors.items()})


@wired("ENGAGE_REFRESH")
def _refresh(rig: Rig) -> None:
    _announced(rig)
    assert rig.fetch(force=False).jobs == 1
    assert rig.fetch(force=False).jobs == 0  # fetched a moment ago
    assert rig.fetch(force=False, ENGAGE_REFRESH={"min_seconds": 0, "max_seconds": 0}).jobs == 1


@wired("ENGAGE_REFRESH['max_seconds']")
def _refresh_max(rig: Rig) -> None:
    _announced(rig)  # a post of 2026-01-02: old, so its interval is the maximum
    rig.fetch()
    _fetched_ago(rig, "post", timedelta(days=2))
    assert rig.fetch(force=False).jobs == 0  # a week by default
    assert rig.fetch(force=False, ENGAGE_REFRESH={"max_seconds": 86400}).jobs == 1


@wired("ENGAGE_REFRESH['ratio']")
def _refresh_ratio(rig: Rig) -> None:
    _announced(rig)
    rig.fetch()
    _fetched_ago(rig, "post", timedelta(hours=2))
    assert rig.fetch(force=False).jobs == 0
    # A tiny ratio of the post's age is under the hour minimum: due after 2 h.
    assert rig.fetch(force=False, ENGAGE_REFRESH={"ratio": 0.0001}).jobs == 1


@wired("ENGAGE_REFRESH['min_seconds']")
def _refresh_min(rig: Rig) -> None:
    serve_mastodon(rig.server, TOOT)
    posted = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    (rig.site.content / "post.md").write_text(
        f"Title: Young\nDate: {posted}\nSlug: post\n"
        f"mastodon: {rig.server.url}/@marin/{TOOT}\n\nNew.\n",
        encoding="utf-8",
    )
    rig.fetch(TIMEZONE="UTC")
    _fetched_ago(rig, "post", timedelta(minutes=30))
    # A tenth of an hour-old post's age is 6 minutes; the hour minimum wins.
    assert rig.fetch(force=False).jobs == 0
    assert rig.fetch(force=False, ENGAGE_REFRESH={"min_seconds": 600}).jobs == 1


def _mastodon_host(rig: Rig) -> dict[str, str]:
    # A token goes only to its own server where settings can name it.
    if "host" in mastodon.SETTING_KEYS:
        return {"host": rig.server.url.split("//", 1)[1]}
    return {}


@wired("ENGAGE_MASTODON", "ENGAGE_MASTODON['reactions']")
def _mastodon_reactions(rig: Rig) -> None:
    _announced(rig)
    favourites = f"/api/v1/statuses/{TOOT}/favourited_by"
    rig.fetch()
    assert rig.server.hits.get(favourites) == 1
    rig.fetch(ENGAGE_MASTODON={"reactions": False})
    assert rig.server.hits.get(favourites) == 1


@wired("ENGAGE_MASTODON['unlisted']")
def _mastodon_unlisted(rig: Rig) -> None:
    _announced(rig)
    context = json.loads((DATA / "mastodon" / "context.json").read_text(encoding="utf-8"))
    quiet = context["descendants"][0]
    quiet["visibility"] = "unlisted"
    body = json.dumps(context).encode()
    rig.server.routes[f"/api/v1/statuses/{TOOT}/context"] = lambda h, n: send(h, 200, body)
    rig.fetch()
    unlisted_id = f"mastodon:{rig.server.url.split('//', 1)[1]}/{quiet['id']}"
    shown = {i.id for t in rig.threads() for i in t.items}
    assert unlisted_id not in shown
    shown = {i.id for t in rig.threads(ENGAGE_MASTODON={"unlisted": True}) for i in t.items}
    assert unlisted_id in shown


@wired("ENGAGE_MASTODON['unlisted']")
def _mastodon_unlisted(rig: Rig) -> None:
    rig.site.article("post")
    reply = Item(
        id="mastodon:social.example/10",
        source="mastodon",
        kind="reply",
        author=Person(name="Ann", handle="ann@social.example"),
        published=datetime(2026, 1, 3, tzinfo=timezone.utc),
        content_html="<p>Quietly public?</p>",
        extras={"visibility": "unlisted"},
    )
    Archive(rig.site.root / "archive").merge("post", [reply])
    assert "Quietly public?" not in rig.page()
    assert rig.waiting() == set()
    assert "Quietly public?" in rig.page(ENGAGE_MASTODON={"unlisted": True})
    assert rig.waiting(ENGAGE_MASTODON={"unlisted": True}) == {reply.id}


@wired("ENGAGE_MASTODON['token_env']")
def _mastodon_token_env(rig: Rig) -> None:
    _announced(rig)
    rig.monkeypatch.delenv("ENGAGE_MASTODON_TOKEN", raising=False)
    rig.monkeypatch.setenv("MY_MASTODON", "tok-123")
    rig.fetch(ENGAGE_MASTODON=_mastodon_host(rig))
    assert not any("Authorization" in h for h in rig.server.seen)
    rig.fetch(ENGAGE_MASTODON={"token_env": "MY_MASTODON", **_mastodon_host(rig)})
    assert any(h.get("Authorization") == "Bearer tok-123" for h in rig.server.seen)


def _mastodon_token_host(key: str) -> Callable[[Rig], None]:
    """ENGAGE_MASTODON["host"] (or "hosts"): the token goes to that server only."""

    def check(rig: Rig) -> None:
        other = Server()
        try:
            serve_mastodon(rig.server, TOOT)
            serve_mastodon(other, TOOT)
            rig.site.article("post", mastodon=f"{rig.server.url}/@marin/{TOOT}")
            rig.site.article("other", mastodon=f"{other.url}/@marin/{TOOT}")
            rig.monkeypatch.setenv("MY_MASTODON", "tok-123")
            for mine, theirs in ((rig.server, other), (other, rig.server)):
                host = mine.url.split("//", 1)[1]
                mine.seen.clear()
                theirs.seen.clear()
                value = [host] if key == "hosts" else host
                rig.fetch(ENGAGE_MASTODON={"token_env": "MY_MASTODON", key: value})
                assert any(h.get("Authorization") == "Bearer tok-123" for h in mine.seen)
                assert theirs.seen and not any("Authorization" in h for h in theirs.seen)
        finally:
            other.close()

    return check


for _key in ("host", "hosts"):
    if _key in mastodon.SETTING_KEYS:  # the key arrives with token-to-host binding
        WIRED[f"ENGAGE_MASTODON[{_key!r}]"] = _mastodon_token_host(_key)


def _tweeted(rig: Rig) -> FakeX:
    rig.site.article("post", tweet=TWEET)
    rig.monkeypatch.delenv("ENGAGE_TWITTER_BEARER_TOKEN", raising=False)
    rig.monkeypatch.setenv("MY_X", "x-token")
    return FakeX(rig.server)


@wired("ENGAGE_TWITTER", "ENGAGE_TWITTER['api_url']")
def _twitter_api_url(rig: Rig) -> None:
    fake = _tweeted(rig)
    engine, articles = rig.engine()
    assert {j.host for j in engine.jobs(articles)} == {"api.x.com"}
    rig.fetch(ENGAGE_TWITTER={"api_url": rig.server.url, "token_env": "MY_X"})
    assert fake.queries and fake.auth[0] == "Bearer x-token"


@wired("ENGAGE_TWITTER['token_env']")
def _twitter_token_env(rig: Rig) -> None:
    fake = _tweeted(rig)
    summary = rig.fetch(ENGAGE_TWITTER={"api_url": rig.server.url})
    assert fake.queries == [] and "no bearer token" in summary.messages["twitter"]
    rig.fetch(ENGAGE_TWITTER={"api_url": rig.server.url, "token_env": "MY_X"})
    assert fake.queries


@wired("ENGAGE_TWITTER['search']")
def _twitter_search(rig: Rig) -> None:
    fake = _tweeted(rig)
    base = {"api_url": rig.server.url, "token_env": "MY_X"}
    rig.fetch(ENGAGE_TWITTER=base)
    assert {q["path"] for q in fake.queries if "search" in q["path"]} == {"/2/tweets/search/recent"}
    fake.queries.clear()
    rig.fetch(ENGAGE_TWITTER={**base, "search": "all"})
    assert {q["path"] for q in fake.queries if "search" in q["path"]} == {"/2/tweets/search/all"}


@wired("ENGAGE_TWITTER['max_requests']")
def _twitter_max_requests(rig: Rig) -> None:
    fake = _tweeted(rig)
    base = {"api_url": rig.server.url, "token_env": "MY_X"}
    rig.fetch(ENGAGE_TWITTER=base)
    assert len(fake.queries) > 1
    fake.queries.clear()
    rig.fetch(ENGAGE_TWITTER={**base, "max_requests": 1})
    assert len(fake.queries) == 1


@wired("ENGAGE_TWITTER['discover']")
def _twitter_discover(rig: Rig) -> None:
    posted = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    (rig.site.content / "fresh.md").write_text(
        f"Title: Fresh\nDate: {posted}\nSlug: fresh\n\nNew.\n", encoding="utf-8"
    )
    author = {"names": ["Marin"], "twitter": ["marin"]}
    now = datetime.now(timezone.utc)
    engine, articles = rig.engine(ENGAGE_AUTHOR=author)
    assert discovery_jobs(articles, engine.settings, engine.archive, now) == []
    engine, articles = rig.engine(ENGAGE_AUTHOR=author, ENGAGE_TWITTER={"discover": True})
    (job,) = discovery_jobs(articles, engine.settings, engine.archive, now)
    assert job.post_key == "fresh" and job.target.endswith("from:marin")


@wired("ENGAGE_BLUESKY", "ENGAGE_BLUESKY['api_url']")
def _bluesky_api_url(rig: Rig) -> None:
    appview = FakeAppView(rig.server)
    rig.site.article("post", bluesky=BSKY)
    engine, articles = rig.engine()
    assert {j.host for j in engine.jobs(articles)} == {"public.api.bsky.app"}
    rig.fetch(ENGAGE_BLUESKY={"api_url": rig.server.url})
    assert appview.queries


@wired("ENGAGE_BLUESKY['reactions']")
def _bluesky_reactions(rig: Rig) -> None:
    appview = FakeAppView(rig.server)
    rig.site.article("post", bluesky=BSKY)

    def likes(**bluesky: Any) -> int:
        appview.queries.clear()
        rig.fetch(ENGAGE_BLUESKY={"api_url": rig.server.url, **bluesky})
        return sum(1 for q in appview.queries if q["method"].endswith("getLikes"))

    assert likes() == 1
    assert likes(reactions=False) == 0


@wired("ENGAGE_BLUESKY['handle']", "ENGAGE_BLUESKY['pds_url']")
def _bluesky_reply_account(rig: Rig) -> None:
    # `pelican-engage reply` logs in as "handle" on "pds_url" (test_reply.py has the rest).
    from tests.loopback_write import WriteServer
    from tests.test_reply import PASSWORD, bluesky_server, bluesky_site

    pds, appview = WriteServer(), WriteServer()
    try:
        bluesky_server(pds)
        bluesky_server(appview)
        conf, item = bluesky_site(rig.site, appview)
        rig.monkeypatch.setenv("ENGAGE_BLUESKY_APP_PASSWORD", PASSWORD)
        conf.write_text(
            conf.read_text()
            + f"ENGAGE_BLUESKY = {{'api_url': {appview.url!r}, 'pds_url': {pds.url!r}, "
            "'handle': 'other.example'}\n"
        )
        assert cli.main(["reply", item.id, "-m", "Hi", "-s", str(conf)]) == 0
        sessions = [r for r in pds.posts() if r.path.endswith("createSession")]
        assert [r.body["identifier"] for r in sessions] == ["other.example"]
        assert appview.posts() == []
    finally:
        pds.close()
        appview.close()


@wired("ENGAGE_WEBMENTION", "ENGAGE_WEBMENTION['api_url']")
def _webmention(rig: Rig) -> None:
    fake = FakeWebmentionIO(rig.server)
    rig.site.article("post")
    engine, articles = rig.engine()
    assert engine.jobs(articles) == []  # None: off
    engine, articles = rig.engine(ENGAGE_WEBMENTION={})
    assert {j.host for j in engine.jobs(articles)} == {"webmention.io"}
    rig.fetch(ENGAGE_WEBMENTION={"api_url": rig.server.url})
    assert fake.queries


@wired("ENGAGE_WEBMENTION['token_env']")
def _webmention_token_env(rig: Rig) -> None:
    fake = FakeWebmentionIO(rig.server)
    rig.site.article("post")
    rig.monkeypatch.delenv("ENGAGE_WEBMENTION_TOKEN", raising=False)
    rig.monkeypatch.setenv("MY_WM", "wm-token")
    rig.fetch(ENGAGE_WEBMENTION={"api_url": rig.server.url})
    assert fake.queries and not any("token" in q for q in fake.queries)
    fake.queries.clear()
    rig.fetch(ENGAGE_WEBMENTION={"api_url": rig.server.url, "token_env": "MY_WM"})
    assert fake.queries and all(q.get("token") == ["wm-token"] for q in fake.queries)


@wired("ENGAGE_HACKERNEWS", "ENGAGE_HACKERNEWS['api_url']")
def _hackernews(rig: Rig) -> None:
    from tests.test_hackernews import FakeHN

    fake = FakeHN(rig.server, hits=[])
    rig.site.article("post")
    engine, articles = rig.engine()
    assert engine.jobs(articles) == []  # None: off
    engine, articles = rig.engine(ENGAGE_HACKERNEWS={})
    assert {j.host for j in engine.jobs(articles)} == {"hn.algolia.com"}
    rig.fetch(ENGAGE_HACKERNEWS={"api_url": fake.url})
    assert fake.queries


@wired("ENGAGE_HACKERNEWS['max_requests']")
def _hackernews_max_requests(rig: Rig) -> None:
    from tests.test_hackernews import FakeHN

    fake = FakeHN(rig.server)
    fake.hits = [{**h, "url": "https://blog.example/post.html"} for h in fake.hits[:2]]
    rig.site.article("post")
    rig.fetch(ENGAGE_HACKERNEWS={"api_url": fake.url})
    assert len(rig.paths()) == 3  # a search and two stories
    rig.server.hits.clear()
    summary = rig.fetch(ENGAGE_HACKERNEWS={"api_url": fake.url, "max_requests": 2})
    assert len(rig.paths()) == 2
    assert "max_requests" in summary.messages["hackernews"]


@wired("ENGAGE_LOBSTERS", "ENGAGE_LOBSTERS['api_url']")
def _lobsters(rig: Rig) -> None:
    from tests.test_lobsters import FakeLobsters

    fake = FakeLobsters(rig.server, stories=[])
    rig.site.article("post")
    engine, articles = rig.engine()
    assert engine.jobs(articles) == []  # None: off
    engine, articles = rig.engine(ENGAGE_LOBSTERS={})
    assert {j.host for j in engine.jobs(articles)} == {"lobste.rs"}
    rig.fetch(ENGAGE_LOBSTERS={"api_url": fake.url})
    assert fake.lookups


@wired("ENGAGE_LOBSTERS['max_requests']")
def _lobsters_max_requests(rig: Rig) -> None:
    from tests.test_lobsters import FakeLobsters

    fake = FakeLobsters(rig.server)
    fake.stories = [{**s, "url": "https://blog.example/post.html"} for s in fake.stories]
    rig.site.article("post")
    rig.fetch(ENGAGE_LOBSTERS={"api_url": fake.url})
    assert len(rig.paths()) == 3  # a lookup and two stories
    rig.server.hits.clear()
    summary = rig.fetch(ENGAGE_LOBSTERS={"api_url": fake.url, "max_requests": 2})
    assert len(rig.paths()) == 2
    assert "max_requests" in summary.messages["lobsters"]


@wired("ENGAGE_DISCOURSE", "ENGAGE_DISCOURSE['max_requests']")
def _discourse(rig: Rig) -> None:
    from tests.test_discourse import FakeForum

    forum = FakeForum(rig.server)
    rig.site.article("post", discourse=f"{rig.server.url}/forum/t/moving-house/123")
    engine, articles = rig.engine(ENGAGE_DISCOURSE=None)
    assert engine.jobs(articles) == []  # None: off
    rig.fetch()  # {}: on, the whole topic (the first answer, then 7 more posts)
    assert len(forum.etags) == 1 and len(forum.asked) == 1
    forum.etags.clear()
    forum.asked.clear()
    summary = rig.fetch(ENGAGE_DISCOURSE={"max_requests": 1})
    assert len(forum.etags) == 1 and forum.asked == []
    assert "ENGAGE_DISCOURSE['max_requests'] (1)" in summary.messages["discourse"]


@wired("ENGAGE_GITHUB", "ENGAGE_GITHUB['api_url']", "ENGAGE_GITHUB['token_env']")
def _github(rig: Rig) -> None:
    from tests.test_github import DISCUSSION, FakeGitHub

    fake = FakeGitHub(rig.server)
    rig.site.article("post", github_discussion=DISCUSSION)
    engine, articles = rig.engine(ENGAGE_GITHUB=None)
    assert engine.jobs(articles) == []  # None: off
    engine, articles = rig.engine()
    assert {j.host for j in engine.jobs(articles)} == {"api.github.com"}  # {}: on
    rig.monkeypatch.delenv("ENGAGE_GITHUB_TOKEN", raising=False)
    rig.monkeypatch.setenv("MY_GH", "gh-token")
    summary = rig.fetch(ENGAGE_GITHUB={"api_url": rig.server.url})
    assert fake.auth == []  # no token in ENGAGE_GITHUB_TOKEN: not asked, and said so
    assert "no token in $ENGAGE_GITHUB_TOKEN" in summary.messages["github"]
    rig.fetch(ENGAGE_GITHUB={"api_url": rig.server.url, "token_env": "MY_GH"})
    assert fake.auth and set(fake.auth) == {"bearer gh-token"}


@wired("ENGAGE_GITHUB['repo']", "ENGAGE_GITHUB['mapping']")
def _github_mapping(rig: Rig) -> None:
    rig.site.article("post", title="Moving house")
    engine, articles = rig.engine()
    assert engine.jobs(articles) == []  # no repo: only metadata
    engine, articles = rig.engine(ENGAGE_GITHUB={"repo": "marin/blog-comments"})
    assert [j.target for j in engine.jobs(articles)] == ["marin/blog-comments post"]
    engine, articles = rig.engine(ENGAGE_GITHUB={"repo": "marin/blog-comments", "mapping": "title"})
    assert [j.target for j in engine.jobs(articles)] == ["marin/blog-comments Moving house"]


@wired("ENGAGE_GITHUB['max_requests']")
def _github_cap(rig: Rig) -> None:
    from tests.test_github import DISCUSSION, FakeGitHub

    fake = FakeGitHub(rig.server)
    rig.site.article("post", github_discussion=DISCUSSION)
    rig.monkeypatch.setenv("ENGAGE_GITHUB_TOKEN", "gh-token")
    rig.fetch(ENGAGE_GITHUB={"api_url": rig.server.url})
    assert len(fake.asked) == 3
    fake.asked.clear()
    summary = rig.fetch(ENGAGE_GITHUB={"api_url": rig.server.url, "max_requests": 1})
    assert len(fake.asked) == 1 and "(1) reached" in summary.messages["github"]


@wired("ENGAGE_COMMENT_EMAIL")
def _comment_email(rig: Rig) -> None:
    _one_comment(rig)
    assert "mailto:" not in rig.page()
    page = rig.page(ENGAGE_COMMENT_EMAIL="comments@blog.example")
    assert "mailto:comments@blog.example?subject=" in page


@wired("ENGAGE_COMMENT_FEED")
def _comment_feed(rig: Rig) -> None:
    _one_comment(rig)
    rig.page()
    assert (rig.site.output / "feeds" / "comment.post.atom.xml").is_file()
    shutil.rmtree(rig.site.output)
    rig.page(ENGAGE_COMMENT_FEED="feeds/c-{slug}.xml")
    assert (rig.site.output / "feeds" / "c-post.xml").is_file()
    assert not (rig.site.output / "feeds" / "comment.post.atom.xml").exists()


@wired("ENGAGE_COMMENT_FEED_ALL")
def _comment_feed_all(rig: Rig) -> None:
    _one_comment(rig)
    rig.page()
    assert (rig.site.output / "feeds" / "comments.all.atom.xml").is_file()
    shutil.rmtree(rig.site.output)
    rig.page(ENGAGE_COMMENT_FEED_ALL=None)
    assert not (rig.site.output / "feeds" / "comments.all.atom.xml").exists()


@wired("ENGAGE_WEBMENTION['endpoint']")
def _webmention_endpoint(rig: Rig) -> None:
    _one_comment(rig)
    wm: dict[str, str] = {}
    page = rig.page(ENGAGE_WEBMENTION=wm, ENGAGE_OFFLINE=True, SITEURL="https://blog.example")
    assert 'rel="webmention" href="https://webmention.io/blog.example/webmention"' in page
    endpoint = "https://wm.example/endpoint"
    page = rig.page(
        ENGAGE_WEBMENTION={**wm, "endpoint": endpoint},
        ENGAGE_OFFLINE=True,
        SITEURL="https://blog.example",
    )
    assert f'rel="webmention" href="{endpoint}"' in page


# -- Reddit -----------------------------------------------------------------------------


def _reddit(rig: Rig, oauth: bool = False) -> FakeReddit:
    rig.site.article("post")
    fake = FakeReddit(rig.server, oauth=oauth)
    fake.info = {"https://blog.example/post.html": reddit_answer("info.json")}
    rig.server.routes["/api/v1/access_token"] = lambda h, n: send(
        h, 200, (DATA / "reddit" / "access_token.json").read_bytes()
    )
    for name in ("ENGAGE_REDDIT_CLIENT_ID", "ENGAGE_REDDIT_CLIENT_SECRET", "MY_ID", "MY_SECRET"):
        rig.monkeypatch.delenv(name, raising=False)
    return fake


@wired("ENGAGE_REDDIT", "ENGAGE_REDDIT['api_url']")
def _reddit_on(rig: Rig) -> None:
    fake = _reddit(rig)
    engine, articles = rig.engine()
    assert engine.jobs(articles) == []  # None: off
    engine, articles = rig.engine(ENGAGE_REDDIT={})
    assert {j.host for j in engine.jobs(articles)} == {"www.reddit.com"}
    rig.fetch(ENGAGE_REDDIT={"api_url": rig.server.url})
    assert "/comments/1h2k3l4.json" in fake.paths()


@wired("ENGAGE_REDDIT['oauth_url']", "ENGAGE_REDDIT['client_id_env']")
def _reddit_oauth(rig: Rig) -> None:
    fake = _reddit(rig, oauth=True)
    rig.monkeypatch.setenv("MY_ID", "app-id")
    rig.monkeypatch.setenv("ENGAGE_REDDIT_CLIENT_SECRET", "app-secret")
    api = {"api_url": rig.server.url, "oauth_url": rig.server.url}
    rig.fetch(ENGAGE_REDDIT=api)
    assert fake.queries == [] and "/api/v1/access_token" not in rig.server.hits
    rig.fetch(ENGAGE_REDDIT={**api, "client_id_env": "MY_ID"})
    assert rig.server.hits["/api/v1/access_token"] == 1
    assert {h["authorization"] for h in fake.headers} == {"bearer reddit-app-token-5e1c"}
    fake.queries.clear()
    rig.fetch(ENGAGE_REDDIT={"api_url": rig.server.url, "client_id_env": "MY_ID"})
    assert fake.queries == []  # the token went to oauth.reddit.com, not to this server


@wired("ENGAGE_REDDIT['client_secret_env']")
def _reddit_secret(rig: Rig) -> None:
    _reddit(rig)
    rig.monkeypatch.setenv("ENGAGE_REDDIT_CLIENT_ID", "app-id")
    rig.monkeypatch.setenv("MY_SECRET", "app-secret")
    rig.fetch(ENGAGE_REDDIT={"api_url": rig.server.url})
    assert "/api/v1/access_token" not in rig.server.hits
    rig.fetch(ENGAGE_REDDIT={"api_url": rig.server.url, "client_secret_env": "MY_SECRET"})
    assert rig.server.hits["/api/v1/access_token"] == 1


@wired("ENGAGE_REDDIT['max_requests']")
def _reddit_cap(rig: Rig) -> None:
    fake = _reddit(rig)
    rig.fetch(ENGAGE_REDDIT={"api_url": rig.server.url})
    assert len(fake.queries) == 4  # two searches, a tree, its more stub
    fake.queries.clear()
    rig.fetch(ENGAGE_REDDIT={"api_url": rig.server.url, "max_requests": 1})
    assert len(fake.queries) == 1


# -- Lemmy ------------------------------------------------------------------------------


def _lemmy(rig: Rig) -> FakeLemmy:
    rig.site.article("post")
    fake = FakeLemmy(rig.server)
    found = lemmy_answer("search.json")
    for view in found["posts"]:
        view["post"]["url"] = "https://blog.example/post.html"
    fake.search = {"https://blog.example/post.html": found}
    return fake


@wired("ENGAGE_LEMMY", "ENGAGE_LEMMY['instances']")
def _lemmy_on(rig: Rig) -> None:
    fake = _lemmy(rig)
    engine, articles = rig.engine()
    assert engine.jobs(articles) == []  # None: off
    engine, articles = rig.engine(ENGAGE_LEMMY={})
    assert {j.host for j in engine.jobs(articles)} == {"lemmy.world"}
    rig.fetch(ENGAGE_LEMMY={"instances": [rig.server.url]})
    assert [q["q"] for q in fake.asked("/api/v3/search")] == [["https://blog.example/post.html"]]


@wired("ENGAGE_LEMMY['max_requests']")
def _lemmy_cap(rig: Rig) -> None:
    fake = _lemmy(rig)
    rig.fetch(ENGAGE_LEMMY={"instances": [rig.server.url]})
    assert len(fake.queries) == 4  # the search, three posts' comments (104 was removed)
    fake.queries.clear()
    rig.fetch(ENGAGE_LEMMY={"instances": [rig.server.url], "max_requests": 1})
    assert len(fake.queries) == 1


# -- The table of checks -------------------------------------------------------------------


def _documented_keys() -> set[str]:
    sections = {
        "ENGAGE_AUTHOR": settings._AUTHOR_KEYS,
        "ENGAGE_REFRESH": settings._REFRESH_KEYS,
        **{n.setting: n.setting_keys for n in NETWORKS if n.setting},
    }
    keys = {f"{name}[{key!r}]" for name, known in sections.items() for key in known}
    return set(settings.DEFAULTS) | keys


def _readme_settings() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(ENGAGE_[A-Z_]+)` \|", section, re.MULTILINE))


def test_every_setting_has_a_check() -> None:
    assert sorted(_documented_keys() - set(WIRED)) == [], "settings without a wiring check"
    assert sorted(set(WIRED) - _documented_keys()) == [], "checks of settings that are gone"
    assert _readme_settings() == set(settings.DEFAULTS), "README and DEFAULTS differ"


@pytest.fixture
def rig(site: Site, server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    monkeypatch.chdir(site.root)
    monkeypatch.delenv("ENGAGE_OFFLINE", raising=False)
    yield Rig(site, server, monkeypatch)


@pytest.mark.parametrize("name", sorted(WIRED))
def test_a_non_default_value_changes_behaviour(name: str, rig: Rig) -> None:
    WIRED[name](rig)


def test_the_archive_has_what_a_fetch_brought(rig: Rig) -> None:
    # The fetch checks above read their effects from the server and the
    # summary; this one makes sure such a fetch really lands in the archive.
    _announced(rig)
    rig.fetch()
    record = Archive(rig.site.root / "archive").load("post")
    assert f"mastodon:{rig.server.url.split('//', 1)[1]}/110000000000000002" in record.items
