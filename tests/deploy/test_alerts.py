"""The recommended alerts (helm/omnigate/alerts/omnigate.rules.yaml, embedded by the chart's
PrometheusRule) checked with `promtool test rules`: each fires on the FIRST event, and stays quiet
without one.

Counter series start at 0, as omnigate exports them: every counter exists from start-up with its
known label values at zero (SPEC 6). The "born at 1" rows cover a label value that was not known
at start-up, whose series only appears with its first event.

promtool comes from tests/tools/install-promtool.sh (`make test` runs it); without it these tests
skip with a how-to, and fail under CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "helm" / "omnigate" / "alerts" / "omnigate.rules.yaml"
POD = {"namespace": "support", "pod": "omnigate-0"}


def _promtool() -> str:
    for candidate in (Path(sys.prefix) / "bin" / "promtool", shutil.which("promtool")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    message = (
        "promtool not found; install it with: sh tests/tools/install-promtool.sh .venv "
        "(Debian/Ubuntu as root: apt-get install prometheus; elsewhere: the prometheus release "
        "tarball from https://prometheus.io/download/, then link promtool to .venv/bin/promtool)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _rules() -> dict[str, dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    body = ", ".join(f'{k}="{v}"' for k, v in {**POD, **labels}.items())
    return {"series": f"{name}{{{body}}}", "values": values}


def _expected(alert: str, labels: dict[str, str]) -> dict[str, Any]:
    """The alert as Prometheus would send it: the rule's labels and its annotations with
    `{{ $labels.x }}` filled in."""
    rule = _rules()[alert]

    def fill(text: str) -> str:
        return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m[1], ""), text)

    return {
        "exp_labels": {**rule.get("labels", {}), **labels},
        "exp_annotations": {k: fill(v) for k, v in rule.get("annotations", {}).items()},
    }


FAIL = "omnigate_fail_closed_total"
RELOADS = "omnigate_rule_reloads_total"
SENTINEL = "omnigate_sentinel_findings_total"
TOKENS = "omnigate_token_failures_total"
REQUESTS = "omnigate_requests_total"
SENTINEL_LABELS = {"route": "contact", "kind": "phone", "action": "mask"}

# (alert, input series, eval time, labels of the alerts expected then: none = must stay quiet)
CASES: list[tuple[str, list[dict[str, str]], str, list[dict[str, str]]]] = [
    # the first fail-closed answer, on a counter pre-created at 0
    (
        "OmnigateFailClosed",
        [_series(FAIL, {"reason": "too_large"}, "0 0 0 1 1 1")],
        "4m",
        [{"namespace": "support", "reason": "too_large"}],
    ),
    # a reason not known at start-up: the series is born at 1
    (
        "OmnigateFailClosed",
        [_series(FAIL, {"reason": "residual_pii"}, "_ _ _ 1 1 1")],
        "4m",
        [{"namespace": "support", "reason": "residual_pii"}],
    ),
    # zeros only: quiet
    ("OmnigateFailClosed", [_series(FAIL, {"reason": "too_large"}, "0x20")], "15m", []),
    # quiet again once the window has passed the event
    ("OmnigateFailClosed", [_series(FAIL, {"reason": "transform"}, "0 1 1x30")], "25m", []),
    # the first failed reload
    (
        "OmnigateRuleReloadFailed",
        [
            _series(RELOADS, {"outcome": "success"}, "1x10"),
            _series(RELOADS, {"outcome": "failure"}, "0 0 1x8"),
        ],
        "3m",
        [POD],
    ),
    # successful reloads only: quiet
    (
        "OmnigateRuleReloadFailed",
        [
            _series(RELOADS, {"outcome": "success"}, "1+1x10"),
            _series(RELOADS, {"outcome": "failure"}, "0x10"),
        ],
        "9m",
        [],
    ),
    # the first sentinel finding
    (
        "OmnigateSentinelFindings",
        [_series(SENTINEL, SENTINEL_LABELS, "0 0 2x8")],
        "3m",
        [{"namespace": "support", **SENTINEL_LABELS}],
    ),
    # a route first seen with its finding
    (
        "OmnigateSentinelFindings",
        [_series(SENTINEL, SENTINEL_LABELS, "_ _ 1x8")],
        "3m",
        [{"namespace": "support", **SENTINEL_LABELS}],
    ),
    # 2 rejected tokens a second for over 10 minutes
    (
        "OmnigateTokenFailures",
        [_series(TOKENS, {"reason": "expired"}, "0+120x30")],
        "20m",
        [{"namespace": "support", "reason": "expired"}],
    ),
    # half a token a second: quiet
    ("OmnigateTokenFailures", [_series(TOKENS, {"reason": "expired"}, "0+30x30")], "20m", []),
    # 10% of answers are 502 for over 5 minutes
    (
        "OmnigateUpstreamErrors",
        [
            _series(REQUESTS, {"route": "contact", "role": "agent", "status": "200"}, "0+540x20"),
            _series(REQUESTS, {"route": "contact", "role": "agent", "status": "502"}, "0+60x20"),
        ],
        "15m",
        [{"namespace": "support"}],
    ),
    # 1% of answers are 504: quiet
    (
        "OmnigateUpstreamErrors",
        [
            _series(REQUESTS, {"route": "contact", "role": "agent", "status": "200"}, "0+594x20"),
            _series(REQUESTS, {"route": "contact", "role": "agent", "status": "504"}, "0+6x20"),
        ],
        "15m",
        [],
    ),
]


def test_rule_file_is_valid() -> None:
    promtool = _promtool()
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(_rules()) == {alert for alert, *_ in CASES}  # every alert is tested


@pytest.mark.parametrize(("alert", "series", "at", "expected"), CASES)
def test_alert_fires_on_the_first_event(
    alert: str,
    series: list[dict[str, str]],
    at: str,
    expected: list[dict[str, str]],
    tmp_path: Path,
) -> None:
    promtool = _promtool()
    spec = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    {
                        "eval_time": at,
                        "alertname": alert,
                        "exp_alerts": [_expected(alert, labels) for labels in expected],
                    }
                ],
            }
        ],
    }
    test_file = tmp_path / "alerts_test.yaml"
    test_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", str(test_file)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
