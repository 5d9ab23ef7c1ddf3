"""Reasons a recruiter can read, built from the rules' statuses and the evidence.

Nothing here decides anything: statuses come from the rule engine. This module turns them
and the evidence values into sentences that cite the criterion id, the values used and the
shortfall, vectorised over the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from screening import facts as F
from screening.evidence import INVALID, QUALIFYING, UNCERTAIN
from screening.results import Status
from screening.spec import LEVEL_YEARS, EducationRequirement, ExperienceRequirement, JobSpec, Pattern

_LEVEL_WORDS = {
    "none": "no degree",
    "high_school": "high school diploma",
    "associate": "associate's degree",
    "bachelor": "bachelor's degree",
    "master": "master's degree",
    "doctorate": "doctorate",
}


def years_text(value: float) -> str:
    """Years for display: two decimals, trailing zeros dropped."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _fmt_years(values: np.ndarray[Any, Any]) -> pd.Series:
    return pd.Series([years_text(v) for v in values], dtype=object)


def credit_years(credit: np.ndarray[Any, Any], full_time_hours: int) -> np.ndarray[Any, Any]:
    """Credit as years (floats, for display only); UNBOUNDED becomes NaN."""
    values = credit.astype(np.float64) / F.year_credit(full_time_hours)
    return np.where(credit >= F.UNBOUNDED, np.nan, values)


def _month(day: int) -> str:
    from datetime import date

    return date.fromordinal(int(day)).strftime("%b %Y")


def job_summaries(
    jobs: pd.DataFrame, requirement: str, classes: list[str], count: int, as_of_day: int, limit: int = 3
) -> np.ndarray[Any, Any]:
    """Per applicant, the jobs of some classes: 'Title, Employer, Jun 2024 – present, full time'."""
    out = np.full(count, "", dtype=object)
    rows = jobs[(jobs["requirement"] == requirement) & jobs["classification"].isin(classes)]
    if rows.empty:
        return out
    rows = rows.sort_values(["applicant_pos", "credit"], ascending=[True, False])
    rows = rows.groupby("applicant_pos", sort=False).head(limit)
    labels = []
    for r in rows.itertuples(index=False):
        parts = [p for p in (r.title, r.employer) if p]
        if r.classification == INVALID:
            # name the field and the value, so the recruiter can check the application
            field = str(r.problem_column)
            value = getattr(r, field, "") or ""
            parts.append(f"{field} '{value}': {r.problem}" if value else f"{field}: {r.problem}")
        else:
            end = "present" if r.end_day >= as_of_day and (not r.end or r.end.lower() in ("present", "current")) else _month(r.end_day)
            parts.append(f"{_month(r.start_day)} – {end}")
            hours = r.hours_value
            percent = r.percent_value
            time = "full time" if hours >= 40 and percent >= 100 else f"{years_text(hours)} h/week"
            if percent < 100:
                time += f" at {years_text(percent)}%"
            parts.append(time)
        labels.append(", ".join(parts))
    frame = pd.DataFrame({"who": rows["applicant_pos"].to_numpy(), "label": labels})
    joined = frame.groupby("who", sort=False)["label"].agg("; ".join)
    out[joined.index.to_numpy(dtype=np.int64)] = joined.to_numpy(dtype=object)
    return out


def experience_reasons(
    req: ExperienceRequirement,
    status: np.ndarray[Any, Any],
    facts: pd.DataFrame,
    jobs: pd.DataFrame,
    full_time_hours: int,
    as_of_day: int,
) -> np.ndarray[Any, Any]:
    """One sentence per applicant for an experience criterion."""
    count = len(facts)
    certain = credit_years(facts[F.experience_certain(req.id)].to_numpy(), full_time_hours)
    possible = credit_years(facts[F.experience_possible(req.id)].to_numpy(), full_time_hours)
    required = float(req.years)
    certain_credit = facts[F.experience_certain(req.id)].to_numpy(dtype=np.int64)
    year = F.year_credit(full_time_hours)
    needed = F.credit_for_years(req.years_fraction, full_time_hours)
    counted = job_summaries(jobs, req.id, [QUALIFYING], count, as_of_day)
    doubtful = job_summaries(jobs, req.id, [UNCERTAIN, INVALID], count, as_of_day)
    window = f" within the last {req.within_years} years" if req.within_years else ""
    base = [
        f"{req.id}: {years_text(c)} of {years_text(required)} required years{window}"
        + (f" ({jobs_text})" if jobs_text else " (no qualifying job)")
        for c, jobs_text in zip(certain, counted, strict=True)
    ]
    out = np.empty(count, dtype=object)
    for i in range(count):
        if status[i] == Status.met.value:
            out[i] = base[i] + "; met"
        elif status[i] == Status.review.value:
            upto = "an unknown amount" if np.isnan(possible[i]) else f"{years_text(possible[i])} years"
            out[i] = f"{base[i]}; up to {upto} if these count: {doubtful[i]}"
        else:
            # floor what the applicant has and round the shortfall up, so one day short
            # never reads as "3 of 3 required years; short by 0 years"
            has = certain_credit[i] * 100 // year
            short = -(-(max(needed - certain_credit[i], 0)) * 100 // year)
            out[i] = (
                f"{req.id}: {years_text(has / 100)} of {years_text(required)} required years"
                f"{window}" + (f" ({counted[i]})" if counted[i] else " (no qualifying job)")
                + f"; short by {years_text(short / 100)} years"
            )
    return out


def education_reasons(
    req: EducationRequirement,
    pattern: Pattern,
    spec: JobSpec,
    status: np.ndarray[Any, Any],
    facts: pd.DataFrame,
    education: pd.DataFrame,
) -> np.ndarray[Any, Any]:
    """One sentence per applicant for an education criterion."""
    count = len(facts)
    rows = education[education["requirement"] == req.id]
    best = np.full(count, "", dtype=object)
    doubt = np.full(count, "", dtype=object)
    if not rows.empty:
        ranked = rows.sort_values(["applicant_pos", "level_certain_rank"], ascending=[True, False])
        for r in ranked.itertuples(index=False):
            label = " in ".join(p for p in (r.degree or "degree not given", r.major) if p)
            note = r.field_note
            if r.accredited_excluded is True:
                note = "not accredited"
            text = f"{label} ({note})" if note else label
            if not best[r.applicant_pos]:
                best[r.applicant_pos] = text
            if not r.counts_certain and r.counts_possible or not r.recognised:
                doubt[r.applicant_pos] = (doubt[r.applicant_pos] + "; " if doubt[r.applicant_pos] else "") + (
                    text if r.recognised else f"degree '{r.degree or ''}' not recognised"
                )
    wanted = _LEVEL_WORDS[req.min_level.value]
    fields = ", ".join(req.fields)
    in_fields = f" in {fields}" + (" or a related field" if req.allow_related else "") if fields else ""
    substitution = spec.substitution_for(pattern)
    first = pattern.experience[0] if pattern.experience else None
    education_years = float(
        substitution.education_years
        if substitution is not None and substitution.education_years is not None
        else LEVEL_YEARS[req.min_level]
    )
    credited = credit_years(
        facts[F.education_substitution_certain(req.id)].to_numpy(), spec.full_time_hours
    )
    experience = (
        credit_years(facts[F.experience_certain(first.id)].to_numpy(), spec.full_time_hours)
        if first is not None
        else np.zeros(count)
    )
    can_substitute = substitution is not None and substitution.experience_for_education and first
    out = np.empty(count, dtype=object)
    for i in range(count):
        has = best[i] or "no education entry"
        if status[i] == Status.met.value:
            out[i] = f"{req.id}: {has} meets {wanted}{in_fields}"
        elif status[i] == Status.substituted.value:
            needed = float(first.years) + education_years - credited[i] if first else 0.0
            out[i] = (
                f"{req.id}: {has}; {years_text(experience[i])} years of qualifying experience "
                f"substitute for it (needs {years_text(needed)})"
            )
        elif status[i] == Status.review.value:
            out[i] = f"{req.id}: needs {wanted}{in_fields}; uncertain: {doubt[i] or has}"
        else:
            text = f"{req.id}: needs {wanted}{in_fields}; has {has}"
            if can_substitute and first is not None:
                needed = float(first.years) + education_years - credited[i]
                text += (
                    f"; substitution needs {years_text(needed)} years of qualifying experience, "
                    f"has {years_text(experience[i])}"
                )
            out[i] = text
    return out


def held_reasons(
    criterion_id: str,
    description: str,
    status: np.ndarray[Any, Any],
    codes: np.ndarray[Any, Any] | None,
) -> np.ndarray[Any, Any]:
    """Sentences for a license or certificate criterion."""
    out = np.empty(len(status), dtype=object)
    for i, value in enumerate(status):
        reported = ""
        if codes is not None:
            reported = {F.HELD: "reported", F.NOT_HELD: "not reported", F.UNKNOWN: "not clearly reported"}[
                int(codes[i])
            ]
        if value == Status.not_applicable.value:
            out[i] = f"{criterion_id}: not required for this position"
        elif value == Status.condition.value:
            out[i] = f"{criterion_id}: {description} required at appointment ({reported} by the applicant)"
        elif value == Status.met.value:
            out[i] = f"{criterion_id}: {description} {reported}"
        elif value == Status.review.value:
            out[i] = f"{criterion_id}: {description} {reported}; verify"
        else:
            out[i] = f"{criterion_id}: {description} required; {reported}"
    return out
