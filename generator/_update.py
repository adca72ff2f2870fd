"""`mlops-new update`: ``copier update`` with the safety a team needs.

The project must be a git repository with nothing uncommitted, so every change the update makes
is visible in ``git status``/``git diff`` and the previous state stays at ``HEAD``; nothing is
committed for you. The result lists what changed and what is in conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.version import Version

from generator import _copier, _data
from generator._profile import LoadedProfile, enforce, normalise_source, refused_source
from generator._project import (
    ANSWERS_FILE,
    AnswersProblem,
    conflicted_files,
    load_answers,
    parse_version,
    reject_files,
    release_tags,
    status,
)
from generator._template import DEFAULT_TEMPLATE_URL, bundled_template, git_environment
from generator._vcs import is_work_tree
from generator.errors import DirtyTreeError, PolicyError, UpdateError

Conflict = Literal["inline", "rej"]


@dataclass(frozen=True)
class UpdateResult:
    """What ``update`` did; nothing is committed."""

    project: Path
    from_ref: str
    to_ref: str
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    conflicts: tuple[str, ...] = ()
    rejects: tuple[str, ...] = ()
    up_to_date: bool = False
    warnings: tuple[str, ...] = field(default=())

    @property
    def has_conflicts(self) -> bool:
        return bool(self.conflicts or self.rejects)

    @property
    def touched(self) -> bool:
        return bool(self.changed or self.added or self.removed or self.renamed or self.conflicts)


def update(
    project: Path,
    *,
    vcs_ref: str | None = None,
    data: Mapping[str, Any] | None = None,
    conflict: Conflict = "inline",
    profile: LoadedProfile | None = None,
    trust: bool = False,
) -> UpdateResult:
    """Update ``project`` to ``vcs_ref`` (default: the template's latest release tag).

    ``data`` changes answers (checked against the profile's locked and allowed answers first).
    Refuses, touching nothing, a project with uncommitted changes and a downgrade. Updating to
    the version the project already has, without ``data``, is a no-op.
    """
    project = project.expanduser().absolute()
    data = _data.with_absolute_dataset(data or {})
    if not project.is_dir():
        raise UpdateError(f"{str(project)!r} is not a directory")
    try:
        answers = load_answers(project)
    except AnswersProblem as exc:
        raise UpdateError(str(exc)) from None
    if not is_work_tree(project):
        raise UpdateError(
            f"{str(project)!r} is not a git repository: commit the project to git before updating"
        )
    dirty = status(project).paths
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise DirtyTreeError(
            f"uncommitted changes ({shown}); commit or stash them first, nothing was updated"
        )
    enforce(profile, {**answers, **data}, keys=list(data))

    source, from_ref = str(answers["_src_path"]), str(answers["_commit"])
    refusal = refused_source(profile, source)
    if refusal:
        raise PolicyError(f"{refusal}; nothing was updated")
    current = parse_version(from_ref)
    target_ref, target = _target(source, vcs_ref, current)
    if current is not None and target is not None and target < current:
        raise UpdateError(
            f"downgrade refused: the project is at {from_ref}, {target_ref} is older"
            " (generate a new project at that version instead)"
        )
    if target_ref is None or (target is not None and target == current):
        if not data:
            return UpdateResult(
                project,
                from_ref,
                from_ref,
                up_to_date=True,
                warnings=_newer_than_installed(source, current),
            )
        target_ref = from_ref  # re-render at the same version with the changed answers

    caught = _copier.update(
        project,
        src=source,
        data=data,
        vcs_ref=target_ref,
        conflict=conflict,
        failure=UpdateError,
        trust_hint="review its _migrations and tasks, then pass --trust, or list it in the"
        " profile's allowed_sources",
        unsafe=trust or _trusted(source, profile),
        from_ref=from_ref,
    )
    after = status(project)
    new_answers = load_answers(project)
    new_ref = str(new_answers["_commit"])
    ignored = sorted(set(data) - set(new_answers))
    if ignored:
        caught += (
            f"--data {', '.join(ignored)} ignored: not a question of the template at {new_ref}",
        )
    candidates = [p for p in (*after.changed, *after.added, *after.unmerged) if p != ANSWERS_FILE]
    conflicts = sorted(set(after.unmerged) | set(conflicted_files(project, candidates)))
    rejects = [r for r in reject_files(project) if not _already_applied(project, r)]
    return UpdateResult(
        project=project,
        from_ref=from_ref,
        to_ref=new_ref,
        changed=tuple(p for p in after.changed if p not in conflicts),
        added=tuple(p for p in after.added if p not in conflicts and p not in rejects),
        removed=after.removed,
        renamed=after.renamed,
        conflicts=tuple(conflicts),
        rejects=tuple(rejects),
        warnings=caught,
    )


def _already_applied(project: Path, reject: str) -> bool:
    """Drop a ``.rej`` whose every hunk the file already holds (e.g. a migration's rename).

    Copier's diff sees a file the migration moved as new on both sides, so ``git apply`` rejects
    a hunk whose result is already in place. Such a ``.rej`` says nothing: remove it.
    """
    target = project / reject.removesuffix(".rej")
    try:
        text = (project / reject).read_text(encoding="utf-8")
        lines = target.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    hunks: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("@@"):
            hunks.append([])
        elif hunks and line.startswith((" ", "+")):
            hunks[-1].append(line[1:])
        elif hunks and line.startswith("-"):
            return False  # the hunk removes lines: applying it would change the file
    if not hunks or not all(_contains(lines, hunk) for hunk in hunks):
        return False
    (project / reject).unlink()
    return True


def _contains(lines: list[str], block: list[str]) -> bool:
    size = len(block)
    return any(lines[i : i + size] == block for i in range(len(lines) - size + 1))


def _target(
    source: str, vcs_ref: str | None, current: Version | None
) -> tuple[str | None, Version | None]:
    """The ref to update to and its version; ``(None, None)`` when already at/after the latest."""
    if vcs_ref is not None:
        return vcs_ref, parse_version(vcs_ref)
    try:
        tags = release_tags(source)
    except OSError as exc:
        raise UpdateError(f"cannot list the tags of template {source!r}: {exc}") from exc
    if not tags:
        raise UpdateError(
            f"template {source!r} has no release tag (vX.Y.Z); pass --vcs-ref to update to a"
            " branch or commit"
        )
    latest, ref = tags[-1]
    if current is not None and latest <= current:
        return None, None
    return ref, latest


def _newer_than_installed(source: str, current: Version | None) -> tuple[str, ...]:
    """A warning when the project is at a newer release of mlops-new's own template than the
    installed mlops-new carries (that template is read from the wheel, not the network)."""
    if current is None or not git_environment(source):
        return ()
    try:
        tags = release_tags(source)
    except OSError:
        return ()
    if not tags or tags[-1][0] >= current:
        return ()
    return (
        f"the project is at a newer template release than the newest this mlops-new carries"
        f" ({tags[-1][1]}); upgrade mlops-new (uv tool upgrade mlops-new) to update it",
    )


def _trusted(source: str, profile: LoadedProfile | None) -> bool:
    """mlops-new's own template, and the profile's template and allowed sources, run migrations."""
    trusted = {normalise_source(DEFAULT_TEMPLATE_URL)}
    bundled = bundled_template()
    if bundled is not None:
        trusted.add(normalise_source(str(bundled)))
    if profile is not None:
        if profile.template:
            trusted.add(normalise_source(profile.template))
        trusted.update(profile.sources() or [])
    return normalise_source(source) in trusted


__all__ = ["UpdateResult", "update"]
