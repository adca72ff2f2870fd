"""The real-table corpus (tests/corpus.py): its registry holds what issue #24 asks (fast), and a
representative handful of its tables come to what they should, every broken model and corrupted
data caught (slow; `python3 dev.py tables` runs them all, every week in CI)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.corpus import BY_NAME, TABLES, Result, Table, run_table

#: The shapes issue #24 names, each computed from the loaded frames (name -> its tables).
SHAPES = (
    "missing labels", "over 50,000 rows", "all-categorical features", "9 classes or more",
    "a class under 3 %", "under 150 rows, above min_rows", "below min_rows", "boolean target",
    "integer-coded target", "dotted column names", "non-ASCII column names", "a constant column",
    "a near-constant column", "a date column", "a free-text or id column", "heavy imbalance",
    "wide (50 columns or more)", "many identical rows", "a skewed number", "a leaky feature",
    "csv", "parquet",
)  # fmt: skip
MIN_ROWS = 100  # params.yaml's quality.min_rows, which `create` enforces


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {table.name: table.load() for table in TABLES}


def _features(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[table.target, "rownames"], errors="ignore")


def _is_date(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    sample = values.dropna().astype(str).head(50)
    if sample.empty or not sample.str.contains(r"\d{4}-\d\d-\d\d", regex=True).all():
        return False
    return bool(pd.to_datetime(sample, errors="coerce", format="mixed").notna().all())


def _labels(table: Table, frame: pd.DataFrame) -> pd.Series | None:
    """The target's values when it is a classification target (not float numbers), else None."""
    target = frame[table.target].dropna()
    if pd.api.types.is_float_dtype(target):
        return None
    if pd.api.types.is_integer_dtype(target) and target.nunique() > 20:
        return None
    return target


def _shapes(table: Table, frame: pd.DataFrame) -> set[str]:
    """Which of :data:`SHAPES` ``table`` has."""
    features = _features(table, frame)
    target = frame[table.target]
    labelled = int(target.notna().sum())
    labels = _labels(table, frame)
    shares = labels.value_counts(normalize=True) if labels is not None else pd.Series(dtype=float)
    numeric = features.select_dtypes("number")
    found = {table.file_format}
    checks = {
        "missing labels": target.isna().any(),
        "over 50,000 rows": len(frame) > 50_000,
        "all-categorical features": numeric.shape[1] == 0,
        "9 classes or more": len(shares) >= 9,
        "a class under 3 %": len(shares) > 0 and shares.min() < 0.03,
        "under 150 rows, above min_rows": MIN_ROWS <= labelled < 150,
        "below min_rows": labelled < MIN_ROWS,
        "boolean target": pd.api.types.is_bool_dtype(target),
        "integer-coded target": labels is not None and pd.api.types.is_integer_dtype(labels),
        "dotted column names": any("." in str(c) for c in frame.columns),
        "non-ASCII column names": any(not str(c).isascii() for c in frame.columns),
        "a constant column": any(features[c].nunique(dropna=False) == 1 for c in features),
        "a near-constant column": any(
            1 > features[c].value_counts(normalize=True, dropna=False).iloc[0] >= 0.98
            for c in features
        ),
        "a date column": any(_is_date(features[c]) for c in features),
        "a free-text or id column": any(
            not pd.api.types.is_numeric_dtype(features[c])
            and features[c].nunique() > 0.9 * len(frame)
            for c in features
        ),
        "heavy imbalance": len(shares) == 2 and shares.min() < 0.1,
        "wide (50 columns or more)": frame.shape[1] >= 50,
        "many identical rows": features.join(target).duplicated().mean() > 0.2,
        "a skewed number": any(abs(float(numeric[c].skew())) > 2 for c in numeric),
        "a leaky feature": labels is None
        and any(abs(numeric[c].corr(target.astype(float))) > 0.95 for c in numeric),
    }
    return found | {name for name, present in checks.items() if present}


def test_the_registry_covers_the_shapes_of_issue_24(frames: dict[str, pd.DataFrame]) -> None:
    assert len(TABLES) >= 30
    assert len(BY_NAME) == len(TABLES), "table names must be unique"
    covered: dict[str, list[str]] = {shape: [] for shape in SHAPES}
    for table in TABLES:
        frame = frames[table.name]
        assert table.target in frame.columns, f"{table.name}: no column {table.target!r}"
        assert table.file_format in ("csv", "parquet"), table.name
        assert table.expect in ("green", "refused", "gate"), table.name
        assert table.why and table.source, table.name
        shapes = _shapes(table, frame)
        if "below min_rows" in shapes:  # `create` refuses such a table: the registry must say so
            assert table.expect == "refused", f"{table.name}: under {MIN_ROWS} labelled rows"
        for shape in shapes:
            covered[shape].append(table.name)
    missing = [shape for shape, names in covered.items() if not names]
    assert not missing, f"no table of the corpus has: {missing}"
    assert {table.expect for table in TABLES} == {"green", "refused", "gate"}


def test_a_table_is_written_as_a_user_has_it(tmp_path: Path) -> None:
    path, frame = BY_NAME["default_bool"].write(tmp_path)
    assert path.name == "default_bool.parquet"
    assert pd.api.types.is_bool_dtype(pd.read_parquet(path)["default"])
    path, _ = BY_NAME["housing_fr"].write(tmp_path)
    assert "Prix (€)" in pd.read_csv(path).columns
    assert "rownames" in frame.columns  # kept: users' exports have such columns


#: The regular suite's handful, the shapes no project of tests/test_generated_ci.py has: labels
#: missing (and a class of 7 %); all-categorical features with identical rows. The rest (a leaky
#: regression among them) runs every week (`dev.py tables`).
HANDFUL = ("chile", "titanic_counts")


def _explain(result: Result) -> str:
    lines = [result.line(), f"message: {result.message}"]
    lines += [f"{test}: {error}" for test, error in result.failures]
    lines += [f"{m.kind}: caught={m.caught} by={m.by} {m.detail}" for m in result.mutations]
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.parametrize("name", HANDFUL)
def test_a_real_table_comes_to_what_it_should(name: str, tmp_path: Path) -> None:
    """`create` then `make ci` with the corpus's option set (corpus.OPTIONS["lean"]); on a green
    project every mutation (shuffled labels, a constant predictor, the data corruptions) is
    caught. About 3 minutes of `make ci` and 3 of mutations per table on 2 cores."""
    table = BY_NAME[name]
    result = run_table(table, tmp_path / name)
    assert result.verdict == table.expect, _explain(result)
    assert not result.problems, _explain(result)
    if result.verdict == "green":
        assert {m.kind for m in result.applicable} >= {"shuffled-labels", "constant-predictor"}
