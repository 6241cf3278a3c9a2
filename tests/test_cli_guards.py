"""The command line does what the user meant, and says what it did.

Typos are errors (settings, --source, --post, --older-than), offline means
no request, fetch names the archive files it skipped and fails when every
fetch failed, and the progress and --help say enough.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from pelican_engage import cli, cli_fetch, report
from pelican_engage.cli import main
from pelican_engage.fetch import Job
from pelican_engage.settings import DEFAULTS, SettingsError, load
from tests.conftest import Site
from tests.loopback import Server, send
from tests.test_fetch import serve_mastodon

# -- Typos in settings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("ENGAGE_SHOW_WATING", "ENGAGE_SHOW_WAITING"),
        ("ENGAGE_ARCHIVE_PTH", "ENGAGE_ARCHIVE_PATH"),
        ("ENGAGE_MASTADON", "ENGAGE_MASTODON"),
        ("ENGAGE_FETCH_BUGDET", "ENGAGE_FETCH_BUDGET"),
        ("ENGAGE_AUTHORS", "ENGAGE_AUTHOR"),
    ],
)
def test_an_unknown_setting_is_named_with_the_closest_known_one(typo: str, meant: str) -> None:
    with pytest.raises(SettingsError, match=f"{typo}.*did you mean {meant}\\?") as raised:
        load({typo: True})
    assert raised.value.key == typo


def test_an_unknown_setting_far_from_any_is_still_an_error() -> None:
    with pytest.raises(SettingsError, match="unknown setting ENGAGE_ZEBRA;") as raised:
        load({"ENGAGE_ZEBRA": 1})
    assert "did you mean" not in str(raised.value)
    # Known keys and other plugins' settings are fine.
    load({**DEFAULTS, "OTHER_PLUGIN_SETTING": 1})


def test_a_token_pasted_into_settings_is_named_but_not_echoed() -> None:
    with pytest.raises(SettingsError, match="environment variable holding a secret") as raised:
        load({"ENGAGE_MASTODON_TOKEN": "s3cr3t-value"})
    assert "s3cr3t" not in str(raised.value)


def test_an_unknown_setting_stops_the_cli_and_the_build_says_so(
    site: Site, capsys, engage_warnings, caplog
) -> None:
    site.article("post")
    conf = site.write_conf(ENGAGE_SHOW_WATING=True)
    assert main(["report", "-s", str(conf)]) == 2
    assert "ENGAGE_SHOW_WATING (did you mean ENGAGE_SHOW_WAITING?)" in capsys.readouterr().err
    site.build(ENGAGE_SHOW_WATING=True)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("did you mean ENGAGE_SHOW_WAITING?" in e for e in errors)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ENGAGE_MASTODON", {"reactions": "no"}),
        ("ENGAGE_MASTODON", {"reactions": 0}),
        ("ENGAGE_MASTODON", {"unlisted": "no"}),
        ("ENGAGE_BLUESKY", {"reactions": "no"}),
        ("ENGAGE_TWITTER", {"discover": "yes"}),
        ("ENGAGE_OFFLINE", "no"),
        ("ENGAGE_INJECT", "no"),
        ("ENGAGE_CSS", 0),
        ("ENGAGE_SHOW_WAITING", "yes"),
        ("ENGAGE_ANSWER_BY_MENTION", None),
    ],
)
def test_every_boolean_takes_only_true_or_false(key: str, value: object) -> None:
    with pytest.raises(SettingsError, match="expected True or False"):
        load({key: value})


@pytest.mark.parametrize(
    ("refresh", "problem"),
    [
        ({"min_seconds": 7200, "max_seconds": 60}, "min_seconds .7200. is more than max_seconds"),
        ({"min_seconds": 10 * 86400}, "more than max_seconds .604800."),
        ({"max_seconds": 60}, "min_seconds .3600. is more than max_seconds .60."),
        ({"ratio": -0.1}, "expected a number >= 0"),
        ({"min_seconds": float("nan")}, "finite"),
        ({"max_seconds": float("inf")}, "finite"),
        ({"min_seconds": "1h"}, "expected a number"),
        ({"min_seconds": True}, "expected a number"),
    ],
)
def test_refresh_is_checked(refresh: dict[str, object], problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        load({"ENGAGE_REFRESH": refresh})


def test_refresh_accepts_sound_values() -> None:
    settings = load({"ENGAGE_REFRESH": {"min_seconds": 0, "max_seconds": 0, "ratio": 0.5}})
    assert settings.refresh == {"min_seconds": 0.0, "max_seconds": 0.0, "ratio": 0.5}
    assert load({"ENGAGE_REFRESH": {"min_seconds": 60, "max_seconds": 60}}).refresh


def test_the_refresh_defaults_are_the_fetchers() -> None:
    from dataclasses import asdict

    from pelican_engage.fetch import Refresh
    from pelican_engage.settings import _REFRESH_DEFAULTS

    assert asdict(Refresh()) == _REFRESH_DEFAULTS


# -- Durations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30min", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("2d", timedelta(days=2)),
        ("1.5d", timedelta(hours=36)),
        ("3w", timedelta(weeks=3)),
        ("1mo", timedelta(days=30)),
        ("2 months", timedelta(days=60)),
        (" 4 HOURS ", timedelta(hours=4)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert report.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["1m", "5y", "", "abc", "-2d", "2", "d"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ambiguous" if text == "1m" else "not a duration"):
        report.parse_duration(text)


# -- --source, --post and --older-than on the command line ---------------------------


@pytest.fixture
def conf(site: Site, monkeypatch: pytest.MonkeyPatch) -> Path:
    site.article("first-post")
    site.article("second-post")
    site.comment("first-post", "c1.md", "Hello?", author="Ann", date="2026-01-03")
    monkeypatch.chdir(site.root)
    return site.write_conf()


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--source", "mastodn"],
        ["report", "--source", "twitter-discover"],
        ["fetch", "--source", "local"],
        ["fetch", "--source", "bsky"],
    ],
)
def test_source_takes_only_known_names(conf: Path, capsys, args: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*args, "-s", str(conf)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and "mastodon" in err and "wordpress" in err


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--post", "first-pots"],
        ["fetch", "--post", "first-pots"],
        ["import", "wordpress-wxr", "export.xml", "--post", "first-pots"],
        ["import", "twitter-archive", "x.zip", "--post", "first-pots"],
    ],
)
def test_post_takes_only_existing_post_keys(conf: Path, capsys, args: list[str]) -> None:
    assert main([*args, "-s", str(conf)]) == 2
    err = capsys.readouterr().err
    assert "--post 'first-pots': no such post; did you mean first-post?" in err
    assert "post keys: first-post, second-post" in err


def test_known_source_and_post_still_work(conf: Path, capsys) -> None:
    code = main(["report", "-s", str(conf), "--post", "first-post", "--source", "local"])
    assert code == 0
    assert "Ann" in capsys.readouterr().out


def test_older_than_1m_is_refused_on_the_command_line(conf: Path, capsys) -> None:
    assert main(["report", "-s", str(conf), "--older-than", "1m"]) == 2
    assert "ambiguous: write 1min or 1mo" in capsys.readouterr().err
    assert main(["report", "-s", str(conf), "--older-than", "1mo", "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["snooze", "comment:first-post/c1", "-s", str(conf), "--until", "1m"]) == 2
    assert "--until: '1m' is ambiguous" in capsys.readouterr().err


# -- Offline means offline ------------------------------------------------------------


@pytest.fixture
def announced(site: Site, server: Server, monkeypatch: pytest.MonkeyPatch) -> Site:
    serve_mastodon(server, "110000000000000001")
    site.article("post", mastodon=f"{server.url}/@marin/110000000000000001")
    monkeypatch.chdir(site.root)
    return site


@pytest.mark.parametrize("how", ["setting", "environment"])
def test_offline_fetch_and_report_send_nothing(
    announced: Site, server: Server, capsys, monkeypatch, how: str
) -> None:
    if how == "setting":
        conf = announced.write_conf(ENGAGE_OFFLINE=True)
    else:
        conf = announced.write_conf()
        monkeypatch.setenv("ENGAGE_OFFLINE", "1")
    assert main(["fetch", "-s", str(conf), "--force"]) == 0
    out = capsys.readouterr().out
    assert "offline (ENGAGE_OFFLINE" in out and "nothing fetched" in out
    assert main(["report", "-s", str(conf), "--fetch"]) == 0
    assert "offline (ENGAGE_OFFLINE" in capsys.readouterr().err
    assert server.hits == {}
    assert not (announced.root / "archive").exists()


def test_online_fetch_does_send(announced: Site, server: Server, capsys) -> None:
    # The positive control of the test above.
    assert main(["fetch", "-s", str(announced.write_conf()), "--force"]) == 0
    assert server.hits


# -- What fetch says, and its exit status ---------------------------------------------


def _two_posts(site: Site, server: Server, statuses: dict[str, int]) -> Path:
    for n, (status_id, code) in enumerate(statuses.items()):
        if code == 200:
            serve_mastodon(server, status_id)
        else:
            base = f"/api/v1/statuses/{status_id}"
            server.routes[base] = lambda h, _n, c=code: send(h, c, b"{}")
        site.article(f"post-{n}", mastodon=f"{server.url}/@marin/{status_id}")
    return site.write_conf()


def test_fetch_exits_1_when_every_fetch_failed(
    site: Site, server: Server, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(site.root)
    conf = _two_posts(site, server, {"1": 400, "2": 403})
    assert main(["fetch", "-s", str(conf), "--force"]) == 1
    assert "2 error(s)" in capsys.readouterr().out


def test_fetch_exits_0_when_some_fetch_worked(
    site: Site, server: Server, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(site.root)
    conf = _two_posts(site, server, {"110000000000000001": 200, "2": 400})
    assert main(["fetch", "-s", str(conf), "--force"]) == 0
    out, err = capsys.readouterr()
    assert "1 error(s)" in out
    # Off a terminal, a line per job: done of due, requests and errors so far.
    assert "(2/2 done," in err and "1 error(s))" in err


def test_fetch_names_the_damaged_archive_files_it_skipped(
    site: Site, server: Server, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(site.root)
    conf = _two_posts(site, server, {"110000000000000001": 200, "110000000000000002": 200})
    damaged = site.root / "archive" / "posts" / "post-1.json"
    damaged.parent.mkdir(parents=True)
    damaged.write_text("{ not json", encoding="utf-8")
    assert main(["fetch", "-s", str(conf), "--force"]) == 0
    out = capsys.readouterr().out
    assert "skipped 1 post(s) whose archive file is damaged" in out
    assert str(damaged) in out
    assert damaged.read_text(encoding="utf-8") == "{ not json"  # never overwritten
    assert json.loads((damaged.parent / "post-0.json").read_text())["items"]


# -- Progress and help ----------------------------------------------------------------


def _jobs() -> list[Job]:
    from datetime import datetime, timezone

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return [Job(f"post-{n}", "mastodon", f"t{n}", "h", when) for n in range(3)]


@pytest.mark.parametrize("terminal", [True, False], ids=["bar", "lines"])
def test_progress_shows_counts_requests_errors_and_the_post(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    with cli_fetch.progress(terminal=terminal) as tick:
        for job, outcome, requests in zip(_jobs(), ("ok", "failed", "ok"), (2, 3, 5), strict=True):
            tick(job, outcome, requests, 3)
    shown = err.getvalue()
    assert "3/3" in shown
    assert "5 request(s)" in shown and "1 error(s)" in shown
    assert "post-2" in shown


def _commands() -> dict[str, object]:
    parser = cli._parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    return dict(commands.choices)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_and_option_is_described_in_help(name: str) -> None:
    command = _commands()[name]
    assert command.description, f"{name} --help has no description"  # type: ignore[attr-defined]
    for action in command._actions:  # type: ignore[attr-defined]
        assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_report_sources_are_every_source_items_come_from() -> None:
    import importlib
    import pkgutil

    import pelican_engage.importers
    import pelican_engage.sources

    found = set()
    for package in (pelican_engage.sources, pelican_engage.importers):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            if isinstance(getattr(module, "SOURCE", None), str):
                found.add(module.SOURCE)
    assert found <= set(cli.REPORT_SOURCES)
    assert {"local", "disqus", "twitter", "wordpress"} <= found
