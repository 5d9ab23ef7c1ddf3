"""Loading by byte ranges: a planned file's chunks, each loaded on its own (as a worker
process would, from the pickled plan), together are exactly load_batch's batch."""

from __future__ import annotations

import csv
import io
import os
import pickle
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.loading import (
    Batch,
    ChunkPlan,
    FileLevelError,
    load_batch,
    load_chunk,
    plan_wide_file,
)
from tests.test_loading_chunks import HEADER, applicant, assert_same_batch, joined


def csv_text(
    header: list[str],
    rows: list[list[str]],
    delimiter: str = ",",
    line_end: str = "\r\n",
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def planned(path: Path, **kwargs: Path) -> ChunkPlan:
    plan = plan_wide_file(path, **kwargs)
    assert plan is not None, "the file should be read in chunks"
    return plan


def chunked(path: Path, chunk_rows: int, **kwargs: Path) -> list[Batch]:
    """Each chunk loaded from its own copy of the pickled plan, as in a worker process."""
    plan = planned(path, **kwargs)
    ranges = plan.ranges(chunk_rows)
    sent = pickle.dumps(plan)
    return [load_chunk(pickle.loads(sent), chunk) for chunk in ranges]


def assert_ranges_equal_whole(path: Path, chunk_rows: int, **kwargs: Path) -> list[Batch]:
    batches = chunked(path, chunk_rows, **kwargs)
    assert_same_batch(joined(batches), load_batch(path, **kwargs))
    return batches


# --- the plan and its ranges ---------------------------------------------------------------


def test_ranges_cover_the_records_in_order(tmp_path: Path) -> None:
    rows = [applicant(str(n), n) for n in range(10)]
    rows[3][1] = "Two\nlines, and a comma"
    path = write(tmp_path / "a.csv", csv_text(HEADER, rows, line_end="\n"))
    plan = planned(path)
    ranges = plan.ranges(4)
    assert [(r.index, r.first_row, r.rows) for r in ranges] == [(0, 2, 4), (1, 6, 4), (2, 10, 2)]
    data = path.read_bytes()
    assert ranges[0].start == data.index(b"\n") + 1
    assert ranges[-1].end == len(data)
    assert all(a.end == b.start for a, b in zip(ranges, ranges[1:], strict=False))
    # The second chunk starts after the line break inside the quoted cell, at row 6.
    assert data[ranges[1].start :].startswith(b"4,Name4,")


def test_header_only_file_has_one_empty_range(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", ",".join(HEADER))  # not even a line break
    (chunk,) = planned(path).ranges(10)
    assert (chunk.rows, chunk.start, chunk.end) == (0, path.stat().st_size, path.stat().st_size)
    (batch,) = assert_ranges_equal_whole(path, 10)
    assert batch.input_rows == 0 and len(batch.files) == 1


def test_the_pickled_plan_is_small_and_leaves_the_offsets_behind(tmp_path: Path) -> None:
    rows = [applicant(str(n), n) for n in range(5000)]
    path = write(tmp_path / "a.csv", csv_text(HEADER, rows))
    plan = planned(path)
    assert len(plan.ranges(1)) == 5000
    sent = pickle.loads(pickle.dumps(plan))
    assert len(pickle.dumps(plan)) < 5000  # not 8 bytes for each of 5000 records
    assert sent.offsets is None and plan.offsets is not None
    with pytest.raises(RuntimeError, match="process that made the plan"):
        sent.ranges(100)
    with pytest.raises(ValueError, match="at least 1"):
        plan.ranges(0)


def test_chunks_can_be_loaded_in_any_order(tmp_path: Path) -> None:
    ids = ["1", "2", "3", "2", "5", "6", "1"]
    path = write(tmp_path / "a.csv", csv_text(HEADER, [applicant(i, n) for n, i in enumerate(ids)]))
    plan = planned(path)
    ranges = plan.ranges(2)
    backwards = {r.index: load_chunk(plan, r) for r in reversed(ranges)}
    batches = [backwards[i] for i in range(len(ranges))]
    assert_same_batch(joined(batches), load_batch(path))


# --- edge cases, chunk sizes 1, 7 and more than the file -----------------------------------


def quoted_cells() -> list[list[str]]:
    rows = [applicant(str(n), n) for n in range(20)]
    rows[0][2] = 'Analyst, "senior"'
    rows[6][1] = "Line\nbreak"
    rows[7][3] = "a\r\nb\r\n"  # a CRLF inside a cell, at the end of it
    rows[13][2] = '"'
    rows[14][6] = ""
    rows[19][2] = "last,\n"
    return rows


EDGE_FILES: dict[str, tuple[str, str]] = {
    "quoted line breaks, commas and quotes": (csv_text(HEADER, quoted_cells()), "utf-8"),
    "LF line ends": (csv_text(HEADER, quoted_cells(), line_end="\n"), "utf-8"),
    "BOM": (csv_text(HEADER, quoted_cells()), "utf-8-sig"),
    "quoted header after a BOM": (
        csv_text(HEADER, quoted_cells()).replace("applicant_id", '"applicant_id"', 1),
        "utf-8-sig",
    ),
    "Windows-1252": (
        csv_text(HEADER, [*quoted_cells(), ["99", "Renée", "Société – Paris", "", "", "", "", ""]]),
        "cp1252",
    ),
    "blank lines": (
        csv_text(HEADER, [applicant("1", 1), [], applicant("2", 2), [], [], applicant("3", 3), []]),
        "utf-8",
    ),
    "trailing blank lines, LF": (
        csv_text(HEADER, [applicant("1", 1), applicant("2", 2)], line_end="\n") + "\n\n",
        "utf-8",
    ),
    "no line break at the end": (
        csv_text(HEADER, [applicant(str(n), n) for n in range(9)]).rstrip("\r\n"),
        "utf-8",
    ),
    "semicolons": (csv_text(HEADER, quoted_cells(), delimiter=";"), "utf-8"),
    "tabs": (csv_text(HEADER, quoted_cells(), delimiter="\t"), "utf-8"),
}


@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
@pytest.mark.parametrize("case", sorted(EDGE_FILES))
def test_edge_case_files(tmp_path: Path, case: str, chunk_rows: int) -> None:
    text, encoding = EDGE_FILES[case]
    path = write(tmp_path / "a.csv", text, encoding)
    batches = assert_ranges_equal_whole(path, chunk_rows)
    assert sum(b.input_rows for b in batches) == batches[0].files[0].rows


def test_windows_1252_bytes_far_into_a_file_that_starts_as_utf8(tmp_path: Path) -> None:
    rows = [applicant(str(n), n) for n in range(8000)]
    rows.append(["9999", "Renée", "Société Générale", "", "", "", "", ""])
    path = write(tmp_path / "a.csv", csv_text(HEADER, rows), "cp1252")
    assert path.read_bytes().index("é".encode("cp1252")) > 1 << 18  # after pandas' first block
    plan = planned(path)
    assert plan.encoding == "cp1252"
    batches = assert_ranges_equal_whole(path, 1000)
    assert batches[-1].applicants["first_name"].iloc[-1] == "Renée"


def test_bytes_not_utf8_in_an_unread_column_leave_the_file_utf8(tmp_path: Path) -> None:
    header = [*HEADER, "Notes"]
    rows = [[*applicant(str(n), n), "x"] for n in range(9000)]
    rows[-1][1] = "Zoë"
    rows[-1][-1] = "\x00"  # a marker for the bad byte
    path = tmp_path / "a.csv"
    path.write_bytes(csv_text(header, rows).encode("utf-8").replace(b"\x00", b"\xe9"))
    assert path.read_bytes().index(b"\xe9") > 1 << 18  # after pandas' first block
    plan = planned(path)
    assert plan.encoding == "utf-8"  # as read_table: pyarrow checks only the columns it reads
    batches = assert_ranges_equal_whole(path, 999)
    assert batches[-1].applicants["first_name"].iloc[-1] == "Zoë"


def test_a_nul_byte_far_into_the_file_is_refused_as_load_batch_refuses_it(
    tmp_path: Path,
) -> None:
    text = "applicant_id,job1_title\n" + "".join(f"{n},Clerk\n" for n in range(9000))
    path = write(tmp_path / "a.csv", text + "9000,A\x00B\n")
    for read in (load_batch, plan_wide_file):
        with pytest.raises(FileLevelError, match="control character U\\+0000 on line 9002"):
            read(path)


def test_shared_ids_and_error_rows_at_chunk_boundaries(tmp_path: Path) -> None:
    # chunk_rows 3: rows 2-4, 5-7, 8-10, 11-13; every boundary has an error row next to it.
    ids = ["A", "B", "C", "C", "", "D", "E", "F", "A", "N/A", "G", "C"]
    rows = [applicant(i, n) for n, i in enumerate(ids)]
    rows[9] = [""] * len(HEADER)  # an empty row
    path = write(tmp_path / "a.csv", csv_text(HEADER, rows))
    batches = assert_ranges_equal_whole(path, 3)
    whole = joined(batches)
    assert [(i.row, i.applicant_id) for i in whole.issues] == [
        (2, "A"),
        (4, "C"),
        (5, "C"),
        (6, None),
        (10, "A"),
        (11, None),
        (13, "C"),
    ]
    assert "shared by rows 4, 5, 13" in whole.issues[1].problem
    assert whole.issues[5].problem == "the row is empty"
    assert [b.error_rows for b in batches] == [2, 2, 1, 2]


def test_a_plan_cut_down_for_a_chunk_loads_it_the_same(tmp_path: Path) -> None:
    ids = ["A", "B", "C", "C", "", "D", "E", "F", "A", "N/A", "G", "C", "H", "H"]
    path = write(tmp_path / "a.csv", csv_text(HEADER, [applicant(i, n) for n, i in enumerate(ids)]))
    plan = planned(path)
    assert set(plan.shared) == {"A", "C", "H"}
    for chunk in plan.ranges(3):
        cut = pickle.loads(pickle.dumps(plan.for_chunk(chunk)))
        in_chunk = set(ids[chunk.first_row - 2 : chunk.first_row - 2 + chunk.rows])
        assert set(cut.shared) == in_chunk & {"A", "C", "H"}
        assert all(cut.shared[i] == plan.shared[i] for i in cut.shared)
        assert_same_batch(load_chunk(cut, chunk), load_chunk(plan, chunk))
    first, second = plan.ranges(3)[:2]
    with pytest.raises(ValueError, match="cut down for chunk 0, not chunk 1"):
        load_chunk(plan.for_chunk(first), second)


def test_column_mapping_and_file_warnings_come_with_the_first_chunk(tmp_path: Path) -> None:
    header = ["Candidate Ref", "Role 1", "Degree Earned", "Favourite colour", ""]
    rows = [[f"c{n}", "Analyst", "BA", "blue", ""] for n in range(7)]
    rows[5][4] = "a note under no header"
    path = write(tmp_path / "a.csv", csv_text(header, rows))
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns:\n  Candidate Ref: applicant_id\n  Role 1: job1_title\n"
        "  Degree Earned: edu1_degree\n"
    )
    first, *rest = assert_ranges_equal_whole(path, 2, columns=mapping)
    assert [i.column for i in first.issues] == ["Favourite colour", "column 5"]
    assert first.unknown_columns == ["Favourite colour"]
    assert all(not b.issues and not b.files and not b.unknown_columns for b in rest)


# --- files the plan leaves to load_batch ---------------------------------------------------

LEFT_TO_LOAD_BATCH = {
    "quote inside an unquoted cell": "applicant_id,job1_title\n1,5'6\" tall\n2,Clerk\n",
    "text after a closing quote": 'applicant_id,job1_title\n1,"Clerk" II\n',
    "quote never closed": 'applicant_id,job1_title\n1,"Clerk\n2,Analyst\n',
    "short row": "applicant_id,job1_title,job1_start\n1,Clerk\n2,Analyst,2020\n",
    "lone carriage return": "applicant_id,job1_title\r1,Clerk\r2,Analyst\r",
    "line break in a header cell": '"applicant\nid",job1_title\n1,Clerk\n',
}


@pytest.mark.parametrize("case", sorted(LEFT_TO_LOAD_BATCH))
def test_unusual_files_are_left_to_load_batch(tmp_path: Path, case: str) -> None:
    path = write(tmp_path / "a.csv", LEFT_TO_LOAD_BATCH[case])
    assert plan_wide_file(path) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Applicant Ref,job1_title\n1,Analyst\n", "no applicant_id column"),
        ("applicant_id,first_name\n1,Ann\n", "no job and no education column"),
        ("applicant_id,Candidate ID,job1_title\n1,2,A\n", "both mean 'applicant_id'"),
        ("", "is empty"),
    ],
)
def test_file_level_errors_are_load_batchs(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "a.csv", text)
    with pytest.raises(FileLevelError) as from_load:
        load_batch(path)
    with pytest.raises(FileLevelError) as from_plan:
        plan_wide_file(path)
    assert str(from_plan.value) == str(from_load.value)
    assert expected in str(from_plan.value)


def test_a_file_saved_again_after_planning_is_a_file_level_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", csv_text(HEADER, [applicant(str(n), n) for n in range(6)]))
    plan = planned(path)
    first, second = plan.ranges(3)
    load_chunk(plan, first)
    path.write_bytes(path.read_bytes().replace(b"Name4", b"Name9"))  # same size
    with pytest.raises(FileLevelError, match="changed while it was being read"):
        load_chunk(plan, second)


def test_a_same_size_edit_with_its_modification_time_put_back_is_caught(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", csv_text(HEADER, [applicant(str(n), n) for n in range(6)]))
    plan = planned(path)
    first, second = plan.ranges(3)
    load_chunk(plan, first)
    before = path.stat()
    path.write_bytes(path.read_bytes().replace(b"Name4", b"Name9"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` would
    assert path.stat().st_mtime_ns == plan.mtime_ns
    with pytest.raises(FileLevelError, match="changed while it was being read"):
        load_chunk(plan, second)


def test_a_file_replaced_by_another_after_planning_is_caught(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", csv_text(HEADER, [applicant(str(n), n) for n in range(6)]))
    plan = planned(path)
    first, second = plan.ranges(3)
    copy = tmp_path / "b.csv"
    copy.write_bytes(path.read_bytes())
    os.replace(copy, path)
    with pytest.raises(FileLevelError, match="changed while it was being read"):
        load_chunk(plan, second)


# --- property ------------------------------------------------------------------------------

CELL = st.one_of(
    st.text(alphabet="abZ é,;\"'-0\n\r\t", max_size=6),
    st.sampled_from(["", " ", "N/A", "none", "None", "-", "00123", '""', "a\r\nb"]),
)
IDS = st.one_of(st.sampled_from(["", " ", "N/A", "A1", "A1 ", "a1", "007", "7"]), CELL)
ROW = st.one_of(
    st.tuples(IDS, st.lists(CELL, min_size=len(HEADER) - 1, max_size=len(HEADER) - 1)),
    st.just(None),  # a blank line
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, max_size=30),
    chunk_rows=st.integers(min_value=1, max_value=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    line_end=st.sampled_from(["\r\n", "\n"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    ends_with_line_break=st.booleans(),
)
def test_chunks_together_are_load_batch(
    rows: list[tuple[str, list[str]] | None],
    chunk_rows: int,
    delimiter: str,
    line_end: str,
    encoding: str,
    ends_with_line_break: bool,
) -> None:
    table = [[] if row is None else [row[0], *row[1]] for row in rows]
    if line_end == "\n":
        # csv.writer leaves a lone carriage return unquoted then: a line end to any parser.
        table = [[cell.replace("\r", "") for cell in row] for row in table]
    text = csv_text(HEADER, table, delimiter, line_end)
    if not ends_with_line_break and table and table[-1]:
        text = text.removesuffix(line_end)
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "a.csv", text, encoding)
        # Every file csv.writer writes is read in chunks: the plan never gives up on one.
        batches = chunked(path, chunk_rows)
        assert_same_batch(joined(batches), load_batch(path))
    assert len(batches) == max(1, -(-len(rows) // chunk_rows))
    assert all(b.input_rows == b.error_rows + len(b.applicants) for b in batches)
