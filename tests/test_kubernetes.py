"""The Kubernetes manifests: every kustomization renders offline and validates, overlays apply,
the pods are restricted, reached and reaching out only as the NetworkPolicy allows, and read
their secret from a file. (tests/test_checkov.py scans the same renderings with Checkov.)"""

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
#: Each kustomization's namespace: never `default`.
NAMESPACES = {
    "base": "fraud-scorer",
    "overlays/staging": "fraud-scorer-staging",
    "overlays/prod": "fraud-scorer-prod",
}
#: The image as committed: a digest no registry serves (`make k8s-manifests` sets the release's).
PLACEHOLDER = "ghcr.io/acme-corp/fraud-scorer-service@sha256:" + "0" * 64
#: Where the NetworkPolicy lets the pods reach the prediction store by default (RFC 1918).
PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


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
        "NetworkPolicy",
    }
    assert {r["metadata"]["namespace"] for r in resources.values()} == {NAMESPACES[kustomization]}
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(resources.values()))
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", str(rendered)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == 5


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
    # an emptyDir; the prediction store's secret is a read-only file.
    assert container["volumeMounts"] == [
        {"name": "tmp", "mountPath": "/tmp"},
        {
            "name": "prediction-store",
            "mountPath": "/var/run/secrets/prediction-store",
            "readOnly": True,
        },
    ]
    assert pod["volumes"][0] == {"name": "tmp", "emptyDir": {}}
    assert container["image"] == PLACEHOLDER  # by digest, never by tag
    assert container["imagePullPolicy"] == "Always"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_secrets_reach_the_service_as_files_never_as_environment_variables(
    k8s: Path, kustomization: str
) -> None:
    pod = _build(k8s, kustomization)["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert "envFrom" not in container
    assert all("valueFrom" not in variable for variable in container["env"])
    env = {v["name"]: v["value"] for v in container["env"]}
    assert "PREDICTION_STORE" not in env  # the image's /tmp default applies without the secret
    secret = next(v for v in pod["volumes"] if "secret" in v)
    assert secret["secret"] == {
        "secretName": "prediction-store",
        "optional": True,  # the service starts without it (predictions stay in the pod's /tmp)
        "defaultMode": 0o440,  # readable by the pod's group (fsGroup), nobody else
    }
    assert pod["securityContext"]["fsGroup"] == 10001
    mount = next(m for m in container["volumeMounts"] if m["name"] == secret["name"])
    # store.py reads the URL from the file PREDICTION_STORE_FILE names: the secret's key `url`.
    assert env["PREDICTION_STORE_FILE"] == f"{mount['mountPath']}/url"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_the_network_policy_admits_callers_and_the_scraper_and_reaches_dns_and_the_store(
    k8s: Path, kustomization: str
) -> None:
    resources = _build(k8s, kustomization)
    policy = resources["NetworkPolicy"]["spec"]
    pod_labels = resources["Deployment"]["spec"]["template"]["metadata"]["labels"]
    # It selects the service's pods (every label it asks for is on them) and restricts both ways.
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "fraud-scorer"
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    # In: the service port only, from the client-labelled pods of the namespace and from the
    # `monitoring` namespace (the metrics scraper); nothing else.
    (ingress,) = policy["ingress"]
    assert ingress["ports"] == [{"port": "http", "protocol": "TCP"}]
    container = resources["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert [p["name"] for p in container["ports"]] == ["http"]
    clients, scraper = ingress["from"]
    assert clients == {
        "podSelector": {
            "matchExpressions": [
                {"key": "fraud-scorer-client", "operator": "In", "values": ["true"]}
            ]
        }
    }  # no matchLabels: the kustomization's labels would narrow it to the service's own pods
    assert scraper == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    }
    # Out: DNS to the cluster's resolver, and PostgreSQL's port on private addresses only (the
    # prediction store; an overlay names its address), never to any address.
    dns, store = policy["egress"]
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {
                "matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]
            },
        }
    ]
    assert dns["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert store == {
        "to": [{"ipBlock": {"cidr": cidr}} for cidr in PRIVATE],
        "ports": [{"port": 5432, "protocol": "TCP"}],
    }


def test_the_documented_overlay_patch_names_the_store_and_admits_an_ingress_controller(
    k8s: Path,
) -> None:
    """The patch docs/deployment/model-as-service.md shows, applied in an overlay of the prod
    overlay: the store at exactly its address instead of the private ranges, one more caller."""
    page = k8s.parent.parent / "docs" / "deployment" / "model-as-service.md"
    patch = page.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    overlay = k8s / "overlays" / "documented"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(f"resources: [../prod]\n{patch}")
    policy = _build(k8s, "overlays/documented")["NetworkPolicy"]["spec"]
    store = policy["egress"][1]
    assert store == {
        "to": [{"ipBlock": {"cidr": "10.0.42.0/24"}}],
        "ports": [{"port": 5432, "protocol": "TCP"}],
    }
    assert policy["ingress"][0]["from"][-1] == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    }
    assert len(policy["ingress"][0]["from"]) == 3


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
    assert container["image"] == PLACEHOLDER  # the release's digest comes from k8s-manifests
    assert container["resources"]["requests"]["cpu"] == cpu
    # Patches change scale only: the restricted security context survives every overlay.
    base_pod = base["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"] == base_pod["securityContext"]
    assert container["securityContext"] == base_pod["containers"][0]["securityContext"]
    # ... and so does the NetworkPolicy.
    assert resources["NetworkPolicy"]["spec"] == base["NetworkPolicy"]["spec"]
