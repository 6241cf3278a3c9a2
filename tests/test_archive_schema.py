"""Archive schema 2: what decides trust, waiting and dedup is typed (issue 12,
point 4), and schema-1 files, which kept it among the extras, still read.

``tests/data/archive/v1-trust-extras.json`` is a schema-1 file with every
such key in ``extras``; ``v2-trust-fields.json`` is the same archive as this
version writes it.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pelican_engage.archive import SCHEMA, Archive
from pelican_engage.consent import consent
from pelican_engage.conversation import build_thread
from pelican_engage.dedup import item_keys
from pelican_engage.model import Item, Person, Post
from pelican_engage.settings import author_identity

DATA = Path(__file__).parent / "data" / "archive"
WHEN = datetime(2026, 1, 3, tzinfo=timezone.utc)


def _archive_with(tmp_path: Path, fixture: str) -> Archive:
    archive = Archive(tmp_path / "archive")
    path = archive.post_path("hello")
    path.parent.mkdir(parents=True)
    shutil.copy(DATA / fixture, path)
    return archive


@pytest.mark.parametrize("fixture", ["v1-trust-extras.json", "v2-trust-fields.json"])
def test_both_schemas_read_into_typed_fields(tmp_path: Path, fixture: str) -> None:
    items = _archive_with(tmp_path, fixture).load("hello").items
    ann = items["bluesky:at://did:plc:ann/app.bsky.feed.post/3k"]
    assert ann.hidden and ann.root == "at://did:plc:marin/app.bsky.feed.post/1"
    assert ann.reply_url == "https://bsky.app/profile/ann.example/post/3k"
    # Display-only figures stay extras; no decision reads them.
    assert dict(ann.extras) == {"did": "did:plc:ann", "likes": 1, "warnings": ["spoiler"]}
    bo = items["mastodon:social.example/7"]
    assert (bo.visibility, bo.withheld, bo.root) == ("unlisted", "unlisted", "1")
    cy = items["webmention:42"]
    assert cy.wm_source == "https://cy.example/reply"
    assert cy.syndication == ("https://social.example/@cy/8",)
    assert not cy.extras
    assert items["wordpress:blog.example/13"].by_author


def test_an_old_file_decides_as_a_new_one(tmp_path: Path) -> None:
    old = _archive_with(tmp_path / "1", "v1-trust-extras.json").load("hello").items
    new = _archive_with(tmp_path / "2", "v2-trust-fields.json").load("hello").items
    assert old == new
    author = author_identity({"names": ["Marin"]})
    for items in (old, new):
        thread, _problems = build_thread(Post("hello"), list(items.values()), author)
        # The WordPress mark is trusted; hidden and withheld replies are not shown.
        assert thread.by_author == {"wordpress:blog.example/13"}
        assert set(thread.hidden) == {
            "bluesky:at://did:plc:ann/app.bsky.feed.post/3k",
            "mastodon:social.example/7",
        }
        # Dedup keys come from the typed source page, which vouches for
        # its own URL and not for a link on another host.
        assert item_keys(items["webmention:42"]) == {"url:cy.example/reply"}


def test_upgrade_rewrites_an_old_file_in_the_new_form_once(tmp_path: Path) -> None:
    archive = _archive_with(tmp_path, "v1-trust-extras.json")
    assert archive.upgrade() == ["hello"]
    path = archive.post_path("hello")
    assert path.read_bytes() == (DATA / "v2-trust-fields.json").read_bytes()
    assert json.loads(path.read_text())["schema"] == SCHEMA == 2
    assert archive.upgrade() == []


def test_a_merge_writes_an_old_file_in_the_new_form(tmp_path: Path) -> None:
    archive = _archive_with(tmp_path, "v1-trust-extras.json")
    new = Item("local:c1", "local", "comment", Person("Dee"), WHEN)
    assert archive.merge("hello", [new]).added == 1
    data = json.loads(archive.post_path("hello").read_text())
    assert data["schema"] == 2
    assert data["items"]["wordpress:blog.example/13"]["by_author"] is True
    assert "extras" not in data["items"]["wordpress:blog.example/13"]


def test_typed_fields_are_not_extras_any_more() -> None:
    item = Item("webmention:1", "webmention", "reply", Person("A"), WHEN, extras={"wm_source": "x"})
    # Given the old way, read the new way: one place for each fact.
    assert item.wm_source == "x" and "wm_source" not in item.extras
    assert "wm_source" in item.to_dict() and "extras" not in item.to_dict()


def test_consent_reads_the_typed_withheld() -> None:
    quiet = Item("mastodon:h/1", "mastodon", "reply", Person("Q"), WHEN, withheld="unlisted")
    answer = Item("mastodon:h/2", "mastodon", "reply", Person("R"), WHEN, in_reply_to=quiet.id)
    result = consent([quiet, answer], (), lambda item: False)
    assert [i.id for i in result.visible] == ["mastodon:h/2"]


def test_the_upgrade_command_rewrites_old_files_and_names_a_damaged_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pelican_engage.cli import main
    from tests.conftest import Site

    site = Site(tmp_path / "site")
    conf = site.write_conf()
    posts = site.root / "archive" / "posts"
    posts.mkdir(parents=True)
    shutil.copy(DATA / "v1-trust-extras.json", posts / "hello.json")
    assert main(["upgrade", "-s", str(conf)]) == 0
    out = capsys.readouterr().out
    assert f"upgraded {posts / 'hello.json'}" in out and "1 archive file(s) rewritten" in out
    assert (posts / "hello.json").read_bytes() == (DATA / "v2-trust-fields.json").read_bytes()
    assert main(["upgrade", "-s", str(conf)]) == 0
    assert "(all were current)" in capsys.readouterr().out

    (posts / "broken.json").write_text('{"schema": 1, "items": [', encoding="utf-8")
    before = (posts / "broken.json").read_bytes()
    assert main(["upgrade", "-s", str(conf)]) == 1
    err = capsys.readouterr().err
    assert "broken.json" in err
    assert (posts / "broken.json").read_bytes() == before


def test_the_upgrade_command_goes_on_past_damaged_files_and_names_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A damaged file sorted before an old one must not keep that one old:
    every readable old file is rewritten, every damaged one named (exit 1)."""
    from pelican_engage.cli import main
    from tests.conftest import Site

    site = Site(tmp_path / "site")
    conf = site.write_conf()
    posts = site.root / "archive" / "posts"
    posts.mkdir(parents=True)
    (posts / "a-broken.json").write_text('{"schema": 1, "items": [', encoding="utf-8")
    (posts / "b-newer.json").write_text('{"schema": 99, "items": {}}', encoding="utf-8")
    (posts / "c-no-id.json").write_text(
        '{"schema": 1, "post": "c-no-id", "items": {"x": {}}}', encoding="utf-8"
    )
    shutil.copy(DATA / "v1-trust-extras.json", posts / "hello.json")
    damaged = {p.name: p.read_bytes() for p in posts.iterdir() if p.name != "hello.json"}

    assert main(["upgrade", "-s", str(conf)]) == 1
    captured = capsys.readouterr()
    assert f"upgraded {posts / 'hello.json'}" in captured.out
    assert (posts / "hello.json").read_bytes() == (DATA / "v2-trust-fields.json").read_bytes()
    for name, before in damaged.items():
        assert name in captured.err
        assert (posts / name).read_bytes() == before
    assert "3 archive file(s) could not be read" in captured.err
