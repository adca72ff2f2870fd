"""The Kubernetes manifests: every kustomization renders offline and validates, overlays apply."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import render, tool

KUSTOMIZATIONS = ("base", "overlays/staging", "overlays/prod")
#: The HorizontalPodAutoscaler's (minReplicas, maxReplicas) in each kustomization.
SCALE = {"base": (2, 10), "overlays/staging": (1, 3), "overlays/prod": (3, 20)}
PROBES = {"readinessProbe": "/ready", "livenessProbe": "/health", "startupProbe": "/ready"}


@pytest.fixture(scope="module")
def k8s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render(
        tmp_path_factory.mktemp("k8s") / "project",
        project_name="Fraud Scorer",
        github_owner="Acme-Corp",
        deployment_strategies="[model_as_service]",
    )
    return project / "deploy" / "k8s"


def _build(k8s: Path, kustomization: str) -> dict[str, dict]:
    """`kubectl kustomize` (kustomize v5, offline), resources by kind."""
    out = subprocess.run(
        [tool("kubectl"), "kustomize", str(k8s / kustomization)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {doc["kind"]: doc for doc in yaml.safe_load_all(out)}


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_each_kustomization_renders_and_validates(
    k8s: Path, kustomization: str, tmp_path: Path
) -> None:
    resources = _build(k8s, kustomization)
    assert set(resources) == {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(resources.values()))
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", str(rendered)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == 4


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_each_kustomization_lets_the_autoscaler_scale_and_drains_proceed(
    k8s: Path, kustomization: str
) -> None:
    resources = _build(k8s, kustomization)
    deployment = resources["Deployment"]
    assert "replicas" not in deployment["spec"]  # the autoscaler's; an apply must not reset it
    hpa = resources["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == SCALE[kustomization]
    # One pod may always be evicted: at one replica (staging) minAvailable: 1 would block drains.
    pdb = resources["PodDisruptionBudget"]["spec"]
    assert pdb["maxUnavailable"] == 1
    assert "minAvailable" not in pdb
    assert pdb["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_each_kustomization_runs_a_probed_bounded_restricted_pod(
    k8s: Path, kustomization: str
) -> None:
    pod = _build(k8s, kustomization)["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    for probe, path in PROBES.items():
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}, probe
    for bound in ("requests", "limits"):
        assert set(container["resources"][bound]) == {"cpu", "memory"}, bound
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    # The one writable path, /tmp (metrics of the uvicorn workers, default prediction store), is
    # an emptyDir.
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {}}]


@pytest.mark.parametrize(
    ("overlay", "namespace", "cpu"),
    [("staging", "fraud-scorer-staging", "250m"), ("prod", "fraud-scorer-prod", "500m")],
)
def test_overlays_set_namespace_image_and_cpu(
    k8s: Path, overlay: str, namespace: str, cpu: str
) -> None:
    base = _build(k8s, "base")
    resources = _build(k8s, f"overlays/{overlay}")
    assert {r["metadata"]["namespace"] for r in resources.values()} == {namespace}
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "ghcr.io/acme-corp/fraud-scorer-service:latest"
    assert container["resources"]["requests"]["cpu"] == cpu
    # Patches change scale only: the restricted security context survives every overlay.
    base_pod = base["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"] == base_pod["securityContext"]
    assert container["securityContext"] == base_pod["containers"][0]["securityContext"]
