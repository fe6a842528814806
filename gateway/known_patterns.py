"""The search patterns known values compile per document (SPEC 3.9): literal sets as one
trie-shaped expression (`Literals`, `trie`) and alternations of patterns, longest first
(`Alternation`), each replacing what it finds with a mask.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


class Literals:
    """Literal strings -> replacements, found by one trie-shaped expression."""

    __slots__ = ("_mask", "_pattern", "_replacements")  # one _Literals is used one way

    def __init__(self, sources: dict[str, str], mask: Callable[[str], str]) -> None:
        # literal -> the value whose mask replaces it (masked on first use)
        self._replacements = sources
        self._mask = mask
        # Built and compiled on first use, in the form it is used: most documents never need it.
        self._pattern: re.Pattern[str] | None = None

    def __bool__(self) -> bool:
        return bool(self._replacements)

    def literals(self) -> list[str]:
        return list(self._replacements)

    def sub(self, text: str, searched: str) -> str:
        """`text` with each literal found in `searched` (the same length) replaced."""
        if not self._replacements:
            return text
        pattern = self._pattern
        if pattern is None:
            pattern = self._pattern = re.compile(trie(sorted(self._replacements)))
            mask = self._mask
            self._replacements = {key: mask(value) for key, value in self._replacements.items()}
        if pattern.search(searched) is None:
            return text
        out: list[str] = []
        pos = 0
        for match in pattern.finditer(searched):
            out += (text[pos : match.start()], self._replacements[match.group()])
            pos = match.end()
        out.append(text[pos:])
        return "".join(out)


class Alternation:
    """Patterns -> replacements, searched as one expression (longest first)."""

    __slots__ = ("_pattern", "_replacements")

    def __init__(self, alternatives: dict[str, str]) -> None:
        ordered = sorted(alternatives, key=len, reverse=True)
        self._replacements = [alternatives[p] for p in ordered]
        self._pattern = re.compile("|".join(f"({p})" for p in ordered)) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def sub(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None or pattern.search(text) is None:
            return text
        replacements = self._replacements
        return pattern.sub(lambda m: replacements[(m.lastindex or 1) - 1], text)


def trie(words: list[str]) -> str:
    """One regular expression for a set of literal words, shaped as a trie (no backtracking
    over alternatives that share a prefix)."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_pattern(root)


def _trie_pattern(node: dict[str, Any]) -> str:
    branches = [re.escape(char) + _trie_pattern(child) for char, child in node.items() if char]
    optional = "" in node
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if optional:
        return "(?:" + body + ")?"
    return body
