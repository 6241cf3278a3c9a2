"""The pelican-engage command: report formats, exit codes and acknowledgements."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pelican_engage.cli import main
from tests.conftest import DATA, Site


@pytest.fixture
def conf(site: Site, monkeypatch: pytest.MonkeyPatch) -> Path:
    site.article("first-post", title="First | post")
    site.article("quiet")
    site.copy_comments("first-post", DATA / "local" / "pcs-thread")
    site.comment("gone-post", "c1.md", "Orphaned comment", author="X", date="2026-01-01")
    path = site.write_conf()
    monkeypatch.chdir(site.root)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_report_follows_the_contract(conf: Path, capsys) -> None:
    code, out, _ = run(capsys, "report", "-s", str(conf), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"generated_at", "waiting", "totals"}
    assert data["totals"] == {"items": 5, "waiting": 2, "hidden": 0, "new": 2}
    rows = data["waiting"]
    assert [r["id"] for r in rows] == ["comment:first-post/c3", "comment:first-post/c5"]
    first = rows[0]
    assert set(first) == {
        "id",
        "source",
        "kind",
        "post",
        "author",
        "published",
        "waiting_days",
        "url",
        "reply_url",
        "excerpt",
        "new",
    }
    assert first["source"] == "local" and first["kind"] == "comment"
    assert first["post"] == {
        "key": "first-post",
        "title": "First | post",
        "url": "https://blog.example/first-post.html",
    }
    assert first["author"] == {"name": "Ann Reader", "handle": "", "url": ""}
    assert first["published"] == "2026-02-02T08:00:00+00:00"
    assert isinstance(first["waiting_days"], float) and first["waiting_days"] > 0
    assert first["url"] == "https://blog.example/first-post.html#engage-comment-first-post-c3"
    assert first["excerpt"].startswith("Great, thank you!")
    # A comment whose post is not on the site is not reported.
    assert "gone-post" not in out
    # The email of a commenter is never printed.
    assert "ann@reader.example" not in out


def test_text_report_is_a_readable_table(conf: Path, capsys) -> None:
    code, out, _ = run(capsys, "report", "-s", str(conf))
    assert code == 0
    lines = out.splitlines()
    # Grouped by post; Ann asks something, so her line says "?".
    assert lines[0] == "First | post  (https://blog.example/first-post.html)"
    assert "Ann Reader" in lines[1] and "? Great, thank you!" in lines[1]
    # Under each row: the id to acknowledge it and the link to answer it.
    assert lines[2].split() == [
        "comment:first-post/c3",
        "reply:",
        "https://blog.example/first-post.html#engage-comment-first-post-c3",
    ]
    assert "Carl" in lines[3]
    assert lines[-1] == "2 waiting for a reply (1 question(s)), of 5 item(s)."


def test_markdown_and_csv_print_the_same_rows(conf: Path, capsys) -> None:
    _, md, _ = run(capsys, "report", "-s", str(conf), "--format", "markdown")
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 2  # header, rule, two rows
    assert "First \\| post" in md  # pipes in titles cannot break the table
    _, out, _ = run(capsys, "report", "-s", str(conf), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["comment:first-post/c3", "comment:first-post/c5"]
    assert rows[1]["author_name"] == "Carl"


def test_fail_on_waiting_exits_1_and_ack_clears_it(conf: Path, capsys) -> None:
    code, _, _ = run(capsys, "report", "-s", str(conf), "--fail-on-waiting")
    assert code == 1
    for item in ("comment:first-post/c3", "comment:first-post/c5"):
        code, out, _ = run(capsys, "ack", item, "-s", str(conf), "--note", "answered by mail")
        assert code == 0 and "acknowledged" in out
    code, out, _ = run(capsys, "ack", "comment:first-post/c5", "-s", str(conf))
    assert "already" in out
    code, out, _ = run(capsys, "report", "-s", str(conf), "--fail-on-waiting")
    assert code == 0
    assert "Nobody is waiting" in out
    acks = json.loads((conf.parent / "archive" / "acknowledged.json").read_text())
    assert acks["items"]["comment:first-post/c3"]["note"] == "answered by mail"


def test_usage_and_configuration_errors_exit_2(
    conf: Path, capsys, tmp_path: Path, site: Site
) -> None:
    code, _, err = run(capsys, "ack", "comment:first-post/typo", "-s", str(conf))
    assert code == 2 and "no item 'comment:first-post/typo'" in err
    code, _, err = run(capsys, "report", "-s", str(tmp_path / "missing.py"))
    assert code == 2 and "not found" in err
    bad = site.write_conf(ENGAGE_DISPLAY_DEPTH=0)
    code, _, err = run(capsys, "report", "-s", str(bad))
    assert code == 2 and "ENGAGE_DISPLAY_DEPTH" in err
    with pytest.raises(SystemExit) as exc:
        main(["report", "--format", "yaml"])
    assert exc.value.code == 2


def test_console_script_runs_in_a_subprocess(conf: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent))
    result = subprocess.run(
        [sys.executable, "-m", "pelican_engage.cli", "report", "-s", str(conf), "--format", "json"],
        capture_output=True,
        text=True,
        cwd=conf.parent,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["waiting"] == 2


def test_report_reads_articles_that_come_from_the_sites_plugins(
    site: Site, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins = site.root / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "txtreader.py").write_text(
        "from pelican import signals\n"
        "from pelican.readers import BaseReader\n\n\n"
        "class TxtReader(BaseReader):\n"
        "    enabled = True\n"
        "    file_extensions = ['txt']\n\n"
        "    def read(self, path):\n"
        "        meta = {'title': 'Plain', 'date': self.process_metadata('date', '2026-01-01')}\n"
        "        return '<p>plain text post</p>', meta\n\n\n"
        "def add(readers):\n"
        "    readers.reader_classes['txt'] = TxtReader\n\n\n"
        "def register():\n"
        "    signals.readers_init.connect(add)\n"
    )
    (site.content / "plain.txt").write_text("plain\n")
    site.comment("plain", "c1.md", "A question on a plain post?", author="Q", date="2026-01-02")
    conf = site.write_conf(PLUGIN_PATHS=[str(plugins)])
    conf.write_text(
        conf.read_text().replace(
            "PLUGINS = ['pelican_engage']", "PLUGINS = ['txtreader', 'pelican_engage']"
        )
    )
    monkeypatch.chdir(site.root)
    code, out, _ = run(capsys, "report", "-s", str(conf), "--format", "json")
    assert code == 0
    assert [r["id"] for r in json.loads(out)["waiting"]] == ["comment:plain/c1"]


def test_markdown_report_escapes_strangers_markup(site: Site, capsys, monkeypatch) -> None:
    site.article("post")
    site.comment(
        "post", "c1.md", "Hi", author="&lt;script&gt;x&lt;/script&gt; [a](b)", date="2026-01-02"
    )
    conf = site.write_conf()
    monkeypatch.chdir(site.root)
    _, out, _ = run(capsys, "report", "-s", str(conf), "--format", "markdown")
    assert "\\<script\\>x\\</script\\> \\[a\\]\\(b\\)" in out
