"""`mlops-new update`: every scenario a team meets when its template moves on, nothing lost.

`template_releases` (conftest) is a git copy of this repository tagged v1.0.0, v1.1.0 and v2.0.0
with real changes between them; each test updates its own copy of a project made at v1.0.0.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from generator._update import update
from generator.cli import app
from generator.errors import DirtyTreeError, PolicyError, UpdateError
from tests.conftest import NOT_TEMPLATE, REPO_ROOT, copy_project, git, render, tree

runner = CliRunner()


@pytest.fixture
def project(release_projects: dict[str, Path], tmp_path: Path) -> Path:
    """A committed project generated at v1.0.0, private to the test."""
    return copy_project(release_projects["v1.0.0"], tmp_path / "project")


def _cli(*args: str | Path) -> object:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _commit(project: Path, message: str = "user change") -> None:
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "--no-verify", "-m", message)


def _fresh(template: Path, tmp_path: Path, tag: str, **answers: object) -> dict[str, bytes]:
    return tree(render(tmp_path / f"fresh-{tag}", template, vcs_ref=tag, **answers))


def _answers(project: Path) -> dict[str, object]:
    return dict(yaml.safe_load((project / ".copier-answers.yml").read_text()))


def test_no_user_changes_equals_a_fresh_copy_at_the_new_tag(
    project: Path, template_releases: Path, tmp_path: Path
) -> None:
    result = update(project, vcs_ref="v1.1.0", trust=True)
    assert (result.from_ref, result.to_ref) == ("v1.0.0", "v1.1.0")
    assert tree(project) == _fresh(template_releases, tmp_path, "v1.1.0")
    assert not result.has_conflicts
    assert ".editorconfig" in result.changed
    assert "CONTRIBUTING.md" in result.added
    assert ".dockerignore" in result.removed
    assert result.renamed == (("docs/index.md", "docs/home.md"),)


def test_update_across_two_releases_at_once(
    project: Path, template_releases: Path, tmp_path: Path
) -> None:
    result = _cli("update", project, "--trust")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "Updated from template v1.0.0 to v2.0.0" in result.stdout  # type: ignore[attr-defined]
    assert tree(project) == _fresh(template_releases, tmp_path, "v2.0.0")
    assert (project / "SECURITY.md").is_file()
    assert (project / "docs" / "home.md").is_file(), "the v1.1.0 migration ran on the way"


def test_user_edit_to_a_file_the_template_did_not_change_is_kept(
    project: Path, template_releases: Path, tmp_path: Path
) -> None:
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOur team's notes.\n")
    _commit(project)
    result = update(project, trust=True)
    assert not result.has_conflicts
    updated, fresh = tree(project), _fresh(template_releases, tmp_path, "v2.0.0")
    assert updated.pop("README.md") == fresh.pop("README.md") + b"\nOur team's notes.\n"
    assert updated == fresh


def test_same_lines_changed_by_user_and_template_conflict_inline(project: Path) -> None:
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("\nseed: 42\n", "\nseed: 1234\n"))
    _commit(project)
    result = _cli("update", project, "--vcs-ref", "v1.1.0", "--trust")
    assert result.exit_code == 10, result.output  # type: ignore[attr-defined]
    assert "conflict  params.yaml" in result.stdout  # type: ignore[attr-defined]
    assert "1 in conflict" in result.stdout or "in conflict" in result.stdout  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    assert err.startswith("error: ") and err.count("\n") == 1, err
    text = params.read_text()
    assert "seed: 1234" in text and "seed: 7" in text, "both versions are kept"
    assert "<<<<<<< before updating" in text and ">>>>>>> after updating" in text
    assert _answers(project)["_commit"] == "v1.1.0"


def test_same_lines_conflict_as_a_rej_file(project: Path) -> None:
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("\nseed: 42\n", "\nseed: 1234\n"))
    _commit(project)
    result = _cli("update", project, "--vcs-ref", "v1.1.0", "--conflict", "rej", "--trust")
    assert result.exit_code == 10, result.output  # type: ignore[attr-defined]
    assert "rejected  params.yaml.rej" in result.stdout  # type: ignore[attr-defined]
    # Both versions are kept: the template's in the file, the user's rejected hunk beside it.
    assert "\nseed: 7\n" in params.read_text()
    assert "+seed: 1234" in (project / "params.yaml.rej").read_text()
    assert not (project / "docs" / "home.md.rej").exists(), "the rename's no-op hunk is dropped"


def test_a_file_the_user_deleted_stays_deleted(project: Path) -> None:
    # LICENSE is unchanged by the template; .editorconfig is changed by v1.1.0 and v2.0.0.
    (project / "LICENSE").unlink()
    (project / ".editorconfig").unlink()
    _commit(project, "we do not want these")
    result = update(project, trust=True)
    assert not (project / "LICENSE").exists()
    assert not (project / ".editorconfig").exists()
    assert not result.has_conflicts


def test_a_file_the_template_deleted_is_removed(project: Path) -> None:
    assert (project / ".dockerignore").is_file()
    result = update(project, vcs_ref="v1.1.0", trust=True)
    assert not (project / ".dockerignore").exists()
    assert ".dockerignore" in result.removed
    # Nothing is lost: the tree was clean, so HEAD still holds the removed file.
    assert git(project, "show", "HEAD:.dockerignore")


def test_a_file_the_template_renamed_moves_with_the_users_edit(project: Path) -> None:
    index = project / "docs" / "index.md"
    index.write_text(index.read_text() + "\nOur own page notes.\n")
    _commit(project)
    result = update(project, vcs_ref="v1.1.0", trust=True)
    home = project / "docs" / "home.md"
    assert not index.exists()
    assert "Our own page notes." in home.read_text(), "the user's edit follows the rename"
    # The rename's new file is also new to the diff, so Copier marks the user's lines for review.
    assert result.conflicts == ("docs/home.md",)


def test_migrations_of_an_untrusted_template_are_refused(project: Path) -> None:
    before = tree(project)
    result = _cli("update", project, "--vcs-ref", "v1.1.0")
    assert result.exit_code == 11, result.output  # type: ignore[attr-defined]
    assert "migrations" in result.stderr and "--trust" in result.stderr  # type: ignore[attr-defined]
    assert tree(project) == before


def test_answer_change_adds_a_strategys_files(project: Path) -> None:
    assert not (project / "docker" / "serverless.Dockerfile").exists()
    result = _cli(
        "update",
        project,
        "--vcs-ref",
        "v1.0.0",
        "--data",
        "deployment_strategies=[batch, model_as_service, serverless]",
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "Re-rendered template v1.0.0" in result.stdout  # type: ignore[attr-defined]
    assert (project / "docker" / "serverless.Dockerfile").is_file()
    handler = project / "src" / "my_ml_project" / "lambda_handler.py"
    assert handler.is_file()
    assert _answers(project)["deployment_strategies"] == ["batch", "model_as_service", "serverless"]
    assert "added     src/my_ml_project/lambda_handler.py" in result.stdout  # type: ignore[attr-defined]
    _commit(project, "serverless")
    again = update(project, vcs_ref="v1.0.0", data={"colour": "blue"})
    assert again.warnings == ("--data colour ignored: not a question of the template at v1.0.0",)
    assert not again.touched


def test_a_dirty_tree_is_refused_and_nothing_is_touched(project: Path) -> None:
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "work in progress\n")
    (project / "scratch.txt").write_text("untracked")
    before = tree(project)
    head = git(project, "rev-parse", "HEAD")
    with pytest.raises(DirtyTreeError, match=r"README\.md, scratch\.txt"):
        update(project, trust=True)
    result = _cli("update", project, "--trust")
    assert result.exit_code == 9
    assert "uncommitted changes (README.md, scratch.txt)" in result.stderr  # type: ignore[attr-defined]
    assert tree(project) == before
    assert git(project, "rev-parse", "HEAD") == head


def test_a_locked_answer_cannot_be_changed_by_update(project: Path, tmp_path: Path) -> None:
    profile = tmp_path / "acme.yml"
    profile.write_text(
        "locked:\n  cloud: aws\nallowed:\n  deployment_strategies: [batch, model_as_service]\n"
    )
    before = tree(project)
    result = _cli("update", project, "--profile", profile, "--data", "cloud=gcp")
    assert result.exit_code == 8, result.output  # type: ignore[attr-defined]
    assert "cloud is locked to 'aws' by the profile, not 'gcp'" in result.stderr  # type: ignore[attr-defined]
    with pytest.raises(PolicyError, match=r"\[serverless\] is not allowed"):
        update(
            project,
            data={"deployment_strategies": "[batch, serverless]"},
            profile=_load(profile),
        )
    assert tree(project) == before


def test_a_template_the_profile_does_not_allow_is_not_updated_from(
    project: Path, tmp_path: Path
) -> None:
    profile = tmp_path / "acme.yml"
    profile.write_text("allowed_sources: [https://git.acme.example/platform/mlops-template.git]\n")
    before = tree(project)
    result = _cli("update", project, "--profile", profile, "--trust")
    assert result.exit_code == 8, result.output  # type: ignore[attr-defined]
    assert "is not allowed by the profile" in result.stderr  # type: ignore[attr-defined]
    assert tree(project) == before


def _load(path: Path) -> object:
    from generator._profile import load_profile

    return load_profile(path)


def test_a_downgrade_is_refused(release_projects: dict[str, Path], tmp_path: Path) -> None:
    project = copy_project(release_projects["v2.0.0"], tmp_path / "at-v2")
    before = tree(project)
    result = _cli("update", project, "--vcs-ref", "v1.1.0", "--trust")
    assert result.exit_code == 11, result.output  # type: ignore[attr-defined]
    assert "downgrade refused: the project is at v2.0.0, v1.1.0 is older" in result.stderr  # type: ignore[attr-defined]
    assert tree(project) == before


def test_a_second_update_with_nothing_new_is_a_no_op(project: Path) -> None:
    update(project, trust=True)
    _commit(project, "template v2.0.0")
    before, head = tree(project), git(project, "rev-parse", "HEAD")
    result = _cli("update", project)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "Already at v2.0.0" in result.stdout  # type: ignore[attr-defined]
    assert update(project, vcs_ref="v2.0.0").up_to_date
    assert tree(project) == before
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "rev-parse", "HEAD") == head


def test_not_a_project_or_not_git(tmp_path: Path, project: Path) -> None:
    result = _cli("update", tmp_path / "nowhere")
    assert result.exit_code == 11
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _cli("update", empty)
    assert result.exit_code == 11
    assert ".copier-answers.yml is missing" in result.stderr  # type: ignore[attr-defined]
    shutil.rmtree(project / ".git")
    with pytest.raises(UpdateError, match="not a git repository"):
        update(project)


#: The commit tagged v0.1.0, the first release (its tag may be missing from a shallow CI clone).
V0_1_0_COMMIT = "83946bb362bec83dd64f025a16b2b1b7912adbde"


@pytest.fixture(scope="module")
def real_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository with its history (v0.1.0) and the working tree committed as v0.2.0."""
    clone = tmp_path_factory.mktemp("history") / "mlops-new"
    git(REPO_ROOT, "clone", "--quiet", "--no-local", str(REPO_ROOT), str(clone))
    for item in clone.iterdir():
        if item.name != ".git":
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    shutil.copytree(REPO_ROOT, clone, ignore=NOT_TEMPLATE, dirs_exist_ok=True)
    git(clone, "add", "-A")
    git(clone, "commit", "--quiet", "--no-verify", "--allow-empty", "-m", "next release")
    if not git(clone, "tag", "--list", "v0.1.0"):  # a clone made without tags
        git(clone, "tag", "v0.1.0", V0_1_0_COMMIT)
    git(clone, "tag", "--force", "v0.2.0")  # the working tree is the release under test
    return clone


@pytest.mark.parametrize(
    ("recorded_cloud", "expected"), [(None, "none"), ("gcp", "gcp")], ids=["v0.1.0", "has-cloud"]
)
def test_the_v0_2_0_migration_keeps_old_projects_off_the_cloud(
    real_history: Path, tmp_path: Path, recorded_cloud: str | None, expected: str
) -> None:
    project = render(tmp_path / "old", real_history, vcs_ref="v0.1.0")
    answers = project / ".copier-answers.yml"
    assert "cloud" not in _answers(project), "v0.1.0 had no cloud question"
    if recorded_cloud:
        answers.write_text(answers.read_text() + f"cloud: {recorded_cloud}\n")
    git(project, "init", "--quiet", "--initial-branch=main")
    _commit(project, "generated at v0.1.0")
    result = update(project, vcs_ref="v0.2.0", trust=True)
    assert not result.has_conflicts, result
    assert _answers(project)["cloud"] == expected
    assert _answers(project)["_commit"] == "v0.2.0"
    cd = (project / ".github" / "workflows" / "cd.yml").read_text()
    assert ("Nothing is deployed from here (cloud: none)" in cd) is (expected == "none")


def _documented_examples() -> list[tuple[list[str], int]]:
    guide = (REPO_ROOT / "docs" / "organisation.md").read_text()
    block = guide.split("\n## Examples\n", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    examples = []
    for line in block.strip().splitlines():
        command, _, comment = line.removeprefix("$ ").partition("  # ")
        expected = re.search(r"exit (\d+)", comment)
        examples.append((shlex.split(command)[1:], int(expected[1]) if expected else 0))
    return examples


def test_documented_examples_run_as_documented(
    template_releases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator._create import create
    from generator._profile import load_profile

    example = (REPO_ROOT / "docs" / "acme-profile.yml").read_text()
    profile = tmp_path / "acme-profile.yml"
    profile.write_text(
        example.replace(
            "https://git.acme.example/platform/mlops-template.git", str(template_releases)
        )
    )
    create(tmp_path / "old-model", vcs_ref="v1.0.0", defaults=True, profile=load_profile(profile))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_NEW_PROFILE", raising=False)
    examples = _documented_examples()
    assert len(examples) >= 7
    for args, code in examples:
        result = runner.invoke(app, args)
        assert result.exit_code == code, (args, result.output)


def test_answer_change_at_the_latest_release_stays_there(
    release_projects: dict[str, Path], tmp_path: Path
) -> None:
    project = copy_project(release_projects["v2.0.0"], tmp_path / "at-v2")
    result = update(project, data={"cloud": "none"})
    assert (result.from_ref, result.to_ref) == ("v2.0.0", "v2.0.0")
    assert _answers(project)["cloud"] == "none"
    assert ".github/workflows/cd.yml" in result.changed
    assert not result.has_conflicts


def test_malformed_data_is_a_one_line_error(project: Path) -> None:
    result = _cli("update", project, "--data", "no-equals-sign")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: --data expects KEY=VALUE")  # type: ignore[attr-defined]


def test_an_update_keeps_the_teams_edits_to_its_conventions(project: Path) -> None:
    """#31: a team's own rule in CODEOWNERS, its own item in the pull request checklist and its
    own choice in an issue form survive an update to the next release that also names the model
    owner: the template's rules for the role are turned on around the team's."""
    github = project / ".github"
    codeowners = github / "CODEOWNERS"
    codeowners.write_text(codeowners.read_text() + "\n# Ours\n/notebooks/ @acme/analysts\n")
    checklist = github / "pull_request_template.md"
    text = checklist.read_text().replace(
        "- [ ] **Rollback plan.**",
        "- [ ] **Privacy.** No personal data in the diff.\n- [ ] **Rollback plan.**",
    )
    checklist.write_text(text)
    form = github / "ISSUE_TEMPLATE" / "retraining.yml"
    form.write_text(
        form.read_text().replace(
            "        - A scheduled refresh\n",
            "        - A scheduled refresh\n        - A regulator asked\n",
        )
    )
    _commit(project, "our conventions")
    result = update(project, data={"model_owner": "@acme/ml"}, trust=True)
    assert not result.has_conflicts, result
    assert {".github/CODEOWNERS", "catalog-info.yaml"} <= set(result.changed)
    rules = codeowners.read_text()
    assert "\n/notebooks/ @acme/analysts\n" in rules
    assert "\n/params.yaml @acme/ml\n/model_card.yaml @acme/ml\n" in rules
    assert "**Privacy.** No personal data in the diff." in checklist.read_text()
    assert "- A regulator asked" in form.read_text()
    entry = list(yaml.safe_load_all((project / "catalog-info.yaml").read_text()))
    assert entry[0]["spec"]["owner"] == "group:ml"


#: The commit that released v0.2.0, the release before the team's files (#31).
V0_2_0_COMMIT = "10949553827368a8062e6922af4da95075af922a"


@pytest.mark.slow
def test_an_update_from_v0_2_0_keeps_a_teams_own_codeowners_and_template(
    tmp_path: Path,
) -> None:
    """A project made at v0.2.0, whose team wrote its own CODEOWNERS and pull request template:
    the update to this release gets every new team file, and shows the team's two files and the
    template's side by side (a conflict to merge), never dropping the team's."""
    clone = tmp_path / "mlops-new"
    git(REPO_ROOT, "clone", "--quiet", "--no-local", str(REPO_ROOT), str(clone))
    for item in clone.iterdir():
        if item.name != ".git":
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    shutil.copytree(REPO_ROOT, clone, ignore=NOT_TEMPLATE, dirs_exist_ok=True)
    git(clone, "add", "-A")  # the working tree as it is (nothing new in a clean checkout)
    git(clone, "commit", "--quiet", "--no-verify", "--allow-empty", "-m", "next release")
    git(clone, "tag", "v0.2.0", V0_2_0_COMMIT)
    git(clone, "tag", "v0.3.0")
    project = render(tmp_path / "old", clone, vcs_ref="v0.2.0")
    assert not (project / "catalog-info.yaml").exists(), "v0.2.0 had no team files"
    ours = {
        ".github/CODEOWNERS": "* @acme/churn-team\n",
        ".github/pull_request_template.md": "## Our checklist\n\n- [ ] Tested on staging\n",
    }
    for name, text in ours.items():
        (project / name).write_text(text)
    git(project, "init", "--quiet", "--initial-branch=main")
    _commit(project, "made at v0.2.0, with our own review files")
    result = update(project, vcs_ref="v0.3.0", trust=True)
    assert set(result.conflicts) == set(ours)
    for name, text in ours.items():
        merged = (project / name).read_text()
        assert text in merged, "the team's version is kept"
        assert "<<<<<<< before updating" in merged and ">>>>>>> after updating" in merged
    assert "\n# /params.yaml @model_owner\n" in (project / ".github/CODEOWNERS").read_text()
    added = set(result.added)
    assert {"catalog-info.yaml", "docs/team.md", ".github/ISSUE_TEMPLATE/drift-alert.yml"} <= added
    assert _answers(project)["model_owner"] == ""
