"""The masked contact route the pass-through attack tests (issue 9) aim at, and their tokens."""

from __future__ import annotations

from tests.conftest import token

RULES = """
version: 1
auth:
  jwt: { algorithms: [HS256], secret_env: OMNIGATE_JWT_SECRET, role_claim: role }
roles:
  admin: { masking: false }
  agent: { masking: true }
default_role: agent
routes:
  - name: contact
    match: { path: "/api/v1/accounts/{account_id}/contacts/{id}" }
    response:
      - { path: "$.payload.phone_number", mask: phone }
      - { path: "$.payload.email", mask: email }
      - { path: "$.payload.name", mask: name }
"""
CONTACT = "/api/v1/accounts/1/contacts/2"
PII = (b"555 7890", b"jane.doe", b"Jane")  # what an agent must never read in an answer
AGENT = token("agent")
ADMIN = token("admin")
