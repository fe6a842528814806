"""Twilio webhooks: SMS and WhatsApp, X-Twilio-Signature verified and re-signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode

import pytest
from channel_kit import FIELD, HEADER, TWILIO_TOKEN, hook, ref_id, request

from gateway.errors import BadSignature

URL = "https://hooks.example.com/webhooks/twilio"
SMS = [
    ("ToCountry", "US"),
    ("ToState", "CA"),
    ("SmsMessageSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f"),
    ("NumMedia", "0"),
    ("FromZip", "94105"),
    ("SmsSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f"),
    ("FromState", "CA"),
    ("SmsStatus", "received"),
    ("FromCity", "SAN FRANCISCO"),
    ("Body", "Where is my order? +1 (415) 555-0000 & more"),
    ("FromCountry", "US"),
    ("To", "+15017122661"),
    ("NumSegments", "1"),
    ("MessageSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f"),
    ("AccountSid", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
    ("From", "+14155557890"),
    ("ApiVersion", "2010-04-01"),
]
WHATSAPP = [
    ("SmsMessageSid", "SM2b9c4d1e0f"),
    ("NumMedia", "0"),
    ("ProfileName", "Jane"),
    ("MessageType", "text"),
    ("SmsSid", "SM2b9c4d1e0f"),
    ("WaId", "14155557890"),
    ("SmsStatus", "received"),
    ("Body", "Hola"),
    ("To", "whatsapp:+14155238886"),
    ("NumSegments", "1"),
    ("MessageSid", "SM2b9c4d1e0f"),
    ("AccountSid", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
    ("From", "whatsapp:+14155557890"),
    ("ApiVersion", "2010-04-01"),
]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def twilio_sign(url: str, params: list[tuple[str, str]], token: str = TWILIO_TOKEN) -> str:
    """Twilio's documented algorithm: URL + each POST parameter name+value sorted by name."""
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def post(
    params: list[tuple[str, str]], url: str = URL, sign_url: str | None = None
) -> tuple[bytes, dict[str, str]]:
    body = urlencode(params).encode()
    return body, {**FORM, "X-Twilio-Signature": twilio_sign(sign_url or url, params)}


def test_sms_is_stamped_and_resigned() -> None:
    body, headers = post(SMS)
    result = hook("twilio", "TWILIO_AUTH_TOKEN").process(request(body, headers, url=URL))
    expected = ref_id("phone", "+14155557890")
    assert result.outcome == "stamped" and result.ids == (expected,)
    assert result.set_headers[HEADER] == expected
    assert result.body.startswith(body)  # the provider's bytes are kept, the field appended
    forwarded = parse_qsl(result.body.decode(), keep_blank_values=True)
    assert forwarded == [*SMS, (FIELD, expected)]
    # The upstream's own check, over the same URL, passes on the forwarded parameters.
    assert result.set_headers["X-Twilio-Signature"] == twilio_sign(URL, forwarded)


def test_same_person_on_whatsapp_twilio_whatsapp_and_sms() -> None:
    import orjson
    from channel_kit import meta_sha256

    cloud = orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "contacts": [{"profile": {"name": "Jane"}, "wa_id": "14155557890"}],
                                "messages": [
                                    {"from": "14155557890", "id": "wamid.1", "type": "text"}
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    )
    meta = hook("whatsapp", "META_APP_SECRET").process(
        request(cloud, {"X-Hub-Signature-256": meta_sha256(cloud)})
    )
    twilio = hook("twilio", "TWILIO_AUTH_TOKEN")
    via_twilio_whatsapp = twilio.process(request(*post(WHATSAPP), url=URL))
    sms_params = [(k, "(415) 555-7890" if k == "From" else v) for k, v in SMS]  # national form
    via_sms = twilio.process(request(*post(sms_params), url=URL))
    assert meta.ids == via_twilio_whatsapp.ids == via_sms.ids == (ref_id("phone", "+14155557890"),)


def test_whatsapp_from_without_waid() -> None:
    params = [(k, v) for k, v in WHATSAPP if k != "WaId"]
    result = hook("twilio", "TWILIO_AUTH_TOKEN").process(request(*post(params), url=URL))
    assert result.ids == (ref_id("phone", "+14155557890"),)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"From": "MyBrand"}, "alphanumeric sender"),
        ({"From": "12345"}, "short code"),
        ({"From": "client:alice"}, "voice client"),
    ],
)
def test_senders_that_are_not_phones(changes: dict[str, str], why: str) -> None:
    params = [(k, changes.get(k, v)) for k, v in SMS]
    body, headers = post(params)
    result = hook("twilio", "TWILIO_AUTH_TOKEN").process(request(body, headers, url=URL))
    assert result.outcome == "no_identity" and result.body is body and result.set_headers == {}


def test_status_callback_is_not_stamped() -> None:
    params = [
        ("MessageSid", "SM1"),
        ("MessageStatus", "delivered"),
        ("SmsStatus", "delivered"),
        ("From", "+15017122661"),  # our number
        ("To", "+14155557890"),
        ("AccountSid", "AC1"),
    ]
    body, headers = post(params)
    result = hook("twilio", "TWILIO_AUTH_TOKEN").process(request(body, headers, url=URL))
    assert result.outcome == "no_identity" and result.body is body


def test_outbound_call_is_not_stamped() -> None:
    params = [("CallSid", "CA1"), ("Direction", "outbound-api"), ("From", "+15017122661")]
    result = hook("twilio", "TWILIO_AUTH_TOKEN").process(request(*post(params), url=URL))
    assert result.outcome == "no_identity"


def test_inbound_call_is_stamped() -> None:
    params = [
        ("CallSid", "CA1"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", "+14155557890"),
    ]
    result = hook("twilio", "TWILIO_AUTH_TOKEN").process(request(*post(params), url=URL))
    assert result.ids == (ref_id("phone", "+14155557890"),)


@pytest.mark.parametrize(
    ("signed_url", "received_url"),
    [
        ("https://hooks.example.com:443/webhooks/twilio", URL),  # Twilio signed with the port
        (URL, "https://hooks.example.com:443/webhooks/twilio"),  # the glue saw the port
    ],
)
def test_default_port_variants(signed_url: str, received_url: str) -> None:
    body, headers = post(SMS, sign_url=signed_url)
    result = hook("twilio", "TWILIO_AUTH_TOKEN").process(request(body, headers, url=received_url))
    forwarded = parse_qsl(result.body.decode(), keep_blank_values=True)
    # Re-signed over the variant that matched, so the upstream check sees the same URL.
    assert result.set_headers["X-Twilio-Signature"] == twilio_sign(signed_url, forwarded)


def test_query_string_is_part_of_the_signed_url() -> None:
    url = URL + "?tenant=7"
    body, headers = post(SMS, url=url)
    assert hook("twilio", "TWILIO_AUTH_TOKEN").process(request(body, headers, url=url)).ids
    with pytest.raises(BadSignature):
        hook("twilio", "TWILIO_AUTH_TOKEN").process(request(body, headers, url=URL))


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda b, h: (b.replace(b"Where", b"There"), h), "body tampered"),
        (lambda b, h: (b, {**FORM}), "signature missing"),
        (
            lambda b, h: (b, {**h, "X-Twilio-Signature": twilio_sign(URL, SMS, "other-token")}),
            "wrong token",
        ),
        (lambda b, h: (b + b"&Extra=1", h), "parameter added"),
    ],
)
def test_bad_signatures(mutate: object, why: str) -> None:
    body, headers = post(SMS)
    body, headers = mutate(body, headers)  # type: ignore[operator]
    with pytest.raises(BadSignature):
        hook("twilio", "TWILIO_AUTH_TOKEN").process(request(body, headers, url=URL))


def test_get_webhook_is_verified_and_header_stamped() -> None:
    url = URL + "?" + urlencode(SMS)
    headers = {"X-Twilio-Signature": twilio_sign(url, [])}
    result = hook("twilio", "TWILIO_AUTH_TOKEN").process(request(b"", headers, "GET", url))
    assert result.outcome == "stamped_header_only" and result.body == b""
    assert result.set_headers == {HEADER: ref_id("phone", "+14155557890")}
    with pytest.raises(BadSignature):
        hook("twilio", "TWILIO_AUTH_TOKEN").process(request(b"", {}, "GET", url))


def test_json_webhook_signed_by_body_hash() -> None:
    body = b'{"EventType": "onMessageAdded"}'
    url = URL + "?bodySHA256=" + hashlib.sha256(body).hexdigest()
    headers = {"Content-Type": "application/json", "X-Twilio-Signature": twilio_sign(url, [])}
    result = hook("twilio", "TWILIO_AUTH_TOKEN").process(request(body, headers, url=url))
    assert result.outcome == "no_identity" and result.body is body
    with pytest.raises(BadSignature):
        hook("twilio", "TWILIO_AUTH_TOKEN").process(request(body + b" ", headers, url=url))
    with pytest.raises(BadSignature):  # a body without a signed hash is not covered at all
        hook("twilio", "TWILIO_AUTH_TOKEN").process(
            request(body, {**headers, "X-Twilio-Signature": twilio_sign(URL, [])}, url=URL)
        )


def test_without_token_a_signed_request_is_header_stamped() -> None:
    body, headers = post(SMS)
    result = hook("twilio").process(request(body, headers, url=URL))
    assert result.outcome == "stamped_header_only" and result.body is body


def test_without_token_and_signature_the_field_is_added() -> None:
    body = urlencode(SMS).encode()
    result = hook("twilio").process(request(body, FORM, url=URL))
    assert result.outcome == "stamped" and "X-Twilio-Signature" not in result.set_headers
    assert (
        result.body == body + b"&" + urlencode([(FIELD, ref_id("phone", "+14155557890"))]).encode()
    )
