"""Twilio webhooks: SMS, WhatsApp and voice (SPEC 5).

Authenticity (Twilio "Webhooks security"): `X-Twilio-Signature` is
base64(HMAC-SHA1(auth token, URL + every POST parameter as name+value, sorted by name)), over the
URL configured at Twilio (the glue passes it as `req.url`). As Twilio's own validator does, the
URL is also tried with the default port added or removed. Adding the stamp field changes the
parameters, so the request is re-signed with the same token over the same URL.
GET webhooks (parameters in the query string) and JSON webhooks (signed `bodySHA256` query
parameter) cannot be re-signed: their identity goes into the header only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from gateway.channels.contract import (
    NO_IDENTITY,
    PASSTHROUGH,
    ChannelSpec,
    WebhookRequest,
    WebhookResult,
    unchanged,
)
from gateway.channels.form import (
    URLENCODED,
    append_urlencoded,
    media_type,
    parse_urlencoded,
    urlencoded_without,
)
from gateway.channels.ledger import StampLedger
from gateway.channels.signature import same
from gateway.errors import BadSignature

SIGNATURE_HEADER = "X-Twilio-Signature"
_DEFAULT_PORTS = {"https": 443, "http": 80}
# Callbacks about our own outbound messages carry our number in `From`.
_INBOUND_SMS_STATUS = ("received", "")


def twilio_signature(token: bytes, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's algorithm, as in its reference validator (values of a repeated name sorted)."""
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    pairs = (name + value for name in sorted(grouped) for value in sorted(grouped[name]))
    text = url + "".join(pairs)
    return base64.b64encode(hmac.new(token, text.encode(), hashlib.sha1).digest()).decode()


def url_variants(url: str) -> list[str]:
    """The URL as given, without its port, and with the scheme's default port."""
    parts = urlsplit(url)
    variants = [url]
    try:
        port = parts.port
    except ValueError:
        return variants
    if port is not None:
        host = parts.netloc[: parts.netloc.rfind(":")]
        variants.append(urlunsplit(parts._replace(netloc=host)))
    elif parts.scheme in _DEFAULT_PORTS:
        netloc = f"{parts.netloc}:{_DEFAULT_PORTS[parts.scheme]}"
        variants.append(urlunsplit(parts._replace(netloc=netloc)))
    return variants


class TwilioChannel:
    name = "twilio"

    def __init__(self, cfg: ChannelSpec) -> None:
        self._resolver = cfg.resolver
        self._token = cfg.secret

    def process(self, req: WebhookRequest) -> WebhookResult:
        in_query = req.method.upper() in ("GET", "HEAD")
        form = not in_query and media_type(req.headers) == URLENCODED
        params = parse_urlencoded(req.body) if form else []
        url = self._verify(req, params, form)
        if self._resolver is None:
            return unchanged(req, PASSTHROUGH)
        field = self._resolver.field
        body = req.body
        if form:
            # SECURITY: a stamp field from outside is dropped, stamped or not (SPEC 5); the
            # cleaned form is re-signed below like a stamped one.
            body = urlencoded_without(req.body, field)
            if body is not req.body:
                params = [(name, value) for name, value in params if name != field]
        elif in_query:
            params = parse_qsl(urlsplit(req.url).query, keep_blank_values=True)
        else:
            return unchanged(req, NO_IDENTITY)  # JSON callbacks hold no sender to stamp
        fields = dict(params)
        ledger = StampLedger(self._resolver)
        if "MessageStatus" in fields or fields.get("SmsStatus", "") not in _INBOUND_SMS_STATUS:
            return self._result(req, ledger, body, params, url)  # delivery status callback
        if fields.get("Direction", "inbound").startswith("outbound"):
            return self._result(req, ledger, body, params, url)  # `From` is our own number
        # PII: WaId is the WhatsApp sender's international digits; From is `whatsapp:+1...`,
        # `+1...`, or an alphanumeric / short-code sender that resolves to nothing.
        resolved = ledger.resolve(phone=fields.get("WaId"), international=True)
        resolved = resolved or ledger.resolve(phone=fields.get("From"))
        if resolved is None:
            return self._result(req, ledger, body, params, url)
        ledger.record(resolved)
        if in_query or (self._token is None and SIGNATURE_HEADER in req.headers):
            return ledger.result(req, body)  # cannot re-sign: header only
        body = append_urlencoded(body, field, resolved.id)
        return self._result(req, ledger, body, [*params, (field, resolved.id)], url)

    def _result(
        self,
        req: WebhookRequest,
        ledger: StampLedger,
        body: bytes,
        params: list[tuple[str, str]],
        url: str | None,
    ) -> WebhookResult:
        """Forward `body`, re-signed over `params` when it is not the body Twilio signed."""
        signed: dict[str, str] = {}
        if body is not req.body and self._token is not None and url is not None:
            signed[SIGNATURE_HEADER] = twilio_signature(self._token, url, params)
        return ledger.result(req, body, signed)

    def _verify(self, req: WebhookRequest, params: list[tuple[str, str]], form: bool) -> str | None:
        """The URL variant the signature matched (None without a token); raises BadSignature."""
        if self._token is None:
            return None
        given = req.headers.get(SIGNATURE_HEADER)
        if given is None:
            raise BadSignature(f"{SIGNATURE_HEADER} is missing")
        body_hash = dict(parse_qsl(urlsplit(req.url).query)).get("bodySHA256")
        if not form and req.body and body_hash is not None:
            # SECURITY: JSON webhooks sign the URL only; the URL carries the body's hash.
            if not same(hashlib.sha256(req.body).hexdigest(), body_hash.lower()):
                raise BadSignature(f"{SIGNATURE_HEADER} does not match the body")
        elif not form and req.body:
            # SECURITY: any other body would ride on a signature that does not cover it.
            raise BadSignature(f"{SIGNATURE_HEADER} cannot cover this body")
        for url in url_variants(req.url):
            # SECURITY: constant-time comparison of the base64 signature.
            if same(twilio_signature(self._token, url, params), given.strip()):
                return url
        raise BadSignature(f"{SIGNATURE_HEADER} does not match")
