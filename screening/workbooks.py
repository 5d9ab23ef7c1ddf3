"""Reading the first sheet of an Excel workbook as text, within limits.

A workbook is a ZIP archive of XML parts, and a small file can claim (a sheet dimension
of every cell Excel has) or unpack to (a shared-strings part of millions of strings) far
more than memory holds. Its parts' sizes are checked before openpyxl parses anything, and
the first sheet is streamed cell by cell, ignoring the claimed dimension, with limits on
rows, columns, cells and the table they span. Each cell is read as the text Excel shows
(a percent as `50%`, an id formatted `000` as `007`); a formula Excel never calculated is
its formula text, with a warning.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from screening.columns import FileLevelError
from screening.tables import InputFile, RawTable, RowProblem, visible_text


def _damaged(role: str, shown: str, exc: BaseException) -> FileLevelError:
    return _fail(
        role,
        shown,
        f"is a damaged Excel workbook ({type(exc).__name__})",
        "Open it in Excel and save it again, or save it as CSV (UTF-8).",
    )


def _fail(role: str, path: str, problem: str, fix: str) -> FileLevelError:
    return FileLevelError(f"{role} file {path!r}: {problem}. {fix}")


def _cell_text(value: object) -> str:
    """Excel cell as the text a spreadsheet shows; ids typed as numbers lose no digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return visible_text(str(value))


#: Literal text, escaped characters and [colour]/[condition] parts of a number format.
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def formatted_cell_text(value: object, number_format: str | None) -> str:
    """The text Excel shows for a cell, where its number format changes what is seen: a
    percent (0.5 as `50%`) and zero-padded whole numbers (7 formatted `000` as `007`).
    Other numbers keep every digit of their value; dates are ISO dates."""
    if isinstance(value, int | float) and not isinstance(value, bool) and number_format:
        section = _FORMAT_LITERALS.sub("", number_format.split(";", 1)[0]).strip()
        if "%" in section:
            decimals = len(re.sub(r"[^0#?]", "", section.partition(".")[2]))
            shown = (Decimal(repr(value)) * 100).quantize(
                Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP
            )
            return f"{shown}%"
        if re.fullmatch(r"0+", section) and float(value).is_integer() and value >= 0:
            return str(int(value)).zfill(len(section))
    return _cell_text(value)


@dataclass(frozen=True)
class WorkbookLimits:
    """What a workbook may hold before it is refused (a small file can claim or unpack to
    far more than memory holds). Excel's own sheet is 1,048,576 rows by 16,384 columns."""

    rows: int = 500_000  # the last row number with a cell
    columns: int = 2_000  # the last column number with a cell
    cells: int = 10_000_000  # cells with a value
    span: int = 30_000_000  # rows times columns of the table the cells make
    shared_strings: int = 5_000_000  # distinct texts of the workbook
    shared_strings_bytes: int = 256 * 1024 * 1024  # sharedStrings.xml unpacked
    part_bytes: int = 1024 * 1024 * 1024  # any one part unpacked
    total_bytes: int = 2 * 1024 * 1024 * 1024  # all parts unpacked
    ratio: int = 200  # unpacked / packed size of a part larger than 1 MiB


WORKBOOK_LIMITS = WorkbookLimits()
_SHARED_STRINGS = "xl/sharedStrings.xml"
_CONTENT_TYPES = "[Content_Types].xml"
_SHARED_STRINGS_TYPE = b"spreadsheetml.sharedStrings+xml"


def _too_large(role: str, shown: str, problem: str) -> FileLevelError:
    return _fail(
        role,
        shown,
        f"is refused: {problem}",
        "Delete the empty rows and columns below and right of the data (or any sheet "
        "content that is not the applicant list) and save it again, or save it as CSV "
        "(UTF-8).",
    )


def check_workbook_archive(
    path: Path, role: str, shown: str, limits: WorkbookLimits = WORKBOOK_LIMITS
) -> None:
    """Refuse a workbook whose parts unpack to more than `limits` allow, before any is
    parsed: sizes as the archive records them (reading stops there), and the number of
    shared strings counted in a stream. Raises FileLevelError."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size
                if info.file_size > limits.part_bytes:
                    raise _too_large(
                        role, shown, f"its part {info.filename} unpacks to {info.file_size:,} bytes"
                    )
                packed = max(info.compress_size, 1)
                if info.file_size > (1 << 20) and info.file_size > limits.ratio * packed:
                    raise _too_large(
                        role,
                        shown,
                        f"its part {info.filename} unpacks {info.file_size // packed:,} times "
                        f"larger than it is stored ({info.file_size:,} bytes), like a zip bomb",
                    )
            if total > limits.total_bytes:
                raise _too_large(role, shown, f"it unpacks to {total:,} bytes")
            strings = _shared_strings_part(archive)
            if strings is not None:
                _check_shared_strings(archive, strings, role, shown, limits)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _damaged(role, shown, exc) from None


def _shared_strings_part(archive: zipfile.ZipFile) -> str | None:
    """The name of the shared strings part, as the package's content types give it (the
    name Excel uses when they do not)."""
    names = set(archive.namelist())
    if _CONTENT_TYPES in names and archive.getinfo(_CONTENT_TYPES).file_size < (1 << 20):
        types = archive.read(_CONTENT_TYPES)
        for match in re.finditer(rb"<Override\b[^>]*>", types):
            tag = match.group()
            if _SHARED_STRINGS_TYPE in tag:
                part = re.search(rb'PartName="/?([^"]+)"', tag)
                if part is not None and part.group(1).decode("utf-8", "replace") in names:
                    return part.group(1).decode("utf-8")
    return _SHARED_STRINGS if _SHARED_STRINGS in names else None


def _check_shared_strings(
    archive: zipfile.ZipFile, name: str, role: str, shown: str, limits: WorkbookLimits
) -> None:
    size = archive.getinfo(name).file_size
    if size > limits.shared_strings_bytes:
        raise _too_large(role, shown, f"its shared strings unpack to {size:,} bytes")
    count = 0
    carry = b""  # the end of a block, where a tag may be cut in two: searched with the next
    with archive.open(name) as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            text = carry + block
            cut = max(len(text) - 64, 0)
            count += sum(1 for found in _STRING_ITEM.finditer(text) if found.start() < cut)
            carry = text[cut:]
            if count > limits.shared_strings:
                break
    count += len(_STRING_ITEM.findall(carry))
    if count > limits.shared_strings:
        raise _too_large(role, shown, f"it has more than {limits.shared_strings:,} shared strings")


#: The start of one shared string (`<si>`, `<si/>`, or with a namespace prefix `<x:si>`).
_STRING_ITEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")


@dataclass
class _SheetRows:
    """Rows of the first sheet by row number, as text, with what the reader noticed."""

    rows: dict[int, list[str]]  # row number -> its texts from column A ("" when empty)
    formulas: list[tuple[int, int, str]]  # (row, column, formula) without a saved value


def _sheet_rows(
    workbook: Any,
    role: str,
    shown: str,
    limits: WorkbookLimits = WORKBOOK_LIMITS,
) -> _SheetRows:
    """Every filled cell of the first sheet, streamed row by row.

    The sheet's claimed dimension is ignored (a file can claim a million rows and hold
    one), and missing rows are not filled in: only the cells that exist are read, and the
    limits on rows, columns and cells are checked as they come.
    """
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class _Parser(WorkSheetParser):  # type: ignore[misc]
        # the value Excel saved, and a mark on a formula that has none (never calculated)
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell: dict[str, Any] = super().parse_cell(element)
            if cell["value"] is None:
                formula = element.find(FORMULA_TAG)
                if formula is not None:
                    cell["formula"] = "=" + (formula.text or "")
            return cell

    @functools.cache
    def number_format(style_id: int) -> str | None:
        if not style_id or style_id >= len(workbook._cell_styles):
            return None
        format_id = workbook._cell_styles[style_id].numFmtId
        if format_id < BUILTIN_FORMATS_MAX_SIZE:
            return str(BUILTIN_FORMATS.get(format_id, "General"))
        custom = format_id - BUILTIN_FORMATS_MAX_SIZE
        formats = workbook._number_formats
        return str(formats[custom]) if custom < len(formats) else None

    sheet = workbook.worksheets[0]
    rows: dict[int, list[str]] = {}
    formulas: list[tuple[int, int, str]] = []
    cells = 0
    with workbook._archive.open(sheet._worksheet_path) as source:
        parser = _Parser(
            source,
            workbook.shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, row in parser.parse():
            texts: dict[int, str] = {}
            for cell in row:
                column = cell["column"]
                formula = cell.get("formula")
                if formula is not None:
                    formulas.append((number, column, formula))
                    text = visible_text(formula)
                else:
                    text = formatted_cell_text(cell["value"], number_format(cell["style_id"]))
                if not text:
                    continue
                if column > limits.columns:
                    raise _too_large(
                        role,
                        shown,
                        f"row {number} has a value in column {column:,}, beyond "
                        f"the {limits.columns:,} columns read",
                    )
                texts[column] = text
            if not texts:
                continue
            if number > limits.rows:
                raise _too_large(
                    role,
                    shown,
                    f"it has a value in row {number:,}, beyond the {limits.rows:,} rows read",
                )
            cells += len(texts)
            if cells > limits.cells:
                raise _too_large(
                    role, shown, f"it has more than {limits.cells:,} cells with values"
                )
            row_texts = [""] * max(texts)
            for column, text in texts.items():
                row_texts[column - 1] = text
            rows[number] = row_texts
    return _SheetRows(rows, formulas)


#: How far down a workbook the header row is looked for (below a title and a blank line).
HEADER_SEARCH_ROWS = 20


#: A date or time as a cell shows it ("2026-11-26", "11/26/2026", "09:30:00").
_DATE_OR_TIME = re.compile(r"\d{1,4}[-/.:]\d{1,2}([-/.:]\d{1,4})?([ T].*)?")


def _looks_like_value(text: str) -> bool:
    """A number, date or time: what a data cell holds and a column name does not."""
    if _DATE_OR_TIME.fullmatch(text.strip()):
        return True
    try:
        float(text.replace(",", "").rstrip("%"))
    except ValueError:
        return False
    return True


def header_row_number(rows: dict[int, list[str]]) -> int:
    """Sheet row number of the header: the first of the top rows that looks like one --
    at least two cells, none of them a number or a date, and at least half as many as the fullest.

    A workbook export often has a title ("Applicants -- exported 26 Nov 2026") and a blank
    line above the column names; those rows are not applicant rows. Row 1 when no row fits.
    """
    top = [n for n in sorted(rows) if n <= HEADER_SEARCH_ROWS]
    filled = {n: [t for t in rows[n] if t.strip()] for n in top}
    widest = max((len(cells) for cells in filled.values()), default=0)
    for number in top:
        cells = filled[number]
        fits = len(cells) >= 2 and 2 * len(cells) >= widest
        if fits and not any(_looks_like_value(t) for t in cells):
            return number
    return 1


def read_workbook(path: Path, role: str, shown: str, sha: str, wanted: Any) -> RawTable:
    """The first sheet of an .xlsx workbook as read_table's table (see read_table)."""
    import openpyxl

    check_workbook_archive(path, role, shown)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise _damaged(role, shown, exc) from None
    try:
        if not workbook.worksheets:
            raise _fail(role, shown, "has no sheet", "Put the applicant list on the first sheet.")
        sheet = _sheet_rows(workbook, role, shown)
    except (FileLevelError, ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile) as exc:
        if isinstance(exc, FileLevelError):
            raise
        raise _damaged(role, shown, exc) from None
    except SyntaxError as exc:  # XML that does not parse
        raise _damaged(role, shown, exc) from None
    finally:
        workbook.close()
    header_number = header_row_number(sheet.rows)
    header_cells = sheet.rows.get(header_number, [])
    if not any(t.strip() for t in header_cells):
        raise _fail(
            role,
            shown,
            "has an empty first sheet (no header row)",
            "Put the column names in row 1 of the first sheet.",
        )
    # Columns right of the last header still count: their values get a warning.
    width = max(len(r) for r in sheet.rows.values())
    last = max(sheet.rows)
    if (last - header_number) * width > WORKBOOK_LIMITS.span:
        # a far cell makes every row that wide: the table, not the cells, would not fit
        raise _too_large(
            role,
            shown,
            f"its {last:,} rows and {width:,} columns span more than "
            f"{WORKBOOK_LIMITS.span:,} cells",
        )
    headers = [t.strip() for t in header_cells] + [""] * (width - len(header_cells))
    positions = list(range(width)) if wanted is None else list(wanted(headers))
    # Empty rows after the last filled one are sheet formatting, not rows a user sees;
    # an empty row between filled ones is a row (an error row when it has no id).
    blank = [""] * len(positions)
    cells: list[list[str]] = []
    for number in range(header_number + 1, last + 1):
        values = sheet.rows.get(number)
        if values is None:
            cells.append(blank)
        else:
            count = len(values)
            cells.append([values[p] if p < count else "" for p in positions])
    data = pd.DataFrame(cells, columns=positions, dtype=str) if cells else None
    if data is None:
        data = pd.DataFrame({p: pd.Series([], dtype=str) for p in positions})
    read = set(positions)
    problems = [
        RowProblem(
            index=row - header_number - 1,
            column=headers[column - 1] if column <= width else f"column {column}",
            value=formula,
            problem=f"the cell holds a formula ({formula}) whose value was never saved",
            fix="Open the workbook in Excel and save it (the values are then stored), or "
            "type the value in.",
            severity="warning",
        )
        for row, column, formula in sheet.formulas
        if row > header_number and column - 1 in read
    ]
    table = RawTable(
        headers, data, InputFile(role, shown, sha, len(data)), "xlsx", header_number - 1
    )
    table.row_problems = problems
    return table
