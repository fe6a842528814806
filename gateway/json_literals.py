"""Every string literal of a JSON-like text with its path, read as the most lenient parser would.

The write-back guard (SPEC 3.5) must see what any upstream parser could read, not what a strict one
accepts. So this is a single left-to-right token scan, not a parse: duplicate keys all count,
trailing commas, comments, single quotes, unquoted keys and garbage between tokens are tolerated,
nesting has no depth limit (the container stack is a list, not recursion), and escapes
(`\\u0058`, surrogate pairs, `\\x58`, `\\/`) are decoded. SECURITY: the scan never fails and never
goes quadratic: an unterminated string or comment runs to the end of the text.

Paths read like the guard's messages: `$.contact.phone_number`, `$.items[2]`, `$['a b']`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Strings and comments run to the end of the text when unterminated (possessive, so no
# backtracking): a string is always one token, however broken the text around it.
_TOKEN = re.compile(
    r'"(?P<d>(?:[^"\\]|\\.)*+)(?:"|\\?\Z)'
    r"|'(?P<s>(?:[^'\\]|\\.)*+)(?:'|\\?\Z)"
    r"|(?P<p>[{}\[\],:])"
    r"|//[^\n]*+|/\*(?:.*?\*/|.*\Z)"
    r"|(?P<w>[A-Za-z0-9_$][A-Za-z0-9_$+.\-]*+)",
    re.S,
)
_ESCAPE = re.compile(
    r"\\(?:u(?P<hi>[dD][89abAB][0-9a-fA-F]{2})\\u(?P<lo>[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|u(?P<u>[0-9a-fA-F]{4})|x(?P<x>[0-9a-fA-F]{2})|(?P<c>.))",
    re.S,
)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_PATH_DEPTH = 32


def string_literals(text: str, base: str = "$") -> Iterator[tuple[str, str]]:
    """(path, decoded value) for every string literal in `text`, keys included."""
    # Each frame: [path, is_object, key or index, expecting a key]
    stack: list[list[object]] = []
    for match in _TOKEN.finditer(text):
        punct = match.group("p")
        if punct is not None:
            _step(stack, punct, base)
            continue
        raw = match.group("d")
        if raw is None:
            raw = match.group("s")
        word = match.group("w") if raw is None else None
        if raw is None and word is None:
            continue  # a comment
        top = stack[-1] if stack else None
        if top is not None and top[1] and top[3]:
            key = decode_escapes(raw) if raw is not None else str(word)
            top[2] = key
            if raw is not None:
                yield child(str(top[0]), key), key  # SECURITY: keys are read too
            continue
        if raw is not None:
            yield _value_path(stack, base), decode_escapes(raw)


def _step(stack: list[list[object]], punct: str, base: str) -> None:
    top = stack[-1] if stack else None
    if punct in "{[":
        # Paths stop growing past MAX_PATH_DEPTH, so deep nesting costs linear time, not square.
        path = _value_path(stack, base) if len(stack) < MAX_PATH_DEPTH else str(top[0])  # type: ignore[index]
        if len(stack) == MAX_PATH_DEPTH - 1:
            path += "..."
        stack.append([path, punct == "{", None if punct == "{" else 0, True])
    elif punct in "}]":
        if stack:
            stack.pop()
    elif top is None:
        return
    elif punct == ",":
        if top[1]:
            top[3] = True
        else:
            top[2] = int(top[2]) + 1  # type: ignore[call-overload]
    elif top[1]:  # ':' in an object: a value follows
        top[3] = False


def _value_path(stack: list[list[object]], base: str) -> str:
    if not stack:
        return base
    path, is_object, step, _ = stack[-1]
    if is_object:
        return child(str(path), str(step)) if step is not None else str(path)
    return f"{path}[{step}]"


def child(path: str, key: str) -> str:
    """`path.key`, or `path['key']` when the key is not a plain name."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def decode_escapes(raw: str) -> str:
    """JSON and JavaScript escapes decoded; an unknown `\\c` is `c`, as lenient parsers do."""
    if "\\" not in raw:
        return raw
    return _ESCAPE.sub(_unescape, raw)


def _unescape(match: re.Match[str]) -> str:
    if match.group("hi") is not None:
        high, low = int(match.group("hi"), 16), int(match.group("lo"), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    code = match.group("u") or match.group("x")
    if code is not None:
        return chr(int(code, 16))
    char = match.group("c")
    return _SIMPLE.get(char, char)
