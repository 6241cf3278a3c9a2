"""Deletions Bluesky confirms, and threads of any depth, on a loopback AppView.

The AppView here keeps posts in a tree and answers getPostThread for any
anchor with the depth asked (as the real one does), and getPosts with the
posts that still exist.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pelican_engage.archive import Archive
from pelican_engage.cli import main
from pelican_engage.deepjson import loads
from pelican_engage.sources.bluesky import THREAD_DEPTH
from tests.conftest import Site
from tests.loopback import Server, send

DATA = Path(__file__).parent / "data" / "bluesky"
MARIN = "did:plc:marinexample0000000000aa"
ROOT = f"at://{MARIN}/app.bsky.feed.post/3lbqroot0006"
REGRET = "at://did:plc:regretful0000000000000aa/app.bsky.feed.post/3lbqregr0001"
AUTHOR = {"names": ["Marin"], "bluesky": ["marin.example"]}


def post(uri: str, name: str, text: str, replies: int = 0) -> dict[str, Any]:
    did = uri.split("/")[2]
    handle = name.lower().replace(" ", "") + ".bsky.example"
    return {
        "uri": uri,
        "cid": "bafy",
        "author": {"did": did, "handle": handle, "displayName": name},
        "record": {"$type": "app.bsky.feed.post", "text": text,
                   "createdAt": "2024-12-05T09:00:00.000Z"},
        "replyCount": replies,
        "indexedAt": "2024-12-05T09:00:00.000Z",
    }  # fmt: skip


class TreeAppView:
    """getPostThread (any anchor, ``depth`` honoured) and getPosts."""

    def __init__(self, server: Server) -> None:
        self.posts: dict[str, dict[str, Any]] = {}
        self.children: dict[str, list[str]] = {}
        #: Deleted posts that still appear in their thread as notFoundPost.
        self.not_found: set[str] = set()
        self.thread_queries: list[dict[str, str]] = []
        self.posts_queries: list[list[str]] = []
        self.fail_posts = False
        self.add(None, post(ROOT, "Marin", "New post: moving house"))
        server.routes["/xrpc/app.bsky.feed.getPostThread"] = self.thread
        server.routes["/xrpc/app.bsky.feed.getPosts"] = self.get_posts

    def add(self, parent: str | None, view: dict[str, Any]) -> str:
        self.posts[view["uri"]] = view
        self.children.setdefault(view["uri"], [])
        if parent:
            self.children[parent].append(view["uri"])
            self.posts[parent]["replyCount"] = len(self.children[parent])
        return str(view["uri"])

    def delete(self, uri: str, placeholder: bool = False) -> None:
        del self.posts[uri]
        if placeholder:
            self.not_found.add(uri)
        else:
            for kids in self.children.values():
                if uri in kids:
                    kids.remove(uri)

    def node(self, uri: str, depth: int) -> dict[str, Any]:
        # Built with an explicit stack: the chains here are thousands deep.
        top: dict[str, Any] = {}
        stack = [(uri, depth, top)]
        while stack:
            at, left, out = stack.pop()
            if at in self.not_found:
                out.update({"$type": "app.bsky.feed.defs#notFoundPost", "uri": at,
                            "notFound": True})  # fmt: skip
                continue
            out.update({"$type": "app.bsky.feed.defs#threadViewPost", "post": self.posts[at]})
            if left > 0:
                out["replies"] = []
                for child in self.children.get(at, []):
                    slot: dict[str, Any] = {}
                    out["replies"].append(slot)
                    stack.append((child, left - 1, slot))
        return top

    def thread(self, handler: Any, _n: int) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        self.thread_queries.append(query)
        if query["uri"] not in self.posts:
            body = {"error": "NotFound", "message": f"Post not found: {query['uri']}"}
            send(handler, 400, json.dumps(body).encode(), Content_Type="application/json")
            return
        answer = {"thread": self.node(query["uri"], int(query["depth"]))}
        body = json.dumps(answer).encode() if int(query["depth"]) < 300 else _dumps(answer)
        send(handler, 200, body, Content_Type="application/json")

    def get_posts(self, handler: Any, _n: int) -> None:
        uris = parse_qs(urlsplit(handler.path).query).get("uris", [])
        self.posts_queries.append(uris)
        if self.fail_posts:
            send(handler, 502, b"")
            return
        found = [self.posts[u] for u in uris if u in self.posts]
        send(handler, 200, json.dumps({"posts": found}).encode(), Content_Type="application/json")


def _dumps(answer: Any) -> bytes:
    """json.dumps without its recursion limit, for answers deeper than asked."""
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)
    try:
        return json.dumps(answer).encode()
    finally:
        sys.setrecursionlimit(old)


@pytest.fixture
def appview(server: Server) -> TreeAppView:
    return TreeAppView(server)


def settings(server: Server) -> dict[str, Any]:
    return {
        "ENGAGE_AUTHOR": AUTHOR,
        "ENGAGE_BLUESKY": {"api_url": server.url, "reactions": False},
        "ENGAGE_REPORT_PAGE": None,
    }


def shown(site: Site) -> list[str]:
    return [li["data-engage-id"] for li in site.html("moving.html").select("li.engage-item")]


def fetch(site: Site, server: Server, capsys: pytest.CaptureFixture[str], status: int = 0) -> str:
    """``fetch --force``; its exit status is 1 when every fetch failed."""
    conf = site.write_conf(**settings(server))
    capsys.readouterr()
    assert main(["fetch", "-s", str(conf), "--force"]) == status
    return capsys.readouterr().out


def test_a_reply_deleted_upstream_is_withdrawn_and_stays_gone(
    site: Site, server: Server, appview: TreeAppView, capsys: pytest.CaptureFixture[str]
) -> None:
    """f08: build, the reader deletes the reply, fetch, build."""
    appview.add(ROOT, post(REGRET, "Regretful", "We live on Example Lane, come by!"))
    site.article("moving", bluesky=ROOT)
    site.build(**settings(server))
    assert shown(site) == [f"bluesky:{REGRET}"]

    appview.delete(REGRET)
    out = fetch(site, server, capsys)
    assert f"bluesky:{REGRET} was deleted upstream; withdrawn" in out
    # Absent from a complete thread, then asked for by itself: gone.
    assert appview.posts_queries == [[REGRET]]
    site.build(**settings(server))
    assert shown(site) == []
    page = (site.output / "moving.html").read_text()
    assert "Example Lane" not in page and "Regretful" not in page

    path = Archive(site.root / "archive").post_path("moving")
    data = json.loads(path.read_text())
    assert data["items"] == {}
    assert data["tombstones"][f"bluesky:{REGRET}"]["reason"] == "deleted"
    assert "Example Lane" not in path.read_text() and "Regretful" not in path.read_text()

    # A later answer that has it again (a stale cache) does not bring it back.
    appview.add(ROOT, post(REGRET, "Regretful", "We live on Example Lane, come by!"))
    fetch(site, server, capsys)
    assert Archive(site.root / "archive").load("moving").items == {}


def test_a_reply_missing_from_the_thread_but_still_there_stays(
    site: Site, server: Server, appview: TreeAppView, capsys: pytest.CaptureFixture[str]
) -> None:
    appview.add(ROOT, post(REGRET, "Regretful", "Still here"))
    site.article("moving", bluesky=ROOT)
    site.build(**settings(server))
    # Left out of the thread (a blocked branch, say), yet getPosts has it.
    appview.children[ROOT].remove(REGRET)
    assert "deleted upstream" not in fetch(site, server, capsys)
    assert appview.posts_queries == [[REGRET]]
    # getPosts failing confirms nothing either.
    appview.fail_posts = True
    del appview.posts[REGRET]
    assert "getPosts: server error 502" in fetch(site, server, capsys, status=1)
    assert list(Archive(site.root / "archive").load("moving").items) == [f"bluesky:{REGRET}"]


def test_a_not_found_reply_keeps_its_replies_under_a_deleted_placeholder(
    site: Site, server: Server, appview: TreeAppView, capsys: pytest.CaptureFixture[str]
) -> None:
    first = appview.add(ROOT, post(REGRET, "Regretful", "Secret first words"))
    answer = appview.add(
        first,
        post("at://did:plc:answerer0000000000000aa/app.bsky.feed.post/a1", "Ann", "Welcome!"),
    )
    site.article("moving", bluesky=ROOT)
    site.build(**settings(server))
    appview.delete(first, placeholder=True)  # the AppView shows notFoundPost
    fetch(site, server, capsys)
    # notFound says it all for the deleted reply; its answer, cut off with
    # it, is asked for by itself and still exists.
    assert appview.posts_queries == [[answer]]
    site.build(**settings(server))
    page = site.html("moving.html")
    assert shown(site) == [f"bluesky:{answer}"]
    holder = page.select_one("li.engage-placeholder-deleted")
    assert holder is not None and "deleted" in holder.get_text()
    assert holder.select_one("li.engage-item")["data-engage-id"] == f"bluesky:{answer}"
    assert "Secret first words" not in str(page) and "regretful" not in str(page)


def chain(appview: TreeAppView, length: int) -> list[str]:
    uris, parent = [], ROOT
    for n in range(length):
        parent = appview.add(
            parent, post(f"at://did:plc:p{n}/app.bsky.feed.post/r{n}", f"P{n}", f"reply {n}")
        )
        uris.append(parent)
    return uris


def test_a_3000_deep_chain_is_archived_whole_asking_from_the_deepest_reply(
    site: Site, server: Server, appview: TreeAppView
) -> None:
    uris = chain(appview, 3000)
    site.article("moving", bluesky=ROOT)
    site.build(**settings(server))
    items = Archive(site.root / "archive").load("moving").items
    assert len(items) == 3000
    assert items[f"bluesky:{uris[0]}"].in_reply_to is None
    assert all(items[f"bluesky:{uris[n]}"].in_reply_to == f"bluesky:{uris[n - 1]}"
               for n in range(1, 3000))  # fmt: skip
    depths = {q["depth"] for q in appview.thread_queries}
    assert depths == {str(THREAD_DEPTH)}
    assert len(appview.thread_queries) == 3000 // THREAD_DEPTH
    assert len(shown(site)) == 3000


def test_f3_an_answer_600_deep_is_decoded_whatever_depth_was_asked(
    site: Site, server: Server, engage_warnings: Callable[[], list[str]]
) -> None:
    body = gzip.decompress((DATA / "deep-600.json.gz").read_bytes())
    if sys.version_info < (3, 12):
        # What failed before; Python 3.12+ counts the C decoder's nesting apart from Python
        # frames (a limit in the thousands), so there the stdlib reads 600 levels too.
        with pytest.raises(RecursionError):
            json.loads(body)
    server.routes["/xrpc/app.bsky.feed.getPostThread"] = lambda h, n: send(
        h, 200, body, Content_Type="application/json"
    )
    site.article("post", bluesky="at://did:plc:marin/app.bsky.feed.post/root")
    site.build(**settings(server))
    items = Archive(site.root / "archive").load("post").items
    assert len(items) == 600
    for n in range(1, 600):
        item = items[f"bluesky:at://did:plc:p{n}/app.bsky.feed.post/r{n}"]
        assert item.in_reply_to == f"bluesky:at://did:plc:p{n - 1}/app.bsky.feed.post/r{n - 1}"
    assert items["bluesky:at://did:plc:p0/app.bsky.feed.post/r0"].in_reply_to is None
    assert len(site.html("post.html").select("li.engage-item")) == 600
    assert engage_warnings() == []


@pytest.mark.parametrize(
    "text",
    ["[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000,
     json.dumps({"x": [1, 2.5, -3e2, "é\\n", True, False, None, {}, []]})],
)  # fmt: skip
def test_json_of_any_depth(text: str) -> None:
    value = loads(text.encode())
    assert _dumps(value).decode() == _dumps(_deep_reference(text)).decode()


def _deep_reference(text: str) -> Any:
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)
    try:
        return json.loads(text)
    finally:
        sys.setrecursionlimit(old)


@pytest.mark.parametrize("text", ["[1,]", '{"a"}', "[1 2]", "[", "[1]x", "{1:2}", '{"a":1,}'])
def test_json_errors_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError):
        loads("[" * 2000 + text + "]" * 2000)


@pytest.mark.parametrize(
    ("posts_answer", "withdrawn"),
    [
        ((404, b'{"error": "NotFound", "message": "Post not found"}'), True),
        ((200, b'{"posts": []}'), True),
        ((404, b"<html>Not Found</html>"), False),  # a proxy's page says nothing of the post
        ((200, b'{"feed": []}'), False),
    ],
)
def test_f08_with_the_recorded_answers(
    site: Site,
    server: Server,
    capsys: pytest.CaptureFixture[str],
    posts_answer: tuple[int, bytes],
    withdrawn: bool,
) -> None:
    """The field case's two thread answers; getPosts as the server has it."""
    answers = {"now": "deleted-before.json"}
    server.routes["/xrpc/app.bsky.feed.getPostThread"] = lambda h, n: send(
        h, 200, (DATA / answers["now"]).read_bytes(), Content_Type="application/json"
    )
    server.routes["/xrpc/app.bsky.feed.getPosts"] = lambda h, n: send(h, *posts_answer)
    site.article("moving", bluesky=ROOT)
    site.build(**settings(server))
    assert shown(site) == [f"bluesky:{REGRET}"]
    answers["now"] = "deleted-after.json"
    out = fetch(site, server, capsys, status=0 if withdrawn else 1)
    site.build(**settings(server))
    if withdrawn:
        assert f"bluesky:{REGRET} was deleted upstream; withdrawn" in out
        assert shown(site) == []
    else:
        # Not confirmed: kept, and the fetch says it could not check.
        assert "deleted upstream" not in out and "bluesky:" in out
        assert shown(site) == [f"bluesky:{REGRET}"]
