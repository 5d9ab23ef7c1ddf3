"""Data for the charts of a screening run: plain frames, no plotting library.

Every frame here is an aggregate except `job_timeline`, which is one applicant's own jobs;
none carries a demographic column.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from screening.results import Decision, Outcome, Status
from screening.run.stages import ScreeningResult
from screening.spec import JobSpec

OUTCOME_ORDER: list[str] = [o.value for o in Outcome]
STATUS_ORDER: list[str] = [s.value for s in Status]


def outcome_counts_frame(result: ScreeningResult) -> pd.DataFrame:
    """outcome, applicants: one row per outcome, in the order qualified, not, review."""
    counts = result.outcome_counts()
    return pd.DataFrame(
        {"outcome": OUTCOME_ORDER, "applicants": [counts[o] for o in OUTCOME_ORDER]}
    )


def criterion_status_counts(result: ScreeningResult) -> pd.DataFrame:
    """criterion, status, applicants: how often each criterion ends in each status."""
    rows = []
    for criterion in result.spec.criterion_ids():
        counts = pd.Series(result.statuses[criterion]).value_counts()
        for status in STATUS_ORDER:
            if counts.get(status, 0):
                rows.append(
                    {"criterion": criterion, "status": status, "applicants": int(counts[status])}
                )
    return pd.DataFrame(rows, columns=["criterion", "status", "applicants"])


def rejections_by_criterion(result: ScreeningResult) -> pd.DataFrame:
    """criterion, rejected: among not_qualified applicants, how many failed each criterion.

    A rejected applicant can fail several criteria, so the counts may add up to more than
    the rejected applicants. Sorted with the criterion that rejects most first.
    """
    rejected = result.results["outcome"].to_numpy() == Outcome.not_qualified.value
    rows = [
        {
            "criterion": criterion,
            "rejected": int(
                (rejected & (result.statuses[criterion] == Status.not_met.value)).sum()
            ),
        }
        for criterion in result.spec.criterion_ids()
    ]
    frame = pd.DataFrame(rows, columns=["criterion", "rejected"])
    return frame.sort_values("rejected", ascending=False, kind="stable").reset_index(drop=True)


def required_years(spec: JobSpec) -> pd.DataFrame:
    """label, years: the experience each pattern requires, with and without substitution.

    For the Account Manager: 3 years with a qualifying bachelor's, 7 years with no degree.
    """
    rows = []
    for pattern in spec.patterns:
        if not pattern.experience:
            continue
        years = float(pattern.experience[0].years)
        prefix = f"{pattern.id}: " if len(spec.patterns) > 1 else ""
        if pattern.education is None:
            rows.append({"label": f"{prefix}{years:g} years required", "years": years})
            continue
        rows.append({"label": f"{prefix}{years:g} years with the degree", "years": years})
        substitution = spec.substitution_for(pattern)
        if substitution is not None and substitution.experience_for_education:
            education_years = float(substitution.education_years or 0)
            total = years + education_years
            rows.append({"label": f"{prefix}{total:g} years with no degree", "years": total})
    return pd.DataFrame(rows, columns=["label", "years"])


def years_cap(spec: JobSpec) -> float:
    """Where the years chart stops: a few years past the largest requirement."""
    required = required_years(spec)["years"]
    return float(required.max()) + 4.0 if len(required) else 10.0


def years_distribution(result: ScreeningResult) -> pd.DataFrame:
    """qualifying_years, shown_years, outcome: one row per screened applicant (no ids).

    shown_years is qualifying_years capped at `years_cap`, so a few long careers do not
    squash the chart; the last bar holds everybody at or above the cap.
    """
    frame = result.results
    years = frame["qualifying_years"].to_numpy(dtype=float)
    cap = years_cap(result.spec)
    return pd.DataFrame(
        {
            "qualifying_years": years,
            "shown_years": np.minimum(years, cap - 0.01),
            "outcome": frame["outcome"].to_numpy(dtype=object),
        }
    )


def job_timeline(decision: Decision, as_of: date) -> pd.DataFrame:
    """One applicant's jobs as bars: job, requirement, start, end, classification, years.

    Jobs without a readable start or end are left out (they are listed in the detail
    table with their problem); an open end is drawn to the as-of date.
    """
    rows = []
    for job in decision.jobs:
        if job.start_day is None:
            continue
        end = job.end_day or as_of.isoformat()
        label = f"{job.entry}. {job.title or '(no title)'}"
        if job.employer:
            label += f" — {job.employer}"
        rows.append(
            {
                "job": label,
                "requirement": job.requirement,
                "start": pd.Timestamp(job.start_day),
                "end": pd.Timestamp(end),
                "classification": job.classification,
                "years": round(job.years, 2),
                "credit": "qualifying credit"
                if job.classification == "qualifying" and job.years > 0
                else ("possible credit" if job.years > 0 else "no credit"),
            }
        )
    columns = ["job", "requirement", "start", "end", "classification", "years", "credit"]
    return pd.DataFrame(rows, columns=columns)
