"""Re-screening stored inputs: same spec, same decisions; another spec, who flips and why.

The engine is replaced by a small evaluator that decides on the years in the stored input
record against the spec's required years, so the comparison logic is tested on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from screening.audit import AuditError, AuditStore
from screening.results import Decision, Outcome, Status
from screening.run.rescreen import rescreen
from screening.run.stages import ScreenJob
from screening.spec import JobSpec
from tests.audit_helpers import Applicant, FakeResult, applicants, make_decision, store_url

__all__ = ["store_url"]

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def decide(spec: JobSpec, applicant_id: str, years: float) -> Decision:
    required = spec.patterns[0].experience[0].years
    met = years >= required
    person = Applicant(
        applicant_id,
        Outcome.qualified if met else Outcome.not_qualified,
        Status.met,
        Status.met if met else Status.not_met,
        years=years,
    )
    return make_decision(person, 2)


class WithYears(FakeResult):
    """Input records carry the years the stand-in evaluator decides on."""

    def input_records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for applicant_id, record in super().input_records():
            years = next(a.years for a in self.applicants if a.applicant_id == applicant_id)
            yield applicant_id, {**record, "years": years}

    def decisions(self) -> Iterator[Decision]:
        for a in self.applicants:
            yield decide(self.spec, a.applicant_id, a.years)


@dataclass
class Screened:
    spec: JobSpec
    items: list[Decision]
    ruleset_hash: str

    def decisions(self) -> Iterator[Decision]:
        return iter(self.items)


class Evaluator:
    """Stand-in for screening.run.stages.screen_records; remembers how it was called."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, job: ScreenJob, records: list[dict[str, Any]]) -> Screened:
        self.calls.append(
            {
                "as_of": job.as_of,
                "requires_driving": job.requires_driving,
                "spec_path": job.spec_path,
            }
        )
        spec = job.spec
        items = [decide(spec, r["applicant"]["applicant_id"], float(r["years"])) for r in records]
        return Screened(
            spec, items, "ab" * 32 if spec.patterns[0].experience[0].years == 3 else "ef" * 32
        )


def people() -> list[Applicant]:
    batch = applicants(6)
    for a, years in zip(batch, [3.0, 2.5, 4.0, 1.0, 2.0, 3.5], strict=True):
        a.years = years
    return batch


def test_same_spec_gives_the_same_decisions(store_url: str) -> None:
    evaluator = Evaluator()
    with AuditStore(store_url) as store:
        store.record_run(WithYears(people(), requires_driving=True), "alice", now=NOW)
        report = rescreen(store, 1, screen=evaluator)
    assert report.flips == [] and report.missing == []
    assert report.decisions == 6
    assert report.ruleset_hash == report.recorded_ruleset_hash
    assert evaluator.calls == [
        {"as_of": date(2026, 3, 1), "requires_driving": True, "spec_path": WithYears([]).spec_path}
    ]


def test_another_spec_shows_who_flips_and_why(store_url: str) -> None:
    with AuditStore(store_url) as store:
        result = WithYears(people())
        store.record_run(result, "alice", now=NOW)
        relaxed = result.spec.model_copy(deep=True)
        relaxed.patterns[0].experience[0].years = 2.0
        report = rescreen(store, 1, relaxed, screen=Evaluator())
    assert report.spec_changed
    assert report.ruleset_hash != report.recorded_ruleset_hash
    assert [(f.applicant_id, f.recorded, f.rescreened) for f in report.flips] == [
        ("A00001", "not_qualified", "qualified"),
        ("A00004", "not_qualified", "qualified"),
    ]
    flip = report.flips[0]
    assert flip.criteria == {"typical.experience": ("not_met", "met")}
    assert flip.reasons == ["Experience: 2.5 of 3 required years"]


def test_a_decision_missing_on_rescreening_is_reported(store_url: str) -> None:
    def drops_one(job: ScreenJob, records: list[dict[str, Any]]) -> Screened:
        screened = Evaluator()(job, records[1:])
        return screened

    with AuditStore(store_url) as store:
        store.record_run(WithYears(people()), "alice", now=NOW)
        report = rescreen(store, 1, screen=drops_one)
    assert report.missing == ["A00000"]


def test_purged_run_cannot_be_rescreened(store_url: str) -> None:
    with AuditStore(store_url) as store:
        store.record_run(WithYears(people()), "alice", now=NOW)
        store.purge(datetime(2031, 1, 1, tzinfo=UTC))
        with pytest.raises(AuditError, match="can no longer be re-screened"):
            rescreen(store, 1, screen=Evaluator())
