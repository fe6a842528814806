"""Token minting and request shapes shared by the auth tests (fixtures live in conftest.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

from gateway.auth import Authenticator, Caller

HS_SECRET = "s3cret-for-tests-0123456789abcdef-0123456789abcdef-0123456789abcd"
ISSUER = "https://id.example.test/"
AUDIENCE = "chat-api"
ROLES = {
    "admin": {"masking": False},
    "team_manager": {"masking": True},
    "agent": {"masking": True},
}


@dataclass(frozen=True)
class KeyPair:
    private: Any
    public: Any

    @property
    def public_pem(self) -> bytes:
        return self.public.public_bytes(  # type: ignore[no-any-return]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def private_pem(self) -> bytes:
        return self.private.private_bytes(  # type: ignore[no-any-return]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def claims(**overrides: Any) -> dict[str, Any]:
    """A valid claim set for the default test config; `None` removes a claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "user-42",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "role": "team_manager",
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def mint(
    payload: Mapping[str, Any], key: Any, algorithm: str, headers: dict[str, Any] | None = None
) -> str:
    signing_key = key.private if isinstance(key, KeyPair) else key
    return jwt.encode(dict(payload), signing_key, algorithm=algorithm, headers=headers)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: Mapping[str, Any], payload: Mapping[str, Any], hmac_secret: bytes | None) -> str:
    """Hand-built tokens pyjwt refuses to make: alg none, or HMAC keyed with a PEM public key."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    if hmac_secret is None:
        return signing_input + "."
    digest = hmac.new(hmac_secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(digest)}"


def bearer(token: str) -> CIMultiDictProxy[str]:
    return headers_of(("Authorization", f"Bearer {token}"))


def headers_of(*pairs: tuple[str, str]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(list(pairs)))


def query_of(**values: str) -> MultiDictProxy[str]:
    return MultiDictProxy(MultiDict(values))


NO_HEADERS = headers_of()
NO_QUERY = query_of()


async def auth_header(authenticator: Authenticator, token: str) -> Caller:
    return await authenticator.authenticate(bearer(token), {}, NO_QUERY)


SECRET_ENV = "OMNIGATE_JWT_SECRET"  # the `secret` fixture (conftest) sets it to HS_SECRET


def hs_auth(**jwt: Any) -> Authenticator:
    """An HS256 authenticator over ROLES (`missing_token`, default `default_role`, may be given)."""
    missing = jwt.pop("missing_token", "default_role")
    config = {"algorithms": ["HS256"], "secret_env": SECRET_ENV, **jwt}
    return Authenticator.compile({"jwt": config, "missing_token": missing}, ROLES, "agent")
