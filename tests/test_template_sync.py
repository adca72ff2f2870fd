"""The generated project's `make template-check` and `make template-sync`, as ci.yml and
template-sync.yml run them: mlops-new from this checkout, a local origin, and a stand-in for the
GitHub CLI that records what it was asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_project, fake_gh, git

MLOPS_NEW = str(Path(sys.executable).parent / "mlops-new")


@pytest.fixture
def project(release_projects: dict[str, Path], tmp_path: Path) -> Path:
    """A committed v1.0.0 project with a bare origin to push to."""
    root = copy_project(release_projects["v1.0.0"], tmp_path / "project")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(root, "remote", "add", "origin", str(origin))
    return root


@pytest.fixture
def gh(tmp_path: Path) -> tuple[Path, Path]:
    """The fake `gh` of conftest.fake_gh: (calls file, open-issues file)."""
    return fake_gh(tmp_path)


def _make(project: Path, target: str, gh_bin: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    if gh_bin is not None:
        env["PATH"] = f"{gh_bin}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        ["make", target, f"MLOPS_NEW={MLOPS_NEW}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )


def test_template_check_tolerates_an_available_update_but_not_a_violation(project: Path) -> None:
    behind = _make(project, "template-check")
    assert behind.returncode == 0, behind.stdout + behind.stderr
    assert "update" in (behind.stdout + behind.stderr).lower()
    readme = project / "README.md"
    readme.write_text("<<<<<<< before\nmine\n=======\ntheirs\n>>>>>>> after\n")
    git(project, "commit", "-q", "-am", "an unresolved conflict")
    broken = _make(project, "template-check")
    assert broken.returncode != 0
    assert "README.md" in broken.stdout + broken.stderr


def test_template_sync_opens_one_pull_request(project: Path, gh: tuple[Path, Path]) -> None:
    calls, _ = gh
    result = _make(project, "template-sync", calls.parent / "bin")
    assert result.returncode == 0, result.stdout + result.stderr
    pushed = subprocess.run(
        ["git", "--git-dir", str(project.parent / "origin.git"), "show", "--stat",
         "--format=%s", "template/update"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert pushed.startswith("Update from the project template")
    assert "SECURITY.md" in pushed and "CONTRIBUTING.md" in pushed  # v1.1.0 and v2.0.0 at once
    recorded = calls.read_text()
    assert "pr create --head template/update" in recorded
    assert "--body-file reports/template-update.md" in recorded
    assert "v2.0.0" in (project / "reports" / "template-update.md").read_text()


def test_template_sync_at_the_latest_release_does_nothing(
    release_projects: dict[str, Path], tmp_path: Path, gh: tuple[Path, Path]
) -> None:
    calls, _ = gh
    project = copy_project(release_projects["v2.0.0"], tmp_path / "latest")
    result = _make(project, "template-sync", calls.parent / "bin")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no pull request" in result.stdout
    assert not calls.exists()  # gh was never called
    assert git(project, "status", "--porcelain", "--", ".", ":!reports") == ""


def test_template_sync_with_conflicts_opens_then_comments_on_one_issue(
    project: Path, gh: tuple[Path, Path]
) -> None:
    calls, listing = gh
    editorconfig = project / ".editorconfig"  # the template appends to it in v1.1.0 and v2.0.0
    editorconfig.write_text(editorconfig.read_text() + "\n[*.sql]\nindent_size = 8\n")
    git(project, "commit", "-q", "-am", "our own SQL style")
    for _ in range(2):
        result = _make(project, "template-sync", calls.parent / "bin")
        assert result.returncode == 0, result.stdout + result.stderr  # a person is told
        git(project, "reset", "-q", "--hard")
        git(project, "clean", "-qfd", "--exclude=reports")
        listing.write_text("12\n")  # from now on the issue exists
    recorded = calls.read_text().splitlines()
    creates = [c for c in recorded if c.startswith("issue create")]
    assert len(creates) == 1 and "--label template-update" in creates[0]
    assert "issue comment 12 --body-file reports/template-update.md" in recorded
    assert not any(c.startswith("pr create") for c in recorded)


@pytest.mark.parametrize(
    ("name", "content", "hook"),
    [
        (
            "notes.md",
            "<<<<<<< before\nmine\n=======\ntheirs\n>>>>>>> after\n",
            "no-conflict-markers",
        ),
        ("Makefile.rej", "@@ -1 +1 @@\n-old\n+new\n", "no-rej-files"),
    ],
    ids=["conflict-markers", "rej-file"],
)
def test_pre_commit_blocks_what_an_unresolved_update_leaves(
    release_projects: dict[str, Path], tmp_path: Path, name: str, content: str, hook: str
) -> None:
    """The generated pre-commit hooks are local (no download) and refuse conflict leftovers."""
    project = copy_project(release_projects["v2.0.0"], tmp_path / "project")
    (project / name).write_text(content)
    (project / "clean.md").write_text("# Nothing to resolve\n\n=======\n")  # a setext rule is fine
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache")}
    command = [str(Path(sys.executable).parent / "pre-commit"), "run", hook, "--files"]
    blocked = subprocess.run([*command, name], cwd=project, env=env, capture_output=True, text=True)
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert name in blocked.stdout
    passed = subprocess.run(
        [*command, "clean.md"], cwd=project, env=env, capture_output=True, text=True
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
