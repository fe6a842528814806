"""Scenario `masking` (in-process half): CPU per masked 500-message response, no network.

Every figure is process CPU time (time.process_time) per response and includes orjson parse and
serialise, because the gateway pays them for every masked body. Cases per document:

- `orjson_floor`: parse + serialise only, the floor no masking approach can go under;
- `gateway_cold`: gateway.rules_plan.load_plan + the route's `DocumentMasker.mask` (rules, known
  values, the residual sentinel) on a document whose texts the gateway has not seen (documents
  cycle through `COLD_VARIANTS` variants, more texts than the text mask's cache holds, so every
  text is parsed again);
- `gateway_cold_rules_only`: the same without known values and the sentinel (SPEC 3.9);
- `gateway_warm`: the same document again and again (a chat UI re-fetching a conversation);
- `naive_regex`: jsonpath-ng parse + find + update per request, one regex per text;
- `naive_regex_preparsed`: the same with the JSONPaths parsed once;
- `naive_matcher`: jsonpath-ng per request, phonenumbers' PhoneNumberMatcher on every text.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import orjson

from bench import documents, naive_masking
from bench.stack import RULES, SECRET, SECRET_ENV

MESSAGES_PATH = "/api/v1/accounts/1/conversations/1/messages"
# A cycle of variants must hold more texts than the text mask's cache (2,048 entries, FIFO) or the
# "cold" case runs warm after its first cycle: the realistic document sends 50 texts per variant
# to the cache (its phone texts), so 40 variants (2,000 texts) did; 100 give 5,000.
COLD_VARIANTS = 100
KINDS = ("realistic", "adversarial")


def measure(step: Callable[[int], Any], budget: float, min_runs: int) -> dict[str, float]:
    """CPU milliseconds per call of `step(i)`, over at least `budget` CPU seconds."""
    step(0)  # untimed: first-call costs (imports, regex compiles) are not per response
    runs = 0
    started = time.process_time()
    elapsed = 0.0
    while runs < min_runs or elapsed < budget:
        step(runs + 1)
        runs += 1
        elapsed = time.process_time() - started
    return {"ms_per_response": elapsed * 1000 / runs, "runs": runs}


def gateway_view(residual: bool = True) -> tuple[Any, Callable[[Any], tuple[bytes, int]]]:
    """The messages route's masker for an agent. `residual=False`: without known values and
    the sentinel (SPEC 3.9), the cost before they existed."""
    import dataclasses

    from gateway.auth import Caller
    from gateway.rules_plan import load_plan

    plan = load_plan(RULES, dict(os.environ, **{SECRET_ENV: SECRET}))
    if not residual:
        plan = dataclasses.replace(plan, residual=None)
    view = plan.policy("GET", MESSAGES_PATH, Caller("agent", True, "bench", True))
    masker = view.masker

    def mask(doc: Any) -> tuple[bytes, int]:
        """The masked body, as the gateway writes it (`gateway.body_rewrite`)."""
        masked = masker.mask(doc)
        body = masked.body if masked.body is not None else orjson.dumps(masked.document)
        return body, masked.tally.masked_total

    return view, mask


def leaks(body: bytes) -> int:
    """Clear text-borne PII left in a masked body: text phones and text emails (never printed)."""
    return body.count(b"+1 (415)") + body.count(b"customer.")


def run_kind(kind: str, budget: float, min_runs: int) -> dict[str, Any]:
    template = documents.messages_bytes(kind)
    variants = [documents.with_variant(template, v) for v in range(COLD_VARIANTS)]
    fixed = variants[0]
    _, gateway_mask = gateway_view()
    _, rules_only_mask = gateway_view(residual=False)
    regex_rules = naive_masking.rules(naive_masking.text_by_regex)
    matcher_rules = naive_masking.rules(naive_masking.text_by_matcher)
    preparsed = naive_masking.preparse(regex_rules)
    checks: dict[str, dict[str, int]] = {}

    def check(name: str, body: bytes, masked: int) -> None:
        if name not in checks:  # once per case: the check is not part of the timed work
            checks[name] = {"values_masked": masked, "text_pii_left": leaks(body)}

    def floor(i: int) -> bytes:
        return orjson.dumps(orjson.loads(variants[i % COLD_VARIANTS]))

    def gateway(raw: bytes, name: str, mask: Callable[[Any], tuple[bytes, int]]) -> bytes:
        body, masked = mask(orjson.loads(raw))
        check(name, body, masked)
        return body

    def naive(raw: bytes, name: str, pairs: Any, parsed: Any) -> bytes:
        doc = orjson.loads(raw)
        masked = naive_masking.transform(doc, pairs, parsed)
        body = orjson.dumps(doc)
        check(name, body, masked)
        return body

    cases: dict[str, Callable[[int], Any]] = {
        "orjson_floor": floor,
        "gateway_cold": lambda i: gateway(
            variants[i % COLD_VARIANTS], "gateway_cold", gateway_mask
        ),
        # The same without known values and the sentinel: what they add is the difference.
        "gateway_cold_rules_only": lambda i: gateway(
            variants[i % COLD_VARIANTS], "gateway_cold_rules_only", rules_only_mask
        ),
        "gateway_warm": lambda i: gateway(fixed, "gateway_warm", gateway_mask),
        "naive_regex": lambda i: naive(fixed, "naive_regex", regex_rules, None),
        "naive_regex_preparsed": lambda i: naive(
            fixed, "naive_regex_preparsed", regex_rules, preparsed
        ),
        "naive_matcher": lambda i: naive(fixed, "naive_matcher", matcher_rules, None),
    }
    results: dict[str, Any] = {"bytes": len(fixed)}
    for name, step in cases.items():
        results[name] = {**measure(step, budget, min_runs), **checks.get(name, {})}
    return results


def phone_engine() -> str:
    """Which engine parses phone candidates in this run (gateway/detect/fast_parse.py)."""
    from gateway.detect import fast_parse

    engine = fast_parse.engine()
    return "phonenumbers" if engine is None else f"rphonenumbers {engine.__version__}"


def run(budget: float, min_runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {kind: run_kind(kind, budget, min_runs) for kind in KINDS}
    out["phone_engine"] = phone_engine()
    for kind in KINDS:
        figures = out[kind]  # (phone_engine is no kind)
        cold = figures["gateway_cold"]["ms_per_response"]
        out[kind]["ratios"] = {
            "naive_regex_vs_gateway_cold": figures["naive_regex"]["ms_per_response"] / cold,
            "naive_regex_preparsed_vs_gateway_cold": figures["naive_regex_preparsed"][
                "ms_per_response"
            ]
            / cold,
            "naive_matcher_vs_gateway_cold": figures["naive_matcher"]["ms_per_response"] / cold,
        }
    return out
