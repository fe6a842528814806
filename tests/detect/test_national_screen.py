"""The national screen never rules out a run the matcher would find a number in."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import Leniency, PhoneNumberMatcher

from gateway.detect.national_screen import RUN_BYTES, candidate_runs, national_screen

REGIONS = ("US", "GB", "DE", "IN", "BR", "FR", "JP", "NG", "MX", "AU", "CA", "IT")

runs = st.lists(
    st.tuples(
        st.text("0123456789", min_size=1, max_size=6),
        st.sampled_from(["", " ", "-", ".", " - ", "/", "("]),
    ),
    min_size=1,
    max_size=5,
).map(lambda parts: "".join(digits + sep for digits, sep in parts).strip())


@settings(derandomize=True, database=None, max_examples=3000, deadline=None)
@given(runs, st.sampled_from(REGIONS))
def test_a_ruled_out_run_holds_no_number_the_matcher_finds(run: str, region: str) -> None:
    screen = national_screen(region)
    assert screen is not None
    if screen.rules_out(run):
        assert list(PhoneNumberMatcher(run, region, leniency=Leniency.VALID)) == [], run


@pytest.mark.parametrize(
    ("region", "run", "ruled_out"),
    [
        ("US", "2000123", True),  # 7 digits: only Canada's UAN 310xxxx has 7
        ("US", "3450003", True),  # Canada's general pattern takes 3xxxxxx, no number type does
        ("US", "3100003", False),  # Canada's UAN
        ("US", "2115550199", True),  # N11 is no area code of any +1 number type
        ("US", "100234 (011 49 30 123456)", False),  # the prefix starts an inner group
        ("US", "2024-05-01", True),  # 8 digits: no North American length
        ("US", "415 555 7890", False),  # a real number is never ruled out
        ("US", "011 44 20 7946 0958", False),  # the international prefix: the matcher decides
        ("US", "1x2x3x4x5x6x7", False),  # keypad letters: never ruled out
        ("DE", "030 123456", False),
        ("IN", "12345", True),  # under every Indian length
        ("BR", "(11) 98765-4321", False),
    ],
)
def test_screen_rows(region: str, run: str, ruled_out: bool) -> None:
    screen = national_screen(region)
    assert screen is not None
    assert screen.rules_out(run) is ruled_out


def test_regions_whose_transform_adds_digits_are_not_screened() -> None:
    assert national_screen("AG") is None  # `268\1`: the NSN is not a stretch of the run


def _kept_piece_by_piece(raw: bytes, floor: int) -> set[bytes]:
    """What the whole-document screens kept before `candidate_runs` (each piece tested)."""

    def opens_with_prefix(run: bytes) -> bool:
        return run[:2] == b"00" or run[:3] == b"011" or b"-00" in run or b"-011" in run

    out = {
        run.lstrip(b"x-").rstrip(b"-")
        for run in raw.translate(RUN_BYTES).replace(b" -", b" ").split()
        if len(run) >= floor or b"x" in run or opens_with_prefix(run)
    }
    out.discard(b"")
    return out


document_texts = st.text(st.sampled_from([*"0123456789xX -.()/:,\"'ab\n", "é", "٣"]), max_size=80)


@settings(derandomize=True, database=None, max_examples=3000, deadline=None)
@given(document_texts, st.integers(min_value=3, max_value=12))
def test_candidate_runs_keep_every_run_the_piece_by_piece_test_kept(text: str, floor: int) -> None:
    # PII: a run missing here is a run the sentinel's screen would never read.
    raw = text.encode("utf-8")
    assert _kept_piece_by_piece(raw, floor) <= candidate_runs(raw, floor), text
