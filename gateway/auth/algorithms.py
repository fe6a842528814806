"""JWS algorithm families and which verification key fits which algorithm.

The allow-list in the rules names algorithms; this module knows, for each one, the only key type
that may verify it. Matching the key *type* to the algorithm (not just the name) is what makes HS/RS
key confusion impossible: an HMAC algorithm only ever receives raw secret bytes, an asymmetric one
only a public-key object.
"""

from __future__ import annotations

from typing import TypeAlias

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

VerificationKey: TypeAlias = (
    bytes | RSAPublicKey | EllipticCurvePublicKey | Ed25519PublicKey | Ed448PublicKey
)

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
# ES* names pin the curve (RFC 7518 3.4): an ES256 token must be verified with a P-256 key.
EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1"}
EDDSA = "EdDSA"
SUPPORTED_ALGORITHMS = HMAC_ALGORITHMS | RSA_ALGORITHMS | frozenset(EC_CURVES) | {EDDSA}

# RFC 7518 3.2: an HMAC key must be at least as long as the hash output.
HMAC_MIN_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


def is_hmac(algorithm: str) -> bool:
    return algorithm in HMAC_ALGORITHMS


def key_fits(algorithm: str, key: object) -> bool:
    """True when `key` is the one kind of key that may verify `algorithm`."""
    # SECURITY: this is the key-confusion barrier; never relax it to "pyjwt will cope".
    if algorithm in HMAC_ALGORITHMS:
        return isinstance(key, bytes)
    if algorithm in RSA_ALGORITHMS:
        return isinstance(key, RSAPublicKey)
    curve = EC_CURVES.get(algorithm)
    if curve is not None:
        return isinstance(key, EllipticCurvePublicKey) and key.curve.name == curve
    if algorithm == EDDSA:
        return isinstance(key, Ed25519PublicKey | Ed448PublicKey)
    return False


def describe_key(key: object) -> str:
    """A short human name for a key type, for load-time error messages."""
    if isinstance(key, RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, Ed448PublicKey):
        return "Ed448"
    return type(key).__name__
