"""The comment folder as a way in: links, odd files, odd names, odd keys.

Security field cases F1 (a comment file linked to /proc/self/environ
published the build's tokens) and F2 (a file name that is not UTF-8 stopped
the build), and their neighbours.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from pelican.log import LimitFilter

from pelican_engage.sources.local import LocalComments
from pelican_engage.sources.local_files import key_problem, printable_name
from tests.conftest import Site

FIELD = Path(__file__).parent / "data" / "local-files"
CANARY = "CANARY-not-a-real-token-7731"

needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")


def _reader(root: Path) -> LocalComments:
    from pelican.settings import DEFAULT_CONFIG

    return LocalComments({**DEFAULT_CONFIG, "TIMEZONE": "UTC"}, root)


@pytest.fixture
def comments(tmp_path: Path) -> Path:
    """content/comments/post/c1.md (Ann, "Hello."), and a secret outside."""
    root = tmp_path / "content" / "comments"
    (root / "post").mkdir(parents=True)
    shutil.copy(FIELD / "c1.md", root / "post" / "c1.md")
    (tmp_path / "secret.md").write_text(f"author: Eve\n\n{CANARY}\n", encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "c9.md").write_text(f"author: Eve\n\n{CANARY}\n", encoding="utf-8")
    return root


def _read(root: Path, key: str = "post", slug: str = "post"):
    items, problems = _reader(root).read_post(key, slug)
    assert all(CANARY not in repr(i.to_dict(private=True)) for i in items)
    return {i.author.name for i in items}, [str(p) for p in problems]


@needs_symlinks
@pytest.mark.parametrize(
    "target",
    [
        "../../../secret.md",  # a file outside the content folder
        "/proc/self/environ",  # the build's own environment (F1)
        "c1.md",  # even a link to a sibling: one simple rule
        "../../../elsewhere",  # a folder with a comment's name
    ],
)
def test_a_linked_comment_file_is_refused_with_one_problem(
    comments: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGAGE_TWITTER_BEARER_TOKEN", CANARY)
    os.symlink(target, comments / "post" / "c2.md")
    names, problems = _read(comments)
    assert names == {"Ann"}
    (problem,) = problems
    assert problem.startswith(str(comments / "post" / "c2.md"))
    assert "is a symbolic link; not read" in problem


@needs_symlinks
def test_a_linked_post_folder_is_not_followed(comments: Path) -> None:
    os.symlink(comments.parent.parent / "elsewhere", comments / "linked")
    names, problems = _read(comments, "linked", "linked")
    assert names == set()
    (problem,) = problems
    assert problem.startswith(str(comments / "linked") + ": is a symbolic link")


@needs_symlinks
def test_a_linked_comment_root_is_not_followed(comments: Path, tmp_path: Path) -> None:
    other = tmp_path / "content" / "linked-comments"
    os.symlink(comments, other)
    names, problems = _read(other)
    assert names == set()
    (problem,) = problems
    assert problem.startswith(f"{other}: is a symbolic link")


@needs_symlinks
def test_a_link_swapped_in_after_the_listing_is_not_read(comments: Path) -> None:
    """The name is opened without following links, not only listed so."""
    reader = _reader(comments)
    (comments / "post" / "c2.md").write_text("author: Bob\n\nHi.\n", encoding="utf-8")
    scan = reader.scan("post", "post")
    (comments / "post" / "c2.md").unlink()
    os.symlink(comments.parent.parent / "secret.md", comments / "post" / "c2.md")
    items, problems, _parsed = reader.read("post", scan)
    assert [i.author.name for i in items] == ["Ann"]
    assert CANARY not in repr([i.to_dict() for i in items])
    (problem,) = problems
    assert "c2.md: is a symbolic link; not read" in str(problem)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_pipe_with_a_comments_name_neither_blocks_nor_is_read(comments: Path) -> None:
    os.mkfifo(comments / "post" / "c2.md")
    found: list[tuple[set[str], list[str]]] = []
    worker = threading.Thread(target=lambda: found.append(_read(comments)), daemon=True)
    worker.start()
    worker.join(10)
    assert found, "reading the comment folder blocked on a pipe"
    names, problems = found[0]
    assert names == {"Ann"}
    (problem,) = problems
    assert "c2.md: is not a regular file; not read" in problem


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("../../elsewhere", "holds a path separator"),
        ("..", "is '..'"),
        ("a/b", "holds a path separator"),
        ("a\\b", "holds a path separator"),
        ("/etc", "is an absolute path"),
        ("C:\\Windows", "is an absolute path"),
        ("a\nb", "holds a control character"),
    ],
)
def test_engage_key_must_be_one_folder_name(key: str, why: str) -> None:
    assert key_problem(key) == why


@pytest.mark.parametrize("key", ["renamed-post", "2019-hello", "über-cafe", "a.b", "a..b"])
def test_ordinary_engage_keys_pass(key: str) -> None:
    assert key_problem(key) == ""


def test_printable_names() -> None:
    assert printable_name(os.fsdecode(b"bad\xff\xfe.md")) == "bad\\xff\\xfe.md"
    assert printable_name("new\nline\u202eevil.md") == "new\\x0aline\\u202eevil.md"
    assert printable_name("café.md") == "café.md"


def test_a_file_name_that_is_not_utf8_is_read_under_a_printable_id(comments: Path) -> None:
    name = os.fsdecode(b"bad\xff\xfe.md")
    shutil.copy(FIELD / "bad-name.md", comments / "post" / name)
    (comments / "post" / os.fsdecode(b"r\xe9ply.md")).write_text(
        "author: Cy\ndate: 2026-01-04\nreplyto: bad\\xff\\xfe\n\nYes.\n", encoding="utf-8"
    )
    items, problems = _reader(comments).read_post("post", "post")
    assert problems == []
    by_id = {i.id: i for i in items}
    assert set(by_id) == {"comment:post/c1", "comment:post/bad\\xff\\xfe", "comment:post/r\\xe9ply"}
    # Every id can be written to a page, and replies find their parent.
    for item_id in by_id:
        item_id.encode("utf-8")
    assert by_id["comment:post/r\\xe9ply"].in_reply_to == "comment:post/bad\\xff\\xfe"


# Whole builds ----------------------------------------------------------------


def _build_site(site: Site, **overrides: object) -> None:
    site.article("post", title="Post")
    (site.content / "comments" / "post").mkdir(parents=True, exist_ok=True)
    shutil.copy(FIELD / "c1.md", site.content / "comments" / "post" / "c1.md")
    site.build(ENGAGE_OFFLINE=True, **overrides)


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [
        p
        for folder in ("output", "engage-report", "archive", "cache")
        if (root / folder).exists()
        for p in (root / folder).rglob("*")
        if p.is_file() and needle in p.read_bytes()
    ]


@needs_symlinks
def test_field_case_f1_a_link_to_the_environment_is_never_published(
    site: Site, monkeypatch: pytest.MonkeyPatch, engage_warnings: Callable[[], list[str]]
) -> None:
    monkeypatch.setenv("ENGAGE_TWITTER_BEARER_TOKEN", CANARY)
    folder = site.content / "comments" / "post"
    folder.mkdir(parents=True)
    os.symlink("/proc/self/environ", folder / "c2.md")
    secret = site.root / "secret.md"
    secret.write_text(f"author: Eve\ndate: 2026-01-03\n\n{CANARY}\n", encoding="utf-8")
    os.symlink(secret, folder / "c3.md")
    _build_site(site)
    page = site.html("post.html")
    assert [e.get_text(strip=True) for e in page.select(".engage-item .e-content")] == ["Hello."]
    assert _files_holding(site.root, CANARY.encode()) == []
    assert (site.root / "engage-report" / "index.html").exists()
    refused = [w for w in engage_warnings() if "symbolic link" in w]
    assert len(refused) == 2
    assert any("c2.md: is a symbolic link" in w for w in refused)
    assert any("c3.md: is a symbolic link" in w for w in refused)


@needs_symlinks
@pytest.mark.parametrize("key", ["../../elsewhere", "/ABSOLUTE/elsewhere"])
def test_an_engage_key_that_is_a_path_is_refused_naming_the_article(
    site: Site, key: str, engage_warnings: Callable[[], list[str]]
) -> None:
    elsewhere = site.root / "elsewhere"
    elsewhere.mkdir(parents=True)
    (elsewhere / "c9.md").write_text(f"author: Eve\ndate: 2026-01-03\n\n{CANARY}\n")
    key = key.replace("/ABSOLUTE", str(site.root))
    site.article("post", title="Post", engage_key=key)
    (site.content / "comments" / "post").mkdir(parents=True)
    shutil.copy(FIELD / "c1.md", site.content / "comments" / "post" / "c1.md")
    site.build(ENGAGE_OFFLINE=True)
    page = site.html("post.html")
    # The slug's folder is read instead, and nothing from the path.
    assert [e.get_text(strip=True) for e in page.select(".engage-item .e-content")] == ["Hello."]
    assert _files_holding(site.root, CANARY.encode()) == []
    (warning,) = [w for w in engage_warnings() if "engage_key" in w]
    assert "post.md" in warning and "ignored, the slug is used" in warning


def test_field_case_f2_a_file_name_that_is_not_utf8_does_not_stop_the_build(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    folder = site.content / "comments" / "post"
    folder.mkdir(parents=True)
    shutil.copy(FIELD / "bad-name.md", folder / os.fsdecode(b"bad\xff\xfe.md"))
    # A folder that matches no article, with an odd name of its own.
    (site.content / "comments" / os.fsdecode(b"old\xe9")).mkdir()
    _build_site(site)
    page = site.html("post.html")
    texts = [e.get_text(strip=True) for e in page.select(".engage-item .e-content")]
    assert sorted(texts) == ["Hello.", "Hi."]
    ids = {e["data-engage-id"] for e in page.select(".engage-item")}
    assert "comment:post/bad\\xff\\xfe" in ids
    messages = [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    (unused,) = [m for m in messages if "matches no article" in m]
    assert "old\\xe9" in unused


def test_the_authors_email_in_a_comment_file_marks_it_and_is_cached_nowhere(
    site: Site, engage_warnings: Callable[[], list[str]]
) -> None:
    """Issue 11, point 3: the build cache holds no address, and the author's
    comment is still the author's on a warm build (read from that cache)."""
    author = "marin.private@blog.example"
    reader = "ann.private@mail.example"
    site.article("post", title="Post")
    site.comment("post", "c1.md", "A question?", author="Ann", date="2026-01-03", email=reader)
    site.comment(
        "post", "c2.md", "An answer.", author="M.", date="2026-01-04", email=author, replyto="c1"
    )
    settings = {
        "ENGAGE_OFFLINE": True,
        "ENGAGE_AUTHOR": {"names": ["Marin"], "emails": [author.upper()]},
    }
    for _build in range(2):  # cold, then warm from the cache
        site.build(**settings)
        page = site.html("post.html")
        (mine,) = page.select(".engage-by-author")
        assert mine["data-engage-id"] == "comment:post/c2"
        assert "Author" in mine.get_text()
    cache_files = [p for p in (site.root / "cache").rglob("*") if p.is_file()]
    assert any(p.parent.name.startswith("threads") for p in cache_files)
    for address in (author, reader, "marin.private", "ann.private"):
        assert _files_holding(site.root, address.encode()) == []
    # Nothing waits: the reader was answered, by the address alone.
    assert "A question?" not in (site.root / "engage-report" / "index.html").read_text()


def test_comment_folder_problems_are_told_again_on_a_warm_build(
    site: Site, engage_warnings: Callable[[], list[str]]
) -> None:
    if not hasattr(os, "symlink"):
        pytest.skip("no symbolic links")
    folder = site.content / "comments" / "post"
    folder.mkdir(parents=True)
    os.symlink(FIELD / "bad-name.md", folder / "c2.md")
    for _build in range(2):
        LimitFilter._raised_messages.clear()  # Pelican's own once-per-process filter
        _build_site(site)
    assert len([w for w in engage_warnings() if "c2.md: is a symbolic link" in w]) == 2
    (folder / "c2.md").unlink()
    LimitFilter._raised_messages.clear()
    _build_site(site)
    assert len([w for w in engage_warnings() if "symbolic link" in w]) == 2
