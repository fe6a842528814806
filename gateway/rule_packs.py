"""The rule packs the project ships (`rules/examples/`, `rules/chatwoot/`, ...) and the rule files'
JSON Schema, found wherever omnigate is installed.

A wheel carries the packs as package data under `gateway/packs/` (copied there at build time by
setup.py); an editable install or a checkout reads them from the repository's `rules/` folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from gateway.settings import SettingsError

_INSTALLED = Path(__file__).resolve().parent / "packs"
_CHECKOUT = Path(__file__).resolve().parents[1] / "rules"


def _packs_root() -> Path:
    # An installed wheel has its own copy; never look beside it (that would be site-packages).
    return _INSTALLED if _INSTALLED.is_dir() else _CHECKOUT


def pack_path(name: str) -> Path:
    """The folder of the shipped pack `name`, or a `SettingsError` naming the packs there are."""
    candidate = _packs_root() / name
    if candidate.is_dir():
        return candidate
    known = ", ".join(pack_names()) or "none"
    raise SettingsError(f"--rules: no shipped rule pack named {name!r} (shipped: {known})")


def pack_names() -> list[str]:
    """Names of the shipped packs, sorted."""
    root = _packs_root()
    if not root.is_dir():
        return []
    return sorted(entry.name for entry in root.iterdir() if entry.is_dir())


def schema_text() -> str:
    """The rule files' JSON Schema (draft 2020-12), as shipped with the package."""
    return resources.files("gateway").joinpath("rules_schema.json").read_text(encoding="utf-8")
