"""The write-back guard (SPEC 3.5): a masked value sent back must never overwrite the real one.

Pure functions over a parsed JSON request body.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.masks import is_mask_output

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def find_masked_values(doc: Any) -> list[str]:
    """JSON paths (`$.payload.phone`, `$.items[2]`) of strings that are whole mask outputs."""
    found: list[str] = []
    _walk(doc, "$", found)
    return found


def _walk(node: Any, path: str, found: list[str]) -> None:
    if isinstance(node, str):
        if is_mask_output(node):
            found.append(path)
    elif isinstance(node, dict):
        for key, value in node.items():
            _walk(value, _child(path, key), found)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _walk(value, f"{path}[{index}]", found)


def _child(path: str, key: str) -> str:
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def strip_masked_values(doc: Any) -> Any:
    """`doc` without the fields (or array elements) that hold whole mask outputs."""
    if isinstance(doc, dict):
        return {
            k: strip_masked_values(v)
            for k, v in doc.items()
            if not (isinstance(v, str) and is_mask_output(v))
        }
    if isinstance(doc, list):
        return [
            strip_masked_values(v) for v in doc if not (isinstance(v, str) and is_mask_output(v))
        ]
    return doc
