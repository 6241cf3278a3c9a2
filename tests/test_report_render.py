"""Report rows and formats, settings validation, and page injection, as units."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest

from pelican_engage import render, report
from pelican_engage.model import Item, Person, Post, Thread, anchor
from pelican_engage.settings import SettingsError, author_identity, load

NOW = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)


def _thread() -> Thread:
    item = Item(
        id="comment:p/c1",
        source="local",
        kind="comment",
        author=Person(name='=HYPERLINK("https://evil.example")'),
        published=NOW - timedelta(days=3, hours=5),
        content_html="<p>" + "word " * 60 + "</p>",
    )
    return Thread(
        post=Post("p", "Post", "https://b.example/p.html"),
        items=(item,),
        waiting=frozenset({item.id}),
    )


def test_rows_measure_waiting_days_and_cut_excerpts() -> None:
    (row,) = report.waiting_rows([_thread()], NOW)
    assert row.waiting_days == 3.2
    assert row.excerpt.endswith("…") and len(row.excerpt) <= 140
    assert row.url == "https://b.example/p.html#engage-comment-p-c1"


def test_csv_neutralises_spreadsheet_formulas() -> None:
    rows = report.waiting_rows([_thread()], NOW)
    (parsed,) = csv.DictReader(io.StringIO(report.as_csv(rows)))
    assert parsed["author_name"].startswith("'=")


def test_anchor_is_a_safe_fragment() -> None:
    assert anchor("comment:post/c1") == "engage-comment-post-c1"
    hostile = anchor('x"><script>')
    assert re.fullmatch(r"engage-x-script-+[0-9a-f]{8}", hostile)
    # Different ids never share an anchor, even when their unsafe parts differ.
    assert anchor("comment:p/über") != anchor("comment:p/äber")


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        # After the body, last inside the article (after the theme's footer).
        (
            "<article><p>BODY</p><footer>f</footer></article><aside/>",
            "<article><p>BODY</p><footer>f</footer>THREAD\n</article><aside/>",
        ),
        # No <article>: right after the body.
        ("<div><p>BODY</p></div>", "<div><p>BODY</p>THREAD\n</div>"),
        # Body not found (a theme that rewrites it): before </main> or </body>.
        ("<main>x</main><body></body>", "<main>xTHREAD\n</main><body></body>"),
        ("<body>x</body>", "<body>xTHREAD\n</body>"),
    ],
)
def test_inject_places_the_thread(page: str, expected: str) -> None:
    assert render.inject(page, "THREAD", "<p>BODY</p>" if "BODY" in page else "<p>n/a</p>") == (
        expected
    )


def test_a_page_with_the_thread_markup_has_a_thread_unless_the_body_quotes_it() -> None:
    class Article:
        pass

    page = '<article><p>BODY</p></article><section class="engage" data-engage-thread="p">'
    # With a theme's own thread template, its markup is what shows it.
    assert render.has_thread(Article(), page, "<p>BODY</p>", own_templates=False)
    quoting = '<article><p><section data-engage-thread="x"></p></article>'
    body = '<p><section data-engage-thread="x"></p>'
    assert not render.has_thread(Article(), quoting, body, own_templates=False)
    # With the plugin's templates, only the template's own mark counts.
    assert not render.has_thread(Article(), page, "<p>BODY</p>")
    marked = Article()
    render.mark_rendered(marked)
    assert render.has_thread(marked, "<body></body>", "")


def test_inject_needs_a_place() -> None:
    assert render.inject("no tags at all", "T", "") is None


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"ENGAGE_AUTHOR": {"nmes": ["x"]}}, "ENGAGE_AUTHOR"),
        ({"ENGAGE_AUTHOR": {"names": [1]}}, "ENGAGE_AUTHOR['names']"),
        ({"ENGAGE_AUTHOR": 42}, "ENGAGE_AUTHOR"),
        ({"ENGAGE_INJECT": "yes"}, "ENGAGE_INJECT"),
        ({"ENGAGE_OFFLINE": 1}, "ENGAGE_OFFLINE"),
        ({"ENGAGE_DISPLAY_DEPTH": 0}, "ENGAGE_DISPLAY_DEPTH"),
        ({"ENGAGE_ARCHIVE_PATH": ""}, "ENGAGE_ARCHIVE_PATH"),
        ({"ENGAGE_COMMENTS_PATH": 3}, "ENGAGE_COMMENTS_PATH"),
    ],
)
def test_bad_settings_name_their_key(settings: dict, key: str) -> None:
    with pytest.raises(SettingsError) as exc:
        load(settings)
    assert exc.value.key == key
    assert str(exc.value).startswith(key)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENGAGE_OFFLINE", raising=False)
    settings = load({"AUTHOR": "Marin", "PATH": "content", "CACHE_PATH": "c"})
    assert settings.author.names == ("Marin",)
    assert settings.inject and settings.css and not settings.offline
    assert str(settings.comments_path) == "content/comments"
    assert str(settings.cache_path) == "c/engage"
    assert load({"PELICAN_COMMENT_SYSTEM_DIR": "pcs"}).comments_dir == "pcs"
    monkeypatch.setenv("ENGAGE_OFFLINE", "1")
    assert load({}).offline


def test_author_identity_matches_across_forms() -> None:
    author = author_identity(
        {
            "names": "Marin",
            "urls": ["https://www.marin.example/"],
            "bluesky": ["@marin.bsky.social"],
        }
    )
    assert author.is_author(Person(name="MARIN"), "local")
    assert author.is_author(Person(name="x", url="http://marin.example"), "webmention")
    assert author.is_author(Person(name="x", handle="marin.bsky.social"), "bluesky")
    assert not author.is_author(Person(name="x", handle="marin.bsky.social"), "twitter")
    assert not author.is_author(Person(name="Marina"), "local")
