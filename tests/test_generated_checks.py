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

from tests.conftest import git, one_worker_each, render

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Project:
    root: Path
    package: str

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

    @property
    def contract(self) -> dict[str, Any]:
        """The project's data contract (src/<package>/contract.yaml): the cases below pick their
        columns from it, so they judge whatever table the project was made for."""
        loaded = yaml.safe_load((self.root / "src" / self.package / "contract.yaml").read_text())
        assert isinstance(loaded, dict)
        return loaded

    @property
    def target(self) -> str:
        return str(self.contract["target"]["name"])

    @property
    def classification(self) -> bool:
        return self.contract["target"]["task"] != "regression"

    def features(self, kind: str | None = None, nullable: bool | None = None) -> list[str]:
        """The contract's features, in order, of ``kind`` (numeric, categorical) if given, and
        may be missing or not if ``nullable`` is given."""
        return [
            name
            for name, spec in self.contract["features"].items()
            if kind in (None, spec["type"]) and nullable in (None, bool(spec.get("nullable")))
        ]

    def raw(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / self.params()["data"]["raw_path"])

    def primary_metric(self) -> str:
        """evaluate.primary_metric as the project resolves `auto` from its contract."""
        code = (
            f"from {self.package}.config import load_params\n"
            f"from {self.package}.evaluate import primary_metric\n"
            "print(primary_metric(load_params()))"
        )
        result = self.run("uv", "run", "python", "-c", code)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout.strip().splitlines()[-1]

    def variant(self, tmp: Path, frame: pd.DataFrame | None = None, **sections: Any) -> Path:
        """A params file whose data is ``frame`` (if given) and with ``sections`` merged in."""
        content = self.params()
        if frame is not None:
            frame.to_parquet(tmp / "raw.parquet", index=False)  # Parquet keeps the column types
            content["data"]["raw_path"] = str(tmp / "raw.parquet")
        for name, values in sections.items():
            content[name] = {**content[name], **values}
        path = tmp / "params.yaml"
        path.write_text(yaml.safe_dump(content))
        return path


def _category_text(value: Any) -> str:
    """A category or label as the project's schema writes it in its rules (schema.category_text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _project(tmp_path_factory: pytest.TempPathFactory, **answers: str) -> Project:
    root = render(tmp_path_factory.mktemp("checks") / "project", **answers)
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "Generated")):
        git(root, *args)  # as `mlops-new create` does: DVC needs a repository
    package = yaml.safe_load((root / ".copier-answers.yml").read_text())["package_name"]
    project = Project(root, package)
    for target in ("install", "data"):
        result = project.run("make", target)
        assert result.returncode == 0, result.stdout + result.stderr
    return project


#: Projects built once per worker process and shared by the two fixtures below.
_BUILT: dict[str, Project] = {}


def _shared(tmp_path_factory: pytest.TempPathFactory, name: str) -> Project:
    """The two bundled examples, and a user's table (palmerpenguins, shipped in a package: text
    labels of three classes, categorical features, missing values) made as a user makes one."""
    if name not in _BUILT:
        if name == "penguins":
            import palmerpenguins

            table = tmp_path_factory.mktemp("table") / "penguins.csv"
            palmerpenguins.load_penguins().to_csv(table, index=False)
            _BUILT[name] = _project(tmp_path_factory, dataset=str(table), target="species")
        else:
            _BUILT[name] = _project(tmp_path_factory, problem_type=name)
    return _BUILT[name]


@pytest.fixture(
    scope="module", params=one_worker_each("checks", "classification", "regression", "penguins")
)
def data_project(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Project:
    """For the data tests: every table, the user's too."""
    return _shared(tmp_path_factory, request.param)


@pytest.fixture(scope="module", params=one_worker_each("checks", "classification", "regression"))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """For the model tests, whose cases lean on the bundled examples (declared directional
    expectations, a feature too weak to pass the gate alone)."""
    return _shared(tmp_path_factory, request.param)


def _assert_fails(result: subprocess.CompletedProcess[str], test: str, *messages: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert f"FAILED {test}" in output, output[-3000:]
    for message in messages:
        assert message in output, f"{message!r} not in:\n{output[-3000:]}"


def test_project_suite_passes_on_its_own_data(data_project: Project) -> None:
    project = data_project
    result = project.pytest("tests/data", "tests/model", "-m", "not slices")
    assert result.returncode == 0, result.stdout[-3000:]


def test_nulls_fail_schema_and_missing_rate(data_project: Project, tmp_path: Path) -> None:
    project = data_project
    frame = project.raw()
    column = project.features(nullable=False)[1]  # the contract says it is never missing
    frame[column] = frame[column].astype(object)
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


def _bad_value(project: Project, kind: str) -> tuple[str, Any, str]:
    """(column, value, rule) from the contract: a number beyond a feature's upper bound, a
    category a feature never had, a label the target never had."""
    contract = project.contract
    if kind == "out-of-range":
        column = project.features("numeric")[0]
        low, high = (float(contract["features"][column][bound]) for bound in ("min", "max"))
        return column, high + (high - low) + 1, f"in_range({low}, {high})"
    if kind == "new-category":
        categorical = project.features("categorical")
        if not categorical:
            pytest.skip("the contract has no categorical feature")
        column = categorical[0]
        known = contract["features"][column]["categories"]
    else:
        if not project.classification:
            pytest.skip("regression: no labels")
        column, known = project.target, contract["target"]["labels"]
        positive = contract["target"].get("positive")
        if positive is not None:  # the schema's order: a binary target's positive label last
            known = [label for label in known if label != positive] + [positive]
    texts = [_category_text(value) for value in known]
    if all(isinstance(value, int) and not isinstance(value, bool) for value in known):
        return column, max(known) + 1000, f"isin{texts}"  # an integer code, as the data has them
    return column, "__unseen__", f"isin{texts}"


@pytest.mark.parametrize("kind", ["out-of-range", "new-category", "new-label"])
def test_bad_values_fail_the_schema(data_project: Project, tmp_path: Path, kind: str) -> None:
    project = data_project
    column, value, rule = _bad_value(project, kind)
    frame = project.raw()
    if isinstance(value, str):
        frame[column] = frame[column].astype(object)
    frame.loc[:4, column] = value
    result = project.pytest("tests/data", params=project.variant(tmp_path, frame))
    _assert_fails(
        result,
        "tests/data/test_raw_data.py::test_raw_data_honours_the_schema",
        f"column {column!r} breaks rule {rule!r}",
    )


def test_dropped_column_fails_schema_and_columns(data_project: Project, tmp_path: Path) -> None:
    project = data_project
    frame = project.raw()
    column = project.features()[1]
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


def test_duplicated_rows_fail_the_duplicate_rule(data_project: Project, tmp_path: Path) -> None:
    project = data_project
    frame = project.raw()
    frame = pd.concat([frame, frame.head(10)], ignore_index=True)
    result = project.pytest("tests/data", params=project.variant(tmp_path, frame))
    _assert_fails(
        result,
        "tests/data/test_quality.py::test_duplicate_rows_within_threshold",
        "column '*' breaks rule 'max_duplicate_rate': 10 duplicated rows",
    )


def _outlier_column(project: Project, frame: pd.DataFrame) -> tuple[str, float, float]:
    """The numeric feature whose contract upper bound lies farthest beyond the outlier fence
    (outlier_iqr_factor interquartile ranges above the third quartile), that bound (a value the
    schema accepts and the training statistics call absurd), and the fence's factor: the
    project's, or, where no bound lies beyond it (penguins: bounds of max + range over a wide
    spread), one that puts the bound 1.5 interquartile ranges past the fence."""
    factor = float(project.params()["quality"]["outlier_iqr_factor"])
    beyond: dict[str, tuple[float, float]] = {}
    for column in project.features("numeric"):
        q1, q3 = frame[column].quantile([0.25, 0.75])
        high = float(project.contract["features"][column]["max"])
        if q3 > q1:
            beyond[column] = ((high - q3) / (q3 - q1), high)
    column = max(beyond, key=lambda name: beyond[name][0])
    spread, high = beyond[column]
    if spread - factor <= 1:
        factor = spread - 1.5
    assert factor > 0, f"no numeric feature's upper bound is an outlier: {beyond}"
    return column, high, factor


def test_outliers_fail_against_training_statistics(data_project: Project, tmp_path: Path) -> None:
    project = data_project
    frame = project.raw()
    column, value, factor = _outlier_column(project, frame)
    rows = frame.sample(frac=0.12, random_state=0).index
    frame[column] = frame[column].astype("float64")
    frame.loc[rows, column] = value  # the schema's upper bound: within it, absurd in fact
    quality = {"outlier_iqr_factor": factor}
    result = project.pytest("tests/data", params=project.variant(tmp_path, frame, quality=quality))
    _assert_fails(
        result,
        "tests/data/test_quality.py::test_outliers_against_training_statistics",
        f"column {column!r} breaks rule 'max_outlier_rate'",
    )


def _weakest_feature(project: Project) -> str:
    """The numeric feature least related to the target (absolute Spearman correlation with the
    target, or with its label's index): alone it cannot make a model worth keeping."""
    frame = project.raw()
    frame = frame.loc[frame[project.target].notna()]
    target = frame[project.target]
    if project.classification:
        order = {
            _category_text(label): i for i, label in enumerate(project.contract["target"]["labels"])
        }
        target = target.map(lambda value: order[_category_text(value)])
    ranks = target.rank()  # Spearman's correlation: Pearson's of the ranks (no SciPy here)
    strength = {name: abs(frame[name].rank().corr(ranks)) for name in project.features("numeric")}
    return min(strength, key=lambda name: strength[name])


def test_broken_model_fails_the_quality_gate(project: Project, tmp_path: Path) -> None:
    """A model left with one uninformative feature must not pass the gate against the baseline."""
    keep = _weakest_feature(project)
    excluded = [name for name in project.features() if name != keep]
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
        "tests/model/test_behaviour.py::test_directional_expectation",  # one, or one of each
        f"feature {feature!r} breaks rule 'directional'",
        "(the model ignores it)",
    )


def test_champion_gate_refuses_a_worse_model(project: Project, tmp_path: Path) -> None:
    """A champion's model.json in evaluate.champion_dir (what `make fetch-champion` downloads)."""
    metric = project.primary_metric()  # `auto` resolved from the contract
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
    task = "classification" if project.classification else "regression"
    assert {r.task_type for r in results} == {f"tabular-{task}"}
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


def test_catalog_entry_is_written_then_checked(project: Project) -> None:
    """`make ci`'s catalog step (`make catalog-check`) writes the template's entry the first
    time, then passes while the entry describes the project's API and data contract, and fails,
    saying what differs, once it does not; `make catalog` brings it up to date (#31)."""
    entry = project.root / "catalog-info.yaml"
    try:
        planned = project.run("make", "--dry-run", "ci").stdout
        assert f"{project.package} catalog --check" in planned
        trained = project.run("make", "train")
        assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
        first = project.run("make", "catalog-check")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "wrote catalog-info.yaml for the first time" in first.stdout
        model = json.loads((project.root / "models" / "model.json").read_text())
        text = entry.read_text()
        assert f'mlops-new.io/model-version: "{model["model_version"]}"' in text
        again = project.run("make", "catalog-check")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "describes the project's API and data contract" in again.stdout
        assert entry.read_text() == text, "a check writes nothing once the entry was written"

        stale = text.replace(model["contract_sha256"], "0" * 64)
        stale = stale.replace('"/predict": {', '"/predict-v0": {')
        entry.write_text(stale)
        refused = project.run("make", "catalog-check")
        assert refused.returncode != 0
        assert "catalog-info.yaml is stale: the model's contract-sha256 is" in refused.stderr
        assert "the API's paths changed: added /predict, removed /predict-v0" in refused.stderr
        assert "run `make catalog` and commit catalog-info.yaml" in refused.stderr
        assert project.run("make", "catalog").returncode == 0
        assert project.run("make", "catalog-check").returncode == 0
    finally:
        git(project.root, "checkout", "--", "catalog-info.yaml")
