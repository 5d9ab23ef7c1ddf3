"""Audit trail: hash-chained records of runs, decisions and overrides; adverse impact.

``prepare_chunk`` and ``run_source`` (from ``screening.audit.prepare``) are loaded eagerly
and need no database driver: a worker process importing them stays light. The store and
the impact report load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from screening.audit.prepare import PreparedChunk, RunSource, prepare_chunk, run_source

if TYPE_CHECKING:
    from screening.audit.database import AuditError, database_url
    from screening.audit.impact import ImpactReport, impact_report
    from screening.audit.records import PurgeReport, RunSummary, VerifyReport
    from screening.audit.store import AuditStore
    from screening.audit.writer import RunRecorder

_LAZY = {
    "ImpactReport": "screening.audit.impact",
    "impact_report": "screening.audit.impact",
    "AuditError": "screening.audit.database",
    "AuditStore": "screening.audit.store",
    "PurgeReport": "screening.audit.records",
    "RunRecorder": "screening.audit.writer",
    "RunSummary": "screening.audit.records",
    "VerifyReport": "screening.audit.records",
    "database_url": "screening.audit.database",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "AuditError",
    "AuditStore",
    "ImpactReport",
    "PreparedChunk",
    "PurgeReport",
    "RunRecorder",
    "RunSource",
    "RunSummary",
    "VerifyReport",
    "database_url",
    "impact_report",
    "prepare_chunk",
    "run_source",
]
