"""JSONPath selectors, parsed once at load and compiled into direct traversals.

The grammar and the selection semantics are jsonpath-ng's: an expression is parsed with
`jsonpath_ng.parse`, or with `jsonpath_ng.ext.parse` when it needs the extended grammar (filters
such as `[?(@.type == 'phone')]`). The AST is then compiled by `gateway.jsonpath_steps` into step
closures for `$`, `.field`, `['field.with dots']`, `['a','b']`, `[n]` / `[-n]` / `[n,m]`,
`[*]` / `.*`, slices `[a:b:c]`, `..` (recursive descent, including `..*`), `` `this` `` and filters
that do not read `$`. Every other form (`$` inside a filter, `where`, `wherenot`, `|`) is evaluated
by jsonpath-ng's own `find` on each call: same results, just slower (`Selector.compiled` tells).
`Selector.shape` names the paths `<fields>..<fields>` that `gateway.jsonpath_group` can apply
together with others in one walk.

Rejected with a `ConfigError` at load, because they do not select locations in the document that a
mask could rewrite: `` `len` ``, `` `keys` ``, `` `path` ``, sorting (`[/field]`), the string
operators (`` `sub(...)` ``, `` `split(...)` ``, `` `str()` ``), arithmetic (`$.a * 2`),
`` `parent` `` (it fails on the root) and `&` (jsonpath-ng does not implement it). A filter regex
(`=~`) must compile at load, since jsonpath-ng would otherwise fail on it at every request.

`transform` semantics, where jsonpath-ng's `update` has none or differs:
- `fn` runs once per selected location, even if the path reaches it twice (`[0,0]`, `$..a..b`);
  the count is the number of such locations;
- a compiled path applies `fn` top-down: a value below a replaced one is selected from the
  replacement, not from the detached original (`$..*` with a scalar result touches only the top);
  a delegated path selects everything first, so it may also apply `fn` (and count) below a value
  it then replaces, without effect on the result;
- returning `remove` deletes the key or the list element; removed list elements are compacted when
  the walk ends, so `[*]`, slices and indices all refer to the original positions;
- filters select object members as well as array elements, in `find` and in `transform` alike;
- a compiled path walks into strings that hold JSON (`gateway.jsonpath_text`): the rest of the
  path applies inside, and a transform writes a changed value back as compact JSON text once the
  walk is over. Filter conditions and delegated paths read such strings as strings.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from jsonpath_ng.ext.arithmetic import Operation
from jsonpath_ng.ext.iterable import Keys, Len, Path, SortedThis
from jsonpath_ng.ext.parser import parse as parse_extended
from jsonpath_ng.ext.string import Split, Str, Sub
from jsonpath_ng.jsonpath import (
    Child,
    Descendants,
    JSONPath,
    Parent,
    Where,
    _Intersect,
    _Union,
)
from jsonpath_ng.parser import parse as parse_base

from gateway.errors import ConfigError, KeyPath
from gateway.jsonpath_group import Shape, descent_shape
from gateway.jsonpath_steps import GONE, Delegated, Visit, compile_steps, delegate
from gateway.jsonpath_text import OpenedTexts

_COMPUTED = (Len, Keys, Path, SortedThis, Sub, Split, Str, Operation)


class Selector:
    """One compiled JSONPath expression. Immutable and safe to share between requests."""

    __slots__ = ("_visit", "compiled", "expr", "shape")

    def __init__(self, expr: str, visit: Visit, compiled: bool, shape: Shape | None = None) -> None:
        self.expr = expr
        self.compiled = compiled  # False: evaluated by jsonpath-ng on each call
        # (prefix, chain) when the path is `<fields>..<fields>`: see gateway.jsonpath_group
        self.shape = shape
        self._visit = visit

    def __repr__(self) -> str:
        return f"Selector({self.expr!r})"

    def find(self, doc: Any) -> list[Any]:
        """The selected values, in jsonpath-ng's order (duplicates included, as it does)."""
        found: list[Any] = []
        append = found.append

        def collect(container: Any, key: Any, value: Any) -> None:
            append(value)

        self._visit([doc], 0, doc, collect)
        return found

    def transform(
        self, doc: Any, fn: Callable[[Any], Any], *, remove: object | None = None
    ) -> tuple[Any, int]:
        """Replace every selected value by `fn(value)` in place; `(new root, locations changed)`.

        `fn` returning `remove` (when given) deletes the key or element; removing the root gives
        `None`. Returning the very same object leaves the document untouched but still counts.
        """
        holder = [doc]  # the root is element 0 of a list, so `$` is written like any location
        rewrite = _Rewrite(fn, remove)
        self._visit(holder, 0, doc, rewrite.apply)
        if rewrite.texts:  # JSON held as text: written back before positions move
            rewrite.texts.write_back(GONE)
        root = holder[0]
        for items in rewrite.shrunk.values():
            items[:] = [item for item in items if item is not GONE]
        return (None if root is GONE else root), rewrite.count


class _Rewrite:
    """The sink of one transform walk. `apply` is handed to the steps as a bound method, which is
    how a step that opens JSON text finds `texts` (see `gateway.jsonpath_text.open_text`)."""

    __slots__ = ("count", "fn", "remove", "seen", "shrunk", "texts")

    def __init__(self, fn: Callable[[Any], Any], remove: object | None) -> None:
        self.fn, self.remove = fn, remove
        self.seen: dict[tuple[int, Any], Any] = {}
        self.shrunk: dict[int, list[Any]] = {}
        self.texts = OpenedTexts()
        self.count = 0

    def apply(self, container: Any, key: Any, value: Any) -> None:
        mark = (id(container), key)
        seen = self.seen
        if mark in seen:  # reached again through another branch: fn runs once per location
            return
        seen[mark] = container  # keeps the container alive, so its id stays unique
        self.count += 1
        new = self.fn(value)
        if new is value:
            return
        remove = self.remove
        if remove is not None and new is remove:
            if isinstance(container, list):
                container[key] = GONE
                self.shrunk[id(container)] = container
            else:
                del container[key]
        else:
            container[key] = new


def compile_selector(expr: str, key_path: KeyPath = ()) -> Selector:
    """Parse and compile `expr`; a bad or unsupported expression raises `ConfigError`."""
    if not isinstance(expr, str):
        raise ConfigError(key_path, f"a JSONPath must be a string, not {type(expr).__name__}")
    tree = _parse(expr, key_path)
    for node in _locating_nodes(tree):
        problem = _problem(node)
        if problem:
            verdict, reason = problem
            raise ConfigError(key_path, f"{verdict} JSONPath '{expr}': {reason}")
    try:
        return Selector(expr, compile_steps(tree), compiled=True, shape=descent_shape(tree))
    except Delegated:
        return Selector(expr, delegate(tree), compiled=False)


def _parse(expr: str, key_path: KeyPath) -> JSONPath:
    # The base grammar first, so every expression it accepts means exactly what
    # `jsonpath_ng.parse` makes of it; the extended grammar only adds filters and operators.
    with warnings.catch_warnings():
        # Deprecated-syntax warnings would point into the gateway, not at the rule file.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return parse_base(expr)
        except Exception:  # any failure: the extended grammar may still accept the expression
            try:
                return parse_extended(expr)
            except Exception as exc:  # PLY and jsonpath-ng raise several exception types
                reason = str(exc).strip() or type(exc).__name__
                raise ConfigError(key_path, f"invalid JSONPath '{expr}': {reason}") from None


def _locating_nodes(node: JSONPath) -> Iterator[tuple[JSONPath, bool]]:
    """Every node of the tree, with whether its results are selected locations (not a test)."""
    stack: list[tuple[Any, bool]] = [(node, True)]
    while stack:
        current, locating = stack.pop()
        yield current, locating
        if isinstance(current, Child | Descendants | _Union):
            stack += [(current.left, locating), (current.right, locating)]
        elif isinstance(current, Where):  # also WhereNot: the right side is only a condition
            stack += [(current.left, locating), (current.right, False)]
        else:  # filters, comparisons, boolean and arithmetic operators: conditions and operands
            for name in ("left", "right", "target", "value"):
                part = getattr(current, name, None)
                if isinstance(part, JSONPath):
                    stack.append((part, False))
            for name in ("expressions", "operands"):
                stack += [
                    (part, False)
                    for part in getattr(current, name, None) or ()
                    if isinstance(part, JSONPath)
                ]


def _problem(located: tuple[JSONPath, bool]) -> tuple[str, str] | None:
    """Why a node cannot serve as a selector, as (verdict, reason); None when it can."""
    node, locating = located
    if getattr(node, "op", None) == "=~":
        # jsonpath-ng compiles the pattern on each comparison: a bad one would fail every request.
        pattern = getattr(node, "value", None)
        if not isinstance(pattern, str):
            return "invalid", "'=~' needs a quoted regular expression"
        try:
            re.compile(pattern)
        except re.error as exc:
            return "invalid", f"bad regular expression {pattern!r}: {exc}"
    if isinstance(node, Parent):
        return "unsupported", "`parent` is not supported (it fails on the document root)"
    if isinstance(node, _Intersect):
        return "unsupported", "the '&' operator is not implemented by jsonpath-ng"
    if locating and isinstance(node, _COMPUTED):
        return "unsupported", f"'{node}' computes a new value instead of selecting one"
    return None


__all__ = ["Selector", "compile_selector"]
