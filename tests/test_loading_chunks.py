"""Chunked loading: the batches of iter_batches together are exactly load_batch's batch."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.columns import APPLICANT_DETAIL_FIELDS, EDUCATION_FIELDS, JOB_FIELDS
from screening.loading import (
    APPLICANT_POSITION,
    Batch,
    FileLevelError,
    iter_batches,
    load_batch,
)

HEADER = [
    "applicant_id",
    "first_name",
    "job1_title",
    "job1_start",
    "job2_title",
    "job2_start",
    "edu1_degree",
    "eeo_sex",
]


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def joined(batches: list[Batch]) -> Batch:
    """The batches put back together: frames stacked, lists and counts added up."""

    def stacked(name: str) -> pd.DataFrame:
        frames: list[pd.DataFrame] = [getattr(b, name) for b in batches]
        return pd.concat(frames, ignore_index=True)

    return Batch(
        applicants=stacked("applicants"),
        jobs=stacked("jobs"),
        education=stacked("education"),
        eeo=stacked("eeo"),
        issues=[i for b in batches for i in b.issues],
        files=[f for b in batches for f in b.files],
        input_rows=sum(b.input_rows for b in batches),
        error_rows=sum(b.error_rows for b in batches),
        unknown_columns=[c for b in batches for c in b.unknown_columns],
    )


def assert_same_batch(chunked: Batch, whole: Batch) -> None:
    for name in ("applicants", "jobs", "education", "eeo"):
        pd.testing.assert_frame_equal(getattr(chunked, name), getattr(whole, name), obj=name)
    assert chunked.issues == whole.issues
    assert chunked.files == whole.files
    assert chunked.input_rows == whole.input_rows
    assert chunked.error_rows == whole.error_rows
    assert chunked.unknown_columns == whole.unknown_columns


def assert_input_text_is_the_frames(batch: Batch) -> None:
    """The Arrow text a chunk carries holds exactly its frames' text (None as null), and
    each entry's applicant position."""
    text = batch.input_text
    assert text is not None
    fields = {
        "applicants": APPLICANT_DETAIL_FIELDS,
        "jobs": JOB_FIELDS,
        "education": EDUCATION_FIELDS,
    }
    applicant_ids = pd.Index(batch.applicants["applicant_id"])
    for name, names in fields.items():
        frame: pd.DataFrame = getattr(batch, name)
        table = text.table(name, frame)
        assert table is not None, name
        for field in names:
            assert table.column(field).to_pylist() == frame[field].tolist(), (name, field)
        if name != "applicants":
            positions = applicant_ids.get_indexer(frame["applicant_id"]).tolist()
            assert table.column(APPLICANT_POSITION).to_pylist() == positions


def assert_chunks_equal_whole(path: Path, chunk_rows: int, **kwargs: Path) -> list[Batch]:
    batches = list(iter_batches(path, chunk_rows=chunk_rows, arrow_text=True, **kwargs))
    assert_same_batch(joined(batches), load_batch(path, **kwargs))
    for batch in batches:
        if path.suffix == ".csv":  # a chunk of a CSV file carries its text as Arrow
            assert_input_text_is_the_frames(batch)
    return batches


def applicant(applicant_id: str, n: int) -> list[str]:
    return [applicant_id, f"Name{n}", "Analyst", "2019-03", "Clerk", "", "BA", "F"]


# --- chunk boundaries ----------------------------------------------------------------------


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 4, 7, 100])
def test_shared_and_blank_ids_across_chunk_boundaries(tmp_path: Path, chunk_rows: int) -> None:
    ids = ["A1", "A2", "A3", "A2", "", "A4", "N/A", "A1", "A5", "A6", "A1", " A7 "]
    rows = [applicant(i, n) for n, i in enumerate(ids)]
    rows.insert(5, [""] * len(HEADER))  # an empty row
    path = write_csv(tmp_path / "a.csv", HEADER, rows)
    batches = assert_chunks_equal_whole(path, chunk_rows)

    whole = load_batch(path)
    # The id shared by rows 2, 10 and 13 is an error in every chunk it falls in.
    shared = [i for i in whole.issues if i.applicant_id == "A1"]
    assert [i.row for i in shared] == [2, 10, 13]
    assert all("is shared by rows 2, 10, 13" in i.problem for i in shared)
    assert list(whole.applicants["applicant_id"]) == ["A3", "A4", "A5", "A6", "A7"]
    # Every batch but the last has chunk_rows input rows, and row numbers run on.
    assert [b.input_rows for b in batches[:-1]] == [chunk_rows] * (len(batches) - 1)
    assert 0 < batches[-1].input_rows <= chunk_rows
    for index, batch in enumerate(batches):
        first_row = 2 + index * chunk_rows
        assert set(batch.applicants["row"]) <= set(range(first_row, first_row + chunk_rows))


def test_entries_of_each_chunk_are_ordered_by_applicant_then_entry(tmp_path: Path) -> None:
    rows = [
        ["1", "Ann", "Analyst", "2019", "Clerk", "2015", "BA", "F"],
        ["2", "Bob", "", "", "Manager", "2010", "", ""],
        ["3", "Cy", "Director", "2020", "", "", "MA", "M"],
    ]
    path = write_csv(tmp_path / "a.csv", HEADER, rows)
    batches = assert_chunks_equal_whole(path, 2)
    assert [list(b.jobs["applicant_id"]) for b in batches] == [["1", "1", "2"], ["3"]]
    assert [list(b.jobs["entry"]) for b in batches] == [[1, 2, 2], [1]]
    assert list(batches[1].jobs["row"]) == [4]
    assert list(batches[1].jobs.index) == [0]


def test_file_level_warnings_come_once_in_the_first_batch(tmp_path: Path) -> None:
    header = [*HEADER, "Favourite colour", "", "jobtitel"]
    rows = [[*applicant(str(n), n), "blue", "", "x"] for n in range(6)]
    rows[4][-2] = "a note under no header"  # values under the blank header: 3rd chunk only
    path = write_csv(tmp_path / "a.csv", header, rows)
    batches = assert_chunks_equal_whole(path, 2)
    first, *rest = batches
    assert first.unknown_columns == ["Favourite colour", "jobtitel"]
    assert [i.column for i in first.issues] == ["Favourite colour", "jobtitel", "column 10"]
    assert all(i.severity == "warning" for i in first.issues)
    assert len(first.files) == 1 and first.files[0].rows == 6
    assert all(b.issues == [] and b.files == [] and b.unknown_columns == [] for b in rest)


def test_blank_markers_and_leading_zeros_are_read_as_load_batch_reads_them(
    tmp_path: Path,
) -> None:
    rows = [
        ["007", "N/A", "none", " 2019-03 ", "-", "00", "None", "n/a"],
        ["7", " Ann ", "Analyst", "", "", "", "none", ""],
        ["0070", "", "", "", "", "", "", ""],
        ["00", "-", "00123", "0", "", "", "BA", "-"],
    ]
    path = write_csv(tmp_path / "a.csv", HEADER, rows)
    batches = assert_chunks_equal_whole(path, 1)
    whole = joined(batches)
    assert list(whole.applicants["applicant_id"]) == ["007", "7", "0070", "00"]
    assert list(whole.applicants["first_name"]) == [None, "Ann", None, None]
    assert list(whole.jobs["title"]) == [None, None, "Analyst", "00123"]
    assert list(whole.jobs["start"]) == ["2019-03", "00", None, "0"]
    assert list(whole.education["degree"]) == ["None", "none", "BA"]


def test_a_frame_changed_after_loading_is_not_paired_with_its_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", HEADER, [applicant(str(n), n) for n in range(4)])
    (plain,) = iter_batches(path, chunk_rows=10)
    assert plain.input_text is None  # made only when asked for (an audited run)
    (batch,) = iter_batches(path, chunk_rows=10, arrow_text=True)
    text = batch.input_text
    assert text is not None
    assert text.table("jobs", batch.jobs) is not None
    # another frame, even one equal to the loaded frame, is converted from its own cells
    for other in (batch.jobs.copy(), batch.jobs.iloc[1:], batch.jobs.iloc[::-1]):
        assert text.table("jobs", other) is None
    assert text.table("applicants", batch.applicants.copy()) is None
    # the loaded frame itself, its rows reordered in place
    batch.jobs.sort_values("row", ascending=False, inplace=True)
    assert text.table("jobs", batch.jobs) is None


# --- encodings and delimiters --------------------------------------------------------------


def test_windows_1252_file_is_chunked_like_load_batch(tmp_path: Path) -> None:
    rows = [applicant(str(n), n) for n in range(3000)]
    rows.append(["9999", "Renée", "Société Générale – Paris", "", "", "", "", ""])
    path = write_csv(tmp_path / "a.csv", HEADER, rows, encoding="cp1252")
    # The é is far beyond the first bytes: the first guess (UTF-8) fails only later.
    assert path.read_bytes().index("é".encode("cp1252")) > 1 << 16
    batches = assert_chunks_equal_whole(path, 700)
    assert len(batches) == 5  # read in chunks, not as one load_batch
    assert batches[-1].applicants["first_name"].iloc[-1] == "Renée"
    assert batches[-1].jobs["title"].iloc[-1] == "Société Générale – Paris"


def test_utf8_with_bom(tmp_path: Path) -> None:
    rows = [applicant(str(n), n) for n in range(5)] + [["9", "Zoë", "Café", "", "", "", "", ""]]
    path = write_csv(tmp_path / "a.csv", HEADER, rows, encoding="utf-8-sig")
    batches = assert_chunks_equal_whole(path, 4)
    assert [b.input_rows for b in batches] == [4, 2]
    assert batches[0].applicants["applicant_id"].iloc[0] == "0"
    assert batches[-1].applicants["first_name"].iloc[-1] == "Zoë"


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_other_delimiters(tmp_path: Path, delimiter: str) -> None:
    rows = [applicant(str(n), n) for n in range(5)]
    rows[2][2] = "billing, budgets; reports\ton time"
    rows[3][0] = "1"  # shared with row 3
    path = write_csv(tmp_path / "a.csv", HEADER, rows, delimiter=delimiter)
    batches = assert_chunks_equal_whole(path, 2)
    assert len(batches) == 3
    whole = joined(batches)
    assert "billing, budgets; reports\ton time" in list(whole.jobs["title"])
    assert [i.row for i in whole.issues] == [3, 5]


def test_quoted_line_breaks_in_cells(tmp_path: Path) -> None:
    rows = [applicant(str(n), n) for n in range(6)]
    rows[1][2] = "Analyst\nsecond line"
    rows[4][1] = "Line\r\nbreak"
    path = write_csv(tmp_path / "a.csv", HEADER, rows)
    batches = assert_chunks_equal_whole(path, 2)
    assert list(joined(batches).applicants["row"]) == [2, 3, 4, 5, 6, 7]


def test_column_mapping_is_applied(tmp_path: Path) -> None:
    header = ["Candidate Ref", "Role 1", "Degree Earned"]
    rows = [["c1", "Analyst", "BA"], ["c2", "", "MA"], ["c1", "Clerk", ""]]
    path = write_csv(tmp_path / "a.csv", header, rows)
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns:\n  Candidate Ref: applicant_id\n  Role 1: job1_title\n"
        "  Degree Earned: edu1_degree\n"
    )
    batches = assert_chunks_equal_whole(path, 2, columns=mapping)
    assert joined(batches).error_rows == 2


# --- whole-file cases ----------------------------------------------------------------------


def test_header_only_file_gives_one_empty_batch(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", HEADER, [])
    (batch,) = assert_chunks_equal_whole(path, 10)
    assert batch.input_rows == 0 and batch.applicants.empty and len(batch.files) == 1


def test_xlsx_comes_as_the_single_load_batch_batch(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for n in range(5):
        sheet.append(applicant(f"00{n}", n))
    path = tmp_path / "a.xlsx"
    workbook.save(path)
    (batch,) = assert_chunks_equal_whole(path, 2)
    assert batch.input_text is None  # a workbook is loaded whole, its text not made twice
    assert batch.input_rows == 5
    assert list(batch.applicants["applicant_id"]) == ["000", "001", "002", "003", "004"]


def test_chunk_rows_must_be_positive(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", HEADER, [applicant("1", 1)])
    with pytest.raises(ValueError, match="chunk_rows must be at least 1"):
        iter_batches(path, chunk_rows=0)


# --- file-level errors ---------------------------------------------------------------------


FILE_LEVEL_CASES = {
    "no id column": ("Applicant Ref,job1_title\n1,Analyst\n", "no applicant_id column"),
    "no entry column": ("applicant_id,first_name\n1,Ann\n", "no job and no education column"),
    "two ids": ("applicant_id,Candidate ID,job1_title\n1,2,A\n", "both mean 'applicant_id'"),
    "not a CSV": ("%PDF-1.4 not a table", "is a PDF document"),
}


@pytest.mark.parametrize("case", sorted(FILE_LEVEL_CASES))
def test_file_level_errors_are_raised_before_any_batch(tmp_path: Path, case: str) -> None:
    text, expected = FILE_LEVEL_CASES[case]
    path = tmp_path / "a.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FileLevelError) as from_load:
        load_batch(path)
    # Raised by the call itself: no batch is ever handed out for an unusable file.
    with pytest.raises(FileLevelError) as from_iter:
        iter_batches(path, chunk_rows=5)
    assert str(from_iter.value) == str(from_load.value)
    assert expected in str(from_iter.value)


def test_undecodable_bytes_late_in_the_file_are_raised_before_any_batch(tmp_path: Path) -> None:
    body = "".join(f"{n},Analyst\n" for n in range(5000)).encode()
    path = tmp_path / "a.csv"
    path.write_bytes(b"applicant_id,job1_title\n" + body + b"9999,Ann\x81\x8d\n")
    with pytest.raises(FileLevelError) as from_iter:
        iter_batches(path, chunk_rows=100)
    assert "neither UTF-8 nor Windows-1252" in str(from_iter.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileLevelError, match="not found"):
        iter_batches(tmp_path / "nothing.csv")


# --- property ------------------------------------------------------------------------------

CELL = st.one_of(
    st.text(alphabet="abcXYZ é,;\"'-/0\n", max_size=6),
    st.sampled_from(["", " ", "N/A", "n/a", "none", "None", "-", "NA", "00123", "00"]),
)
IDS = st.one_of(st.sampled_from(["", " ", "N/A", "A1", "A1 ", "a1", "007", "7", "00"]), CELL)
WIDTH = len(HEADER)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(IDS, st.lists(CELL, min_size=WIDTH - 1, max_size=WIDTH - 1))),
    chunk_rows=st.integers(min_value=1, max_value=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    extra_column=st.sampled_from([None, "Notes", ""]),
)
def test_batches_together_are_load_batch(
    rows: list[tuple[str, list[str]]],
    chunk_rows: int,
    delimiter: str,
    encoding: str,
    extra_column: str | None,
) -> None:
    header = HEADER + ([] if extra_column is None else [extra_column])
    table = [[i, *cells] + ([] if extra_column is None else [cells[0]]) for i, cells in rows]
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(Path(folder) / "a.csv", header, table, delimiter, encoding)
        batches = list(iter_batches(path, chunk_rows=chunk_rows, arrow_text=True))
        assert_same_batch(joined(batches), load_batch(path))
    for batch in batches:
        assert_input_text_is_the_frames(batch)
    assert len(batches) == max(1, -(-len(rows) // chunk_rows))
    assert all(b.input_rows == b.error_rows + len(b.applicants) for b in batches)


def test_file_changed_between_the_id_pass_and_the_chunks_is_a_file_level_error(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path / "a.csv", HEADER, [applicant(str(n), n) for n in range(6)])
    batches = iter_batches(path, chunk_rows=2)  # the ids are read here
    with path.open("a", encoding="utf-8") as handle:
        handle.write("7,Ann,Analyst,too,many,cells,in,this,row\n")
    with pytest.raises(FileLevelError, match="changed while it was being read"):
        list(batches)


def test_rows_added_between_the_id_pass_and_the_chunks_are_a_file_level_error(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path / "a.csv", HEADER, [applicant(str(n), n) for n in range(6)])
    batches = iter_batches(path, chunk_rows=4)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("0,Ann,Analyst,2019,,,BA,F\n")  # would share id 0 unseen
    with pytest.raises(FileLevelError, match="bytes first, .* bytes now"):
        list(batches)
