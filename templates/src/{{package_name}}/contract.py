"""The data contract: which columns the model may use, of what kind, within which bounds.

``make contract`` infers it from the raw data into ``contract.yaml``, a file people review and
commit, and compares new data with the committed file: a breaking change (a removed column, a
changed kind, a new target class) fails until it is accepted (``make contract ACCEPT=1``). What
is inferred, and why, is written in the file itself (docs: "Your data").

This module needs only pandas, NumPy and PyYAML, and imports nothing else from the package, so it
can also be loaded on its own by path (mlops-new does, to check a table before it makes a project).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

#: The contract travels inside the package: in the wheel, in every image, beside its readers.
CONTRACT_FILE = Path(__file__).with_name("contract.yaml")
#: ``data.source`` values naming the examples scikit-learn ships (no download).
BUNDLED = {"bundled:breast_cancer": "load_breast_cancer", "bundled:diabetes": "load_diabetes"}
VERSION = 1
TASKS = ("binary", "multiclass", "regression")
#: Names that mark a column as an identifier (with nearly unique values), after normalisation.
_IDENTIFIER = re.compile(
    r"^(id|uuid|guid|index|key|row(_?num(ber)?)?|unnamed_\d+)$|_(id|uuid|key)$"
)
_TRUTHY = {"1", "true", "yes", "y", "positive", "pos"}


class ContractError(ValueError):
    """The data cannot get a contract (or break it); the message is one line for the user."""


@dataclass(frozen=True)
class Settings:
    """The thresholds of inference; each one is written into the contract it produced."""

    #: Text with at most this many distinct values is categorical; more is free text.
    max_categories: int = 30
    #: Integers with at most this many distinct values are category codes, not quantities.
    max_integer_codes: int = 5
    #: An integer target with at most this many distinct values is a class label.
    max_classes: int = 20
    #: A column whose values are at least this share distinct is an identifier or free text.
    unique_share: float = 0.95
    #: The smallest class below this share of rows is a heavy imbalance (a warning).
    imbalance_share: float = 0.1
    #: A single feature scoring this well alone (AUC or R²) is likely leakage (a warning).
    leakage_score: float = 0.99
    #: Rows inspected for leakage (a seeded sample beyond that).
    sample_rows: int = 100_000
    #: A number beyond this many interquartile ranges of the quartiles is an outlier; each
    #: numeric feature records the data's own share of them (``observed.outside``), the base of
    #: the outlier check (params.yaml's ``quality.outlier_iqr_factor`` is the same by default).
    outlier_iqr_factor: float = 4.0


def normalise_name(name: object) -> str:
    """``"Mean Radius"`` -> ``"mean_radius"``: lower case, runs of other characters as ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def normalise_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with normalised column names; refuses duplicates and non-identifiers."""
    names = [normalise_name(column) for column in frame.columns]
    for original, name in zip(frame.columns, names, strict=True):
        if not name.isidentifier():
            raise ContractError(
                f"column {str(original)!r} is not a valid identifier after normalisation"
                f" ({name!r}): rename it in the source"
            )
    seen: dict[str, object] = {}
    for original, name in zip(frame.columns, names, strict=True):
        if name in seen:
            raise ContractError(
                f"columns {str(seen[name])!r} and {str(original)!r} are both {name!r} after"
                " normalisation: rename one in the source"
            )
        seen[name] = original
    return frame.set_axis(names, axis=1)


def infer(
    frame: pd.DataFrame,
    target: str,
    *,
    task: str | None = None,
    min_rows: int = 1,
    settings: Settings = Settings(),
) -> dict[str, Any]:
    """The contract of ``frame`` (normalised names) for predicting ``target``.

    ``task`` overrides the inferred one: ``classification`` (binary or multiclass by the number
    of labels), ``regression``, or one of :data:`TASKS`. Raises :class:`ContractError`.
    """
    if target not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:12]))
        raise ContractError(f"target {target!r} is not a column; the columns are: {shown}")
    has_target = frame[target].notna()
    labelled = frame if has_target.all() else frame[has_target]
    missing_target = len(frame) - len(labelled)
    if len(labelled) < min_rows:
        raise ContractError(
            f"{len(labelled)} rows with a target ({missing_target} without one dropped):"
            f" at least {min_rows} are needed for the quality gate"
        )
    target_section = _target(labelled[target], task, settings)
    target_section["missing_dropped"] = missing_target
    features: dict[str, dict[str, Any]] = {}
    dropped: dict[str, str] = {}
    for column, kind in column_kinds(frame, settings, target=target).items():
        if isinstance(kind, str):
            dropped[column] = kind
        else:
            features[column] = kind
    if not features:
        reasons = "; ".join(f"{name}: {why}" for name, why in list(dropped.items())[:5])
        raise ContractError(f"every feature was dropped ({reasons})")
    warnings = _warnings(labelled, target, target_section, features, settings)
    return {
        "version": VERSION,
        "rows": len(labelled),
        # Rows identical to an earlier one (every column): the data's own rate, which the
        # duplicate check allows (a survey of a few answers repeats itself; a join bug doubles).
        "duplicates": round(float(labelled.duplicated().mean()), 4),
        "target": target_section,
        "features": features,
        "dropped": dropped,
        "warnings": warnings,
        "settings": dict(vars(settings)),
    }


def column_kinds(
    frame: pd.DataFrame, settings: Settings = Settings(), *, target: str | None = None
) -> dict[str, dict[str, Any] | str]:
    """Each column of ``frame`` but ``target`` as a feature: its contract (a ``features`` entry)
    or why it is dropped (a ``dropped`` entry), judged on the rows with a target; a row number on
    every row (dropping rows without a target leaves gaps in it). mlops-new shows them when it
    asks which column to predict."""
    rows = frame
    if target is not None and not (has_target := frame[target].notna()).all():
        rows = frame[has_target]
    return {
        str(column): _row_number(frame[column]) or _feature(str(column), rows[column], settings)
        for column in frame.columns
        if column != target
    }


def _task(values: pd.Series, task: str | None, settings: Settings) -> str:
    """The inferred task, or ``task`` when given (``classification`` picks binary/multiclass)."""
    if task in TASKS:
        return task
    if task != "regression" and (task == "classification" or _looks_like_labels(values, settings)):
        return "binary" if values.nunique() <= 2 else "multiclass"
    return "regression"


def _target(values: pd.Series, task: str | None, settings: Settings) -> dict[str, Any]:
    name = str(values.name)
    chosen = _task(values, task, settings)
    if chosen == "regression":
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.isna().any():
            raise ContractError(f"target {name!r} is not numeric: it cannot be a regression target")
        if numbers.nunique() < 2:
            raise ContractError(f"target {name!r} has a single value: there is nothing to predict")
        observed = {
            "min": _number(numbers.min()),
            "max": _number(numbers.max()),
            "mean": _number(numbers.mean()),
            "std": _number(numbers.std()),
        }
        return {"name": name, "task": chosen, "observed": observed}
    labels = sorted({_plain(value) for value in values.unique()}, key=_label_order)
    if len(labels) < 2:
        raise ContractError(
            f"target {name!r} has a single class ({labels[0]!r}): a classifier needs two"
        )
    counted = values.value_counts(normalize=True)
    shares = pd.Series({_plain(label): share for label, share in counted.items()})
    section: dict[str, Any] = {
        "name": name,
        "task": chosen,
        "labels": labels,
        "balance": {str(label): round(float(shares[label]), 4) for label in labels},
    }
    if chosen == "binary":
        section["positive"] = _positive(labels, shares)
    return section


def _looks_like_labels(values: pd.Series, settings: Settings) -> bool:
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return True
    integral = bool(np.all(np.mod(values.to_numpy(dtype="float64"), 1) == 0))
    return integral and values.nunique() <= settings.max_classes


def _positive(labels: list[Any], shares: pd.Series) -> Any:
    """The label meaning "yes": 1, True, "Yes", "positive"...; else the rarer class."""
    for label in reversed(labels):
        if str(label).strip().lower() in _TRUTHY:
            return label
    return min(labels, key=lambda label: (float(shares[label]), _label_order(label)))


def _feature(name: str, values: pd.Series, settings: Settings) -> dict[str, Any] | str:
    """The contract of one column, or why it is dropped.

    Distinct values are counted only where the answer depends on them, and on a sample first
    where a sample can already tell: counting a million floats is most of the cost.
    """
    missing = values.isna()
    nullable = bool(missing.any())
    present = values[~missing] if nullable else values
    if present.empty:
        return "constant: no value at all"
    if pd.api.types.is_datetime64_any_dtype(values) or _dates(present):
        return "date/time: dropped, not derived (add features such as the weekday in features.py)"
    if pd.api.types.is_bool_dtype(values):
        if present.all() or not present.any():
            return f"constant: only {_plain(present.iloc[0])!r}"
        return {"type": "categorical", "dtype": "boolean", "nullable": nullable,
                "categories": [False, True]}  # fmt: skip
    if pd.api.types.is_numeric_dtype(values):
        return _number_column(name, present.to_numpy(dtype="float64"), nullable, settings)
    if _numbers_as_text(present):  # a CSV read without types
        return _feature(name, pd.to_numeric(values.astype("string"), errors="coerce"), settings)
    sample = present.iloc[: settings.sample_rows]
    if sample.nunique() > settings.max_categories:
        distinct = int(present.nunique())
    else:
        distinct = len(categories := sorted({str(value) for value in present.unique()}))
        if distinct == 1:
            return f"constant: only {categories[0]!r}"
        if distinct <= settings.max_categories and not _identifier(
            name, distinct, len(present), settings.unique_share
        ):
            return {"type": "categorical", "dtype": "string", "nullable": nullable,
                    "categories": categories}  # fmt: skip
    if _identifier(name, distinct, len(present), settings.unique_share):
        return f"identifier: {distinct} distinct values in {len(present)} rows"
    if distinct / len(present) >= settings.unique_share:
        return f"free text or identifier: {distinct} distinct values in {len(present)} rows"
    return (
        f"high cardinality: {distinct} distinct values, more than max_categories"
        f" ({settings.max_categories}); group them in the source to use it"
    )


def _identifier(name: str, distinct: int, rows: int, share: float) -> bool:
    """A name like ``id``/``*_id``/``uuid``/``index`` with (nearly) one value per row."""
    return bool(_IDENTIFIER.search(name)) and distinct / rows >= share


def _number_column(
    name: str, numbers: np.ndarray, nullable: bool, settings: Settings
) -> dict[str, Any] | str:
    low, high = float(numbers.min()), float(numbers.max())
    if low == high:
        return f"constant: only {_plain(low)!r}"
    integral = bool(np.array_equal(numbers, np.floor(numbers)))
    if _IDENTIFIER.search(name):
        distinct = len(np.unique(numbers))
        if _identifier(name, distinct, len(numbers), settings.unique_share):
            return f"identifier: {distinct} distinct values in {len(numbers)} rows"
    codes = settings.max_integer_codes
    if integral and len(np.unique(numbers[: settings.sample_rows])) <= codes:
        levels = np.unique(numbers)
        if len(levels) <= codes:
            return {"type": "categorical", "dtype": "integer", "nullable": nullable,
                    "categories": [int(level) for level in levels]}  # fmt: skip
    return _numeric(numbers, integral, nullable, low, high, settings)


def _numbers_as_text(present: pd.Series) -> bool:
    """Text that is all numbers: a quick look at a few values first, then all of them."""
    if pd.to_numeric(present.head(100).astype(str), errors="coerce").isna().any():
        return False
    return bool(pd.to_numeric(present.astype(str), errors="coerce").notna().all())


def _numeric(
    numbers: np.ndarray,
    integral: bool,
    nullable: bool,
    low: float,
    high: float,
    settings: Settings,
) -> dict[str, Any]:
    """Bounds with headroom: never below 0 for a column that is never negative (a count, a
    size), else one observed span beyond the observed minimum; one span above the maximum. The
    observed statistics include the quartiles and the share of values beyond the outlier fences
    (``outlier_iqr_factor`` interquartile ranges of them): a skewed feature has its own tail."""
    span = high - low
    lower = 0.0 if low >= 0 else low - span
    upper = high + span
    q25, q75 = (float(q) for q in np.quantile(numbers, [0.25, 0.75]))
    std = float(numbers.std(ddof=1)) if len(numbers) > 1 else 0.0
    fence_low, fence_high = outlier_fences(q25, q75, std, settings.outlier_iqr_factor)
    outside = float(np.mean((numbers < fence_low) | (numbers > fence_high)))
    return {
        "type": "numeric",
        "dtype": "integer" if integral else "float",
        "nullable": nullable,
        "min": _number(math.floor(lower) if integral else lower),
        "max": _number(math.ceil(upper) if integral else upper),
        "observed": {
            "min": _number(low),
            "max": _number(high),
            "mean": _number(numbers.mean()),
            "std": _number(std),
            "q25": _number(q25),
            "q75": _number(q75),
            "outside": round(outside, 4),
        },
    }


def outlier_fences(q25: float, q75: float, std: float, factor: float) -> tuple[float, float]:
    """Values beyond ``factor`` interquartile ranges of the quartiles are outliers (a feature
    mostly one value, with no interquartile range, uses its standard deviation)."""
    spread = q75 - q25
    if not spread > 0:
        spread = std if std > 0 else 1.0
    return q25 - factor * spread, q75 + factor * spread


def _dates(present: pd.Series) -> bool:
    """Text that parses as dates (at least 95 % of a sample, and not plain numbers)."""
    if pd.api.types.is_numeric_dtype(present) or pd.api.types.is_bool_dtype(present):
        return False
    sample = present.head(200).astype(str)
    if pd.to_numeric(sample, errors="coerce").notna().mean() > 0.5:
        return False
    if not sample.str.contains(r"\d", regex=True).all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.95)


def _row_number(values: pd.Series) -> str | None:
    """Why ``values`` is a row number (whole numbers, each larger than the one before, with at
    most as many gaps as values: R's row names, a subset's index), else None."""
    if (
        len(values) < 3
        or not pd.api.types.is_numeric_dtype(values)
        or pd.api.types.is_bool_dtype(values)
        or values.isna().any()
    ):
        return None
    numbers = values.to_numpy(dtype="float64")
    steps = np.diff(numbers)
    if not (np.all(steps > 0) and np.array_equal(numbers, np.floor(numbers))):
        return None
    if numbers[-1] - numbers[0] + 1 > 2 * len(numbers):
        return None
    consecutive = bool(np.all(steps == 1))
    return (
        f"identifier: the row number ({len(numbers)} consecutive integers)"
        if consecutive
        else f"identifier: the row number ({len(numbers)} increasing integers)"
    )


def _warnings(
    frame: pd.DataFrame,
    target: str,
    section: dict[str, Any],
    features: dict[str, dict[str, Any]],
    settings: Settings,
) -> list[str]:
    found: list[str] = []
    if section["task"] != "regression":
        rarest = min(section["balance"].items(), key=lambda item: item[1])
        if rarest[1] < settings.imbalance_share:
            found.append(
                f"class imbalance: {rarest[0]!r} is {rarest[1]:.1%} of the rows; accuracy is no"
                " quality gate here (the primary metric and class weights take it into account)"
            )
    sample = (
        frame.sample(settings.sample_rows, random_state=0)
        if len(frame) > settings.sample_rows
        else frame
    )
    y = sample[target]
    positive = (y == section["positive"]).to_numpy() if section["task"] == "binary" else None
    alone: list[str] = []
    for name, spec in features.items():
        score = _alone(sample[name], y, positive, section["task"], spec)
        if score is not None and score >= settings.leakage_score:
            alone.append(name)
            found.append(
                f"likely leakage: {name!r} alone predicts the target (score {score:.3f}); check it"
                " is known before the target is, or drop it (model.exclude_features)"
            )
    together = _together(sample, target, section["task"], features, settings)
    if together is not None and not set(together[0]) <= set(alone):
        names, score = together
        measure = "R²" if section["task"] == "regression" else "balanced accuracy"
        found.append(
            f"likely leakage: {', '.join(map(repr, names))} together predict the target almost"
            f" exactly (a linear model of them: held-out {measure} {score:.3f}); check they are"
            " known before the target is, or drop them (model.exclude_features)"
        )
    return found


#: Rows the joint leakage check fits and scores a linear model on (half each).
_TOGETHER_ROWS = 10_000
#: Features the joint leakage check names at most (chosen greedily).
_TOGETHER_NAMES = 5


def _together(
    frame: pd.DataFrame,
    target: str,
    task: str,
    features: dict[str, dict[str, Any]],
    settings: Settings,
) -> tuple[list[str], float] | None:
    """The fewest features (greedily, at most five) with which a least-squares linear model,
    fitted on half of the rows, reproduces the target on the other half almost exactly: held-out
    R² (regression) or balanced accuracy (classification) of at least ``leakage_score``. None
    when every feature together does not (a target that is a function of several features, such
    as a total or an average of its parts, is caught here; one feature alone, by :func:`_alone`).
    """
    rows = frame if len(frame) <= _TOGETHER_ROWS else frame.sample(_TOGETHER_ROWS, random_state=0)
    if len(rows) < 40:
        return None
    blocks = {name: _design(rows[name], spec) for name, spec in features.items()}
    if task == "regression":
        answers = rows[target].to_numpy(dtype="float64")[:, None]
    else:
        texts = rows[target].map(str).to_numpy()
        classes, codes = np.unique(texts, return_inverse=True)
        answers = (codes[:, None] == np.arange(len(classes))).astype("float64")
    order = np.random.default_rng(0).permutation(len(rows))
    fit, held = order[: len(rows) // 2], order[len(rows) // 2 :]

    def score(names: list[str]) -> float:
        design = np.hstack([np.ones((len(rows), 1)), *(blocks[name] for name in names)])
        coefficients = np.linalg.lstsq(design[fit], answers[fit], rcond=None)[0]
        predicted = design[held] @ coefficients
        if task == "regression":
            actual = answers[held, 0]
            total = float(np.sum((actual - actual.mean()) ** 2))
            return 1.0 - float(np.sum((actual - predicted[:, 0]) ** 2)) / total if total else 0.0
        truth, guess = codes[held], predicted.argmax(axis=1)
        recalls = [float(np.mean(guess[truth == c] == c)) for c in np.unique(truth)]
        return float(np.mean(recalls))

    names = list(features)
    if score(names) < settings.leakage_score:
        return None
    chosen: list[str] = []
    best = 0.0
    while len(chosen) < min(_TOGETHER_NAMES, len(names)) and best < settings.leakage_score:
        remaining = [name for name in names if name not in chosen]
        scores = {name: score([*chosen, name]) for name in remaining}
        pick = max(remaining, key=lambda name: scores[name])
        chosen.append(pick)
        best = scores[pick]
    return chosen, round(best if best >= settings.leakage_score else score(names), 6)


def _design(values: pd.Series, spec: dict[str, Any]) -> np.ndarray:
    """One feature as columns of a linear model: a number standardised (missing as the median),
    a category one-hot (missing as none)."""
    if spec["type"] == "numeric":
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        middle = float(numbers.median()) if numbers.notna().any() else 0.0
        filled = numbers.fillna(middle).to_numpy(dtype="float64")
        spread = float(filled.std())
        column: np.ndarray = (filled - filled.mean()) / (spread if spread > 0 else 1.0)
        return column[:, None]
    texts = values.map(lambda value: "" if pd.isna(value) else str(value)).to_numpy()
    known = np.asarray([str(category) for category in spec["categories"]], dtype=object)
    return np.asarray(texts[:, None] == known[None, :], dtype="float64")


def _alone(
    feature: pd.Series,
    target: pd.Series,
    positive: np.ndarray | None,
    task: str,
    spec: dict[str, Any],
) -> float | None:
    """How well one feature alone predicts the target: ROC AUC (binary, either direction),
    r² of a straight line or of ranks (regression), purity of its categories (classification)."""
    present = feature.notna().to_numpy()
    if present.sum() < 10:
        return None
    x, y = feature[present], target[present]
    if spec["type"] == "categorical":
        if task == "regression":
            return None
        pairs = pd.DataFrame({"x": x.to_numpy(), "y": y.to_numpy()}).value_counts()
        return float(pairs.groupby(level=0).max().sum() / len(x))
    if positive is not None:
        hits = positive[present]
        count = int(hits.sum())
        if count in (0, len(x)):
            return None
        ranks = x.rank().to_numpy()
        auc = (ranks[hits].sum() - count * (count + 1) / 2) / (count * (len(x) - count))
        return float(max(auc, 1 - auc))
    if task == "regression":
        # Pearson's r² (a straight line) or Spearman's (any monotone curve, such as a logarithm).
        numbers, answers = x.astype("float64"), y.astype("float64")
        linear = np.corrcoef(numbers, answers)[0, 1]
        ranked = np.corrcoef(numbers.rank(), answers.rank())[0, 1]
        scores = [float(r**2) for r in (linear, ranked) if not np.isnan(r)]
        return max(scores) if scores else None
    return None


def _plain(value: Any) -> Any:
    """A value as YAML writes it plainly: numpy scalars as Python's, integral floats as ints."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _label_order(label: Any) -> tuple[str, Any]:
    return (type(label).__name__, label)


def _number(value: Any) -> float | int:
    value = _plain(value)
    return value if isinstance(value, int) else round(float(value), 6)


@dataclass(frozen=True)
class Change:
    """One difference between the committed contract and the data's."""

    column: str
    detail: str
    breaking: bool

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'change'}: {self.column}: {self.detail}"


def diff(committed: Mapping[str, Any], inferred: Mapping[str, Any]) -> list[Change]:
    """What changed from ``committed`` to ``inferred``; removed columns, changed kinds and new
    target classes are breaking."""
    changes: list[Change] = []
    old_target, new_target = committed["target"], inferred["target"]
    was, now = old_target["task"], new_target["task"]
    if old_target["name"] != new_target["name"] or ("regression" in (was, now) and was != now):
        changes.append(
            Change("target", f"{old_target['name']} ({was}) -> {new_target['name']} ({now})", True)
        )
    elif "labels" in old_target:
        added = [label for label in new_target["labels"] if label not in old_target["labels"]]
        gone = [label for label in old_target["labels"] if label not in new_target["labels"]]
        if added:
            changes.append(Change(old_target["name"], f"new target classes {added}", True))
        if gone:
            detail = f"target classes no longer seen {gone}"
            changes.append(Change(old_target["name"], detail, False))
    old, new = committed["features"], inferred["features"]
    for name in old:
        if name not in new:
            why = inferred.get("dropped", {}).get(name, "not in the data")
            changes.append(Change(name, f"removed ({why})", True))
    for name, spec in new.items():
        if name not in old:
            changes.append(Change(name, f"new {spec['type']} column", False))
            continue
        before = old[name]
        if (before["type"], before.get("dtype")) != (spec["type"], spec.get("dtype")):
            changes.append(
                Change(
                    name,
                    f"{before['type']} ({before.get('dtype')})"
                    f" -> {spec['type']} ({spec.get('dtype')})",
                    True,
                )
            )
            continue
        if spec["nullable"] and not before["nullable"]:
            changes.append(Change(name, "now has missing values", False))
        if spec["type"] == "categorical":
            added = [c for c in spec["categories"] if c not in before["categories"]]
            if added:
                changes.append(Change(name, f"new categories {added}", False))
        else:
            observed = spec["observed"]
            if observed["min"] < before["min"] or observed["max"] > before["max"]:
                changes.append(
                    Change(
                        name,
                        f"values [{observed['min']}, {observed['max']}] outside the bounds"
                        f" [{before['min']}, {before['max']}]",
                        False,
                    )
                )
    return changes


def render(contract: Mapping[str, Any], source: str) -> str:
    """``contract.yaml``'s text: a header saying what it is and how it was made, then YAML."""
    header = (
        "# The data contract: which columns the model may use, of what kind, within which\n"
        f"# bounds. Inferred by `make contract` from {source} ({contract['rows']} rows with a\n"
        "# target). Review it and commit it; edit it to correct the inference (a kind, a bound,\n"
        "# a category). `make contract` compares new data with it; `make contract ACCEPT=1`\n"
        "# rewrites it.\n"
    )
    body = yaml.dump(_flow_leaves(dict(contract)), Dumper=_Dumper, sort_keys=False, width=100)
    return header + body


class _Flow(list[Any]):
    """A list written on one line: ``[a, b, c]``."""


class _FlowMap(dict[str, Any]):
    """A mapping written on one line: ``{min: 0, max: 1}``."""


class _Dumper(yaml.SafeDumper):
    """Block style, except the short leaves (labels, categories, statistics) on one line."""


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)
_Dumper.add_representer(
    _FlowMap, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)


def _flow_leaves(value: Any) -> Any:
    """``value`` with every list of scalars and mapping of scalars marked for one-line output."""
    if isinstance(value, Mapping):
        items = {str(k): _flow_leaves(v) for k, v in value.items()}
        leaf = items and all(not isinstance(v, (dict, list)) for v in items.values())
        short = sum(len(k) + len(str(v)) for k, v in items.items()) < 100
        return _FlowMap(items) if leaf and short else items
    if isinstance(value, list):
        items_list = [_flow_leaves(v) for v in value]
        leaf = all(not isinstance(v, (dict, list)) for v in items_list)
        short = sum(len(str(v)) for v in items_list) < 100
        return _Flow(items_list) if leaf and short else items_list
    return value


def load(path: Path = CONTRACT_FILE) -> dict[str, Any]:
    """The committed contract; raises :class:`ContractError` when missing or malformed."""
    try:
        contract = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"{path} not found: run `make contract` and commit it") from None
    except yaml.YAMLError as exc:
        raise ContractError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(contract, dict) or contract.get("version") != VERSION:
        raise ContractError(f"{path} is not a version-{VERSION} data contract")
    for key in ("target", "features"):
        if not isinstance(contract.get(key), dict):
            raise ContractError(f"{path} has no {key!r} section")
    return contract


def read_source(source: str) -> pd.DataFrame:
    """The data ``source`` names (``params.yaml``'s ``data.source``) with normalised column names:
    a bundled example (``bundled:breast_cancer``, ``bundled:diabetes``) or a CSV/Parquet file."""
    if source.startswith("bundled:"):
        if source not in BUNDLED:
            raise ContractError(
                f"unknown bundled data set {source!r}: use one of {sorted(BUNDLED)}"
            )
        from sklearn import datasets  # only the bundled examples need scikit-learn here

        loader = getattr(datasets, BUNDLED[source])
        options = {"scaled": False} if source == "bundled:diabetes" else {}
        return normalise_columns(loader(as_frame=True, **options).frame)
    return read_table(Path(source).expanduser())


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a frame with normalised column names."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            raise ContractError(
                f"{path}: unsupported format {suffix or '(none)'}: use .csv or .parquet"
            )
    except FileNotFoundError:
        raise ContractError(f"{path} not found") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        if isinstance(exc, ContractError):
            raise
        raise ContractError(f"{path} cannot be read: {str(exc).splitlines()[0]}") from None
    return normalise_columns(frame)
