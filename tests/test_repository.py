"""This repository's own house: its GitHub workflows pass the linters the generated ones pass,
its pre-commit hooks run offline and catch problems, its scripts and task aliases do what they
say, and CONTRIBUTING.md's list of the places a deployment strategy touches is true."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import dev
from tests import test_workflows as workflow_checks
from tests.conftest import REPO_ROOT, fake_gh, git, tool, working_tree_repository

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
CONTRIBUTING = (REPO_ROOT / "CONTRIBUTING.md").read_text()
COPIER = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
STRATEGIES = list(COPIER["deployment_strategies"]["choices"].values())
#: answer -> page name under docs/deployment/, from the template's own list
PAGES = dict(
    re.findall(
        r'\("(\w+)", "[^"]+", "([\w-]+)"\)', (REPO_ROOT / "includes/deployment.jinja").read_text()
    )
)
#: computed answers derived from the strategies (`when: false`, default mentions them)
FLAGS = [
    name
    for name, spec in COPIER.items()
    if isinstance(spec, dict)
    and spec.get("when") is False
    and "deployment_strategies" in str(spec.get("default"))
]


# --- the workflows: the same checks as the generated ones --------------------------------------


def test_workflows_exist() -> None:
    names = {path.name for path in workflow_checks._files(WORKFLOWS)}
    assert names == {"tests.yml", "newest-dependencies.yml", "release.yml", "tables.yml"}


def test_workflows_pass_zizmor_pedantic_offline() -> None:
    result = workflow_checks._zizmor(WORKFLOWS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr
    for path in workflow_checks._files(WORKFLOWS):
        assert f"completed {path}" in result.stderr


def test_workflows_pass_actionlint() -> None:
    result = workflow_checks._actionlint(*workflow_checks._files(WORKFLOWS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 file(s), 0 finding(s)" in result.stdout


def test_workflows_match_the_schema() -> None:
    workflow_checks.test_schema_is_valid(WORKFLOWS)


def test_every_action_is_pinned_to_a_listed_sha_with_allowed_inputs() -> None:
    workflow_checks.test_every_action_is_pinned_to_a_listed_sha_with_allowed_inputs(WORKFLOWS)


def test_workflows_are_least_privilege_and_bounded() -> None:
    workflow_checks.test_structure_is_least_privilege_and_bounded(WORKFLOWS)


def _load(name: str) -> dict[object, object]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    return data


def _job(workflow: dict[object, object], name: str) -> dict[str, object]:
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict)
    job = jobs[name]
    assert isinstance(job, dict)
    return job


def _runs(job: dict[str, object]) -> list[str]:
    steps = job["steps"]
    assert isinstance(steps, list)
    return [step["run"] for step in steps if "run" in step]


def test_tests_run_the_fast_tier_on_every_python_and_the_whole_suite() -> None:
    tests = _load("tests.yml")
    assert set(tests[True]) == {"push", "pull_request"}  # type: ignore[arg-type]
    fast = _job(tests, "fast")
    assert fast["strategy"] == {
        "fail-fast": False,
        "matrix": {"python": ["3.11", "3.12", "3.13"]},
    }
    assert _runs(fast) == ["python3 dev.py lint", "python3 dev.py fast"]
    suite = _job(tests, "suite")
    assert _runs(suite) == [".ci/postgresql", ".ci/run"]
    assert "python3 dev.py test" in (REPO_ROOT / ".ci" / "run").read_text()


def test_newest_dependencies_resolve_afresh_and_report_once() -> None:
    weekly = _load("newest-dependencies.yml")
    assert set(weekly[True]) == {"schedule", "workflow_dispatch"}  # type: ignore[arg-type]
    run = _job(weekly, "generated-projects")
    assert run["env"] == {"UV_RESOLUTION": "highest"}
    assert _runs(run) == [".ci/postgresql", "python3 dev.py slow"]
    text = (WORKFLOWS / "newest-dependencies.yml").read_text()
    assert "actions/cache" not in text and "enable-cache: true" not in text
    report = _job(weekly, "report")
    assert report["needs"] == "generated-projects" and report["if"] == "failure()"
    assert report["permissions"] == {"contents": "read", "issues": "write"}
    assert _runs(report) == [".ci/newest-dependencies-issue"]


def test_tables_run_the_corpus_weekly_in_shards_and_upload_the_report() -> None:
    weekly = _load("tables.yml")
    assert set(weekly[True]) == {"schedule", "workflow_dispatch"}  # type: ignore[arg-type]
    shards = _job(weekly, "tables")
    matrix = shards["strategy"]["matrix"]["shard"]  # type: ignore[index]
    assert matrix == list(range(1, len(matrix) + 1))
    assert shards["permissions"] == {"contents": "read"}
    [run] = _runs(shards)
    assert (
        run == f'python3 dev.py tables --shard "$SHARD/{len(matrix)}" --json "tables-$SHARD.json"'
    )
    report = _job(weekly, "report")
    assert report["needs"] == "tables" and report["if"] == "always()"
    assert report["permissions"] == {"contents": "read"}
    assert _runs(report) == ["python3 dev.py tables --report --merge tables-*.json"]
    steps = report["steps"]
    assert isinstance(steps, list)
    uploads = [s for s in steps if "upload-artifact" in s.get("uses", "")]
    assert [s["with"]["path"] for s in uploads] == ["docs/tables.md"]


def test_release_builds_attests_and_publishes_by_trusted_publishing() -> None:
    release = _load("release.yml")
    assert release[True] == {"push": {"tags": ["v*"]}}
    build, publish = _job(release, "build"), _job(release, "publish")
    assert build["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "attestations": "write",
    }
    assert _runs(build) == ["uv build --no-cache --out-dir dist/", ".ci/check-release-files dist/"]
    steps = build["steps"]
    assert isinstance(steps, list)
    attest = next(s for s in steps if "attest-build-provenance" in s.get("uses", ""))
    assert attest["with"] == {"subject-path": "dist/*"}
    assert publish["needs"] == "build"
    assert publish["environment"] == {"name": "pypi", "url": "https://pypi.org/p/mlops-new"}
    assert publish["permissions"] == {"id-token": "write"}
    assert _runs(publish) == ["uv publish --trusted-publishing always dist/*"]
    text = (WORKFLOWS / "release.yml").read_text()
    assert "secrets." not in text and "password" not in text  # OIDC only, no stored token


# --- the scripts the workflows run -------------------------------------------------------------


def _script(
    name: str, *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO_ROOT / ".ci" / name), *args], capture_output=True, text=True, env=env, cwd=cwd
    )


def test_newest_dependencies_issue_is_opened_once_then_commented(tmp_path: Path) -> None:
    calls, listing = fake_gh(tmp_path)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    assert _script("newest-dependencies-issue", env=env).returncode != 0  # RUN_URL is required
    env["RUN_URL"] = "https://github.com/o/r/actions/runs/1"
    first = _script("newest-dependencies-issue", env=env)
    assert first.returncode == 0, first.stderr
    listing.write_text("17\n")  # now the issue is open
    env["RUN_URL"] = "https://github.com/o/r/actions/runs/2"
    second = _script("newest-dependencies-issue", env=env)
    assert second.returncode == 0, second.stderr
    made = calls.read_text().splitlines()
    assert [line.split()[:2] for line in made] == [
        ["label", "create"],
        ["issue", "list"],
        ["issue", "create"],
        ["label", "create"],
        ["issue", "list"],
        ["issue", "comment"],
    ]
    assert "--label newest-dependencies" in made[2] and "runs/1" in made[2]
    assert made[5].startswith("issue comment 17 ") and "runs/2" in made[5]


def test_release_files_must_carry_the_tag_version(template_clone: Path, tmp_path: Path) -> None:
    """A real `uv build` of a checkout tagged v1.0.0, whose CHANGELOG names v1.0.0, gives what
    the release check expects: the tag's version, and a template bundle with every release."""
    clone = tmp_path / "release"
    shutil.copytree(template_clone, clone)
    changelog = clone / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace("\n## Unreleased\n", "\n## Unreleased\n\n## v1.0.0\n", 1)
    )
    git(clone, "commit", "--quiet", "-am", "release v1.0.0")
    git(clone, "tag", "--force", "v1.0.0")
    for older in ("v0.1.0", "v0.2.0"):  # the CHANGELOG's earlier releases
        git(clone, "tag", older, "HEAD~1")
    dist = tmp_path / "dist"
    built = subprocess.run(
        [tool("uv"), "build", "--quiet", "--out-dir", str(dist)],
        cwd=clone, capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    env = {**os.environ, "GITHUB_REF_NAME": "v1.0.0"}
    ok = _script("check-release-files", str(dist), env=env, cwd=clone)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("template releases: v0.1.0 v0.2.0 v1.0.0")
    wrong = _script(
        "check-release-files", str(dist), env={**env, "GITHUB_REF_NAME": "v1.0.1"}, cwd=clone
    )
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("error: ") and len(wrong.stderr.splitlines()) == 1
    renamed = tmp_path / "renamed"  # a fork shipped as its own package (docs/install.md)
    renamed.mkdir()
    for made in dist.iterdir():
        shutil.copy(made, renamed / made.name.replace("mlops_new-", "acme_mlops_new-"))
    forked = _script("check-release-files", str(renamed), env=env, cwd=clone)
    assert forked.returncode == 0, forked.stderr
    git(clone, "tag", "--delete", "v0.2.0")  # a checkout without all its tags
    untagged = _script("check-release-files", str(dist), env=env, cwd=clone)
    assert untagged.returncode == 1
    assert untagged.stderr == (
        "error: CHANGELOG.md names release(s) v0.2.0 that have no tag in this checkout"
        " (fetch the tags: git fetch --tags)\n"
    )
    git(clone, "tag", "v0.2.0", "HEAD~1")
    git(clone, "tag", "v0.9.0", "HEAD~1")  # an older release the bundle does not hold
    unbundled = _script("check-release-files", str(dist), env=env, cwd=clone)
    assert unbundled.returncode == 1
    assert unbundled.stderr.startswith("error: the wheel's template bundle lacks release tag(s)")
    assert "v0.9.0" in unbundled.stderr and len(unbundled.stderr.splitlines()) == 1
    (dist / "mlops_new-1.0.0-py3-none-any.whl").unlink()
    assert _script("check-release-files", str(dist), env=env, cwd=clone).returncode == 1


# --- pre-commit --------------------------------------------------------------------------------


def test_pre_commit_config_is_valid_and_local() -> None:
    config = REPO_ROOT / ".pre-commit-config.yaml"
    result = subprocess.run(
        [tool("pre-commit"), "validate-config", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    repos = yaml.safe_load(config.read_text())["repos"]
    assert [repo["repo"] for repo in repos] == ["local"]  # nothing to download
    hooks = {hook["id"]: hook for hook in repos[0]["hooks"]}
    expected = {"ruff-check", "ruff-format", "mypy", "workflow-schema", "zizmor", "actionlint"}
    assert expected | {"pinned-actions", "render"} <= set(hooks)
    for hook in hooks.values():
        assert hook["language"] in {"system", "unsupported", "pygrep"}, hook["id"]


def test_pre_commit_hooks_run_offline_and_catch_problems(tmp_path: Path) -> None:
    clone = working_tree_repository(tmp_path / "mlops-new")
    for tools in (".venv", ".cache"):  # the hooks run the tools of this checkout's .venv
        (clone / tools).symlink_to(REPO_ROOT / tools)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [tool("pre-commit"), "run", *args], cwd=clone, env=env, capture_output=True, text=True
        )

    clean = run("--all-files")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    for hook in ("zizmor", "actionlint", "GitHub Actions schema", "pinned", "template renders"):
        assert re.search(rf"{hook}.*Passed", clean.stdout), clean.stdout

    (clone / "generator" / "bad.py").write_text("import os\n")
    (clone / ".github" / "workflows" / "bad.yml").write_text(
        "on: pull_request_target\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ matrix.nope }}\n"
        "    timeout-minutes: many\n"
    )
    git(clone, "add", "generator/bad.py", ".github/workflows/bad.yml")
    dirty = run("--files", "generator/bad.py", ".github/workflows/bad.yml")
    assert dirty.returncode == 1
    for hook in ("ruff check", "GitHub Actions schema", "zizmor", "actionlint", "pinned"):
        assert re.search(rf"{hook}.*Failed", dirty.stdout), dirty.stdout


# --- dev.py task aliases -----------------------------------------------------------------------


def _dev(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "dev.py"), *args], capture_output=True, text=True
    )


def test_dev_usage_lists_every_alias() -> None:
    usage = _dev()
    assert usage.returncode == 2
    for alias in ("demo", "test", "lint", "fast", "slow", "tables"):
        assert f"python3 dev.py {alias}" in usage.stdout
    unknown = _dev("slow", "blockchain")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert unknown.stderr.startswith("error: unknown deployment strategy 'blockchain'")
    assert len(unknown.stderr.splitlines()) == 1


#: Collects `-m slow -k EXPR` for each strategy's expression in one process (one import of the
#: test modules instead of five) and prints each selection after a `== strategy` line.
COLLECT_EACH = """
import pytest, dev
for strategy, expression in dev.SLOW_TESTS.items():
    print("==", strategy, flush=True)
    pytest.main(["-n", "0", "--collect-only", "-q", "-m", "slow", "-k", expression,
                 *dev.SLOW_STRATEGY_FILES])
"""


@pytest.fixture(scope="module")
def slow_selections() -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", COLLECT_EACH], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout and "Interrupted" not in result.stdout, result.stdout
    parts = re.split(r"^== (\w+)$", result.stdout, flags=re.M)[1:]
    return {
        strategy: [line for line in text.splitlines() if "::" in line]
        for strategy, text in zip(parts[::2], parts[1::2], strict=True)
    }


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_slow_alias_selects_every_project_of_one_strategy(
    strategy: str, slow_selections: dict[str, list[str]]
) -> None:
    """`dev.py slow STRATEGY` runs every project of test_generated_ci.py that has the strategy
    (`make ci` and its image's entry command) and the strategy's deployment checks, and nothing
    else."""
    from tests.test_deployments import IMAGE_COMMAND_CHECKS
    from tests.test_generated_ci import CASES, _case_id

    assert set(dev.SLOW_TESTS) == set(STRATEGIES) == set(slow_selections)
    selected = slow_selections[strategy]
    assert all(line.startswith(("tests/test_generated_ci.py", "tests/test_deployments.py"))
               for line in selected), selected  # fmt: skip
    projects = {line.split("[")[1].rstrip("]") for line in selected if "generated_ci" in line}
    assert projects == {_case_id(*case) for case in CASES if strategy in case[1]}, projects
    deployments = {line.split("::")[1].split("[")[0] for line in selected if "deployments" in line}
    assert deployments, f"no deployment checks of {strategy} selected"
    check = IMAGE_COMMAND_CHECKS[strategy]
    if check.__name__ != "<lambda>":
        assert check.__name__ in deployments


# --- CONTRIBUTING.md: the places a deployment strategy touches ---------------------------------


def _places() -> list[tuple[str, bool]]:
    """(place, every strategy?) for each item of CONTRIBUTING.md's strategy list, in order."""
    block = CONTRIBUTING.split("<!-- strategy-places: begin -->", 1)[1]
    block = block.split("<!-- strategy-places: end -->", 1)[0]
    items = re.split(r"^\d+\. ", block.strip(), flags=re.M)[1:]
    places = []
    for item in items:
        place = re.match(r"`([^`]+)`", item)
        marker = re.search(r"\*\((every strategy|if it has one)\)\*\s*$", item)
        assert place and marker, f"not '`PLACE`: what. *(every strategy|if it has one)*': {item}"
        places.append((place[1], marker[1] == "every strategy"))
    return places


def _pattern(place: str, strategy: str | None = None) -> re.Pattern[str]:
    """A place as a regex over repository paths; placeholders match any value unless a strategy
    fixes `<strategy>` and `<page>`."""
    parts = re.split(r"(<strategy>|<page>|<name>|<flag>|\*\*)", place)
    values = {
        "<strategy>": re.escape(strategy) if strategy else r"\w+",
        "<page>": re.escape(PAGES[strategy]) if strategy else r"[\w-]+",
        "<name>": r"[\w.-]+",
        "<flag>": "(?:" + "|".join(FLAGS) + ")",
        "**": r".+",
    }
    return re.compile("".join(values.get(part, re.escape(part)) for part in parts))


def _repository_files() -> list[str]:
    tracked = git(REPO_ROOT, "ls-files", "--cached", "--others", "--exclude-standard")
    return [path for path in tracked.splitlines() if (REPO_ROOT / path).is_file()]


def _mentions(text: str, strategy: str) -> bool:
    names = {strategy, PAGES[strategy]}
    return any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) for name in names)


def test_strategy_places_are_listed_in_order_with_the_right_markers() -> None:
    places = _places()
    assert len(places) == len({place for place, _ in places}), "a place is listed twice"
    assert places[0] == ("copier.yml", True)
    assert "onnx_export" in FLAGS
    assert set(PAGES) == set(STRATEGIES), "includes/deployment.jinja: one page per strategy"


def test_every_listed_place_exists_and_names_every_strategy_where_it_must() -> None:
    files = _repository_files()
    for place, every in _places():
        if every:
            for strategy in STRATEGIES:
                pattern = _pattern(place, strategy)
                matches = [path for path in files if pattern.fullmatch(path)]
                assert matches, f"{place}: nothing for {strategy}"
                if pattern.pattern == re.escape(place):  # one file: it names the strategy
                    text = (REPO_ROOT / place).read_text()
                    assert _mentions(text, strategy), f"{place} does not mention {strategy}"
        else:
            pattern = _pattern(place)
            assert any(pattern.fullmatch(path) for path in files), f"{place}: no such place"


def _depends_on_a_strategy(path: str) -> bool:
    name_condition = re.compile(
        r"\{% if ('\w+' in deployment_strategies|" + "|".join(FLAGS) + r") %\}"
    )
    if name_condition.search(path):
        return True
    text = (REPO_ROOT / path).read_text(errors="replace")
    return "deployment_strategies" in text or "STRATEGY_PAGES" in text


def test_every_template_place_of_a_strategy_is_listed() -> None:
    """A new kind of place (a file whose name or content depends on the strategies) cannot be
    forgotten in the recipe."""
    patterns = [_pattern(place) for place, _ in _places()]
    candidates = [
        path
        for path in _repository_files()
        if path.startswith(("templates/", "includes/")) or path == "copier.yml"
    ]
    dependent = [path for path in candidates if _depends_on_a_strategy(path)]
    assert len(dependent) > 20, dependent
    unlisted = [path for path in dependent if not any(p.fullmatch(path) for p in patterns)]
    assert not unlisted, f"add these to CONTRIBUTING.md's strategy places: {unlisted}"


def test_the_place_checks_would_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above are not vacuous: a recipe without the Dockerfile item, or claiming a
    place names every strategy when it does not, fails; a place that does not exist matches
    nothing, a place of one strategy matches its file alone, and a mention is a whole name."""
    dockerfile_item = re.compile(r"^\d+\. `templates/docker/.*?\*\n", flags=re.M | re.S)
    assert dockerfile_item.search(CONTRIBUTING)
    this = sys.modules[__name__]
    monkeypatch.setattr(this, "CONTRIBUTING", dockerfile_item.sub("", CONTRIBUTING))
    with pytest.raises(AssertionError, match=r"batch\.Dockerfile"):
        test_every_template_place_of_a_strategy_is_listed()
    cd_item = "`docs/workflows/cd.md`: its image and deployment."
    claimed = CONTRIBUTING.replace(f"{cd_item} *(if it has one)*", f"{cd_item} *(every strategy)*")
    assert claimed != CONTRIBUTING
    monkeypatch.setattr(this, "CONTRIBUTING", claimed)
    with pytest.raises(
        AssertionError, match=r"docs/workflows/cd\.md does not mention model_in_service"
    ):
        test_every_listed_place_exists_and_names_every_strategy_where_it_must()
    monkeypatch.undo()
    files = _repository_files()
    missing = _pattern("templates/docker/{% if '<strategy>' in deployment_strategies %}<page>.md")
    assert not any(missing.fullmatch(path) for path in files)
    page = _pattern(
        "templates/docs/deployment/{% if '<strategy>' in deployment_strategies %}<page>.md"
        "{% endif %}.jinja",
        "serverless",
    )
    assert [path for path in files if page.fullmatch(path)] == [
        "templates/docs/deployment/{% if 'serverless' in deployment_strategies %}"
        "serverless.md{% endif %}.jinja"
    ]
    assert not _mentions("a model-as-service page and the edge_case", "edge")
    assert _mentions("a model-as-service page", "model_as_service")
    assert _depends_on_a_strategy("templates/Makefile.jinja")
    assert not _depends_on_a_strategy("templates/.editorconfig")


def test_every_file_and_name_contributing_cites_exists() -> None:
    """The recipes name real files, tests and constants (no stale reference after a rename)."""
    spans = set(re.findall(r"`([^`\n]+)`", CONTRIBUTING))
    roots = [REPO_ROOT, WORKFLOWS, REPO_ROOT / "tests", REPO_ROOT / "templates"]
    paths = {
        span
        for span in spans
        if re.fullmatch(r"[\w.-]*[\w-]/[\w./-]*|[\w.-]+\.(md|yml|yaml|py|jinja|json)", span)
        and not span.startswith("../")
    }
    assert {"copier.yml", "tests/test_update.py", ".ci/check-release-files"} <= paths
    for span in paths:
        assert any((root / span).exists() for root in roots), f"CONTRIBUTING.md: {span} is gone"
    tests_code = "\n".join(path.read_text() for path in (REPO_ROOT / "tests").glob("test_*.py"))
    for name in {span for span in spans if re.fullmatch(r"(test_|real_)\w+", span)}:
        if not name.endswith(".py") and "<" not in name:
            assert re.search(rf"^def {name}\b", tests_code, flags=re.M), name
    places = CONTRIBUTING.split("<!-- strategy-places: begin -->", 1)[1]
    for place, _ in _places():  # constants named in an item are defined in its file
        if not (REPO_ROOT / place).is_file():
            continue
        block = places.split(f"`{place}`", 1)[1].split(")*", 1)[0]
        for constant in re.findall(r"`([A-Z][A-Z_]+)\b", block):
            text = (REPO_ROOT / place).read_text()
            assert re.search(rf"\b{constant}\b\s*(:[^=\n]*)?=", text), f"{place}: {constant}"
