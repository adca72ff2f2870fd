"""`mlops-new create --data dataset=FILE --data target=COLUMN`: the user's table, not ours.

A table that cannot be used fails with one line and exit 12 before anything reaches the
destination; a usable one gives the project its inferred data contract and the imported table.
"""

from __future__ import annotations

import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from generator._data import RAW_DATA, with_absolute_dataset
from generator.cli import app
from generator.errors import DataError, InvalidAnswerError
from tests.conftest import REPO_ROOT, git, tool

runner = CliRunner()
PACKAGE = "my_ml_project"  # the default project name's package
CONTRACT = f"src/{PACKAGE}/contract.yaml"


def _create(dest: Path, *data: str, git_repo: bool = True) -> Any:
    args = ["create", str(dest), "--defaults", *(["--no-git"] if not git_repo else [])]
    for item in data:
        args += ["--data", item]
    return runner.invoke(app, args, catch_exceptions=False)


def _churn(rows: int = 500, seed: int = 0) -> pd.DataFrame:
    """A small credit-default-like table: an identifier, a number, a category with missing
    values, and a No/Yes target."""
    rng = np.random.default_rng(seed)
    balance = rng.normal(1000, 300, rows).round(2)
    default = np.where(balance + rng.normal(0, 300, rows) > 1300, "Yes", "No")
    return pd.DataFrame(
        {
            "Customer ID": np.arange(10_000, 10_000 + rows),
            "Balance": balance,
            "Student": rng.choice(np.array(["No", "Yes", None], dtype=object), rows),
            "Default": default,
        }
    )


def _csv(folder: Path, frame: pd.DataFrame, name: str = "data.csv") -> Path:
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def _assert_data_error(result: Any, message: str, dest: Path) -> None:
    assert result.exit_code == DataError.exit_code, result.output
    err = result.stderr
    assert err.startswith("error: "), err
    assert message in err, err
    assert err.count("\n") == 1, f"expected one line, got: {err!r}"
    assert "Traceback" not in result.output
    assert not dest.exists(), "the destination was written"
    assert [p.name for p in dest.parent.iterdir() if p.name.startswith(".")] == [], "staging left"


def _corrupt_parquet(folder: Path) -> Path:
    path = folder / "broken.parquet"
    path.write_bytes(b"PAR1 this is not a parquet file at all")
    return path


def _text_file(folder: Path) -> Path:
    path = folder / "data.txt"
    path.write_text("balance,default\n1,No\n2,Yes\n")
    return path


def _table(frame: pd.DataFrame) -> Callable[[Path], Path]:
    return lambda folder: _csv(folder, frame)


_BAD: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "missing-file": (lambda folder: folder / "missing.csv", "default", "missing.csv not found"),
    "unsupported-format": (_text_file, "default", "unsupported format .txt"),
    "corrupt-parquet": (_corrupt_parquet, "default", "broken.parquet cannot be read"),
    "target-not-a-column": (_table(_churn()), "churned", "target 'churned' is not a column"),
    "single-class": (
        _table(_churn().assign(Default="Yes")),
        "Default",
        "target 'default' has a single class ('Yes')",
    ),
    "too-few-rows": (_table(_churn(rows=12)), "Default", "12 rows with a target"),
    "every-feature-dropped": (
        _table(_churn()[["Customer ID", "Default"]]),
        "Default",
        "every feature was dropped (customer_id: identifier",
    ),
    "no-identifier": (
        _table(_churn().assign(**{"%%%": 1.0})),
        "Default",
        "column '%%%' is not a valid identifier after normalisation",
    ),
    "duplicate-names": (
        _table(_churn().assign(**{"A b": 1.0, "a_b": 2.0})),
        "Default",
        "columns 'A b' and 'a_b' are both 'a_b' after normalisation",
    ),
}


@pytest.mark.parametrize("case", list(_BAD))
def test_a_table_that_cannot_be_used_fails_with_one_line_and_writes_nothing(
    tmp_path: Path, case: str
) -> None:
    make, target, message = _BAD[case]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    source = make(inputs)
    work = tmp_path / "work"
    work.mkdir()
    dest = work / "project"
    result = _create(dest, f"dataset={source}", f"target={target}")
    _assert_data_error(result, message, dest)


def test_a_users_table_gets_its_contract_and_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _csv(tmp_path, _churn(), "credit default.csv")
    monkeypatch.chdir(tmp_path)  # a relative path is made absolute before Copier records it
    dest = tmp_path / "credit"
    result = _create(dest, "dataset=credit default.csv", "target=Default")
    assert result.exit_code == 0, result.output
    assert f"Data contract {CONTRACT}: binary, 500 rows, 2 features, 1 columns dropped" in (
        result.stdout
    )
    # What was inferred is shown before anything is written; --defaults goes on without asking.
    summary = result.stdout[: result.stdout.index("Created ")]
    assert f"Data contract inferred from {tmp_path / 'credit default.csv'} (500 rows):" in summary
    assert "  target    default: binary, labels No, Yes (positive: Yes)\n" in summary
    assert (
        "  features  2 kept: balance (numeric, float), student (categorical, 2 values, nullable)"
        in summary
    )
    assert (
        "  dropped   customer_id: identifier: the row number (500 consecutive integers)\n"
        in summary
    )
    assert "Create the project" not in result.stdout

    contract = yaml.safe_load((dest / CONTRACT).read_text())
    assert contract["target"]["name"] == "default"
    assert contract["target"]["task"] == "binary"
    assert contract["target"]["labels"] == ["No", "Yes"]
    assert contract["target"]["positive"] == "Yes"
    assert contract["features"]["balance"]["type"] == "numeric"
    student = contract["features"]["student"]
    assert (student["type"], student["nullable"], student["categories"]) == (
        "categorical",
        True,
        ["No", "Yes"],
    )
    assert list(contract["dropped"]) == ["customer_id"]

    imported = pd.read_parquet(dest / RAW_DATA)
    assert list(imported.columns) == ["customer_id", "balance", "student", "default"]
    assert len(imported) == 500
    assert imported["student"].isna().any()

    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["dataset"] == str(tmp_path / "credit default.csv")
    assert answers["target"] == "Default"
    assert "problem_type" not in answers  # the task comes from the target column

    tracked = git(dest, "ls-files").splitlines()
    assert CONTRACT in tracked
    assert RAW_DATA not in tracked, "the data is not committed"
    assert git(dest, "status", "--porcelain") == ""


def test_penguins_multiclass_with_string_labels_and_missing_values(tmp_path: Path) -> None:
    palmerpenguins = pytest.importorskip("palmerpenguins")
    source = tmp_path / "penguins.parquet"
    palmerpenguins.load_penguins().to_parquet(source, index=False)
    dest = tmp_path / "penguins"
    result = _create(dest, f"dataset={source}", "target=species", git_repo=False)
    assert result.exit_code == 0, result.output

    contract = yaml.safe_load((dest / CONTRACT).read_text())
    target = contract["target"]
    assert (target["task"], target["labels"]) == ("multiclass", ["Adelie", "Chinstrap", "Gentoo"])
    assert "positive" not in target
    features = contract["features"]
    assert features["island"]["type"] == "categorical"
    assert features["island"]["categories"] == ["Biscoe", "Dream", "Torgersen"]
    assert (features["sex"]["type"], features["sex"]["nullable"]) == ("categorical", True)
    assert features["sex"]["categories"] == ["female", "male"]
    for name in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"):
        assert (features[name]["type"], features[name]["nullable"]) == ("numeric", True), name
    assert "species" not in features
    assert contract["rows"] == 344
    assert len(pd.read_parquet(dest / RAW_DATA)) == 344


def test_cars_regression_with_missing_targets_dates_and_names(tmp_path: Path) -> None:
    vega = pytest.importorskip("vega_datasets")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # vega_datasets' own use of a deprecated pandas keyword
        cars = vega.data.cars()
    source = _csv(tmp_path, cars, "cars.csv")
    dest = tmp_path / "cars"
    result = _create(dest, f"dataset={source}", "target=Miles_per_Gallon", git_repo=False)
    assert result.exit_code == 0, result.output
    assert "regression, 398 rows, 6 features, 2 columns dropped" in result.stdout
    assert "  target    miles_per_gallon: regression, observed 9 to 46.6\n" in result.stdout

    contract = yaml.safe_load((dest / CONTRACT).read_text())
    target = contract["target"]
    assert (target["name"], target["task"], target["missing_dropped"]) == (
        "miles_per_gallon",
        "regression",
        8,
    )
    assert "labels" not in target
    features = contract["features"]
    assert (features["horsepower"]["type"], features["horsepower"]["nullable"]) == (
        "numeric",
        True,
    )
    assert features["origin"]["categories"] == ["Europe", "Japan", "USA"]
    assert sorted(contract["dropped"]) == ["name", "year"]
    assert len(pd.read_parquet(dest / RAW_DATA)) == 406  # rows without a target are kept


def test_dataset_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert with_absolute_dataset({"dataset": "a.csv"})["dataset"] == str(tmp_path / "a.csv")
    home = with_absolute_dataset({"dataset": "~/b.parquet"})["dataset"]
    assert home == str(tmp_path / "home" / "b.parquet")
    assert with_absolute_dataset({"dataset": "", "x": 1}) == {"dataset": "", "x": 1}
    assert with_absolute_dataset({}) == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["dataset=/data/x.csv", "target=y", "problem_type=regression"], "problem_type picks"),
        (["target=churned"], "target names the column of dataset to predict"),
        (["dataset=/data/x.csv"], "target must name the column of dataset to predict: give"),
    ],
    ids=["problem-type-with-dataset", "target-without-dataset", "dataset-without-target"],
)
def test_answers_that_would_be_dropped_are_refused(
    tmp_path: Path, data: list[str], message: str
) -> None:
    dest = tmp_path / "p"
    result = _create(dest, *data)
    assert result.exit_code == InvalidAnswerError.exit_code, result.output
    assert message in result.stderr
    assert not dest.exists()


def _copier_copy(dest: Path, **data: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(REPO_ROOT), str(dest), data=data, defaults=True, vcs_ref="HEAD", quiet=True
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"dataset": "data.csv", "target": "y"}, "dataset must be an absolute path"),
        ({"dataset": "/data/x.csv"}, 'Question "target" is required'),  # no default (UNSET)
        ({"dataset": "/data/x.csv", "target": "%%%"}, "target must be a column name"),
        ({"dataset": "/data/x.csv", "target": "2nd"}, "target must be a column name"),
    ],
    ids=["relative-dataset", "no-target", "no-name", "leading-digit"],
)
def test_plain_copier_validates_dataset_and_target(
    tmp_path: Path, data: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _copier_copy(tmp_path / "p", **data)


@pytest.mark.parametrize("length", [82, 83, 92, 93, 140])
def test_a_long_data_path_or_target_keeps_config_py_lint_clean(tmp_path: Path, length: int) -> None:
    """The table's path and the target are written into config.py as ruff's formatter and E501
    want them at any length: one line, parenthesised, or one line E501 is told to let be
    (``length``: the quoted literal's; 82 fills a line of 100 exactly, 92 a parenthesised one)."""
    folder = "/data/some folder/"
    path = folder + "x" * (length - len(folder) - len(".csv") - 2) + ".csv"
    target = "t" * (length - 2)
    dest = tmp_path / "p"
    _copier_copy(dest, dataset=path, target=target)
    config = dest / "src" / PACKAGE / "config.py"
    text = config.read_text()
    assert f'"{path}"' in text and f'"{target}"' in text
    for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        result = subprocess.run(
            [tool("ruff"), *command, str(config)], cwd=dest, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert ("# noqa: E501" in text) is (length > 92)
