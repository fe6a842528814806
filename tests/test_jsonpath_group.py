"""Descent groups: which paths have the shape, what one walk locates, and when `apply` stops."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.jsonpath_group import DescentGroup
from gateway.jsonpath_plan import compile_selector

REMOVE = object()


@pytest.mark.parametrize(
    ("expr", "shape"),
    [
        ("$..sender.phone_number", ((), ("sender", "phone_number"))),
        ("$..a", ((), ("a",))),
        ("$..['a.b'].c", ((), ("a.b", "c"))),  # a quoted name is one key, dots and all
        ("$.a.b..c.d", (("a", "b"), ("c", "d"))),
        ("a..b", (("a",), ("b",))),  # the leading `$` is optional
        ("$..a['b']", ((), ("a", "b"))),  # parses as Child(Descendants($, a), b)
        ("$..a..b", None),  # two descents: their walks overlap
        ("$..a['b','c']", None),  # two names in one step
        ("$..*", None),
        ("$..a[0]", None),  # an index selects list elements
        ("$..a.`this`", None),
        ("$..['*']", None),
        ("$..[?(@.a)].b", None),  # a filter reads values that a mask may rewrite
        ("$.a", None),  # no descent
        ("$", None),
        ("$.a.$..b", None),  # `$` mid-path: delegated to jsonpath-ng
    ],
)
def test_shape(expr: str, shape: Any) -> None:
    assert compile_selector(expr).shape == shape


def test_locate_finds_each_chain_in_walk_order() -> None:
    doc = {
        "sender": {"email": "e0"},
        "items": [
            {"sender": {"email": "e1", "name": "n1"}, "meta": {"sender": {"name": "n2"}}},
            {"sender": "not a dict"},
            [{"sender": {"email": "e3"}}],
        ],
    }
    items: Any = doc["items"]
    first, meta, second, third = items[0], items[0]["meta"], items[1], items[2][0]
    group = DescentGroup((), [("sender", "email"), ("sender", "name"), ("name",)])
    senders, every = group.locate(doc)  # type: ignore[misc]  # chains differing only in their last key share a list
    assert ids(senders) == ids([doc["sender"], first["sender"], meta["sender"], third["sender"]])
    # A one-key chain is looked up in every dict of the walk, in pre-order.
    assert ids(every) == ids(
        [
            doc,
            doc["sender"],
            first,
            first["sender"],
            meta,
            meta["sender"],
            second,
            third,
            third["sender"],
        ]
    )


def ids(values: list[Any]) -> list[int]:
    return [id(value) for value in values]


def test_locate_starts_below_the_prefix() -> None:
    doc: dict[str, Any] = {"a": {"x": {"b": 1}}, "x": {"b": 2}}
    assert DescentGroup(("a",), [("b",)]).locate(doc) == [[doc["a"], doc["a"]["x"]]]
    assert DescentGroup(("nope",), [("b",)]).locate(doc) == [[]]
    assert DescentGroup(("a", "x", "b"), [("b",)]).locate(doc) == [[]]  # the start is a scalar


def test_locate_visits_a_shared_dict_once_per_place_but_reports_it_once() -> None:
    shared = {"sender": {"email": "e"}}
    group = DescentGroup((), [("sender", "email")])
    assert group.locate({"a": shared, "b": [shared]}) == [[shared["sender"]]]


def test_apply_writes_rule_after_rule_and_counts_changes() -> None:
    doc = {"s": {"a": "x", "b": "y"}, "t": [{"s": {"a": "z"}}]}
    group = DescentGroup((), [("s", "a"), ("s", "a"), ("s", "b")])
    fns = [lambda v: v + "1", lambda v: v + "2", lambda v: v]
    assert list(group.apply(doc, fns, remove=REMOVE)) == [2, 2, 0]
    # The second rule saw the first one's output.
    assert doc == {"s": {"a": "x12", "b": "y"}, "t": [{"s": {"a": "z12"}}]}


def test_apply_removes_keys_and_later_rules_skip_them() -> None:
    doc = {"s": {"a": "x", "b": "y"}}
    seen: list[Any] = []
    fns = [lambda v: REMOVE, lambda v: seen.append(v) or "B"]  # type: ignore[func-returns-value]
    assert list(DescentGroup((), [("s", "a"), ("s", "a")]).apply(doc, fns, remove=REMOVE)) == [1, 0]
    assert doc == {"s": {"b": "y"}}
    assert seen == []


@pytest.mark.parametrize(
    ("doc", "fns", "counts"),
    [
        # The first rule would replace a container: nothing applied at all.
        ({"s": {"a": {"s": {"a": 1}}}}, [lambda v: "M", lambda v: v], []),
        # The second rule would write a container: only the first one applied.
        ({"s": {"a": 1}}, [lambda v: v + 1, lambda v: [v]], [1]),
        # Removing a container is a structural change too.
        ({"s": {"a": [1]}}, [lambda v: v, lambda v: REMOVE], [0]),
    ],
)
def test_apply_stops_before_a_structural_change(doc: Any, fns: Any, counts: list[int]) -> None:
    before = copy.deepcopy(doc)
    applied = list(DescentGroup((), [("s", "a")] * 2).apply(doc, fns, remove=REMOVE))
    assert applied == counts
    if not counts:
        assert doc == before  # nothing of the stopped rule was written


def test_a_container_kept_as_it_is_does_not_stop_the_group() -> None:
    doc = {"s": {"a": {"k": 1}}}
    assert list(
        DescentGroup((), [("s", "a"), ("k",)]).apply(doc, [lambda v: v, lambda v: 2], remove=REMOVE)
    ) == [0, 1]
    assert doc == {"s": {"a": {"k": 2}}}


def test_dict_and_list_subclasses_are_walked() -> None:
    class Box(dict[str, Any]):
        pass

    class Row(list[Any]):
        pass

    inner = Box(name="n")
    doc = Box(rows=Row([Box(sender=inner)]))
    assert DescentGroup((), [("sender", "name")]).locate(doc) == [[inner]]


def test_bad_groups_are_refused() -> None:
    with pytest.raises(ValueError):
        DescentGroup((), [])
    with pytest.raises(ValueError):
        DescentGroup((), [()])
    with pytest.raises(ValueError):
        list(DescentGroup((), [("a",)]).apply({}, []))
