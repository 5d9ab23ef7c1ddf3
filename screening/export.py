"""Writing results for spreadsheets: CSV and Excel, safe from formula injection."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import infer_dtype, is_string_dtype

#: What a cell a spreadsheet runs as a formula starts with (when it is not a plain number).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# the same characters as one regular-expression class, for the scan of a whole column
_FORMULA_CHARACTER = "[" + "".join(_FORMULA_START).replace("-", "\\-") + "]"
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# the row end pandas is asked for; a cell holding CR or LF is quoted because of it
_ROW_END = "\r\n"
_TEXT = pa.large_string()
# CSV-writer quoting (QUOTE_MINIMAL): the delimiter, the quote and any line-ending character
_NEEDS_QUOTES = '[,"\r\n]'
# the integer of the same width, to tell floats apart by their bits (-0.0 from 0.0)
_SAME_WIDTH_INT = {2: np.int16, 4: np.int32, 8: np.int64}


def neutralise(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would run as a formula with an apostrophe.

    A cell starting with = + - @, tab or carriage return is a formula to Excel and
    LibreOffice unless it is a plain number (-3 stays -3). The one formula-injection guard:
    the results and errors exports and the audit trail's impact CSV all go through it.
    """
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_START)
        and not _PLAIN_NUMBER.match(value)
    ):
        return "'" + value
    return value


def _first_character(value: Any) -> str:
    return value[:1] if isinstance(value, str) else ""


def _is_text(values: pd.Series) -> bool:
    """Whether a column's cells are neutralised (object and string columns are)."""
    return values.dtype == object or is_string_dtype(values)


def _kept_columns(frame: pd.DataFrame) -> list[Any]:
    return [c for c in frame.columns if not str(c).startswith("eeo_")]


def _header_names(columns: list[Any]) -> list[str]:
    return [neutralise(str(c)) for c in columns]


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a frame with every text cell neutralised and no eeo_* column."""
    kept = frame[_kept_columns(frame)].copy()
    for column in kept.columns:
        values = kept[column]
        if _is_text(values):
            # look at the first character of every cell at once; only suspects are mapped
            first = values.astype(object).map(_first_character, na_action="ignore")
            suspect = first.isin(_FORMULA_START).to_numpy(dtype=bool)
            if suspect.any():
                values = values.astype(object).copy()
                values[suspect] = values[suspect].map(neutralise)
                kept[column] = values
    kept.columns = _header_names(list(kept.columns))
    return kept


def _pandas_csv_text(frame: pd.DataFrame, *, header: bool) -> str:
    """The CSV text through pandas' own writer: the definition the fast path reproduces."""
    buffer = io.StringIO()
    safe_frame(frame).to_csv(buffer, index=False, header=header, lineterminator=_ROW_END)
    return buffer.getvalue()


def _may_hold(array: pa.Array, pattern: str) -> bool:
    """Whether a cell may hold a match of a one-ASCII-byte pattern (False means none does).

    One regular-expression scan of all the bytes behind the array, read as a single binary
    value, without copying them: an ASCII byte is never part of a longer UTF-8 sequence,
    and bytes outside the cells can only make the answer a cautious True.
    """
    data = array.buffers()[2]
    if data is None or data.size == 0:
        return False
    bounds = pa.py_buffer(np.array([0, data.size], dtype=np.int64))
    whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, bounds, data])
    return bool(pc.match_substring_regex(whole, pattern)[0].as_py())


def _text_cells(values: pd.Series) -> pa.Array | None:
    """A text column's cells as an Arrow array (missing as null), neutralised.

    None when a cell is not text (an object column holding numbers or dates): pandas
    formats those, so the whole frame is left to it.
    """
    if values.dtype == object:
        cells = values.to_numpy(dtype=object)
        # pandas' own notion of missing (None, NaN, pd.NA, NaT) decides the empty cells
        missing = pd.isna(cells)
        if infer_dtype(cells[~missing], skipna=False) not in ("string", "empty"):
            return None
        array = pa.array(cells, mask=missing, type=_TEXT)
    else:
        converted = pa.array(values.array)
        if not (pa.types.is_string(converted.type) or pa.types.is_large_string(converted.type)):
            return None
        array = converted.cast(_TEXT)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not _may_hold(array, _FORMULA_CHARACTER):
        return array
    first = pc.utf8_slice_codeunits(array, 0, 1)
    suspect = pc.fill_null(pc.is_in(first, pa.array(_FORMULA_START, type=_TEXT)), False)
    if pc.any(suspect).as_py():
        # few cells start like a formula: the per-cell rule decides each of them
        found = array.filter(suspect).to_pylist()
        array = pc.replace_with_mask(
            array, suspect, pa.array([neutralise(v) for v in found], type=_TEXT)
        )
    return array


def _float_cells(values: np.ndarray[Any, Any]) -> pa.Array | None:
    """Float cells as pandas writes them: numpy's shortest repr ('3.0', '1e-05'), NaN null."""
    width = _SAME_WIDTH_INT.get(values.dtype.itemsize)
    if width is None:
        return None
    # few distinct values (years to two decimals): format each once, by exact bits so
    # -0.0 keeps its sign
    codes, uniques = pd.factorize(values.view(width))
    texts = pa.array(uniques.view(values.dtype).astype(str), type=_TEXT)
    return texts.take(pa.array(codes, mask=np.isnan(values)))


def _other_cells(values: pd.Series) -> pa.Array | None:
    """Number and boolean cells as pandas writes them, or None for any other kind."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype):
        raw = values.to_numpy()
        if dtype.kind == "f":
            return _float_cells(raw)
        if dtype.kind in "iu":
            return pa.array(raw).cast(_TEXT)
        if dtype.kind == "b":
            return pc.if_else(pa.array(raw), "True", "False").cast(_TEXT)
        return None
    if isinstance(values.array, pd.arrays.IntegerArray):
        return pa.array(values.array).cast(_TEXT)
    if isinstance(values.array, pd.arrays.BooleanArray):
        return pc.if_else(pa.array(values.array), "True", "False").cast(_TEXT)
    return None


class _Column:
    """One column's cells ready to join: text with quotes doubled, and which need quoting."""

    def __init__(self, cells: pa.Array, *, alone: bool) -> None:
        # what the CSV writer quotes: a cell holding , " CR or LF, and the one empty cell
        # of a one-column row (written "" so the row is not lost)
        needs: pa.Array | None = None
        if _may_hold(cells, _NEEDS_QUOTES):
            needs = pc.fill_null(pc.match_substring_regex(cells, _NEEDS_QUOTES), False)
            if _may_hold(cells, '"'):
                cells = pc.replace_substring(cells, '"', '""')
        cells = pc.fill_null(cells, "")
        if alone:
            empty = pc.equal(cells, "")
            needs = empty if needs is None else pc.or_(needs, empty)
        self.cells = cells
        # None when no cell needs quotes (most short columns): no per-row quotes to add
        self.needs = needs if needs is not None and pc.any(needs).as_py() else None


def _column_cells(values: pd.Series, *, alone: bool) -> _Column | None:
    cells = _text_cells(values) if _is_text(values) else _other_cells(values)
    if cells is None:
        return None
    return _Column(cells, alone=alone)


def _choose(needs: pa.Array | None, quoted: str, plain: str) -> pa.Scalar | pa.Array:
    """Per row, `quoted` where the cell needs quotes and `plain` where it does not."""
    if needs is None:
        return pa.scalar(plain, _TEXT)
    return pc.if_else(needs, pa.scalar(quoted, _TEXT), pa.scalar(plain, _TEXT))


def _between(left: _Column, right: _Column) -> pa.Scalar | pa.Array:
    """What goes between two cells of a row: the comma and the quotes that close and open."""
    close = _choose(left.needs, '"', "")
    open_ = _choose(right.needs, '"', "")
    if isinstance(close, pa.Scalar) and isinstance(open_, pa.Scalar):
        return pa.scalar(close.as_py() + "," + open_.as_py(), _TEXT)
    return pc.binary_join_element_wise(close, open_, pa.scalar(",", _TEXT))


def _rows_utf8(columns: list[_Column]) -> memoryview:
    """The rows, cells joined by commas and ended with CRLF, as UTF-8.

    The quotes around a cell go into the short pieces between cells, so every long text is
    copied once, into the rows, rather than once more to be wrapped.
    """
    pieces: list[pa.Scalar | pa.Array] = [_choose(columns[0].needs, '"', "")]
    for left, right in zip(columns, columns[1:], strict=False):
        pieces += [left.cells, _between(left, right)]
    last = columns[-1]
    pieces += [last.cells, _choose(last.needs, '"' + _ROW_END, _ROW_END)]
    rows = pc.binary_join_element_wise(*pieces, pa.scalar("", _TEXT))
    if len(rows) == 0:
        return memoryview(b"")
    # the rows lie back to back in the array's data buffer: slice it instead of joining
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)
    start, end = int(offsets[rows.offset]), int(offsets[rows.offset + len(rows)])
    return memoryview(rows.buffers()[2])[start:end]


def _fast_csv_utf8(frame: pd.DataFrame, *, header: bool) -> bytes | None:
    """The CSV as UTF-8 bytes built column-wise with Arrow, or None if pandas must write it."""
    kept = _kept_columns(frame)
    if not kept or not frame.columns.is_unique or isinstance(frame.columns, pd.MultiIndex):
        return None
    columns: list[_Column] = []
    try:
        for name in kept:
            cells = _column_cells(frame[name], alone=len(kept) == 1)
            if cells is None:
                return None
            columns.append(cells)
    except (pa.ArrowException, UnicodeError):
        # text Arrow cannot hold (a lone surrogate): pandas writes it as it always did
        return None
    head = ""
    if header:
        line = io.StringIO()
        csv.writer(line, lineterminator=_ROW_END).writerow(_header_names(kept))
        head = line.getvalue()
    return b"".join((head.encode("utf-8"), _rows_utf8(columns)))


def csv_utf8(frame: pd.DataFrame, *, header: bool) -> bytes:
    """What `write_csv` writes, as UTF-8 bytes: cheap to hand from a worker to a writer.

    The bytes are exactly pandas' CSV of `safe_frame(frame)` (CRLF rows, minimal quoting,
    missing values empty), built column-wise with Arrow; a frame the fast path does not
    cover (dates, categories, mixed object columns) goes through pandas itself.
    """
    fast = _fast_csv_utf8(frame, header=header)
    if fast is not None:
        return fast
    return _pandas_csv_text(frame, header=header).encode("utf-8")


def csv_text(frame: pd.DataFrame, *, header: bool) -> str:
    """What `write_csv` writes, as text (see `csv_utf8` for the bytes)."""
    fast = _fast_csv_utf8(frame, header=header)
    if fast is not None:
        return fast.decode("utf-8")
    return _pandas_csv_text(frame, header=header)


def write_csv(frame: pd.DataFrame, target: str | Path | IO[str], *, header: bool = True) -> None:
    """Write a frame as UTF-8 CSV (RFC 4180 CRLF rows), formula-injection safe.

    CRLF row ends make the writer quote any cell holding a carriage return: with bare LF
    rows Python's CSV writer leaves a lone CR unquoted and readers split the row there.
    The header is written only when asked, so chunks can be appended.
    """
    if isinstance(target, (str, Path)):
        with open(target, "w", encoding="utf-8", newline="") as handle:
            handle.write(csv_text(frame, header=header))
    else:
        target.write(csv_text(frame, header=header))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as CSV bytes (UTF-8 with BOM, so Excel reads accents right)."""
    return b"\xef\xbb\xbf" + csv_utf8(frame, header=True)


def excel_bytes(frame: pd.DataFrame, sheet: str = "results") -> bytes:
    """A frame as an .xlsx workbook, formula-injection safe."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe_frame(frame).to_excel(writer, sheet_name=sheet, index=False)
    return buffer.getvalue()
