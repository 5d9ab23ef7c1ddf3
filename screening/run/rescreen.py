"""Re-screening a recorded run: its stored inputs decided again, against the stored spec
or another one, and every decision that comes out differently, with why.

The audit store reads what was recorded (`AuditStore.stored_screening`); deciding again is
the run's job, so the audit trail never imports the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from screening.audit.store import AuditStore
from screening.run.stages import ScreenJob, screen_records
from screening.spec import JobSpec, spec_from_data


@dataclass(frozen=True)
class Flip:
    """A decision that comes out differently on re-screening."""

    applicant_id: str
    recorded: str
    rescreened: str
    criteria: dict[str, tuple[str | None, str | None]]
    reasons: list[str]


@dataclass(frozen=True)
class RescreenReport:
    """Stored decisions against a fresh evaluation of the stored inputs."""

    run_id: int
    spec_changed: bool
    recorded_ruleset_hash: str
    ruleset_hash: str
    decisions: int
    flips: list[Flip]
    missing: list[str]


def rescreen(
    store: AuditStore,
    run_id: int,
    spec_override: JobSpec | None = None,
    *,
    screen: Callable[..., Any] = screen_records,
) -> RescreenReport:
    """Re-evaluate a run's stored inputs; report every decision that differs.

    Without ``spec_override`` the stored spec is used and no decision should differ;
    with one, the report shows who would flip under the other spec, and why.
    ``screen`` is ``screening.run.stages.screen_records`` unless a test stands in for it.
    """
    stored = store.stored_screening(run_id)
    spec = spec_override or spec_from_data(yaml.safe_load(stored.spec_yaml), f"run {run_id} spec")
    settings = stored.settings
    job = ScreenJob.recorded(
        spec,
        spec_path=stored.spec_path,
        as_of=date.fromisoformat(stored.as_of),
        requires_driving=bool(settings.get("requires_driving", False)),
        position_requires=frozenset(settings.get("position_requires") or ()),
    )
    fresh = screen(job, stored.records)
    new = {d.applicant_id: d for d in fresh.decisions()}
    flips: list[Flip] = []
    missing: list[str] = []
    for applicant_id, outcome, old_statuses in stored.statuses:
        decision = new.get(applicant_id)
        if decision is None:
            missing.append(applicant_id)
            continue
        new_statuses = {c.id: c.status.value for c in decision.criteria}
        changed = {
            cid: (old_statuses.get(cid), new_statuses.get(cid))
            for cid in sorted(set(old_statuses) | set(new_statuses))
            if old_statuses.get(cid) != new_statuses.get(cid)
        }
        if decision.outcome.value != outcome or changed:
            reasons = [c.reason for c in decision.criteria if c.id in changed and c.reason] or list(
                decision.reasons
            )
            flips.append(Flip(applicant_id, outcome, decision.outcome.value, changed, reasons))
    return RescreenReport(
        run_id=run_id,
        spec_changed=spec_override is not None,
        recorded_ruleset_hash=stored.ruleset_hash,
        ruleset_hash=str(fresh.ruleset_hash),
        decisions=len(stored.statuses),
        flips=flips,
        missing=missing,
    )
