"""The hand-written edge cases in data/ screen to their hand-computed expected outcomes."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from screening.run.stages import ScreeningResult, screen_files
from tests.builders import ALAMEDA, ROOT

CASES = ROOT / "data" / "edge-cases.csv"
EXPECTED = ROOT / "data" / "edge-cases-expected.csv"
#: The as-of date the expected outcomes were computed for (see their notes).
AS_OF = date(2026, 11, 26)


def expected_rows() -> list[dict[str, str]]:
    with EXPECTED.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def screened() -> ScreeningResult:
    return screen_files(CASES, ALAMEDA, as_of=AS_OF)


def test_every_edge_case_has_an_expected_outcome(screened: ScreeningResult) -> None:
    assert screened.results["applicant_id"].tolist() == [r["applicant_id"] for r in expected_rows()]
    assert screened.batch.error_rows == 0


@pytest.mark.parametrize(
    "case", expected_rows(), ids=lambda r: f"{r['applicant_id']}-{r['first_name']}"
)
def test_edge_case_outcome(screened: ScreeningResult, case: dict[str, str]) -> None:
    decision = screened.decision(case["applicant_id"])
    assert decision.outcome.value == case["expected_outcome"], case["note"]
    assert decision.reasons, "every decision carries its principal reasons"
