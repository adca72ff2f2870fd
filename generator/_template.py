"""Where the template comes from: the checkout mlops-new runs from, the releases its wheel
carries, a local git repository, or a git URL.

An installed wheel carries the template's releases as a git bundle (``template.bundle``, made by
``hatch_build.py``). A project records the template's canonical home
(:data:`DEFAULT_TEMPLATE_URL`) and a release tag, exactly as a project made online does; the git
processes mlops-new starts for that URL (Copier's and its own) read the bundle instead, through
``url.<bundle>.insteadOf`` given in their environment only (:func:`git_environment`). So create,
update and check need no network, and plain ``copier update`` works on the same project online.
A ref the bundle lacks (a branch, a commit between releases) is read from the canonical URL
itself, over the network (:func:`not_carried`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from generator import __version__
from generator._vcs import config_variables, git, has_commit, toplevel
from generator.errors import TemplateError

#: Canonical home of the template, used when mlops-new is installed without its git checkout.
DEFAULT_TEMPLATE_URL = "https://github.com/mlops-new/mlops-new.git"
#: Environment variable that overrides the default template source (path or git URL).
TEMPLATE_ENV = "MLOPS_NEW_TEMPLATE"
#: The template's releases up to the installed one (absent in a git checkout: see hatch_build.py).
BUNDLE = Path(__file__).resolve().parent / "template.bundle"
#: Copier's copies of the template when it is read from the bundle (keeps them apart from the
#: mirrors Copier keeps of the real canonical repository).
COPIER_CACHE_ENV = "COPIER_CACHE_DIR"

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|gh:|gl:|git\+)", re.I)


def is_url(source: str) -> bool:
    """Whether a template source names a remote (any ``scheme://``, ``git@``, ``git+``, ``gh:``,
    ``gl:``) rather than a local path."""
    return bool(_URL.match(source.strip()))


@dataclass(frozen=True)
class TemplateSource:
    """A template that Copier can copy from and later update from."""

    src: str
    vcs_ref: str | None
    local_path: Path | None = None


def bundled_template() -> Path | None:
    """The repository this package runs from, when that is a git checkout of the template."""
    root = Path(__file__).resolve().parent.parent
    if (root / "copier.yml").is_file() and toplevel(root) == root:
        return root
    return None


def shipped_bundle() -> Path | None:
    """The bundle of template releases an installed wheel carries, or None (a git checkout)."""
    return BUNDLE if BUNDLE.is_file() else None


def is_canonical(source: str) -> bool:
    """Whether ``source`` names the template's canonical home (with or without ``.git``)."""
    home = DEFAULT_TEMPLATE_URL.removesuffix(".git")
    return source.strip() in (home, f"{home}.git")


def cache_dir() -> Path:
    """mlops-new's cache: ``$XDG_CACHE_HOME/mlops-new``, else ``~/.cache/mlops-new``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlops-new"


@cache
def _bundle_refs(bundle: Path, stamp: int) -> frozenset[str]:
    """The refs of ``bundle`` (as of modification time ``stamp``), full and short names."""
    heads = git(bundle.parent, "bundle", "list-heads", str(bundle)).stdout
    names = set()
    for line in heads.splitlines():
        ref = line.partition(" ")[2]
        names |= {ref, ref.removeprefix("refs/tags/"), ref.removeprefix("refs/heads/")}
    return frozenset(names)


def not_carried(source: str, refs: Iterable[str | None]) -> list[str]:
    """Those of ``refs`` (None: Copier's default, HEAD) that the bundle this installation
    carries lacks, when ``source`` is the canonical home: a branch, a commit made between
    releases. Git reads them from the canonical URL itself, over the network. Else ``[]``."""
    bundle = shipped_bundle()
    if bundle is None or not is_canonical(source):
        return []
    carried = _bundle_refs(bundle, bundle.stat().st_mtime_ns)
    return [ref for ref in (ref or "HEAD" for ref in refs) if ref not in carried]


def network_note(source: str, refs: Iterable[str | None]) -> str:
    """`` at REF (not among the releases this mlops-new carries, FIRST..LAST: read over the
    network)`` when :func:`not_carried` names some of ``refs``, else ``""``: why git went online."""
    missing = not_carried(source, refs)
    bundle = shipped_bundle()
    if not missing or bundle is None:
        return ""
    from packaging.version import InvalidVersion, Version

    releases = []
    for ref in _bundle_refs(bundle, bundle.stat().st_mtime_ns):
        try:
            releases.append((Version(ref.removeprefix("v")), ref))
        except InvalidVersion:
            continue
    carried = sorted(releases)
    span = f"{carried[0][1]}..{carried[-1][1]}" if carried else "none"
    return (
        f" at {', '.join(missing)} (not among the releases this mlops-new carries, {span}:"
        " read over the network)"
    )


def git_environment(source: str, refs: Iterable[str | None] = ()) -> dict[str, str]:
    """What to add to the environment of the git processes that read ``source`` (and check out
    ``refs``): for the canonical home, when this installation carries the bundle and it holds
    every one of ``refs``, a ``url.<bundle>.insteadOf`` rewrite (no network; the user's git
    configuration is not touched) and Copier's cache in mlops-new's; else nothing, and git
    reads ``source`` itself."""
    bundle = shipped_bundle()
    if bundle is None or not is_canonical(source) or not_carried(source, refs):
        return {}
    home = DEFAULT_TEMPLATE_URL.removesuffix(".git")
    key = f"url.{bundle.as_posix()}.insteadOf"
    # Git takes the longest matching prefix: both spellings become the bundle itself.
    variables = config_variables([(key, f"{home}.git"), (key, home)])
    variables[COPIER_CACHE_ENV] = str(cache_dir() / "copier")
    return variables


def release_ref(version: str | None = None) -> str | None:
    """The template tag matching a released package version, or None for a dev build."""
    version = __version__ if version is None else version
    if not version or version.startswith("0+") or any(m in version for m in ("dev", "+")):
        return None
    return f"v{version}"


def resolve_template(template: str | None, vcs_ref: str | None) -> TemplateSource:
    """Turn the user's ``--template``/``--vcs-ref`` into a source Copier can update from.

    Without ``--template``: ``$MLOPS_NEW_TEMPLATE``, else the git checkout mlops-new runs from
    (at ``HEAD``, so code and template agree), else :data:`DEFAULT_TEMPLATE_URL` at the tag of
    the installed version (read from the bundle the wheel carries). A local template must be the
    root of a git repository with at least one commit: a project rendered from anything else
    could never be updated, so it is refused.
    """
    if template is None:
        template = os.environ.get(TEMPLATE_ENV) or None
    if template is None:
        root = bundled_template()
        if root is not None:
            return TemplateSource(str(root), vcs_ref or "HEAD", root)
        if shipped_bundle() is not None:  # the bundle always holds this version's tag
            return TemplateSource(DEFAULT_TEMPLATE_URL, vcs_ref or f"v{__version__}")
        return TemplateSource(DEFAULT_TEMPLATE_URL, vcs_ref or release_ref())
    path = Path(template).expanduser()
    if not path.exists():
        if is_url(template):
            return TemplateSource(template, vcs_ref)
        raise TemplateError(f"template {template!r} does not exist")
    path = path.resolve()
    if not path.is_dir():
        raise TemplateError(f"template {template!r} is a file, not a template directory")
    if not any((path / name).is_file() for name in ("copier.yml", "copier.yaml")):
        raise TemplateError(f"template {template!r} is not a Copier template (no copier.yml)")
    if toplevel(path) != path or not has_commit(path):
        raise TemplateError(
            f"template {template!r} is not the root of a git repository with a commit: a project"
            " made from it could never be updated (run 'git init && git add -A && git commit')"
        )
    return TemplateSource(str(path), vcs_ref, path)
