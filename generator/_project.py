"""What ``update`` and ``check`` need to know about a generated project and its template."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

from generator._template import git_environment
from generator._vcs import git, is_work_tree, remote_tags
from generator.errors import one_line

ANSWERS_FILE = ".copier-answers.yml"
#: Lines that start a conflict region (``git merge-file``, ``git merge``, Copier's inline mode).
CONFLICT_MARKERS = (b"<<<<<<< ", b">>>>>>> ")
_DESCRIBE = re.compile(r"^(?P<tag>.+)-(?P<count>\d+)-g(?P<sha>[0-9a-f]+)$")
_SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}
_MAX_SCAN = 5_000_000


class AnswersProblem(Exception):
    """The answers file is missing or unusable; ``kind`` is the check finding it becomes."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def load_answers(project: Path) -> dict[str, Any]:
    """The project's ``.copier-answers.yml``, with ``_src_path`` and ``_commit`` present."""
    path = project / ANSWERS_FILE
    if not path.is_file():
        raise AnswersProblem(
            "answers-missing",
            f"{ANSWERS_FILE} is missing: this is not a generated project, or the file was deleted"
            " (restore it from git history)",
        )
    try:
        answers = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AnswersProblem(
            "answers-unparseable",
            f"{ANSWERS_FILE} is not valid YAML ({one_line(exc)}); restore it from git history",
        ) from exc
    if not isinstance(answers, dict):
        raise AnswersProblem("answers-unparseable", f"{ANSWERS_FILE} must be a mapping of answers")
    missing = [key for key in ("_src_path", "_commit") if not answers.get(key)]
    if missing:
        raise AnswersProblem(
            "answers-unparseable",
            f"{ANSWERS_FILE} has no {' or '.join(missing)}: the template source or version is"
            " unknown, so the project cannot be checked or updated",
        )
    return answers


def user_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers to questions (Copier's own ``_`` keys left out)."""
    return {k: v for k, v in answers.items() if not k.startswith("_")}


def parse_version(ref: object) -> Version | None:
    """The PEP 440 version of a template ref: ``v1.2.0``, ``v1.2.0-3-gabc123`` (post-release)."""
    if ref is None:
        return None
    text = str(ref)
    match = _DESCRIBE.match(text)
    if match:
        text = f"{match['tag']}.post{match['count']}+g{match['sha']}"
    try:
        return Version(text)
    except InvalidVersion:
        return None


def release_tags(source: str) -> list[tuple[Version, str]]:
    """The template's PEP 440 release tags (no pre-releases), oldest first; for the template's
    canonical home, those of the releases this installation carries (no network).

    Raises :class:`OSError` when the source cannot be listed.
    """
    tags: list[tuple[Version, str]] = []
    for ref in remote_tags(source, git_environment(source)):
        version = parse_version(ref)
        if version is not None and not version.is_prerelease and not version.local:
            tags.append((version, ref))
    return sorted(tags)


@dataclass(frozen=True)
class Status:
    """``git status`` of a project, grouped the way the update summary reports it."""

    changed: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]
    unmerged: tuple[str, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return (
            *self.changed,
            *self.added,
            *self.removed,
            *(new for _, new in self.renamed),
            *self.unmerged,
        )


def status(project: Path) -> Status:
    """Uncommitted changes under ``project`` (paths relative to it), untracked files included."""
    result = git(project, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", ".")
    if result.returncode != 0:
        raise OSError(one_line(result.stderr))
    # Porcelain paths are relative to the repository's top level; the project may be below it.
    prefix = git(project, "rev-parse", "--show-prefix").stdout.strip()
    changed: list[str] = []
    added: list[str] = []
    removed: list[str] = []
    renamed: list[tuple[str, str]] = []
    unmerged: list[str] = []
    entries = iter(result.stdout.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:].removeprefix(prefix)
        if code[0] in "RC":
            old = next(entries, "").removeprefix(prefix)
            renamed.append((old, path))
            if code[1] == "M":
                changed.append(path)
        elif "U" in code or code in {"AA", "DD"}:
            unmerged.append(path)
        elif code == "??" or "A" in code:
            added.append(path)
        elif "D" in code:
            removed.append(path)
        else:
            changed.append(path)
    return Status(
        tuple(sorted(changed)),
        tuple(sorted(added)),
        tuple(sorted(removed)),
        tuple(sorted(renamed)),
        tuple(sorted(unmerged)),
    )


def has_conflict_markers(path: Path) -> bool:
    """True if a line of the file starts with ``<<<<<<< `` or ``>>>>>>> `` (text files only)."""
    try:
        if path.stat().st_size > _MAX_SCAN:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    if b"\0" in data[:8192]:
        return False
    return any(line.startswith(CONFLICT_MARKERS) for line in data.splitlines())


def project_files(project: Path) -> list[str]:
    """Files of the project that git tracks or would track, else every file outside tool folders."""
    if is_work_tree(project):
        result = git(project, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        if result.returncode == 0:
            names = sorted({n for n in result.stdout.split("\0") if n})
            return [n for n in names if (project / n).is_file()]
    return sorted(
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_file() and not _SKIP_DIRS & set(p.relative_to(project).parts)
    )


def reject_files(project: Path) -> list[str]:
    """``*.rej`` files left by a rejected patch, ignored by git or not."""
    found = []
    for path in project.rglob("*.rej"):
        parts = set(path.relative_to(project).parts)
        if path.is_file() and not _SKIP_DIRS & parts:
            found.append(path.relative_to(project).as_posix())
    return sorted(found)


def conflicted_files(project: Path, candidates: list[str] | None = None) -> list[str]:
    """Files holding conflict markers, among ``candidates`` (default: every project file)."""
    names = project_files(project) if candidates is None else candidates
    return sorted(n for n in names if has_conflict_markers(project / n))


def list_files(root: Path) -> tuple[str, ...]:
    """Every file under ``root`` (POSIX paths relative to it, sorted), git's own left out."""
    return tuple(
        sorted(
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if not p.is_dir() and ".git" not in p.relative_to(root).parts
        )
    )
