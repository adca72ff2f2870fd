"""Plain Copier without mlops-new: `copier copy` this repository, then `copier update`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from tests.conftest import git, tool, tree


def _copier(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [tool("copier"), *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_copy_then_update_brings_template_change_and_keeps_user_edit(
    template_clone: Path, tmp_path: Path
) -> None:
    template = tmp_path / "template"
    shutil.copytree(template_clone, template)
    project = tmp_path / "project"

    _copier(
        tmp_path, "copy", "--trust", "--defaults", "--data", "project_name=Plain", template, project
    )
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v1.0.0", "plain copier takes the latest tag"
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "generated")

    # The user edits a file that the next template release does not touch.
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOur team's notes.\n")
    git(project, "commit", "--quiet", "-am", "notes")

    # The template gains a change and a new release tag.
    editorconfig = template / "templates" / ".editorconfig"
    editorconfig.write_text(editorconfig.read_text() + "\n[*.sql]\nindent_size = 2\n")
    git(template, "commit", "--quiet", "-am", "editorconfig: SQL files")
    git(template, "tag", "v1.1.0")

    _copier(project, "update", "--trust", "--defaults")
    assert "[*.sql]" in (project / ".editorconfig").read_text()
    assert readme.read_text().endswith("Our team's notes.\n")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v1.1.0"

    # Apart from the user's edit, the updated project equals a fresh copy at the new tag.
    fresh = tmp_path / "fresh"
    _copier(
        tmp_path, "copy", "--trust", "--defaults", "--data", "project_name=Plain", template, fresh
    )
    updated, expected = tree(project), tree(fresh)
    assert updated.pop("README.md").replace(b"\nOur team's notes.\n", b"") == expected.pop(
        "README.md"
    )
    assert updated == expected
