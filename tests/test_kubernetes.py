"""The Kubernetes manifests: every kustomization renders offline and validates, overlays apply,
the pods are restricted, reached and reaching out only as the NetworkPolicy allows, and read
their secret from a file. The same for the batch strategy's CronJob, alone and next to the
service: no overlapping runs, the Job's name as the run id, each workload's selectors and
policy on its own pods only. (tests/test_checkov.py scans the same renderings with Checkov;
tests/test_deployments.py runs the CronJob's container command.)"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import one_worker_each, render, tool

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


def _resources(k8s: Path, kustomization: str) -> list[dict[str, Any]]:
    """`kubectl kustomize` (kustomize v5, offline): the resources."""
    out = subprocess.run(
        [tool("kubectl"), "kustomize", str(k8s / kustomization)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return list(yaml.safe_load_all(out))


def _build(k8s: Path, kustomization: str) -> dict[str, dict]:
    """The service's resources by kind (one of each)."""
    resources = _resources(k8s, kustomization)
    by_kind = {doc["kind"]: doc for doc in resources}
    assert len(by_kind) == len(resources)
    return by_kind


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


# --- The batch strategy: a CronJob, alone and next to the service ------------------------------

#: The batch project alone, and next to the service (the default strategies).
BATCH_PROJECTS = {"batch": "[batch]", "batch+service": "[batch, model_as_service]"}
#: The CronJob's schedule in each kustomization (UTC): staging runs weekly.
SCHEDULES = {"base": "0 2 * * *", "overlays/staging": "0 3 * * 1", "overlays/prod": "0 2 * * *"}
BATCH_PLACEHOLDER = "ghcr.io/acme-corp/fraud-scorer-batch@sha256:" + "0" * 64
#: The downward API's path to the Job's name, which Kubernetes (1.27+) puts on the Job's pods.
JOB_NAME_LABEL = "metadata.labels['batch.kubernetes.io/job-name']"


@pytest.fixture(scope="module", params=one_worker_each("k8s-batch", *BATCH_PROJECTS))
def batch_k8s(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render(
        tmp_path_factory.mktemp("k8s-batch") / "project",
        project_name="Fraud Scorer",
        github_owner="Acme-Corp",
        deployment_strategies=BATCH_PROJECTS[request.param],
    )
    return project / "deploy" / "k8s"


def _component(resources: list[dict[str, Any]], kind: str, component: str) -> dict[str, Any]:
    (found,) = [
        r
        for r in resources
        if r["kind"] == kind and r["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    return found


def _batch_pod(resources: list[dict[str, Any]]) -> dict[str, Any]:
    cronjob = _component(resources, "CronJob", "batch")
    pod: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]
    return pod


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels only, as ours are) picks pods with ``labels``."""
    assert set(selector) == {"matchLabels"}, selector
    return bool(selector["matchLabels"].items() <= labels.items())


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_batch_kustomizations_render_and_validate_outside_the_default_namespace(
    batch_k8s: Path, kustomization: str, tmp_path: Path
) -> None:
    resources = _resources(batch_k8s, kustomization)
    kinds = sorted((r["kind"], r["metadata"]["name"]) for r in resources)
    expected = [("CronJob", "fraud-scorer-batch"), ("NetworkPolicy", "fraud-scorer-batch")]
    if "deployment.yaml" in (batch_k8s / "base/kustomization.yaml").read_text():
        expected += [
            ("Deployment", "fraud-scorer"),
            ("HorizontalPodAutoscaler", "fraud-scorer"),
            ("NetworkPolicy", "fraud-scorer"),
            ("PodDisruptionBudget", "fraud-scorer"),
            ("Service", "fraud-scorer"),
        ]
    assert kinds == sorted(expected)
    assert {r["metadata"]["namespace"] for r in resources} == {NAMESPACES[kustomization]}
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(resources))
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", str(rendered)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == len(expected)


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_the_cronjob_never_overlaps_its_runs_and_bounds_each(
    batch_k8s: Path, kustomization: str
) -> None:
    cronjob = _component(_resources(batch_k8s, kustomization), "CronJob", "batch")["spec"]
    assert cronjob["schedule"] == SCHEDULES[kustomization]
    assert cronjob["timeZone"] == "Etc/UTC"
    assert cronjob["concurrencyPolicy"] == "Forbid"
    assert 0 < cronjob["startingDeadlineSeconds"] <= 3600
    assert cronjob["successfulJobsHistoryLimit"] > 0 and cronjob["failedJobsHistoryLimit"] > 0
    job = cronjob["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 2
    assert job["activeDeadlineSeconds"] == 3 * 3600
    assert job["ttlSecondsAfterFinished"] == 7 * 24 * 3600
    # A drained node's pod is retried without counting against backoffLimit (needs Never).
    assert job["podFailurePolicy"]["rules"] == [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
    ]
    assert job["template"]["spec"]["restartPolicy"] == "Never"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_each_run_is_identified_by_its_job_name(batch_k8s: Path, kustomization: str) -> None:
    """The run id is the Job's name: a pod the Job retries has the same and replaces its run's
    rows; another scheduled run (another Job) has another. The image's entry point runs."""
    (container,) = _batch_pod(_resources(batch_k8s, kustomization))["spec"]["containers"]
    assert "command" not in container  # the image's ENTRYPOINT: `<package> batch-predict`
    env = {v["name"]: v for v in container["env"]}
    assert env["JOB_NAME"] == {
        "name": "JOB_NAME",
        "valueFrom": {"fieldRef": {"fieldPath": JOB_NAME_LABEL}},
    }
    # `$(JOB_NAME)` is expanded by Kubernetes only from a variable defined in env.
    assert [a for a in container["args"] if a.startswith("--run-id")] == ["--run-id=$(JOB_NAME)"]
    assert container["args"][0] == "table:batch_input"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_the_batch_pod_is_restricted_bounded_and_reads_its_secrets_from_files(
    batch_k8s: Path, kustomization: str
) -> None:
    pod = _batch_pod(_resources(batch_k8s, kustomization))["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    for bound in ("requests", "limits"):
        assert set(container["resources"][bound]) == {"cpu", "memory"}, bound
    assert container["image"] == BATCH_PLACEHOLDER  # by digest; k8s-manifests sets the release's
    assert container["imagePullPolicy"] == "Always"
    # No secret in an argument or a variable: the URLs are files of mounted secrets.
    assert "envFrom" not in container
    assert all("secretKeyRef" not in v.get("valueFrom", {}) for v in container["env"])
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["tmp"] == {"name": "tmp", "emptyDir": {}}  # the one writable path
    assert mounts["tmp"] == {"name": "tmp", "mountPath": "/tmp"}
    database = mounts["batch-database"]
    assert database["readOnly"] is True
    assert volumes["batch-database"]["secret"] == {
        "secretName": "batch-database",  # required: a run without its database cannot start
        "defaultMode": 0o440,
    }
    url = f"{database['mountPath']}/url"
    assert f"--output-url-file={url}" in container["args"]
    assert f"--source-url-file={url}" in container["args"]
    assert not any(a.startswith(("--output-url=", "--source-url=")) for a in container["args"])
    store = mounts["prediction-store"]
    assert store["readOnly"] is True
    assert volumes["prediction-store"]["secret"] == {
        "secretName": "prediction-store",
        "optional": True,  # as for the service: without it, the sample stays in the pod's /tmp
        "defaultMode": 0o440,
    }
    env = {v["name"]: v.get("value") for v in container["env"]}
    assert env["PREDICTION_STORE_FILE"] == f"{store['mountPath']}/url"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_each_workload_selects_and_isolates_its_own_pods_only(
    batch_k8s: Path, kustomization: str
) -> None:
    """The batch pods take no connection and reach DNS and the databases only; next to the
    service, no selector of one workload (the service's Deployment, Service, budget, policy)
    picks the other's pods."""
    resources = _resources(batch_k8s, kustomization)
    batch_labels = _batch_pod(resources)["metadata"]["labels"]
    assert batch_labels == {
        "app.kubernetes.io/name": "fraud-scorer",
        "app.kubernetes.io/component": "batch",
    }
    policy = _component(resources, "NetworkPolicy", "batch")["spec"]
    assert _selects(policy["podSelector"], batch_labels)
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert not policy.get("ingress")  # Ingress restricted, no rule: nothing gets in
    dns, store = policy["egress"]
    assert dns["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert dns["to"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
    }
    assert store == {
        "to": [{"ipBlock": {"cidr": cidr}} for cidr in PRIVATE],
        "ports": [{"port": 5432, "protocol": "TCP"}],
    }
    if not any(r["kind"] == "Deployment" for r in resources):
        return
    service_labels = _component(resources, "Deployment", "model-service")["spec"]["template"][
        "metadata"
    ]["labels"]
    service_selectors = [
        _component(resources, "Deployment", "model-service")["spec"]["selector"],
        {"matchLabels": _component(resources, "Service", "model-service")["spec"]["selector"]},
        _component(resources, "PodDisruptionBudget", "model-service")["spec"]["selector"],
        _component(resources, "NetworkPolicy", "model-service")["spec"]["podSelector"],
    ]
    for selector in service_selectors:
        assert _selects(selector, service_labels) and not _selects(selector, batch_labels)
    assert not _selects(policy["podSelector"], service_labels)


def test_the_service_renders_as_before_the_batch_job_was_added(k8s: Path, batch_k8s: Path) -> None:
    """Next to the batch job, the service's resources are the service-only project's, byte for
    byte: its selectors (immutable on a Deployment) did not change."""
    if not (batch_k8s / "base" / "deployment.yaml").exists():
        return  # the batch project alone
    for kustomization in KUSTOMIZATIONS:
        alone = _resources(k8s, kustomization)
        beside = [r for r in _resources(batch_k8s, kustomization) if r not in alone]
        assert {r["kind"] for r in beside} == {"CronJob", "NetworkPolicy"}, kustomization
        assert len(_resources(batch_k8s, kustomization)) == len(alone) + 2


def test_a_one_off_run_is_a_job_from_the_cronjob_named_by_its_run_id(
    batch_k8s: Path, tmp_path: Path
) -> None:
    """`make batch-job ENV=prod JOB=NAME` (kubectl stubbed: no cluster here) creates a Job from the
    CronJob in the prod overlay's namespace, so the same template, image and run-id wiring; the
    name is refused unless Kubernetes accepts it."""
    project = batch_k8s.parent.parent
    stub = tmp_path / "bin" / "kubectl"
    stub.parent.mkdir()
    stub.write_text('#!/usr/bin/env bash\necho "kubectl $*" >> "$LOG"\n')
    stub.chmod(0o755)
    log = tmp_path / "log"
    env = {**os.environ, "PATH": f"{stub.parent}{os.pathsep}{os.environ['PATH']}", "LOG": str(log)}

    def batch_job(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "batch-job", "RUN=", "ENV=prod", *args],
            cwd=project, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip

    result = batch_job("JOB=backfill-2026-11-30")
    assert result.returncode == 0, result.stdout + result.stderr
    cronjob = _component(_resources(batch_k8s, "overlays/prod"), "CronJob", "batch")
    namespace, name = cronjob["metadata"]["namespace"], cronjob["metadata"]["name"]
    assert log.read_text() == (
        f"kubectl --namespace {namespace} create job backfill-2026-11-30 --from=cronjob/{name}\n"
    )
    log.unlink()
    result = batch_job()  # a fresh name for each run
    assert result.returncode == 0, result.stdout + result.stderr
    (call,) = log.read_text().splitlines()
    assert re.fullmatch(r"kubectl --namespace \S+ create job fraud-scorer-batch-\d{14} \S+", call)
    log.unlink()
    for wrong in ("Backfill", "a_b", "x" * 64, "-a"):
        result = batch_job(f"JOB={wrong}")
        assert result.returncode != 0, wrong
        assert "JOB must be a Kubernetes name" in result.stderr
        assert not log.exists()
