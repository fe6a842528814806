"""The path the access log writes (SPEC 3.10): never a request path's PII.

Where a route matched, its template (`/api/v1/accounts/{account_id}/contacts/{id}`, the first
matching route in file order); otherwise the path with every segment that the text detector
flags, or that holds a digit run of seven or more, replaced by `{redacted}`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote

from gateway.detect import Detector

if TYPE_CHECKING:
    from gateway.rules_plan import Plan

REDACTED: Final = "{redacted}"
_LONG_DIGITS: Final = re.compile(r"\d{7,}")


def log_path(plan: Plan | None, path: str) -> str:
    """What the access log says for a request to `path` under `plan`."""
    template = None if plan is None else plan.first_template(path)
    if template is not None:
        return template
    residual = None if plan is None else plan.residual
    detector = residual.detector if residual is not None else _default_detector()
    segments = path.split("/")
    changed = False
    for index, segment in enumerate(segments):
        if not segment:
            continue
        text = unquote(segment, errors="replace")
        if _LONG_DIGITS.search(text) or (detector.glance(text) and detector.find(text)):
            segments[index] = REDACTED
            changed = True
    return "/".join(segments) if changed else path


@cache
def _default_detector() -> Detector:
    """For a request refused before any plan was read (none loaded yet)."""
    return Detector("US")
