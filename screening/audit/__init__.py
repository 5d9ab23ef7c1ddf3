"""Audit trail: hash-chained records of runs, decisions and overrides; adverse impact."""

from screening.audit.impact import ImpactReport, impact_report
from screening.audit.store import (
    AuditError,
    AuditStore,
    PurgeReport,
    RescreenReport,
    RunSummary,
    VerifyReport,
    database_url,
)

__all__ = [
    "AuditError",
    "AuditStore",
    "ImpactReport",
    "PurgeReport",
    "RescreenReport",
    "RunSummary",
    "VerifyReport",
    "database_url",
    "impact_report",
]
