"""Who is waiting: questions, ages, filters, acknowledgements, answers by mention."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.conversation import build_thread
from pelican_engage.model import Item, Person, Post, Thread
from pelican_engage.report import Filters, age, as_markdown, as_text, is_question, waiting_rows
from pelican_engage.settings import author_identity
from tests.conftest import Site

GOLDEN = Path(__file__).parent / "data" / "report"
NOW = datetime(2026, 11, 26, 10, tzinfo=timezone.utc)
AUTHOR = author_identity({"names": ["Marin"], "mastodon": ["marin@social.example"]})


def item(n: str, who: str, text: str, days: float, parent: str | None = None, **kw: str) -> Item:
    source = kw.pop("source", "local")
    return Item(
        id=f"{source}:{n}",
        source=source,
        kind="reply" if source != "local" else "comment",
        author=Person(who, handle=kw.pop("handle", ""), url=kw.pop("url", "")),
        published=NOW - timedelta(days=days),
        content_html=f"<p>{text}</p>",
        url=kw.pop("link", ""),
        in_reply_to=parent,
        extras=dict(kw),
    )


def thread(key: str, title: str, items: list[Item], **options: object) -> Thread:
    post = Post(key, title, f"https://blog.example/{key}/")
    return build_thread(post, items, AUTHOR, **options)[0]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        ("Does it work offline?", ("en",), True),
        ("How long did the move take. Just curious", ("en",), True),
        ("Great post, thanks!", ("en",), False),
        ("Pourquoi pas Hugo. Je me demande", ("fr",), True),
        ("Pourquoi pas Hugo. Je me demande", ("en",), False),
        ("¿Funciona sin conexión", ("es",), True),
        ("Merci pour ce billet", ("fr",), False),
    ],
)
def test_questions_are_recognised(text: str, languages: tuple[str, ...], expected: bool) -> None:
    assert is_question(text, languages) is expected


def _is_question_by_definition(text: str, languages: tuple[str, ...]) -> bool:
    """is_question as first written (patterns and word sets made per call)."""
    import re

    from pelican_engage.report import _SENTENCES, QUESTION_WORDS

    if any(mark in text for mark in "?\uff1f\u00bf\u061f"):
        return True
    words: set[str] = set()
    for lang in languages:
        words.update(QUESTION_WORDS.get(lang.split("_")[0].split("-")[0].casefold(), "").split())
    text = re.sub(r"^(?:\s*@[\w.\-]+(?:@[\w.\-]+)?)+", "", text).lstrip()
    text = re.sub(
        r"\b(what|quel|quelle|was für|qué|che|que)\s+(an?|un|une|ein|eine)\b",
        "",
        text,
        flags=re.IGNORECASE,
    )
    return any(m[1].casefold() in words for m in _SENTENCES.finditer(text))


@given(
    st.lists(
        st.sampled_from(
            ["@ann", "@bo@social.example", " ", "\n", "how", "What a", "Que", "great", ".", "!",
             "?", "\u00bf", "pourquoi", "post", "\t", "x"]
        )
    ).map(" ".join)
    | st.text(),
    st.sampled_from([("en",), ("fr", "de"), ("pt_BR",), ("es-ES", "it")]),
)  # fmt: skip
def test_questions_as_first_defined(text: str, languages: tuple[str, ...]) -> None:
    assert is_question(text, languages) is _is_question_by_definition(text, languages)


@pytest.mark.parametrize(
    ("days", "text"),
    [(0.0001, "1 minute"), (0.5, "12 hours"), (1, "24 hours"), (3, "3 days"), (90, "3 months"),
     (800, "2 years")],
)  # fmt: skip
def test_ages_read_like_people_say_them(days: float, text: str) -> None:
    assert age(days) == text


def sample() -> list[Thread]:
    return [
        thread(
            "moving",
            "Moving | to Pelican",
            [
                item("m1", "Ann *Reader*", "Lovely post.", 12),
                item("m2", "Bo", "How long does a build take?", 3, link="https://b.example/m2"),
                item("m3", "Cy", "@marin see this", 1, source="mastodon",
                     reply_url="https://social.example/@cy/3"),
            ],
        ),
        thread("bread", "Bread", [item("b1", "Dee", "Which flour do you use?", 30)]),
    ]  # fmt: skip


def test_golden_text_report() -> None:
    threads = sample()
    rows = waiting_rows(threads, NOW)
    # Questions first, then the oldest; grouped by the post with the oldest wait.
    assert [r.item.id for r in rows] == ["local:b1", "local:m2", "local:m1", "mastodon:m3"]
    expected = (GOLDEN / "waiting.txt").read_text(encoding="utf-8")
    assert as_text(rows, sum(len(t.items) for t in threads)) == expected


def test_golden_markdown_report() -> None:
    threads = sample()
    rows = waiting_rows(threads, NOW)
    expected = (GOLDEN / "waiting.md").read_text(encoding="utf-8")
    assert as_markdown(rows, sum(len(t.items) for t in threads)) == expected


def test_filters() -> None:
    threads = sample()

    def ids(filters: Filters) -> list[str]:
        return sorted(r.item.id for r in waiting_rows(threads, NOW, filters))

    assert ids(Filters(post="bread")) == ["local:b1"]
    assert ids(Filters(source="mastodon")) == ["mastodon:m3"]
    assert ids(Filters(older_than=timedelta(days=10))) == ["local:b1", "local:m1"]
    assert ids(Filters(since=NOW - timedelta(days=5))) == ["local:m2", "mastodon:m3"]


# -- Answers by mention ------------------------------------------------------------


def test_an_author_item_naming_someone_answers_their_latest_item() -> None:
    items = [
        item("a1", "Antonia", "First thought", 5),
        item("a2", "Antonia", "And another thought", 4),
        item("b1", "Bruno", "Me too", 4, handle="bruno@social.example", source="mastodon"),
        item("c1", "Chen", "Hello?", 4),
        item("r", "Marin", "Antonia, thanks! And @bruno, agreed.", 2),
        item("late", "Antonia", "One more after your answer", 1),
    ]
    result = thread("p", "P", items)
    assert result.mention_answers == {"local:a2": "local:r", "mastodon:b1": "local:r"}
    # Her earlier item was not the one answered; her later one is new.
    assert result.waiting == {"local:a1", "local:c1", "local:late"}
    off = thread("p", "P", items, by_mention=False)
    assert off.mention_answers == {} and "local:a2" in off.waiting


# -- Acknowledgements ------------------------------------------------------------------


@pytest.fixture
def conf(site: Site, monkeypatch: pytest.MonkeyPatch) -> Path:
    site.article("first-post", title="First post")
    site.comment("first-post", "c1.md", "Is this still true?", author="Ann", date="2026-01-02")
    site.comment("first-post", "c2.md", "Nice.", author="Bo", date="2026-01-03")
    monkeypatch.chdir(site.root)
    return site.write_conf(ENGAGE_OFFLINE=True)


def report_ids(capsys: pytest.CaptureFixture[str], conf: Path, *extra: str) -> list[str]:
    assert main(["report", "-s", str(conf), "--format", "json", *extra]) == 0
    return [row["id"] for row in json.loads(capsys.readouterr().out)["waiting"]]


def test_snooze_hides_until_the_date_and_unack_brings_it_back(
    conf: Path, site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report_ids(capsys, conf) == ["comment:first-post/c1", "comment:first-post/c2"]
    assert main(["snooze", "comment:first-post/c1", "--until", "3d", "-s", str(conf)]) == 0
    assert "snoozed until" in capsys.readouterr().out
    assert report_ids(capsys, conf) == ["comment:first-post/c2"]
    archive = Archive(site.root / "archive")
    # Once the date has passed it waits again, without any command.
    later = datetime.now(timezone.utc) + timedelta(days=4)
    assert "comment:first-post/c1" not in archive.acknowledged(later)
    assert main(["unack", "comment:first-post/c1", "-s", str(conf)]) == 0
    assert capsys.readouterr().out == "comment:first-post/c1 waits again.\n"
    assert report_ids(capsys, conf) == ["comment:first-post/c1", "comment:first-post/c2"]
    assert main(["snooze", "comment:first-post/c1", "--until", "2001-01-01", "-s", str(conf)]) == 2


def test_acknowledgements_survive_a_fresh_clone(
    conf: Path, site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ack", "comment:first-post/c2", "--note", "no reply needed", "-s", str(conf)]) == 0
    capsys.readouterr()
    # A fresh clone: the same content and the committed archive, no cache.
    clone = Site(tmp_path / "clone")
    shutil.copytree(site.content, clone.content, dirs_exist_ok=True)
    shutil.copytree(site.root / "archive", clone.root / "archive")
    clone_conf = clone.write_conf(ENGAGE_OFFLINE=True)
    assert report_ids(capsys, clone_conf) == ["comment:first-post/c1"]
    acks = json.loads((clone.root / "archive" / "acknowledged.json").read_text())
    assert acks["items"]["comment:first-post/c2"]["note"] == "no reply needed"


def test_a_new_message_in_the_branch_reopens_it(
    conf: Path, site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ack", "comment:first-post/c1", "-s", str(conf)]) == 0
    capsys.readouterr()
    assert "comment:first-post/c1" not in report_ids(capsys, conf)
    site.comment(
        "first-post", "c3.md", "Any news on this?", author="Ann", date="2026-01-05", replyto="c1"
    )
    assert "comment:first-post/c3" in report_ids(capsys, conf)


def test_report_options_and_bad_values(conf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report_ids(capsys, conf, "--older-than", "1w") == [
        "comment:first-post/c1",
        "comment:first-post/c2",
    ]
    assert report_ids(capsys, conf, "--since", "2026-01-03") == ["comment:first-post/c2"]
    # A post key that is not the site's is a typo, not an empty report.
    assert main(["report", "-s", str(conf), "--post", "nothing"]) == 2
    assert "--post 'nothing': no such post" in capsys.readouterr().err
    assert main(["report", "-s", str(conf), "--older-than", "soon"]) == 2
    assert "not a duration" in capsys.readouterr().err


def test_the_build_writes_the_authors_page_and_feed(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    import feedparser
    from bs4 import BeautifulSoup

    site.article("first-post", title="First post")
    site.comment(
        "first-post", "c1.md", "Is this <b>still</b> true?", author="Ann O'Neil", date="2026-01-02"
    )
    caplog.set_level(logging.INFO)
    site.build()
    page = site.root / "engage-report" / "index.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert soup.find("meta", attrs={"name": "robots"})["content"].startswith("noindex")
    row = soup.select_one("tr.q")  # a question, flagged
    assert "Ann O'Neil" in row.get_text() and "Is this still true?" in row.get_text()
    assert not row.find("b")  # excerpts are text
    assert soup.find("svg") is not None
    feed = feedparser.parse((page.parent / "waiting.atom").read_bytes())
    assert not feed.bozo and [e.title for e in feed.entries] == [
        "Question: Ann O'Neil on First post"
    ]
    assert not (site.output / "engage-report").exists()  # outside the site by default
    (summary,) = [r.getMessage() for r in caplog.records if r.name == "pelican_engage.plugin"]
    assert summary.startswith("engage: 1 item on 1 post, 1 waiting (oldest ")


def test_a_page_inside_the_output_is_never_linked(site: Site) -> None:
    site.article("first-post", title="First post")
    site.comment("first-post", "c1.md", "Hello?", author="Ann", date="2026-01-02")
    site.build(ENGAGE_REPORT_PAGE=str(site.output / "private-x7" / "index.html"))
    assert (site.output / "private-x7" / "index.html").exists()
    for html in site.output.rglob("*.html"):
        if "private-x7" not in html.parts:
            assert "private-x7" not in html.read_text(encoding="utf-8")


def test_report_fetch_refreshes_the_archive_first(
    site: Site, server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_fetch import ROOT, serve_mastodon

    serve_mastodon(server)
    site.article("first-post", mastodon=f"{server.url}/@marin/{ROOT}")
    monkeypatch.chdir(site.root)
    conf = site.write_conf(ENGAGE_OFFLINE=False)
    assert report_ids(capsys, conf) == []  # nothing archived, and no network
    assert main(["report", "-s", str(conf), "--format", "json", "--fetch"]) == 0
    out, err = capsys.readouterr()
    assert "fetched: 5 new item(s)" in err
    assert json.loads(out)["totals"]["items"] == 5


def test_a_reply_in_one_branch_does_not_clear_the_same_persons_other_question() -> None:
    ann = {"handle": "ann@m.example", "source": "mastodon"}
    items = [
        item("q1", "Ann", "How do I import Disqus?", 5, **ann),
        item("q2", "Ann", "Does it support Bluesky?", 4, **ann),
        item("r", "Marin", "@ann@m.example yes, since 2.0", 2, "mastodon:q2",
             handle="marin@social.example", source="mastodon"),
    ]  # fmt: skip
    result = thread("p", "P", items)
    assert result.waiting == {"mastodon:q1"} and result.mention_answers == {}


def test_a_shared_first_name_answers_nobody_but_a_full_name_does() -> None:
    items = [
        item("a", "Alex Martin", "First", 5),
        item("b", "Alex Dupont", "Second", 5),
        item("r", "Marin", "Alex, thanks!", 2),
        item("r2", "Marin", "Alex Dupont: and you too.", 1),
    ]
    result = thread("p", "P", items)
    assert result.mention_answers == {"local:b": "local:r2"}
    assert result.waiting == {"local:a"}


def test_reopening_follows_the_person_not_their_avatar() -> None:
    ann = Person("Ann", handle="ann@m.example", avatar="https://m.example/a1.png")
    first = Item("mastodon:a", "mastodon", "reply", ann, NOW - timedelta(days=3))
    again = Item(
        "mastodon:b", "mastodon", "reply", Person("Ann", handle="ann@m.example",
        avatar="https://m.example/a2.png"), NOW - timedelta(days=1), in_reply_to="mastodon:a",
    )  # fmt: skip
    other = Item("mastodon:c", "mastodon", "reply", Person("Bo", handle="bo@m.example"),
                 NOW, in_reply_to="mastodon:a")  # fmt: skip
    result = build_thread(Post("p"), [first, again, other], AUTHOR,
                          acknowledged=frozenset({"mastodon:a"}))[0]  # fmt: skip
    # Ann writing again reopens; Bo answering Ann is readers talking.
    assert result.waiting == {"mastodon:b"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@marin how did you do it", True),
        ("Great post. Have a nice weekend", False),
        ("Will do, thanks!", False),
        ("What a great post!", False),
        ("Was great reading this", False),
    ],
)
def test_question_words_after_the_handles_and_not_in_exclamations(
    text: str, expected: bool
) -> None:
    assert is_question(text, ("en",)) is expected


def test_a_warm_build_keeps_a_fresh_page_and_a_change_rewrites_it(site: Site) -> None:
    site.article("first-post", title="First post")
    site.comment("first-post", "c1.md", "Hello?", author="Ann", date="2026-01-02")
    site.build()
    page = site.root / "engage-report" / "index.html"
    first = page.stat().st_mtime_ns
    site.build()  # every thread from the cache, the page a second old
    assert page.stat().st_mtime_ns == first
    site.comment("first-post", "c2.md", "Me too?", author="Bo", date="2026-01-03")
    site.build()
    assert page.stat().st_mtime_ns != first and "Me too?" in page.read_text(encoding="utf-8")


def test_the_authors_page_counts_the_published_posts_items_without_reading_them_again(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Of N item(s)" counts every item of the published posts (a draft's
    are not), from the summaries: a cold build of 2,000 posts read every
    thread once more only to count them."""
    from pelican_engage import engine

    site.article("first-post", title="First post")
    site.article("second-post", title="Second post")
    site.article("draft-post", title="A draft", status="draft")
    for slug, count in (("first-post", 3), ("second-post", 2), ("draft-post", 4)):
        for n in range(count):
            site.comment(slug, f"c{n}.md", f"Comment {n}?", author=f"Reader {n}", date="2026-01-02")
    walks = []
    walk = engine.LazyThreads.__iter__

    def counted_walk(self: engine.LazyThreads) -> Iterator[Thread]:
        walks.append(len(self))
        return walk(self)

    monkeypatch.setattr(engine.LazyThreads, "__iter__", counted_walk)
    site.build()
    page = (site.root / "engage-report" / "index.html").read_text(encoding="utf-8")
    assert "Of 5 item(s), as of" in page
    # One walk gives the waiting rows and the people (each thread read once).
    assert walks == [2]


_URL_PART = st.text(
    alphabet=st.sampled_from("aZ09.:@%/?#;=&-_~![]\u00e9 \t\x01\x7f+,'()$*"), max_size=12
)


@given(
    scheme=st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "//", ""]),
    host=_URL_PART,
    rest=_URL_PART,
    base=st.sampled_from(["https://blog.example/", "http://blog.example/x/", ""]),
)
def test_the_feeds_absolute_links_are_urljoins(
    scheme: str, host: str, rest: str, base: str
) -> None:
    """The author's feed skips urljoin for plain absolute links: the same
    result, or the same error, for any link."""
    from urllib.parse import urljoin

    from pelican_engage.author_page import absolute

    url = scheme + host + rest
    try:
        expected = urljoin(base, url)
    except ValueError:
        with pytest.raises(ValueError):
            absolute(base, url)
        return
    assert absolute(base, url) == expected
