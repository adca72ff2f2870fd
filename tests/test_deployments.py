"""Slow tier: every deployment strategy, run the way its image runs it.

There is no Docker engine here, so each test reads its Dockerfile's ENTRYPOINT/CMD (exec form),
maps the image's paths (/app/.venv, /app/models, /app/app.py) onto the generated project (the
edge image's /app is laid out from its COPY lines), runs that command, and exercises it: HTTP
requests to the service and the host app, rows in SQLite and in a real PostgreSQL server for
batch, API Gateway events for the Lambda handler, ONNX predictions for edge.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from tests.conftest import one_worker_each, render, tool

pytestmark = pytest.mark.slow
ALL = "[batch, model_in_service, model_as_service, serverless, edge]"
#: How many of a batch run's predictions the prediction store records at most (run_batch's default).
BATCH_RECORD_SAMPLE = 5000


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.package = yaml.safe_load((root / ".copier-answers.yml").read_text())["package_name"]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
        self.env["MODEL_DIR"] = str(root / "models")
        self.store = root / "prediction-store.db"
        self.env["PREDICTION_STORE"] = f"sqlite:///{self.store}"

    def make(self, *targets: str) -> None:
        result = subprocess.run(
            ["make", *targets], cwd=self.root, env=self.env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]

    def command(self, dockerfile: str) -> list[str]:
        """ENTRYPOINT + CMD of a Dockerfile, with image paths mapped onto the project."""
        parts: list[str] = []
        for line in (self.root / dockerfile).read_text().splitlines():
            for instruction in ("ENTRYPOINT", "CMD"):
                if line.startswith(f"{instruction} ["):
                    parts += json.loads(line.removeprefix(instruction))
        mapping = {
            "/app/.venv/": f"{self.root}/.venv/",
            "/app/models": f"{self.root}/models",
            "/app/app.py": f"{self.root}/examples/host_app/app.py",
        }
        mapped = []
        for part in parts:
            for prefix, local in mapping.items():
                if part.startswith(prefix):
                    part = local + part.removeprefix(prefix)
            mapped.append(part)
        return mapped

    def staged_app(self, dockerfile: str, app: Path) -> Path:
        """``app`` holding what the Dockerfile's last stage COPYs from the project into /app."""
        final = (self.root / dockerfile).read_text().rsplit("\nFROM ", 1)[1]
        assert "\nWORKDIR /app\n" in final
        for line in final.splitlines():
            if line.startswith("COPY ") and "--from=" not in line:
                *sources, target = line.split()[1:]
                folder = app / target.removeprefix("/app/")
                folder.mkdir(parents=True, exist_ok=True)
                for source in sources:
                    shutil.copy(self.root / source, folder)
        return app

    def run(
        self, command: list[str], stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` as the image would: from the project root (its WORKDIR)."""
        return subprocess.run(
            command,
            cwd=self.root,
            env={**self.env, **env},
            input=stdin,
            capture_output=True,
            text=True,
        )

    def recorded(self, source: str) -> int:
        """How many predictions ``source`` recorded in the prediction store."""
        with sqlite3.connect(self.store) as connection:
            query = "SELECT COUNT(*) FROM prediction_log WHERE source = ?"
            (count,) = connection.execute(query, (source,)).fetchone()
        connection.close()
        return int(count)

    @property
    def contract(self) -> dict[str, Any]:
        """The project's data contract (src/<package>/contract.yaml)."""
        loaded = yaml.safe_load((self.root / "src" / self.package / "contract.yaml").read_text())
        assert isinstance(loaded, dict)
        return loaded

    @property
    def raw_path(self) -> Path:
        """The imported raw table (`make data`'s data.raw_path: Parquet)."""
        params = yaml.safe_load((self.root / "params.yaml").read_text())
        return self.root / params["data"]["raw_path"]

    def raw(self) -> pd.DataFrame:
        return pd.read_parquet(self.raw_path)

    @property
    def labels(self) -> list[Any]:
        """The contract's class labels as the data has them; empty for a regression."""
        return list(self.contract["target"].get("labels") or [])

    def records(self, n: int = 3) -> list[dict[str, Any]]:
        """The first ``n`` rows of the raw table as JSON records of the contract's features:
        numbers as floats, integer codes as integers (the bundled diabetes table stores `sex` as
        1.0/2.0), other categories as the data has them, a missing value as null."""
        features = self.contract["features"]
        frame = self.raw()[list(features)].head(n)
        records = []
        for row in frame.to_dict(orient="records"):
            record: dict[str, Any] = {}
            for name, value in row.items():
                if pd.isna(value):
                    record[name] = None
                elif features[name]["type"] == "numeric":
                    record[name] = float(value)
                elif features[name].get("dtype") == "integer":  # codes, as the contract has them
                    record[name] = int(value)
                else:
                    record[name] = value.item() if hasattr(value, "item") else value
            records.append(record)
        return records

    def assert_answers(self, body: dict[str, Any], count: int, probabilities: bool = True) -> None:
        """``body`` answers ``count`` records: a label of the contract each, with (unless not
        ``probabilities``) a probability per label (keys: the labels' text) for a classifier; a
        number each for a regressor."""
        assert len(body["predictions"]) == count, body
        labels = self.labels
        if not labels:
            assert all(isinstance(value, float | int) for value in body["predictions"]), body
            return
        assert all(prediction in labels for prediction in body["predictions"]), body
        if not probabilities:  # the host app, an example, answers the labels alone
            return
        assert len(body["probabilities"]) == count, body
        for probabilities in body["probabilities"]:
            assert list(probabilities) == [str(label) for label in self.ordered_labels()]
            assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-4)

    def ordered_labels(self) -> list[Any]:
        """The labels in the model's class order: a binary target's positive label last."""
        labels, positive = self.labels, self.contract["target"].get("positive")
        if positive is not None:
            labels = [label for label in labels if label != positive] + [positive]
        return labels

    def wrong_type(self) -> dict[str, Any]:
        """A record whose first numeric feature is text: a 422 on every HTTP path."""
        record = self.records(1)[0]
        numeric = [n for n, spec in self.contract["features"].items() if spec["type"] == "numeric"]
        return {**record, numeric[0]: "not a number"}


@pytest.fixture(scope="module", params=one_worker_each("deploy", "classification", "regression"))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = render(
        tmp_path_factory.mktemp("deploy") / "project",
        problem_type=request.param,
        deployment_strategies=ALL,
    )
    project = Project(root)
    project.make("install", "data", "train", "export-onnx")
    return project


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _replace_port(command: list[str], port: int) -> list[str]:
    index = command.index("--port")
    host = command.index("--host") if "--host" in command else None
    command = [*command[: index + 1], str(port), *command[index + 2 :]]
    if host is not None:
        command[host + 1] = "127.0.0.1"
    return command


def _request(
    url: str, body: Any = None, method: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"content-type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _serve(
    command: list[str],
    project: Project,
    health: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Generator[subprocess.Popen[str]]:
    """Run ``command`` (from the project root with the project's environment unless given) until
    ``health`` answers 200; stop it when the caller's loop ends."""
    cwd, env = cwd or project.root, env if env is not None else project.env
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"{command} exited: {process.stdout.read() if process.stdout else ''}")
            try:
                if _request(health)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        else:
            pytest.fail(f"{command} did not become healthy at {health} within 60 s")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def _metric(url: str, name: str) -> float:
    """The value of the label-less metric ``name`` in one scrape of ``url``."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    (value,) = [line.split()[1] for line in text.splitlines() if line.startswith(f"{name} ")]
    return float(value)


def test_service_image_command(project: Project) -> None:
    """Two uvicorn workers, as in the image: every scrape counts the predictions of both, and
    every line the server writes is one JSON object."""
    port = _free_port()
    command = _replace_port(project.command("docker/service.Dockerfile"), port)
    assert command[:3] == [f"{project.root}/.venv/bin/python", "-m", f"{project.package}.server"]
    assert command[command.index("--workers") + 1] == "2"
    base = f"http://127.0.0.1:{port}"
    records = project.records(6)
    with contextlib.closing(_serve(command, project, f"{base}/ready")) as serving:
        process = next(serving)
        for index, record in enumerate(records):
            headers = {"x-request-id": f"test-{index}"}
            status, body = _request(f"{base}/predict", {"records": [record]}, headers=headers)
            assert status == 200, body
            project.assert_answers(body, 1)
        assert _request(f"{base}/predict", {"records": [{"bad": 1}]})[0] == 422
        assert _request(f"{base}/predict", {"records": [project.wrong_type()]})[0] == 422
        status, info = _request(f"{base}/model")
        assert info["lineage"]["artifact_sha256"]
        scrapes = [_metric(f"{base}/metrics", "predictions_total") for _ in range(8)]
        assert scrapes == [len(records)] * 8  # whichever worker answers the scrape
    # written by the background writer, at the latest on exit
    assert project.recorded("service") == len(records)
    assert process.stdout is not None
    entries = []
    for line in process.stdout.read().splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a line of the service's output is not JSON: {line!r}")
    messages = [entry["message"] for entry in entries]
    assert messages.count("Application startup complete.") == 2  # uvicorn's lines, once a worker
    predicted = {
        e["request_id"] for e in entries if e.get("path") == "/predict" and e["status"] == 200
    }
    assert predicted == {f"test-{index}" for index in range(len(records))}


def test_host_app_image_command(project: Project) -> None:
    port = _free_port()
    command = _replace_port(project.command("examples/host_app/Dockerfile"), port)
    base = f"http://127.0.0.1:{port}"
    for _ in _serve(command, project, f"{base}/health"):
        status, body = _request(f"{base}/score", {"records": project.records(2)})
        assert status == 200, body
        project.assert_answers(body, 2, probabilities=False)
        assert _request(f"{base}/score", {"records": [{"bad": 1}]})[0] == 422
        assert _request(f"{base}/score", {"records": [project.wrong_type()]})[0] == 422
    assert project.recorded("host_app") == 2


WHEEL_CHECK = """
import json, sys
from pathlib import Path
import pandas as pd
import {package}
from {package} import load_predictor
from {package}.artifact import ArtifactIntegrityError
packaged = Path({package}.__file__).parent / "_model"
predictor = load_predictor()
records = json.loads(sys.argv[1])
print(json.dumps({{
    "package": {package}.__file__,
    "model_version": predictor.metadata.model_version,
    "predictions": predictor.predict(pd.DataFrame(records)),
}}))
model = packaged / "model.skops"
model.write_bytes(model.read_bytes() + b"x")
try:
    load_predictor()
except ArtifactIntegrityError as exc:
    print(json.dumps({{"altered": str(exc)}}))
"""


@pytest.fixture
def wheel_venv(project: Project, tmp_path: Path) -> Path:
    """A clean virtual environment holding only `make wheel`'s wheel and its dependencies."""
    project.make("wheel")
    (wheel,) = (project.root / "dist").glob("*.whl")
    assert not (project.root / "src" / project.package / "_model").exists()  # only in the wheel
    venv = tmp_path / "venv"
    python = str(project.root / ".venv" / "bin" / "python")
    for command in (
        ["uv", "venv", "--quiet", "--offline", "--python", python, str(venv)],
        # the wheel's dependencies are resolved from the package index (a cache holding only
        # what the projects' locked installs downloaded lacks the index pages to do it offline)
        ["uv", "pip", "install", "--quiet", "--python", str(venv), str(wheel)],
    ):
        result = subprocess.run(command, env=project.env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    return venv


def test_wheel_carries_the_model(project: Project, wheel_venv: Path, tmp_path: Path) -> None:
    """Installed from the wheel alone, with no MODEL_DIR and far from the project, the package
    loads the verified model it carries, and refuses it once its bytes are altered."""
    env = {k: v for k, v in project.env.items() if k != "MODEL_DIR"}
    records = project.records(3)
    result = subprocess.run(
        [
            str(wheel_venv / "bin" / "python"),
            "-c",
            WHEEL_CHECK.format(package=project.package),
            json.dumps(records),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    loaded, refused = (json.loads(line) for line in result.stdout.splitlines())
    assert loaded["package"].startswith(str(wheel_venv))  # not the project's source tree
    metadata = json.loads((project.root / "models" / "model.json").read_text())
    assert loaded["model_version"] == metadata["model_version"]
    expected = project.run(
        [
            str(project.root / ".venv" / "bin" / "python"),
            "-c",
            f"import json, sys; from {project.package}.predict import predict;"
            " print(json.dumps(predict(json.loads(sys.argv[1]))))",
            json.dumps(records),
        ]
    )
    assert expected.returncode == 0, expected.stderr
    assert loaded["predictions"] == pytest.approx(json.loads(expected.stdout))
    assert "refusing to load an altered artifact" in refused["altered"]
    assert "SHA-256" in refused["altered"]


def test_host_app_runs_on_the_installed_wheel(
    project: Project, wheel_venv: Path, tmp_path: Path
) -> None:
    """The host app's image command, on a venv with only the wheel: the model comes from it."""
    workdir = tmp_path / "app"  # the image's WORKDIR: app.py alone, no models/ beside it
    workdir.mkdir()
    shutil.copy(project.root / "examples" / "host_app" / "app.py", workdir / "app.py")
    command = [
        part.replace(f"{project.root}/.venv/", f"{wheel_venv}/").replace(
            str(project.root / "examples" / "host_app" / "app.py"), str(workdir / "app.py")
        )
        for part in project.command("examples/host_app/Dockerfile")
    ]
    assert command[0] == str(wheel_venv / "bin" / "python")
    port = _free_port()
    command = _replace_port(command, port)
    env = {k: v for k, v in project.env.items() if k != "MODEL_DIR"}
    env["PREDICTION_STORE"] = f"sqlite:///{tmp_path / 'store.db'}"
    metadata = json.loads((project.root / "models" / "model.json").read_text())
    base = f"http://127.0.0.1:{port}"
    for _ in _serve(command, project, f"{base}/health", cwd=workdir, env=env):
        assert _request(f"{base}/") == (
            200,
            {"app": "host", "model_version": metadata["model_version"]},
        )
        status, body = _request(f"{base}/score", {"records": project.records(2)})
        assert status == 200, body
        project.assert_answers(body, 2, probabilities=False)
    with sqlite3.connect(tmp_path / "store.db") as connection:
        (count,) = connection.execute("SELECT COUNT(*) FROM prediction_log").fetchone()
    connection.close()
    assert count == 2


def test_batch_image_command_into_sqlite(project: Project, tmp_path: Path) -> None:
    command = project.command("docker/batch.Dockerfile")
    assert command[-1] == "--help"
    database = tmp_path / "predictions.db"
    raw = str(project.raw_path)  # the imported table, target and dropped columns included
    args = [*command[:-1], raw, "--output-url", f"sqlite:///{database}", "--run-id", "r1"]
    for _ in range(2):  # a re-run of the same run id replaces its rows
        result = project.run(args)
        assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT run_id, COUNT(*) FROM predictions GROUP BY run_id"
        ).fetchall()
        predictions = [p for (p,) in connection.execute("SELECT prediction FROM predictions")]
    connection.close()
    n = len(project.raw())
    assert rows == [("r1", n)]
    if project.labels:  # the labels as the data has them
        assert set(predictions) <= set(project.labels), set(predictions)
    # each run records a sample of its predictions: all rows, up to the sample's size
    assert project.recorded("batch") == 2 * min(n, BATCH_RECORD_SAMPLE)


def test_lambda_image_command_with_events(project: Project) -> None:
    (handler,) = project.command("docker/serverless.Dockerfile")
    module, function = handler.rsplit(".", 1)
    event = {
        "version": "2.0",
        "routeKey": "POST /predict",
        "requestContext": {"http": {"method": "POST", "path": "/predict"}},
        "body": json.dumps({"records": project.records(2)}),
        "isBase64Encoded": False,
    }
    script = (
        "import importlib, json, sys\n"
        f"handler = getattr(importlib.import_module({module!r}), {function!r})\n"
        "for event in json.load(sys.stdin):\n"
        "    print(json.dumps(handler(event, None)))\n"
    )
    get = {  # a GET through a REST API (payload v1): no body, still the proxy envelope back
        "resource": "/predict",
        "path": "/predict",
        "httpMethod": "GET",
        "headers": {"accept": "application/json"},
        "requestContext": {"httpMethod": "GET", "resourcePath": "/predict", "stage": "prod"},
        "body": None,
        "isBase64Encoded": False,
    }
    events = [event, {"records": project.records(1)}, {**event, "body": "{broken"}, get]
    result = project.run([str(project.root / ".venv/bin/python"), "-c", script], json.dumps(events))
    assert result.returncode == 0, result.stderr
    responses = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["statusCode"] for r in responses] == [200, 200, 400, 405]
    assert json.loads(responses[3]["body"])["error"].startswith("method GET is not allowed")
    project.assert_answers(json.loads(responses[0]["body"]), 2)
    assert project.recorded("lambda") == 3


def test_edge_image_command(project: Project, tmp_path: Path) -> None:
    app = project.staged_app("docker/edge.Dockerfile", tmp_path / "app")
    assert sorted(p.name for p in app.glob("*.py")) == ["edge.py", "onnx_runtime.py"]
    # The image's /app/edge.py runs from a folder with only what the Dockerfile copies.
    command = [
        part.replace("/app/", f"{app}/", 1) if part.startswith("/app/edge.py") else part
        for part in project.command("docker/edge.Dockerfile")
    ]
    assert command[1] == f"{app}/edge.py"
    assert command[-1] == "-"
    result = subprocess.run(
        command,
        input=json.dumps(project.records(4)),
        env=project.env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    project.assert_answers(json.loads(result.stdout), 4)
    bad = project.run(command, '[{"x": 1}]')
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: record 0: missing")
    assert project.recorded("edge") == 4  # the same table, written with sqlite3 alone


POSTGRES_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


@pytest.fixture
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL server on a free port, run as the `postgres` system user."""
    assert POSTGRES_BIN, "PostgreSQL server binaries are missing: install Debian's postgresql"
    binaries = POSTGRES_BIN[-1]
    runas = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # Under /tmp itself: the server's user must be able to reach the folder.
    root = Path(tempfile.mkdtemp(prefix="mlops-new-pg-"))
    data = root / "pgdata"
    data.mkdir()
    if runas:
        shutil.chown(root, "postgres")
        shutil.chown(data, "postgres")
    port = _free_port()
    init = subprocess.run(
        [*runas, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "mlops"],
        capture_output=True,
        text=True,
    )
    assert init.returncode == 0, f"initdb failed: {init.stderr}"
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    ctl = [*runas, str(binaries / "pg_ctl"), "-D", str(data)]
    start = subprocess.run(
        [*ctl, "-o", options, "-w", "-l", str(root / "log"), "start"],
        capture_output=True,
        text=True,
    )
    assert start.returncode == 0, f"PostgreSQL did not start: {start.stdout}{start.stderr}"
    try:
        yield f"postgresql+psycopg://mlops@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*ctl, "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_batch_into_a_real_postgresql_server(project: Project, postgres: str) -> None:
    command = project.command("docker/batch.Dockerfile")[:-1]
    raw = str(project.raw_path)
    for run_id in ("a", "b", "a"):
        result = project.run(
            [*command, raw, "--output-url", postgres, "--run-id", run_id, "--chunk-size", "100"],
            PREDICTION_STORE=postgres,  # the prediction store in the same server, its own table
        )
        assert result.returncode == 0, result.stderr
    script = (
        "import sqlalchemy as sa, sys\n"
        "engine = sa.create_engine(sys.argv[1])\n"
        "with engine.connect() as c:\n"
        "    print(dict(c.execute(sa.text("
        "'SELECT run_id, COUNT(*) FROM predictions GROUP BY run_id ORDER BY run_id')).all()))\n"
        "    print(c.execute(sa.text('SELECT COUNT(*) FROM prediction_log')).scalar())\n"
    )
    counts = project.run([str(project.root / ".venv/bin/python"), "-c", script, postgres])
    assert counts.returncode == 0, counts.stderr
    rows = len(project.raw())
    outputs, recorded = counts.stdout.splitlines()
    assert outputs == str({"a": rows, "b": rows})
    assert recorded == str(3 * min(rows, BATCH_RECORD_SAMPLE))


POSTGRES_TABLES = """
import json, sys
import pandas as pd
import sqlalchemy as sa
features, required = json.loads(sys.argv[3]), sys.argv[4]
frame = pd.read_parquet(sys.argv[2])[features]
frame.insert(0, "customer", [f"c{i}" for i in range(len(frame))])
broken = frame.copy()
broken[required] = broken[required].astype("float64")
broken.loc[len(broken) - 1, required] = None  # NULL in the last row: the last chunk fails
engine = sa.create_engine(sys.argv[1])
frame.to_sql("customers", engine, index=False)
broken.to_sql("customers_broken", engine, index=False)
engine.dispose()
"""

POSTGRES_SNAPSHOT = """
import json, sys
import sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
with engine.connect() as c:
    rows = c.execute(sa.text(
        "SELECT run_id, row_number, record_id, prediction, model_version, scored_at::text"
        " FROM predictions ORDER BY run_id, row_number"
    )).all()
    recorded = c.execute(sa.text("SELECT COUNT(*) FROM prediction_log")).scalar()
print(json.dumps({"rows": [list(row) for row in rows], "recorded": recorded}))
"""


def test_batch_reads_a_postgresql_table_and_a_failed_run_keeps_the_previous_rows(
    project: Project, postgres: str
) -> None:
    """Input from a PostgreSQL table (table:NAME --source-url); a run of the same run id that
    fails in its last chunk leaves that run's previous rows, and the prediction store, as they
    were."""
    python = str(project.root / ".venv/bin/python")
    raw = str(project.raw_path)
    features = project.contract["features"]
    required = next(  # a numeric feature that may not be missing: a NULL in it fails the run
        n for n, spec in features.items() if spec["type"] == "numeric" and not spec["nullable"]
    )
    loaded = project.run(
        [python, "-c", POSTGRES_TABLES, postgres, raw, json.dumps(list(features)), required]
    )
    assert loaded.returncode == 0, loaded.stderr
    command = project.command("docker/batch.Dockerfile")[:-1]
    common = ["--output-url", postgres, "--chunk-size", "100"]
    for args in (
        ["table:customers", "--source-url", postgres, "--run-id", "nightly", "--id-column",
         "customer"],
        [raw, "--run-id", "raw"],
    ):  # fmt: skip
        result = project.run([*command, *args, *common], PREDICTION_STORE=postgres)
        assert result.returncode == 0, result.stderr
    before = project.run([python, "-c", POSTGRES_SNAPSHOT, postgres])
    assert before.returncode == 0, before.stderr
    snapshot = json.loads(before.stdout)
    n = len(project.raw())
    assert n > 100  # several chunks: the failure comes after the first ones were written
    by_run = {run: [row for row in snapshot["rows"] if row[0] == run] for run in ("nightly", "raw")}
    assert [row[2] for row in by_run["nightly"]] == [f"c{i}" for i in range(n)]
    nightly = [row[3] for row in by_run["nightly"]]
    assert nightly == pytest.approx([row[3] for row in by_run["raw"]])  # same rows, same scores
    assert snapshot["recorded"] == 2 * n  # each run's sample: all rows, fewer than its size

    failed = project.run(
        [*command, "table:customers_broken", "--source-url", postgres, "--run-id", "nightly",
         "--id-column", "customer", *common],
        PREDICTION_STORE=postgres,
    )  # fmt: skip
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: invalid data:"), failed.stderr  # one message
    after = project.run([python, "-c", POSTGRES_SNAPSHOT, postgres])
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == snapshot


BATCH_INPUT = """
import json, sys
import pandas as pd
import sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
pd.read_parquet(sys.argv[2])[json.loads(sys.argv[3])].to_sql(sys.argv[4], engine, index=False)
engine.dispose()
"""

BATCH_RUNS = """
import json, sys
import sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
with engine.connect() as c:
    runs = c.execute(sa.text("SELECT run_id, COUNT(*) FROM predictions GROUP BY run_id")).all()
    recorded = c.execute(sa.text(
        "SELECT request_id, source, COUNT(*) FROM prediction_log GROUP BY request_id, source"
    )).all()
print(json.dumps({"runs": [list(r) for r in runs], "recorded": [list(r) for r in recorded]}))
"""


def test_batch_cronjob_pod_command_scores_its_table_and_a_retried_pod_replaces_its_rows(
    project: Project, postgres: str, tmp_path: Path
) -> None:
    """What a pod of the batch CronJob (deploy/k8s, prod overlay) runs, run here: the image's
    entry point with the manifest's args and env, as Kubernetes makes them (the Job's name from
    the pod's label through the downward API, `$(VAR)` expanded in args), each secret a folder of
    the files the Secret holds (both URLs: the PostgreSQL server). The pod's retry (same Job,
    same name) replaces its rows; its sample goes to the prediction store under that run id."""
    rendered = subprocess.run(
        [tool("kubectl"), "kustomize", str(project.root / "deploy/k8s/overlays/prod")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    cronjob = next(d for d in yaml.safe_load_all(rendered) if d["kind"] == "CronJob")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert "command" not in container  # the image's ENTRYPOINT runs, with these args
    job = f"{cronjob['metadata']['name']}-29412360"  # a scheduled run's Job: <cronjob>-<minute>
    labels = {"batch.kubernetes.io/job-name": job, "job-name": job}  # what the Job controller sets
    env: dict[str, str] = {}
    for variable in container["env"]:
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        else:
            path = variable["valueFrom"]["fieldRef"]["fieldPath"]
            label = re.fullmatch(r"metadata\.labels\['(.+)'\]", path)
            assert label, path
            env[variable["name"]] = labels[label[1]]
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    assert set(secrets.values()) == {"batch-database", "prediction-store"}
    local = {"/app/models": str(project.root / "models")}
    for mount in container["volumeMounts"]:
        if mount["name"] in secrets:
            folder = tmp_path / "secrets" / secrets[mount["name"]]
            folder.mkdir(parents=True)
            (folder / "url").write_text(postgres + "\n")  # the Secret's key `url`
            local[mount["mountPath"]] = str(folder)

    def as_here(text: str) -> str:
        text = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), text)  # Kubernetes' $(VAR)
        for path, folder in local.items():
            text = text.replace(path, folder)
        return text

    args = [as_here(arg) for arg in container["args"]]
    assert f"--run-id={job}" in args
    table = args[0].removeprefix("table:")
    python = str(project.root / ".venv/bin/python")
    features = json.dumps(list(project.contract["features"]))
    raw = str(project.raw_path)
    loaded = project.run([python, "-c", BATCH_INPUT, postgres, raw, features, table])
    assert loaded.returncode == 0, loaded.stderr
    command = [*project.command("docker/batch.Dockerfile")[:-1], *args]
    for _ in range(2):  # the pod, then the Job's retry of it
        result = project.run(command, **{name: as_here(value) for name, value in env.items()})
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"run {job}: {len(project.raw())} rows"), result.stdout
    counts = project.run([python, "-c", BATCH_RUNS, postgres])
    assert counts.returncode == 0, counts.stderr
    n = len(project.raw())
    assert json.loads(counts.stdout) == {
        "runs": [[job, n]],  # one run, its rows once
        "recorded": [[job, "batch", 2 * min(n, BATCH_RECORD_SAMPLE)]],  # each pod's sample
    }


#: Each strategy's image-command check, for a trained project built elsewhere:
#: tests/test_generated_ci.py runs it on the project of each strategy alone after its `make ci`.
IMAGE_COMMAND_CHECKS: dict[str, Callable[[Project, Path], None]] = {
    "batch": test_batch_image_command_into_sqlite,
    "model_in_service": lambda project, _: test_host_app_image_command(project),
    "model_as_service": lambda project, _: test_service_image_command(project),
    "serverless": lambda project, _: test_lambda_image_command_with_events(project),
    "edge": test_edge_image_command,
}


#: Today's three contract defects (#17), each patched back into the generated service: (what is
#: replaced, by what) in service.py, and the route whose contract test must then fail.
DEFECTS = {
    "booleans-as-numbers": (
        [("Annotated[float, Strict(), ", "Annotated[float, ")],
        "POST /predict",
    ),
    "no-upper-bound-nor-finite-check": (
        [("Field(ge=low, le=high)", "Field(ge=low)"), ("refuse_non_finite(", "(lambda _: None)(")],
        "POST /predict",
    ),
    "metrics-declared-json": ([("    response_class=PlainTextResponse,\n", "")], "GET /metrics"),
}


@pytest.mark.parametrize("defect", [None, *DEFECTS])
def test_the_contract_test_passes_and_fails_on_each_defect_reintroduced(
    project: Project, defect: str | None
) -> None:
    """The generated Schemathesis test (tests/unit/test_contract.py) passes on the service as
    generated, and fails, on the route concerned, with each defect it exists to catch put back."""
    service = project.root / "src" / project.package / "service.py"
    original = service.read_text()
    patched = original
    replacements, route = DEFECTS[defect] if defect else ([], "")
    for old, new in replacements:
        assert old in patched, old
        patched = patched.replace(old, new)
    service.write_text(patched)
    try:
        result = project.run(
            [str(project.root / ".venv/bin/pytest"), "tests/unit/test_contract.py", "-rf"]
        )
    finally:
        service.write_text(original)
    output = result.stdout[-4000:] + result.stderr[-2000:]
    if defect is None:
        assert result.returncode == 0, output
        assert " passed" in result.stdout
        return
    assert result.returncode == 1, output
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED ")]
    assert len(failed) == 1, output
    assert f"[{route}]" in result.stdout, output
