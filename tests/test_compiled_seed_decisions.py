"""The compiled seed screens the sample batch exactly as the hand-written rule file does."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from screening.run.stages import screen_files
from screening.spec import load_spec
from screening.speccompiler import compile_document, default_vocabulary

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "tests" / "fixtures" / "alameda-7616-account-manager.txt"
HAND_WRITTEN = REPO / "rules" / "alameda-7616-account-manager.yaml"
BATCH = REPO / "data" / "account-manager-applicants.csv"


@pytest.mark.parametrize("requires_driving", [False, True])
def test_compiled_and_hand_written_specs_decide_alike(requires_driving: bool) -> None:
    compiled = compile_document(SEED, default_vocabulary()).spec
    hand = load_spec(HAND_WRITTEN)
    as_of = date(2025, 6, 30)
    by_hand = screen_files(BATCH, HAND_WRITTEN, as_of=as_of, requires_driving=requires_driving)
    by_compiler = screen_files(BATCH, compiled, as_of=as_of, requires_driving=requires_driving)
    columns = [
        "applicant_id",
        "outcome",
        *hand.criterion_ids(),
        "qualifying_years",
        "possible_years",
        "pattern",
        "conditions",
    ]
    assert compiled.criterion_ids() == hand.criterion_ids()
    left = by_hand.results[columns].reset_index(drop=True)
    right = by_compiler.results[columns].reset_index(drop=True)
    assert len(left) == len(right) > 300
    assert left.equals(right)
    assert set(left["outcome"]) == {"qualified", "not_qualified", "needs_review"}
