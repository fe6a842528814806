"""Rule loading: reading with lines, per-file schema errors, merging, locations, digest."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import ConfigError
from gateway.rules_source import RuleLoadError, RuleSource, load_rules
from gateway.rules_yaml import read_rule_file

PROPERTY = settings(deadline=None, derandomize=True)  # max_examples: the conftest profile


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Relative names keep the expected `file:line` strings short and exact.
    monkeypatch.chdir(tmp_path)


def write(files: Mapping[str, str | bytes], folder: str = "rules") -> Path:
    root = Path(folder)
    root.mkdir(exist_ok=True)
    for name, text in files.items():
        data = text.encode() if isinstance(text, str) else text
        (root / name).write_bytes(data)
    return root


def errors_of(path: str | Path) -> list[str]:
    with pytest.raises(RuleLoadError) as caught:
        load_rules(path)
    assert str(caught.value) == "\n".join(caught.value.errors)
    return caught.value.errors


ROUTE_A = """\
version: 1
auth:
  jwt:
    algorithms: [HS256]
    secret_env: JWT_SECRET
roles:
  admin: { masking: false }
routes:
  - name: contact
    match: { method: GET, path: "/contacts/{id}" }
    response:
      - { path: "$.phone", mask: phone }
      - { path: "$.email", mask: { type: partial, keep_last: 2 } }
  - name: messages
    match: { path: "/messages" }
    response:
      - { path: "$..content", mask: text }
tests:
  - { name: a1, role: admin, request: GET /messages, upstream: {}, expect: {} }
"""

ROUTE_B = """\
{
\t"version": 1,
\t"roles": {"agent": {"masking": true}},
\t"default_role": "agent",
\t"auth": {"missing_token": "reject"},
\t"routes": [
\t\t{"name": "b-route",
\t\t "match": {"path": "/b"},
\t\t "response": [{"path": "$.x", "mask": "redact"}]}
\t],
\t"tests": [{"name": "b1", "role": "agent", "request": "GET /b", "upstream": [1], "expect": [1]}]
}
"""

ROUTE_C = """\
version: 1
webhooks:
  - { channel: whatsapp, path: /webhooks/whatsapp, secret_env: META_APP_SECRET }
attributes:
  user_number: phone
routes:
  - name: c-route
    match: { path: /c }
    write_guard: off
omnichannel: { default_region: NO, identify_by: [phone] }
"""


def test_folder_merge_concatenates_lists_and_merges_mappings() -> None:
    write({"a.yaml": ROUTE_A, "b.json": ROUTE_B, "c.yml": ROUTE_C, "notes.txt": "ignored"})
    source = load_rules("rules")
    assert source.files == ("rules/a.yaml", "rules/b.json", "rules/c.yml")
    data = source.data
    assert list(data["roles"]) == ["admin", "agent"]  # file order is privilege order
    names = [route["name"] for route in data["routes"]]
    assert names == ["contact", "messages", "b-route", "c-route"]
    assert [test["name"] for test in data["tests"]] == ["a1", "b1"]
    assert data["auth"] == {
        "jwt": {"algorithms": ["HS256"], "secret_env": "JWT_SECRET"},
        "missing_token": "reject",
    }
    assert data["version"] == 1
    # YAML 1.2 scalars: `off` and Norway's `NO` stay strings.
    assert data["routes"][3]["write_guard"] == "off"
    assert data["omnichannel"]["default_region"] == "NO"
    assert len(source.digest) == 64


@pytest.mark.parametrize(
    ("key_path", "where"),
    [
        (("routes", 0, "response", 1, "mask"), "rules/a.yaml:13"),
        (("routes", 0, "response", 1, "mask", "keep_last"), "rules/a.yaml:13"),
        (("routes", 1, "match", "path"), "rules/a.yaml:15"),
        # merged index 2 is b.json's routes[0]; its lines survive the tab-indented JSON
        (("routes", 2), "rules/b.json:7"),
        (("routes", 2, "response", 0, "mask"), "rules/b.json:9"),
        (("routes", 3, "write_guard"), "rules/c.yml:9"),
        (("tests", 1, "expect"), "rules/b.json:11"),
        (("roles", "agent", "masking"), "rules/b.json:3"),
        (("auth", "missing_token"), "rules/b.json:5"),
        (("auth", "jwt", "secret_env"), "rules/a.yaml:5"),
        (("routes", 2, "no_such_key", 7), "rules/b.json:7"),  # deepest located prefix
        (("routes", 99), "rules/a.yaml:8"),  # falls back to the first `routes:`
        (("nothing",), "rules/a.yaml:1"),
        ((), "rules/a.yaml:1"),
    ],
)
def test_where_maps_merged_paths_back_to_files(key_path: tuple[Any, ...], where: str) -> None:
    write({"a.yaml": ROUTE_A, "b.json": ROUTE_B, "c.yml": ROUTE_C})
    assert load_rules("rules").where(key_path) == where


def test_format_error_locates_a_compile_error() -> None:
    source = load_rules(write({"a.yaml": ROUTE_A}) / "a.yaml")
    error = ConfigError(("routes", 1, "response", 0, "mask"), "unknown mask 'x'")
    assert source.format_error(error) == (
        "rules/a.yaml:17: routes[1].response[0].mask: unknown mask 'x'"
    )


def test_single_file_path_is_loaded_whatever_its_suffix() -> None:
    write({"rules.conf": "version: 1\ndefault_role: agent\n"})
    source = load_rules(Path("rules/rules.conf"))
    assert source.files == ("rules/rules.conf",)
    assert source.data == {"version": 1, "default_role": "agent"}


def test_json_that_yaml_cannot_read_still_loads() -> None:
    # PyYAML refuses a raw DEL character that JSON allows in strings: values come from orjson,
    # locations fall back to the file's first line.
    source = load_rules(write({"a.json": b'{"version": 1,\n "default_role": "a\x7f"}'}))
    assert source.data == {"version": 1, "default_role": "a\x7f"}
    assert source.where(("default_role",)) == "rules/a.json:1"


def test_schema_key_is_an_editor_hint_not_a_conflict() -> None:
    hint = '{"$schema": "./schema.json", "version": 1}'
    source = load_rules(write({"a.json": hint, "b.json": hint}))
    assert source.data == {"version": 1}


def test_yaml_merge_keys_and_anchors_are_supported() -> None:
    text = """\
version: 1
routes:
  - name: one
    match: &m { path: /one, method: GET }
    response: &rules
      - { path: "$.a", mask: phone }
  - name: two
    match:
      <<: *m
      path: /two
    response: *rules
"""
    source = load_rules(write({"a.yaml": text}) / "a.yaml")
    assert source.data["routes"][1]["match"] == {"path": "/two", "method": "GET"}
    assert source.data["routes"][1]["response"] == [{"path": "$.a", "mask": "phone"}]
    assert source.where(("routes", 1, "match", "path")) == "rules/a.yaml:10"
    assert source.where(("routes", 1, "match", "method")) == "rules/a.yaml:4"  # from the anchor


# Each row: files in the folder, then the exact errors (all of them, in order).
ERROR_CASES = [
    pytest.param(
        {"a.yaml": "version: 1\nfoo: 1\n"},
        ["rules/a.yaml:2: unknown key 'foo'"],
        id="unknown-top-level-key",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\nroutes:\n  - name: r\n    match: {path: /x}\n    response:\n"
            "      - {path: $.a, mask: phone}\n      - {path: $.b, mask_type: phone}\n"
        },
        [
            "rules/a.yaml:7: routes[0].response[1]: 'mask' is required",
            "rules/a.yaml:7: routes[0].response[1]: unknown key 'mask_type'",
        ],
        id="unknown-nested-key-and-missing-required",
    ),
    pytest.param(
        {"a.yaml": "roles: {}\n"},
        ["rules/a.yaml:1: 'version' is required"],
        id="version-required-in-every-file",
    ),
    pytest.param(
        {"a.yaml": "version: 2\n"}, ["rules/a.yaml:1: 'version' must be 1"], id="version-const"
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\nroutes:\n  - name: r\n    match:\n      method: {GET: 1}\n"
            "      path: /x\n"
        },
        ["rules/a.yaml:5: routes[0].match: 'method' must be a string or a list of strings"],
        id="wrong-type-one-of",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nroutes:\n  - name: r\n    match: {method: [GET, 5], path: /x}\n"},
        ["rules/a.yaml:4: routes[0].match: 'method[1]' must be a string"],
        id="wrong-type-list-item",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nauth:\n  jwt:\n    algorithms: [none]\n    secret_env: S\n"},
        [
            "rules/a.yaml:4: auth.jwt: 'algorithms[0]' must be one of 'HS256', 'HS384', 'HS512', "
            "'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'"
        ],
        id="alg-none-never-accepted",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\nauth:\n  jwt:\n    algorithms: [RS256]\n"
            "    jwks_url: https://id.example.com/jwks\n    public_key_file: /k.pem\n"
        },
        [
            "rules/a.yaml:3: auth.jwt: exactly one of 'jwks_url', 'public_key_file', 'secret_env' "
            "must be set"
        ],
        id="jwt-two-key-sources",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\nroutes:\n  - name: r\n    match: {path: /x}\n    response:\n"
            "      - {path: $.a, mask: phnoe}\n      - {path: $.a, mask: null}\n"
            "      - {path: $.a, mask: {keep_last: 2}}\n"
        },
        [
            "rules/a.yaml:6: routes[0].response[0]: 'mask' must be one of 'phone', 'email', 'name', "
            "'text', 'redact', 'remove', 'null', 'hash', 'partial', 'attributes', 'url'",
            # YAML null is not the "null" mask: the message says to quote it
            "rules/a.yaml:7: routes[0].response[1]: 'mask' must be a mask name (phone, email, name, "
            "text, redact, remove, \"null\", hash, partial, attributes) or a mapping with 'type' "
            "and options",
            "rules/a.yaml:8: routes[0].response[2].mask: 'type' is required",
        ],
        id="mask-spec-errors",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nroles:\n  agent: {masking: yes}\n"},
        ["rules/a.yaml:3: roles.agent: 'masking' must be true or false"],
        id="yaml-1.1-yes-is-not-a-boolean",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nroles:\n  admin: {masking: false}\n  admin: {masking: true}\n"},
        ["rules/a.yaml:4: key 'roles.admin' already defined at rules/a.yaml:3"],
        id="duplicate-key-in-one-file",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\nroles:\n  admin: {masking: false}\n",
            "b.yaml": "version: 1\nroles:\n  agent: {masking: true}\n  admin: {masking: false}\n",
        },
        ["rules/b.yaml:4: key 'roles.admin' already defined at rules/a.yaml:3"],
        id="key-defined-in-two-files",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\nauth:\n  jwt: {algorithms: [HS256], secret_env: S}\n",
            "b.yaml": "version: 1\nauth:\n  missing_token: reject\n  jwt: {algorithms: [HS256], "
            "secret_env: S}\n",
        },
        [
            "rules/b.yaml:4: key 'auth.jwt.algorithms' already defined at rules/a.yaml:3",
            "rules/b.yaml:4: key 'auth.jwt.secret_env' already defined at rules/a.yaml:3",
        ],
        id="deep-merge-conflict",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nroutes:\n  - name: r\n    match: {path: /x\n  - name: s\n"},
        [
            "rules/a.yaml:5: YAML syntax error: expected ',' or '}', but got ':' "
            "(while parsing a flow mapping)"
        ],
        id="yaml-unclosed-flow-mapping",
    ),
    pytest.param(
        {"a.yaml": "version: 1\ndefault_role: a: b\n"},
        ["rules/a.yaml:2: YAML syntax error: mapping values are not allowed here"],
        id="yaml-syntax-error-line",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nroles:\n  admin: {masking: false}\n   agent: {masking: true}\n"},
        [
            "rules/a.yaml:4: YAML syntax error: expected <block end>, but found "
            "'<block mapping start>' (while parsing a block mapping)"
        ],
        id="yaml-bad-indentation",
    ),
    pytest.param(
        {"a.yaml": "version: 1\n---\nversion: 1\n"},
        [
            "rules/a.yaml:2: YAML syntax error: but found another document "
            "(expected a single document in the stream)"
        ],
        id="two-yaml-documents",
    ),
    pytest.param(
        {"a.json": '{\n  "version": 1,\n  "roles": }\n'},
        ["rules/a.json:3: JSON syntax error: unexpected character, expected a JSON value"],
        id="json-syntax-error",
    ),
    pytest.param(
        {"a.json": "version: 1\n"},
        ["rules/a.json:1: JSON syntax error: unexpected character, expected a JSON value"],
        id="yaml-in-a-json-file",
    ),
    pytest.param(
        {"a.json": '{\n\t"version": 1,\n\t"rolez": {}\n}\n'},
        ["rules/a.json:3: unknown key 'rolez'"],
        id="json-schema-error-has-its-line",
    ),
    pytest.param(
        {"a.json": '{"version": 1,\n "default_role": "a",\n "default_role": "b"}'},
        ["rules/a.json:3: key 'default_role' already defined at rules/a.json:2"],
        id="json-duplicate-key",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\nroles:\n  team lead: {masking: true}\n",
            "b.json": '{"version": 1,\n "roles": {"team lead": {"masking": true}}}',
        },
        ["rules/b.json:2: key 'roles[\"team lead\"]' already defined at rules/a.yaml:3"],
        id="odd-key-names-are-quoted",
    ),
    pytest.param({"a.yaml": ""}, ["rules/a.yaml:1: empty rule file"], id="empty-file"),
    pytest.param(
        {"a.yaml": "# only a comment\n"},
        ["rules/a.yaml:1: empty rule file"],
        id="comment-only-file",
    ),
    pytest.param({"a.json": "  \n"}, ["rules/a.json:1: empty rule file"], id="empty-json"),
    pytest.param(
        {"a.yaml": "- version: 1\n"},
        ["rules/a.yaml:1: the rule file must be a mapping"],
        id="top-level-list",
    ),
    pytest.param(
        {"a.yaml": b"version: 1\nx: \xff\n"}, ["rules/a.yaml:2: not UTF-8 text"], id="not-utf8"
    ),
    pytest.param(
        {"a.yaml": "version: 1\nx: !!binary aGk=\n"},
        ["rules/a.yaml:2: unsupported YAML value with tag tag:yaml.org,2002:binary"],
        id="non-json-yaml-value",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nfoo: 1\n", "b.yaml": "{version: 1, bar: 2\n"},
        [
            "rules/a.yaml:2: unknown key 'foo'",
            "rules/b.yaml:2: YAML syntax error: expected ',' or '}', but got '<stream end>' "
            "(while parsing a flow mapping)",
        ],
        id="every-file-reports",
    ),
]


@pytest.mark.parametrize(("files", "expected"), ERROR_CASES)
def test_errors_are_exact_file_line_messages(
    files: dict[str, str | bytes], expected: list[str]
) -> None:
    assert errors_of(write(files)) == expected


@pytest.mark.parametrize(
    ("make", "target", "expected"),
    [
        (lambda: None, "missing", "missing:1: no such file or directory"),
        (
            lambda: Path("empty").mkdir(),
            "empty",
            "empty:1: no rule files (*.yaml, *.yml, *.json) in this folder",
        ),
        # hidden files, other suffixes and sub-folders are not rule files
        (
            lambda: (
                write({".hidden.yaml": "version: 1\n", "README.md": "x"}, "only_other")
                and Path("only_other/sub.yaml").mkdir()  # type: ignore[func-returns-value]
            ),
            "only_other",
            "only_other:1: no rule files (*.yaml, *.yml, *.json) in this folder",
        ),
        # SECURITY: a dangling symlink fails loudly rather than dropping its rules
        (
            lambda: write({}, "dangling") and os.symlink("gone.yaml", "dangling/a.yaml"),  # type: ignore[func-returns-value]
            "dangling",
            "dangling/a.yaml:1: cannot read file: No such file or directory",
        ),
    ],
)
def test_path_errors(make: Any, target: str, expected: str) -> None:
    make()
    assert errors_of(target) == [expected]


def configmap(root: Path, version: str, files: dict[str, str]) -> None:
    """The layout kubelet writes: files in `..<timestamp>/`, `..data` -> it, top-level links."""
    root.mkdir(exist_ok=True)
    (root / version).mkdir()
    for name, text in files.items():
        (root / version / name).write_text(text)
        if not (root / name).is_symlink():
            os.symlink(f"..data/{name}", root / name)
    os.symlink(version, root / "..data_tmp")
    os.replace(root / "..data_tmp", root / "..data")  # the atomic swap kubelet does


def test_configmap_mount_layout_and_update() -> None:
    root = Path("mount")
    roles = "version: 1\nroles: {agent: {masking: true}}\n"
    configmap(
        root,
        "..2026_01_01_00_00_00.1",
        {"a.yaml": "version: 1\ndefault_role: agent\n", "b.yaml": roles},
    )
    first = load_rules(root)
    assert first.files == ("mount/a.yaml", "mount/b.yaml")  # the links, not the hidden targets
    assert first.data == {
        "version": 1,
        "default_role": "agent",
        "roles": {"agent": {"masking": True}},
    }

    configmap(
        root,
        "..2026_01_02_00_00_00.1",
        {"a.yaml": "version: 1\ndefault_role: boss\n", "b.yaml": roles},
    )
    second = load_rules(root)
    assert second.data["default_role"] == "boss"
    assert second.digest != first.digest


def test_digest_follows_names_and_bytes_not_the_folder() -> None:
    files = {"a.yaml": "version: 1\n", "b.yaml": "version: 1\ndefault_role: agent\n"}
    one = load_rules(write(files, "one"))
    assert load_rules(write(files, "two")).digest == one.digest  # same content, other mount
    assert (
        load_rules(write({**files, "b.yaml": "version: 1\ndefault_role: other\n"}, "three")).digest
        != one.digest
    )
    renamed = {"a.yaml": files["a.yaml"], "c.yaml": files["b.yaml"]}
    assert load_rules(write(renamed, "four")).digest != one.digest


def test_source_is_immutable() -> None:
    source = load_rules(write({"a.yaml": "version: 1\n"}))
    assert isinstance(source, RuleSource)
    with pytest.raises(AttributeError):
        source.digest = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("x: off", "off"),  # YAML 1.1 would say False: write_guard: off must stay a string
        ("x: NO", "NO"),  # Norway's region code
        ("x: 2026-01-01", "2026-01-01"),  # no dates
        ("x: 0x1F", 31),
        ("x: 0o17", 15),
        ("x: 017", 17),  # 1.2: decimal, not octal
        ("x: 1e3", 1000.0),
        ("x: ~", None),
        ("x: .nan", ".nan"),  # JSON has no NaN; it would slip past `minimum: 0`
        ("x: -.5", -0.5),
        ("x: True", True),
        ("x: +14155550100", 14155550100),  # unquoted phone numbers are numbers: quote them
    ],
)
def test_scalars_follow_yaml_1_2_core(text: str, value: Any) -> None:
    assert read_rule_file("a.yaml", text.encode()).data == {"x": value}


def test_alias_bomb_is_refused() -> None:
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for prev, name in zip("abcdef", "bcdefg", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    write({"a.yaml": "\n".join(lines) + "\n"})
    (message,) = errors_of("rules")
    assert message.endswith("document too large or too deeply nested (aliases included)")


def test_deep_nesting_is_refused() -> None:
    deep_block = "a:\n" + "".join("  " * depth + "b:\n" for depth in range(1, 300))
    write({"a.yaml": "[" * 1000, "b.yaml": deep_block})
    assert errors_of("rules") == [
        "rules/a.yaml:1: YAML syntax error: nested too deeply",
        "rules/b.yaml:200: YAML syntax error: nested too deeply",
    ]


INTS = st.integers(-(2**63), 2**64 - 1)  # orjson's range (it reads larger ones as floats)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | INTS | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def key_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, sub in items:
        out += key_paths(sub, (*path, key))
    return out


@PROPERTY
@given(st.dictionaries(st.text(), JSON_VALUES, max_size=5), st.booleans())
def test_json_files_read_exactly_as_json(doc: dict[str, Any], indent: bool) -> None:
    raw = orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else 0)
    parsed = read_rule_file("x.json", raw)
    assert parsed.data == orjson.loads(raw)


PRINTABLE = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn")))


@PROPERTY
@given(
    st.recursive(
        INTS | PRINTABLE,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(PRINTABLE, inner, max_size=3),
        max_leaves=10,
    ).filter(lambda doc: isinstance(doc, dict))
)
def test_every_json_key_and_item_has_a_line(doc: dict[str, Any]) -> None:
    raw = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    lines = read_rule_file("x.json", raw).lines
    text_lines = raw.count(b"\n") + 1
    for path in key_paths(doc):
        assert 1 <= lines[path] <= text_lines
