"""The gateway's error family.

Request-time errors carry an HTTP status and a SPEC 6 code and are rendered in exactly one place
(`web_errors.render_error`). Load-time problems are `ConfigError`s that name the offending key,
so the rule loader can turn them into `file:line: message`.
"""

from __future__ import annotations

from collections.abc import Mapping


class GatewayError(Exception):
    """An error answered by the gateway itself. Messages must never contain PII."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


class InvalidToken(GatewayError):
    status, code = 401, "invalid_token"

    def __init__(self, message: str, reason: str = "invalid") -> None:
        # SECURITY: RFC 6750 challenge; the description is ours, never the token's content.
        super().__init__(message, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        self.reason = reason


class MissingToken(GatewayError):
    status, code = 401, "missing_token"

    def __init__(self, message: str = "a bearer token is required") -> None:
        super().__init__(message, {"WWW-Authenticate": "Bearer"})
        self.reason = "missing"


class BadSignature(GatewayError):
    status, code = 401, "bad_signature"


class BadRequest(GatewayError):
    status, code = 400, "bad_request"


class ExpectationFailed(GatewayError):
    status, code = 417, "bad_request"


class HttpRefusal(GatewayError):
    """One of aiohttp's own 4xx answers (no route for `OPTIONS *`, ...) in the SPEC 6 shape."""

    code = "bad_request"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class PayloadTooLarge(GatewayError):
    status, code = 413, "payload_too_large"


class MaskedValueWrite(GatewayError):
    status, code = 422, "masked_value_write"


class UnmaskableResponse(GatewayError):
    status, code = 502, "unmaskable_response"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class UpstreamUnavailable(GatewayError):
    status, code = 502, "upstream_unavailable"


class UpstreamResponseTooLarge(UpstreamUnavailable):
    """The upstream's response head is past the client's limits (128 headers, 16 KiB a line)."""


class UpstreamTimeout(GatewayError):
    status, code = 504, "upstream_timeout"


KeyPath = tuple[str | int, ...]


class ConfigError(Exception):
    """A rule or setting problem found at load time, located by its key path in the rules."""

    def __init__(self, key_path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.key_path = key_path
        self.message = message


class ConfigErrors(Exception):
    """Several ConfigErrors found in one pass, so that every problem is reported at once."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors
