"""Compiling rules: route `headers:` and `attributes:` patterns (SPEC 3.3, 3.10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.rules_plan import load_plan
from gateway.rules_source import RuleLoadError

BASE = """version: 1
roles: {admin: {masking: false}, agent: {masking: true}}
default_role: agent
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(BASE + text)
    return path


def test_route_headers_are_compiled_onto_the_route(tmp_path: Path) -> None:
    plan = load_plan(
        write(
            tmp_path,
            """routes:
  - name: contact
    match: { path: "/contacts/{id}" }
    response: [{ path: "$.email", mask: email }]
    headers:
      - { name: X-Contact-Email, mask: email }
      - { name: x-contact-phone, mask: { type: partial, keep_last: 2 } }
""",
        )
    )
    (route,) = plan.routes
    assert [header.name for header in route.headers] == ["x-contact-email", "x-contact-phone"]
    assert route.headers[0].mask("Jane@Example.com") == "****@example.com"
    assert route.headers[1].mask("+14155557890") == "+*********90"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        # A name that is no HTTP token.
        ('[{ name: "X Contact", mask: email }]', "'name' must be an HTTP header name"),
        # An unknown mask.
        ("[{ name: X-A, mask: emial }]", "'mask' must be one of 'phone'"),
        # Names compare case-insensitively: listed twice.
        ("[{ name: X-A, mask: email }, { name: x-a, mask: phone }]", "listed twice"),
        # A missing mask.
        ("[{ name: X-A }]", "'mask' is required"),
    ],
)
def test_bad_header_rules_are_load_errors(tmp_path: Path, headers: str, message: str) -> None:
    path = write(
        tmp_path,
        f"""routes:
  - name: contact
    match: {{ path: "/contacts/{{id}}" }}
    headers: {headers}
""",
    )
    with pytest.raises(RuleLoadError) as caught:
        load_plan(path)
    assert any(message in error for error in caught.value.errors), caught.value.errors


def test_attribute_patterns_and_default_apply_through_a_rule(tmp_path: Path) -> None:
    plan = load_plan(
        write(
            tmp_path,
            """attributes:
  "~(?i)phone|mobile": phone
  default: text
routes:
  - name: contact
    match: { path: "/contacts/{id}" }
    response: [{ path: "$.custom_attributes", mask: attributes }]
""",
        )
    )
    (rule,) = plan.routes[0].rules
    assert rule.mask({"Mobile": "+447700900123", "note": "mail jo@ex.com", "n": 3}) == {
        "Mobile": "XXX-XXX-0123",
        "note": "mail ****@ex.com",
        "n": 3,
    }


def test_a_bad_attribute_pattern_is_reported_without_any_attributes_rule(tmp_path: Path) -> None:
    with pytest.raises(RuleLoadError) as caught:
        load_plan(write(tmp_path, 'attributes: { "~(phone": phone }\n'))
    (error,) = caught.value.errors
    assert "rules.yaml:4:" in error and "bad attribute pattern '~(phone'" in error
