"""The shipped JSON Schema: well-formed, strict, and accepting exactly the SPEC's rule format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from gateway.rules_schema import RULES_SCHEMA

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = Draft202012Validator(RULES_SCHEMA)

# The SPEC's own examples (sections 3, 3.8, 4, 5) as one file.
SPEC_EXAMPLE = """\
version: 1
auth:
  jwt:
    algorithms: [RS256]
    jwks_url: https://id.example.com/.well-known/jwks.json
    issuer: https://id.example.com/
    audience: chat-api
    role_claim: realm_access.roles
    leeway_seconds: 30
    token_from: [header, cookie:session, query:access_token]
  missing_token: default_role
roles:
  admin:        { masking: false }
  team_manager: { masking: true }
  agent:        { masking: true }
default_role: agent
attributes:
  user_name: name
  user_number: phone
  user_email: email
secrets:
  hash_key_env: OMNIGATE_HASH_KEY
routes:
  - name: contact
    match: { method: [GET], path: "/api/v1/accounts/{account_id}/contacts/{id}" }
    response:
      - { path: "$.payload.phone_number", mask: phone }
      - { path: "$.payload.email",        mask: email }
      - { path: "$.payload.name",         mask: name }
      - { path: "$.payload.custom_attributes", mask: attributes }
      - { path: "$.payload.additional_attributes.notes", mask: text, roles: [agent] }
      - { path: "$.payload.id", mask: { type: partial, keep_last: 2 } }
    stamp:
      - { at: "$.payload", phone: "$.phone_number", email: "$.email" }
  - name: messages
    match: { path: "/api/v1/accounts/{account_id}/conversations/{id}/messages" }
    response:
      - { path: "$.payload[*].content", mask: text }
      - { path: "$..sender.phone_number", mask: phone }
    non_json: pass
    write_guard: strip
    binary: pass
omnichannel:
  identify_by: [phone, email]
  default_region: US
  id_secret_env: OMNIGATE_ID_SECRET
  header: X-Omni-Customer-Id
  field: omni_customer_id
  email: { fold_gmail: false, strip_plus: false }
  blocked: ["+10000000000", "support@example.com"]
webhooks:
  - { channel: whatsapp,  path: /webhooks/whatsapp, secret_env: META_APP_SECRET }
  - { channel: messenger, path: /webhooks/messenger, secret_env: META_APP_SECRET }
  - { channel: instagram, path: /webhooks/instagram, secret_env: META_APP_SECRET }
  - { channel: twilio,    path: /webhooks/twilio, secret_env: TWILIO_AUTH_TOKEN,
      public_url: "https://gw.example.com/webhooks/twilio" }
  - { channel: sendgrid,  path: /webhooks/email }
  - { channel: mailgun,   path: /webhooks/mailgun, secret_env: MAILGUN_SIGNING_KEY }
  - { channel: telegram,  path: /webhooks/telegram, secret_env: TELEGRAM_SECRET_TOKEN }
  - { channel: 360dialog, path: /webhooks/360dialog, secret_env: D360_PARTNER_SECRET }
  - { channel: gupshup,   path: /webhooks/gupshup }
  - channel: generic
    path: /hooks/crm
    identity: { phone: "$.customer.mobile", email: "$.customer.email" }
    stamp_at: "$.customer"
tests:
  - name: agent sees masked messages
    role: agent
    request: GET /api/v1/accounts/1/conversations/3/messages
    upstream: { payload: [ { content: "call +1 415 555 7890 or jane@example.com",
                             sender: { phone_number: "+14155557890" } } ] }
    expect:   { payload: [ { content: "call XXX-XXX-7890 or ****@example.com",
                             sender: { phone_number: "XXX-XXX-7890" } } ] }
    upstream_status: 200
    headers: { Accept: application/json }
"""


def spec_example() -> dict[str, Any]:
    doc = yaml.safe_load(SPEC_EXAMPLE)
    assert isinstance(doc, dict)
    return doc


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(RULES_SCHEMA)


def object_schemas(node: Any, where: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            found.append((where, node))
        for key, value in node.items():
            found += object_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += object_schemas(value, f"{where}/{index}")
    return found


def test_every_object_is_closed() -> None:
    # Unknown keys are errors everywhere: an object either lists its keys and forbids others, or
    # is a map whose values have a schema. The one open object is a mask's options.
    for where, schema in object_schemas(RULES_SCHEMA):
        if where == "#/$defs/mask/oneOf/1":
            assert schema["additionalProperties"] is True
            continue
        assert "additionalProperties" in schema, where
        assert schema["additionalProperties"] is not True, where


def test_spec_example_is_valid() -> None:
    assert [error.message for error in VALIDATOR.iter_errors(spec_example())] == []


def with_change(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    doc = spec_example()
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


JWT = ("auth", "jwt")
ROUTE = ("routes", 0)
RULE = ("routes", 0, "response", 0)


@pytest.mark.parametrize(
    ("path", "value", "valid"),
    [
        (
            (*JWT, "algorithms"),
            [
                "HS256",
                "HS384",
                "HS512",
                "RS384",
                "RS512",
                "PS256",
                "PS384",
                "PS512",
                "ES256",
                "ES384",
                "EdDSA",
            ],
            True,
        ),
        ((*JWT, "algorithms"), ["none"], False),  # never
        ((*JWT, "algorithms"), ["NONE"], False),
        ((*JWT, "algorithms"), [], False),  # an allow-list must allow something
        ((*JWT, "jwks_url"), "http://id.example.com/jwks", False),  # SECURITY: keys over TLS
        ((*JWT, "jwks_url"), "http://localhost:8080/jwks", True),  # local development
        ((*JWT, "jwks_url"), "http://localhost.evil.com/jwks", False),
        ((*JWT, "audience"), ["a", "b"], True),
        ((*JWT, "leeway_seconds"), -1, False),
        ((*JWT, "leeway_seconds"), 0.5, True),
        ((*JWT, "token_from"), ["cookie:session", "query:t", "header"], True),
        ((*JWT, "token_from"), ["cookie:"], False),
        ((*JWT, "token_from"), ["body"], False),
        ((*JWT, "require_exp"), False, True),
        ((*JWT, "secret_env"), "S", False),  # a second key source
        (("auth", "missing_token"), "reject", True),
        (("auth", "missing_token"), "allow", False),
        (("roles", "x"), {"masking": True, "extra": 1}, False),
        (("roles", "x"), {}, False),  # masking is required
        (("attributes", "x"), "partial", True),
        (("attributes", "x"), "attributes", False),  # no recursion
        (("secrets", "hash_key_env"), "1BAD", False),
        ((*ROUTE, "match"), {"method": "get", "path": "/x"}, True),
        ((*ROUTE, "match"), {"method": []}, False),
        ((*ROUTE, "match"), {"path": "x"}, False),
        ((*ROUTE, "write_guard"), "off", True),
        ((*ROUTE, "write_guard"), False, False),  # YAML 1.1's `off` is not accepted as false
        ((*ROUTE, "non_json"), "fail", True),
        ((*ROUTE, "binary"), "drop", True),
        ((*RULE, "mask"), {"type": "partial", "keep_first": 1, "char": "#"}, True),
        ((*RULE, "mask"), {"keep_first": 1}, False),  # type is required
        ((*RULE, "mask"), {"type": "nope"}, False),
        ((*RULE, "mask"), None, False),  # the null mask is spelled "null"
        ((*RULE, "mask"), "null", True),
        ((*RULE, "path"), "payload.phone", False),
        ((*RULE, "roles"), [], False),
        (("omnichannel", "default_region"), "us", False),
        (("omnichannel", "identify_by"), ["fax"], False),
        (("omnichannel", "header"), "X Omni", False),
        (("webhooks", 0, "channel"), "sms", False),
        (("webhooks", 0, "public_url"), "gw.example.com", False),
        (("tests", 0, "upstream"), None, True),  # any JSON
        (("tests", 0, "expect"), ["x", 1, {"a": None}], True),
        (("tests", 0, "upstream_status"), 600, False),
        (("tests", 0, "request"), "/no/method", False),
        (("tests", 0, "headers"), {"X-A": 1}, False),
        (("version",), 2, False),
        (("surprise",), 1, False),
    ],
)
def test_schema_accepts_exactly_the_format(
    path: tuple[str | int, ...], value: Any, valid: bool
) -> None:
    errors = list(VALIDATOR.iter_errors(with_change(path, value)))
    assert (not errors) == valid, [error.message for error in errors]


@pytest.mark.parametrize("section", ["auth", "roles", "routes", "omnichannel", "webhooks", "tests"])
def test_every_section_is_optional_in_a_fragment(section: str) -> None:
    assert not list(VALIDATOR.iter_errors({"version": 1, section: spec_example()[section]}))
    assert list(VALIDATOR.iter_errors({section: spec_example()[section]}))  # version is not
