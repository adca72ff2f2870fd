"""The Kubernetes manifests: every kustomization renders offline and validates, overlays apply."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import render, tool

KUSTOMIZATIONS = ("base", "overlays/staging", "overlays/prod")


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


@pytest.mark.parametrize(
    ("overlay", "namespace", "min_replicas", "max_replicas", "cpu"),
    [
        ("staging", "fraud-scorer-staging", 1, 3, "250m"),
        ("prod", "fraud-scorer-prod", 3, 20, "500m"),
    ],
)
def test_overlays_set_namespace_image_and_scale(
    k8s: Path,
    overlay: str,
    namespace: str,
    min_replicas: int,
    max_replicas: int,
    cpu: str,
) -> None:
    base = _build(k8s, "base")
    resources = _build(k8s, f"overlays/{overlay}")
    assert {r["metadata"]["namespace"] for r in resources.values()} == {namespace}
    hpa = resources["HorizontalPodAutoscaler"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (min_replicas, max_replicas)
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "ghcr.io/acme-corp/fraud-scorer-service:latest"
    assert container["resources"]["requests"]["cpu"] == cpu
    # Patches change scale only: the restricted security context survives every overlay.
    base_pod = base["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"] == base_pod["securityContext"]
    assert container["securityContext"] == base_pod["containers"][0]["securityContext"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
