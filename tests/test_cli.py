"""`mlops-new` through typer's CliRunner: successes, and every bad input giving one clear line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from generator import __version__
from generator.cli import app
from tests.conftest import git

runner = CliRunner()


def invoke(*args: str | Path, interactive: bool = False) -> object:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result


def create(dest: Path, *args: str | Path) -> object:
    return invoke("create", dest, "--defaults", *args)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mlops-new {__version__}"


def test_no_arguments_shows_help() -> None:
    result = invoke()
    assert "create" in result.output


def test_create_defaults_makes_a_committed_git_project(tmp_path: Path) -> None:
    dest = tmp_path / "churn-model"
    result = create(dest, "--data", "project_name=Churn Model")
    assert result.exit_code == 0, result.output
    assert "Created" in result.stdout
    assert "Initial commit" in result.stdout
    assert (dest / "src" / "churn_model" / "predict.py").is_file()
    assert git(dest, "rev-list", "--count", "HEAD") == "1"
    assert git(dest, "status", "--porcelain") == ""
    assert git(dest, "branch", "--show-current") == "main"
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "Churn Model"
    assert answers["package_name"] == "churn_model"
    assert answers["_commit"]
    assert Path(answers["_src_path"]).is_absolute()
    assert [p.name for p in tmp_path.iterdir()] == ["churn-model"], "staging left behind"


def test_create_no_git(tmp_path: Path) -> None:
    dest = tmp_path / "p"
    result = create(dest, "--no-git")
    assert result.exit_code == 0, result.output
    assert not (dest / ".git").exists()
    assert "--no-git" in result.stdout
    assert (dest / "Makefile").is_file()


def test_create_into_empty_existing_directory(tmp_path: Path) -> None:
    dest = tmp_path / "empty"
    dest.mkdir()
    assert create(dest).exit_code == 0
    assert (dest / ".git").is_dir()


def test_existing_dir_adds_files_and_touches_nothing_else(tmp_path: Path) -> None:
    dest = tmp_path / "work"
    (dest / "notebooks").mkdir(parents=True)
    (dest / "notebooks" / "explore.ipynb").write_text("{}")
    (dest / "notes.txt").write_text("mine")
    before = _snapshot(dest)
    result = create(dest, "--existing-dir")
    assert result.exit_code == 0, result.output
    after = _snapshot(dest)
    assert {k: after[k] for k in before} == before
    assert "Makefile" in after
    tracked = git(dest, "ls-files").splitlines()
    assert "Makefile" in tracked
    assert "notes.txt" not in tracked, "only the generated files are committed"


def test_existing_dir_inside_a_repository_is_left_to_the_user_to_commit(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    dest = tmp_path / "sub"
    dest.mkdir()
    (dest / "keep.txt").write_text("x")
    result = create(dest, "--existing-dir")
    assert result.exit_code == 0, result.output
    assert "review and commit" in result.stdout
    assert not (dest / ".git").exists()


def test_template_and_vcs_ref(template_clone: Path, tmp_path: Path) -> None:
    dest = tmp_path / "p"
    result = create(dest, "--template", template_clone, "--vcs-ref", "v1.0.0")
    assert result.exit_code == 0, result.output
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v1.0.0"
    assert answers["_src_path"] == str(template_clone)


def test_template_from_environment(
    template_clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_NEW_TEMPLATE", str(template_clone))
    dest = tmp_path / "p"
    assert create(dest).exit_code == 0
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(template_clone)
    assert answers["_commit"] == "v1.0.0", "without --vcs-ref Copier takes the latest tag"


def _not_a_git_template(tmp_path: Path) -> Path:
    folder = tmp_path / "plain-template"
    folder.mkdir()
    (folder / "copier.yml").write_text("name: {type: str}\n")
    return folder


def _not_a_template(tmp_path: Path) -> Path:
    folder = tmp_path / "not-a-template"
    folder.mkdir()
    git(folder, "init", "--quiet")
    return folder


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "taken"
    path.write_text("precious")
    return path


BAD_ANSWERS = [
    (["project_name="], 3, "project_name must not be empty"),
    (["project_name=my project!"], 3, "project_name must start with a letter"),
    (["package_name=class"], 3, "is a Python keyword"),
    (["package_name=json"], 3, "shadow the standard-library module"),
    (["package_name=1abc"], 3, "snake_case Python identifier"),
    (["package_name=sklearn"], 3, "shadow a module"),
    (["project_slug=Bad Slug"], 3, "project_slug must be kebab-case"),
    (["author_email=not-an-email"], 3, "author_email must look like an e-mail"),
    (["author_name=" + "x" * 101], 3, "at most 100 characters"),
    (['description=say "hi"'], 3, "without double quotes"),
    (["github_owner=-bad-"], 3, "github_owner must be a GitHub user"),
    (["python_version=3.9"], 3, "Invalid choice for 'python_version'"),
    (["license=GPL"], 3, "Invalid choice for 'license'"),
    (["colour=blue"], 3, "unknown question 'colour'"),
    (["no-equals-sign"], 3, "--data expects KEY=VALUE"),
]


@pytest.mark.parametrize(("data", "code", "message"), BAD_ANSWERS)
def test_bad_answers_are_refused_and_nothing_is_written(
    tmp_path: Path, data: list[str], code: int, message: str
) -> None:
    dest = tmp_path / "p"
    result = create(dest, *[arg for item in data for arg in ("--data", item)])
    _assert_clean_failure(result, code, message)
    assert list(tmp_path.iterdir()) == [], "a failed create left files behind"


@pytest.mark.parametrize(
    ("setup", "extra", "code", "message"),
    [
        (_file, [], 4, "exists and is not a directory"),
        (lambda t: t / "missing-parent" / "p", [], 4, "parent directory"),
        (lambda t: t, [], 4, "is not empty; pass --existing-dir"),
    ],
    ids=["destination-is-a-file", "parent-missing", "destination-not-empty"],
)
def test_bad_destinations(
    tmp_path: Path, setup: object, extra: list[str], code: int, message: str
) -> None:
    (tmp_path / "already-here.txt").write_text("keep me")
    dest = setup(tmp_path)  # type: ignore[operator]
    before = _snapshot(tmp_path)
    result = create(dest, *extra)
    _assert_clean_failure(result, code, message)
    assert _snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {"already-here.txt", *(["taken"] if (tmp_path / "taken").exists() else [])}
    )


def test_existing_dir_never_overwrites(tmp_path: Path) -> None:
    dest = tmp_path / "work"
    dest.mkdir()
    (dest / "Makefile").write_text("all:\n\techo mine\n")
    (dest / "README.md").write_text("my readme")
    before = _snapshot(dest)
    result = create(dest, "--existing-dir")
    _assert_clean_failure(result, 4, "2 file(s) already exist")
    assert _snapshot(dest) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


@pytest.mark.parametrize(
    ("template", "vcs_ref", "code", "message"),
    [
        (lambda t: t / "nowhere", None, 5, "does not exist"),
        (_not_a_git_template, None, 5, "could never be updated"),
        (_not_a_template, None, 5, "not a Copier template"),
        (_file, None, 5, "is a file"),
        (lambda t: None, "no-such-ref", 5, "cannot read template"),
    ],
    ids=["missing", "not-git", "not-copier", "file", "bad-vcs-ref"],
)
def test_bad_templates(
    tmp_path: Path, template: object, vcs_ref: str | None, code: int, message: str
) -> None:
    source = template(tmp_path)  # type: ignore[operator]
    args = [
        *(["--template", source] if source else []),
        *(["--vcs-ref", vcs_ref] if vcs_ref else []),
    ]
    before = set(tmp_path.iterdir())
    result = create(tmp_path / "p", *args)
    _assert_clean_failure(result, code, message)
    assert set(tmp_path.iterdir()) == before


def test_interactive_without_a_terminal_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("create", tmp_path / "p")
    _assert_clean_failure(result, 64, "no terminal to ask questions on")
    assert not (tmp_path / "p").exists()


def _assert_clean_failure(result: object, code: int, message: str) -> None:
    assert result.exit_code == code, result.output  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    assert message in err, err
    assert err.startswith("error: ")
    assert err.count("\n") == 1, f"expected one line, got: {err!r}"
    assert "Traceback" not in result.output  # type: ignore[attr-defined]


def test_git_identity_falls_back_to_the_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no global git identity
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    dest = tmp_path / "p"
    result = create(
        dest, "--data", "author_name=Ada Lovelace", "--data", "author_email=ada@example.org"
    )
    assert result.exit_code == 0, result.output
    assert git(dest, "log", "-1", "--format=%an <%ae>") == "Ada Lovelace <ada@example.org>"
    assert os.environ.get("GIT_AUTHOR_NAME") is None
