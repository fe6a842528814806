"""The rule files' JSON Schema (`rules_schema.json`, compiled once) and its validation errors
explained: each as (key path, message) naming the key and what the schema allows there (a bad
rule is an error naming file, line and key). PII: messages never quote the offending value,
only key names and what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from gateway.errors import KeyPath
from gateway.rules_yaml import format_key_path

RULES_SCHEMA: dict[str, Any] = json.loads(
    resources.files("gateway").joinpath("rules_schema.json").read_text(encoding="utf-8")
)
VALIDATOR = Draft202012Validator(RULES_SCHEMA)  # compiled once, at import
_NOUNS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}
_PLURALS = {
    "string": "strings",
    "integer": "integers",
    "number": "numbers",
    "boolean": "booleans",
    "object": "mappings",
    "array": "lists",
}
_BOUNDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "greater than",
    "exclusiveMaximum": "less than",
}
_JSON_TYPES: dict[type, str] = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    dict: "object",
    list: "array",
    type(None): "null",
}


def explain(error: ValidationError) -> Iterator[tuple[KeyPath, str]]:
    """jsonschema's error -> (where, message) pairs that name the key and what is allowed.

    PII: messages never quote the offending value (rule files hold test fixtures and blocked
    numbers); only key names and what the schema allows.
    """
    path: KeyPath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        for key in instance:
            if key not in known:
                yield (*path, key), f"{key_prefix(path)}unknown key '{key}'"
        return
    if kind == "required" and isinstance(instance, dict):
        for key in expected:
            if key not in instance:
                yield path, f"{key_prefix(path)}'{key}' is required"
        return
    if kind in ("oneOf", "anyOf"):
        branches = [_resolve(branch) for branch in expected]
        if all(set(branch) == {"required"} for branch in branches):
            names = ", ".join(f"'{branch['required'][0]}'" for branch in branches)
            yield path, f"{key_prefix(path)}exactly one of {names} must be set"
            return
        fitting = [index for index, branch in enumerate(branches) if _fits(branch, instance)]
        inner = [sub for sub in error.context or () if sub.relative_schema_path[0] in fitting]
        if len(fitting) == 1 and inner:  # the value's type picks the branch: explain that one
            for sub in inner:
                yield from explain(sub)
            return
    yield path, _about(path, _predicate(str(kind), expected, schema))


def _predicate(kind: str, expected: Any, schema: dict[str, Any]) -> str:
    if "errorMessage" in schema and kind in ("type", "enum", "const", "oneOf", "anyOf"):
        return str(schema["errorMessage"])
    if kind == "pattern":
        return str(schema.get("patternErrorMessage", f"must match the pattern {expected}"))
    if kind in ("type", "enum", "oneOf", "anyOf"):
        return f"must be {_describe(schema)}"
    if kind == "const":
        return f"must be {json.dumps(expected)}"
    if kind in ("minItems", "minLength", "minProperties") and expected == 1:
        return "must not be empty"
    if kind == "minItems":
        return f"must have at least {expected} items"
    if kind == "uniqueItems":
        return "must not list the same item twice"
    if kind in _BOUNDS:
        return f"must be {_BOUNDS[kind]} {expected}"
    return f"is not valid ({kind})"


def _resolve(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    if "$ref" not in schema:
        return schema
    target = _resolve(RULES_SCHEMA["$defs"][str(schema["$ref"]).rsplit("/", 1)[-1]])
    return {**target, **{key: value for key, value in schema.items() if key != "$ref"}}


def _describe(schema: Any) -> str:
    """What a schema allows, as a noun phrase: 'a string or a list of strings'."""
    schema = _resolve(schema)
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(_show(value) for value in schema["enum"])
    if branches := schema.get("oneOf") or schema.get("anyOf"):
        return " or ".join(_describe(branch) for branch in branches)
    kind = schema.get("type")
    if kind == "array" and "items" in schema:
        items = _resolve(schema["items"])
        if "enum" in items:
            return "a list of values among " + ", ".join(_show(value) for value in items["enum"])
        return f"a list of {_PLURALS.get(items.get('type', ''), 'values')}"
    return _NOUNS.get(kind, "a valid value") if isinstance(kind, str) else "a valid value"


def _fits(schema: dict[str, Any], instance: Any) -> bool:
    """Whether the instance's JSON type is one the (resolved) schema accepts at all."""
    actual = _JSON_TYPES.get(type(instance), "")
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    elif "enum" in schema or "const" in schema:
        allowed = [_JSON_TYPES.get(type(v), "") for v in schema.get("enum", [schema.get("const")])]
    else:
        return True
    return actual in allowed or (actual == "integer" and "number" in allowed)


def _show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else json.dumps(value)


def key_prefix(path: KeyPath) -> str:
    return f"{format_key_path(path)}: " if path else ""


def _about(path: KeyPath, predicate: str) -> str:
    """`routes[0].match: 'method' must be ...`: the message names the key the problem is at."""
    if not path:
        return f"the rule file {predicate}"
    cut = len(path)
    while cut > 0 and isinstance(path[cut - 1], int):
        cut -= 1
    if cut == 0:
        return f"'{format_key_path(path)}' {predicate}"
    name = f"{path[cut - 1]}{format_key_path(path[cut:])}"
    return f"{key_prefix(path[: cut - 1])}'{name}' {predicate}"
