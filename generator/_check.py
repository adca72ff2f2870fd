"""`mlops-new check`: does a generated project conform to its organisation's conventions?

Read-only: the project is never modified (the fresh render for protected files goes to a
temporary folder). The report lists findings; the CLI turns its status into the exit code:
0 conforms, 1 a violation, 2 only an update is available.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

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
    "team-file-missing": "violation",
    "team-file-stale": "violation",
    "version-lag": "violation",
    "update-available": "update",
}
EXIT_CODES: dict[Status, int] = {"conforms": 0, "violation": 1, "update-available": 2}
#: The team's roles (questions since #31): a project that answered them has the team's files.
TEAM_ROLES = ("data_owner", "model_owner", "platform_team")
#: Where GitHub (.github/, the root, docs/) and GitLab (the root, docs/, .gitlab/) read CODEOWNERS.
CODEOWNERS = (".github/CODEOWNERS", ".gitlab/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
CATALOG = "catalog-info.yaml"


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
    findings.extend(_team(project, answers))
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


def _team(project: Path, answers: dict[str, Any]) -> list[Finding]:
    """The team's files (#31), in a project whose answers name its roles: CODEOWNERS routes
    something to each role answered, and the catalog entry describes the committed data
    contract (once ``make catalog`` has written it)."""
    if not any(role in answers for role in TEAM_ROLES):
        return []  # made by a template without them
    found = []
    codeowners = next((name for name in CODEOWNERS if (project / name).is_file()), None)
    if codeowners is None:
        name = f".{answers.get('ci_provider') or 'github'}/CODEOWNERS"
        found.append(_missing(name, "who reviews what"))
    else:
        owners = _owners((project / codeowners).read_text(encoding="utf-8", errors="replace"))
        for role in TEAM_ROLES:
            handle = str(answers.get(role) or "")
            if handle and handle not in owners:
                message = (
                    f"{codeowners} routes nothing to {handle} ({role}); restore its rules"
                    " (`mlops-new update` brings the template's back), or change the answer"
                    f" with `mlops-new update --data {role}=...`"
                )
                found.append(Finding("team-file-stale", message, codeowners))
    catalog = project / CATALOG
    if not catalog.is_file():
        found.append(_missing(CATALOG, "the project's entry in the software catalog"))
        return found
    problem = _catalog_problem(catalog, project / "src" / str(answers.get("package_name")))
    if problem:
        found.append(Finding("team-file-stale", problem, CATALOG))
    return found


def _missing(name: str, what: str) -> Finding:
    message = (
        f"{name} ({what}) is missing; restore it with `git checkout <last good commit> -- {name}`"
        " or from a fresh `mlops-new create` with the same answers"
    )
    return Finding("team-file-missing", message, name)


def _owners(text: str) -> set[str]:
    """Every owner named by an active rule of a CODEOWNERS file."""
    owners: set[str] = set()
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith(("#", "[", "^[")):
            owners.update(word for word in line.split("#", 1)[0].split()[1:])
    return owners


def _catalog_problem(catalog: Path, package: Path) -> str | None:
    """Why the catalog entry is unusable or stale, in one line; None when it is current."""
    fix = "; run `make catalog` and commit it"
    try:
        documents = list(yaml.safe_load_all(catalog.read_text(encoding="utf-8")))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return f"{CATALOG} is not valid YAML ({str(exc).splitlines()[0]}); restore it{fix}"
    models = [
        doc
        for doc in documents
        if isinstance(doc, dict)
        and doc.get("kind") == "Resource"
        and isinstance(doc.get("spec"), dict)
        and doc["spec"].get("type") == "ml-model"
    ]
    if not models or not isinstance(models[0].get("metadata"), dict):
        return f"{CATALOG} describes no model (a Resource of type ml-model); restore it{fix}"
    annotations = models[0]["metadata"].get("annotations") or {}
    recorded = (
        annotations.get("mlops-new.io/contract-sha256") if isinstance(annotations, dict) else None
    )
    contract = package / "contract.yaml"
    if recorded is None or not contract.is_file():
        return None  # not written by `make catalog` yet, or no contract to compare with
    actual = hashlib.sha256(contract.read_bytes()).hexdigest()
    if recorded == actual:
        return None
    where = contract.relative_to(catalog.parent).as_posix()
    return (
        f"{CATALOG} describes the model of another data contract (SHA-256 {str(recorded)[:12]}…)"
        f" than {where} ({actual[:12]}…); train on it, then run `make catalog` and commit"
        f" {CATALOG} (`make ci` fails on it too)"
    )


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
