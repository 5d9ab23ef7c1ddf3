"""Header recognition table: canonical names, ATS spellings, numbered entries, eeo columns."""

from __future__ import annotations

import pytest

from screening.columns import parse_canonical, recognise


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("applicant_id", "applicant_id"),
        ("Applicant #", "applicant_id"),
        ("Candidate Number", "applicant_id"),
        ("E-mail", "email"),
        ("Given Name", "first_name"),
        ("Surname", "last_name"),
        ("Driver's Licence", "drivers_license"),
        ("DL State", "drivers_license_state"),
        ("Licenses and Certifications", "certificates"),
        ("job12_hours_per_week", "job12_hours_per_week"),
        ("Job 2 Title", "job2_title"),
        ("Job Title 2", "job2_title"),
        ("Position Title 3", "job3_title"),
        ("Company Name 1", "job1_employer"),
        ("Employer 10", "job10_employer"),
        ("From 1", "job1_start"),
        ("To Date 1", "job1_end"),
        ("Hours/Week 2", "job2_hours_per_week"),
        ("Job Description 1", "job1_duties"),
        ("Qualifying % 1", "job1_qualifying_percent"),
        ("Education 1 Degree", "edu1_degree"),
        ("Degree 1", "edu1_degree"),
        ("Field of Study 2", "edu2_major"),
        ("School Name 1", "edu1_institution"),
        ("University 1", "edu1_institution"),
        ("Graduated 1", "edu1_completed"),
        ("Credits 1", "edu1_units"),
        ("Unit Type 1", "edu1_unit_type"),
        ("eeo_sex", "eeo_sex"),
        ("EEO Race/Ethnicity", "eeo_race_ethnicity"),
        ("Gender", "eeo_sex"),
        ("Veteran Status", "eeo_veteran_status"),
    ],
)
def test_wide_form_headers(header: str, canonical: str) -> None:
    role = recognise(header)
    assert role is not None and role.canonical == canonical


@pytest.mark.parametrize(
    "header", ["Favourite Colour", "", "job0_title", "edu1_title", "Job Title", "Notes 1"]
)
def test_headers_that_are_not_recognised(header: str) -> None:
    assert recognise(header) is None


@pytest.mark.parametrize(
    ("header", "group", "canonical"),
    [
        ("Applicant ID", "job", "applicant_id"),
        ("Job Title", "job", "title"),
        ("Company", "job", "employer"),
        ("hours_per_week", "job", "hours_per_week"),
        ("Degree", "edu", "degree"),
        ("Field of Study", "edu", "major"),
    ],
)
def test_long_form_headers(header: str, group: str, canonical: str) -> None:
    role = recognise(header, "job" if group == "job" else "edu")
    assert role is not None and role.canonical == canonical


def test_long_form_file_reads_only_its_own_fields() -> None:
    assert recognise("Degree", "job") is None  # a jobs file has no degree
    assert recognise("First Name", "job") is None  # applicant fields live in applicants.csv
    assert recognise("job1_title", "job") is None  # no numbered columns in the long form


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("applicant_id", True),
        ("job3_duties", True),
        ("edu2_unit_type", True),
        ("title", True),
        ("eeo_disability", True),
        ("job0_title", False),
        ("job1_degree", False),
        ("Applicant ID", False),
        ("salary", False),
    ],
)
def test_canonical_names_in_mapping_files(name: str, valid: bool) -> None:
    assert (parse_canonical(name) is not None) is valid
