"""``pelican-engage import mail``: real mbox and Maildir files, and a real IMAP server.

Each ``tests/data/mail/<case>.eml`` has a ``<case>.json`` saying what becomes
of it: ``written`` (with the comment file's fields), ``already`` (a Message-ID
seen before) or ``rejected`` (with the line that lists it).
"""

from __future__ import annotations

import json
import mailbox
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.importers.mail import parse_message
from pelican_engage.model import Item, Person
from pelican_engage.sources.local_formats import parse_metadata_header
from tests import imap_server
from tests.conftest import DATA, Site

MAIL = DATA / "mail"
CASES = sorted(p.stem for p in MAIL.glob("*.eml"))


def _expected(case: str) -> dict:
    return json.loads((MAIL / f"{case}.json").read_text(encoding="utf-8"))


def _ordered() -> list[str]:
    """The cases in delivery order: a message seen before comes last."""
    return sorted(CASES, key=lambda c: (_expected(c)["result"] == "already", c))


def _raw(case: str) -> bytes:
    return (MAIL / f"{case}.eml").read_bytes()


def _message_id(case: str) -> str:
    for line in _raw(case).decode("latin-1").splitlines():
        if line.lower().startswith("message-id:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(case)


def _site(site: Site) -> Path:
    site.article("first-post", title="First post")
    site.copy_comments("first-post", DATA / "local" / "pcs-thread")
    Archive(site.root / "archive").merge(
        "first-post",
        [
            Item(
                id="mastodon:social.example/7",
                source="mastodon",
                kind="reply",
                author=Person(name="Marin", handle="marin@social.example"),
                published=datetime(2026, 2, 3, tzinfo=timezone.utc),
                content_html="<p>A toot</p>",
            )
        ],
    )
    return site.write_conf()


def _files(site: Site) -> dict[str, tuple[dict[str, str], str]]:
    """message_id -> (metadata, body) of every comment file written from mail."""
    found = {}
    for path in sorted((site.content / "comments" / "first-post").glob("mail-*.md")):
        meta, body = parse_metadata_header(path.read_text(encoding="utf-8"))
        found[meta["message_id"]] = (meta, body)
    return found


def _check(site: Site, output: str) -> None:
    """Every case ended as its .json says; the output lists every rejection."""
    files = _files(site)
    for case in CASES:
        expected = _expected(case)
        if expected["result"] == "written":
            meta, body = files[_message_id(case)]
            assert meta["author"] == expected["author"], case
            assert meta["email"] == expected["email"], case
            assert meta["date"] == expected["date"], case
            assert meta.get("replyto") == expected["replyto"], case
            assert set(meta) <= {"author", "date", "replyto", "email", "message_id"}, case
            for words in expected["body"]:
                assert words in body, case
            for words in expected["not_in_body"]:
                assert words not in body, case
        elif expected["result"] == "rejected":
            assert expected["reason"] in output, case
    written = [c for c in CASES if _expected(c)["result"] == "written"]
    assert len(files) == len(written)
    already = sum(1 for c in CASES if _expected(c)["result"] == "already")
    rejected = sum(1 for c in CASES if _expected(c)["result"] == "rejected")
    assert (
        f"Read {len(CASES)} message(s) from" in output
        and f"Wrote {len(written)} comment file(s); {already} already imported; "
        f"{rejected} not imported."
        in output
    ), output


def _import(conf: Path, source: str, *extra: str) -> int:
    return main(["import", "mail", source, "-s", str(conf), *extra])


def test_an_mbox_becomes_comment_files_and_the_thread_shows_them(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = _site(site)
    box = mailbox.mbox(site.root / "inbox.mbox")
    for case in _ordered():
        box.add(_raw(case))
    box.close()

    assert _import(conf, str(site.root / "inbox.mbox"), "--dry-run") == 0
    dry = capsys.readouterr().out
    assert "Would write 5 comment file(s)" in dry
    assert _files(site) == {}

    assert _import(conf, str(site.root / "inbox.mbox")) == 0
    output = capsys.readouterr().out
    _check(site, output)

    # Importing again changes nothing.
    before = {p: p.read_bytes() for p in (site.content / "comments").rglob("*.*")}
    assert _import(conf, str(site.root / "inbox.mbox")) == 0
    again = capsys.readouterr().out
    assert "Wrote 0 comment file(s); 6 already imported" in again
    assert {p: p.read_bytes() for p in (site.content / "comments").rglob("*.*")} == before

    # The build threads them: Bea under Ann's c1, Dee under the Mastodon item.
    site.build()
    page = site.html("first-post.html")
    items = {el["data-engage-id"]: el for el in page.select("[data-engage-id]")}
    by_author = {el.select_one(".p-name").get_text(strip=True): el for el in items.values()}
    assert by_author["Bea Q."]["data-engage-parent"] == "comment:first-post/c1"
    assert by_author["Dee"]["data-engage-parent"] == "mastodon:social.example/7"
    assert "data-engage-parent" not in by_author["Caïus Lévy"].attrs
    # E-mail addresses stay in the files.
    text = (site.output / "first-post.html").read_text()
    assert "@reader.example" not in text and "bea@bea.example" not in text
    # No script but the thread's JSON-LD data.
    scripts = page.select_one("section.engage").find_all("script")
    assert [s.get("type") for s in scripts] == ["application/ld+json"]


def test_a_maildir_imports_the_same(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    conf = _site(site)
    box = mailbox.Maildir(site.root / "Maildir", create=True)
    for case in _ordered():
        box.add(_raw(case))
    box.close()
    assert _import(conf, str(site.root / "Maildir")) == 0
    _check(site, capsys.readouterr().out)


def test_a_maildir_is_read_in_delivery_order(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """Maildir names hold the delivery's microsecond without padding: as text,
    ``...M100000...`` sorts before ``...M99999...``, and a copy sent twice was
    imported instead of the message (CI, once in several runs)."""
    conf = _site(site)
    box = mailbox.Maildir(site.root / "Maildir", create=True)
    box.close()
    for name, case in [
        ("1796102668.M99999P7Q1.host", "new-comment"),
        ("1796102668.M100000P7Q2.host", "duplicate"),
    ]:
        (site.root / "Maildir" / "new" / name).write_bytes(_raw(case))
    assert _import(conf, str(site.root / "Maildir")) == 0
    capsys.readouterr()
    ((_meta, body),) = _files(site).values()
    assert "saved me an afternoon." in body and "sent twice" not in body


def test_a_huge_message_is_listed_and_the_others_imported(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = _site(site)
    big = EmailMessage()
    big["Message-ID"] = "<big@reader.example>"
    big["Date"] = "Sun, 01 Feb 2026 10:00:00 +0000"
    big["From"] = "Ann Reader <ann@reader.example>"
    big["Subject"] = "Re: First post [engage first-post]"
    big.set_content("See the video.")
    big.add_attachment(os.urandom(11 * 1024 * 1024), "video", "mp4", filename="v.mp4")
    box = mailbox.mbox(site.root / "inbox.mbox")
    box.add(big.as_bytes())
    box.add(_raw("new-comment"))
    box.close()
    assert _import(conf, str(site.root / "inbox.mbox")) == 0
    output = capsys.readouterr().out
    assert "message 1 'Re: First post [engage first-post]'" not in output  # too big to read
    assert "inbox.mbox, message 1: is larger than 10 MiB" in output
    assert list(_files(site)) == ["<new-comment-1@reader.example>"]


@pytest.mark.parametrize("case", CASES)
def test_each_case_alone(case: str) -> None:
    result = parse_message(_raw(case), case, frozenset({"first-post"}))
    expected = _expected(case)
    if expected["result"] == "rejected":
        assert expected["reason"] in str(result)
    else:
        assert getattr(result, "post_key", None) == "first-post", result


def test_a_source_that_is_nothing_exits_2(site: Site, capsys) -> None:
    conf = _site(site)
    assert _import(conf, str(site.root / "nothing-here")) == 2
    assert "neither an mbox file, a Maildir folder nor an imaps:// URL" in capsys.readouterr().err


# IMAP -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dovecot() -> Iterator[imap_server.Dovecot]:
    if not imap_server.available():
        if os.environ.get("ENGAGE_REQUIRE_IMAP"):
            pytest.fail("dovecot (apt-get install dovecot-imapd) is needed for the IMAP tests")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    server = imap_server.Dovecot()
    yield server
    server.close()


@pytest.fixture
def imap_env(dovecot: imap_server.Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert))
    monkeypatch.setenv("ENGAGE_IMAP_PASSWORD", imap_server.PASSWORD)


def test_an_imap_folder_imports_read_only(
    site: Site, dovecot: imap_server.Dovecot, imap_env: None, capsys
) -> None:
    conf = _site(site)
    dovecot.deliver("Blog Comments", [_raw(c) for c in _ordered()])
    url = f"imaps://{imap_server.USER}@127.0.0.1:{dovecot.imaps_port}/Blog%20Comments"
    assert _import(conf, url) == 0
    captured = capsys.readouterr()
    _check(site, captured.out)
    assert imap_server.PASSWORD not in captured.out + captured.err
    # Nothing was marked read on the server.
    assert dovecot.seen("Blog Comments") == []
    # And again: nothing new.
    assert _import(conf, url) == 0
    assert "Wrote 0 comment file(s); 6 already imported" in capsys.readouterr().out


def test_plain_imap_is_for_loopback_only(
    site: Site, dovecot: imap_server.Dovecot, imap_env: None, capsys
) -> None:
    conf = _site(site)
    dovecot.deliver("Plain", [_raw("new-comment")])
    url = f"imap://{imap_server.USER}@127.0.0.1:{dovecot.imap_port}/Plain"
    assert _import(conf, url) == 0
    assert list(_files(site)) == ["<new-comment-1@reader.example>"]
    capsys.readouterr()
    assert _import(conf, "imap://reader@mail.example/INBOX") == 2
    assert "use imaps://" in capsys.readouterr().err


def test_a_wrong_password_exits_2_without_printing_it(
    site: Site, dovecot: imap_server.Dovecot, imap_env: None, monkeypatch, capsys
) -> None:
    conf = _site(site)
    monkeypatch.setenv("ENGAGE_IMAP_PASSWORD", "hunter2-wrong")
    url = f"imaps://{imap_server.USER}@127.0.0.1:{dovecot.imaps_port}/INBOX"
    assert _import(conf, url) == 2
    captured = capsys.readouterr()
    assert "login refused" in captured.err and "nothing imported" in captured.err
    assert "hunter2" not in captured.out + captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_an_unreachable_server_or_no_password_exits_2(
    site: Site, dovecot: imap_server.Dovecot, imap_env: None, monkeypatch, capsys
) -> None:
    conf = _site(site)
    closed = imap_server.free_port()
    assert _import(conf, f"imaps://reader@127.0.0.1:{closed}/INBOX") == 2
    assert "cannot connect" in capsys.readouterr().err
    monkeypatch.delenv("ENGAGE_IMAP_PASSWORD")
    assert _import(conf, f"imaps://reader@127.0.0.1:{dovecot.imaps_port}/INBOX") == 2
    assert "set $ENGAGE_IMAP_PASSWORD" in capsys.readouterr().err
    # A certificate nobody vouches for is refused.
    monkeypatch.setenv("ENGAGE_IMAP_PASSWORD", imap_server.PASSWORD)
    monkeypatch.delenv("SSL_CERT_FILE")
    assert _import(conf, f"imaps://reader@127.0.0.1:{dovecot.imaps_port}/INBOX") == 2
    assert "cannot connect" in capsys.readouterr().err
