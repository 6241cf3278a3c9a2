"""`pelican-engage inbox`: scripted through standard input, and at a real
pseudo-terminal (pexpect)."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from pelican_engage.cli import main
from tests.conftest import Site


@pytest.fixture
def conf(site: Site, monkeypatch: pytest.MonkeyPatch) -> Path:
    site.article("hello", title="Hello world")
    site.comment("hello", "c1.md", "Nice post.", author="Bo", date="2026-11-01T10:00")
    site.comment("hello", "c2.md", "How did you do it?", author="Al", date="2026-11-02T10:00")
    site.comment("hello", "c3.md", "I agree with Bo.", author="Cy", date="2026-11-03T10:00")
    site.comment("hello", "m1.md", "Thanks!", author="Marin", date="2026-11-04", replyto="c1")
    site.comment("hello", "c4.md", "Still, why?", author="Bo", date="2026-11-05", replyto="m1")
    monkeypatch.chdir(site.root)
    return site.write_conf()


def waiting(capsys: pytest.CaptureFixture[str], conf: Path) -> list[str]:
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    return [r["id"] for r in json.loads(capsys.readouterr().out)["waiting"]]


def test_scripted_inbox_acknowledges_snoozes_replies_and_counts(
    conf: Path, site: Site, capsys, monkeypatch
) -> None:
    assert waiting(capsys, conf) == ["comment:hello/c2", "comment:hello/c4", "comment:hello/c3"]
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    script = "o\nr\nWith care.\n\nTwo lines.\n.\nbogus\na\nq\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    assert main(["inbox", "-s", str(conf)]) == 0
    out = capsys.readouterr().out
    # Questions first, each shown with its post and counter.
    assert out.index("How did you do it?") < out.index("Still, why?")
    assert "[1/3] 3 waiting" in out and "[2/3] 2 waiting" in out
    assert "post: Hello world" in out
    # c4 answers the author's reply to c1: the parent is shown.
    assert "in reply to Marin: Thanks!" in out
    assert opened == ["https://blog.example/hello.html#engage-comment-hello-c2"]
    assert "unknown command 'bogus'" in out
    assert "1 replied, 1 acknowledged, 0 snoozed, 0 skipped, 1 still waiting" in out
    replies = list((site.content / "comments" / "hello").glob("reply-*.md"))
    (written,) = replies
    text = written.read_text(encoding="utf-8")
    assert "replyto: c2" in text and text.rstrip().endswith("With care.\n\nTwo lines.")
    assert waiting(capsys, conf) == ["comment:hello/c3"]


def test_snoozes_and_the_end_of_input(conf: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("s\nw\n"))
    assert main(["inbox", "-s", str(conf)]) == 0
    out = capsys.readouterr().out
    assert out.count("snoozed until") == 2 and "2 snoozed" in out and "1 still waiting" in out
    assert waiting(capsys, conf) == ["comment:hello/c3"]


def test_an_empty_inbox_says_so(site: Site, capsys, monkeypatch) -> None:
    site.article("hello")
    monkeypatch.chdir(site.root)
    conf = site.write_conf()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["inbox", "-s", str(conf)]) == 0
    assert "Nobody is waiting" in capsys.readouterr().out


def test_inbox_at_a_terminal_with_an_editor(conf: Path, site: Site, tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    editor = tmp_path / "editor.py"
    # An "editor" that writes the reply above the scissors line it was given.
    editor.write_text(
        "import sys\np = sys.argv[1]\nold = open(p).read()\n"
        "open(p, 'w').write('Typed in the editor.' + old)\n",
        encoding="utf-8",
    )
    env = dict(os.environ, EDITOR=f"{sys.executable} {editor}", BROWSER="true")
    env.pop("VISUAL", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "pelican_engage.cli", "inbox", "-s", str(conf)],
        env=env,
        cwd=str(site.root),
        encoding="utf-8",
        timeout=60,
    )
    child.expect(r"\[1/3\] 3 waiting")
    child.expect("How did you do it")
    child.expect(r"\[q\]uit > ")
    child.sendline("n")
    child.expect(r"\[2/3\] 2 waiting")
    child.expect(r"\[q\]uit > ")
    child.sendline("r")
    child.expect("your reply to comment:hello/c4")
    child.expect(r"\[3/3\] 1 waiting")
    child.sendline("q")
    child.expect("1 replied, 0 acknowledged, 0 snoozed, 1 skipped, 1 still waiting")
    child.expect(pexpect.EOF)
    (written,) = (site.content / "comments" / "hello").glob("reply-*.md")
    text = written.read_text(encoding="utf-8")
    assert "replyto: c4" in text and text.rstrip().endswith("Typed in the editor.")


def test_a_dry_run_inbox_shows_and_keeps_the_item(
    conf: Path, site: Site, capsys, monkeypatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("r Thanks!\nn\nq\n"))
    assert main(["inbox", "--dry-run", "-s", str(conf)]) == 0
    out = capsys.readouterr().out
    assert "dry run: would write" in out and "Thanks!" in out
    assert "0 replied, 0 acknowledged, 0 snoozed, 1 skipped, 2 still waiting" in out
    assert list((site.content / "comments" / "hello").glob("reply-*.md")) == []
