"""Names and units of the facts the evidence stage hands to the rules.

A fact is one applicant's evidence as whole numbers: experience credit, education levels
and years, license and certificate codes. Both the evidence stage (which computes them)
and the rule compiler (which compares them with a spec's thresholds) take names and units
from here, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from fractions import Fraction

from screening.spec import Certificate, JobSpec, License

#: Hours and percentages are kept to two decimals, so both are scaled by 100 before they
#: multiply: a day's credit is hours_per_week × 100 × qualifying_percent × 100.
VALUE_SCALE = 100

#: A possible value that has no bound (an unreadable entry could be any length).
UNBOUNDED = 2**52

#: The applicant key of every fact; every rule requires it (see the engine notes).
KEY = "k"
#: The run setting "this position requires driving" (1) or not (0).
REQUIRES_DRIVING = "requires_driving"
#: 1 when the applicant has any possible experience credit or education entry above none.
ANY_EVIDENCE = "any_evidence"

# License and certificate codes.
HELD = 1
NOT_HELD = 0
UNKNOWN = 2


def daily_cap(full_time_hours: int) -> int:
    """Most credit one calendar day can earn: full time at 100 percent."""
    return full_time_hours * VALUE_SCALE * 100 * VALUE_SCALE


def year_credit(full_time_hours: int) -> int:
    """Credit of one year of full-time qualifying experience (365 full days)."""
    return 365 * daily_cap(full_time_hours)


def credit_for_years(years: Fraction | float, full_time_hours: int) -> int:
    """Credit needed for a number of years, rounded up so a threshold is never lowered."""
    exact = Fraction(str(years)) * year_credit(full_time_hours)
    return -((-exact.numerator) // exact.denominator)


_NOT_NAME = re.compile(r"[^0-9A-Za-z]+")


def slug(criterion_id: str) -> str:
    """A criterion id as a fact-name prefix: letters, digits and underscores only."""
    return _NOT_NAME.sub("_", criterion_id).strip("_")


def experience_certain(requirement_id: str) -> str:
    """Fact: certain credit of an experience requirement."""
    return f"{slug(requirement_id)}__credit_certain"


def experience_possible(requirement_id: str) -> str:
    """Fact: possible credit of an experience requirement (UNBOUNDED if unreadable)."""
    return f"{slug(requirement_id)}__credit_possible"


def education_level_certain(requirement_id: str) -> str:
    """Fact: rank of the best education level that certainly counts."""
    return f"{slug(requirement_id)}__level_certain"


def education_level_possible(requirement_id: str) -> str:
    """Fact: rank of the best education level that possibly counts."""
    return f"{slug(requirement_id)}__level_possible"


def education_years_certain(requirement_id: str) -> str:
    """Fact: education years that certainly count, as experience credit units."""
    return f"{slug(requirement_id)}__edu_credit_certain"


def education_years_possible(requirement_id: str) -> str:
    """Fact: education years that possibly count, as experience credit units."""
    return f"{slug(requirement_id)}__edu_credit_possible"


def education_substitution_certain(requirement_id: str) -> str:
    """Fact: certain education credit toward substitution, capped at the years required."""
    return f"{slug(requirement_id)}__subst_credit_certain"


def education_substitution_possible(requirement_id: str) -> str:
    """Fact: possible education credit toward substitution, capped at the years required."""
    return f"{slug(requirement_id)}__subst_credit_possible"


def education_for_experience_certain(requirement_id: str) -> str:
    """Fact: certain credit of education beyond the required level, standing in for
    experience (capped by the spec)."""
    return f"{slug(requirement_id)}__edu_for_exp_certain"


def education_for_experience_possible(requirement_id: str) -> str:
    """Fact: possible credit of education beyond the required level, for experience."""
    return f"{slug(requirement_id)}__edu_for_exp_possible"


def license_code(license_id: str) -> str:
    """Fact: HELD / NOT_HELD / UNKNOWN for a license."""
    return f"{slug(license_id)}__held"


def certificate_code(certificate_id: str) -> str:
    """Fact: HELD / NOT_HELD for a certificate."""
    return f"{slug(certificate_id)}__held"


def conditional_ids(spec: JobSpec) -> list[str]:
    """Ids of the licenses and certificates that apply only when the position requires a
    condition (``applies: position_requires``)."""
    items: list[License | Certificate] = [*spec.licenses, *spec.certificates]
    for pattern in spec.patterns:
        items += [*pattern.licenses, *pattern.certificates]
    return [i.id for i in items if i.applies == "position_requires"]


def position_requires(item_id: str) -> str:
    """Fact: 1 when the run says the position requires the credential's condition."""
    return f"{slug(item_id)}__applies"


def fact_names(spec: JobSpec) -> list[str]:
    """Every fact a spec's rules read, in a stable order (KEY first)."""
    names = [KEY, REQUIRES_DRIVING, ANY_EVIDENCE]
    for pattern in spec.patterns:
        if pattern.education is not None:
            eid = pattern.education.id
            names += [
                education_level_certain(eid),
                education_level_possible(eid),
                education_years_certain(eid),
                education_years_possible(eid),
                education_substitution_certain(eid),
                education_substitution_possible(eid),
            ]
        for exp in pattern.experience:
            names += [experience_certain(exp.id), experience_possible(exp.id)]
        if pattern.experience:
            first = pattern.experience[0].id
            names += [
                education_for_experience_certain(first),
                education_for_experience_possible(first),
            ]
        names += [license_code(lic.id) for lic in pattern.licenses]
        names += [certificate_code(c.id) for c in pattern.certificates]
    names += [license_code(lic.id) for lic in spec.licenses]
    names += [certificate_code(c.id) for c in spec.certificates]
    names += [position_requires(i) for i in conditional_ids(spec)]
    slugs = [slug(i) for i in spec.criterion_ids()]
    if len(set(slugs)) != len(slugs):
        raise ValueError(
            "two criterion ids differ only in punctuation; give them distinct names: "
            + ", ".join(spec.criterion_ids())
        )
    return names
