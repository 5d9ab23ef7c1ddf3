"""What a screening produces: outcomes, per-criterion results, reasons, input issues."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field


class Outcome(StrEnum):
    """Overall outcome of one applicant."""

    qualified = "qualified"
    not_qualified = "not_qualified"
    needs_review = "needs_review"


class Status(StrEnum):
    """Status of one criterion for one applicant."""

    met = "met"
    substituted = "substituted"
    not_met = "not_met"
    review = "review"
    condition = "condition"
    not_applicable = "not_applicable"

    @property
    def passing(self) -> bool:
        """Counts as passing for adverse-impact analysis (met/substituted/condition/n.a.)."""
        return self in (Status.met, Status.substituted, Status.condition, Status.not_applicable)


CriterionKind = Literal["education", "experience", "license", "certificate"]


class CriterionResult(BaseModel):
    """One criterion's result for one applicant, with the evidence behind it."""

    id: str
    kind: CriterionKind
    pattern: str | None = None
    status: Status
    clause: str = ""
    reason: str = ""
    values: dict[str, Any] = Field(default_factory=dict)


class JobEvidence(BaseModel):
    """How one job entry was read, classified and counted against one requirement."""

    entry: int
    requirement: str
    title: str | None = None
    employer: str | None = None
    industry: str | None = None
    start: str | None = None
    end: str | None = None
    start_day: str | None = None
    end_day: str | None = None
    hours_per_week: float | None = None
    qualifying_percent: float | None = None
    classification: Literal["qualifying", "uncertain", "not_qualifying", "invalid"]
    matched: str = ""
    problem: str = ""
    years: float = 0.0


class EducationEvidence(BaseModel):
    """How one education entry was read and counted."""

    entry: int
    degree: str | None = None
    major: str | None = None
    institution: str | None = None
    level_certain: str
    level_possible: str
    field_match: str
    counted: str


class Decision(BaseModel):
    """A full, explained decision for one applicant."""

    applicant_id: str
    row: int
    outcome: Outcome
    pattern: str | None = None
    qualifying_years: float = 0.0
    possible_years: float = 0.0
    criteria: list[CriterionResult] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    review_evidence: list[str] = Field(default_factory=list)
    jobs: list[JobEvidence] = Field(default_factory=list)
    education: list[EducationEvidence] = Field(default_factory=list)


class InputIssue(BaseModel):
    """One row of the errors output: a problem with the input and how to fix it."""

    file: str
    row: int | None = None
    applicant_id: str | None = None
    column: str | None = None
    value: str | None = None
    problem: str
    fix: str
    severity: Literal["error", "warning"] = "error"


ERROR_COLUMNS: list[str] = [
    "file",
    "row",
    "applicant_id",
    "column",
    "value",
    "problem",
    "fix",
    "severity",
]
