"""Where review overrides are kept: the audit store when it is installed, else the session.

Both ledgers have one interface, so the review pages do not care which is in use.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Protocol

from screening.pipeline import ScreeningResult
from screening.review import Override, OverrideLog, ReviewError

audit: Any
try:  # the audit store is an optional part of the package
    audit = importlib.import_module("screening.audit")
except ImportError:  # pragma: no cover - depends on the installed package
    audit = None

__all__ = [
    "AuditLedger",
    "ReviewLedger",
    "SessionLedger",
    "audit",
    "audit_available",
    "make_ledger",
]

#: Set to "0" to keep runs and overrides in the browser session only.
AUDIT_ENV = "SCREENING_APP_AUDIT"


class ReviewLedger(Protocol):
    """Records a run's overrides and answers what they are."""

    where: str  # shown to the reviewer: where the decision is kept
    run_label: str | None

    def record(
        self, applicant_id: str, *, to_outcome: str, reviewer: str, justification: str
    ) -> Override: ...

    def overrides(self) -> list[Override]: ...


class SessionLedger:
    """Overrides kept in memory for this browser session only."""

    where = "this browser session only (no audit store is installed)"

    def __init__(self, result: ScreeningResult) -> None:
        outcomes = dict(zip(result.results["applicant_id"], result.results["outcome"], strict=True))
        self._log = OverrideLog({str(k): str(v) for k, v in outcomes.items()})
        self.run_label: str | None = None

    def record(
        self, applicant_id: str, *, to_outcome: str, reviewer: str, justification: str
    ) -> Override:
        """Record an override; ReviewError says what is missing."""
        return self._log.record(
            applicant_id, to_outcome=to_outcome, reviewer=reviewer, justification=justification
        )

    def overrides(self) -> list[Override]:
        """Every override of the run, oldest first."""
        return self._log.overrides()


class AuditLedger:
    """Overrides recorded in the audit store, against the run recorded for the result."""

    def __init__(self, result: ScreeningResult, user: str) -> None:
        assert audit is not None
        self.store: Any = audit.AuditStore()
        self.where = "the audit store"
        summary = self.store.record_run(result, user)
        self.run_id = int(summary.run_id)
        self.run_label: str | None = f"audit run {self.run_id}"
        outcomes = dict(zip(result.results["applicant_id"], result.results["outcome"], strict=True))
        self._check = OverrideLog({str(k): str(v) for k, v in outcomes.items()})

    def record(
        self, applicant_id: str, *, to_outcome: str, reviewer: str, justification: str
    ) -> Override:
        """Record an override in the store (checked first, so messages match the session's)."""
        override = self._check.record(
            applicant_id, to_outcome=to_outcome, reviewer=reviewer, justification=justification
        )
        try:
            self.store.record_override(
                self.run_id,
                applicant_id,
                reviewer=override.reviewer,
                to_outcome=override.to_outcome,
                justification=override.justification,
            )
        except audit.AuditError as exc:
            raise ReviewError(str(exc)) from None
        return override

    def overrides(self) -> list[Override]:
        """Every override of the run, oldest first."""
        return self._check.overrides()


def audit_available() -> bool:
    """Whether the audit store is installed and not switched off for the app."""
    return audit is not None and os.environ.get(AUDIT_ENV, "1") != "0"


def make_ledger(result: ScreeningResult, user: str) -> ReviewLedger:
    """The audit ledger when available (the run is recorded at once), else the session's."""
    if audit_available():
        return AuditLedger(result, user)
    return SessionLedger(result)
