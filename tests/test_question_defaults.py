"""Every question's default, rendered from the answers before it, passes the question's own
validator: pressing Enter at a question is always accepted.

Copier validates a question's rendered default before it asks the question (and `--defaults`
takes it as the answer), so a default its validator refuses stops the questionnaire: issue #32,
`target` defaulting to "" once a dataset was given. The answers are those of the option sets the
suite renders (all pairs of test_render.py, the other modules' variants, the data path), played
through Copier's own questionnaire as a user at a terminal, without rendering any file: with plain
Copier, and with mlops-new's worker (its filters; `target` a choice among the table's columns).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import copier._main
import pandas as pd
import pytest
from copier._types import MISSING

from generator import _copier
from generator.errors import TemplateError
from tests import test_checkov, test_gitlab, test_ml_test_score, test_render, test_workflows
from tests.conftest import REPO_ROOT

#: Option sets of the other modules, as they render them.
OPTION_SETS: list[dict[str, str]] = [
    *test_render.PAIRS,
    *({"risk_category": "high", "high_risk_area": a} for a in test_render.HIGH_RISK_AREAS),
    {"risk_category": "limited"},
    {"project_name": "Fraud.Detector  v2"},
    *test_workflows.VARIANTS.values(),
    *test_checkov.OPTION_SETS.values(),
    *test_ml_test_score.VARIANTS,
    *({"ci_provider": "gitlab", **answers} for answers in test_gitlab.VARIANTS.values()),
]


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small CSV: an identifier, a number, a category and a No/Yes column, last."""
    path = tmp_path_factory.mktemp("data") / "credit default.csv"
    rows = 40
    pd.DataFrame(
        {
            "Customer ID": range(rows),
            "Balance": [100.5 + i * 3 for i in range(rows)],
            "Plan": ["basic", "pro"] * (rows // 2),
            "Default": ["No", "No", "No", "Yes"] * (rows // 4),
        }
    ).to_csv(path, index=False)
    return path


@contextmanager
def _plain_worker(tmp_path: Path) -> Iterator[Any]:
    with (
        warnings.catch_warnings(),
        copier._main.Worker(
            src_path=str(REPO_ROOT), dst_path=tmp_path / "plain", vcs_ref="HEAD", quiet=True
        ) as worker,
    ):
        warnings.simplefilter("ignore")
        yield worker


@contextmanager
def _mlops_new_worker(tmp_path: Path) -> Iterator[Any]:
    """The worker `mlops-new create` asks its questions with (no --data, no --defaults)."""
    settings = {"src_path": str(REPO_ROOT), "dst_path": tmp_path / "new", "vcs_ref": "HEAD"}
    with _copier._worker(
        str(REPO_ROOT), {}, TemplateError, "", [], {**settings, "defaults": False}
    ) as worker:
        _copier.offer_columns(worker, {})
        yield worker


def _play(worker: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    """Copier's questionnaire as a user who answers ``given`` and presses Enter at every other
    question; each default shown must be what Enter submits and its prompt accepts. Returns
    the answers of the questions asked."""
    asked: dict[str, Any] = {}

    def prompt(questions: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
        (shown,) = questions
        if not shown["when"](answers):  # not asked: questionary hands back the default
            return answers
        name, question = shown["name"], shown["filter"].__self__
        default = answers[name]  # Copier hands the prompt the question's default
        kind = shown["type"]
        if kind == "select":
            assert default is not MISSING, f"{name}: a choice without a default"
            assert shown.get("default") is not None, f"{name}: default {default!r} not a choice"
        elif kind == "checkbox":
            checked = [c.value for c in shown["choices"] if c.checked]
            assert checked == default, f"{name}: default {default!r}, checked {checked!r}"
        elif "default" in shown:
            accepted = shown["validate"](shown["default"])
            assert accepted is True, f"{name}: default {shown['default']!r} refused: {accepted}"
        if name in given:
            answer = question.parse_answer(given[name])
            question.validate_answer(answer)
        else:
            assert default is not MISSING, f"{name}: no default, and no answer given"
            answer = default
        asked[name] = answer
        return {name: answer}

    with mock.patch.object(copier._main, "unsafe_prompt", prompt):
        try:
            worker._ask()
        except ValueError as exc:  # Copier: a rendered default its validator refuses
            pytest.fail(f"answers {dict(given)}: {exc}")
    return asked


def test_every_default_passes_its_validator_with_plain_copier(tmp_path: Path, table: Path) -> None:
    data_sets = [
        {"dataset": str(table), "target": "Default"},
        {"dataset": str(table), "target": "Balance", "deployment_strategies": "[edge]"},
    ]
    with _plain_worker(tmp_path) as worker:
        for given in [*OPTION_SETS, *data_sets]:
            asked = _play(worker, given)
            assert ("target" in asked) is ("dataset" in given), given
            assert ("problem_type" in asked) is ("dataset" not in given), given
            # With a dataset, `target` has no default: typed, it is the one answer asked for.
        with pytest.raises(AssertionError, match="target: no default"):
            _play(worker, {"dataset": str(table)})


def test_every_default_passes_its_validator_with_mlops_new(
    tmp_path: Path, table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(table.parent)
    data_sets = [
        {"dataset": str(table)},  # Enter at `target`: the last column
        {"dataset": table.name, "risk_category": "high"},  # a relative path is accepted
        {"dataset": str(table), "target": "plan", "ci_provider": "gitlab"},
    ]
    with _mlops_new_worker(tmp_path) as worker:
        for given in [*test_render.PAIRS[:4], *data_sets]:
            asked = _play(worker, given)
            if "dataset" in given:
                assert asked["target"] == given.get("target", "default"), given
                assert worker.answers.user["dataset"] == str(table), "recorded absolute"
            else:
                assert "target" not in asked, given
