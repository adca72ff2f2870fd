"""The one place mlops-new runs Copier, and turns Copier's exceptions into its own by their type.

Copier reports a bad answer with a plain ``ValueError`` or ``TypeError`` raised while it reads the
answers (its questionnaire, ``copier._user_data``), and everything else with its own exception
types or plumbum's ``ProcessExecutionError`` (a git command that failed). :func:`_translated`
maps each kind to the mlops-new error the caller names, so no caller matches message texts.

Answers to multi-select questions are accepted in the forms people type: ``batch``,
``batch,edge``, ``batch, edge`` and ``[batch, edge]`` (Copier itself takes only a YAML list).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import jinja2
import yaml
from copier.errors import CopierError, CopierWarning, InteractiveSessionError, UnsafeTemplateError
from plumbum import ProcessExecutionError, local

from generator._template import git_environment, network_note
from generator._vcs import one_line
from generator.errors import NO_TERMINAL, InvalidAnswerError, MlopsNewError, UsageError

_QUESTIONNAIRE_MODULE = "copier._user_data"
_QUESTIONNAIRE_METHOD = ("copier._main", "_ask")
#: Copier renders a git template from a temporary clone named so.
_CLONE_MARKER = "copier._vcs.clone."


def copy(
    src: str,
    dst: Path,
    *,
    data: Mapping[str, Any],
    vcs_ref: str | None,
    failure: type[MlopsNewError],
    trust_hint: str,
    defaults: bool = True,
    unsafe: bool = False,
    skip_tasks: bool = False,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Render ``src`` at ``vcs_ref`` into ``dst``; return the template's questions and Copier's
    warnings as one-line messages. Template problems raise ``failure``; bad answers
    :class:`InvalidAnswerError`."""
    caught: list[str] = []
    settings = {"src_path": src, "dst_path": dst, "defaults": defaults, "vcs_ref": vcs_ref}
    settings |= {"unsafe": unsafe, "skip_tasks": skip_tasks}
    with _worker(src, data, failure, trust_hint, caught, settings) as worker:
        questions = dict(worker.template.questions_data)
        worker.run_copy()
    return questions, tuple(caught)


def update(
    project: Path,
    *,
    src: str,
    data: Mapping[str, Any],
    vcs_ref: str,
    conflict: Literal["inline", "rej"],
    failure: type[MlopsNewError],
    trust_hint: str,
    unsafe: bool = False,
    from_ref: str | None = None,
) -> tuple[str, ...]:
    """``copier update`` of ``project`` (at template ref ``from_ref``) to ``vcs_ref`` with
    changed answers ``data``; return Copier's warnings. Errors as for :func:`copy`."""
    caught: list[str] = []
    settings = {"dst_path": project, "defaults": True, "vcs_ref": vcs_ref, "conflict": conflict}
    # Re-read the answers after the "before" migrations, which may rewrite them.
    settings |= {"unsafe": unsafe, "skip_answered": False}
    with _worker(src, data, failure, trust_hint, caught, settings, from_ref) as worker:
        worker.run_update()
    return tuple(caught)


@contextmanager
def _worker(
    src: str,
    data: Mapping[str, Any],
    failure: type[MlopsNewError],
    trust_hint: str,
    caught: list[str],
    settings: dict[str, Any],
    from_ref: str | None = None,
) -> Iterator[Any]:
    """A Copier worker with ``settings``, quiet and overwriting, whose answers ``data`` take the
    forms people type, inside the error translation, the warning collection and the git
    environment that reads the bundled template."""
    from copier._main import Worker  # imported here: Copier takes a while to import

    refs = (settings.get("vcs_ref"), *([from_ref] if from_ref else []))  # what git checks out
    with (
        _translated(src, failure, trust_hint, network_note(src, refs)),
        _collected_warnings(caught),
        _git_environment(src, refs),
        Worker(data=dict(data), quiet=True, overwrite=True, **settings) as worker,
    ):
        worker.data.update(normalise_multiselect(worker.template.questions_data, data))
        yield worker


def normalise_multiselect(questions: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with each answer to a multi-select question given as text turned into a list
    (:func:`split_choices`)."""
    normalised = dict(data)
    for key, value in data.items():
        details = questions.get(key)
        if isinstance(details, Mapping) and details.get("multiselect") and isinstance(value, str):
            normalised[key] = split_choices(key, value)
    return normalised


def split_choices(key: str, text: str) -> list[Any]:
    """The choices of a multi-select answer typed as text: ``batch`` -> ``[batch]``, ``batch,edge``
    or ``batch, edge`` -> ``[batch, edge]``, and ``[batch, edge]`` parsed as YAML; a malformed
    list raises :class:`InvalidAnswerError`."""
    if not text.lstrip().startswith("["):
        return [item.strip() for item in text.split(",") if item.strip()]
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        parsed = None
    if not isinstance(parsed, list):
        raise InvalidAnswerError(
            f"{key}: {text!r} is not a list; write a, b or [a, b] (choices of a multi-select)"
        )
    return parsed


@contextmanager
def _git_environment(src: str, refs: tuple[str | None, ...]) -> Iterator[None]:
    """Give Copier's git processes :func:`generator._template.git_environment` for ``src``:
    Copier runs git through plumbum, whose environment is a copy of ``os.environ`` taken at
    import, and reads its cache folder from ``os.environ``, so both are set, then restored."""
    extra = git_environment(src, refs)
    saved = {key: os.environ.get(key) for key in extra}
    os.environ.update(extra)
    try:
        with local.env(**extra):
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _collected_warnings(into: list[str]) -> Iterator[None]:
    """Collect Copier's warnings into ``into`` as one-line messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    into.extend(one_line(w.message) for w in caught if issubclass(w.category, CopierWarning))


@contextmanager
def _translated(
    src: str, failure: type[MlopsNewError], trust_hint: str, note: str = ""
) -> Iterator[None]:
    try:
        yield
    except MlopsNewError:
        raise
    except UnsafeTemplateError as exc:
        first = str(exc).strip().splitlines()[0].rstrip(".")
        raise failure(f"{first} (template {src!r}); {trust_hint}") from exc
    except InteractiveSessionError as exc:
        raise UsageError(NO_TERMINAL) from exc
    except CopierError as exc:
        raise failure(one_line(exc)) from exc
    except ProcessExecutionError as exc:
        detail = one_line(exc.stderr or exc)
        raise failure(f"cannot read template {src!r}{note}: {detail}") from exc
    except jinja2.TemplateError as exc:
        where = _template_file(exc.__traceback__)
        raise failure(f"template {src!r} does not render{where}: {one_line(exc)}") from exc
    except (ValueError, TypeError) as exc:
        if _from_questionnaire(exc.__traceback__):
            raise InvalidAnswerError(one_line(exc)) from exc
        raise failure(f"cannot read template {src!r}: {one_line(exc)}") from exc


def _from_questionnaire(trace: TracebackType | None) -> bool:
    """Whether the exception was raised while Copier parsed or validated the answers."""
    while trace is not None:
        frame = trace.tb_frame
        module = frame.f_globals.get("__name__")
        if module == _QUESTIONNAIRE_MODULE or (module, frame.f_code.co_name) == (
            _QUESTIONNAIRE_METHOD
        ):
            return True
        trace = trace.tb_next
    return False


def _template_file(trace: TracebackType | None) -> str:
    """`` (in FILE)`` for the last template file of a Jinja traceback (its path inside the
    template when Copier rendered from a clone), else ``""``."""
    found = ""
    while trace is not None:
        name = trace.tb_frame.f_code.co_filename
        if not name.endswith(".py") and not name.startswith("<"):
            _, marker, inside = name.partition(_CLONE_MARKER)
            found = f" (in {inside.partition('/')[2] if marker else name})"
        trace = trace.tb_next
    return found
