"""Properties of the write-back guard (issue 10 class 4, open-ended): every encoding and shape of
a mask output the guard accepts is refused with 422, and clean requests are never refused."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, urlencode

from hypothesis import given
from hypothesis import strategies as st

from gateway.masked_values import masked
from gateway.write_guard import check

PADDING = st.text(alphabet=" \t\r\n\u00a0\u200b\ufeff\u3000", max_size=3)
WORD = st.characters(categories=["L", "N"]).map(lambda c: c + "***")
MASKS = st.one_of(
    st.from_regex(r"\AXXX-XXX-[0-9]{4}\Z"),  # phone
    st.just("XXX-XXX-XXXX"),  # phone without digits
    st.just("****"),  # redact
    st.from_regex(r"\A\*\*\*\*@[a-z0-9]{1,12}\.[a-z]{2,6}\Z"),  # email
    st.lists(WORD, min_size=1, max_size=3).map(" ".join),  # name
)
JSON_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/x-json",
    "application/json-patch+json",
    "application/vnd.api+json",
    "application/json, text/plain",
    "text/plain",
    "text/json",
    "application/octet-stream",
    None,
]
KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


@st.composite
def padded_masks(draw: st.DrawFn) -> str:
    value = draw(MASKS)
    if draw(st.booleans()):
        value = value.lower()  # an upstream may store it in any case
    return draw(PADDING) + value + draw(PADDING)


@st.composite
def json_literals(draw: st.DrawFn) -> str:
    """A JSON string literal of a mask output, each character raw or `\\u`-escaped."""
    value = draw(padded_masks())
    out = []
    for char in value:
        if char in '"\\' or ord(char) < 0x20 or draw(st.booleans()):
            units = char.encode("utf-16-be")  # astral characters become a surrogate pair
            out += [f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)]
        else:
            out.append(char)
    quote_char = draw(st.sampled_from(['"', '"', "'"]))  # JSON5 single quotes now and then
    return quote_char + "".join(out) + quote_char


@st.composite
def json_documents(draw: st.DrawFn) -> str:
    """A mask output somewhere in a JSON-like document, lenient shapes included."""
    text = draw(json_literals())
    for _ in range(draw(st.integers(0, 5))):
        key = draw(KEYS)
        shape = draw(st.sampled_from(["object", "array", "duplicate", "string", "noise"]))
        trailing = draw(st.sampled_from(["", ",", ', "n": 1']))
        if shape == "object":
            text = f'{{"{key}": {text}{trailing}}}'
        elif shape == "array":
            text = f"[1, {text}{trailing}]" if draw(st.booleans()) else f"[{text}{trailing}]"
        elif shape == "duplicate":  # the masked value is the first of two keys
            text = f'{{"{key}": {text}, "{key}": "clean"}}'
        elif shape == "string":  # JSON held in a string
            text = f'{{"{key}": {json.dumps(text)}}}'
        else:  # comments and a deep neighbour no strict parser takes
            text = f'/* c */ {{"deep": {"[" * 1100}{"]" * 1100}, "{key}": {text}}}'
    return text


@given(document=json_documents(), content_type=st.sampled_from(JSON_TYPES), data=st.data())
def test_masked_json_in_any_shape_is_refused(
    document: str, content_type: str | None, data: st.DataObject
) -> None:
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8", "utf-16"]))
    body = document.encode(encoding)
    if encoding == "utf-8" and data.draw(st.booleans()):
        body += b" \xff"  # an invalid byte
    verdict = check(body, content_type, "", "reject")
    assert verdict.refused and verdict.error().status == 422


@given(
    key=KEYS,
    nested=st.booleans(),
    value=padded_masks(),
    safe=st.sampled_from(["", "-", "*@", "-*@ "]),
    carrier=st.sampled_from(["query", "form", "form;"]),
)
def test_masked_form_and_query_values_are_refused(
    key: str, nested: bool, value: str, safe: str, carrier: str
) -> None:
    name = f"contact[{key}]" if nested else key
    pair = f"{quote(name)}={quote(value, safe=safe)}"
    if carrier == "query":
        verdict = check(b"", None, "a=1&" + pair, "reject")
    else:
        separator = ";" if carrier == "form;" else "&"
        body = f"a=1{separator}{pair}".encode()
        verdict = check(body, "application/x-www-form-urlencoded", "", "reject")
    assert verdict.refused and verdict.error().status == 422


@given(
    value=padded_masks(),
    subtype=st.sampled_from(["form-data", "mixed", "related", "alternative", "x-custom"]),
    extra=st.sampled_from(["", '; filename=""', "\r\nContent-Type: text/plain"]),
    newline=st.sampled_from(["\r\n", "\n"]),
    close=st.booleans(),
)
def test_masked_multipart_fields_are_refused(
    value: str, subtype: str, extra: str, newline: str, close: bool
) -> None:
    body = f'--b{newline}Content-Disposition: form-data; name="p"{extra}{newline}{newline}'
    body += value + newline + ("--b--" + newline if close else "")
    verdict = check(body.encode(), f"multipart/{subtype}; boundary=b", "", "reject")
    assert verdict.refused and verdict.error().status == 422


_FIELD_SPLIT = re.compile(r"[&;=\"',:{}\[\]\s]")


def _clean(text: str) -> bool:
    """No mask output anywhere a lenient reader may cut a field from, and no JSON inside."""
    return text.lstrip()[:1] not in ("{", "[", '"', "'", "/") and not any(
        masked(piece) for piece in [text, *_FIELD_SPLIT.split(text)]
    )


CLEAN_TEXT = st.text(max_size=30).filter(_clean)
CLEAN_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | CLEAN_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(CLEAN_TEXT, inner, max_size=4),
    max_leaves=20,
)


@given(
    document=CLEAN_JSON,
    content_type=st.sampled_from(JSON_TYPES),
    ascii_only=st.booleans(),
    query=st.dictionaries(CLEAN_TEXT, CLEAN_TEXT, max_size=3),
)
def test_clean_requests_are_never_refused(
    document: object, content_type: str | None, ascii_only: bool, query: dict[str, str]
) -> None:
    body = json.dumps(document, ensure_ascii=ascii_only).encode()
    verdict = check(body, content_type, urlencode(query), "reject")
    assert not verdict.refused, verdict.paths
    assert verdict.body is body


@given(form=st.dictionaries(CLEAN_TEXT, CLEAN_TEXT, max_size=5))
def test_clean_forms_are_never_refused(form: dict[str, str]) -> None:
    body = urlencode(form).encode()
    verdict = check(body, "application/x-www-form-urlencoded", "", "reject")
    assert not verdict.refused, verdict.paths
