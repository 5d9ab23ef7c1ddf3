"""Where review overrides are kept: the audit store when it is installed, else the session.

Both ledgers have one interface, so the review pages do not care which is in use.
"""

from __future__ import annotations

import importlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from screening.review import Override, OverrideLog, ReviewError, check_override
from screening.run.stages import ScreeningResult

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
    "audit_store",
    "make_ledger",
]

#: Set to "0" to keep runs and overrides in the browser session only.
AUDIT_ENV = "SCREENING_APP_AUDIT"


class ReviewLedger(Protocol):
    """Records a run's overrides and answers what they are."""

    where: str  # shown to the reviewer: where the decision is kept

    @property
    def run_label(self) -> str | None:
        """Which recorded run this is, for the page caption (None: not recorded)."""

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


_RECORDER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-recorder")
_STORES: dict[str, Any] = {}


def audit_store() -> Any:
    """The audit store of the configured database URL, opened once per process."""
    assert audit is not None
    url = audit.database_url()
    if url not in _STORES:
        _STORES[url] = audit.AuditStore(url)
    return _STORES[url]


class AuditLedger:
    """Overrides recorded in the audit store, against the run recorded for the result.

    Nothing is recorded until the user starts the screening (`start`): a page load or a
    rerun shows results without adding a run. The run is then recorded in the background,
    so the results stay on screen; an override waits for the recording to finish, and
    records the run first when nobody has yet.
    """

    where = "the audit store"

    def __init__(self, result: ScreeningResult, user: str) -> None:
        self.store = audit_store()
        self._result = result
        self._user = user
        self._recording: Future[Any] | None = None
        outcomes = dict(zip(result.results["applicant_id"], result.results["outcome"], strict=True))
        self._log = OverrideLog({str(k): str(v) for k, v in outcomes.items()})

    def start(self, user: str | None = None) -> None:
        """Record the run in the background (once: a second call changes nothing)."""
        if self._recording is None:
            who = (user or "").strip() or self._user
            self._recording = _RECORDER.submit(self.store.record_run, self._result, who)

    @property
    def started(self) -> bool:
        """Whether the run has been (or is being) recorded."""
        return self._recording is not None

    @property
    def recorded_run_id(self) -> int | None:
        """The audit run id once recorded (None: not recorded, still recording, or failed)."""
        recording = self._recording
        if recording is None or not recording.done() or recording.exception() is not None:
            return None
        return int(recording.result().run_id)

    @property
    def recording_error(self) -> str | None:
        """Why recording the run failed (None: not failed, or not finished yet)."""
        recording = self._recording
        if recording is None or not recording.done() or recording.exception() is None:
            return None
        return str(recording.exception())

    @property
    def run_label(self) -> str | None:
        """ "audit run N", or where the recording stands."""
        if self._recording is None:
            return "not recorded in the audit store"
        if not self._recording.done():
            return "being recorded in the audit store"
        if self._recording.exception() is not None:
            return f"NOT recorded in the audit store: {self._recording.exception()}"
        return f"audit run {self._recording.result().run_id}"

    def run_id(self, timeout: float | None = None) -> int:
        """The audit run id, recording the run first if nobody has (ReviewError on failure)."""
        self.start()
        assert self._recording is not None
        try:
            return int(self._recording.result(timeout=timeout).run_id)
        except audit.AuditError as exc:
            raise ReviewError(f"the run could not be recorded in the audit store: {exc}") from None

    def record(
        self, applicant_id: str, *, to_outcome: str, reviewer: str, justification: str
    ) -> Override:
        """Record an override in the store; checked first, so messages match the session's."""
        check_override(self._log.current(applicant_id), to_outcome, reviewer, justification)
        try:
            self.store.record_override(
                self.run_id(),
                applicant_id,
                reviewer=reviewer.strip(),
                to_outcome=to_outcome,
                justification=justification.strip(),
            )
        except audit.AuditError as exc:
            raise ReviewError(str(exc)) from None
        return self._log.record(
            applicant_id, to_outcome=to_outcome, reviewer=reviewer, justification=justification
        )

    def overrides(self) -> list[Override]:
        """Every override of the run, oldest first."""
        return self._log.overrides()


def audit_available() -> bool:
    """Whether the audit store is installed and not switched off for the app."""
    return audit is not None and os.environ.get(AUDIT_ENV, "1") != "0"


def make_ledger(result: ScreeningResult, user: str) -> ReviewLedger:
    """The audit ledger when available (nothing recorded until `start`), else the session's."""
    if audit_available():
        return AuditLedger(result, user)
    return SessionLedger(result)
