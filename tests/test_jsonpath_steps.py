"""Compiled traversals select exactly what jsonpath-ng selects, and write where it writes."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gateway.jsonpath_plan import Selector, compile_selector
from gateway.jsonpath_steps import delegate

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)

# Keys with dots, spaces, a quote and a digit, so bracket notation is exercised; "a" and "b" come
# up more often so that most generated paths select something.
KEYS = ["a", "a", "b", "b", "c.d", "e f", "0", "it's"]
STEPS = [
    ".a",
    ".b",
    "['c.d']",
    "['e f']",
    "['0']",
    ".'it\\'s'",
    "['a','b']",
    "['b','a','a']",
    ".*",
    "[*]",
    "[0]",
    "[1]",
    "[-1]",
    "[0,-1]",
    "[2,0]",
    "[1:]",
    "[:2]",
    "[::-1]",
    "[0:3:2]",
    "[::0]",
    "..a",
    "..b",
    "..*",
    "..[*]",
    "..['c.d']",
    "..[0]",
    "..[-1]",
    ".`this`",
    "..`this`",
]
FILTER_STEPS = ["[?(@.a)]", "[?(@.b == 1)]", "..[?(@.a)]", "[?(@.a || @.b > 0)]", "[?(@.a == $.b)]"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.sampled_from(["x", "y z"]))


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, min_size=1, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, min_size=1, max_size=4),
    )


documents = containers(st.recursive(scalars, containers, max_leaves=40))
COMMON = ["[*]", ".*", ".a", "..a", "[0]", ".b"]  # likelier to match: weights the sampling
plain_exprs = st.lists(st.sampled_from(STEPS + COMMON), min_size=1, max_size=3).map(
    lambda steps: "$" + "".join(steps)
)


def bracket(key: str) -> str:
    return "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"


@st.composite
def guided(draw: st.DrawFn) -> tuple[Any, str]:
    """A document and a path that walks down it, so that the path selects something."""
    doc = draw(documents)
    node, expr = doc, "$"
    for _ in range(draw(st.integers(1, 4))):
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            plain = key.isidentifier()
            expr += draw(
                st.sampled_from(
                    [bracket(key), ".*", ".." + (key if plain else bracket(key))]
                    + (["." + key] if plain else [])
                )
            )
        elif isinstance(node, list) and node:
            at = draw(st.integers(0, len(node) - 1))
            expr += draw(
                st.sampled_from(
                    [f"[{at}]", f"[{at - len(node)}]", "[*]", f"[{at}:]", f"[0,{at}]", "..[*]"]
                )
            )
        else:
            break
        node = node[key] if isinstance(node, dict) else node[at]
    return doc, expr


pairs = st.one_of(st.tuples(documents, plain_exprs), guided())
filter_exprs = st.tuples(
    st.lists(st.sampled_from(STEPS), max_size=2),
    st.sampled_from(FILTER_STEPS),
    st.lists(st.sampled_from(STEPS), max_size=1),
).map(lambda parts: "$" + "".join(parts[0]) + parts[1] + "".join(parts[2]))


class Mark:
    """What a transform writes: never a container, equal only to itself."""

    def __repr__(self) -> str:
        return "MARK"


MARK = Mark()


def reference(expr: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return jsonpath_ng.parse(expr)
        except Exception:
            return jsonpath_ng.ext.parse(expr)


def marks(doc: Any) -> int:
    if doc is MARK:
        return 1
    if isinstance(doc, dict):
        return sum(marks(value) for value in doc.values())
    if isinstance(doc, list):
        return sum(marks(value) for value in doc)
    return 0


def assert_same_selection(expr: str, doc: Any) -> None:
    ours = compile_selector(expr).find(doc)
    theirs = [match.value for match in reference(expr).find(doc)]
    assert ours == theirs
    # The very same objects, in the same order: catches 1 == True style coincidences.
    assert [id(value) for value in ours] == [id(value) for value in theirs]


@PROPERTY
@given(pair=pairs)
def test_find_matches_jsonpath_ng(pair: tuple[Any, str]) -> None:
    doc, expr = pair
    assert_same_selection(expr, doc)


@PROPERTY
@given(doc=documents, expr=filter_exprs)
def test_find_matches_jsonpath_ng_with_filters(doc: Any, expr: str) -> None:
    assert_same_selection(expr, doc)


@PROPERTY
@given(pair=pairs)
def test_transform_writes_where_jsonpath_ng_updates(pair: tuple[Any, str]) -> None:
    doc, expr = pair
    # jsonpath-ng's update ignores a trailing `this` (it returns the new value to a caller that
    # drops it); test_plan covers that form.
    assume(not expr.endswith("`this`"))
    ours, count = compile_selector(expr).transform(copy.deepcopy(doc), lambda value: MARK)
    theirs = reference(expr).update(copy.deepcopy(doc), lambda value, parent, key: MARK)
    assert ours == theirs
    # Top-down: every application of fn is still visible in the result, none is lost.
    assert count == marks(ours)


@PROPERTY
@given(pair=pairs, drop_ints=st.booleans())
def test_remove_matches_jsonpath_ng_filter(pair: tuple[Any, str], drop_ints: bool) -> None:
    """Removing every selected value (or only the integers) leaves nothing skipped or extra."""
    doc, expr = pair

    def doomed(value: Any) -> bool:
        return not drop_ints or (isinstance(value, int) and not isinstance(value, bool))

    assume(not expr.endswith("`this`"))  # jsonpath-ng's filter ignores it, as its update does

    gone = object()
    ours, count = compile_selector(expr).transform(
        copy.deepcopy(doc), lambda value: gone if doomed(value) else value, remove=gone
    )
    theirs = reference(expr).filter(doomed, copy.deepcopy(doc))
    assert ours == theirs
    assert count <= len(compile_selector(expr).find(doc))


@PROPERTY
@given(doc=documents, expr=filter_exprs)
def test_compiled_filters_write_like_jsonpath_ng_find(doc: Any, expr: str) -> None:
    """A compiled filter path ends where writing at each of jsonpath-ng's matches ends."""
    compiled = compile_selector(expr)
    delegated = Selector(expr, delegate(reference(expr)), compiled=False)
    ours, count = compiled.transform(copy.deepcopy(doc), lambda value: MARK)
    theirs, _ = delegated.transform(copy.deepcopy(doc), lambda value: MARK)
    assert ours == theirs
    if compiled.compiled:  # a delegated path collects first, so it may also write below a MARK
        assert count == marks(ours)


@pytest.mark.parametrize("depth", [3000])
def test_recursive_descent_survives_deep_documents(depth: int) -> None:
    # Deeper than Python's recursion limit: the walk keeps its own stack.
    doc: Any = {"phone_number": "+14155550000"}
    for _ in range(depth):
        doc = {"x": [doc]}
    selector = compile_selector("$..phone_number")
    assert selector.find(doc) == ["+14155550000"]
    _, count = selector.transform(doc, lambda value: "XXX-XXX-0000")
    assert count == 1
    assert selector.find(doc) == ["XXX-XXX-0000"]
