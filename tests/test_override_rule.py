"""The override rule, said once for the audit store and the app's review log."""

from __future__ import annotations

import pytest

from screening.audit.overrides import (
    OUTCOMES,
    Refusal,
    apply_overrides,
    final_outcome,
    latest_overrides,
    override_refusal,
)


@pytest.mark.parametrize(
    ("to_outcome", "reviewer", "justification", "current", "refusal"),
    [
        ("qualified", "Pat", "phoned", "needs_review", None),
        ("qualified", "Pat", "phoned", None, None),
        ("", "", "", "needs_review", Refusal.no_outcome),
        ("qualified", " ", "phoned", "needs_review", Refusal.no_reviewer),
        ("qualified", "Pat", "  ", "needs_review", Refusal.no_justification),
        ("hired", "Pat", "phoned", "needs_review", Refusal.not_an_outcome),
        ("qualified", "Pat", "phoned", "qualified", Refusal.unchanged),
    ],
)
def test_which_overrides_may_be_recorded(
    to_outcome: str,
    reviewer: str,
    justification: str,
    current: str | None,
    refusal: Refusal | None,
) -> None:
    assert override_refusal(to_outcome, reviewer, justification, current) == refusal


def test_the_latest_override_decides_the_final_outcome() -> None:
    assert OUTCOMES == ("qualified", "not_qualified", "needs_review")
    assert final_outcome("needs_review", []) == "needs_review"
    assert final_outcome("needs_review", ["qualified", "not_qualified"]) == "not_qualified"
    latest = latest_overrides([("A", "qualified"), ("B", "qualified"), ("A", "not_qualified")])
    assert latest == {"A": "not_qualified", "B": "qualified"}
    finals = apply_overrides(["A", "B", "C"], ["needs_review"] * 3, latest)
    assert finals == ["not_qualified", "qualified", "needs_review"]
