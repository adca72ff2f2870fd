"""The team's conventions in a generated project (#31): review templates, CODEOWNERS, issue forms
or description templates, and the catalog entry (catalog-info.yaml) with the command that keeps
it current.

The checks below are helpers: test_workflows.py (GitHub) and test_gitlab.py (GitLab) run them on
the projects they render anyway, so no render of its own is needed here. Catalog entities are
checked by Backstage's own catalog model (@backstage/catalog-model, which dev.py installs with
npm), through tests/tools/backstage-validate.cjs: the policies and kind validators Backstage's
catalog applies when it reads the file.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import CACHE, make_recipes, tool

#: Backstage's catalog model and the script that runs its validators (no network at test time).
BACKSTAGE_MODEL = CACHE / "backstage" / "node_modules" / "@backstage" / "catalog-model"
BACKSTAGE_VALIDATE = Path(__file__).parent / "tools" / "backstage-validate.cjs"
#: A CODEOWNERS owner: @user, @org/team, @group/subgroup/... (includes/validators.jinja).
_PART = r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?"
OWNER = re.compile(rf"^@{_PART}(/{_PART})*\Z")
ROLES = ("data_owner", "model_owner", "platform_team")
ISSUE_FORMS = ("data-quality", "model-behaviour", "retraining", "drift-alert")


def entity_problems(documents: list[Any]) -> list[str]:
    """What Backstage would refuse in these entities (its own policies and kind validators:
    envelope, metadata, names and keys, each kind's spec); also a reference between the entities
    that names none of them."""
    result = subprocess.run(
        [tool("node"), str(BACKSTAGE_VALIDATE), str(BACKSTAGE_MODEL)],
        input=json.dumps(documents, default=str),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    problems: list[str] = json.loads(result.stdout)
    names = {(str(d.get("kind")).lower(), d.get("metadata", {}).get("name")) for d in documents}
    for doc in documents:
        where = f"{doc.get('kind')} {doc.get('metadata', {}).get('name', '?')}"
        spec = doc.get("spec") or {}
        refs = [*spec.get("dependsOn", []), *(f"api:{a}" for a in spec.get("providesApis", []))]
        for ref in refs:
            ref_kind, _, ref_name = ref.partition(":")
            if (ref_kind, ref_name) not in names:
                problems.append(f"{where}: {ref} is not in the file")
    return problems


def codeowners_problems(text: str) -> list[str]:
    """Lines GitHub or GitLab would flag: a rule is a pattern followed by valid owners."""
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        if not owners:
            problems.append(f"{number}: {pattern} has no owner")
        problems += [f"{number}: invalid owner {o!r}" for o in owners if not OWNER.match(o)]
    return problems


def rules(text: str) -> dict[str, list[str]]:
    """The active rules of a CODEOWNERS file: pattern -> owners."""
    found = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, *owners = line.split()
            found[pattern] = owners
    return found


def load_catalog_module(project: Path) -> ModuleType:
    """The project's `catalog.py`, loaded by path (it needs only PyYAML until it asks the
    service for its OpenAPI document)."""
    (path,) = project.glob("src/*/catalog.py")
    name = f"project_{abs(hash(str(project)))}.catalog"  # its package: not importable
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _answers(project: Path) -> dict[str, Any]:
    loaded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _owner_ref(handle: str, fallback: str) -> str:
    """Backstage's name for a handle: @org/team is Group team, @user is User user."""
    if not handle:
        return fallback
    parts = handle[1:].split("/")
    return f"group:{parts[-1]}" if len(parts) > 1 else f"user:{parts[0]}"


def _check_roles(project: Path, codeowners: Path, pipelines: list[str]) -> None:
    answers = _answers(project)
    text = codeowners.read_text()
    assert codeowners_problems(text) == []
    active = rules(text)
    expected = {
        f"/src/{answers['package_name']}/contract.yaml": answers["data_owner"],
        "/params.yaml": answers["model_owner"],
        "/model_card.yaml": answers["model_owner"],
        "/catalog-info.yaml": answers["model_owner"],
        "/deploy/": answers["platform_team"],
        **dict.fromkeys(pipelines, answers["platform_team"]),
    }
    for pattern, owner in expected.items():
        if owner:
            assert active.get(pattern) == [owner], pattern
        else:  # commented out with the role's name, not an invalid rule
            assert pattern not in active, pattern
            assert re.search(rf"^# {re.escape(pattern)} @\w+$", text, re.M), pattern


def check_catalog(project: Path) -> None:
    """The rendered catalog entry is valid for Backstage, matches the answers, and is written
    exactly as the project's `catalog.py` writes it (so `make catalog` only adds to it)."""
    answers = _answers(project)
    text = (project / "catalog-info.yaml").read_text()
    documents = list(yaml.safe_load_all(text))
    assert entity_problems(documents) == []
    kinds = [(d["kind"], d["spec"]["type"]) for d in documents]
    service = "model_as_service" in answers["deployment_strategies"]
    expected_kinds = [
        (
            "Component",
            "library" if answers["deployment_strategies"] == ["model_in_service"] else "service",
        ),
        *([("API", "openapi")] if service else []),
        ("Resource", "ml-model"),
        ("Resource", "database"),
    ]
    assert kinds == expected_kinds
    component = documents[0]
    assert component["spec"]["lifecycle"] == answers["catalog_lifecycle"]
    owner = _owner_ref(answers["model_owner"], f"group:{answers['github_owner'].lower()}")
    assert component["spec"]["owner"] == owner
    assert documents[-1]["spec"]["owner"] == _owner_ref(answers["platform_team"], owner)
    titles = {link["title"] for link in component["metadata"]["links"]}
    assert {"Documentation", "Model card", "Container images"} <= titles
    assert any("Monitoring" in t for t in titles)
    catalog = load_catalog_module(project)
    entry = catalog.parse(text)
    assert catalog.dump(entry) == text, "the template writes what catalog.py writes"
    assert not catalog.generated(entry), "the template's entry waits for make catalog"
    assert catalog.has_api(entry) is service


def fake_model(
    contract_sha256: str = "c" * 64, version: str = "20260101.120000+0123456789ab"
) -> dict[str, Any]:
    return {
        "model_version": version,
        "created_at": "2026-01-01T12:00:00+00:00",
        "problem_type": "binary",
        "target": "target",
        "features": ["mean_radius", "mean_texture"],
        "contract_sha256": contract_sha256,
    }


OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "x", "version": "0.1.0"},
    "paths": {"/predict": {"post": {}}, "/health": {"get": {}}},
    "components": {"schemas": {"Record": {"type": "object"}}},
}


def check_catalog_command(project: Path) -> None:
    """What `make catalog` and `catalog --check` do with a model and an OpenAPI document: the
    entry stays valid, a retrained model is not staleness, a changed contract or API is."""
    catalog = load_catalog_module(project)
    committed = catalog.parse((project / "catalog-info.yaml").read_text())
    openapi = OPENAPI if catalog.has_api(committed) else None
    written = catalog.refresh(committed, fake_model(), openapi)
    text = catalog.dump(written)
    assert text.startswith(committed.header) and committed.header.startswith("# ")
    again = catalog.parse(text)
    assert entity_problems(again.documents) == []
    assert catalog.generated(again)
    assert catalog.differences(again, written) == []
    model = next(d for d in again.documents if d["spec"]["type"] == "ml-model")
    annotations = model["metadata"]["annotations"]
    assert annotations["mlops-new.io/model-version"] == fake_model()["model_version"]
    assert annotations["mlops-new.io/features"] == "mean_radius, mean_texture"
    assert annotations["mlops-new.io/data-contract"].endswith("/contract.yaml"), "kept"
    # A retrained model: a new version, the same contract and API: current.
    retrained = catalog.refresh(again, fake_model(version="20260202.120000+ba9876543210"), openapi)
    assert catalog.differences(again, retrained) == []
    # Another data contract: stale, said in one line.
    other = catalog.refresh(again, fake_model(contract_sha256="d" * 64), openapi)
    (line,) = catalog.differences(again, other)
    assert line.startswith("the model's contract-sha256 is 'ddd")
    if openapi is not None:
        api = next(d for d in again.documents if d["kind"] == "API")
        assert json.loads(api["spec"]["definition"]) == OPENAPI
        changed = {**OPENAPI, "paths": {"/predict": {"post": {}}, "/explain": {"post": {}}}}
        (line,) = catalog.differences(again, catalog.refresh(again, fake_model(), changed))
        assert line == "the API's paths changed: added /explain, removed /health"
        with pytest.raises(ValueError, match="OpenAPI document is needed"):
            catalog.refresh(again, fake_model(), None)


def check_jsonschema(schema: str, *files: Path) -> tuple[int, str]:
    """`check-jsonschema --builtin-schema SCHEMA FILE...`, run in this process (the command's
    start-up is most of its time): its exit code and output."""
    from check_jsonschema.cli.main_command import main

    result = CliRunner().invoke(main, ["--builtin-schema", schema, *map(str, files)])
    return result.exit_code, result.output


def check_team_files_github(project: Path) -> None:
    github = project / ".github"
    forms = [github / "ISSUE_TEMPLATE" / f"{name}.yml" for name in ISSUE_FORMS]
    for schema, files in (
        ("vendor.github-issue-forms", forms),
        ("vendor.github-issue-config", [github / "ISSUE_TEMPLATE" / "config.yml"]),
    ):
        code, output = check_jsonschema(schema, *files)
        assert code == 0, output
    labels = {path.stem: yaml.safe_load(path.read_text())["labels"] for path in forms}
    assert all(len(found) == 1 for found in labels.values())
    _check_drift_alert(project, labels["drift-alert"][0])
    drift = yaml.safe_load((github / "ISSUE_TEMPLATE" / "drift-alert.yml").read_text())
    assert drift["title"] == "Model monitoring: action needed"
    assert "Model monitoring: action needed" in re.sub(r"\s*\\\n\s*", " ", make_recipes(project))
    behaviour = yaml.safe_load((github / "ISSUE_TEMPLATE" / "model-behaviour.yml").read_text())
    required = {
        item["id"] for item in behaviour["body"] if item.get("validations", {}).get("required")
    }
    assert {"model-version", "prediction-id", "record"} <= required
    template = (github / "pull_request_template.md").read_text()
    _check_checklist(project, template)
    _check_roles(
        project, github / "CODEOWNERS", ["Dockerfile", "*.Dockerfile", "/.github/workflows/"]
    )


def check_team_files_gitlab(project: Path) -> None:
    gitlab = project / ".gitlab"
    labels = {}
    for name in ISSUE_FORMS:
        text = (gitlab / "issue_templates" / f"{name}.md").read_text()
        actions = re.findall(r'^/label ~"([^"]+)"$', text, re.M)
        assert len(actions) == 1, name
        labels[name] = actions[0]
    _check_drift_alert(project, labels["drift-alert"])
    _check_checklist(project, (gitlab / "merge_request_templates" / "Default.md").read_text())
    _check_roles(project, gitlab / "CODEOWNERS", ["/.gitlab-ci.yml", "/.gitlab/ci/"])


def _check_drift_alert(project: Path, label: str) -> None:
    """The continuous monitoring's issue carries the drift alert's label."""
    recipes = make_recipes(project)
    assert f"$(call one_issue,{label}," in recipes
    assert label == "model-monitoring"


def _check_checklist(project: Path, text: str) -> None:
    answers = _answers(project)
    for item in ("Data contract", "Model card", "Quality gate and slices", "Risk category",
                 "Monitoring and alerts", "Catalog", "Rollback plan"):  # fmt: skip
        assert f"- [ ] **{item}" in text, item
    assert f"(`{answers['risk_category']}`)" in text
    assert ("human sections of `model_card.yaml`" in text) is (answers["risk_category"] == "high")
    assert "make contract" in text


def check_pre_commit_hooks(project: Path) -> None:
    """The project's own offline hooks that judge any file (conflict markers, `*.rej`, size)
    pass on its team files; ruff (catalog.py) is test_render's, YAML parsing too."""
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    team = [
        path
        for path in project.rglob("*")
        if path.is_file()
        and ".git" not in path.parts
        and (
            "ISSUE_TEMPLATE" in path.parts
            or "issue_templates" in path.parts
            or path.name
            in (
                "CODEOWNERS",
                "catalog-info.yaml",
                "pull_request_template.md",
                "Default.md",
                "team.md",
            )
        )
    ]
    assert len(team) >= 7
    for hook in hooks:
        for path in team:
            name = path.relative_to(project).as_posix()
            if hook["language"] == "pygrep":
                assert not re.search(hook["entry"], path.read_text(), re.M), (hook["id"], name)
            elif hook["language"] == "fail":
                assert not re.search(hook["files"], name), (hook["id"], name)
            elif hook["id"] == "no-large-files":
                assert path.stat().st_size <= 512_000, name


# --- Render-free tests ----------------------------------------------------------------------


def test_the_backstage_checks_find_problems() -> None:
    good = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Resource",
        "metadata": {"name": "m-model", "annotations": {"mlops-new.io/task": "binary"}},
        "spec": {"type": "ml-model", "owner": "group:ml"},
    }
    assert entity_problems([good]) == []
    no_owner = {**good, "spec": {"type": "ml-model"}}
    assert any("required property 'owner'" in p for p in entity_problems([no_owner]))
    bad_name = {**good, "metadata": {"name": "m model-"}}
    assert any('"metadata.name" is not valid' in p for p in entity_problems([bad_name]))
    bad_key = {**good, "metadata": {"name": "m", "annotations": {"Mlops_New/x": "1"}}}
    assert any('"annotations.Mlops_New/x" is not valid' in p for p in entity_problems([bad_key]))
    api = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": {"name": "a"},
        "spec": {"type": "openapi", "lifecycle": "production", "owner": "group:ml"},
    }
    assert any("required property 'definition'" in p for p in entity_problems([api]))
    component = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "c"},
        "spec": {"type": "service", "lifecycle": "x", "owner": "o", "dependsOn": ["resource:gone"]},
        "status": 3,
    }
    problems = entity_problems([component])
    assert "Component c: resource:gone is not in the file" in problems
    assert "Component c: Unknown field status" in problems


def test_the_issue_form_schemas_find_problems(tmp_path: Path) -> None:
    form = tmp_path / "bad.yml"
    form.write_text("name: x\ndescription: y\nbody:\n  - type: textarea\n    id: Bad Id\n")
    code, output = check_jsonschema("vendor.github-issue-forms", form)
    assert code == 1 and "'attributes' is a required property" in output
    config = tmp_path / "config.yml"
    config.write_text("blank_issues_enabled: maybe\n")
    assert check_jsonschema("vendor.github-issue-config", config)[0] == 1


def test_the_codeowners_check_finds_problems() -> None:
    text = "# comment\n/a @acme/ml\n/b\n/c acme\n/d @acme/ml- @jane\n"
    assert codeowners_problems(text) == [
        "3: /b has no owner",
        "4: invalid owner 'acme'",
        "5: invalid owner '@acme/ml-'",
    ]


def test_a_stale_or_missing_entry_is_said_in_one_line(tmp_path: Path) -> None:
    """The catalog module's own errors (make catalog and catalog --check print them)."""
    module = load_catalog_module(_minimal_project(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"catalog-info.yaml is missing: restore it"):
        module.read(tmp_path / "catalog-info.yaml")
    with pytest.raises(ValueError, match="not valid YAML"):
        module.parse("---\nkind: [\n")
    with pytest.raises(ValueError, match="has no Resource of type ml-model"):
        module.generated(module.parse("---\nkind: Component\nmetadata: {name: c}\n"))
    entry = module.parse("---\nkind: API\nmetadata: {name: a}\nspec: {type: openapi}\n")
    assert module.has_api(entry)
    with pytest.raises(ValueError, match="has no model service"):
        module.openapi_document()


def _minimal_project(tmp_path: Path) -> Path:
    """A folder holding the template's catalog.py (a plain file: no rendering needed)."""
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    source = Path(__file__).parents[1] / "templates" / "src" / "{{package_name}}" / "catalog.py"
    (package / "catalog.py").write_text(source.read_text())
    return tmp_path
