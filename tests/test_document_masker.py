"""The document masker: one result for one document, whether it came as a body, an SSE event or
a WebSocket frame; its tally; the post-rule seam; the stream cases of SPEC 3.6."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from gateway.auth import Caller
from gateway.body_rewrite import rewrite_json
from gateway.exchange import Tally
from gateway.rules_plan import Plan
from gateway.sse import mask_event
from gateway.transform import Outcome
from gateway.web_websocket import _FrameMask
from tests.stage_kit import plan_of

RULES = """
version: 1
roles: { agent: { masking: true }, admin: { masking: false } }
default_role: agent
routes:
  - name: chat
    match: { method: GET, path: /chat }
    response:
      - { path: "$.phone", mask: phone }
      - { path: "$.content", mask: text }
      - { path: "$..sender.email", mask: email }
      - { path: "$.message.phone", mask: phone }
"""
AGENT = Caller(role="agent", masking=True, sub=None, token_present=True)


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return plan_of(tmp_path_factory.mktemp("rules"), RULES)


DOCUMENTS: list[Any] = [
    # fields of the rules, one per mask
    {"phone": "+14155557890", "content": "mail jane@example.com", "sender": {"email": "a@b.io"}},
    # a bare string is chat text
    "call +1 415 555 7890",
    # a list of objects, a descent rule
    [{"sender": {"email": "x@y.com"}}, {"sender": {"email": None}}],
    # nothing to mask
    {"unrelated": 1},
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_body_event_and_frame_mask_alike(plan: Plan, document: Any) -> None:
    masker = plan.policy("GET", "/chat", AGENT).masker
    raw = orjson.dumps(document)
    direct = masker.mask(copy.deepcopy(document))

    body_tally = Outcome()
    rewritten = rewrite_json(raw, None, plan.policy("GET", "/chat", AGENT), body_tally, 1 << 20)
    body = orjson.loads(rewritten.body) if rewritten.body is not None else document

    event_tally = Outcome()
    event = mask_event(
        [b"data: " + raw + b"\n", b"\n"],
        lambda doc: masker.mask(doc, event_tally).document,
        masker.mask_text,
    )
    from_event = orjson.loads(event.removeprefix(b"data: ").rstrip(b"\n"))

    frame_tally = Tally()
    frame = orjson.loads(_FrameMask(masker, False, frame_tally, 1 << 20).text(raw.decode()))

    assert body == from_event == frame == direct.document
    assert body_tally.masked == event_tally.masked == frame_tally.outcome.masked
    assert body_tally.masked == direct.tally.masked


@pytest.mark.parametrize(
    ("document", "written_once"),
    [
        # the rules masked everything: the screens' serialisation is the body
        (DOCUMENTS[0], True),
        # nothing for anyone to mask
        (DOCUMENTS[3], True),
        # the sentinel masks a phone no rule names: the document changed after the screens
        ({"note": "call +1 415 555 7890"}, False),
    ],
)
def test_the_body_is_written_once_and_only_when_nothing_changed_after(
    plan: Plan, document: Any, written_once: bool
) -> None:
    masked = plan.policy("GET", "/chat", AGENT).masker.mask(copy.deepcopy(document))
    assert (masked.body is not None) == written_once
    if masked.body is not None:
        assert masked.body == orjson.dumps(masked.document)
    assert b"555 7890" not in orjson.dumps(masked.document)


def test_a_post_step_drops_the_written_body(plan: Plan) -> None:
    masker = plan.policy("GET", "/chat", AGENT).masker
    masker.post_steps = (lambda document, tally: {**document, "added": 1},)
    try:
        masked = masker.mask({"unrelated": 1})
    finally:
        masker.post_steps = ()
    assert masked.body is None and masked.document == {"unrelated": 1, "added": 1}


def test_tally_counts_per_route_and_mask(plan: Plan) -> None:
    masked = plan.policy("GET", "/chat", AGENT).masker.mask(DOCUMENTS[0])
    assert masked.tally.masked == {("chat", "phone"): 1, ("chat", "text"): 1, ("chat", "email"): 1}


def test_post_steps_run_after_the_rules(plan: Plan) -> None:
    masker = plan.policy("GET", "/chat", AGENT).masker
    seen: list[Any] = []

    def step(document: Any, tally: Outcome) -> Any:
        seen.append(copy.deepcopy(document))  # what the next stage (known values) receives
        return document

    masker.post_steps = (step,)
    try:
        masker.mask({"phone": "+14155557890"})
    finally:
        masker.post_steps = ()
    assert seen == [{"phone": "XXX-XXX-7890"}]


def test_any_method_on_a_guarded_path_is_masked(plan: Plan) -> None:
    # SPEC 3.2: a POST (maybe a GET in disguise) to a GET-only route gets the route's masks
    masked = plan.policy("POST", "/chat", AGENT).masker.mask({"phone": "+14155557890"})
    assert masked.document == {"phone": "XXX-XXX-7890"}


def test_sse_phone_split_over_two_data_lines_is_masked(plan: Plan) -> None:
    masker = plan.policy("GET", "/chat", AGENT).masker
    event = [b"data: call +1 415\n", b"data: 555 7890 now\n", b"\n"]
    out = mask_event(event, lambda doc: masker.mask(doc).document, masker.mask_text)
    assert b"555" not in out and b"7890" in out


def test_sse_lines_without_pii_keep_their_breaks(plan: Plan) -> None:
    masker = plan.policy("GET", "/chat", AGENT).masker
    event = [b"data: hello\n", b"data: world\n", b"\n"]
    out = mask_event(event, lambda doc: masker.mask(doc).document, masker.mask_text)
    assert out == b"data: hello\ndata: world\n\n"


def test_actioncable_message_with_leading_whitespace_is_parsed(plan: Plan) -> None:
    masker = plan.policy("GET", "/chat", AGENT).masker
    frame = orjson.dumps({"identifier": "x", "message": ' \n{"phone": "+14155557890"}'}).decode()
    out = orjson.loads(_FrameMask(masker, False, Tally(), 1 << 20).text(frame))
    assert orjson.loads(out["message"]) == {"phone": "XXX-XXX-7890"}


def test_control_payloads_get_the_text_mask(plan: Plan) -> None:
    frames = _FrameMask(plan.policy("GET", "/chat", AGENT).masker, False, Tally(), 1 << 20)
    assert frames.control(b"call +1 415 555 7890") == b"call XXX-XXX-7890"
    assert frames.control(b"\xff\xfe opaque") == b""  # PII: bytes that are not text go empty


MARK_RULES = """
version: 1
roles: { agent: { masking: true } }
default_role: agent
routes:
  - name: notes
    match: { method: GET, path: /notes }
    response:
      - { path: "$.texts[*]", mask: text }
      - { path: "$.payload", mask: text }
      - { path: "$.payload.name", mask: name }
      - { path: "$.phones[*]", mask: phone }
      - { path: "$..card", mask: text }
      - { path: "$..card.name", mask: name }
"""


@pytest.fixture(scope="module")
def mark_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return plan_of(tmp_path_factory.mktemp("mark-rules"), MARK_RULES)


def test_texts_a_rule_read_but_left_alone_are_not_counted_as_masked(mark_plan: Plan) -> None:
    # The sentinel's marks (SPEC 3.9) ride on the values; the tally counts real changes only.
    masker = mark_plan.policy("GET", "/notes", AGENT).masker
    document = {
        "texts": ["hello there", "call +1 415 555 7890", "order 2000123"],
        "phones": ["XXX-XXX-7890", "+14155557890"],  # the first is a mask output already
    }
    masked = masker.mask(document)
    assert masked.document["texts"] == ["hello there", "call XXX-XXX-7890", "order 2000123"]
    assert masked.tally.masked[("notes", "text")] == 1
    assert masked.tally.masked[("notes", "phone")] == 1


def test_json_text_a_text_rule_read_is_still_opened_by_later_rules(mark_plan: Plan) -> None:
    # PII: the text rule's output (marked) holds JSON; the name rule must still reach inside.
    masker = mark_plan.policy("GET", "/notes", AGENT).masker
    payload = '{"name": "Jane Doe",  "note": "mail jane@example.com"}'
    masked = masker.mask({"payload": payload}).document
    inner = orjson.loads(masked["payload"])
    assert inner == {"name": "J*** D***", "note": "mail ****@example.com"}


def test_json_text_nothing_touched_keeps_its_bytes(mark_plan: Plan) -> None:
    masker = mark_plan.policy("GET", "/notes", AGENT).masker
    payload = '{"name":  null, "note": "nothing here"}'  # two spaces: bytes must stay
    assert masker.mask({"payload": payload}).document["payload"] == payload


def test_json_text_under_a_descent_is_opened_after_a_text_rule(mark_plan: Plan) -> None:
    # The same through the descent walk shared by `$..` rules.
    masker = mark_plan.policy("GET", "/notes", AGENT).masker
    card = '{"name": "Jane Doe", "note": "call +1 415 555 7890"}'
    masked = masker.mask({"items": [{"card": card}]}).document
    assert orjson.loads(masked["items"][0]["card"]) == {
        "name": "J*** D***",
        "note": "call XXX-XXX-7890",
    }
