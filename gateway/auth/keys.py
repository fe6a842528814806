"""Verification keys: the resolver interface, and the two static sources (HMAC secret, PEM file).

Static keys are read once, at compile time: the secret from its environment variable, the PEM
from its file. Every allowed algorithm is checked against the loaded key there, so a token that
passed the allow-list always has a fitting key at request time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, cast

import aiohttp
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from gateway.auth.algorithms import HMAC_MIN_SECRET_BYTES, VerificationKey, describe_key, key_fits
from gateway.errors import ConfigError

log = logging.getLogger(__name__)

SECRET_ENV_PATH = ("auth", "jwt", "secret_env")
PUBLIC_KEY_PATH = ("auth", "jwt", "public_key_file")
ALGORITHMS_PATH = ("auth", "jwt", "algorithms")


class KeyResolver(Protocol):
    """Finds the key that verifies a token signed with `algorithm` (and `kid`, if any)."""

    @property
    def generation(self) -> int:
        """Changes whenever the key set changes, so cached verifications can be dropped."""
        ...

    async def key_for(self, kid: str | None, algorithm: str) -> VerificationKey: ...

    def poll(self) -> None:
        """Called on every authenticated request, cached or not: refresh keys when stale."""
        ...

    async def start(self, session: aiohttp.ClientSession) -> None: ...

    async def close(self) -> None: ...


class StaticKey:
    """A single key configured in the rules; a token's `kid` does not matter for it."""

    generation = 0

    def __init__(self, key: VerificationKey) -> None:
        self._key = key

    async def key_for(self, kid: str | None, algorithm: str) -> VerificationKey:
        return self._key

    def poll(self) -> None:
        return None

    async def start(self, session: aiohttp.ClientSession) -> None:
        return None

    async def close(self) -> None:
        return None


def load_secret(env_name: str, environ: Mapping[str, str], algorithms: frozenset[str]) -> bytes:
    """The HMAC secret from `env_name`, as bytes."""
    value = environ.get(env_name)
    if value is None:
        raise ConfigError(SECRET_ENV_PATH, f"environment variable {env_name} is not set")
    secret = value.encode("utf-8")
    if not secret:
        raise ConfigError(SECRET_ENV_PATH, f"environment variable {env_name} is empty")
    wanted = max(HMAC_MIN_SECRET_BYTES[name] for name in algorithms)
    if len(secret) < wanted:
        # Short secrets are accepted (local trials) but brute-forceable: say so once, at load.
        log.warning(
            "the JWT secret in %s is %d bytes; %d or more are recommended (RFC 7518 3.2)",
            env_name,
            len(secret),
            wanted,
        )
    return secret


def load_public_key_file(path: str, algorithms: frozenset[str]) -> VerificationKey:
    """The public key in a PEM file (a public key or a certificate), checked against algorithms."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        message = f"cannot read public key file {path}: {reason}"
        raise ConfigError(PUBLIC_KEY_PATH, message) from None
    if b"PRIVATE KEY-----" in data:
        # SECURITY: a verifier never needs the signing key; refuse rather than hold it in memory.
        raise ConfigError(PUBLIC_KEY_PATH, f"{path} holds a private key; give the public key")
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key: object = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError(
            PUBLIC_KEY_PATH, f"{path} is not a PEM public key or certificate"
        ) from None
    for name in sorted(algorithms):
        if not key_fits(name, key):
            raise ConfigError(
                ALGORITHMS_PATH,
                f"{name} cannot be verified with the {describe_key(key)} key in {path}",
            )
    return cast(VerificationKey, key)  # key_fits proved its type
