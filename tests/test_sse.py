"""SSE splitting and event masking, pure."""

from typing import Any

import orjson
import pytest

from gateway.sse import EventSplitter, EventTooLarge, mask_event


def upper_json(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.upper() if isinstance(v, str) else v) for k, v in doc.items()}


def test_events_split_on_blank_lines_with_any_line_ending() -> None:
    splitter = EventSplitter(1024)
    events = splitter.feed(b"data: a\n\ndata: b\r\n\r\ndata: c\r\r")
    assert [b"".join(e) for e in events] == [b"data: a\n\n", b"data: b\r\n\r\n"]
    # the final CR could still be half of a CRLF: the event completes with the next byte
    assert [b"".join(e) for e in splitter.feed(b"d")] == [b"data: c\r\r"]


def test_event_split_across_reads_is_held_until_complete() -> None:
    splitter = EventSplitter(1024)
    assert splitter.feed(b"event: x\nda") == []
    assert splitter.feed(b"ta: 1\r") == []  # a lone CR may be half of CRLF
    events = splitter.feed(b"\n\r\n")
    assert [b"".join(e) for e in events] == [b"event: x\ndata: 1\r\n\r\n"]


def test_oversized_event_raises() -> None:
    splitter = EventSplitter(16)
    with pytest.raises(EventTooLarge):
        splitter.feed(b"data: " + b"x" * 32)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        # JSON data is masked and re-emitted on one data line; other fields untouched
        (
            [b"event: m\n", b'data: {"a": "x"}\n', b"id: 7\n", b"\n"],
            b'event: m\ndata: {"a":"X"}\nid: 7\n\n',
        ),
        # multi-line JSON data is joined before parsing
        ([b'data: {"a":\n', b'data: "y"}\n', b"\n"], b'data: {"a":"Y"}\n\n'),
        # non-JSON data gets the text mask, line by line
        ([b"data: hello\n", b"\n"], b"data: <hello>\n\n"),
        # comments and retry pass as they are
        ([b": keepalive\n", b"retry: 10\n", b"\n"], b": keepalive\nretry: 10\n\n"),
        # CRLF endings are kept
        ([b'data: {"a":"z"}\r\n', b"\r\n"], b'data: {"a":"Z"}\r\n\r\n'),
    ],
)
def test_mask_event(event: list[Any], expected: bytes) -> None:
    assert mask_event(event, upper_json, lambda t: t.replace("hello", "<hello>")) == expected


def test_unknown_fields_are_dropped_and_others_text_masked() -> None:
    def mask(text: str) -> str:
        return text.replace("+14155557890", "XXX-XXX-7890")

    out = mask_event(
        [
            b"database: +14155557890\n",  # not an SSE field: browsers ignore it, so do we
            b"id: +14155557890\n",  # sent back as Last-Event-ID: masked
            b": call +14155557890\n",  # a comment: masked
            b'data: {"a":"q"}\n',
            b"\n",
        ],
        upper_json,
        mask,
    )
    assert out == b'id: XXX-XXX-7890\n: call XXX-XXX-7890\ndata: {"a":"Q"}\n\n'
    assert orjson.loads(out.split(b"data: ")[1]) == {"a": "Q"}
