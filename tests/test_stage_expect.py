"""The expect stage (`web_expect`): `Expect: 100-continue` answered by the gateway (SPEC 2), on
mocked requests; what is written on the connection is kept by the stage kit's writer."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import orjson
from aiohttp import HttpVersion10, web

from gateway.web_expect import CONTINUE, expect_handler
from gateway.web_request import decided
from tests.conftest import bearer
from tests.stage_kit import mocked, plan_of, state_of, writer_of

CONTACT = "/api/contacts/7"


async def test_a_good_token_gets_100_continue_and_the_decision_is_kept(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "PUT", CONTACT, {**bearer(), "Expect": "100-Continue"})
    assert await expect_handler(request) is None  # the handler goes on
    assert writer_of(request).written == CONTINUE
    assert writer_of(request).output_size == 0  # the 100 is not the response
    assert decided(request) is not None  # the handler does not check the token again
    assert stage.access() == []  # the exchange is not over: recorded by the handler


async def test_a_bad_token_never_gets_to_send_its_body(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    headers = {"Authorization": "Bearer not-a-token", "Expect": "100-continue"}
    request = mocked(stage.state, "PUT", CONTACT, headers)
    response = await expect_handler(request)
    assert response is not None and response.status == 401
    # SECURITY: no 100 before the token is checked
    assert writer_of(request).written == b""
    [line] = stage.access()  # the refusal ends the exchange: recorded once, here
    assert (line["status"], line["route"]) == (401, "-")


async def test_an_unsupported_expectation_is_417_in_the_error_shape(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "PUT", CONTACT, {**bearer(), "Expect": "something-else"})
    response = await expect_handler(request)
    assert isinstance(response, web.Response) and response.status == 417
    assert orjson.loads(cast(bytes, response.body))["error"]["code"] == "bad_request"
    assert writer_of(request).written == b""
    assert [line["status"] for line in stage.access()] == [417]


async def test_an_http_1_0_client_gets_no_interim_answer(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    headers = {**bearer(), "Expect": "100-continue"}
    request = mocked(stage.state, "PUT", CONTACT, headers, version=HttpVersion10)
    assert await expect_handler(request) is None
    assert writer_of(request).written == b""  # an HTTP/1.0 client does not wait for a 100
