"""The two corpora of issue 11: PII as people type it (all found) and look-alikes (none found).

The rates for other default regions are pinned as ceilings and documented in docs/masking.md.
"""

from __future__ import annotations

import lookalikes
import pii_typed
import pytest

from gateway.detect import Detector, Finding

PII = pii_typed.items()
LOOKALIKES = lookalikes.strings()


def _covered(text: str, pii: str, findings: list[Finding]) -> bool:
    start = text.index(pii)
    end = start + len(pii)
    return any(f.start <= start and end <= f.end for f in findings)


def test_every_typed_pii_item_is_found() -> None:
    detectors: dict[tuple[str, ...], Detector] = {}
    missed = []
    for text, pii, regions in PII:
        detector = detectors.setdefault(regions, Detector("US", regions))
        if not _covered(text, pii, detector.find(text)):
            missed.append((text, regions))
    assert missed == []
    assert len(PII) > 1000  # not vacuous


def test_the_lookalike_corpus_is_large_and_varied() -> None:
    assert len(LOOKALIKES) >= 10_000
    assert len(set(LOOKALIKES)) >= 9_000


def test_no_lookalike_is_found_with_default_region_us() -> None:
    detector = Detector("US")
    found = [text for text in LOOKALIKES if detector.find(text)]
    assert found == []


# Rates measured for docs/masking.md; the ceilings catch a detector that drifts worse.
@pytest.mark.parametrize(("region", "ceiling"), [("DE", 103), ("IN", 165), ("BR", 200)])
def test_lookalike_rates_for_other_regions(region: str, ceiling: int) -> None:
    detector = Detector(region)
    found = sum(1 for text in LOOKALIKES if detector.find(text))
    assert found <= ceiling  # of 13,520 strings: DE 0.76 %, IN 1.22 %, BR 1.48 %
