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
from typer.testing import CliRunner

from generator.cli import app
from tests import test_team
from tests.conftest import CACHE, REPO_ROOT, copy_project, git, make_recipes, render, tool, tree

GITLAB_CI_LOCAL = CACHE / "gitlab-ci-local" / "node_modules" / ".bin" / "gitlab-ci-local"
VARIANTS = {
    "defaults": {},
    "gcp-no-tracking": {
        "cloud": "gcp",
        "experiment_tracking": "none",
        "deployment_strategies": "[model_as_service, edge]",
        "data_owner": "@jane.doe",
        "model_owner": "@acme/ml/models",
        "platform_team": "@acme/platform",
        "catalog_lifecycle": "production",
    },
    "azure-all-strategies": {
        "cloud": "azure",
        "python_version": "3.13",
        "deployment_strategies": "[batch, model_in_service, model_as_service, serverless, edge]",
        "data_versioning": "none",
    },
    "aws-serverless": {"deployment_strategies": "[serverless, model_in_service]"},
    "no-cloud": {"cloud": "none", "risk_category": "high", "data_owner": "@acme/data"},
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
    assert [p.name for p in (project / "make").iterdir()] == ["gitlab.mk"]
    makefile = make_recipes(project)
    assert "ct-merge-request:" in makefile
    assert not re.search(r"^\s+gh ", makefile, flags=re.M), "gh is GitHub's CLI"


def test_the_projects_docs_name_gitlab_not_github(project: Path) -> None:
    """The documentation site's pages name the GitLab pipeline files, the GitLab registry and
    cosign, never a GitHub workflow, GHCR or `gh` (includes/ci.jinja)."""
    github = re.compile(r"ghcr\.io|gh attestation|\.github/|(?<![/\w.-])(ci|ct|cd|cm|docs)\.yml")
    pages = sorted((project / "docs").rglob("*.md"))
    assert pages
    for page in pages:
        found = [line for line in page.read_text().splitlines() if github.search(line)]
        assert not found, f"{page.relative_to(project)}: {found}"


def test_team_conventions(project: Path) -> None:
    """#31: the merge request and issue description templates, CODEOWNERS, the catalog entry
    (Backstage's schemas) as the answers say, the project's own hooks passing on them, and the
    catalog command on the rendered entry."""
    test_team.check_team_files_gitlab(project)
    test_team.check_catalog(project)
    test_team.check_catalog_command(project)
    test_team.check_pre_commit_hooks(project)


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
        or "batch" in answers["deployment_strategies"]
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
    assert "ct-pull-request:" in make_recipes(project)
    assert [p.name for p in (project / "make").iterdir()] == ["github.mk"]


def test_the_makefile_leaves_the_code_host_to_its_own_file() -> None:
    """The Makefile reads the same for both providers: what talks to GitHub or GitLab lives in
    make/github.mk or make/gitlab.mk (conditional file names), which it includes."""
    source = (REPO_ROOT / "templates" / "Makefile.jinja").read_text()
    assert [line for line in source.splitlines() if "ci_provider" in line] == [
        "include make/{{ ci_provider }}.mk"
    ]
    names = sorted(p.name for p in (REPO_ROOT / "templates" / "make").iterdir())
    assert names == [
        "{% if ci_provider == 'github' %}github.mk{% endif %}.jinja",
        "{% if ci_provider == 'gitlab' %}gitlab.mk{% endif %}.jinja",
    ]


class FakeGitLab(ThreadingHTTPServer):
    """GitLab's REST API as far as the generated Makefile uses it: records every request;
    lists no open merge request and the issues in ``open_issues``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FakeGitLabHandler)
        self.requests: list[dict[str, Any]] = []
        self.open_issues: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/v4"

    def posts(self, suffix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"].endswith(suffix)]


class _FakeGitLabHandler(BaseHTTPRequestHandler):
    server: FakeGitLab

    def _record(self, method: str) -> dict[str, Any]:
        url = urlparse(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        request = {
            "method": method,
            "path": url.path,
            "query": parse_qs(url.query),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "form": parse_qs(body) if "urlencoded" in self.headers.get("Content-Type", "") else {},
        }
        self.server.requests.append(request)
        return request

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        request = self._record("GET")
        if request["path"].endswith("/issues"):
            self._reply(200, self.server.open_issues)
        else:
            self._reply(200, [])

    def do_POST(self) -> None:
        self._record("POST")
        self._reply(201, {"iid": 1, "id": 1})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_gitlab() -> Iterator[FakeGitLab]:
    server = FakeGitLab()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


TOKEN = "glpat-test-token-never-printed"


def _api_env(api: FakeGitLab) -> dict[str, str]:
    return {
        "CI_API_V4_URL": api.url,
        "CI_PROJECT_ID": "42",
        "CI_DEFAULT_BRANCH": "main",
        "CI_JOB_TOKEN": "job-token-never-printed",
        "GITLAB_BOT_TOKEN": TOKEN,
    }


def test_cm_alert_opens_one_issue_then_comments_and_triggers_retraining(
    fake_gitlab: FakeGitLab, tmp_path: Path
) -> None:
    project = render(tmp_path / "project", ci_provider="gitlab")
    summary = project / "reports" / "monitoring" / "summary.md"
    summary.parent.mkdir(parents=True)
    summary.write_text("## Model monitoring\n\nDrift in 3 of 30 features & more.\n")
    env = {**os.environ, **_api_env(fake_gitlab)}
    first = _run("make", "cm-alert", cwd=project, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    (issue,) = fake_gitlab.posts("/projects/42/issues")
    assert issue["form"]["labels"] == ["model-monitoring"]
    assert issue["form"]["description"] == [summary.read_text()]
    assert issue["headers"]["private-token"] == TOKEN
    (trigger,) = fake_gitlab.posts("/projects/42/trigger/pipeline")
    assert (
        "job-token-never-printed" in trigger["body"]
        and 'name="variables[PIPELINE]"' in (trigger["body"])
    )
    fake_gitlab.open_issues.append({"iid": 7})
    second = _run("make", "cm-alert", cwd=project, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert fake_gitlab.posts("/projects/42/issues/7/notes")
    assert len(fake_gitlab.posts("/projects/42/issues")) == 1
    for result in (first, second):
        assert TOKEN not in result.stdout + result.stderr
        assert "job-token-never-printed" not in result.stdout + result.stderr


def _cli(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def _commit(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "--no-verify", "-m", message)


def test_update_moves_a_github_project_to_gitlab_and_keeps_team_edits(
    release_projects: dict[str, Path], tmp_path: Path
) -> None:
    """`mlops-new update --data ci_provider=gitlab`, across a template release too: .github/ goes,
    the GitLab files come, and the team's edits to README.md and params.yaml stay."""
    project = copy_project(release_projects["v1.0.0"], tmp_path / "project")
    assert (project / ".github" / "workflows" / "ct.yml").is_file()
    readme, params = project / "README.md", project / "params.yaml"
    readme.write_text(readme.read_text() + "\n## Team notes\n\nAsk #ml-platform first.\n")
    params.write_text(params.read_text().replace("test_size: 0.2", "test_size: 0.25", 1))
    assert "test_size: 0.25" in params.read_text()
    _commit(project, "team edits")
    result = _cli("update", project, "--trust", "--data", "ci_provider=gitlab")
    assert result.exit_code == 0, result.output
    assert not (project / ".github").exists()
    assert (project / ".gitlab-ci.yml").is_file()
    assert (project / ".gitlab" / "ci" / "ct.yml").is_file()
    assert (project / "renovate.json").is_file()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["ci_provider"] == "gitlab" and answers["_commit"] == "v2.0.0"
    assert "Ask #ml-platform first." in readme.read_text()
    assert "GitLab CI/CD" in readme.read_text()
    assert "test_size: 0.25" in params.read_text()
    assert "\nseed: 7\n" in params.read_text()  # v1.1.0's change arrived too
    assert "ct-merge-request:" in make_recipes(project)
    assert not list(project.rglob("*.rej"))


def test_a_profile_locks_the_ci_provider(release_projects: dict[str, Path], tmp_path: Path) -> None:
    profile = tmp_path / "platform.yml"
    profile.write_text("locked:\n  ci_provider: gitlab\n")
    made = tmp_path / "made"
    result = _cli("create", made, "--profile", profile, "--defaults")
    assert result.exit_code == 0, result.output
    assert (made / ".gitlab-ci.yml").is_file() and not (made / ".github").exists()
    before = set(tmp_path.iterdir())
    refused = _cli(
        "create", tmp_path / "p", "--profile", profile, "--defaults", "-d", "ci_provider=github"
    )
    assert refused.exit_code == 8, refused.output
    assert refused.stderr.count("\n") == 1
    assert "ci_provider is locked to 'gitlab' by the profile, not 'github'" in refused.stderr
    assert set(tmp_path.iterdir()) == before
    project = copy_project(release_projects["v1.0.0"], tmp_path / "github-project")
    snapshot = tree(project)
    github_lock = tmp_path / "github.yml"
    github_lock.write_text("locked:\n  ci_provider: github\n")
    refused = _cli("update", project, "--profile", github_lock, "--data", "ci_provider=gitlab")
    assert refused.exit_code == 8, refused.output
    assert "ci_provider is locked to 'github'" in refused.stderr
    assert tree(project) == snapshot


# Slow tier: the pipeline's jobs, run by gitlab-ci-local with its shell executor on this machine.


def _committed_with_origin(project: Path) -> Path:
    """A git repository with its files committed on main and an `origin` (a local bare
    repository); a project that is a repository already (`mlops-new create` makes one) keeps its
    history."""
    origin = project.parent / "origin.git"
    git(project.parent, "init", "--quiet", "--bare", str(origin))
    if not (project / ".git").exists():
        git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "-A")
    if git(project, "status", "--porcelain"):
        git(project, "commit", "--quiet", "--no-verify", "-m", "generated")
    git(project, "remote", "add", "origin", str(origin))
    git(project, "push", "--quiet", "origin", "main")
    git(project, "remote", "set-head", "origin", "main")
    return origin


def _gitlab_ci_local(project: Path, job: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run one job of the project's pipeline; the shell executor gets this environment (uv and
    Node.js of .venv first on PATH, the shared package cache)."""
    assert GITLAB_CI_LOCAL.exists(), "gitlab-ci-local (npm) is not installed: run dev.py test"
    assert shutil.which("rsync"), "gitlab-ci-local needs rsync (apt-get install rsync)"
    variables = {
        "UV_CACHE_DIR": os.environ["UV_CACHE_DIR"],
        "MYPY_CACHE_DIR": os.environ["MYPY_CACHE_DIR"],
        **variables,
    }
    options = [f"--variable={name}={value}" for name, value in variables.items()]
    return _run(
        GITLAB_CI_LOCAL, "--force-shell-executor", "--no-color", *options, job, cwd=project,
        timeout=1800,
    )  # fmt: skip


def make_ci_job(project: Path) -> subprocess.CompletedProcess[str]:
    """The CI pipeline's `make-ci` job, as GitLab would run it for a push of main, in
    gitlab-ci-local (shell executor, in the project's folder). tests/test_generated_ci.py runs it
    for its GitLab projects in place of a plain `make ci`."""
    _committed_with_origin(project)
    listed = _run(GITLAB_CI_LOCAL, "--list", cwd=project)
    assert re.search(r"^make-ci\s", listed.stdout, flags=re.M), listed.stdout + listed.stderr
    assert not re.search(r"^train\s", listed.stdout, flags=re.M), "CT runs on a push of main"
    result = _gitlab_ci_local(project, "make-ci")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "PASS  make-ci" in result.stdout
    assert re.search(r"make-ci > =+ \d+ passed", result.stdout)
    return result


def _scheduled_job_opens_a_merge_request(
    project: Path, job: str, api: FakeGitLab, origin: Path, **variables: str
) -> dict[str, list[str]]:
    """Run ``job`` of a scheduled pipeline (PIPELINE=``variables["PIPELINE"]``) in gitlab-ci-local,
    pushing to ``origin`` and talking to the fake API: it passes, prints no token and opens exactly
    one merge request, whose form it returns."""
    result = _gitlab_ci_local(
        project, job, CI_PIPELINE_SOURCE="schedule", PUSH_URL=str(origin), **_api_env(api),
        **variables,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert f"PASS  {job}" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    (merge_request,) = api.posts("/projects/42/merge_requests")
    assert merge_request["headers"]["private-token"] == TOKEN
    form: dict[str, list[str]] = merge_request["form"]
    return form


@pytest.mark.slow
def test_ct_job_retrains_gates_and_opens_a_merge_request(
    fake_gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """The scheduled CT pipeline (PIPELINE=ct): `make install ct` retrains and gates; the champion
    moved (a first model), so the job pushes ct/model-update and opens a merge request."""
    project = render(tmp_path / "project", ci_provider="gitlab")
    origin = _committed_with_origin(project)
    listed = _run(GITLAB_CI_LOCAL, "--list", "--variable=PIPELINE=ct", cwd=project)
    jobs = re.findall(r"^(\S+)\s", listed.stdout, flags=re.M)
    assert "train" in jobs and "make-ci" not in jobs, listed.stdout
    form = _scheduled_job_opens_a_merge_request(
        project, "train", fake_gitlab, origin, PIPELINE="ct"
    )
    assert form["source_branch"] == ["ct/model-update"]
    assert form["target_branch"] == ["main"]
    assert form["title"] == ["Continuous training: new model"]
    assert form["description"][0].strip()
    files = git(origin, "ls-tree", "-r", "--name-only", "ct/model-update").splitlines()
    assert {"docs/model/model-card.md", "docs/model/metrics.json", "dvc.lock"} <= set(files)
    catalog = git(origin, "show", "ct/model-update:catalog-info.yaml")
    assert "mlops-new.io/model-version:" in catalog, "the catalog entry of the new model"
    message = git(origin, "log", "-1", "--format=%s", "ct/model-update")
    assert message == "Continuous training: new model card and metrics"


@pytest.mark.slow
def test_template_sync_job_opens_a_merge_request(
    template_releases: Path, fake_gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """The scheduled template-sync pipeline (PIPELINE=template-sync) in gitlab-ci-local: a GitLab
    project made at v1.0.0 is updated to v2.0.0 (mlops-new from this checkout), the update is
    pushed to template/update and a merge request opened through the fake GitLab API."""
    project = render(
        tmp_path / "project", template=template_releases, vcs_ref="v1.0.0", ci_provider="gitlab"
    )
    origin = _committed_with_origin(project)
    form = _scheduled_job_opens_a_merge_request(
        project, "template-sync", fake_gitlab, origin,
        PIPELINE="template-sync", MLOPS_NEW=str(tool("mlops-new")),
    )  # fmt: skip
    assert form["source_branch"] == ["template/update"]
    assert form["title"] == ["Update from the project template"]
    assert "v2.0.0" in form["description"][0]
    answers = yaml.safe_load(git(origin, "show", "template/update:.copier-answers.yml"))
    assert answers["_commit"] == "v2.0.0" and answers["ci_provider"] == "gitlab"
    assert "SECURITY.md" in git(origin, "ls-tree", "--name-only", "template/update").split()
    assert not fake_gitlab.posts("/issues"), "no conflicts, no issue"
