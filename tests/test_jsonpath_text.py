"""Selectors walk into strings that hold JSON, and a transform writes them back as JSON text."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gateway.jsonpath_group import DescentGroup
from gateway.jsonpath_plan import compile_selector
from gateway.jsonpath_text import NOT_JSON, json_text
from tests.test_jsonpath_steps import COMMON, KEYS, STEPS, bracket, containers, scalars

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)
GONE = object()


def text(value: Any) -> str:
    return json.dumps(value)


@pytest.mark.parametrize(
    ("value", "holds"),
    [
        ('{"a": 1}', {"a": 1}),  # an object
        ("[1, 2]", [1, 2]),  # an array
        (' \n {"a": 1}', {"a": 1}),  # JSON whitespace before it
        ("[photo]", NOT_JSON),  # chat text that starts with a bracket
        ("{name}", NOT_JSON),  # a template placeholder
        ('{"a": 1', NOT_JSON),  # truncated: an ordinary string, not a failure
        ('"quoted"', NOT_JSON),  # a JSON string is no object or array
        ("42", NOT_JSON),  # nor is a number
        ("", NOT_JSON),  # empty
        ("x {}", NOT_JSON),  # JSON later in the text does not count
    ],
)
def test_what_counts_as_json_text(value: str, holds: Any) -> None:
    assert json_text(value) == holds if holds is not NOT_JSON else json_text(value) is NOT_JSON


DOC = {
    "a": text(
        {
            "email": "j@x.com",
            "list": [1, 2, {"email": "k@y.com"}],
            "deep": text({"email": "z@z.com"}),
        }
    ),
    "b": "[photo]",
    "c": text([{"email": "c@c.com"}]),
}


@pytest.mark.parametrize(
    ("expr", "found"),
    [
        ("$.a.email", ["j@x.com"]),  # a field step opens the text
        ("$.a.list[2].email", ["k@y.com"]),  # the rest of the path continues inside
        ("$.a.deep.email", ["z@z.com"]),  # text inside text
        ("$.c[0].email", ["c@c.com"]),  # an index step opens an array text
        ("$.c[*].email", ["c@c.com"]),  # so does a wildcard
        ("$.c[?(@.email)].email", ["c@c.com"]),  # and a filter
        ("$.a..email", ["j@x.com", "k@y.com"]),  # `..` starts inside the text it is given...
        ("$..email", []),  # ...but does not open the strings it passes
        ("$..a.email", ["j@x.com"]),  # a named step after `..` opens
        ("$.b[0]", []),  # not JSON: nothing inside
        ("$.a", [DOC["a"]]),  # the text itself, when nothing follows
    ],
)
def test_find_inside_text(expr: str, found: list[Any]) -> None:
    assert compile_selector(expr).find(DOC) == found


def test_transform_writes_changed_text_back_compact() -> None:
    doc, count = compile_selector("$.a.list[2].email").transform(copy.deepcopy(DOC), str.upper)
    assert count == 1
    assert json.loads(doc["a"])["list"][2]["email"] == "K@Y.COM"
    assert doc["a"].startswith('{"email":"j@x.com","list"')  # compact, key order kept
    # The text inside the text was not touched, so it keeps its exact bytes.
    assert json.loads(doc["a"])["deep"] == DOC_DEEP
    assert doc["b"] == DOC["b"] and doc["c"] == DOC["c"]


DOC_DEEP = text({"email": "z@z.com"})


def test_nested_text_is_written_innermost_first() -> None:
    doc, count = compile_selector("$.a.deep.email").transform(copy.deepcopy(DOC), str.upper)
    assert count == 1
    assert json.loads(json.loads(doc["a"])["deep"]) == {"email": "Z@Z.COM"}


def test_unchanged_text_keeps_its_bytes() -> None:
    original = copy.deepcopy(DOC)
    doc, count = compile_selector("$.a.email").transform(original, lambda value: value)
    assert count == 1
    assert doc["a"] is DOC["a"] or doc["a"] == DOC["a"]  # not reformatted


def test_remove_inside_text_compacts_the_array() -> None:
    doc, count = compile_selector("$.a.list[0,1]").transform(
        copy.deepcopy(DOC), lambda value: GONE, remove=GONE
    )
    assert count == 2
    assert json.loads(doc["a"])["list"] == [{"email": "k@y.com"}]


def test_text_inside_a_list_keeps_its_position_while_other_elements_go() -> None:
    doc = {"items": ["drop", text({"email": "j@x.com"}), "drop"]}
    selector = compile_selector("$.items[*]")
    doc, _ = selector.transform(doc, lambda v: GONE if v == "drop" else v, remove=GONE)
    doc, _ = compile_selector("$.items[0].email").transform(doc, str.upper)
    assert doc == {"items": [text({"email": "J@X.COM"}).replace(" ", "")]}


def test_a_mask_on_the_whole_string_wins_over_the_parsed_copy() -> None:
    # `..`this`` selects the text itself (masked as a string), and `a.email` reaches inside it.
    selector = compile_selector("$['a'].email")
    doc: Any = {"a": text({"email": "j@x.com"})}
    doc, _ = compile_selector("$.*").transform(doc, lambda value: "****")
    doc, count = selector.transform(doc, str.upper)
    assert (doc, count) == ({"a": "****"}, 0)


def test_a_location_inside_text_reached_twice_is_transformed_once() -> None:
    calls: list[Any] = []

    def mark(value: Any) -> Any:
        calls.append(value)
        return value + "!"

    doc, count = compile_selector("$.a['email','email']").transform(
        {"a": text({"email": "j@x.com"})}, mark
    )
    assert (count, calls) == (1, ["j@x.com"])
    assert json.loads(doc["a"]) == {"email": "j@x.com!"}


def test_descent_group_leaves_a_document_with_text_on_its_chain_to_the_rules() -> None:
    group = DescentGroup((), [("sender", "email"), ("sender", "name")])
    plain = {"payload": [{"sender": {"email": "j@x.com", "name": "Jane"}}]}
    as_text = {"payload": [{"sender": text({"email": "j@x.com", "name": "Jane"})}]}
    assert group.locate(plain) is not None
    assert group.locate(as_text) is None  # the rules' own walks open it
    assert list(group.apply(as_text, [str.upper, str.upper])) == []
    # Text elsewhere (not on a chain) does not stop the group.
    assert group.locate({"payload": [{"sender": {"email": "e"}, "meta": text({"a": 1})}]})


def test_delegated_paths_read_text_as_text() -> None:
    # `$` inside a filter is evaluated by jsonpath-ng, which knows nothing of JSON text.
    selector = compile_selector("$.a[?(@.n == $.n)]")
    assert not selector.compiled
    assert selector.find({"n": 1, "a": text([{"n": 1}])}) == []


# Property: a container written as JSON text is walked exactly like the container itself.
documents = st.dictionaries(
    st.sampled_from(KEYS),
    st.recursive(scalars, containers, max_leaves=30),
    min_size=1,
    max_size=4,
)
tails = st.lists(st.sampled_from(STEPS + COMMON), min_size=1, max_size=3).map("".join)


def decoded(value: Any) -> Any:
    if isinstance(value, str):
        inner = json_text(value)
        return value if inner is NOT_JSON else inner
    return value


@PROPERTY
@given(doc=documents, tail=tails, data=st.data())
def test_text_is_walked_like_the_value_it_holds(
    doc: dict[str, Any], tail: str, data: st.DataObject
) -> None:
    key = data.draw(st.sampled_from(sorted(doc)))
    assume(isinstance(doc[key], dict | list))
    encoded = dict(doc, **{key: text(doc[key])})
    selector = compile_selector("$" + bracket(key) + tail)
    # Where the path ends on the text itself, it selects the string.
    assert [decoded(value) for value in selector.find(encoded)] == selector.find(doc)
    ours, ours_count = selector.transform(copy.deepcopy(encoded), lambda value: "MARK")
    plain, plain_count = selector.transform(copy.deepcopy(doc), lambda value: "MARK")
    assert ours_count == plain_count
    assert decoded(ours[key]) == plain[key]
    assert {k: v for k, v in ours.items() if k != key} == {
        k: v for k, v in plain.items() if k != key
    }


LANGUAGE_RULES = """
version: 1
auth:
  jwt: { algorithms: [HS256], secret_env: OMNIGATE_JWT_SECRET, role_claim: role }
roles:
  admin: { masking: false }
  agent: { masking: true }
default_role: agent
attributes:
  "~(?i).*phone.*": phone
  default: text
routes:
  - name: events
    match: { path: "/events" }
    headers: [{ name: X-Contact-Email, mask: email }]
    response:
      - { path: "$.items[?(@.sender_type != 'User')].sender.name", mask: name }
      - { path: "$.items[*].payload.email", mask: email }
      - { path: "$.items[*].custom_attributes", mask: attributes }
"""


async def test_the_rule_language_end_to_end(gateway_for: Any) -> None:
    """Filters, JSON held as text and attribute patterns, through a real upstream."""
    from aiohttp import web

    from tests.conftest import bearer

    body = {
        "items": [
            {
                "sender_type": "Contact",
                "sender": {"name": "Jane Doe"},
                "payload": text({"email": "Jane@Example.com", "n": 1}),
                "custom_attributes": {"Home_Phone": "+1 415 555 0132", "note": "mail jo@ex.com"},
            },
            {"sender_type": "User", "sender": {"name": "Sam Carter"}, "payload": "[photo]"},
        ]
    }

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(body)

    gw = await gateway_for(handler, "/events", LANGUAGE_RULES)
    response = await gw.client.get("/events", headers=bearer("agent"))
    got = await response.json()
    first, second = got["items"]
    assert first["sender"]["name"] == "J*** D***"
    assert second["sender"]["name"] == "Sam Carter"  # an agent: the filter leaves it
    assert json.loads(first["payload"]) == {"email": "****@example.com", "n": 1}
    assert first["custom_attributes"] == {"Home_Phone": "XXX-XXX-0132", "note": "mail ****@ex.com"}
    assert second["payload"] == "[photo]"
    route = gw.state.plan.routes[0]
    assert [header.name for header in route.headers] == ["x-contact-email"]
    response = await gw.client.get("/events", headers=bearer("admin"))
    assert await response.json() == body
