"""What the audit store gives back: summaries of what was recorded, runs and decisions as
stored, and the reports of verification and purge.

Plain values, apart from the store that makes them (screening.audit.store), so a reader of
the store's API finds them in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunSummary:
    """What recording a run produced: its id, how many decisions, the new chain head."""

    run_id: int
    decisions: int
    chain_head: str
    chain_seq: int


@dataclass(frozen=True)
class OverrideSummary:
    """A recorded override."""

    override_id: int
    run_id: int
    applicant_id: str
    from_outcome: str
    to_outcome: str
    chain_head: str


@dataclass(frozen=True)
class RunInfo:
    """A run as listed by ``audit runs``."""

    run_id: int
    created_at: str
    user: str
    spec_id: str
    spec_revision: str
    decisions: int
    outcome_counts: dict[str, int]
    retention_until: str
    legal_hold: bool
    purged: bool


@dataclass(frozen=True)
class OverrideInfo:
    """One recorded override."""

    override_id: int
    applicant_id: str
    reviewer: str
    created_at: str
    from_outcome: str
    to_outcome: str
    justification: str


@dataclass(frozen=True)
class RunDetail:
    """Everything recorded about a run (no per-applicant demographic data)."""

    info: RunInfo
    spec_sha256: str
    spec_yaml: str
    spec_path: str | None
    ruleset_hash: str
    files: list[dict[str, Any]]
    as_of: str
    settings: dict[str, Any]
    engine_version: str
    overrides: list[OverrideInfo]
    final_counts: dict[str, int]


@dataclass(frozen=True)
class DecisionRecord:
    """One stored decision; ``detail`` and ``input_record`` are None once purged."""

    decision_id: int
    run_id: int
    applicant_id: str
    row: int
    outcome: str
    final_outcome: str
    statuses: dict[str, str]
    detail: dict[str, Any] | None
    input_record: dict[str, Any] | None
    overrides: list[OverrideInfo]


@dataclass(frozen=True)
class Problem:
    """One finding of :meth:`AuditStore.verify`, naming the record."""

    table: str
    record_id: int | None
    seq: int | None
    problem: str
    #: the applicant whose decision was altered, inside a block
    applicant_id: str | None = None

    def __str__(self) -> str:
        where = self.table
        if self.record_id is not None:
            where += f" id {self.record_id}"
        if self.seq is not None:
            where += f" (seq {self.seq})"
        return f"{where}: {self.problem}"


@dataclass
class VerifyReport:
    """The outcome of checking every digest, link and data hash."""

    records: int
    head_seq: int
    head_link: str
    keyed: bool
    purged_decisions: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was edited, deleted or reordered."""
        return not self.problems


@dataclass(frozen=True)
class PurgeReport:
    """What a purge removed and what it kept."""

    runs: list[int]
    decisions: int
    eeo_rows: int
    held: list[int]
    chain_head: str


@dataclass(frozen=True)
class StoredScreening:
    """What re-screening a recorded run starts from: its spec and settings as recorded,
    the normalised inputs and, per decision, the outcome and statuses stored."""

    run_id: int
    spec_yaml: str
    spec_path: str | None
    as_of: str
    settings: dict[str, Any]
    ruleset_hash: str
    #: (applicant id, outcome, {criterion id: status}) of every decision, in order
    statuses: list[tuple[str, str, dict[str, str]]]
    records: list[dict[str, Any]]
