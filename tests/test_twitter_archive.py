"""The X personal-archive importer and ``pelican-engage import twitter-archive``.

The fixtures in ``tests/data/twitter/archives`` are archive folders written
the way X writes them (``window.YTD...`` prefixes, every number a string,
HTML-escaped ``full_text``, ``" : "`` spacing, newest tweet first).  Zips
are built from them in ``tmp_path`` with a top-level folder, as downloads
have, so no binary is committed.

Tweets of ``tweets-js`` (owner @marin), by the conversation they belong to::

    ANNOUNCE  "New post: Hello, world"           announces hello-world
      ON_POST    owner answers the announcement   -> top level of hello-world
      READER     alice (only in the engage archive, seeded by the tests)
        ANSWER   owner answers alice: &amp;, &lt;script&gt;, emoji, t.co link
          CHAIN  owner adds to his own answer
    ANNOUNCE_2 announces second-post
      ON_POST_2  owner answers it                 -> top level of second-post
    UNRELATED    owner answers carol's tweet      -> left out
    PLAIN        no reply at all                  -> ignored
    DELETED      in deleted-tweets.js             -> never read
"""

from __future__ import annotations

import json
import locale
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.importers import twitter_archive
from pelican_engage.importers.twitter_archive import (
    ArchiveFormatError,
    TwitterArchive,
    parse_js,
    plan_import,
    read_archive,
)
from pelican_engage.model import Item, Person
from tests.conftest import Site

ARCHIVES = Path(__file__).parent / "data" / "twitter" / "archives"
TOP = "twitter-2026-11-01-abc/"

ANNOUNCE = "2007036645995446272"
ON_POST = "2007039443596226577"
READER = "2007044887802818577"
ANSWER = "2007063200134082577"
CHAIN = "2007064336790466577"
DELETED = "2007070000000000001"
UNRELATED = "2007364472796098577"
PLAIN = "2007891080246210577"
ANNOUNCE_2 = "2008101160350658577"
ON_POST_2 = "2008117258089410577"

TWEETS_JS = {ANNOUNCE, ON_POST, ANSWER, CHAIN, UNRELATED, PLAIN, ANNOUNCE_2, ON_POST_2}
OLD_TWEETS = {"1050118620312514577", "1050120033792962577", "1050289898910658577"}
SPLIT_PART1 = {"1664179976401858577", "1498931109688258577"}
SPLIT_PART2 = {"1498636669547458577", "1498629119800258577"}

ANNOUNCEMENTS = {ANNOUNCE: "hello-world", ANNOUNCE_2: "second-post"}
ARCHIVED = {READER: "hello-world"}
AUTHOR = {"names": ["Marin"], "twitter": ["marin"]}
OWNER = Person(name="Marin", handle="marin", url="https://x.com/marin")


def intent(tweet_id: str) -> str:
    return f"https://x.com/intent/tweet?in_reply_to={tweet_id}"


def copy_archive(name: str, tmp_path: Path) -> Path:
    """A writable copy of a fixture archive folder."""
    return Path(shutil.copytree(ARCHIVES / name, tmp_path / name))


def zip_folder(folder: Path, target: Path, top: str = TOP) -> Path:
    """Zip an archive folder the way X packs a download."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as packed:
        # A real download has its viewer and media next to data/*.js.
        packed.writestr(f"{top}Your archive.html", "<!DOCTYPE html><title>Your archive</title>")
        packed.writestr(f"{top}data/tweets_media/{ANSWER}-photo.jpg", b"\xff\xd8\xff\xe0 not read")
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                packed.write(file, top + file.relative_to(folder).as_posix())
    return target


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (new, removed or changed ones all show)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def ids(archive: TwitterArchive) -> set[str]:
    return {str(entry["tweet"]["id_str"]) for entry in archive.tweets}


# -- Reading the archive -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "files", "expected"),
    [
        # deleted-tweets.js (a reply to READER) and tweet-headers.js lie beside
        # tweets.js: the author took that reply down, and headers have no text.
        ("tweets-js", ("data/tweets.js",), TWEETS_JS),
        ("tweet-js", ("data/tweet.js",), OLD_TWEETS),
        # Every part is read, and listed in part order.
        ("split", ("data/tweets-part1.js", "data/tweets-part2.js"), SPLIT_PART1 | SPLIT_PART2),
    ],
)
def test_each_folder_layout_is_read(name: str, files: tuple[str, ...], expected: set[str]) -> None:
    archive = read_archive(ARCHIVES / name)
    assert archive.files == files
    assert ids(archive) == expected
    assert len(archive.tweets) == len(expected)
    assert archive.owner == OWNER


@pytest.mark.parametrize("top", [TOP, ""], ids=["top-folder", "bare"])
@pytest.mark.parametrize("name", ["tweets-js", "tweet-js", "split"])
def test_a_zip_download_reads_like_its_folder(tmp_path: Path, name: str, top: str) -> None:
    packed = zip_folder(ARCHIVES / name, tmp_path / "twitter.zip", top)
    assert read_archive(packed) == read_archive(ARCHIVES / name)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    # Files re-saved by a Windows editor start with a BOM.
    folder = copy_archive("tweets-js", tmp_path)
    for name in ("tweets.js", "account.js"):
        file = folder / "data" / name
        file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes())
    assert ids(read_archive(folder)) == ids(read_archive(ARCHIVES / "tweets-js"))


@pytest.mark.parametrize(
    "file",
    ["tweets-js/data/tweets.js", "tweet-js/data/tweet.js", "split/data/tweets-part2.js"],
)
def test_parse_js_strips_the_window_ytd_prefix(file: str) -> None:
    text = (ARCHIVES / file).read_text(encoding="utf-8")
    assert text.startswith("window.YTD.")
    entries = parse_js(text, file)
    assert entries == json.loads(text[text.index("=") + 1 :])
    assert all(set(entry) == {"tweet"} for entry in entries)


def test_parse_js_takes_any_part_number_and_rejects_other_scripts() -> None:
    assert parse_js("window.YTD.tweets.part12 = [ ]", "x") == []
    assert parse_js('window.YTD.account.part0 = [ { "a" : "1" } ]', "x") == [{"a": "1"}]
    for text in (
        "alert(1); window.YTD.tweets.part0 = [ ]",
        'window.YTD.tweets.part0 = { "a" : 1 }',
    ):
        with pytest.raises(ArchiveFormatError, match=r"^data/tweets\.js: "):
            parse_js(text, "data/tweets.js")


# -- Malformed archives --------------------------------------------------------

# What each breakage does to data/<file>; None deletes the file.
BREAKAGES: dict[str, tuple[str, Callable[[str], str | bytes | None]]] = {
    "truncated-json": ("tweets.js", lambda text: text[: len(text) // 2]),
    "missing-account": ("account.js", lambda text: None),
    "non-utf8": ("tweets.js", lambda text: text.encode("utf-16")),  # re-saved by Notepad
    "no-ytd-prefix": ("tweets.js", lambda text: '{ "tweets" : [ ] }'),
    "entry-not-object": ("tweets.js", lambda text: 'window.YTD.tweets.part0 = [ "1" ]'),
    "no-username": ("account.js", lambda text: text.replace('"username"', '"user"')),
    "too-big": ("tweets.js", lambda text: text + " " * 2**20),  # over the lowered cap
}


def _broken(name: str, packed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = copy_archive("tweets-js", tmp_path)
    file = folder / "data" / BREAKAGES[name][0]
    broken = BREAKAGES[name][1](file.read_text(encoding="utf-8"))
    if broken is None:
        file.unlink()
    else:
        file.write_bytes(broken if isinstance(broken, bytes) else broken.encode())
    # A real cap is 512 MiB; the test file is made a little over 1 MiB.
    monkeypatch.setattr(twitter_archive, "MAX_FILE_BYTES", 2**20)
    return zip_folder(folder, tmp_path / "broken.zip") if packed else folder


@pytest.mark.parametrize(
    ("name", "packed"),
    [
        pytest.param(name, packed, id=f"{name}-{'zip' if packed else 'folder'}")
        for name in BREAKAGES
        for packed in (False, True)
    ],
)
def test_a_malformed_archive_names_the_file(
    name: str, packed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _broken(name, packed, tmp_path, monkeypatch)
    with pytest.raises(ArchiveFormatError) as caught:
        read_archive(path)
    assert f"data/{BREAKAGES[name][0]}" in str(caught.value)


def test_neither_zip_nor_folder_nor_present_is_named(tmp_path: Path) -> None:
    text = tmp_path / "tweets.txt"
    text.write_text("window.YTD.tweets.part0 = [ ]")
    # An interrupted download: the zip's central directory is missing.
    whole = zip_folder(ARCHIVES / "tweets-js", tmp_path / "whole.zip")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    for path, problem in [
        (text, "neither a zip file nor a folder"),
        (cut, "not a readable zip file (a cut-off download?)"),
        (tmp_path / "missing.zip", "no such file or folder"),
        (tmp_path / "empty-folder", "not an X archive"),
    ]:
        if path.name == "empty-folder":
            path.mkdir()
        with pytest.raises(ArchiveFormatError) as caught:
            read_archive(path)
        assert str(path) in str(caught.value) and problem in str(caught.value)


def test_a_corrupt_zip_member_is_named(tmp_path: Path) -> None:
    packed = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_STORED) as archive:
        for file in sorted((ARCHIVES / "tweets-js" / "data").iterdir()):
            archive.write(file, f"{TOP}data/{file.name}")
    data = bytearray(packed.read_bytes())
    data[data.index(b"Coffee first")] ^= 0x20  # one flipped bit: a CRC error on read
    packed.write_bytes(bytes(data))
    with pytest.raises(ArchiveFormatError) as caught:
        read_archive(packed)
    assert f"{packed}:{TOP}data/tweets.js" in str(caught.value)


# -- Planning the import (pure) ------------------------------------------------


@pytest.fixture(scope="module")
def archive() -> TwitterArchive:
    return read_archive(ARCHIVES / "tweets-js")


def by_id(items: tuple[Item, ...]) -> dict[str, Item]:
    return {item.id.removeprefix("twitter:"): item for item in items}


def test_replies_are_placed_in_their_conversations(archive: TwitterArchive) -> None:
    plan = plan_import(archive, ANNOUNCEMENTS, ARCHIVED)
    assert {key: [i.id for i in items] for key, items in plan.additions.items()} == {
        # Oldest first, though the file lists the newest first: that is how
        # CHAIN finds ANSWER, placed only a moment before.
        "hello-world": [f"twitter:{ON_POST}", f"twitter:{ANSWER}", f"twitter:{CHAIN}"],
        "second-post": [f"twitter:{ON_POST_2}"],
    }
    parents = {i.id: i.in_reply_to for items in plan.additions.values() for i in items}
    assert parents == {
        f"twitter:{ON_POST}": None,  # answering the announcement answers the post
        f"twitter:{ANSWER}": f"twitter:{READER}",
        f"twitter:{CHAIN}": f"twitter:{ANSWER}",
        f"twitter:{ON_POST_2}": None,
    }
    assert (plan.tweets, plan.already, plan.unplaced_replies, plan.bad) == (8, 0, 1, ())


def test_archived_replies_count_as_already_and_still_anchor_the_chain(
    archive: TwitterArchive,
) -> None:
    archived = {**ARCHIVED, ON_POST: "hello-world", ANSWER: "hello-world"}
    plan = plan_import(archive, ANNOUNCEMENTS, archived)
    (chain,) = plan.additions["hello-world"]
    assert chain.id == f"twitter:{CHAIN}" and chain.in_reply_to == f"twitter:{ANSWER}"
    assert (plan.already, plan.unplaced_replies) == (2, 1)


def test_without_known_conversations_every_reply_is_left_out(archive: TwitterArchive) -> None:
    plan = plan_import(archive, {}, {})
    assert plan.additions == {}
    # ON_POST, ANSWER, CHAIN, UNRELATED, ON_POST_2: every reply; PLAIN and the
    # announcements are no replies.
    assert (plan.unplaced_replies, plan.already, plan.tweets) == (5, 0, 8)


def test_items_carry_the_owner_an_aware_date_and_links(archive: TwitterArchive) -> None:
    answer = by_id(plan_import(archive, ANNOUNCEMENTS, ARCHIVED).additions["hello-world"])[ANSWER]
    assert answer.id == f"twitter:{ANSWER}"
    assert (answer.source, answer.kind) == ("twitter", "reply")
    assert answer.author == OWNER  # from account.js: the archive's tweets name nobody
    assert answer.published == datetime(2026, 1, 2, 12, 15, 31, tzinfo=timezone.utc)
    assert answer.published.utcoffset() == timedelta(0)
    assert answer.url == f"https://x.com/marin/status/{ANSWER}"
    # "3" and "1" in the file: every number of an archive is a string.
    assert dict(answer.extras) == {"likes": 3, "reposts": 1, "from_archive": True}
    assert answer.reply_url == intent(ANSWER)


def test_tweet_text_is_unescaped_once_and_links_expanded(archive: TwitterArchive) -> None:
    answer = by_id(plan_import(archive, ANNOUNCEMENTS, ARCHIVED).additions["hello-world"])[ANSWER]
    html = answer.content_html
    soup = BeautifulSoup(html, "html.parser")
    assert "Thanks &amp; yes" in html and "&amp;amp;" not in html
    assert "Thanks & yes" in soup.get_text()
    assert soup.find("script") is None
    assert "<script>alert(1)</script> in a tweet stays text" in soup.get_text()
    links = {a["href"]: a.get_text() for a in soup.find_all("a")}
    assert links == {
        "https://x.com/alice": "@alice",
        "https://blog.example/hello-world.html#details": "blog.example/hello-world.h\u2026",
    }
    # The emoji before the link (one code point, two in UTF-16) shifts nothing.
    assert '\U0001f389 <a href="https://blog.example/hello-world.html#details"' in html
    assert "t.co" not in html


def _entry(tweet_id: str, **fields: Any) -> dict[str, Any]:
    tweet = {
        "id_str": tweet_id,
        "id": tweet_id,
        "created_at": "Fri Jan 02 13:00:00 +0000 2026",
        "full_text": "Thank you!",
        "in_reply_to_status_id_str": READER,
        "favorite_count": "0",
        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
    }
    tweet.update(fields)
    return {"tweet": {k: v for k, v in tweet.items() if v is not None}}


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(_entry("9001", created_at=None), id="no-date"),
        pytest.param(_entry("9001", created_at="2026-01-02T13:00:00.000Z"), id="iso-date"),
        pytest.param(_entry("9001", favorite_count="many"), id="count-not-a-number"),
        pytest.param(_entry("9001", id_str=None, id=None), id="no-id"),
        pytest.param({"tweet": None}, id="null-tweet"),
    ],
)
def test_a_bad_tweet_is_skipped_and_named_not_fatal(bad: dict[str, Any]) -> None:
    plan = plan_import(
        TwitterArchive(OWNER, (_entry("9002"), bad), ("data/tweets.js",)), {}, ARCHIVED
    )
    assert [i.id for i in plan.additions["hello-world"]] == ["twitter:9002"]
    assert len(plan.bad) == 1 and plan.bad[0].startswith("tweet 1: ")


def test_a_malformed_entity_leaves_the_tweet_readable() -> None:
    odd = _entry("9003", entities={"urls": [None, {"url": "https://t.co/x", "indices": "?"}]})
    odder = _entry("9004", entities=[1], extended_entities=[1])
    plan = plan_import(TwitterArchive(OWNER, (odd, odder), ("data/tweets.js",)), {}, ARCHIVED)
    assert [i.content_html for i in plan.additions["hello-world"]] == ["<p>Thank you!</p>"] * 2
    assert plan.bad == ()


# -- The command, on a real Pelican site ---------------------------------------


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def waiting(capsys: pytest.CaptureFixture[str], conf: Path) -> list[str]:
    code, out, _ = run(capsys, "report", "-s", str(conf), "--format", "json")
    assert code == 0
    return [row["id"] for row in json.loads(out)["waiting"]]


def seed_reader(site: Site) -> None:
    """Alice's reply to the announcement, as a fetch would have archived it."""
    alice = Item(
        id=f"twitter:{READER}",
        source="twitter",
        kind="reply",
        author=Person(name="Alice", handle="alice", url="https://x.com/alice"),
        published=datetime(2026, 1, 2, 11, 2, 45, tzinfo=timezone.utc),
        content_html="<p>Nice post! Is the code online?</p>",
        url=f"https://x.com/alice/status/{READER}",
        extras={"reply_url": intent(READER), "likes": 0, "reposts": 0},
    )
    Archive(site.root / "archive").merge("hello-world", [alice])


@pytest.fixture
def blog(site: Site, monkeypatch: pytest.MonkeyPatch) -> Site:
    site.article("hello-world", tweet=f"https://x.com/marin/status/{ANNOUNCE}")
    site.article("second-post", tweet=f"https://twitter.com/marin/status/{ANNOUNCE_2}")
    seed_reader(site)
    monkeypatch.chdir(site.root)
    return site


@pytest.fixture
def conf(blog: Site) -> Path:
    return blog.write_conf(ENGAGE_AUTHOR=AUTHOR, ENGAGE_OFFLINE=True)


def import_archive(
    capsys: pytest.CaptureFixture[str], path: Path, conf: Path, *extra: str
) -> tuple[int, str, str]:
    return run(capsys, "import", "twitter-archive", str(path), "-s", str(conf), *extra)


def test_import_answers_the_waiting_reader_end_to_end(
    blog: Site, conf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert waiting(capsys, conf) == [f"twitter:{READER}"]

    code, out, err = import_archive(capsys, ARCHIVES / "tweets-js", conf)
    assert code == 0, err
    assert out == (
        "Read 8 tweet(s) by @marin from data/tweets.js.\n"
        "Added 4 of your replies to 2 post(s); 0 already archived; 1 reply(ies) to tweets "
        "outside the archived conversations left out.\n"
    )
    assert "ENGAGE_AUTHOR" not in err
    # The author answered in alice's branch, so nobody is waiting any more.
    assert waiting(capsys, conf) == []

    stored = b"".join(snapshot(blog.root / "archive").values()).decode()
    assert "marin@mail.example" not in stored  # account.js's e-mail stays private
    for left_out in (UNRELATED, DELETED, PLAIN, ANNOUNCE):
        assert f"twitter:{left_out}" not in stored

    blog.build(ENGAGE_AUTHOR=AUTHOR, ENGAGE_OFFLINE=True)
    page = blog.html("hello-world.html")

    def node(tweet_id: str) -> Any:
        found = page.select_one(f'li[data-engage-id="twitter:{tweet_id}"]')
        assert found is not None, tweet_id
        return found

    answer = node(ANSWER)
    assert "engage-by-author" in answer["class"]
    assert answer["data-engage-parent"] == f"twitter:{READER}"
    assert answer.find_parent("li")["data-engage-id"] == f"twitter:{READER}"
    assert node(CHAIN).find_parent("li") is answer
    assert "engage-by-author" not in node(READER)["class"]
    on_post = node(ON_POST)
    assert "engage-by-author" in on_post["class"] and not on_post.has_attr("data-engage-parent")
    for tweet_id in (READER, ANSWER):
        link = node(tweet_id).select_one(":scope > .engage-card a.engage-reply-link")
        assert link["href"] == intent(tweet_id) and link.get_text() == "Reply on X"
    card = answer.select_one(":scope > .engage-card .e-content")
    assert card.select_one('a[href="https://blog.example/hello-world.html#details"]')
    assert card.find("script") is None and "Thanks & yes" in card.get_text()
    assert f"twitter:{ON_POST_2}" in {
        li["data-engage-id"] for li in blog.html("second-post.html").select("li[data-engage-id]")
    }


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "zip"])
def test_importing_twice_changes_no_byte(
    conf: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, packed: bool
) -> None:
    source = ARCHIVES / "tweets-js"
    path = zip_folder(source, tmp_path / "twitter.zip") if packed else source
    assert import_archive(capsys, path, conf)[0] == 0
    folder = conf.parent / "archive"
    before = snapshot(folder)
    code, out, _ = import_archive(capsys, path, conf)
    assert code == 0
    assert "Added 0 of your replies to 0 post(s); 4 already archived; 1 reply(ies)" in out
    assert snapshot(folder) == before


def test_post_option_imports_only_that_post(
    conf: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    packed = zip_folder(ARCHIVES / "tweets-js", tmp_path / "twitter.zip")
    folder = conf.parent / "archive"
    hello = folder / "posts" / "hello-world.json"
    seeded = hello.read_bytes()
    code, out, _ = import_archive(capsys, packed, conf, "--post", "second-post")
    assert code == 0
    # Outside second-post, the replies have no known conversation.
    assert "Added 1 of your replies to 1 post(s); 0 already archived; 4 reply(ies)" in out
    assert hello.read_bytes() == seeded
    assert set(Archive(folder).load("second-post").items) == {f"twitter:{ON_POST_2}"}

    code, out, _ = import_archive(capsys, packed, conf)
    assert "Added 3 of your replies to 1 post(s); 1 already archived; 1 reply(ies)" in out


@pytest.mark.parametrize(
    ("handles", "username", "warned"),
    [
        (["someone_else"], "marin", True),
        ([], "marin", True),
        (["@Marin"], "marin", False),
        (["marin"], "Marin", False),  # X keeps the case the user chose
    ],
    ids=["other-account", "no-twitter-handle", "setting-spelled-otherwise", "username-capitalised"],
)
def test_an_archive_of_another_account_is_pointed_out(
    blog: Site,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    handles: list[str],
    username: str,
    warned: bool,
) -> None:
    folder = copy_archive("tweets-js", tmp_path)
    account = folder / "data" / "account.js"
    account.write_text(account.read_text().replace('"marin"', f'"{username}"'))
    conf = blog.write_conf(ENGAGE_AUTHOR={"names": ["Marin"], "twitter": handles})
    code, _, err = import_archive(capsys, folder, conf)
    assert code == 0  # imported anyway: the user may fix ENGAGE_AUTHOR afterwards
    assert (f"@{username} is not in ENGAGE_AUTHOR['twitter']" in err) is warned


CLI_CASES = [
    ("truncated-json", False),
    ("missing-account", True),
    ("non-utf8", True),
    ("no-ytd-prefix", False),
    ("text-file", False),
    ("missing", False),
]


@pytest.mark.parametrize(
    ("name", "packed"), CLI_CASES, ids=[f"{n}{'-zip' if p else ''}" for n, p in CLI_CASES]
)
def test_the_command_refuses_a_malformed_archive_and_changes_nothing(
    conf: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    packed: bool,
) -> None:
    if name in BREAKAGES:
        path, named = _broken(name, packed, tmp_path, monkeypatch), f"data/{BREAKAGES[name][0]}"
    else:
        path = tmp_path / "archive.txt"
        if name == "text-file":
            path.write_text("not an archive")
        named = str(path)
    before = snapshot(conf.parent / "archive")
    code, out, err = import_archive(capsys, path, conf)
    assert code == 2 and out == ""
    assert named in err and "nothing imported" in err
    assert snapshot(conf.parent / "archive") == before


def test_a_broken_engage_archive_stops_the_import_before_any_write(
    conf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # second-post could be imported, but the import must be all or nothing.
    hello = conf.parent / "archive" / "posts" / "hello-world.json"
    hello.write_text('{"schema": 1, "items": {', encoding="utf-8")
    before = snapshot(conf.parent / "archive")
    code, _, err = import_archive(capsys, ARCHIVES / "tweets-js", conf)
    assert code == 2 and "hello-world.json" in err and "nothing imported" in err
    assert snapshot(conf.parent / "archive") == before


# -- Site locale ---------------------------------------------------------------


@pytest.fixture
def french_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A French locale, compiled into tmp_path if the system has none: Pelican
    applies the site's LOCALE to the process, and strptime's %a %b follow it."""
    saved, name = locale.setlocale(locale.LC_ALL), "fr_FR.UTF-8"
    try:
        locale.setlocale(locale.LC_ALL, name)
    except locale.Error:
        localedef = shutil.which("localedef")
        if localedef:
            command = [localedef, "-i", "fr_FR", "-f", "UTF-8", str(tmp_path / name)]
            subprocess.run(command, capture_output=True, check=False)
        monkeypatch.setenv("LOCPATH", str(tmp_path))  # glibc reads it on each setlocale
        try:
            locale.setlocale(locale.LC_ALL, name)
        except locale.Error:
            pytest.skip("no French locale, and none could be compiled")
    yield name
    locale.setlocale(locale.LC_ALL, saved)


def test_import_works_on_a_site_with_a_non_english_locale(
    blog: Site, capsys: pytest.CaptureFixture[str], french_locale: str
) -> None:
    conf = blog.write_conf(ENGAGE_AUTHOR=AUTHOR, ENGAGE_OFFLINE=True, LOCALE=(french_locale,))
    code, out, _ = import_archive(capsys, ARCHIVES / "tweets-js", conf)
    assert code == 0
    assert "Added 4 of your replies to 2 post(s)" in out and "skipped" not in out


# -- Only FOLDER/data/ (or the zip's data/) is read, never a whole tree ----------


def test_a_folder_is_read_from_its_data_folder_only(tmp_path: Path) -> None:
    folder = copy_archive("tweets-js", tmp_path)
    # Another archive's files deeper in the tree (a backup, a second download)
    # are not this archive's: their tweets must not join it.
    stray = folder / "backup" / "old" / "data"
    shutil.copytree(ARCHIVES / "split" / "data", stray)
    (stray / "tweets-part3.js").write_text((stray / "tweets-part2.js").read_text())
    archive = read_archive(folder)
    assert ids(archive) == TWEETS_JS
    assert archive.files == ("data/tweets.js",)


def test_a_tree_without_data_at_its_top_is_not_searched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(ARCHIVES / "tweets-js", home / "Downloads" / "twitter-2026" / "unpacked")
    with pytest.raises(ArchiveFormatError, match=r"no data/ folder") as raised:
        read_archive(home)
    assert "did you mean" not in str(raised.value)
    # One level down is named, not read.
    shutil.copytree(ARCHIVES / "tweets-js", home / "archive")
    with pytest.raises(ArchiveFormatError, match=r"did you mean .*home/archive\?"):
        read_archive(home)


def test_a_zip_is_read_from_its_data_folder_only(tmp_path: Path) -> None:
    packed = zip_folder(ARCHIVES / "tweets-js", tmp_path / "twitter.zip")
    with zipfile.ZipFile(packed, "a") as archive:
        part = (ARCHIVES / "split" / "data" / "tweets-part2.js").read_bytes()
        archive.writestr(f"{TOP}media/old/data/tweets-part9.js", part)
    assert ids(read_archive(packed)) == TWEETS_JS
    deeper = zip_folder(ARCHIVES / "tweets-js", tmp_path / "deep.zip", top="a/b/")
    with pytest.raises(ArchiveFormatError, match="not an X archive"):
        read_archive(deeper)


def test_a_zip_with_two_archives_says_so(tmp_path: Path) -> None:
    packed = zip_folder(ARCHIVES / "tweets-js", tmp_path / "two.zip")
    with zipfile.ZipFile(packed, "a") as archive:
        for file in sorted((ARCHIVES / "split").rglob("*.js")):
            archive.write(file, "other/" + file.relative_to(ARCHIVES / "split").as_posix())
    with pytest.raises(ArchiveFormatError, match=r"more than one data/ folder"):
        read_archive(packed)


def test_an_entry_that_is_no_object_is_listed_and_its_siblings_read(tmp_path: Path) -> None:
    """One stray value among the tweets costs only itself (issue 12)."""
    folder = copy_archive("tweets-js", tmp_path)
    file = folder / "data" / "tweets.js"
    text = file.read_text(encoding="utf-8")
    start = text.index("[") + 1
    file.write_text(text[:start] + ' "stray", ' + text[start:], encoding="utf-8")
    archive = read_archive(folder)
    whole = read_archive(copy_archive("tweets-js", tmp_path / "whole"))
    assert len(archive.tweets) == len(whole.tweets) > 0
    (bad,) = archive.bad
    assert bad.endswith("data/tweets.js: entry 0 is not an object")
    assert plan_import(archive, {}, ARCHIVED).bad[0] == bad
