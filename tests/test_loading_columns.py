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


# --- ATS header families, read as words -----------------------------------------------------

JOB_WORDS = {
    "title": "Job Title",
    "employer": "Company",
    "industry": "Industry",
    "start": "From",
    "end": "To",
    "hours_per_week": "Hours per Week",
    "duties": "Description",
    "qualifying_percent": "Qualifying %",
}
EDUCATION_WORDS = {
    "degree": "Degree",
    "major": "Field of Study",
    "institution": "School Name",
    "accredited": "Accredited",
    "completed": "Graduated",
    "units": "Credits",
    "unit_type": "Credit Type",
}
#: How ATS exports number their entries: kind words, the number and the field in any order.
FAMILIES = {
    "workday": ("Work Experience {n} - {field}", "Education {n} - {field}"),
    "number in brackets": ("{field} ({n})", "{field} ({n})"),
    "employer first": ("Employer {n} {field}", "School {n} {field}"),
    "ordinal": ("{n}st Job {field}", "{n}st Education {field}"),
    "underscored": ("work_history_{n}_{field}", "academic_{n}_{field}"),
}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [1, 3])
def test_ats_header_families_are_read_as_kind_number_and_field(family: str, n: int) -> None:
    job_pattern, education_pattern = FAMILIES[family]
    if family == "ordinal" and n != 1:
        return  # "3st" is not how anyone writes it; 1st is enough for the ordinal form
    for pattern, words, prefix in (
        (job_pattern, JOB_WORDS, "job"),
        (education_pattern, EDUCATION_WORDS, "edu"),
    ):
        for name, field in words.items():
            header = pattern.format(n=n, field=field)
            if family == "underscored":
                header = header.replace(" ", "_").lower()
            role = recognise(header)
            assert role is not None, header
            assert role.canonical == f"{prefix}{n}_{name}", header


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("Employer 1 Start Date", "job1_start"),
        ("Employer 2 End Date", "job2_end"),
        ("Start Date (Job 2)", "job2_start"),
        ("WorkExperience2JobTitle", "job2_title"),
        ("Previous Employer 4", "job4_employer"),
        ("Degree 1 Major", "edu1_major"),
        ("Job #2 Title", "job2_title"),
    ],
)
def test_more_numbered_entry_headers(header: str, canonical: str) -> None:
    role = recognise(header)
    assert role is not None and role.canonical == canonical


@pytest.mark.parametrize(
    "header",
    [
        "Job 1 Supervisor Title",  # a word that names neither the entry nor the field
        "Reason for Leaving 1",
        "Salary 1",
        "Education 1 - Company",  # a job field under an education entry
        "Work Experience 1 - Degree",
        "Job 1 Title 2",  # two numbers: which entry is it?
        "Years of Experience",
        "Work Experience - Job Title",  # no number in the wide form
    ],
)
def test_word_headers_that_are_not_entry_columns(header: str) -> None:
    assert recognise(header) is None


@pytest.mark.parametrize(
    ("header", "group", "canonical"),
    [
        ("Work Experience - Job Title", "job", "title"),
        ("Employer Start Date", "job", "start"),
        ("To", "job", "end"),
        ("Education - Field of Study", "edu", "major"),
    ],
)
def test_long_form_word_headers(header: str, group: str, canonical: str) -> None:
    role = recognise(header, "job" if group == "job" else "edu")
    assert role is not None and role.canonical == canonical
