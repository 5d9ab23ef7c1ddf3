"""Cells are read as the file shows them, or reported: never silently read differently.

A CSV row with too few or too many cells is one error row; an Excel cell is read as the
text it shows (50%, 007); a formula Excel never calculated is an invalid value with a
message; a job start more than 60 years back is invalid; one Windows-1252 byte in a UTF-8
file garbles nothing else; control characters are refused in CSV files and shown as
escapes from workbooks and in the audit command's output.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from screening.audit.store import AuditStore
from screening.cli import main
from screening.loading import FileLevelError, load_batch, plan_wide_file
from screening.run.stages import screen_batch, screen_files
from screening.spec import load_spec
from tests.builders import ALAMEDA, AS_OF, ROOT, job, row, write_csv_rows

SAMPLE = ROOT / "data" / "account-manager-applicants.csv"
#: More than the first block the encoding and delimiter are guessed from.
PAST_FIRST_BLOCK = 70_000


def outcomes(result: object) -> dict[str, str]:
    frame = result.results  # type: ignore[attr-defined]
    return dict(zip(frame["applicant_id"], frame["outcome"], strict=True))


# --- CSV rows of the wrong length ----------------------------------------------------------


def test_a_row_cut_short_is_one_error_row_not_a_rejection(tmp_path: Path) -> None:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        header, first, second = list(csv.reader(handle))[:3]
    assert len(header) > 40
    path = tmp_path / "a.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerows([header, first, second[:10]])
    result = screen_files(path, ALAMEDA, as_of=AS_OF)
    assert list(outcomes(result)) == [first[0]]
    errors = [i for i in result.batch.issues if i.severity == "error"]
    assert [(i.row, i.applicant_id) for i in errors] == [(3, second[0])]
    assert f"10 of the header's {len(header)} cells" in errors[0].problem
    assert result.batch.error_rows == 1


def test_a_row_with_extra_cells_costs_that_row_only(tmp_path: Path) -> None:
    rows = [row(f"A{n:03}", job()) for n in range(200)]
    path = write_csv_rows(tmp_path / "a.csv", rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[101] += ",Clerk,2019-01-01"  # row 102 of the sheet: applicant A100
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = screen_files(path, ALAMEDA, as_of=AS_OF)
    assert len(outcomes(result)) == 199 and "A100" not in outcomes(result)
    (issue,) = [i for i in result.batch.issues if i.severity == "error"]
    assert (issue.row, issue.applicant_id) == (102, "A100")
    assert "beyond the last column" in issue.problem and "comma" in issue.fix


# --- Excel cells as they show -----------------------------------------------------------


def _workbook(tmp_path: Path, cells: dict[str, tuple[object, str | None]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for coordinate, (value, number_format) in cells.items():
        sheet[coordinate] = value
        if number_format is not None:
            sheet[coordinate].number_format = number_format
    path = tmp_path / "a.xlsx"
    workbook.save(path)
    return path


HEADER_CELLS: dict[str, tuple[object, str | None]] = {
    "A1": ("applicant_id", None),
    "B1": ("job1_title", None),
    "C1": ("job1_employer", None),
    "D1": ("job1_start", None),
    "E1": ("job1_end", None),
    "F1": ("job1_hours_per_week", None),
    "G1": ("job1_qualifying_percent", None),
}


def test_a_percent_cell_is_read_as_the_percent_it_shows(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path,
        HEADER_CELLS
        | {"A2": ("A1", None), "B2": ("Clerk", None), "G2": (0.5, "0%")}
        | {"A3": ("A2", None), "B3": ("Clerk", None), "G3": (0.125, "0.0%")},
    )
    batch = load_batch(path)
    assert batch.jobs["qualifying_percent"].tolist() == ["50%", "12.5%"]


def test_ids_formatted_with_leading_zeros_keep_them(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path,
        HEADER_CELLS
        | {"A2": (7, "000"), "B2": ("Clerk", None)}
        | {"A3": (123, "00000"), "B3": ("Clerk", None)}
        | {"A4": (45, None), "B4": ("Clerk", None)},
    )
    assert load_batch(path).applicants["applicant_id"].tolist() == ["007", "00123", "45"]


def test_a_formula_without_a_saved_value_is_an_invalid_value_with_a_message(
    tmp_path: Path,
) -> None:
    # openpyxl saves formulas without a value, as a program that never calculated does
    full_time_job: dict[str, tuple[object, str | None]] = {
        "B2": ("Key Account Manager", None),
        "C2": ("Alameda Municipal Power", None),
        "D2": ("2018-01-01", None),
        "E2": ("2024-12-31", None),
    }
    path = _workbook(
        tmp_path, HEADER_CELLS | full_time_job | {"A2": ("A1", None), "F2": ("=5*2", None)}
    )
    result = screen_files(path, ALAMEDA, as_of=AS_OF)
    assert outcomes(result)["A1"] != "qualified"  # 10 hours a week is not full time
    assert result.batch.jobs["hours_per_week"].tolist() == ["=5*2"]
    messages = [(i.row, i.column, i.problem) for i in result.batch.issues]
    assert (
        2,
        "job1_hours_per_week",
        "the cell holds a formula (=5*2) whose value was never saved",
    ) in messages
    assert any(
        i.column == "job1_hours_per_week" and "hours per week" in i.problem for i in result.issues
    )


# --- dates -----------------------------------------------------------------------------


def test_a_job_started_more_than_60_years_back_is_an_invalid_entry(tmp_path: Path) -> None:
    rows = [
        row("old", job(start="1900-01-01", end="2024-12-31")),
        row("sixty", job(start="1966-11-26", end="2024-12-31")),
    ]
    result = screen_files(write_csv_rows(tmp_path / "a.csv", rows), ALAMEDA, as_of=AS_OF)
    assert outcomes(result)["old"] != "qualified"
    assert outcomes(result)["sixty"] == "qualified"
    problems = [i.problem for i in result.issues if i.applicant_id == "old"]
    assert "job entry: start date is more than 60 years before the as-of date" in problems


# --- encodings and control characters -----------------------------------------------------


def _rows_past_first_block(first_name: str) -> list[dict[str, str]]:
    """Rows whose CSV text is longer than the first block (each row is over 80 bytes)."""
    rows = [row("A0", job(), first_name=first_name)]
    rows += [row(f"A{n}", job(), first_name="Ann") for n in range(1, PAST_FIRST_BLOCK // 80)]
    return rows


def test_one_windows_1252_byte_late_in_a_utf8_file_garbles_nothing(tmp_path: Path) -> None:
    path = write_csv_rows(tmp_path / "a.csv", _rows_past_first_block("José"))
    with path.open("ab") as out:
        out.write(b"late,Key Account Manager,Alameda Municipal Power,Electric utility,"
                  b"2020-03-01,2023-02-28,Ren\xe9e\n")  # fmt: skip
    header = path.read_text(encoding="cp1252").splitlines()[0].split(",")
    assert header[-1] == "first_name"
    assert plan_wide_file(path) is None  # read whole: chunks could not decode it alike
    names = load_batch(path).applicants.set_index("applicant_id")["first_name"]
    assert names["A0"] == "José" and names["late"] == "Renée"


@pytest.mark.parametrize("character", ["\x1b", "\x00"])
def test_a_control_character_far_into_a_csv_file_is_refused(tmp_path: Path, character: str) -> None:
    rows = _rows_past_first_block("Ann")
    rows.append(row("late", job(), first_name=f"A{character}[2J"))
    path = write_csv_rows(tmp_path / "a.csv", rows)
    assert path.stat().st_size > PAST_FIRST_BLOCK
    line = len(rows) + 1
    with pytest.raises(FileLevelError, match=f"U\\+{ord(character):04X} on line {line}"):
        load_batch(path)


def test_control_characters_from_a_workbook_are_shown_as_escapes(tmp_path: Path) -> None:
    path = _workbook(tmp_path, HEADER_CELLS | {"A2": ("A1", None), "B2": ("Clerk\x9b2J", None)})
    assert load_batch(path).jobs["title"].tolist() == ["Clerk\\x9b2J"]


def test_audit_output_never_sends_a_control_character_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv_rows(tmp_path / "a.csv", [row("A1", job(title="Clerk"))])
    batch = load_batch(path)
    batch.applicants.loc[0, "applicant_id"] = "A\x1b[2J1"  # as a changed store could hold
    batch.jobs.loc[0, "applicant_id"] = "A\x1b[2J1"
    spec = load_spec(ALAMEDA)
    result = screen_batch(spec, batch, as_of=date(2026, 11, 26), spec_path=ALAMEDA)
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    with AuditStore(url) as store:
        store.record_run(result, "tester")
    capsys.readouterr()
    assert main(["audit", "--database", url, "rescreen", "1", "--spec", str(ALAMEDA)]) == 0
    assert main(["audit", "--database", url, "show", "1", "--decisions"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "A\\x1b[2J1" in out


def test_a_ragged_row_of_a_long_form_jobs_file_is_one_error_row(tmp_path: Path) -> None:
    applicants = write_csv_rows(tmp_path / "applicants.csv", [{"applicant_id": "A1"}])
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(
        "applicant_id,title,employer,start,end\n"
        "A1,Key Account Manager,Alameda Municipal Power,2018-01-01,2024-12-31\n"
        "A1,Clerk,City,2010-01-01\n",
        encoding="utf-8",
    )
    batch = load_batch(applicants, jobs=jobs)
    assert batch.jobs["title"].tolist() == ["Key Account Manager"]
    (issue,) = [i for i in batch.issues if i.severity == "error"]
    assert (issue.file, issue.row) == (str(jobs), 3)
    assert "4 of the header's 5 cells" in issue.problem
