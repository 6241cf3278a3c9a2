"""What X gives is kept: long posts, edits, media, and the report's text.

Each case folder under ``tests/data/twitter/cases/`` holds the answers of a
loopback X: ``lookup-<id>.json`` for ``GET /2/tweets/<id>`` and
``search-<conversation id>.json`` for a search of that conversation (any
other conversation is empty).  Like X, the server sends a tweet field,
user field or expansion only when the request asks for it, so a source
that forgets to ask loses what X would have withheld.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.sources.twitter import parse_search, tweet_time
from tests.conftest import Site
from tests.loopback import Server, send

CASES = Path(__file__).parent / "data" / "twitter" / "cases"
ENV = "ENGAGE_TWITTER_BEARER_TOKEN"
#: X's default tweet fields: everything else must be asked for.
DEFAULT_FIELDS = {"id", "text", "edit_history_tweet_ids"}


def _asked(query: Mapping[str, str], key: str) -> set[str]:
    return {f for f in query.get(key, "").split(",") if f}


def as_x_sends(answer: Any, query: Mapping[str, str]) -> Any:
    """``answer`` with only the fields and expansions ``query`` asked for."""
    if not isinstance(answer, dict):
        return answer
    tweet_fields = DEFAULT_FIELDS | _asked(query, "tweet.fields")
    expansions = _asked(query, "expansions")

    def tweet(t: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in t.items() if k in tweet_fields}

    out = dict(answer)
    data = out.get("data")
    if isinstance(data, list):
        out["data"] = [tweet(t) for t in data]
    elif isinstance(data, dict):
        out["data"] = tweet(data)
    includes = dict(out.get("includes") or {})
    if "attachments.media_keys" not in expansions:
        includes.pop("media", None)
    else:
        media_fields = {"media_key", "type"} | _asked(query, "media.fields")
        includes["media"] = [
            {k: v for k, v in m.items() if k in media_fields} for m in includes.get("media", [])
        ]
    if "referenced_tweets.id" not in expansions:
        includes.pop("tweets", None)
    else:
        includes["tweets"] = [tweet(t) for t in includes.get("tweets", [])]
    if includes:
        out["includes"] = includes
    else:
        out.pop("includes", None)
    return out


class CaseX:
    """A loopback X answering from one case folder."""

    def __init__(self, server: Server, case: str) -> None:
        self.folder = CASES / case
        self.queries: list[dict[str, str]] = []
        for path in self.folder.glob("lookup-*.json"):
            tweet = path.stem.removeprefix("lookup-")
            server.routes[f"/2/tweets/{tweet}"] = self.lookup
        server.routes["/2/tweets/search/recent"] = self.search

    def _query(self, handler: BaseHTTPRequestHandler) -> dict[str, str]:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.queries.append({"path": parts.path, **query})
        return query

    def _send(self, handler: BaseHTTPRequestHandler, answer: Any, query: dict[str, str]) -> None:
        body = json.dumps(as_x_sends(answer, query)).encode()
        send(handler, 200, body, Content_Type="application/json")

    def lookup(self, handler: BaseHTTPRequestHandler, _n: int) -> None:
        query = self._query(handler)
        tweet = urlsplit(handler.path).path.rsplit("/", 1)[1]
        self._send(handler, self.load(f"lookup-{tweet}.json"), query)

    def search(self, handler: BaseHTTPRequestHandler, _n: int) -> None:
        query = self._query(handler)
        conversation = query["query"].removeprefix("conversation_id:")
        path = self.folder / f"search-{conversation}.json"
        answer = self.load(path.name) if path.exists() else {"meta": {"result_count": 0}}
        self._send(handler, answer, query)

    def load(self, name: str) -> Any:
        return json.loads((self.folder / name).read_text(encoding="utf-8"))

    @property
    def searched(self) -> list[str]:
        return [q["query"] for q in self.queries if q["path"].endswith("/search/recent")]


def build_case(
    site: Site, server: Server, monkeypatch: pytest.MonkeyPatch, case: str, tweet: str
) -> tuple[CaseX, Any, Path]:
    """Build a site whose one post ``p`` is announced by ``tweet``."""
    monkeypatch.setenv(ENV, "t")
    monkeypatch.delenv("ENGAGE_OFFLINE", raising=False)
    x = CaseX(server, case)
    site.article("p", tweet=tweet)
    settings = {
        "ENGAGE_AUTHOR": {"names": ["Marin"], "twitter": ["marin"]},
        "ENGAGE_TWITTER": {"api_url": server.url},
    }
    site.build(**settings)
    monkeypatch.chdir(site.root)
    return x, site.html("p.html"), site.write_conf(ENGAGE_OFFLINE=True, **settings)


def report(conf: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    capsys.readouterr()
    assert main(["report", "-s", str(conf), "--format", "json"]) == 0
    return {row["id"]: row for row in json.loads(capsys.readouterr().out)["waiting"]}


def item(page: Any, item_id: str) -> Any:
    return page.select_one(f'li.engage-item[data-engage-id="{item_id}"]')


def test_replies_to_an_edited_announcement_are_found_in_each_versions_conversation(
    site: Site, server: Server, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """f01: the edit has its own conversation; replies after the edit live there."""
    x, page, conf = build_case(
        site,
        server,
        monkeypatch,
        "f01-edited-announcement",
        "https://x.com/marin/status/1862100000000000001",
    )
    assert x.searched == [
        "conversation_id:1862100000000000001",
        "conversation_id:1862100000000000002",
    ]
    ids = [li["data-engage-id"] for li in page.select("li.engage-item")]
    # The edited announcement itself is not a reply.
    assert ids == ["twitter:1862100000000000009"]
    reply = item(page, "twitter:1862100000000000009")
    assert not reply.has_attr("data-engage-parent")  # it answers the post
    assert reply.select_one(".p-name").get_text(strip=True) == "Ann Reader"
    assert reply.select_one(".e-content").get_text() == "@marin Nice one, how do I set it up?"
    waiting = report(conf, capsys)
    assert waiting["twitter:1862100000000000009"]["author"]["name"] == "Ann Reader"
    cursor = Archive(site.root / "archive").load("p").cursors
    (state,) = cursor.values()
    assert state["announcement"]["versions"] == ["1862100000000000001", "1862100000000000002"]
    assert state["since_ids"] == {"1862100000000000002": "1862100000000000009"}


def test_a_long_reply_is_shown_whole(
    site: Site, server: Server, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """f02: over 280 characters, X sends the whole text in note_tweet, if asked."""
    x, page, conf = build_case(site, server, monkeypatch, "f02-note-tweet", "1862200000000000001")
    (search,) = [q for q in x.queries if q["path"].endswith("/search/recent")]
    assert "note_tweet" in search["tweet.fields"].split(",")
    whole = x.load("search-1862200000000000001.json")["data"][0]["note_tweet"]["text"]
    assert len(whole) == 368
    text = item(page, "twitter:1862200000000000005").select_one(".e-content").get_text()
    assert text == whole and text.endswith("inside OUTPUT_PATH? Thanks for writing this up.")
    assert "Is there a way…" not in page.decode()
    # The mention still links, from note_tweet's own entities.
    link = item(page, "twitter:1862200000000000005").select_one(".e-content a")
    assert link["href"] == "https://x.com/marin"
    row = report(conf, capsys)["twitter:1862200000000000005"]
    assert (
        row["excerpt"].startswith("@marin I followed the guide") and "…" not in row["excerpt"][:-1]
    )


def test_report_excerpts_add_no_space_where_a_link_or_tag_ends(
    site: Site, server: Server, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """f13: the excerpt reads as the page does."""
    _x, page, conf = build_case(
        site, server, monkeypatch, "f13-excerpt-spacing", "1862300000000000001"
    )
    expected = (
        "@marin Good points on the #EU. See example.org/trade-notes, then tell me: "
        "what about #Brexit?"
    )
    shown = item(page, "twitter:1862300000000000002").select_one(".e-content").get_text()
    assert shown == expected
    assert report(conf, capsys)["twitter:1862300000000000002"]["excerpt"] == expected


def test_media_only_replies_show_their_alt_text_as_links(
    site: Site, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A picture or video is a link to its page on X, with its alt text; no image loads."""
    x, page, _conf = build_case(site, server, monkeypatch, "media-only", "1862400000000000001")
    (search,) = [q for q in x.queries if q["path"].endswith("/search/recent")]
    assert "attachments.media_keys" in search["expansions"]
    assert "alt_text" in search["media.fields"]
    photo = item(page, "twitter:1862400400000000000").select_one(".e-content")
    (link,) = [a for a in photo.select("a") if "x.com/annreader" in a["href"]]
    assert link["href"] == "https://x.com/annreader/status/1862400400000000000/photo/1"
    assert link.get_text() == "[image] A sourdough loaf with an open crumb"
    # The t.co link of the picture is not shown next to it.
    assert "pic.x.com" not in photo.get_text() and "t.co" not in photo.decode()
    video = item(page, "twitter:1862400800000000000").select_one(".e-content")
    assert video.get_text(" ", strip=True) == "@marin [video]"
    assert video.select("a")[-1]["href"] == "https://x.com/bo_b/status/1862400800000000000/video/1"
    # Text and a picture: both; the alt text is text, never markup.
    mixed = item(page, "twitter:1862401200000000000").select_one(".e-content")
    assert (
        mixed.get_text(" ", strip=True)
        == "@marin Mine came out flat [image] Flat <b>loaf</b> & sad"
    )
    assert not mixed.select("b")
    assert not page.select(".engage img[src*='pbs.twimg.com']")
    assert "pbs.twimg.com" not in page.decode()


def test_an_edited_reply_is_one_item_with_its_latest_text() -> None:
    answer = json.loads((CASES / "edited-reply" / "search-1862500000000000001.json").read_text())
    items = {i.id: i for i in parse_search(answer, "1862500000000000001")}
    ann = items["twitter:1862500400000000000"]
    assert "twitter:1862500800000000000" not in items  # the edit is the same reply
    assert "Great post, thanks" in ann.content_html and "Grate" not in ann.content_html
    # Dated by its first version; links and "reply" go to the latest.
    assert ann.published == tweet_time("1862500400000000000") != tweet_time("1862500800000000000")
    assert ann.url.endswith("/status/1862500800000000000")
    assert ann.reply_url.endswith("in_reply_to=1862500800000000000")
    # Replies to either version hang under the one item.
    assert items["twitter:1862500600000000000"].in_reply_to == ann.id
    assert items["twitter:1862501000000000000"].in_reply_to == ann.id


def test_an_edited_reply_answered_under_its_new_version_is_not_waiting(
    site: Site, server: Server, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _x, page, conf = build_case(site, server, monkeypatch, "edited-reply", "1862500000000000001")
    ann = item(page, "twitter:1862500400000000000")
    assert "Great post, thanks" in ann.select_one(".e-content").get_text()
    answer = item(page, "twitter:1862501000000000000")
    assert "engage-by-author" in answer["class"]
    assert answer["data-engage-parent"] == "twitter:1862500400000000000"
    assert len(page.select("li.engage-item")) == 4
    assert "twitter:1862500400000000000" not in report(conf, capsys)


def test_a_tweet_x_says_it_cannot_find_becomes_a_tombstone(
    site: Site, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply's parent answers "Could not find tweet": the archived copy
    goes, and the reply under it stays, under a "deleted" placeholder."""
    gone = "twitter:1862500200000000000"
    archive = Archive(site.root / "archive")
    answer = json.loads((CASES / "edited-reply" / "search-1862500000000000001.json").read_text())
    # Archived when it still existed (the search then listed it).
    old = dict(answer["data"][3], id="1862500200000000000", text="@marin I said something")
    old["edit_history_tweet_ids"] = ["1862500200000000000"]
    (kept,) = parse_search({**answer, "data": [old], "errors": []}, "1862500000000000001")
    assert kept.id == gone
    archive.merge("p", [kept])
    _x, page, _conf = build_case(site, server, monkeypatch, "edited-reply", "1862500000000000001")
    record = Archive(site.root / "archive").load("p")
    assert gone not in record.items and gone in record.tombstones
    assert "I said something" not in page.decode()
    cy = item(page, "twitter:1862501200000000000")
    placeholder = cy.find_parent("li", class_="engage-placeholder-deleted")
    assert placeholder is not None and "This reply was deleted." in placeholder.get_text()
    # A tweet X cannot find that was never archived leaves no trace.
    assert set(record.tombstones) == {gone}


def test_a_long_post_with_a_picture_shows_the_whole_text_and_the_picture() -> None:
    media = {"3_9": {"media_key": "3_9", "type": "photo", "alt_text": "A map"}}
    long_text = "@marin " + "word " * 60 + "see https://t.co/Map1Map1Ma"
    tweet = {
        "id": "1862600000000000002",
        "text": "@marin " + "word " * 50 + "wo… https://t.co/Map1Map1Ma",
        "created_at": "2024-11-29T10:00:00.000Z",
        "attachments": {"media_keys": ["3_9"]},
        "entities": {
            "urls": [
                {
                    "start": 260,
                    "end": 283,
                    "url": "https://t.co/Map1Map1Ma",
                    "expanded_url": "https://x.com/ann/status/1862600000000000002/photo/1",
                    "display_url": "pic.x.com/Map1Map1Ma",
                    "media_key": "3_9",
                }
            ]
        },
        "note_tweet": {
            "text": long_text,
            "entities": {"mentions": [{"start": 0, "end": 6, "username": "marin"}]},
        },
    }
    answer = {"data": [tweet], "includes": {"media": list(media.values())}}
    (reply,) = parse_search(answer, "1862600000000000001")
    soup = BeautifulSoup(reply.content_html, "html.parser")
    assert soup.get_text(" ", strip=True).startswith("@marin " + "word " * 60 + "see")
    assert "t.co" not in reply.content_html and "pic.x.com" not in reply.content_html
    mention, link = soup.select("a")
    assert mention["href"] == "https://x.com/marin"
    assert link.get_text() == "[image] A map"
    assert link["href"] == "https://x.com/ann/status/1862600000000000002/photo/1"
