"""Browsing a screening run: the results table with names, filters, a spec in plain words.

Nothing here reads demographic (`eeo_*`) data: it is split off when the file is read and
only `ScreeningResult.eeo` holds it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from screening.run.stages import ScreeningResult
from screening.spec import JobSpec, Level

_LEVEL_WORDS = {
    Level.none: "no education",
    Level.high_school: "a high school diploma or equivalent",
    Level.associate: "an associate's degree",
    Level.bachelor: "a bachelor's degree",
    Level.master: "a master's degree",
    Level.doctorate: "a doctorate",
}


#: The results column holding each applicant's principal reason (the first of them).
PRINCIPAL_REASON = "principal reason"


def applicant_names(result: ScreeningResult) -> list[str]:
    """Each screened applicant's first and last name ('' when the file has none), in order."""
    applicants = result.batch.applicants
    first = applicants.get("first_name", pd.Series([None] * len(applicants)))
    last = applicants.get("last_name", pd.Series([None] * len(applicants)))
    return [
        " ".join(p for p in (f, la) if isinstance(p, str) and p)
        for f, la in zip(first.to_numpy(), last.to_numpy(), strict=True)
    ]


def applicant_name(result: ScreeningResult, applicant_id: str) -> str:
    """One applicant's name ('' when the file gives none or the id is not screened)."""
    ids = [str(i) for i in result.results["applicant_id"]]
    if applicant_id not in ids:
        return ""
    return applicant_names(result)[ids.index(applicant_id)]


def principal_reasons(reasons: pd.Series) -> pd.Series:
    """The first principal reason of each applicant ('' for none); the results' `reasons`
    column holds them all, joined by " | "."""
    text = reasons.astype(object).where(reasons.notna(), "").astype(str)
    return text.str.split(" | ", n=1, regex=False).str[0]


def results_with_names(result: ScreeningResult) -> pd.DataFrame:
    """The results with a `name` column (first and last name) after applicant_id."""
    frame = pd.DataFrame({c: result.results[c].to_numpy() for c in result.results.columns})
    frame.insert(1, "name", applicant_names(result))
    return frame.drop(columns=[c for c in frame.columns if str(c).startswith("eeo_")])


def filter_results(
    frame: pd.DataFrame,
    *,
    outcomes: Iterable[str] | None = None,
    criterion: str | None = None,
    statuses: Iterable[str] | None = None,
    text: str = "",
) -> pd.DataFrame:
    """Rows matching every filter given: outcome in `outcomes`, `criterion`'s status in
    `statuses`, and `text` found (case-insensitively) in the applicant id or name."""
    keep = np.ones(len(frame), dtype=bool)
    if outcomes is not None:
        keep &= frame["outcome"].isin(list(outcomes)).to_numpy()
    if criterion and statuses is not None and criterion in frame.columns:
        keep &= frame[criterion].isin(list(statuses)).to_numpy()
    needle = text.strip().lower()
    if needle:
        found = frame["applicant_id"].astype(str).str.lower().str.contains(needle, regex=False)
        if "name" in frame.columns:
            found |= frame["name"].astype(str).str.lower().str.contains(needle, regex=False)
        keep &= found.to_numpy()
    return frame[keep].reset_index(drop=True)


def _years(value: float) -> str:
    return f"{value:g} year" + ("" if value == 1 else "s")


def spec_in_words(spec: JobSpec) -> list[str]:
    """The spec's criteria as sentences a recruiter can check against the document."""
    lines: list[str] = []
    many = len(spec.patterns) > 1
    for number, pattern in enumerate(spec.patterns, start=1):
        head = f"Pattern {number} ({pattern.id}): " if many else ""
        parts: list[str] = []
        if pattern.education is not None:
            e = pattern.education
            text = _LEVEL_WORDS[e.min_level]
            if e.accredited:
                text += " from an accredited school"
            if e.fields:
                text += " in " + ", ".join(e.fields)
                if e.allow_related:
                    text += " or a related field"
            parts.append(f"[{e.id}] {text}")
        for x in pattern.experience:
            text = f"{_years(x.years)} of {'professional ' if x.professional else ''}experience"
            if x.areas:
                text += " in " + ", ".join(x.areas)
            if x.industries:
                text += " in the " + " or ".join(x.industries) + " industry"
                if x.allow_related_industries:
                    text += " or a related one"
            if x.within_years:
                text += f", gained within the last {_years(x.within_years)}"
            parts.append(f"[{x.id}] {text}")
        for lic in pattern.licenses:
            parts.append(f"[{lic.id}] {lic.state or ''} {lic.kind}".replace("  ", " "))
        for cert in pattern.certificates:
            parts.append(f"[{cert.id}] certificate: {cert.name}")
        lines.append(head + "; and ".join(parts) + ".")
        substitution = spec.substitution_for(pattern)
        if substitution is not None and substitution.experience_for_education:
            lines.append(
                f"{head}Qualifying experience substitutes for education year for year "
                f"(education counts as {_years(float(substitution.education_years or 0))})."
            )
        if substitution is not None and substitution.discretionary:
            lines.append(
                f"{head}HR may accept an equivalent combination: applicants rejected otherwise "
                "but with some qualifying education or experience go to review."
            )
    for lic in spec.licenses:
        when = {
            "position_requires_driving": "when the position requires driving",
            "position_requires": f"when the position requires '{lic.condition}'",
        }.get(lic.applies, "always")
        checked = (
            "at appointment (a condition)" if lic.enforce_at == "appointment" else "at screening"
        )
        place = f"{lic.state} " if lic.state else ""
        lines.append(f"[{lic.id}] A valid {place}{lic.kind}, {when}; checked {checked}.")
    for cert in spec.certificates:
        checked = "at appointment" if cert.enforce_at == "appointment" else "at screening"
        when = (
            f", when the position requires '{cert.condition}'"
            if cert.applies == "position_requires"
            else ""
        )
        lines.append(f"[{cert.id}] Certificate {cert.name}{when}; checked {checked}.")
    return lines
