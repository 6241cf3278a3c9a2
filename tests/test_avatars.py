"""Avatars without tracking: fetched once from a loopback server, checked,
kept under the cache, copied into the output; initials for everyone else."""

from __future__ import annotations

import io
import logging
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from pelican.log import LimitFilter

from pelican_engage import avatars, pcs_compat
from pelican_engage.archive import Archive
from pelican_engage.model import Item, Person
from tests.conftest import Site
from tests.images import SVG, gif, png
from tests.loopback import Server, send

SITEURL = "https://blog.example"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (png(), "png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
        (gif(), "gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (SVG, ""),
        (b'<?xml version="1.0"?>' + SVG, ""),
        (b"<!doctype html><html><body>Not found</body></html>", ""),
        (b"", ""),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", ""),
    ],
)
def test_images_are_known_by_their_magic_bytes(data: bytes, kind: str) -> None:
    assert avatars.sniff(data) == kind


def test_with_pillow_an_avatar_is_resized_to_a_small_png() -> None:
    pil = pytest.importorskip("PIL.Image")
    body, ext = avatars.prepare(png(400, 300))
    assert ext == "png"
    with pil.open(io.BytesIO(body)) as image:
        assert max(image.size) == avatars.PIXELS and image.size[0] > image.size[1]
    with pytest.raises(avatars.AvatarError, match="unreadable image"):
        avatars.prepare(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)


def _noise_png(size: int) -> bytes:
    """A PNG that does not compress: bigger than KEEP_BYTES at ``size``."""
    rows = os.urandom(size * size * 3)
    import struct
    import zlib

    raw = b"".join(b"\x00" + rows[y * size * 3 : (y + 1) * size * 3] for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    head = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", head)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_without_pillow_small_images_are_kept_as_they_are_and_big_ones_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(avatars, "_pillow", lambda: None)
    small = png(8, 8)
    assert avatars.prepare(small) == (small, "png")
    assert avatars.prepare(gif()) == (gif(), "gif")
    big = _noise_png(200)
    assert len(big) > avatars.KEEP_BYTES
    with pytest.raises(avatars.AvatarError, match="too big"):
        avatars.prepare(big)
    with pytest.raises(avatars.AvatarError, match="not an image"):
        avatars.prepare(SVG)


def test_initials_are_one_drawing_for_the_thread_and_for_pcs_themes() -> None:
    assert avatars.initials("Ann Reader") == "AR"
    assert avatars.initials("  ") == "?"
    assert avatars.initials("émile zola jr") == "ÉZ"
    inline = avatars.initials_svg("<b>Ann</b>", 40, inline=True)
    assert 'aria-hidden="true"' in inline and "<b>" not in inline
    # pelican_comment_system's identicon files use the same drawing.
    assert pcs_compat.initials_svg is avatars.initials_svg


# -- A build with avatars from a loopback server ----------------------------------------


def _serve(server: Server) -> dict[str, str]:
    """Avatar URLs by what they hold; the server answers each as named."""
    huge = png(4, 4) + b"\x00" * (avatars.MAX_BYTES + 10)
    answers = {
        "/ok.png": (200, png(120, 120), "image/png"),
        "/photo.gif": (200, gif(), "image/gif"),
        "/page.png": (200, b"<html><body>a login page</body></html>", "text/html"),
        "/logo.svg": (200, SVG, "image/svg+xml"),
        "/huge.png": (200, huge, "image/png"),
    }
    for path, (status, body, kind) in answers.items():

        def answer(h: Any, _hit: int, status: int = status, body: bytes = body, kind: str = kind):
            send(h, status, body, Content_Type=kind)

        server.routes[path] = answer
    urls = {name.strip("/").split(".")[0]: server.url + name for name in answers}
    urls["gone"] = server.url + "/gone.png"  # 404
    urls["down"] = "http://127.0.0.1:9/nobody.png"  # nothing listens
    return urls


def _archive(site: Site, urls: dict[str, str], origin: str = "http://127.0.0.1:8000") -> None:
    items = [
        Item(
            id=f"mastodon:social.example/{n}",
            source="mastodon",
            kind="reply",
            author=Person(
                name=f"Reader {name.title()}", handle=f"{name}@social.example", avatar=url
            ),
            published=datetime(2026, 1, 3, 10, n, tzinfo=timezone.utc),
            content_html=f"<p>Hello from {name}</p>",
            # From a server on loopback too: a public one may not name a private avatar.
            url=f"{origin}/@{name}/{n}",
        )
        for n, (name, url) in enumerate(sorted(urls.items()))
    ]
    items.append(
        Item(
            id="mastodon:social.example/like-1",
            source="mastodon",
            kind="like",
            author=Person(name="Liker", handle="liker@social.example", avatar=urls["ok"]),
            published=datetime(2026, 1, 4, tzinfo=timezone.utc),
        )
    )
    Archive(site.root / "archive").merge("post", items)


def _avatar_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "avatar(s) not usable" in r.getMessage()]


def _img_sources(page: str) -> list[str]:
    return re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", page)


def test_avatars_are_fetched_once_served_by_the_site_and_never_hot_linked(
    site: Site, server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    urls = _serve(server)
    _archive(site, urls, server.url)
    site.article("post")
    site.build()
    page = (site.output / "post.html").read_text(encoding="utf-8")
    html = site.html("post.html")

    # Every item has an avatar beside it: a copy on the site, or initials.
    for li in html.select("li.engage-item"):
        card = li.select_one(".p-author")
        assert card.select_one("img.engage-avatar, svg.engage-initials"), li["data-engage-id"]
    sources = _img_sources(page)
    assert sources, "the good avatars are shown"
    for src in sources:
        assert src.startswith(f"{SITEURL}/engage/avatars/"), src
    assert f'src="{server.url}' not in page and f"url({server.url}" not in page

    def shown(name: str) -> str:
        li = html.find("span", string=f"Reader {name.title()}").find_parent("li")
        img = li.select_one(".p-author img")
        return img["src"] if img else "initials"

    # The PNG and the GIF are served from the site; the rest get initials.
    assert shown("ok").endswith(".png") and shown("photo").startswith(SITEURL)
    for bad in ("page", "logo", "huge", "gone", "down"):
        assert shown(bad) == "initials", bad
    # The likes row uses the same copy.
    liker = html.select_one(".engage-likes img")
    assert liker["src"] == shown("ok")

    # Content-addressed under the cache, copied into the output.
    cached = sorted(p.name for p in (site.root / "cache" / "engage" / "avatars").glob("*.*"))
    written = sorted(p.name for p in (site.output / "engage" / "avatars").iterdir())
    assert written == [n for n in cached if n != "index.json"]
    assert all(re.fullmatch(r"[0-9a-f]{64}\.(png|gif)", n) for n in written)
    # Resized when Pillow is there (it is, in the test extras): 96 px at most.
    pil = pytest.importorskip("PIL.Image")
    with pil.open(site.output / shown("ok").removeprefix(SITEURL + "/")) as image:
        assert max(image.size) <= avatars.PIXELS

    # One line for the build, naming how many failed and why.
    (line,) = _avatar_lines(caplog)
    assert line.startswith("engage: 5 avatar(s) not usable")
    for reason in ("not an image: 2", "too big: 1", "HTTP 404: 1", "unreachable: 1"):
        assert reason in line, line

    # Fetched once: the next build asks nobody, and still says it in one line.
    hits = dict(server.hits)
    caplog.clear()
    LimitFilter._raised_messages.clear()  # Pelican says a line once per process
    site.build()
    assert server.hits == hits
    assert len(_avatar_lines(caplog)) == 1

    # Offline, from a fresh output folder, the copies come from the cache.
    import shutil

    shutil.rmtree(site.output)
    site.build(ENGAGE_OFFLINE=True)
    assert server.hits == hits
    again = (site.output / "post.html").read_text(encoding="utf-8")
    assert _img_sources(again) == sources
    for src in sources:
        assert (site.output / src.removeprefix(SITEURL + "/")).is_file()


def test_an_avatar_that_fails_is_asked_again_after_a_day(site: Site, server: Server) -> None:
    urls = _serve(server)
    store = avatars.AvatarStore(site.root / "store")
    store.fail(urls["ok"], "unreachable", now=0.0)
    assert store.due(urls["ok"], now=avatars.RETRY_SECONDS + 1)
    store.fail(urls["ok"], "unreachable", now=1000.0)
    assert not store.due(urls["ok"], now=1000.0 + 60)
    assert not store.due("data:image/png;base64,AAAA", now=0.0)


def test_the_stamp_follows_the_index(tmp_path: Path) -> None:
    """Part of every page's render key, made once until the index changes."""
    store = avatars.AvatarStore(tmp_path / "store")
    empty = store.stamp
    store.fail("https://x.example/a.png", "unreachable", now=0.0)
    failed = store.stamp
    assert failed != empty
    store.keep("https://x.example/b.png", png(8, 8))
    assert store.stamp not in (empty, failed)
    store.save()
    assert avatars.AvatarStore(tmp_path / "store").stamp == store.stamp


def test_avatars_off_show_none_and_fetch_none(site: Site, server: Server) -> None:
    urls = _serve(server)
    _archive(site, urls)
    site.article("post")
    site.build(ENGAGE_AVATARS=False)
    page = (site.output / "post.html").read_text(encoding="utf-8")
    assert "engage-avatar" not in page and not _img_sources(page)
    assert not any(path.endswith((".png", ".gif", ".svg")) for path in server.hits)
    assert not (site.output / "engage" / "avatars").exists()
    # The likes row names the person instead.
    assert "Liker" in site.html("post.html").select_one(".engage-likes").get_text()


def test_people_without_an_avatar_get_initials(site: Site) -> None:
    site.article("post")
    site.comment("post", "c1.md", "Hi", author="Ann Reader", date="2026-01-03")
    site.build(ENGAGE_OFFLINE=True)
    li = site.html("post.html").select_one('[data-engage-id="comment:post/c1"]')
    initials = li.select_one(".p-author svg.engage-initials")
    assert initials is not None and initials.get_text() == "AR"
    assert initials["aria-hidden"] == "true"


def test_the_index_survives_damage(tmp_path: Path) -> None:
    folder = tmp_path / "avatars"
    folder.mkdir()
    (folder / "index.json").write_text("{not json", encoding="utf-8")
    store = avatars.AvatarStore(folder)
    assert store.index == {} and store.file_for("https://x.example/a.png") == ""
    # A hand-edited index cannot point outside the store.
    (folder / "index.json").write_text('{"https://x.example/a.png": {"file": "../../etc/passwd"}}')
    assert avatars.AvatarStore(folder).file_for("https://x.example/a.png") == ""


def test_pelican_engage_fetch_stores_the_avatars_for_offline_builds(
    site: Site, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    from pelican_engage import cli

    urls = _serve(server)
    _archive(site, urls, server.url)
    site.article("post")
    conf = site.write_conf()
    assert cli.main(["fetch", "-s", str(conf)]) == 0
    out = capsys.readouterr().out
    assert "avatars: 2 stored; 5 avatar(s) not usable" in out
    hits = dict(server.hits)
    # The build is offline: the page shows what the fetch stored.
    site.build(ENGAGE_OFFLINE=True)
    assert server.hits == hits
    sources = _img_sources((site.output / "post.html").read_text(encoding="utf-8"))
    assert len(set(sources)) == 2
    assert all(s.startswith(SITEURL + "/engage/avatars/") for s in sources)


@pytest.mark.parametrize(
    ("named_by", "avatar"),
    [
        # A public network's stranger cannot make the build ask the LAN...
        ("https://social.example/@eve/1", "{server}/ok.png"),
        ("", "{server}/ok.png"),
        ("https://social.example/@eve/1", "http://10.0.0.1/admin.png"),
        # ...and nobody can make it ask a cloud's metadata service.
        ("{server}/@eve/1", "http://169.254.169.254/latest/meta-data/"),
        ("{server}/@eve/1", "http://metadata.google.internal/x.png"),
    ],
)
def test_avatar_urls_that_point_inside_are_refused_unasked(
    site: Site, server: Server, named_by: str, avatar: str
) -> None:
    _serve(server)
    named_by, avatar = (v.replace("{server}", server.url) for v in (named_by, avatar))
    item = Item(
        id="webmention:1",
        source="webmention",
        kind="reply",
        author=Person(name="Eve", avatar=avatar),
        published=datetime(2026, 1, 3, tzinfo=timezone.utc),
        content_html="<p>Hi</p>",
        url=named_by,
    )
    Archive(site.root / "archive").merge("post", [item])
    site.article("post")
    site.build()
    assert server.hits == {}
    li = site.html("post.html").select_one('[data-engage-id="webmention:1"]')
    assert li.select_one("svg.engage-initials") is not None and li.select_one("img") is None
    index = avatars.AvatarStore(site.root / "cache" / "engage" / "avatars").index
    assert index[avatar]["error"] == "refused"


def test_an_item_on_a_private_server_may_name_an_avatar_there(server: Server) -> None:
    assert avatars.refusal(f"{server.url}/ok.png", f"{server.url}/@ann/1") == ""
    assert avatars.refusal("https://cdn.example/a.png", "https://social.example/@ann/1") == ""


def test_a_small_file_claiming_a_huge_picture_is_too_big() -> None:
    pytest.importorskip("PIL.Image")
    import struct
    import zlib

    # A valid PNG header for 10,000 x 10,000 pixels, and almost no data.
    head = struct.pack(">IIBBBBB", 10_000, 10_000, 8, 2, 0, 0, 0)
    body = b"IHDR" + head
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(head))
        + body
        + struct.pack(">I", zlib.crc32(body))
        + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    with pytest.raises(avatars.AvatarError, match="too big"):
        avatars.prepare(bomb)
