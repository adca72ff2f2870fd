"""Where the template comes from, interactive questions, and updating a CLI-made project."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pexpect
import pytest
import yaml

from generator import _template
from generator._template import DEFAULT_TEMPLATE_URL, release_ref, resolve_template
from tests.conftest import REPO_ROOT, git, tool


def test_bundled_checkout_is_the_default_at_head(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_NEW_TEMPLATE", raising=False)
    source = resolve_template(None, None)
    assert source.src == str(REPO_ROOT)
    assert source.vcs_ref == "HEAD"


def test_installed_without_checkout_uses_the_git_url_at_the_release_tag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pip-installed mlops-new must still produce updatable projects: it renders from git."""
    monkeypatch.delenv("MLOPS_NEW_TEMPLATE", raising=False)
    monkeypatch.setattr(_template, "bundled_template", lambda: None)
    monkeypatch.setattr(_template, "__version__", "0.3.1")
    monkeypatch.setattr(_template, "release_ref", lambda version="0.3.1": release_ref(version))
    source = resolve_template(None, None)
    assert source.src == DEFAULT_TEMPLATE_URL
    assert source.vcs_ref == "v0.3.1"
    assert resolve_template(None, "main").vcs_ref == "main"


@pytest.mark.parametrize(
    ("version", "ref"),
    [("0.1.0", "v0.1.0"), ("1.2.3", "v1.2.3"), ("0.1.1.dev3+gabc", None), ("0+unknown", None)],
)
def test_release_ref(version: str, ref: str | None) -> None:
    assert release_ref(version) == ref


def test_git_url_is_passed_through() -> None:
    source = resolve_template("https://example.org/org/template.git", "v2.0.0")
    assert (source.src, source.vcs_ref, source.local_path) == (
        "https://example.org/org/template.git",
        "v2.0.0",
        None,
    )


def test_interactive_questions_in_a_terminal(tmp_path: Path) -> None:
    """Without --defaults, questions are asked; Enter takes each default."""
    dest = tmp_path / "asked"
    child = pexpect.spawn(
        tool("mlops-new"), ["create", str(dest)], encoding="utf-8", timeout=60,
        dimensions=(40, 120),
        # No waiting for the cursor-position answer a pseudo-terminal never sends (1 s a question).
        env={**os.environ, "PROMPT_TOOLKIT_NO_CPR": "1"},
    )  # fmt: skip
    child.expect("Human-readable name of the project")
    child.send("\x15")  # Ctrl-U clears the pre-filled default
    child.sendline("Asked Model")
    copier_yml = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    for name, spec in copier_yml.items():  # the other questions asked by default: press Enter
        # high_risk_area: only for high risk; target: only with a dataset (both default to none).
        if name.startswith("_") or name in ("project_name", "high_risk_area", "target"):
            continue
        if spec.get("when") is False:  # computed, never asked
            continue
        child.expect(re.escape(spec["help"]))
        child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "Asked Model"
    assert answers["package_name"] == "asked_model"


def test_cli_project_is_updatable_from_day_one(template_clone: Path, tmp_path: Path) -> None:
    template = tmp_path / "template"
    shutil.copytree(template_clone, template)
    project = tmp_path / "project"
    created = subprocess.run(
        [tool("mlops-new"), "create", str(project), "--defaults", "--template", str(template)],
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    gitignore = template / "templates" / ".gitignore.jinja"
    gitignore.write_text(
        gitignore.read_text() + "\n# Notebooks' checkpoints\n.ipynb_checkpoints/\n"
    )
    git(template, "commit", "--quiet", "-am", "ignore notebook checkpoints")
    git(template, "tag", "v1.1.0")

    updated = subprocess.run(
        [tool("copier"), "update", "--defaults", "--trust"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert updated.returncode == 0, updated.stderr
    assert ".ipynb_checkpoints/" in (project / ".gitignore").read_text()
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v1.1.0"
