"""SendGrid Inbound Parse: the From address, a multipart part appended, attachments untouched."""

from __future__ import annotations

import pytest
from channel_kit import FIELD, HEADER, hook, ref_id, request, resolver
from multipart_kit import BOUNDARY, field_values, multipart, part, read_parts

CT = f"multipart/form-data; boundary={BOUNDARY}"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) + b"\r\n--xYzZ not a boundary\r\n"


def parsed_email(sender: str, *, attachment: bool = True) -> bytes:
    parts = [
        part(
            "headers",
            f"Received: by mx0047p1mdw1.sendgrid.net\nFrom: {sender}\nSubject: Order 1234\n",
        ),
        part("dkim", "{@example.com : pass}"),
        part("content-ids", '{"ii_139db99fdb5c3704":"attachment1"}'),
        part("to", "support@shop.example"),
        part("html", "<p>My order has not arrived.</p>"),
        part("from", sender),
        part("text", "My order has not arrived.\n"),
        part("sender_ip", "209.85.223.172"),
        part("envelope", '{"to":["support@shop.example"],"from":"bounce@example.com"}'),
        part("attachments", "1" if attachment else "0"),
        part("subject", "Order 1234"),
        part(
            "charsets",
            '{"to":"UTF-8","html":"UTF-8","subject":"UTF-8","from":"UTF-8","text":"UTF-8"}',
        ),
        part("SPF", "pass"),
    ]
    if attachment:
        parts.append(
            part("attachment-info", '{"attachment1":{"filename":"receipt.png","type":"image/png"}}')
        )
        parts.append(part("attachment1", PNG, filename="receipt.png", ctype="image/png"))
    return multipart(parts)


def test_from_address_is_stamped_as_a_new_part() -> None:
    body = parsed_email('"Doe, Jane" <Jane.Doe@Example.com>')
    result = hook("sendgrid").process(request(body, {"Content-Type": CT}))
    expected = ref_id("email", "jane.doe@example.com")
    assert result.outcome == "stamped" and result.kinds == ("email",)
    assert result.set_headers == {HEADER: expected}  # boundary kept: no new Content-Type
    fields = field_values(result.body, CT)
    assert fields[FIELD] == expected.encode()
    assert fields["attachment1"] == PNG  # attachment bytes intact
    assert fields["from"] == b'"Doe, Jane" <Jane.Doe@Example.com>'
    # Every original part is still there, in order, followed by ours.
    names = [p.get_param("name", header="content-disposition") for p in read_parts(result.body, CT)]
    originals = [p.get_param("name", header="content-disposition") for p in read_parts(body, CT)]
    assert names == [*originals, FIELD]
    # The provider's bytes are kept as they were, the part inserted before the closing line.
    close = body.rindex(f"\r\n--{BOUNDARY}--".encode())
    assert result.body.startswith(body[:close]) and result.body.endswith(body[close:])


def test_raw_mime_mode() -> None:
    raw = (
        "From: Jane Doe <jane@example.com>\r\nTo: support@shop.example\r\n"
        "Subject: Hi\r\n\r\nHello\r\n"
    )
    body = multipart(
        [part("email", raw), part("to", "support@shop.example"), part("charsets", "{}")]
    )
    result = hook("sendgrid").process(request(body, {"Content-Type": CT}))
    assert result.ids == (ref_id("email", "jane@example.com"),)


def test_signed_parse_webhook_body_is_not_touched() -> None:
    body = parsed_email("jane@example.com")
    headers = {
        "Content-Type": CT,
        "X-Twilio-Email-Event-Webhook-Signature": "MEUCIQ...",
        "X-Twilio-Email-Event-Webhook-Timestamp": "1700000000",
    }
    result = hook("sendgrid").process(request(body, headers))
    assert result.outcome == "stamped_header_only" and result.body is body
    assert result.set_headers == {HEADER: ref_id("email", "jane@example.com")}


@pytest.mark.parametrize(
    "sender", ["", "postmaster", "a@b@c", "Jane <jane@example.com>, bob@example.com"]
)
def test_no_identity(sender: str) -> None:
    body = parsed_email(sender, attachment=False)
    result = hook("sendgrid").process(request(body, {"Content-Type": CT}))
    assert result.outcome == "no_identity" and result.body is body and result.set_headers == {}


def test_phone_only_identity_ignores_email() -> None:
    body = parsed_email("jane@example.com")
    channel = hook("sendgrid", omni=resolver(identify_by=["phone"]))
    assert channel.process(request(body, {"Content-Type": CT})).outcome == "no_identity"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"--xYzZY\r\nbroken", CT),  # truncated
        (b"from=jane%40example.com", "text/plain"),  # not a form
        (b"", CT),
        (b"anything", "multipart/form-data"),  # no boundary
    ],
)
def test_unparsable_is_forwarded_as_is(body: bytes, content_type: str) -> None:
    result = hook("sendgrid").process(request(body, {"Content-Type": content_type}))
    assert result.outcome == "unparsable" and result.body is body


def test_urlencoded_variant() -> None:
    body = b"from=Jane+%3Cjane%40example.com%3E&subject=Hi"
    result = hook("sendgrid").process(
        request(body, {"Content-Type": "application/x-www-form-urlencoded"})
    )
    expected = ref_id("email", "jane@example.com")
    assert result.body == body + f"&{FIELD}={expected}".encode()
