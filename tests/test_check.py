"""`mlops-new check`: every finding kind, the exit codes, the JSON document; never a write."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from generator._check import KINDS, check
from generator._profile import load_profile
from generator.cli import app
from tests.conftest import copy_project, tree

runner = CliRunner()
PROTECTED = "protected_files:\n  - .github/workflows/*.yml\n  - docker/*.Dockerfile\n"


@pytest.fixture
def latest(release_projects: dict[str, Path], tmp_path: Path) -> Path:
    """A committed project at the template's latest release (v2.0.0)."""
    return copy_project(release_projects["v2.0.0"], tmp_path / "latest")


@pytest.fixture
def behind(release_projects: dict[str, Path], tmp_path: Path) -> Path:
    """A committed project two releases behind (v1.0.0)."""
    return copy_project(release_projects["v1.0.0"], tmp_path / "behind")


def _profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "acme.yml"
    path.write_text(text)
    return path


def _check(project: Path, *args: str | Path) -> tuple[int, dict]:
    result = runner.invoke(
        app, ["check", str(project), "--format", "json", *map(str, args)], catch_exceptions=False
    )
    return result.exit_code, json.loads(result.stdout)


def _kinds(document: dict) -> list[str]:
    return [f["kind"] for f in document["findings"]]


def test_a_conforming_project(latest: Path, tmp_path: Path, template_releases: Path) -> None:
    profile = _profile(tmp_path, f"template: {template_releases}\nallowed_lag: 0\n{PROTECTED}")
    before = tree(latest)
    code, document = _check(latest, "--profile", profile)
    assert (code, document["findings"]) == (0, [])
    assert document["conforms"] is True
    assert document["status"] == "conforms"
    assert tree(latest) == before, "check wrote something"
    result = runner.invoke(app, ["check", str(latest), "--profile", str(profile)])
    assert result.exit_code == 0
    assert result.stdout.startswith("conforms (template v2.0.0, latest v2.0.0, profile ")


def test_json_document_shape(behind: Path, template_releases: Path) -> None:
    code, document = _check(behind)
    assert code == 2
    assert set(document) == {
        "project",
        "conforms",
        "status",
        "exit_code",
        "source",
        "current",
        "latest",
        "behind",
        "profile",
        "findings",
    }
    assert document["conforms"] is False
    assert document["status"] == "update-available"
    assert document["exit_code"] == 2
    assert (document["current"], document["latest"], document["behind"]) == ("v1.0.0", "v2.0.0", 2)
    assert document["source"] == str(template_releases)
    assert document["profile"] is None
    (finding,) = document["findings"]
    assert set(finding) == {"kind", "message", "path", "severity"}
    assert finding["kind"] == "update-available"
    assert finding["severity"] == "update"
    assert "run `mlops-new update`" in finding["message"]


@pytest.mark.parametrize(
    ("lag", "code", "kind"), [(1, 1, "version-lag"), (2, 2, "update-available")]
)
def test_allowed_lag(behind: Path, tmp_path: Path, lag: int, code: int, kind: str) -> None:
    profile = _profile(tmp_path, f"allowed_lag: {lag}\n")
    got, document = _check(behind, "--profile", profile)
    assert (got, _kinds(document)) == (code, [kind])


def _edit_answers(project: Path, **changes: object) -> None:
    path = project / ".copier-answers.yml"
    answers = yaml.safe_load(path.read_text())
    answers.update(changes)
    path.write_text(yaml.safe_dump(answers))


def _delete_answers(project: Path, tmp_path: Path) -> str:
    (project / ".copier-answers.yml").unlink()
    return ""


def _break_answers(project: Path, tmp_path: Path) -> str:
    (project / ".copier-answers.yml").write_text("_commit: [v1\n")
    return ""


def _foreign_source(project: Path, tmp_path: Path) -> str:
    return "allowed_sources: [https://git.acme.example/platform/mlops-template.git]\n"


def _unreachable_source(project: Path, tmp_path: Path) -> str:
    _edit_answers(project, _src_path=str(tmp_path / "gone"))
    return ""


def _locked(project: Path, tmp_path: Path) -> str:
    _edit_answers(project, cloud="gcp")
    return "locked:\n  cloud: aws\n"


def _disallowed(project: Path, tmp_path: Path) -> str:
    _edit_answers(project, deployment_strategies=["batch", "edge"])
    return "allowed:\n  deployment_strategies: [batch, model_as_service]\n"


def _protected_modified(project: Path, tmp_path: Path) -> str:
    ci = project / ".github" / "workflows" / "ci.yml"
    ci.write_text(ci.read_text() + "# skip the tests for now\n")
    return PROTECTED


def _protected_missing(project: Path, tmp_path: Path) -> str:
    (project / "docker" / "batch.Dockerfile").unlink()
    return PROTECTED


def _conflict_marker(project: Path, tmp_path: Path) -> str:
    params = project / "params.yaml"
    params.write_text("<<<<<<< before updating\nseed: 1\n=======\nseed: 2\n>>>>>>> after\n")
    return ""


def _rej_file(project: Path, tmp_path: Path) -> str:
    (project / "params.yaml.rej").write_text("@@ -1 +1 @@\n-seed: 42\n+seed: 7\n")
    return ""


def _codeowners_missing(project: Path, tmp_path: Path) -> str:
    (project / ".github" / "CODEOWNERS").unlink()
    return ""


def _catalog_missing(project: Path, tmp_path: Path) -> str:
    (project / "catalog-info.yaml").unlink()
    return ""


def _codeowners_stale(project: Path, tmp_path: Path) -> str:
    _edit_answers(project, model_owner="@acme/ml")  # the answer moved on, the file did not
    return ""


def _catalog_stale(project: Path, tmp_path: Path) -> str:
    """An entry `make catalog` wrote for a model of another data contract."""
    catalog = project / "catalog-info.yaml"
    text = catalog.read_text()
    anchor = '    mlops-new.io/data-contract: "src/my_ml_project/contract.yaml"\n'
    assert anchor in text
    catalog.write_text(
        text.replace(anchor, anchor + f'    mlops-new.io/contract-sha256: "{"0" * 64}"\n')
    )
    return ""


@pytest.mark.parametrize(
    ("setup", "kind", "path"),
    [
        (_delete_answers, "answers-missing", ".copier-answers.yml"),
        (_break_answers, "answers-unparseable", ".copier-answers.yml"),
        (_foreign_source, "source-not-allowed", ".copier-answers.yml"),
        (_unreachable_source, "source-unreachable", ".copier-answers.yml"),
        (_locked, "locked-answer", ".copier-answers.yml"),
        (_disallowed, "disallowed-answer", ".copier-answers.yml"),
        (_protected_modified, "protected-modified", ".github/workflows/ci.yml"),
        (_protected_missing, "protected-missing", "docker/batch.Dockerfile"),
        (_conflict_marker, "conflict-marker", "params.yaml"),
        (_rej_file, "rej-file", "params.yaml.rej"),
        (_codeowners_missing, "team-file-missing", ".github/CODEOWNERS"),
        (_catalog_missing, "team-file-missing", "catalog-info.yaml"),
        (_codeowners_stale, "team-file-stale", ".github/CODEOWNERS"),
        (_catalog_stale, "team-file-stale", "catalog-info.yaml"),
    ],
    ids=lambda value: value if isinstance(value, str) and "/" not in value else None,
)
def test_each_violation(latest: Path, tmp_path: Path, setup: object, kind: str, path: str) -> None:
    profile_text = setup(latest, tmp_path)  # type: ignore[operator]
    args = ["--profile", _profile(tmp_path, profile_text)] if profile_text else []
    before = tree(latest)
    code, document = _check(latest, *args)
    assert code == 1, document
    assert _kinds(document) == [kind]
    (finding,) = document["findings"]
    assert finding["path"] == path
    assert finding["severity"] == "violation"
    assert "\n" not in finding["message"]
    assert tree(latest) == before, "check wrote something"


def test_every_kind_is_tested_and_documented() -> None:
    tested = {
        "answers-missing",
        "answers-unparseable",
        "source-not-allowed",
        "source-unreachable",
        "locked-answer",
        "disallowed-answer",
        "protected-modified",
        "protected-missing",
        "conflict-marker",
        "rej-file",
        "team-file-missing",
        "team-file-stale",
        "version-lag",
        "update-available",
    }
    assert set(KINDS) == tested
    guide = (Path(__file__).parents[1] / "docs" / "organisation.md").read_text()
    for kind in KINDS:
        assert f"`{kind}`" in guide, f"{kind} is not explained in docs/organisation.md"


def test_text_output_and_profile_from_the_project(
    behind: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (behind / ".mlops-new").mkdir()
    (behind / ".mlops-new" / "profile.yml").write_text("allowed_lag: 1\n")
    monkeypatch.chdir(behind)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("violation version-lag ")
    assert "2 releases behind v2.0.0, more than the 1 the profile allows" in lines[0]
    assert lines[-1].startswith("violation (template v1.0.0, latest v2.0.0, profile ")
    assert lines[-1].endswith(".mlops-new/profile.yml)")
    monkeypatch.setenv("MLOPS_NEW_PROFILE", str(_profile(tmp_path, "allowed_lag: 5\n")))
    assert runner.invoke(app, ["check"]).exit_code == 2, "the environment wins over the project"


def test_team_files_of_a_catalog_written_by_make_catalog_and_of_an_older_template(
    latest: Path,
) -> None:
    """An entry `make catalog` wrote for the committed contract conforms; a project made before
    the team's files (no role in its answers) is not asked for them."""
    contract = latest / "src" / "my_ml_project" / "contract.yaml"
    sha = hashlib.sha256(contract.read_bytes()).hexdigest()
    catalog = latest / "catalog-info.yaml"
    anchor = '    mlops-new.io/data-contract: "src/my_ml_project/contract.yaml"\n'
    catalog.write_text(
        catalog.read_text().replace(anchor, anchor + f'    mlops-new.io/contract-sha256: "{sha}"\n')
    )
    assert check(latest, profile=None).findings == ()
    contract.write_text(contract.read_text() + "# reviewed\n")
    (finding,) = check(latest, profile=None).findings
    assert finding.kind == "team-file-stale"
    assert "run `make catalog` and commit catalog-info.yaml" in finding.message
    answers = yaml.safe_load((latest / ".copier-answers.yml").read_text())
    for role in ("data_owner", "model_owner", "platform_team"):
        del answers[role]
    (latest / ".copier-answers.yml").write_text(yaml.safe_dump(answers))
    catalog.unlink()
    (latest / ".github" / "CODEOWNERS").unlink()
    assert check(latest, profile=None).findings == ()


def test_library_report(latest: Path) -> None:
    report = check(latest, profile=None)
    assert report.conforms and report.exit_code == 0 and report.findings == ()
    assert report.behind == 0


def test_invalid_profile_is_an_error_not_a_finding(latest: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(latest), "--profile", str(tmp_path / "nope.yml")])
    assert result.exit_code == 7
    assert result.stderr.startswith("error: profile ")
    assert load_profile  # the same loader as create and update
