"""Loader rules: file formats, headers, error rows, blank markers, demographics."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from screening.loading import Batch, FileLevelError, load_batch, read_column_mapping

WIDE_HEADER = "applicant_id,first_name,job1_title,job1_employer,job1_start,edu1_degree,edu1_major\n"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def error_issues(batch: Batch) -> list[tuple[str, int | None]]:
    return [(i.file, i.row) for i in batch.issues if i.severity == "error"]


# --- the wide form -------------------------------------------------------------------------


def test_wide_form_stacks_entries_in_applicant_then_entry_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.csv",
        "applicant_id,first_name,job1_title,job1_employer,job2_title,job2_employer,edu1_degree\n"
        "A1,Ann,Analyst,SMUD,Account Manager,PG&E,BA\n"
        "A2,Bob,,,Clerk,City,\n",
    )
    batch = load_batch(path)
    assert batch.input_rows == 2 and batch.error_rows == 0 and batch.issues == []
    assert list(batch.applicants["applicant_id"]) == ["A1", "A2"]
    assert list(batch.applicants["row"]) == [2, 3]
    jobs = batch.jobs
    assert list(zip(jobs["applicant_id"], jobs["entry"], jobs["title"], strict=True)) == [
        ("A1", 1, "Analyst"),
        ("A1", 2, "Account Manager"),
        ("A2", 2, "Clerk"),  # job1 of A2 is all blank: ignored; the entry keeps its number
    ]
    assert list(jobs["column_prefix"]) == ["job1_", "job2_", "job2_"]
    assert list(jobs["row"]) == [2, 2, 3]
    assert set(jobs["file"]) == {str(path)}
    assert list(batch.education["degree"]) == ["BA"]
    assert list(batch.education["column_prefix"]) == ["edu1_"]


def test_frames_have_the_contract_columns_and_object_dtype(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", WIDE_HEADER + "1,Ann,Analyst,SMUD,2019-03,BA,Economics\n")
    batch = load_batch(path)
    assert list(batch.applicants.columns) == [
        "applicant_id",
        "file",
        "row",
        "first_name",
        "last_name",
        "email",
        "drivers_license",
        "drivers_license_state",
        "certificates",
    ]
    assert list(batch.jobs.columns[:5]) == ["applicant_id", "entry", "file", "row", "column_prefix"]
    assert list(batch.jobs.columns[5:]) == [
        "title",
        "employer",
        "industry",
        "start",
        "end",
        "hours_per_week",
        "duties",
        "qualifying_percent",
    ]
    assert list(batch.education.columns[5:]) == [
        "degree",
        "major",
        "institution",
        "accredited",
        "completed",
        "units",
        "unit_type",
    ]
    for frame in (batch.applicants, batch.jobs, batch.education):
        for column in frame.columns:
            expected = "int64" if column in ("row", "entry") else "object"
            assert str(frame[column].dtype) == expected, column
    # Columns absent from the file are None, never NaN.
    assert batch.applicants.loc[0, "email"] is None
    assert batch.jobs.loc[0, "industry"] is None
    assert batch.jobs.loc[0, "start"] == "2019-03"  # dates stay raw text


def test_header_only_file_gives_an_empty_batch(tmp_path: Path) -> None:
    batch = load_batch(write(tmp_path, "a.csv", WIDE_HEADER))
    assert batch.input_rows == 0 and batch.error_rows == 0
    assert batch.applicants.empty and batch.jobs.empty and batch.education.empty
    assert list(batch.jobs.columns)[:2] == ["applicant_id", "entry"]


def test_input_file_records_role_hash_and_rows(tmp_path: Path) -> None:
    import hashlib

    path = write(tmp_path, "a.csv", WIDE_HEADER + "1,Ann,Analyst,SMUD,2019,BA,Econ\n")
    (record,) = load_batch(path).files
    assert record.role == "applicants" and record.path == str(path) and record.rows == 1
    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# --- encodings, delimiters, Excel ----------------------------------------------------------


def test_utf8_with_bom_reads_the_first_header_and_accents(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.csv", WIDE_HEADER + "1,Zoë,Analyst,Café Ltd,2019,BA,Econ\n", "utf-8-sig"
    )
    batch = load_batch(path)
    assert list(batch.applicants["applicant_id"]) == ["1"]
    assert batch.applicants.loc[0, "first_name"] == "Zoë"
    assert batch.jobs.loc[0, "employer"] == "Café Ltd"


def test_windows_1252_falls_back_and_keeps_latin_text(tmp_path: Path) -> None:
    text = WIDE_HEADER + "1,José,Analyst,Société Générale – Paris,2019,BA,Econ\n"
    batch = load_batch(write(tmp_path, "a.csv", text, "cp1252"))
    assert batch.applicants.loc[0, "first_name"] == "José"
    assert batch.jobs.loc[0, "employer"] == "Société Générale – Paris"


def test_windows_1252_byte_after_the_sample_still_falls_back(tmp_path: Path) -> None:
    rows = "".join(f"{n},Ann,Analyst,SMUD,2019,BA,Econ\n" for n in range(1, 5000))
    text = WIDE_HEADER + rows + "9999,Renée,Analyst,SMUD,2019,BA,Econ\n"
    batch = load_batch(write(tmp_path, "a.csv", text, "cp1252"))
    assert batch.applicants["first_name"].iloc[-1] == "Renée"


def test_undecodable_bytes_are_a_file_level_error(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(WIDE_HEADER.encode() + b"1,Ann\x81\x8d,Analyst,SMUD,2019,BA,Econ\n")
    with pytest.raises(FileLevelError) as caught:
        load_batch(path)
    message = str(caught.value)
    assert str(path) in message
    assert "neither UTF-8 nor Windows-1252" in message
    assert "Save the file as CSV UTF-8" in message


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    text = (
        delimiter.join(["applicant_id", "job1_title", "job1_duties"])
        + "\n"
        + delimiter.join(["7", "Analyst", '"billing, budgets; reports"'])
        + "\n"
    )
    batch = load_batch(write(tmp_path, "a.csv", text))
    assert batch.jobs.loc[0, "title"] == "Analyst"
    assert batch.jobs.loc[0, "duties"] == "billing, budgets; reports"


def test_xlsx_first_sheet_is_read_with_ids_as_text(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Applicant ID", "First Name", "Job Title 1", "Start Date 1", "Hours per Week 1"])
    sheet.append(["00123", "Ann", "Analyst", dt.datetime(2019, 3, 15), 40.0])
    sheet.append([None, None, None, None, None])
    sheet.append([456, "Bob", "Clerk", "03/2020", 20.5, "stray note"])
    sheet.append([None] * 6)  # trailing empty rows: sheet formatting, not data
    sheet.append([None] * 6)
    other = workbook.create_sheet("Other")
    other.append(["applicant_id"])
    path = tmp_path / "a.xlsx"
    workbook.save(path)
    batch = load_batch(path)
    assert list(batch.applicants["applicant_id"]) == ["00123", "456"]  # 456.0 would be wrong
    assert list(batch.applicants["row"]) == [2, 4]
    assert list(batch.jobs["start"]) == ["2019-03-15", "03/2020"]
    assert list(batch.jobs["hours_per_week"]) == ["40", "20.5"]
    assert batch.input_rows == 3 and batch.error_rows == 1
    assert [(i.row, i.problem, i.severity) for i in batch.issues] == [
        (None, "column 6 has values but no header; it is ignored", "warning"),
        (3, "the row is empty", "error"),
    ]


def test_xlsx_title_rows_above_the_header_are_left_out_and_said(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Applicant export"])
    sheet.append(["City of Alameda", None, None, dt.datetime(2026, 11, 26)])
    sheet.append([])
    sheet.append(["Applicant ID", "Job Title 1", "Start Date 1", "Degree 1"])
    sheet.append(["A1", "Analyst", "2019-03", "BA"])
    sheet.append(["A2", "Clerk", "2020-01", None])
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    batch = load_batch(path)
    assert list(batch.applicants["applicant_id"]) == ["A1", "A2"]
    assert list(batch.applicants["row"]) == [5, 6]  # as the spreadsheet shows them
    assert list(batch.jobs["title"]) == ["Analyst", "Clerk"]
    assert batch.input_rows == 2 and batch.unknown_columns == []
    [note] = batch.issues
    assert note.severity == "warning" and note.row is None
    assert "row 4" in note.problem and "rows 1-3" in note.problem


def test_repeated_and_blank_headers_get_names_of_their_own(tmp_path: Path) -> None:
    text = "applicant_id,Notes,job1_title,,Notes,notes\n1,a,Analyst,x,b,c\n"
    batch = load_batch(write(tmp_path, "a.csv", text))
    assert batch.unknown_columns == ["Notes", "Notes (2)", "notes (3)"]
    said = {(i.column, i.problem) for i in batch.issues}
    assert ("Notes (2)", "columns 2 and 5 are both headed 'Notes'; column 5 is called "
            "'Notes (2)' here") in said  # fmt: skip
    assert any(c == "column 4" and "no header" in p for c, p in said)
    # the names are what a mapping uses
    mapping = write(
        tmp_path, "m.yaml", 'columns: {"Notes (2)": job1_duties, "column 4": job1_employer}'
    )
    mapped = load_batch(tmp_path / "a.csv", columns=mapping)
    assert (mapped.jobs.loc[0, "duties"], mapped.jobs.loc[0, "employer"]) == ("b", "x")
    assert mapped.unknown_columns == ["Notes", "notes (3)"]


def test_a_repeated_recognised_header_is_still_two_columns_for_one_field(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "applicant_id,Job Title 1,Job Title 1\n1,A,B\n")
    with pytest.raises(FileLevelError, match="both mean 'job1_title'"):
        load_batch(path)


def test_csv_column_without_header_but_with_values_warns(tmp_path: Path) -> None:
    text = "applicant_id,job1_title,,\n1,Analyst,,note\n2,Clerk,,\n"
    batch = load_batch(write(tmp_path, "a.csv", text))
    assert [(i.column, i.severity) for i in batch.issues] == [("column 4", "warning")]
    assert "no header" in batch.issues[0].problem and batch.issues[0].value is None


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Applicant ID", "APPLICANT_ID", "applicant id", "Candidate ID"])
def test_applicant_id_header_spellings(tmp_path: Path, header: str) -> None:
    batch = load_batch(write(tmp_path, "a.csv", f"{header},job1_title\n00042,Analyst\n"))
    assert list(batch.applicants["applicant_id"]) == ["00042"]
    assert batch.unknown_columns == []


def test_ats_export_headers_are_recognised(tmp_path: Path) -> None:
    header = (
        "Applicant Number,First Name,Last Name,Email Address,Driver's License,"
        "Driver License State,Certifications,Job Title 1,Company 1,Industry 1,Start Date 1,"
        "End Date 1,Hours per Week 1,Duties 1,Job Title 2,Employer 2,Degree 1,"
        "Field of Study 1,School 1,Degree 2,Major 2,Institution 2\n"
    )
    row = (
        "9,Ann,Lee,ann@example.org,yes,CA,CPA,Analyst,SMUD,Utility,2019-01,2020-01,40,"
        "Billing,Manager,PG&E,BA,Economics,State U,MBA,Business,Other U\n"
    )
    batch = load_batch(write(tmp_path, "a.csv", header + row))
    assert batch.unknown_columns == [] and batch.issues == []
    applicant = batch.applicants.iloc[0]
    assert (applicant["last_name"], applicant["email"]) == ("Lee", "ann@example.org")
    assert (applicant["drivers_license"], applicant["drivers_license_state"]) == ("yes", "CA")
    assert applicant["certificates"] == "CPA"
    first = batch.jobs.iloc[0]
    assert (first["title"], first["employer"], first["industry"]) == ("Analyst", "SMUD", "Utility")
    assert (first["start"], first["end"], first["hours_per_week"]) == ("2019-01", "2020-01", "40")
    assert first["duties"] == "Billing"
    assert list(batch.jobs["employer"]) == ["SMUD", "PG&E"]
    assert list(batch.education["major"]) == ["Economics", "Business"]
    assert list(batch.education["institution"]) == ["State U", "Other U"]


def test_unknown_columns_warn_with_a_suggestion(tmp_path: Path) -> None:
    text = (
        "applicant_id,job1_titel,job1_employer,Favourite Colour,Job Titel 3,Emial\n"
        "1,Analyst,SMUD,blue,Clerk,a@b.org\n"
    )
    batch = load_batch(write(tmp_path, "a.csv", text))
    assert batch.unknown_columns == ["job1_titel", "Favourite Colour", "Job Titel 3", "Emial"]
    warnings = [i for i in batch.issues if i.severity == "warning"]
    assert [w.column for w in warnings] == batch.unknown_columns
    assert "did you mean 'job1_title'?" in warnings[0].problem
    assert "did you mean" not in warnings[1].problem
    assert "did you mean 'job3_title'?" in warnings[2].problem
    assert "did you mean 'email'?" in warnings[3].problem
    assert all(w.value is None and w.row is None for w in warnings)
    assert batch.jobs.loc[0, "title"] is None  # the misspelt column is not read
    assert batch.error_rows == 0


def test_two_headers_for_the_same_column_is_a_file_level_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "applicant_id,Employer 1,Company 1\n1,A,B\n")
    with pytest.raises(FileLevelError, match="'Employer 1' and 'Company 1' both mean"):
        load_batch(path)


def test_column_mapping_file_maps_custom_headers(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "map.yaml",
        'columns:\n  "Cand Ref": applicant_id\n  "Post Held (1)": job1_title\n'
        '  "Qual": edu1_degree\n',
    )
    assert read_column_mapping(mapping) == {
        "Cand Ref": "applicant_id",
        "Post Held (1)": "job1_title",
        "Qual": "edu1_degree",
    }
    path = write(tmp_path, "a.csv", "Cand Ref,Post Held (1),Qual\n007,Analyst,BA\n")
    batch = load_batch(path, columns=mapping)
    assert list(batch.applicants["applicant_id"]) == ["007"]
    assert batch.jobs.loc[0, "title"] == "Analyst"
    assert batch.education.loc[0, "degree"] == "BA"
    assert batch.unknown_columns == []


def test_bad_mapping_names_the_key_and_the_valid_names(tmp_path: Path) -> None:
    mapping = write(tmp_path, "map.yaml", 'columns:\n  "Post Held": job1_titel\n')
    with pytest.raises(FileLevelError) as caught:
        read_column_mapping(mapping)
    message = str(caught.value)
    assert "'Post Held' maps to 'job1_titel'" in message
    assert "did you mean 'job1_title'?" in message
    assert "valid names: applicant_id" in message and "hours_per_week" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("columns: [a, b]\n", "must have a 'columns:' mapping"),
        ("columns: {a: 1\n", "is not valid YAML"),
        ("headers: {a: applicant_id}\n", "must have a 'columns:' mapping"),
    ],
)
def test_malformed_mapping_files(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(FileLevelError, match=expected):
        read_column_mapping(write(tmp_path, "map.yaml", text))


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(FileLevelError, match="not found; check the --columns path"):
        read_column_mapping(tmp_path / "nope.yaml")


# --- error rows ----------------------------------------------------------------------------


def test_row_without_applicant_id_is_an_error_row(tmp_path: Path) -> None:
    text = WIDE_HEADER + "1,Ann,Analyst,SMUD,2019,BA,Econ\n  ,Bob,Clerk,City,2018,,\n"
    batch = load_batch(write(tmp_path, "a.csv", text))
    assert batch.input_rows == 2 and batch.error_rows == 1
    assert list(batch.applicants["applicant_id"]) == ["1"]
    assert list(batch.jobs["applicant_id"]) == ["1"]  # Bob's job is not screened
    (issue,) = batch.issues
    assert (issue.row, issue.column, issue.severity) == (3, "applicant_id", "error")
    assert issue.problem == "applicant_id is blank"
    assert "Fill in" in issue.fix


def test_empty_rows_are_error_rows_with_row_numbers_kept(tmp_path: Path) -> None:
    text = WIDE_HEADER + "1,Ann,Analyst,SMUD,2019,BA,Econ\n\n,,,,,,\n2,Bob,Clerk,City,2018,,\n"
    batch = load_batch(write(tmp_path, "a.csv", text))
    assert batch.input_rows == 4 and batch.error_rows == 2
    assert list(batch.applicants["row"]) == [2, 5]
    assert [(i.row, i.problem) for i in batch.issues] == [
        (3, "the row is empty"),
        (4, "the row is empty"),
    ]


def test_every_row_sharing_an_id_is_an_error_row(tmp_path: Path) -> None:
    text = (
        WIDE_HEADER
        + "7,Ann,Analyst,SMUD,2019,BA,Econ\n"
        + "8,Bob,Clerk,City,2018,,\n"
        + "7 ,Ann B,Manager,PG&E,2020,MA,Econ\n"
        + "7,Cy,,,,,\n"
    )
    batch = load_batch(write(tmp_path, "a.csv", text))
    assert batch.error_rows == 3 and list(batch.applicants["applicant_id"]) == ["8"]
    assert list(batch.jobs["applicant_id"]) == ["8"]
    assert error_issues(batch) == [(str(tmp_path / "a.csv"), r) for r in (2, 4, 5)]
    for issue in batch.issues:
        assert issue.applicant_id == "7" and issue.value == "7"
        assert "shared by rows 2, 4, 5" in issue.problem


@pytest.mark.parametrize("empty_line", ["", "\n"])  # "\n": the C parser path
def test_leading_zeros_and_number_like_text_are_kept(tmp_path: Path, empty_line: str) -> None:
    text = (
        "applicant_id,job1_title,job1_hours_per_week,job1_qualifying_percent\n"
        f"00123,Analyst,040,00\n{empty_line}0,Clerk,1e3,0.50\n1e3,Clerk,40.0,100\n"
    )
    batch = load_batch(write(tmp_path, "a.csv", text))
    assert list(batch.applicants["applicant_id"]) == ["00123", "0", "1e3"]
    assert list(batch.jobs["applicant_id"]) == ["00123", "0", "1e3"]
    assert list(batch.jobs["hours_per_week"]) == ["040", "1e3", "40.0"]
    assert list(batch.jobs["qualifying_percent"]) == ["00", "0.50", "100"]


def test_ids_differing_only_in_zeros_are_different_applicants(tmp_path: Path) -> None:
    batch = load_batch(write(tmp_path, "a.csv", "applicant_id,job1_title\n0123,A\n123,B\n"))
    assert batch.error_rows == 0 and len(batch.applicants) == 2


# --- blank markers -------------------------------------------------------------------------


def test_blank_markers_become_none_but_degree_none_stays(tmp_path: Path) -> None:
    text = (
        "applicant_id,email,job1_title,job1_employer,job1_industry,job1_duties,job2_title,"
        "edu1_degree,edu1_major,edu2_degree,edu3_degree,edu3_major\n"
        "1, N/A ,  Analyst  ,n/a,-,none,  ,None,NONE,none, , N/A\n"
    )
    batch = load_batch(write(tmp_path, "a.csv", text))
    assert batch.applicants.loc[0, "email"] is None
    (job,) = batch.jobs.itertuples(index=False)  # job2 is all blank: ignored
    assert (job.title, job.employer, job.industry, job.duties) == ("Analyst", None, None, None)
    assert list(batch.education["degree"]) == ["None", "none"]  # the level none, kept
    assert list(batch.education["major"]) == [None, None]
    assert list(batch.education["entry"]) == [1, 2]  # edu3 is all blank: ignored


def test_na_is_not_a_blank_marker(tmp_path: Path) -> None:
    batch = load_batch(write(tmp_path, "a.csv", "applicant_id,job1_title\nNA,NA\n"))
    assert batch.applicants.loc[0, "applicant_id"] == "NA"
    assert batch.jobs.loc[0, "title"] == "NA"


# --- the long form -------------------------------------------------------------------------


def test_long_form_entries_and_orphans(tmp_path: Path) -> None:
    applicants = write(tmp_path, "applicants.csv", "applicant_id,first_name\nA1,Ann\nA2,Bob\n")
    jobs = write(
        tmp_path,
        "jobs.csv",
        "Applicant ID,Job Title,Company,Start Date\n"
        "A2,Clerk,City,2018\n"
        "A1,Analyst,SMUD,2019\n"
        "ZZ,Ghost,Nowhere,2017\n"
        "A2,Manager,PG&E,2020\n"
        "A1,,,\n"
        ",Lost,Somewhere,2016\n",
    )
    batch = load_batch(applicants, jobs=jobs)
    assert list(zip(batch.jobs["applicant_id"], batch.jobs["entry"], strict=True)) == [
        ("A1", 1),
        ("A2", 1),
        ("A2", 2),
    ]
    assert list(batch.jobs["row"]) == [3, 2, 5]
    assert set(batch.jobs["column_prefix"]) == {""} and set(batch.jobs["file"]) == {str(jobs)}
    assert batch.education.empty
    assert batch.error_rows == 0  # errors of the jobs file are not applicant rows
    orphan, lost = batch.issues
    assert (orphan.file, orphan.row, orphan.applicant_id) == (str(jobs), 4, "ZZ")
    assert "not in the applicants file" in orphan.problem and orphan.severity == "error"
    assert (lost.file, lost.row, lost.column) == (str(jobs), 7, "applicant_id")
    assert [f.role for f in batch.files] == ["applicants", "jobs"]


def test_long_form_entries_of_error_applicants_are_not_screened(tmp_path: Path) -> None:
    applicants = write(tmp_path, "applicants.csv", "applicant_id\nA1\nA1\nA3\n")
    education = write(
        tmp_path,
        "education.csv",
        "applicant_id,degree,major\nA1,BA,Econ\nA3,None,\nA3,N/A,n/a\n",
    )
    batch = load_batch(applicants, education=education)
    assert batch.error_rows == 2
    assert list(batch.education["applicant_id"]) == ["A3"]
    assert list(batch.education["degree"]) == ["None"]
    # A1's education row is not screened either: it is an error row of its own file, so
    # every row of every input file is accounted for
    entry_errors = [i for i in batch.issues if i.file == str(education)]
    assert [(i.row, i.applicant_id) for i in entry_errors] == [(2, "A1")]
    assert "not in the applicants file" not in entry_errors[0].problem


def test_column_mapping_applies_to_long_form_files(tmp_path: Path) -> None:
    mapping = write(
        tmp_path, "map.yaml", 'columns:\n  "Cand Ref": applicant_id\n  "Post Held": job1_title\n'
    )
    applicants = write(tmp_path, "applicants.csv", "Cand Ref,First Name\n0042,Ann\n")
    jobs = write(tmp_path, "jobs.csv", "Cand Ref,Post Held,Start Date\n0042,Analyst,2019\n")
    batch = load_batch(applicants, jobs=jobs, columns=mapping)
    assert list(batch.jobs["applicant_id"]) == ["0042"]
    assert (batch.jobs.loc[0, "title"], batch.jobs.loc[0, "start"]) == ("Analyst", "2019")
    assert batch.issues == []


def test_long_form_file_without_entry_columns_is_a_file_level_error(tmp_path: Path) -> None:
    applicants = write(tmp_path, "applicants.csv", "applicant_id\nA1\n")
    jobs = write(tmp_path, "jobs.csv", "applicant_id,colour\nA1,blue\n")
    with pytest.raises(FileLevelError) as caught:
        load_batch(applicants, jobs=jobs)
    assert "jobs file" in str(caught.value) and "no job column is recognised" in str(caught.value)


def test_entry_columns_in_both_forms_is_a_file_level_error(tmp_path: Path) -> None:
    applicants = write(tmp_path, "applicants.csv", "applicant_id,job1_title\nA1,Clerk\n")
    jobs = write(tmp_path, "jobs.csv", "applicant_id,title\nA1,Analyst\n")
    with pytest.raises(FileLevelError, match="Use one form"):
        load_batch(applicants, jobs=jobs)


# --- file-level errors ---------------------------------------------------------------------


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileLevelError) as caught:
        load_batch(tmp_path / "missing.csv")
    assert "missing.csv" in str(caught.value) and "not found" in str(caught.value)
    assert "Check the path" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.pdf", b"%PDF-1.7\n1 0 obj\n", "is a PDF document, not a CSV or Excel file"),
        ("a.csv", b"\x00\x01\x02binary\x00data", "contains binary data"),
        ("a.csv", b"applicant_id,job1_title\n1,\x07bell\n", "control character U+0007"),
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "old Office file"),
        ("a.csv", b"\xff\xfea\x00,\x00", "UTF-16"),
        ("a.csv", b"", "is empty (no header row)"),
        ("a.csv", b"\r\n\r\n", "is empty (no header row)"),
    ],
)
def test_unusable_files_are_file_level_errors(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileLevelError) as caught:
        load_batch(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)
    assert "Save it" in str(caught.value) or "Export" in str(caught.value)


def test_word_document_is_a_file_level_error(tmp_path: Path) -> None:
    path = tmp_path / "applicants.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(FileLevelError, match="is a Word document, not a CSV or Excel file"):
        load_batch(path)


def test_no_applicant_id_column_suggests_the_closest_header(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "Applicant Ref,job1_title\n1,Analyst\n")
    with pytest.raises(FileLevelError) as caught:
        load_batch(path)
    message = str(caught.value)
    assert "no applicant_id column" in message
    assert "The closest header is 'Applicant Ref'" in message
    assert "--columns" in message


def test_no_job_and_no_education_column_is_a_file_level_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "applicant_id,first_name,Jobtitle\n1,Ann,Analyst\n")
    with pytest.raises(FileLevelError) as caught:
        load_batch(path)
    message = str(caught.value)
    assert "no job and no education column is recognised" in message
    assert "every applicant would be rejected" in message and "--columns" in message


def test_a_row_with_more_cells_than_the_header_is_one_error_row(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.csv", "applicant_id,job1_title\n1,Analyst\n2,Clerk,extra,cells\n3,Clerk,\n"
    )
    batch = load_batch(path)
    assert batch.applicants["applicant_id"].tolist() == ["1", "3"]  # a trailing comma is fine
    (issue,) = batch.issues
    assert (issue.row, issue.applicant_id, issue.severity) == (3, "2", "error")
    assert "4 cells, the header 2" in issue.problem
    assert batch.error_rows == 1 and batch.input_rows == 3


# --- demographics --------------------------------------------------------------------------


def test_eeo_columns_are_split_off_and_never_in_issues(tmp_path: Path) -> None:
    text = (
        "applicant_id,eeo_sex,EEO Race/Ethnicity,Veteran Status,job1_title,job1_titel\n"
        "1,SecretSexA,SecretRaceA,SecretVetA,Analyst,x\n"
        "1,SecretSexB,SecretRaceB,,Clerk,x\n"
        ",SecretSexC,SecretRaceC,,Clerk,x\n"
        "2,N/A,SecretRaceD,,Clerk,x\n"
    )
    batch = load_batch(write(tmp_path, "a.csv", text))
    assert list(batch.eeo.columns) == [
        "applicant_id",
        "eeo_sex",
        "eeo_race_ethnicity",
        "eeo_veteran_status",
    ]
    assert list(batch.eeo["applicant_id"]) == ["2"]  # only screenable applicants
    assert batch.eeo.loc[0, "eeo_race_ethnicity"] == "SecretRaceD"
    assert batch.eeo.loc[0, "eeo_sex"] is None and batch.eeo.loc[0, "eeo_veteran_status"] is None
    for frame in (batch.applicants, batch.jobs, batch.education):
        assert not [c for c in frame.columns if c.startswith("eeo")]
        assert not frame.astype(str).apply(lambda col: col.str.contains("Secret")).any().any()
    dumped = " ".join(issue.model_dump_json() for issue in batch.issues)
    assert batch.error_rows == 3 and "Secret" not in dumped
