"""Reading one CSV or Excel file into a table of text cells, or one clear file-level error.

Everything stays text: no cell is ever turned into a number or a date (`00123` stays
`00123`). CSV: UTF-8 with or without BOM, else Windows-1252; `,` `;` or tab delimited.
Excel: the first sheet of an `.xlsx` workbook.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import mmap
import os
import re
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
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
    row_problems: list[RowProblem] = field(default_factory=list)


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


#: Bytes no text CSV file holds: control characters but tab, line breaks and form feed
#: (the same bytes in UTF-8 and Windows-1252).
_CONTROL_BYTE_VALUES = (*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20))


def _check_text(path: Path, role: str, shown: str) -> None:
    """Refuse a CSV file with a control character anywhere (a NUL, an ESC that would
    reach a terminal), naming its line."""
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            # one byte search each (memchr) is several times faster than one regex pass
            found = [view.find(bytes([b])) for b in _CONTROL_BYTE_VALUES]
            offset = min((at for at in found if at >= 0), default=-1)
            if offset < 0:
                return
            line = view[:offset].count(b"\n") + 1
            byte = view[offset]
    raise _fail(
        role,
        shown,
        f"contains control character U+{byte:04X} on line {line} (byte {offset}); it is "
        "not a text CSV file",
        "Save it from the spreadsheet program as CSV (UTF-8) or Excel workbook (.xlsx), or "
        "delete the character.",
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
    _check_text(file_path, role, shown)
    first_line = text.splitlines()[0] if text else ""
    return SourceFile(file_path, shown, role, sha, "csv", encoding, detect_delimiter(first_line))


def read_table(path: str | Path, role: str, wanted: Any = None) -> RawTable:
    """Read a CSV or .xlsx file as text. `wanted(headers) -> positions` picks the columns read."""
    source = inspect_file(path, role)
    file_path, shown, sha = source.path, source.shown, source.sha256
    if source.kind == "xlsx":
        return _read_xlsx(file_path, role, shown, sha, wanted)
    encoding, delimiter = source.encoding, source.delimiter
    if encoding == "utf-8-sig":
        try:
            return _read_csv(file_path, role, shown, sha, wanted, encoding, delimiter)
        except UnicodeDecodeError:
            pass  # a byte after the first block is not UTF-8
    # Not all UTF-8: Windows-1252, unless the file also has UTF-8 characters -- then it is
    # UTF-8 with a few Windows-1252 bytes pasted in, and reading all of it as Windows-1252
    # would garble every accent of the UTF-8 text.
    mixed = has_utf8_sequences(file_path)
    try:
        if mixed:
            return _read_csv(
                file_path, role, shown, sha, wanted, "utf-8-sig", delimiter, MIXED_ERRORS
            )
        return _read_csv(file_path, role, shown, sha, wanted, "cp1252", delimiter)
    except UnicodeDecodeError as exc:
        raise _undecodable(role, shown, exc) from None


# A cell may be long (job duties pasted in); the csv module's default limit is 128 KiB.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))

#: Decoding error handler of a UTF-8 file with a few Windows-1252 bytes: each byte that
#: is not UTF-8 is read as the Windows-1252 character it is.
MIXED_ERRORS = "screening-cp1252"


def _cp1252_bytes(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("cp1252", errors="replace"), exc.end


codecs.register_error(MIXED_ERRORS, _cp1252_bytes)
#: A UTF-8 character of two to four bytes (a lead byte and its continuation bytes).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def has_utf8_sequences(path: Path) -> bool:
    """Whether a file holds UTF-8 encoded characters beyond ASCII."""
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return _UTF8_SEQUENCE.search(view) is not None


def _c_parser_options(encoding: str, delimiter: str, errors: str = "strict") -> dict[str, Any]:
    return {
        "encoding_errors": errors,
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
    errors: str = "strict",
) -> RawTable:
    options = _c_parser_options(encoding, delimiter, errors)
    problems: list[RowProblem] = []
    try:
        headers = _header_row(path, options)
        positions = list(range(len(headers))) if wanted is None else list(wanted(headers))
        data = None
        if errors == "strict":  # pyarrow has no per-byte fallback
            data = _read_csv_fast(path, encoding, delimiter, len(headers), positions)
        if data is None:
            data, problems = _read_csv_records(
                path, encoding, errors, delimiter, len(headers), positions
            )
    except (pd.errors.EmptyDataError, pd.errors.ParserError, csv.Error) as exc:
        raise _parser_failure(role, shown, delimiter, exc) from None
    data = data.fillna("")
    rows = len(data)
    encoding_name = "utf-8" if encoding == "utf-8-sig" else encoding
    return RawTable(headers, data, InputFile(role, shown, sha, rows), encoding_name, problems)


def _read_csv_records(
    path: Path, encoding: str, errors: str, delimiter: str, width: int, positions: list[int]
) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Read a CSV file record by record (what pyarrow could not read): a record with
    fewer or more cells than the header is one error row, never a shifted, cut or
    dropped row. A record whose cells are all blank is an empty row, and blank cells
    after the last column (a trailing delimiter) are nothing."""
    columns: list[list[str]] = [[] for _ in positions]
    problems: list[RowProblem] = []
    name = _DELIMITER_NAMES[delimiter]
    rows = 0
    with path.open("r", encoding=encoding, errors=errors, newline="") as handle:
        records = csv.reader(handle, delimiter=delimiter, quotechar='"', doublequote=True)
        next(records, None)  # the header, read by _header_row
        for index, record in enumerate(records):
            count = len(record)
            rows += 1
            # blank cells past the header (a trailing delimiter) are nothing, and so is a
            # short row of blank cells (an empty row)
            if count > width:
                broken = any(cell.strip() for cell in record[width:])
            else:
                broken = count < width and any(cell.strip() for cell in record)
            if broken:
                if count < width:
                    problems.append(
                        RowProblem(
                            index,
                            None,
                            None,
                            f"the row has {count} of the header's {width} cells: it was cut "
                            "short, so its cells cannot be matched to their columns",
                            "Check the row for a line break inside a cell that is not in "
                            "quotes, or export the file again; the row is not screened.",
                        )
                    )
                else:
                    problems.append(
                        RowProblem(
                            index,
                            None,
                            None,
                            f"the row has {count} cells, the header {width}: a value lies "
                            "beyond the last column, so its cells cannot be matched to their "
                            "columns",
                            f"Check the row for a {name} or a quote inside a cell that is "
                            "not in quotes, or export the file again; the row is not "
                            "screened.",
                        )
                    )
            for column, position in zip(columns, positions, strict=True):
                column.append(record[position] if position < count else "")
    data = pd.DataFrame(
        {p: pd.Series(c, dtype=object) for p, c in zip(positions, columns, strict=True)},
        index=pd.RangeIndex(rows),
    )
    return data, problems


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
    return visible_text(str(value))


#: Literal text, escaped characters and [colour]/[condition] parts of a number format.
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')
#: Control characters: refused in CSV files, shown as escapes from workbooks and wherever
#: stored text is printed (an ESC would reach the terminal). Tab and line breaks stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def visible_text(text: str) -> str:
    """`text` with every control character (but tab and line breaks) written as an escape
    like `\\x1b`, so that it is seen and never acted on by a terminal."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


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
        raise _fail(
            role,
            shown,
            f"is a damaged Excel workbook ({type(exc).__name__})",
            "Open it in Excel and save it again, or save it as CSV (UTF-8).",
        ) from None


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
    on_header: Any = None,
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
            if number == 1 and on_header is not None:
                # the header alone, before the rows: a caller may stop here (or refuse)
                on_header([texts.get(c, "").strip() for c in range(1, max(texts) + 1)])
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


def _read_xlsx(path: Path, role: str, shown: str, sha: str, wanted: Any) -> RawTable:
    import openpyxl  # imported here: only Excel input needs it

    check_workbook_archive(path, role, shown)
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
        if not workbook.worksheets:
            raise _fail(role, shown, "has no sheet", "Put the applicant list on the first sheet.")
        sheet = _sheet_rows(workbook, role, shown, wanted)
    except (FileLevelError, ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile) as exc:
        if isinstance(exc, FileLevelError):
            raise
        raise _fail(
            role,
            shown,
            f"is a damaged Excel workbook ({type(exc).__name__})",
            "Open it in Excel and save it again, or save it as CSV (UTF-8).",
        ) from None
    except SyntaxError as exc:  # XML that does not parse
        raise _fail(
            role,
            shown,
            f"is a damaged Excel workbook ({type(exc).__name__})",
            "Open it in Excel and save it again, or save it as CSV (UTF-8).",
        ) from None
    finally:
        workbook.close()
    header_cells = sheet.rows.get(1, [])
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
    if (last - 1) * width > WORKBOOK_LIMITS.span:
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
    for number in range(2, last + 1):
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
            index=row - 2,
            column=headers[column - 1] if column <= width else f"column {column}",
            value=formula,
            problem=f"the cell holds a formula ({formula}) whose value was never saved",
            fix="Open the workbook in Excel and save it (the values are then stored), or "
            "type the value in.",
            severity="warning",
        )
        for row, column, formula in sheet.formulas
        if row >= 2 and column - 1 in read
    ]
    table = RawTable(headers, data, InputFile(role, shown, sha, len(data)), "xlsx")
    table.row_problems = problems
    return table
