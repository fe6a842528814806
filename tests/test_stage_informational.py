"""The informational stage (`web_informational`): an upstream's 1xx (`103 Early Hints`) relayed
ahead of the response (SPEC 2), on mocked requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import HttpVersion10, web
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.web_informational import relay_informational
from tests.conftest import bearer
from tests.stage_kit import decided_exchange, mocked, plan_of, state_of, writer_of

HINTS = CIMultiDictProxy(
    CIMultiDict(
        [
            ("Link", "</style.css>; rel=preload"),
            ("Connection", "X-Hop"),
            ("X-Hop", "hop-by-hop"),
            ("X-Raw", "caf\udce9"),  # an obs-text byte (0xE9), as aiohttp decodes it
        ]
    )
)


async def decided_request(tmp_path: Path, role: str, target: str) -> web.Request:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "GET", target, bearer(role))
    await decided_exchange(request)
    return request


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("admin", "/api/contacts/7"),  # an unmasked role on a masked route
        ("agent", "/elsewhere"),  # a masked role where no route masks
    ],
)
async def test_early_hints_are_relayed_without_hop_by_hop_headers(
    tmp_path: Path, role: str, target: str
) -> None:
    request = await decided_request(tmp_path, role, target)
    await relay_informational(request, 103, "Early Hints", HINTS)
    written = writer_of(request).written
    assert written == (
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nX-Raw: caf\xe9\r\n\r\n"
    )
    assert writer_of(request).output_size == 0  # an interim answer is not the response


async def test_a_masked_role_on_a_masked_route_gets_it_through_the_header_rules(
    tmp_path: Path,
) -> None:
    # PII: SPEC 3.10's header rules apply to interim responses too (a Link may name a value)
    request = await decided_request(tmp_path, "agent", "/api/contacts/7")
    hints = CIMultiDictProxy(CIMultiDict([("Link", "</contacts/jane@example.com>; rel=preload")]))
    await relay_informational(request, 103, "Early Hints", hints)
    written = writer_of(request).written
    assert written.startswith(b"HTTP/1.1 103 Early Hints\r\n")
    assert b"jane@example.com" not in written
    assert b"****@example.com" in written


async def test_nothing_before_a_decision(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "GET", "/elsewhere", bearer("admin"))
    await relay_informational(request, 103, "Early Hints", HINTS)
    assert writer_of(request).written == b""


async def test_never_to_an_http_1_0_client(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "GET", "/elsewhere", bearer("admin"), version=HttpVersion10)
    await decided_exchange(request)
    await relay_informational(request, 103, "Early Hints", HINTS)
    assert writer_of(request).written == b""
