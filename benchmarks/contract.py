"""Data-contract inference on a large mixed table, against pandera's `infer_schema`.

    .venv/bin/python benchmarks/contract.py [--rows 1000000] [--repeat 3]

Generates a project (its own environment: pandas, pandera, pyarrow), writes a seeded table of
--rows rows and 30 columns of every kind the contract knows (15 floats, 5 counts, 4 text
categories with missing values, 2 booleans, 1 integer code, an identifier, a date, free text)
plus a binary target to Parquet, then, each in a fresh process of the project's environment, reads
it and times:
- `contract.infer` (the template's src/<package>/contract.py: kinds, reasons, bounds, target,
  leakage and imbalance warnings), goal <= 10 s for 1M rows on 2 cores;
- pandera's `infer_schema` on the same frame (dtypes, nullability and observed min/max only).
Reported: the best of --repeat wall times of the inference alone (reading excluded) and the
process's peak memory (max RSS) with the frame's own size beside it, so the inference's extra
memory shows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import render  # noqa: E402  (the same renderer the test suite uses)

MAKE_TABLE = r"""
import sys
import numpy as np, pandas as pd
rows, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
columns = {f"measure_{i}": rng.normal(i, 1 + i, rows) for i in range(15)}
columns |= {f"count_{i}": rng.poisson(3 + i, rows) for i in range(5)}
for i, levels in enumerate((3, 5, 12, 25)):
    values = rng.choice([f"level_{j}" for j in range(levels)], rows).astype(object)
    values[rng.random(rows) < 0.05] = None
    columns[f"category_{i}"] = values
columns |= {f"flag_{i}": rng.random(rows) < 0.3 for i in range(2)}
columns["code"] = rng.integers(1, 4, rows)
columns["customer_id"] = np.char.add("C", np.arange(rows).astype(str))
columns["signup"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), "D")
columns["comment"] = np.char.add("note ", rng.integers(0, rows // 2, rows).astype(str))
frame = pd.DataFrame(columns)
score = frame["measure_0"] + frame["count_1"] - 3 * frame["flag_0"] + rng.normal(0, 2, rows)
frame["churned"] = np.where(score > score.quantile(0.8), "Yes", "No")
frame.to_parquet(path)
print(frame.shape[1] - 1)
"""

MEASURE = r"""
import importlib.util, json, resource, sys, time
import pandas as pd
which, path, module_path = sys.argv[1], sys.argv[2], sys.argv[3]
frame = pd.read_parquet(path)
frame_mb = frame.memory_usage(deep=True).sum() / 2**20
before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if which == "contract":
    spec = importlib.util.spec_from_file_location("contract", module_path)
    contract = importlib.util.module_from_spec(spec)
    sys.modules["contract"] = contract
    spec.loader.exec_module(contract)
    start = time.perf_counter()
    result = contract.infer(frame, "churned")
    seconds = time.perf_counter() - start
    summary = f"{len(result['features'])} features, {len(result['dropped'])} dropped"
else:
    import pandera.pandas as pa
    start = time.perf_counter()
    schema = pa.infer_schema(frame)
    seconds = time.perf_counter() - start
    summary = f"{len(schema.columns)} columns"
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "before_mb": before_mb,
                  "frame_mb": frame_mb, "summary": summary}))
"""


def _run(project: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    result = subprocess.run(
        ["uv", "run", "--all-extras", *args], cwd=project, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(result.stdout[-2000:] + result.stderr[-2000:])
    return result.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("UV_CACHE_DIR", str(ROOT / ".cache" / "uv"))
    with tempfile.TemporaryDirectory(prefix="bench-contract.") as scratch:
        project = render(Path(scratch) / "project", deployment_strategies="[batch]")
        subprocess.run(["uv", "sync", "--all-extras", "--quiet"], cwd=project, check=True)
        table = Path(scratch) / "table.parquet"
        columns = _run(project, "python", "-c", MAKE_TABLE, str(args.rows), str(table))
        module = next(project.glob("src/*/contract.py"))
        print(f"table: {args.rows:,} rows x {columns} columns + target (Parquet)")
        for which in ("contract", "pandera"):
            runs = [
                json.loads(_run(project, "python", "-c", MEASURE, which, str(table), str(module)))
                for _ in range(args.repeat)
            ]
            best = min(runs, key=lambda run: run["seconds"])
            name = "contract.infer" if which == "contract" else "pandera.infer_schema"
            print(
                f"{name:>22}: {best['seconds']:.2f} s (best of {args.repeat}), peak RSS"
                f" {best['peak_mb']:,.0f} MB (frame {best['frame_mb']:,.0f} MB, process before"
                f" inference {best['before_mb']:,.0f} MB); {best['summary']}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
