"""Fast tier: render every value of every question (all pairs) and check the output statically."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from allpairspy import AllPairs

from tests.conftest import one_worker_each, render, tool

CHOICES = {
    "python_version": ["3.11", "3.12", "3.13"],
    "license": ["MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"],
    "problem_type": ["classification", "regression"],
    "project_name": ["Churn Model", "x", "Fraud.Detector_v2", "A" + "b" * 63],
    "risk_category": ["minimal", "limited", "high"],
    "experiment_tracking": ["mlflow", "none"],
    "data_versioning": ["dvc", "none"],
    "cloud": ["aws", "gcp", "azure", "none"],
    "catalog_lifecycle": ["experimental", "production", "deprecated"],
    "deployment_strategies": [
        "[batch, model_as_service]",
        "[batch, model_in_service, model_as_service, serverless, edge]",
        "[batch]",
        "[model_in_service]",
        "[model_as_service]",
        "[serverless]",
        "[edge]",
    ],
}
HIGH_RISK_AREAS = [
    "biometrics",
    "critical_infrastructure",
    "education",
    "employment",
    "essential_services",
    "law_enforcement",
    "migration_border_control",
    "justice_democracy",
]
PAIRS = [dict(zip(CHOICES, values, strict=True)) for values in AllPairs(list(CHOICES.values()))]
PAIR_IDS = ["-".join(v[:12].replace(" ", "_") for v in p.values()) for p in PAIRS]

COMMON_FILES = {
    ".copier-answers.yml",
    ".dockerignore",
    ".editorconfig",
    ".github/dependabot.yml",
    ".github/workflows/cd.yml",
    ".github/workflows/ci.yml",
    ".github/workflows/cm.yml",
    ".github/workflows/ct.yml",
    ".github/workflows/docs.yml",
    ".github/workflows/template-sync.yml",
    ".github/CODEOWNERS",
    ".github/pull_request_template.md",
    *(
        f".github/ISSUE_TEMPLATE/{name}.yml"
        for name in ("config", "data-quality", "model-behaviour", "retraining", "drift-alert")
    ),
    "catalog-info.yaml",
    "docs/team.md",
    "make/github.mk",
    "mkdocs.yml",
    "docs/index.md",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".python-version",
    "LICENSE",
    "Makefile",
    "README.md",
    "docs/ml-test-score.md",
    "docs/monitoring.md",
    "docs/versioning.md",
    "model_card.yaml",
    "params.yaml",
    "pyproject.toml",
    "tests/conftest.py",
    "tests/data/test_quality.py",
    "tests/data/test_raw_data.py",
    "tests/data/test_skew.py",
    "tests/model/test_behaviour.py",
    "tests/model/test_model.py",
    "tests/model/test_model_card.py",
    "tests/model/test_monitoring.py",
    "tests/model/test_slices.py",
    "tests/unit/test_artifact.py",
    "tests/unit/test_catalog.py",
    "tests/unit/test_cli.py",
    "tests/unit/test_config.py",
    "tests/unit/test_data_contract.py",
    "tests/unit/test_lineage.py",  # through MLflow, else through models/model.json
    "tests/unit/test_predict.py",
    "tests/unit/test_store.py",
}
PACKAGE_MODULES = {
    "__init__.py",
    "__main__.py",
    "artifact.py",
    "catalog.py",
    "cli.py",
    "config.py",
    "contract.py",
    "contract.yaml",  # the bundled example's data contract, inferred in advance
    "data.py",
    "evaluate.py",
    "features.py",
    "model_card.py",
    "monitor.py",
    "predict.py",
    "quality.py",
    "py.typed",
    "schema.py",
    "store.py",
    "train.py",
}
ONNX_FILES = (  # the ONNX export and its scoring: the service's fast path, the edge runtime, Spark
    "src/{package}/onnx_export.py",
    "src/{package}/onnx_runtime.py",
    "tests/unit/test_onnx_runtime.py",
)
#: The kustomizations of deploy/k8s: there with the service or the batch strategy.
KUSTOMIZATIONS = tuple(
    f"deploy/k8s/{name}/kustomization.yaml"
    for name in ("base", "overlays/staging", "overlays/prod")
)
STRATEGY_FILES = {
    "batch": {
        "docker/batch.Dockerfile",
        "src/{package}/batch.py",
        "src/{package}/spark_batch.py",  # the same job on Spark, scoring the ONNX export
        "tests/unit/test_batch.py",
        "tests/unit/test_spark_batch.py",
        *ONNX_FILES,
        "docs/deployment/batch.md",
        *KUSTOMIZATIONS,
        "deploy/k8s/base/batch-cronjob.yaml",
        "deploy/k8s/base/batch-networkpolicy.yaml",
    },
    "model_as_service": {
        "docker/service.Dockerfile",
        "src/{package}/server.py",
        "src/{package}/service.py",
        "tests/unit/test_service.py",
        "tests/unit/test_contract.py",  # Schemathesis against the service's OpenAPI document
        *KUSTOMIZATIONS,
        *(
            f"deploy/k8s/base/{name}.yaml"
            for name in ("deployment", "service", "hpa", "pdb", "networkpolicy")
        ),
        *ONNX_FILES,  # the service scores through the ONNX export
        "docs/api.md",
        "docs/deployment/model-as-service.md",
    },
    "serverless": {
        "docker/serverless.Dockerfile",
        "src/{package}/lambda_handler.py",
        "tests/unit/test_lambda.py",
        "docs/deployment/serverless.md",
    },
    "edge": {
        "docker/edge.Dockerfile",
        "src/{package}/edge.py",
        "tests/unit/test_edge.py",
        *ONNX_FILES,
        "docs/deployment/edge.md",
    },
    "model_in_service": {
        "examples/host_app/Dockerfile",
        "examples/host_app/app.py",
        "tests/unit/test_host_app.py",
        "docs/deployment/model-in-service.md",
    },
}
#: The names a file or folder takes after each strategy (its stem, without `test_`).
STRATEGY_NAMES = {
    "batch": {"batch", "spark_batch"},
    "model_in_service": {"model_in_service", "model-in-service", "host_app"},
    "model_as_service": {"model_as_service", "model-as-service", "service", "server"},
    "serverless": {"serverless", "lambda", "lambda_handler"},
    "edge": {"edge"},
}
VERSIONING_FILES = {
    ("experiment_tracking", "mlflow"): {
        "src/{package}/tracking.py",
        "tests/unit/test_tracking.py",
    },
    ("data_versioning", "dvc"): {"dvc.yaml", ".dvc/config", ".dvc/.gitignore", ".dvcignore"},
}
COMPLIANCE_FILES = {
    f"docs/compliance/{name}.md"
    for name in (
        "technical-documentation",
        "human-oversight",
        "record-keeping",
        "post-market-monitoring",
    )
}
LICENSE_FIRST_LINES = {
    "MIT": "MIT License",
    "Apache-2.0": "Apache License",
    "BSD-3-Clause": "BSD 3-Clause License",
    "Proprietary": "All rights reserved.",
}
UNRENDERED = re.compile(r"(?<!\$)\{\{|\{%|\{#")


@pytest.fixture(scope="module", params=one_worker_each("render", *PAIRS, ids=PAIR_IDS))
def rendered(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    answers: dict[str, str] = request.param
    return render(tmp_path_factory.mktemp("render") / "project", **answers), answers


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_all_pairs_cover_every_value() -> None:
    for question, values in CHOICES.items():
        assert {p[question] for p in PAIRS} == set(values), question


def test_expected_files_and_nothing_else(rendered: tuple[Path, dict[str, str]]) -> None:
    root, _ = rendered
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    package = answers["package_name"]
    expected = COMMON_FILES | {f"src/{package}/{name}" for name in PACKAGE_MODULES}
    if answers["risk_category"] == "high":
        expected |= COMPLIANCE_FILES
    for strategy in answers["deployment_strategies"]:
        expected |= {name.format(package=package) for name in STRATEGY_FILES[strategy]}
    for (question, value), names in VERSIONING_FILES.items():
        if answers[question] == value:
            expected |= {name.format(package=package) for name in names}
    assert _files(root) == expected


def _named_after_other_strategies(root: Path, chosen: list[str]) -> list[str]:
    """Files and folders under ``root`` named after a strategy that is not in ``chosen``."""
    found = []
    for path in sorted(root.rglob("*")):
        for part in path.relative_to(root).parts:
            stem = part.split(".")[0].removeprefix("test_")
            named = [s for s, names in STRATEGY_NAMES.items() if stem in names]
            if any(strategy not in chosen for strategy in named):
                found.append(path.relative_to(root).as_posix())
                break
    return found


def test_no_file_is_named_after_a_strategy_not_chosen(
    rendered: tuple[Path, dict[str, str]],
) -> None:
    """A user finds each strategy's files by name: none ship without their strategy."""
    root, _ = rendered
    chosen = yaml.safe_load((root / ".copier-answers.yml").read_text())["deployment_strategies"]
    assert _named_after_other_strategies(root, chosen) == []


def test_default_project_has_no_edge_files(tmp_path: Path) -> None:
    """The default (batch, model_as_service) scores ONNX through onnx_runtime.py, not "edge"."""
    root = render(tmp_path / "p")
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert answers["deployment_strategies"] == ["batch", "model_as_service"]
    package = root / "src" / answers["package_name"]
    assert (package / "onnx_runtime.py").is_file()
    assert not (package / "edge.py").exists()
    assert not (root / "tests" / "unit" / "test_edge.py").exists()
    assert _named_after_other_strategies(root, answers["deployment_strategies"]) == []


def test_a_strategy_file_is_found_by_the_name_check(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "edge.py").touch()
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_lambda.py").touch()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "model-in-service.md").touch()
    assert _named_after_other_strategies(tmp_path, ["model_in_service"]) == [
        "src/pkg/edge.py",
        "tests/test_lambda.py",
    ]
    assert _named_after_other_strategies(tmp_path, ["edge", "serverless"]) == [
        "docs/model-in-service.md"
    ]


def _nav_pages(nav: list[object]) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            pages += _nav_pages(value) if isinstance(value, list) else [str(value)]
    return pages


def test_docs_site_has_a_page_per_chosen_strategy(rendered: tuple[Path, dict[str, str]]) -> None:
    """mkdocs.yml lists every page under docs/ (and only those), one per chosen strategy."""
    root, _ = rendered
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    pages = _nav_pages(yaml.safe_load((root / "mkdocs.yml").read_text())["nav"])
    built_by_make_docs = {"model/model-card.md"}  # copied in by `make docs`
    written = {p.relative_to(root / "docs").as_posix() for p in (root / "docs").rglob("*.md")}
    assert sorted(pages) == sorted(written | built_by_make_docs)
    chosen = [s.replace("_", "-") for s in answers["deployment_strategies"]]
    deployment = [p for p in pages if p.startswith("deployment/")]
    assert sorted(deployment) == sorted(f"deployment/{s}.md" for s in chosen)
    index = (root / "docs" / "index.md").read_text()
    for strategy in chosen:
        assert f"(deployment/{strategy}.md)" in index


def test_no_unrendered_jinja(rendered: tuple[Path, dict[str, str]]) -> None:
    root, _ = rendered
    leftovers = [
        f"{path}:{n}: {line.strip()}"
        for path in sorted(_files(root))
        for n, line in enumerate((root / path).read_text().splitlines(), 1)
        if UNRENDERED.search(line)
    ]
    assert leftovers == []


def test_structured_files_parse(rendered: tuple[Path, dict[str, str]]) -> None:
    root, answers = rendered
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    for path in root.rglob("*.y*ml"):
        list(yaml.safe_load_all(path.read_text()))  # catalog-info.yaml holds several entities
    version = answers["python_version"]
    assert pyproject["project"]["requires-python"] == f">={version}"
    assert pyproject["tool"]["ruff"]["target-version"] == f"py{version.replace('.', '')}"
    assert pyproject["tool"]["mypy"]["python_version"] == version
    assert (root / ".python-version").read_text() == f"{version}\n"
    workflow = yaml.safe_load((root / ".github/workflows/ci.yml").read_text())
    setup_uv = [s for s in workflow["jobs"]["ci"]["steps"] if "setup-uv" in s.get("uses", "")]
    assert setup_uv[0]["with"]["python-version"] == version


def test_license_matches_answer(rendered: tuple[Path, dict[str, str]]) -> None:
    root, answers = rendered
    text = (root / "LICENSE").read_text()
    assert LICENSE_FIRST_LINES[answers["license"]] in text.splitlines()[0] + text
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    if answers["license"] == "Proprietary":
        assert "license" not in pyproject["project"]
    else:
        assert pyproject["project"]["license"] == answers["license"]


def test_problem_type_selects_dataset_and_metric(rendered: tuple[Path, dict[str, str]]) -> None:
    """Without a data set of the user's, problem_type picks the bundled example; its data
    contract, not the template, says the task; the metric is resolved from it at run time."""
    root, answers = rendered
    params = yaml.safe_load((root / "params.yaml").read_text())
    package = yaml.safe_load((root / ".copier-answers.yml").read_text())["package_name"]
    contract = yaml.safe_load((root / "src" / package / "contract.yaml").read_text())
    example, task = {
        "classification": ("breast_cancer", "binary"),
        "regression": ("diabetes", "regression"),
    }[answers["problem_type"]]
    assert params["data"]["source"] == f"bundled:{example}"
    assert params["data"]["raw_path"] == "data/raw/dataset.parquet"
    assert params["data"]["target"] == contract["target"]["name"] == "target"
    assert contract["target"]["task"] == task
    assert params["evaluate"]["primary_metric"] == "auto"


def test_text_hygiene(rendered: tuple[Path, dict[str, str]]) -> None:
    """No trailing spaces, one final newline, no runs of blank lines left by template logic."""
    root, _ = rendered
    problems = []
    for path in sorted(_files(root)):
        text = (root / path).read_text()
        if text and (not text.endswith("\n") or text.endswith("\n\n")):
            problems.append(f"{path}: must end with exactly one newline")
        for n, line in enumerate(text.splitlines(), 1):
            if line != line.rstrip():
                problems.append(f"{path}:{n}: trailing whitespace")
        if "\n\n\n\n" in text or (not path.endswith(".py") and "\n\n\n" in text):
            problems.append(f"{path}: run of blank lines")
    assert problems == []


def test_python_is_ruff_clean(rendered: tuple[Path, dict[str, str]]) -> None:
    root, _ = rendered
    ruff = tool("ruff")
    check = subprocess.run(
        [ruff, "check", "--no-cache", "."], cwd=root, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = subprocess.run(
        [ruff, "format", "--no-cache", "--check", "."], cwd=root, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_derived_names(tmp_path: Path) -> None:
    root = render(tmp_path / "p", project_name="Fraud.Detector  v2")
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert answers["project_slug"] == "fraud-detector-v2"
    assert answers["package_name"] == "fraud_detector_v2"
    assert (root / "src" / "fraud_detector_v2" / "cli.py").is_file()


def test_risk_category_shapes_the_gates(rendered: tuple[Path, dict[str, str]]) -> None:
    root, answers = rendered
    high = answers["risk_category"] == "high"
    makefile = (root / "Makefile").read_text()
    ci_line = next(line for line in makefile.splitlines() if line.startswith("ci:"))
    assert ("model-card-check" in ci_line) is high
    assert ('pytest -m "not slices' in makefile) is not high
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert "serving" not in params  # the prediction store is configured by the environment
    for page in (root / "docs" / "compliance").glob("record-keeping.md"):
        assert "PREDICTION_STORE" in page.read_text()
    inputs = yaml.safe_load((root / "model_card.yaml").read_text())
    assert ("transparency_notice" in inputs) is (answers["risk_category"] == "limited")
    assert (root / "docs" / "compliance").is_dir() is high
    limited = answers["risk_category"] == "limited"
    assert ("Transparency notice" in (root / "README.md").read_text()) is limited
    for service in root.glob("src/*/service.py"):
        assert ("Transparency notice" in service.read_text()) is limited


def test_spark_stays_out_of_make_ci_and_gets_its_own_job(
    rendered: tuple[Path, dict[str, str]],
) -> None:
    """Batch on Spark: the spark extra, marker and targets with batch only; `make ci` neither
    installs pyspark nor runs its tests, a CI job of its own (GitHub or GitLab) runs
    `make spark-test`."""
    root, _ = rendered
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    batch = "batch" in answers["deployment_strategies"]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    extras = pyproject["project"]["optional-dependencies"]
    assert ("spark" in extras) is batch
    markers = pyproject["tool"]["pytest"]["ini_options"]["markers"]
    assert any(marker.startswith("spark:") for marker in markers) is batch
    makefile = (root / "Makefile").read_text()
    assert ("EXTRAS := --all-extras --no-extra spark" in makefile) is batch
    assert "RUN := $(UV) run $(EXTRAS)" in makefile and "$(UV) sync $(EXTRAS)" in makefile
    test_line = next(line for line in makefile.splitlines() if "$(RUN) pytest" in line)
    assert ("not spark" in test_line) is batch
    assert ("\nspark-test:" in makefile) is batch
    assert ("\nspark-predict:" in makefile) is batch
    if batch:
        assert any(dep.startswith("pyspark>=4") for dep in extras["spark"])
        assert "$(UV) run --all-extras pytest -m spark" in makefile
    if answers["ci_provider"] == "github":
        jobs = yaml.safe_load((root / ".github" / "workflows" / "ci.yml").read_text())["jobs"]
        assert ("spark" in jobs) is batch
        if batch:
            runs = [step.get("run") for step in jobs["spark"]["steps"] if step.get("run")]
            assert runs == ["make spark-test"]
            assert jobs["spark"]["permissions"] == {"contents": "read"}
    else:
        jobs = yaml.safe_load((root / ".gitlab" / "ci" / "ci.yml").read_text())
        assert ("spark-test" in jobs) is batch
        if batch:
            script = jobs["spark-test"]["script"]
            assert script[-1] == "make spark-test"
            assert "default-jre-headless" in script[0]


@pytest.mark.parametrize("area", HIGH_RISK_AREAS)
def test_every_high_risk_area_renders(tmp_path: Path, area: str) -> None:
    root = render(tmp_path / "p", risk_category="high", high_risk_area=area)
    assert (
        f"Annex III area `{area}`"
        in (root / "docs/compliance/technical-documentation.md").read_text()
    )
    assert f'HIGH_RISK_AREA = "{area}"' in next(root.glob("src/*/model_card.py")).read_text()


def test_high_risk_area_is_not_asked_below_high(tmp_path: Path) -> None:
    root = render(tmp_path / "p", risk_category="limited")
    assert "high_risk_area" not in yaml.safe_load((root / ".copier-answers.yml").read_text())


def test_prohibited_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Article 5\) bans these practices"):
        render(tmp_path / "p", risk_category="prohibited")
    assert not (tmp_path / "p").exists()


IGNORE = re.compile(r"^\s*#\s*hadolint\s+ignore=([\w,]+)(.*)$")


def unexplained_ignores(text: str) -> list[int]:
    """Line numbers of `# hadolint ignore=` pragmas with no reason written after the rules on
    the same line or in a plain comment on the line above."""
    lines = text.splitlines()
    missing = []
    for number, line in enumerate(lines, 1):
        found = IGNORE.match(line)
        if not found:
            continue
        inline = found[2].strip(" -—:#")
        above = lines[number - 2].strip() if number > 1 else ""
        explained_above = above.startswith("#") and not IGNORE.match(above) and above[1:].strip()
        if not inline and not explained_above:
            missing.append(number)
    return missing


def test_every_dockerfile_is_hadolint_clean(rendered: tuple[Path, dict[str, str]]) -> None:
    root, _ = rendered
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    dockerfiles = [*root.glob("docker/*.Dockerfile"), *root.glob("examples/*/Dockerfile")]
    assert len(dockerfiles) == len(answers["deployment_strategies"])
    result = subprocess.run(
        [tool("hadolint"), *map(str, dockerfiles)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for path in dockerfiles:
        text = path.read_text()
        assert re.search(r"^USER \d+:\d+$", text, re.M), f"{path.name}: numeric non-root USER"
        assert re.search(r'^(ENTRYPOINT|CMD) \["', text, re.M), f"{path.name}: exec form"
        assert "ARG " in text.split("FROM", 1)[0], f"{path.name}: base image as a build argument"
        stages = re.findall(r"^FROM ", text, re.M)
        assert len(stages) >= 2, f"{path.name}: multi-stage (build tools stay out of the image)"
        assert not unexplained_ignores(text), f"{path.name}: a hadolint ignore without a reason"
        if path.name in ("service.Dockerfile", "Dockerfile"):  # the HTTP servers
            assert re.search(r"^HEALTHCHECK .*\S", text, re.M), f"{path.name}: HEALTHCHECK"
        else:  # jobs and a Lambda function: the file says why there is none
            assert "HEALTHCHECK" not in text.replace("# No HEALTHCHECK: ", ""), path.name
            assert re.search(r"^# No HEALTHCHECK: \S.{20,}", text, re.M), f"{path.name}: why"


def test_mypy_checks_the_host_app_when_there_is_one(rendered: tuple[Path, dict[str, str]]) -> None:
    root, _ = rendered
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    files = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    host_app = "model_in_service" in answers["deployment_strategies"]
    assert files == (["src", "examples"] if host_app else ["src"])
    assert (root / "examples" / "host_app" / "app.py").is_file() == host_app


def test_property_based_tests_have_their_tools(rendered: tuple[Path, dict[str, str]]) -> None:
    """Schemathesis where the service's contract is fuzzed, Hypothesis where it or the Lambda
    handler's events are; neither where nothing uses it."""
    root, _ = rendered
    strategies = yaml.safe_load((root / ".copier-answers.yml").read_text())["deployment_strategies"]
    dev = tomllib.loads((root / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    names = {re.split(r"[<>=\[; ]", requirement)[0] for requirement in dev}
    assert ("schemathesis" in names) == ("model_as_service" in strategies)
    assert ("hypothesis" in names) == bool({"model_as_service", "serverless"} & set(strategies))
    if "serverless" in strategies:
        assert "from hypothesis import" in (root / "tests/unit/test_lambda.py").read_text()


def test_a_hadolint_ignore_needs_a_reason() -> None:
    text = (
        "FROM python:3.12-slim AS build\n"
        "# hadolint ignore=DL3008\n"
        "RUN apt-get update\n"
        "# apt's versions move under the pinned base image; its digest is the pin\n"
        "# hadolint ignore=DL3008,DL3009\n"
        "RUN apt-get install -y curl\n"
        "# hadolint ignore=DL3013 -- pip only upgrades itself here\n"
        "RUN pip install --upgrade pip\n"
    )
    assert unexplained_ignores(text) == [2]


def test_hadolint_does_find_problems(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install flask\nCMD python app.py\n")
    result = subprocess.run([tool("hadolint"), str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "DL3006" in result.stdout
