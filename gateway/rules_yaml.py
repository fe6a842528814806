"""Rule-file reader that remembers the line where every mapping key and list item starts.

PyYAML composes the node tree; a walk over it builds plain dicts/lists plus a line table
(key path -> 1-based line) and rejects duplicate keys, which PyYAML would silently collapse.
Scalars follow the YAML 1.2 core schema (the one JSON is a subset of): `off`, `no`, `NO` (Norway's
region code) and `2026-01-01` stay strings instead of becoming booleans and dates. Mapping keys are
always the key's source text, so `200:` or `on:` are the strings "200" and "on".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson
import yaml

from gateway.errors import KeyPath

# SECURITY: aliases can expand exponentially ("billion laughs") or loop; cap the walk.
MAX_NODES = 250_000
MAX_DEPTH = 200

_MAP, _SEQ, _MERGE = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:merge"
_SCALAR_TYPES = (str, int, float, bool, type(None))
_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_$-]+\Z")


def format_key_path(path: KeyPath) -> str:
    """`("routes", 0, "response", 1)` -> `routes[0].response[1]` (the form every message uses)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


@dataclass(frozen=True)
class ParsedFile:
    data: Any
    lines: dict[KeyPath, int]  # () is the document itself


class ReadError(Exception):
    """The file is not a usable document; `errors` are complete `file:line: message` lines."""

    def __init__(self, errors: list[str], *, syntax: bool = False) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        self.syntax = syntax  # the text is not YAML at all (as opposed to YAML we refuse)


class _Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign, body = (-1, text[1:]) if text[:1] == "-" else (1, text.lstrip("+"))
    base = {"0o": 8, "0x": 16, "0b": 2}.get(body[:2].lower(), 10)
    try:
        return sign * int(body[2:] if base != 10 else body, base)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, "invalid integer", node.start_mark
        ) from None


class LineLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core scalars; the walk below records lines and duplicates."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # SECURITY: the composer recurses per level and the scanner slows down with depth;
        # stop a deeply nested file early instead of running into RecursionError.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(None, None, "nested too deeply", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


LineLoader.yaml_implicit_resolvers = {
    first: kept
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    if (kept := [(tag, rx) for tag, rx in resolvers if tag == _MERGE])
}
for _tag, _pattern, _first in (
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    # no .inf / .nan: JSON has neither, and a NaN would pass every `minimum` check
    ("float", r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", "-+.0123456789"),
):
    LineLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), [*_first])
LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class _Walk:
    """Node tree -> plain data, recording each key's / item's line and every duplicate key."""

    def __init__(self, loader: LineLoader, name: str) -> None:
        self.loader, self.name = loader, name
        self.lines: dict[KeyPath, int] = {}
        self.errors: list[tuple[int, str]] = []
        self.count = 0
        self.stack: set[int] = set()

    def value(self, node: yaml.Node, path: KeyPath) -> Any:
        line = node.start_mark.line + 1
        self.count += 1
        if self.count > MAX_NODES or len(path) > MAX_DEPTH or id(node) in self.stack:
            raise _Problem(line, "document too large or too deeply nested (aliases included)")
        if isinstance(node, yaml.ScalarNode):
            value = self.loader.construct_object(node, deep=True)
            if not isinstance(value, _SCALAR_TYPES):
                raise _Problem(line, f"unsupported YAML value with tag {node.tag}")
            return value
        self.stack.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
                return self.mapping(node, path)
            if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
                items = []
                for index, item in enumerate(node.value):
                    self.lines[(*path, index)] = item.start_mark.line + 1
                    items.append(self.value(item, (*path, index)))
                return items
            raise _Problem(line, f"unsupported YAML tag {node.tag}")
        finally:
            self.stack.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                is_list = isinstance(value_node, yaml.SequenceNode)
                merges.extend(value_node.value if is_list else [value_node])
                continue
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Problem(line, "mapping keys must be plain strings")
            key, key_path = key_node.value, (*path, key_node.value)
            if key in out:
                first = f"{self.name}:{self.lines[key_path]}"
                shown = format_key_path(key_path)
                self.errors.append((line, f"key '{shown}' already defined at {first}"))
                continue
            self.lines[key_path] = line
            out[key] = self.value(value_node, key_path)
        for source in merges:  # YAML merge keys: explicit keys win, then earlier sources
            self.merge(out, source, path)
        return out

    def merge(self, out: dict[str, Any], source: yaml.Node, path: KeyPath) -> None:
        if not isinstance(source, yaml.MappingNode):
            raise _Problem(source.start_mark.line + 1, "'<<' needs a mapping or a list of mappings")
        own_lines, self.lines = self.lines, {}
        try:
            merged = self.value(source, path)
        finally:
            source_lines, self.lines = self.lines, own_lines
        for key, value in merged.items():
            if key not in out:
                out[key] = value
                depth = len(path)
                for sub, line in source_lines.items():
                    if len(sub) > depth and sub[depth] == key:
                        self.lines[sub] = line


def _syntax_problem(error: yaml.YAMLError, text: str) -> tuple[int, str]:
    line, message = 1, "YAML syntax error"  # PII: str(error) quotes the file's content; never used
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        context = f" ({error.context})" if error.context else ""
        line = mark.line + 1 if mark else 1
        message = f"YAML syntax error: {error.problem or 'invalid YAML'}{context}"
    elif isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        message = f"YAML syntax error: {error.reason}"
    return line, message


def _syntax_error(name: str, error: yaml.YAMLError, text: str) -> ReadError:
    line, message = _syntax_problem(error, text)
    return ReadError([f"{name}:{line}: {message}"], syntax=True)


def _walk(name: str, text: str) -> ParsedFile:
    try:
        loader = LineLoader(text)  # the reader refuses control characters right here
    except yaml.YAMLError as error:
        raise _syntax_error(name, error, text) from None
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as error:
            raise _syntax_error(name, error, text) from None
        if root is None or (isinstance(root, yaml.ScalarNode) and root.tag.endswith(":null")):
            raise ReadError([f"{name}:1: empty rule file"])
        walk = _Walk(loader, name)
        walk.lines[()] = root.start_mark.line + 1
        try:
            data = walk.value(root, ())
        except _Problem as problem:
            walk.errors.append((problem.line, problem.message))
        except yaml.YAMLError as error:  # e.g. an unknown explicit tag
            walk.errors.append(_syntax_problem(error, text))
        if walk.errors:
            raise ReadError([f"{name}:{line}: {message}" for line, message in sorted(walk.errors)])
        return ParsedFile(data, walk.lines)
    except RecursionError:
        raise ReadError([f"{name}:1: document too deeply nested"]) from None
    finally:
        loader.dispose()


def read_rule_file(name: str, raw: bytes) -> ParsedFile:
    """Parse one rule file (JSON when `name` ends in .json, YAML otherwise)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ReadError([f"{name}:{line}: not UTF-8 text"]) from None
    if not name.lower().endswith(".json"):
        return _walk(name, text)
    try:  # a .json file must be strict JSON, and orjson's values are the exact ones
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        line = error.lineno if raw.strip() else 1
        message = f"JSON syntax error: {error.msg}" if raw.strip() else "empty rule file"
        raise ReadError([f"{name}:{line}: {message}"]) from None
    # Valid JSON has no raw tab inside strings, so tabs are whitespace PyYAML dislikes: swap them.
    try:
        located = _walk(name, text.replace("\t", " "))
    except ReadError as error:
        if not error.syntax:
            raise  # e.g. duplicate keys: orjson keeps the last silently, we refuse
        return ParsedFile(data, {(): 1})  # JSON PyYAML cannot read: no line table, values intact
    return ParsedFile(data, located.lines)
