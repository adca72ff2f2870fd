"""Slow tier: the generated project's DVC pipeline and remote, and MLflow promotion, for real."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator._data import RAW_DATA
from tests.conftest import fake_gh, git
from tests.test_generated_ci import _env, _generate, _run

# One project for the module, so its tests share one worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("versioning")]


def _ok(project: Path, *args: str) -> str:
    result = _run(project, *args, env=_env())
    assert result.returncode == 0, " ".join(args) + "\n" + result.stdout[-4000:] + result.stderr
    return result.stdout + result.stderr


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default project (DVC + MLflow), installed, its pipeline run once and committed."""
    root = tmp_path_factory.mktemp("versioning")
    # The library strategy alone: no ONNX export in its pipeline (batch and the service turn it
    # on), so each of the many `make repro` runs below trains and evaluates only.
    project = _generate(
        root, "project_name=Versioned Model", "deployment_strategies=[model_in_service]"
    )
    _ok(project, "make", "install")
    first = _ok(project, "make", "repro")
    for stage in ("data", "train", "evaluate", "model_card"):
        assert f"Running stage '{stage}'" in first
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Run the pipeline")
    return project


def test_an_unchanged_pipeline_does_no_work_and_says_so(project: Path) -> None:
    assert "Data and pipelines are up to date." in _ok(project, "uv", "run", "dvc", "status")
    again = _ok(project, "make", "repro")
    assert "Running stage" not in again
    assert "Data and pipelines are up to date." in again


def test_a_parameter_change_reruns_only_the_affected_stages(project: Path) -> None:
    params = project / "params.yaml"
    original = params.read_text()
    model_line = next(line for line in original.splitlines() if line.startswith("  max_iter:"))
    params.write_text(original.replace(model_line, "  max_iter: 500"))
    try:
        status = _ok(project, "uv", "run", "dvc", "status")
        assert "train:" in status and "data:" not in status
        rerun = _ok(project, "make", "repro")
        assert "Stage 'data' didn't change, skipping" in rerun
        for stage in ("train", "evaluate", "model_card"):
            assert f"Running stage '{stage}'" in rerun
    finally:
        params.write_text(original)
        _ok(project, "make", "repro")


def test_push_then_pull_into_a_clean_clone_restores_the_data(project: Path) -> None:
    # Commit the last pipeline run's dvc.lock, as the docs say: the clone checks it out.
    git(project, "add", "dvc.lock")
    git(project, "commit", "-q", "--allow-empty", "-m", "Record the pipeline run")
    pushed = _ok(project, "make", "push")
    assert "pushed" in pushed
    storage = project.parent / "versioned-model-dvc-storage"  # beside the project, not in it
    assert storage.is_dir() and any(storage.rglob("*"))
    clone = project.parent / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    raw = Path(RAW_DATA)
    assert not (clone / raw).exists()  # git does not carry the data
    _ok(clone, str(project / ".venv" / "bin" / "dvc"), "pull")
    assert _sha256(clone / raw) == _sha256(project / raw)
    assert _sha256(clone / "models" / "model.skops") == _sha256(project / "models" / "model.skops")
    lock = yaml.safe_load((clone / "dvc.lock").read_text())
    recorded = lock["stages"]["data"]["outs"][0]["md5"]
    assert hashlib.md5((clone / raw).read_bytes()).hexdigest() == recorded  # DVC's hash


def _registry(project: Path, expression: str) -> str:
    """``expression`` evaluated against the project's MLflow store (``client``: an MlflowClient)."""
    code = (
        "from mlflow.tracking import MlflowClient\n"
        "client = MlflowClient('sqlite:///mlflow.db')\n"
        f"print({expression})"
    )
    result = _run(project, "uv", "run", "python", "-c", code, env=_env())
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def _champion(project: Path) -> str:
    return _registry(
        project, "client.get_model_version_by_alias('versioned-model', 'champion').version"
    )


def _trained(project: Path) -> dict:
    return json.loads((project / "models" / "model.json").read_text())


def test_promotion_moves_champion_only_to_a_better_model(project: Path) -> None:
    params = project / "params.yaml"
    original = params.read_text()
    features = _trained(project)["features"]
    weak = original.replace("  exclude_features: []", f"  exclude_features: {features[1:]}")
    params.write_text(weak)  # one feature: a weaker model that still passes the quality gate
    try:
        _ok(project, "make", "repro")
        first = _ok(project, "make", "promote")
        assert "promoted: passed the quality gate; no champion yet" in first
        weak_version = _trained(project)["tracking"]["registry_version"]
        assert _champion(project) == weak_version

        # The same model again (same data, code and parameters): a tie is not an improvement.
        _ok(project, "make", "train", "evaluate")
        tie = _trained(project)["tracking"]["registry_version"]
        assert tie != weak_version
        refused = _ok(project, "make", "promote")
        assert "not promoted" in refused and "not better" in refused
        decision = json.loads((project / "reports" / "promotion.json").read_text())
        assert decision["promoted"] is False
        assert decision["challenger_version"] == tie
        assert decision["champion_version"] == weak_version
        assert _champion(project) == weak_version  # refused: champion untouched

        # Serving paths can take the registry's champion: downloaded, then hash-verified.
        fetched = _ok(project, "make", "fetch-champion")
        assert f"registry version {weak_version}" in fetched
        served = json.loads((project / "registry" / "champion" / "model.json").read_text())
        assert served["tracking"]["registry_version"] == weak_version
    finally:
        params.write_text(original)

    # All features again: a genuinely better model, which the gate promotes.
    _ok(project, "make", "repro")
    better = _trained(project)["tracking"]["registry_version"]
    assert better not in (weak_version, tie)
    promoted = _ok(project, "make", "promote")
    assert f"version {better} promoted" in promoted and ": better" in promoted
    assert _champion(project) == better
    tags = f"client.get_model_version('versioned-model', '{better}').tags"
    assert _registry(project, f"{tags}['promoted']") == "true"

    # Lineage of the champion: its run names the commit and DVC's hash of the data, which
    # dvc.lock records and which addresses the file in the DVC cache.
    run = f"client.get_run(client.get_model_version('versioned-model', '{better}').run_id)"
    md5 = _registry(project, f"{run}.data.tags['data_md5']")
    assert _registry(project, f"{run}.data.tags['dvc_lock_data_md5']") == md5
    raw = project / RAW_DATA
    assert hashlib.md5(raw.read_bytes()).hexdigest() == md5
    assert (project / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]).is_file()
    commits = git(project, "log", "--format=%H", f"-S{md5}", "--", "dvc.lock")
    assert commits, "git log -S finds the commit whose dvc.lock records this data"
    assert _registry(project, f"{run}.data.tags['git_commit']") == git(project, "rev-parse", "HEAD")


def test_continuous_training_target_reports_and_opens_a_pull_request(
    project: Path, tmp_path: Path
) -> None:
    """`make ct` then `make ct-pull-request`, as ct.yml runs them, against a local origin and a
    stand-in for the GitHub CLI that records what it was asked."""
    report = _ok(project, "make", "ct")
    assert "Evaluation gate: **passed**" in report
    assert "Registry version" in report  # the promotion decision is part of the summary
    assert (project / "docs" / "model" / "model-card.md").is_file()
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(project, "remote", "add", "origin", str(origin))
    calls, _ = fake_gh(tmp_path)
    env = _env()
    env["PATH"] = f"{tmp_path / 'bin'}:{env['PATH']}"
    result = _run(project, "make", "ct-pull-request", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    pushed = subprocess.run(
        ["git", "--git-dir", str(origin), "show", "--stat", "--format=%s", "ct/model-update"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert pushed.startswith("Continuous training: new model card and metrics")
    assert "docs/model/model-card.md" in pushed and "docs/model/metrics.json" in pushed
    assert "catalog-info.yaml" in pushed  # the catalog entry of the new model, for review
    recorded = calls.read_text()
    assert "auth setup-git" in recorded
    assert "pr create --head ct/model-update" in recorded
    assert "--body-file reports/ct-summary.md" in recorded


def _shifted(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with every number half as large again; categories and missing values kept."""
    return {
        name: value * 1.5
        if isinstance(value, int | float) and not isinstance(value, bool)
        else value
        for name, value in record.items()
    }


#: The library (model-in-service) path, as an application embedding the model serves: every
#: record of the raw data predicted once, each recorded in the prediction store.
SERVE_THE_RAW_DATA = """
import sys
import pandas as pd
from versioned_model.predict import load_predictor
from versioned_model.schema import FEATURES
from versioned_model.store import open_store
store = open_store("library")
load_predictor("models", store).predict(pd.read_parquet(sys.argv[1])[list(FEATURES)])
store.close()
"""


def test_continuous_monitoring_judges_the_store_and_alerts_once(
    project: Path, tmp_path: Path
) -> None:
    """`make cm` over the prediction store, then `make cm-alert`, as cm.yml runs them: served
    records need no action; shifted ones open one issue, then comment on it, and ask ct.yml to
    retrain each time."""
    store = tmp_path / "predictions.db"
    env = {**_env(), "PREDICTION_STORE": f"sqlite:///{store}"}
    served = _run(project, "uv", "run", "python", "-c", SERVE_THE_RAW_DATA, RAW_DATA, env=env)
    assert served.returncode == 0, served.stdout + served.stderr
    calm = _run(project, "make", "cm", env=env)
    assert calm.returncode == 0, calm.stdout + calm.stderr
    summary = project / "reports" / "monitoring" / "summary.json"
    assert json.loads(summary.read_text())["action_needed"] is False

    with sqlite3.connect(store) as connection:  # then the inputs shift by half
        rows = connection.execute("SELECT inputs FROM prediction_log").fetchall()
        shifted = [json.dumps(_shifted(json.loads(inputs))) for (inputs,) in rows]
        connection.executemany(  # the prediction column holds JSON: here the label 0
            "INSERT INTO prediction_log (logged_at, source, model_version, inputs, prediction)"
            " VALUES ('2030-01-01T00:00:00.000+00:00', 'test', 'v', ?, '0')",
            [(text,) for text in shifted],
        )
    connection.close()
    drifted = _run(project, "make", "cm", f"PREDICTION_STORE=sqlite:///{store}", env=env)
    assert drifted.returncode == 0, drifted.stdout + drifted.stderr  # a verdict, not a failure
    assert "ACTION NEEDED" in drifted.stdout
    assert json.loads(summary.read_text())["action_needed"] is True
    site = _run(project, "make", "docs", env=env)  # the site's Monitoring page shows the report
    assert site.returncode == 0, site.stdout + site.stderr
    assert "Latest report" in (project / "site" / "monitoring" / "index.html").read_text()
    assert (project / "site" / "monitoring-report.html").is_file()

    calls, listing = fake_gh(tmp_path)
    env["PATH"] = f"{tmp_path / 'bin'}:{env['PATH']}"
    for _ in range(2):
        alert = _run(project, "make", "cm-alert", env=env)
        assert alert.returncode == 0, alert.stdout + alert.stderr
        listing.write_text("7\n")  # from now on the issue exists
    recorded = calls.read_text().splitlines()
    creates = [c for c in recorded if c.startswith("issue create")]
    assert len(creates) == 1 and "--label model-monitoring" in creates[0]
    assert [c for c in recorded if c.startswith("issue comment")] == [
        "issue comment 7 --body-file reports/monitoring/summary.md"
    ]
    dispatches = [c for c in recorded if c.startswith("api ")]
    assert (
        dispatches
        == ["api --method POST repos/{owner}/{repo}/dispatches -f event_type=retrain"] * 2
    )
    fetched = _run(project, "make", "monitoring-report", env=env)  # as docs.yml runs it
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert "run download --name monitoring-report --dir reports/monitoring" in calls.read_text()
