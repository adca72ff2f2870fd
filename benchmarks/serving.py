"""Batch and edge serving figures of a generated project, each against a named alternative.

    .venv/bin/python benchmarks/serving.py [--rows 1000000] [--problem-type classification]

Generates a project with the batch and edge strategies, installs and trains it, then measures in
the project's own environment:
- batch: rows/s and peak memory (max RSS) of `<package> batch-predict` scoring a CSV of --rows
  rows into SQLite, against a naive loop that predicts and inserts one row at a time (timed on a
  sample, rows/s extrapolated); goal >= 200k rows/s with memory bounded by the chunk size;
- edge: single-record latency of the ONNX runtime (`edge.EdgeModel.predict`) against
  scikit-learn's `predict` on the same record (median and p99 over 2,000 calls).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import render  # noqa: E402  (the same renderer the test suite uses)

BATCH = r"""
import resource, sqlite3, subprocess, sys, time
import pandas as pd
package, csv, rows, db = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
start = time.perf_counter()
result = subprocess.run([f".venv/bin/{package}", "batch-predict", csv, "--output-url",
                         f"sqlite:///{db}", "--run-id", "bench"], capture_output=True, text=True)
elapsed = time.perf_counter() - start
assert result.returncode == 0, result.stderr
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
with sqlite3.connect(db) as c:
    stored = c.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
assert stored == rows, stored
# Naive alternative: one predict() and one INSERT per row, on a sample.
from importlib import import_module
predictor = import_module(package).load_predictor("models")
sample = pd.read_csv(csv, nrows=2000)
naive_db = sqlite3.connect(db + ".naive")
naive_db.execute("CREATE TABLE p (row INTEGER, prediction REAL)")
t0 = time.perf_counter()
for i, record in enumerate(sample.to_dict(orient="records")):
    value = predictor.predict([record])[0]
    naive_db.execute("INSERT INTO p VALUES (?, ?)", (i, float(value)))
    naive_db.commit()
naive = len(sample) / (time.perf_counter() - t0)
print(f"batch-predict: {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s,"
      f" peak RSS {peak_mb:,.0f} MB")
print(f"naive row-by-row loop: {naive:,.0f} rows/s (2,000-row sample)"
      f" -> batch is {rows / elapsed / naive:,.0f}x faster")
"""

EDGE = r"""
import statistics, sys, time
import pandas as pd
from importlib import import_module
package = sys.argv[1]
edge = import_module(f"{package}.edge").EdgeModel("models")
model, _ = import_module(f"{package}.artifact").load_model(__import__("pathlib").Path("models"))
raw = pd.read_csv(sys.argv[2], nrows=1)
record = raw.drop(columns="target").iloc[0].to_dict()
frame = raw.drop(columns="target")
def timed(call, n=2000):
    for _ in range(100):
        call()
    samples = []
    for _ in range(n):
        t = time.perf_counter(); call(); samples.append(time.perf_counter() - t)
    samples.sort()
    return statistics.median(samples) * 1e6, samples[int(n * 0.99)] * 1e6
onnx = timed(lambda: edge.predict([record]))
sk = timed(lambda: model.predict(frame))
print(f"edge ONNX runtime, one record: median {onnx[0]:.0f} us, p99 {onnx[1]:.0f} us")
print(f"scikit-learn predict, one record (DataFrame): median {sk[0]:.0f} us, p99 {sk[1]:.0f} us"
      f" -> ONNX is {sk[0] / onnx[0]:.1f}x faster")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--problem-type", default="classification")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    env.setdefault("UV_CACHE_DIR", str(ROOT / ".cache" / "uv"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    with tempfile.TemporaryDirectory() as tmp:
        project = render(
            Path(tmp) / "bench",
            problem_type=args.problem_type,
            deployment_strategies="[batch, edge]",
        )
        package = next(p.name for p in (project / "src").iterdir() if p.is_dir())
        for target in ("install", "data", "train", "export-onnx"):
            subprocess.run(["make", target], cwd=project, env=env, check=True, capture_output=True)
        raw = next((project / "data" / "raw").glob("*.csv"))
        python = str(project / ".venv" / "bin" / "python")
        big = Path(tmp) / "big.csv"
        subprocess.run(
            [python, "-c", "import pandas as pd, sys; f = pd.read_csv(sys.argv[1]);"
             " n = int(sys.argv[3]); pd.concat([f] * (n // len(f) + 1)).head(n)"
             ".drop(columns='target').to_csv(sys.argv[2], index=False)", str(raw), str(big),
             str(args.rows)],
            check=True,
        )  # fmt: skip
        print(f"project: {args.problem_type}, {os.cpu_count()} cores")
        for script, extra in ((BATCH, [str(big), str(args.rows), str(Path(tmp) / "out.db")]),
                              (EDGE, [str(raw)])):  # fmt: skip
            result = subprocess.run(
                [python, "-c", script, package, *extra],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                print(result.stderr, file=sys.stderr)
                return 1
            print(result.stdout, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
