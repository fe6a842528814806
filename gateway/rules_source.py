"""Rule files -> one merged, schema-validated document that remembers each key's `file:line`.

`load_rules` reads a rule file or a folder of them, validates every file on its own against
`rules_schema.json` (each file is a fragment that states `version: 1`), then merges them: mappings
merge by key, the lists `routes`, `webhooks` and `tests` are concatenated in file order, and a key
defined twice (in one file or in two) is an error naming both places. Every problem found is
reported, each as `file:line: message`, never just the first.

Loading does blocking file I/O: a reload on the event loop should run it in an executor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError, KeyPath
from gateway.rules_schema import VALIDATOR, explain, key_prefix
from gateway.rules_yaml import ParsedFile, ReadError, format_key_path, read_rule_file

RULE_SUFFIXES = (".yaml", ".yml", ".json")
CONCATENATED = ("routes", "webhooks", "tests")
# Entries of these maps are whole definitions: `roles.admin` in two files is a conflict even though
# both values are mappings (every other mapping merges key by key).
_ATOMIC_ENTRIES = {("roles",), ("attributes",)}


class RuleLoadError(Exception):
    """The rules cannot be loaded; `errors` holds every problem as `file:line: message`."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class RuleSource:
    data: Mapping[str, Any]  # the merged document (plain dicts/lists)
    files: tuple[str, ...]  # file paths loaded, in order
    digest: str  # sha256 over the files' base names and bytes: the version hash on /rules
    locations: Mapping[KeyPath, tuple[str, int]] = field(repr=False, compare=False)

    def where(self, key_path: KeyPath) -> str:
        """`file:line` of the deepest located prefix of `key_path` (merged-document indexes)."""
        for end in range(len(key_path), -1, -1):
            found = self.locations.get(tuple(key_path[:end]))
            if found:
                return f"{found[0]}:{found[1]}"
        return f"{self.files[0]}:1"

    def format_error(self, error: ConfigError) -> str:
        """A compile step's `ConfigError` as `file:line: key.path: message`."""
        return f"{self.where(error.key_path)}: {key_prefix(error.key_path)}{error.message}"


def load_rules(path: str | Path | Sequence[str | Path]) -> RuleSource:
    """Load, validate and merge a rule file or a folder of them (or several of either, as one
    rule set: `omnigate check a.yaml b.yaml`), or raise `RuleLoadError`."""
    paths = [path] if isinstance(path, str | Path) else list(path)
    files = list(dict.fromkeys(f for p in paths for f in _rule_files(Path(p))))
    errors: list[str] = []
    digest = hashlib.sha256()
    merge = _Merge()
    for file in files:
        name = str(file)
        try:
            raw = file.read_bytes()
        except OSError as error:
            errors.append(f"{name}:1: cannot read file: {error.strerror or error}")
            continue
        base = file.name.encode()
        digest.update(len(base).to_bytes(4, "big") + base + len(raw).to_bytes(8, "big") + raw)
        try:
            parsed = read_rule_file(name, raw)
        except ReadError as error:
            errors.extend(error.errors)
            continue
        errors.extend(_schema_errors(name, parsed))
        merge.add(name, parsed)
    errors.extend(merge.errors)
    if errors:
        raise RuleLoadError(errors)
    return RuleSource(merge.data, tuple(map(str, files)), digest.hexdigest(), merge.locations)


def _rule_files(path: Path) -> list[Path]:
    if not path.is_dir():
        if path.exists():
            return [path]  # a file named explicitly is read whatever its suffix
        raise RuleLoadError([f"{path}:1: no such file or directory"])
    try:
        # Hidden names are skipped, which also skips a Kubernetes ConfigMap mount's `..data` and
        # `..2026_01_01...` entries; its top-level files are symlinks into them and are read.
        # SECURITY: a dangling symlink is kept so that it fails loudly instead of silently
        # dropping that file's rules.
        files = sorted(
            entry
            for entry in path.iterdir()
            if not entry.name.startswith(".")
            and entry.suffix.lower() in RULE_SUFFIXES
            and (entry.is_file() or (entry.is_symlink() and not entry.exists()))
        )
    except OSError as error:
        raise RuleLoadError([f"{path}:1: cannot read folder: {error.strerror or error}"]) from None
    if not files:
        raise RuleLoadError([f"{path}:1: no rule files (*.yaml, *.yml, *.json) in this folder"])
    return files


def _line(lines: Mapping[KeyPath, int], path: KeyPath) -> int:
    for end in range(len(path), -1, -1):
        if (found := lines.get(path[:end])) is not None:
            return found
    return 1


class _Merge:
    """Folds files into one document, keeping the first `file:line` of every key path."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.locations: dict[KeyPath, tuple[str, int]] = {}
        self.errors: list[str] = []

    def add(self, name: str, parsed: ParsedFile) -> None:
        if not isinstance(parsed.data, dict):
            return  # already reported by the schema
        offsets = {
            key: len(old) for key in CONCATENATED if isinstance(old := self.data.get(key), list)
        }
        for key, value in parsed.data.items():
            old = self.data.get(key)
            if key == "$schema" or (key == "version" and key in self.data):
                continue  # an editor hint; `version` is checked per file (always 1)
            if key in CONCATENATED and isinstance(value, list) and isinstance(old, list | None):
                self.data[key] = [*(old or []), *value]
            else:
                self.merge(self.data, key, value, (key,), name, parsed)
        for path, line in parsed.lines.items():
            if len(path) > 1 and isinstance(path[1], int) and path[0] in offsets:
                path = (path[0], path[1] + offsets[str(path[0])], *path[2:])
            self.locations.setdefault(path, (name, line))

    def merge(
        self,
        target: dict[str, Any],
        key: str,
        value: Any,
        path: KeyPath,
        name: str,
        parsed: ParsedFile,
    ) -> None:
        if key not in target:
            target[key] = value
            return
        old = target[key]
        if isinstance(old, dict) and isinstance(value, dict) and path[:-1] not in _ATOMIC_ENTRIES:
            for sub_key, sub_value in value.items():
                self.merge(old, sub_key, sub_value, (*path, sub_key), name, parsed)
            return
        first, first_line = self.locations.get(path, (name, 1))
        self.errors.append(
            f"{name}:{_line(parsed.lines, path)}: key '{format_key_path(path)}' "
            f"already defined at {first}:{first_line}"
        )


def _schema_errors(name: str, parsed: ParsedFile) -> list[str]:
    found: dict[tuple[int, str], None] = {}  # ordered set: one message may come twice
    for error in VALIDATOR.iter_errors(parsed.data):
        for path, message in explain(error):
            found.setdefault((_line(parsed.lines, path), message), None)
    return [f"{name}:{line}: {message}" for line, message in sorted(found)]
