"""Generated GitHub Actions workflows, checked with real tools and structural rules."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import test_team
from tests.conftest import CACHE, REPO_ROOT, make_recipes, one_worker_each, render, tool

PINNED = yaml.safe_load((REPO_ROOT / "includes" / "pinned-actions.yml").read_text())["actions"]
SHARED_PINNED = REPO_ROOT.parent / "shared" / "pinned-actions.yml"
ACTIONLINT = CACHE / "actionlint" / "node_modules" / "@tktco" / "node-actionlint"
ACTIONLINT_SCRIPT = REPO_ROOT / "tests" / "tools" / "actionlint.mjs"
VARIANTS = {
    "defaults": {},
    "py313-regression-gcp": {
        "python_version": "3.13",
        "problem_type": "regression",
        "license": "Proprietary",
        "cloud": "gcp",
        "data_owner": "@acme/data-team",
        "model_owner": "@jane-doe",
        "platform_team": "@acme/ml-platform",
        "catalog_lifecycle": "production",
    },
    "all-strategies-azure": {
        "deployment_strategies": "[batch, model_in_service, model_as_service, serverless, edge]",
        "experiment_tracking": "none",
        "data_versioning": "none",
        "cloud": "azure",
        "catalog_lifecycle": "deprecated",
    },
    "serverless-aws": {"deployment_strategies": "[serverless, edge]"},
    "no-cloud": {
        "cloud": "none",
        "deployment_strategies": "[model_as_service, model_in_service]",
        "model_owner": "@acme/ml",
    },
}


@pytest.fixture(
    scope="module", params=one_worker_each("workflows", *VARIANTS.values(), ids=list(VARIANTS))
)
def workflows(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = render(tmp_path_factory.mktemp("wf") / "project", **request.param)
    return root / ".github" / "workflows"


def _files(folder: Path) -> list[Path]:
    found = sorted(folder.glob("*.yml"))
    assert found, f"no workflows in {folder}"
    return found


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)


def _zizmor(path: Path) -> subprocess.CompletedProcess[str]:
    return _run(tool("zizmor"), "--offline", "--persona=pedantic", "--no-progress", path)


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.is_dir(), "actionlint (npm) is not installed: run `python3 dev.py test`"
    return _run(tool("node"), ACTIONLINT_SCRIPT, ACTIONLINT, *files)


def test_zizmor_pedantic_has_no_findings(workflows: Path) -> None:
    project = workflows.parent.parent  # workflows, dependabot.yml and the pre-commit config
    result = _zizmor(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr
    assert "dependabot.yml" in result.stderr


def test_dependabot_is_valid_and_covers_every_dockerfile(workflows: Path) -> None:
    config = workflows.parent / "dependabot.yml"
    result = _run(tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", config)
    assert result.returncode == 0, result.stdout + result.stderr
    updates = {u["package-ecosystem"]: u for u in _load(config)["updates"]}
    assert set(updates) == {"github-actions", "uv", "docker"}
    assert all(u["cooldown"]["default-days"] >= 7 for u in updates.values())
    project = workflows.parent.parent
    with_dockerfiles = {f"/{p.parent.relative_to(project)}" for p in project.rglob("*Dockerfile")}
    assert set(updates["docker"]["directories"]) == with_dockerfiles


def test_actionlint_has_no_findings(workflows: Path) -> None:
    result = _actionlint(*_files(workflows))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 finding(s)" in result.stdout


def test_schema_is_valid(workflows: Path) -> None:
    result = _run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *_files(workflows)
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linters_do_find_problems(tmp_path: Path) -> None:
    """The three checks above would fail on a bad workflow: they are not silently passing."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request_target\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
        "      - run: echo ${{ matrix.nope }}\n"
        "    timeout-minutes: many\n"
    )
    assert _zizmor(bad).returncode != 0
    assert _actionlint(bad).returncode != 0
    schema = _run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", bad)
    assert schema.returncode != 0


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_structure_is_least_privilege_and_bounded(workflows: Path) -> None:
    for path in _files(workflows):
        text = path.read_text()
        data = _load(path)
        triggers = data[True]  # YAML 1.1 reads the key `on` as True
        assert "pull_request_target" not in triggers
        assert "workflow_run" not in triggers
        assert data["permissions"] in ({}, "read-all", {"contents": "read"}), path.name
        assert "concurrency" in data, path.name
        for name, job in data["jobs"].items():
            assert isinstance(job.get("timeout-minutes"), int), f"{path.name}:{name}"
            assert "permissions" in job, f"{path.name}:{name} has no job-level permissions"
            for scope in job["permissions"]:
                line = next(x for x in text.splitlines() if x.strip().startswith(f"{scope}:"))
                assert "#" in line, f"{path.name}:{name}: say why it needs {scope}"
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), f"{path.name}: expression inside run:"
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False


PLUMBING = re.compile(r'^(cat \S+|echo "[^"]*") >> "\$GITHUB_(STEP_SUMMARY|OUTPUT)"$')


def test_team_conventions(workflows: Path) -> None:
    """#31: the pull request template, CODEOWNERS and issue forms (GitHub's schemas), the catalog
    entry (Backstage's schemas) as the answers say, the project's own hooks passing on them, and
    the catalog command on the rendered entry."""
    project = workflows.parent.parent
    test_team.check_team_files_github(project)
    test_team.check_catalog(project)
    test_team.check_catalog_command(project)
    test_team.check_pre_commit_hooks(project)


def test_every_step_that_does_work_is_a_make_target(workflows: Path) -> None:
    """So everything a workflow does can be run, and is tested, locally."""
    for path in _files(workflows):
        for job in _load(path)["jobs"].values():
            for step in job["steps"]:
                run = step.get("run", "").strip()
                if run:
                    assert run.startswith("make ") or PLUMBING.match(run), f"{path.name}: {run}"


def test_continuous_training_triggers_and_gate(workflows: Path) -> None:
    ct = _load(workflows / "ct.yml")
    triggers = ct[True]
    assert set(triggers) == {"schedule", "push", "workflow_dispatch", "repository_dispatch"}
    assert "params.yaml" in triggers["push"]["paths"]
    assert triggers["repository_dispatch"]["types"] == ["retrain"]
    steps = ct["jobs"]["train"]["steps"]
    assert any(step.get("run") == "make install ct" for step in steps)
    pull_request = next(s for s in steps if s.get("run") == "make ct-pull-request")
    tracked = "MLFLOW_TRACKING_URI" in ct["jobs"]["train"].get("env", {})
    assert (pull_request.get("if") == "steps.gate.outputs.promoted == 'true'") == tracked
    assert ct["concurrency"]["cancel-in-progress"] is False  # never kill a training run midway


def test_continuous_monitoring_reports_alerts_and_dispatches_retraining(workflows: Path) -> None:
    cm = _load(workflows / "cm.yml")
    assert set(cm[True]) == {"schedule", "workflow_dispatch"}
    job = cm["jobs"]["monitor"]
    assert job["permissions"] == {"contents": "write", "issues": "write"}
    assert job["env"]["PREDICTION_STORE"] == "${{ secrets.PREDICTION_STORE }}"
    steps = job["steps"]
    runs = [step.get("run") for step in steps]
    assert runs.index("make install cm") < runs.index("make cm-alert")
    upload = next(s for s in steps if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "reports/monitoring/"
    alert = next(s for s in steps if s.get("run") == "make cm-alert")
    assert alert["if"] == "steps.verdict.outputs.action_needed == 'true'"
    # the event it sends is the one continuous training listens for
    ct = _load(workflows / "ct.yml")
    makefile = make_recipes(workflows.parent.parent)
    event = re.search(r"dispatches\"? -f event_type=(\w+)", makefile)
    assert event and ct[True]["repository_dispatch"]["types"] == [event.group(1)]


def test_ci_checks_conformance_and_template_sync_opens_a_pull_request(workflows: Path) -> None:
    ci = _load(workflows / "ci.yml")
    conformance = ci["jobs"]["conformance"]
    assert conformance["permissions"] == {"contents": "read"}
    assert [s.get("run") for s in conformance["steps"] if s.get("run")] == ["make template-check"]
    sync = _load(workflows / "template-sync.yml")
    assert set(sync[True]) == {"schedule", "workflow_dispatch"}
    job = sync["jobs"]["sync"]
    assert job["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "issues": "write",
    }
    checkout = next(s for s in job["steps"] if "actions/checkout" in s.get("uses", ""))
    assert checkout["with"]["fetch-depth"] == 0  # copier update needs the project's history
    (step,) = [s for s in job["steps"] if s.get("run")]
    assert step["run"] == "make template-sync"
    assert "TEMPLATE_SYNC_TOKEN" in step["env"]["GH_TOKEN"]


def test_docs_site_is_built_by_make_and_published_by_pages(workflows: Path) -> None:
    docs = _load(workflows / "docs.yml")
    build, publish = docs["jobs"]["build"], docs["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read", "actions": "read"}
    runs = [s.get("run") for s in build["steps"] if s.get("run")]
    assert runs == ["make install release-model", "make monitoring-report", "make docs"]
    upload = next(s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "site/"
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "github-pages"
    assert publish["permissions"] == {"pages": "write", "id-token": "write"}
    mkdocs = _load(workflows.parent.parent / "mkdocs.yml")
    assert mkdocs["docs_dir"] == "build/docs" and mkdocs["site_dir"] == "site"
    assert mkdocs["strict"] is True


IMAGES = {
    "batch": "docker/batch.Dockerfile",
    "model_as_service": "docker/service.Dockerfile",
    "serverless": "docker/serverless.Dockerfile",
    "edge": "docker/edge.Dockerfile",
    "model_in_service": "examples/host_app/Dockerfile",
}


def test_delivery_builds_every_image_and_deploys_through_environments(workflows: Path) -> None:
    project = workflows.parent.parent
    answers = _load(project / ".copier-answers.yml")
    cd = _load(workflows / "cd.yml")
    assert set(cd[True]) == {"push", "workflow_dispatch"}
    assert cd[True]["push"] == {"tags": ["v*"]}
    matrix = cd["jobs"]["images"]["strategy"]["matrix"]["include"]
    expected = {IMAGES[s] for s in answers["deployment_strategies"]}
    assert {entry["dockerfile"] for entry in matrix} == expected
    assert all((project / entry["dockerfile"]).is_file() for entry in matrix)
    steps = {s.get("uses", "").split("@")[0]: s for s in cd["jobs"]["images"]["steps"]}
    build = steps["docker/build-push-action"]["with"]
    assert build["push"] is True and build["provenance"] == "mode=max"
    assert build["no-cache"] is True and not {"cache-from", "cache-to"} & set(build)
    assert "actions/attest-build-provenance" in steps
    strategies = answers["deployment_strategies"]
    deploys = answers["cloud"] != "none" and (
        "model_as_service" in strategies
        or "batch" in strategies  # the CronJob, to the service's cluster
        or ("serverless" in strategies and answers["cloud"] == "aws")
    )
    deploy_jobs = {name for name in cd["jobs"] if name.startswith("deploy-")}
    assert deploy_jobs == ({"deploy-staging", "deploy-production"} if deploys else set())
    text = (workflows / "cd.yml").read_text()
    for long_lived in ("aws-access-key-id", "aws-secret-access-key", "credentials_json"):
        assert long_lived not in text  # OIDC only
    if deploys:
        staging, production = cd["jobs"]["deploy-staging"], cd["jobs"]["deploy-production"]
        assert (staging["environment"], production["environment"]) == ("staging", "production")
        assert staging["needs"] == "images"
        assert production["needs"] == ["images", "deploy-staging"]
        # Each image leg hands on the digest it built and attested; the deploy jobs take it.
        digests = {
            "SERVICE_DIGEST": "service" if "model_as_service" in strategies else None,
            "BATCH_DIGEST": "batch" if "batch" in strategies else None,
            "SERVERLESS_DIGEST": "serverless"
            if "serverless" in strategies and answers["cloud"] == "aws"
            else None,
        }
        digests = {variable: image for variable, image in digests.items() if image}
        outputs = cd["jobs"]["images"]["outputs"]
        assert outputs == {
            f"{image}-digest": f"${{{{ steps.digest.outputs.{image} }}}}"
            for image in digests.values()
        }
        record = next(s for s in cd["jobs"]["images"]["steps"] if s.get("id") == "digest")
        assert record["env"]["DIGEST"] == "${{ steps.build.outputs.digest }}"
        for job in (staging, production):
            assert job["permissions"] == {
                "contents": "read",
                "id-token": "write",
                "packages": "read",
                "attestations": "read",
            }
            for variable, image in digests.items():
                assert job["env"][variable] == f"${{{{ needs.images.outputs.{image}-digest }}}}"
            assert "IMAGE_TAG" not in job["env"]  # never a tag
            assert job["steps"][-1]["run"] == "make install deploy"
            assert job["steps"][-1]["env"] == {"GH_TOKEN": "${{ github.token }}"}
            setup_uv = next(s for s in job["steps"] if "setup-uv" in s.get("uses", ""))
            assert setup_uv["with"]["enable-cache"] is False  # no caches in deploy jobs
        login = {
            "aws": "aws-actions/configure-aws-credentials",
            "gcp": "google-github-actions/auth",
            "azure": None,  # `make deploy` logs in with the OIDC token itself (az login)
        }[answers["cloud"]]
        used = {s.get("uses", "").split("@")[0] for s in staging["steps"]}
        assert login is None or login in used


def test_deploy_target_follows_the_cloud(workflows: Path) -> None:
    project = workflows.parent.parent
    answers = _load(project / ".copier-answers.yml")
    service, serverless = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    batch = "sha256:" + "c" * 64
    ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model"
    dry = subprocess.run(
        ["make", "-n", "deploy", "ENV=prod", f"SERVICE_DIGEST={service}",
         f"SERVERLESS_DIGEST={serverless}", f"BATCH_DIGEST={batch}",
         "GITHUB_REPOSITORY=acme/model", f"ECR_REPOSITORY={ecr}"],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    cloud, strategies = answers["cloud"], answers["deployment_strategies"]
    slug = answers["project_slug"]
    verify = "gh attestation verify oci://ghcr.io/my-org/{}-{}@{} --repo acme/model"
    signer = "--signer-workflow acme/model/.github/workflows/cd.yml"
    commands = dry.stdout.replace("\\\n\t", "")  # continuation lines joined
    kubernetes = {"model_as_service": service, "batch": batch}
    for strategy, digest in kubernetes.items():
        if strategy not in strategies or cloud == "none":
            continue
        assert dry.returncode == 0, dry.stderr
        # The attestation of the very digest is verified before anything is applied.
        image = "service" if strategy == "model_as_service" else strategy
        checked = commands.index(f"{verify.format(slug, image, digest)} {signer}")
        assert checked < commands.index("kubectl kustomize") < commands.index("kubectl apply")
        assert f"digest: {digest}" in commands  # kustomize's images: the digest, into the manifest
        login = {
            "aws": "aws eks update-kubeconfig",
            "gcp": "gcloud container clusters get-credentials",
            "azure": "az aks get-credentials",
        }[cloud]
        assert login in dry.stdout
        assert "kubectl apply -f reports/k8s/deploy-prod.yaml" in dry.stdout
    if "serverless" in strategies and cloud == "aws":
        assert dry.returncode == 0, dry.stderr
        checked = commands.index(f"{verify.format(slug, 'serverless', serverless)} {signer}")
        # Lambda gets the image copied by digest, and is pointed at the digest ECR holds.
        pull = f"docker pull --platform linux/amd64 ghcr.io/my-org/{slug}-serverless@{serverless}"
        assert checked < commands.index(pull) < commands.index("aws lambda update-function-code")
        assert f'--image-uri "{ecr}@$digest"' in commands
        assert ":latest" not in commands
    if cloud == "none":
        assert "deploy:" not in make_recipes(project)


def _attested_images(answers: dict[Any, Any]) -> list[str]:
    strategies = answers["deployment_strategies"]
    return [
        image
        for image, deployed in (
            ("service", "model_as_service" in strategies),
            ("batch", "batch" in strategies),
            ("serverless", "serverless" in strategies and answers["cloud"] == "aws"),
        )
        if deployed
    ]


def test_verify_images_pins_the_signer_to_this_ref_and_commit(workflows: Path) -> None:
    """The attestation must come from this repository's cd.yml on a GitHub-hosted runner and,
    in cd.yml (GITHUB_REF and GITHUB_SHA set), from the very ref and commit being deployed: one
    made by a cd.yml changed on another branch does not verify. Any project with Kubernetes
    manifests (the service, the batch CronJob) has the target (cloud none included: it needs only
    gh)."""
    project = workflows.parent.parent
    answers = _load(project / ".copier-answers.yml")
    images = _attested_images(answers)
    if not images:
        assert "verify-images:" not in make_recipes(project)
        return
    github = ("GITHUB_REF", "GITHUB_SHA", "GITHUB_REPOSITORY")
    outside = {k: v for k, v in os.environ.items() if k not in github}
    digests = {
        "service": "sha256:" + "a" * 64,
        "serverless": "sha256:" + "b" * 64,
        "batch": "sha256:" + "c" * 64,
    }

    def commands(env: dict[str, str]) -> list[list[str]]:
        dry = subprocess.run(
            ["make", "-n", "verify-images", f"SERVICE_DIGEST={digests['service']}",
             f"SERVERLESS_DIGEST={digests['serverless']}", f"BATCH_DIGEST={digests['batch']}"],
            cwd=project, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert dry.returncode == 0, dry.stderr
        lines = dry.stdout.replace("\\\n\t", "").splitlines()
        return [line.split() for line in lines if line.startswith("gh attestation verify")]

    repo = f"{answers['github_owner']}/{answers['project_slug']}"
    identity = ["--repo", repo, "--signer-workflow", f"{repo}/.github/workflows/cd.yml"]
    identity.append("--deny-self-hosted-runners")
    subjects = [
        ["gh", "attestation", "verify",
         f"oci://ghcr.io/{answers['github_owner']}/{answers['project_slug']}-{image}@{digests[image]}"]
        for image in images
    ]  # fmt: skip
    assert commands(outside) == [subject + identity for subject in subjects]
    ref, sha = "refs/tags/v1.2.0", "0123456789abcdef0123456789abcdef01234567"
    in_cd = commands({**outside, "GITHUB_REF": ref, "GITHUB_SHA": sha})
    pinned = [*identity, "--source-ref", ref, "--source-digest", sha]
    assert in_cd == [subject + pinned for subject in subjects]


STUBS = {
    "gh": 'echo "gh $*" >> "$LOG"',
    "docker": """case "$1 $2" in
  "manifest inspect") exit 1 ;;  # the tag is not in ECR yet
  "image inspect") printf '[{"Id": "%s"}]\n' "$ATTESTED_CONFIG" ;;
  "login --username") cat > /dev/null ;;  # the password, from stdin
  *) echo "docker $*" >> "$LOG" ;;
esac""",
    "aws": """case "$1 $2" in
  "ecr get-login-password") echo secret ;;
  "ecr batch-get-image") echo "$ECR_IMAGE" ;;
  *) echo "aws $*" >> "$LOG" ;;
esac""",
}


def test_lambda_gets_the_ecr_digest_only_when_its_configuration_was_attested(
    workflows: Path, tmp_path: Path
) -> None:
    """make deploy's Lambda part run for real against stub gh, docker and aws (jq is real): the
    function is pointed at the digest ECR reports for the pushed tag, and only when the manifest
    ECR holds carries the attested image's configuration; otherwise nothing is deployed."""
    project = workflows.parent.parent
    answers = _load(project / ".copier-answers.yml")
    if _attested_images(answers) != ["serverless"]:
        return  # the Lambda-only project (the service's and the batch's parts need a cluster)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in STUBS.items():
        (bin_dir / name).write_text(f"#!/usr/bin/env bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log"
    attested, ecr_digest = "sha256:" + "c" * 64, "sha256:" + "d" * 64
    ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model"

    def deploy(config: str | None) -> subprocess.CompletedProcess[str]:
        log.write_text("")
        manifest = {"schemaVersion": 2, "config": {"digest": config}}
        image = [ecr_digest, json.dumps(manifest)] if config else None
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "LOG": str(log),
            "ATTESTED_CONFIG": attested,
            "ECR_IMAGE": json.dumps(image),
        }
        return subprocess.run(
            ["make", "deploy", "RUN=", "ENV=prod", f"SERVERLESS_DIGEST=sha256:{'b' * 64}",
             f"ECR_REPOSITORY={ecr}", "LAMBDA_FUNCTION=model", "AWS_REGION=eu-west-1"],
            cwd=project, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip

    result = deploy(attested)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = log.read_text()
    assert calls.index("gh attestation verify") < calls.index(f"docker push {ecr}:sha256-")
    update = f"aws lambda update-function-code --function-name model --image-uri {ecr}@{ecr_digest}"
    assert update in calls
    for other in ("sha256:" + "e" * 64, None):  # another image under the tag, or none at all
        result = deploy(other)
        assert result.returncode != 0
        assert "lambda update-function-code" not in log.read_text()
    assert "is not the attested image" in deploy("sha256:" + "e" * 64).stderr


def test_k8s_manifests_deploy_the_release_digest_and_nothing_else(tmp_path: Path) -> None:
    project = render(
        tmp_path / "p", project_name="Tagged", deployment_strategies="[model_as_service]"
    )
    digest = "sha256:" + "0123456789abcdef" * 4

    def manifests(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "k8s-manifests", "RUN=", "ENV=prod", *args],
            cwd=project, capture_output=True, text=True, check=False,
        )  # fmt: skip

    result = manifests(f"SERVICE_DIGEST={digest}")
    assert result.returncode == 0, result.stdout + result.stderr
    docs = list(yaml.safe_load_all((project / "reports/k8s/deploy-prod.yaml").read_text()))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"ghcr.io/my-org/tagged-service@{digest}"
    assert container["imagePullPolicy"] == "Always"
    assert {d["metadata"]["namespace"] for d in docs} == {"tagged-prod"}
    assert {d["kind"] for d in docs} >= {"Deployment", "NetworkPolicy"}  # the whole overlay
    # Another registry (a mirror) keeps the digest.
    result = manifests(f"SERVICE_DIGEST={digest}", "REGISTRY=registry.example.com/acme")
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = (project / "reports/k8s/deploy-prod.yaml").read_text()
    assert f"image: registry.example.com/acme/tagged-service@{digest}\n" in rendered
    # No digest, a tag, or a short digest: nothing is rendered.
    for wrong in ("", "v1.0.0", "sha256:abc", f"{digest}:latest"):
        (project / "reports/k8s/deploy-prod.yaml").unlink(missing_ok=True)
        result = manifests(f"SERVICE_DIGEST={wrong}")
        assert result.returncode != 0, wrong
        assert "SERVICE_DIGEST=sha256:<64 hex digits>" in result.stderr
        assert not (project / "reports/k8s/deploy-prod.yaml").exists()


def test_k8s_manifests_pin_the_service_and_the_batch_job_to_their_digests(tmp_path: Path) -> None:
    """With the batch strategy too, the release's manifests need both digests: one missing, and
    nothing is rendered (the CronJob would otherwise run the placeholder that no registry
    serves)."""
    project = render(
        tmp_path / "p", project_name="Tagged", deployment_strategies="[batch, model_as_service]"
    )
    service, batch = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    deployed = project / "reports/k8s/deploy-staging.yaml"

    def manifests(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "k8s-manifests", "RUN=", "ENV=staging", *args],
            cwd=project, capture_output=True, text=True, check=False,
        )  # fmt: skip

    result = manifests(f"SERVICE_DIGEST={service}", f"BATCH_DIGEST={batch}")
    assert result.returncode == 0, result.stdout + result.stderr
    docs = {d["kind"]: d for d in yaml.safe_load_all(deployed.read_text())}
    pods = {
        "Deployment": docs["Deployment"]["spec"]["template"]["spec"],
        "CronJob": docs["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"],
    }
    images = {kind: pod["containers"][0]["image"] for kind, pod in pods.items()}
    assert images == {
        "Deployment": f"ghcr.io/my-org/tagged-service@{service}",
        "CronJob": f"ghcr.io/my-org/tagged-batch@{batch}",
    }
    assert "0" * 64 not in deployed.read_text()
    deployed.unlink()
    result = manifests(f"SERVICE_DIGEST={service}")
    assert result.returncode != 0
    assert "BATCH_DIGEST=sha256:<64 hex digits>" in result.stderr
    assert not deployed.exists()


USES = re.compile(r"^\s*(?:-\s+)?uses:\s+(?P<action>[^@\s]+)@(?P<ref>\S+)\s+#\s+(?P<tag>\S+)\s*$")


def test_every_action_is_pinned_to_a_listed_sha_with_allowed_inputs(workflows: Path) -> None:
    for path in _files(workflows):
        uses_lines = [line for line in path.read_text().splitlines() if "uses:" in line]
        for line in uses_lines:
            match = USES.match(line)
            assert match, f"{path.name}: not 'uses: OWNER/REPO@SHA # vX.Y.Z': {line.strip()}"
            pin = PINNED[match["action"]]
            assert (match["ref"], match["tag"]) == (pin["sha"], pin["tag"]), line
        for job in _load(path)["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    pin = PINNED[step["uses"].split("@")[0]]
                    assert set(step.get("with", {})) <= set(pin["inputs"]), step
                    assert set(pin["required"]) <= set(step.get("with", {})), step


def test_pinned_actions_macro_matches_the_list() -> None:
    macro = (REPO_ROOT / "includes" / "actions.jinja").read_text()
    pairs = dict(re.findall(r'"([\w.-]+/[\w.-]+)": \("([0-9a-f]{40})", "[^"]+"\)', macro))
    assert pairs == {name: pin["sha"] for name, pin in PINNED.items()}


def test_vendored_pins_equal_the_shared_list() -> None:
    if not SHARED_PINNED.exists():
        pytest.skip(f"{SHARED_PINNED} is not beside this checkout (only on the team's machines)")
    assert yaml.safe_load(SHARED_PINNED.read_text()) == yaml.safe_load(
        (REPO_ROOT / "includes" / "pinned-actions.yml").read_text()
    )
