"""What a thread publishes: hidden, withheld and deleted items (pure rules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from pelican_engage.conversation import build_thread, engagement
from pelican_engage.model import Item, Person, Post, Tombstone
from pelican_engage.report import waiting_rows
from pelican_engage.settings import author_identity

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
POST = Post(key="post", title="A post", url="https://blog.example/post.html")
AUTHOR = author_identity({"names": ["Marin"], "bluesky": ["marin.example"]})
DID = "did:plc:reader000000000000000aa"


def reply(n: int, who: str = "reader", parent: Item | None = None, **extras: Any) -> Item:
    handle = "marin.example" if who == "marin" else f"{who}.bsky.example"
    return Item(
        id=f"bluesky:at://did:plc:{who}/app.bsky.feed.post/r{n}",
        source="bluesky",
        kind="reply",
        author=Person(name=who.title(), handle=handle),
        published=T0 + timedelta(minutes=n),
        content_html=f"<p>words of {who} {n}</p>",
        url=f"https://bsky.app/profile/{handle}/post/r{n}",
        in_reply_to=parent.id if parent is not None else None,
        extras=extras,
    )


def view(items: list[Item], tombstones: list[Tombstone] = ()) -> Any:  # type: ignore[assignment]
    thread, problems = build_thread(POST, items, AUTHOR, tombstones=tombstones)
    assert problems == []
    return engagement(thread)


def flatten(nodes: Any) -> list[Any]:
    found, stack = [], list(nodes)
    while stack:
        node = stack.pop(0)
        found.append(node)
        stack = list(node.children) + stack
    return found


def test_a_deleted_item_leaves_a_placeholder_its_replies_hang_under() -> None:
    first = reply(1)
    answer = reply(2, who="other", parent=first)
    stone = Tombstone(first.id, "bluesky", T0, "deleted", None)
    result = view([first, answer], [stone])
    assert [i.id for i in result.thread.items] == [answer.id]
    (holder,) = result.roots
    assert holder.placeholder == "deleted" and holder.item.author.name == ""
    assert holder.item.content_html == "" and DID not in holder.id
    assert "did:plc:reader" not in holder.id  # the page does not name the author's DID
    assert [c.id for c in holder.children] == [answer.id]
    assert holder.children[0].parent == holder.id
    # Neither the placeholder nor the answer under it (to a reader) waits.
    assert result.thread.waiting == frozenset() and result.total == 1
    assert waiting_rows([result.thread]) == []


def test_a_copy_of_a_deleted_item_reached_by_another_path_goes_too() -> None:
    first = reply(1)
    bridgy = Item(
        id="webmention:5",
        source="webmention",
        kind="reply",
        author=Person(name="Reader", url="https://bsky.app/profile/reader.bsky.example"),
        published=T0,
        content_html="<p>words of reader 1</p>",
        url="https://bsky.app/profile/reader.bsky.example/post/r1",
        extras={"wm_source": "https://brid.gy/comment/bluesky/marin.example/x/"
                "at%3A%2F%2Fdid%3Aplc%3Areader%2Fapp.bsky.feed.post%2Fr1"},
    )  # fmt: skip
    result = view([bridgy], [Tombstone(first.id, "bluesky", T0)])
    assert result.thread.items == ()


def test_a_hidden_reply_goes_with_everything_under_it_and_never_waits() -> None:
    rude = reply(1, who="rude", hidden=True)
    answer = reply(2, who="marin", parent=rude)
    under = reply(3, who="other", parent=answer)
    kind = reply(4, who="kind")
    result = view([rude, answer, under, kind])
    assert [i.id for i in result.thread.items] == [kind.id]
    assert set(result.thread.hidden) == {rude.id, answer.id, under.id}
    assert result.thread.waiting == {kind.id} and result.counts["hidden"] == 3
    assert not result.thread.placeholders


def test_a_withheld_reply_keeps_its_replies_under_a_placeholder() -> None:
    quiet = reply(1, who="quiet", withheld="!no-unauthenticated")
    answer = reply(2, who="marin", parent=quiet)
    result = view([quiet, answer])
    (holder,) = result.roots
    assert holder.placeholder == "withheld"
    assert [c.id for c in holder.children] == [answer.id] and holder.children[0].by_author
    assert result.thread.hidden == {quiet.id: "!no-unauthenticated"}
    assert result.thread.waiting == frozenset()


def test_the_authors_own_preference_does_not_hide_the_authors_answers() -> None:
    question = reply(1, who="ana")
    answer = reply(2, who="marin", parent=question, withheld="!no-unauthenticated")
    result = view([question, answer])
    assert {i.id for i in result.thread.items} == {question.id, answer.id}
    assert result.thread.waiting == frozenset()


def test_a_withheld_answer_by_the_author_still_answers() -> None:
    """Mastodon: an unlisted reply by the author is not published, yet the
    person it answers is not left waiting."""
    question = reply(1, who="ana")
    answer = reply(2, who="marin", parent=question, withheld="unlisted")
    follow_up = reply(3, who="ana", parent=answer)
    result = view([question, answer, follow_up])
    assert {i.id for i in result.thread.items} == {question.id, follow_up.id}
    # Ana was answered; her follow-up answers the author, so it waits.
    assert result.thread.waiting == {follow_up.id}
    holder = next(n for n in flatten(result.roots) if n.placeholder)
    assert holder.placeholder == "withheld" and not holder.by_author


def test_content_warnings_ride_in_the_extras() -> None:
    gory = reply(1, warnings=["graphic-media"])
    result = view([gory])
    assert result.thread.items[0].extras["warnings"] == ["graphic-media"]
    assert result.thread.waiting == {gory.id}


def test_a_chain_of_deleted_items_keeps_its_shape() -> None:
    one = reply(1)
    two = reply(2, parent=one)
    three = reply(3, who="ana", parent=two)
    stones = [
        Tombstone(one.id, "bluesky", T0, "deleted", None),
        Tombstone(two.id, "bluesky", T0, "forgotten", one.id),
    ]
    result = view([replace(three)], stones)
    (top,) = result.roots
    assert top.placeholder == "deleted" and top.children[0].placeholder == "deleted"
    assert top.children[0].children[0].id == three.id
