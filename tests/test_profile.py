"""Organisation profiles: schema, one-line errors, and what `create --profile` does with one."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from generator._profile import glob_regex, load_profile, schema, schema_text
from generator.cli import app
from tests.conftest import REPO_ROOT, git

runner = CliRunner()
EXAMPLE = REPO_ROOT / "docs" / "acme-profile.yml"
ACME_URL = "https://git.acme.example/platform/mlops-template.git"


def _invoke(*args: str | Path) -> object:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _answers(project: Path) -> dict[str, object]:
    return dict(yaml.safe_load((project / ".copier-answers.yml").read_text()))


def _one_line_error(result: object, code: int, message: str) -> None:
    assert result.exit_code == code, result.output  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert "Traceback" not in result.output  # type: ignore[attr-defined]


def test_shipped_schema_is_up_to_date() -> None:
    shipped = (REPO_ROOT / "docs" / "profile.schema.json").read_text()
    assert shipped == schema_text(), "run: python -c 'from generator._profile import *; ...'"


def test_example_profile_matches_the_schema() -> None:
    jsonschema.validate(yaml.safe_load(EXAMPLE.read_text()), schema())
    loaded = load_profile(EXAMPLE)
    assert loaded.profile.locked == {
        "license": "Proprietary",
        "cloud": "aws",
        "platform_team": "@acme/ml-platform",
    }


@pytest.fixture
def acme(template_clone: Path, tmp_path: Path) -> Path:
    """The example profile, pointing at a local copy of the template instead of ACME's fork."""
    path = tmp_path / "acme-profile.yml"
    path.write_text(EXAMPLE.read_text().replace(ACME_URL, str(template_clone)))
    return path


def test_create_with_the_example_profile(acme: Path, tmp_path: Path) -> None:
    dest = tmp_path / "churn-model"
    result = _invoke(
        "create", dest, "--profile", acme, "--defaults", "--data", "project_name=Churn Model"
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "Applied profile" in result.stdout  # type: ignore[attr-defined]
    answers = _answers(dest)
    assert answers["license"] == "Proprietary" and answers["cloud"] == "aws"  # locked
    assert answers["author_name"] == "ACME ML Platform"  # a default
    assert answers["python_version"] == "3.12"
    assert answers["_commit"] == "v1.0.0", "the profile's template, at its latest tag"
    # The team's conventions are answers like any other: a locked role, a default one.
    assert answers["platform_team"] == "@acme/ml-platform" and answers["model_owner"] == ""
    codeowners = (dest / ".github" / "CODEOWNERS").read_text()
    assert "\n/deploy/ @acme/ml-platform\n" in codeowners
    assert "\n/src/churn_model/contract.yaml @acme/data-stewards\n" in codeowners
    assert "\n# /params.yaml @model_owner\n" in codeowners
    store = list(yaml.safe_load_all((dest / "catalog-info.yaml").read_text()))[-1]
    assert store["spec"] == {"type": "database", "owner": "group:ml-platform"}
    recorded = dest / ".mlops-new" / "profile.yml"
    assert "profile.yml" in git(dest, "ls-files", ".mlops-new")
    assert load_profile(recorded).profile.locked["cloud"] == "aws"
    # The new project conforms to the profile recorded in it.
    checked = _invoke("check", dest)
    assert checked.exit_code == 0, checked.output  # type: ignore[attr-defined]


def test_user_answers_override_defaults_but_not_locks(acme: Path, tmp_path: Path) -> None:
    dest = tmp_path / "p"
    result = _invoke("create", dest, "--profile", acme, "--defaults", "-d", "python_version=3.13")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert _answers(dest)["python_version"] == "3.13"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("cloud=gcp", "cloud is locked to 'aws' by the profile, not 'gcp'"),
        ("license=MIT", "license is locked to 'Proprietary' by the profile, not 'MIT'"),
        ("python_version=3.11", "python_version: '3.11' is not allowed by the profile"),
        ("deployment_strategies=[batch, edge]", "deployment_strategies: [edge] is not allowed"),
        (
            "platform_team=@acme/someone",
            "platform_team is locked to '@acme/ml-platform' by the profile, not '@acme/someone'",
        ),
        ("catalog_lifecycle=deprecated", "catalog_lifecycle: 'deprecated' is not allowed"),
    ],
)
def test_a_refused_answer_fails_before_anything_is_written(
    acme: Path, tmp_path: Path, data: str, message: str
) -> None:
    before = set(tmp_path.iterdir())
    result = _invoke("create", tmp_path / "p", "--profile", acme, "--defaults", "--data", data)
    _one_line_error(result, 8, message)
    assert set(tmp_path.iterdir()) == before, "the destination was created"


def test_a_template_default_outside_allowed_is_refused(
    template_clone: Path, tmp_path: Path
) -> None:
    profile = tmp_path / "strict.yml"
    profile.write_text("allowed:\n  cloud: [gcp, azure]\n")
    before = set(tmp_path.iterdir())
    result = _invoke("create", tmp_path / "p", "--profile", profile, "--template", template_clone)
    _one_line_error(result, 64, "no terminal")  # usage checked first
    result = _invoke(
        "create", tmp_path / "p", "--profile", profile, "--template", template_clone, "--defaults"
    )
    _one_line_error(result, 8, "cloud: 'aws' is not allowed by the profile (allowed: gcp, azure)")
    assert set(tmp_path.iterdir()) == before


def test_a_template_outside_allowed_sources_is_refused(
    acme: Path, tmp_path: Path, template_releases: Path
) -> None:
    result = _invoke(
        "create", tmp_path / "p", "--profile", acme, "--defaults", "--template", template_releases
    )
    _one_line_error(result, 8, "is not allowed by the profile")
    assert not (tmp_path / "p").exists()


def test_profile_from_the_environment(
    acme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_NEW_PROFILE", str(acme))
    result = _invoke("create", tmp_path / "p", "--defaults", "--data", "cloud=none")
    _one_line_error(result, 8, "cloud is locked to 'aws'")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour: blue\n", "colour: unknown setting; expected one of template, vcs_ref"),
        ("allowed_lag: -1\n", "allowed_lag: Input should be greater than or equal to 0"),
        ("locked: [cloud]\n", "locked: Input should be a valid dictionary"),
        ("allowed:\n  cloud: aws\n", "allowed.cloud: Input should be a valid list"),
        ("defaults: {cloud: [\n", "not valid YAML (line 2)"),
        ("- cloud\n", "expected a mapping of settings, got a list"),
        ("locked: {cloud: gcp}\nallowed: {cloud: [aws]}\n", "locked.cloud: 'gcp' is not among"),
        ("defaults: {cloud: gcp}\nlocked: {cloud: aws}\n", "defaults.cloud contradicts locked"),
        ("protected_files: [/etc/passwd]\n", "must be relative to the project"),
        ("locked: {colour: blue}\n", "locked.colour: the template has no question 'colour'"),
        ("allowed: {cloud: [mars]}\n", "allowed.cloud: 'mars' is not a choice of the template"),
    ],
)
def test_an_invalid_profile_is_one_line(
    template_clone: Path, tmp_path: Path, text: str, message: str
) -> None:
    profile = tmp_path / "bad.yml"
    profile.write_text(text)
    before = set(tmp_path.iterdir())
    result = _invoke(
        "create", tmp_path / "p", "--profile", profile, "--template", template_clone, "--defaults"
    )
    _one_line_error(result, 7, f"profile {profile}: ")
    _one_line_error(result, 7, message)
    assert set(tmp_path.iterdir()) == before


def test_a_missing_profile(tmp_path: Path) -> None:
    result = _invoke("create", tmp_path / "p", "--defaults", "--profile", tmp_path / "none.yml")
    _one_line_error(result, 7, "cannot read it (No such file or directory)")


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("docker/*.Dockerfile", ["docker/batch.Dockerfile"], ["docker/x/y.Dockerfile"]),
        (".github/workflows/cd.yml", [".github/workflows/cd.yml"], [".github/workflows/ci.yml"]),
        ("deploy/**", ["deploy/k8s/base/hpa.yaml"], ["deployment.yaml"]),
        ("**/*.md", ["README.md", "docs/a/b.md"], ["README.mdx"]),
        ("src/?.py", ["src/a.py"], ["src/ab.py"]),
    ],
)
def test_protected_file_patterns(pattern: str, matches: list[str], misses: list[str]) -> None:
    regex = glob_regex(pattern)
    assert all(regex.match(m) for m in matches)
    assert not any(regex.match(m) for m in misses)


def test_schema_is_json() -> None:
    document = json.loads(schema_text())
    assert document["additionalProperties"] is False
    assert set(document["properties"]) == {
        "template",
        "vcs_ref",
        "allowed_sources",
        "defaults",
        "locked",
        "allowed",
        "protected_files",
        "allowed_lag",
    }


def test_locked_multi_select_ignores_order(tmp_path: Path) -> None:
    from generator._profile import policy_violations

    profile = tmp_path / "p.yml"
    profile.write_text("locked:\n  deployment_strategies: [batch, edge]\n")
    loaded = load_profile(profile)
    assert policy_violations(loaded, {"deployment_strategies": "[edge, batch]"}) == []
    (problem,) = policy_violations(loaded, {"deployment_strategies": ["batch"]})
    assert problem[:2] == ("locked-answer", "deployment_strategies")
