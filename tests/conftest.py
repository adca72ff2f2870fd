"""Shared helpers for the generator's tests.

Projects are rendered from this repository's working tree (Copier includes uncommitted changes
of a local template), so the suite always tests the template as it is on disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import copier._main
import jinja2
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE = REPO_ROOT / ".cache"
QUESTIONS = (
    "project_name",
    "project_slug",
    "package_name",
    "description",
    "author_name",
    "author_email",
    "github_owner",
    "python_version",
    "license",
    "dataset",
    "target",
    "problem_type",
    "deployment_strategies",
    "experiment_tracking",
    "data_versioning",
    "cloud",
    "ci_provider",
    "risk_category",
    "high_risk_area",
    "data_owner",
    "model_owner",
    "platform_team",
    "catalog_lifecycle",
)

# Commits made by the tests (and by Copier on their behalf) need an identity on any machine.
for _key, _value in {
    "GIT_AUTHOR_NAME": "mlops-new tests",
    "GIT_AUTHOR_EMAIL": "tests@mlops-new.invalid",
    "GIT_COMMITTER_NAME": "mlops-new tests",
    "GIT_COMMITTER_EMAIL": "tests@mlops-new.invalid",
}.items():
    os.environ.setdefault(_key, _value)
os.environ.setdefault("UV_CACHE_DIR", str(CACHE / "uv"))
# Generated projects share mypy's cache: the third-party packages they all import are analysed
# once (a project's own modules are always checked; a changed package's entries are re-checked).
os.environ.setdefault("MYPY_CACHE_DIR", str(CACHE / "mypy"))
# Python writes bytecode as on any user's machine: a machine that sets PYTHONDONTWRITEBYTECODE
# (this one's image does) makes every process a generated project starts compile scikit-learn,
# pandas and MLflow afresh, ~9 s each (`make train` 21 s -> 8 s once the bytecode is written).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
# The dev environment's tools (ruff, uv, node, zizmor, ...) come first on PATH.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def _compile_once(compile: Callable[..., Any]) -> Callable[..., Any]:
    """Jinja's compile, remembered for the whole test process: Copier makes a new environment for
    every render and compiles every file and path of the template again (~40 % of a render's CPU
    time); the same source under the same settings compiles to the same code. The file name is
    left out of the key (Copier loads each render's files from a new clone of the template): it
    only names the file in a traceback, which then shows the first clone's path."""
    compiled: dict[tuple[Any, ...], Any] = {}

    def remembered(
        env: jinja2.Environment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if not isinstance(source, str):  # an AST: compile it as Jinja would
            return compile(env, source, name, filename, raw, defer_init)
        key = (source, name, raw, defer_init, type(env), *_settings(env))
        if key not in compiled:
            compiled[key] = compile(env, source, name, filename, raw, defer_init)
        return compiled[key]

    return remembered


def _settings(env: jinja2.Environment) -> tuple[Any, ...]:
    """Everything of an environment that shapes the code it compiles (Jinja folds a test such as
    ``'mlops_new_dataset' is filter`` into a constant, so the filters' names count)."""
    return (
        tuple(sorted(env.filters)),
        tuple(sorted(env.extensions)),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        env.is_async,
        repr(env.autoescape),
        env.undefined,
        env.finalize,
    )


jinja2.Environment.compile = _compile_once(jinja2.Environment.compile)  # type: ignore[method-assign]
# Copier 9.19 asks git for core.fileMode once per rendered file (~90 processes a render) to fix
# the index when it is false; git init sets it true here, so the answer never changes anything.
copier._main.Worker._sync_git_index_executable_bit = (  # type: ignore[method-assign]
    lambda self, dst_relpath, src_mode: None
)


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stdout (raises on failure)."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def render(
    dest: Path, template: Path | str = REPO_ROOT, vcs_ref: str = "HEAD", **answers: Any
) -> Path:
    """Render the template with default answers overridden by ``answers``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(template), str(dest), data=answers, defaults=True, vcs_ref=vcs_ref, quiet=True
        )
    return dest


@pytest.fixture
def render_project(tmp_path: Path) -> Callable[..., Path]:
    """Render into a fresh folder under tmp_path; call with question answers."""
    counter = iter(range(1000))

    def _render(**answers: Any) -> Path:
        return render(tmp_path / f"project{next(counter)}", **answers)

    return _render


#: What a copy of this repository's working tree leaves out.
NOT_TEMPLATE = shutil.ignore_patterns(".git", ".venv", ".cache", "__pycache__", "demo", "*.pyc")


def working_tree_repository(clone: Path) -> Path:
    """A new git repository at ``clone`` holding this repository's working tree as one commit
    tagged v1.0.0."""
    shutil.copytree(REPO_ROOT, clone, ignore=NOT_TEMPLATE)
    git(clone, "init", "--quiet", "--initial-branch=main")
    git(clone, "add", "-A")
    git(clone, "commit", "--quiet", "--no-verify", "-m", "template v1.0.0")
    git(clone, "tag", "v1.0.0")
    return clone


@pytest.fixture(scope="session")
def template_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding this repository's working tree as one commit tagged v1.0.0."""
    return working_tree_repository(tmp_path_factory.mktemp("template") / "mlops-new")


def fake_gh(folder: Path) -> tuple[Path, Path]:
    """A stand-in for the GitHub CLI at ``folder/bin/gh`` that records its arguments in
    ``folder/gh-calls.txt``; `pr view` fails (no pull request yet) and `issue list` prints
    ``folder/open-issues.txt`` once a test writes it. Returns (calls file, open-issues file)."""
    calls, listing = folder / "gh-calls.txt", folder / "open-issues.txt"
    fake = folder / "bin" / "gh"
    fake.parent.mkdir()
    fake.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n'
        '[ "$1 $2" = "pr view" ] && exit 1\n'
        f'[ "$1 $2" = "issue list" ] && cat {listing} 2>/dev/null\n'
        "exit 0\n"
    )
    fake.chmod(0o755)
    return calls, listing


def one_worker_each(group: str, *params: Any, ids: list[str] | None = None) -> list[Any]:
    """Parameters of a module-scoped fixture that builds a project each: the tests using one
    parameter all run on one worker (`--dist loadgroup`, group ``group-<id>``), so each project
    is built once, not once on every worker that happens to get one of its tests."""
    names = ids or [str(param) for param in params]
    return [
        pytest.param(param, id=name, marks=pytest.mark.xdist_group(f"{group}-{name}"))
        for param, name in zip(params, names, strict=True)
    ]


def tool(name: str) -> str:
    """Path of a test tool installed in the dev environment (fails loudly if missing)."""
    found = shutil.which(name)
    assert found, f"{name} is not installed: run `python3 dev.py test` to set up .venv"
    return found


#: What the template repository of `template_releases` changes in each release after v1.0.0.
RENAME_MIGRATION = """_migrations:
  - version: v1.1.0
    when: "{{ _stage == 'before' }}"
    command: "[ ! -f docs/index.md ] || git mv -f docs/index.md docs/home.md"
"""


@pytest.fixture(scope="session")
def template_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git copy of this repository's working tree with three releases of real changes.

    v1.0.0 is the working tree. v1.1.0 adds lines to `.editorconfig`, changes `seed` in
    `params.yaml`, deletes `.dockerignore`, renames `docs/index.md` to `docs/home.md` (with a
    `_migrations` entry that moves a project's file) and adds `CONTRIBUTING.md`. v2.0.0 changes
    `.editorconfig` again and adds `SECURITY.md`.
    """
    clone = working_tree_repository(tmp_path_factory.mktemp("releases") / "template")

    tpl = clone / "templates"
    editorconfig = tpl / ".editorconfig"
    editorconfig.write_text(editorconfig.read_text() + "\n[*.sql]\nindent_size = 2\n")
    params = tpl / "params.yaml.jinja"
    params.write_text(params.read_text().replace("\nseed: 42\n", "\nseed: 7\n", 1))
    (tpl / ".dockerignore.jinja").unlink()
    (tpl / "docs" / "index.md.jinja").rename(tpl / "docs" / "home.md.jinja")
    (tpl / "CONTRIBUTING.md.jinja").write_text("# Contributing to {{ project_name }}\n")
    config = clone / "copier.yml"
    text = config.read_text()
    if "\n_migrations:\n" in text:
        text = text.replace("\n_migrations:\n", "\n" + RENAME_MIGRATION, 1)
    else:
        text += "\n" + RENAME_MIGRATION
    config.write_text(text)
    git(clone, "add", "-A")
    git(clone, "commit", "--quiet", "--no-verify", "-m", "template v1.1.0")
    git(clone, "tag", "v1.1.0")

    editorconfig.write_text(editorconfig.read_text() + "\n[*.toml]\nindent_size = 4\n")
    (tpl / "SECURITY.md").write_text("# Security\n\nReport vulnerabilities privately.\n")
    git(clone, "add", "-A")
    git(clone, "commit", "--quiet", "--no-verify", "-m", "template v2.0.0")
    git(clone, "tag", "v2.0.0")
    return clone


@pytest.fixture(scope="session")
def release_projects(template_releases: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Committed projects made by `mlops-new create` from `template_releases`, by tag.

    Tests copy them (`copy_project`) instead of rendering again: a render takes a second or two.
    """
    from generator._create import create

    base = tmp_path_factory.mktemp("release-projects")
    return {
        tag: create(
            base / tag, template=str(template_releases), vcs_ref=tag, defaults=True
        ).destination
        for tag in ("v1.0.0", "v2.0.0")
    }


def make_recipes(project: Path) -> str:
    """A generated project's make recipes: the Makefile and the code host's file it includes
    (make/github.mk or make/gitlab.mk)."""
    return "\n".join(
        p.read_text() for p in [project / "Makefile", *sorted((project / "make").glob("*.mk"))]
    )


def copy_project(source: Path, dest: Path) -> Path:
    """A private copy of a generated project, git history included."""
    shutil.copytree(source, dest, symlinks=True)
    return dest


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` outside `.git`, by relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }
