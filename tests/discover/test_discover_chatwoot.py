"""`omnigate discover` on the Chatwoot fixtures (SPEC 1): without the pack it points at every
path that leaks, with it nothing is uncovered, and no value ever reaches the output."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from gateway.discover.survey import pattern_of
from tests.chatwoot import fixtures

PACK = Path(__file__).resolve().parents[2] / "rules" / "chatwoot"


@pytest.fixture
def traffic(tmp_path: Path) -> Path:
    """The fixtures as JSON lines, bodies as values and (every other line) as strings."""
    path = tmp_path / "chatwoot.jsonl"
    lines = []
    for index, (request, body) in enumerate(fixtures.documents()):
        method, _, target = request.partition(" ")
        shown = json.dumps(body) if index % 2 else body
        lines.append(json.dumps({"method": method, "path": target, "status": 200, "body": shown}))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def auth_only(tmp_path: Path) -> Path:
    folder = tmp_path / "auth-only"
    folder.mkdir()
    shutil.copy(PACK / "00-auth.yaml", folder)
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["discover", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _leaves(node: Any, steps: tuple[str | int, ...] = ()) -> Iterator[tuple[str, Any]]:
    if isinstance(node, str) and node.strip()[:1] in ("{", "["):
        with contextlib.suppress(json.JSONDecodeError):
            node = json.loads(node)
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*steps, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*steps, index))
    else:
        yield pattern_of(steps), node


def leaking_patterns() -> set[str]:
    """Every path where the fixtures put a customer's phone, email, handle, PII attribute or
    full name: what a pack-less gateway would leak (worked out here from the fixtures' own
    values, not by the code under test)."""
    secrets = fixtures.pii_values()
    names = [c.name for c in fixtures.CUSTOMERS]
    found: set[str] = set()
    for _, body in fixtures.documents():
        for pattern, value in _leaves(body):
            text = str(value)
            if any(s in text for s in secrets) or text in names:
                found.add(pattern)
    return found


def uncovered_patterns(out: str) -> set[str]:
    return {line.split()[1] for line in out.splitlines() if line.startswith("  UNCOVERED")}


def test_without_the_pack_it_points_at_every_leaking_path(
    capsys: pytest.CaptureFixture[str], traffic: Path, auth_only: Path
) -> None:
    code, out, _err = run(capsys, "--rules", str(auth_only), str(traffic))
    assert code == 1
    missed = leaking_patterns() - uncovered_patterns(out)
    assert not missed, f"discover missed {len(missed)} leaking paths: {sorted(missed)[:20]}"
    assert "routes:\n  - name: " in out  # the snippets follow the report


def test_with_the_pack_nothing_is_uncovered(
    capsys: pytest.CaptureFixture[str], traffic: Path
) -> None:
    code, out, _ = run(capsys, "--rules", str(PACK), str(traffic))
    assert code == 0, out
    assert " 0 uncovered" in out.splitlines()[-1]
    assert "  covered  " in out  # it did find the PII, and saw it masked


def test_the_snippets_cover_what_they_name(
    capsys: pytest.CaptureFixture[str], traffic: Path, auth_only: Path
) -> None:
    _, out, _ = run(capsys, "--rules", str(auth_only), str(traffic))
    snippet = out[out.index("version: 1\nroutes:\n") :]
    (auth_only / "50-discovered.yaml").write_text(snippet)
    code, again, err = run(capsys, "--rules", str(auth_only), str(traffic))
    assert (code, err) == (0, ""), again


@pytest.mark.parametrize("pack", [False, True])
def test_no_value_is_ever_printed(
    capsys: pytest.CaptureFixture[str], traffic: Path, auth_only: Path, pack: bool
) -> None:
    _, out, err = run(capsys, "--rules", str(PACK if pack else auth_only), str(traffic))
    for value in [*fixtures.pii_values(), *fixtures.names()]:
        assert value not in out + err
