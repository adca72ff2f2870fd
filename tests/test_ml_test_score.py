"""docs/ml-test-score.md: every referenced file, test and make target exists; the score adds up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, make_recipes, render

VARIANTS = [
    {"risk_category": "minimal"},
    {"risk_category": "limited", "problem_type": "regression"},
    {"risk_category": "high", "high_risk_area": "employment"},
    {"risk_category": "high", "problem_type": "regression"},
    {"risk_category": "minimal", "ci_provider": "gitlab"},
]
ROW = re.compile(
    r"^\| (?P<id>[A-Z][a-z]*\d) \| (?P<name>.+?) \| (?P<status>\w+)"
    r" \| (?P<points>[\d.]+) \| (?P<evidence>.+) \|$"
)
POINTS = {"automated": 1.0, "manual": 0.5, "missing": 0.0}
SECTIONS = {"D": "Data", "M": "Model", "I": "Infrastructure", "Mon": "Monitoring"}


def _rows(root: Path) -> list[dict[str, str]]:
    text = (root / "docs" / "ml-test-score.md").read_text()
    return [m.groupdict() for line in text.splitlines() if (m := ROW.match(line))]


@pytest.fixture(scope="module", params=VARIANTS, ids=lambda v: "-".join(v.values()))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("score") / "p", **request.param)


def test_all_28_tests_are_listed(project: Path) -> None:
    rows = _rows(project)
    assert len(rows) == 28
    by_section: dict[str, int] = {}
    for row in rows:
        section = SECTIONS[re.sub(r"\d", "", row["id"])]
        by_section[section] = by_section.get(section, 0) + 1
    assert by_section == dict.fromkeys(SECTIONS.values(), 7)


def test_every_reference_exists(project: Path) -> None:
    makefile = make_recipes(project)
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    for row in _rows(project):
        refs = re.findall(r"`([^`]+)`", row["evidence"])
        assert bool(refs) == (row["status"] != "missing"), row
        for ref in refs:
            if ref.startswith("make "):
                assert ref.removeprefix("make ") in targets, f"{row['id']}: no target {ref}"
                continue
            path, _, test = ref.partition("::")
            assert (project / path).exists(), f"{row['id']}: {path} does not exist"
            if test:
                assert f"def {test}(" in (project / path).read_text(), f"{row['id']}: {ref}"


def test_score_is_computed_as_the_paper_does(project: Path) -> None:
    rows = _rows(project)
    totals: dict[str, float] = {}
    for row in rows:
        assert float(row["points"]) == POINTS[row["status"]]
        section = SECTIONS[re.sub(r"\d", "", row["id"])]
        totals[section] = totals.get(section, 0.0) + POINTS[row["status"]]
    text = (project / "docs" / "ml-test-score.md").read_text()
    for section, total in totals.items():
        assert f"| {section} | {total} |" in text
    assert f"**Final ML Test Score: {min(totals.values())}**" in text


@pytest.mark.parametrize(
    ("label", "answers"), [("default", {}), ("high", {"risk_category": "high"})]
)
def test_scores_reported_in_the_docs_are_true(
    tmp_path: Path, label: str, answers: dict[str, str]
) -> None:
    """docs/testing.md reports the score of a default and a high-risk project: keep it true."""
    text = (render(tmp_path / "p", **answers) / "docs" / "ml-test-score.md").read_text()
    sections = dict(
        re.findall(r"^\| (Data|Model|Infrastructure|Monitoring) \| ([\d.]+) \|$", text, re.M)
    )
    final = re.search(r"Final ML Test Score: ([\d.]+)", text)
    assert final
    docs = (REPO_ROOT / "docs" / "testing.md").read_text().split("## ML Test Score")[1]
    row = next(
        line
        for line in docs.splitlines()
        if line.startswith(f"| {label}") or line.startswith(f"| `{label}`")
    )
    cells = [c.strip().strip("*") for c in row.strip("|").split("|")]
    assert cells[1:] == [sections[s] for s in ("Data", "Model", "Infrastructure", "Monitoring")] + [
        final[1]
    ]
