"""Log lines (SPEC 6): a `level` in every line; in `json` format every line is JSON, the lines
of `logging` (start-up, reload, warnings, other libraries) included; never a traceback."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.event_log import EventLog, LineHandler, _json_line, configure_logging, format_line


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging changes the root logger: put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    logging.captureWarnings(False)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        # json: one object per line, time then level then event
        ("json", '{"time":"T","level":"info","event":"access","path":"/a b","status":200}'),
        # text: key=value, quoted where a value has a space
        ("text", 'time=T level=info event=access path="/a b" status=200'),
    ],
)
def test_event_lines_carry_a_level(fmt: str, expected: str) -> None:
    stream = io.StringIO()
    log = EventLog(stream, fmt)
    log.write("access", {"path": "/a b", "status": 200})
    (line,) = stream.getvalue().splitlines()
    stamp = line.split('"time":"')[1][:24] if fmt == "json" else line.split("time=")[1][:24]
    assert line == expected.replace("T", stamp, 1)


def test_an_event_can_say_its_level() -> None:
    stream = io.StringIO()
    EventLog(stream, "json").write("reveal", {"n": 1}, level="warning")
    assert orjson.loads(stream.getvalue())["level"] == "warning"


@pytest.mark.parametrize(
    ("level", "name"),
    [
        # each logging level is written lower-case
        (logging.INFO, "info"),
        (logging.WARNING, "warning"),
        (logging.ERROR, "error"),
    ],
)
def test_logging_records_become_json_lines(level: int, name: str) -> None:
    stream = io.StringIO()
    logger = logging.getLogger("omnigate.test-lines")
    handler = LineHandler(stream, json=True)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.log(level, "rule reload failed: %s", "r.yaml:2: bad", extra={"event": "reload"})
    finally:
        logger.removeHandler(handler)
    line = orjson.loads(stream.getvalue())
    assert line["level"] == name
    assert line["event"] == "reload"
    assert line["message"] == "rule reload failed: r.yaml:2: bad"
    assert line["logger"] == "omnigate.test-lines"


def test_an_exception_is_named_never_traced() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("omnigate.test-exc")
    handler = LineHandler(stream, json=False)
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("+14155557890")  # PII: an exception's text may hold a value
        except ValueError:
            logger.exception("internal error")
    finally:
        logger.removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    assert " level=error event=log " in line
    assert "error=ValueError" in line
    assert "Traceback" not in line and "+14155557890" not in line


def test_configure_logging_sends_every_record_and_warning_as_json(restored_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("json", stream)
    logging.getLogger("aiohttp.server").error("Error handling request")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("deprecated thing", DeprecationWarning, stacklevel=1)
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("aiohttp.server", "error"),
        ("py.warnings", "warning"),
    ]


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)


@given(
    fields=st.dictionaries(st.text(), _VALUES, max_size=6),
    level=st.sampled_from(["info", "warning", 'a "quoted" level']),
    event=st.sampled_from(["access", "reveal", "ev\\ent\n"]),
    at=st.floats(min_value=0, max_value=4e9),
)
def test_json_lines_are_the_bytes_of_format_line(
    fields: dict[str, object], level: str, event: str, at: float
) -> None:
    # the flush writes orjson's bytes ahead-joined; a line must read as the merged record would
    # (fields named time, level or event included: they take the merged record's path)
    expected = format_line(at, level, event, fields, json=True).encode() + b"\n"
    assert _json_line(at, level, event, fields) == expected


def test_json_lines_go_to_the_binary_buffer_in_order() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", write_through=False)
    stream.write("before\n")  # text written by someone else first stays first
    log = EventLog(stream, "json", flush_every=3600.0)
    log.write("access", {"path": "/é", "n": 1})  # the first write flushes at once
    log.write("access", {"path": "/b", "n": 2})  # then it waits for the interval (or flush())
    log.flush()
    lines = raw.getvalue().decode().splitlines()
    assert lines[0] == "before"
    assert [orjson.loads(line)["path"] for line in lines[1:]] == ["/é", "/b"]


def test_a_stream_in_another_encoding_gets_text_it_encodes_itself() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="latin-1")
    log = EventLog(stream, "json")
    log.write("access", {"path": "/é"})  # orjson's UTF-8 would be two bytes here
    assert orjson.loads(raw.getvalue().decode("latin-1"))["path"] == "/é"
