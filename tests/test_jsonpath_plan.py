"""Selectors: what they find, how transform writes, counts and removes, and load-time errors."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext
import pytest

from gateway.errors import ConfigError
from gateway.jsonpath_plan import compile_selector

REMOVE = object()

DOC: dict[str, Any] = {
    "payload": [
        {
            "id": 1,
            "content": "hi",
            "sender": {"name": "Jane", "phone_number": "+1 415 555 0001"},
            "meta": {"sender": {"phone_number": "+1 415 555 0002"}},
        },
        {"id": 2, "content": "yo", "sender": {"phone_number": "+1 415 555 0003"}},
    ],
    "meta.info": {"with space": 5},
    "sender": {"phone_number": "+1 415 555 0000"},
    "wanted": 2,
}


def reference_find(expr: str, doc: Any) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            path = jsonpath_ng.parse(expr)
        except Exception:
            path = jsonpath_ng.ext.parse(expr)
    return [match.value for match in path.find(doc)]


@pytest.mark.parametrize(
    ("expr", "expected", "compiled"),
    [
        ("$", [DOC], True),
        ("$.payload[0].content", ["hi"], True),
        ("$.payload[-1].id", [2], True),  # negative index counts from the end
        ("$.payload[*].content", ["hi", "yo"], True),
        ("$.payload.*.id", [1, 2], True),  # `.*` on a list = its elements
        ("$['meta.info']['with space']", [5], True),  # dots and spaces in quoted names
        ('$["meta.info"].*', [5], True),
        # Recursive descent: the start value first, then every depth, in document order.
        (
            "$..sender.phone_number",
            ["+1 415 555 0000", "+1 415 555 0001", "+1 415 555 0002", "+1 415 555 0003"],
            True,
        ),
        ("$..name", ["Jane"], True),
        ("$.payload[0:1].id", [1], True),
        ("$.payload[::-1].id", [2, 1], True),  # a negative step walks backwards
        ("$.payload[0,1].id", [1, 2], True),
        ("$.payload[1,0].id", [2, 1], True),  # a union keeps the order it was written in
        ("$.payload[0]['id','content']", [1, "hi"], True),
        ("$.payload[0,0].id", [1, 1], True),  # find keeps jsonpath-ng's duplicates
        ("$.nope", [], True),  # nothing matched is not an error
        ("$.payload.content", [], True),  # a field of a list matches nothing
        ("$.payload[0].content.x", [], True),  # a field of a string matches nothing
        ("$.payload[5]", [], True),  # out of range
        ("$.sender[0]", [], True),  # an index of an object matches nothing
        ("$.payload[::0]", [], True),  # zero step selects nothing
        ("$.sender.`this`", [DOC["sender"]], True),
        ("$.sender.$", [DOC], False),  # `$` mid-path jumps back to the root
        ("payload[1].id", [2], True),  # the leading `$` is optional in jsonpath-ng
        ("$.payload[?(@.id == 2)].content", ["yo"], True),
        ("$.payload[?(@.sender.name)].id", [1], True),
        ("$..[?(@.phone_number =~ '0003$')].phone_number", ["+1 415 555 0003"], True),
        ("$.payload[?(@.id == $.wanted)].content", ["yo"], False),  # reads `$`: jsonpath-ng runs it
        ("$.payload[*] where meta", [DOC["payload"][0]], False),
    ],
)
def test_find(expr: str, expected: list[Any], compiled: bool) -> None:
    selector = compile_selector(expr)
    assert selector.expr == expr
    assert selector.compiled is compiled
    assert selector.find(DOC) == expected
    assert selector.find(DOC) == reference_find(expr, DOC)


def test_descent_reaches_values_without_descending_into_scalars() -> None:
    doc = [1, {"a": [2, {"b": 3}]}]
    selector = compile_selector("$..`this`")  # every value, scalars included
    assert selector.find(doc) == reference_find("$..`this`", doc)
    assert 3 in selector.find(doc)


@pytest.mark.parametrize(
    ("expr", "obj", "expected"),
    [
        ("$.phone_number", {"phone_number": "+1 415 555 0001", "id": 3}, ["+1 415 555 0001"]),
        ("$.phone_number", {"email": "jane@example.com"}, []),  # no identity: nothing
        ("$.phone_number", "not an object", []),
        ("$.contact.email", {"contact": {"email": "jane@example.com"}}, ["jane@example.com"]),
    ],
)
def test_relative_paths_select_from_the_object_they_are_given(
    expr: str, obj: Any, expected: list[Any]
) -> None:
    # Stamping evaluates `phone:` / `email:` against each object that `at:` selected.
    assert compile_selector(expr).find(obj) == expected


def test_relative_find_on_objects_selected_by_another_selector() -> None:
    at = compile_selector("$.payload[*]")
    phone = compile_selector("$.sender.phone_number")
    assert [phone.find(obj) for obj in at.find(DOC)] == [["+1 415 555 0001"], ["+1 415 555 0003"]]


def test_transform_rewrites_in_place_and_counts() -> None:
    doc = copy.deepcopy(DOC)
    root, count = compile_selector("$.payload[*].content").transform(doc, str.upper)
    assert root is doc
    assert count == 2
    assert [message["content"] for message in doc["payload"]] == ["HI", "YO"]


def test_transform_reaches_every_depth() -> None:
    doc = copy.deepcopy(DOC)
    root, count = compile_selector("$..sender.phone_number").transform(doc, lambda v: "XXX")
    assert count == 4
    assert compile_selector("$..phone_number").find(root) == ["XXX"] * 4


@pytest.mark.parametrize(
    ("expr", "doc", "expected", "count"),
    [
        ("$[*]", [1, 2, 3, 4, 5], [], 5),  # every element, none skipped
        ("$.*", {"a": 1, "b": 2}, {}, 2),
        ("$[0,2]", ["a", "b", "c", "d"], ["b", "d"], 2),  # original positions, not shifted ones
        ("$[2,0]", ["a", "b", "c", "d"], ["b", "d"], 2),
        ("$[0,-1]", ["only"], [], 1),  # two spellings of one element: removed once
        ("$[1:]", [1, 2, 3], [1], 2),
        ("$[::-2]", [1, 2, 3, 4, 5], [2, 4], 3),
        ("$.a", {"a": 1, "b": 2}, {"b": 2}, 1),
        ("$['a','a']", {"a": 1, "b": 2}, {"b": 2}, 1),
        ("$.x[*].y", {"x": [{"y": 1}, {"z": 2}, {"y": 3}]}, {"x": [{}, {"z": 2}, {}]}, 2),
        ("$..a", {"a": {"a": 1}, "b": [{"a": 2}, 3]}, {"b": [{}, 3]}, 2),  # not inside removed
        # The removed [1, 2] is not walked; the rest is, at every depth.
        ("$..[0]", [[1, 2], [3, [4, 5]]], [[[5]]], 3),
        ("$[*][0]", [[1, 2], [3], []], [[2], [], []], 2),
        ("$[?(@.drop)]", [{"drop": 1}, {"keep": 1}, {"drop": 2}], [{"keep": 1}], 2),
        ("$[?(@ == $[0])]", [7, 1, 7, 2], [1, 2], 2),  # delegated to jsonpath-ng
        ("$.nothing", {"a": 1}, {"a": 1}, 0),
    ],
)
def test_remove_deletes_keys_and_elements(expr: str, doc: Any, expected: Any, count: int) -> None:
    root, changed = compile_selector(expr).transform(doc, lambda v: REMOVE, remove=REMOVE)
    assert (root, changed) == (expected, count)
    assert root is doc  # containers are edited in place


def test_remove_only_some_elements_of_one_list() -> None:
    doc = {"items": list(range(10))}
    root, count = compile_selector("$.items[*]").transform(
        doc, lambda v: REMOVE if v % 2 == 0 else v * 10, remove=REMOVE
    )
    assert root == {"items": [10, 30, 50, 70, 90]}
    assert count == 10


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (lambda v: "masked", ("masked", 1)),  # `$` selected: the root is replaced
        (lambda v: REMOVE, (None, 1)),  # removing the root leaves nothing
    ],
)
def test_transform_of_the_root(fn: Any, expected: tuple[Any, int]) -> None:
    assert compile_selector("$").transform({"a": 1}, fn, remove=REMOVE) == expected


def test_without_a_remove_sentinel_every_result_is_written() -> None:
    doc = {"a": 1}
    assert compile_selector("$.a").transform(doc, lambda v: None) == ({"a": None}, 1)


def test_identity_still_counts_and_changes_nothing() -> None:
    doc = copy.deepcopy(DOC)
    before = copy.deepcopy(doc)
    root, count = compile_selector("$..phone_number").transform(doc, lambda v: v)
    assert (root, count) == (before, 4)


@pytest.mark.parametrize(
    ("expr", "doc", "calls"),
    [
        ("$['a','a']", {"a": 1}, 1),
        ("$[0,0,-1]", [1], 1),
        # The inner `a` is reached from both outer matches; b is written once.
        ("$..a..b", {"a": {"a": {"b": 1}}}, 1),
        ("$[*] where a", [{"a": 1}], 1),
    ],
)
def test_a_location_reached_twice_is_transformed_once(expr: str, doc: Any, calls: int) -> None:
    seen: list[Any] = []

    def record(value: Any) -> Any:
        seen.append(value)
        return ("wrapped", value)

    _, count = compile_selector(expr).transform(doc, record)
    assert count == len(seen) == calls


def test_values_under_a_replaced_value_are_selected_from_the_replacement() -> None:
    doc = {"phone_number": {"phone_number": "+1 415 555 0001"}}
    selector = compile_selector("$..phone_number")
    # A scalar replacement has nothing below it: fn runs once.
    assert selector.transform(copy.deepcopy(doc), lambda v: "****") == ({"phone_number": "****"}, 1)
    # An object kept as it is is walked, so the nested value is reached too.
    root, count = selector.transform(
        copy.deepcopy(doc), lambda v: v if isinstance(v, dict) else "XXX"
    )
    assert (root, count) == ({"phone_number": {"phone_number": "XXX"}}, 2)


def test_descent_over_this_stops_below_a_replaced_value() -> None:
    # `$..`this`` selects the root first; once it is replaced there is nothing left to walk.
    assert compile_selector("$..`this`").transform({"a": [1, 2]}, lambda v: "X") == ("X", 1)
    root, count = compile_selector("$..`this`").transform(
        {"a": [1, 2]}, lambda v: v if isinstance(v, dict | list) else v * 10
    )
    assert (root, count) == ({"a": [10, 20]}, 4)


def test_trailing_this_rewrites_the_selected_value() -> None:
    # jsonpath-ng's own update ignores `this`; here it means the value it stands on.
    assert compile_selector("$.a.`this`").transform({"a": 1}, lambda v: 2) == ({"a": 2}, 1)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("", "invalid JSONPath '': Parse error near the end of string!"),
        ("$.a b", "invalid JSONPath '$.a b': Parse error at 1:4 near token b (ID)"),
        ("$[?(@.a == )]", "invalid JSONPath '$[?(@.a == )]': Parse error at 1:11"),  # ext grammar
        ("$['abc", "invalid JSONPath '$['abc': Unexpected EOF in string literal"),
        ("$.a[1:2:3:4]", "invalid JSONPath '$.a[1:2:3:4]': Parse error at 1:9"),
        ("$.a.`foo`", "invalid JSONPath '$.a.`foo`': Unknown named operator `foo` at 1:8"),
        (
            "$.a.`len`",
            "unsupported JSONPath '$.a.`len`': '`len`' computes a new value instead of selecting one",
        ),
        ("$.a.`keys`", "'`keys`' computes a new value"),
        ("$.a.`path`", "'`path`' computes a new value"),
        ("$.a[/b]", "'[/b]' computes a new value"),  # sorting returns a copy
        ("$.a.`sub(/x/, y)`", "computes a new value"),
        ("$.a * 2", "computes a new value"),
        ("$.a.`parent`", "`parent` is not supported"),
        ("$.a & $.b", "the '&' operator is not implemented"),
        # A bad pattern would fail on every request: refused at load.
        ("$.a[?(@.b =~ '(')]", "invalid JSONPath '$.a[?(@.b =~ '(')]': bad regular expression '('"),
        ("$.a[?(@.b =~ 5)]", "'=~' needs a quoted regular expression"),
        ("$.a[?(@.b == 1 || @.c =~ '[')]", "bad regular expression '['"),
    ],
)
def test_bad_expressions_are_config_errors(expr: str, message: str) -> None:
    key_path = ("routes", 1, "response", 0, "path")
    with pytest.raises(ConfigError) as caught:
        compile_selector(expr, key_path)
    assert caught.value.key_path == key_path
    assert caught.value.message.startswith(message) or message in caught.value.message
    assert "Traceback" not in caught.value.message


def test_a_non_string_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="must be a string"):
        compile_selector(5, ("x",))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "expr",
    [
        "$.a[?(@.b.`len` > 1)]",  # computed values are fine inside a filter's condition
        "$.a[?(@.price * 2 > 3)]",
    ],
)
def test_computed_values_in_conditions_are_allowed(expr: str) -> None:
    doc = {"a": [{"b": [1, 2], "price": 2}, {"b": [1], "price": 1}]}
    assert compile_selector(expr).find(doc) == [doc["a"][0]] == reference_find(expr, doc)


def test_deprecated_syntax_compiles_without_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        selector = compile_selector("$.a | $.b")
    assert caught == []
    assert selector.find({"a": 1, "b": 2}) == reference_find("$.a | $.b", {"a": 1, "b": 2})


MESSAGES = {
    "payload": [
        {
            "sender_type": "Contact",
            "sender": {"name": "Jane Doe", "type": "contact"},
            "email": "j@x",
        },
        {"sender_type": "User", "sender": {"name": "Agent Smith", "type": "user"}},
        {"sender": {"name": "Bot", "type": "agent_bot"}, "email": None},
    ]
}


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        # Equality on a member of the candidate.
        ("$.payload[?(@.sender_type == 'Contact')].sender.name", ["Jane Doe"]),
        # `!=` is true where the member is missing too (RFC 9535): the safe side for masking.
        ("$.payload[?(@.sender_type != 'User')].sender.name", ["Jane Doe", "Bot"]),
        # A condition on a nested member selects the candidate that holds it.
        ("$.payload[?(@.sender.type == 'contact')].sender.name", ["Jane Doe"]),
        # `&&` and `||`.
        ("$.payload[?(@.sender_type == 'Contact' && @.email)].sender.name", ["Jane Doe"]),
        (
            "$.payload[?(@.sender_type == 'User' || @.email)].sender.name",
            ["Jane Doe", "Agent Smith", "Bot"],
        ),
        # Existence: a member that is there, even when null.
        ("$.payload[?(@.email)].sender.name", ["Jane Doe", "Bot"]),
        # Negated existence.
        ("$.payload[?(!@.email)].sender.name", ["Agent Smith"]),
        # Filters under `..` reach every level.
        ("$..[?(@.type != 'user')].name", ["Jane Doe", "Bot"]),
    ],
)
def test_filters_of_the_rule_language(expr: str, names: list[str]) -> None:
    selector = compile_selector(expr)
    assert selector.compiled
    assert selector.find(MESSAGES) == names
