"""JSONPath AST nodes compiled into chains of direct traversal steps.

A compiled path is a `Visit`: `visit(container, key, value, sink)` is called for one location (the
value at `container[key]`) and calls `sink(container, key, value)` for every location the path
selects from there, in jsonpath-ng's order. Each step is a closure over the next one, so a request
pays for dict and list look-ups only, never for jsonpath-ng's per-match `DatumInContext` objects.

Writes happen in the sink while the walk is running, so the steps follow two rules that keep a walk
consistent with what has already been written:
- a list element removed during the walk is left as the `GONE` tombstone until the walk ends (the
  sink's owner compacts the list), so positions keep meaning the original elements; every step skips
  `GONE`;
- a dict is iterated over a snapshot of its items, because the sink may delete a key of it.

A step that needs an object or an array and meets a string holding JSON walks on inside it
(`gateway.jsonpath_text`); the parsed value stands in a one-element holder list, so its root is
written like any other location. `..` starts inside such a string too, but does not open the
strings it passes on its way down.

Forms without a compiled step raise `Delegated`; the caller then evaluates the whole expression
with jsonpath-ng's own `find` through `delegate` (which reads strings as strings).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jsonpath_ng.ext.filter import Filter
from jsonpath_ng.jsonpath import (
    Child,
    Descendants,
    Fields,
    Index,
    JSONPath,
    Root,
    Slice,
    This,
    Wildcard,
)

from gateway.exempt import Exempt
from gateway.jsonpath_text import open_text

Sink = Callable[[Any, Any, Any], None]
Visit = Callable[[Any, Any, Any, Sink], None]


class _Gone:
    def __repr__(self) -> str:
        return "GONE"


GONE: Any = _Gone()
"""A list element removed during the current walk, or a missing key (never in a finished doc)."""


SCALAR_TYPES = frozenset({str, Exempt, int, float, bool, type(None)})
"""The types a parsed JSON document holds besides dict and list. Walks skip values of these exact
types on sight; anything else (subclasses included) is told apart with isinstance."""


class Delegated(Exception):
    """The expression uses a form that only jsonpath-ng itself evaluates."""


def compile_steps(node: JSONPath, sink_step: Visit | None = None, *, leading: bool = True) -> Visit:
    """Compile `node` into a `Visit` that ends in `sink_step` (by default: hand to the sink)."""
    nxt = sink_step or _to_sink
    if type(node) is Child:
        return compile_steps(
            node.left, compile_steps(node.right, nxt, leading=False), leading=leading
        )
    if type(node) is Descendants:
        right = compile_steps(node.right, nxt, leading=False)
        return compile_steps(
            node.left, _descend(right, _selects_itself(node.right)), leading=leading
        )
    if type(node) is Root:
        # `$` mid-path means "jump back to the document root": only jsonpath-ng tracks that.
        if not leading:
            raise Delegated
        return nxt
    if type(node) is This:
        return nxt
    if type(node) is Fields:
        return _fields(tuple(node.fields), nxt)
    if type(node) is Index:
        return _index(tuple(node.indices), nxt)
    if type(node) is Slice:
        return _slice(slice(node.start, node.end, node.step), nxt)
    if type(node) is Wildcard:
        return _wildcard(nxt)
    if type(node) is Filter and not _filter_needs_context(node):
        return _filter(tuple(node.expressions), nxt)
    raise Delegated


def _to_sink(container: Any, key: Any, value: Any, sink: Sink) -> None:
    sink(container, key, value)


def _selects_itself(node: JSONPath) -> bool:
    """Whether `node` can select the very value it starts from (a `this` path)."""
    if type(node) is This:
        return True
    if isinstance(node, Child | Descendants):
        return _selects_itself(node.left) and _selects_itself(node.right)
    return False


def _filter_needs_context(node: JSONPath) -> bool:
    # A filter that reads `$` must see its candidates linked to the root; let jsonpath-ng do that.
    return bool(node._references_root())  # type: ignore[attr-defined]


def _inside(step: Visit, container: Any, key: Any, text: str, sink: Sink) -> None:
    """Apply `step` to what the string `container[key]` holds as JSON, if anything."""
    holder = open_text(container, key, text, sink)
    if holder is not None:
        step(holder, 0, holder[0], sink)


def _fields(names: tuple[str, ...], nxt: Visit) -> Visit:
    if len(names) == 1:
        name = names[0]

        def field(container: Any, key: Any, value: Any, sink: Sink) -> None:
            if isinstance(value, dict):
                child = value.get(name, GONE)
                if child is not GONE:
                    nxt(value, name, child, sink)
            elif isinstance(value, str):
                _inside(field, container, key, value, sink)

        return field

    def fields(container: Any, key: Any, value: Any, sink: Sink) -> None:
        if isinstance(value, dict):
            for name in names:
                child = value.get(name, GONE)
                if child is not GONE:
                    nxt(value, name, child, sink)
        elif isinstance(value, str):
            _inside(fields, container, key, value, sink)

    return fields


def _index(indices: tuple[int, ...], nxt: Visit) -> Visit:
    def index(container: Any, key: Any, value: Any, sink: Sink) -> None:
        if isinstance(value, list):
            size = len(value)
            for position in indices:
                if -size <= position < size:
                    position %= size  # one key per element, whatever sign the rule used
                    child = value[position]
                    if child is not GONE:
                        nxt(value, position, child, sink)
        elif isinstance(value, str):
            _inside(index, container, key, value, sink)

    return index


def _slice(window: slice, nxt: Visit) -> Visit:
    if window.step == 0:  # jsonpath-ng: a zero step selects nothing

        def nothing(container: Any, key: Any, value: Any, sink: Sink) -> None:
            return None

        return nothing

    def sliced(container: Any, key: Any, value: Any, sink: Sink) -> None:
        if isinstance(value, list):
            for position in range(len(value))[window]:
                child = value[position]
                if child is not GONE:
                    nxt(value, position, child, sink)
        elif isinstance(value, str):
            _inside(sliced, container, key, value, sink)

    return sliced


def _wildcard(nxt: Visit) -> Visit:
    def wildcard(container: Any, key: Any, value: Any, sink: Sink) -> None:
        if isinstance(value, dict):
            for name, child in list(value.items()):
                nxt(value, name, child, sink)
        elif isinstance(value, list):
            for position, child in enumerate(value):
                if child is not GONE:
                    nxt(value, position, child, sink)
        elif isinstance(value, str):
            _inside(wildcard, container, key, value, sink)

    return wildcard


def _filter(expressions: tuple[Any, ...], nxt: Visit) -> Visit:
    def filtered(container: Any, key: Any, value: Any, sink: Sink) -> None:
        if isinstance(value, dict):
            candidates: list[tuple[Any, Any]] = list(value.items())
        elif isinstance(value, list):
            candidates = list(enumerate(value))
        else:
            if isinstance(value, str):
                _inside(filtered, container, key, value, sink)
            return
        for name, child in candidates:
            if child is not GONE and all(expr.find(child) for expr in expressions):
                nxt(value, name, child, sink)

    return filtered


def _descend(right: Visit, itself: bool) -> Visit:
    """`..right`: apply `right` at a value and at each of its descendants, pre-order.

    Children are read after `right` ran on their parent, so a value that was just replaced is
    walked as it is now (jsonpath-ng's update does the same). An explicit stack keeps deep
    documents from exhausting Python's recursion limit. A string holding JSON where the descent
    starts is walked as the value it holds; strings below are not opened (see the module doc).
    """
    if itself:
        return _descend_all(right)

    def descend(container: Any, key: Any, value: Any, sink: Sink) -> None:
        # `right` selects nothing from a value that is no container, so only containers are
        # pushed; a JSON scalar is told by its exact type, cheaper than isinstance, and anything
        # else (GONE included) is pushed and sorted out by the isinstance checks when popped.
        stack = [(container, key, value)]
        pop, push = stack.pop, stack.append
        while stack:
            container, key, value = pop()
            if isinstance(value, dict):
                right(container, key, value, sink)
                # Reversed, so that children pop in document order.
                for name, child in reversed(value.items()):
                    if type(child) not in SCALAR_TYPES:
                        push((value, name, child))
            elif isinstance(value, list):
                right(container, key, value, sink)
                position = len(value)
                for child in reversed(value):
                    position -= 1
                    if type(child) not in SCALAR_TYPES:
                        push((value, position, child))
            elif isinstance(value, str):  # only where the descent starts: nothing else pushes one
                holder = open_text(container, key, value, sink)
                if holder is not None:
                    push((holder, 0, holder[0]))

    return descend


def _descend_all(right: Visit) -> Visit:
    """`..right` where `right` may select the value it starts from (`..`this``, `..*`...)."""

    def descend(container: Any, key: Any, value: Any, sink: Sink) -> None:
        stack = [(container, key, value)]
        pop, push = stack.pop, stack.append
        while stack:
            container, key, value = pop()
            right(container, key, value, sink)
            # `right` may have replaced `value` itself: its children are read from the new one.
            value = container[key] if isinstance(container, list) else container.get(key, GONE)
            if isinstance(value, dict):
                for name, child in reversed(value.items()):
                    push((value, name, child))
            elif isinstance(value, list):
                for position in range(len(value) - 1, -1, -1):
                    child = value[position]
                    if child is not GONE:
                        push((value, position, child))

    return descend


def delegate(path: JSONPath) -> Visit:
    """Evaluate `path` with jsonpath-ng's `find` and hand each match's location to the sink.

    Every match is collected before the sink sees any of them (jsonpath-ng's own semantics), so a
    value replaced by the sink is not walked again in its new form.
    """

    def delegated(container: Any, key: Any, value: Any, sink: Sink) -> None:
        for match in path.find(value):
            parent = match.context
            if parent is None:  # `$` (or `this`) itself
                sink(container, key, match.value)
                continue
            step = match.path
            if type(step) is Fields and len(step.fields) == 1:
                sink(parent.value, step.fields[0], match.value)
            elif type(step) is Index and len(step.indices) == 1:
                sink(parent.value, step.indices[0] % len(parent.value), match.value)
            else:  # compile_selector rejects the forms that compute values, so never reached
                raise TypeError(f"jsonpath-ng match at {step!s} is not a location")

    return delegated
