"""The residual pass (SPEC 3.9): known values, then the residual-PII sentinel, after the rules.

One `Residual` is built per route policy (masked role) at load; `run` walks every string of the
document once (object keys included, and numbers of seven digits or more):

1. known values (`gateway.known_values`), compiled for this document only when a rule masked one;
2. the sentinel: the text detector (`Detector.glance`, then `find`) on what is left; each finding
   is masked in place (`mask`), fails the document closed (`block`: `ResidualPII`), or is only
   counted and logged (`report`).

Never findings: mask outputs (`XXX-XXX-7890`, `****@example.com`), the gateway's own stamps
(`omni_...`, `h_...`), `allow`ed values, values under `ignore` selectors (known values still apply
there), and values at paths a rule of the route selects for other roles only (a deliberate reveal
for this role, which known values leave alone too).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from gateway.detect import EMAIL, Detector, Finding, national_digits
from gateway.exempt import Exempt, is_email_output, is_phone_output
from gateway.identity.clusters import is_omni_id
from gateway.jsonpath_plan import Selector
from gateway.known_values import KnownValues
from gateway.masks.email import LOCAL_PART
from gateway.masks.phone import PREFIX
from gateway.masks.text import masked_findings
from gateway.residual_screen import screen_texts
from gateway.route_match import PathTemplate
from gateway.sentinel_screen import SentinelScreen
from gateway.transform import Outcome, TransformFailed

ACTIONS: Final = ("mask", "block", "report", "off")
KINDS: Final = ("phone", "email")
LOG_EVERY: Final = 60.0  # seconds between two log lines of one (route, path pattern)
_HASH_OUTPUT: Final = re.compile(r"h_[0-9a-f]{16}")
_BIG_NUMBER: Final = 1_000_000  # numbers below seven digits are never phones
log = logging.getLogger("omnigate")
_LOGGED: dict[tuple[str, str, str], float] = {}  # (route, pattern, kind) -> when last logged


class ResidualPII(TransformFailed):
    """The sentinel found PII and its action is `block` (fail closed, reason `residual_pii`)."""


@dataclass(frozen=True)
class SentinelSettings:
    """`sentinel:` at top level or on a route (SPEC 3.9), compiled."""

    action: str = "mask"
    allow: frozenset[str] = frozenset()  # phones as national digits, emails lower-cased
    ignore: tuple[Selector, ...] = ()


def allowed_values(values: Iterable[str], region: str) -> frozenset[str]:
    """`allow:` entries in the form findings carry (`Finding.value`)."""
    out: set[str] = set()
    for value in values:
        text = value.strip()
        if "@" in text:
            out.add(text.lower())
        else:
            out.add(national_digits(text, region) or re.sub(r"\D", "", text))
    return frozenset(out)


@dataclass(frozen=True)
class ResidualPlan:
    """The rule set's top-level settings: what each route policy's `Residual` is built from."""

    settings: SentinelSettings
    known_values: bool
    detector: Detector
    protect: tuple[PathTemplate, ...] = ()

    def protects(self, path: str) -> bool:
        return any(template.matches(None, path) for template in self.protect)

    def residual(
        self,
        route: str,
        settings: SentinelSettings | None,
        known_values: bool | None,
        reveals: tuple[Selector, ...],
    ) -> Residual:
        return Residual(
            route,
            self.settings if settings is None else settings,
            self.known_values if known_values is None else known_values,
            self.detector,
            reveals,
        )


class _Held:
    """A value the walk must treat specially, put in place by a selector and taken out by it."""

    __slots__ = ("reveal", "value")

    def __init__(self, value: Any, reveal: bool) -> None:
        self.value = value
        self.reveal = reveal  # True: left alone entirely; False: skipped by the sentinel only


class Residual:
    """Known values and the sentinel for one route policy and masked role."""

    __slots__ = (
        "action",
        "detector",
        "known_values",
        "region",
        "reveals",
        "route",
        "screen",
        "settings",
    )

    def __init__(
        self,
        route: str,
        settings: SentinelSettings,
        known_values: bool,
        detector: Detector,
        reveals: tuple[Selector, ...] = (),
    ) -> None:
        self.route = route
        self.settings = settings
        self.action = settings.action
        self.known_values = known_values
        self.detector = detector
        self.region = detector.default_region
        self.reveals = reveals
        self.screen = _sentinel_screen(detector)

    @property
    def active(self) -> bool:
        return self.known_values or self.action != "off"

    def scans_like(self, detector: Detector) -> bool:
        """Whether a `text` mask reading with `detector` finds what the sentinel would."""
        mine = self.detector
        return self.action != "off" and (detector.default_region, detector.text_regions) == (
            mine.default_region,
            mine.text_regions,
        )

    def run(self, document: Any, tally: Outcome, recorded: list[tuple[str, str]]) -> Any:
        """`document` after known values and the sentinel; raises `ResidualPII` for `block`."""
        known = KnownValues(recorded, self.region) if self.known_values and recorded else None
        if known is not None and not known:
            known = None
        if known is None and self.action == "off":
            return document
        texts = screen_texts(document)
        if texts is not None:
            # PII: both screens are supersets of the walk's per-string tests
            # (gateway/residual_screen.py): a no means the walk would change and count nothing.
            if known is not None and not known.screen().may_recur(texts.full):
                known = None
            if known is None and (self.action == "off" or not self.screen.may_find(texts.unread)):
                return document
        for selector in self.reveals:
            document, _ = selector.transform(document, lambda v: _Held(v, True))
        if self.action != "off":
            for selector in self.settings.ignore:
                document, _ = selector.transform(document, lambda v: _Held(v, False))
        walk = _Walk(self, known, tally)
        return walk.value(document, ("$",), self.action != "off")


class _Walk:
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
                if isinstance(item, str | dict | list | _Held) or _big(item):
                    node[index] = self.value(item, (*path, "[*]"), scan)
            return node
        if isinstance(node, _Held):
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
            if isinstance(item, str | dict | list | _Held) or _big(item):
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


_SCREENS: dict[tuple[str, tuple[str, ...]], SentinelScreen] = {}


def _sentinel_screen(detector: Detector) -> SentinelScreen:
    """One whole-document screen per detector configuration (its patterns compile once)."""
    key = (detector.default_region, detector.text_regions)
    screen = _SCREENS.get(key)
    if screen is None:
        screen = _SCREENS[key] = SentinelScreen(detector)
    return screen
