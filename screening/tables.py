"""What a reader makes of one file: its header and text cells, the file's identity, the
problems found in its rows; and how stored text is shown safely.

Shared by the CSV reader (screening.reading) and the workbook reader
(screening.workbooks), neither of which needs the other to describe what it read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class InputFile:
    """One file read for a batch, identified by the hash of its raw bytes."""

    role: str  # "applicants" | "jobs" | "education"
    path: str  # as given
    sha256: str  # of the raw bytes
    rows: int  # data rows read (header excluded)


@dataclass(frozen=True)
class RowProblem:
    """Something the reader found in one data row: an error makes it an error row (its
    cells could not be read as the file meant them), a warning is reported with it."""

    index: int  # data row, 0 for the row after the header
    column: str | None
    value: str | None
    problem: str
    fix: str
    severity: str = "error"  # "error" | "warning"


@dataclass
class RawTable:
    """A file's header and data cells, all text ("" for an empty cell)."""

    headers: list[str]
    data: pd.DataFrame  # columns are header positions 0..n-1; only the columns asked for
    file: InputFile
    encoding: str  # "utf-8", "cp1252" or "xlsx"
    #: rows above the header row (a workbook's title lines): the header is row header_row + 1
    header_row: int = 0
    row_problems: list[RowProblem] = field(default_factory=list)


#: Control characters: refused in CSV files, shown as escapes from workbooks and wherever
#: stored text is printed (an ESC would reach the terminal). Tab and line breaks stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def visible_text(text: str) -> str:
    """`text` with every control character (but tab and line breaks) written as an escape
    like `\\x1b`, so that it is seen and never acted on by a terminal."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
