"""`omnigate discover` on a HAR recorded from the live demo API (SPEC 1), and on bad input.

The HAR is built the way a browser's developer tools write one: each entry from a real request
to the demo API on loopback, with its real status, headers, MIME type and body (some bodies
base64-encoded, as browsers store them when they choose to).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from gateway.cli import main
from gateway.demo import make_demo_app

EXAMPLES = Path(__file__).resolve().parents[2] / "rules" / "examples"
A = "/api/v1/accounts/1"
# What an agent's dashboard session loads (the demo API's JSON endpoints, a CSV export, a 404).
SESSION = [
    "/api/v1/profile",
    f"{A}/contacts",
    f"{A}/contacts?page=2",
    f"{A}/contacts/1",
    f"{A}/contacts/2",
    f"{A}/contacts/search?q=jane",
    f"{A}/contacts/export.csv",
    f"{A}/conversations",
    f"{A}/conversations/1",
    f"{A}/conversations/1/messages",
    f"{A}/conversations/2/messages",
    f"{A}/nowhere",
]


async def _record(server: TestServer) -> dict[str, Any]:
    entries = []
    async with aiohttp.ClientSession() as session:
        for index, target in enumerate(SESSION):
            url = str(server.make_url(target))
            async with session.get(url) as response:
                raw = await response.read()
                content: dict[str, Any] = {
                    "size": len(raw),
                    "mimeType": response.headers.get("Content-Type", ""),
                }
                if index % 3 == 2:
                    content |= {"text": base64.b64encode(raw).decode(), "encoding": "base64"}
                else:
                    content["text"] = raw.decode()
                entries.append(
                    {
                        "startedDateTime": "2026-12-04T19:00:00.000Z",
                        "time": 3.2,
                        "request": {
                            "method": "GET",
                            "url": url,
                            "httpVersion": "HTTP/1.1",
                            "headers": [{"name": "Accept", "value": "application/json"}],
                            "queryString": [],
                            "cookies": [],
                            "headersSize": -1,
                            "bodySize": 0,
                        },
                        "response": {
                            "status": response.status,
                            "statusText": response.reason,
                            "httpVersion": "HTTP/1.1",
                            "headers": [
                                {"name": k, "value": v} for k, v in response.headers.items()
                            ],
                            "cookies": [],
                            "content": content,
                            "redirectURL": "",
                            "headersSize": -1,
                            "bodySize": len(raw),
                        },
                        "cache": {},
                        "timings": {"send": 0.1, "wait": 3.0, "receive": 0.1},
                    }
                )
    return {
        "log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}
    }


@pytest.fixture
async def har(tmp_path: Path, aiohttp_server: Any) -> tuple[Path, dict[str, Any]]:
    server = await aiohttp_server(make_demo_app(live_interval=None))
    recorded = await _record(server)
    path = tmp_path / "dashboard.har"
    path.write_text(json.dumps(recorded, indent=2))
    return path, recorded


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["discover", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, value in node.items():
            yield from _strings(value, str(k))
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, key)
    elif isinstance(node, str | int) and not isinstance(node, bool):
        yield key, str(node)


def pii_values(recorded: dict[str, Any]) -> set[str]:
    """Every value of the recording that looks like PII (worked out here, independently): names,
    strings with an address or a long digit run, and those parts themselves."""
    values: set[str] = set()
    for entry in recorded["log"]["entries"]:
        content = entry["response"]["content"]
        text = content["text"]
        if content.get("encoding") == "base64":
            text = base64.b64decode(text).decode()
        try:
            body = json.loads(text)
        except json.JSONDecodeError:
            continue
        for key, value in _strings(body):
            parts = re.findall(r"[\w.+-]+@[\w.-]+|\+?[\d][\d ()-]{6,}\d", value)
            if "name" in key.lower() or parts:
                values.add(value)
                values.update(parts)
    return {v for v in values if len(v) >= 5}


async def test_the_demo_har_without_rules_reports_its_pii_and_exits_1(
    capsys: pytest.CaptureFixture[str], har: tuple[Path, dict[str, Any]]
) -> None:
    path, recorded = har
    code, out, err = run(capsys, str(path))
    assert code == 1, err
    assert f"{A.replace('/1', '/{id}')}/contacts/{{id}}" in out  # ids folded in route names
    assert "  UNCOVERED  $.payload.phone_number  phone" in out
    assert "  UNCOVERED  $.payload.email  email" in out
    assert "  UNCOVERED  $.payload[*].content  " in out  # chat text with numbers in it
    for value in pii_values(recorded):
        assert value not in out + err


async def test_the_demo_har_with_the_demo_rules(
    capsys: pytest.CaptureFixture[str], har: tuple[Path, dict[str, Any]]
) -> None:
    path, recorded = har
    code, out, err = run(capsys, "--rules", str(EXAMPLES), str(path))
    lines = out.splitlines()
    assert "  covered    $.payload.phone_number  phone  2 values" in lines
    assert "  covered    $.payload.email  email  2 values" in lines
    # the demo's rules cover every PII path of the session: a CI run would pass
    assert code == 0, out
    assert lines[-1].endswith(" 0 uncovered") and "route messages: " in out
    for value in pii_values(recorded):
        assert value not in out + err


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # a HAR that is not JSON: the line of the error
        ('{"log": {"entries": [\n  {"request": ', ":2: not valid JSON"),
        # an entry without a response status: the entry and its line
        (
            '{"log": {"entries": [\n {"request": {"method": "GET", "url": "http://x/a"},\n'
            '  "response": {"content": {}}}]}}',
            ":2: log.entries[0]: needs request.method, request.url and response.status",
        ),
        # JSON lines: a broken second line
        (
            '{"method": "GET", "path": "/a", "status": 200, "body": {}}\n{"method": ',
            ":2: not valid",
        ),
        # JSON lines: a body string that holds no JSON
        ('{"method": "GET", "path": "/a", "status": 200, "body": "Jane"}', ":1: body is a string"),
        # JSON lines: a record of the wrong shape
        ('["GET", "/a"]', ':1: expected {"method"'),
    ],
)
def test_bad_input_is_exit_2_with_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "traffic.har"
    path.write_text(text)
    code, out, err = run(capsys, str(path))
    assert (code, out) == (2, "")
    assert f"omnigate discover: {path}{where}" in err
    assert "Jane" not in err and "Traceback" not in err


def test_a_missing_file_and_bad_rules_are_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, str(tmp_path / "none.har"))
    assert code == 2 and "none.har: cannot read" in err
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nroutes: 3\n")
    traffic = tmp_path / "t.jsonl"
    traffic.write_text('{"method": "GET", "path": "/a", "status": 200, "body": {}}\n')
    code, _, err = run(capsys, "--rules", str(rules), str(traffic))
    assert code == 2 and "rules.yaml:" in err


def test_clean_traffic_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    traffic = tmp_path / "t.jsonl"
    body = {"payload": [{"id": 7, "status": "open", "labels": ["billing"]}]}
    traffic.write_text(json.dumps({"method": "GET", "path": "/a/7", "status": 200, "body": body}))
    code, out, _ = run(capsys, str(traffic))
    assert code == 0
    assert out.splitlines()[-1] == "1 documents, 0 routes, 0 paths with PII: 0 covered, 0 uncovered"


def test_a_mistyped_flag_is_suggested(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["discover", "--rule", "x", "f.har"])
    assert exit_.value.code == 2
    assert "did you mean --rules?" in capsys.readouterr().err
