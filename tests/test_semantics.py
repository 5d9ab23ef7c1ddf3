"""One test (or parametrised group) per semantic rule of DESIGN.md and docs/semantics.md.

Inputs are small wide CSV files written to tmp_path; each test screens them as of
2026-11-26 against the Account Manager spec or a small inline spec and checks the status,
the exact credit or the reason the rule prescribes.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from screening import facts as F
from screening.export import csv_bytes, excel_bytes, write_csv
from screening.run.stages import ScreeningResult, screen_files
from tests.builders import (
    ALAMEDA,
    AS_OF,
    DAY,
    EXPERIENCE,
    EXPERIENCE_POSSIBLE,
    YEAR,
    cell,
    days_after,
    edu,
    fact,
    job,
    outcome,
    row,
    screen,
    spec_file,
    status,
    write_csv_rows,
)

EDUCATION = "typical.education"
EXPERIENCE_ID = "typical.experience"
LICENSE = "ca_drivers_license"
THREE_YEARS = 3 * YEAR
EDU_CERTAIN = F.education_years_certain(EDUCATION)
EDU_POSSIBLE = F.education_years_possible(EDUCATION)


def one(
    tmp_path: Path,
    *parts: dict[str, str],
    spec: Path = ALAMEDA,
    cells: dict[str, str] | None = None,
    **options: Any,
) -> ScreeningResult:
    """Screen a single applicant A1 made of entry dicts and applicant cells."""
    return screen(tmp_path, [row("A1", *parts, **(cells or {}))], spec, **options)


# ------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "start",
    [
        "2020-03-01",
        "03/01/2020",
        "3/1/2020",
        "2020-03",
        "03/2020",
        "Mar 2020",
        "March 2020",
        "MARCH 2020",
    ],
)
def test_each_start_date_format_gives_the_same_exact_credit(tmp_path: Path, start: str) -> None:
    result = one(tmp_path, edu(), job(start=start, end="2023-02-28"))
    assert fact(result, EXPERIENCE) == THREE_YEARS
    assert outcome(result) == "qualified"


@pytest.mark.parametrize(
    "end",
    ["2023-02-28", "02/28/2023", "2/28/2023", "2023-02", "02/2023", "Feb 2023", "February 2023"],
)
def test_each_end_date_format_gives_the_same_exact_credit(tmp_path: Path, end: str) -> None:
    result = one(tmp_path, edu(), job(start="2020-03-01", end=end))
    assert fact(result, EXPERIENCE) == THREE_YEARS


def test_month_only_start_is_the_first_and_month_only_end_the_last_day(tmp_path: Path) -> None:
    # Feb 2024 has 29 days: "2024-02".."2024-02" is the whole month
    result = one(tmp_path, edu(), job(start="2024-02", end="Feb 2024"))
    assert fact(result, EXPERIENCE) == 29 * DAY


def test_both_endpoints_count(tmp_path: Path) -> None:
    result = one(tmp_path, edu(), job(start="2021-06-15", end="2021-06-15"))
    assert fact(result, EXPERIENCE) == DAY


def test_end_after_the_as_of_date_is_cut(tmp_path: Path) -> None:
    result = one(tmp_path, edu(), job(start="2026-11-20", end="2028-12-31"))
    assert fact(result, EXPERIENCE) == 7 * DAY


@pytest.mark.parametrize("end", ["", "present", "Present", "CURRENT", "current"])
def test_blank_present_or_current_end_is_the_as_of_date(tmp_path: Path, end: str) -> None:
    result = one(tmp_path, edu(), job(start="2026-11-20", end=end))
    assert fact(result, EXPERIENCE) == 7 * DAY


def test_exactly_three_years_is_met_and_one_day_short_is_not(tmp_path: Path) -> None:
    rows = [
        row("EXACT", edu(), job(start="2020-03-01", end="2023-02-28")),
        row("SHORT", edu(), job(start="2020-03-01", end="2023-02-27")),
    ]
    result = screen(tmp_path, rows)
    assert fact(result, EXPERIENCE, "EXACT") == THREE_YEARS
    assert fact(result, EXPERIENCE, "SHORT") == THREE_YEARS - DAY
    assert status(result, EXPERIENCE_ID, "EXACT") == "met"
    assert outcome(result, "EXACT") == "qualified"
    assert status(result, EXPERIENCE_ID, "SHORT") == "not_met"
    assert outcome(result, "SHORT") == "not_qualified"


# ---------------------------------------------------------------------- time and overlaps


def test_overlapping_full_time_jobs_are_capped_at_full_time(tmp_path: Path) -> None:
    result = one(
        tmp_path,
        edu(),
        job(1, start="2021-01-01", end="2021-12-31"),
        job(2, title="Account Executive", start="2021-01-01", end="2021-12-31"),
    )
    assert fact(result, EXPERIENCE) == 365 * DAY


def test_partly_overlapping_jobs_count_each_day_once(tmp_path: Path) -> None:
    # 2021-01-01..2021-06-30 and 2021-04-01..2021-09-30: union 2021-01-01..2021-09-30
    result = one(
        tmp_path,
        edu(),
        job(1, start="2021-01-01", end="2021-06-30"),
        job(2, title="Account Executive", start="2021-04-01", end="2021-09-30"),
    )
    assert fact(result, EXPERIENCE) == (date(2021, 9, 30) - date(2021, 1, 1)).days * DAY + DAY


def test_part_time_counts_in_proportion(tmp_path: Path) -> None:
    result = one(tmp_path, edu(), job(start="2021-01-01", end="2022-12-31", hours_per_week="20"))
    assert fact(result, EXPERIENCE) == 365 * DAY  # 730 days at half time


def test_blank_hours_is_full_time(tmp_path: Path) -> None:
    result = one(tmp_path, edu(), job(start="2021-01-01", end="2021-12-31", hours_per_week=""))
    assert fact(result, EXPERIENCE) == 365 * DAY


def test_qualifying_percent_scales_credit_and_blank_is_100(tmp_path: Path) -> None:
    rows = [
        row("HALF", edu(), job(start="2021-01-01", end="2022-12-31", qualifying_percent="50")),
        row("BLANK", edu(), job(start="2021-01-01", end="2022-12-31", qualifying_percent="")),
        row(
            "QUARTERHALF",
            edu(),
            job(start="2021-01-01", end="2022-12-31", hours_per_week="20", qualifying_percent="50"),
        ),
    ]
    result = screen(tmp_path, rows)
    assert fact(result, EXPERIENCE, "HALF") == 365 * DAY
    assert fact(result, EXPERIENCE, "BLANK") == 730 * DAY
    assert fact(result, EXPERIENCE, "QUARTERHALF") == 730 * DAY // 4


def test_concurrent_part_time_jobs_add_up_but_never_exceed_full_time(tmp_path: Path) -> None:
    rows = [
        row(
            "TWO20",
            edu(),
            job(1, start="2021-01-01", end="2021-12-31", hours_per_week="20"),
            job(
                2,
                title="Account Executive",
                start="2021-01-01",
                end="2021-12-31",
                hours_per_week="20",
            ),
        ),
        row(
            "TWO30",
            edu(),
            job(1, start="2021-01-01", end="2021-12-31", hours_per_week="30"),
            job(
                2,
                title="Account Executive",
                start="2021-01-01",
                end="2021-12-31",
                hours_per_week="30",
            ),
        ),
    ]
    result = screen(tmp_path, rows)
    assert fact(result, EXPERIENCE, "TWO20") == 365 * DAY
    assert fact(result, EXPERIENCE, "TWO30") == 365 * DAY


# ---------------------------------------------------------------------- classification


def test_programmer_does_not_match_program_manager(tmp_path: Path) -> None:
    rows = [
        row(
            "PROGRAMMER",
            edu(),
            job(title="Senior Programmer", start="2015-01-01", end="2025-01-01"),
        ),
        row("PM", edu(), job(title="Program Manager", start="2015-01-01", end="2025-01-01")),
    ]
    result = screen(tmp_path, rows)
    assert fact(result, EXPERIENCE_POSSIBLE, "PROGRAMMER") == 0
    assert outcome(result, "PROGRAMMER") == "not_qualified"
    assert outcome(result, "PM") == "qualified"
    matched = result.decision("PM").jobs[0].matched
    assert "'program management'" in matched and "'program manager'" in matched


def test_duties_can_match_an_area(tmp_path: Path) -> None:
    result = one(
        tmp_path,
        edu(),
        job(title="Specialist III", duties="Managed key accounts for large customers"),
    )
    assert status(result, EXPERIENCE_ID) == "met"


@pytest.mark.parametrize(
    ("industry", "employer", "classification", "expected"),
    [
        ("Electric utility", "Some Co", "qualifying", "qualified"),
        ("Solar", "Some Co", "qualifying", "qualified"),  # related industry
        ("Retail", "Some Co", "not_qualifying", "not_qualified"),  # unrelated
        ("", "Pacific Gas and Electric", "qualifying", "qualified"),  # blank → employer decides
        ("", "Acme Corp", "uncertain", "needs_review"),  # blank, employer shows nothing
        ("Consulting", "Some Co", "uncertain", "needs_review"),  # unknown industry
    ],
)
def test_industry_listed_related_unrelated_blank_unknown(
    tmp_path: Path, industry: str, employer: str, classification: str, expected: str
) -> None:
    result = one(tmp_path, edu(), job(industry=industry, employer=employer))
    assert result.decision("A1").jobs[0].classification == classification
    assert outcome(result) == expected


def test_related_industry_is_uncertain_when_the_spec_does_not_allow_related(tmp_path: Path) -> None:
    spec = spec_file(
        tmp_path,
        """\
id: strict-industry
title: Strict industry
patterns:
  - id: p
    experience:
      - id: p.experience
        years: 1
        areas: {account management: []}
        industries: [utility]
        allow_related_industries: false
""",
    )
    result = one(tmp_path, job(industry="Solar", start="2020-01-01", end="2021-12-31"), spec=spec)
    assert status(result, "p.experience") == "review"
    assert outcome(result) == "needs_review"


def test_a_requirement_without_industries_accepts_any_industry(tmp_path: Path) -> None:
    spec = spec_file(
        tmp_path,
        """\
id: any-industry
title: Any industry
patterns:
  - id: p
    experience:
      - id: p.experience
        years: 1
        areas: {account management: []}
""",
    )
    result = one(tmp_path, job(industry="Retail", start="2020-01-01", end="2021-12-31"), spec=spec)
    assert outcome(result) == "qualified"


def test_non_professional_title_word_makes_the_job_uncertain(tmp_path: Path) -> None:
    result = one(
        tmp_path, edu(), job(title="Account Manager Intern", start="2015-01-01", end="2025-01-01")
    )
    assert fact(result, EXPERIENCE) == 0
    assert fact(result, EXPERIENCE_POSSIBLE) > THREE_YEARS
    assert status(result, EXPERIENCE_ID) == "review"
    assert outcome(result) == "needs_review"


def test_the_doubt_names_the_title_word_as_the_vocabulary_spells_it(tmp_path: Path) -> None:
    # matching compares stems; the reason a reviewer reads shows the word itself
    result = one(
        tmp_path, edu(), job(title="Account Manager Trainee", start="2015-01-01", end="2025-01-01")
    )
    reasons = str(result.results["reasons"].iloc[0])
    assert "title word 'trainee' may not be professional experience" in reasons, reasons


def test_non_professional_word_does_not_matter_when_the_spec_does_not_ask_professional(
    tmp_path: Path,
) -> None:
    spec = spec_file(
        tmp_path,
        """\
id: not-professional
title: Any level
patterns:
  - id: p
    experience:
      - id: p.experience
        years: 1
        areas: {account management: []}
        industries: [utility]
        professional: false
""",
    )
    result = one(
        tmp_path,
        job(title="Account Manager Assistant", start="2020-01-01", end="2021-12-31"),
        spec=spec,
    )
    assert outcome(result) == "qualified"


# ---------------------------------------------------------------------- invalid entries


INVALID_CASES = [
    ("start", "", "job1_start", "start date is missing"),
    ("start", "sometime 2019", "job1_start", "start date is not a date"),
    ("start", "02/30/2021", "job1_start", "start date is not a date"),
    ("end", "2019-13-45", "job1_end", "end date is not a date"),
    ("end", "2019-01-01", "job1_end", "end date is before the start date"),
    ("start", "2027-01-04", "job1_start", "start date is after the as-of date"),
    ("hours_per_week", "0", "job1_hours_per_week", "hours per week"),
    ("hours_per_week", "200", "job1_hours_per_week", "hours per week"),
    ("hours_per_week", "forty", "job1_hours_per_week", "hours per week"),
    ("qualifying_percent", "150", "job1_qualifying_percent", "qualifying percent"),
    ("qualifying_percent", "-5", "job1_qualifying_percent", "qualifying percent"),
    ("qualifying_percent", "half", "job1_qualifying_percent", "qualifying percent"),
]


@pytest.mark.parametrize(("field", "value", "column", "problem"), INVALID_CASES)
def test_invalid_entry_matching_an_area_goes_to_review_naming_field_and_value(
    tmp_path: Path, field: str, value: str, column: str, problem: str
) -> None:
    cells: dict[str, Any] = {"start": "2020-01-01", "end": "2022-12-31", field: value}
    result = one(tmp_path, edu(), job(**cells))
    assert fact(result, EXPERIENCE) == 0
    assert fact(result, EXPERIENCE_POSSIBLE) >= F.UNBOUNDED
    assert status(result, EXPERIENCE_ID) == "review"
    assert outcome(result) == "needs_review"
    errors = result.errors_frame()
    reported = errors[(errors["applicant_id"] == "A1") & (errors["column"] == column)]
    assert len(reported) == 1
    assert reported["value"].iloc[0] == value
    assert problem in reported["problem"].iloc[0]
    reason = result.decision("A1").criteria[1].reason
    assert field.replace("_", " ").split()[0] in reason  # the field ...
    if value:
        assert f"'{value}'" in reason  # ... and its value


@pytest.mark.parametrize(("field", "value", "column", "problem"), INVALID_CASES)
def test_invalid_entry_matching_no_area_is_a_warning_only(
    tmp_path: Path, field: str, value: str, column: str, problem: str
) -> None:
    cells: dict[str, Any] = {"start": "2020-01-01", "end": "2022-12-31", field: value}
    result = one(
        tmp_path,
        edu(),
        job(1, start="2020-01-01", end="2023-12-31"),
        job(2, title="Barista", industry="Restaurant", **cells),
    )
    assert outcome(result) == "qualified"
    assert fact(result, EXPERIENCE_POSSIBLE) == fact(result, EXPERIENCE)
    errors = result.errors_frame()
    reported = errors[errors["column"] == column.replace("job1", "job2")]
    assert list(reported["severity"]) == ["warning"]


def test_invalid_entry_that_cannot_change_the_outcome_does_not_send_to_review(
    tmp_path: Path,
) -> None:
    result = one(
        tmp_path,
        edu(),
        job(1, start="2020-01-01", end="2023-12-31"),
        job(2, start="2019-05-01", end="2018-01-01"),
    )
    assert outcome(result) == "qualified"


def test_recency_window_counts_only_days_inside_it(tmp_path: Path) -> None:
    spec = spec_file(
        tmp_path,
        """\
id: recent
title: Recent experience
patterns:
  - id: p
    experience:
      - id: p.experience
        years: 5
        areas: {account management: []}
        within_years: 5
""",
    )
    rows = [
        row("LONG", job(start="2010-01-01", end="present")),
        row("OLD", job(start="2010-01-01", end="2020-12-31")),
    ]
    result = screen(tmp_path, rows, spec)
    inside = (AS_OF - date(2021, 11, 26)).days  # days after 2021-11-26 up to 2026-11-26
    assert fact(result, F.experience_certain("p.experience"), "LONG") == inside * DAY
    assert fact(result, F.experience_certain("p.experience"), "OLD") == 0
    assert outcome(result, "LONG") == "qualified"  # 1826 days ≥ 5 × 365
    assert outcome(result, "OLD") == "not_qualified"


# ------------------------------------------------------------------------------ education


DEGREE_LEVELS = [
    ("BA", "bachelor"),
    ("B.A.", "bachelor"),
    ("BS", "bachelor"),
    ("B.S.", "bachelor"),
    ("B.Sc.", "bachelor"),
    ("BBA", "bachelor"),
    ("Bachelor of Arts", "bachelor"),
    ("Bachelor of Science in Economics", "bachelor"),
    ("AA", "associate"),
    ("AS", "associate"),
    ("A.A.", "associate"),
    ("Associate of Arts", "associate"),
    ("Associate of Science", "associate"),
    ("MA", "master"),
    ("MS", "master"),
    ("M.S.", "master"),
    ("MBA", "master"),
    ("MPA", "master"),
    ("Master of Science", "master"),
    ("Master of Arts", "master"),
    ("PhD", "doctorate"),
    ("Ph.D.", "doctorate"),
    ("EdD", "doctorate"),
    ("JD", "doctorate"),
    ("Doctor of Philosophy", "doctorate"),
    ("Doctor of Education", "doctorate"),
    ("High School Diploma", "high_school"),
    ("GED", "high_school"),
    ("None", "none"),
]


@pytest.mark.parametrize(("degree", "level"), DEGREE_LEVELS)
def test_each_degree_form_maps_to_its_level(tmp_path: Path, degree: str, level: str) -> None:
    result = one(tmp_path, edu(degree=degree, major="Economics"))
    entry = result.decision("A1").education[0]
    assert (entry.level_certain, entry.level_possible) == (level, level)


def test_unrecognised_degree_is_certainly_none_and_possibly_doctorate(tmp_path: Path) -> None:
    result = one(
        tmp_path,
        edu(degree="Diploma of Fine Things", major="Economics"),
        job(start="2020-01-01", end="2023-12-31"),
    )
    entry = result.decision("A1").education[0]
    assert (entry.level_certain, entry.level_possible) == ("none", "doctorate")
    assert status(result, EDUCATION) == "review"
    assert outcome(result) == "needs_review"


@pytest.mark.parametrize("degree", ["MBA", "PhD", "Master of Science"])
def test_a_higher_degree_satisfies_a_lower_requirement(tmp_path: Path, degree: str) -> None:
    result = one(tmp_path, edu(degree=degree, major="Finance"), job())
    assert status(result, EDUCATION) == "met"
    assert outcome(result) == "qualified"


def test_the_best_entry_counts_never_a_sum(tmp_path: Path) -> None:
    rows = [
        row("TWOAA", edu(1, "AA", "Business"), edu(2, "AS", "Economics"), job()),
        row(
            "UNITS",
            edu(1, "BA", "Economics", completed="no", units="60", unit_type="semester"),
            edu(2, "BS", "Finance", completed="no", units="60", unit_type="semester"),
            job(),
        ),
        row("AAANDBA", edu(1, "AA", "Business"), edu(2, "BA", "Economics"), job()),
    ]
    result = screen(tmp_path, rows)
    assert fact(result, EDU_CERTAIN, "TWOAA") == 2 * YEAR  # not 4
    assert status(result, EDUCATION, "TWOAA") == "not_met"
    assert fact(result, EDU_CERTAIN, "UNITS") == 2 * YEAR  # 60/30 each, not summed
    assert status(result, EDUCATION, "UNITS") == "not_met"
    assert status(result, EDUCATION, "AAANDBA") == "met"


def test_not_accredited_does_not_count_and_blank_accreditation_does(tmp_path: Path) -> None:
    rows = [
        row("NO", edu(accredited="no"), job()),
        row("BLANK", edu(accredited=""), job()),
        row("YES", edu(accredited="yes"), job()),
    ]
    result = screen(tmp_path, rows)
    assert status(result, EDUCATION, "NO") == "not_met"
    assert outcome(result, "NO") == "not_qualified"
    assert fact(result, EDU_CERTAIN, "NO") == 0
    assert status(result, EDUCATION, "BLANK") == "met"
    assert status(result, EDUCATION, "YES") == "met"


def test_accreditation_is_ignored_where_the_spec_does_not_require_it(tmp_path: Path) -> None:
    spec = spec_file(
        tmp_path,
        """\
id: no-accreditation
title: No accreditation
patterns:
  - id: p
    education: {id: p.education, min_level: bachelor}
""",
    )
    result = one(tmp_path, edu(accredited="no"), spec=spec)
    assert outcome(result) == "qualified"


@pytest.mark.parametrize(
    ("major", "expected", "note"),
    [
        ("Economics", "met", None),  # listed field
        ("Electrical Engineering", "met", None),  # alias of engineering
        ("Finance", "met", None),  # alias of business administration
        ("Political Science", "met", "related field"),  # related major
        ("Liberal Studies", "review", None),  # unknown, related allowed
    ],
)
def test_major_listed_alias_related_unknown_with_related_allowed(
    tmp_path: Path, major: str, expected: str, note: str | None
) -> None:
    result = one(tmp_path, edu(major=major), job())
    assert status(result, EDUCATION) == expected
    if note:
        assert note in result.decision("A1").criteria[0].reason


@pytest.mark.parametrize(
    ("major", "expected"),
    [
        ("Economics", "met"),
        ("Finance", "met"),
        ("Political Science", "met"),
        ("Liberal Studies", "not_met"),
    ],
)
def test_major_without_related_allowed_unknown_is_not_met(
    tmp_path: Path, major: str, expected: str
) -> None:
    spec = spec_file(
        tmp_path,
        """\
id: strict-field
title: Strict field
patterns:
  - id: p
    education:
      id: p.education
      min_level: bachelor
      fields: [economics, business administration, public administration]
      allow_related: false
""",
    )
    result = one(tmp_path, edu(major=major), spec=spec)
    assert status(result, "p.education") == expected
    assert outcome(result) == ("qualified" if expected == "met" else "not_qualified")


@pytest.mark.parametrize(("degree", "expected"), [("BBA", "met"), ("MPA", "met"), ("BA", "review")])
def test_blank_major_takes_the_field_the_degree_names(
    tmp_path: Path, degree: str, expected: str
) -> None:
    result = one(tmp_path, edu(degree=degree, major=""), job())
    assert status(result, EDUCATION) == expected


@pytest.mark.parametrize(
    ("units", "unit_type", "certain_years", "possible_years"),
    [
        ("90", "semester", 3, 3),
        ("90", "quarter", 2, 2),
        ("90", "", 2, 3),  # blank unit type: ÷45 certain, ÷30 possible
        ("150", "semester", 4, 4),  # at most 4
        ("45", "quarter", 1, 1),
    ],
)
def test_education_years_from_units(
    tmp_path: Path, units: str, unit_type: str, certain_years: int, possible_years: int
) -> None:
    result = one(tmp_path, edu(completed="no", units=units, unit_type=unit_type))
    assert fact(result, EDU_CERTAIN) == certain_years * YEAR
    assert fact(result, EDU_POSSIBLE) == possible_years * YEAR


def test_unrecognised_field_counts_education_years_only_possibly(tmp_path: Path) -> None:
    result = one(tmp_path, edu(degree="BA", major="Art History"))
    assert fact(result, EDU_CERTAIN) == 0
    assert fact(result, EDU_POSSIBLE) == 4 * YEAR


# --------------------------------------------------------------------------- substitution


START = date(2015, 1, 1)


@pytest.mark.parametrize(
    ("education", "years"),
    [
        ({**edu(degree="BA")}, 3),
        ({**edu(degree="AA", major="Business")}, 5),
        ({}, 7),
        ({**edu(degree="High School Diploma", major="")}, 7),
    ],
)
def test_substitution_year_for_year_and_one_day_short(
    tmp_path: Path, education: dict[str, str], years: int
) -> None:
    enough = years * 365
    rows = [
        row("ENOUGH", education, job(start=START.isoformat(), end=days_after(START, enough))),
        row("SHORT", education, job(start=START.isoformat(), end=days_after(START, enough - 1))),
    ]
    result = screen(tmp_path, rows)
    assert outcome(result, "ENOUGH") == "qualified"
    assert outcome(result, "SHORT") == "not_qualified"
    expected_status = "met" if years == 3 else "substituted"
    assert status(result, EDUCATION, "ENOUGH") == expected_status
    if years == 3:
        assert status(result, EXPERIENCE_ID, "SHORT") == "not_met"
    else:
        assert status(result, EDUCATION, "SHORT") == "not_met"
        assert f"substitution needs {years} years" in result.decision("SHORT").criteria[0].reason


def test_pattern_substitution_overrides_the_spec_wide_one(tmp_path: Path) -> None:
    spec = spec_file(
        tmp_path,
        """\
id: own-substitution
title: Own substitution
substitution: {experience_for_education: true, education_years: 4}
patterns:
  - id: p
    substitution: {experience_for_education: false}
    education: {id: p.education, min_level: bachelor}
    experience:
      - id: p.experience
        years: 1
        areas: {account management: []}
""",
    )
    result = one(tmp_path, job(start="2010-01-01", end="2025-12-31"), spec=spec)
    assert status(result, "p.education") == "not_met"
    assert outcome(result) == "not_qualified"


# -------------------------------------------------------------------- three-valued outcomes


def test_three_outcomes(tmp_path: Path) -> None:
    rows = [
        row("Q", edu(), job()),
        row("N", edu(), job(title="Cashier", industry="Retail")),
        row("R", edu(), job(industry="", employer="Acme Corp")),
    ]
    result = screen(tmp_path, rows)
    assert [outcome(result, i) for i in "QNR"] == ["qualified", "not_qualified", "needs_review"]
    review = result.decision("R")
    assert review.review_evidence and "Acme Corp" in review.review_evidence[0]


def test_not_sent_to_review_when_ambiguity_cannot_change_the_outcome(tmp_path: Path) -> None:
    rows = [
        # certainly qualified whatever the uncertain job is
        row("CERTAIN", edu(), job(1), job(2, industry="", employer="Acme Corp")),
        # short even if the uncertain job counted
        row(
            "HOPELESS",
            edu(),
            job(1, start="2022-01-01", end="2022-06-30"),
            job(2, industry="", employer="Acme Corp", start="2022-01-01", end="2022-06-30"),
        ),
        # unknown major but seven years of qualifying experience substitute anyway
        row("SEVEN", edu(major="Art History"), job(start="2015-01-01", end="2022-12-31")),
    ]
    result = screen(tmp_path, rows)
    assert outcome(result, "CERTAIN") == "qualified"
    assert outcome(result, "HOPELESS") == "not_qualified"
    assert outcome(result, "SEVEN") == "qualified"
    assert status(result, EDUCATION, "SEVEN") == "substituted"


def test_discretionary_equivalency_sends_rejections_with_some_evidence_to_review(
    tmp_path: Path,
) -> None:
    body = """\
id: discretionary
title: Discretionary
substitution:
  experience_for_education: false
  discretionary: %s
  clause: Any equivalent combination determined to be acceptable by HR.
patterns:
  - id: p
    education: {id: p.education, min_level: bachelor}
    experience:
      - id: p.experience
        years: 3
        areas: {account management: []}
        industries: [utility]
"""
    rows = [
        row("SOMEJOB", job(start="2024-01-01", end="2024-12-31")),
        row("SOMEEDU", edu(degree="AA", major="Business")),
        row("NOTHING", job(title="Cashier", industry="Retail")),
    ]
    with_discretion = screen(tmp_path, rows, spec_file(tmp_path, body % "true", "d.yaml"))
    assert outcome(with_discretion, "SOMEJOB") == "needs_review"
    assert outcome(with_discretion, "SOMEEDU") == "needs_review"
    assert outcome(with_discretion, "NOTHING") == "not_qualified"
    # the review names its cause: the agency's discretionary equivalency clause
    for applicant_id in ("SOMEJOB", "SOMEEDU"):
        reasons = cell(with_discretion, "reasons", applicant_id).split(" | ")
        assert reasons[0].startswith("discretionary equivalency:"), reasons
        assert "acceptable by HR" in reasons[0]
        assert len(reasons) <= 4
    without = screen(tmp_path, rows, spec_file(tmp_path, body % "false", "n.yaml"), name="b.csv")
    assert [outcome(without, i) for i in ("SOMEJOB", "SOMEEDU", "NOTHING")] == ["not_qualified"] * 3


PATTERNS_SPEC = """\
id: two-patterns
title: Two patterns
patterns:
  - id: degree
    education: {id: degree.education, min_level: bachelor}
    experience:
      - id: degree.experience
        years: 2
        areas: {account management: []}
  - id: experience
    experience:
      - id: experience.experience
        years: 5
        areas: {account management: []}
"""


def test_alternative_patterns_name_the_qualifying_and_the_closest_pattern(tmp_path: Path) -> None:
    rows = [
        row("DEGREE", edu(), job(start="2023-01-01", end="2025-12-31")),
        row("YEARS", job(start="2015-01-01", end="2021-12-31")),
        row("SHORT", job(start="2023-01-01", end="2023-12-31")),
    ]
    result = screen(tmp_path, rows, spec_file(tmp_path, PATTERNS_SPEC))
    assert cell(result, "outcome", "DEGREE") == "qualified"
    assert cell(result, "pattern", "DEGREE") == "degree"
    assert cell(result, "outcome", "YEARS") == "qualified"
    assert cell(result, "pattern", "YEARS") == "experience"
    assert cell(result, "outcome", "SHORT") == "not_qualified"
    # 'experience' fails one criterion, 'degree' two: 'experience' is closest
    assert cell(result, "pattern", "SHORT") == "experience"
    assert cell(result, "reasons", "SHORT").startswith("closest pattern: experience")
    assert float(cell(result, "qualifying_years", "SHORT")) == pytest.approx(1.0)
    # a rejection says why each pattern failed, the closest first
    reasons = cell(result, "reasons", "SHORT").split(" | ")
    assert len(reasons) <= 4
    assert reasons[1].startswith("experience.experience: 1 of 5 required years")
    assert any(r.startswith("degree.") for r in reasons[2:]), reasons


# ------------------------------------------------------------------ licenses and certificates


def test_license_is_not_applicable_when_the_position_does_not_require_driving(
    tmp_path: Path,
) -> None:
    result = one(tmp_path, edu(), job(), cells={"drivers_license": "no"})
    assert status(result, LICENSE) == "not_applicable"
    assert cell(result, "conditions") == ""


@pytest.mark.parametrize(
    ("held", "reported"),
    [("yes", "reported by"), ("no", "not reported"), ("", "not clearly reported")],
)
def test_license_at_appointment_is_a_condition_saying_whether_reported(
    tmp_path: Path, held: str, reported: str
) -> None:
    rows = [row("A1", edu(), job(), drivers_license=held, drivers_license_state="CA")]
    result = screen(tmp_path, rows, requires_driving=True)
    assert status(result, LICENSE) == "condition"
    assert outcome(result) == "qualified"  # never changes the outcome
    conditions = cell(result, "conditions")
    assert "California driver's license" in conditions and "appointment" in conditions
    assert f"({reported}" in conditions


SCREENING_LICENSE_SPEC = """\
id: license-now
title: License at screening
patterns:
  - id: p
    experience:
      - id: p.experience
        years: 1
        areas: {account management: []}
licenses:
  - {id: license, kind: driver's license, state: CA, applies: always, enforce_at: screening}
"""


@pytest.mark.parametrize(
    ("held", "state", "expected", "result_outcome"),
    [
        ("yes", "CA", "met", "qualified"),
        ("Y", "California", "met", "qualified"),
        ("no", "CA", "not_met", "not_qualified"),
        ("", "", "review", "needs_review"),  # unknown
        ("maybe", "CA", "review", "needs_review"),
        ("yes", "NV", "review", "needs_review"),  # another state
    ],
)
def test_license_at_screening(
    tmp_path: Path, held: str, state: str, expected: str, result_outcome: str
) -> None:
    rows = [
        row(
            "A1",
            job(start="2020-01-01", end="2022-12-31"),
            drivers_license=held,
            drivers_license_state=state,
        )
    ]
    result = screen(tmp_path, rows, spec_file(tmp_path, SCREENING_LICENSE_SPEC))
    assert status(result, "license") == expected
    assert outcome(result) == result_outcome


def test_license_only_when_driving_is_not_applicable_without_driving(tmp_path: Path) -> None:
    body = SCREENING_LICENSE_SPEC.replace("applies: always", "applies: position_requires_driving")
    rows = [row("A1", job(start="2020-01-01", end="2022-12-31"), drivers_license="no")]
    not_driving = screen(tmp_path, rows, spec_file(tmp_path, body))
    assert status(not_driving, "license") == "not_applicable"
    assert outcome(not_driving) == "qualified"
    driving = screen(tmp_path, rows, spec_file(tmp_path, body), requires_driving=True)
    assert status(driving, "license") == "not_met"
    assert outcome(driving) == "not_qualified"


@pytest.mark.parametrize(
    ("certificates", "expected"),
    [
        ("PMP; CPR", "met"),
        ("Project Management Professional", "met"),
        ("pmp certified", "met"),
        ("CPR", "not_met"),
        ("", "not_met"),
        ("PMPX", "not_met"),
    ],
)
def test_certificates_are_read_from_the_certificates_column(
    tmp_path: Path, certificates: str, expected: str
) -> None:
    spec = spec_file(
        tmp_path,
        """\
id: certificate
title: Certificate
patterns:
  - id: p
    experience:
      - id: p.experience
        years: 1
        areas: {account management: []}
certificates:
  - {id: pmp, name: Project Management Professional, aliases: [PMP]}
""",
    )
    rows = [row("A1", job(start="2020-01-01", end="2022-12-31"), certificates=certificates)]
    result = screen(tmp_path, rows, spec)
    assert status(result, "pmp") == expected
    assert outcome(result) == ("qualified" if expected == "met" else "not_qualified")


# -------------------------------------------------------------------------------- bad input


def test_duplicate_ids_are_all_error_rows_and_not_screened(tmp_path: Path) -> None:
    rows = [row("A1", edu(), job()), row("B2", edu(), job()), row("A1", edu(), job())]
    result = screen(tmp_path, rows)
    assert list(result.results["applicant_id"]) == ["B2"]
    errors = result.errors_frame()
    duplicate_rows = errors[(errors["applicant_id"] == "A1") & (errors["severity"] == "error")]
    assert sorted(duplicate_rows["row"].tolist()) == [2, 4]


def test_blank_id_is_an_error_row_and_ids_stay_text(tmp_path: Path) -> None:
    rows = [row("00123", edu(), job()), row("", edu(), job())]
    result = screen(tmp_path, rows)
    assert list(result.results["applicant_id"]) == ["00123"]
    errors = result.errors_frame()
    assert errors[errors["severity"] == "error"]["row"].tolist() == [3]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ","), ("cp1252", ","), ("utf-8", ";"), ("cp1252", "\t")],
)
def test_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str) -> None:
    rows = [row("Zoë-1", edu(), job(employer="Compañía Eléctrica"), first_name="José")]
    path = write_csv_rows(tmp_path / "a.csv", rows, encoding=encoding, delimiter=delimiter)
    result = screen_files(path, ALAMEDA, as_of=AS_OF)
    assert list(result.results["applicant_id"]) == ["Zoë-1"]
    assert result.decision("Zoë-1").jobs[0].employer == "Compañía Eléctrica"
    assert outcome(result, "Zoë-1") == "qualified"


DANGEROUS = ['=HYPERLINK("http://x")', "+SUM(A1)", "-2+3", "@cmd", "=1+1"]


def test_exported_csv_and_excel_neutralise_formula_injection(tmp_path: Path) -> None:
    rows = [row(value, edu(), job()) for value in DANGEROUS] + [row("-3", edu(), job())]
    result = screen(tmp_path, rows)
    out = io.StringIO()
    write_csv(result.results, out)
    import csv as csv_module

    written = [r["applicant_id"] for r in csv_module.DictReader(io.StringIO(out.getvalue()))]
    loaded = list(result.results["applicant_id"])
    assert written[-1] == "-3"  # a plain number stays
    for original, text in zip(loaded[:-1], written[:-1], strict=True):
        assert text == "'" + original
    assert csv_bytes(result.results).startswith(b"\xef\xbb\xbf")
    book = openpyxl.load_workbook(io.BytesIO(excel_bytes(result.results)))
    sheet = book.active
    assert sheet is not None
    cells = [c.value for c in sheet["A"][1:]]
    assert all(isinstance(c, str) and c.startswith("'") for c in cells[:-1])
    assert cells[-1] == "-3"


# --------------------------------------------------------------------------------- reasons


def test_reasons_cite_criterion_values_and_shortfall(tmp_path: Path) -> None:
    rows = [
        row("HALF", edu(), job(start="2021-01-01", end="2022-12-31", hours_per_week="20")),
        row("DAY", edu(), job(start="2020-03-01", end="2023-02-27")),
    ]
    result = screen(tmp_path, rows)
    half = cell(result, "reasons", "HALF")
    assert half.startswith("typical.experience: 1 of 3 required years")
    assert "Key Account Manager" in half and "20 h/week" in half
    assert "short by 2 years" in half
    day = cell(result, "reasons", "DAY")
    assert "typical.experience" in day
    # one day short must not read as "3 of 3 years, short by 0 years"
    assert "short by 0 years" not in day
    assert "3 of 3 required years" not in day


def test_at_most_four_principal_reasons(tmp_path: Path) -> None:
    spec = spec_file(
        tmp_path,
        """\
id: many
title: Many criteria
patterns:
  - id: p
    education: {id: p.education, min_level: bachelor}
    experience:
      - {id: p.exp1, years: 1, areas: {account management: []}}
      - {id: p.exp2, years: 1, areas: {project management: []}}
    certificates:
      - {id: p.cert1, name: Certified Energy Manager}
      - {id: p.cert2, name: Project Management Professional}
licenses:
  - {id: license, kind: driver's license, state: CA, applies: always, enforce_at: screening}
""",
    )
    result = one(
        tmp_path,
        job(title="Cashier"),
        spec=spec,
        cells={"drivers_license": "no", "certificates": ""},
    )
    decision = result.decision("A1")
    assert decision.outcome.value == "not_qualified"
    assert sum(c.status.value == "not_met" for c in decision.criteria) == 6
    assert 1 <= len(decision.reasons) <= 4
    assert all(r.split(":")[0] in {c.id for c in decision.criteria} for r in decision.reasons)
    assert "did not meet the minimum qualifications" not in cell(result, "reasons")


def test_tab_and_carriage_return_cells_are_neutralised_too() -> None:
    import pandas as pd

    frame = pd.DataFrame({"reasons": ["\tcmd", "\rcmd", "plain", "-1.5", "+2", "-x"]})
    out = io.StringIO()
    write_csv(frame, out)
    import csv as csv_module

    cells = [r[0] for r in csv_module.reader(io.StringIO(out.getvalue()))][1:]
    assert cells == ["'\tcmd", "'\rcmd", "plain", "-1.5", "+2", "'-x"]


def test_recency_window_from_29_february_starts_after_28_february(tmp_path: Path) -> None:
    spec = spec_file(
        tmp_path,
        """\
id: recent-leap
title: Recent experience, leap day
patterns:
  - id: p
    experience:
      - id: p.experience
        years: 1
        areas: {account management: []}
        within_years: 1
""",
    )
    result = one(
        tmp_path, job(start="2020-01-01", end="present"), spec=spec, as_of=date(2028, 2, 29)
    )
    # days after 2027-02-28 up to 2028-02-29: 366 days
    assert fact(result, F.experience_certain("p.experience")) == 366 * DAY


def test_errors_export_neutralises_injected_input_values(tmp_path: Path) -> None:
    result = one(tmp_path, edu(), job(start='=HYPERLINK("http://x","y")'))
    out = io.StringIO()
    write_csv(result.errors_frame(), out)
    import csv as csv_module

    values = [r["value"] for r in csv_module.DictReader(io.StringIO(out.getvalue(), newline=""))]
    assert values == ['\'=HYPERLINK("http://x","y")']


def test_hours_and_percent_keep_two_decimals(tmp_path: Path) -> None:
    result = one(
        tmp_path,
        edu(),
        job(
            start="2021-01-01", end="2021-01-10", hours_per_week="32.5", qualifying_percent="33.33"
        ),
    )
    assert fact(result, EXPERIENCE) == 10 * 3250 * 3333


@pytest.mark.parametrize("blank", ["N/A", "n/a", "none", "-"])
def test_blank_markers_count_as_blank(tmp_path: Path, blank: str) -> None:
    # end blank → as-of date; hours blank → full time; industry blank → employer decides
    cells: dict[str, Any] = {
        "start": "2026-11-20",
        "end": blank,
        "hours_per_week": blank,
        "industry": blank,
    }
    result = one(tmp_path, edu(), job(employer="SMUD", **cells))
    assert fact(result, EXPERIENCE) == 7 * DAY
    assert result.decision("A1").jobs[0].classification == "qualifying"


def test_not_completed_degree_counts_only_its_units(tmp_path: Path) -> None:
    result = one(
        tmp_path,
        edu(1, degree="BA", completed="no"),
        edu(2, degree="BS", major="Economics", completed="no", units="lots"),
    )
    entries = result.decision("A1").education
    assert [e.level_certain for e in entries] == ["none", "none"]
    assert fact(result, EDU_CERTAIN) == 0  # unparseable units: certainly 0 ...
    assert fact(result, EDU_POSSIBLE) == 4 * YEAR  # ... possibly 4


def test_license_held_with_a_blank_state_is_review_at_screening(tmp_path: Path) -> None:
    rows = [row("A1", job(start="2020-01-01", end="2022-12-31"), drivers_license="yes")]
    result = screen(tmp_path, rows, spec_file(tmp_path, SCREENING_LICENSE_SPEC))
    assert status(result, "license") == "review"


def test_demographic_columns_are_split_off_and_never_exported(tmp_path: Path) -> None:
    rows = [row("A1", edu(), job(), eeo_sex="F", eeo_race_ethnicity="Hispanic or Latino")]
    result = screen(tmp_path, rows)
    assert not [c for c in result.results.columns if c.startswith("eeo_")]
    assert "Hispanic" not in result.results.to_csv()
    assert result.eeo["eeo_race_ethnicity"].tolist() == ["Hispanic or Latino"]
    assert "eeo_sex" not in result.batch.applicants.columns


def test_unknown_column_is_a_warning_with_did_you_mean(tmp_path: Path) -> None:
    result = one(tmp_path, edu(), job(), cells={"job1_titel": "Account Manager"})
    errors = result.errors_frame()
    warning = errors[errors["column"] == "job1_titel"]
    assert warning["severity"].tolist() == ["warning"]
    assert "did you mean 'job1_title'" in warning["problem"].iloc[0]


def test_excel_workbook_gives_the_same_results_as_csv(tmp_path: Path) -> None:
    rows = [
        row("00123", edu(), job()),
        row("B2", edu(major="Liberal Studies"), job()),
        row("C3", job(title="Cashier", industry="Retail")),
    ]
    from_csv = screen(tmp_path, rows)
    header = list(dict.fromkeys(k for r in rows for k in r))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for r in rows:
        sheet.append([r.get(h, "") for h in header])
    path = tmp_path / "applicants.xlsx"
    book.save(path)
    from_excel = screen_files(path, ALAMEDA, as_of=AS_OF)
    assert from_excel.results["applicant_id"].tolist() == ["00123", "B2", "C3"]
    assert from_excel.results.equals(from_csv.results)


def test_license_class_the_file_cannot_show_is_review_at_screening(tmp_path: Path) -> None:
    # the applicant file reports whether a driver's license is held, never its class
    body = SCREENING_LICENSE_SPEC.replace("state: CA,", "state: CA, class: B,")
    rows = [
        row("YES", job(start="2020-01-01", end="2022-12-31"), drivers_license="yes",
            drivers_license_state="CA"),
        row("NO", job(start="2020-01-01", end="2022-12-31"), drivers_license="no"),
    ]  # fmt: skip
    result = screen(tmp_path, rows, spec_file(tmp_path, body))
    assert status(result, "license", "YES") == "review"
    assert outcome(result, "YES") == "needs_review"
    assert status(result, "license", "NO") == "not_met"


def test_ats_export_headers_and_a_mapping_file_read_like_canonical_names(tmp_path: Path) -> None:
    canonical = [row("A1", edu(), job()), row("B2", edu(major="Art History"), job())]
    expected = screen(tmp_path, canonical)
    ats_names = {
        "applicant_id": "Candidate Ref",
        "edu1_degree": "Degree 1",
        "edu1_major": "Major 1",
        "job1_title": "Job Title 1",
        "job1_employer": "Employer 1",
        "job1_industry": "job1_industry",
        "job1_start": "Start Date 1",
        "job1_end": "End Date 1",
    }
    renamed = [{ats_names[k]: v for k, v in r.items()} for r in canonical]
    mapping = tmp_path / "columns.yaml"
    mapping.write_text('columns:\n  "Candidate Ref": applicant_id\n', encoding="utf-8")
    path = write_csv_rows(tmp_path / "ats.csv", renamed)
    result = screen_files(path, ALAMEDA, columns=mapping, as_of=AS_OF)
    assert result.results.equals(expected.results)
    assert not [i for i in result.issues if "unknown column" in i.problem]


def test_an_entry_whose_fields_are_all_blank_is_ignored(tmp_path: Path) -> None:
    blank_education = edu(1, degree="N/A", major="-", institution="n/a", units="none")
    blank_job = job(2, title="", employer="", industry="", start="", end="N/A")
    rows = [
        row("BLANK", blank_education, job(1), blank_job),
        # a degree left blank beside a major is an entry: certainly none, possibly a doctorate
        row("MAJORONLY", edu(1, degree="", major="Economics"), job(1)),
    ]
    result = screen(tmp_path, rows)
    assert result.decision("BLANK").education == []
    assert [j.entry for j in result.decision("BLANK").jobs] == [1]
    assert outcome(result, "BLANK") == "not_qualified"
    assert not [i for i in result.issues if i.applicant_id == "BLANK"]
    assert outcome(result, "MAJORONLY") == "needs_review"
