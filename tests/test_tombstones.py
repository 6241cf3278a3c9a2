"""Tombstones: an item the network confirmed deleted, or erased on request,
leaves the archive for good; nothing merely missing from an answer does."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pelican_engage.archive import Archive, identities, identities_of
from pelican_engage.fetch import Fetcher, Job, Result
from pelican_engage.model import Item, Person, Tombstone

WHEN = datetime(2026, 1, 2, 10, 0, tzinfo=timezone.utc)


def item(n: int, parent: str | None = None, who: str = "reader", **extras: Any) -> Item:
    return Item(
        id=f"bluesky:at://did:plc:{who}/app.bsky.feed.post/r{n}",
        source="bluesky",
        kind="reply",
        author=Person(
            name=f"Reader {who}",
            handle=f"{who}.bsky.example",
            url=f"https://bsky.app/profile/{who}.bsky.example",
        ),
        published=WHEN + timedelta(minutes=n),
        content_html=f"<p>Secret words {n} of {who}</p>",
        url=f"https://bsky.app/profile/{who}.bsky.example/post/r{n}",
        in_reply_to=parent,
        extras={"did": f"did:plc:{who}", **extras},
    )


def test_a_tombstone_keeps_id_source_time_and_place_and_nothing_else(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    first, answer = item(1), item(2, parent=item(1).id, who="other")
    archive.merge("post", [first, answer])
    stones = archive.tombstone("post", [first.id], at=WHEN)
    assert stones == [Tombstone(first.id, "bluesky", WHEN, "deleted", None)]
    text = archive.post_path("post").read_text()
    assert "Secret words 1" not in text and "Reader reader" not in text
    assert "reader.bsky.example/post" not in text
    data = json.loads(text)
    assert data["tombstones"][first.id] == {
        "id": first.id,
        "source": "bluesky",
        "at": WHEN.isoformat(),
        "reason": "deleted",
    }
    # Its reply stays, still naming its parent.
    record = archive.load("post")
    assert set(record.items) == {answer.id}
    assert record.items[answer.id].in_reply_to == first.id
    # A second confirmation changes nothing.
    assert archive.tombstone("post", [first.id]) == []


def test_later_fetches_and_imports_do_not_bring_a_tombstoned_item_back(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    archive.merge("post", [item(1)])
    archive.tombstone("post", [item(1).id])
    # Not archived yet (a local comment, a later import): tombstoned all the same.
    archive.tombstone("post", [item(9).id], reason="forgotten")
    result = archive.merge("post", [item(1), item(9), item(3)])
    assert (result.added, result.refused) == (1, 2)
    assert set(archive.load("post").items) == {item(3).id}
    assert archive.load("post").tombstones[item(9).id].reason == "forgotten"


def test_a_hand_edited_file_cannot_resurrect_an_item(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    archive.merge("post", [item(1), item(2)])
    archive.tombstone("post", [item(1).id])
    path = archive.post_path("post")
    data = json.loads(path.read_text())
    data["items"][item(1).id] = item(1).to_dict()
    path.write_text(json.dumps(data))
    assert set(Archive(tmp_path).load("post").items) == {item(2).id}


def test_an_archive_without_tombstones_is_written_as_before(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    archive.merge("post", [item(1)])
    assert "tombstones" not in json.loads(archive.post_path("post").read_text())


def test_a_forgotten_person_is_not_fetched_again_and_not_named_in_the_file(
    tmp_path: Path,
) -> None:
    archive = Archive(tmp_path)
    archive.merge("post", [item(1, who="quiet")])
    assert archive.forget_person(identities_of("@quiet.bsky.example")) == 1
    # A new reply by them, under a new handle but the same DID: refused.
    renamed = Item(
        **{
            **item(5, who="quiet").__dict__,
            "author": Person(name="Q", handle="new.example"),
        }
    )
    result = archive.merge("post", [renamed, item(6, who="other")])
    assert result.refused == 0  # the DID was not known yet
    assert archive.forget_person(identities(item(1, who="quiet").author, {"did": "did:plc:quiet"}))
    assert archive.merge("post", [item(7, who="quiet")]).refused == 1
    text = (tmp_path / "forgotten.json").read_text()
    assert "quiet" not in text


def test_identities_of_urls_handles_and_dids() -> None:
    assert identities_of("https://bsky.app/profile/Ana.bsky.example/") == {
        "url:bsky.app/profile/ana.bsky.example",
        "handle:ana.bsky.example",
    }
    assert identities_of("https://social.example/@bo") == {
        "url:social.example/@bo",
        "handle:bo@social.example",
    }
    assert identities_of("@bo@social.example") == {"handle:bo@social.example"}
    assert identities_of("did:plc:abc") == {"handle:did:plc:abc"}


class Gone:
    """A source whose answer names one item confirmed deleted and leaves
    another out (as a partial answer would)."""

    name = "bluesky"

    def __init__(self, gone: tuple[str, ...]) -> None:
        self.gone = gone

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        return Result((item(3),), {"uri": "x"}, gone=self.gone)


def test_the_fetcher_tombstones_only_what_the_source_confirms(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    archive = Archive(tmp_path)
    archive.merge("post", [item(1), item(2)])
    fetcher = Fetcher(archive, {"bluesky": Gone((item(1).id,))})  # type: ignore[dict-item]
    job = Job("post", "bluesky", "at://x", "127.0.0.1", WHEN)
    with caplog.at_level("INFO", logger="pelican_engage"):
        summary = fetcher.run([job])
    assert [s.id for s in summary.deleted] == [item(1).id]
    # Item 2 was merely missing from the answer: it stays.
    assert set(archive.load("post").items) == {item(2).id, item(3).id}
    assert f"{item(1).id} was deleted upstream" in caplog.text
