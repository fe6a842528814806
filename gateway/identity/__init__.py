"""Omnichannel identity: phone / email normalisation and the stable customer id (SPEC 4)."""

from gateway.identity.email import normalise_email
from gateway.identity.omni_id import IdentityResolver, Resolved, omni_id
from gateway.identity.phone import normalise_phone

__all__ = ["IdentityResolver", "Resolved", "normalise_email", "normalise_phone", "omni_id"]
