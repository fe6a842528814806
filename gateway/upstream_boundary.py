"""The upstream boundary: the one mapping of HTTP-client exceptions to the gateway's errors.

Sending a request, connecting a WebSocket, reading a body to mask it and streaming a body through
all translate what the client library raised with `translate(exc, phase)`, by the table below
(first matching row wins; `tests/test_upstream_boundary.py` walks every row). The gateway's
error is created with its status and message here; nothing patches it afterwards.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import aiohttp
from aiohttp import http_exceptions

from gateway.errors import (
    GatewayError,
    UpstreamResponseTooLarge,
    UpstreamTimeout,
    UpstreamUnavailable,
)


class Phase(enum.Enum):
    SEND = "send"  # request out, waiting for the response head
    WS_CONNECT = "ws_connect"  # WebSocket handshake
    READ_BODY = "read_body"  # buffering a body to mask it: nothing sent to the client yet
    STREAM_BODY = "stream_body"  # relaying a body already begun: the client will be cut off


# What `except` clauses catch around upstream I/O: the gateway's errors this module makes.
UPSTREAM_ERRORS = (UpstreamUnavailable, UpstreamTimeout)


def _head_too_large(exc: BaseException) -> bool:
    """aiohttp's parser refused the response head for its size (a line or the header count)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, http_exceptions.LineTooLong):
            return True
        if isinstance(cause, http_exceptions.BadHttpMessage) and "Too many headers" in str(cause):
            return True
        cause = cause.__cause__
    return False


def _is(*types: type[BaseException]) -> Callable[[BaseException], bool]:
    return lambda exc: isinstance(exc, types)


@dataclass(frozen=True)
class Row:
    name: str  # what the row is about, for the table's test
    matches: Callable[[BaseException], bool]
    phases: frozenset[Phase]
    error: Callable[[], GatewayError] | None  # None: not translated (re-raised as it is)


_HEADS = frozenset({Phase.SEND, Phase.WS_CONNECT})
_BODIES = frozenset({Phase.READ_BODY, Phase.STREAM_BODY})

TABLE: tuple[Row, ...] = (
    Row(
        "handshake refused",  # the upstream answered without upgrading: its status is relayed
        _is(aiohttp.WSServerHandshakeError),
        frozenset({Phase.WS_CONNECT}),
        None,
    ),
    Row(
        "no head in time",
        _is(TimeoutError),
        _HEADS,
        lambda: UpstreamTimeout("the upstream did not answer in time"),
    ),
    Row(
        "body stalled",
        _is(TimeoutError),
        _BODIES,
        lambda: UpstreamTimeout("the upstream stopped sending its body"),
    ),
    Row(
        "head too large",
        _head_too_large,
        _HEADS,
        lambda: UpstreamResponseTooLarge(
            "the upstream response headers exceed the gateway's limits "
            "(128 headers, 16 KiB per line)"
        ),
    ),
    Row(
        "not reachable",
        _is(aiohttp.ClientConnectorError),
        _HEADS,
        lambda: UpstreamUnavailable("the upstream could not be reached"),
    ),
    Row(
        "unreadable head",
        _is(aiohttp.ClientResponseError),
        frozenset({Phase.SEND}),
        lambda: UpstreamUnavailable("the upstream sent a response that is not valid HTTP"),
    ),
    Row(
        "connection failed",
        _is(aiohttp.ClientError, OSError),
        frozenset({Phase.SEND}),
        lambda: UpstreamUnavailable("the upstream connection failed"),
    ),
    Row(
        "handshake failed",
        _is(aiohttp.ClientError, OSError),
        frozenset({Phase.WS_CONNECT}),
        lambda: UpstreamUnavailable("the upstream could not be reached"),
    ),
    Row(
        "body broken",
        _is(aiohttp.ClientError, OSError),
        _BODIES,
        lambda: UpstreamUnavailable("the upstream connection failed mid-body"),
    ),
)


def raise_translated(exc: BaseException, phase: Phase) -> NoReturn:
    """Raise the gateway's error for `exc` raised in `phase` (from None), or `exc` itself when
    it is not the upstream's. Called in the `except` block that caught `exc`."""
    error = translate(exc, phase)
    if error is None:
        raise exc
    raise error from None


def translate(exc: BaseException, phase: Phase) -> GatewayError | None:
    """The gateway's error for `exc` raised in `phase`; None: not the upstream's (re-raise)."""
    for row in TABLE:
        if phase in row.phases and row.matches(exc):
            return row.error() if row.error is not None else None
    return None
