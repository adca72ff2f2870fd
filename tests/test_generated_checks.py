"""Slow tier: the generated data, model and model-card checks demonstrably fail when they should.

A project per problem type is generated and installed once; each case then corrupts a copy of
its data (or its parameters), points the project's own test suite at it through
`<PACKAGE>_PARAMS`, and asserts the right test fails with a message naming the column and rule.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from huggingface_hub import ModelCard

from tests.conftest import git, render

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Project:
    root: Path
    package: str
    problem_type: str

    @property
    def params_env(self) -> str:
        return f"{self.package.upper()}_PARAMS"

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
        return subprocess.run(
            list(args), cwd=self.root, env={**clean, **(env or {})}, capture_output=True, text=True
        )

    def pytest(self, *args: str, params: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {self.params_env: str(params)} if params else None
        return self.run(
            "uv", "run", "pytest", "-p", "no:cacheprovider", "--tb=short", *args, env=env
        )

    def params(self) -> dict[str, Any]:
        loaded = yaml.safe_load((self.root / "params.yaml").read_text())
        assert isinstance(loaded, dict)
        return loaded

    def raw(self) -> pd.DataFrame:
        return pd.read_csv(self.root / self.params()["data"]["raw_path"])

    def variant(self, tmp: Path, frame: pd.DataFrame | None = None, **sections: Any) -> Path:
        """A params file whose data is ``frame`` (if given) and with ``sections`` merged in."""
        content = self.params()
        if frame is not None:
            frame.to_csv(tmp / "raw.csv", index=False)
            content["data"]["raw_path"] = str(tmp / "raw.csv")
        for name, values in sections.items():
            content[name] = {**content[name], **values}
        path = tmp / "params.yaml"
        path.write_text(yaml.safe_dump(content))
        return path


def _project(tmp_path_factory: pytest.TempPathFactory, **answers: str) -> Project:
    root = render(tmp_path_factory.mktemp("checks") / "project", **answers)
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "Generated")):
        git(root, *args)  # as `mlops-new create` does: DVC needs a repository
    package = yaml.safe_load((root / ".copier-answers.yml").read_text())["package_name"]
    project = Project(root, package, answers.get("problem_type", "classification"))
    for target in ("install", "data"):
        result = project.run("make", target)
        assert result.returncode == 0, result.stdout + result.stderr
    return project


@pytest.fixture(scope="module", params=["classification", "regression"])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Project:
    return _project(tmp_path_factory, problem_type=request.param)


def _assert_fails(result: subprocess.CompletedProcess[str], test: str, *messages: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert f"FAILED {test}" in output, output[-3000:]
    for message in messages:
        assert message in output, f"{message!r} not in:\n{output[-3000:]}"


def test_project_suite_passes_on_its_own_data(project: Project) -> None:
    result = project.pytest("tests/data", "tests/model", "-m", "not slices")
    assert result.returncode == 0, result.stdout[-3000:]


def test_nulls_fail_schema_and_missing_rate(project: Project, tmp_path: Path) -> None:
    frame = project.raw()
    column = frame.columns[2]
    frame.loc[:9, column] = None
    result = project.pytest("tests/data", params=project.variant(tmp_path, frame))
    _assert_fails(
        result,
        "tests/data/test_raw_data.py::test_raw_data_honours_the_schema",
        f"column {column!r} breaks rule 'not_nullable'",
    )
    _assert_fails(
        result,
        "tests/data/test_quality.py::test_missing_values_within_threshold",
        f"column {column!r} breaks rule 'max_missing_rate'",
    )


# (column, value, rule) per problem type: a value out of range, and a category never seen.
BAD_VALUES = {
    "classification": {
        "out-of-range": ("mean_radius", -5.0, "in_range(0, 100)"),
        "new-category": ("target", 2, "isin([0, 1])"),
    },
    "regression": {
        "out-of-range": ("age", 150.0, "in_range(0, 120)"),
        "new-category": ("sex", 3.0, "isin([1, 2])"),
    },
}


@pytest.mark.parametrize("kind", ["out-of-range", "new-category"])
def test_bad_values_fail_the_schema(project: Project, tmp_path: Path, kind: str) -> None:
    column, value, rule = BAD_VALUES[project.problem_type][kind]
    frame = project.raw()
    frame.loc[:4, column] = value
    result = project.pytest("tests/data", params=project.variant(tmp_path, frame))
    _assert_fails(
        result,
        "tests/data/test_raw_data.py::test_raw_data_honours_the_schema",
        f"column {column!r} breaks rule {rule!r}",
    )


def test_dropped_column_fails_schema_and_columns(project: Project, tmp_path: Path) -> None:
    frame = project.raw()
    column = frame.columns[1]
    result = project.pytest(
        "tests/data/test_raw_data.py", params=project.variant(tmp_path, frame.drop(columns=column))
    )
    _assert_fails(
        result,
        "tests/data/test_raw_data.py::test_raw_data_honours_the_schema",
        f"column {column!r} breaks rule 'column_in_dataframe'",
    )
    _assert_fails(
        result,
        "tests/data/test_raw_data.py::test_columns_are_exactly_features_and_target",
        f"columns [{column!r}] break rule 'required column'",
    )


def test_duplicated_rows_fail_the_duplicate_rule(project: Project, tmp_path: Path) -> None:
    frame = project.raw()
    frame = pd.concat([frame, frame.head(10)], ignore_index=True)
    result = project.pytest("tests/data", params=project.variant(tmp_path, frame))
    _assert_fails(
        result,
        "tests/data/test_quality.py::test_duplicate_rows_within_threshold",
        "column '*' breaks rule 'max_duplicate_rate': 10 duplicated rows",
    )


def test_outliers_fail_against_training_statistics(project: Project, tmp_path: Path) -> None:
    frame = project.raw()
    column = "worst_area" if project.problem_type == "classification" else "s1"
    rows = frame.sample(frac=0.12, random_state=0).index
    frame.loc[rows, column] = frame[column].max() * 3  # within the schema's bounds, absurd in fact
    result = project.pytest("tests/data", params=project.variant(tmp_path, frame))
    _assert_fails(
        result,
        "tests/data/test_quality.py::test_outliers_against_training_statistics",
        f"column {column!r} breaks rule 'max_outlier_rate'",
    )


def test_broken_model_fails_the_quality_gate(project: Project, tmp_path: Path) -> None:
    """A model left with one uninformative feature must not pass the gate against the baseline."""
    raw = project.raw()
    keep = "texture_error" if project.problem_type == "classification" else "sex"
    excluded = [c for c in raw.columns if c not in (keep, "target")]
    params = project.variant(tmp_path, model={"exclude_features": excluded})
    result = project.pytest("tests/model/test_model.py", params=params)
    _assert_fails(
        result,
        "tests/model/test_model.py::test_beats_dummy_baseline_by_margin",
        "improves on the baseline by",
    )


def test_model_ignoring_the_monotone_feature_fails_the_directional_test(
    project: Project, tmp_path: Path
) -> None:
    feature = project.params()["behaviour"]["directional"][0]["feature"]
    params = project.variant(tmp_path, model={"exclude_features": [feature]})
    result = project.pytest("tests/model/test_behaviour.py", params=params)
    _assert_fails(
        result,
        "tests/model/test_behaviour.py::test_directional_expectation[0]",
        f"feature {feature!r} breaks rule 'directional'",
        "(the model ignores it)",
    )


def test_champion_gate_refuses_a_worse_model(project: Project, tmp_path: Path) -> None:
    """A champion's model.json in evaluate.champion_dir (what `make fetch-champion` downloads)."""
    metric = project.params()["evaluate"]["primary_metric"]
    champion = tmp_path / "champion"
    champion.mkdir()
    (champion / "model.json").write_text(json.dumps({"metrics": {metric: 0.999}}))
    params = project.variant(
        tmp_path, evaluate={"champion_dir": str(champion), "champion_tolerance": 0.0}
    )
    env = {project.params_env: str(params)}
    assert project.run("make", "train", env=env).returncode == 0
    result = project.run("make", "evaluate", env=env)
    assert result.returncode != 0
    assert "below the champion's 0.9990" in result.stdout
    relaxed = project.variant(  # 1.0 below the champion: any model beating the baseline
        tmp_path, evaluate={"champion_dir": str(champion), "champion_tolerance": 1.0}
    )
    passed = project.run("make", "evaluate", env={project.params_env: str(relaxed)})
    assert passed.returncode == 0, passed.stdout[-2000:]


def test_model_card_parses_and_matches_the_metrics(project: Project) -> None:
    for target in ("train", "evaluate", "model-card"):
        result = project.run("make", target)
        assert result.returncode == 0, result.stdout + result.stderr
    card = ModelCard.load(project.root / "MODEL_CARD.md")
    metrics = yaml.safe_load((project.root / "reports" / "metrics.json").read_text())
    results = card.data.eval_results
    assert results, "no model-index results parsed"
    assert {r.metric_type: r.metric_value for r in results} == metrics["model"]
    assert {r.task_type for r in results} == {f"tabular-{project.problem_type}"}
    assert card.data.library_name == "sklearn"
    assert card.data.license == "mit"
    assert "## Quantitative analyses" in card.text


def test_docs_site_builds_from_the_model_just_trained(project: Project) -> None:
    # self-contained: under xdist each worker has its own project, trained or not
    for target in ("train", "evaluate", "docs"):
        result = project.run("make", target)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    site = project.root / "site"
    version = json.loads((project.root / "models" / "model.json").read_text())["model_version"]
    assert version in (site / "model" / "model-card" / "index.html").read_text()
    assert (site / "ml-test-score" / "index.html").is_file()
    assert "drift" in (site / "monitoring" / "index.html").read_text()
    openapi = json.loads((site / "openapi.json").read_text())  # default strategies: the service
    assert "/predict" in openapi["paths"]
    for page in ("batch", "model-as-service"):  # one page per chosen strategy, nothing else
        assert "Deploy it" in (site / "deployment" / page / "index.html").read_text()
    assert sorted(p.name for p in (site / "deployment").iterdir()) == ["batch", "model-as-service"]


def test_minimal_project_runs_slices_on_demand(project: Project) -> None:
    result = project.run("make", "slices")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "test_slices.py" in result.stdout


def test_high_risk_make_ci_needs_the_human_sections(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    project = _project(tmp_path_factory, risk_category="high", high_risk_area="employment")
    # make ci ends with the human-sections check, which refuses the template's placeholders...
    planned = project.run("make", "--dry-run", "ci").stdout.splitlines()
    assert planned[-1].endswith("model-card --check"), planned[-3:]
    refused = project.run("make", "model-card-check")
    assert refused.returncode != 0
    assert "model_card.yaml still has TODO(human) in: intended_use" in refused.stderr

    # ...and passes, slice tests included, once a person has written them.
    inputs = yaml.safe_load((project.root / "model_card.yaml").read_text())
    written = {name: f"Reviewed text for {name}." for name in inputs}
    (project.root / "model_card.yaml").write_text(yaml.safe_dump(written))
    accepted = project.run("make", "ci")
    assert accepted.returncode == 0, accepted.stdout[-3000:] + accepted.stderr[-2000:]
    assert "every section is written" in accepted.stdout
    assert "test_slices.py" in accepted.stdout, "slice tests are part of make test"
    card = ModelCard.load(project.root / "MODEL_CARD.md")
    assert "eu-ai-act-high" in card.data.tags
    assert "Reviewed text for intended_use." in card.text
