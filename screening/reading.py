"""Reading one CSV or Excel file into a table of text cells, or one clear file-level error.

Everything stays text: no cell is ever turned into a number or a date (`00123` stays
`00123`). CSV: UTF-8 with or without BOM, else Windows-1252 (a UTF-8 file with a few
Windows-1252 bytes keeps its UTF-8 text); `,` `;` or tab delimited; a control character
anywhere is refused, and a row with more or fewer cells than the header is reported as
a `RowProblem`. Excel: the first sheet of an `.xlsx` workbook (screening.workbooks).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import mmap
import os
import re
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
from screening.tables import InputFile, RawTable, RowProblem

SAMPLE_BYTES = 1 << 16
DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


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
        from screening.workbooks import read_workbook  # only Excel input needs openpyxl

        return read_workbook(file_path, role, shown, sha, wanted)
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
    return RawTable(
        headers, data, InputFile(role, shown, sha, rows), encoding_name, row_problems=problems
    )


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
