"""Invariants, checked on generated inputs (Hypothesis).

- Untouched routes are byte-identical through the gateway, whatever the body and content type.
- For a masked role, masked output never contains a selected clear value and keeps the shape.
"""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.auth import Caller
from gateway.route_view import RoutePolicy
from gateway.rules_plan import load_plan
from gateway.transform import Outcome, transform_document
from tests.conftest import JWT_SECRET, MINIMAL_RULES, GatewayFactory, UpstreamApp, bearer

AGENT = Caller(role="agent", masking=True, sub=None, token_present=True)

PHONES = st.sampled_from(
    ["+14155557890", "+1 (415) 555-0132", "+44 20 7946 0958", "+919876543210", "+5511987654321"]
)
EMAILS = st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,5})?@[a-z]{2,8}\.(com|org|io)", fullmatch=True)
NAMES = st.from_regex(r"[A-Z][a-z]{2,7}( [A-Z][a-z]{2,9}){0,2}", fullmatch=True)
KEYS = st.sampled_from(["id", "meta", "data", "items", "note", "x.y", "with space"])


def person() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"phone": PHONES, "email": EMAILS, "name": NAMES},
        optional={"id": st.integers(), "tags": st.lists(st.text(max_size=5), max_size=3)},
    )


def documents() -> st.SearchStrategy[Any]:
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), person())
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)
        ),
        max_leaves=12,
    )


def _rules(tmp: Path) -> Path:
    path = tmp / "rules.yaml"
    path.write_text(
        MINIMAL_RULES
        + textwrap.dedent(
            """
            routes:
              - name: people
                match: { path: "/people" }
                response:
                  - { path: "$..phone", mask: phone }
                  - { path: "$..email", mask: email }
                  - { path: "$..name", mask: name }
            """
        )
    )
    return path


def _people(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict):
        found = [doc] if {"phone", "email", "name"} <= doc.keys() else []
        return found + [p for v in doc.values() for p in _people(v)]
    if isinstance(doc, list):
        return [p for v in doc for p in _people(v)]
    return []


def _shape(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _shape(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_shape(v) for v in doc]
    return type(doc).__name__ if doc is not None else None


@pytest.fixture(scope="module")
def people_view(tmp_path_factory: pytest.TempPathFactory) -> RoutePolicy:
    plan = load_plan(_rules(tmp_path_factory.mktemp("r")), {"OMNIGATE_JWT_SECRET": JWT_SECRET})
    return plan.policy("GET", "/people", AGENT)


@settings(max_examples=150, deadline=None)
@given(doc=documents())
def test_masked_output_never_holds_a_selected_clear_value(
    people_view: RoutePolicy, doc: dict[str, Any]
) -> None:
    clear = [dict(p) for p in _people(doc)]
    masked = transform_document(copy.deepcopy(doc), people_view, Outcome())
    text = json.dumps(masked, ensure_ascii=False)
    for person_ in clear:
        digits = "".join(c for c in person_["phone"] if c.isdigit())
        assert digits not in "".join(c for c in text if c.isdigit() or c == "X")
        assert person_["email"].split("@")[0] + "@" not in text
        assert person_["name"] not in text
    # the document keeps its shape (phones, emails and names stay strings)
    assert _shape(masked) == _shape(doc)


def _upstream(body: bytes, content_type: str) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=4096),
    content_type=st.sampled_from(["application/json", "text/plain", "application/octet-stream"]),
    path=st.from_regex(r"/[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,3}", fullmatch=True),
)
async def test_unmatched_routes_are_byte_identical(
    make_gateway: GatewayFactory,
    upstream_app: UpstreamApp,
    body: bytes,
    content_type: str,
    path: str,
) -> None:
    gw = await make_gateway(await upstream_app(_upstream(body, content_type)))
    resp = await gw.client.get(path, headers=bearer("agent"))
    assert await resp.read() == body
    assert resp.headers["Content-Type"] == content_type
