"""Defects found by review (#14): Copier's errors translated by type in one adapter, multi-select
answers in the forms people type, a template that fails loudly on an undefined variable, usage
errors that never look like `check`'s "update available", one git module, declared imports."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from copier.errors import CopierError, UnsafeTemplateError
from plumbum import ProcessExecutionError
from typer.testing import CliRunner

from generator import _copier
from generator.cli import app
from generator.errors import InvalidAnswerError, TemplateError, UsageError
from tests.conftest import REPO_ROOT, copy_project, git, tool

runner = CliRunner()
GENERATOR = REPO_ROOT / "generator"


def _create(dest: Path, *args: str) -> object:
    return runner.invoke(
        app, ["create", str(dest), "--defaults", "--no-git", *args], catch_exceptions=False
    )


def _one_line_failure(result: object, code: int, text: str) -> None:
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == code, output  # type: ignore[attr-defined]
    assert output.startswith("error: ") or "\nerror: " in output, output
    error = output[output.index("error: ") :].rstrip("\n")
    assert "\n" not in error, f"not one line: {error!r}"
    assert text in error, error
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("batch", ["batch"]),
        ("batch,edge", ["batch", "edge"]),
        ("batch, edge", ["batch", "edge"]),
        ("[batch, edge]", ["batch", "edge"]),
    ],
)
def test_multi_select_answers_in_the_forms_people_type(
    tmp_path: Path, typed: str, expected: list[str]
) -> None:
    result = _create(tmp_path / "p", "--data", f"deployment_strategies={typed}")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    answers = yaml.safe_load((tmp_path / "p" / ".copier-answers.yml").read_text())
    assert answers["deployment_strategies"] == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("[batch", "'[batch' is not a list"),
        ("nosuch", "'nosuch' is not in"),
        ("batch,nosuch", "'nosuch' is not in"),
        ("", "must name at least one"),
    ],
)
def test_a_bad_multi_select_answer_is_an_invalid_answer(
    tmp_path: Path, typed: str, message: str
) -> None:
    result = _create(tmp_path / "p", "--data", f"deployment_strategies={typed}")
    _one_line_failure(result, InvalidAnswerError.exit_code, message)
    assert not (tmp_path / "p").exists()


def _raise_from_module(module: str, exc: Exception) -> None:
    """Raise ``exc`` from a frame whose module is ``module`` (as Copier's code would)."""
    code = compile("def fail(exc):\n    raise exc\n", f"<{module}>", "exec")
    namespace: dict[str, object] = {"__name__": module}
    exec(code, namespace)
    namespace["fail"](exc)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("module", "raised", "expected"),
    [
        # The questionnaire reports bad answers with plain ValueError/TypeError: invalid answer.
        ("copier._user_data", ValueError("Invalid choice for 'x': 'y'"), InvalidAnswerError),
        ("copier._user_data", TypeError("a brand-new message"), InvalidAnswerError),
        # The same types from anywhere else are template problems, whatever they say.
        ("copier._main", ValueError("Invalid choice for 'x': 'y'"), TemplateError),
        ("copier._template", TypeError("Template not found"), TemplateError),
        # Copier's own types and a failed git command: template problems.
        ("copier._main", CopierError("broken copier.yml"), TemplateError),
        (
            "copier._vcs",
            ProcessExecutionError(["git"], 128, "", "fatal: no such ref"),
            TemplateError,
        ),
        ("copier._main", UnsafeTemplateError(["tasks"]), TemplateError),
    ],
)
def test_copier_errors_are_translated_by_type_and_origin(
    module: str, raised: Exception, expected: type[Exception]
) -> None:
    with (
        pytest.raises(expected) as caught,
        _copier._translated("tpl", TemplateError, "pass --trust"),
    ):
        _raise_from_module(module, raised)
    assert "\n" not in str(caught.value)
    if isinstance(raised, ProcessExecutionError):
        assert str(caught.value) == "cannot read template 'tpl': fatal: no such ref"
    if isinstance(raised, UnsafeTemplateError):
        assert str(caught.value).endswith("; pass --trust")


def test_only_the_adapter_imports_copier_or_plumbum() -> None:
    importers = set()
    for path in GENERATOR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] in {"copier", "plumbum"} for name in names):
                importers.add(path.name)
    assert importers == {"_copier.py"}


def test_loading_a_profile_or_parsing_answers_does_not_import_copier() -> None:
    """Copier takes a while to import: `--help`, `--data` parsing and a profile's rules do
    without it (issue #25)."""
    code = (
        "import sys, generator._answers, generator._profile, generator.errors\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'copier', 'plumbum'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_commands_share_no_private_names() -> None:
    """The command modules (create, update, check) take what they share from the neutral
    modules (_answers, _project, _template, _vcs, errors), never from another command; only the
    CLI calls them."""
    commands = {"_create", "_update", "_check"}
    crossings = []
    for path in GENERATOR.glob("*.py"):
        if path.stem == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported = node.module.rsplit(".", 1)[-1]
                if imported in commands and imported != path.stem:
                    crossings.append(f"{path.name} imports from {imported}")
    assert not crossings, crossings


def test_a_misspelled_template_variable_fails_the_render(tmp_path: Path) -> None:
    template = tmp_path / "template"
    template.mkdir()
    shutil.copy(REPO_ROOT / "copier.yml", template)
    shutil.copytree(REPO_ROOT / "includes", template / "includes")
    (template / "templates").mkdir()
    (template / "templates" / "README.md.jinja").write_text("# {{ project_nmae }}\n")
    git(template, "init", "--quiet")
    git(template, "add", "-A")
    git(template, "commit", "--quiet", "-m", "typo")
    result = _create(tmp_path / "p", "--template", str(template))
    _one_line_failure(result, TemplateError.exit_code, "'project_nmae' is undefined")
    assert "(in templates/README.md.jinja)" in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "p").exists()


def test_the_template_renders_with_strict_undefined() -> None:
    envops = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())["_envops"]
    assert envops["undefined"] == "jinja2.StrictUndefined"  # test_render renders every pair


@pytest.mark.parametrize(
    "args",
    [["check", "--no-such-option"], ["check", "--format", "xml"], ["nosuch"], ["update", "-x"]],
)
def test_usage_errors_exit_64_never_2(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == UsageError.exit_code == 64, result.output


def test_the_conformance_step_fails_on_a_usage_error(
    release_projects: dict[str, Path], tmp_path: Path
) -> None:
    """`make template-check` passes a project with an update available and nothing else."""
    project = copy_project(release_projects["v1.0.0"], tmp_path / "project")
    mlops_new = tool("mlops-new")
    behind = subprocess.run(
        ["make", "template-check", f"MLOPS_NEW={mlops_new}"], cwd=project, capture_output=True
    )
    assert behind.returncode == 0, behind.stdout + behind.stderr  # v2.0.0 exists: exit 2, passes
    typo = subprocess.run(
        ["make", "template-check", f"MLOPS_NEW={mlops_new} check --strict"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert typo.returncode != 0, typo.stdout
    assert "No such option" in typo.stderr
    # Nothing decides by exit code any more: a runner's own exit 2 (uv's usage error) fails too.
    runner_error = subprocess.run(
        ["make", "template-check", "MLOPS_NEW=sh -c 'exit 2' runner"],
        cwd=project,
        capture_output=True,
    )
    assert runner_error.returncode != 0


def test_git_runs_only_in_the_git_module() -> None:
    for path in GENERATOR.glob("*.py"):
        if path.name == "_vcs.py":
            continue
        text = path.read_text()
        assert not re.search(r"""\[\s*["']git["']""", text), f"{path.name} runs git itself"
        assert "import subprocess" not in text, f"{path.name} runs commands itself"


def test_each_definition_once() -> None:
    for name in ("ANSWERS_FILE =", "def one_line(", "def git("):
        defined = [
            p.name
            for p in GENERATOR.glob("*.py")
            if re.search(rf"^{re.escape(name)}", p.read_text(), re.M)
        ]
        assert len(defined) == 1, (name, defined)


def test_every_third_party_import_is_declared() -> None:
    declared = {
        re.split(r"[<>=!\[; ]", dep, maxsplit=1)[0].lower().replace("-", "_")
        for dep in tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
    }
    provided_by = {"yaml": "pyyaml"}
    imported = set()
    for path in GENERATOR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"generator", "__future__"}
    missing = {m for m in third_party if provided_by.get(m, m) not in declared}
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"


@pytest.mark.parametrize(
    ("rule", "typed", "code"),
    [
        ("allowed: {deployment_strategies: [batch, edge]}", "batch,edge", 0),
        ("allowed: {deployment_strategies: [batch, edge]}", "[batch, edge]", 0),
        ("allowed: {deployment_strategies: [batch, edge]}", "batch, model_as_service", 8),
        ("locked: {deployment_strategies: [batch]}", "batch", 0),
        ("locked: {deployment_strategies: [batch]}", "batch,edge", 8),
    ],
)
def test_profile_rules_read_multi_select_answers_in_every_form(
    tmp_path: Path, rule: str, typed: str, code: int
) -> None:
    profile = tmp_path / "profile.yml"
    profile.write_text(rule + "\n")
    result = _create(
        tmp_path / "p", "--profile", str(profile), "--data", f"deployment_strategies={typed}"
    )
    assert result.exit_code == code, result.output  # type: ignore[attr-defined]


def test_a_computed_value_cannot_be_answered(tmp_path: Path) -> None:
    result = _create(tmp_path / "p", "--data", "onnx_export=false")
    _one_line_failure(result, InvalidAnswerError.exit_code, "'onnx_export' is computed")
    assert not (tmp_path / "p").exists()


def test_check_of_a_folder_that_is_no_project_says_so(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("<<<<<<< not a conflict of a project\n")
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "answers-missing" in result.output
    assert "conflict-marker" not in result.output, "a folder that is no project is not scanned"


def test_the_lowest_copier_allowed_runs_the_adapter(tmp_path: Path) -> None:
    """pyproject's lower bound for Copier is real: mlops-new creates a project with it."""
    bound = next(
        dep
        for dep in tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
        if dep.startswith("copier")
    )
    lowest = re.search(r">=([\d.]+)", bound)[1]  # type: ignore[index]
    venv = tmp_path / "venv"
    uv = tool("uv")
    subprocess.run([uv, "venv", "-q", str(venv), "--python", sys.executable], check=True)
    env = {**dict(os.environ), "VIRTUAL_ENV": str(venv)}
    install = subprocess.run(
        [uv, "pip", "install", "-q", "-e", str(REPO_ROOT), f"copier=={lowest}"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    created = subprocess.run(
        [str(venv / "bin" / "mlops-new"), "create", str(tmp_path / "p"), "--defaults", "--no-git",
         "--data", "deployment_strategies=batch"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    refused = subprocess.run(
        [str(venv / "bin" / "mlops-new"), "create", str(tmp_path / "q"), "--defaults",
         "--data", "problem_type=nosuch"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert refused.returncode == InvalidAnswerError.exit_code, refused.stderr
