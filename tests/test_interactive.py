"""Your own table, asked for at a real terminal (a pseudo-terminal): issue #32.

`mlops-new create` takes a `~` or relative path, asks for `target` as a choice among the table's
columns, shows the data contract it inferred and asks to confirm before writing anything; plain
`copier copy` asks for an absolute path and a typed column name. Each test presses Enter at every
other question. Prompt_toolkit is told not to wait for the cursor-position answer a pseudo-terminal
never sends (PROMPT_TOOLKIT_NO_CPR), which would cost a second at every question.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pexpect
import yaml

from generator.errors import Stopped
from tests.conftest import REPO_ROOT, git, tool

PACKAGE = "my_ml_project"  # the default project name's package
#: Every question asked without a dataset or a high risk category, in order: name -> its help.
QUESTIONS = {
    name: spec["help"]
    for name, spec in yaml.safe_load((REPO_ROOT / "copier.yml").read_text()).items()
    if not name.startswith("_") and spec.get("when") is not False
    and name not in ("target", "problem_type", "high_risk_area")
}  # fmt: skip
LAST = list(QUESTIONS)[-1]
UP = "\x1b[A"
#: The pointer of a select prompt at a choice (the terminal's colour codes in between).
POINTER = r"»(?:\s|\x1b\[[0-9;]*m)*"
CLEAR_LINE = "\x15"  # Ctrl-U: clears what the prompt holds


def _churn(path: Path) -> Path:
    """A small table whose last column is not the one to predict."""
    rng = np.random.default_rng(0)
    rows = 300
    balance = rng.normal(1000, 300, rows).round(2)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "Customer ID": np.arange(10_000, 10_000 + rows),
            "Balance": balance,
            "Churned": np.where(balance + rng.normal(0, 300, rows) > 1300, "Yes", "No"),
            "Plan": rng.choice(["basic", "pro", "team"], rows),
        }
    ).to_csv(path, index=False)
    return path


def _spawn(command: str, args: list[str], cwd: Path, **env: str) -> pexpect.spawn:
    return pexpect.spawn(
        tool(command), args, cwd=str(cwd), encoding="utf-8", timeout=30, dimensions=(40, 200),
        env={**os.environ, "PROMPT_TOOLKIT_NO_CPR": "1", **env},
    )  # fmt: skip


def _enter(child: pexpect.spawn, first: str, last: str) -> None:
    """Press Enter at each question from ``first`` to ``last`` (names of copier.yml)."""
    names = list(QUESTIONS)
    for name in names[names.index(first) : names.index(last) + 1]:
        child.expect(re.escape(QUESTIONS[name]))
        child.sendline("")


def _answer_dataset(child: pexpect.spawn, typo: str, path: str, refusal: str) -> None:
    """At the dataset question: type ``typo``, see it refused, then type ``path``."""
    child.expect(re.escape(QUESTIONS["dataset"]))
    child.sendline(typo)
    child.expect(re.escape(refusal))
    child.send(CLEAR_LINE)
    child.sendline(path)


def _finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None, child.before
    return child.exitstatus


def test_create_offers_the_columns_and_confirms_the_contract(tmp_path: Path) -> None:
    _churn(tmp_path / "data" / "churn.csv")
    child = _spawn("mlops-new", ["create", "churn"], tmp_path)
    _enter(child, "project_name", "license")
    _answer_dataset(child, "data/churn.cvs", "data/churn.csv", "data/churn.cvs not found")
    child.expect(re.escape("Column of the dataset to predict"))
    for column in ("customer_id (identifier)", "balance (numeric, float)"):
        child.expect(re.escape(column))
    child.expect(re.escape("churned (categorical, 2 values)"))
    # The last column is the default; the one above it is picked.
    child.expect(POINTER + re.escape("plan (categorical, 3 values)"))
    child.send(UP)
    child.sendline("")
    _enter(child, "deployment_strategies", LAST)
    child.expect(re.escape(f"Data contract inferred from {tmp_path / 'data' / 'churn.csv'}"))
    child.expect(re.escape("target    churned: binary, labels No, Yes (positive: Yes)"))
    child.expect(re.escape("features  2 kept: balance (numeric, float), plan (categorical"))
    child.expect(re.escape("dropped   customer_id: identifier"))
    child.expect(re.escape("Create the project with this data contract? [Y/n]"))
    assert not (tmp_path / "churn").exists(), "written before the answer"
    child.sendline("y")
    assert _finish(child) == 0, child.before

    project = tmp_path / "churn"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["dataset"] == str(tmp_path / "data" / "churn.csv"), "recorded absolute"
    assert answers["target"] == "churned"
    contract = yaml.safe_load((project / "src" / PACKAGE / "contract.yaml").read_text())
    assert (contract["target"]["name"], contract["target"]["task"]) == ("churned", "binary")
    assert sorted(contract["features"]) == ["balance", "plan"]
    assert (project / "data" / "raw" / "dataset.parquet").is_file()
    tracked = git(project, "ls-files").splitlines()
    assert f"src/{PACKAGE}/contract.yaml" in tracked
    assert "data/raw/dataset.parquet" not in tracked
    assert {"Makefile", "params.yaml", f"src/{PACKAGE}/train.py"} <= set(tracked)


def test_declining_the_contract_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _churn(home / "churn.csv")
    work = tmp_path / "work"
    work.mkdir()
    child = _spawn("mlops-new", ["create", "churn"], work, HOME=str(home))
    _enter(child, "project_name", "license")
    _answer_dataset(child, "~/nothing.csv", "~/churn.csv", f"{home / 'nothing.csv'} not found")
    child.expect(POINTER + re.escape("plan (categorical, 3 values)"))
    child.sendline("")  # the last column: a multiclass target
    _enter(child, "deployment_strategies", LAST)
    child.expect(re.escape(f"Data contract inferred from {home / 'churn.csv'} (300 rows):"))
    child.expect(re.escape("target    plan: multiclass, labels basic, pro, team"))
    child.expect(re.escape("[Y/n]"))
    child.sendline("n")
    child.expect(re.escape("error: not created: the data contract inferred from"))
    assert _finish(child) == Stopped.exit_code
    assert list(work.iterdir()) == [], "the destination or the staging folder was left"


def test_plain_copier_asks_for_an_absolute_path_and_a_column(tmp_path: Path) -> None:
    table = _churn(tmp_path / "data" / "churn.csv")
    args = ["copy", "--trust", "--vcs-ref", "HEAD", str(REPO_ROOT), "churn"]
    child = _spawn("copier", args, tmp_path)
    _enter(child, "project_name", "license")
    _answer_dataset(child, "data/churn.csv", str(table), "dataset must be an absolute path")
    child.expect(re.escape("Column of the dataset to predict"))
    child.sendline("")  # no default: the column must be named
    child.expect(re.escape("target must name the column of dataset to predict"))
    child.sendline("Churned")
    _enter(child, "deployment_strategies", LAST)
    assert _finish(child) == 0, child.before

    project = tmp_path / "churn"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["dataset"], answers["target"]) == (str(table), "Churned")
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["data"]["source"] == str(table)
    # No contract yet: the project's `make data` infers it from the table the first time.
    assert not (project / "src" / PACKAGE / "contract.yaml").exists()
    assert (project / "src" / PACKAGE / "contract.py").is_file()


def test_ctrl_c_at_a_question_stops_with_nothing_written(tmp_path: Path) -> None:
    child = _spawn("mlops-new", ["create", "churn"], tmp_path)
    child.expect(re.escape(QUESTIONS["project_name"]))
    child.sendcontrol("c")
    child.expect(re.escape("error: interrupted; nothing was written"))
    assert _finish(child) == Stopped.exit_code
    assert list(tmp_path.iterdir()) == []
