"""Issue 10 classes 2 and 5 against a lenient fake upstream, straight and through a real gateway.

Class 2: header names a CGI/WSGI/Rack server folds into the gateway's own headers forge a client
address or a customer identity, on API requests, WebSocket upgrades and webhooks alike.
Class 5: an encoded `;` is a matrix-parameter delimiter to Java and Rails routers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from lenient_upstream import (
    CONTACT_PATH,
    MESSAGES_PATH,
    LenientUpstream,
    cgi_environ,
    routed_path,
)

from tests.conftest import OMNICHANNEL_RULES, GatewayFactory, bearer, get_request, raw_http, token

RULES = (
    OMNICHANNEL_RULES
    + """
webhooks:
  - channel: generic
    path: /hooks/crm
    identity: { phone: "$.customer.mobile" }
routes:
  - name: contact
    match: { method: GET, path: "/api/v1/accounts/{account_id}/contacts/{id}" }
    response:
      - { path: "$.payload.phone_number", mask: phone }
      - { path: "$.payload.email", mask: email }
      - { path: "$.payload.name", mask: name }
  - name: messages
    match: { path: "/api/v1/accounts/{account_id}/conversations/{id}/messages" }
    response:
      - { path: "$.payload[*].content", mask: text }
"""
)
FORGED_IP = "6.6.6.6"
FORGED_ID = "omni_forged"

# Each row: (a header a client sends, the CGI variable it forges, the forged value).
FORGERIES = [
    ("X_Forwarded_For", "HTTP_X_FORWARDED_FOR", FORGED_IP),
    ("x-forwarded_for", "HTTP_X_FORWARDED_FOR", FORGED_IP),
    ("X_Forwarded_Host", "HTTP_X_FORWARDED_HOST", "evil.example"),
    ("X_Forwarded_Proto", "HTTP_X_FORWARDED_PROTO", "gopher"),
    ("X_Request_Id", "HTTP_X_REQUEST_ID", "forged-id"),
    ("X_Omni_Customer_Id", "HTTP_X_OMNI_CUSTOMER_ID", FORGED_ID),
    ("X-Omni_Customer-Id", "HTTP_X_OMNI_CUSTOMER_ID", FORGED_ID),
    ("X-Omni-Customer-Id", "HTTP_X_OMNI_CUSTOMER_ID", FORGED_ID),  # only the gateway stamps
]


@pytest.fixture
async def lenient(
    upstream_app: Callable[[Any], Awaitable[TestServer]],
) -> tuple[LenientUpstream, TestServer]:
    fake = LenientUpstream()
    return fake, await upstream_app(fake.app())


@pytest.mark.parametrize(("name", "variable", "value"), FORGERIES)
def test_the_fake_upstream_reads_folded_names_as_the_real_header(
    name: str, variable: str, value: str
) -> None:
    # Beside the real header (as a proxy appends it), the folded twin is read as the same one.
    environ = cgi_environ([(name.encode(), value.encode()), (b"X-Forwarded-For", b"10.0.0.1")])
    assert environ[variable].split(", ")[0] == value


async def _through(gateway_url: str, kind: str, name: str, value: str) -> None:
    headers = {name: value}
    async with aiohttp.ClientSession() as session:
        if kind == "api":
            async with session.get(
                gateway_url + CONTACT_PATH, headers={**headers, **bearer()}
            ) as response:
                assert response.status == 200
        elif kind == "websocket":
            socket = await session.ws_connect(
                gateway_url + "/cable", headers={**headers, **bearer()}
            )
            await socket.close()
        else:
            body = b'{"customer": {"mobile": "+14155557890"}}'
            async with session.post(
                gateway_url + "/hooks/crm",
                data=body,
                headers={**headers, "Content-Type": "application/json"},
            ) as response:
                assert response.status == 200


@pytest.mark.parametrize("kind", ["api", "websocket", "webhook"])
@pytest.mark.parametrize(("name", "variable", "value"), FORGERIES)
async def test_folded_spellings_never_reach_the_upstream(
    lenient: tuple[LenientUpstream, TestServer],
    make_gateway: GatewayFactory,
    kind: str,
    name: str,
    variable: str,
    value: str,
) -> None:
    fake, server = lenient
    # straight to the fake: the forgery works
    async with (
        aiohttp.ClientSession() as session,
        session.get(str(server.make_url(CONTACT_PATH)), headers={name: value}),
    ):
        pass
    assert fake.environ[-1][variable] == value
    gateway = await make_gateway(server, RULES)
    await _through(str(gateway.client.make_url("")).rstrip("/"), kind, name, value)
    environ = fake.environ[-1]
    assert environ.get(variable) != value
    assert value not in environ.get(variable, "")  # not appended to either
    if variable == "HTTP_X_FORWARDED_FOR":
        assert environ[variable] == "127.0.0.1"  # the gateway's own, correctly spelled


async def test_correct_forwarded_for_is_still_appended_to(
    lenient: tuple[LenientUpstream, TestServer], make_gateway: GatewayFactory
) -> None:
    fake, server = lenient
    gateway = await make_gateway(server, RULES)
    await gateway.client.get(CONTACT_PATH, headers={"X-Forwarded-For": "203.0.113.7", **bearer()})
    assert fake.environ[-1]["HTTP_X_FORWARDED_FOR"] == "203.0.113.7, 127.0.0.1"


# Each row: a path alias a Rails or servlet router routes to a masked resource (class 5). The
# template's literal segments are what an alias must not slip past.
ALIASES = [
    (MESSAGES_PATH + "%3Bv=2", MESSAGES_PATH),  # encoded `;` on a literal last segment
    (MESSAGES_PATH + "%3bv=2", MESSAGES_PATH),  # ... lower-case hex
    (MESSAGES_PATH + ";v=2", MESSAGES_PATH),  # plain matrix parameter
    (MESSAGES_PATH + ".json%3Bv=2", MESSAGES_PATH),  # format suffix and encoded parameters
    ("/api/v1/accounts/1/contacts%3Bx=1/2", CONTACT_PATH),  # a literal middle segment
    (CONTACT_PATH + "%3Bv=2", CONTACT_PATH),  # on a {param} segment
]


@pytest.mark.parametrize(("path", "routed"), ALIASES)
async def test_encoded_semicolon_aliases_are_masked(
    lenient: tuple[LenientUpstream, TestServer],
    make_gateway: GatewayFactory,
    path: str,
    routed: str,
) -> None:
    _, server = lenient
    assert routed_path(path) == routed  # the fake routes the alias to the masked resource
    assert server.port is not None
    straight = await raw_http(server.port, get_request(path))
    assert b"Jane Doe" in straight and b"555 7890" in straight  # ... and serves it in clear
    gateway = await make_gateway(server, RULES)
    port = gateway.client.port
    assert port is not None
    answer = await raw_http(port, get_request(path, {"Authorization": f"Bearer {token()}"}))
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert b"555 7890" not in body and b"XXX-XXX-7890" in body  # masked, not refused
    if routed == CONTACT_PATH:
        assert b"Jane" not in body and b"jane.doe" not in body
