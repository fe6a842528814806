"""`Expect: 100-continue`, answered by the gateway itself (SPEC 2).

SECURITY: the `100 Continue` goes out only after the token has been checked (`decide` caches its
result on the request, so the main handler does not check twice): a caller without a good token
never gets to send its body. The expectation is not forwarded upstream (the forward stage drops
`Expect`), so an upstream that never sends its own 100 cannot stall the upload.
"""

from __future__ import annotations

from aiohttp import HttpVersion11, web

from gateway.errors import ExpectationFailed, GatewayError
from gateway.exchange import Exchange
from gateway.exchange_record import record
from gateway.web_errors import render_error
from gateway.web_request import decide, request_id_of
from gateway.web_state import STATE

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


async def expect_handler(request: web.Request) -> web.StreamResponse | None:
    """The router's expect hook: an error response, or None after sending `100 Continue`.

    A refusal here ends the exchange (the handler never runs): it is recorded here.
    """
    exchange = Exchange(request, request_id_of(request))
    try:
        if request.headers.get("Expect", "").lower() != "100-continue":
            raise ExpectationFailed("only Expect: 100-continue is supported")
        exchange.decision = await decide(request, exchange)
    except GatewayError as exc:
        response = render_error(exc, exchange.request_id)
        exchange.status = response.status
        record(request.app[STATE], exchange)
        return response
    if request.version == HttpVersion11:  # an HTTP/1.0 client does not wait for a 100
        await request.writer.write(CONTINUE)
        # The interim answer is not the response: an error may still be answered in full.
        request.writer.output_size = 0
    return None
