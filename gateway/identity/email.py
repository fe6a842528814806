"""Email addresses normalised for the omnichannel identity (SPEC 4)."""

from __future__ import annotations

from email.utils import getaddresses

_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

# SECURITY: a From header longer than an RFC 5322 line is not worth parsing; bounds the work the
# address parser does on hostile input.
_MAX_CHARS = 998
_MAX_ADDRESS = 254  # RFC 5321 path limit

# Characters that never appear in a plain (unquoted) address as the upstream would store it.
_FORBIDDEN = frozenset('<>()[]\\,;:" ')


def normalise_email(raw: str, *, fold_gmail: bool, strip_plus: bool) -> str | None:
    """Return the single address in `raw`, trimmed and lower-cased, or None.

    `raw` may be a bare address or a header value like `"Doe, Jane" <Jane@Example.com>`. A value
    naming several different addresses is ambiguous and identifies nobody.
    """
    if not isinstance(raw, str) or len(raw) > _MAX_CHARS:
        return None
    found = {
        address.strip().lower()
        for _, address in getaddresses([raw])
        if _is_address(address.strip())
    }
    if len(found) != 1:
        return None
    local, domain = found.pop().split("@")
    if strip_plus and "+" in local:
        stripped = local.split("+", 1)[0]
        local = stripped or local  # "+tag@x" has nothing before the tag: keep it whole
    if fold_gmail and domain in _GMAIL_DOMAINS:
        # PII: Gmail ignores dots in the local part and googlemail.com is the same mailbox.
        local = local.replace(".", "") or local
        domain = "gmail.com"
    return f"{local}@{domain}"


def _is_address(address: str) -> bool:
    if not address or len(address) > _MAX_ADDRESS or address.count("@") != 1:
        return False
    if any(ch in _FORBIDDEN or not ch.isprintable() for ch in address):
        return False
    local, domain = address.split("@")
    if not local or "." not in domain:
        return False
    return all(domain.split("."))  # no empty labels: "a@.com", "a@x..com", "a@x.com."
