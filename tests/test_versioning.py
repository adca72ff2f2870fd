"""Fast checks of the versioning files: dvc.yaml agrees with params.yaml and the tree, the DVC
remote is outside the work tree, and make ci follows the answers."""

from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT, render


@pytest.fixture(scope="module")
def dvc_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(
        tmp_path_factory.mktemp("dvc") / "project",
        project_name="Lineage Demo",
        deployment_strategies="[batch, edge]",
    )


def _get(tree: dict, dotted: str) -> object:
    for key in dotted.split("."):
        tree = tree[key]
    return tree


def test_dvc_stages_name_real_params_and_paths(dvc_project: Path) -> None:
    stages = yaml.safe_load((dvc_project / "dvc.yaml").read_text())["stages"]
    assert list(stages) == ["data", "train", "evaluate", "export_onnx", "model_card"]
    params = yaml.safe_load((dvc_project / "params.yaml").read_text())
    for name, stage in stages.items():
        for key in stage.get("params", []):
            _get(params, key)  # KeyError if dvc.yaml names a parameter that does not exist
        produced = {
            next(iter(out)) if isinstance(out, dict) else out
            for earlier in stages.values()
            for out in [*earlier.get("outs", []), *earlier.get("metrics", [])]
        }
        for dep in stage.get("deps", []):
            assert (dvc_project / dep).exists() or dep in produced, f"{name}: {dep}"
    assert stages["data"]["outs"] == [params["data"]["raw_path"]]
    assert stages["evaluate"]["metrics"] == [{"reports/metrics.json": {"cache": False}}]


def _imported_modules(package: Path, module: str) -> set[str]:
    """``module`` and every module of ``package`` it imports, transitively."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = ast.parse((package / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == package.name:
                todo += [alias.name for alias in node.names]  # `from pkg import contract`
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(package.name):
                todo.append(node.module.removeprefix(package.name).strip(".") or "__init__")
    return seen


def test_each_stage_depends_on_the_code_it_runs_and_no_other(dvc_project: Path) -> None:
    stages = yaml.safe_load((dvc_project / "dvc.yaml").read_text())["stages"]
    package = dvc_project / "src" / "lineage_demo"
    code = {
        name: {Path(dep).stem for dep in stage["deps"] if dep.startswith("src/")}
        for name, stage in stages.items()
    }
    # train: the modules `train` and `tracking` (which logs the run) import, nothing else, so
    # editing a serving module (batch.py, onnx_runtime.py, ...) retrains nothing.
    assert code["train"] == _imported_modules(package, "train") | _imported_modules(
        package, "tracking"
    )
    serving = {"batch", "edge", "cli", "predict", "store", "onnx_export", "onnx_runtime"}
    assert not code["train"] & serving
    assert "evaluate" in code["evaluate"]
    assert {"onnx_export", "onnx_runtime"} <= code["export_onnx"]
    assert "model_card" in code["model_card"]
    assert code["data"] == _imported_modules(package, "data")


def test_dvc_outputs_stay_out_of_git(dvc_project: Path) -> None:
    ignored = (dvc_project / ".gitignore").read_text().splitlines()
    stages = yaml.safe_load((dvc_project / "dvc.yaml").read_text())["stages"]
    for stage in stages.values():
        for out in stage.get("outs", []):
            path = next(iter(out)) if isinstance(out, dict) else out
            assert any(path.startswith(rule.strip("/")) for rule in ignored if rule.startswith("/"))


def test_dvc_config_is_offline_with_a_remote_outside_the_work_tree(dvc_project: Path) -> None:
    config = configparser.ConfigParser()
    config.read_string((dvc_project / ".dvc" / "config").read_text())
    assert config["core"]["analytics"] == "false"
    assert config["core"]["check_update"] == "false"
    remote = config["'remote \"local\"'"]["url"]  # DVC quotes the section name
    resolved = (dvc_project / ".dvc" / remote).resolve()
    assert resolved == dvc_project.parent / "lineage-demo-dvc-storage"
    assert dvc_project.resolve() not in resolved.parents


@pytest.mark.parametrize(
    ("dvc", "mlflow"), [("dvc", "mlflow"), ("none", "none"), ("dvc", "none"), ("none", "mlflow")]
)
def test_make_ci_and_dependencies_follow_the_answers(tmp_path: Path, dvc: str, mlflow: str) -> None:
    project = render(tmp_path / "p", data_versioning=dvc, experiment_tracking=mlflow)
    makefile = (project / "Makefile").read_text()
    ci = re.search(r"^ci: (.*?) ##", makefile, re.M)[1].split()
    assert ("repro" in ci) == (dvc == "dvc")
    source = "repro" if dvc == "dvc" else "data"
    assert ci.index(source) < ci.index("test"), "the data tests judge the data the pipeline made"
    assert ("train" in ci) == (dvc == "none")
    assert ("promote:" in makefile) == (mlflow == "mlflow")
    pyproject = (project / "pyproject.toml").read_text()
    assert ('"dvc>=' in pyproject) == (dvc == "dvc")
    assert ('tracking = ["mlflow' in pyproject) == (mlflow == "mlflow")
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert ("tracking" in params) == (mlflow == "mlflow")
    assert (project / "dvc.yaml").exists() == (dvc == "dvc")


def test_docs_links_resolve() -> None:
    for page in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name}: {target}"
