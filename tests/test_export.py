"""The column-wise CSV writer gives exactly the bytes pandas' writer gave, on awkward frames."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.export import csv_bytes, csv_text, csv_utf8, excel_bytes, write_csv
from screening.results import ERROR_COLUMNS, InputIssue
from tests.builders import edu, job, row, screen

# ------------------------------------------------------------------ the reference writer
# The export as it was before the column-wise writer: every text cell's first character
# looked at in Python, then pandas' to_csv. The new writer must give the same bytes.

_REFERENCE_START = ("=", "+", "-", "@", "\t", "\r")
_REFERENCE_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def reference_neutralise(value: Any) -> Any:
    if (
        isinstance(value, str)
        and value.startswith(_REFERENCE_START)
        and not _REFERENCE_NUMBER.match(value)
    ):
        return "'" + value
    return value


def reference_csv(frame: pd.DataFrame, *, header: bool) -> str:
    kept = frame[[c for c in frame.columns if not str(c).startswith("eeo_")]].copy()
    for column in kept.columns:
        values = kept[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            first = values.astype(object).map(
                lambda v: v[:1] if isinstance(v, str) else "", na_action="ignore"
            )
            suspect = first.isin(_REFERENCE_START).to_numpy(dtype=bool)
            if suspect.any():
                values = values.astype(object).copy()
                values[suspect] = values[suspect].map(reference_neutralise)
                kept[column] = values
    kept.columns = [reference_neutralise(str(c)) for c in kept.columns]
    buffer = io.StringIO()
    kept.to_csv(buffer, index=False, header=header, lineterminator="\r\n")
    return buffer.getvalue()


def assert_same_csv(frame: pd.DataFrame, *, header: bool) -> None:
    expected = reference_csv(frame, header=header)
    assert csv_text(frame, header=header) == expected
    assert csv_utf8(frame, header=header) == expected.encode("utf-8")
    written = io.StringIO()
    write_csv(frame, written, header=header)
    assert written.getvalue() == expected


# ------------------------------------------------------------------ awkward frames

AWKWARD_CHARACTERS = list("=+-@\t\r\n\",' ;.eE0123456789aZ\x00\x01\x1f\x7fé–中😀٣\u2028")
AWKWARD_TEXTS = [
    "", " ", "-3", "+2.5e3", "-3\n", "-3\r", "=1+1", '=HYPERLINK("http://x","y")', "@cmd",
    "\tcmd", "\rcmd", "\r\n", "\n", "\r", "-", "+", ".5", "-.5e-7", "- 3", "-٣", "a,b",
    'say "hi"', '"', '""', "multi\nline", "lone\rcr", "crlf\r\nrow", "nul\x00byte",
    "Zoë – Compañía", "中文", "😀", "'already",
]  # fmt: skip
AWKWARD_FLOATS = [
    0.0, -0.0, 3.0, 0.1, 1e-05, 2.5e-05, 0.0001, 1e15, 1e16, 9999999999999998.0,
    123456789.123, 15.98, 1e300, 5e-324, float("inf"), float("-inf"), float("nan"),
]  # fmt: skip
MISSING = [None, float("nan"), pd.NA]

text = st.one_of(
    st.sampled_from(AWKWARD_TEXTS),
    st.text(st.sampled_from(AWKWARD_CHARACTERS), max_size=8),
)
column_names = st.one_of(
    st.sampled_from(["applicant_id", "reasons", "eeo_race", "=cmd", "-x", "-3", "a,b", 'q"', ""]),
    text,
)


@st.composite
def column(draw: st.DrawFn, rows: int) -> pd.Series:
    """One column of some kind the results or errors tables can hold, with awkward cells."""
    kinds = ["str", "string", "object", "float", "int", "bool", "Int64", "boolean"]
    kind = draw(st.sampled_from(kinds))
    if kind == "string":  # pandas' other text kinds: python storage, pd.NA for missing
        cells = draw(st.lists(st.one_of(text, st.none()), min_size=rows, max_size=rows))
        storage = draw(st.sampled_from(["python", "pyarrow"]))
        return pd.Series(cells, dtype=pd.StringDtype(storage, na_value=pd.NA))
    if kind in ("str", "object"):
        cells = draw(
            st.lists(st.one_of(text, st.sampled_from(MISSING)), min_size=rows, max_size=rows)
        )
        return pd.Series(cells, dtype="str" if kind == "str" else object)
    if kind == "float":
        floats = st.one_of(st.sampled_from(AWKWARD_FLOATS), st.floats(width=64))
        return pd.Series(draw(st.lists(floats, min_size=rows, max_size=rows)), dtype="float64")
    if kind == "int":
        ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
        return pd.Series(draw(st.lists(ints, min_size=rows, max_size=rows)), dtype="int64")
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype=bool)
    if kind == "Int64":
        cells = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1))
        return pd.Series(draw(st.lists(cells, min_size=rows, max_size=rows)), dtype="Int64")
    cells = st.one_of(st.none(), st.booleans())
    return pd.Series(draw(st.lists(cells, min_size=rows, max_size=rows)), dtype="boolean")


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(min_value=0, max_value=6))
    names = draw(st.lists(column_names, min_size=1, max_size=5, unique=True))
    return pd.DataFrame({name: draw(column(rows)) for name in names})


@given(frames(), st.booleans())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_column_wise_csv_is_byte_identical_to_pandas(frame: pd.DataFrame, header: bool) -> None:
    assert_same_csv(frame, header=header)


@given(st.lists(st.one_of(text, st.sampled_from(MISSING)), max_size=6), st.booleans())
@settings(max_examples=200, deadline=None)
def test_one_column_quotes_its_empty_cells(cells: list[Any], header: bool) -> None:
    # the CSV writer writes a row of one empty cell as "" (an empty line would be lost)
    assert_same_csv(pd.DataFrame({"reasons": pd.Series(cells, dtype="str")}), header=header)
    assert_same_csv(pd.DataFrame({"": pd.Series(cells, dtype=object)}), header=header)


def test_awkward_cells_are_written_as_pandas_wrote_them() -> None:
    frame = pd.DataFrame(
        {
            "applicant_id": pd.Series(AWKWARD_TEXTS, dtype="str"),
            "value": pd.Series(AWKWARD_TEXTS[::-1], dtype=object),
            "qualifying_years": (AWKWARD_FLOATS * 2)[: len(AWKWARD_TEXTS)],
            "eeo_gender": "F",
        }
    )
    assert_same_csv(frame, header=True)
    text_out = csv_text(frame, header=True)
    assert "eeo_gender" not in text_out
    assert "'=1+1" in text_out and "\r\n-3," in text_out
    # re's $ matches before a final newline, so "-3\n" counts as a plain number; "-3\r" not
    assert '"-3\n"' in text_out and '"\'-3\r"' in text_out


def test_float_cells_read_as_pandas_prints_them() -> None:
    frame = pd.DataFrame({"years": [3.0, 0.1, 1e-05, 1e16, -0.0, 0.0, float("nan"), 2.5]})
    # NaN is an empty cell, quoted as the only cell of its row
    assert csv_text(frame, header=False).split("\r\n") == [
        "3.0", "0.1", "1e-05", "1e+16", "-0.0", "0.0", '""', "2.5", "",
    ]  # fmt: skip
    assert_same_csv(frame.astype("float32"), header=True)


def test_missing_and_empty_text_are_both_empty_cells() -> None:
    frame = pd.DataFrame({"a": ["", None, "x"], "b": pd.Series([None, "", pd.NA], dtype=object)})
    assert csv_text(frame, header=True) == "a,b\r\n,\r\n,\r\nx,\r\n"
    assert_same_csv(frame, header=True)


def test_errors_table_row_numbers_and_blanks() -> None:
    frame = pd.DataFrame(
        {"file": ["a.csv", "a.csv"], "row": [3, None], "applicant_id": [None, "=x"]}
    ).astype({"row": "Int64"})
    assert csv_text(frame, header=True) == "file,row,applicant_id\r\na.csv,3,\r\na.csv,,'=x\r\n"
    assert_same_csv(frame, header=True)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(pd.to_datetime(["2026-11-26", None])),
        pd.Series(["a", "=b"], dtype="category"),
        pd.Series(["=a", 3], dtype=object),
        pd.Series([1.5, None], dtype="Float64"),
        pd.Series([b"=x", None], dtype=object),
        pd.Series([pd.Timedelta(days=1), None]),
        pd.Series([1 + 2j, 3j]),
    ],
)
def test_kinds_pandas_formats_itself_still_come_out_the_same(values: pd.Series) -> None:
    frame = pd.DataFrame({"applicant_id": ["1", "-2"], "other": values})
    assert_same_csv(frame, header=True)


def test_text_arrow_cannot_hold_is_written_as_before() -> None:
    # a lone surrogate inside a cell: the same text, and UTF-8 bytes fail as writing a
    # UTF-8 file did
    frame = pd.DataFrame({"a": pd.Series(["ok", "x\ud800"], dtype=object), "b": [1, 2]})
    assert csv_text(frame, header=True) == reference_csv(frame, header=True)
    with pytest.raises(UnicodeEncodeError):
        csv_utf8(frame, header=True)


def test_text_no_utf8_can_hold_fails_as_before() -> None:
    # a lone surrogate: pandas' writer fails on it, and so does the column-wise one
    frame = pd.DataFrame({"a": pd.Series(["ok", "=\ud800"], dtype=object)})
    with pytest.raises(UnicodeEncodeError):
        reference_csv(frame, header=True)
    with pytest.raises(UnicodeEncodeError):
        csv_text(frame, header=True)
    with pytest.raises(UnicodeEncodeError):
        csv_utf8(frame, header=True)


def test_column_names_that_are_not_text() -> None:
    frame = pd.DataFrame({0: ["a", "b"], -1.5: [1.0, 2.0], "eeo_x": ["1", "2"], None: [1, 2]})
    assert csv_text(frame, header=True).startswith("0,-1.5,None\r\n")
    assert_same_csv(frame, header=True)


def test_frames_with_no_rows_or_no_kept_columns() -> None:
    assert_same_csv(pd.DataFrame({"a": pd.Series([], dtype="str"), "b": []}), header=True)
    assert_same_csv(pd.DataFrame({"eeo_race": ["x", "y"]}), header=True)
    assert_same_csv(pd.DataFrame(), header=True)


def test_a_column_of_sliced_arrow_text_is_written_whole() -> None:
    frame = pd.DataFrame({"id": [str(n) for n in range(10)], "r": ["a,b"] * 5 + ['="x"'] * 5})
    assert_same_csv(frame.iloc[3:8], header=True)
    assert_same_csv(frame.iloc[::3], header=False)


def test_write_csv_to_a_path(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": ["=x", "é\r\n"], "b": [1.0, None]})
    write_csv(frame, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == reference_csv(frame, header=True).encode()


def test_csv_and_excel_downloads_are_unchanged() -> None:
    frame = pd.DataFrame({"applicant_id": ["=A1", "-3", "Zoë"], "qualifying_years": [1.5, 0, 3]})
    assert csv_bytes(frame) == b"\xef\xbb\xbf" + reference_csv(frame, header=True).encode()
    book = openpyxl.load_workbook(io.BytesIO(excel_bytes(frame)))
    sheet = book.active
    assert sheet is not None
    assert [[c.value for c in r] for r in sheet.iter_rows()] == [
        ["applicant_id", "qualifying_years"],
        ["'=A1", 1.5],
        ["-3", 0],
        ["Zoë", 3],
    ]


# ------------------------------------------------------------------ the errors table

issues = st.builds(
    InputIssue,
    file=text,
    row=st.one_of(st.none(), st.integers(min_value=0, max_value=10**6)),
    applicant_id=st.one_of(st.none(), text),
    column=st.one_of(st.none(), text),
    value=st.one_of(st.none(), text),
    problem=text,
    fix=text,
    severity=st.sampled_from(["error", "warning"]),
)


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("screened")
    return screen(folder, [row("A1", edu(), job(start="=1+1")), row("", edu(), job())])


def test_errors_frame_is_the_frame_model_dump_gave(screened: Any) -> None:
    assert screened.issues  # a bad start date and a blank id
    expected = pd.DataFrame(
        [i.model_dump() for i in screened.issues], columns=ERROR_COLUMNS
    ).astype({"row": "Int64"})
    pd.testing.assert_frame_equal(screened.errors_frame(), expected, check_exact=True)
    assert_same_csv(screened.errors_frame(), header=True)


@given(st.lists(issues, max_size=5))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_errors_frame_and_csv_for_any_issues(screened: Any, some: list[InputIssue]) -> None:
    result = dataclasses.replace(screened, issues=some)
    expected = pd.DataFrame([i.model_dump() for i in some], columns=ERROR_COLUMNS).astype(
        {"row": "Int64"}
    )
    frame = result.errors_frame()
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert_same_csv(frame, header=True)
    assert_same_csv(frame, header=False)


def test_results_of_a_screening_are_written_as_before(screened: Any) -> None:
    assert_same_csv(screened.results, header=True)
    assert np.isfinite(screened.results["qualifying_years"]).all()
