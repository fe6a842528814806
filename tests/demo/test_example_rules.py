"""rules/examples: each file is YAML of the SPEC shape, the files merge cleanly, and the rule tests'
hand-written stamps and hashes are the ones the demo secrets give."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "rules" / "examples"
FILES = sorted(EXAMPLES.glob("*.yaml"))
CONCATENATED = {"routes", "webhooks", "tests"}
MASKS = {
    "phone",
    "email",
    "name",
    "text",
    "redact",
    "remove",
    "null",
    "hash",
    "partial",
    "attributes",
}
DEMO_ID_SECRET = b"demo-id-secret"
DEMO_HASH_KEY = b"demo-hash-key"
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path.name
    return data


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    """The folder merged the SPEC way: lists concatenate, anything else defined twice fails."""
    out: dict[str, Any] = {}
    for path in FILES:
        for key, value in load(path).items():
            if key in CONCATENATED:
                out.setdefault(key, []).extend(value)
            elif key != "version":
                assert key not in out, f"{path.name}: '{key}' defined twice"
                out[key] = value
    return out


def test_the_pack_is_split_into_several_files() -> None:
    assert [p.name for p in FILES] == [
        "00-auth.yaml",
        "10-contacts.yaml",
        "20-conversations.yaml",
        "30-live.yaml",
        "40-omnichannel.yaml",
        "90-tests.yaml",
    ]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_is_a_version_1_fragment(path: Path) -> None:
    assert load(path)["version"] == 1


def test_auth_and_roles(merged: dict[str, Any]) -> None:
    jwt = merged["auth"]["jwt"]
    assert (jwt["secret_env"], jwt["algorithms"], jwt["role_claim"]) == (
        "OMNIGATE_JWT_SECRET",
        ["HS256"],
        "role",
    )
    assert merged["auth"]["missing_token"] == "default_role"
    assert merged["roles"] == {
        "admin": {"masking": False},
        "team_manager": {"masking": True},
        "agent": {"masking": True},
    }
    assert list(merged["roles"]) == ["admin", "team_manager", "agent"]  # most privileged first
    assert merged["default_role"] == "agent"
    assert merged["attributes"] == {
        "user_name": "name",
        "user_number": "phone",
        "user_email": "email",
    }
    assert merged["secrets"] == {"hash_key_env": "OMNIGATE_HASH_KEY"}


def test_routes(merged: dict[str, Any]) -> None:
    routes = merged["routes"]
    names = [r["name"] for r in routes]
    assert len(names) == len(set(names)), "route names must be unique"
    for route in routes:
        assert route["match"]["path"].startswith("/")
        assert route["response"], route["name"]
        for rule in route["response"]:
            assert rule["path"].startswith("$")
            assert rule["mask"] in MASKS
            assert set(rule.get("roles", [])) <= set(merged["roles"])
        for stamp in route.get("stamp", []):
            assert {"at", "phone", "email"} == set(stamp)
    paths = {r["match"]["path"] for r in routes}
    assert "/api/v1/accounts/{account_id}/contacts/export.csv" in paths
    assert "/api/v1/accounts/{account_id}/live" in paths and "/cable" in paths
    assert not any(r.get("non_json") == "pass" for r in routes)  # the export must fail closed


def test_omnichannel_and_webhooks(merged: dict[str, Any]) -> None:
    omni = merged["omnichannel"]
    assert (omni["id_secret_env"], omni["default_region"]) == ("OMNIGATE_ID_SECRET", "US")
    hooks = {h["channel"]: h for h in merged["webhooks"]}
    assert hooks["whatsapp"] == {
        "channel": "whatsapp",
        "path": "/webhooks/whatsapp",
        "secret_env": "META_APP_SECRET",
    }
    assert hooks["sendgrid"]["path"] == "/webhooks/email"


def test_secrets_are_only_named(merged: dict[str, Any]) -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("_env"):
                    assert isinstance(value, str) and ENV_NAME.fullmatch(value), key
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in merged.items() if k != "tests"})


def test_rule_test_cases_are_well_formed(merged: dict[str, Any]) -> None:
    cases = merged["tests"]
    assert {c["role"] for c in cases} == {"agent", "team_manager", "admin"}
    assert len({c["name"] for c in cases}) == len(cases)
    for case in cases:
        assert set(case) == {"name", "role", "request", "upstream", "expect"}
        method, path = case["request"].split(" ")
        assert method in ("GET", "POST", "PUT", "PATCH") and path.startswith("/")


def omni_id(identity: str) -> str:
    digest = hmac.new(DEMO_ID_SECRET, identity.encode(), hashlib.sha256).digest()
    return "omni_" + base64.b32encode(digest).decode().lower().rstrip("=")[:26]


def test_stamps_and_hashes_match_the_demo_secrets(merged: dict[str, Any]) -> None:
    stamped = [c for c in merged["tests"] if "omni_customer_id" in c["expect"].get("payload", {})]
    assert len(stamped) == 3  # the contact as agent, team_manager and admin see it
    for case in stamped:
        clear, shown = case["upstream"]["payload"], case["expect"]["payload"]
        assert shown["omni_customer_id"] == omni_id(f"phone:{clear['phone_number']}")
        if shown["identifier"] != clear["identifier"]:
            digest = hmac.new(DEMO_HASH_KEY, clear["identifier"].encode(), hashlib.sha256)
            assert shown["identifier"] == "h_" + digest.hexdigest()[:16]
