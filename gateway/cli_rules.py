"""Rule tooling for authors: `check`, `mask`, `test` (SPEC 3.8) and `token`.

All of them run the same compiled plan and transform stage as the gateway, offline. Secrets that
the rules name but the environment lacks are replaced by placeholders (with a note on stderr), so
rules can be checked in CI without production secrets; `serve` refuses to start without them.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jwt
import orjson

from gateway.auth import Caller
from gateway.errors import GatewayError
from gateway.http_path import normalise_path
from gateway.rules_plan import Plan, compile_plan
from gateway.rules_source import RuleLoadError, load_rules
from gateway.settings import SettingsError
from gateway.transform import Outcome


class PlaceholderEnviron(Mapping[str, str]):
    """The real environment, plus a stand-in value for any variable it lacks (noted once)."""

    def __init__(self, base: Mapping[str, str]) -> None:
        self._base = base
        self.missing: list[str] = []

    def __getitem__(self, key: str) -> str:
        if key in self._base:
            return self._base[key]
        if key not in self.missing:
            self.missing.append(key)
        # long enough that key-length checks do not warn about a value nobody chose
        return f"placeholder-for-{key}-" + "x" * 48

    def get(self, key: str, default: Any = None) -> Any:
        return self[key]

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._base)

    def __len__(self) -> int:
        return len(self._base)


def _load(path: str | list[str]) -> tuple[Plan | None, list[str], list[str]]:
    environ = PlaceholderEnviron(os.environ)
    try:
        plan = compile_plan(load_rules(path), environ)
    except RuleLoadError as exc:
        return None, list(exc.errors), environ.missing
    return plan, [], environ.missing


def _loaded(path: str | list[str]) -> Plan | None:
    """The plan of `path`; None once the errors are printed (stderr). Notes placeholders."""
    plan, errors, missing = _load(path)
    if plan is None:
        for line in errors:
            print(line, file=sys.stderr)
        return None
    _note_missing(missing)
    return plan


def _note_missing(missing: list[str]) -> None:
    for name in missing:
        print(
            f"note: environment variable {name} is not set; a placeholder was used "
            "(omnigate serve will refuse to start without it)",
            file=sys.stderr,
        )


def check(paths: list[str]) -> int:
    """Validate `paths` merged as ONE rule set (as `serve` loads a folder): a file that only
    makes sense beside the others (roles in one, routes in another) is checked beside them."""
    plan = _loaded(paths)
    if plan is None:
        return 1
    for file, summary in _summaries(plan):
        print(f"{file}: ok ({summary})")
    return 0


def _summaries(plan: Plan) -> list[tuple[str, str]]:
    counts: dict[str, dict[str, int]] = {f: {} for f in plan.source.files}
    sections = ("routes", "webhooks", "tests")
    for section in sections:
        for index, _ in enumerate(plan.source.data.get(section, [])):
            file = plan.source.where((section, index)).rsplit(":", 1)[0]
            counts.setdefault(file, {})
            counts[file][section] = counts[file].get(section, 0) + 1
    return [(file, ", ".join(f"{c.get(s, 0)} {s}" for s in sections)) for file, c in counts.items()]


def _parse_request(text: str) -> tuple[str, str]:
    method, _, path = text.strip().partition(" ")
    if not method or not path.strip():
        raise SettingsError(f'--request: expected "METHOD /path", got {text!r}')
    try:
        return method.upper(), normalise_path(path.strip().partition("?")[0])
    except GatewayError as exc:
        raise SettingsError(f"--request: {exc.message}") from None


def _caller(plan: Plan, role: str) -> Caller:
    if role not in plan.roles:
        known = ", ".join(plan.roles) or "none"
        raise SettingsError(f"--role: unknown role {role!r} (known: {known})")
    return Caller(role=role, masking=plan.roles[role], sub=None, token_present=True)


def apply(plan: Plan, role: str, request: str, document: Any) -> tuple[Any, Outcome]:
    """What `role` receives for `document` answered to `request` (stamps included)."""
    method, path = _parse_request(request)
    masker = plan.policy(method, path, _caller(plan, role)).masker
    masked = masker.mask(copy.deepcopy(document))  # the gateway's own masker, offline
    return masked.document, masked.tally


def mask(rules: str, role: str, request: str, file: str, explain: bool) -> int:
    plan = _loaded(rules)
    if plan is None:
        return 1
    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise SettingsError(f"{file}: cannot read: {exc.strerror}") from None
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        print(f"{file}: not valid JSON: {exc}", file=sys.stderr)
        return 1
    result, outcome = apply(plan, role, request, document)
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    if explain:
        # PII: counts and paths only, never the values.
        for (route, path, mask_name), count in outcome.fired.items():
            print(f"{route}: {path} -> {mask_name}: {count} value(s) masked", file=sys.stderr)
        if outcome.stamped:
            print(f"stamped {outcome.stamped} object(s)", file=sys.stderr)
        if not outcome.fired:
            print("no rule masked anything for this role and request", file=sys.stderr)
    return 0


def run_tests(path: str) -> int:
    plan, errors, missing = _load(path)
    if plan is None:
        for line in errors:
            print(line)
        print("0 passed, 1 failed")
        return 1
    _note_missing(missing)
    passed = failed = 0
    for index, case in enumerate(plan.tests):
        name = case.get("name", f"tests[{index}]")
        where = plan.source.where(("tests", index))
        try:
            actual, _ = apply(plan, case["role"], case["request"], case.get("upstream"))
        except SettingsError as exc:
            print(f"FAIL {name} ({where}): {str(exc).split(': ', 1)[-1]}")
            failed += 1
            continue
        if _canonical(actual) == _canonical(case.get("expect")):
            passed += 1
            continue
        failed += 1
        print(f"FAIL {name} ({where})")
        diff = difflib.unified_diff(
            _pretty(case.get("expect")), _pretty(actual), "expected", "actual", lineterm=""
        )
        print("\n".join(diff))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _pretty(value: Any) -> list[str]:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def token(role: str, secret_env: str, ttl_text: str, sub: str, claim: str) -> int:
    secret = os.environ.get(secret_env)
    if not secret:
        raise SettingsError(f"--secret-env: environment variable {secret_env} is not set")
    try:
        ttl = int(ttl_text)
    except ValueError:
        raise SettingsError(
            f"--ttl: expected a whole number of seconds, got {ttl_text!r}"
        ) from None
    if ttl <= 0:
        raise SettingsError(f"--ttl: must be greater than 0, got {ttl}")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": sub, "iat": now, "exp": now + ttl}
    target = claims
    *parents, leaf = claim.split(".")
    for parent in parents:
        target = target.setdefault(parent, {})
    target[leaf] = role
    print(jwt.encode(claims, secret, algorithm="HS256"))
    return 0
