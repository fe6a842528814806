"""The chart's identity-linking settings (SPEC 7, 4.1), rendered with the real `helm template`.

SQLite (one replica): a writable volume at linking.sqlite.mountPath and OMNIGATE_LINK_STORE
pointing into it. Several replicas: an existing Redis whose URL comes from a Secret, no volume.
Needs the helm binary that `sh tests/tools/install-helm.sh .venv` installs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "omnigate"
STANDALONE = REPO / "helm" / "examples" / "standalone.yaml"
HELM = Path(sys.prefix) / "bin" / "helm"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not HELM.exists():
        message = f"helm not found at {HELM}; install it with: sh tests/tools/install-helm.sh .venv"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("helm-home")
    env = {**os.environ, **{f"HELM_{k}_HOME": str(home / k) for k in ("CACHE", "CONFIG", "DATA")}}

    def run(*sets: str) -> subprocess.CompletedProcess[str]:
        args = [str(HELM), "template", "rel", str(CHART), "-f", str(STANDALONE)]
        for value in sets:
            args += ["--set", value]
        return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)

    return run


def gateway_pod(out: subprocess.CompletedProcess[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    assert out.returncode == 0, out.stderr
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    kubernetes_validate.validate(deployment, "1.25", strict=True)
    spec = deployment["spec"]["template"]["spec"]
    (container,) = [c for c in spec["containers"] if c["name"] == "omnigate"]
    return spec, container


def test_linking_off_adds_nothing(template: Any) -> None:
    spec, container = gateway_pod(template())
    assert "OMNIGATE_LINK_STORE" not in {e["name"] for e in container["env"]}
    assert "omnigate-links" not in {v["name"] for v in spec["volumes"]}


@pytest.mark.parametrize(
    ("claim", "volume"),
    [
        ("", {"emptyDir": {"sizeLimit": "256Mi"}}),  # learned again after a restart
        ("identities", {"persistentVolumeClaim": {"claimName": "identities"}}),  # kept
    ],
)
def test_sqlite_gets_a_writable_volume_on_one_replica(
    template: Any, claim: str, volume: dict[str, Any]
) -> None:
    spec, container = gateway_pod(
        template("linking.enabled=true", "replicaCount=1", f"linking.sqlite.existingClaim={claim}")
    )
    env = {e["name"]: e for e in container["env"]}
    assert env["OMNIGATE_LINK_STORE"]["value"] == "sqlite:////var/lib/omnigate/identities.db"
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["omnigate-links"]["mountPath"] == "/var/lib/omnigate"
    assert not mounts["omnigate-links"].get("readOnly")  # the root filesystem stays read-only
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    (links,) = [v for v in spec["volumes"] if v["name"] == "omnigate-links"]
    assert {k: v for k, v in links.items() if k != "name"} == volume


@pytest.mark.parametrize(
    "sets",
    [
        ("linking.enabled=true",),  # the chart's default of two replicas
        ("linking.enabled=true", "replicaCount=1", "autoscaling.enabled=true"),
    ],
)
def test_sqlite_with_several_replicas_is_refused(template: Any, sets: tuple[Any, ...]) -> None:
    out = template(*sets)
    assert out.returncode != 0
    assert "replicaCount: 1" in out.stderr and "linking.redis.existingSecret" in out.stderr


def test_existing_redis_from_a_secret_for_several_replicas(template: Any) -> None:
    spec, container = gateway_pod(
        template(
            "linking.enabled=true",
            "linking.redis.existingSecret=omnigate-redis",
            "linking.redis.secretKey=uri",
            "replicaCount=3",
        )
    )
    env = {e["name"]: e for e in container["env"]}
    # SECURITY: the URL (and its password) is never in the rendered manifest
    assert env["OMNIGATE_LINK_STORE"] == {
        "name": "OMNIGATE_LINK_STORE",
        "valueFrom": {"secretKeyRef": {"name": "omnigate-redis", "key": "uri"}},
    }
    assert "omnigate-links" not in {v["name"] for v in spec["volumes"]}


def test_unknown_linking_keys_are_refused(template: Any) -> None:
    out = template("linking.store=redis://x")
    assert out.returncode != 0 and "store" in out.stderr
