"""Selectors `<prefix>..<field chain>` that share a prefix, applied with one walk of the document.

A view often holds rules such as `$..sender.phone_number`, `$..sender.email`, `$..sender.name`.
Applied one by one, each walks the whole document; a `DescentGroup` walks it once, recording the
dicts where each rule will look its last key up, then applies the rules' functions rule after rule,
in rule order. The result and the counts are those of applying each rule with `Selector.transform`
in turn, because of what the shape allows and what is checked:

- a field chain selects dict members only, never list elements, through dicts only: which locations
  a rule selects depends only on which containers (dicts and lists) the document holds and where,
  and on which keys are present;
- a write that keeps that container structure (a value that is no container replaced by another
  that is none, or deleted from its dict) cannot add or move a location of any rule; a later rule
  reads each location's value when it reaches it, so it sees the earlier rules' output, and skips
  the keys they deleted;
- a write that would change the structure (a container replaced or deleted, or a container
  written) stops the group before any write of that rule: the rules before it are then fully
  applied, a state that rule-by-rule application also goes through, and the caller applies the rest
  one by one. The stopped rule's function ran on values that it is then given again: functions
  must be pure (masks are).

Each rule's function runs on its locations in the order its own walk would reach them (pre-order),
once per location, even where the document holds one dict in two places.

A chain that reaches a string holding JSON (`gateway.jsonpath_text`) leaves the document to the
caller whole: each rule's own walk opens such strings, and the group does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from jsonpath_ng.jsonpath import Child, Descendants, Fields, JSONPath, Root

from gateway.exempt import changed
from gateway.jsonpath_steps import GONE, SCALAR_TYPES
from gateway.jsonpath_text import NOT_JSON, json_text

Shape = tuple[tuple[str, ...], tuple[str, ...]]
"""(prefix, chain): `$.p1.p2..c1.c2` is (("p1", "p2"), ("c1", "c2")); the chain is never empty."""

# A trie node over the rules' parent chains (each chain without its last key): the index of the
# holder list that records the dicts reached at this node, if a parent chain ends here, and the
# steps below it.
_Node = tuple[int | None, tuple[tuple[str, Any], ...]]

_CONTAINERS = (dict, list)


def descent_shape(node: JSONPath) -> Shape | None:
    """The (prefix, chain) of a `<field chain>..<field chain>` expression; None for other forms."""
    if type(node) is Descendants:
        prefix = _field_chain(node.left, leading=True)
        chain = _field_chain(node.right, leading=False)
        if prefix is None or not chain:
            return None
        return prefix, chain
    if type(node) is Child:  # `$..a.b` may also parse as Child(Descendants($, a), b)
        shape = descent_shape(node.left)
        tail = _field_chain(node.right, leading=False)
        if shape is None or not tail:
            return None
        return shape[0], shape[1] + tail
    return None


def _field_chain(node: JSONPath, *, leading: bool) -> tuple[str, ...] | None:
    if type(node) is Root:
        return () if leading else None
    if type(node) is Fields and len(node.fields) == 1 and node.fields[0] != "*":
        return (node.fields[0],)
    if type(node) is Child:
        left = _field_chain(node.left, leading=leading)
        right = _field_chain(node.right, leading=False)
        if left is None or right is None:
            return None
        return left + right
    return None


class DescentGroup:
    """Chains below one shared prefix, each standing for one rule. Immutable, built at load.

    A location is a dict and a key; the walk records, per distinct parent chain (the chain without
    its last key), the dicts the parent chain reaches, and `apply` looks the key up in each when it
    comes to it, so rules that differ only in their last key share one list.
    """

    __slots__ = ("_here", "_lookups", "_parents", "_top", "chains", "prefix")

    def __init__(self, prefix: tuple[str, ...], chains: Sequence[tuple[str, ...]]) -> None:
        if not chains or not all(chains):
            raise ValueError("a descent group needs non-empty chains")
        self.prefix = prefix
        self.chains = tuple(chains)
        parents: dict[tuple[str, ...], int] = {}
        for chain in self.chains:
            parents.setdefault(chain[:-1], len(parents))
        # Per chain: (which holder list, which key to look up in its dicts).
        self._lookups = tuple((parents[chain[:-1]], chain[-1]) for chain in self.chains)
        self._parents = len(parents)
        self._here, self._top = _trie(list(parents.items()))

    def locate(self, doc: Any) -> list[list[Any]] | None:
        """Per parent chain, the dicts it reaches, in walk order and without repeats; None when
        a chain reaches a string holding JSON (the rules' own walks must open it)."""
        found: list[list[Any]] = [[] for _ in range(self._parents)]
        start = doc
        for name in self.prefix:
            if isinstance(start, str) and json_text(start) is not NOT_JSON:
                return None
            if not isinstance(start, dict):
                return found
            start = start.get(name, GONE)
            if start is GONE:
                return found
        here, top = self._here, self._top
        every = None if here is None else found[here].append  # a chain of one key: every dict
        stack = [start]
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            value = pop()
            kind = type(value)
            if kind is not dict and kind is not list:
                if kind in SCALAR_TYPES:
                    continue
                if isinstance(value, dict):
                    kind = dict
                elif isinstance(value, list):
                    kind = list
                else:
                    continue
            if kind is list:
                # Pushed whole, in reverse so they pop in document order; scalars are skipped
                # when popped. No list holds GONE between two walks.
                extend(reversed(value))
                continue
            if every is not None:
                every(value)
            # `_resolve(top, value, found)` inlined: this runs once for every dict in the body.
            for name, (record, deeper) in top:
                child = value.get(name, GONE)
                if child is not GONE and isinstance(child, dict):
                    if record is not None:
                        found[record].append(child)
                    if deeper and not _resolve(deeper, child, found):
                        return None
                elif isinstance(child, str) and json_text(child) is not NOT_JSON:
                    return None
            # Pre-order: children after their parent's chains ran, in document order.
            for child in reversed(value.values()):
                if type(child) not in SCALAR_TYPES:
                    push(child)
        for index, holders in enumerate(found):
            if len(set(map(id, holders))) != len(holders):  # a dict shared by two places
                found[index] = list({id(holder): holder for holder in holders}.values())
        return found

    def apply(
        self, doc: Any, fns: Sequence[Callable[[Any], Any]], *, remove: object | None = None
    ) -> Iterator[int]:
        """Apply `fns[i]` to chain i's locations, rule after rule; yield each rule's changed count.

        A value is changed when its function returns another object (`remove` deletes the key).
        Each count is yielded once its rule is written, so a function raising later leaves the
        earlier counts with the caller. Fewer counts than `fns` means the next rule would change
        the container structure: nothing of it was written, and it and the rules after it are left
        to the caller.
        """
        if len(fns) != len(self.chains):
            raise ValueError("one function per chain")
        found = self.locate(doc)
        if found is None:
            return
        for fn, (record, key) in zip(fns, self._lookups, strict=True):
            writes: list[tuple[Any, Any]] = []
            count = 0
            for holder in found[record]:
                value = holder.get(key, GONE)
                if value is GONE:  # not there, or deleted by an earlier rule of the group
                    continue
                new = fn(value)
                if new is not value:
                    if _is_container(value) or _is_container(new):
                        return
                    writes.append((holder, new))
                    count += changed(new, value)  # a mark on an equal string is no change
            for holder, new in writes:
                if remove is not None and new is remove:
                    del holder[key]
                else:
                    holder[key] = new
            yield count


def _is_container(value: Any) -> bool:
    return type(value) not in SCALAR_TYPES and isinstance(value, _CONTAINERS)


def _trie(parents: list[tuple[tuple[str, ...], int]]) -> _Node:
    """The trie of `(parent chain, holder list index)` pairs, from the step they start at."""
    here = next((index for chain, index in parents if not chain), None)
    names: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for chain, index in parents:
        if chain:
            names.setdefault(chain[0], []).append((chain[1:], index))
    return here, tuple((name, _trie(rest)) for name, rest in names.items())


def _resolve(steps: tuple[tuple[str, Any], ...], value: Any, found: list[list[Any]]) -> bool:
    """Follow the trie's `steps` into the dict `value`, recording the dicts parent chains reach;
    False when a chain reaches a string holding JSON."""
    for name, (record, deeper) in steps:
        child = value.get(name, GONE)
        if child is not GONE and isinstance(child, dict):
            if record is not None:
                found[record].append(child)
            if deeper and not _resolve(deeper, child, found):
                return False
        elif isinstance(child, str) and json_text(child) is not NOT_JSON:
            return False
    return True


__all__ = ["DescentGroup", "Shape", "descent_shape"]
