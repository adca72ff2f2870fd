"""Checkov, an independent infrastructure-as-code scanner, over what a generated project deploys:
the Kubernetes base and overlays as `make lint` renders them, the manifests `cd.yml` applies (with
a release digest), every Dockerfile and the workflows. No check fails; the only skips are written
inline with a reason, and each of them is shown to be needed.

Checkov runs offline: `--skip-download` (no policy or guideline download),
`CKV_SKIP_PACKAGE_UPDATE_CHECK=true` (else importing its banner asks pypi.org for a newer
version), no API key in its environment (no platform upload), and a project rendered from a local
template. Every run is audited (Python's audit events for name lookups and connections) and, where
`unshare -rn` works, has no network at all; a network attempt fails the test.

Three option sets are scanned: every strategy on AWS (the service and the batch CronJob side by
side), the service with serverless on GCP with the newest Python (other Dockerfiles, another
cloud's manifests), and the batch strategy alone on Azure (the CronJob without the service); the
workflows and the negative test use the first.

Checkov's bundled workflow schema predates the `attestations` permission: it silently skips any
workflow that has one (cd.yml). The workflows are therefore scanned as a copy without those
permission lines, and the test checks that every workflow, cd.yml included, was scanned.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import one_worker_each, render, tool

# Slow tier: each Checkov start-up takes seconds and the scans ~50 worker-seconds in all, a fifth
# of the fast tier's budget; the manifests they scan are checked in the fast tier by
# tests/test_kubernetes.py (kubectl kustomize, kubernetes-validate --strict) and hadolint.
pytestmark = pytest.mark.slow

DIGEST = "sha256:" + "0123456789abcdef" * 4
OPTION_SETS = {
    "all-strategies-aws": {
        "deployment_strategies": "[batch, model_in_service, model_as_service, serverless, edge]",
        "cloud": "aws",
    },
    "service-serverless-gcp-py313": {
        "deployment_strategies": "[model_as_service, serverless]",
        "cloud": "gcp",
        "python_version": "3.13",
    },
    "batch-azure": {"deployment_strategies": "[batch]", "cloud": "azure"},
}
#: The skips the template may carry, each with a reason a reviewer accepts (in the file itself):
#: check -> the files (relative to the project) that carry it.
ALLOWED_SKIPS = {
    # Every FROM is `${...}_IMAGE`, a build argument whose default has a version tag; Checkov
    # does not expand ARG. test_base_images_are_tagged_build_arguments checks what it cannot.
    "CKV_DOCKER_7": {
        "docker/batch.Dockerfile",
        "docker/service.Dockerfile",
        "docker/serverless.Dockerfile",
        "docker/edge.Dockerfile",
        "examples/host_app/Dockerfile",
    },
    # Jobs, not servers: batch and edge runs exit (judged by exit status), Lambda ignores it.
    "CKV_DOCKER_2": {
        "docker/batch.Dockerfile",
        "docker/serverless.Dockerfile",
        "docker/edge.Dockerfile",
    },
}
SKIP = re.compile(r"#\s*checkov:skip=(?P<check>[A-Z0-9_]+):(?P<reason>.+)$", re.MULTILINE)
#: Python code that records on stderr every name lookup and connection the process attempts.
AUDIT = """import sys
def audit(event, args):
    if event in ("socket.getaddrinfo", "socket.connect"):
        sys.stderr.write(f"AUDIT-NETWORK {event} {args[:2]!r}\\n")
sys.addaudithook(audit)
"""
#: Checkov's console script, audited.
CHECKOV = (
    AUDIT + "from checkov.main import Checkov\nsys.argv[0] = 'checkov'\nsys.exit(Checkov().run())\n"
)
#: No network at all where an unprivileged network namespace can be made.
NO_NETWORK = (
    ["unshare", "-rn"]
    if shutil.which("unshare")
    and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
    else []
)


def _run_offline(
    code: str, *args: str, update_check: bool = False
) -> subprocess.CompletedProcess[str]:
    """``code`` run by this interpreter (Checkov's) as Checkov runs here: no API key, no update
    check (unless ``update_check``), an empty cache (no answer from an earlier run), no network."""
    tool("checkov")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_"))}
    env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] = "false" if update_check else "true"
    with tempfile.TemporaryDirectory() as cache:
        env["XDG_CACHE_HOME"] = cache
        return subprocess.run(
            [*NO_NETWORK, sys.executable, "-c", code, *args],
            capture_output=True, text=True, check=False, env=env,
        )  # fmt: skip


def checkov(target: Path, *frameworks: str) -> dict[str, dict[str, Any]]:
    """Checkov's JSON report of ``target`` (a directory) by framework; offline."""
    result = _run_offline(
        CHECKOV, "--skip-download", "--output", "json",
        "--directory", str(target), "--framework", *frameworks,
    )  # fmt: skip
    assert "AUDIT-NETWORK" not in result.stderr, result.stderr
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    return {r["check_type"]: r for r in reports if "check_type" in r}


def failures(report: dict[str, Any]) -> list[str]:
    return [
        f"{c['check_id']} {c['resource']} {c['file_path']}: {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]


def _kustomize(project: Path) -> None:
    """What `make lint` renders into reports/k8s, plus `make k8s-manifests` for prod (cd.yml)."""
    out = project / "reports" / "k8s"
    out.mkdir(parents=True)
    for kustomization in ("base", "overlays/staging", "overlays/prod"):
        rendered = subprocess.run(
            [tool("kubectl"), "kustomize", str(project / "deploy/k8s" / kustomization)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        (out / f"{Path(kustomization).name}.yaml").write_text(rendered)
    make = subprocess.run(
        ["make", "k8s-manifests", "RUN=", "ENV=prod", f"SERVICE_DIGEST={DIGEST}",
         f"BATCH_DIGEST={DIGEST}"],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert make.returncode == 0, make.stdout + make.stderr
    (out / "release-prod" / "kustomization.yaml").unlink()  # not a manifest


def _scan(tmp_path_factory: pytest.TempPathFactory, option_set: str) -> tuple[Path, dict[str, Any]]:
    """A project with ``option_set``'s answers, its manifests rendered, scanned once."""
    project = render(tmp_path_factory.mktemp("checkov") / "project", **OPTION_SETS[option_set])
    _kustomize(project)
    return project, checkov(project, "kubernetes", "dockerfile")


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A project with all five strategies on AWS."""
    return _scan(tmp_path_factory, "all-strategies-aws")


@pytest.fixture(scope="module", params=one_worker_each("checkov", *OPTION_SETS))
def scanned(
    request: pytest.FixtureRequest,
    everything: tuple[Path, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, Any]]:
    """Each option set's project, scanned."""
    if request.param == "all-strategies-aws":
        return everything
    return _scan(tmp_path_factory, request.param)


def _allowed_skips(project: Path) -> dict[str, set[str]]:
    """ALLOWED_SKIPS limited to the files the project has; every Dockerfile is among them."""
    allowed = {
        check: {name for name in files if (project / name).exists()}
        for check, files in ALLOWED_SKIPS.items()
    }
    dockerfiles = {str(f.relative_to(project)) for f in project.glob("docker/*.Dockerfile")}
    dockerfiles |= {str(f.relative_to(project)) for f in project.glob("examples/*/Dockerfile")}
    assert dockerfiles and allowed["CKV_DOCKER_7"] == dockerfiles
    return {check: files for check, files in allowed.items() if files}


def test_no_check_fails_on_manifests_dockerfiles_or_workflows(
    scanned: tuple[Path, dict[str, Any]],
) -> None:
    _, reports = scanned
    assert set(reports) == {"kubernetes", "dockerfile"}
    for framework, report in reports.items():
        assert failures(report) == [], framework
        assert report["summary"]["parsing_errors"] == 0, framework
        assert report["summary"]["passed"] > 50, framework  # it did scan something


def test_the_deployed_manifests_were_scanned_and_pass_the_hardening_checks(
    scanned: tuple[Path, dict[str, Any]],
) -> None:
    """The checks the issue was about pass on each rendered file, the deployed one included."""
    _, reports = scanned
    passed: dict[str, set[str]] = {}
    for check in reports["kubernetes"]["results"]["passed_checks"]:
        passed.setdefault(check["file_path"].lstrip("/"), set()).add(check["check_id"])
    hardening = {
        "CKV_K8S_43",  # image by digest
        "CKV_K8S_14",  # no latest or blank tag
        "CKV_K8S_15",  # pull policy Always
        "CKV_K8S_35",  # secrets as files, not environment variables
        "CKV_K8S_21",  # not the default namespace
        "CKV2_K8S_6",  # a NetworkPolicy selects the pods
        "CKV_K8S_22",  # read-only root filesystem
        "CKV_K8S_31",  # seccomp RuntimeDefault
        "CKV_K8S_38",  # no service-account token
        "CKV_K8S_11",  # CPU limits
        "CKV_K8S_13",  # memory limits
    }
    project, _ = scanned
    if not (project / "deploy/k8s/base/deployment.yaml").exists():
        # Checkov's graph check judges Pods and Deployments only, never a CronJob's pods: for
        # the batch project alone, test_each_workload_selects_and_isolates_its_own_pods_only
        # (tests/test_kubernetes.py) checks that its NetworkPolicy selects them.
        hardening.remove("CKV2_K8S_6")
    for rendered in ("base", "staging", "prod", "deploy-prod"):
        assert hardening <= passed[f"reports/k8s/{rendered}.yaml"], rendered


def test_every_skip_is_inline_with_a_reason_and_allowed(
    scanned: tuple[Path, dict[str, Any]],
) -> None:
    project, reports = scanned
    allowed = _allowed_skips(project)
    skipped: dict[str, set[str]] = {}
    for report in reports.values():
        for check in report["results"]["skipped_checks"]:
            reason = check["check_result"].get("suppress_comment", "")
            assert len(reason) > 30 and reason != "No comment provided", check
            skipped.setdefault(check["check_id"], set()).add(check["file_path"].lstrip("/"))
    assert skipped == allowed
    for check, files in allowed.items():
        for name in files:
            inline = [m for m in SKIP.finditer((project / name).read_text()) if m["check"] == check]
            assert len(inline) == 1 and len(inline[0]["reason"].strip()) > 30, (check, name)


ARG_IMAGE = re.compile(r"^ARG (?P<name>[A-Z]+_IMAGE)=(?P<image>\S+)$", re.MULTILINE)
FROM = re.compile(r"^FROM (?P<image>\S+)(?: AS (?P<stage>\S+))?$", re.MULTILINE)


def test_base_images_are_tagged_build_arguments(
    scanned: tuple[Path, dict[str, Any]],
) -> None:
    """What the CKV_DOCKER_7 skip leaves to us: every FROM is a build argument (or an earlier
    stage) whose default names a version tag, never latest (and a digest may be passed in)."""
    project, _ = scanned
    for name in _allowed_skips(project)["CKV_DOCKER_7"]:
        text = (project / name).read_text()
        defaults = {m["name"]: m["image"] for m in ARG_IMAGE.finditer(text)}
        assert defaults, name
        for image in defaults.values():
            repository, _, tag = image.rpartition(":")
            assert "/" not in tag and tag and tag != "latest", (name, image)
            assert repository, (name, image)
        stages: set[str] = set()
        for match in FROM.finditer(text):
            assert match["image"] in stages or match["image"].strip("${}") in defaults, name
            if match["stage"]:
                stages.add(match["stage"])


ATTESTATIONS = re.compile(r"^ +attestations: (read|write) .*\n", re.MULTILINE)


def test_workflows_pass_for_each_cloud(
    everything: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """The all-strategies project on aws and the service on each other cloud (cd.yml's deploy
    jobs change with it), in one scan."""
    projects = {"aws": everything[0]}
    for cloud in ("gcp", "azure", "none"):
        projects[cloud] = render(
            tmp_path / "projects" / cloud, deployment_strategies="[model_as_service]", cloud=cloud
        )
    scanned = tmp_path / "scanned"
    expected = set()
    for cloud, project in projects.items():
        for workflow in (project / ".github/workflows").glob("*.yml"):
            copy = scanned / cloud / ".github/workflows" / workflow.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            text, removed = ATTESTATIONS.subn("", workflow.read_text())
            assert removed == (0 if workflow.name != "cd.yml" else 1 + 2 * (cloud != "none"))
            copy.write_text(text)
            expected.add(f"{cloud}/.github/workflows/{workflow.name}")
    report = checkov(scanned, "github_actions")["github_actions"]
    assert failures(report) == []
    assert report["summary"]["skipped"] == 0
    assert {c["file_path"].lstrip("/") for c in report["results"]["passed_checks"]} == expected


def test_checkov_does_fail_on_known_problems_and_without_the_skips(
    everything: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Not vacuous: a manifest by tag with a secret in the environment and no NetworkPolicy
    fails, and so do the template's own Dockerfiles once their skip comments are removed."""
    project, _ = everything
    bad = tmp_path / "bad"
    bad.mkdir()
    deployed = (project / "reports/k8s/deploy-prod.yaml").read_text()
    deployed = deployed.replace(f"@{DIGEST}", ":latest")
    deployed = re.sub(  # the Deployment's variables (the CronJob's are indented further)
        r"^        - name: PREDICTION_STORE_FILE\n",
        "        - name: PREDICTION_STORE\n"
        "          valueFrom:\n"
        "            secretKeyRef: {name: prediction-store, key: url}\n"
        "        - name: PREDICTION_STORE_FILE\n",
        deployed,
        flags=re.MULTILINE,
    )
    documents = deployed.split("\n---\n")
    (bad / "deploy.yaml").write_text(
        "\n---\n".join(d for d in documents if "kind: NetworkPolicy" not in d)
    )
    for name in ALLOWED_SKIPS["CKV_DOCKER_2"]:
        text = SKIP.sub("", (project / name).read_text())
        (bad / Path(name).name).write_text(text)
    reports = checkov(bad, "kubernetes", "dockerfile")
    failed = reports["kubernetes"]["results"]["failed_checks"]
    k8s = {c["check_id"] for c in failed}
    assert {"CKV_K8S_43", "CKV_K8S_14", "CKV_K8S_35", "CKV2_K8S_6"} <= k8s
    # The CronJob's pod is judged too: its image by tag fails.
    assert {c["resource"].split(".")[0] for c in failed if c["check_id"] == "CKV_K8S_43"} == {
        "Deployment",
        "CronJob",
    }
    docker = {
        (c["check_id"], Path(c["file_path"]).name)
        for c in reports["dockerfile"]["results"]["failed_checks"]
    }
    for name in ALLOWED_SKIPS["CKV_DOCKER_2"]:
        assert {("CKV_DOCKER_7", Path(name).name), ("CKV_DOCKER_2", Path(name).name)} <= docker
    assert reports["dockerfile"]["summary"]["skipped"] == 0


def test_the_network_audit_sees_the_update_check_it_rules_out() -> None:
    """Not vacuous: importing Checkov's banner, as its command line does, asks pypi.org for a
    newer version unless CKV_SKIP_PACKAGE_UPDATE_CHECK is set, and the audit records it (even
    with no network: the lookup is attempted). With the variable, as every scan above runs,
    nothing is attempted."""
    banner = AUDIT + "import checkov.common.util.banner\n"
    asked = _run_offline(banner, update_check=True)
    assert asked.returncode == 0, asked.stderr
    assert "AUDIT-NETWORK socket.getaddrinfo ('pypi.org', 443)" in asked.stderr
    quiet = _run_offline(banner)
    assert quiet.returncode == 0, quiet.stderr
    assert "AUDIT-NETWORK" not in quiet.stderr
