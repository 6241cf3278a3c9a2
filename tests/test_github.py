"""GitHub Discussions: named by ``github_discussion:`` metadata or mapped as
giscus maps pages; comments and replies through GitHub's GraphQL API.

Parser fixtures are GraphQL answers under tests/data/github/ (the pages of
discussion 7, the replies past a comment's first page, a search); fetching
is tested against a loopback GraphQL endpoint that answers them by query.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.conversation import build_thread
from pelican_engage.fetch import Fetcher, Job
from pelican_engage.http import Client, HttpSettings
from pelican_engage.identity import AuthorIdentity
from pelican_engage.model import Post
from pelican_engage.sources.github import GitHubSource, load_settings
from pelican_engage.sources.github_parse import (
    DiscussionRef,
    as_comments,
    page_term,
    parse_comments,
    parse_discussion_url,
    parse_head,
    pick_discussion,
)
from tests.conftest import Site
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "github"
FAST = HttpSettings(connect_timeout=2, read_timeout=1, backoff=0.01, max_wait=1, retries=1)
NOW = datetime(2026, 1, 4, tzinfo=timezone.utc)
TOKEN = "ghp_canary_token_1f2e"
REPO = "marin/blog-comments"
P = f"github:{REPO}/"
DISCUSSION = f"https://github.com/{REPO}/discussions/7"
PAGE_2 = "Y3Vyc29yOnYyOpK0Mw=="


def load(name: str) -> Any:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


# -- URLs and terms ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        DISCUSSION,
        f"{DISCUSSION}/",
        f"{DISCUSSION}#discussioncomment-12345",
        "https://www.github.com/marin/blog-comments/discussions/7",
    ],
)
def test_discussion_urls(value: str) -> None:
    assert parse_discussion_url(value) == DiscussionRef(REPO, 7)


@pytest.mark.parametrize(
    "value",
    [
        "https://github.com/marin/blog-comments/issues/7",
        "http://github.com/marin/blog-comments/discussions/7",
        "https://gitlab.com/marin/blog-comments/discussions/7",
        "marin/blog-comments#7",
    ],
)
def test_a_value_that_is_no_discussion_names_the_expected_form(value: str) -> None:
    with pytest.raises(ValueError, match=r"expected https://github\.com/owner/name/discussions/42"):
        parse_discussion_url(value)


@pytest.mark.parametrize(
    ("mapping", "url", "term"),
    [
        # giscus: location.pathname without its first "/" and a final .extension.
        ("pathname", "https://blog.example/posts/moving-house/", "posts/moving-house/"),
        ("pathname", "https://blog.example/moving-house.html", "moving-house"),
        ("pathname", "https://blog.example/", "index"),
        (
            "url",
            "https://blog.example/moving-house.html#comments",
            "https://blog.example/moving-house.html",
        ),
        ("title", "https://blog.example/moving-house.html", "Moving house"),
        ("og:title", "https://blog.example/moving-house.html", "Moving house"),
    ],
)
def test_pages_map_to_terms_as_giscus_maps_them(mapping: str, url: str, term: str) -> None:
    assert page_term(mapping, url, " Moving house ") == term


def test_the_search_picks_the_discussion_titled_with_the_term_in_the_repository() -> None:
    # Not #3 (a longer title), not #9 (another repository): #7, served with a slash.
    assert pick_discussion(load("search-moving-house"), REPO, "posts/moving-house") == 7
    assert pick_discussion(load("search-moving-house"), REPO, "posts/other") is None
    with pytest.raises(ValueError, match=r"data\.search\.nodes"):
        pick_discussion({"data": None}, REPO, "x")


# -- Parsing ----------------------------------------------------------------------------------


def test_comments_and_replies_thread_and_removed_ones_stay_out() -> None:
    expected = load("discussion-7.expected")
    first, second = (
        load(f"discussion-7-page-{n}")["data"]["repository"]["discussion"] for n in (1, 2)
    )
    head = parse_head(first, REPO)
    pages = [
        parse_comments(first["comments"], REPO, head),
        parse_comments(second["comments"], REPO, head),
        parse_comments(
            load("replies-DC_kwDOC1")["data"]["node"]["replies"], REPO, head, P + "DC_kwDOC1"
        ),
    ]
    items = [head, *(i for p in pages for i in p.items)]
    assert {i.id: i.in_reply_to for i in items} == expected["items"]
    assert sorted(r for p in pages for r in p.removed) == expected["removed"]
    assert [s.id for p in pages for s in p.skipped] == expected["skipped"]
    # C1's replies go on past its first page: that is asked for next.
    assert pages[0].more_replies == ((P + "DC_kwDOC1", "DC_kwDOC1", "Y3Vyc29yOnYyOpK0", True),)
    by_id = {i.id: i for i in items}
    assert "<script" not in by_id[P + "DC_kwDOC4"].content_html
    assert head.kind == "mention" and head.author.handle == "giscus"
    assert head.content_html.startswith("<p>posts/moving-house</p>")
    assert by_id[P + "DC_kwDOR1"].author.url == "https://github.com/marin"


def test_in_the_authors_own_repository_a_top_level_comment_waits() -> None:
    """giscus opened the discussion for the post in the author's comment
    repository: its comments answer the author, as on a comment form."""
    discussion = load("discussion-7-page-1")["data"]["repository"]["discussion"]
    author = AuthorIdentity(names=("Marin",), handles={"github": frozenset({"marin"})})
    post = Post("moving-house", "Moving house", "https://blog.example/posts/moving-house/")
    head = parse_head(discussion, REPO)
    comments = parse_comments({"nodes": [discussion["comments"]["nodes"][0]]}, REPO, head)
    only_c1 = [head, *(i for i in comments.items if i.id == P + "DC_kwDOC1")]
    assert set(build_thread(post, only_c1, author)[0].waiting) == set()
    own = as_comments(head, only_c1)
    assert [(i.id, i.in_reply_to) for i in own] == [(P + "DC_kwDOC1", None)]
    assert set(build_thread(post, own, author)[0].waiting) == {P + "DC_kwDOC1"}


# -- A loopback GraphQL endpoint -----------------------------------------------------------


class FakeGitHub:
    """``POST /graphql``: the discussion's pages by ``after``, a comment's
    further replies, the search, and ``nodes(ids:)`` (null for ``deleted``)."""

    def __init__(self, server: Server) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.auth: list[str] = []
        self.pages = {None: load("discussion-7-page-1"), PAGE_2: load("discussion-7-page-2")}
        self.replies = load("replies-DC_kwDOC1")
        self.search = load("search-moving-house")
        self.deleted: set[str] = set()
        server.routes["/graphql"] = self.graphql

    def graphql(self, handler: BaseHTTPRequestHandler, _n: int) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length))
        query, variables = body["query"], body["variables"]
        self.auth.append(handler.headers.get("Authorization", ""))
        kind = next(k for k in ("search(", "repository(", "nodes(ids", "node(id") if k in query)
        self.asked.append((kind, variables))
        if kind == "search(":
            answer = self.search
        elif kind == "repository(":
            answer = self.pages[variables["after"]]
        elif kind == "node(id":
            answer = self.replies
        else:
            nodes, errors = [], []
            for n, node_id in enumerate(variables["ids"]):
                gone = node_id in self.deleted
                nodes.append(
                    None if gone else {"id": node_id, "deletedAt": None, "isMinimized": False}
                )
                if gone:
                    errors.append({"type": "NOT_FOUND", "path": ["nodes", n], "message": "gone"})
            answer = {"data": {"nodes": nodes}, **({"errors": errors} if errors else {})}
        send(handler, 200, json.dumps(answer).encode(), Content_Type="application/json")

    def kinds(self) -> list[str]:
        return [k for k, _ in self.asked]


def rig(tmp_path: Path, server: Server, cap: int = 30, own: str = "") -> Fetcher:
    source = GitHubSource(
        Client(FAST, secrets=[TOKEN], clock=lambda: NOW),
        TOKEN,
        api_url=server.url,
        own_repo=own,
        max_requests=cap,
    )
    return Fetcher(
        Archive(tmp_path / "archive"), {"github": source}, clock=lambda: NOW, concurrency=1
    )


def job(target: str = DISCUSSION, key: str = "post") -> Job:
    return Job(key, "github", target, "127.0.0.1", NOW - timedelta(days=1))


def archived(tmp_path: Path) -> dict[str, Any]:
    return Archive(tmp_path / "archive").load("post").items


def test_fetch_pages_comments_and_replies(server: Server, tmp_path: Path) -> None:
    fake = FakeGitHub(server)
    summary = rig(tmp_path, server).run([job()])
    assert not summary.errors, summary.messages
    assert fake.kinds() == ["repository(", "repository(", "node(id"]
    assert fake.asked[0][1] == {
        "owner": "marin",
        "name": "blog-comments",
        "number": 7,
        "after": None,
    }
    assert fake.asked[2][1] == {"id": "DC_kwDOC1", "after": "Y3Vyc29yOnYyOpK0"}
    assert set(fake.auth) == {f"bearer {TOKEN}"}
    assert set(archived(tmp_path)) == set(load("discussion-7.expected")["items"])
    assert TOKEN not in Archive(tmp_path / "archive").post_path("post").read_text()
    assert any("1 comment skipped (no createdAt)" in line for line in summary.entry_lines)


def test_a_mapped_page_is_searched_once_then_asked_by_number(
    server: Server, tmp_path: Path
) -> None:
    fake = FakeGitHub(server)
    fetcher = rig(tmp_path, server)
    mapped = job(f"{REPO} posts/moving-house/")
    fetcher.run([mapped])
    assert fake.kinds()[0] == "search(" and fake.asked[0][1] == {
        "query": f'repo:{REPO} in:title "posts/moving-house/"'
    }
    assert len(archived(tmp_path)) == 7
    fake.asked.clear()
    fetcher.run(fetcher.due([mapped], force=True))
    assert "search(" not in fake.kinds()


def test_the_authors_own_repository_gives_comments_not_a_submission(
    server: Server, tmp_path: Path
) -> None:
    FakeGitHub(server)
    rig(tmp_path, server, own=REPO).run([job(f"{REPO} posts/moving-house/")])
    items = archived(tmp_path)
    assert P + "D_kwDOD7" not in items and len(items) == 6
    assert items[P + "DC_kwDOC1"].in_reply_to is None
    assert items[P + "DC_kwDOR4"].in_reply_to is None  # its minimized parent is left out
    assert items[P + "DC_kwDOR1"].in_reply_to == P + "DC_kwDOC1"


def test_a_search_that_finds_nothing_waits_for_the_interval(server: Server, tmp_path: Path) -> None:
    fake = FakeGitHub(server)
    fake.search = {"data": {"search": {"nodes": []}}}
    fetcher = rig(tmp_path, server)
    mapped = job(f"{REPO} posts/moving-house/")
    summary = fetcher.run([mapped])
    assert not summary.errors and fake.kinds() == ["search("]
    assert fetcher.due([mapped]) == []  # remembered: not asked again before the interval
    fetcher.run(fetcher.due([mapped], force=True))
    assert fake.kinds() == ["search(", "search("]


def test_a_deleted_comment_becomes_a_tombstone(server: Server, tmp_path: Path) -> None:
    fake = FakeGitHub(server)
    fetcher = rig(tmp_path, server)
    fetcher.run([job()])
    fake.replies = {
        "data": {"node": {"replies": {"pageInfo": {"hasNextPage": False}, "nodes": []}}}
    }
    fake.deleted = {"DC_kwDOR3"}
    summary = fetcher.run(fetcher.due([job()], force=True))
    assert [s.id for s in summary.deleted] == [P + "DC_kwDOR3"]


def test_a_comment_minimized_later_is_withdrawn(server: Server, tmp_path: Path) -> None:
    fake = FakeGitHub(server)
    fetcher = rig(tmp_path, server)
    fetcher.run([job()])
    fake.pages[PAGE_2]["data"]["repository"]["discussion"]["comments"]["nodes"][0][
        "isMinimized"
    ] = True
    summary = fetcher.run(fetcher.due([job()], force=True))
    assert [s.id for s in summary.deleted] == [P + "DC_kwDOC4"]


def test_the_cap_keeps_what_came(server: Server, tmp_path: Path) -> None:
    FakeGitHub(server)
    summary = rig(tmp_path, server, cap=1).run([job()])
    assert "ENGAGE_GITHUB['max_requests'] (1) reached" in summary.messages["github"]
    assert P + "DC_kwDOC1" in archived(tmp_path) and P + "DC_kwDOC4" not in archived(tmp_path)


def test_a_refused_token_is_one_warning_naming_the_variable(
    server: Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.routes["/graphql"] = lambda h, n: send(h, 401, b'{"message": "Bad credentials"}')
    caplog.set_level("INFO")
    summary = rig(tmp_path, server).run([job(), job(key="other")])
    assert server.hits["/graphql"] == 1 and summary.skipped == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "$ENGAGE_GITHUB_TOKEN" in warnings[0] and TOKEN not in warnings[0]


@pytest.mark.parametrize(
    "answer",
    [
        lambda h, n: send(h, 403, b'{"message": "API rate limit exceeded for user ID 1."}'),
        lambda h, n: send(h, 200, (DATA / "rate-limited.json").read_bytes()),
        lambda h, n: send(h, 429, b"", Retry_After="3600"),
    ],
    ids=["403-rate-limit", "graphql-rate-limited", "429"],
)
def test_a_rate_limit_defers_github_for_the_build(
    server: Server, tmp_path: Path, answer: Any
) -> None:
    server.routes["/graphql"] = answer
    summary = rig(tmp_path, server).run([job(), job(key="other")])
    assert "rate limited" in summary.messages["github"] and summary.skipped == 1


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda h, n: send(h, 502), "server error 502"),
        (lambda h, n: send(h, 200, b'{"data": {"repository": {"discuss'), "malformed JSON"),
        (
            lambda h, n: send(h, 200, (DATA / "not-found.json").read_bytes()),
            "check the 'github_discussion:'",
        ),
    ],
    ids=["5xx", "truncated", "not-found"],
)
def test_failures_keep_the_archive(server: Server, tmp_path: Path, answer: Any, says: str) -> None:
    FakeGitHub(server)
    fetcher = rig(tmp_path, server)
    fetcher.run([job()])
    path = Archive(tmp_path / "archive").post_path("post")
    before = path.read_bytes()
    server.routes["/graphql"] = answer
    summary = fetcher.run(fetcher.due([job()], force=True))
    assert summary.errors["github"] == 1 and says in summary.messages["github"]
    assert path.read_bytes() == before


def test_the_token_never_follows_a_redirect(server: Server, tmp_path: Path) -> None:
    other = Server()
    try:
        other.routes["/graphql"] = lambda h, n: send(h, 200, b"{}")
        server.routes["/graphql"] = lambda h, n: send(h, 307, b"", Location=f"{other.url}/graphql")
        summary = rig(tmp_path, server).run([job()])
        assert "refused: not for a POST" in summary.messages["github"] and other.hits == {}
    finally:
        other.close()


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ({"repo": "not a repo"}, "ENGAGE_GITHUB['repo']: 'not a repo' is not a GitHub repository"),
        ({"mapping": "specific"}, "ENGAGE_GITHUB['mapping']: expected one of pathname, url"),
        ({"token_env": "ghp_abc-1"}, "the token itself never goes in settings"),
        ({"repos": REPO}, "unknown key(s) 'repos'"),
    ],
)
def test_bad_settings_are_named(setting: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=r".*") as caught:
        load_settings({"ENGAGE_GITHUB": setting})
    assert says in str(caught.value)


# -- A site: the branch on the page, and who waits -------------------------------------------


def test_the_page_shows_the_discussion_and_the_report_who_waits(
    site: Site,
    server: Server,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FakeGitHub(server)
    monkeypatch.setenv("ENGAGE_GITHUB_TOKEN", TOKEN)
    site.article("moving-house", github_discussion=DISCUSSION)
    author = {"names": ["Marin"], "github": ["marin"]}
    github = {"api_url": server.url}
    site.build(ENGAGE_AUTHOR=author, ENGAGE_GITHUB=github)
    page = site.html("moving-house.html")
    head = page.select_one(f'li[data-engage-id="{P}D_kwDOD7"]')
    assert head is not None and "Discussed on" in head.get_text(" ")
    c1 = head.select_one(f'li[data-engage-id="{P}DC_kwDOC1"]')
    assert c1.select_one(f'li[data-engage-id="{P}DC_kwDOR1"]') is not None
    assert "cheap boxes" not in page.get_text()

    conf = site.write_conf(ENGAGE_AUTHOR=author, ENGAGE_GITHUB=github, ENGAGE_OFFLINE=True)
    capsys.readouterr()
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    waiting = {row["id"] for row in json.loads(capsys.readouterr().out)["waiting"]}
    # Not the author's repository: top-level comments (C1, C4, R4 under a
    # minimized one) answer the discussion; R2 names @marin.
    assert waiting == {P + "DC_kwDOR2"}


def test_a_mapped_discussion_gone_is_searched_for_again(server: Server, tmp_path: Path) -> None:
    fake = FakeGitHub(server)
    fetcher = rig(tmp_path, server)
    mapped = job(f"{REPO} posts/moving-house/")
    fetcher.run([mapped])
    fake.pages[None] = {"data": None, **load("not-found")}
    summary = fetcher.run(fetcher.due([mapped], force=True))
    assert not summary.errors
    record = Archive(tmp_path / "archive").load("post")
    assert record.cursors[mapped.cursor_key]["number"] == 0 and len(record.items) == 7
    fake.asked.clear()
    fetcher.run(fetcher.due([mapped], force=True))
    assert fake.kinds()[0] == "search("
