"""The residual pass (SPEC 3.9): known values, then the residual-PII sentinel, after the rules.

One `Residual` is built per route policy (masked role) at load; `run` first asks the
whole-document screens (`gateway.residual_screen`) whether anything can change, and only then walks
every string of the document once (`gateway.sentinel_walk`; object keys included, and numbers of
seven digits or more):

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

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from gateway.detect import Detector, national_digits
from gateway.jsonpath_plan import Selector
from gateway.known_values import KnownValues
from gateway.residual_screen import screen_texts
from gateway.route_match import PathTemplate
from gateway.sentinel_screen import SentinelScreen
from gateway.sentinel_walk import Held, ResidualPII, ResidualWalk
from gateway.transform import Outcome

__all__ = ["ACTIONS", "KINDS", "Residual", "ResidualPII", "ResidualPlan", "SentinelSettings"]

ACTIONS: Final = ("mask", "block", "report", "off")
KINDS: Final = ("phone", "email")


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

    def run(
        self, document: Any, tally: Outcome, recorded: list[tuple[str, str]]
    ) -> tuple[Any, bytes | None]:
        """`document` after known values and the sentinel (raises `ResidualPII` for `block`),
        and its JSON when the screens wrote it and nothing changed after (the response body,
        serialised once; None otherwise)."""
        known = KnownValues(recorded, self.region) if self.known_values and recorded else None
        if known is not None and not known:
            known = None
        if known is None and self.action == "off":
            return document, None
        texts = screen_texts(document)
        if texts is not None:
            # PII: both screens are supersets of the walk's per-string tests
            # (gateway/residual_screen.py): a no means the walk would change and count nothing.
            if known is not None and not known.screen().may_recur(texts.full):
                known = None
            if known is None and (self.action == "off" or not self.screen.may_find(texts.unread)):
                return document, texts.body
        for selector in self.reveals:
            document, _ = selector.transform(document, lambda v: Held(v, True))
        if self.action != "off":
            for selector in self.settings.ignore:
                document, _ = selector.transform(document, lambda v: Held(v, False))
        walk = ResidualWalk(self, known, tally)
        return walk.value(document, ("$",), self.action != "off"), None


_SCREENS: dict[tuple[str, tuple[str, ...]], SentinelScreen] = {}


def _sentinel_screen(detector: Detector) -> SentinelScreen:
    """One whole-document screen per detector configuration (its patterns compile once)."""
    key = (detector.default_region, detector.text_regions)
    screen = _SCREENS.get(key)
    if screen is None:
        screen = _SCREENS[key] = SentinelScreen(detector)
    return screen
