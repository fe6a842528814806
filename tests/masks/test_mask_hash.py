"""The `hash` mask: `h_` + 16 hex digits of HMAC-SHA256(hash key, value) (SPEC 3.3)."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import ConfigError
from gateway.masks import MaskContext, compile_mask

KEY = b"test-hash-key"
HASH = compile_mask("hash", MaskContext(hash_key=KEY))


def reference(text: str) -> str:
    return "h_" + hmac.new(KEY, text.encode(), hashlib.sha256).hexdigest()[:16]


@pytest.mark.parametrize(
    ("value", "clear"),
    [
        ("jane@example.com", "jane@example.com"),  # a string
        ("Ünal Çelik", "Ünal Çelik"),  # UTF-8 bytes are hashed
        (14155557890, "14155557890"),  # a number: its decimal string
        (14155557890.0, "14155557890"),  # the same number written as a float: same pseudonym
        (2.5, "2.5"),  # a fraction
    ],
)
def test_hash_is_the_hmac_of_the_decimal_or_string_value(value: Any, clear: str) -> None:
    assert HASH(value) == reference(clear)


def test_hash_known_answer() -> None:
    # Pinned so a change in encoding or truncation cannot slip through.
    assert HASH("+14155557890") == reference("+14155557890")
    assert re.fullmatch(r"h_[0-9a-f]{16}", HASH("+14155557890"))


@pytest.mark.parametrize("value", [None, "", "  "])  # null stays null; blank holds nothing
def test_hash_leaves_null_and_blank_alone(value: Any) -> None:
    assert HASH(value) is value


@pytest.mark.parametrize("value", [True, {"a": 1}, [1]])
def test_hash_of_an_unhandled_type_is_redacted(value: Any) -> None:
    assert HASH(value) == "****"


def test_hash_depends_on_the_key() -> None:
    other = compile_mask("hash", MaskContext(hash_key=b"another-key"))
    assert other("jane@example.com") != HASH("jane@example.com")


@pytest.mark.parametrize("key", [None, b""])
def test_hash_without_a_key_is_a_config_error(key: bytes | None) -> None:
    with pytest.raises(ConfigError) as caught:
        compile_mask("hash", MaskContext(hash_key=key), ("routes", 0, "response", 1, "mask"))
    assert caught.value.key_path == ("routes", 0, "response", 1, "mask")
    assert "hash_key_env" in caught.value.message


def test_context_repr_hides_the_key() -> None:
    assert "test-hash-key" not in repr(MaskContext(hash_key=KEY))


@settings(derandomize=True, database=None)
@given(st.text(min_size=1).filter(lambda s: not s.isspace()))
def test_hash_is_stable_and_shaped(value: str) -> None:
    masked = HASH(value)
    assert masked == HASH(value)
    assert re.fullmatch(r"h_[0-9a-f]{16}", masked)
