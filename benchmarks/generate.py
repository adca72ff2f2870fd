"""How long does generating a project take, against plain Copier on the same template?

    .venv/bin/python benchmarks/generate.py [--runs 7] [--make-ci]

Prints the median (and min/max) wall time of `mlops-new create --defaults` and of
`copier copy --defaults` from this repository, each as a fresh process, the number of files
generated, and with --make-ci the time from `mlops-new create` to a green `make ci` with a warm
package cache. Goals: create <= 1.0 s median; create -> make ci green <= 60 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _timed(command: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def _series(name: str, runs: int, make: Callable[[Path], list[str]]) -> tuple[list[float], int]:
    times, files = [], 0
    for i in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            dest = Path(tmp) / f"bench{i}"
            times.append(_timed(make(dest)))
            files = sum(1 for p in dest.rglob("*") if p.is_file() and ".git" not in p.parts)
    print(
        f"{name:<28} median {statistics.median(times):6.3f} s"
        f"  min {min(times):6.3f}  max {max(times):6.3f}  ({runs} runs, {files} files)"
    )
    return times, files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--make-ci", action="store_true", help="also time create -> make ci")
    args = parser.parse_args()
    os.environ.setdefault("UV_CACHE_DIR", str(ROOT / ".cache" / "uv"))
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, template {ROOT}")

    ours, _ = _series(
        "mlops-new create --defaults",
        args.runs,
        lambda d: [str(BIN / "mlops-new"), "create", str(d), "--defaults"],
    )
    plain, _ = _series(
        "copier copy --defaults",
        args.runs,
        lambda d: [str(BIN / "copier"), "copy", "--quiet", "--defaults", "--vcs-ref", "HEAD",
                   str(ROOT), str(d)],
    )  # fmt: skip
    ratio = statistics.median(ours) / statistics.median(plain)
    print(f"mlops-new / plain copier: {ratio:.2f}x (mlops-new also runs git init and a commit)")

    if args.make_ci:
        with tempfile.TemporaryDirectory() as tmp:
            dest = Path(tmp) / "project"
            env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
            start = time.perf_counter()
            subprocess.run(
                [str(BIN / "mlops-new"), "create", str(dest), "--defaults"],
                check=True,
                capture_output=True,
            )
            if shutil.which("uv") is None:
                env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
            subprocess.run(["make", "ci"], cwd=dest, env=env, check=True, capture_output=True)
            print(f"create -> make ci green (warm cache): {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
