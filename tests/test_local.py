"""Local comment files in pelican_comment_system's layout."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pelican_engage.sources.local import (
    LocalComments,
    ParsedComment,
    link_replies,
    parse_comment,
)
from pelican_engage.sources.local_formats import PARSERS, parse_metadata_header
from pelican_engage.sources.local_headers import header_shown_as_text

DATA = Path(__file__).parent / "data" / "local"


def test_metadata_header_like_python_markdown_meta() -> None:
    meta, body = parse_metadata_header(
        "Author: Ann\ndate: 2026-01-01\nsummary: first line\n    continued\n\nBody: not meta\n"
    )
    assert meta == {"author": "Ann", "date": "2026-01-01", "summary": "first line continued"}
    assert body == "Body: not meta"


def test_metadata_header_with_yaml_style_fences() -> None:
    meta, body = parse_metadata_header("---\nauthor: Ann\n---\nHello\n")
    assert meta == {"author": "Ann"}
    assert body == "Hello"


def test_no_header_means_all_body() -> None:
    meta, body = parse_metadata_header("Just a comment, no header.\nSecond line.")
    assert meta == {}
    assert body.startswith("Just a comment")


_HEADER = "author: Ann\ndate: 2014-03-22 10:00\nemail: ann@leak.example\n"


@pytest.mark.parametrize(
    ("ext", "text", "body"),
    [
        ("md", "\n" + _HEADER + "\nHello.\n", "<p>Hello.</p>\n"),
        ("md", "   \n" + _HEADER + "\nHello.\n", "<p>Hello.</p>\n"),
        ("md", "\ufeff" + _HEADER + "\nHello.\n", "<p>Hello.</p>\n"),
        ("md", _HEADER.replace(": ", " : ") + "\nHello.\n", "<p>Hello.</p>\n"),
        ("md", ("\n" + _HEADER + "\nHello.\n").replace("\n", "\r\n"), "<p>Hello.</p>\n"),
        ("rst", _HEADER + "\nHello.\n", "<p>Hello.</p>\n"),
        ("rst", ":author : Ann\n:date : 2014-03-22 10:00\n:email : ann@leak.example\n\nHello.\n",
         "<p>Hello.</p>\n"),
        ("html", _HEADER + "\n<p>Hello.</p>\n", "<p>Hello.</p>"),
        ("html", "<p>" + _HEADER.replace("\n", "<br>") + "</p>\n<p>Hello.</p>", "\n<p>Hello.</p>"),
        ("html", "<html><body><div>" + _HEADER + "</div><p>Hello.</p></body></html>",
         "<p>Hello.</p>"),
        ("htm", "<p>" + _HEADER.replace("\n", "<br/>") + "Hello.</p>", "<p>Hello.</p>"),
        ("html", "<p>" + _HEADER.replace("\n", "<br>\r\n") + "</p><p>Hello.</p>",
         "<p>Hello.</p>"),
        ("html", "".join(f"<div>{line}</div>" for line in _HEADER.splitlines())
         + "<div>Hello <i>there</i>.</div>", "<div>Hello <i>there</i>.</div>"),
        ("html", "<p><b>author:</b> Ann<br><b>date:</b> 2014-03-22 10:00<br><b>email:</b> "
         '<a href="mailto:ann@leak.example">ann@leak<wbr>.example</a></p><p>Hello.</p>',
         "<p>Hello.</p>"),
        ("html", "<table><tr><td>author:</td><td>Ann</td></tr><tr><td>date:</td>"
         "<td>2014-03-22 10:00</td></tr><tr><td>email:</td><td>ann@leak.example</td></tr>"
         "</table><p>Hello.</p>", "<p>Hello.</p>"),
        ("html", '<!-- mail --><div><p>' + _HEADER.replace("\n", "<br>")
         + '<br>Hello, see <a href="https://x.example/">this</a>.</p><p>Bye.</p></div>',
         '<!-- mail --><div><p>Hello, see <a href="https://x.example/">this</a>.</p>'
         "<p>Bye.</p></div>"),
    ],
    ids=["md-blank-line-first", "md-spaces-first", "md-second-bom", "md-space-before-colon",
         "md-crlf", "rst-markdown-header", "rst-space-before-colon",
         "html-text-header", "html-header-in-paragraph", "html-header-in-div",
         "htm-header-then-text-in-one-paragraph", "html-br-then-newline",
         "html-one-div-per-line", "html-bold-labels-mailto-wbr", "html-table",
         "html-comment-first-text-after-header"],
)  # fmt: skip
def test_a_header_readers_would_show_as_text_is_read(ext: str, text: str, body: str) -> None:
    """Read as text, the header would publish the e-mail address."""
    meta, shown = PARSERS[ext](text)
    assert meta == {}
    found = header_shown_as_text(text, ext, meta, shown)
    assert found is not None
    assert found[0] == {"author": "Ann", "date": "2014-03-22 10:00", "email": "ann@leak.example"}
    assert found[1] == body


@pytest.mark.parametrize(
    "text",
    ["Just a comment: no header.\n\nMore.", "\nWhy: because.\n\nMore.", "Hi\n\nauthor: Ann"],
)
def test_other_first_lines_stay_text(text: str) -> None:
    assert recovered(text, "md") is None


def recovered(text: str, ext: str) -> tuple[dict[str, str], str] | None:
    meta, shown = PARSERS[ext](text)
    return header_shown_as_text(text, ext, meta, shown)


# Written as a fresh tester found mail clients, Word and editors write them.
@pytest.mark.parametrize(
    ("name", "text", "meta", "body"),
    [
        ("h14-email-wrap.html", '<p>author: Hal</p>\n<p>email:\n<a href="mailto:hal@leak.example">'
         "hal@leak.example</a></p>\n<p>date: 2026-01-01 10:00</p><p>Hello.</p>",
         {"author": "Hal", "email": "hal@leak.example", "date": "2026-01-01 10:00"},
         "<p>Hello.</p>"),
        ("h04-word.html", '<html><head><meta name="Generator" content="Microsoft Word 15"></head>'
         "<body><p class=MsoNormal>author:\r\nHal<br>\r\nemail: hal@leak.example</p>\r\n"
         "<p class=MsoNormal>Hello.</p></body></html>",
         {"generator": "Microsoft Word 15", "author": "Hal", "email": "hal@leak.example"},
         '<p class="MsoNormal">Hello.</p>'),
        ("h08-table.html", "<table><tr><td><b>Name:</b></td><td>Hal</td></tr><tr><td><b>E-mail:"
         "</b></td><td>hal@leak.example</td></tr></table><p>Hello.</p>",
         {"name": "Hal", "author": "Hal", "e-mail": "hal@leak.example",
          "email": "hal@leak.example"},
         "<p>Hello.</p>"),
        ("h05-style.html", "<style>p { color: red }</style><script>var a = 'b: c'</script>"
         "<p>author: Hal<br>email: hal@leak.example</p><p>Hello.</p>",
         {"author": "Hal", "email": "hal@leak.example"}, "<p>Hello.</p>"),
        ("h06-meta-author.html", '<html><head><meta name="author" content="Hal"></head><body>'
         "<p>email: hal@leak.example</p><p>Hello.</p></body></html>",
         {"author": "Hal", "email": "hal@leak.example"}, "<p>Hello.</p>"),
        ("h07-from.html", "<div>From: Hal &lt;hal@leak.example&gt;</div><div>Date: 2026-02-02 "
         "10:00</div><div><br></div><div>Hello.</div>",
         {"from": "Hal <hal@leak.example>", "date": "2026-02-02 10:00", "author": "Hal",
          "email": "hal@leak.example"}, "<div>Hello.</div>"),
        ("h02-question.html", "<p>author: Hal<br>email: hal@leak.example</p>"
         "<p>Question: does it work with 4.12?</p><p>Thanks</p>",
         {"author": "Hal", "email": "hal@leak.example"},
         "<p>Question: does it work with 4.12?</p><p>Thanks</p>"),
        ("m06-blank-inside.md", "author: Ann\n\nemail: ann@leak.example\n\nHello.\n",
         {"author": "Ann", "email": "ann@leak.example"}, "<p>Hello.</p>\n"),
        ("m05-front-matter.md", "\n---\nauthor: Ann\nemail: ann@leak.example\n---\nHello.\n",
         {"author": "Ann", "email": "ann@leak.example"}, "<hr/><p>Hello.</p>\n"),
        ("m09-update.md", "\nauthor: Ann\nemail: ann@leak.example\nUpdate: it works now.\n",
         {"author": "Ann", "email": "ann@leak.example"}, "<p>Update: it works now.</p>\n"),
    ],
)  # fmt: skip
def test_headers_as_mail_clients_and_editors_write_them(
    name: str, text: str, meta: dict[str, str], body: str
) -> None:
    found = recovered(text, name.rsplit(".", 1)[1])
    assert found is not None
    assert found == (meta, body)
    assert "leak.example" not in found[1]


# A second fresh tester's files: the address must go, the text stay.
@pytest.mark.parametrize(
    ("name", "text", "text_left"),
    [
        ("a1.md", "\npost_id: x\nAuthor: David\nDate: 2008-03-23 18:26:16\n"
         "Author_Email: david@leak.example\nAuthor_IP: None\n\nText", "Text"),
        ("a2.md", "\nauthor: Ann\ndate: 2026-01-01\nemail_address: ann@leak.example\n\nHi.", "Hi."),
        ("a3.rst", "Author: Ann\nDate: 2026-01-01\nYour-Email: ann@leak.example\n\nHi.", "Hi."),
        ("a4.md", "Name: Ann\nEmail address: ann@leak.example\n\nHi.", "Hi."),
        ("a5.rst", "Contact: ann@leak.example\n\nHi.", "Hi."),
        ("a6.md", "author: Ann\ndate: 2026-01-01\n\n**Email**: ann@leak.example\n\nHello.",
         "Hello."),
        ("a7.html", "<p><b>Name</b>: Ann Reader<br><b>Email</b>: "
         '<a href="mailto:ann@leak.example">ann@leak.example</a></p><p>Hello.</p>', "Hello."),
        ("a8.html", "<p class=MsoNormal><span lang=EN-US>E-mail</span><span lang=EN-US>: "
         "ann@leak.example</span></p><p>Hello.</p>", "Hello."),
        ("a9.html", '<p>email:<br>\n<a href="mailto:ann@leak.example">ann@leak.example</a></p>'
         "<p>Hi</p>", "Hi"),
        ("a10.html", "<p><b>Email:</b></p><p>ann@leak.example</p><p>Hi</p>", "Hi"),
        ("a11.html", "<dl><dt>E-mail:</dt><dd>ann@leak.example</dd></dl><p>Hi</p>", "Hi"),
        ("a12.html", "<p>From: Ann Reader [mailto:ann@leak.example]<br>Sent: Monday<br>"
         "To: Marin<br>Subject: comment</p><p>Hello.</p>", "Hello."),
        ("b5.md", "author: Ann\ndate: 2026-01-01\n\nE-mail: ann@leak.example\n\n"
         "Summary: three points.\n\nWebsite: it loads slowly on my phone.",
         "Summary: three points.Website: it loads slowly on my phone."),
        ("c2.md", "author: Ann\ndate: 2026-01-01 10:00\nwebsite: https://ann.example\n\n"
         "E-mail: ann@leak.example\nDate: yesterday I tried again\n\nHello.",
         "Date: yesterday I tried againHello."),
    ],
)  # fmt: skip
def test_addresses_under_other_labels_go_and_text_stays(
    name: str, text: str, text_left: str
) -> None:
    from bs4 import BeautifulSoup

    found = recovered(text, name.rsplit(".", 1)[1])
    assert found is not None
    meta, body = found
    assert meta["email"].endswith("@leak.example")
    shown = BeautifulSoup(body, "html.parser").get_text().replace("\n", "")
    assert "leak.example" not in body
    assert shown.endswith(text_left)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c3.html", '<meta name="author" content="Ann"><meta name="date" content="2026-01-01">'
         "<p>From: Bob Jones &lt;bob@x.example&gt;<br>Date: Mon, 5 Jan 2026<br>Subject: Re: post"
         "</p><p>Bob asked me to post this.</p>"),
        ("c4.md", "author: Ann\ndate: 2026-01-01\n\nFrom: Bob <bob@x.example>, who told me.\n"),
        ("b8.html", "<p>Name: the name field in your form is too short.</p>"
         "<p>Date: also the date is wrong.</p>"),
    ],
)  # fmt: skip
def test_quoted_mail_headers_and_labels_in_text_stay(name: str, text: str) -> None:
    assert recovered(text, name.rsplit(".", 1)[1]) is None


@pytest.mark.parametrize(
    "text",
    ["<p>Just a comment: no header.</p><p>More.</p>", "<p>Why: because.</p>", "<p>Hi</p>",
     "<p>Hi</p><p>author: Ann</p>", "<!-- nothing -->",
     "<p>Date: the 12th suits me.</p><p>More.</p>", "<p>Author: you forgot a word.</p>",
     "<p>Email: me for the code, on <a href='https://x.example/'>GitHub</a></p>",
     "<p>Hi</p><p>author: Ann</p><p>email: ann@leak.example</p>"],
)  # fmt: skip
def test_html_first_blocks_that_are_text_stay_text(text: str) -> None:
    assert recovered(text, "html") is None


def _parse(meta: dict[str, str], body: str = "<p>hi</p>"):
    return parse_comment(
        "post",
        "c1",
        "comments/post/c1.md",
        meta,
        body,
        timezone.utc,
        datetime(2026, 1, 1, tzinfo=timezone.utc),
    )


def test_parse_comment_builds_the_item() -> None:
    parsed = _parse(
        {
            "author": "Ann",
            "date": "2026-02-01 10:00",
            "website": "https://ann.example",
            "email": "ann@x.example",
            "replyto": "c0md",
        }
    )
    assert parsed.problems == ()
    assert parsed.replyto == "c0md"
    item = parsed.item
    assert item.id == "comment:post/c1"
    assert item.source == "local"
    assert item.author.name == "Ann"
    assert item.author.url == "https://ann.example"
    assert item.published == datetime(2026, 2, 1, 10, tzinfo=timezone.utc)
    # The address only tells whether the author wrote it; it is never kept.
    assert item.author.email == ""
    assert "ann@x.example" not in repr(item.to_dict(private=True))
    assert not item.by_author


def test_the_authors_email_leaves_a_mark_not_the_address() -> None:
    meta = {"author": "M", "date": "2026-02-01", "email": " Marin@Blog.Example "}
    parsed = parse_comment(
        "post",
        "c1",
        "comments/post/c1.md",
        meta,
        "<p>hi</p>",
        timezone.utc,
        datetime(2026, 1, 1, tzinfo=timezone.utc),
        author_emails=frozenset({"marin@blog.example"}),
    )
    assert parsed.item.by_author and not parsed.item.extras
    assert "blog.example" not in repr(parsed.item.to_dict(private=True))


@pytest.mark.parametrize(
    ("meta", "fragment"),
    [
        ({"date": "2026-02-01"}, "has no author"),
        ({"author": "Ann", "date": "the day after"}, "bad date 'the day after'"),
        ({"author": "Ann"}, "has no date"),
    ],
)
def test_bad_metadata_is_a_problem_but_the_comment_stays(
    meta: dict[str, str], fragment: str
) -> None:
    parsed = _parse(meta)
    assert len(parsed.problems) == 1
    assert fragment in parsed.problems[0]
    assert parsed.item.content_html == "<p>hi</p>"


def test_website_with_a_bad_scheme_is_dropped() -> None:
    assert (
        _parse(
            {"author": "A", "date": "2026-01-01", "website": "javascript:alert(1)"}
        ).item.author.url
        == ""
    )


def test_link_replies_accepts_stems_and_pelican_comment_system_slugs() -> None:
    def parsed(name: str, replyto: str | None) -> ParsedComment:
        item = _parse({"author": "A", "date": "2026-01-01"}).item
        return ParsedComment(item=replace(item, id=f"comment:post/{name}"), replyto=replyto)

    from pelican.utils import slugify

    items, problems = link_replies(
        [
            ("c1.md", parsed("c1", None)),
            ("c2.md", parsed("c2", "c1md")),
            ("c3.md", parsed("c3", "c2")),
            ("c4.md", parsed("c4", "C1.md")),
            ("c5.md", parsed("c5", "nope")),
        ],
        slugify,
    )
    parents = {i.id.rsplit("/", 1)[1]: i.in_reply_to for i in items}
    assert parents == {
        "c1": None,
        "c2": "comment:post/c1",
        "c3": "comment:post/c2",
        "c4": "comment:post/c1",
        "c5": None,
    }
    (problem,) = problems
    assert "replyto 'nope' names no comment of this post" in problem.message


@pytest.fixture
def comments(tmp_path: Path) -> Path:
    root = tmp_path / "content" / "comments"
    shutil.copytree(DATA / "pcs-thread", root / "post")
    return root


def _reader(comments: Path, tmp_path: Path) -> LocalComments:
    settings = {"TIMEZONE": "Europe/Paris", "PATH": str(comments.parent)}
    from pelican.settings import DEFAULT_CONFIG

    return LocalComments({**DEFAULT_CONFIG, **settings}, comments)


def test_reads_markdown_and_other_pelican_formats(comments: Path, tmp_path: Path) -> None:
    items, problems = _reader(comments, tmp_path).read_post("post", "post")
    assert problems == []
    by_stem = {i.id.rsplit("/", 1)[1]: i for i in items}
    assert set(by_stem) == {"c1", "c2", "c3", "c4", "c5"}
    assert by_stem["c2"].in_reply_to == "comment:post/c1"
    assert by_stem["c3"].in_reply_to == "comment:post/c2"
    assert by_stem["c4"].in_reply_to == "comment:post/c1"
    assert "<strong>Pelican 4.12</strong>" in by_stem["c1"].content_html
    assert "<em>reStructuredText</em>" in by_stem["c5"].content_html
    assert by_stem["c5"].author.name == "Carl"
    # Naive dates are in the site's TIMEZONE.
    assert by_stem["c1"].published.utcoffset().total_seconds() == 3600


def test_unchanged_files_are_reused_and_changes_noticed(comments: Path, tmp_path: Path) -> None:
    reader = _reader(comments, tmp_path)
    first, _, parsed = reader.read("post", reader.scan("post", "post"))
    assert reader.parsed_files == 5

    again = _reader(comments, tmp_path)
    second, _, _ = again.read("post", again.scan("post", "post"), parsed)
    assert again.parsed_files == 0
    assert [i.to_dict(private=True) for i in second] == [i.to_dict(private=True) for i in first]

    changed = comments / "post" / "c3.md"
    changed.write_text(changed.read_text() + "\nAn edit.\n")
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    (comments / "post" / "c4.markdown").unlink()
    third_reader = _reader(comments, tmp_path)
    third, _, _ = third_reader.read("post", third_reader.scan("post", "post"), parsed)
    assert third_reader.parsed_files == 1
    assert len(third) == 4
    assert "An edit." in next(i for i in third if i.id.endswith("/c3")).content_html


def test_undecodable_bytes_keep_the_comment(comments: Path, tmp_path: Path) -> None:
    (comments / "post" / "latin1.md").write_bytes(
        b"author: Z\xe9lie\ndate: 2026-02-05\n\nCaf\xe9 cr\xe8me, tr\xe8s bien.\n"
    )
    items, problems = _reader(comments, tmp_path).read_post("post", "post")
    (problem,) = problems
    assert problem.origin.endswith("latin1.md")
    assert "not valid UTF-8 (byte 0xe9" in problem.message
    latin = next(i for i in items if i.id.endswith("/latin1"))
    assert "tr" in latin.content_html and "bien" in latin.content_html


def test_non_utf8_rst_is_kept_with_replaced_characters(comments: Path, tmp_path: Path) -> None:
    (comments / "post" / "latin.rst").write_bytes(b"T\n#\n\n:author: Z\xe9\n\nxyz\n")
    items, problems = _reader(comments, tmp_path).read_post("post", "post")
    latin = next(i for i in items if i.id.endswith("/latin"))
    assert latin.author.name == "Z\ufffd"
    assert "xyz" in latin.content_html and "<strong>T</strong>" in latin.content_html
    (problem,) = problems
    assert problem.origin.endswith("latin.rst") and "not valid UTF-8" in problem.message


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.md", b"", "has no text; skipped"),
        ("header-only.md", b"author: A\ndate: 2026-01-01\n", "has no text; skipped"),
        ("huge.md", b"author: A\n\n" + b"x" * (300 * 1024), "larger than 256 KiB; skipped"),
    ],
)
def test_empty_and_oversized_files_are_skipped_with_one_problem(
    comments: Path, tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    (comments / "post" / name).write_bytes(content)
    items, problems = _reader(comments, tmp_path).read_post("post", "post")
    assert len(items) == 5
    (found,) = problems
    assert found.origin.endswith(name) and problem in found.message


def test_two_files_with_one_stem_are_both_kept(comments: Path, tmp_path: Path) -> None:
    (comments / "post" / "c1.rst").write_text(":author: Twin\n:date: 2026-02-09\n\nSame stem.\n")
    items, problems = _reader(comments, tmp_path).read_post("post", "post")
    ids = {i.id for i in items}
    assert {"comment:post/c1", "comment:post/c1.rst"} <= ids
    (problem,) = problems
    assert "same name as c1.md" in problem.message


def test_rst_comment_keeps_its_title_and_needs_none(comments: Path, tmp_path: Path) -> None:
    (comments / "post" / "plain.rst").write_text(":author: Pia\n:date: 2026-02-09\n\nNo *title*.\n")
    items, problems = _reader(comments, tmp_path).read_post("post", "post")
    assert problems == []
    plain = next(i for i in items if i.id.endswith("/plain"))
    assert plain.author.name == "Pia" and "<em>title</em>" in plain.content_html
    titled = next(i for i in items if i.id.endswith("/c5"))
    assert "<strong>A comment in reStructuredText</strong>" in titled.content_html


def test_html_comment_metadata_and_body(comments: Path, tmp_path: Path) -> None:
    (comments / "post" / "h.html").write_text(
        '<html><head><title>x</title><meta name="author" content="Hal">'
        '<meta name="date" content="2026-02-10 10:00"></head>'
        "<body><p>Hello <b>there</b><script>alert(1)</script></p></body></html>"
    )
    items, _ = _reader(comments, tmp_path).read_post("post", "post")
    hal = next(i for i in items if i.id.endswith("/h"))
    assert hal.author.name == "Hal"
    assert hal.content_html == "<p>Hello <b>there</b></p>"


def test_a_bad_date_in_rst_keeps_the_comment(comments: Path, tmp_path: Path) -> None:
    (comments / "post" / "late.rst").write_text(
        "Late\n####\n\n:author: Dora\n:date: yesterday-ish\n\nHello from *rst*.\n"
    )
    items, problems = _reader(comments, tmp_path).read_post("post", "post")
    (problem,) = problems
    assert problem.origin.endswith("late.rst") and "bad date 'yesterday-ish'" in problem.message
    late = next(i for i in items if i.id.endswith("/late"))
    assert late.author.name == "Dora" and "<em>rst</em>" in late.content_html


def test_ignores_hidden_backup_and_unknown_files(comments: Path, tmp_path: Path) -> None:
    for name in (".c9.md", "c9.md~", "notes.txt", "README"):
        (comments / "post" / name).write_text("author: X\ndate: 2026-01-01\n\nx\n")
    items, _ = _reader(comments, tmp_path).read_post("post", "post")
    assert len(items) == 5


def test_a_post_without_a_folder_has_no_comments(comments: Path, tmp_path: Path) -> None:
    assert _reader(comments, tmp_path).read_post("other", "other") == ([], [])


def test_engage_key_folder_wins_then_slug(comments: Path, tmp_path: Path) -> None:
    items, _ = _reader(comments, tmp_path).read_post("renamed-key", "post")
    assert items and all(i.id.startswith("comment:renamed-key/") for i in items)


@pytest.mark.parametrize(
    ("ext", "text"),
    [
        ("md", "author: A\n\nemail:\n\n@ " + "b" * 250_000 + "\n\nHi"),
        ("md", "author: A\n\nEmail address: @ " + "a" * 250_000),
        ("html", "<p>email:</p><p>" + "c." * 125_000 + "</p>"),
        ("html", "<p>From: " + "d-" * 125_000 + "@</p>"),
    ],
    ids=["md-next-line", "md-value", "html-next-block", "html-hyphens"],
)
def test_a_stranger_s_long_line_is_read_in_linear_time(ext: str, text: str) -> None:
    """A header recovery's address pattern once backtracked on each start of
    a run without "@" (40 kB: 2.8 s; a 250 kB comment: minutes)."""
    meta, shown = PARSERS[ext](text)
    start = time.process_time()
    header_shown_as_text(text, ext, meta, shown)
    assert time.process_time() - start < 5


def test_an_html_comment_in_line_divs_keeps_its_lines(tmp_path: Path) -> None:
    """Gmail and Word write each line as a <div>; a table's cells and rows
    stay apart too (the page, its JSON-LD and the report's excerpt read
    "Thanks!<br>It works" and "Linux yes", not "Thanks!It works")."""
    from pelican_engage.sanitize import excerpt

    folder = tmp_path / "comments" / "post"
    folder.mkdir(parents=True)
    (folder / "c1.html").write_text(
        '<html><head><meta name="author" content="Ann"><meta name="date" '
        'content="2026-11-02 10:00"></head><body><div>Thanks!</div><div>It works on:</div>'
        "<table><tr><td>Linux</td><td>yes</td></tr><tr><td>BSD</td><td>no</td></tr></table>"
        "</body></html>",
        encoding="utf-8",
    )
    (item,), problems = _reader(tmp_path / "comments", tmp_path).read_post("post", "post")
    assert problems == []
    assert item.author.name == "Ann"
    assert "Thanks!<br>It works on:<br>Linux yes<br>BSD no" in item.content_html
    assert excerpt(item.content_html) == "Thanks! It works on: Linux yes BSD no"
