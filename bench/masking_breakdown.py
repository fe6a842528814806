"""Where the gateway's masking CPU goes: each rule of the view alone, and the text mask by text.

For every rule of the agent's view on the 500-message document: CPU per response of the selector
walking the document with a do-nothing function (`walk`), and with the rule's mask (`masked`),
each on a freshly parsed document whose texts the text mask has not seen. Uses only the shared
contracts of docs/architecture.md (`Selector.transform(doc, fn)`, a `Mask` is a callable).

The text mask is also timed per kind of text (microseconds per text, never seen before), which
tells how a document of another mix of texts would fare.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from bench import documents
from bench.masking_inprocess import COLD_VARIANTS, gateway_view


def _unchanged(value: Any) -> Any:
    return value


def _applying(selector: Any, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`doc -> selector.transform(doc, fn)`, bound now (not to the loop's last selector)."""
    return lambda doc: selector.transform(doc, fn)


def _time(variants: list[bytes], work: Callable[[Any], Any], budget: float) -> float:
    """CPU ms per call of `work(doc)`, parsing excluded; at least 3 calls."""
    spent, runs = 0.0, 0
    while runs < 3 or spent < budget:
        doc = orjson.loads(variants[runs % COLD_VARIANTS])
        started = time.process_time()
        work(doc)
        spent += time.process_time() - started
        runs += 1
    return spent * 1000 / runs


def run_kind(kind: str, budget: float, offset: int) -> list[dict[str, Any]]:
    template = documents.messages_bytes(kind)
    # Variants the in-process cases did not use, so the text mask's cache has none of them.
    variants = [documents.with_variant(template, offset + v) for v in range(COLD_VARIANTS)]
    view, _ = gateway_view()
    rows = []
    for rule in view.rules:
        selector, mask = rule.selector, rule.mask
        walk = _time(variants, _applying(selector, _unchanged), budget)
        masked = _time(variants, _applying(selector, mask), budget)
        rows.append({"rule": rule.path, "mask": mask.name, "walk_ms": walk, "masked_ms": masked})
    return rows


TEXT_KINDS: dict[str, Callable[[int], str]] = {
    "plain": lambda i: documents.realistic_text(i * 10 + 1),
    "email": lambda i: documents.realistic_text(i * 10 + 8),
    "phone": lambda i: documents.realistic_text(i * 10 + 3),
    "phone_and_email": documents.adversarial_text,
    "long_digits_no_phone": documents.digits_text,
}


def text_costs(budget: float, offset: int) -> dict[str, float]:
    """Microseconds of CPU per text for each kind of text, through the view's text mask."""
    view, _ = gateway_view()
    text_mask = next(rule.mask for rule in view.rules if rule.mask.name == "text")
    out = {}
    for name, make in TEXT_KINDS.items():
        spent, count, variant = 0.0, 0, offset
        while count < 200 or spent < budget:
            texts = [documents.with_variant(make(i).encode(), variant).decode() for i in range(50)]
            started = time.process_time()
            for text in texts:
                text_mask(text)
            spent += time.process_time() - started
            count += len(texts)
            variant += 1
        out[name] = spent * 1e6 / count
    return out


def run(budget: float) -> dict[str, Any]:
    try:
        result: dict[str, Any] = {
            kind: run_kind(kind, budget, offset=100 * (i + 1))
            for i, kind in enumerate(("realistic", "adversarial"))
        }
        result["text_us_per_text"] = text_costs(budget, offset=400)
        return result
    except (AttributeError, TypeError) as exc:  # the gateway's internals moved on: say so
        return {"unavailable": f"{type(exc).__name__}: {exc}"}
