"""The whole-body transform stage, without a server: fail closed for masked roles only."""

from __future__ import annotations

import gzip

import pytest

from gateway.auth import Caller
from gateway.body_rewrite import rewrite_json
from gateway.errors import UnmaskableResponse
from gateway.route_view import RoutePolicy
from gateway.rules_plan import load_plan
from gateway.transform import Outcome
from tests.conftest import JWT_SECRET, MINIMAL_RULES

RULES = (
    MINIMAL_RULES
    + """
routes:
  - name: c
    match: { path: /c }
    response: [ { path: "$.phone", mask: phone } ]
"""
)
BODY = b'{"phone": "+14155557890", "n": 18446744073709551616}'


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RoutePolicy]:
    folder = tmp_path_factory.mktemp("rules")
    (folder / "r.yaml").write_text(RULES)
    plan = load_plan(folder, {"OMNIGATE_JWT_SECRET": JWT_SECRET})
    return {
        role: plan.policy("GET", "/c", Caller(role, plan.roles[role], None, True))
        for role in ("agent", "admin")
    }


@pytest.mark.parametrize(
    ("raw", "encoding", "reason"),
    [
        (b"{not json", None, "invalid_json"),  # broken JSON
        (b"[NaN]", None, "invalid_json"),  # not JSON, though Python would read it
        (BODY, "compress", "encoding"),  # a coding the gateway cannot undo
        (gzip.compress(b"x" * 5000), "gzip", "encoding"),  # inflates past the limit
        (b"[" * 3000 + b"]" * 3000, None, "invalid_json"),  # nested too deep to read
    ],
)
def test_masked_role_fails_closed(
    views: dict[str, RoutePolicy], raw: bytes, encoding: str | None, reason: str
) -> None:
    with pytest.raises(UnmaskableResponse) as error:
        rewrite_json(raw, encoding, views["agent"], Outcome(), 4096)
    assert error.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [(b"{not json", None), (BODY, "compress"), (b"  ", None)],
)
def test_unmasked_role_gets_the_bytes_as_they_were(
    views: dict[str, RoutePolicy], raw: bytes, encoding: str | None
) -> None:
    assert rewrite_json(raw, encoding, views["admin"], Outcome(), 4096).body is None


def test_masked_body_keeps_exact_numbers(views: dict[str, RoutePolicy]) -> None:
    result = rewrite_json(gzip.compress(BODY), "gzip", views["agent"], Outcome(), 4096)
    assert result.body == b'{"phone":"XXX-XXX-7890","n":18446744073709551616}'


def test_admin_reveal_is_counted_and_body_untouched(views: dict[str, RoutePolicy]) -> None:
    result = rewrite_json(BODY, None, views["admin"], Outcome(), 4096)
    assert result.body is None and result.revealed == 1
