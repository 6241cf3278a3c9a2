"""Comment feeds as pelican_comment_system wrote them, read back with feedparser."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import feedparser
import pytest

from pelican_engage import feed_copies
from pelican_engage.archive import Archive
from pelican_engage.model import Item, Person
from tests.conftest import DATA, Site

THR = "http://purl.org/syndication/thread/1.0"
POST = "https://blog.example/first-post.html"


def _site(site: Site) -> Site:
    site.article("first-post", title="First <em>post</em>", body="The body.")
    site.article("quiet-post", title="Quiet post")
    site.article("hidden-post", title="Hidden post", Status="hidden")
    site.article("private-post", title="Private post", engage="off")
    site.copy_comments("first-post", DATA / "local" / "pcs-thread")
    site.comment("hidden-post", "h1.md", "Secret words.", author="Hal", date="2026-02-05")
    Archive(site.root / "archive").merge(
        "first-post",
        [
            Item(
                id="mastodon:social.example/7",
                source="mastodon",
                kind="reply",
                author=Person(name="Dee", url="https://social.example/@dee"),
                published=datetime(2026, 3, 1, tzinfo=timezone.utc),
                content_html="<p>From Mastodon</p>",
                in_reply_to="comment:first-post/c5",
            ),
            Item(
                id="mastodon:social.example/8",
                source="mastodon",
                kind="like",
                author=Person(name="Liker"),
                published=datetime(2026, 3, 1, tzinfo=timezone.utc),
            ),
        ],
    )
    return site


def _anchor(entry_id: str) -> str:
    return entry_id.split("#", 1)[1]


def _parsed(site: Site, path: str) -> feedparser.FeedParserDict:
    text = (site.output / path).read_text(encoding="utf-8")
    feed = feedparser.parse(text)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.namespaces.get("thr") == THR
    return feed


def test_one_feed_per_post_with_threading_and_one_for_the_site(site: Site) -> None:
    _site(site).build()
    feed = _parsed(site, "feeds/comment.first-post.atom.xml")
    assert feed.feed.title == "Test blog - Comments: First post"
    entries = {_anchor(e.id): e for e in feed.entries}
    assert set(entries) == {
        *(f"engage-comment-first-post-c{n}" for n in range(1, 6)),
        "engage-mastodon-social.example-7",
    }
    # Newest first.
    dates = [e.published_parsed for e in feed.entries]
    assert dates == sorted(dates, reverse=True)
    c1, c2 = entries["engage-comment-first-post-c1"], entries["engage-comment-first-post-c2"]
    assert c1.author == "Ann Reader" and c1.author_detail.href == "https://ann.example"
    assert c1.link == f"{POST}#engage-comment-first-post-c1"
    assert "Lovely post" in c1.content[0].value
    assert c1.published == "2026-02-01T10:00:00+00:00"
    # RFC 4685: a comment answers the post, a reply its parent's entry.
    (thr,) = (
        c1["thr_in-reply-to"]
        if isinstance(c1["thr_in-reply-to"], list)
        else [c1["thr_in-reply-to"]]
    )
    assert thr["ref"] == POST and thr["href"] == POST
    assert c2["thr_in-reply-to"]["ref"] == c1.id
    dee = entries["engage-mastodon-social.example-7"]
    assert dee["thr_in-reply-to"]["ref"] == f"{POST}#engage-comment-first-post-c5"

    text = (site.output / "feeds/comment.first-post.atom.xml").read_text()
    for private in ("reader.example", "waiting", "Waiting", "Liker"):
        assert private not in text

    everything = _parsed(site, "feeds/comments.all.atom.xml")
    assert len(everything.entries) == 6
    assert everything.entries[0].title == "Dee on First post"
    assert "Hal" not in (site.output / "feeds/comments.all.atom.xml").read_text()
    # Quiet posts have an (empty) feed for subscribers, as pcs wrote; hidden ones none.
    assert _parsed(site, "feeds/comment.quiet-post.atom.xml").entries == []
    assert not (site.output / "feeds/comment.hidden-post.atom.xml").exists()
    assert not (site.output / "feeds/comment.private-post.atom.xml").exists()

    # The thread links its feed.
    link = site.html("first-post.html").select_one("section.engage a.engage-comment-feed")
    assert link["href"] == "https://blog.example/feeds/comment.first-post.atom.xml"
    assert link["type"] == "application/atom+xml"


def test_feeds_are_rewritten_only_when_they_change(site: Site) -> None:
    _site(site).build()
    quiet = site.output / "feeds/comment.quiet-post.atom.xml"
    first = site.output / "feeds/comment.first-post.atom.xml"
    before = quiet.stat().st_mtime_ns, quiet.read_text()
    site.build()
    assert (quiet.stat().st_mtime_ns, quiet.read_text()) == before
    # An edited comment (same length, same everything else) reaches its feed
    # and the site's, on a warm build.
    c4 = site.content / "comments" / "first-post" / "c4.markdown"
    c4.write_text(c4.read_text().replace("wondering", "wandering"))
    site.build()
    assert "wandering" in first.read_text()
    assert "wandering" in (site.output / "feeds/comments.all.atom.xml").read_text()
    assert (quiet.stat().st_mtime_ns, quiet.read_text()) == before
    # A feed removed from the output comes back, whatever the cache says.
    quiet.unlink()
    site.build()
    assert quiet.read_text() == before[1]
    # So does one whose title changed with the site's name.
    site.build(SITENAME="Renamed blog")
    assert feedparser.parse(first.read_text()).feed.title.startswith("Renamed blog")


def test_content_is_sanitised_and_names_are_escaped(site: Site) -> None:
    site.article("post")
    site.comment(
        "post",
        "c1.md",
        "<script>alert(1)</script><img src=x onerror=alert(2)> Hello <b>there</b> \x07",
        author="<i>Mallory</i> & co",
        date="2026-02-01",
    )
    site.build()
    feed = _parsed(site, "feeds/comment.post.atom.xml")
    (entry,) = feed.entries
    assert entry.author == "Mallory & co"
    content = entry.content[0].value
    assert "<script" not in content and "onerror" not in content
    assert "<b>there</b>" in content


@pytest.mark.parametrize(
    ("settings", "present", "absent"),
    [
        ({"ENGAGE_COMMENT_FEED": None, "ENGAGE_COMMENT_FEED_ALL": None}, [], ["feeds"]),
        (
            {"ENGAGE_COMMENT_FEED": "comments/{slug}.xml", "ENGAGE_COMMENT_FEED_ALL": None},
            ["comments/first-post.xml"],
            ["feeds"],
        ),
        (
            # A pelican_comment_system conf, left as it was.
            {
                "PELICAN_COMMENT_SYSTEM_FEED": "feeds/pcs.%s.atom.xml",
                "PELICAN_COMMENT_SYSTEM_FEED_ALL": "feeds/pcs-all.atom.xml",
            },
            ["feeds/pcs.first-post.atom.xml", "feeds/pcs-all.atom.xml"],
            ["feeds/comment.first-post.atom.xml"],
        ),
    ],
)
def test_feed_paths_follow_the_settings(
    site: Site, settings: dict, present: list[str], absent: list[str]
) -> None:
    _site(site).build(**settings)
    for path in present:
        _parsed(site, path)
    for path in absent:
        assert not (site.output / path).exists(), path
    link = site.html("first-post.html").select_one("a.engage-comment-feed")
    if settings.get("ENGAGE_COMMENT_FEED", "") is None:
        assert link is None
    else:
        assert link["href"] == f"https://blog.example/{present[0]}"


@pytest.mark.parametrize("value", ["feeds/all-comments.xml", "/abs/{slug}.xml", "../{slug}.xml", 3])
def test_a_bad_feed_path_names_the_key(site: Site, caplog, value: object) -> None:
    _site(site).build(ENGAGE_COMMENT_FEED=value)
    assert any("ENGAGE_COMMENT_FEED" in r.getMessage() for r in caplog.records)
    assert not (site.output / "feeds").exists()


def test_any_text_gives_well_formed_xml() -> None:
    import xml.etree.ElementTree as ElementTree

    from pelican_engage import comment_feed
    from pelican_engage.model import Post, Thread

    nasty = 'a\x07b\ufffe "q" <t> & ]]> \ud800 é'
    item = Item(
        id="feed:a b <c> & é",
        source="feed",
        kind="comment",
        author=Person(name=nasty, url='https://x.example/?a=1&b="2"'),
        published=datetime(2026, 3, 1, tzinfo=timezone.utc),
        content_html=f"<p>{nasty}</p>",
    )
    thread = Thread(post=Post(key="p", title=nasty, url="https://b.example/p.html"), items=(item,))
    (entry,) = comment_feed.entries(thread)
    text = comment_feed.render(
        nasty, "https://b.example/", "https://b.example/f.xml", [entry], item.published
    )
    root = ElementTree.fromstring(text.encode("utf-8"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.find("a:entry/a:author/a:name", ns).text == 'ab "q" <t> & ]]>  é'
    assert root.find("a:entry/a:author/a:uri", ns).text == 'https://x.example/?a=1&b="2"'
    assert root.find("a:entry/a:content", ns).text == '<p>ab "q" <t> & ]]>  é</p>'
    assert not feedparser.parse(text).bozo


def test_each_thread_is_read_once_for_both_feeds(tmp_path) -> None:
    """A cached (lazy) thread is read from its file once per build, for its
    own feed and the site's together, not once per feed."""
    from pelican_engage import comment_feed

    reads: list[str] = []
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    sources = [(_Lazy(k, reads), when) for k in ("one", "two", "three")]
    feeds = comment_feed.Feeds(comment_feed.DEFAULT_POST_FEED, comment_feed.DEFAULT_ALL_FEED)
    settings = {"SITEURL": "https://blog.example", "SITENAME": "Blog"}
    changed = comment_feed.write(tmp_path, feeds, sources, settings)
    assert changed == 4
    assert sorted(reads) == ["one", "three", "two"]
    site_feed = feedparser.parse((tmp_path / comment_feed.DEFAULT_ALL_FEED).read_bytes())
    assert len(site_feed.entries) == 3


def test_feeds_put_back_into_an_emptied_output_are_checked_copies(site: Site) -> None:
    """A warm build into an emptied output links each feed to its cached
    copy (no data written); a copy changed through that link, or damaged,
    fails its checksum and the feed is rendered again, right."""
    import shutil

    _site(site).build()
    first = site.output / "feeds/comment.first-post.atom.xml"
    good = first.read_bytes()
    shutil.rmtree(site.output)
    site.build()
    assert first.read_bytes() == good
    assert first.stat().st_nlink == 2  # the output file is the cache's copy
    # Something rewrote the published feed in place: the copy changed too.
    with first.open("r+b") as handle:
        handle.write(b"<!-- minified -->")
    shutil.rmtree(site.output)
    site.build()
    assert first.read_bytes() == good
    assert feedparser.parse(good).entries


def test_a_new_feed_is_written_once_and_linked_from_its_copy(site: Site) -> None:
    """A cold build into an empty output writes each feed's bytes once (the
    cache's checked copy) and links the output to it; a changed feed later
    replaces both, never writing through the link."""
    _site(site).build()
    first = site.output / "feeds/comment.first-post.atom.xml"
    assert first.stat().st_nlink == 2
    before = first.read_text()
    c4 = site.content / "comments" / "first-post" / "c4.markdown"
    c4.write_text(c4.read_text().replace("wondering", "wandering"))
    site.build()
    after = first.read_text()
    assert "wandering" in after and "wandering" not in before
    copies = list((site.root / "cache").rglob("*.xml"))
    assert any(copy.read_text() == after for copy in copies)
    assert not any(copy.read_text() == before for copy in copies)


def _kept_feed(tmp_path: Path) -> tuple[Path, Path]:
    """A feed kept by one build's stamps; (the stamps file, its copy)."""
    stamps = feed_copies.FeedStamps(tmp_path / "cache" / "feeds.pickle")
    (tmp_path / "cache").mkdir()
    copy = stamps.keep("feeds/a.xml", "d1", "<feed>a</feed>")
    assert copy is not None
    old = copy.stat().st_mtime_ns
    os.utime(copy, ns=(old - 10**9, old - 10**9))  # written a second before the save
    stamps.new["feeds/a.xml"] = (*stamps.new["feeds/a.xml"][:3], old - 10**9)
    stamps.save()
    return stamps.path, copy  # type: ignore[return-value]


def test_a_copy_as_kept_is_linked_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, copy = _kept_feed(tmp_path)
    reads: list[Path] = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or real(self))
    stamps = feed_copies.FeedStamps(path)
    assert stamps.reuse(tmp_path / "out", "feeds/a.xml", "d1")
    target = tmp_path / "out" / "feeds" / "a.xml"
    assert target.read_text() == "<feed>a</feed>" and target.stat().st_nlink == 2
    assert copy not in reads


def test_a_copy_changed_since_it_was_kept_is_checked(tmp_path: Path) -> None:
    path, copy = _kept_feed(tmp_path)
    copy.write_text("<feed>b</feed>")  # same size, edited: its time moved
    stamps = feed_copies.FeedStamps(path)
    assert not stamps.reuse(tmp_path / "out", "feeds/a.xml", "d1")
    assert not (tmp_path / "out" / "feeds" / "a.xml").exists()


def test_a_copy_kept_in_the_saving_tick_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Racy, as git calls it: edited in the clock tick of the save, a copy
    keeps its recorded time; such a copy is read and checked."""
    path, copy = _kept_feed(tmp_path)
    kept = copy.stat().st_mtime_ns
    copy.write_text("<feed>b</feed>")
    os.utime(copy, ns=(kept, kept))  # the edit left the time as it was
    os.utime(path, ns=(kept, kept))  # ... in the tick the stamps were saved in
    stamps = feed_copies.FeedStamps(path)
    assert not stamps.reuse(tmp_path / "out", "feeds/a.xml", "d1")
    copy.write_text("<feed>a</feed>")
    os.utime(copy, ns=(kept, kept))
    stamps = feed_copies.FeedStamps(path)
    assert stamps.reuse(tmp_path / "out", "feeds/a.xml", "d1")  # checked: right
    assert (tmp_path / "out" / "feeds" / "a.xml").read_text() == "<feed>a</feed>"


def test_the_feeds_and_the_authors_page_read_each_thread_once(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: on a build that writes the author's page, the feeds take
    the threads its walk reads: each cached thread is read once for both
    (a cold build of 2,000 posts read 1,900 of them twice), and the feeds
    and the page are the same as when each walks alone."""
    from collections import Counter, deque

    from pelican_engage import cache, consumers

    _site(site)
    # Nothing held: every thread asked for is read from its file.
    monkeypatch.setattr(cache, "HELD_ITEMS", 0)
    monkeypatch.setattr(cache._RECENT, "recent", deque(maxlen=0))
    reads: list[str] = []
    walking = [False]
    load, write = cache.ThreadCache.load, consumers._write

    def counted_load(self: cache.ThreadCache, key: str, token: str) -> object:
        if walking[0]:
            reads.append(key)
        return load(self, key, token)

    def watched_write(*args: object) -> object:
        walking[0] = True
        try:
            return write(*args)  # type: ignore[arg-type]
        finally:
            walking[0] = False

    monkeypatch.setattr(cache.ThreadCache, "load", counted_load)
    monkeypatch.setattr(consumers, "_write", watched_write)
    report = site.root / "engage-report" / "index.html"

    def build_both() -> dict[Path, bytes]:
        """A build writing every feed and the author's page, the threads cached."""
        reads.clear()
        report.unlink()
        for feed in site.output.rglob("*.atom.xml"):
            feed.unlink()
        (site.root / "cache" / "engage" / "comment-feeds.pickle").unlink()
        site.build(ENGAGE_OFFLINE=True)
        return {p: _timeless(p.read_bytes()) for p in [report, *site.output.rglob("*.atom.xml")]}

    site.build(ENGAGE_OFFLINE=True)
    together = build_both()
    # Each thread with items once (the hidden post's too: the page counts it).
    assert Counter(reads) == {"first-post": 1, "hidden-post": 1, "quiet-post": 1}
    assert len(together) == 4  # the page, two posts' feeds and the site's
    # Each walk alone, as before: the same feeds and page, and the thread
    # of the post with comments read twice.
    monkeypatch.setattr(consumers, "_write_both", _apart)
    assert build_both() == together
    assert Counter(reads)["first-post"] == 2


def _apart(engine: object, articles: object, lang: str) -> list[object]:
    from pelican_engage import author_page, comment_feed

    return [
        *comment_feed.write_for(engine, articles),  # type: ignore[arg-type]
        *author_page.write_due(engine, lang),  # type: ignore[arg-type]
    ]


def _timeless(data: bytes) -> bytes:
    """A page or feed without the times it was made at."""
    import re

    return re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?[^<\"]*", b"T", data)


def test_feeds_that_cannot_be_written_leave_the_authors_page_written(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """The walk both share: a feed that cannot be written is told once,
    naming the setting; the author's page is still written whole."""
    import logging
    import shutil

    _site(site)
    site.build(ENGAGE_OFFLINE=True)
    page = site.root / "engage-report" / "index.html"
    whole = _timeless(page.read_bytes())
    page.unlink()
    shutil.rmtree(site.output / "feeds")
    (site.root / "cache" / "engage" / "comment-feeds.pickle").unlink()
    (site.output / "feeds").write_text("a file where the feeds' folder goes")
    caplog.set_level(logging.INFO, logger="pelican_engage")
    site.build(ENGAGE_OFFLINE=True)
    told = [r.getMessage() for r in caplog.records if "ENGAGE_COMMENT_FEED" in r.getMessage()]
    assert told and all("cannot be written" in message for message in told)
    assert _timeless(page.read_bytes()) == whole


def test_a_feed_whose_thread_the_authors_page_does_not_walk_is_written_too(
    tmp_path: Path,
) -> None:
    """The shared walk gives each feed the thread the author's page reads;
    a feed of a thread the page does not count (none in a build today) is
    written at the end, its thread read then, the site's feed last."""
    from types import SimpleNamespace

    from pelican_engage import comment_feed, consumers

    reads: list[str] = []
    one, two = _Lazy("one", reads), _Lazy("two", reads)
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    feeds = comment_feed.Feeds(comment_feed.DEFAULT_POST_FEED, comment_feed.DEFAULT_ALL_FEED)
    settings = {"SITEURL": "https://blog.example", "SITENAME": "Blog"}
    walk = comment_feed.FeedWalk(tmp_path, feeds, [(one, when), (two, when)], settings)
    feeding = consumers._Feeding(walk)
    engine = SimpleNamespace(counted=[one], counted_threads=[one._thread])
    assert [t.post.key for t in feeding.threads(engine)] == ["one"]  # type: ignore[arg-type]
    assert reads == []  # the page's thread, handed over
    assert feeding.finish() == []
    assert reads == ["two"]
    for key in ("one", "two"):
        feed = feedparser.parse(
            (tmp_path / comment_feed.feed_path(feeds.per_post, key)).read_bytes()
        )
        assert [e.content[0].value for e in feed.entries] == [f"<p>Hi {key}</p>"]
    site_feed = feedparser.parse((tmp_path / comment_feed.DEFAULT_ALL_FEED).read_bytes())
    assert len(site_feed.entries) == 2


class _Lazy:
    """A cached thread as the feeds see it (``cache.LazyEngagement``): its
    key and feed digest known, its thread read when asked (noted in ``reads``)."""

    def __init__(self, key: str, reads: list[str]) -> None:
        from pelican_engage.conversation import build_thread
        from pelican_engage.model import Post
        from pelican_engage.settings import author_identity

        self.key, self.feed_digest, self._reads = key, f"digest-{key}", reads
        item = Item(
            id=f"mastodon:{key}",
            source="mastodon",
            kind="reply",
            author=Person("Ann"),
            published=datetime(2026, 1, 2, tzinfo=timezone.utc),
            content_html=f"<p>Hi {key}</p>",
        )
        post = Post(key, key.title(), url=f"https://blog.example/{key}.html")
        self._thread = build_thread(post, [item], author_identity({}))[0]

    def get(self) -> _Lazy:
        return self

    @property
    def thread(self) -> Any:
        self._reads.append(self.key)
        return self._thread


def test_a_feed_edited_in_place_through_its_link_is_put_right(site: Site) -> None:
    """The output feed is a link to its kept copy: an edit in place, even
    one keeping its size, changes the copy too. The next build (output kept)
    sees the copy's time changed, checks it, and renders the feed again."""
    _site(site).build()
    first = site.output / "feeds/comment.first-post.atom.xml"
    good = first.read_bytes()
    assert first.stat().st_nlink == 2
    with first.open("r+b") as handle:  # same size: "Dee" -> "Zed"
        handle.write(good.replace(b"Dee", b"Zed"))
    assert first.read_bytes() != good and first.stat().st_size == len(good)
    site.build()
    assert first.read_bytes() == good
    site.build()  # and stays so
    assert first.read_bytes() == good


def test_a_feed_that_is_not_its_copy_is_trusted_by_its_own_stamp(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An output feed that cannot be a link to its copy (another file
    system, a deploy tool's copy) is checked against the copy once, then
    trusted by its own inode, size and time; edited in place at the same
    size, it is checked again and replaced, never written through."""
    from pelican_engage import feed_copies

    _site(site).build()
    first = site.output / "feeds/comment.first-post.atom.xml"
    good = first.read_bytes()
    first.unlink()
    first.write_bytes(good)  # a file of its own, the same bytes
    read = _reads(monkeypatch, feed_copies)
    site.build()
    assert first.read_bytes() == good and first.stat().st_nlink == 1  # left alone
    assert first.name in read  # checked once
    _saved_later(site)
    read.clear()
    site.build()
    assert read == [] and first.read_bytes() == good  # then trusted unread
    with first.open("r+b") as handle:  # same size: "Dee" -> "Zed"
        handle.write(good.replace(b"Dee", b"Zed"))
    site.build()
    assert first.read_bytes() == good


def test_feed_copies_written_in_the_tick_of_the_save_are_vouched_for_later(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As git's racy entries: a copy whose time is the stamps file's is
    checked, and the stamps are saved again (even unchanged), so the build
    after trusts it without reading it."""
    from pelican_engage import feed_copies

    _site(site).build()
    stamps = site.root / "cache" / "engage" / "comment-feeds.pickle"
    copies = sorted((site.root / "cache" / "engage" / "comment-feeds.pickle.d").glob("*.xml"))
    racy = max(copy.stat().st_mtime_ns for copy in copies)
    in_the_tick = {copy.name for copy in copies if copy.stat().st_mtime_ns == racy}
    os.utime(stamps, ns=(racy, racy))
    read = _reads(monkeypatch, feed_copies)
    site.build()
    assert in_the_tick <= set(read)  # racy: checked
    assert stamps.stat().st_mtime_ns > racy  # and vouched for by a later save
    _saved_later(site)
    read.clear()
    site.build()
    assert read == []


def _reads(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[str]:
    """The names of the files ``module`` reads with ``read_whole`` from now on."""
    read: list[str] = []
    read_whole = module.read_whole

    def noted(path: Path) -> Any:
        read.append(Path(path).name)
        return read_whole(path)

    monkeypatch.setattr(module, "read_whole", noted)
    return read


def _saved_later(site: Site, seconds: float = 1.0) -> None:
    """As if the feeds' stamps had been saved ``seconds`` after the files
    they stamp: a fast test writes both in one clock tick, where nothing
    is trusted."""
    stamps = site.root / "cache" / "engage" / "comment-feeds.pickle"
    stat = stamps.stat()
    os.utime(stamps, ns=(stat.st_atime_ns, stat.st_mtime_ns + int(seconds * 1e9)))


def test_feeds_on_a_file_system_without_links_are_not_rewritten_each_build(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Output and cache on different file systems (links refused, EXDEV):
    a warm build neither reads the copies nor rewrites the feeds."""
    import errno

    from pelican_engage import feed_copies

    def no_link(*_args: object, **_named: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    _site(site).build()
    feeds = sorted(site.output.rglob("*.atom.xml"))
    before = {feed: (feed.stat().st_ino, feed.stat().st_mtime_ns) for feed in feeds}
    assert all(feed.stat().st_nlink == 1 for feed in feeds)
    _saved_later(site)
    read = _reads(monkeypatch, feed_copies)
    site.build()
    assert read == []
    assert {feed: (feed.stat().st_ino, feed.stat().st_mtime_ns) for feed in feeds} == before
