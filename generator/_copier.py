"""The one place mlops-new runs Copier, and turns Copier's exceptions into its own by their type.

Copier reports a bad answer with a plain ``ValueError`` or ``TypeError`` raised while it reads the
answers (its questionnaire, ``copier._user_data``), and everything else with its own exception
types or plumbum's ``ProcessExecutionError`` (a git command that failed). :func:`_translated`
maps each kind to the mlops-new error the caller names, so no caller matches message texts.

Answers to multi-select questions are accepted in the forms people type (``_answers``).

Copier's public ``run_copy``/``run_update`` take no hook, so this module drives its private
``copier._main.Worker`` (9.7+): it needs the worker's template questions before the questionnaire
(to normalise multi-select answers and offer the table's columns), its Jinja environment (to add
mlops-new's filters), and the end of its questionnaire (``_ask``, to make a typed dataset path
absolute). ``tests/test_question_defaults.py``, ``tests/test_interactive.py`` and the weekly
newest-dependencies run (the newest Copier) fail when a release changes any of them.

The user's table (docs/decisions/0002-interactive-target.md): mlops-new adds Jinja filters of its
own to the template's environment (``mlops_new_dataset``, ``mlops_new_target_choices``,
``mlops_new_target_default``). The template's ``dataset`` validator tests for the first one
(``is filter``) to take a ``~`` or relative path, which the worker makes absolute once the
questions are answered; when the questions are asked, :func:`offer_columns` turns ``target``
into a choice among the table's columns. Plain Copier has none of them and asks as before.
"""

from __future__ import annotations

import functools
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

from generator import _data
from generator._answers import normalise_multiselect
from generator._template import git_environment, network_note
from generator.errors import (
    NO_TERMINAL,
    InvalidAnswerError,
    MlopsNewError,
    UsageError,
    one_line,
)

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
        if not defaults:
            offer_columns(worker, data)
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
    refs = (settings.get("vcs_ref"), *([from_ref] if from_ref else []))  # what git checks out
    with (
        _translated(src, failure, trust_hint, network_note(src, refs)),
        _collected_warnings(caught),
        _git_environment(src, refs),
        _worker_class()(data=dict(data), quiet=True, overwrite=True, **settings) as worker,
    ):
        worker.data.update(normalise_multiselect(worker.template.questions_data, data))
        _add_filters(worker, check_dataset=not settings["defaults"] and _data.DATASET not in data)
        yield worker


@functools.cache
def _worker_class() -> type[Any]:
    """Copier's Worker, whose questionnaire ends by making a ``dataset`` answer absolute (a
    ``~`` or relative path typed at the prompt, as :func:`_data.with_absolute_dataset` does for
    ``--data``) before anything is rendered or recorded."""
    from copier._main import Worker  # imported here: Copier takes a while to import

    class _Worker(Worker):
        def _ask(self) -> None:
            super()._ask()
            dataset = self.answers.user.get(_data.DATASET)
            if isinstance(dataset, str) and dataset.strip():
                self.answers.user[_data.DATASET] = _data.absolute(dataset)

    return _Worker


def _add_filters(worker: Any, *, check_dataset: bool) -> None:
    """Register mlops-new's filters in the worker's Jinja environment, reading tables with the
    template's own contract module. ``check_dataset``: the ``dataset`` validator reads the
    table, so that a path that cannot be used is asked again (an answer given with ``--data``
    is checked after rendering instead, exit 12)."""
    template = worker.template
    table = _data.TableColumns(
        Path(template.local_abspath, template.subdirectory, _data.TEMPLATE_CONTRACT)
    )
    filters = worker.jinja_env.filters

    def dataset_problem(value: str) -> str:
        return table.problem(value) if check_dataset and table.available else ""

    def target_choices(value: str) -> str:
        offered = {c.label: c.name for c in table.columns(value)} if value else {}
        return yaml.safe_dump(offered, sort_keys=False, allow_unicode=True, width=1 << 16)

    def target_default(value: str) -> str:
        return table.columns(value)[-1].name

    filters["mlops_new_dataset"] = dataset_problem  # includes/validators.jinja tests for it
    if table.available:  # used by offer_columns' target question
        filters["mlops_new_target_choices"] = target_choices
        filters["mlops_new_target_default"] = target_default


def offer_columns(worker: Any, data: Mapping[str, Any]) -> None:
    """When ``target`` will be asked (no ``--data`` answer for it), make it a choice among the
    columns of the ``dataset`` table (name and kind; the last column by default), keeping its
    validator and ``when``. Without a dataset it stays the bundled example's ``target``."""
    questions = worker.template.questions_data
    details = questions.get(_data.TARGET)
    if not isinstance(details, Mapping) or _data.TARGET in data:
        return
    if "mlops_new_target_choices" not in worker.jinja_env.filters:
        return  # the template has no contract module to read the table with
    without = details.get("default", "")  # the bundled example's target: nothing is asked
    questions[_data.TARGET] = {
        **details,
        "choices": "{{ dataset | mlops_new_target_choices }}",
        "default": "{% if dataset %}{{ dataset | mlops_new_target_default }}{% else %}"
        f"{without}{{% endif %}}",
    }


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
    except KeyboardInterrupt:
        raise  # Ctrl-C at a question (Copier's CopierAnswersInterrupt): the caller's to report
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
