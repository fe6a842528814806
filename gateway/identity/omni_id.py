"""The omnichannel customer id, and the resolver compiled from the `omnichannel:` rules (SPEC 4)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import phonenumbers

from gateway.errors import ConfigError
from gateway.identity.email import normalise_email
from gateway.identity.linking import Linking
from gateway.identity.phone import normalise_phone

Kind = Literal["phone", "email"]
KINDS: tuple[Kind, ...] = ("phone", "email")

DEFAULT_SECRET_ENV = "OMNIGATE_ID_SECRET"  # noqa: S105 - a variable name, not a secret
DEFAULT_HEADER = "X-Omni-Customer-Id"
DEFAULT_FIELD = "omni_customer_id"
_ID_LENGTH = 26
_SECTION = "omnichannel"


def omni_id(secret: bytes, kind: Kind, value: str) -> str:
    """`omni_` + 26 lower-case base32 characters of HMAC-SHA256(secret, "kind:value")."""
    # SECURITY: keyed, so the id is stable across replicas yet cannot be reversed (or brute-forced
    # over the small space of phone numbers) without the secret.
    digest = hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return "omni_" + base64.b32encode(digest).decode("ascii").lower().rstrip("=")[:_ID_LENGTH]


@dataclass(frozen=True)
class Resolved:
    id: str
    kind: Kind


class IdentityResolver:
    """Turns a channel's raw phone / email into the customer id, by the configured priority."""

    def __init__(
        self,
        secret: bytes,
        identify_by: tuple[Kind, ...],
        region: str,
        header: str,
        field: str,
        fold_gmail: bool,
        strip_plus: bool,
        blocked: frozenset[tuple[Kind, str]],
    ) -> None:
        self._secret = secret
        self.identify_by = identify_by
        self.region = region
        self.header = header
        self.field = field
        self._fold_gmail = fold_gmail
        self._strip_plus = strip_plus
        self._blocked = blocked
        self.linking: Linking | None = None

    @classmethod
    def compile(
        cls, section: Mapping[str, Any] | None, environ: Mapping[str, str]
    ) -> IdentityResolver | None:
        """Build the resolver once at load; None when the rules have no `omnichannel` section."""
        if section is None:
            return None
        env_name = _text(section, "id_secret_env", DEFAULT_SECRET_ENV)
        secret = environ.get(env_name)
        secret_key = (_SECTION, "id_secret_env")
        if secret is None:
            raise ConfigError(secret_key, f"environment variable {env_name} is not set")
        if not secret:
            # SECURITY: an empty HMAC key would make every id a plain, brute-forceable hash.
            raise ConfigError(secret_key, f"environment variable {env_name} is empty")
        region = _text(section, "default_region", "US").upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError((_SECTION, "default_region"), f"unknown region code {region!r}")
        email = section.get("email") or {}
        if not isinstance(email, Mapping):
            raise ConfigError((_SECTION, "email"), "must be a mapping")
        fold_gmail = _flag(email, "fold_gmail")
        strip_plus = _flag(email, "strip_plus")
        resolver = cls(
            secret=secret.encode(),
            identify_by=_identify_by(section.get("identify_by", list(KINDS))),
            region=region,
            header=_text(section, "header", DEFAULT_HEADER),
            field=_text(section, "field", DEFAULT_FIELD),
            fold_gmail=fold_gmail,
            strip_plus=strip_plus,
            blocked=frozenset(),
        )
        resolver._blocked = resolver._compile_blocked(section.get("blocked", []))
        resolver.linking = Linking.compile(section.get("linking"), environ)
        return resolver

    def resolve(
        self,
        phone: Any = None,
        email: Any = None,
        *,
        international: bool = False,
        learn: str | None = None,
    ) -> Resolved | None:
        """The first `identify_by` attribute that yields a valid, non-blocked identity wins; with
        linking on, its cluster's id (SPEC 4.1). `learn` names the source ("responses" /
        "webhooks") when the object carries both identities and may teach a link.

        Never raises, never waits: identity failures must never fail a request (SPEC 4).
        """
        linking = self.linking
        if linking is not None and learn in linking.learn_from and None not in (phone, email):
            return self._learn(linking, phone, email, international)
        for kind in self.identify_by:
            raw = phone if kind == "phone" else email
            found = self._own_id(kind, raw, international)
            if found is not None:
                if linking is not None:
                    found = linking.linker.resolve(found)
                return Resolved(found, kind)
        return None

    def _learn(
        self, linking: Linking, phone: Any, email: Any, international: bool
    ) -> Resolved | None:
        raws = {"phone": phone, "email": email}
        kinds = self.identify_by
        for index, kind in enumerate(kinds):  # noqa: B007 - `index` is used after the loop
            own = self._own_id(kind, raws[kind], international)
            if own is not None:
                break
        else:
            return None
        linker = linking.linker
        rest = [(other, raws[other]) for other in kinds[index + 1 :]]
        keys = [(own, other, hash(raw)) for other, raw in rest if raw is not None]
        learned = linker.learned
        if all(key in learned for key in keys):
            return Resolved(linker.resolve(own), kind)  # a pair seen linked before: no more work
        ids = [own]
        for other, raw in rest:
            other_id = self._own_id(other, raw, international)
            if other_id is not None:
                ids.append(other_id)
        if len(ids) == 1:
            return Resolved(linker.resolve(own), kind)
        # PII: only the keyed ids go to the store, never the phone or the address.
        cluster_id = linker.learn(ids)
        if linker.together(ids):
            learned.update(dict.fromkeys(keys))
        return Resolved(cluster_id, kind)

    def _own_id(self, kind: Kind, raw: Any, international: bool) -> str | None:
        """The id of one attribute value before linking, or None."""
        if raw is None:
            return None
        value = self.normalise(kind, raw, international=international)
        if value is None or (kind, value) in self._blocked:
            return None
        return omni_id(self._secret, kind, value)

    def normalise(self, kind: Kind, raw: Any, *, international: bool = False) -> str | None:
        """The canonical form of one attribute value, or None when it identifies nobody."""
        try:
            if kind == "phone":
                if isinstance(raw, bool) or not isinstance(raw, str | int):
                    return None
                return normalise_phone(raw, self.region, international=international)
            if not isinstance(raw, str):
                return None
            return normalise_email(raw, fold_gmail=self._fold_gmail, strip_plus=self._strip_plus)
        except Exception:  # fail open: a parser bug on odd input must not fail the request
            return None

    def _compile_blocked(self, entries: Any) -> frozenset[tuple[Kind, str]]:
        if not isinstance(entries, list):
            raise ConfigError((_SECTION, "blocked"), "must be a list of phone numbers or emails")
        blocked: set[tuple[Kind, str]] = set()
        for index, entry in enumerate(entries):
            if isinstance(entry, bool) or not isinstance(entry, str | int):
                raise ConfigError((_SECTION, "blocked", index), "must be a phone number or email")
            # An entry that is not a valid phone or email can never match: invalid values never
            # identify anyone in the first place (e.g. the placeholder "+10000000000").
            for kind in KINDS:
                value = self.normalise(kind, entry)
                if value is not None:
                    blocked.add((kind, value))
        return frozenset(blocked)


def _identify_by(value: Any) -> tuple[Kind, ...]:
    key = (_SECTION, "identify_by")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ConfigError(key, "must be a non-empty list of: phone, email")
    kinds: list[Kind] = []
    for index, item in enumerate(value):
        if item not in KINDS:
            raise ConfigError((*key, index), "must be one of: phone, email")
        if item in kinds:
            raise ConfigError((*key, index), f"{item} is listed twice")
        kinds.append("phone" if item == "phone" else "email")
    return tuple(kinds)


def _text(section: Mapping[str, Any], key: str, default: str) -> str:
    value = section.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError((_SECTION, key), "must be a non-empty string")
    return value.strip()


def _flag(email: Mapping[str, Any], key: str) -> bool:
    value = email.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError((_SECTION, "email", key), "must be true or false")
    return value
