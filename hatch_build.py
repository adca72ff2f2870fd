"""Packaging: the version from CHANGELOG.md, and the template's release history in the wheel.

* ``changelog_version()`` (``[tool.hatch.version]``, source ``code``): the top release heading
  of CHANGELOG.md, ``## vX.Y.Z``; while ``## Unreleased`` above it has entries, the next
  development version (``X.Y.(Z+1).dev0``). No git tag is read, so a clone that carries only
  ``main`` builds the same version as a release checkout.
* ``TemplateBundleHook`` (``[tool.hatch.build.hooks.custom]``): ``generator/template.bundle``, a
  git bundle holding, for every release tag ``vX.Y.Z`` of the checkout older than this version,
  one commit with only the template's files (``TEMPLATE_PATHS``) under the same tag name, and
  the working tree's template as ``v<version>``, which the bundle's ``HEAD`` (branch
  ``installed``) also names. mlops-new points git at it instead of the template's canonical URL
  (see ``generator/_template.py``), so create, update and check work with no network. The sdist
  carries the bundle; a wheel built from the sdist reuses it. The wheel also gets
  ``generator/_version.py``: the version, whatever the distribution is called (a fork's
  ``acme-mlops-new``), read without importlib.metadata.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent
#: What a template release is made of (everything Copier reads; the rest is the generator's).
TEMPLATE_PATHS = ("copier.yml", "copier.yaml", "templates", "includes")
#: Where the bundle sits in the sdist and in the wheel.
BUNDLE = "generator/template.bundle"
#: The version module the wheel carries (``generator.__version__`` reads it).
VERSION_MODULE = "generator/_version.py"
#: The bundle's one branch, its HEAD: the version built. Not ``main``: ``--vcs-ref main`` means
#: the canonical repository's branch, which git then reads over the network.
BRANCH = "installed"
_HEADING = re.compile(r"^## +(?P<title>\S.*?)\s*$", re.MULTILINE)
_IDENTITY = {
    "GIT_AUTHOR_NAME": "mlops-new release",
    "GIT_AUTHOR_EMAIL": "mlops-new@localhost",
    "GIT_COMMITTER_NAME": "mlops-new release",
    "GIT_COMMITTER_EMAIL": "mlops-new@localhost",
}


def changelog_version(changelog: Path = ROOT / "CHANGELOG.md") -> str:
    """The package version CHANGELOG.md states (see the module's docstring)."""
    text = changelog.read_text(encoding="utf-8")
    headings = list(_HEADING.finditer(text))
    unreleased = False
    for index, heading in enumerate(headings):
        title = heading["title"]
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        if title.lower() == "unreleased":
            unreleased = bool(text[heading.end() : end].strip())
            continue
        try:
            release = Version(title.removeprefix("v"))
        except InvalidVersion:
            continue
        if not unreleased:
            return str(release)
        if release.is_prerelease or release.is_devrelease:
            return f"{release}.post0.dev0"
        return f"{release.major}.{release.minor}.{release.micro + 1}.dev0"
    raise ValueError(f"{changelog.name} has no release heading '## vX.Y.Z'")


def _git(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["git", *args], capture_output=True, text=True, input=stdin, env=env, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


def is_git_root(root: Path) -> bool:
    result = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--show-toplevel"],
        capture_output=True, text=True, check=False, env=_clean_env(),
    )  # fmt: skip
    return result.returncode == 0 and Path(result.stdout.strip()).resolve() == root.resolve()


def release_tags(root: Path, below: str) -> list[str]:
    """The checkout's PEP 440 tags ``v*`` older than version ``below``, oldest first."""
    found = []
    for tag in _git("-C", str(root), "tag", "--list", "v*", env=_clean_env()).split():
        try:
            version = Version(tag[1:])
        except InvalidVersion:
            continue
        if version < Version(below):
            found.append((version, tag))
    return [tag for _, tag in sorted(found)]


def make_bundle(root: Path, version: str, out: Path) -> list[str]:
    """Write the template's release history to the bundle ``out``; return its tags."""
    base = _clean_env()
    common = _git("-C", str(root), "rev-parse", "--git-common-dir", env=base).strip()
    objects = (root / common).resolve() / "objects"
    with tempfile.TemporaryDirectory(prefix="mlops-new-bundle.") as scratch:
        repo = Path(scratch) / "bundle.git"
        _git("init", "--quiet", "--bare", str(repo), env=base)
        (repo / "objects" / "info" / "alternates").write_text(f"{objects}\n")
        env = {**base, **_IDENTITY, "GIT_DIR": str(repo)}
        parent: list[str] = []
        tags = [*release_tags(root, version), f"v{version}"]
        for tag in tags:
            if tag == tags[-1]:  # this version: the working tree as it is
                env["GIT_INDEX_FILE"] = str(Path(scratch) / "index")
                present = [p for p in TEMPLATE_PATHS if (root / p).exists()]
                _git("--work-tree", str(root), "add", "--", *present, env=env)
                tree = _git("write-tree", env=env).strip()
                head = subprocess.run(
                    ["git", "-C", str(root), "log", "-1", "--format=%ct"],
                    capture_output=True, text=True, check=False, env=base,
                ).stdout.strip()  # fmt: skip
                date = os.environ.get("SOURCE_DATE_EPOCH") or head or "0"
            else:
                listing = _git("-C", str(root), "ls-tree", tag, "--", *TEMPLATE_PATHS, env=base)
                if not listing.strip():
                    continue  # a tag from before the template existed
                tree = _git("mktree", env=env, stdin=listing).strip()
                date = _git("-C", str(root), "log", "-1", "--format=%ct", tag, env=base).strip()
            dated = {
                **env,
                "GIT_AUTHOR_DATE": f"@{date} +0000",
                "GIT_COMMITTER_DATE": f"@{date} +0000",
            }
            commit = _git(
                "commit-tree", tree, *parent, "-m", f"mlops-new template {tag}", env=dated
            ).strip()
            parent = ["-p", commit]
            _git("tag", tag, commit, env=env)
        # A HEAD for Copier's default checkout when no final release tag is there (a dev build).
        _git("update-ref", f"refs/heads/{BRANCH}", commit, env=env)
        _git("symbolic-ref", "HEAD", f"refs/heads/{BRANCH}", env=env)
        out.parent.mkdir(parents=True, exist_ok=True)
        _git("bundle", "create", str(out), "HEAD", BRANCH, "--tags", env=env)
        return _git("tag", "--list", env=env).split()


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # imported by tests without hatchling
    BuildHookInterface = object  # type: ignore[assignment,misc]


class TemplateBundleHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    """Put ``generator/template.bundle`` in the sdist and the wheel, and
    ``generator/_version.py`` in the wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "editable":
            return  # an editable install renders from its own checkout
        root = Path(self.root)
        shipped = root / BUNDLE
        self._scratch = Path(tempfile.mkdtemp(prefix="mlops-new-build."))
        if self.target_name == "wheel":
            module = self._scratch / "_version.py"
            module.write_text(f'__version__ = "{self.metadata.version}"\n', encoding="utf-8")
            build_data["force_include"][str(module)] = VERSION_MODULE
        if is_git_root(root):
            bundle = self._scratch / "template.bundle"
            make_bundle(root, self.metadata.version, bundle)
        elif shipped.is_file():  # a wheel built from the sdist
            bundle = shipped
        else:
            raise RuntimeError(
                f"cannot build mlops-new here: {root} is neither a git checkout (the template's"
                f" releases come from its tags) nor an sdist carrying {BUNDLE}"
            )
        build_data["force_include"][str(bundle)] = BUNDLE

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
