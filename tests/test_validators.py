"""The question validators in includes/validators.jinja, exercised through plain Copier.

pytest-copie renders with Copier alone (no mlops-new), so these prove that `copier copy` users get
the same checks and messages as `mlops-new create` users.
"""

from __future__ import annotations

import keyword
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

VALIDATORS = (REPO_ROOT / "includes" / "validators.jinja").read_text()


def _jinja_list(name: str) -> set[str]:
    block = re.search(rf"set {name} = \[(.*?)\]", VALIDATORS, re.S)
    assert block, name
    return set(re.findall(r'"([^"]+)"', block.group(1)))


def test_stdlib_list_covers_this_python() -> None:
    public = {name for name in sys.stdlib_module_names if not name.startswith("_")}
    assert public <= _jinja_list("STDLIB_MODULES")


def test_keyword_list_covers_this_python() -> None:
    lowercase = {k for k in [*keyword.kwlist, *keyword.softkwlist] if k.islower() and k != "_"}
    assert lowercase <= _jinja_list("KEYWORDS")


GOOD = [
    {"project_name": "Churn Model"},
    {"project_name": "x"},
    {"package_name": "churn2", "project_slug": "churn-2"},
    {"author_email": "first.last+ml@sub.example.co.uk"},
    {"github_owner": "a-b-c"},
    {"description": "Predicts churn (monthly); owner: growth team."},
]

BAD = [
    ({"project_name": "   "}, "project_name must not be empty"),
    ({"project_name": "2fast"}, "must start with a letter"),
    ({"project_name": "a" * 65}, "at most 64 characters"),
    ({"project_name": " padded"}, "must not start or end with spaces"),
    ({"project_slug": "double--dash"}, "kebab-case"),
    ({"project_slug": "trailing-"}, "kebab-case"),
    ({"package_name": "Upper"}, "snake_case"),
    ({"package_name": "a" * 41}, "at most 40 characters"),
    ({"package_name": "with-dash"}, "snake_case"),
    ({"package_name": "import"}, "Python keyword"),
    ({"package_name": "match"}, "Python keyword"),
    ({"package_name": "typing"}, "standard-library"),
    ({"package_name": "pandas"}, "shadow a module"),
    ({"author_email": "a@b"}, "e-mail"),
    ({"author_email": "a b@example.org"}, "e-mail"),
    ({"author_name": "line\nbreak"}, "one line"),
    ({"author_name": "<script>"}, "angle brackets"),
    ({"github_owner": "a--b"}, "GitHub user"),
    ({"github_owner": "x" * 40}, "GitHub user"),
    ({"description": "back\\slash"}, "backslashes"),
    ({"data_owner": "acme/data"}, "data_owner must be empty or a GitHub/GitLab handle"),
    ({"model_owner": "@acme/ml-"}, "model_owner must be empty or a GitHub/GitLab handle"),
    ({"platform_team": "@acme//sre"}, "platform_team must be empty or a GitHub/GitLab handle"),
]


@pytest.mark.parametrize("answers", GOOD)
def test_plain_copier_accepts(copie: Any, answers: dict[str, str]) -> None:
    result = copie.copy(extra_answers=answers, template_dir=REPO_ROOT)
    assert result.exception is None
    assert result.exit_code == 0
    assert isinstance(result.project_dir, Path)
    assert (result.project_dir / "pyproject.toml").is_file()
    for key, value in answers.items():
        assert result.answers[key] == value


@pytest.mark.parametrize(("answers", "message"), BAD, ids=[m for _, m in BAD])
def test_plain_copier_refuses_with_a_message(
    copie: Any, answers: dict[str, str], message: str
) -> None:
    result = copie.copy(extra_answers=answers, template_dir=REPO_ROOT)
    assert result.exit_code != 0
    assert isinstance(result.exception, ValueError)
    text = str(result.exception)
    assert message in text, text
    assert "\n" not in text
    assert result.project_dir is None
