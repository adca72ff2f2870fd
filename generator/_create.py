"""`mlops-new create`: render the template into a staging folder, then move it into place.

Nothing is written at the destination until the whole project has rendered, validated and (unless
``git=False``) been committed in staging, so a failure leaves no half-made directory behind and
never changes an existing file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator import __version__, _copier, _data, _vcs
from generator._profile import (
    PROJECT_PROFILE,
    LoadedProfile,
    enforce,
    merge_answers,
    refused_source,
    validate_questions,
)
from generator._project import ANSWERS_FILE, list_files
from generator._template import TemplateSource, resolve_template
from generator.errors import (
    DataError,
    DestinationError,
    GitError,
    InvalidAnswerError,
    MlopsNewError,
    PolicyError,
    Stopped,
    TemplateError,
)


@dataclass(frozen=True)
class CreateResult:
    """What `create` made."""

    destination: Path
    files: tuple[str, ...]
    template: TemplateSource
    answers: dict[str, Any]
    git_commit: str | None
    #: Copier's warnings (the data contract's are ``imported.warnings``).
    warnings: tuple[str, ...] = field(default=())
    #: The ``dataset`` answer's table and the contract inferred for it, or None (bundled example).
    imported: _data.ImportedData | None = None

    @property
    def template_commit(self) -> str | None:
        value = self.answers.get("_commit")
        return str(value) if value is not None else None


def create(
    destination: Path,
    *,
    template: str | None = None,
    vcs_ref: str | None = None,
    data: Mapping[str, Any] | None = None,
    defaults: bool = False,
    git: bool = True,
    existing_dir: bool = False,
    trust: bool = False,
    profile: LoadedProfile | None = None,
    confirm: Callable[[_data.ImportedData], bool] | None = None,
) -> CreateResult:
    """Generate a project at ``destination`` and return what was made.

    ``existing_dir`` allows a non-empty destination; even then no existing file is overwritten:
    if the template would write a path that exists, nothing is written at all.

    With a ``profile``, its template and ``vcs_ref`` are the defaults, its default answers sit
    under ``data``, its locked answers win, and an answer it locks otherwise or does not allow
    raises :class:`PolicyError` before anything is written. The profile is recorded in the
    project as ``.mlops-new/profile.yml`` for ``check`` and ``update``.

    With a ``dataset`` answer (made absolute here), the staged project's contract module reads
    the table and infers its data contract for the ``target`` answer; a table that cannot be
    used raises :class:`DataError` and nothing is written at the destination. ``confirm`` is
    then called with what was inferred before anything is written: False raises
    :class:`Stopped`, and nothing is written either.
    """
    destination = destination.expanduser().absolute()
    _check_destination(destination, existing_dir)
    if profile is not None and template is None and profile.template is not None:
        template, vcs_ref = profile.template, vcs_ref or profile.profile.vcs_ref
    source = resolve_template(template, vcs_ref)
    refusal = refused_source(profile, source.src)
    if refusal:
        raise PolicyError(refusal)
    answers_in = _data.with_absolute_dataset(merge_answers(profile, dict(data or {})))
    _data.check_given(data or {}, answers_in, asking=not defaults)

    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        questions, caught = _copier.copy(
            source.src,
            staging,
            data=answers_in,
            vcs_ref=source.vcs_ref,
            failure=TemplateError,
            trust_hint="pass --trust only if you trust this template",
            defaults=defaults,
            unsafe=trust,
        )
        answers = yaml.safe_load((staging / ANSWERS_FILE).read_text(encoding="utf-8")) or {}
        if profile is not None:
            validate_questions(profile, questions)
        _check_known(answers_in, questions)
        if profile is not None:
            enforce(profile, answers)
            _record_profile(profile, staging)
        imported = _data.import_dataset(staging, answers)
        if imported is not None and confirm is not None and not confirm(imported):
            raise Stopped(
                f"not created: the data contract inferred from {imported.source} was declined;"
                " nothing was written"
            )
        files = list_files(staging)
        # The imported table is data: git ignores it (`make data` rebuilds it, DVC versions it).
        tracked = tuple(f for f in files if imported is None or f != imported.data)
        if destination.exists() and any(destination.iterdir()):
            commit = _merge_into(staging, destination, files, tracked, git=git, answers=answers)
        else:
            commit = _git_init_commit(staging, answers, tracked) if git else None
            if destination.exists():
                destination.rmdir()
            os.replace(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return CreateResult(destination, files, source, answers, commit, caught, imported)


def _check_destination(destination: Path, existing_dir: bool) -> None:
    if destination.is_file() or (destination.exists() and not destination.is_dir()):
        raise DestinationError(f"destination {str(destination)!r} exists and is not a directory")
    if not destination.parent.is_dir():
        raise DestinationError(f"parent directory {str(destination.parent)!r} does not exist")
    if destination.is_dir() and any(destination.iterdir()) and not existing_dir:
        raise DestinationError(
            f"destination {str(destination)!r} is not empty; pass --existing-dir to add the"
            " project's files to it (no existing file is ever overwritten)"
        )
    if not os.access(destination.parent, os.W_OK):
        raise DestinationError(f"cannot write in {str(destination.parent)!r}")


def _check_known(data: Mapping[str, Any], questions: Mapping[str, Any]) -> None:
    """Refuse answers to no question, and to values the template computes (``when: false``):
    those are never recorded, so the next update would silently compute them again."""
    asked = {name for name, details in questions.items() if not _computed(details)}
    unknown = sorted(set(data) - set(questions))
    if unknown:
        raise InvalidAnswerError(
            f"unknown question {', '.join(map(repr, unknown))}; "
            f"the template asks: {', '.join(sorted(asked))}"
        )
    computed = sorted(set(data) - asked)
    if computed:
        raise InvalidAnswerError(
            f"{', '.join(map(repr, computed))} is computed by the template from other answers,"
            " not asked: leave it out"
        )


def _computed(details: Any) -> bool:
    return isinstance(details, Mapping) and details.get("when") is False


def _record_profile(profile: LoadedProfile, root: Path) -> None:
    """Write the profile (template path made absolute) into the project for check/update."""
    settings = profile.profile.model_dump(exclude_defaults=True)
    if profile.template is not None:
        settings["template"] = profile.template
    target = root / PROJECT_PROFILE
    target.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Organisation profile applied by mlops-new create (from {profile.path.name}).\n"
        "# `mlops-new check` and `mlops-new update` read it unless --profile or\n"
        "# MLOPS_NEW_PROFILE names the organisation's canonical copy (recommended in CI).\n"
    )
    body = yaml.safe_dump(settings, sort_keys=False, allow_unicode=True)
    target.write_text(header + body, encoding="utf-8")


def _merge_into(
    staging: Path,
    destination: Path,
    files: tuple[str, ...],
    tracked: tuple[str, ...],
    *,
    git: bool,
    answers: dict[str, Any],
) -> str | None:
    """Move staged files into a non-empty directory, refusing if any path already exists;
    commit the ``tracked`` ones when the directory is no git work tree yet."""
    clashes = [f for f in files if _exists_or_blocked(destination, f)]
    if clashes:
        shown = ", ".join(clashes[:3]) + (", ..." if len(clashes) > 3 else "")
        raise DestinationError(
            f"{len(clashes)} file(s) already exist in {str(destination)!r} ({shown});"
            " nothing was written"
        )
    for name in files:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, target)
    if not git or _vcs.is_work_tree(destination):
        return None
    return _git_init_commit(destination, answers, tracked)


def _exists_or_blocked(root: Path, relative: str) -> bool:
    path = root / relative
    if path.exists() or path.is_symlink():
        return True
    return any(parent.exists() and not parent.is_dir() for parent in path.parents)


def _git_init_commit(root: Path, answers: dict[str, Any], files: tuple[str, ...]) -> str:
    """Make ``root`` a git repository whose first commit holds the generated ``files``."""
    author = (
        str(answers.get("author_name") or "mlops-new"),
        str(answers.get("author_email") or "mlops-new@localhost"),
    )
    try:
        return _vcs.init_and_commit(
            root, files, f"Initial commit from mlops-new {__version__}", author=author
        )
    except OSError as exc:
        raise GitError(f"git failed: {exc}") from exc


__all__ = ["CreateResult", "DataError", "MlopsNewError", "create"]
