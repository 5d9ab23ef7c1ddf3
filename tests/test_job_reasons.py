"""Reasons name each job that did not count or is in doubt; the review queue groups the
uncertain jobs by their doubt."""

from __future__ import annotations

from pathlib import Path

from screening.review import review_groups, review_items
from tests.builders import cell, edu, job, outcome, row, screen

LONG_AGO = {"start": "2015-01-01", "end": "2020-12-31"}


def test_a_rejection_names_each_job_that_did_not_count_and_why(tmp_path: Path) -> None:
    result = screen(
        tmp_path,
        [
            row(
                "A1",
                edu(),
                job(1, "Store Manager", "Target", "Retail", **LONG_AGO),
                job(
                    2,
                    "Registered Nurse",
                    "Kaiser Permanente",
                    "Healthcare",
                    "2021-01-01",
                    "2024-12-31",
                ),
            )
        ],
    )
    assert outcome(result) == "not_qualified"
    reasons = cell(result, "reasons")
    assert "did not count: Store Manager, Target: industry 'Retail'" in reasons
    assert "Registered Nurse, Kaiser Permanente: a known occupation (Registered Nurses" in reasons
    assert "outside customer relations, account management" in reasons


def test_a_review_names_the_job_and_its_doubt(tmp_path: Path) -> None:
    result = screen(
        tmp_path, [row("A1", edu(), job(1, "Acct Manger", "PG&E", "Utilities", **LONG_AGO))]
    )
    assert outcome(result) == "needs_review"
    reasons = cell(result, "reasons")
    assert (
        "if these count: Acct Manger, PG&E, Jan 2015 – Dec 2020, full time (near match:" in reasons
    )


def test_the_review_queue_groups_uncertain_jobs_by_their_doubt(tmp_path: Path) -> None:
    rows = [
        row("A1", edu(), job(1, "Acct Manger", "PG&E", "Utilities", **LONG_AGO)),
        row("A2", edu(), job(1, "Progam Manager", "SMUD", "Electric utility", **LONG_AGO)),
        row("A3", edu(), job(1, "Grid Whisperer", "SMUD", "Electric utility", **LONG_AGO)),
        row("A4", edu(), job(1, "Account Manager", "AT&T", "Telecommunications", **LONG_AGO)),
        row("A5", edu(), job(1, "Operations Manager", "Acme", "Waste management", **LONG_AGO)),
    ]
    result = screen(tmp_path, rows)
    items = review_items(result)
    kinds = dict(zip(items["applicant_id"], items["kind"], strict=True))
    assert kinds == {
        "A1": "near match",
        "A2": "near match",
        "A3": "unrecognised title",
        "A4": "industry",
        "A5": "occupation",
    }
    groups = review_groups(items)
    telecom = groups[groups["kind"] == "industry"].iloc[0]
    assert telecom["value"] == "Telecommunications"
    # an industry judgement can be settled once in the spec; a title doubt cannot
    assert bool(telecom["settleable"])
    assert not groups[groups["kind"] == "near match"]["settleable"].any()
