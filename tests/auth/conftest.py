"""Real keys (RSA, EC P-256, Ed25519) for the auth tests, generated once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from auth_tokens import HS_SECRET, SECRET_ENV, KeyPair
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


def _pair(private: Any) -> KeyPair:
    return KeyPair(private, private.public_key())


@pytest.fixture(scope="session")
def rsa_key() -> KeyPair:
    return _pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def other_rsa_key() -> KeyPair:
    return _pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def ec_key() -> KeyPair:
    return _pair(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="session")
def ed_key() -> KeyPair:
    return _pair(ed25519.Ed25519PrivateKey.generate())


@pytest.fixture
def pem_file(tmp_path: Path) -> Callable[[bytes], str]:
    def write(data: bytes) -> str:
        path = tmp_path / f"key-{len(list(tmp_path.iterdir()))}.pem"
        path.write_bytes(data)
        return str(path)

    return write


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The HS256 secret `auth_tokens.hs_auth` reads, in the environment."""
    monkeypatch.setenv(SECRET_ENV, HS_SECRET)
