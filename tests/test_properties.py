"""Property-based tests: wide and long forms agree, and no input row is ever lost."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.run.stages import ScreeningResult, screen_files
from tests.builders import ALAMEDA, AS_OF, row, to_long, write_csv_rows


def examples(count: int) -> settings:
    """Modest example counts: each example screens whole files (about 0.2 s each)."""
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


TITLES = ["Key Account Manager", "Program Manager", "Programmer", "Account Manager Intern",
          "Cashier", "Business Analyst", "Project Coordinator", ""]  # fmt: skip
EMPLOYERS = ["Alameda Municipal Power", "Acme Corp", "SMUD", "City of Oakland", ""]
INDUSTRIES = ["Electric utility", "Solar", "Retail", "Consulting", "", "N/A", "Local government"]
DEGREES = ["BA", "B.S.", "AA", "MBA", "PhD", "High School Diploma", "None", "Certificate", ""]
MAJORS = ["Business Administration", "Economics", "Political Science", "Art History", "", "-"]
JOB_HEADER = ["applicant_id", "title", "employer", "industry", "start", "end",
              "hours_per_week", "duties", "qualifying_percent"]  # fmt: skip
EDU_HEADER = ["applicant_id", "degree", "major", "institution", "accredited", "completed",
              "units", "unit_type"]  # fmt: skip
DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%Y-%m", "%m/%Y", "%b %Y", "%B %Y"]


@st.composite
def day_text(draw: st.DrawFn) -> str:
    day = draw(st.dates(min_value=date(2008, 1, 1), max_value=AS_OF + timedelta(days=60)))
    choice = draw(st.sampled_from([*DATE_FORMATS, "bad"]))
    return "sometime" if choice == "bad" else day.strftime(choice)


@st.composite
def job_entry(draw: st.DrawFn) -> dict[str, str]:
    return {
        "title": draw(st.sampled_from(TITLES)),
        "employer": draw(st.sampled_from(EMPLOYERS)),
        "industry": draw(st.sampled_from(INDUSTRIES)),
        "start": draw(day_text()),
        "end": draw(st.one_of(day_text(), st.sampled_from(["", "present", "Current"]))),
        "hours_per_week": draw(st.sampled_from(["", "", "20", "32.5", "200", "x"])),
        "qualifying_percent": draw(st.sampled_from(["", "", "50", "100", "150"])),
    }


@st.composite
def education_entry(draw: st.DrawFn) -> dict[str, str]:
    return {
        "degree": draw(st.sampled_from(DEGREES)),
        "major": draw(st.sampled_from(MAJORS)),
        "accredited": draw(st.sampled_from(["", "yes", "no"])),
        "completed": draw(st.sampled_from(["", "", "yes", "no"])),
        "units": draw(st.sampled_from(["", "", "60", "90", "135"])),
        "unit_type": draw(st.sampled_from(["", "semester", "quarter"])),
    }


@st.composite
def applicant(draw: st.DrawFn, applicant_id: str) -> dict[str, str]:
    jobs = draw(st.lists(job_entry(), max_size=3))
    education = draw(st.lists(education_entry(), max_size=2))
    cells: dict[str, str] = {}
    for n, entry in enumerate(jobs, start=1):
        cells |= {f"job{n}_{k}": v for k, v in entry.items()}
    for n, entry in enumerate(education, start=1):
        cells |= {f"edu{n}_{k}": v for k, v in entry.items()}
    cells["drivers_license"] = draw(st.sampled_from(["", "yes", "no"]))
    return row(applicant_id, cells)


@st.composite
def batch(draw: st.DrawFn, id_pool: list[str] | None = None) -> list[dict[str, str]]:
    size = draw(st.integers(min_value=1, max_value=12))
    if id_pool is None:
        ids = [f"{i:05d}" for i in range(1, size + 1)]  # unique, with leading zeros
    else:
        ids = [draw(st.sampled_from(id_pool)) for _ in range(size)]
    return [draw(applicant(i)) for i in ids]


def screen_wide(folder: Path, rows: list[dict[str, str]]) -> ScreeningResult:
    path = write_csv_rows(folder / "wide.csv", rows, header=header_of(rows))
    return screen_files(path, ALAMEDA, as_of=AS_OF)


def header_of(rows: list[dict[str, str]]) -> list[str]:
    header = ["applicant_id", "drivers_license"]
    for r in rows:
        header += [k for k in r if k not in header]
    if not any(k.startswith("job") for k in header):
        header.append("job1_title")  # keep a recognised entry column in an entry-less batch
    return header


@examples(15)
@given(rows=batch())
def test_wide_and_long_forms_give_identical_results(rows: list[dict[str, str]]) -> None:
    with TemporaryDirectory() as name:
        folder = Path(name)
        wide = screen_wide(folder, rows)
        applicants, jobs, education = to_long(rows)
        long = screen_files(
            write_csv_rows(
                folder / "applicants.csv", applicants, ["applicant_id", "drivers_license"]
            ),
            ALAMEDA,
            jobs=write_csv_rows(folder / "jobs.csv", jobs, JOB_HEADER),
            education=write_csv_rows(folder / "education.csv", education, EDU_HEADER),
            as_of=AS_OF,
        )
    pd.testing.assert_frame_equal(wide.results, long.results)
    for criterion, column in wide.statuses.items():
        assert column.tolist() == long.statuses[criterion].tolist()


ID_POOL = ["1", "2", "3", "00123", "123", "", " ", "A-1"]


@examples(20)
@given(rows=batch(ID_POOL))
def test_every_input_row_is_in_the_results_or_the_errors(rows: list[dict[str, str]]) -> None:
    with TemporaryDirectory() as name:
        result = screen_wide(Path(name), rows)
    input_rows = set(range(2, len(rows) + 2))
    screened = result.batch.applicants["row"].astype(int).tolist()
    errors = result.errors_frame()
    error_rows = set(errors[errors["severity"] == "error"]["row"].dropna().astype(int))
    assert len(screened) == len(result.results)
    assert len(screened) + result.batch.error_rows == len(rows)
    assert set(screened).isdisjoint(error_rows)
    assert set(screened) | error_rows == input_rows
    # who is an error row follows from the ids alone
    ids = [r["applicant_id"].strip() for r in rows]
    expected_screened = [i for i in ids if i and ids.count(i) == 1]
    assert result.results["applicant_id"].tolist() == expected_screened


@examples(8)
@given(rows=batch(), orphans=st.lists(job_entry(), min_size=1, max_size=3))
def test_long_form_rows_of_unknown_applicants_are_error_rows(
    rows: list[dict[str, str]], orphans: list[dict[str, Any]]
) -> None:
    applicants, jobs, education = to_long(rows)
    all_jobs = jobs + [{"applicant_id": "NOT-IN-FILE", **o} for o in orphans]
    with TemporaryDirectory() as name:
        folder = Path(name)
        result = screen_files(
            write_csv_rows(
                folder / "applicants.csv", applicants, ["applicant_id", "drivers_license"]
            ),
            ALAMEDA,
            jobs=write_csv_rows(folder / "jobs.csv", all_jobs, JOB_HEADER),
            as_of=AS_OF,
        )
        errors = result.errors_frame()
        orphan_rows = errors[
            (errors["severity"] == "error") & errors["file"].astype(str).str.endswith("jobs.csv")
        ]
        expected = set(range(len(jobs) + 2, len(all_jobs) + 2))
    assert set(orphan_rows["row"].astype(int)) == expected
    assert len(result.results) == len(rows)


@examples(12)
@given(rows=batch(ID_POOL))
def test_every_long_form_row_is_screened_or_in_the_errors(rows: list[dict[str, str]]) -> None:
    applicants, jobs, education = to_long(rows)
    with TemporaryDirectory() as name:
        folder = Path(name)
        result = screen_files(
            write_csv_rows(
                folder / "applicants.csv", applicants, ["applicant_id", "drivers_license"]
            ),
            ALAMEDA,
            jobs=write_csv_rows(folder / "jobs.csv", jobs, JOB_HEADER),
            education=write_csv_rows(folder / "education.csv", education, EDU_HEADER),
            as_of=AS_OF,
        )
    errors = result.errors_frame()
    errors = errors[errors["severity"] == "error"]
    for file_name, entries, frame in (
        ("applicants.csv", applicants, result.batch.applicants),
        ("jobs.csv", jobs, result.batch.jobs),
        ("education.csv", education, result.batch.education),
    ):
        screened = set(frame[frame["file"].astype(str).str.endswith(file_name)]["row"].astype(int))
        in_errors = set(
            errors[errors["file"].astype(str).str.endswith(file_name)]["row"].astype(int)
        )
        assert screened.isdisjoint(in_errors), file_name
        assert screened | in_errors == set(range(2, len(entries) + 2)), file_name
