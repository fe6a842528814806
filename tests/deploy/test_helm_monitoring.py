"""The chart's monitoring parts (SPEC 7): the PrometheusRule with the recommended alerts, the
PodMonitor for sidecar mode, and the `helm test` pod. Shares test_helm_chart's helm fixtures (a
real helm binary; the skip/fail rule when it is missing lives there)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.test_helm_chart import (  # noqa: F401  (fixtures, found by name)
    ADMIN_PORT,
    CHART,
    EXAMPLES,
    _docs,
    _gateway,
    _one,
    helm,
    sidecar_chart,
)

ALERTS = CHART / "alerts" / "omnigate.rules.yaml"
STANDALONE = ["-f", str(EXAMPLES / "standalone.yaml")]
PROMETHEUS = "monitoring.coreos.com/v1"


def _render(helm: Any, *args: str, chart: Path = CHART) -> list[dict[str, Any]]:  # noqa: F811
    return _docs(helm("template", "rel", str(chart), "--namespace", "support", *args).stdout)


def _kinds(docs: list[dict[str, Any]]) -> list[str]:
    return [d["kind"] for d in docs]


def test_monitoring_objects_are_off_by_default(helm: Any) -> None:  # noqa: F811
    kinds = _kinds(_render(helm, *STANDALONE))
    assert "PrometheusRule" not in kinds and "PodMonitor" not in kinds


@pytest.mark.parametrize("mode", ["standalone", "sidecar"])
def test_prometheus_rule_carries_the_documented_alerts(helm: Any, mode: str) -> None:  # noqa: F811
    args = [
        *STANDALONE,
        "--set",
        f"mode={mode}",
        "--set",
        "prometheusRule.enabled=true",
        "--set",
        "prometheusRule.labels.release=kube-prometheus-stack",
    ]
    rule = _one(_render(helm, *args), "PrometheusRule")
    assert rule["apiVersion"] == PROMETHEUS
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    # exactly the rule file promtool tests (tests/deploy/test_alerts.py), annotations untouched
    assert rule["spec"]["groups"] == yaml.safe_load(ALERTS.read_text())["groups"]
    alerts = {r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert alerts == {
        "OmnigateFailClosed",
        "OmnigateRuleReloadFailed",
        "OmnigateSentinelFindings",
        "OmnigateTokenFailures",
        "OmnigateUpstreamErrors",
    }


def test_prometheus_rule_appends_additional_groups(helm: Any, tmp_path: Path) -> None:  # noqa: F811
    extra = {"name": "mine", "rules": [{"alert": "X", "expr": "vector(1)"}]}
    values = tmp_path / "v.yaml"
    values.write_text(
        yaml.safe_dump({"prometheusRule": {"enabled": True, "additionalGroups": [extra]}})
    )
    rule = _one(_render(helm, *STANDALONE, "-f", str(values)), "PrometheusRule")
    assert rule["spec"]["groups"][-1] == extra


def test_pod_monitor_scrapes_the_sidecar_admin_port(helm: Any, sidecar_chart: Path) -> None:  # noqa: F811
    docs = _render(
        helm,
        "--set",
        "omnigate.podMonitor.enabled=true",
        "--set",
        "omnigate.podMonitor.selector.app\\.kubernetes\\.io/name=chat-api",
        chart=sidecar_chart,
    )
    monitor = _one(docs, "PodMonitor")
    assert monitor["apiVersion"] == PROMETHEUS
    assert monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "chat-api"}
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics"
    # the named port exists on the sidecar container and is the admin listener
    app = _one(docs, "Deployment")
    ports = {p["name"]: p["containerPort"] for p in _gateway(app)["ports"]}
    assert ports[endpoint["port"]] == ADMIN_PORT


def test_pod_monitor_needs_a_selector(helm: Any) -> None:  # noqa: F811
    result = helm(
        "template",
        "rel",
        str(CHART),
        "--set",
        "mode=sidecar",
        "--set",
        "podMonitor.enabled=true",
        check=False,
    )
    assert result.returncode != 0
    assert "podMonitor.selector" in result.stderr


def test_pod_monitor_is_sidecar_only(helm: Any) -> None:  # noqa: F811
    docs = _render(
        helm, *STANDALONE, "--set", "podMonitor.enabled=true", "--set", "podMonitor.selector.app=x"
    )
    assert "PodMonitor" not in _kinds(docs)


def test_helm_test_pod_checks_readiness_through_the_service(helm: Any) -> None:  # noqa: F811
    docs = _render(helm, *STANDALONE, "--set", "networkPolicy.enabled=true")
    pods = [d for d in docs if d["kind"] == "Pod"]
    (pod,) = pods
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    service = _one(docs, "Service")
    # the Service must not send traffic to the test pod
    assert not service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    script = container["command"][-1]
    admin = next(p for p in service["spec"]["ports"] if p["name"] == "admin")
    assert f"http://{service['metadata']['name']}:{admin['port']}" in script
    assert "/readyz" in script
    assert container["image"] == _gateway(_one(docs, "Deployment"))["image"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    # the NetworkPolicy lets it reach the admin port
    policy = _one(docs, "NetworkPolicy")
    admin_rule = next(
        r for r in policy["spec"]["ingress"] if r["ports"][0]["port"] == "omnigate-admin"
    )
    selectors = [f["podSelector"]["matchLabels"] for f in admin_rule["from"] if "podSelector" in f]
    assert any(s.items() <= pod["metadata"]["labels"].items() for s in selectors)


def test_helm_test_can_be_turned_off(helm: Any) -> None:  # noqa: F811
    docs = _render(helm, *STANDALONE, "--set", "helmTest.enabled=false")
    assert "Pod" not in _kinds(docs)
