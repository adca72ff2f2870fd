"""Service, batch and edge serving figures of a generated project, each against a named alternative.

    .venv/bin/python benchmarks/serving.py [--rows 1000000] [--seconds 20] [--rate 1000]
        [--only service|batch|edge|edge-size|spark] [--case bundled] [--case penguins]
        [--dataset /abs/table.parquet --target COLUMN]

Generates a project with the model-as-service, batch and edge strategies for each case, installs
and trains it, then measures in the project's own environment. The cases: `bundled`, the bundled
example (breast cancer, 30 numeric features, or diabetes with --problem-type regression), and
`penguins`, palmerpenguins' table made into a project as a user would (`--data dataset=...
--data target=species`): a three-label text target, categorical features (`island`, `sex`, an
integer-coded `year`) and missing values (`sex` and the four measurements are nullable). Both run
by default; --dataset/--target adds a project made from any CSV or Parquet table. Everything about
the data is read from the generated project: the raw file from params.yaml (`data.raw_path`,
Parquet), the target's name and the features from its data contract (`src/<package>/contract.yaml`).
The single record every server and runtime is timed on is the raw row with the fewest missing
features among those that have one (row 0 when none has), so a nullable feature's `null` is part
of the measured path; the batch input is --rows rows sampled with replacement from the raw data
(the contract's features only), written as CSV. What is measured:
- service: single-record POST /predict throughput and p50/p99 latency with wrk (Debian package
  `wrk`; 16 connections, 2 threads, on the same machine) against the image's command
  (`python -m <package>.server --workers 2`: JSON log lines, metrics shared by the workers), then
  the same model saved with MLflow and served by `mlflow models serve --workers 2` (installed into a
  throwaway virtual environment) and sent the record as the model's pipeline takes it
  (`<package>.features.model_frame`: categories as text, a missing one as ""), the preparation the
  service does on every request done once beforehand for MLflow; goal p99 <= 10 ms at >= 1,000
  requests/s and >= 20x MLflow; the service runs twice, recording every prediction in the
  prediction store and not; then, for the goal's latency, h2load (Debian package `nghttp2-client`)
  at a fixed --rate (default 1,000 requests/s) over each of --connections (default 4 and 20;
  h2load's per-connection timers fire together, so more connections send larger bursts),
  p50/p99/p99.9 from its per-request log;
- batch: rows/s and peak memory (max RSS) of `<package> batch-predict` scoring a CSV of --rows
  rows into SQLite, against a naive loop that predicts and inserts one row at a time (timed on a
  sample, rows/s extrapolated); goal >= 200k rows/s with memory bounded by the chunk size; with
  and without recording a sample of the run in the prediction store;
- edge: single-record latency of the ONNX runtime (`onnx_runtime.OnnxModel.predict`) against
  scikit-learn's `predict` on the same record, prepared beforehand (`model_frame`) into a one-row
  DataFrame (median and p99 over 2,000 calls); and, for the first case only (it does not depend on
  the data), the installed size (MB of site-packages) of the edge image's environment, built as
  docker/edge.Dockerfile builds it (onnxruntime + numpy at the uv.lock versions), against the
  environments the service and batch images carry (the full package with its extras, built as
  their Dockerfiles build them, bytecode included). `--only edge-size` measures the sizes alone:
  no training, no timing.
- spark (only with `--only spark`: it installs pyspark and needs Java 17): rows/s of the same
  --rows rows, as one Parquet file (row groups of 100,000 rows), scored by `<package>
  batch-predict` into SQLite and by `spark_batch.py` through spark-submit in local mode on 2 cores
  (`local[2]`) into Parquet, both recording a sample in the prediction store; end to end (with
  interpreter and JVM start-up) and the run itself as each reports it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import render  # noqa: E402  (the same renderer the test suite uses)

PREPARE = r"""
import json, sys
from importlib import import_module
import pandas as pd
package, raw, features, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
frame = (pd.read_parquet(raw) if raw.endswith(".parquet") else pd.read_csv(raw))[features]
model_frame = import_module(f"{package}.features").model_frame
missing = frame.isna().sum(axis=1).reset_index(drop=True)
row = int(missing[missing > 0].idxmin()) if (missing > 0).any() else 0
one = frame.iloc[[row]]
record = json.loads(one.to_json(orient="records"))[0]
prepared = json.loads(model_frame(one).to_json(orient="records"))[0]
model_frame(frame.head(100)).to_parquet(out + ".example.parquet", index=False)
with open(out, "w", encoding="utf-8") as handle:
    json.dump({"row": row, "record": record, "prepared": prepared}, handle)
print(f"record: raw row {row}, missing {[k for k, v in record.items() if v is None] or 'none'}")
"""

SAMPLE = r"""
import json, sys
import pandas as pd
raw, features, out, n = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4])
frame = (pd.read_parquet(raw) if raw.endswith(".parquet") else pd.read_csv(raw))[features]
frame.sample(n, replace=True, random_state=0).to_csv(out, index=False)
"""

BATCH = r"""
import json, os, re, resource, sqlite3, subprocess, sys, time
import pandas as pd
package, csv, rows, db = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
recording = os.environ.get("PREDICTION_LOGGING", "on")
start = time.perf_counter()
result = subprocess.run([f".venv/bin/{package}", "batch-predict", csv, "--output-url",
                         f"sqlite:///{db}", "--run-id", "bench"], capture_output=True, text=True)
elapsed = time.perf_counter() - start
assert result.returncode == 0, result.stderr
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
with sqlite3.connect(db) as c:
    stored = c.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
assert stored == rows, stored
in_run = float(re.search(r" in ([\d.]+) s \(", result.stdout)[1])
print(f"batch-predict, prediction store {recording}: {rows:,} rows in {elapsed:.1f} s end to end"
      f" = {rows / elapsed:,.0f} rows/s (the run itself, without interpreter start-up and model"
      f" load: {in_run:.1f} s = {rows / in_run:,.0f} rows/s), peak RSS {peak_mb:,.0f} MB")
if recording == "off":
    sys.exit(0)
# Naive alternative: one predict() and one INSERT per row, on a sample of the same file.
from importlib import import_module
predictor = import_module(package).load_predictor("models")
sample = pd.read_csv(csv, nrows=2000)
records = json.loads(sample.to_json(orient="records"))  # missing values as null, as JSON has them
naive_db = sqlite3.connect(db + ".naive")
naive_db.execute("CREATE TABLE p (row INTEGER, prediction)")
t0 = time.perf_counter()
for i, record in enumerate(records):
    value = predictor.predict([record])[0]
    naive_db.execute("INSERT INTO p VALUES (?, ?)", (i, getattr(value, "item", lambda: value)()))
    naive_db.commit()
naive = len(records) / (time.perf_counter() - t0)
print(f"naive row-by-row loop: {naive:,.0f} rows/s (2,000-row sample)"
      f" -> batch is {rows / elapsed / naive:,.0f}x faster")
"""

SPARK_SAMPLE = r"""
import json, sys
import pandas as pd
raw, features, out, n = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4])
frame = (pd.read_parquet(raw) if raw.endswith(".parquet") else pd.read_csv(raw))[features]
# Row groups of 100,000 rows: Spark splits a file between its cores by row group.
frame.sample(n, replace=True, random_state=0).to_parquet(out, index=False, row_group_size=100_000)
"""

SPARK = r"""
import os, re, subprocess, sys, time
import pandas as pd
package, parquet, rows, folder = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
runs = {
    "batch-predict (one process, scikit-learn)": [f".venv/bin/{package}", "batch-predict",
        parquet, "--output-url", f"sqlite:///{folder}/single.db", "--run-id", "bench"],
    "Spark local[2] (spark-submit, ONNX on 2 executor cores)": [".venv/bin/spark-submit",
        "--master", "local[2]", "--driver-memory", "2g", f"src/{package}/spark_batch.py", parquet,
        "--output", f"{folder}/spark", "--run-id", "bench"],
}
# spark-submit finds pyspark (and its workers their Python) through the project's environment.
venv = os.path.abspath(".venv/bin")
env = {**os.environ, "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}",
       "PYSPARK_PYTHON": f"{venv}/python", "PYSPARK_DRIVER_PYTHON": f"{venv}/python"}
for name, command in runs.items():
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-3000:]
    in_run = float(re.search(r" in ([\d.]+) s \(", result.stdout)[1])
    print(f"{name}: {rows:,} rows in {elapsed:.1f} s end to end = {rows / elapsed:,.0f} rows/s"
          f" (the run itself: {in_run:.1f} s = {rows / in_run:,.0f} rows/s)")
written = pd.read_parquet(f"{folder}/spark", columns=["row_number"])
assert len(written) == rows, len(written)
"""

EDGE = r"""
import json, statistics, sys, time
from importlib import import_module
from pathlib import Path
import pandas as pd
package, chosen = sys.argv[1], json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
edge = import_module(f"{package}.onnx_runtime").OnnxModel("models")
model, _ = import_module(f"{package}.artifact").load_model(Path("models"))
record = chosen["record"]
frame = import_module(f"{package}.features").model_frame(pd.DataFrame([record]))
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
print(f"scikit-learn predict, one record (prepared one-row DataFrame): median {sk[0]:.0f} us,"
      f" p99 {sk[1]:.0f} us -> ONNX is {sk[0] / onnx[0]:.1f}x faster")
"""


LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open(os.getenv("BODY_FILE"), "r")
wrk.body = f:read("*a")
f:close()
"""

SAVE_FOR_MLFLOW = r"""
import sys, warnings
import pandas as pd, skops.io as sio, mlflow.sklearn
warnings.simplefilter("ignore")
model = sio.load(sys.argv[1], trusted=sio.get_untrusted_types(file=sys.argv[1]))
example = pd.read_parquet(sys.argv[2])  # model_frame of the raw data's first rows
mlflow.sklearn.save_model(model, sys.argv[3], input_example=example,
                          skops_trusted_types=["numpy.dtype"])
"""


def _milliseconds(text: str) -> float:
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise ValueError(text)


def wrk(url: str, body: Mapping[str, object], seconds: int, tmp: Path) -> dict[str, float]:
    """Throughput and latency percentiles of single-record POSTs (fails on any non-2xx answer)."""
    script, body_file = tmp / "post.lua", tmp / f"body-{abs(hash(url))}.json"
    script.write_text(LUA, encoding="utf-8")
    body_file.write_text(json.dumps(body), encoding="utf-8")
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script), url]
    output = subprocess.run(
        command, env={**os.environ, "BODY_FILE": str(body_file)},
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if "Non-2xx" in output:
        raise RuntimeError(f"{url} answered errors under load:\n{output}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert found, output
    figures = {"rps": float(found[1])}
    for percentile in ("50", "99"):
        found = re.search(rf"^\s+{percentile}%\s+(\S+)", output, re.MULTILINE)
        assert found, output
        figures[f"p{percentile}"] = _milliseconds(found[1])
    return figures


def h2load(
    url: str, body: Mapping[str, object], rate: int, seconds: int, tmp: Path, clients: int
) -> dict[str, float]:
    """Latency percentiles at a fixed request rate: h2load (Debian package `nghttp2-client`) sends
    ``rate`` requests/s in all over ``clients`` HTTP/1.1 connections for ``seconds`` after 2 s of
    warm-up and logs every request's latency (`--log-file`), which gives the percentiles. Unlike
    wrk's saturation figures, this is the latency a client sees at the stated load. h2load paces
    each connection on its own timer and the timers fire together, so more connections at the
    same total rate mean larger simultaneous bursts: the figures are given per connection count.
    Fails on any non-2xx answer or when the achieved rate falls short of ``rate`` by over 5%."""
    body_file, log = tmp / f"h2load-body-{abs(hash(url))}.json", tmp / "h2load.log"
    body_file.write_text(json.dumps(body), encoding="utf-8")
    command = [
        "h2load", "--h1", "-t1", f"-c{clients}", f"--rps={rate / clients:g}", f"-D{seconds}",
        "--warm-up-time=2", "-d", str(body_file), "-H", "content-type: application/json",
        f"--log-file={log}", url,
    ]  # fmt: skip
    for _ in range(3):  # h2load now and then starts no request at all right after wrk: again
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        if not re.search(r"^requests: 0 total", output, re.MULTILINE):
            break
        time.sleep(2)
    rows = [line.split("\t") for line in log.read_text().splitlines() if line.strip()]
    failed = [row for row in rows if not row[1].startswith("2")]
    if failed or not rows:
        raise RuntimeError(f"{url} answered {len(failed)} errors at {rate} requests/s:\n{output}")
    latencies = sorted(int(row[2]) / 1000 for row in rows)  # microseconds -> milliseconds
    found = re.search(r"^finished in \S+, ([\d.]+) req/s", output, re.MULTILINE)
    assert found, output
    achieved = float(found[1])
    if achieved < 0.95 * rate:
        raise RuntimeError(f"{url} kept up {achieved:,.0f} of {rate:,} requests/s:\n{output}")
    return {
        "rps": achieved,
        **{f"p{q:g}": latencies[min(len(latencies) - 1, int(len(latencies) * q / 100))]
           for q in (50, 99, 99.9)},
        "max": latencies[-1],
    }  # fmt: skip


def _serve(
    command: list[str], ready_url: str, env: dict[str, str], cwd: Path
) -> subprocess.Popen[bytes]:
    log = cwd.parent / f"{Path(command[0]).name}.log"  # a file: a full pipe would stall the server
    with log.open("wb") as sink:
        server = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{command[0]} exited: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(ready_url, timeout=1)
            return server
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{ready_url} not ready after 120 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def service(
    project: Path,
    package: str,
    chosen: Path,
    env: dict[str, str],
    seconds: int,
    venv: Path,
    rate: int,
    connections: list[int],
) -> None:
    """The service against `mlflow models serve` (installed into ``venv``, shared by the cases)."""
    tmp = project.parent
    timed = json.loads(chosen.read_text(encoding="utf-8"))
    record, prepared = [timed["record"]], [timed["prepared"]]
    mine: dict[str, dict[str, float]] = {}
    steady: dict[tuple[str, int], dict[str, float]] = {}
    for recording in ("on", "off"):  # the prediction store's cost, in the same run
        ours = _serve(
            [str(project / ".venv/bin/python"), "-m", f"{package}.server", "--port", "8765",
             "--workers", "2"],
            "http://127.0.0.1:8765/ready",
            {**env, "MODEL_DIR": "models", "PREDICTION_LOGGING": recording}, project,
        )  # fmt: skip
        try:
            runtime = json.load(urllib.request.urlopen("http://127.0.0.1:8765/model"))["runtime"]
            url = "http://127.0.0.1:8765/predict"
            mine[recording] = wrk(url, {"records": record}, seconds, tmp)
            for clients in connections:
                steady[recording, clients] = h2load(
                    url, {"records": record}, rate, seconds, tmp, clients
                )
        finally:
            _stop(ours)
    uv = [str(Path(sys.executable).parent / "uv")]
    if not venv.exists():
        subprocess.run([*uv, "venv", "-q", str(venv)], env=env, check=True)
    versions = subprocess.run(
        [str(project / ".venv/bin/python"), "-c",
         "import sklearn, skops; print(f'scikit-learn=={sklearn.__version__}',"
         " f'skops=={skops.__version__}')"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    subprocess.run(
        [*uv, "pip", "install", "-q", "--python", str(venv / "bin/python"), "mlflow", *versions],
        env=env, check=True,
    )  # fmt: skip
    saved = tmp / "mlflow-model"
    subprocess.run(
        [str(venv / "bin/python"), "-c", SAVE_FOR_MLFLOW, str(project / "models/model.skops"),
         f"{chosen}.example.parquet", str(saved)], env=env, check=True, capture_output=True,
    )  # fmt: skip
    mlflow_env = {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"}
    theirs = _serve(
        [str(venv / "bin/mlflow"), "models", "serve", "-m", str(saved), "--env-manager", "local",
         "-p", "8766", "--workers", "2"],
        "http://127.0.0.1:8766/ping", mlflow_env, project,
    )  # fmt: skip
    try:
        body = {"dataframe_records": prepared}
        alt = wrk("http://127.0.0.1:8766/invocations", body, seconds, tmp)
    finally:
        _stop(theirs)
    for name, figures in (
        (f"service ({runtime}, 2 uvicorn workers, prediction store on)", mine["on"]),
        (f"service ({runtime}, 2 uvicorn workers, prediction store off)", mine["off"]),
        ("mlflow models serve (2 workers, the record prepared beforehand)", alt),
    ):
        print(f"{name}: {figures['rps']:,.0f} requests/s, p50 {figures['p50']:.2f} ms,"
              f" p99 {figures['p99']:.2f} ms (wrk, 16 connections, single records)")  # fmt: skip
    for (recording, clients), figures in steady.items():
        print(f"service ({runtime}, 2 uvicorn workers, prediction store {recording}) at a fixed"
              f" {rate:,} requests/s: p50 {figures['p50']:.2f} ms, p99 {figures['p99']:.2f} ms,"
              f" p99.9 {figures['p99.9']:.2f} ms, max {figures['max']:.2f} ms (h2load,"
              f" {clients} connections, {figures['rps']:,.0f} requests/s achieved)")  # fmt: skip
    ratio = mine["on"]["rps"] / alt["rps"]
    print(f"-> the service answers {ratio:,.0f}x the requests of mlflow models serve")


def site_packages_mb(venv: Path) -> float:
    """Installed size of a virtual environment: the bytes of every file in its site-packages."""
    (site,) = venv.glob("lib/python*/site-packages")
    sizes = (path.lstat().st_size for path in site.rglob("*") if path.is_file())
    return sum(sizes) / 1e6


def edge_size(project: Path, env: dict[str, str]) -> None:
    """Size of the edge image's environment against the service and batch images' ones."""
    tmp, uv = project.parent, str(Path(sys.executable).parent / "uv")
    python = str(project / ".venv" / "bin" / "python")

    def run(*command: str, **extra: str) -> None:
        done = subprocess.run(
            command, cwd=project, env={**env, **extra}, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:3])} failed:\n{done.stderr[-2000:]}")

    # docker/edge.Dockerfile: constraints from uv.lock, then onnxruntime and numpy alone.
    constraints, edge = tmp / "edge-constraints.txt", tmp / "edge-venv"
    run(uv, "export", "--frozen", "--no-dev", "--extra", "edge", "--no-emit-project",
        "--no-hashes", "--output-file", str(constraints))  # fmt: skip
    run(uv, "venv", "-q", "--python", python, str(edge))
    run(uv, "pip", "install", "-q", "--python", str(edge / "bin" / "python"), "--constraint",
        str(constraints), "onnxruntime", "numpy")  # fmt: skip
    edge_mb = site_packages_mb(edge)
    others: dict[str, float] = {}
    # docker/service.Dockerfile and batch.Dockerfile: the package and its extras, with bytecode.
    for image, extra in (("service", "service"), ("batch", "batch")):
        venv = tmp / f"{image}-venv"
        run(uv, "sync", "-q", "--frozen", "--no-dev", "--no-editable", "--extra", extra,
            "--extra", "postgres", "--python", python, UV_PROJECT_ENVIRONMENT=str(venv),
            UV_COMPILE_BYTECODE="1")  # fmt: skip
        name = f"{image} image (full package, --extra {extra} --extra postgres)"
        others[name] = site_packages_mb(venv)
    for name, megabytes in {"edge image (onnxruntime + numpy)": edge_mb, **others}.items():
        print(f"installed size, {name}: {megabytes:,.0f} MB of site-packages")
    ratio = min(others.values()) / edge_mb
    print(f"-> the edge environment is {ratio:.1f}x smaller than the smallest of the others")


def penguins(folder: Path) -> dict[str, str]:
    """palmerpenguins' table as a user's Parquet file (the dev dependency ships it, no download)."""
    from palmerpenguins import load_penguins

    source = folder / "penguins.parquet"
    load_penguins().to_parquet(source, index=False)
    return {"dataset": str(source), "target": "species"}


def describe(project: Path) -> tuple[Path, str, list[str]]:
    """The raw data file (params.yaml), the target's name and the features (the data contract)."""
    import yaml

    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    (contract_file,) = (project / "src").glob("*/contract.yaml")
    contract = yaml.safe_load(contract_file.read_text(encoding="utf-8"))
    features = contract["features"]
    kinds = [spec["type"] for spec in features.values()]
    nullable = [name for name, spec in features.items() if spec.get("nullable")]
    target = contract["target"]
    labels = f", labels {target['labels']}" if "labels" in target else ""
    print(
        f"contract: target {target['name']!r} ({target['task']}{labels}), {len(features)} features"
        f" ({kinds.count('numeric')} numeric, {kinds.count('categorical')} categorical),"
        f" nullable: {', '.join(nullable) or 'none'}; {contract['rows']:,} rows"
    )
    return project / params["data"]["raw_path"], target["name"], list(features)


def run_case(
    name: str, answers: dict[str, str], only: set[str], args: argparse.Namespace,
    env: dict[str, str], folder: Path, mlflow_venv: Path,
) -> int:  # fmt: skip
    """Generate, install and train one project, then measure what ``only`` names."""
    folder.mkdir()
    project = render(
        folder / "bench", deployment_strategies="[batch, edge, model_as_service]", **answers
    )
    package = next(p.name for p in (project / "src").iterdir() if p.is_dir())
    model = only - {"edge-size"}  # the sizes need uv.lock, not a model
    for target in ("install", "data", "train", "export-onnx") if model else ("install",):
        subprocess.run(["make", target], cwd=project, env=env, check=True, capture_output=True)
    print(f"\n## {name}, {os.cpu_count()} cores")
    if "edge-size" in only:
        edge_size(project, env)
    if not model:
        return 0
    raw, target, features = describe(project)
    python = str(project / ".venv" / "bin" / "python")
    chosen = folder / "record.json"
    subprocess.run(
        [python, "-c", PREPARE, package, str(raw), json.dumps(features), str(chosen)],
        cwd=project, env=env, check=True,
    )  # fmt: skip
    if "service" in only:
        service(
            project, package, chosen, env, args.seconds, mlflow_venv, args.rate, args.connections
        )
    if "spark" in only:
        subprocess.run(["uv", "sync", "--all-extras"], cwd=project, env=env, check=True,
                       capture_output=True)  # fmt: skip
        parquet = folder / "big.parquet"
        subprocess.run(
            [python, "-c", SPARK_SAMPLE, str(raw), json.dumps(features), str(parquet),
             str(args.rows)], env=env, check=True,
        )  # fmt: skip
        result = subprocess.run(
            [python, "-c", SPARK, package, str(parquet), str(args.rows), str(folder)],
            cwd=project, env={**env, "PREDICTION_LOGGING": "on"}, capture_output=True, text=True,
        )  # fmt: skip
        print(result.stdout, end="")
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
    big = folder / "big.csv"
    if "batch" in only:
        subprocess.run(
            [python, "-c", SAMPLE, str(raw), json.dumps(features), str(big), str(args.rows)],
            env=env, check=True,
        )  # fmt: skip
    for part, script, extra, recording in (
        ("batch", BATCH, [str(big), str(args.rows), str(folder / "on.db")], "on"),
        ("batch", BATCH, [str(big), str(args.rows), str(folder / "off.db")], "off"),
        ("edge", EDGE, [str(chosen)], "off"),
    ):
        if part not in only:
            continue
        result = subprocess.run(
            [python, "-c", script, package, *extra],
            cwd=project,
            env={**env, "PREDICTION_LOGGING": recording},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
        print(result.stdout, end="")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--problem-type", default="classification", help="of the bundled case")
    parser.add_argument("--seconds", type=int, default=20, help="wrk/h2load duration per server")
    parser.add_argument("--rate", type=int, default=1000, help="h2load's fixed requests/s")
    parser.add_argument(
        "--connections", type=int, nargs="+", default=[4, 20], help="h2load's, one run each"
    )
    parser.add_argument(
        "--only", choices=["service", "batch", "edge", "edge-size", "spark"], action="append"
    )
    parser.add_argument(
        "--case", choices=["bundled", "penguins"], action="append",
        help="bundled example and/or palmerpenguins (default: both, unless --dataset is given)",
    )  # fmt: skip
    parser.add_argument("--dataset", type=Path, help="also a project made from this CSV/Parquet")
    parser.add_argument("--target", help="the column of --dataset to predict")
    args = parser.parse_args()
    if (args.dataset is None) != (args.target is None):
        parser.error("--dataset and --target go together")
    only = set(args.only or ["service", "batch", "edge"])
    if "edge" in only:
        only.add("edge-size")
    # Bytecode caching on, as on any user's machine (this workplace sets PYTHONDONTWRITEBYTECODE,
    # which makes every start-up compile scikit-learn and pandas afresh).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("VIRTUAL_ENV") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.setdefault("UV_CACHE_DIR", str(ROOT / ".cache" / "uv"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    with tempfile.TemporaryDirectory() as tmp:
        cases: list[tuple[str, dict[str, str]]] = []
        for case in args.case or ([] if args.dataset else ["bundled", "penguins"]):
            if case == "bundled":
                bundled = {"problem_type": args.problem_type}
                cases.append((f"bundled example ({args.problem_type})", bundled))
            else:
                cases.append(("palmerpenguins (species)", penguins(Path(tmp))))
        if args.dataset:
            own = {"dataset": str(args.dataset.resolve()), "target": args.target}
            cases.append((f"{args.dataset.name} ({args.target})", own))
        for number, (name, answers) in enumerate(cases):
            case_only = only if number == 0 else only - {"edge-size"}  # sizes: data-independent
            folder = Path(tmp) / f"case{number}"
            if case_only and run_case(
                name, answers, case_only, args, env, folder, Path(tmp) / "mlflow-venv"
            ):
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
