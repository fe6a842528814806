"""Fails unless every runtime dependency installed here is at its declared lower bound.

`make test-bounds` runs it in the lowest-versions venv before the suite, so a bound that the
resolver could not honour (or a dependency declared without a lower bound) is caught instead of
silently testing some other version.

Usage: python tests/tools/check_lowest.py [PYPROJECT]
"""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version


def lower_bound(requirement: Requirement) -> Version | None:
    floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
    return max(floors) if floors else None


def problems(pyproject: Path) -> list[str]:
    found: list[str] = []
    for line in tomllib.loads(pyproject.read_text())["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        floor = lower_bound(requirement)
        if floor is None:
            found.append(f"{requirement.name}: no lower bound declared")
            continue
        installed = Version(metadata.version(requirement.name))
        if installed != floor:
            found.append(f"{requirement.name}: installed {installed}, lower bound {floor}")
    return found


def main() -> int:
    pyproject = Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")
    found = problems(pyproject)
    for line in found:
        print(f"check_lowest: {line}", file=sys.stderr)
    if not found:
        print("check_lowest: every runtime dependency is at its lower bound")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
