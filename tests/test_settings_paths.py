"""The archive and the author's page are found from the settings file.

A relative ENGAGE_ARCHIVE_PATH or ENGAGE_REPORT_PAGE is relative to the
folder of the settings file, as Pelican makes PATH: the build and every
command find the same archive from any folder.  Each test runs from a
folder that is not the site's.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pelican import Pelican
from pelican.settings import read_settings

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.model import Item, Person
from pelican_engage.settings import settings_folder
from tests.conftest import Site

ITEM = "mastodon:social.example/77"


def _conf(site: Site, **extra: object) -> Path:
    lines = {
        "PATH": "content",
        "OUTPUT_PATH": "output",
        "CACHE_PATH": "cache",
        "SITEURL": "https://blog.example",
        "AUTHOR": "Marin",
        "TIMEZONE": "UTC",
        "PLUGINS": ["pelican_engage"],
        "FEED_ALL_ATOM": None,
        "CATEGORY_FEED_ATOM": None,
        **extra,
    }
    conf = site.root / "pelicanconf.py"
    conf.write_text("".join(f"{k} = {v!r}\n" for k, v in lines.items()), encoding="utf-8")
    return conf


def _archive_reply(folder: Path) -> None:
    Archive(folder).merge(
        "post",
        [
            Item(
                id=ITEM,
                source="mastodon",
                kind="reply",
                author=Person(name="Ann", handle="ann@social.example"),
                published=datetime(2026, 1, 3, tzinfo=timezone.utc),
                content_html="<p>Archived question?</p>",
                url="https://social.example/@ann/77",
            )
        ],
    )


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize(
    ("setting", "folder"),
    [({"ENGAGE_ARCHIVE_PATH": "archive"}, "archive"), ({}, "engage-archive")],
    ids=["set", "default"],
)
def test_commands_find_the_archive_from_another_folder(
    site: Site, elsewhere: Path, capsys, setting: dict[str, str], folder: str
) -> None:
    site.article("post")
    _archive_reply(site.root / folder)
    conf = _conf(site, **setting)
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert [row["id"] for row in json.loads(out)["waiting"]] == [ITEM]
    assert "does not exist" not in err
    # ack writes beside the archive, never a stray file where it runs.
    assert main(["ack", ITEM, "-s", str(conf)]) == 0
    assert capsys.readouterr()[0] == f"{ITEM} acknowledged.\n"
    assert (site.root / folder / "acknowledged.json").is_file()
    assert list(elsewhere.iterdir()) == []
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr()[0])["waiting"] == []


def test_a_relative_settings_path_works_too(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    site.article("post")
    _archive_reply(site.root / "archive")
    _conf(site, ENGAGE_ARCHIVE_PATH="archive")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "-s", "site/pelicanconf.py", "--format", "json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr()[0])["waiting"]] == [ITEM]


def test_a_missing_archive_folder_is_told(site: Site, elsewhere: Path, capsys) -> None:
    site.article("post", mastodon="https://social.example/@marin/1")
    conf = _conf(site, ENGAGE_ARCHIVE_PATH="archive")
    assert main(["report", "-s", str(conf)]) == 0
    _out, err = capsys.readouterr()
    assert f"the archive folder {site.root / 'archive'} does not exist" in err


def test_a_site_of_local_comments_needs_no_archive(site: Site, elsewhere: Path, capsys) -> None:
    site.article("post")
    site.comment("post", "c1.md", "Hi", author="Ann", date="2026-01-03")
    assert main(["report", "-s", str(_conf(site))]) == 0
    assert capsys.readouterr().err == ""


def test_a_build_finds_the_archive_and_writes_the_page_from_the_settings_folder(
    site: Site, elsewhere: Path
) -> None:
    site.article("post")
    _archive_reply(site.root / "archive")
    conf = _conf(site, ENGAGE_ARCHIVE_PATH="archive", ENGAGE_REPORT_PAGE="private/waiting.html")
    # As `pelican -s site/pelicanconf.py` does it.
    Pelican(read_settings(str(conf))).run()
    assert "Archived question?" in (site.output / "post.html").read_text(encoding="utf-8")
    assert (site.root / "private" / "waiting.html").is_file()
    assert not (elsewhere / "private").exists()
    assert list(elsewhere.iterdir()) == []


def test_an_offline_build_warns_when_the_archive_folder_is_missing(
    site: Site, elsewhere: Path, engage_warnings
) -> None:
    site.article("post", mastodon="https://social.example/@marin/1")
    conf = _conf(site, ENGAGE_ARCHIVE_PATH="archive", ENGAGE_OFFLINE=True)
    Pelican(read_settings(str(conf))).run()
    assert any(str(site.root / "archive") in w for w in engage_warnings())


def test_settings_made_in_code_keep_their_paths(site: Site) -> None:
    # Nothing proves a settings file: relative paths stay as they are.
    assert settings_folder(site.settings(PATH=str(site.content))) is None
    settings = read_settings(str(_conf(site)))
    assert settings_folder(settings) == str(site.root)


def test_publishconf_importing_pelicanconf_is_found_too(
    site: Site, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    site.article("post")
    _archive_reply(site.root / "archive")
    _conf(site, ENGAGE_ARCHIVE_PATH="archive")
    publish = site.root / "publishconf.py"
    publish.write_text(
        "import os, sys\nsys.path.append(os.path.dirname(__file__))\n"
        "from pelicanconf import *\nENGAGE_REPORT_PAGE = 'private/page.html'\n",
        encoding="utf-8",
    )
    # Another test's pelicanconf must not stand in for this site's.
    monkeypatch.delitem(sys.modules, "pelicanconf", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    settings = read_settings(str(publish))
    assert settings_folder(settings) == str(site.root)
    Pelican(settings).run()
    assert "Archived question?" in (site.output / "post.html").read_text(encoding="utf-8")
    assert (site.root / "private" / "page.html").is_file()
