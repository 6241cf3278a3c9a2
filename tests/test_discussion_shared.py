"""What the six discussion sites share (sources/discussion.py): an answer's
items once each and in no reply loop, and flags read strictly."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from pelican_engage.model import Item, Person
from pelican_engage.sources.discussion import flagged, untangle

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


def item(n: object, parent: object, text: str = "") -> Item:
    return Item(
        id=f"x:{n}",
        source="x",
        kind="reply",
        author=Person("p"),
        published=WHEN,
        content_html=text,
        in_reply_to=f"x:{parent}" if parent is not None else None,
    )


def parents(items: list[Item]) -> dict[str, str | None]:
    return {i.id: i.in_reply_to for i in items}


def test_a_repeated_id_keeps_its_first_copy() -> None:
    got = untangle([item("root", None), item(1, "root", "first"), item(1, 1, "again")], "x:root")
    assert [(i.id, i.content_html) for i in got] == [("x:root", ""), ("x:1", "first")]


@pytest.mark.parametrize(
    "links",
    [
        {1: 1},  # its own parent
        {1: 2, 2: 1},  # a pair
        {1: 2, 2: 3, 3: 1, 4: 3},  # a ring, and a reply hanging off it
    ],
)
def test_a_reply_loop_is_cut_at_the_submission(links: dict[int, int]) -> None:
    got = parents(untangle([item("root", None), *(item(a, b) for a, b in links.items())], "x:root"))
    # Every chain now ends at the submission, and only one link was changed per loop.
    for start in got:
        seen, node = set(), start
        while node in got and node not in seen:
            seen.add(node)
            node = got[node]
        assert node is None or node == "x:root" or node not in got
    changed = [k for k, v in got.items() if k != "x:root" and v != f"x:{links[int(k[2:])]}"]
    assert len(changed) == 1 and got[changed[0]] == "x:root"


def test_a_deep_chain_and_a_long_ring_take_linear_time() -> None:
    depth = 50_000
    chain = [item("root", None), *(item(n, n - 1 if n else "root") for n in range(depth))]
    ring = [item(f"r{n}", f"r{(n + 1) % depth}") for n in range(depth)]
    start = time.perf_counter()
    got = parents(untangle([*chain, *ring], "x:root"))
    assert time.perf_counter() - start < 5
    assert got["x:49999"] == "x:49998" and got["x:0"] == "x:root"
    assert sum(1 for k, v in got.items() if k.startswith("x:r") and v == "x:root") == 1


@pytest.mark.parametrize(
    ("node", "expected"),
    [({}, False), ({"deleted": None}, False), ({"deleted": False, "removed": True}, True)],
)
def test_flags_are_booleans_or_null(node: dict[str, object], expected: bool) -> None:
    assert flagged(node, "deleted", "removed") is expected


@pytest.mark.parametrize("value", ["false", 0, 1, [], {"a": 1}])
def test_a_flag_of_another_type_is_malformed(value: object) -> None:
    with pytest.raises(ValueError, match="is not true or false"):
        flagged({"deleted": value}, "deleted")
