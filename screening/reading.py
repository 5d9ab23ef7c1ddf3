"""Reading one CSV or Excel file into a table of text cells, or one clear file-level error.

Everything stays text: no cell is ever turned into a number or a date (`00123` stays
`00123`). CSV: UTF-8 with or without BOM, else Windows-1252; `,` `;` or tab delimited.
Excel: the first sheet of an `.xlsx` workbook.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import itertools
import mmap
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from pandas.api.extensions import ExtensionDtype

from screening.columns import FileLevelError

SAMPLE_BYTES = 1 << 16
DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass
class InputFile:
    """One file read for a batch, identified by the hash of its raw bytes."""

    role: str  # "applicants" | "jobs" | "education"
    path: str  # as given
    sha256: str  # of the raw bytes
    rows: int  # data rows read (header excluded)


@dataclass
class RawTable:
    """A file's header and data cells, all text ("" for an empty cell)."""

    headers: list[str]
    data: pd.DataFrame  # columns are header positions 0..n-1; only the columns asked for
    file: InputFile
    encoding: str  # "utf-8", "cp1252" or "xlsx"
    #: rows above the header row (a workbook's title lines): the header is row header_row + 1
    header_row: int = 0


def _fail(role: str, path: str, problem: str, fix: str) -> FileLevelError:
    return FileLevelError(f"{role} file {path!r}: {problem}. {fix}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _sniff_kind(sample: bytes, path: Path, role: str, shown: str) -> str:
    """'xlsx' or 'csv'; raises for everything that is neither."""
    save_as = "Save it from the spreadsheet program as CSV (UTF-8) or Excel workbook (.xlsx)."
    if sample.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            raise _fail(role, shown, "is a damaged ZIP/Excel file", save_as) from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if any(n.startswith("word/") for n in names):
            raise _fail(role, shown, "is a Word document, not a CSV or Excel file", save_as)
        raise _fail(role, shown, "is a ZIP archive, not a CSV or Excel file", save_as)
    if sample.startswith(b"%PDF"):
        raise _fail(role, shown, "is a PDF document, not a CSV or Excel file", save_as)
    if sample.startswith(b"\xd0\xcf\x11\xe0"):
        raise _fail(role, shown, "is an old Office file (.xls or .doc), which is not read", save_as)
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail(role, shown, "is UTF-16 text ('Unicode text'), which is not read", save_as)
    if b"\x00" in sample:
        raise _fail(role, shown, "contains binary data, it is not a CSV or Excel file", save_as)
    return "csv"


def _decode_sample(sample: bytes, complete: bool, role: str, shown: str) -> tuple[str, str]:
    """(encoding, decoded text) of the start of a CSV file: UTF-8 first, Windows-1252 second."""
    try:
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        return "utf-8-sig", decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        pass
    try:
        return "cp1252", sample.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise _undecodable(role, shown, exc) from None


def _undecodable(role: str, shown: str, exc: UnicodeDecodeError) -> FileLevelError:
    return _fail(
        role,
        shown,
        f"has bytes that are neither UTF-8 nor Windows-1252 text (byte "
        f"0x{exc.object[exc.start]:02x} near byte {exc.start})",
        "Save the file as CSV UTF-8 from the spreadsheet program.",
    )


def _check_text(text: str, role: str, shown: str) -> None:
    for char in text:
        if char < " " and char not in "\t\r\n\f":
            raise _fail(
                role,
                shown,
                f"contains control character U+{ord(char):04X}; it is not a text CSV file",
                "Save it from the spreadsheet program as CSV (UTF-8) or Excel workbook (.xlsx).",
            )


def detect_delimiter(first_line: str) -> str:
    """The delimiter of a CSV header line: the most frequent of `,` `;` tab outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


@dataclass
class SourceFile:
    """A file that passed the checks before its cells are read: its kind, encoding, delimiter."""

    path: Path
    shown: str  # the path as given
    role: str
    sha256: str
    kind: str  # "csv" | "xlsx"
    encoding: str  # of the first bytes: "utf-8-sig" or "cp1252" ("" for xlsx)
    delimiter: str  # "" for xlsx


def inspect_file(path: str | Path, role: str) -> SourceFile:
    """Check that a file exists and is a CSV or .xlsx file; detect encoding and delimiter.

    The encoding and the delimiter are detected on the first bytes. Raises FileLevelError.
    """
    shown = str(path)
    file_path = Path(path)
    if not file_path.is_file():
        problem = "is a folder, not a file" if file_path.is_dir() else "not found"
        raise _fail(role, shown, problem, "Check the path and the file name.")
    try:
        with file_path.open("rb") as handle:
            sample = handle.read(SAMPLE_BYTES + 1)
        sha = _sha256(file_path)
    except OSError as exc:
        raise _fail(
            role, shown, f"cannot be read ({exc.strerror})", "Check its permissions."
        ) from None
    complete = len(sample) <= SAMPLE_BYTES
    sample = sample[:SAMPLE_BYTES]
    if not sample.strip(b" \t\r\n\xef\xbb\xbf"):
        raise _fail(
            role,
            shown,
            "is empty (no header row)",
            "Export the file again; its first row must hold the column names.",
        )
    if _sniff_kind(sample, file_path, role, shown) == "xlsx":
        return SourceFile(file_path, shown, role, sha, "xlsx", "", "")
    encoding, text = _decode_sample(sample, complete, role, shown)
    _check_text(text, role, shown)
    first_line = text.splitlines()[0] if text else ""
    return SourceFile(file_path, shown, role, sha, "csv", encoding, detect_delimiter(first_line))


def read_table(path: str | Path, role: str, wanted: Any = None) -> RawTable:
    """Read a CSV or .xlsx file as text. `wanted(headers) -> positions` picks the columns read."""
    source = inspect_file(path, role)
    file_path, shown, sha = source.path, source.shown, source.sha256
    if source.kind == "xlsx":
        return _read_xlsx(file_path, role, shown, sha, wanted)
    encoding, delimiter = source.encoding, source.delimiter
    try:
        return _read_csv(file_path, role, shown, sha, wanted, encoding, delimiter)
    except UnicodeDecodeError as exc:
        if encoding == "cp1252":
            raise _undecodable(role, shown, exc) from None
    try:
        return _read_csv(file_path, role, shown, sha, wanted, "cp1252", delimiter)
    except UnicodeDecodeError as exc:
        raise _undecodable(role, shown, exc) from None


def _c_parser_options(encoding: str, delimiter: str) -> dict[str, Any]:
    return {
        "sep": delimiter,
        "header": None,
        "dtype": str,
        "keep_default_na": False,
        "na_filter": False,
        "skip_blank_lines": False,
        "encoding": encoding,
        "quotechar": '"',
        "index_col": False,
    }


def _header_row(path: Path, options: dict[str, Any]) -> list[str]:
    header_frame = pd.read_csv(path, nrows=1, **options)
    return [str(h).strip() for h in header_frame.iloc[0].tolist()]


def _parser_failure(role: str, shown: str, delimiter: str, exc: Exception) -> FileLevelError:
    if isinstance(exc, pd.errors.EmptyDataError):
        return _fail(
            role, shown, "is empty (no header row)", "Export it again with the column names."
        )
    return _fail(
        role,
        shown,
        f"is not a well-formed {_DELIMITER_NAMES[delimiter]}-separated file ({exc})",
        "A row has more cells than the header: check for an unquoted delimiter or quote "
        "in that row, or export the file again.",
    )


def csv_headers(source: SourceFile, encoding: str) -> list[str]:
    """The header row of a CSV file, read as read_table reads it. Raises FileLevelError.

    A UnicodeDecodeError is passed on: read_table then tries Windows-1252.
    """
    try:
        return _header_row(source.path, _c_parser_options(encoding, source.delimiter))
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise _parser_failure(source.role, source.shown, source.delimiter, exc) from None


def _read_csv(
    path: Path,
    role: str,
    shown: str,
    sha: str,
    wanted: Any,
    encoding: str,
    delimiter: str,
) -> RawTable:
    options = _c_parser_options(encoding, delimiter)
    try:
        headers = _header_row(path, options)
        positions = list(range(len(headers))) if wanted is None else list(wanted(headers))
        data = _read_csv_fast(path, encoding, delimiter, len(headers), positions)
        if data is None:
            # No usecols here: with it the C parser silently drops cells beyond the header.
            data = pd.read_csv(path, skiprows=1, names=list(range(len(headers))), **options)
            data = data[positions]
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise _parser_failure(role, shown, delimiter, exc) from None
    data = data.fillna("")
    rows = len(data)
    encoding_name = "utf-8" if encoding == "utf-8-sig" else encoding
    return RawTable(headers, data, InputFile(role, shown, sha, rows), encoding_name)


def _read_csv_fast(
    path: Path, encoding: str, delimiter: str, width: int, positions: list[int]
) -> pd.DataFrame | None:
    """Multi-threaded read with pyarrow, or None to let the C parser read (and report).

    Every column is read as text (no type inference: "00123" stays "00123"); empty lines
    are kept as rows so that row numbers match. Any failure (bad bytes, ragged rows) falls
    back to the C parser, whose errors say where the problem is.
    """
    try:
        table = pa_csv.read_csv(path, **_arrow_options(encoding, delimiter, width, positions))
    except (pa.ArrowException, UnicodeError, LookupError):
        return None
    return _text_frame(table, positions)


def _arrow_options(
    encoding: str, delimiter: str, width: int, positions: list[int]
) -> dict[str, Any]:
    """pyarrow CSV options: every column text, empty lines kept, no null markers."""
    names = [str(i) for i in range(width)]
    return {
        "read_options": pa_csv.ReadOptions(
            skip_rows=1,
            column_names=names,
            encoding="utf8" if encoding == "utf-8-sig" else encoding,
        ),
        "parse_options": pa_csv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            newlines_in_values=True,
            ignore_empty_lines=False,
        ),
        "convert_options": pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            include_columns=[names[p] for p in positions],
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }


def _text_frame(table: pa.Table, positions: list[int]) -> pd.DataFrame:
    data: pd.DataFrame = table.to_pandas(types_mapper=_text_dtype)
    data.columns = pd.Index(positions)
    return data


#: pyarrow block size of a single-threaded read: larger blocks parse faster, up to ~4 MiB.
RANGE_BLOCK_BYTES = 1 << 22


def arrow_text_options(
    encoding: str, delimiter: str, width: int, positions: list[int], *, skip_header: bool
) -> dict[str, Any]:
    """read_table's pyarrow options, single-threaded: exactly read_table's cells.

    For reading a stretch of a file inside a worker process (the workers already use every
    core), or one column of the whole file.
    """
    options = _arrow_options(encoding, delimiter, width, positions)
    options["read_options"] = pa_csv.ReadOptions(
        skip_rows=1 if skip_header else 0,
        column_names=[str(i) for i in range(width)],
        encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
        use_threads=False,
        block_size=RANGE_BLOCK_BYTES,
    )
    return options


def read_csv_bytes(data: bytes, options: dict[str, Any], positions: list[int]) -> pa.Table:
    """Data rows of a stretch of CSV bytes (whole records); raises pyarrow's errors."""
    if not data:
        return pa.table({str(p): pa.array([], type=pa.string()) for p in positions})
    return pa_csv.read_csv(pa.BufferReader(data), **options)


def read_csv_file(path: Path, options: dict[str, Any]) -> pa.Table:
    """Data rows of a whole CSV file with `options`; raises pyarrow's errors."""
    return pa_csv.read_csv(path, **options)


@dataclass
class RecordScan:
    """Where the records of a CSV file start and whether its bytes are valid text."""

    offsets: np.ndarray  # int64; data row i is bytes offsets[i]:offsets[i + 1]
    utf8: bool  # all of the file is UTF-8
    cp1252: bool  # every byte is a Windows-1252 character


#: The file is scanned in slices of this many bytes (bounds the scan's scratch memory).
SCAN_BYTES = 1 << 24
_NEWLINE, _RETURN, _QUOTE = 10, 13, 34
#: Bytes that Windows-1252 leaves undefined (Python's codec rejects them).
_CP1252_UNDEFINED = np.array([0x81, 0x8D, 0x8F, 0x90, 0x9D], dtype=np.uint8)


def scan_records(path: Path, delimiter: str, start: int) -> RecordScan | None:
    """Byte offsets of the data records of a CSV file, found outside quoted cells.

    `start` is the offset of the header (3 after a UTF-8 byte order mark). Quote parity
    tells a record's line break from one inside a quoted cell, which holds when every
    quote opens a cell, closes it, or is doubled inside it: both CSV parsers then read
    the file exactly as the parity says. None for anything else (a stray quote inside an
    unquoted cell, a quote left open, a lone carriage return, a header with a line break
    inside a quoted name): such a file is read whole instead.
    """
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return None
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            returns = view.find(b"\r") != -1  # most files have none: one test less a byte
            data = np.frombuffer(view, dtype=np.uint8)
            try:
                return _scan(data, ord(delimiter), start, returns)
            finally:
                del data  # the mapping cannot close while an array still uses it


def _scan(data: np.ndarray, delimiter: int, start: int, returns: bool) -> RecordScan | None:
    size = len(data)
    found = [np.empty(0, dtype=np.int64)]
    for offset in range(start, size, SCAN_BYTES):
        part = data[offset : offset + SCAN_BYTES]
        # One pass picks every byte that matters; most of the file is none of them.
        wanted = (part == _NEWLINE) | (part == _QUOTE) | (part >= 128)
        if returns:
            wanted |= part == _RETURN
        found.append(np.flatnonzero(wanted) + offset)
        del part
    where = np.concatenate(found)
    byte = data[where]
    quotes = where[byte == _QUOTE]
    if len(quotes) % 2:
        return None  # a quoted cell is never closed
    opening, closing = quotes[0::2], quotes[1::2]
    before = data[opening[opening > start] - 1]
    if not np.isin(before, [delimiter, _NEWLINE, _QUOTE]).all():
        return None  # a quote inside an unquoted cell
    after = data[closing[closing + 1 < size] + 1]
    if not np.isin(after, [delimiter, _NEWLINE, _RETURN, _QUOTE]).all():
        return None  # text after a closing quote
    carriage = where[byte == _RETURN]
    carriage = carriage[np.searchsorted(quotes, carriage) % 2 == 0]
    if len(carriage) and (carriage[-1] + 1 == size or (data[carriage + 1] != _NEWLINE).any()):
        return None  # a line ended by a carriage return alone
    newlines = where[byte == _NEWLINE]
    ends = newlines[np.searchsorted(quotes, newlines) % 2 == 0] + 1
    if len(newlines) and (not len(ends) or ends[0] != newlines[0] + 1):
        return None  # a line break inside a header cell
    if not len(ends) or ends[-1] != size:
        ends = np.append(ends, size)  # the last record has no line break
    utf8, cp1252 = _text_checks(data, where[byte >= 128])
    return RecordScan(ends.astype(np.int64), utf8, cp1252)


def _text_checks(data: np.ndarray, high: np.ndarray) -> tuple[bool, bool]:
    """(all UTF-8, all Windows-1252) of a file whose bytes >= 128 are at `high`."""
    if not len(high):
        return True, True
    values = data[high]
    cp1252 = not np.isin(values, _CP1252_UNDEFINED).any()
    # A multi-byte character lies inside one run of bytes >= 128, so the runs, each
    # closed by a line break, decode as UTF-8 exactly when the whole file does.
    run_ends = np.append(np.flatnonzero(np.diff(high) != 1) + 1, len(values))
    try:
        np.insert(values, run_ends, _NEWLINE).tobytes().decode("utf-8")
    except UnicodeDecodeError:
        return False, cp1252
    return True, cp1252


def read_range(path: Path, start: int, end: int) -> bytes:
    """Bytes start:end of a file; fewer if the file has become shorter."""
    with path.open("rb") as handle:
        handle.seek(start)
        return handle.read(end - start)


def _text_dtype(arrow_type: pa.DataType) -> ExtensionDtype | None:
    if arrow_type in (pa.string(), pa.large_string()):
        return pd.StringDtype("pyarrow", na_value=np.nan)
    return None


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
    return str(value)


#: How far down a workbook the header row is looked for (below a title and a blank line).
HEADER_SEARCH_ROWS = 20


def header_row_index(rows: list[tuple[object, ...]]) -> int:
    """Index of the header row among a sheet's first rows: the first row that looks like
    one -- at least two cells, all text, and at least half as many as the fullest row.

    A workbook export often has a title ("Applicants -- exported 26 Nov 2026") and a blank
    line above the column names; those rows are not applicant rows. Row 1 when no row fits.
    """
    filled = [[v for v in row if v is not None and str(v).strip()] for row in rows]
    widest = max((len(cells) for cells in filled), default=0)
    for index, cells in enumerate(filled):
        looks_like_header = len(cells) >= 2 and all(isinstance(v, str) for v in cells)
        if looks_like_header and 2 * len(cells) >= widest:
            return index
    return 0


def _read_xlsx(path: Path, role: str, shown: str, sha: str, wanted: Any) -> RawTable:
    import openpyxl  # imported here: only Excel input needs it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise _fail(
            role,
            shown,
            f"is a damaged Excel workbook ({type(exc).__name__})",
            "Open it in Excel and save it again, or save it as CSV (UTF-8).",
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        top = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
        header_row = header_row_index(top)
        first = top[header_row] if top else None
        rows = itertools.chain(top[header_row + 1 :], rows)
        headers = [_cell_text(v).strip() for v in first] if first else []
        if not any(headers):
            raise _fail(
                role,
                shown,
                "has an empty first sheet (no header row)",
                "Put the column names in row 1 of the first sheet.",
            )
        # Columns right of the last header still count: their values get a warning.
        width = max(len(headers), getattr(sheet, "max_column", None) or 0)
        headers.extend([""] * (width - len(headers)))
        positions = list(range(width)) if wanted is None else list(wanted(headers))
        # Per-row loop: openpyxl hands rows over one by one; .xlsx holds at most ~1M rows.
        cells: list[list[str]] = []
        last_with_values = 0
        for values in rows:
            texts = [_cell_text(v) for v in values]
            if len(texts) > width:  # a row wider than the sheet's recorded dimension
                extra = [t for t in texts[width:] if t.strip()]
                if extra:
                    raise _fail(
                        role,
                        shown,
                        f"row {len(cells) + header_row + 2} has values beyond the last column",
                        "Open it in Excel and save it again, or save it as CSV (UTF-8).",
                    )
            texts.extend([""] * (width - len(texts)))
            cells.append([texts[p] for p in positions])
            if any(t.strip() for t in texts):
                last_with_values = len(cells)
        # Empty rows after the last filled one are sheet formatting, not rows a user sees.
        del cells[last_with_values:]
    finally:
        workbook.close()
    data = pd.DataFrame(cells, columns=positions, dtype=str) if cells else None
    if data is None:
        data = pd.DataFrame({p: pd.Series([], dtype=str) for p in positions})
    return RawTable(headers, data, InputFile(role, shown, sha, len(data)), "xlsx", header_row)
