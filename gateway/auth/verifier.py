"""JWT verification: header allow-list first, then signature and claims, each failure named.

Order matters for security: the header's `alg` is checked against the allow-list before any key is
looked up, the signature is verified before any claim is trusted, and the key handed to pyjwt is
always one whose type fits the algorithm (see `algorithms.key_fits`). Keys named by the token
itself (`jku`, `x5u`, `jwk` headers) are never used.

`exp`, `nbf` and `iat` are checked here rather than by pyjwt so each failure gets its own reason:
`exp` (required unless `require_exp: false`) must be later than now - leeway, `nbf` and `iat`,
when present, no later than now + leeway.
"""

from __future__ import annotations

import math
import re
import time
import warnings
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from gateway.auth.keys import KeyResolver
from gateway.auth.settings import JwtSettings
from gateway.errors import InvalidToken

# Short keys are reported once at load time (keys.load_secret); pyjwt would warn on every decode.
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Verified:
    claims: dict[str, Any]
    expires_at: float  # wall-clock time (exp + leeway) after which the token is expired


class TokenVerifier:
    def __init__(self, settings: JwtSettings, keys: KeyResolver) -> None:
        self._settings = settings
        self._keys = keys
        self._audience = list(settings.audience) if settings.audience else None
        self._jwt = jwt.PyJWT(
            options={
                "verify_signature": True,
                "verify_exp": False,  # checked by _check_times, with distinct reasons
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": settings.audience is not None,
                "verify_iss": settings.issuer is not None,
            }
        )

    @property
    def generation(self) -> int:
        """The key set's generation, after letting a stale key set start its refresh."""
        self._keys.poll()
        return self._keys.generation

    async def verify(self, token: str) -> Verified:
        """The verified claims of `token`, or InvalidToken naming why not."""
        algorithm, kid = self._read_header(token)
        key = await self._keys.key_for(kid, algorithm)
        try:
            claims = self._jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._settings.issuer,
            )
        except jwt.PyJWTError as error:
            raise _invalid(error) from None
        except (TypeError, ValueError):  # defence in depth: odd input is a 401, never a 500
            raise InvalidToken("the token is malformed", reason="malformed") from None
        return Verified(claims, self._check_times(claims, time.time()))

    def _read_header(self, token: str) -> tuple[str, str | None]:
        # A JWS in compact form only (a JWE has 5 parts); non-base64url text never reaches pyjwt.
        if not _COMPACT_JWS.fullmatch(token):
            raise InvalidToken("the token is malformed", reason="malformed")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("the token is malformed", reason="malformed") from None
        algorithm = header.get("alg")
        # SECURITY: "none" and anything off the allow-list stop here, before any key is touched.
        if not isinstance(algorithm, str) or algorithm not in self._settings.algorithms:
            raise InvalidToken(
                "the token's signing algorithm is not allowed", reason="disallowed_algorithm"
            )
        kid = header.get("kid")
        return algorithm, kid if isinstance(kid, str) else None

    def _check_times(self, claims: dict[str, Any], now: float) -> float:
        leeway = self._settings.leeway
        exp = _time_claim(claims, "exp")
        if exp is None:
            if self._settings.require_exp:
                raise InvalidToken("the token has no expiry (exp)", reason="missing_exp")
        elif exp <= now - leeway:
            raise InvalidToken("the token has expired", reason="expired")
        nbf = _time_claim(claims, "nbf")
        if nbf is not None and nbf > now + leeway:
            raise InvalidToken("the token is not valid yet (nbf)", reason="not_yet_valid")
        iat = _time_claim(claims, "iat")
        if iat is not None and iat > now + leeway:
            raise InvalidToken("the token was issued in the future (iat)", reason="iat_in_future")
        return math.inf if exp is None else exp + leeway


def _time_claim(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidToken(f"the token's {name} claim is not a number", reason="malformed")
    return float(value)


def _invalid(error: jwt.PyJWTError) -> InvalidToken:
    # Messages are ours: pyjwt's may quote header or claim content.
    if isinstance(error, jwt.InvalidSignatureError):
        return InvalidToken("the token's signature is invalid", reason="bad_signature")
    if isinstance(error, jwt.InvalidAudienceError) or _missing(error, "aud"):
        return InvalidToken("the token's audience is not accepted", reason="bad_audience")
    if isinstance(error, jwt.InvalidIssuerError) or _missing(error, "iss"):
        return InvalidToken("the token's issuer is not accepted", reason="bad_issuer")
    if isinstance(error, jwt.InvalidAlgorithmError):
        return InvalidToken(
            "the token's signing algorithm is not allowed", reason="disallowed_algorithm"
        )
    if isinstance(error, jwt.InvalidKeyError):
        return InvalidToken("the token's signature is invalid", reason="bad_signature")
    return InvalidToken("the token is malformed", reason="malformed")


def _missing(error: jwt.PyJWTError, claim: str) -> bool:
    return isinstance(error, jwt.MissingRequiredClaimError) and error.claim == claim
