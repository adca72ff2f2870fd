"""The generator's own code meets the bar it sets for generated projects."""

from __future__ import annotations

import subprocess

from tests.conftest import REPO_ROOT, tool

PATHS = ["generator", "tests", "benchmarks", "dev.py"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=REPO_ROOT, capture_output=True, text=True, check=False)


def test_ruff_lint() -> None:
    result = _run(tool("ruff"), "check", "--no-cache", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run(tool("ruff"), "format", "--no-cache", "--check", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = _run(tool("mypy"), "--no-incremental")
    assert result.returncode == 0, result.stdout + result.stderr
