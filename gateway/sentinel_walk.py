"""The residual pass's walk (SPEC 3.9): every string of a document, once, after the rules.

`ResidualWalk.value(document, ("$",), scan)` applies known values to every string (object keys
included, and numbers of seven digits or more), then, where `scan`, the sentinel's detector
(`Detector.glance`, then `find`): each finding is masked in place (`mask`), fails the document
closed (`block`: `ResidualPII`), or is only counted and logged (`report`). `gateway.sentinel`
runs it only when the whole-document screens say something may change.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any, Final

from gateway.detect import EMAIL, Finding
from gateway.exempt import Exempt, is_email_output, is_phone_output
from gateway.identity.clusters import is_omni_id
from gateway.known_values import KnownValues
from gateway.masks.email import LOCAL_PART
from gateway.masks.phone import PREFIX
from gateway.masks.text import masked_findings
from gateway.transform import Outcome, TransformFailed

if TYPE_CHECKING:
    from gateway.sentinel import Residual

LOG_EVERY: Final = 60.0  # seconds between two log lines of one (route, path pattern)
_HASH_OUTPUT: Final = re.compile(r"h_[0-9a-f]{16}")
_BIG_NUMBER: Final = 1_000_000  # numbers below seven digits are never phones
log = logging.getLogger("omnigate")
_LOGGED: dict[tuple[str, str, str], float] = {}  # (route, pattern, kind) -> when last logged


class ResidualPII(TransformFailed):
    """The sentinel found PII and its action is `block` (fail closed, reason `residual_pii`)."""


class Held:
    """A value the walk must treat specially, put in place by a selector (`reveals`, `ignore`)
    and taken out by the walk."""

    __slots__ = ("reveal", "value")

    def __init__(self, value: Any, reveal: bool) -> None:
        self.value = value
        self.reveal = reveal  # True: left alone entirely; False: skipped by the sentinel only


class ResidualWalk:
    """One walk of a document: known values on every string, then the sentinel's detector."""

    __slots__ = ("known", "plain_keys", "residual", "tally")

    def __init__(self, residual: Residual, known: KnownValues | None, tally: Outcome) -> None:
        self.plain_keys: set[str] = set()  # keys that hold nothing, whatever the path
        self.residual = residual
        self.known = known
        self.tally = tally

    def value(self, node: Any, path: tuple[str, ...], scan: bool) -> Any:
        if isinstance(node, str):
            return self.text(node, path, scan)
        if isinstance(node, dict):
            return self.object(node, path, scan)
        if isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str | dict | list | Held) or _big(item):
                    node[index] = self.value(item, (*path, "[*]"), scan)
            return node
        if isinstance(node, Held):
            if node.reveal:
                return node.value
            return self.value(node.value, path, False)
        if scan and _big(node):
            text = str(node)
            masked = self.text(text, path, scan)
            return node if masked == text else masked
        return node

    def object(self, node: dict[Any, Any], path: tuple[str, ...], scan: bool) -> dict[Any, Any]:
        renamed = False
        plain_keys = self.plain_keys
        for key, item in node.items():
            if isinstance(item, str | dict | list | Held) or _big(item):
                node[key] = self.value(item, (*path, str(key)), scan)
            if isinstance(key, str) and key not in plain_keys:
                if self.text(key, (*path, "<key>"), scan) is not key:
                    renamed = True
                elif scan:
                    plain_keys.add(key)  # keys repeat across objects: read once a document
        return self._renamed(node, path, scan) if renamed else node

    def _renamed(self, node: dict[Any, Any], path: tuple[str, ...], scan: bool) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, item in node.items():
            # Counted once already (the first pass); this pass only writes the masked keys.
            out[self.text(key, path, scan, count=False) if isinstance(key, str) else key] = item
        return out

    def text(self, text: str, path: tuple[str, ...], scan: bool, count: bool = True) -> str:
        # PII: skipped only when a same-detector `text` rule returned this string, or it is a
        # whole email or phone mask output (`Exempt`, put there by the rules of this call);
        # known values below bring in mask outputs only, never a phone or an email.
        if scan and type(text) is Exempt:
            scan = False
        known = self.known
        if known is not None:
            text = known.mask(text)
        if not scan:
            return text
        residual = self.residual
        detector = residual.detector
        if not detector.glance(text) or _is_stamp(text) or is_email_output(text):
            return text
        findings = [
            f for f in detector.find(text) if not _not_a_finding(text, f, residual.settings.allow)
        ]
        if not findings:
            return text
        if count:
            self.count(findings, path)
        if residual.action == "block":
            raise ResidualPII("residual PII in the response")
        if residual.action == "mask":
            return masked_findings(text, findings)
        return text

    def count(self, findings: list[Finding], path: tuple[str, ...]) -> None:
        residual = self.residual
        route, action = residual.route, residual.action
        for finding in findings:
            self.tally.findings[(route, finding.kind, action)] += 1
        pattern = "".join(_step(part) for part in path)
        now = time.monotonic()
        for kind in {finding.kind for finding in findings}:
            key = (route, pattern, kind)
            if now - _LOGGED.get(key, -LOG_EVERY) >= LOG_EVERY:
                if len(_LOGGED) > 4096:
                    _LOGGED.clear()
                _LOGGED[key] = now
                # PII: the route, the path pattern and the kind; never the value.
                log.warning(
                    "sentinel: residual %s at %s on route %s (action %s)",
                    kind,
                    pattern,
                    route,
                    action,
                )


def _step(part: str) -> str:
    if part in ("$", "[*]"):
        return part
    if part == "<key>":
        return ".<key>"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
        return "." + part
    return "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"


def _big(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _BIG_NUMBER


def _is_stamp(text: str) -> bool:
    """The gateway's own outputs: stamps, hashes and whole phone masks (whose only digits are
    the four a finding after `XXX-XXX-` is never counted for)."""
    return is_omni_id(text) or _HASH_OUTPUT.fullmatch(text) is not None or is_phone_output(text)


def _not_a_finding(text: str, finding: Finding, allow: frozenset[str]) -> bool:
    """Mask outputs and allowed values are not PII."""
    if finding.kind == EMAIL:
        if text.startswith(LOCAL_PART, finding.start):
            return True
        return finding.value.lower() in allow
    start = finding.start
    if finding.end - start == 4 and text.startswith(PREFIX, start - len(PREFIX)):
        return True
    return finding.value in allow
