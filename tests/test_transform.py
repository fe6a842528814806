"""transform_document: rules apply in order, as if one by one, whether or not they share a walk."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from gateway.document_masker import DocumentMasker
from gateway.jsonpath_plan import compile_selector
from gateway.masks import REMOVE
from gateway.route_view import MaskRule, RoutePolicy
from gateway.transform import Outcome, TransformFailed, apply_rule, transform_document

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)


class FakeMask:
    """A mask is any callable with a `name`."""

    def __init__(self, name: str, fn: Callable[[Any], Any]) -> None:
        self.name = name
        self.fn = fn

    def __call__(self, value: Any) -> Any:
        return self.fn(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


MASKS = {
    "const": FakeMask("const", lambda v: "M"),
    "remove": FakeMask("remove", lambda v: REMOVE),
    "keep": FakeMask("keep", lambda v: v),
    # Order-sensitive: a second rule on the same location shows it ran after the first.
    "wrap": FakeMask("wrap", lambda v: "w" + v if isinstance(v, str) else v),
    "drop_ints": FakeMask("drop_ints", lambda v: REMOVE if _is_int(v) else v),
    # Structural changes: a container replaced by a scalar, a scalar by a container.
    "flatten": FakeMask("flatten", lambda v: "F" if isinstance(v, dict | list) else v),
    "box": FakeMask(
        "box",
        lambda v: (
            v
            if v in (None, "boxed") or isinstance(v, dict | list)
            else {"a": "boxed", "b": "boxed"}
        ),
    ),  # "boxed" stays: the walk must end
}

# Descent shapes first (they are what gets fused), then paths that must stay on their own.
FUSABLE = ["$..a", "$..b", "$..a.b", "$..b.a", "$..a.a", "$..c.a.b", "$.a..b", "$.b..a", "a..c"]
OTHERS = ["$", "$.a", "$[*].a", "$..*", "$.a[0]", "$..[0]", "$..[?(@.b)].a", "$.a.$", "$..a..b"]

KEYS = st.sampled_from(["a", "b", "c"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.sampled_from(["x", "y"]))


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(KEYS, inner, min_size=1, max_size=3),
        st.dictionaries(KEYS, inner, min_size=1, max_size=3),  # dicts hold what rules select
    )


documents = containers(st.recursive(scalars, containers, max_leaves=30))
rule_specs = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(FUSABLE), st.sampled_from(FUSABLE), st.sampled_from(OTHERS)),
        st.sampled_from(sorted(MASKS)),
    ),
    min_size=1,
    max_size=5,
)
# Runs of rules that all share a walk, with the masks that exercise what the group must detect.
fusable_specs = st.lists(
    st.tuples(
        st.sampled_from(FUSABLE),
        st.sampled_from(["box", "box", "flatten", "const", "wrap", "remove", "keep"]),
    ),
    min_size=2,
    max_size=4,
)


def make_rules(specs: list[tuple[str, str]], route: str = "r") -> tuple[MaskRule, ...]:
    return tuple(
        MaskRule(route, path, compile_selector(path), MASKS[mask], None) for path, mask in specs
    )


def make_view(rules: tuple[MaskRule, ...]) -> RoutePolicy:
    masker = DocumentMasker(rules, (), (), True, None)
    return RoutePolicy("r", rules, (), (), True, True, False, "off", False, masker)


def sequential(doc: Any, rules: tuple[MaskRule, ...]) -> tuple[Any, Outcome]:
    """The reference: each rule applied on its own, in order."""
    outcome = Outcome()
    for rule in rules:
        doc = apply_rule(doc, rule, outcome)
    return doc, outcome


def fused(doc: Any, rules: tuple[MaskRule, ...]) -> tuple[Any, Outcome]:
    outcome = Outcome()
    return transform_document(doc, make_view(rules), outcome), outcome


def assert_same(ours: tuple[Any, Outcome], theirs: tuple[Any, Outcome]) -> None:
    # json.dumps tells 1 from True and keeps key order (a removed and re-added key would move).
    assert json.dumps(ours[0]) == json.dumps(theirs[0])
    assert ours[1].masked == theirs[1].masked
    assert ours[1].fired == theirs[1].fired


@PROPERTY
@given(doc=documents, specs=rule_specs)
def test_fused_application_equals_rule_by_rule(doc: Any, specs: list[tuple[str, str]]) -> None:
    rules = make_rules(specs)
    shapes = [rule.selector.shape for rule in rules]
    if any(a and b and a[0] == b[0] for a, b in itertools.pairwise(shapes)):
        event("some rules share a walk")
    assert_same(fused(copy.deepcopy(doc), rules), sequential(copy.deepcopy(doc), rules))


@PROPERTY
@given(doc=documents, specs=fusable_specs)
def test_fused_runs_equal_rule_by_rule(doc: Any, specs: list[tuple[str, str]]) -> None:
    rules = make_rules(specs)
    assert_same(fused(copy.deepcopy(doc), rules), sequential(copy.deepcopy(doc), rules))


SENDERS = [
    ("$..sender.phone_number", "const"),
    ("$..sender.email", "wrap"),
    ("$..sender.name", "remove"),
]


def chat() -> dict[str, Any]:
    return {
        "meta": {"sender": {"name": "Bot", "email": "bot@x"}},
        "payload": [
            {"content": "hi", "sender": {"name": "Jane", "email": "j@x", "phone_number": "+1"}},
            {"content": "yo", "sender": {"name": None, "email": "", "phone_number": 5}},
            {"content": "no sender"},
        ],
    }


@pytest.mark.parametrize(
    ("specs", "doc"),
    [
        (SENDERS, chat()),  # the bench's shape: three rules, one walk
        ([("$.payload[*].content", "const"), *SENDERS], chat()),  # after a rule of another form
        # Two rules on one location: the second sees the first's output.
        ([("$..sender.email", "wrap"), ("$..sender.email", "wrap")], chat()),
        ([("$..sender.name", "remove"), ("$..sender.name", "const")], chat()),  # removed: skipped
        # The first rule replaces a container the second would descend into.
        ([("$..a", "flatten"), ("$..a.b", "const")], {"a": {"b": 1, "a": {"b": 2}}}),
        # The second rule writes a container the first would have descended into.
        ([("$..b", "keep"), ("$..a", "box")], {"a": 1, "b": {"a": 2}}),
        # The same location reached by two rules from different depths.
        ([("$..a.b", "wrap"), ("$..b", "wrap")], {"a": {"b": "x"}}),
        # List elements removed by a rule of another form, between fused runs.
        (
            [("$..a", "wrap"), ("$.l[*]", "drop_ints"), ("$..a", "wrap")],
            {"l": [1, {"a": "x"}, 2, {"a": "y"}]},
        ),
        ([("$", "remove"), ("$..a", "const")], {"a": 1}),  # the root removed: nothing left
        ([("$..a", "const"), ("$", "flatten")], {"a": [1]}),  # `$` after a fused rule
        ([("$.a.$..b", "const"), ("$..b", "wrap")], {"a": {"b": "x"}}),  # delegated selector
        ([("$.a..b", "wrap"), ("$..b", "wrap")], {"a": {"b": "x"}, "b": "y"}),  # two prefixes
    ],
)
def test_fused_cases(specs: list[tuple[str, str]], doc: Any) -> None:
    rules = make_rules(specs)
    assert_same(fused(copy.deepcopy(doc), rules), sequential(copy.deepcopy(doc), rules))


def test_counts_only_changed_values_per_route_and_path() -> None:
    doc = {"s": {"a": "x", "b": 1}, "t": {"s": {"a": "y"}}}
    rules = make_rules([("$..s.a", "wrap"), ("$..s.b", "wrap"), ("$..s.a", "const")])
    result, outcome = fused(doc, rules)
    assert result == {"s": {"a": "M", "b": 1}, "t": {"s": {"a": "M"}}}
    assert outcome.masked == {("r", "wrap"): 2, ("r", "const"): 2}  # `wrap` left the 1 alone
    assert outcome.fired == {("r", "$..s.a", "wrap"): 2, ("r", "$..s.a", "const"): 2}
    assert outcome.masked_total == 4


class CountingDict(dict[str, Any]):
    """Counts how often the document's root is iterated: once per walk."""

    walks = 0

    def values(self) -> Any:
        CountingDict.walks += 1
        return super().values()

    def items(self) -> Any:
        CountingDict.walks += 1
        return super().items()


def test_rules_sharing_a_descent_prefix_walk_the_document_once() -> None:
    rules = make_rules(SENDERS)
    CountingDict.walks = 0
    transform_document(CountingDict(chat()), make_view(rules), Outcome())
    assert CountingDict.walks == 1
    CountingDict.walks = 0
    sequential(CountingDict(chat()), rules)
    assert CountingDict.walks == 3


def test_a_mask_raising_in_a_group_fails_and_keeps_earlier_counts() -> None:
    def boom(value: Any) -> Any:
        raise ZeroDivisionError

    path = "$..sender.email"
    rules = (
        *make_rules(SENDERS[:1]),
        MaskRule("r", path, compile_selector(path), FakeMask("boom", boom), None),
    )
    outcome = Outcome()
    with pytest.raises(TransformFailed, match="ZeroDivisionError"):
        transform_document(chat(), make_view(rules), outcome)
    reference = Outcome()
    with pytest.raises(ZeroDivisionError):
        for rule in rules:
            apply_rule(chat(), rule, reference)
    assert outcome.masked == reference.masked == {("r", "const"): 2}


def test_plans_follow_the_rule_objects_not_their_text() -> None:
    rules = make_rules(SENDERS)
    assert_same(fused(chat(), rules), fused(chat(), tuple(rules)))  # a new tuple, as per request
    # Equal paths and masks in other rule objects (another route, a reload): their own plan.
    other = make_rules(SENDERS, route="other")
    assert set(fused(chat(), other)[1].masked) == {
        ("other", "const"),
        ("other", "wrap"),
        ("other", "remove"),
    }
    # Rule sets come and go (more than the plan cache holds): never a plan of freed rules.
    for round_ in range(300):
        specs = [
            (SENDERS[round_ % 3][0], "wrap"),
            ("$..sender.email", ["const", "keep"][round_ % 2]),
        ]
        rules = make_rules(specs, route=f"r{round_}")
        assert_same(fused(chat(), rules), sequential(chat(), rules))
