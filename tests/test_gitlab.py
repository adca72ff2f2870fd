"""The GitLab CI/CD variant (`ci_provider: gitlab`): schemas and structure offline, and the
pipeline's jobs run for real with gitlab-ci-local's shell executor (slow tier)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from tests.conftest import CACHE, git, render, tool

GITLAB_CI_LOCAL = CACHE / "gitlab-ci-local" / "node_modules" / ".bin" / "gitlab-ci-local"
VARIANTS = {
    "defaults": {},
    "gcp-no-tracking": {
        "cloud": "gcp",
        "experiment_tracking": "none",
        "deployment_strategies": "[model_as_service, edge]",
    },
    "azure-all-strategies": {
        "cloud": "azure",
        "python_version": "3.13",
        "deployment_strategies": "[batch, model_in_service, model_as_service, serverless, edge]",
        "data_versioning": "none",
    },
    "aws-serverless": {"deployment_strategies": "[serverless, model_in_service]"},
    "no-cloud": {"cloud": "none", "risk_category": "high"},
}
#: Keys of a GitLab CI file that are not jobs.
GLOBAL_KEYS = {"workflow", "stages", "variables", "default", "include", "image", "services"}
PIPELINE_FILES = ("ci", "ct", "cd", "cm", "pages", "template-sync")


@pytest.fixture(scope="module", params=list(VARIANTS.values()), ids=list(VARIANTS))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    answers = {"ci_provider": "gitlab", **request.param}
    return render(tmp_path_factory.mktemp("gitlab") / "project", **answers)


def _run(*args: str | Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, **kwargs
    )


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def _ci_files(project: Path) -> list[Path]:
    root = project / ".gitlab-ci.yml"
    included = [project / item["local"] for item in _load(root)["include"]]
    return [root, *included]


def _jobs(project: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    jobs: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in _ci_files(project):
        for name, job in _load(path).items():
            if name in GLOBAL_KEYS or name.startswith("."):
                continue
            assert name not in jobs, f"job {name} defined twice"
            jobs[name] = (path, job)
    return jobs


def test_gitlab_files_replace_github_ones(project: Path) -> None:
    assert not (project / ".github").exists()
    assert (project / ".gitlab-ci.yml").is_file()
    assert (project / "renovate.json").is_file()
    assert sorted(p.stem for p in (project / ".gitlab" / "ci").glob("*.yml")) == sorted(
        PIPELINE_FILES
    )
    include = _load(project / ".gitlab-ci.yml")["include"]
    assert include == [{"local": f".gitlab/ci/{name}.yml"} for name in PIPELINE_FILES]
    assert "/.gitlab-ci-local/" in (project / ".gitignore").read_text().splitlines()
    makefile = (project / "Makefile").read_text()
    assert "ct-merge-request:" in makefile
    assert not re.search(r"^\s+gh ", makefile, flags=re.M), "gh is GitHub's CLI"


def test_schemas_are_valid(project: Path, tmp_path: Path) -> None:
    """Each file and the merged pipeline (what GitLab sees) against GitLab CI's schema; the
    Renovate configuration against Renovate's. Both schemas ship with check-jsonschema."""
    merged: dict[str, Any] = {}
    for path in _ci_files(project):
        merged.update({k: v for k, v in _load(path).items() if k != "include"})
    (tmp_path / "merged.yml").write_text(yaml.safe_dump(merged))
    files = [*_ci_files(project), tmp_path / "merged.yml"]
    result = _run(tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    renovate = project / "renovate.json"
    result = _run(tool("check-jsonschema"), "--builtin-schema", "vendor.renovate", renovate)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schemas_do_find_problems(tmp_path: Path) -> None:
    bad = tmp_path / ".gitlab-ci.yml"
    bad.write_text("job:\n  script: make ci\n  timeout: [1]\n  only: {refs: 1}\n")
    assert _run(tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", bad).returncode
    renovate = tmp_path / "renovate.json"
    renovate.write_text('{"minimumReleaseAge": 7, "packageRules": {}}')
    result = _run(tool("check-jsonschema"), "--builtin-schema", "vendor.renovate", renovate)
    assert result.returncode != 0


def _image(job: dict[str, Any], default: dict[str, Any]) -> str:
    image = job.get("image", default.get("image"))
    return image if isinstance(image, str) else image["name"]


def _pinned(image: str) -> bool:
    """An exact version tag (digits and dots, with an optional suffix) or a digest."""
    if "@sha256:" in image:
        return True
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    return bool(re.fullmatch(r"v?\d+\.\d+\.\d+(-[\w.-]+)?", tag))


def test_structure_is_least_privilege_pinned_and_bounded(project: Path) -> None:
    root = _load(project / ".gitlab-ci.yml")
    default = root["default"]
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert _pinned(default["image"]), default["image"]
    assert default["interruptible"] is True
    assert "only" not in json.dumps(root) and "except" not in json.dumps(root)
    jobs = _jobs(project)
    for name, (path, job) in jobs.items():
        where = f"{path.name}:{name}"
        assert _pinned(_image(job, default)), where
        for service in job.get("services", []):
            assert _pinned(service if isinstance(service, str) else service["name"]), where
        assert re.fullmatch(r"\d+ minutes", job.get("timeout", "")), f"{where}: no timeout"
        assert job.get("rules"), f"{where}: no rules"
        assert "only" not in job and "except" not in job, where
        assert job.get("script"), where
        for line in [*job.get("before_script", []), *job["script"]]:
            assert not re.search(r"echo\s+[^\n|]*\$\{?\w*(TOKEN|PASSWORD|SECRET)", line), where
        for include in root["include"]:
            assert set(include) == {"local"}, "a remote include must be pinned to a ref"
    assert {"make-ci", "template-conformance", "train", "monitor", "pages", "template-sync"} <= set(
        jobs
    )
    assert "make ci" in jobs["make-ci"][1]["script"]
    assert jobs["train"][1]["interruptible"] is False
    assert jobs["pages"][1]["artifacts"]["paths"] == ["public"]
    assert jobs["monitor"][1]["artifacts"]["paths"] == ["reports/monitoring/"]
    images = jobs["build-image"][1]["parallel"]["matrix"]
    assert {leg["DOCKERFILE"] for leg in images} == {
        str(p.relative_to(project)) for p in project.rglob("*Dockerfile")
    }
    assert jobs["build-image"][1]["id_tokens"]["SIGSTORE_ID_TOKEN"]["aud"] == "sigstore"
    deploys = {n: job for n, (_, job) in jobs.items() if n.startswith("deploy-")}
    cloud_deploy = answers["cloud"] != "none" and (
        "model_as_service" in answers["deployment_strategies"]
        or ("serverless" in answers["deployment_strategies"] and answers["cloud"] == "aws")
    )
    if not cloud_deploy:
        assert not deploys
        return
    assert set(deploys) == {"deploy-staging", "deploy-production"}
    for name, job in deploys.items():
        assert len(job["id_tokens"]) == 1, f"{name}: one OIDC token, for the cloud"
        (token,) = job["id_tokens"].values()
        assert token["aud"], name
        assert job["environment"]["name"] in ("staging", "production")
        text = json.dumps(job)
        assert not re.search(r"ACCESS_KEY|CLIENT_SECRET|credentials\.json\"", text), name
    assert deploys["deploy-production"]["rules"][0]["when"] == "manual"
    assert "when" not in deploys["deploy-staging"]["rules"][0]
    assert "deploy-staging" in deploys["deploy-production"]["needs"]


def test_renovate_keeps_dependabots_cooldown(project: Path) -> None:
    config = json.loads((project / "renovate.json").read_text())
    assert config["minimumReleaseAge"] == "7 days"
    assert set(config["enabledManagers"]) == {"gitlabci", "pep621", "dockerfile"}
    majors = [r for r in config["packageRules"] if r.get("matchUpdateTypes") == ["major"]]
    assert majors and majors[0]["minimumReleaseAge"] == "30 days"
    patterns = config["gitlabci"]["managerFilePatterns"]
    for path in _ci_files(project):
        name = str(path.relative_to(project))
        assert any(re.search(p.strip("/"), name) for p in patterns), name


def test_github_stays_the_default(tmp_path: Path) -> None:
    project = render(tmp_path / "project")
    assert (project / ".github" / "workflows" / "ci.yml").is_file()
    assert not (project / ".gitlab-ci.yml").exists()
    assert not (project / ".gitlab").exists()
    assert not (project / "renovate.json").exists()
    assert "ct-pull-request:" in (project / "Makefile").read_text()
