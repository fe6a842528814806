"""Counterexamples to the residual pass's whole-document screens (gateway/residual_screen.py).

Each row is a document an upstream can send where a screen says no although the exact walk
(`gateway.sentinel_walk.ResidualWalk`) masks something: the fast path returns the PII as it is. Every row
failed when written (branch mask2 at f657f92); the screens must say yes on all of them.

A small Hypothesis property follows: random documents of adversarial fragments (JSON escapes,
non-ASCII digits and separators, international prefixes, name words with punctuation) where
`Residual.run` must give exactly what the walk alone gives, for several regions.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.detect import Detector
from gateway.exempt import Exempt
from gateway.known_values import KnownValues
from gateway.residual_screen import screen_texts
from gateway.sentinel import Residual, SentinelSettings
from gateway.sentinel_screen import SentinelScreen
from gateway.sentinel_walk import ResidualWalk
from gateway.transform import Outcome

Recorded = list[tuple[str, str]]

# (default region, text_regions, document): the sentinel's walk masks a phone, the screen says no.
SENTINEL_LEAKS: list[tuple[str, tuple[str, ...], Any]] = [
    # `00` + Iran's 4-digit +98 9601: 8 digits, under MX's screen floor (10), which is applied
    # before the international-prefix test (sentinel_screen.py:112 then :120).
    ("MX", (), {"v": "call 00989601"}),
    # The same with Niue's +683 7012.
    ("MX", (), {"v": "006837012"}),
    # The same as an object key.
    ("MX", (), {"00989601": "k"}),
    # Arabic-Indic digits (NFKC keeps them): a non-ASCII run is dropped by the same floor.
    ("MX", (), {"v": "\u0660\u0660\u0669\u0668\u0669\u0666\u0660\u0661"}),
    # FR's screen floor is 9: the same 8-digit international number.
    ("FR", (), {"v": "00989601"}),
    # A non-ASCII document is read from its NFKC form with JSON escapes turned into spaces
    # (sentinel_screen.py:85): `\t\n\t` becomes 6 spaces, wider than the matcher's 4-character
    # gap, while the walk reads it as a 3-space line break joining `415 555` and `7890`.
    ("US", (), {"v": "Caf\u00e9: 415 555\t\n\t7890"}),
    # The same nested, with `\t\t\n`.
    ("US", (), {"v": ["x", {"k": "\u00e9 415 555\t\t\n7890"}]}),
    # The same as a key, with `\r\n\t`.
    ("US", (), {"\u00e9 415 555\r\n\t7890": 1}),
    # ASCII, default US: a line break after `00` (the walk joins it: `00 683 7012` read as
    # `+683 7012`); `spaced` writes `\n` as two spaces, a run `00--6837012`, and `_IDD_IN_RUN`
    # allows one separator only (sentinel_screen.py:26), so the prefix is not seen and the US
    # screen rules the digits out.
    ("US", (), {"v": "00\n6837012"}),
    # The same with a grouped number (+98 9601).
    ("US", (), {"v": "call 00\n98 9601"}),
    # The same with a whole Rome number (+39 06 1234 5678): its digits fit no US pattern.
    ("US", (), {"v": "Tel: 00\n39 06 1234 5678"}),
    # The same with `011` read from GB.
    ("GB", (), {"v": "011\n6837012"}),
]

# (recorded values, document): known values mask a recurrence, the known screen says no.
KNOWN_LEAKS: list[tuple[Recorded, Any]] = [
    # One recorded name `Mary-Jo Li`: its words are `Mary` and, as the first word of a name
    # with a short word, `Mary-Jo`. The alternation tries `Mary-Jo` first at `Mary-Joan`, no
    # whole word, and skips past the whole word `Mary` the walk masks (`Hi M***-Joan!`).
    ([("name", "Mary-Jo Li")], {"v": "Hi Mary-Joan!"}),
    # Name words are searched with one alternation, longest first, non-overlapping
    # (known_screen.py:117-119): `Mary-Jo` (the first word of a name with a short word) matches
    # at `xMary-Jo`, is no whole word, and hides the whole word `Jo` of the name `Jo Li`.
    ([("name", "Mary-Jo Li"), ("name", "Jo Li")], {"v": "xMary-Jo Li"}),
    # A name's first word holding a quote: JSON writes `\"Bo\"`, the screen looks for `"Bo"`
    # (only addresses are checked for JSON-escaped characters, known_screen.py:37).
    ([("name", '"Bo" Li')], {"v": 'say "Bo" Li'}),
    # The same with a backslash (`\\` in JSON).
    ([("name", "Li\\Bo Wu")], {"v": "Li\\Bo Wu"}),
]


def _walk_and_run(
    residual: Residual, document: Any, recorded: Recorded
) -> tuple[Any, dict[Any, int], Any, dict[Any, int]]:
    region = residual.detector.default_region
    known = KnownValues(recorded, region) if recorded else None
    if known is not None and not known:
        known = None
    expected_tally = Outcome()
    scan = residual.action != "off"
    expected = ResidualWalk(residual, known, expected_tally).value(
        copy.deepcopy(document), ("$",), scan
    )
    tally = Outcome()
    got = residual.run(copy.deepcopy(document), tally, list(recorded))[0]
    return expected, dict(expected_tally.findings), got, dict(tally.findings)


@pytest.mark.parametrize(("region", "text_regions", "document"), SENTINEL_LEAKS)
def test_the_sentinel_screen_says_yes_where_the_walk_masks(
    region: str, text_regions: tuple[str, ...], document: Any
) -> None:
    detector = Detector(region, text_regions)
    residual = Residual("r", SentinelSettings(action="mask"), True, detector)
    expected, expected_tally, got, tally = _walk_and_run(residual, document, [])
    assert expected != document  # the walk masks a phone here
    texts = screen_texts(document)
    assert texts is not None
    assert SentinelScreen(detector).may_find(texts.unread)
    assert (got, tally) == (expected, expected_tally)


@pytest.mark.parametrize(("recorded", "document"), KNOWN_LEAKS)
@pytest.mark.parametrize("action", ["off", "mask"])
def test_the_known_screen_says_yes_where_a_known_value_recurs(
    recorded: Recorded, document: Any, action: str
) -> None:
    residual = Residual("r", SentinelSettings(action=action), True, Detector("US"))
    expected, expected_tally, got, tally = _walk_and_run(residual, document, recorded)
    assert expected != document  # known values mask a recurrence here
    texts = screen_texts(document)
    assert texts is not None
    assert KnownValues(recorded, "US").screen().may_recur(texts.full)
    assert (got, tally) == (expected, expected_tally)


# Adversarial pieces of strings: numbers at the screens' floors, escapes, look-alike characters.
_PIECES = [
    "415 555 7890",
    "+1 415 555 7890",
    "030 12345678",
    "0049 30 12345678",
    "98765 43210",
    "020 7946 0018",
    "0412 345 678",
    "55 1234 5678",
    "+55 11 8765-4321",
    "00989601",
    "006837012",
    "wa.me/14155557890",
    "5511987654321@s.whatsapp.net",
    "jane [at] example [dot] com",
    "jane%40example.com",
    "jane&#64;example.com",
    "jane\uff20example.com",
    "\uff14\uff11\uff15 555 7890",
    "\u0660\u0660\u0669\u0668\u0669\u0666\u0660\u0661",
    "415\u200b555\u200b7890",
    "415\u00a0555\u00a07890",
    "ext 415x555x7890",
    "Caf\u00e9",
    "Mary-Jo Li",
    "xMary-Jo Li",
    "Jo Li",
    '"Bo" Li',
    "Mary-Joan",
    "00\n6837012",
    "1700000000",
    "XXX-XXX-7890",
    "****@example.com",
    "ok",
]
_GLUE = ["", " ", "\n", "\t\n\t", "\r\n\t", "\x01", "\\", '"', "\u00e9 ", "\u2028", "-"]
_STRINGS = st.builds(
    lambda pieces, glue: glue.join(pieces),
    st.lists(st.sampled_from(_PIECES), min_size=1, max_size=3),
    st.sampled_from(_GLUE),
)
_SCALARS = st.one_of(
    _STRINGS,
    st.builds(Exempt, _STRINGS),
    st.sampled_from([4155557890, -4155557890, 3012345678, 989601, 12345678901]),
    st.none(),
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(_STRINGS, st.just("id")), children, max_size=3),
    ),
    max_leaves=6,
)
_RECORDED = st.lists(
    st.sampled_from(
        [
            ("phone", "+14155557890"),
            ("phone", "+4930123456789"),
            ("email", "jane@example.com"),
            ("name", "Mary-Jo Li"),
            ("name", "Jo Li"),
            ("name", '"Bo" Li'),
        ]
    ),
    max_size=3,
)
_REGIONS: list[tuple[str, tuple[str, ...]]] = [
    ("US", ()),
    ("DE", ()),
    ("IN", ()),
    ("GB", ()),
    ("AU", ()),
    ("MX", ()),
    ("US", ("BR",)),
]


@settings(max_examples=300, deadline=None)
@given(
    region=st.sampled_from(_REGIONS),
    document=_DOCUMENTS,
    recorded=_RECORDED,
    action=st.sampled_from(["mask", "report", "off"]),
)
def test_adversarial_documents_get_what_the_walk_alone_gives(
    region: tuple[str, tuple[str, ...]], document: Any, recorded: Recorded, action: str
) -> None:
    residual = Residual("r", SentinelSettings(action=action), True, Detector(*region))
    expected, expected_tally, got, tally = _walk_and_run(residual, document, recorded)
    assert (got, tally) == (expected, expected_tally)
