"""Who waits on a discussion site (Hacker News, Reddit...): a top-level comment
answers the submission, not the author (docs/design.md, "Waiting for a reply").

The sources of issue 18 put each submission in the thread as an item of kind
``mention`` with its comments under it; these cases pin what that shape means
for the waiting rule, independently of any one site.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pelican_engage.conversation import build_thread
from pelican_engage.identity import AuthorIdentity
from pelican_engage.model import Item, Person, Post

NOW = datetime(2026, 11, 26, 10, tzinfo=timezone.utc)
AUTHOR = AuthorIdentity(names=("Marin Quell",), handles={"news": frozenset({"mquell"})})
POST = Post("moving-house", "Moving house", "https://blog.example/moving-house/")


def entry(n: str, who: str, text: str, parent: str | None = None, kind: str = "comment") -> Item:
    return Item(
        id=f"news:{n}",
        source="news",
        kind=kind,
        author=Person(who, handle=who),
        published=NOW - timedelta(hours=10 - int(n[-1])),
        content_html=f"<p>{text}</p>",
        url=f"https://news.example/item?id={n}",
        in_reply_to=parent,
    )


def waiting(items: list[Item]) -> set[str]:
    thread, problems = build_thread(POST, items, AUTHOR)
    assert problems == []
    return {i.removeprefix("news:") for i in thread.waiting}


@pytest.mark.parametrize(
    ("submitter", "comment", "waits"),
    [
        # A stranger shared the post; a reader discusses it with other readers.
        ("pgreen", "Interesting take on moving.", False),
        # ...unless the comment names the author.
        ("pgreen", "I wonder what Marin Quell thinks of boxes.", True),
        ("pgreen", "Ask @mquell, they wrote it.", True),
        # Reddit's form, u/name or /u/name, on the network the handle is for.
        ("pgreen", "Ask u/mquell, they wrote it.", True),
        ("pgreen", "Ask /u/mquell.", True),
        ("pgreen", "Ask u/mquellish or mu/mquell.", False),
        # The author shared it: a top-level comment answers them.
        ("mquell", "Interesting take on moving.", True),
    ],
)
def test_a_top_level_comment_waits_only_when_it_addresses_the_author(
    submitter: str, comment: str, waits: bool
) -> None:
    items = [
        entry("s1", submitter, "Moving house", kind="mention"),
        entry("c2", "reader", comment, parent="news:s1"),
    ]
    assert waiting(items) == ({"c2"} if waits else set())


def test_a_reply_to_the_authors_comment_waits_and_the_answered_one_does_not() -> None:
    items = [
        entry("s1", "pgreen", "Moving house", kind="mention"),
        entry("c2", "reader", "Boxes are overrated.", parent="news:s1"),
        entry("c3", "mquell", "Not the cardboard ones.", parent="news:c2"),
        entry("c4", "reader", "Which ones then?", parent="news:c3"),
        entry("c5", "other", "I agree with reader.", parent="news:c2"),
    ]
    # c2 has the author below it; c4 answers the author; c5 talks to a reader.
    assert waiting(items) == {"c4"}


def test_the_submission_itself_never_waits() -> None:
    items = [entry("s1", "pgreen", "Is Marin Quell right about boxes?", kind="mention")]
    assert waiting(items) == set()


# -- What the discussion sources share (sources/discussion.py) ---------------


def test_a_post_is_searched_by_both_slash_forms_and_its_old_urls() -> None:
    from pelican_engage.sources.discussion import article_urls
    from pelican_engage.sources.network import ArticleView

    view = ArticleView(
        key="moving-house",
        url="https://blog.example/moving-house/",
        published=NOW,
        metadata={"old_urls": "http://old.example/?p=12, javascript:alert(1)"},
    )
    assert article_urls(view) == [
        "https://blog.example/moving-house/",
        "https://blog.example/moving-house",
        "http://old.example/?p=12",
        "http://old.example/?p=12/",
    ]
    assert article_urls(ArticleView("k", "", NOW, {})) == []


def test_a_submission_title_is_text_and_its_link_must_be_http() -> None:
    from pelican_engage.sources.discussion import submission

    item = submission(
        "news",
        "42",
        title="Why <script>alert(1)</script> & co",
        url="https://news.example/item?id=42",
        author=Person("pgreen", handle="pgreen"),
        published=NOW,
    )
    assert item.id == "news:42" and item.kind == "mention"
    assert item.content_html == "<p>Why &lt;script&gt;alert(1)&lt;/script&gt; &amp; co</p>"
    with pytest.raises(ValueError, match="news submission 43"):
        submission(
            "news", "43", title="t", url="javascript:alert(1)", author=Person("x"), published=NOW
        )


def test_the_request_cap_counts_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from pelican_engage.sources.discussion import RequestCap, RequestCapReached

    cap = RequestCap("ENGAGE_NEWS", 50)

    def take(_: int) -> bool:
        try:
            cap.take()
        except RequestCapReached:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(take, range(200)))
    assert taken.count(True) == 50 and cap.spent == 50
    with pytest.raises(RequestCapReached, match=r"ENGAGE_NEWS\['max_requests'\] \(50\)"):
        cap.take()


def test_a_submission_reads_discussed_on_the_site_with_its_comments_under_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jinja2 import Environment

    from pelican_engage import render
    from pelican_engage.conversation import engagement

    env = Environment(extensions=["jinja2.ext.i18n"])
    render.add_templates(env)
    env.globals["engage_discussions"] = {"news": "News Site"}
    thread, _ = build_thread(
        POST,
        [
            entry("s1", "pgreen", "Moving <house>", kind="mention"),
            entry("c2", "reader", "Boxes!", parent="news:s1"),
        ],
        AUTHOR,
    )
    page = env.from_string(
        '{% from "engage/macros.html" import item with context %}'
        "{% for node in engage.roots %}{{ item(node) }}{% endfor %}"
    ).render(engage=engagement(thread), TIMEZONE="UTC", ENGAGE_DATE_FORMAT="medium")
    assert 'class="engage-item engage-mention h-entry' in page and "engage-discussion" in page
    assert (
        'Discussed on <a class="u-url engage-mention-link" '
        'href="https://news.example/item?id=s1" rel="nofollow ugc noopener">News Site</a>'
        ", shared by" in page
    )
    submission_li, comment = page.split('data-engage-id="news:c2"', 1)
    assert '<ol class="engage-replies">' in submission_li and "Boxes!" in comment
    # Without the site among the discussions, the same item is a plain mention.
    env.globals["engage_discussions"] = {}
    plain = env.from_string(
        '{% from "engage/macros.html" import item with context %}'
        "{% for node in engage.roots %}{{ item(node) }}{% endfor %}"
    ).render(engage=engagement(thread), TIMEZONE="UTC", ENGAGE_DATE_FORMAT="medium")
    assert "Discussed on" not in plain and "mentioned this on" in plain
