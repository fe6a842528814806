"""JSON for bodies the gateway rewrites: orjson's speed, the standard library's exactness.

orjson turns integers beyond 64 bits into floats without a word; a rewritten body must keep the
upstream's numbers as they were, so a document with a run of 19+ digits goes through the standard
library instead. Deeply nested documents that neither can read are a `ValueError`.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Every digit to "0", so a run of 19 digits is one substring search (a regex scan costs ~10x more).
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19


def loads(data: bytes | str, *, lenient: bool = False) -> Any:
    """Parse JSON; raises ValueError (not JSON, or nested too deep to read).

    `lenient` also takes `NaN` and `Infinity`, as lenient upstream parsers do (write guard).
    """
    raw = data.encode() if isinstance(data, str) else data
    if _LONG_RUN not in raw.translate(_DIGITS_TO_ZERO):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # orjson stops at 1024 levels of nesting; the standard library decides
    try:
        return json.loads(raw, parse_constant=None if lenient else _refuse)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def dumps(document: Any) -> bytes:
    try:
        return orjson.dumps(document)
    except TypeError:  # integers beyond 64 bits, or nested deeper than orjson writes
        pass
    try:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")
