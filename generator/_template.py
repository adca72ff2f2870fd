"""Where the template comes from: the bundled checkout, a local git repository, or a git URL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from generator import __version__
from generator._vcs import has_commit, toplevel
from generator.errors import TemplateError

#: Canonical home of the template, used when mlops-new is installed without its git checkout.
DEFAULT_TEMPLATE_URL = "https://github.com/mlops-new/mlops-new.git"
#: Environment variable that overrides the default template source (path or git URL).
TEMPLATE_ENV = "MLOPS_NEW_TEMPLATE"

_URL_PREFIXES = ("gh:", "gl:", "git@", "git+", "https://", "http://", "ssh://", "file://")


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
    the installed release. A local template must be the root of a git repository with at least
    one commit: a project rendered from anything else could never be updated, so it is refused.
    """
    if template is None:
        template = os.environ.get(TEMPLATE_ENV) or None
    if template is None:
        root = bundled_template()
        if root is not None:
            return TemplateSource(str(root), vcs_ref or "HEAD", root)
        return TemplateSource(DEFAULT_TEMPLATE_URL, vcs_ref or release_ref())
    path = Path(template).expanduser()
    if not path.exists():
        if template.startswith(_URL_PREFIXES):
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
