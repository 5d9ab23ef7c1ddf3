"""Fuzzing the CSV and Excel readers: no row lost, no cell read differently from its text.

Hypothesis writes files a careless export could produce -- rows too short or too long,
quotes, delimiters and line breaks inside cells, leading zeros, accents, blank rows, and
for workbooks numbers under number formats -- and checks two invariants:

* every input row is in the results (a screenable applicant) or in the errors;
* every cell read is the text of the file: the raw field of a CSV file (`00123` stays
  `00123`), the formatted value of a workbook cell (0.5 under `0%` is `50%`).

The example counts and the per-example deadline bound the time in CI.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.loading import load_batch
from screening.reading import read_table

HEADER = ["applicant_id", "first_name", "job1_title", "job1_start", "edu1_degree"]
WIDTH = len(HEADER)

FIELD = st.one_of(
    st.text(alphabet="abcXYZ é ü,;\t\"'-/0123\n", max_size=10),
    st.sampled_from(["", " ", "N/A", "none", "00123", "007", "1e5", "0.50", "-", "=1+1"]),
)
#: A row of any length around the header's: short, exact, or long.
ROW = st.lists(FIELD, min_size=0, max_size=WIDTH + 2)
SETTINGS = settings(
    max_examples=60,
    deadline=10_000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _expected_cells(fields: list[str]) -> list[str] | None:
    """The cells read_table gives a row of `fields`, or None when the row is an error row."""
    if len(fields) > WIDTH and any(f.strip() for f in fields[WIDTH:]):
        return None
    if len(fields) < WIDTH and any(f.strip() for f in fields):
        return None
    return (fields + [""] * WIDTH)[:WIDTH]


@SETTINGS
@given(rows=st.lists(ROW, max_size=20), delimiter=st.sampled_from([",", ";", "\t"]))
def test_csv_cells_are_their_raw_fields_and_no_row_is_lost(
    rows: list[list[str]], delimiter: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "applicants.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(HEADER)
            writer.writerows(rows)
        table = read_table(path, "applicants")
        batch = load_batch(path)

    # the reader: one table row per record, each the raw fields or an error row
    assert len(table.data) == len(rows)
    broken = {p.index for p in table.row_problems if p.severity == "error"}
    for index, fields in enumerate(rows):
        expected = _expected_cells(fields)
        if expected is None:
            assert index in broken, (index, fields)
        else:
            assert index not in broken, (index, fields)
            assert table.data.iloc[index].tolist() == expected, (index, fields)

    # the loader: every row screened or in the errors, never both
    screened = set(batch.applicants["row"].tolist())
    errored = {i.row for i in batch.issues if i.severity == "error"}
    assert screened.isdisjoint(errored)
    assert screened | errored == set(range(2, len(rows) + 2))
    assert {index + 2 for index in broken} <= errored
    # ids are text: what a screened row's id cell holds, stripped, and nothing else
    by_row = dict(zip(batch.applicants["row"], batch.applicants["applicant_id"], strict=True))
    for number, applicant_id in by_row.items():
        assert applicant_id == rows[number - 2][0].strip()


#: Workbook cells: (value, number format, the text Excel shows).
def _shown_cells() -> st.SearchStrategy[tuple[object, str | None, str]]:
    texts = st.text(alphabet="abcXYZ é ü,;\"'-/0123 ", min_size=1, max_size=10).filter(
        lambda t: not t.startswith("=")  # openpyxl would store it as a formula
    )
    return st.one_of(
        texts.map(lambda t: (t, None, t)),
        st.integers(0, 99_999).map(lambda n: (n, None, str(n))),
        st.integers(0, 999).map(lambda n: (n, "000", f"{n:03d}")),
        st.integers(0, 99_999).map(lambda n: (n, "00000", f"{n:05d}")),
        st.integers(0, 200).map(lambda n: (n / 100, "0%", f"{n}%")),
        st.integers(0, 1000).map(lambda n: (n / 1000, "0.0%", f"{n // 10}.{n % 10}%")),
        st.sampled_from([(True, None, "TRUE"), (False, None, "FALSE"), (2.5, None, "2.5")]),
    )


@settings(
    max_examples=25,
    deadline=10_000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    rows=st.lists(
        st.lists(st.one_of(st.none(), _shown_cells()), min_size=WIDTH, max_size=WIDTH),
        min_size=1,
        max_size=12,
    )
)
def test_workbook_cells_are_the_text_they_show_and_no_row_is_lost(
    rows: list[list[tuple[object, str | None, str] | None]],
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for number, cells in enumerate(rows, start=2):
        for column, cell in enumerate(cells, start=1):
            if cell is not None:
                target = sheet.cell(number, column, cell[0])
                if cell[1] is not None:
                    target.number_format = cell[1]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "applicants.xlsx"
        workbook.save(path)
        table = read_table(path, "applicants")
        batch = load_batch(path)

    expected = [["" if cell is None else cell[2] for cell in cells] for cells in rows]
    # rows after the last one with a value are sheet formatting, not rows
    while expected and not any(expected[-1]):
        expected.pop()
    assert table.data.values.tolist() == expected
    screened = set(batch.applicants["row"].tolist())
    errored = {i.row for i in batch.issues if i.severity == "error"}
    assert screened.isdisjoint(errored)
    assert screened | errored == set(range(2, len(expected) + 2))
