"""mlops-new installed like a tool: the wheel carries its template's releases (a git bundle), so
create, update and check work from an installed wheel with no network for git.

The fast tests use a bundle made by hatch_build.py from a temporary template repository; the slow
ones build two releases' wheels from a temporary copy of this repository (v1.0.0 and v1.1.0),
install each into a fresh virtual environment and run them from outside this checkout with git's
network disabled (only the file protocol, a proxy that does not exist).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from generator import _template
from generator._template import DEFAULT_TEMPLATE_URL
from tests.conftest import REPO_ROOT, git, tool, working_tree_repository

#: Wheel size goal of issue #13.
MAX_WHEEL_BYTES = 2_000_000
#: What the v1.1.0 release of the temporary copy adds to the template.
SECURITY = "# Security\n\nReport vulnerabilities privately.\n"


def _hatch_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hatch_build", REPO_ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hatch_build = _hatch_build()


def _answers(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def _release(clone: Path, version: str) -> None:
    """Make CHANGELOG.md of ``clone`` name ``version`` as its top release, commit and tag it."""
    changelog = clone / "CHANGELOG.md"
    text = changelog.read_text()
    head, _, rest = text.partition("\n## ")
    changelog.write_text(
        f"{head}\n## Unreleased\n\n## v{version}\n\n- release {version}\n\n## {rest}"
    )
    git(clone, "add", "-A")
    git(clone, "commit", "--quiet", "--no-verify", "-m", f"release {version}")
    git(clone, "tag", f"v{version}")


# --- the version ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changelog", "version"),
    [
        ("# Changelog\n\n## Unreleased\n\n## v1.2.0\n\n- a\n\n## v1.1.0\n", "1.2.0"),
        ("# Changelog\n\n## Unreleased\n\n- next\n\n## v1.2.0\n\n- a\n", "1.2.1.dev0"),
        ("# Changelog\n\n## v2.0.0rc1\n\n- a\n", "2.0.0rc1"),
        ("# Changelog\n\n## Unreleased\n\n- b\n\n## v2.0.0rc1\n", "2.0.0rc1.post0.dev0"),
    ],
    ids=["released", "unreleased-entries", "pre-release", "after-a-pre-release"],
)
def test_the_version_is_the_changelogs(tmp_path: Path, changelog: str, version: str) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_text(changelog)
    assert hatch_build.changelog_version(path) == version


def test_a_changelog_without_a_release_heading_does_not_build(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_text("# Changelog\n\n## Unreleased\n\n- a\n")
    with pytest.raises(ValueError, match="no release heading"):
        hatch_build.changelog_version(path)


# --- the bundle, used in place of the canonical URL (fast) ----------------------------------------


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this repository's working tree released as v1.0.0 and then v1.1.0 (which adds
    SECURITY.md to the template)."""
    clone = working_tree_repository(tmp_path_factory.mktemp("install") / "mlops-new")
    git(clone, "tag", "--delete", "v1.0.0")
    _release(clone, "1.0.0")
    (clone / "templates" / "SECURITY.md").write_text(SECURITY)
    _release(clone, "1.1.0")
    return clone


@pytest.fixture
def installed(two_releases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process made to behave like an installed wheel of v1.1.0: no checkout, a bundle."""
    bundle = tmp_path / "template.bundle"
    tags = hatch_build.make_bundle(two_releases, "1.1.0", bundle)
    assert tags == ["v1.0.0", "v1.1.0"]
    monkeypatch.setattr(_template, "BUNDLE", bundle)
    monkeypatch.setattr(_template, "bundled_template", lambda: None)
    monkeypatch.setattr(_template, "__version__", "1.1.0")
    monkeypatch.delenv("MLOPS_NEW_TEMPLATE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file")
    return bundle


def test_the_bundle_holds_only_the_template(installed: Path, tmp_path: Path) -> None:
    clone = tmp_path / "unbundled"
    git(tmp_path, "clone", "--quiet", str(installed), str(clone))
    git(clone, "checkout", "--quiet", "v1.0.0")
    assert sorted(p.name for p in clone.iterdir() if p.name != ".git") == [
        "copier.yml",
        "includes",
        "templates",
    ]
    assert not (clone / "templates" / "SECURITY.md").exists()
    git(clone, "checkout", "--quiet", "v1.1.0")
    assert (clone / "templates" / "SECURITY.md").read_text() == SECURITY


def test_the_canonical_url_reads_the_bundle(installed: Path) -> None:
    from generator._project import release_tags

    assert [ref for _, ref in release_tags(DEFAULT_TEMPLATE_URL)] == ["v1.0.0", "v1.1.0"]
    assert [ref for _, ref in release_tags(DEFAULT_TEMPLATE_URL.removesuffix(".git"))] == [
        "v1.0.0",
        "v1.1.0",
    ]
    assert _template.git_environment("https://example.org/acme/template.git") == {}
    assert "GIT_CONFIG_COUNT" not in os.environ  # set only for the git processes


def test_rewrites_come_after_the_users_own_git_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from generator._vcs import config_variables

    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    assert config_variables([("a.b", "c")]) == {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_1": "a.b",
        "GIT_CONFIG_VALUE_1": "c",
    }


def test_create_records_the_canonical_home_and_the_release_tag(
    installed: Path, tmp_path: Path
) -> None:
    from generator._check import check
    from generator._create import create

    project = create(tmp_path / "made", defaults=True).destination
    answers = _answers(project)
    assert (answers["_src_path"], answers["_commit"]) == (DEFAULT_TEMPLATE_URL, "v1.1.0")
    assert (project / "SECURITY.md").read_text() == SECURITY
    report = check(project)
    assert (report.status, report.latest) == ("conforms", "v1.1.0"), report.findings
    older = create(tmp_path / "older", defaults=True, vcs_ref="v1.0.0").destination
    assert check(older).exit_code == 2


def test_a_project_newer_than_the_installed_releases_is_told_to_upgrade(
    installed: Path, two_releases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator._create import create
    from generator._update import update

    project = create(tmp_path / "made", defaults=True).destination  # at v1.1.0
    older = tmp_path / "older.bundle"
    assert hatch_build.make_bundle(two_releases, "1.0.0", older) == ["v1.0.0"]
    monkeypatch.setattr(_template, "BUNDLE", older)  # a colleague's mlops-new 1.0.0
    result = update(project)
    assert result.up_to_date
    assert result.warnings == (
        "the project is at a newer template release than the newest this mlops-new carries"
        " (v1.0.0); upgrade mlops-new (uv tool upgrade mlops-new) to update it",
    )


def test_the_canonical_url_without_a_ref_reads_the_bundles_head(
    installed: Path, two_releases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a ref and without a final release tag (a development build made from a checkout
    without tags), Copier checks out HEAD: the bundle's HEAD is the version it was built as."""
    from generator._create import create

    dev = tmp_path / "dev.bundle"
    assert hatch_build.make_bundle(two_releases, "1.0.0.dev0", dev) == ["v1.0.0.dev0"]
    monkeypatch.setattr(_template, "BUNDLE", dev)
    made = create(tmp_path / "head", template=DEFAULT_TEMPLATE_URL, defaults=True).destination
    assert _answers(made)["_commit"] == "v1.0.0.dev0"
    assert (made / "SECURITY.md").read_text() == SECURITY  # the working tree's template


def test_a_ref_the_bundle_lacks_is_read_from_the_network(installed: Path, tmp_path: Path) -> None:
    """A branch or a commit between releases is not in the bundle: git reads the canonical URL
    itself (here: no network, so one line saying why it went there)."""
    from plumbum import local

    from generator._create import create
    from generator._update import update
    from generator.errors import TemplateError, UpdateError

    assert _template.git_environment(DEFAULT_TEMPLATE_URL, ["v1.0.0", None]) != {}
    assert _template.git_environment(DEFAULT_TEMPLATE_URL, ["v1.1.0", "main"]) == {}
    # Copier's git (plumbum) copied the environment at import: no network for it either.
    with local.env(GIT_ALLOW_PROTOCOL="file"), pytest.raises(TemplateError) as caught:
        create(tmp_path / "main", template=DEFAULT_TEMPLATE_URL, vcs_ref="main", defaults=True)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert "main" in message and "v1.0.0..v1.1.0" in message and "network" in message, message
    assert "transport 'https' not allowed" in message, message

    # A project made online at a commit between releases: update reads that commit online too.
    project = create(tmp_path / "between", defaults=True, vcs_ref="v1.0.0").destination
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("_commit: v1.0.0", "_commit: v1.0.0-2-g0a1b2c3"))
    git(project, "commit", "--quiet", "-am", "made online between releases")
    with local.env(GIT_ALLOW_PROTOCOL="file"), pytest.raises(UpdateError) as refused:
        update(project)
    assert " at v1.0.0-2-g0a1b2c3 (not among the releases" in str(refused.value), refused.value


def test_a_renamed_wheel_reports_its_own_version(two_releases: Path, tmp_path: Path) -> None:
    """A fork shipped as ``acme-mlops-new`` (docs/install.md): the version, and so the release
    tag create renders, come from the wheel itself, whatever the distribution is called."""
    fork = tmp_path / "fork"
    git(tmp_path, "clone", "--quiet", str(two_releases), str(fork))
    pyproject = fork / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('name = "mlops-new"', 'name = "acme-mlops-new"', 1)
    )
    built = subprocess.run(
        [tool("uv"), "build", "--quiet", "--wheel", "--out-dir", str(tmp_path / "dist")],
        cwd=fork, capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    wheel = tmp_path / "dist" / "acme_mlops_new-1.1.0-py3-none-any.whl"
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import generator, generator._template as t;"
        " print(generator.__version__, t.resolve_template(None, None).vcs_ref)"
    )
    # -S: only the extracted wheel, as in the fork's own environment (no mlops-new installed).
    shown = subprocess.run(
        [sys.executable, "-S", "-c", code], env={**os.environ, "PYTHONPATH": str(site)},
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["1.1.0", "v1.1.0"]


def test_help_imports_neither_copier_nor_yaml_nor_pydantic() -> None:
    """`mlops-new --help` stays light: the heavy libraries are imported by the commands only."""
    code = (
        "import sys\nfrom generator.cli import main\nsys.argv = ['mlops-new', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('copier', 'yaml', 'pydantic', 'importlib.metadata')\n"
        "print('loaded:', *sorted(name for name in heavy if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert result.stdout.splitlines()[-1] == "loaded:"


def test_template_and_environment_still_override_the_bundle(
    installed: Path, two_releases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator._create import create

    fork = tmp_path / "fork"
    shutil.copytree(two_releases, fork)
    made = create(tmp_path / "option", template=str(fork), defaults=True).destination
    assert _answers(made)["_src_path"] == str(fork)
    monkeypatch.setenv("MLOPS_NEW_TEMPLATE", str(fork))
    made = create(tmp_path / "environment", defaults=True).destination
    assert _answers(made)["_src_path"] == str(fork)


# --- real wheels, installed (slow) ----------------------------------------------------------------


def _build(clone: Path, out: Path, *, sdist: bool) -> Path:
    """``uv build`` of ``clone``: the wheel straight from the checkout, or (``sdist``) through
    the sdist, as release.yml builds it. Returns the wheel."""
    args = [] if sdist else ["--wheel"]
    built = subprocess.run(
        [tool("uv"), "build", "--quiet", *args, "--out-dir", str(out)],
        cwd=clone, capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("*.whl")
    return wheel


def _venv(wheel: Path, where: Path) -> Path:
    """A fresh virtual environment with ``wheel`` installed; returns its ``bin`` folder."""
    uv = tool("uv")
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(where)], check=True,
                   env=env)  # fmt: skip
    python = where / "bin" / "python"
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python), str(wheel)],
                   check=True, env=env)  # fmt: skip
    return where / "bin"


def _offline(home: Path, *paths: Path) -> dict[str, str]:
    """An environment in which git can read local files only and no HTTP request gets out."""
    git_dir = str(Path(tool("git")).parent)
    nowhere = "http://127.0.0.1:9"
    return {
        "PATH": os.pathsep.join([*map(str, paths), git_dir, "/usr/bin", "/bin"]),
        "HOME": str(home),
        "GIT_ALLOW_PROTOCOL": "file",
        "GIT_CONFIG_NOSYSTEM": "1",
        **{name: nowhere for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")},
        "ALL_PROXY": nowhere,
        "GIT_AUTHOR_NAME": "mlops-new tests",
        "GIT_AUTHOR_EMAIL": "tests@mlops-new.invalid",
        "GIT_COMMITTER_NAME": "mlops-new tests",
        "GIT_COMMITTER_EMAIL": "tests@mlops-new.invalid",
        "LANG": "C.UTF-8",
    }


@pytest.fixture(scope="module")
def wheels(two_releases: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """v1.0.0's wheel (straight from the checkout) and v1.1.0's (through its sdist, as
    release.yml builds), each from a clone of the release repository at that tag."""
    base = tmp_path_factory.mktemp("wheels")
    built = {}
    for tag, sdist in (("v1.0.0", False), ("v1.1.0", True)):
        checkout = base / f"checkout-{tag}"
        git(base, "clone", "--quiet", "--branch", tag, str(two_releases), str(checkout))
        built[tag] = _build(checkout, base / tag, sdist=sdist)
    return built


@pytest.fixture(scope="module")
def tools(wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each wheel installed in its own fresh virtual environment: tag -> its ``bin`` folder."""
    base = tmp_path_factory.mktemp("venvs")
    return {tag: _venv(wheel, base / tag) for tag, wheel in wheels.items()}


def _run(bin_dir: Path, cwd: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "mlops-new"), *args],
        cwd=cwd, env=_offline(home, bin_dir), capture_output=True, text=True,
    )  # fmt: skip


@pytest.mark.slow
def test_built_distributions_are_small_and_carry_their_releases(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    for tag, wheel in wheels.items():
        assert wheel.name == f"mlops_new-{tag[1:]}-py3-none-any.whl"
        assert wheel.stat().st_size <= MAX_WHEEL_BYTES, f"{wheel.name}: {wheel.stat().st_size}"
        bundle = tmp_path / f"{tag}.bundle"
        bundle.write_bytes(zipfile.ZipFile(wheel).read("generator/template.bundle"))
        heads = git(tmp_path, "bundle", "list-heads", str(bundle))
        refs = [line.split()[1] for line in heads.splitlines()]
        tags = [ref.removeprefix("refs/tags/") for ref in refs if ref.startswith("refs/tags/")]
        assert tags == (["v1.0.0"] if tag == "v1.0.0" else ["v1.0.0", "v1.1.0"])
        assert {"HEAD", "refs/heads/installed"} <= set(refs)


@pytest.mark.slow
def test_installed_tool_creates_updates_and_checks_offline(
    tools: dict[str, Path], tmp_path: Path
) -> None:
    old, new = tools["v1.0.0"], tools["v1.1.0"]
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    for tag, bin_dir in tools.items():
        version = _run(bin_dir, work, "--version", home=home)
        assert version.stdout.strip() == f"mlops-new {tag[1:]}", version.stderr

    created = _run(old, work, "create", "churn", "--defaults", home=home)
    assert created.returncode == 0, created.stderr
    project = work / "churn"
    assert _answers(project)["_src_path"] == DEFAULT_TEMPLATE_URL
    assert _answers(project)["_commit"] == "v1.0.0"
    assert not (project / "SECURITY.md").exists()
    assert _run(old, project, "check", home=home).returncode == 0

    behind = _run(new, project, "check", "--format", "json", home=home)
    assert behind.returncode == 2, behind.stdout + behind.stderr
    assert yaml.safe_load(behind.stdout)["latest"] == "v1.1.0"

    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\n## Our team's notes\n")
    git(project, "commit", "--quiet", "-am", "team notes")
    updated = _run(new, project, "update", home=home)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "Updated from template v1.0.0 to v1.1.0" in updated.stdout
    assert readme.read_text().endswith("\n## Our team's notes\n")
    assert (project / "SECURITY.md").read_text() == SECURITY
    assert _answers(project)["_commit"] == "v1.1.0"
    assert _answers(project)["_src_path"] == DEFAULT_TEMPLATE_URL
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "template v1.1.0")
    checked = _run(new, project, "check", home=home)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The generated conformance job, with the installed mlops-new and no network.
    conformance = subprocess.run(
        ["make", "template-check", f"MLOPS_NEW={new / 'mlops-new'}"],
        cwd=project, env=_offline(home, new), capture_output=True, text=True,
    )  # fmt: skip
    assert conformance.returncode == 0, conformance.stdout + conformance.stderr
    assert "conforms (template v1.1.0" in conformance.stdout


@pytest.mark.slow
def test_plain_copier_updates_the_same_project_from_the_canonical_home(
    tools: dict[str, Path], two_releases: Path, tmp_path: Path
) -> None:
    """The answers file is the one a project made online has: `copier update`, reading the
    canonical home (here: the release repository, in its place through git's configuration),
    moves it to v1.1.0."""
    home = tmp_path / "home"
    home.mkdir()
    created = _run(tools["v1.0.0"], tmp_path, "create", "model", "--defaults", home=home)
    assert created.returncode == 0, created.stderr
    project = tmp_path / "model"
    env = {
        **os.environ,
        "HOME": str(home),
        "COPIER_CACHE_DIR": str(tmp_path / "copier-cache"),
        "GIT_ALLOW_PROTOCOL": "file",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{two_releases}.insteadOf",
        "GIT_CONFIG_VALUE_0": DEFAULT_TEMPLATE_URL,
    }
    updated = subprocess.run(
        [tool("copier"), "update", "--defaults", "--trust"],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    assert (project / "SECURITY.md").read_text() == SECURITY
    assert _answers(project)["_commit"] == "v1.1.0"


@pytest.mark.slow
def test_installed_tool_still_takes_a_template_or_the_environment(
    tools: dict[str, Path], two_releases: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    fork = tmp_path / "fork"
    shutil.copytree(two_releases, fork)
    new = tools["v1.1.0"]
    by_option = _run(new, tmp_path, "create", "a", "--defaults", "--template", str(fork), home=home)
    assert by_option.returncode == 0, by_option.stderr
    assert _answers(tmp_path / "a")["_src_path"] == str(fork)
    env = {**_offline(home, new), "MLOPS_NEW_TEMPLATE": str(fork)}
    by_env = subprocess.run(
        [str(new / "mlops-new"), "create", "b", "--defaults"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert by_env.returncode == 0, by_env.stderr
    assert _answers(tmp_path / "b")["_src_path"] == str(fork)
    unreachable = _run(new, tmp_path, "create", "c", "--defaults", "--template",
                       "https://example.org/acme/template.git", home=home)  # fmt: skip
    assert unreachable.returncode == 5, unreachable.stderr  # a fork's URL goes to the network
    assert len(unreachable.stderr.strip().splitlines()) == 1


# --- the generated project's conformance job ------------------------------------------------------


def _dry_run(project: Path, target: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "MLOPS_NEW"}
    result = subprocess.run(
        ["make", "-n", target], cwd=project, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_template_check_runs_the_released_wheel_for_the_canonical_template(
    render_project: Callable[..., Path],
) -> None:
    """A project of mlops-new's own template runs mlops-new from the package index (the wheel
    carries the template: no git access); one of another template (a fork, a local repository)
    installs mlops-new from that template's git repository, as before."""
    project = render_project()
    local = _dry_run(project, "template-check")
    assert f'uvx --from "git+file://{REPO_ROOT}" mlops-new check .' in local
    answers = project / ".copier-answers.yml"
    text = answers.read_text()
    answers.write_text(
        text.replace(f"_src_path: {REPO_ROOT}\n", f"_src_path: {DEFAULT_TEMPLATE_URL}\n")
    )
    assert "uvx mlops-new@latest check ." in _dry_run(project, "template-check")
    assert "uvx mlops-new@latest update . --conflict rej --trust" in _dry_run(
        project, "template-sync"
    )
    fork = "https://git.acme.example/platform/mlops-template.git"
    answers.write_text(text.replace(f"_src_path: {REPO_ROOT}\n", f"_src_path: {fork}\n"))
    assert f'uvx --from "git+{fork}" mlops-new check .' in _dry_run(project, "template-check")


def test_the_install_guide_names_the_canonical_home_and_the_ways_to_install() -> None:
    guide = (REPO_ROOT / "docs" / "install.md").read_text()
    assert DEFAULT_TEMPLATE_URL in guide
    for way in ("uv tool install mlops-new", "pipx install mlops-new", "uvx mlops-new"):
        assert way in guide
    assert "MLOPS_NEW=mlops-new" in guide and "UV_DEFAULT_INDEX" in guide
