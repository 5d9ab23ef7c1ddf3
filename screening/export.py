"""Writing results for spreadsheets: CSV and Excel, safe from formula injection."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import IO, Any

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would run as a formula with an apostrophe.

    A cell starting with = + - @, tab or carriage return is a formula to Excel and
    LibreOffice unless it is a plain number (-3 stays -3).
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


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a frame with every text cell neutralised and no eeo_* column."""
    kept = frame[[c for c in frame.columns if not str(c).startswith("eeo_")]].copy()
    for column in kept.columns:
        values = kept[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            # look at the first character of every cell at once; only suspects are mapped
            first = values.astype(object).map(_first_character, na_action="ignore")
            suspect = first.isin(_FORMULA_START).to_numpy(dtype=bool)
            if suspect.any():
                values = values.astype(object).copy()
                values[suspect] = values[suspect].map(neutralise)
                kept[column] = values
    kept.columns = [neutralise(str(c)) for c in kept.columns]
    return kept


def write_csv(frame: pd.DataFrame, target: str | Path | IO[str], *, header: bool = True) -> None:
    """Write a frame as UTF-8 CSV (RFC 4180 CRLF rows), formula-injection safe.

    CRLF row ends make the writer quote any cell holding a carriage return: with bare LF
    rows Python's CSV writer leaves a lone CR unquoted and readers split the row there.
    The header is written only when asked, so chunks can be appended.
    """
    safe_frame(frame).to_csv(target, index=False, header=header, lineterminator="\r\n")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as CSV bytes (UTF-8 with BOM, so Excel reads accents right)."""
    buffer = io.StringIO()
    write_csv(frame, buffer)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def excel_bytes(frame: pd.DataFrame, sheet: str = "results") -> bytes:
    """A frame as an .xlsx workbook, formula-injection safe."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe_frame(frame).to_excel(writer, sheet_name=sheet, index=False)
    return buffer.getvalue()
