"""`mlops-new check`: does a generated project conform to its organisation's conventions?

Read-only: the project is never modified (the fresh render for protected files goes to a
temporary folder). The report lists findings; the CLI turns its status into the exit code:
0 conforms, 1 a violation, 2 only an update is available.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from generator import _copier
from generator._profile import LoadedProfile, policy_violations, protected, refused_source
from generator._project import (
    AnswersProblem,
    conflicted_files,
    list_files,
    load_answers,
    parse_version,
    reject_files,
    release_tags,
    user_answers,
)
from generator._vcs import is_work_tree
from generator.errors import MlopsNewError, TemplateError

Severity = Literal["violation", "update"]
Status = Literal["conforms", "update-available", "violation"]

#: Every finding kind, with its severity (documented in docs/organisation.md).
KINDS: dict[str, Severity] = {
    "answers-missing": "violation",
    "answers-unparseable": "violation",
    "source-not-allowed": "violation",
    "source-unreachable": "violation",
    "locked-answer": "violation",
    "disallowed-answer": "violation",
    "protected-modified": "violation",
    "protected-missing": "violation",
    "conflict-marker": "violation",
    "rej-file": "violation",
    "version-lag": "violation",
    "update-available": "update",
}
EXIT_CODES: dict[Status, int] = {"conforms": 0, "violation": 1, "update-available": 2}


@dataclass(frozen=True)
class Finding:
    """One thing ``check`` found; ``message`` is one line and says how to fix it."""

    kind: str
    message: str
    path: str | None = None

    @property
    def severity(self) -> Severity:
        return KINDS[self.kind]


@dataclass(frozen=True)
class CheckReport:
    """The outcome of ``check``."""

    project: Path
    findings: tuple[Finding, ...]
    source: str | None = None
    current: str | None = None
    latest: str | None = None
    behind: int | None = None
    profile: Path | None = None
    checked_protected: tuple[str, ...] = field(default=())

    @property
    def status(self) -> Status:
        severities = {f.severity for f in self.findings}
        if "violation" in severities:
            return "violation"
        return "update-available" if "update" in severities else "conforms"

    @property
    def conforms(self) -> bool:
        return self.status == "conforms"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document."""
        return {
            "project": str(self.project),
            "conforms": self.conforms,
            "status": self.status,
            "exit_code": self.exit_code,
            "source": self.source,
            "current": self.current,
            "latest": self.latest,
            "behind": self.behind,
            "profile": str(self.profile) if self.profile else None,
            "findings": [{**asdict(f), "severity": f.severity} for f in self.findings],
        }


def check(
    project: Path, *, profile: LoadedProfile | None = None, trust: bool = False
) -> CheckReport:
    """Check ``project`` against its answers, its template and ``profile``; never modifies it."""
    project = project.expanduser().absolute()
    profile_path = profile.path if profile else None
    if not project.is_dir():
        missing = Finding("answers-missing", f"{str(project)!r} is not a directory")
        return CheckReport(project, (missing,), profile=profile_path)
    findings: list[Finding] = []
    try:
        answers = load_answers(project)
    except AnswersProblem as exc:
        first = Finding(exc.kind, str(exc), ".copier-answers.yml")
        # A project whose answers file was lost is still a repository worth scanning; any other
        # folder (a home directory, /tmp) is not a project: say so without reading all of it.
        markers = _markers(project) if is_work_tree(project) else []
        return CheckReport(project, (first, *markers), profile=profile_path)
    markers = _markers(project)

    source, commit = str(answers["_src_path"]), str(answers["_commit"])
    refusal = refused_source(profile, source)
    if refusal:
        fix = "; regenerate from the organisation's template"
        findings.append(Finding("source-not-allowed", refusal + fix, ".copier-answers.yml"))
    for kind, key, message in policy_violations(profile, user_answers(answers)):
        fix = (
            f"; run `mlops-new update --data {key}=...` with an allowed value"
            if kind == "disallowed-answer"
            else f"; run `mlops-new update --data {key}=...` with the locked value"
        )
        findings.append(Finding(kind, message + fix, ".copier-answers.yml"))

    latest, behind, version_findings = _versions(source, commit, profile)
    findings.extend(version_findings)
    checked: list[str] = []
    if profile is not None and profile.profile.protected_files:
        protected_findings, checked = _protected(project, source, commit, answers, profile, trust)
        findings.extend(protected_findings)
    findings.extend(markers)
    return CheckReport(
        project,
        tuple(findings),
        source=source,
        current=commit,
        latest=latest,
        behind=behind,
        profile=profile_path,
        checked_protected=tuple(checked),
    )


def _markers(project: Path) -> list[Finding]:
    found = [
        Finding(
            "conflict-marker",
            f"{name} holds conflict markers from a merge or update; resolve them and commit",
            name,
        )
        for name in conflicted_files(project)
    ]
    found += [
        Finding(
            "rej-file",
            f"{name} is a rejected update hunk; apply it by hand to"
            f" {name.removesuffix('.rej')}, then delete it",
            name,
        )
        for name in reject_files(project)
    ]
    return found


def _versions(
    source: str, commit: str, profile: LoadedProfile | None
) -> tuple[str | None, int | None, list[Finding]]:
    """Latest release tag, how many releases behind it the project is, and the findings."""
    try:
        tags = release_tags(source)
    except OSError as exc:
        return (
            None,
            None,
            [
                Finding(
                    "source-unreachable",
                    f"cannot list the tags of template {source!r} ({exc}); check the network"
                    " and your access to it",
                    ".copier-answers.yml",
                )
            ],
        )
    if not tags:
        return None, None, []
    latest = tags[-1][1]
    current = parse_version(commit)
    newer = [ref for version, ref in tags if current is None or version > current]
    behind = len(newer)
    if behind == 0:
        return latest, 0, []
    allowed_lag = profile.profile.allowed_lag if profile else None
    releases = "release" if behind == 1 else "releases"
    if allowed_lag is not None and behind > allowed_lag:
        message = (
            f"template {commit} is {behind} {releases} behind {latest}, more than the"
            f" {allowed_lag} the profile allows; run `mlops-new update`"
        )
        return latest, behind, [Finding("version-lag", message, ".copier-answers.yml")]
    message = f"template {latest} is available ({behind} {releases} after {commit});"
    message += " run `mlops-new update`"
    return latest, behind, [Finding("update-available", message, ".copier-answers.yml")]


def _protected(
    project: Path,
    source: str,
    commit: str,
    answers: dict[str, Any],
    profile: LoadedProfile,
    trust: bool,
) -> tuple[list[Finding], list[str]]:
    """Compare protected files byte for byte with a fresh render of the project's version."""
    scratch = Path(tempfile.mkdtemp(prefix="mlops-new-check."))
    try:
        fresh = scratch / "fresh"
        try:
            _copier.copy(
                source,
                fresh,
                data=user_answers(answers),
                vcs_ref=commit,
                failure=TemplateError,
                trust_hint="pass --trust only if you trust this template",
                skip_tasks=True,
                unsafe=trust,
            )
        except (MlopsNewError, OSError) as exc:
            detail = str(exc)
            message = (
                f"cannot render template {source!r} at {commit} to compare protected files"
                f" ({detail})"
            )
            return [Finding("source-unreachable", message, ".copier-answers.yml")], []
        names = protected(profile, list_files(fresh))
        findings: list[Finding] = []
        for name in names:
            mine = project / name
            if not mine.is_file():
                findings.append(
                    Finding(
                        "protected-missing",
                        f"{name} is protected by the profile but missing; restore it with"
                        f" `git checkout <last good commit> -- {name}` or"
                        " `mlops-new update` (its content must match the template)",
                        name,
                    )
                )
            elif mine.read_bytes() != (fresh / name).read_bytes():
                findings.append(
                    Finding(
                        "protected-modified",
                        f"{name} is protected by the profile and differs from the template at"
                        f" {commit}; revert your edits (`git diff` against the template's"
                        " version) and propose the change to the platform team instead",
                        name,
                    )
                )
        return findings, names
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


__all__ = ["KINDS", "CheckReport", "Finding", "check"]
