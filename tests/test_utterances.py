"""``pelican-engage import utterances``: the GitHub issues utterances kept a
blog's comments in, read from a loopback GitHub REST API (tests/data/utterances/
holds its answers) and placed on the posts their titles name."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.importers import utterances
from pelican_engage.importers.utterances import issue_export, term_post
from tests.conftest import Site
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "utterances"
REPO = "marin/blog-comments"
TOKEN = "ghp_canary_utterances_9c1d"


def load(name: str) -> Any:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("title", "url", "slug"),
    [
        ("moving-house", "https://blog.example/moving-house", "moving-house"),
        ("posts/moving-house/", "https://blog.example/posts/moving-house/", "moving-house"),
        ("https://blog.example/a.html", "https://blog.example/a.html", ""),
        ("A guide to boxes", "", "a-guide-to-boxes"),
    ],
)
def test_issue_titles_name_pages_as_utterances_mapped_them(title: str, url: str, slug: str) -> None:
    post = term_post(title, "https://blog.example")
    assert (post.url, post.slug, post.title) == (url, slug, title)


def test_comments_are_sanitised_and_a_broken_one_is_named() -> None:
    issue = load("issues")[0]
    post, problems = issue_export(issue, load("comments-1"), REPO, "https://blog.example")
    assert [i.id for i in post.items] == [
        f"github:{REPO}/IC_kwDOIs501",
        f"github:{REPO}/IC_kwDOIs502",
    ]
    first = post.items[0]
    assert first.kind == "comment" and first.in_reply_to is None
    assert "<script" not in first.content_html and "Nice post!" in first.content_html
    assert first.url == f"https://github.com/{REPO}/issues/1#issuecomment-501"
    assert first.author.handle == "ann" and first.author.url == "https://github.com/ann"
    assert problems == [f"{REPO}#1 comment 3: no created_at; left out"]


class FakeRest:
    """``/repos/<repo>/issues`` (paged by ``page``/``per_page``) and each
    issue's ``/comments``."""

    def __init__(self, server: Server) -> None:
        self.seen: list[tuple[str, dict[str, list[str]], str, str]] = []
        base = f"/repos/{REPO}/issues"
        server.routes[base] = self.answer(lambda: load("issues"))
        for n in (1, 2, 3, 4, 5, 6):
            server.routes[f"{base}/{n}/comments"] = self.answer(
                lambda n=n: load(f"comments-{n}") if (DATA / f"comments-{n}.json").exists() else []
            )

    def answer(self, everything: Any) -> Any:
        def route(handler: BaseHTTPRequestHandler, _n: int) -> None:
            parts = urlsplit(handler.path)
            query = parse_qs(parts.query)
            self.seen.append(
                (
                    parts.path,
                    query,
                    handler.headers.get("Accept", ""),
                    handler.headers.get("Authorization", ""),
                )
            )
            page, size = int(query["page"][0]), int(query["per_page"][0])
            body = everything()[(page - 1) * size : page * size]
            send(handler, 200, json.dumps(body).encode(), Content_Type="application/json")

        return route


def site_with_posts(site: Site) -> None:
    site.article("moving-house")
    site.article("other-post")
    site.article("a-guide-to-boxes", title="A guide to boxes")


def test_import_places_each_issue_on_its_post_once(
    site: Site,
    server: Server,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeRest(server)
    site_with_posts(site)
    monkeypatch.setattr(utterances, "PER_PAGE", 2)
    monkeypatch.setenv("ENGAGE_GITHUB_TOKEN", TOKEN)
    conf = site.write_conf(ENGAGE_GITHUB={"api_url": server.url})
    assert main(["import", "utterances", REPO, "-s", str(conf)]) == 0
    out = capsys.readouterr().out
    # Issues came two a page; #5 (a pull request) and #6 (no comments) cost nothing more.
    issue_pages = [q["page"] for p, q, _, _ in fake.seen if p.endswith("/issues")]
    assert issue_pages == [["1"], ["2"], ["3"], ["4"]]
    assert not any(p.endswith(("/5/comments", "/6/comments")) for p, *_ in fake.seen)
    assert {a for _, _, a, _ in fake.seen} == {"application/vnd.github.full+json"}
    assert {t for *_, t in fake.seen} == {f"Bearer {TOKEN}"}
    assert "imported 4 into 3 post(s), 4 new" in out
    assert "unmapped-page" in out and "no created_at" in out
    archive = Archive(site.root / "archive")
    assert set(archive.load("moving-house").items) == {
        f"github:{REPO}/IC_kwDOIs501",
        f"github:{REPO}/IC_kwDOIs502",
    }
    assert set(archive.load("a-guide-to-boxes").items) == {f"github:{REPO}/IC_kwDOIs505"}
    assert TOKEN not in archive.post_path("moving-house").read_text()

    assert main(["import", "utterances", f"https://github.com/{REPO}", "-s", str(conf)]) == 0
    assert "4 into 3 post(s), 0 new" in capsys.readouterr().out

    # The author's answer counts: the reader's comment waits, the author's does not.
    conf = site.write_conf(
        ENGAGE_GITHUB={"api_url": server.url},
        ENGAGE_AUTHOR={"names": ["Marin"], "github": ["marin"]},
        ENGAGE_OFFLINE=True,
    )
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    waiting = {row["id"] for row in json.loads(capsys.readouterr().out)["waiting"]}
    assert f"github:{REPO}/IC_kwDOIs502" not in waiting
    assert f"github:{REPO}/IC_kwDOIs504" in waiting


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (403, b'{"message": "API rate limit exceeded for 127.0.0.1."}', "set ENGAGE_GITHUB_TOKEN"),
        (404, b'{"message": "Not Found"}', "no such repository, or it is private"),
        (200, b'{"message": "odd"}', "the answer is not a list"),
    ],
)
def test_a_failed_read_imports_nothing_and_says_why(
    site: Site,
    server: Server,
    capsys: pytest.CaptureFixture[str],
    status: int,
    body: bytes,
    says: str,
) -> None:
    site_with_posts(site)
    server.routes[f"/repos/{REPO}/issues"] = lambda h, n: send(h, status, body)
    conf = site.write_conf(ENGAGE_GITHUB={"api_url": server.url})
    assert main(["import", "utterances", REPO, "-s", str(conf)]) == 2
    err = capsys.readouterr().err
    assert says in err and "nothing imported" in err
    assert not (site.root / "archive").exists() or not any((site.root / "archive").iterdir())


def test_a_value_that_is_no_repository_is_refused(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.article("post")
    conf = site.write_conf()
    assert main(["import", "utterances", "not a repo", "-s", str(conf)]) == 2
    assert "expected owner/name" in capsys.readouterr().err
