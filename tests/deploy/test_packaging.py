"""What the distribution ships and promises (SPEC 1): its name, its dependency bounds, the lock
file the image installs from, and a wheel that runs `omnigate demo` and `omnigate schema` from
any folder."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
REQUIREMENTS = {
    Requirement(line).name.lower(): Requirement(line)
    for line in PYPROJECT["project"]["dependencies"]
}
# import name -> distribution, for the modules whose private API the code may reach into
DISTRIBUTION_OF = {
    "aiohttp": "aiohttp",
    "jsonpath_ng": "jsonpath-ng",
    "phonenumbers": "phonenumbers",
}


def test_distribution_name_and_command() -> None:
    # `omnigate` on PyPI is an unrelated project; the command keeps the short name
    assert PYPROJECT["project"]["name"] == "omnigate-sidecar"
    assert PYPROJECT["project"]["scripts"] == {"omnigate": "gateway.cli:main"}
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert "Apache License" in (REPO / "LICENSE").read_text()


@pytest.mark.parametrize("name", sorted(REQUIREMENTS))
def test_every_dependency_has_a_lower_bound(name: str) -> None:
    # make test-bounds installs exactly these lower bounds; a dependency without one would be
    # tested at whatever ancient release the resolver found
    assert any(s.operator == ">=" for s in REQUIREMENTS[name].specifier), name


def _private_imports() -> set[str]:
    """Top-level modules whose underscore names (or underscore modules) gateway/ imports."""
    found: set[str] = set()
    for path in (REPO / "gateway").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                private_module = any(p.startswith("_") for p in node.module.split(".")[1:])
                private_name = any(a.name.startswith("_") for a in node.names)
                if private_module or private_name:
                    found.add(node.module.split(".")[0])
    return found


def test_private_imports_are_known() -> None:
    # the scan must see what the project is known to use, or the test below proves nothing;
    # aiohttp's private attributes are read (not imported) in gateway/aiohttp_adapter.py alone,
    # which checks them at start, so aiohttp is listed in DISTRIBUTION_OF by hand
    assert "phonenumbers" in _private_imports()
    assert (REPO / "gateway" / "aiohttp_adapter.py").exists()
    assert _private_imports() <= set(DISTRIBUTION_OF) | {"gateway"}


@pytest.mark.parametrize("module", sorted(DISTRIBUTION_OF))
def test_dependencies_whose_private_api_is_used_are_capped(module: str) -> None:
    requirement = REQUIREMENTS[DISTRIBUTION_OF[module]]
    assert any(s.operator == "<" for s in requirement.specifier), requirement


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pins[requirement.name.lower()] = Version(spec.version)
    return pins


@pytest.mark.parametrize("name", sorted(REQUIREMENTS))
def test_constraints_pin_every_dependency_within_its_bounds(name: str) -> None:
    # the image installs from constraints.txt: `make lock` after changing a bound
    pins = _pins()
    assert name in pins, f"{name} is not pinned in constraints.txt (run make lock)"
    assert REQUIREMENTS[name].specifier.contains(pins[name], prereleases=True), (name, pins[name])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("omnigate_sidecar-*.whl")
    return built


def test_wheel_ships_the_packs_the_schema_and_the_license(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for pack_file in (REPO / "rules" / "examples").glob("*.yaml"):
        assert f"gateway/packs/examples/{pack_file.name}" in names
    assert "gateway/rules_schema.json" in names
    assert not any(n.startswith("gateway/packs/") and n.count("/") == 2 for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Name: omnigate-sidecar" in text
    assert "Requires-Dist: aiohttp<3.15,>=3.14" in text


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Iterator[Path]:
    """A venv holding only the wheel; its dependencies come from the test venv (a .pth file)."""
    root = Path(tempfile.mkdtemp(prefix="omnigate-wheel-"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(
        subprocess.run(
            [str(python), "-c", purelib], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz-test-dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    yield venv
    shutil.rmtree(root, ignore_errors=True)


def _clean_env() -> dict[str, str]:
    # nothing of the checkout on the path: the wheel alone must do
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OMNIGATE_RULES")}


def test_schema_from_the_wheel_in_another_folder(installed: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(installed / "bin" / "omnigate"), "schema"],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(
        (REPO / "gateway" / "rules_schema.json").read_text()
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_from_the_wheel_in_another_folder(installed: Path, tmp_path: Path) -> None:
    listen, admin, api = _free_port(), _free_port(), _free_port()
    process = subprocess.Popen(
        [
            str(installed / "bin" / "omnigate"),
            "demo",
            "--listen",
            f"127.0.0.1:{listen}",
            "--admin-listen",
            f"127.0.0.1:{admin}",
            "--upstream-listen",
            f"127.0.0.1:{api}",
        ],
        cwd=tmp_path,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        rules = None
        for _ in range(300):
            if process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{admin}/rules", timeout=1) as r:
                    rules = json.loads(r.read())
                break
            except OSError:
                time.sleep(0.05)
        assert rules is not None, process.communicate(timeout=10)
        # the rules come from the installed package, not from any checkout
        assert all(re.search(r"site-packages/gateway/packs/examples/", f) for f in rules["files"])
    finally:
        process.terminate()
        process.communicate(timeout=30)
