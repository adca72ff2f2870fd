"""The docs stay true: options reference vs copier.yml, CLI examples run, README quick start."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from generator import errors
from generator.cli import app
from tests.conftest import QUESTIONS, REPO_ROOT

COPIER = {
    key: spec
    for key, spec in yaml.safe_load((REPO_ROOT / "copier.yml").read_text()).items()
    if key.startswith("_") or spec.get("when") is not False  # computed values are not questions
}
OPTIONS = (REPO_ROOT / "docs" / "options.md").read_text()
CLI_DOC = (REPO_ROOT / "docs" / "cli.md").read_text()
README = (REPO_ROOT / "README.md").read_text()


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^### `(\w+)`\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_options_reference_lists_every_question_in_order() -> None:
    questions = [key for key in COPIER if not key.startswith("_")]
    assert questions == list(QUESTIONS)
    assert list(_sections(OPTIONS)) == questions


@pytest.mark.parametrize("question", [k for k in COPIER if not k.startswith("_")])
def test_options_reference_names_choices_and_defaults(question: str) -> None:
    section = _sections(OPTIONS)[question]
    spec = COPIER[question]
    choices = spec.get("choices", [])
    for choice in choices.values() if isinstance(choices, dict) else choices:
        assert f"`{choice}`" in section, f"{question}: choice {choice} undocumented"
    default = spec["default"]
    default = f"[{', '.join(default)}]" if isinstance(default, list) else str(default)
    if default == "":
        assert "Default: empty" in section, f"{question}: empty default undocumented"
    elif "{{" not in default:
        assert f"`{default}`" in section, f"{question}: default {default} undocumented"


def _example_lines() -> list[tuple[list[str], int]]:
    block = CLI_DOC.split("### Examples", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    examples = []
    for line in block.strip().splitlines():
        command, _, comment = line.removeprefix("$ ").partition("#")
        expected = re.search(r"exit (\d+)", comment)
        examples.append((shlex.split(command)[1:], int(expected[1]) if expected else 0))
    return examples


def test_cli_examples_run_as_documented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    examples = _example_lines()
    assert len(examples) >= 5
    for args, code in examples:
        result = CliRunner().invoke(app, args)
        assert result.exit_code == code, (args, result.output)


@pytest.mark.parametrize("command", ["create", "update", "check"])
def test_cli_doc_lists_every_option(command: str) -> None:
    import typer.main

    section = CLI_DOC.split(f"## `mlops-new {command} ", 1)[1].split("\n## ", 1)[0]
    params = typer.main.get_command(app).commands[command].params  # type: ignore[attr-defined]
    for param in params:
        for opt in param.opts:
            if opt.startswith("--"):
                assert f"`{opt}" in section, f"{command} {opt} is not documented in docs/cli.md"


def test_exit_code_table_matches_the_errors() -> None:
    table = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", CLI_DOC, flags=re.M))
    classes = [
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.MlopsNewError)
    ]
    assert {str(cls.exit_code) for cls in classes} | {"0"} == set(table)


def test_readme_quick_start_has_exactly_two_commands() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].startswith("python3 dev.py demo")
    assert commands[1].startswith("python3 dev.py test")
    assert "python3 dev.py test" in (REPO_ROOT / ".ci" / "run").read_text()
