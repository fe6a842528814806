"""The `partial` mask: keep first / last characters, replace the rest (SPEC 3.3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import ConfigError
from gateway.masks import MaskContext, compile_mask

CTX = MaskContext()


def partial(**options: Any) -> Any:
    return compile_mask({"type": "partial", **options}, CTX)


@pytest.mark.parametrize(
    ("options", "value", "expected"),
    [
        ({}, "+1 (415) 555-7890", "+* (***) ***-7890"),  # defaults: last 4, layout kept
        ({}, "4111111111111111", "************1111"),  # a card number
        ({"keep_last": 2}, "555-78 90", "***-** 90"),  # SPEC's rule example option
        ({}, "555-78 90", "***-78 90"),  # layout characters do not count as kept
        ({"keep_first": 1, "keep_last": 1}, "Jane", "J**e"),  # both ends
        ({"keep_last": 0, "char": "#"}, "ab-cd", "##-##"),  # other char, nothing kept
        ({"keep_chars": ""}, "a b c d e", "***** d e"),  # no layout: spaces are content
        ({}, "jane@example.com", "****@******e.com"),  # @ and . are layout by default
        ({}, "1234", "****"),  # would all be kept: decided, a partial hides everything then
        ({"keep_first": 3, "keep_last": 3}, "abcde", "*****"),  # likewise
        ({}, 14155557890, "*******7890"),  # a number: its decimal string
        ({}, "Ünal Çelik", "**** *elik"),  # unicode characters count one each
    ],
)
def test_partial_outputs(options: dict[str, Any], value: Any, expected: str) -> None:
    assert partial(**options)(value) == expected


@pytest.mark.parametrize("value", [None, "", "   ", "()-"])  # nothing maskable: unchanged
def test_partial_leaves_values_without_content_alone(value: Any) -> None:
    assert partial()(value) is value


@pytest.mark.parametrize("value", [True, {"a": "b"}, ["a"]])
def test_partial_of_an_unhandled_type_is_redacted(value: Any) -> None:
    assert partial()(value) == "****"


@pytest.mark.parametrize(
    ("options", "bad_key", "phrase"),
    [
        ({"keep_last": -1}, "keep_last", "non-negative integer"),  # negative
        ({"keep_first": 1.5}, "keep_first", "non-negative integer"),  # float
        ({"keep_first": True}, "keep_first", "non-negative integer"),  # bool is not a count
        ({"keep_last": "4"}, "keep_last", "non-negative integer"),  # string
        ({"char": ""}, "char", "exactly one character"),  # empty
        ({"char": "**"}, "char", "exactly one character"),  # two characters
        ({"char": 1}, "char", "must be a string"),  # not a string
        ({"keep_chars": ["-"]}, "keep_chars", "must be a string"),  # a list
        ({"keep": 4}, "keep", "no option 'keep'"),  # unknown option
    ],
)
def test_partial_rejects_bad_options(options: dict[str, Any], bad_key: str, phrase: str) -> None:
    with pytest.raises(ConfigError) as caught:
        compile_mask({"type": "partial", **options}, CTX, ("routes", 0, "response", 0, "mask"))
    assert caught.value.key_path == ("routes", 0, "response", 0, "mask", bad_key)
    assert phrase in caught.value.message
    assert "partial" in caught.value.message


@settings(derandomize=True, database=None)
@given(
    st.text(min_size=1, max_size=40),
    st.integers(min_value=0, max_value=6),
    st.integers(min_value=0, max_value=6),
)
def test_partial_shows_at_most_what_it_keeps(value: str, first: int, last: int) -> None:
    layout = " -()+.@"
    masked = partial(keep_first=first, keep_last=last)(value)
    content = [i for i, ch in enumerate(value) if ch not in layout]
    if not content:
        assert masked is value
        return
    assert len(masked) == len(value)
    shown = [i for i in content if masked[i] == value[i] and value[i] != "*"]
    assert len(shown) <= first + last
    assert len(shown) < len(content) or all(value[i] == "*" for i in content)
    assert all(masked[i] == value[i] for i, ch in enumerate(value) if ch in layout)
