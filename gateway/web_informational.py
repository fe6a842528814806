"""1xx informational responses from the upstream (`103 Early Hints`), relayed (SPEC 2).

aiohttp's client hands each interim response to `relay_informational` (through
`aiohttp_adapter.InformationalResponse`); it is written to the client ahead of the final response,
the way the gateway writes its own `100 Continue`.
"""

from __future__ import annotations

from aiohttp import HttpVersion11, web
from multidict import CIMultiDictProxy

from gateway.exchange import ApiRequest
from gateway.header_rules import mask_headers
from gateway.http_headers import end_to_end
from gateway.web_request import decided


async def relay_informational(
    request: web.Request, status: int, reason: str, headers: CIMultiDictProxy[str]
) -> None:
    if request.version != HttpVersion11:  # RFC 9110 15.2: never to an HTTP/1.0 client
        return
    decision = decided(request)  # made before the upstream was called
    if decision is None:
        return
    relayed = end_to_end(headers)
    if isinstance(decision, ApiRequest) and decision.policy.headers:
        # PII: the header rules (SPEC 3.10) apply to interim responses too (a `Link` of a
        # `103 Early Hints` may name a clear value).
        mask_headers(relayed, decision.policy.headers)
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in relayed.items()]
    # obs-text bytes were decoded with surrogateescape: this writes the received bytes back.
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
    await request.writer.write(head)
    request.writer.output_size = 0  # an interim answer is not the response
