"""The audit store: append-only, hash-chained records of runs, decisions and overrides.

``AuditStore(url)`` opens (and migrates) a SQLite file or a PostgreSQL database. It is the
one object callers hold; each of its methods is said once, in the module of its concern:

- ``screening.audit.database``: the URL, opening and migrating, connections;
- ``screening.audit.writer``: the chain writer, recording a run, overrides;
- ``screening.audit.reads``: runs, one decision, final outcomes, impact, stored inputs;
- ``screening.audit.retention``: legal hold and purge;
- ``screening.audit.verify``: recomputing the chain and naming each problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pandas as pd

from screening.audit import reads, retention, writer
from screening.audit import verify as verifying
from screening.audit.database import Database
from screening.audit.impact import DEFAULT_MIN_GROUP, ImpactReport
from screening.audit.prepare import RunSource
from screening.audit.protocols import ScreeningResultLike
from screening.audit.records import (
    DecisionRecord,
    OverrideSummary,
    PurgeReport,
    RunDetail,
    RunInfo,
    RunSummary,
    StoredScreening,
    VerifyReport,
)
from screening.audit.writer import RETENTION_YEARS, RunRecorder


class AuditStore(Database):
    """Append-only, hash-chained audit records in SQLite or PostgreSQL."""

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ writing

    def record_run(
        self,
        result: ScreeningResultLike,
        user: str,
        *,
        now: datetime | None = None,
        retention_years: int = RETENTION_YEARS,
    ) -> RunSummary:
        """Record a screened batch: the run, every decision, its input and its eeo row."""
        return writer.record_run(self, result, user, now=now, retention_years=retention_years)

    @contextmanager
    def recording(
        self,
        source: RunSource | ScreeningResultLike,
        user: str,
        *,
        now: datetime | None = None,
        retention_years: int = RETENTION_YEARS,
    ) -> Iterator[RunRecorder]:
        """Record one run whose decisions arrive in chunks (see ``writer.recording``)."""
        with writer.recording(
            self, source, user, now=now, retention_years=retention_years
        ) as recorder:
            yield recorder

    def record_override(
        self,
        run_id: int,
        applicant_id: str,
        *,
        reviewer: str,
        to_outcome: str,
        justification: str,
        now: datetime | None = None,
    ) -> OverrideSummary:
        """Record a reviewer's decision replacing the current outcome of one applicant."""
        return writer.record_override(
            self,
            run_id,
            applicant_id,
            reviewer=reviewer,
            to_outcome=to_outcome,
            justification=justification,
            now=now,
        )

    # ------------------------------------------------------------ retention

    def set_legal_hold(
        self, run_id: int, on: bool, *, user: str, reason: str, now: datetime | None = None
    ) -> str:
        """Put a run under legal hold (no purge) or release it; returns the chain head."""
        return retention.set_legal_hold(self, run_id, on, user=user, reason=reason, now=now)

    def purge(self, now: datetime | None = None, *, user: str = "retention") -> PurgeReport:
        """Remove applicant-level data of runs past retention and not under legal hold."""
        return retention.purge(self, now, user=user)

    # ------------------------------------------------------------ reading

    def runs(self) -> list[RunInfo]:
        """Every recorded run, oldest first."""
        return reads.runs(self)

    def chain_head(self) -> tuple[int, str]:
        """The newest sequence number and its link."""
        return reads.chain_head(self)

    def show(self, run_id: int) -> RunDetail:
        """Everything recorded about one run, with its overrides and final outcome counts."""
        return reads.show(self, run_id)

    def decision(self, run_id: int, applicant_id: str) -> DecisionRecord:
        """One applicant's stored decision, input and overrides."""
        return reads.decision(self, run_id, applicant_id)

    def final_outcomes(self, run_id: int) -> pd.DataFrame:
        """applicant_id, engine outcome, final outcome after overrides, overridden (bool)."""
        return reads.final_outcomes(self, run_id)

    def impact(self, run_id: int, min_group: int = DEFAULT_MIN_GROUP) -> ImpactReport:
        """The adverse-impact report of a run (after purge: the summary kept at purge)."""
        return reads.impact(self, run_id, min_group)

    def input_records(self, run_id: int) -> list[tuple[str, dict[str, Any]]]:
        """The stored normalised input records of a run, in input order."""
        return reads.input_records(self, run_id)

    def stored_screening(self, run_id: int) -> StoredScreening:
        """A run's recorded spec, settings, inputs and statuses, for re-screening it."""
        return reads.stored_screening(self, run_id)

    # ------------------------------------------------------------ verifying

    def verify(self, expected_head: str | None = None) -> VerifyReport:
        """Recompute every digest and link; name each edited, deleted or reordered record."""
        return verifying.verify(self, expected_head)
