"""`create --data dataset=FILE --data target=COLUMN`: the user's table in the staged project.

The staged project's own ``src/<package_name>/contract.py`` (loaded by path: it needs only
pandas, NumPy and PyYAML, and pyarrow for Parquet) reads the table and infers its data contract,
so the contract mlops-new writes is exactly the one the project's ``make contract`` would. Both
land in the staging folder only: a table that cannot be read or get a contract raises
:class:`DataError` before anything reaches the destination.

While the questions are asked, the template's own ``contract.py`` (:data:`TEMPLATE_CONTRACT`)
reads the table the ``dataset`` answer names, so that the ``target`` question can offer its
columns (:class:`TableColumns`).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from generator.errors import DataError, InvalidAnswerError, TemplateError, one_line

#: The questions naming the user's data, and the bundled example's question they replace.
DATASET, TARGET, PROBLEM_TYPE = "dataset", "target", "problem_type"
#: Where the imported table goes in the project (``params.yaml``'s ``data.raw_path``); git
#: ignores it: ``make data`` rebuilds it from ``dataset`` and DVC, when chosen, versions it.
RAW_DATA = "data/raw/dataset.parquet"
#: The contract module in the template (below its ``_subdirectory``), read before rendering.
TEMPLATE_CONTRACT = "src/{{package_name}}/contract.py"


@dataclass(frozen=True)
class ImportedData:
    """What :func:`import_dataset` wrote in the staged project, and what it inferred."""

    source: Path
    contract: str  #: the contract file, relative to the project
    data: str  #: the imported table, relative to the project (not committed)
    rows: int
    target: str  #: the target column (normalised name)
    task: str  #: binary, multiclass or regression
    #: Classification: the labels as the data has them (the positive one, when binary); else ().
    labels: tuple[Any, ...]
    positive: Any
    #: Regression: the target's observed minimum and maximum; else None.
    observed: tuple[float, float] | None
    features: dict[str, str]  #: each feature kept -> its kind (:func:`describe_kind`)
    dropped: dict[str, str]  #: each column dropped -> why
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Column:
    """A column of the table, as the ``target`` question offers it."""

    name: str  #: normalised, as the contract names it: the answer recorded for ``target``
    kind: str  #: its kind as a feature, or why it would be dropped (:func:`describe_kind`)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.kind})" if self.kind else self.name


def with_absolute_dataset(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with a ``dataset`` answer made absolute (:func:`absolute`)."""
    answers = dict(data)
    dataset = str(answers.get(DATASET) or "").strip()
    if dataset:
        answers[DATASET] = absolute(dataset)
    return answers


def absolute(path: str) -> str:
    """``path`` with ``~`` expanded and made absolute from the current folder: the ``dataset``
    answer is recorded, and the project reads it from its own folder."""
    return str(Path(path.strip()).expanduser().absolute())


def check_given(
    given: Mapping[str, Any], answers: Mapping[str, Any], *, asking: bool = False
) -> None:
    """Refuse answers the user gave that ``answers`` would silently drop: ``problem_type`` with
    a ``dataset`` (the task then comes from the target column), ``target`` without one; and,
    unless the questions are asked (``asking``), a ``dataset`` without a ``target``."""
    if not answers.get(DATASET) and given.get(TARGET):
        raise InvalidAnswerError(
            f"{TARGET} names the column of {DATASET} to predict: give {DATASET}=FILE too"
            " (the bundled example's target is fixed)"
        )
    if answers.get(DATASET) and PROBLEM_TYPE in given:
        raise InvalidAnswerError(
            f"{PROBLEM_TYPE} picks the bundled example only; with {DATASET} the task is inferred"
            f" from the {TARGET} column (correct it in the data contract, contract.yaml)"
        )
    if answers.get(DATASET) and not str(answers.get(TARGET) or "").strip() and not asking:
        raise InvalidAnswerError(
            f"{TARGET} must name the column of {DATASET} to predict: give {TARGET}=COLUMN too"
        )


def describe_kind(spec: Mapping[str, Any] | str, *, short: bool = False) -> str:
    """A column's kind in a few words, from its contract entry: ``numeric, float``,
    ``categorical, 3 values, nullable``; or, for a dropped column, its reason (``short``: the
    reason's first words, ``identifier``)."""
    if isinstance(spec, str):
        return spec.partition(":")[0] if short else spec
    nullable = ", nullable" if spec.get("nullable") else ""
    if spec.get("type") == "categorical":
        return f"categorical, {len(spec.get('categories') or ())} values{nullable}"
    return f"{spec.get('type', 'unknown')}, {spec.get('dtype', 'unknown')}{nullable}"


class TableColumns:
    """The columns of the table a ``dataset`` answer names, read by the template's own
    ``contract.py`` (``contract_py``) as ``make contract`` reads it; the last table read is
    remembered, so the questions that ask about it read it once."""

    def __init__(self, contract_py: Path) -> None:
        self._contract_py = contract_py
        self._module: ModuleType | None = None
        self._read: tuple[tuple[str, int, int], tuple[Column, ...]] | None = None

    @property
    def available(self) -> bool:
        """Whether the template has a contract module to read tables with."""
        return self._contract_py.is_file()

    def problem(self, dataset: str) -> str:
        """Why the table at ``dataset`` (``~`` or relative allowed) cannot be read, or ``""``."""
        try:
            self.columns(dataset)
        except DataError as exc:
            return str(exc)
        return ""

    def columns(self, dataset: str) -> tuple[Column, ...]:
        """The table's columns, in order; raises :class:`DataError` when it cannot be read (the
        message names the file as it was typed, ``~`` expanded)."""
        path = Path(dataset.strip()).expanduser()
        try:
            stat = path.stat()
        except OSError:
            raise DataError(f"{path} not found") from None
        key = (str(path.absolute()), stat.st_mtime_ns, stat.st_size)
        if self._read is not None and self._read[0] == key:
            return self._read[1]
        module = self._module = self._module or _load(self._contract_py)
        try:
            frame = module.read_table(path)
            kinds = getattr(module, "column_kinds", None)  # a template release before it: names
            described = kinds(frame) if kinds else dict.fromkeys(map(str, frame.columns), "")
        except (module.ContractError, OSError, ValueError, TypeError) as exc:
            detail = one_line(exc)
            raise DataError(detail if str(path) in detail else f"{path}: {detail}") from exc
        found = tuple(
            Column(name, describe_kind(kind, short=True) if kind else "")
            for name, kind in described.items()
        )
        if not found:
            raise DataError(f"{path} has no columns")
        self._read = (key, found)
        return found


def import_dataset(staging: Path, answers: Mapping[str, Any]) -> ImportedData | None:
    """Read the ``dataset`` answer's table, infer its contract for the ``target`` answer, and
    write ``src/<package_name>/contract.yaml`` and :data:`RAW_DATA` in ``staging``; None when
    the project uses the bundled example. Raises :class:`DataError`."""
    dataset = str(answers.get(DATASET) or "")
    if not dataset:
        return None
    package = str(answers["package_name"])
    contract_py = staging / "src" / package / "contract.py"
    module = _load(contract_py)
    source = Path(dataset).expanduser()
    error: type[Exception] = module.ContractError
    try:
        frame = module.read_table(source)
        contract = module.infer(
            frame, module.normalise_name(answers.get(TARGET) or ""), min_rows=_min_rows(staging)
        )
        text = module.render(contract, str(source))
    except (error, OSError, ValueError, TypeError) as exc:
        detail = one_line(exc)
        raise DataError(detail if str(source) in detail else f"{source}: {detail}") from exc
    written = contract_py.with_name("contract.yaml")
    written.write_text(text, encoding="utf-8")
    raw = staging / RAW_DATA
    raw.parent.mkdir(parents=True, exist_ok=True)
    try:
        frame.to_parquet(raw, index=False)
    except (OSError, ValueError, TypeError) as exc:
        raise DataError(f"{source}: cannot be written as Parquet: {one_line(exc)}") from exc
    target = contract["target"]
    observed = target.get("observed")
    return ImportedData(
        source=source,
        contract=written.relative_to(staging).as_posix(),
        data=RAW_DATA,
        rows=int(contract["rows"]),
        target=str(target["name"]),
        task=str(target["task"]),
        labels=tuple(target.get("labels") or ()),
        positive=target.get("positive"),
        observed=(observed["min"], observed["max"]) if observed else None,
        features={str(name): describe_kind(spec) for name, spec in contract["features"].items()},
        dropped={str(name): str(why) for name, why in contract["dropped"].items()},
        warnings=tuple(str(warning) for warning in contract["warnings"]),
    )


def _load(path: Path) -> ModuleType:
    """The staged project's contract module, loaded by path under a private name."""
    if not path.is_file():
        raise TemplateError(
            f"the template asks for {DATASET} but renders no {path.name} in src/ to read it with"
        )
    name = f"_mlops_new_contract_{path.parent.name}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TemplateError(f"cannot load the template's {path.name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    # No __pycache__ in the staged project: it would reach the destination (and git add).
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise TemplateError(f"the template's {path.name} does not load: {one_line(exc)}") from exc
    finally:
        sys.modules.pop(name, None)
        sys.dont_write_bytecode = writes_bytecode
    return module


def _min_rows(staging: Path) -> int:
    """The staged ``params.yaml``'s ``quality.min_rows`` (the quality gate's), else 1."""
    try:
        params = yaml.safe_load((staging / "params.yaml").read_text(encoding="utf-8"))
        value = params["quality"]["min_rows"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return 1
    return value if isinstance(value, int) and value > 0 else 1
