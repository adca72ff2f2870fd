"""Organisation profiles: the template source, default, locked and allowed answers, protected files.

A platform team writes one YAML file (see ``docs/acme-profile.yml``, schema
``docs/profile.schema.json``). ``create`` applies it; ``update`` and ``check`` enforce it. Where
a command finds its profile: ``--profile FILE``, else ``$MLOPS_NEW_PROFILE``, else the copy
``create`` left in the project at ``.mlops-new/profile.yml``, else none.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError

from generator._answers import split_choices
from generator._template import is_url
from generator.errors import PolicyError, ProfileError

#: Environment variable naming the profile file when ``--profile`` is not given.
PROFILE_ENV = "MLOPS_NEW_PROFILE"
#: Where ``create`` records the profile inside a project (committed with the project).
PROJECT_PROFILE = ".mlops-new/profile.yml"


class Profile(BaseModel):
    """An organisation's conventions for the projects it generates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str | None = Field(
        default=None,
        description="Template source (git URL or local git repository) used when --template is"
        " not given. A relative path is relative to the profile file.",
    )
    vcs_ref: str | None = Field(
        default=None, description="Template tag, branch or commit used when --vcs-ref is not given."
    )
    allowed_sources: list[str] | None = Field(
        default=None,
        description="Template sources a project may come from; default: [template] when template"
        " is set, any source otherwise.",
    )
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Default answers; --data overrides them."
    )
    locked: dict[str, Any] = Field(
        default_factory=dict, description="Answers no project may change, at create or update."
    )
    allowed: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="Allowed subset of a question's choices; for a multi-select question every"
        " chosen item must be allowed.",
    )
    protected_files: list[str] = Field(
        default_factory=list,
        description="Glob patterns (relative to the project; * stays in one folder, ** crosses"
        " folders) of generated files a project must keep present and unmodified.",
    )
    allowed_lag: NonNegativeInt | None = Field(
        default=None,
        description="How many template releases a project may be behind the latest before"
        " `check` reports a violation; unset: being behind is only 'update available'.",
    )


@dataclass(frozen=True)
class LoadedProfile:
    """A validated profile and the file it came from."""

    profile: Profile
    path: Path

    @property
    def template(self) -> str | None:
        """The template source, with a relative local path made absolute (relative to the file)."""
        return _absolute_source(self.profile.template, self.path.parent)

    def sources(self) -> list[str] | None:
        """Allowed template sources, normalised; None when any source is allowed."""
        raw = self.profile.allowed_sources
        if raw is None:
            raw = [self.profile.template] if self.profile.template else None
        if raw is None:
            return None
        return [normalise_source(_absolute_source(s, self.path.parent) or s) for s in raw]


def schema() -> dict[str, Any]:
    """The JSON schema of a profile file (shipped as ``docs/profile.schema.json``)."""
    result = Profile.model_json_schema()
    result["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    result["title"] = "mlops-new organisation profile"
    return result


def schema_text() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


def load_profile(path: Path) -> LoadedProfile:
    """Read and validate a profile file; any problem is one :class:`ProfileError` line."""
    path = path.expanduser()
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"profile {name}: cannot read it ({exc.strerror or exc})") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ProfileError(f"profile {name}: not valid YAML{where}: {problem}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ProfileError(f"profile {name}: expected a mapping of settings, got {_kind(raw)}")
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(part) for part in error["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = f"unknown setting; expected one of {', '.join(Profile.model_fields)}"
        raise ProfileError(f"profile {name}: {loc}: {message}{more}") from exc
    loaded = LoadedProfile(profile, path.absolute())
    _check_consistency(loaded)
    return loaded


def find_profile(explicit: Path | None, project: Path | None = None) -> LoadedProfile | None:
    """``--profile`` > ``$MLOPS_NEW_PROFILE`` > ``<project>/.mlops-new/profile.yml`` > None."""
    if explicit is not None:
        return load_profile(explicit)
    from_env = os.environ.get(PROFILE_ENV)
    if from_env:
        return load_profile(Path(from_env))
    if project is not None and (project / PROJECT_PROFILE).is_file():
        return load_profile(project / PROJECT_PROFILE)
    return None


def _check_consistency(loaded: LoadedProfile) -> None:
    profile, name = loaded.profile, loaded.path
    for key, value in profile.locked.items():
        if key in profile.allowed and _outside(value, profile.allowed[key]):
            raise ProfileError(
                f"profile {name}: locked.{key}: {value!r} is not among allowed.{key}"
                f" ({', '.join(map(str, profile.allowed[key]))})"
            )
        if key in profile.defaults and not _same(profile.defaults[key], value):
            raise ProfileError(
                f"profile {name}: defaults.{key} contradicts locked.{key}; keep only the lock"
            )
    for key, value in profile.defaults.items():
        if key in profile.allowed and _outside(value, profile.allowed[key]):
            raise ProfileError(
                f"profile {name}: defaults.{key}: {value!r} is not among allowed.{key}"
            )
    for pattern in profile.protected_files:
        if pattern.startswith("/") or ".." in PurePosixPath(pattern).parts:
            raise ProfileError(
                f"profile {name}: protected_files: {pattern!r} must be relative to the project"
            )


def validate_questions(loaded: LoadedProfile, questions: Mapping[str, Mapping[str, Any]]) -> None:
    """Every key the profile sets must be a question, and allowed values must be its choices."""
    profile, name = loaded.profile, loaded.path
    for section in ("defaults", "locked", "allowed"):
        for key in getattr(profile, section):
            if key not in questions:
                raise ProfileError(
                    f"profile {name}: {section}.{key}: the template has no question {key!r}"
                )
    for key, values in profile.allowed.items():
        choices = _choices(questions[key])
        if choices is None:
            continue
        unknown = [v for v in values if v not in choices]
        if unknown:
            raise ProfileError(
                f"profile {name}: allowed.{key}: {', '.join(map(repr, unknown))} is not a choice"
                f" of the template ({', '.join(map(str, choices))})"
            )


def _choices(question: Mapping[str, Any]) -> list[Any] | None:
    choices = question.get("choices")
    if isinstance(choices, dict):
        return list(choices.values())
    if isinstance(choices, list):
        return [c[1] if isinstance(c, list | tuple) and len(c) == 2 else c for c in choices]
    return None


def coerce(value: Any, like: Any = None, key: str = "") -> Any:
    """Turn a ``--data`` string into the type of ``like`` (or of YAML) for comparisons: the text
    forms of a multi-select answer (``a``, ``a,b``, ``[a, b]``) become a list where ``like`` is one,
    or where the text lists several choices."""
    if not isinstance(value, str) or isinstance(like, str):
        return value
    if isinstance(like, list) or (like is None and "," in value):
        return split_choices(key, value)
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    if like is None and not isinstance(parsed, list):
        return value
    return parsed


def policy_violations(
    loaded: LoadedProfile | None, answers: Mapping[str, Any], keys: Iterable[str] | None = None
) -> list[tuple[str, str, str]]:
    """``(kind, key, message)`` for each answer that breaks a lock or falls outside ``allowed``.

    ``kind`` is ``locked-answer`` or ``disallowed-answer``; only ``keys`` are looked at when given.
    """
    if loaded is None:
        return []
    profile = loaded.profile
    found: list[tuple[str, str, str]] = []
    for key in answers if keys is None else keys:
        if key not in answers:
            continue
        if key in profile.locked:
            expected = profile.locked[key]
            value = coerce(answers[key], expected, key)
            if not _same(value, expected):
                found.append(
                    (
                        "locked-answer",
                        key,
                        f"{key} is locked to {_show(expected)} by the profile, not {_show(value)}",
                    )
                )
                continue
        if key in profile.allowed:
            allowed = profile.allowed[key]
            value = coerce(answers[key], key=key)
            if _outside(value, allowed):
                bad = [v for v in value if v not in allowed] if isinstance(value, list) else value
                found.append(
                    (
                        "disallowed-answer",
                        key,
                        f"{key}: {_show(bad)} is not allowed by the profile"
                        f" (allowed: {', '.join(map(str, allowed))})",
                    )
                )
    return found


def enforce(
    loaded: LoadedProfile | None, answers: Mapping[str, Any], keys: Iterable[str] | None = None
) -> None:
    """Raise :class:`PolicyError` for the first answer the profile refuses."""
    problems = policy_violations(loaded, answers, keys)
    if problems:
        raise PolicyError(problems[0][2])


def merge_answers(loaded: LoadedProfile | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """Profile defaults, overridden by the user's ``data``, then the locked answers.

    Raises :class:`PolicyError` if ``data`` contradicts a lock or leaves the allowed values.
    """
    if loaded is None:
        return dict(data)
    enforce(loaded, data)
    return {**loaded.profile.defaults, **data, **loaded.profile.locked}


def normalise_source(source: str) -> str:
    """Compare template sources loosely: no trailing slash or ``.git``, resolved local paths."""
    text = source.strip()
    if not is_url(text):
        text = str(Path(text).expanduser().resolve())
    text = text.rstrip("/")
    return text.removesuffix(".git").rstrip("/")


def source_allowed(loaded: LoadedProfile | None, source: str) -> bool:
    if loaded is None:
        return True
    allowed = loaded.sources()
    return allowed is None or normalise_source(source) in allowed


def refused_source(loaded: LoadedProfile | None, source: str) -> str | None:
    """Why the profile refuses ``source`` as a template, or None when it allows it."""
    if source_allowed(loaded, source):
        return None
    allowed = ", ".join((loaded.sources() if loaded else None) or [])
    return f"template {source!r} is not allowed by the profile (allowed: {allowed})"


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A project-relative glob: ``*``/``?`` stay within a folder, ``**`` crosses folders."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def protected(loaded: LoadedProfile | None, files: Iterable[str]) -> list[str]:
    """The ``files`` (project-relative, ``/``-separated) that the profile protects."""
    if loaded is None or not loaded.profile.protected_files:
        return []
    patterns = [glob_regex(p.removeprefix("./")) for p in loaded.profile.protected_files]
    return sorted(f for f in files if any(p.match(f) for p in patterns))


def _absolute_source(source: str | None, base: Path) -> str | None:
    if source is None or is_url(source):
        return source
    path = Path(source).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def _same(value: Any, expected: Any) -> bool:
    """Equal answers; a multi-select answer's order does not matter."""
    if isinstance(value, list) and isinstance(expected, list):
        return sorted(map(str, value)) == sorted(map(str, expected))
    return bool(value == expected)


def _outside(value: Any, allowed: list[Any]) -> bool:
    if isinstance(value, list):
        return any(item not in allowed for item in value)
    return value not in allowed


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else type(value).__name__
