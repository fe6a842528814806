"""The residual pass's whole-document screens (gateway/residual_screen.py).

The screens may only say no when the exact per-string walk would change and count nothing: each
is checked against the per-string test it stands for, on both corpora of tests/detect, on strings
built to sit at the edges of what the screens read (JSON escapes, `+`, international prefixes,
WhatsApp markers, keypad letters, non-ASCII digits), and on random documents (Hypothesis), where
`Residual.run` must give exactly what the walk alone gives. Precision is checked too: the screens
must say no on a masked chat history, or the fast path would never be taken.
"""

from __future__ import annotations

import copy
from typing import Any

import lookalikes
import orjson
import pii_typed
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import documents
from gateway.detect import Detector
from gateway.exempt import Exempt
from gateway.known_values import KnownValues
from gateway.masks.text import mask_text
from gateway.residual_screen import screen_texts
from gateway.sentinel import Residual, SentinelSettings
from gateway.sentinel_screen import SentinelScreen
from gateway.sentinel_walk import ResidualWalk
from gateway.transform import Outcome

REGIONS = [("US", ()), ("DE", ()), ("IN", ()), ("US", ("DE", "GB")), ("US", ("BR",))]

# Strings at the edges of what the screens read; each row says why it is here.
EDGES = [
    "call 415 555\n7890",  # a number across a line break: `\n` in JSON
    "415\t555\t7890",  # tabs as separators
    'say "415 555 7890" twice',  # quotes escaped around a number
    "C:\\temp\\415 555 7890",  # backslashes before digits
    "+1 415 555 7890",  # a `+`: the national screen is off for the string
    "ISO 2024-05-01T10:00:00+00:00",  # a `+` that is no phone
    "0044 20 7946 0018",  # an international prefix
    "011 44 20 7946 0018",  # the US prefix
    "wa.me/14155557890",  # a WhatsApp link
    "5511987654321@s.whatsapp.net",  # a WhatsApp id
    "ext 415x555x7890",  # keypad letters
    "box 12x",  # `x` next to digits
    "\u0664\u0661\u0665\u0665\u0665\u0665\u0667\u0668\u0669\u0660",  # Arabic-Indic digits
    "\uff14\uff11\uff15 555 7890",  # full-width digits
    "jane\uff20example.com",  # full-width at
    "jane [at] example [dot] com",  # a disguise
    "jane (AT) example.com",  # upper case
    "jane%40example.com",  # percent-encoded
    "jane&#64;example.com",  # an entity
    "ring 4155557890",  # national, no separators
    "\x1f4155557890",  # a control character JSON writes as \u001f
    "1.0012",  # `00` after a dot
    "Order #2000123 of 2024-05-01",  # ordinary digits
    "call (415) 555-7890\uff3c",  # a full-width backslash: escapes the quote once normalised
    "call 030 12345678\uff3c",  # the same where DE reads the number
    "jane\uff02@example.com",  # a full-width quote: JSON syntax once normalised
]
NUMBERS = [4155557890, 1700000000, 1733312345, 12345678901, 900000, -4155557890]


def _corpus() -> list[str]:
    typed = [item[0] for item in pii_typed.items()]
    return [*EDGES, *typed, *lookalikes.strings()[::2]]


@pytest.mark.parametrize(("region", "text_regions"), REGIONS)
def test_the_sentinel_screen_says_yes_whenever_the_detector_finds(
    region: str, text_regions: tuple[str, ...]
) -> None:
    detector = Detector(region, text_regions)
    screen = SentinelScreen(detector)
    for text in _corpus():
        if detector.find(text):
            # as a value, as a key, inside a list
            for document in ({"v": text}, {text: 1}, [[text]]):
                texts = screen_texts(document)
                assert texts is not None
                assert screen.may_find(texts.unread), (region, text_regions, text)
    for number in NUMBERS:
        if detector.find(str(number)):
            texts = screen_texts({"n": number})
            assert texts is not None and screen.may_find(texts.unread), number


def test_exempt_strings_are_not_read_by_the_sentinel_screen() -> None:
    screen = SentinelScreen(Detector("US"))
    texts = screen_texts({"masked": Exempt("call 415 555 7890"), "plain": "ok"})
    assert texts is not None
    assert "415" in texts.full and "415" not in texts.unread
    assert not screen.may_find(texts.unread)


def test_a_document_orjson_cannot_write_is_left_to_the_walk() -> None:
    assert screen_texts({"big": 2**70}) is None


KNOWN = [
    ("phone", "+14155557890"),
    ("phone", "+4915112345678"),
    ("email", "Jane.Doe@Example.com"),
    ("name", "Li Wei"),
    ("name", "Patrick O'Brien"),
    ("name", "Jos\u00e9 \u00d1\u00fa\u00f1ez"),  # not ASCII
    ("email", "J\u00f6se@Ex\u00e4mple.com"),  # an internationalised address
]
RECURRENCES = [
    "call (415) 555-7890",
    "1-415-555-7890",
    "415.555.7890",
    "+1 415 555\n7890",
    "0151 1234 5678",
    "0049 151 12345678",
    "write to JANE.DOE@example.com",
    "jane.doe%40example.com",
    "Hi Li Wei!",
    "Li\u00a0Wei",
    "Patrick said",
    "thanks, O'Brien",
    "\nWei",
    "Wei_x",  # not a whole word: the screen may say yes, the walk changes nothing
    "Ol\u00e1 Jos\u00e9!",
    "\u00c9 o Jos\u00e9\u00e7",  # a letter of another script right after: no whole word
    "sr. \u00d1\u00fa\u00f1ez\n",
    "write J\u00d6SE@EX\u00c4MPLE.COM",
    "j\u00f6se%40ex\u00e4mple.com",
]


def test_the_known_screen_says_yes_whenever_a_known_value_recurs() -> None:
    known = KnownValues(KNOWN, "US")
    screen = known.screen()
    for text in RECURRENCES + _corpus():
        if known.mask(text) != text:
            for document in ({"v": text}, {text: None}):
                texts = screen_texts(document)
                assert texts is not None
                assert screen.may_recur(texts.full), text


@pytest.mark.parametrize(
    "status",
    [
        "delivered",
        "entregue \u2713 S\u00e3o Paulo",  # non-ASCII in a string the sentinel reads
        "\u0434\u043e\u0441\u0442\u0430\u0432\u043b\u0435\u043d\u043e",  # a long word of another script
    ],
)
def test_the_screens_say_no_on_a_masked_chat_history(status: str) -> None:
    """Precision: the fast path is what a history with nothing left takes."""
    detector = Detector("US")
    raw = documents.messages_bytes("realistic").replace(b"QZX", b"555")
    raw = raw.replace(b'"delivered"', orjson.dumps(status))
    document = orjson.loads(raw)
    known_values: list[tuple[str, str]] = []
    for message in document["payload"]:
        sender = message["sender"]
        known_values += [("phone", sender.pop("phone_number")), ("email", sender.pop("email"))]
        known_values.append(("name", sender.pop("name")))
        message["content"] = Exempt(mask_text(message["content"]))  # as a `text` rule does
    texts = screen_texts(document)
    assert texts is not None
    assert not SentinelScreen(detector).may_find(texts.unread)
    assert not KnownValues(known_values, "US").screen().may_recur(texts.full)


_FRAGMENTS = st.sampled_from(
    [
        *EDGES,
        *RECURRENCES,
        "ok",
        "delivered",
        "1700000000",
        "J*** D***",
        "****@example.com",
        "XXX-XXX-7890",
        "@mention me",
        "Order #3100003",
        "ref 0049 30 1234",
    ]
)
_SCALARS = st.one_of(
    st.builds(" ".join, st.lists(_FRAGMENTS, min_size=1, max_size=3)),
    st.builds(Exempt, _FRAGMENTS),  # what a `text` rule changed, or a whole mask output
    st.sampled_from(NUMBERS),
    st.booleans(),
    st.none(),
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(_FRAGMENTS, st.sampled_from(["id", "text"])), children, max_size=4
        ),
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("action", ["mask", "report", "off"])
@settings(max_examples=150, deadline=None)
@given(document=_DOCUMENTS, with_known=st.booleans())
def test_the_residual_pass_gives_what_the_walk_alone_gives(
    action: str, document: Any, with_known: bool
) -> None:
    detector = Detector("US", ("DE",))
    residual = Residual("r", SentinelSettings(action=action), True, detector)
    recorded = KNOWN if with_known else []
    known = KnownValues(recorded, "US") if recorded else None
    expected_tally = Outcome()
    expected = ResidualWalk(residual, known, expected_tally).value(
        copy.deepcopy(document), ("$",), action != "off"
    )
    tally = Outcome()
    got = residual.run(copy.deepcopy(document), tally, list(recorded))[0]
    assert got == expected
    assert dict(tally.findings) == dict(expected_tally.findings)
