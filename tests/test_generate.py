"""Tests of the sample applicant generator (data/generate.py) and the committed samples."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from data.generate import generate_applicants, main

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
AS_OF = date(2026, 11, 26)

# Written out from DESIGN.md "Applicant CSV" on purpose, not taken from the generator.
PERSON = ["applicant_id", "first_name", "last_name", "email"]
EDU = ["degree", "major", "institution", "accredited", "completed", "units", "unit_type"]
JOB = [
    "title",
    "employer",
    "industry",
    "start",
    "end",
    "hours_per_week",
    "duties",
    "qualifying_percent",
]
TAIL = ["drivers_license", "drivers_license_state", "certificates", "eeo_sex", "eeo_race_ethnicity"]
WIDE_HEADER = (
    PERSON
    + [f"edu{n}_{field}" for n in (1, 2, 3) for field in EDU]
    + [f"job{n}_{field}" for n in (1, 2, 3, 4, 5) for field in JOB]
    + TAIL
)
APPLICANTS_HEADER = PERSON + TAIL

MONTHS = {
    name.lower(): number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may", "may"),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


def parse_date(text: str) -> tuple[date, str]:
    """Parse the seven DESIGN.md formats; return the first day covered and the format."""
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        return date(int(m[1]), int(m[2]), int(m[3])), "iso"
    if m := re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text):
        return date(int(m[3]), int(m[1]), int(m[2])), "us"
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
        return date(int(m[3]), int(m[1]), int(m[2])), "us_short"
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        return date(int(m[1]), int(m[2]), 1), "iso_month"
    if m := re.fullmatch(r"(\d{2})/(\d{4})", text):
        return date(int(m[2]), int(m[1]), 1), "us_month"
    if m := re.fullmatch(r"([A-Za-z]+) (\d{4})", text):
        kind = "mon_year" if len(m[1]) == 3 else "month_year"
        return date(int(m[2]), MONTHS[m[1].lower()], 1), kind
    raise ValueError(f"unreadable date {text!r}")


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_both(tmp_path: Path, n: int, seed: int, clean: bool) -> tuple[Path, Path]:
    wide, long = tmp_path / "wide.csv", tmp_path / "long"
    assert main(["--n", str(n), "--seed", str(seed), "--out", str(wide)] + ["--clean"] * clean) == 0
    args = ["--n", str(n), "--seed", str(seed), "--form", "long", "--out", str(long)]
    assert main(args + ["--clean"] * clean) == 0
    return wide, long


def entries(row: dict[str, str], prefix: str, slots: int, fields: list[str]) -> list[list[str]]:
    found = []
    for n in range(1, slots + 1):
        values = [row[f"{prefix}{n}_{field}"] for field in fields]
        if any(values):
            found.append(values)
    return found


def test_same_seed_writes_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first = write_both(tmp_path / "a", 600, 11, clean=False)
    second = write_both(tmp_path / "b", 600, 11, clean=False)
    other = write_both(tmp_path / "c", 600, 12, clean=False)
    assert first[0].read_bytes() == second[0].read_bytes()
    for name in ("applicants.csv", "jobs.csv", "education.csv"):
        assert (first[1] / name).read_bytes() == (second[1] / name).read_bytes()
    assert first[0].read_bytes() != other[0].read_bytes()


@pytest.mark.parametrize("clean", [False, True])
def test_wide_and_long_describe_the_same_applicants(tmp_path: Path, clean: bool) -> None:
    wide_path, long_path = write_both(tmp_path, 800, 5, clean=clean)
    _, wide = read_csv(wide_path)
    _, applicants = read_csv(long_path / "applicants.csv")
    _, jobs = read_csv(long_path / "jobs.csv")
    _, education = read_csv(long_path / "education.csv")
    assert len(wide) == len(applicants) == 800
    for wide_row, applicant in zip(wide, applicants, strict=True):
        assert {column: wide_row[column] for column in APPLICANTS_HEADER} == applicant
    # Entries grouped by id in file order; a duplicated id collects both rows' entries.
    for long_rows, prefix, slots, fields in ((jobs, "job", 5, JOB), (education, "edu", 3, EDU)):
        from_wide: dict[str, list[list[str]]] = defaultdict(list)
        for row in wide:
            from_wide[row["applicant_id"]] += entries(row, prefix, slots, fields)
        from_long: dict[str, list[list[str]]] = defaultdict(list)
        for row in long_rows:
            from_long[row["applicant_id"]].append([row[field] for field in fields])
        assert from_long == {key: value for key, value in from_wide.items() if value}


def test_column_names_match_the_design(tmp_path: Path) -> None:
    wide_path, long_path = write_both(tmp_path, 50, 1, clean=False)
    assert read_csv(wide_path)[0] == WIDE_HEADER
    assert read_csv(long_path / "applicants.csv")[0] == APPLICANTS_HEADER
    assert read_csv(long_path / "jobs.csv")[0] == ["applicant_id"] + JOB
    assert read_csv(long_path / "education.csv")[0] == ["applicant_id"] + EDU


def test_files_are_quoted_exactly_as_the_csv_module_quotes(tmp_path: Path) -> None:
    wide_path, _ = write_both(tmp_path, 500, 3, clean=False)
    header, rows = read_csv(wide_path)
    rewritten = io.StringIO()
    writer = csv.DictWriter(rewritten, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    assert wide_path.read_text(encoding="utf-8") == rewritten.getvalue()


def test_clean_mode_has_only_valid_values(tmp_path: Path) -> None:
    wide_path, _ = write_both(tmp_path, 5000, 21, clean=True)
    _, rows = read_csv(wide_path)
    ids = [row["applicant_id"] for row in rows]
    assert all(ids) and len(set(ids)) == len(ids)
    assert not any(value.startswith("0") for value in ids)
    formats: Counter[str] = Counter()
    for row in rows:
        for cell in row.values():
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
        for start_text, end_text, hours, percent in (
            (row[f"job{n}_start"], row[f"job{n}_end"], row[f"job{n}_hours_per_week"],
             row[f"job{n}_qualifying_percent"])
            for n in range(1, 6)
            if row[f"job{n}_title"]
        ):  # fmt: skip
            start, kind = parse_date(start_text)
            formats[kind] += 1
            assert start <= AS_OF
            if end_text.lower() not in ("", "present", "current"):
                end, _ = parse_date(end_text)
                assert end >= start
            assert hours == "" or 1 <= float(hours) <= 168
            assert percent == "" or 0 <= float(percent) <= 100
    assert set(formats) == {
        "iso",
        "us",
        "us_short",
        "iso_month",
        "us_month",
        "mon_year",
        "month_year",
    }


def test_default_mode_contains_the_problem_rows(tmp_path: Path) -> None:
    wide_path, _ = write_both(tmp_path, 300, 8, clean=False)
    _, rows = read_csv(wide_path)
    counts = Counter(row["applicant_id"] for row in rows)
    assert [value for value, count in counts.items() if value and count > 1] != []
    assert counts[""] == 1
    assert counts["00417"] == 1 and counts["417"] == 1
    duties = [row[f"job{n}_duties"] for row in rows for n in range(1, 6)]
    assert any(value.startswith("=") for value in duties)
    assert any(value.startswith("- ") for value in duties)
    names = {(row["first_name"], row["last_name"]) for row in rows}
    assert {("José", "Hernández"), ("Zoë", "Dubois"), ("Minh", "Nguyễn")} <= names
    starts = {row[f"job{n}_start"] for row in rows for n in range(1, 6)}
    hours = {row[f"job{n}_hours_per_week"] for row in rows for n in range(1, 6)}
    assert starts & {"sometime 2019", "13/45/2019", "TBD", "Spring '18"}
    assert "200" in hours or "0" in hours


def test_counts_and_variety_are_realistic() -> None:
    batch = generate_applicants(20_000, seed=3)
    assert 2.8 < batch.job_count.mean() < 3.2
    assert 1.35 < batch.education_count.mean() < 1.65
    assert batch.job_count.min() == 0 and batch.job_count.max() == 5
    records = list(generate_applicants(3000, seed=4).wide_records())
    degrees = {row[f"edu{n}_degree"] for row in records for n in (1, 2, 3)}
    assert {"BA", "B.S.", "BBA", "Bachelor of Science", "AA", "Associate of Arts", "MBA"} <= degrees
    assert {
        "MPA",
        "PhD",
        "GED",
        "High School Diploma",
        "None",
        "Certificate of Completion",
    } <= degrees
    ends = {row[f"job{n}_end"] for row in records for n in range(1, 6)}
    assert {"present", "current"} <= ends
    hours = {row[f"job{n}_hours_per_week"] for row in records for n in range(1, 6)}
    assert {"", "20", "30", "37.5"} <= hours
    sex = Counter(row["eeo_sex"] for row in records)
    race = Counter(row["eeo_race_ethnicity"] for row in records)
    assert {"Female", "Male", "Non-binary", "Declined to state", ""} == set(sex)
    assert len(race) == 9
    units = [row["edu1_units"] for row in records if row["edu1_completed"] == "no"]
    assert units and all(value.isdigit() for value in units)


AREA_TITLES = {
    "Key Account Manager",
    "Account Manager",
    "Account Executive",
    "Senior Account Representative",
    "Relationship Manager",
    "Program Manager",
    "Program Coordinator",
    "Energy Efficiency Program Manager",
    "Project Manager",
    "Project Coordinator",
    "Business Development Manager",
    "Business Analyst",
    "Customer Relations Specialist",
    "Customer Success Manager",
}


def area_share(records: list[dict[str, str]], female: bool) -> float:
    titles = [
        row[f"job{n}_title"]
        for row in records
        for n in range(1, 6)
        if row[f"job{n}_title"] and (row["eeo_sex"] == "Female") == female
    ]
    return sum(title in AREA_TITLES for title in titles) / len(titles)


def test_impact_skew_is_off_by_default_and_lowers_the_group_share_when_set() -> None:
    plain = list(generate_applicants(6000, seed=9).wide_records())
    assert abs(area_share(plain, True) - area_share(plain, False)) < 0.03
    skewed = list(generate_applicants(6000, seed=9, impact_skew=0.5).wide_records())
    assert area_share(skewed, True) < area_share(skewed, False) - 0.1
    # Only the group's titles move: everyone else is unchanged.
    for before, after in zip(plain, skewed, strict=True):
        if before["eeo_sex"] != "Female":
            assert before == after


def test_committed_samples_are_what_the_documented_command_writes(tmp_path: Path) -> None:
    common = ["--n", "400", "--seed", "7616", "--as-of", "2026-11-26"]
    main(common + ["--form", "wide", "--out", str(tmp_path / "wide.csv")])
    main(common + ["--form", "long", "--out", str(tmp_path / "long")])
    assert (tmp_path / "wide.csv").read_bytes() == (
        DATA / "account-manager-applicants.csv"
    ).read_bytes()
    for name in ("applicants.csv", "jobs.csv", "education.csv"):
        committed = DATA / "account-manager-long" / name
        assert (tmp_path / "long" / name).read_bytes() == committed.read_bytes()


def test_edge_cases_have_one_expectation_each_and_use_design_columns() -> None:
    header, cases = read_csv(DATA / "edge-cases.csv")
    _, expected = read_csv(DATA / "edge-cases-expected.csv")
    assert set(header) <= set(WIDE_HEADER)
    assert [row["applicant_id"] for row in cases] == [row["applicant_id"] for row in expected]
    assert [row["first_name"] for row in cases] == [row["first_name"] for row in expected]
    assert len({row["first_name"] for row in cases}) == len(cases) >= 30
    outcomes = Counter(row["expected_outcome"] for row in expected)
    assert set(outcomes) == {"qualified", "not_qualified", "needs_review"}
    assert all(row["note"] for row in expected)


def test_bad_arguments_exit_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--n", "5", "--out", "x.csv", "--as-of", "26/11/2026"])
    assert stop.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--n", "5", "--out", "x.csv", "--impact-skew", "2"])
    assert "impact_skew" in capsys.readouterr().err


def test_as_of_date_bounds_the_histories(tmp_path: Path) -> None:
    out = tmp_path / "early.csv"
    main(["--n", "2000", "--seed", "2", "--clean", "--as-of", "2015-06-30", "--out", str(out)])
    _, rows = read_csv(out)
    starts = [
        parse_date(row[f"job{n}_start"])[0]
        for row in rows
        for n in range(1, 6)
        if row[f"job{n}_title"]
    ]
    assert max(starts) <= date(2015, 6, 30)
    assert max(starts) >= date(2014, 6, 30)  # recent jobs exist relative to that date


def test_small_batches_write_a_header_and_no_problem_rows(tmp_path: Path) -> None:
    out = tmp_path / "tiny.csv"
    main(["--n", "3", "--seed", "2", "--out", str(out)])
    header, rows = read_csv(out)
    assert header == WIDE_HEADER
    assert len(rows) == 3 and all(row["applicant_id"] for row in rows)
