"""The conversation rules: trees, the author's items, and who is waiting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pelican_engage.conversation import (
    build_thread,
    engagement,
    mentions_author,
    resolve_parents,
)
from pelican_engage.model import Item, Node, Person, Post
from pelican_engage.settings import author_identity

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
POST = Post(key="post", title="A post", url="https://blog.example/post.html")
AUTHOR = author_identity(
    {"names": ["Marin"], "emails": ["me@marin.example"], "mastodon": ["marin@social.example"]}
)


def item(
    name: str,
    who: str = "Reader",
    parent: str | None = None,
    kind: str = "comment",
    text: str = "",
    minutes: int = 0,
    source: str = "local",
    **person: str,
) -> Item:
    return Item(
        id=f"comment:post/{name}",
        source=source,
        kind=kind,
        author=Person(name=who, **person),
        published=T0 + timedelta(minutes=minutes),
        content_html=f"<p>{text or name}</p>",
        in_reply_to=f"comment:post/{parent}" if parent else None,
        origin=f"comments/post/{name}.md",
    )


def build(*items: Item, display_depth: int = 5, **kwargs: object):
    thread, problems = build_thread(POST, items, AUTHOR, **kwargs)  # type: ignore[arg-type]
    return engagement(thread, display_depth), problems


def waiting_names(result) -> set[str]:
    return {i.rsplit("/", 1)[1] for i in result.thread.waiting}


def test_tree_follows_replies_and_sorts_siblings_by_date() -> None:
    thread, problems = build(
        item("b", minutes=5),
        item("a", minutes=1),
        item("a2", parent="a", minutes=9),
        item("a1", parent="a", minutes=3),
    )
    assert problems == []
    assert [n.id for n in thread.roots] == ["comment:post/a", "comment:post/b"]
    assert [c.id for c in thread.roots[0].children] == ["comment:post/a1", "comment:post/a2"]
    assert thread.roots[0].children[0].parent == "comment:post/a"


def test_author_items_are_marked_by_name_email_url_or_handle() -> None:
    thread, _ = build(
        item("by-name", who="marin"),
        item("by-email", who="Someone", email="ME@marin.example", minutes=1),
        item("reader", who="Ann", minutes=2),
        item(
            "by-handle",
            who="M",
            handle="@marin@social.example",
            source="mastodon",
            minutes=3,
        ),
    )
    assert {i.rsplit("/", 1)[1] for i in thread.thread.by_author} == {
        "by-name",
        "by-email",
        "by-handle",
    }


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        # A top-level comment nobody answered waits.
        ([item("c1")], {"c1"}),
        # The author answered: nothing waits.
        ([item("c1"), item("r1", who="Marin", parent="c1", minutes=1)], set()),
        # The author answered deeper in the branch: still answered.
        (
            [
                item("c1"),
                item("c2", who="Bea", parent="c1", minutes=1),
                item("r1", who="Marin", parent="c2", minutes=2),
            ],
            set(),
        ),
        # Two readers talking under a comment: only the first addressed the author.
        ([item("c1"), item("c2", who="Bea", parent="c1", minutes=1)], {"c1"}),
        # A reader writes again after the author's answer: waiting again.
        (
            [
                item("c1"),
                item("r1", who="Marin", parent="c1", minutes=1),
                item("c2", parent="r1", minutes=2),
            ],
            {"c2"},
        ),
        # A reader's reply to another reader that names the author waits.
        (
            [
                item("c1"),
                item("c2", who="Bea", parent="c1", minutes=1, text="What does Marin think?"),
            ],
            {"c1", "c2"},
        ),
        # Likes, reposts and bare mentions never wait.
        (
            [
                item("l", kind="like"),
                item("p", kind="repost", minutes=1),
                item("m", kind="mention", minutes=2),
            ],
            set(),
        ),
        # The author's own top-level comment does not wait.
        ([item("c1", who="Marin")], set()),
    ],
)
def test_waiting_rule(items: list[Item], expected: set[str]) -> None:
    thread, _ = build(*items)
    assert waiting_names(thread) == expected


def test_acknowledged_items_do_not_wait() -> None:
    thread, _ = build(
        item("c1"), item("c2", minutes=1), acknowledged=frozenset({"comment:post/c1"})
    )
    assert waiting_names(thread) == {"c2"}


def test_leading_handles_do_not_count_as_a_mention() -> None:
    author = author_identity({"names": ["Marin"], "twitter": ["marin"]})

    def mention(text: str) -> bool:
        return mentions_author(item("x", text=text), author)

    assert not mention("@marin @bea I agree with Bea")
    assert mention("@bea I think @marin should answer this")
    assert mention("Marin, what about Pelican 5?")
    assert not mention("@marinade is a different person")
    assert not mention("Marina wrote this")


def test_missing_parent_becomes_root_with_one_problem() -> None:
    thread, problems = build(item("c1"), item("c2", parent="gone", minutes=1))
    assert [n.id for n in thread.roots] == ["comment:post/c1", "comment:post/c2"]
    assert len(problems) == 1
    assert problems[0].origin == "comments/post/c2.md"
    assert "replies to comment:post/gone, which is not in this" in problems[0].message


def test_cycle_makes_roots_and_one_problem_naming_the_files() -> None:
    a = item("a", parent="c")
    b = item("b", parent="a", minutes=1)
    c = item("c", parent="b", minutes=2)
    d = item("d", parent="c", minutes=3)
    thread, problems = build(a, b, c, d, item("self", parent="self", minutes=4))
    assert len(problems) == 2
    cycle = next(p for p in problems if "cycle" in p.message)
    assert all(f"comments/post/{n}.md" in cycle.message for n in "abc")
    roots = {n.id for n in thread.roots}
    assert {"comment:post/a", "comment:post/b", "comment:post/c", "comment:post/self"} <= roots
    # The reply hanging off the cycle keeps its parent.
    assert thread.thread.parents["comment:post/d"] == "comment:post/c"


def _chain(depth: int) -> list[Item]:
    items = [item("n0")]
    for n in range(1, depth):
        who = "Marin" if n == depth - 1 else f"Reader {n % 7}"
        items.append(item(f"n{n}", who=who, parent=f"n{n - 1}", minutes=n))
    return items


def test_a_3000_deep_chain_builds_without_recursion() -> None:
    thread, problems = build(*_chain(3000), display_depth=5)
    assert problems == []
    assert len(thread.thread.items) == 3000
    # The author answered at the bottom: nobody in the chain waits.
    assert thread.thread.waiting == frozenset()
    # Nesting stops at the display depth; deeper replies are flat, in order.
    node: Node = thread.roots[0]
    for _ in range(3):
        (node,) = node.children
    # Five display levels: the fifth lists every deeper reply, in order.
    assert len(node.children) == 3000 - 4
    assert [c.depth for c in node.children[:3]] == [4, 5, 6]
    assert all(c.children == () for c in node.children)
    assert [c.flat for c in node.children[:3]] == [False, True, True]
    assert node.children[1].reply_to_name == "Reader 4"


def test_display_depth_one_lists_everything_flat() -> None:
    thread, _ = build(*_chain(4), display_depth=1)
    assert [n.depth for n in thread.roots] == [0, 1, 2, 3]
    assert [n.flat for n in thread.roots] == [False, True, True, True]


def test_resolve_parents_handles_a_long_cycle_iteratively() -> None:
    n = 5000
    items = [item(f"n{i}", parent=f"n{(i + 1) % n}", minutes=i) for i in range(n)]
    parents, problems = resolve_parents(items)
    assert len(problems) == 1
    assert all(p is None for p in parents.values())


def test_engagement_counts_by_kind() -> None:
    result, _ = build(
        item("c1"),
        item("r1", who="Marin", parent="c1", minutes=1),
        item("l1", kind="like", minutes=2),
        item("l2", kind="like", minutes=3),
        item("c2", minutes=4),
    )
    assert result.counts["comment"] == 3
    assert result.counts["like"] == 2
    assert result.counts["conversation"] == 3
    assert result.counts["waiting"] == 1
    assert result.total == 3
    assert [i.id for i in result.waiting] == ["comment:post/c2"]
    assert [i.id for i in result.likes] == ["comment:post/l1", "comment:post/l2"]
    # Likes are counted, never threaded.
    assert all(n.item.kind != "like" for n in result.roots)


def test_duplicate_ids_keep_one_item() -> None:
    thread, _ = build(item("c1"), item("c1", minutes=5))
    assert len(thread.thread.items) == 1


def test_the_nested_view_is_not_pickled_and_comes_back() -> None:
    import pickle

    result, _ = build(*_chain(10))
    assert len(result.roots) == 1
    assert "roots" in result.__dict__
    copy = pickle.loads(pickle.dumps(result))
    assert "roots" not in copy.__dict__
    assert [n.id for n in copy.roots] == [n.id for n in result.roots]
