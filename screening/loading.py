"""Load an applicant batch: one wide file, or applicants + jobs + education in the long form.

The loader reads text and decides which rows can be screened. It never parses dates or
numbers (the evidence stage does, and reports bad values). Every input row of the
applicants file is either a screenable applicant or an error row with an InputIssue.
Self-identification (`eeo_*`) columns are split off into `Batch.eeo` at once.

A wide-form CSV file can also be read in chunks of whole records, each in its own worker
process: `plan_wide_file` checks the file and reads its ids once, `ChunkPlan.ranges` splits
it, and `load_chunk` loads one range through the same functions as load_batch, so that the
chunks' batches together are load_batch's batch. `iter_batches` does so in one process.
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from screening.columns import (
    APPLICANT_DETAIL_FIELDS,
    CANONICAL_PREFIX,
    ENTRY_FIELDS,
    ColumnRole,
    EntryGroup,
    FileLevelError,
    header_key,
    parse_canonical,
    read_column_mapping,
    recognise,
    suggest,
    unique_header_names,
)
from screening.reading import (
    SourceFile,
    arrow_text_options,
    csv_headers,
    has_utf8_sequences,
    inspect_file,
    read_csv_bytes,
    read_csv_file,
    read_range,
    read_table,
    scan_records,
)
from screening.results import InputIssue
from screening.tables import InputFile, RawTable, RowProblem

__all__ = [
    "Batch",
    "ChunkPlan",
    "ChunkRange",
    "FileLevelError",
    "InputFile",
    "iter_batches",
    "load_batch",
    "load_chunk",
    "plan_wide_file",
    "read_column_mapping",
    "BLANK_MARKERS",
    "APPLICANT_POSITION",
    "InputText",
]

#: Cell texts that mean "no value" (compared case-insensitively after stripping).
BLANK_MARKERS: frozenset[str] = frozenset({"", "n/a", "none", "-"})
#: Fields where "None" is a value: the degree level none.
NONE_IS_A_VALUE: frozenset[str] = frozenset({"degree"})

ROLE_OF: dict[EntryGroup, str] = {"job": "jobs", "edu": "education"}
ENTRY_NAME: dict[EntryGroup, str] = {"job": "job", "edu": "education"}


@dataclass
class Batch:
    """Everything the pipeline needs from the input files, split and checked."""

    applicants: pd.DataFrame
    jobs: pd.DataFrame
    education: pd.DataFrame
    eeo: pd.DataFrame
    issues: list[InputIssue] = field(default_factory=list)
    files: list[InputFile] = field(default_factory=list)
    input_rows: int = 0
    error_rows: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    #: entry groups with a recognised column (wide form) or a file (long form)
    entry_groups: frozenset[EntryGroup] = frozenset()
    #: Applicant fields the file has no column for: what they would report is unknown.
    absent_fields: list[str] = field(default_factory=list)
    #: the text fields again as Arrow columns, where the loader made them (a chunk of a
    #: wide file); None elsewhere
    input_text: InputText | None = field(default=None, repr=False, compare=False)


#: an entry table's column holding the position of the entry's applicant
APPLICANT_POSITION = "applicant_position"


@dataclass(frozen=True, eq=False)
class InputText:
    """A batch's text fields as Arrow columns (missing cells null), taken from the same
    cleaned cells as its frames, so what needs Arrow (the audit record) does not convert
    every cell again.

    `applicants` holds APPLICANT_DETAIL_FIELDS; `jobs` and `education` hold
    APPLICANT_POSITION (the entry's applicant's position in the applicants frame) then
    their fields. Each table stands for its frame as loaded: `table` pairs it only with
    that frame object, still with its row and entry numbers, so another frame (a copy,
    a replacement) or one whose rows were dropped or reordered in place is never paired
    with it. (A frame's cells are not edited in place after loading.)
    """

    applicants: pa.Table
    jobs: pa.Table
    education: pa.Table
    #: per frame name, the frame as loaded and a copy of its row (and entry) numbers
    loaded: dict[str, tuple[pd.DataFrame, dict[str, np.ndarray]]]

    def table(self, name: str, frame: pd.DataFrame) -> pa.Table | None:
        """The Arrow text of frame `name` (applicants, jobs or education), or None unless
        `frame` is the frame it was loaded with, with the rows it was loaded with."""
        table: pa.Table = getattr(self, name)
        original, numbers = self.loaded[name]
        if frame is not original or len(frame) != table.num_rows:
            return None
        for column, expected in numbers.items():
            if column not in frame.columns:
                return None
            if not np.array_equal(frame[column].to_numpy(), expected):
                return None
        return table


def _as_loaded(frame: pd.DataFrame, *numbers: str) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """A frame and a copy of its number columns: what InputText checks a frame against."""
    return frame, {column: frame[column].to_numpy().copy() for column in numbers}


@dataclass
class _Columns:
    """The recognised columns of one file: header position -> role."""

    roles: dict[int, ColumnRole]
    unknown: list[tuple[int, str]]  # (position, name) of unknown, non-blank headers
    blank_headers: list[int]
    #: (position, header, name, position of its first) of a header repeated in the file
    renamed: list[tuple[int, str, str, int]] = field(default_factory=list)

    def entry_groups(self) -> frozenset[EntryGroup]:
        """The entry groups with a recognised column."""
        return frozenset(r.group for r in self.roles.values() if r.group is not None)


def _as_object(values: pd.Series | np.ndarray) -> pd.Series:
    """Text column as object dtype holding str or None (the Batch contract).

    pandas 3 infers its own string dtype from str objects, so the dtype is given explicitly.
    """
    if isinstance(values, pd.Series):
        # Through factorize, equal cells share one str object: exports repeat titles,
        # employers, dates and yes/no a lot, and a str object costs ~50 bytes.
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        texts = np.empty(len(uniques) + 1, dtype=object)
        texts[:-1] = np.asarray(uniques, dtype=object)  # the last slot stays None
        values = texts[codes]  # code -1 (missing) picks the trailing None
    return pd.Series(values, dtype=object, copy=False)


def _resolve_columns(
    headers: list[str],
    mapping: dict[str, str],
    entry_group: EntryGroup | None,
    role: str,
    shown: str,
) -> _Columns:
    """Recognise every header; two headers meaning the same column is a file-level error."""
    mapped = {header_key(k): v for k, v in mapping.items()}
    roles: dict[int, ColumnRole] = {}
    unknown: list[tuple[int, str]] = []
    blank_headers: list[int] = []
    renamed: list[tuple[int, str, str, int]] = []
    seen: dict[str, str] = {}
    # Blank and repeated headers go by a name of their own ("column 7", "Notes (2)"): the
    # name a mapping uses for them, and the one messages show.
    names = unique_header_names(headers)
    first_of = {header_key(h): p for p, h in reversed(list(enumerate(headers)))}
    for position, header in enumerate(headers):
        name = names[position]
        if name != header and header_key(header):
            renamed.append((position, header, name, first_of[header_key(header)]))
        column_role: ColumnRole | None
        if header_key(name) in mapped:
            column_role = parse_canonical(mapped[header_key(name)])
            if column_role is not None and entry_group is not None:
                # A long-form file takes unprefixed entry names; job3_title means title here.
                if column_role.kind == "entry" and column_role.group == entry_group:
                    column_role = ColumnRole("entry", column_role.name, entry_group)
                elif column_role.name != "applicant_id":
                    column_role = None
        else:
            column_role = recognise(header, entry_group)
        if column_role is None:
            if header_key(header):
                unknown.append((position, name))
            else:
                blank_headers.append(position)
            continue
        if (
            entry_group is None
            and column_role.kind == "entry"
            and column_role.number is None
            and column_role.group is not None
        ):
            # A mapping to an unprefixed field in the wide form means entry 1.
            column_role = ColumnRole("entry", column_role.name, column_role.group, 1)
        canonical = column_role.canonical
        if canonical in seen:
            raise FileLevelError(
                f"{role} file {shown!r}: columns {seen[canonical]!r} and {header!r} both mean "
                f"{canonical!r}. Rename or delete one of them (or map one with --columns)."
            )
        seen[canonical] = header
        roles[position] = column_role
    return _Columns(roles, unknown, blank_headers, renamed)


def _missing_id_error(headers: list[str], role: str, shown: str) -> FileLevelError:
    close = difflib.get_close_matches(
        "applicantid", [header_key(h) for h in headers], n=1, cutoff=0.5
    )
    by_key = {header_key(h): h for h in headers}
    hint = f" The closest header is {by_key[close[0]]!r}." if close else ""
    listed = ", ".join(repr(h) for h in headers[:12]) + (" ..." if len(headers) > 12 else "")
    return FileLevelError(
        f"{role} file {shown!r}: no applicant_id column (headers: {listed}).{hint} "
        "Name the column holding each applicant's unique id 'applicant_id', or map it with "
        "--columns."
    )


def _unknown_issues(
    columns: _Columns, entry_group: EntryGroup | None, shown: str
) -> list[InputIssue]:
    """Warnings of the headers not read, and of the repeated headers given a name."""
    issues = []
    for position, header, name, first in columns.renamed:
        issues.append(
            InputIssue(
                file=shown,
                column=name,
                problem=f"columns {first + 1} and {position + 1} are "
                f"both headed {header!r}; column {position + 1} is called {name!r} here",
                fix="Give each column its own header, or map it by the name shown here.",
                severity="warning",
            )
        )
    for _position, header in columns.unknown:
        guess = suggest(header, entry_group)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        issues.append(
            InputIssue(
                file=shown,
                column=header,
                problem=f"unknown column {header!r} is ignored{hint}",
                fix="Rename the column to a known name, or map it with --columns; "
                "leave it if it is not needed for screening.",
                severity="warning",
            )
        )
    return issues


def _file_columns(
    headers: list[str],
    mapping: dict[str, str],
    entry_group: EntryGroup | None,
    role: str,
    shown: str,
) -> _Columns:
    """The columns of one file, or the FileLevelError saying why the file cannot be used."""
    columns = _resolve_columns(headers, mapping, entry_group, role, shown)
    if not any(r.name == "applicant_id" for r in columns.roles.values()):
        raise _missing_id_error(headers, role, shown)
    if entry_group is not None and not any(r.kind == "entry" for r in columns.roles.values()):
        names = ", ".join(ENTRY_FIELDS[entry_group])
        raise FileLevelError(
            f"{role} file {shown!r}: no {ENTRY_NAME[entry_group]} column is recognised, so "
            f"no entry could be read. Name the columns {names} (one row per entry, keyed "
            "by applicant_id), or map your headers with --columns."
        )
    return columns


def _read_positions(columns: _Columns) -> list[int]:
    """The header positions read: recognised columns, and blank headers (to warn of values)."""
    return sorted([*columns.roles, *columns.blank_headers])


def _read_with_columns(
    path: str | Path,
    role: str,
    mapping: dict[str, str],
    entry_group: EntryGroup | None,
) -> tuple[RawTable, _Columns]:
    resolved: list[_Columns] = []

    def wanted(headers: list[str]) -> list[int]:
        resolved.append(_file_columns(headers, mapping, entry_group, role, str(path)))
        return _read_positions(resolved[-1])

    table = read_table(path, role, wanted)
    # The last headers read are the table's (read_table re-reads them as Windows-1252).
    return table, resolved[-1]


def _blank_header_issues(shown: str, columns: _Columns, with_values: set[int]) -> list[InputIssue]:
    issues = []
    for position in columns.blank_headers:
        if position in with_values:
            issues.append(
                InputIssue(
                    file=shown,
                    column=f"column {position + 1}",
                    problem=f"column {position + 1} has values but no header; it is ignored",
                    fix="Give the column a known name, or map it with --columns.",
                    severity="warning",
                )
            )
    return issues


def _title_rows_issues(shown: str, header_row: int) -> list[InputIssue]:
    """The warning that rows above the header row (a workbook's title) were left out."""
    if header_row == 0:
        return []
    above = "row 1 is" if header_row == 1 else f"rows 1-{header_row} are"
    return [
        InputIssue(
            file=shown,
            problem=f"the column names are in row {header_row + 1}; {above} above them "
            "(a title) and not read as applicants",
            fix="Nothing to do if those rows are a title; otherwise put the column names in row 1.",
            severity="warning",
        )
    ]


def _position_of(columns: _Columns, name: str) -> int:
    return next(p for p, r in columns.roles.items() if r.name == name and r.kind != "entry")


def _row_numbers(count: int, first_data_row: int = 0) -> np.ndarray:
    """Spreadsheet row numbers of `count` data rows (the header is row 1)."""
    return np.arange(count, dtype=np.int64) + (first_data_row + 2)


_NONE_SLOT = np.array([None], dtype=object)


@dataclass
class _Cells:
    """One column's cells, cleaned: cell i is `texts[codes[i]]`; the last text is None.

    Each distinct text is one str object, cleaned once however many cells hold it.
    `plain_blank` marks the texts that are blank when "None" is no value (for a column
    where it is one, the degree): an error row is "empty" by that rule.
    """

    codes: np.ndarray  # intp, one per cell
    distinct: pa.Array  # the distinct cleaned texts; code len(distinct) is None
    plain_blank: np.ndarray  # bool, one per code

    @functools.cached_property
    def texts(self) -> np.ndarray:
        """The distinct texts as str objects, then None (made when first needed)."""
        texts = np.empty(len(self.distinct) + 1, dtype=object)  # the last slot stays None
        texts[:-1] = self.distinct.to_numpy(zero_copy_only=False)
        return texts

    @property
    def filled(self) -> np.ndarray:
        """Cells that hold a value."""
        filled: np.ndarray = self.codes != len(self.distinct)
        return filled

    def values(self, index: np.ndarray | None = None) -> pd.Series:
        """The cells (those at `index`) as the Batch's object column."""
        codes = self.codes if index is None else self.codes[index]
        return _as_object(self.texts[codes])

    @functools.cached_property
    def arrow_texts(self) -> pa.Array:
        """`texts` in Arrow: the distinct texts, then a null in the slot of None."""
        return pa.concat_arrays([_plain_text(self.distinct), pa.nulls(1, pa.string())])

    def arrow(self, index: np.ndarray) -> pa.Array:
        """The cells at `index` as Arrow text, a missing cell null (as `values` gives None)."""
        return self.arrow_texts.take(pa.array(self.codes[index]))


def _plain_text(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Text in one contiguous Arrow string array (not chunked, not large)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array if array.type == pa.string() else array.cast(pa.string())


def _dictionary(raw: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """(index of each cell's text, distinct texts) of a text column."""
    if isinstance(raw, pa.ChunkedArray) and not pa.types.is_dictionary(raw.type):
        # One array first: unifying many chunks' dictionaries costs far more than the copy
        # when almost every text is distinct (ids, e-mail addresses).
        raw = raw.combine_chunks()
    if isinstance(raw, pa.Array):
        raw = pa.chunked_array([raw])
    if not pa.types.is_dictionary(raw.type):
        raw = pc.dictionary_encode(raw)
    if raw.num_chunks == 0:
        return np.empty(0, dtype=np.intp), pa.array([], type=pa.string())
    raw = raw.unify_dictionaries()
    indices = [chunk.indices.to_numpy(zero_copy_only=False) for chunk in raw.chunks]
    return np.concatenate(indices).astype(np.intp, copy=False), raw.chunk(0).dictionary


def _clean_cells(
    raw: pa.Array | pa.ChunkedArray, none_is_value: bool = False, *, distinct: bool = False
) -> _Cells:
    """A text column cleaned: cells stripped of whitespace, blank markers made missing.

    The one cleaning of cells, for the wide and the long form alike. A blank marker is
    compared in lower case (BLANK_MARKERS); with `none_is_value` "None" stays a value (the
    degree level none). Each distinct text is cleaned once, however many cells hold it;
    with `distinct` (nearly every cell differs, as ids do) the cells are cleaned directly.
    """
    indices: np.ndarray | None = None
    if distinct:
        dictionary = raw.combine_chunks() if isinstance(raw, pa.ChunkedArray) else raw
    else:
        indices, dictionary = _dictionary(raw)
    stripped = pc.utf8_trim_whitespace(dictionary)
    lowered = pc.utf8_lower(stripped)
    markers = pa.array(sorted(BLANK_MARKERS), type=dictionary.type)
    blank = pc.is_in(lowered, value_set=markers).to_numpy(zero_copy_only=False)
    if indices is not None and _text_bytes(stripped) == _text_bytes(dictionary):
        # Nothing was trimmed (trimming only shortens): the texts are still distinct.
        distinct_texts = stripped
        slots = np.arange(len(stripped), dtype=np.intp)
    else:
        # Distinct raw texts can clean to one text (" BA" and "BA"): they share its slot.
        encoded = pc.dictionary_encode(stripped)
        distinct_texts = encoded.dictionary
        slots = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    count = len(distinct_texts)
    plain_blank = np.zeros(count + 1, dtype=bool)
    plain_blank[-1] = True
    if none_is_value:
        is_none = pc.equal(lowered, "none").to_numpy(zero_copy_only=False)
        blank &= ~is_none
        plain_blank[slots[is_none]] = True
    slots[blank] = count
    codes = slots if indices is None else slots[indices]
    return _Cells(codes, distinct_texts, plain_blank)


def _text_bytes(texts: pa.Array) -> int:
    """Bytes of all the texts of a text array (from its offsets, without reading them)."""
    total = pc.sum(pc.binary_length(texts)).as_py()
    return int(total or 0)


def _role_cells(
    columns: _Columns, raw_column: Callable[[int], pa.Array | pa.ChunkedArray]
) -> dict[int, _Cells]:
    """The cleaned cells of every column read, by header position."""
    cells = {}
    for position in _read_positions(columns):
        role = columns.roles.get(position)
        none_is_value = role is not None and role.kind == "entry" and role.name in NONE_IS_A_VALUE
        cells[position] = _clean_cells(raw_column(position), none_is_value)
    return cells


def _table_cells(table: RawTable, columns: _Columns) -> dict[int, _Cells]:
    """The cleaned cells of every column read of a read_table table, wide or long form.

    Each raw column is popped from the table's frame as it is cleaned, so it is freed
    once its cells are.
    """
    data = table.data
    return _role_cells(columns, lambda position: _pandas_text(data.pop(position)))  # type: ignore[arg-type]


def _shared_ids(ids: _Cells, rows: np.ndarray) -> dict[str, list[int]]:
    """Every id given to more than one row, with the rows sharing it (of the whole file)."""
    filled = ids.filled
    counts = np.bincount(ids.codes[filled], minlength=len(ids.distinct) + 1)
    duplicated = filled & (counts[ids.codes] > 1)
    if not duplicated.any():
        return {}
    codes = ids.codes[duplicated]
    order = np.argsort(codes, kind="stable")  # rows stay in file order within an id
    codes, shared_rows = codes[order], rows[duplicated][order]
    starts = np.flatnonzero(np.diff(codes, prepend=-1))
    groups = np.split(shared_rows, starts[1:])
    # Only the shared ids become str objects: a file's ids are nearly all distinct.
    texts = ids.distinct.take(pa.array(codes[starts])).to_pylist()
    return {text: group.tolist() for text, group in zip(texts, groups, strict=True)}


def _applicant_errors(
    shown: str,
    cells: dict[int, _Cells],
    id_position: int,
    rows: np.ndarray,
    shared: dict[str, list[int]],
    problems: Sequence[RowProblem] = (),
) -> tuple[np.ndarray, list[InputIssue]]:
    """Rows without an id, every row whose id is `shared`, and the rows the reader could
    not read as the file meant them (`problems` of severity error); issues for them."""
    ids = cells[id_position]
    broken = np.zeros(len(ids.codes), dtype=bool)
    issues = _problem_issues(shown, problems, rows, broken, ids)
    missing = ~ids.filled & ~broken
    if shared:
        is_shared = np.array([text in shared for text in ids.texts[:-1]] + [False], dtype=bool)
        duplicated = is_shared[ids.codes] & ~broken
    else:
        duplicated = np.zeros(len(ids.codes), dtype=bool)
    if missing.any():
        # Per-row work only over the error rows.
        at = np.flatnonzero(missing)
        empty = np.ones(len(at), dtype=bool)
        for column in cells.values():
            empty &= column.plain_blank[column.codes[at]]
        for row, is_empty in zip(rows[at], empty, strict=True):
            issues.append(
                InputIssue(
                    file=shown,
                    row=int(row),
                    column=None if is_empty else "applicant_id",
                    problem="the row is empty" if is_empty else "applicant_id is blank",
                    fix="Delete the empty row."
                    if is_empty
                    else "Fill in the applicant's id; the row is not screened without one.",
                )
            )
    if duplicated.any():
        at = np.flatnonzero(duplicated)
        for applicant_id, row in zip(ids.texts[ids.codes[at]], rows[at], strict=True):
            others = ", ".join(str(r) for r in shared[applicant_id])
            issues.append(
                InputIssue(
                    file=shown,
                    row=int(row),
                    applicant_id=str(applicant_id),
                    column="applicant_id",
                    value=str(applicant_id),
                    problem=f"applicant_id {applicant_id!r} is shared by rows {others}; "
                    "none of them is screened",
                    fix="Keep one row per applicant, or give each applicant their own id.",
                )
            )
    return missing | duplicated | broken, issues


def _problem_issues(
    shown: str,
    problems: Sequence[RowProblem],
    rows: np.ndarray,
    broken: np.ndarray,
    ids: _Cells | None = None,
) -> list[InputIssue]:
    """Issues of the reader's row problems; marks the rows of errors in `broken`."""
    issues = []
    for problem in problems:
        if problem.severity == "error":
            broken[problem.index] = True
        applicant_id = None if ids is None else ids.texts[ids.codes[problem.index]]
        issues.append(
            InputIssue(
                file=shown,
                row=int(rows[problem.index]),
                applicant_id=None if applicant_id is None else str(applicant_id),
                column=problem.column,
                value=problem.value,
                problem=problem.problem,
                fix=problem.fix,
                severity="error" if problem.severity == "error" else "warning",
            )
        )
    return issues


def _wide_entries(
    group: EntryGroup,
    shown: str,
    columns: _Columns,
    cells: dict[int, _Cells],
    kept: np.ndarray,
    kept_ids: np.ndarray,
    kept_rows: np.ndarray,
    *,
    arrow: bool = False,
) -> tuple[pd.DataFrame, pa.Table | None]:
    """The job{n}_ / edu{n}_ column groups of the kept rows as one row per entry.

    Ordered by applicant then entry number (row-major order of the rows x numbers grid of
    entries holding a value), in the Batch dtypes; with `arrow`, also the entries' text
    as an InputText table (else None).
    """
    by_number: dict[int, dict[str, int]] = {}
    for position, role in columns.roles.items():
        if role.kind == "entry" and role.group == group and role.number is not None:
            by_number.setdefault(role.number, {})[role.name] = position
    numbers = sorted(by_number)
    has_value = np.zeros((len(kept), len(numbers)), dtype=bool)
    for j, number in enumerate(numbers):
        for position in by_number[number].values():
            has_value[:, j] |= cells[position].filled[kept]
    at, number_index = np.nonzero(has_value)
    count = len(at)
    prefixes = np.array([f"{CANONICAL_PREFIX[group]}{n}_" for n in numbers] or [""], dtype=object)
    result: dict[str, object] = {
        "applicant_id": _as_object(kept_ids[at]),
        "entry": np.asarray(numbers or [0], dtype=np.int64)[number_index],
        "file": _as_object(np.full(count, shown, dtype=object)),
        "row": kept_rows[at].astype(np.int64, copy=False),
        "column_prefix": _as_object(prefixes[number_index]),
    }
    text: dict[str, pa.Array] = {APPLICANT_POSITION: pa.array(at.astype(np.int32))}
    for name in ENTRY_FIELDS[group]:
        # The field's columns' texts end to end, a None last; slots[row, j] is the cell of
        # entry number j in that row, so every entry's value is one take.
        holders = [cells[by_number[n][name]] for n in numbers if name in by_number[n]]
        combined = np.concatenate([*(c.texts for c in holders), _NONE_SLOT])
        slots = np.full((len(kept), len(numbers)), len(combined) - 1, dtype=np.intp)
        offset = 0
        for j, number in enumerate(numbers):
            if name in by_number[number]:
                column = cells[by_number[number][name]]
                slots[:, j] = column.codes[kept] + offset
                offset += len(column.texts)
        taken = slots[at, number_index]
        result[name] = _as_object(combined[taken])
        if arrow:
            # the same slots in Arrow: each column's arrow_texts mirrors its texts
            slots_text = [*(c.arrow_texts for c in holders), pa.nulls(1, pa.string())]
            text[name] = pa.concat_arrays(slots_text).take(pa.array(taken))
    frame = pd.DataFrame(result, index=pd.RangeIndex(count))
    return frame, pa.table(text) if arrow else None


def _entry_frame(
    group: EntryGroup,
    ids: pd.Series,
    positions: np.ndarray,
    entries: np.ndarray | int,
    rows: np.ndarray,
    source: int,
    fields: dict[str, pd.Series],
) -> pd.DataFrame:
    """Entries of one column group (or one long file), all-blank ones dropped.

    `source` indexes the (file, column_prefix) pairs: the text columns are filled in once,
    at the end, rather than repeated in every row while stacking.
    """
    has_value = np.zeros(len(ids), dtype=bool)
    for values in fields.values():
        has_value |= values.notna().to_numpy()
    columns: dict[str, object] = {
        "applicant_id": ids.array[has_value],
        "entry": entries if isinstance(entries, int) else entries[has_value],
        "row": rows[has_value],
        "_source": source,
        "_pos": positions[has_value],
    }
    for name in ENTRY_FIELDS[group]:
        if name in fields:
            columns[name] = fields[name].array[has_value]
    return pd.DataFrame(columns, index=pd.RangeIndex(int(has_value.sum())))


def _finish_entries(
    group: EntryGroup, frames: list[pd.DataFrame], sources: list[tuple[str, str]]
) -> pd.DataFrame:
    """Order entries by applicant then entry, and apply the Batch dtype contract."""
    numbers = ("_source", "_pos", "entry", "row")
    if frames:
        entries = pd.concat(frames, ignore_index=True)
    else:
        entries = pd.DataFrame({n: pd.Series([], dtype=np.int64) for n in numbers})
    count = len(entries)
    # The order is applied to the final object arrays: a numpy take there is much cheaper
    # than sorting the pyarrow-backed columns.
    order = np.lexsort((entries["entry"].to_numpy(np.int64), entries["_pos"].to_numpy(np.int64)))
    source_codes = entries["_source"].to_numpy(np.int64)[order]
    files = np.array([f for f, _ in sources] or [""], dtype=object)
    prefixes = np.array([p for _, p in sources] or [""], dtype=object)

    def text(name: str) -> pd.Series:
        if name not in entries:
            return _nones(count)
        return _as_object(_as_object(entries[name]).to_numpy()[order])

    result = {
        "applicant_id": text("applicant_id"),
        "entry": entries["entry"].to_numpy(np.int64)[order],
        "file": _as_object(files[source_codes]),
        "row": entries["row"].to_numpy(np.int64)[order],
        "column_prefix": _as_object(prefixes[source_codes]),
    }
    for name in ENTRY_FIELDS[group]:
        result[name] = text(name)
    return pd.DataFrame(result, index=pd.RangeIndex(count))


def _nones(count: int) -> pd.Series:
    return pd.Series(np.full(count, None, dtype=object), dtype=object, copy=False)


def _long_entries(
    group: EntryGroup,
    table: RawTable,
    columns: _Columns,
    cells: dict[int, _Cells],
    applicant_ids: pd.Series,
    screenable: np.ndarray,
    applicants_file: str,
    sources: list[tuple[str, str]],
) -> tuple[pd.DataFrame, list[InputIssue]]:
    """Entries of a long-form file; rows with no or an unknown applicant_id are error rows.

    `cells` are the file's cleaned columns (`_table_cells`), `applicant_ids` the cleaned
    ids of the applicants file's rows (None for a blank one).
    """
    shown = table.file.path
    id_cells = cells[_position_of(columns, "applicant_id")]
    count = len(id_cells.codes)
    ids = id_cells.values()
    rows = _row_numbers(count, table.header_row)
    fields = {
        role.name: cells[position].values()
        for position, role in columns.roles.items()
        if role.kind == "entry"
    }
    has_value = np.zeros(count, dtype=bool)
    for values in fields.values():
        has_value |= values.notna().to_numpy()
    # rows the reader could not read as meant are error rows, and nothing else
    broken = np.zeros(count, dtype=bool)
    issues = _problem_issues(shown, table.row_problems, rows, broken)
    has_value &= ~broken
    missing = ids.isna().to_numpy() & ~broken
    known = ids.isin(applicant_ids.dropna()).to_numpy()
    entry_name = ENTRY_NAME[group]
    for row in rows[missing & ~has_value]:
        issues.append(
            InputIssue(
                file=shown,
                row=int(row),
                problem="the row is empty; it is ignored",
                fix="Delete the empty row.",
                severity="warning",
            )
        )
    for row in rows[missing & has_value]:
        issues.append(
            InputIssue(
                file=shown,
                row=int(row),
                column="applicant_id",
                problem=f"applicant_id is blank; this {entry_name} entry belongs to no applicant",
                fix="Fill in the id of the applicant the entry belongs to.",
            )
        )
    orphans = ~missing & ~known & has_value
    for row, applicant_id in zip(rows[orphans], ids[orphans], strict=True):
        issues.append(
            InputIssue(
                file=shown,
                row=int(row),
                applicant_id=str(applicant_id),
                column="applicant_id",
                value=str(applicant_id),
                problem=f"applicant_id {applicant_id!r} is not in the applicants file "
                f"{applicants_file!r}; this {entry_name} entry is not screened",
                fix="Correct the id, or add the applicant to the applicants file.",
            )
        )
    # Entries of error applicants are not screened: say so on the entry's own row, so that
    # every row of every input file is in the results or in the errors output.
    error_ids = set(applicant_ids[~screenable].dropna()) - set(applicant_ids[screenable].dropna())
    of_error_applicant = ids.isin(error_ids).to_numpy() & has_value
    for row, applicant_id in zip(rows[of_error_applicant], ids[of_error_applicant], strict=True):
        issues.append(
            InputIssue(
                file=shown,
                row=int(row),
                applicant_id=str(applicant_id),
                column="applicant_id",
                value=str(applicant_id),
                problem=f"applicant_id {applicant_id!r} is an error row of the applicants file "
                f"{applicants_file!r}; this {entry_name} entry is not screened",
                fix="Fix the applicant's row in the applicants file (see its error).",
            )
        )
    screenable_ids = applicant_ids[screenable]
    position_of = pd.Series(np.flatnonzero(screenable), index=screenable_ids.to_numpy())
    keep = ids.isin(screenable_ids).to_numpy() & has_value
    kept_ids = ids[keep].reset_index(drop=True)
    # Long-form entries are numbered 1, 2, ... in order of appearance per applicant.
    entry_numbers = kept_ids.groupby(kept_ids, sort=False).cumcount().to_numpy() + 1
    sources.append((shown, ""))
    frame = _entry_frame(
        group,
        kept_ids,
        position_of.reindex(kept_ids.to_numpy()).to_numpy(),
        entry_numbers,
        rows[keep],
        len(sources) - 1,
        {name: values[keep].reset_index(drop=True) for name, values in fields.items()},
    )
    return frame, issues


def _check_forms(
    shown: str, columns: _Columns, long_paths: dict[EntryGroup, str | Path | None]
) -> None:
    """One form per entry group, and at least one entry group: else a FileLevelError."""
    wide_groups = {r.group for r in columns.roles.values() if r.kind == "entry"}
    for group, long_path in long_paths.items():
        if long_path is not None and group in wide_groups:
            raise FileLevelError(
                f"applicants file {shown!r} has {ENTRY_NAME[group]} columns and a separate "
                f"{ROLE_OF[group]} file {str(long_path)!r} was given. Use one form: delete "
                f"the {ENTRY_NAME[group]} columns or leave out the {ROLE_OF[group]} file."
            )
    if not wide_groups and all(p is None for p in long_paths.values()):
        raise FileLevelError(
            f"applicants file {shown!r}: no job and no education column is recognised, so "
            "every applicant would be rejected. Name the columns like job1_title, job1_start, "
            "edu1_degree (or give --jobs/--education files), or map your headers with "
            "--columns."
        )


@dataclass
class _ApplicantRows:
    """What one stretch of the applicants file (the whole file, or one chunk) gives."""

    applicants: pd.DataFrame
    eeo: pd.DataFrame
    screenable: np.ndarray
    issues: list[InputIssue]  # row issues, by row
    entries: dict[EntryGroup, pd.DataFrame]  # of the wide-form entry columns
    input_text: InputText | None = None  # made when asked for


def _applicant_rows(
    shown: str,
    columns: _Columns,
    cells: dict[int, _Cells],
    rows: np.ndarray,
    shared: dict[str, list[int]],
    problems: Sequence[RowProblem] = (),
    *,
    arrow: bool = False,
) -> _ApplicantRows:
    """Error rows, applicants, demographics and wide-form entries of a stretch of rows.

    `cells` are the cleaned columns read, `rows` the spreadsheet row numbers of the rows
    and `shared` the ids shared by several rows of the whole file. With `arrow`, the text
    fields also as Arrow columns (`input_text`).
    """
    id_position = _position_of(columns, "applicant_id")
    errors, row_issues = _applicant_errors(shown, cells, id_position, rows, shared, problems)
    screenable = ~errors
    kept = np.flatnonzero(screenable)
    ids = cells[id_position]
    kept_ids = ids.texts[ids.codes[kept]]
    kept_rows = rows[kept]

    applicant_columns: dict[str, object] = {
        "applicant_id": _as_object(kept_ids),
        "file": _as_object(np.full(len(kept), shown, dtype=object)),
        "row": kept_rows,
    }
    applicant_text: dict[str, pa.Array] = {}
    for name in APPLICANT_DETAIL_FIELDS:
        position = next(
            (p for p, r in columns.roles.items() if r.kind == "applicant" and r.name == name),
            None,
        )
        applicant_columns[name] = (
            _nones(len(kept)) if position is None else cells[position].values(kept)
        )
        if arrow:
            applicant_text[name] = (
                pa.nulls(len(kept), pa.string())
                if position is None
                else cells[position].arrow(kept)
            )
    applicant_frame = pd.DataFrame(applicant_columns, index=pd.RangeIndex(len(kept)))

    eeo_columns: dict[str, object] = {"applicant_id": applicant_columns["applicant_id"]}
    for position, role in columns.roles.items():
        if role.kind == "eeo":
            eeo_columns[role.name] = cells[position].values(kept)
    eeo_frame = pd.DataFrame(eeo_columns, index=pd.RangeIndex(len(kept)))

    entries: dict[EntryGroup, pd.DataFrame] = {}
    entry_text: dict[EntryGroup, pa.Table | None] = {}
    for group in ENTRY_FIELDS:
        entries[group], entry_text[group] = _wide_entries(
            group, shown, columns, cells, kept, kept_ids, kept_rows, arrow=arrow
        )
    input_text = None
    jobs_text, education_text = entry_text["job"], entry_text["edu"]
    if arrow and jobs_text is not None and education_text is not None:
        input_text = InputText(
            applicants=pa.table(applicant_text),
            jobs=jobs_text,
            education=education_text,
            loaded={
                "applicants": _as_loaded(applicant_frame, "row"),
                "jobs": _as_loaded(entries["job"], "row", "entry"),
                "education": _as_loaded(entries["edu"], "row", "entry"),
            },
        )
    return _ApplicantRows(
        applicant_frame,
        eeo_frame,
        screenable,
        sorted(row_issues, key=lambda i: i.row or 0),
        entries,
        input_text,
    )


def _pandas_text(values: pd.Series) -> pa.ChunkedArray:
    """A read_table column as pyarrow text (no copy for pyarrow-backed text)."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return values.array.__arrow_array__()
    return pa.chunked_array([pa.array(values.astype(str).to_numpy(dtype=object))])


def _with_values(cells: dict[int, _Cells], columns: _Columns) -> set[int]:
    """The blank-header columns holding a value."""
    return {p for p in columns.blank_headers if cells[p].filled.any()}


def load_batch(
    applicants: str | Path,
    *,
    jobs: str | Path | None = None,
    education: str | Path | None = None,
    columns: str | Path | None = None,
) -> Batch:
    """Read an applicant batch (wide form, or long form with jobs/education files).

    Raises FileLevelError, with one message naming the file, the problem and the fix, when a
    file cannot be used at all; row-level problems are returned in Batch.issues instead.
    """
    mapping = read_column_mapping(columns) if columns is not None else {}
    table, app_columns = _read_with_columns(applicants, "applicants", mapping, None)
    shown = table.file.path
    long_paths: dict[EntryGroup, str | Path | None] = {"job": jobs, "edu": education}
    _check_forms(shown, app_columns, long_paths)

    file = table.file
    problems = table.row_problems
    header_row = table.header_row
    cells = _table_cells(table, app_columns)
    del table
    issues = _title_rows_issues(shown, header_row)
    issues += _unknown_issues(app_columns, None, shown)
    issues += _blank_header_issues(shown, app_columns, _with_values(cells, app_columns))
    unknown = [h for _, h in app_columns.unknown]
    id_cells = cells[_position_of(app_columns, "applicant_id")]
    rows = _row_numbers(len(id_cells.codes), header_row)
    part = _applicant_rows(shown, app_columns, cells, rows, _shared_ids(id_cells, rows), problems)
    del cells
    issues.extend(part.issues)

    files = [file]
    entry_frames: dict[EntryGroup, pd.DataFrame] = {}
    for group, long_path in long_paths.items():
        if long_path is None:
            entry_frames[group] = part.entries[group]
            continue
        long_table, long_columns = _read_with_columns(long_path, ROLE_OF[group], mapping, group)
        files.append(long_table.file)
        long_shown = long_table.file.path
        long_cells = _table_cells(long_table, long_columns)
        issues.extend(_title_rows_issues(long_shown, long_table.header_row))
        issues.extend(_unknown_issues(long_columns, group, long_shown))
        issues.extend(
            _blank_header_issues(long_shown, long_columns, _with_values(long_cells, long_columns))
        )
        unknown.extend(h for _, h in long_columns.unknown)
        sources: list[tuple[str, str]] = []
        frame, long_issues = _long_entries(
            group,
            long_table,
            long_columns,
            long_cells,
            id_cells.values(),
            part.screenable,
            shown,
            sources,
        )
        issues.extend(long_issues)
        entry_frames[group] = _finish_entries(group, [frame], sources)

    order = {f.path: i for i, f in enumerate(files)}
    issues.sort(key=lambda i: (order.get(i.file, 0), i.row or 0))
    return Batch(
        applicants=part.applicants,
        jobs=entry_frames["job"],
        education=entry_frames["edu"],
        eeo=part.eeo,
        issues=issues,
        files=files,
        input_rows=len(rows),
        error_rows=int((~part.screenable).sum()),
        unknown_columns=unknown,
        entry_groups=app_columns.entry_groups() | {g for g, p in long_paths.items() if p},
        absent_fields=_absent_fields(app_columns),
    )


@dataclass(frozen=True)
class ChunkRange:
    """One stretch of whole records of the applicants file, for one worker to load."""

    index: int  # 0 for the first chunk, which carries what concerns the whole file
    start: int  # byte offset of its first record
    end: int  # byte offset just after its last record
    first_row: int  # spreadsheet row number of its first record (the header is row 1)
    rows: int  # records (data rows) in it


@dataclass
class ChunkPlan:
    """What the planning process learned about a wide-form CSV file, for the workers.

    Small and picklable: send it once to each worker, then a ChunkRange per chunk -- or
    with each chunk `for_chunk`'s cut-down copy. The byte offset of every record stays in
    the planning process (`ranges` needs them).
    """

    path: Path  # absolute, so a worker with another working directory finds it
    shown: str  # the path as given, for messages
    encoding: str  # "utf-8" or "cp1252": read_table's choice for the file
    delimiter: str
    width: int  # header cells
    columns: _Columns
    shared: dict[str, list[int]]  # ids given to more than one row, with their rows
    file: InputFile
    file_issues: list[InputIssue]  # the file's warnings without a row
    size: int  # bytes, times and inode when planned: a change is an error
    mtime_ns: int
    # the status-change time moves on every write, even when the modification time is
    # put back (`cp -p`, sync tools); the inode moves when the file is replaced
    ctime_ns: int = 0
    inode: int = 0
    offsets: np.ndarray | None = field(default=None, repr=False, compare=False)
    only_chunk: int | None = None  # set by for_chunk: the one chunk this plan can load
    shared_rows: tuple[np.ndarray, np.ndarray, list[str]] | None = field(
        default=None, repr=False, compare=False
    )

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["offsets"] = None  # 8 bytes a row: not for every worker
        state["shared_rows"] = None
        return state

    def for_chunk(self, chunk: ChunkRange) -> ChunkPlan:
        """This plan with only what loading `chunk` needs of the shared ids (those with a
        row in it, with all their rows): small to send with every chunk, however many ids
        the file shares."""
        if not self.shared:
            return dataclasses.replace(self, offsets=None, shared_rows=None, only_chunk=chunk.index)
        if self.shared_rows is None:
            # every shared row with the index of its id, sorted by row: one search a chunk
            ids = list(self.shared)
            rows = np.fromiter((r for i in ids for r in self.shared[i]), dtype=np.int64)
            owners = np.repeat(np.arange(len(ids)), [len(self.shared[i]) for i in ids])
            order = np.argsort(rows, kind="stable")
            self.shared_rows = (rows[order], owners[order], ids)
        rows, owners, ids = self.shared_rows
        start, stop = np.searchsorted(rows, [chunk.first_row, chunk.first_row + chunk.rows])
        shared = {ids[o]: self.shared[ids[o]] for o in np.unique(owners[start:stop]).tolist()}
        return dataclasses.replace(
            self, shared=shared, offsets=None, shared_rows=None, only_chunk=chunk.index
        )

    def ranges(self, chunk_rows: int) -> list[ChunkRange]:
        """The file's records in chunks of `chunk_rows` (the last one shorter); at least
        one chunk, empty for a header-only file. Only in the process that planned."""
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
        if self.offsets is None:
            raise RuntimeError("ChunkPlan.ranges is for the process that made the plan")
        offsets = self.offsets
        count = len(offsets) - 1
        chunks = []
        for index, first in enumerate(range(0, max(count, 1), chunk_rows)):
            last = min(first + chunk_rows, count)
            chunks.append(
                ChunkRange(index, int(offsets[first]), int(offsets[last]), first + 2, last - first)
            )
        return chunks


def _has_bom(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(3) == codecs.BOM_UTF8


def plan_wide_file(
    applicants: str | Path, *, columns: str | Path | None = None
) -> ChunkPlan | None:
    """Check a wide-form applicants file as load_batch does, and plan reading it in chunks.

    Raises load_batch's FileLevelError for a file that cannot be used, before any chunk is
    read. Finds where every record starts (line breaks outside quoted cells), reads the
    applicant_id column of the whole file (an id shared by rows of different chunks makes
    all of them error rows) and the columns without a header. Returns None when the file
    is not a CSV file whose chunks read exactly as load_batch reads the whole (.xlsx,
    ragged rows, stray quotes, bytes that are not text ...): load_batch then reads it, and
    reports its problem.
    """
    mapping = read_column_mapping(columns) if columns is not None else {}
    try:
        # Before the file is hashed: a change after this is caught by every chunk.
        stat = Path(applicants).stat()
    except OSError:
        stat = None  # inspect_file says what is wrong
    source = inspect_file(applicants, "applicants")
    if source.kind != "csv" or stat is None:
        return None
    bom = source.encoding == "utf-8-sig" and _has_bom(source.path)
    scan = scan_records(source.path, source.delimiter, 3 if bom else 0)
    # read_table's order: the encoding of the first bytes; Windows-1252 for the whole file
    # when a later byte is not UTF-8 (pandas reads the header from a larger first block).
    encoding = "utf-8" if source.encoding == "utf-8-sig" else "cp1252"
    ids: pa.Table | None = None
    if encoding == "utf-8":
        try:
            headers = csv_headers(source, source.encoding)
        except UnicodeDecodeError:
            encoding = "cp1252"
        else:
            plan_columns = _file_columns(headers, mapping, None, "applicants", source.shown)
            if scan is None:
                return None
            if not scan.utf8:
                # pyarrow checks only the columns it converts: bytes that are not UTF-8 in
                # an unread column leave the file UTF-8 to read_table. Read as it does.
                positions = _read_positions(plan_columns)
                ids = _read_ids(source, encoding, len(headers), positions)
                if ids is None:
                    encoding = "cp1252"
    if encoding == "cp1252":
        if scan is None or bom or not scan.cp1252 or has_utf8_sequences(source.path):
            return None  # (a UTF-8 file with a few Windows-1252 bytes: read_table reads it)
        try:
            headers = csv_headers(source, "cp1252")
            plan_columns = _file_columns(headers, mapping, None, "applicants", source.shown)
        except UnicodeDecodeError:
            return None
        except FileLevelError:
            if source.encoding == "cp1252":
                raise  # load_batch's first and only reading of the header: its error
            return None  # load_batch decides which problem it reports first
    if scan is None:
        return None
    rows = len(scan.offsets) - 1
    id_position = _position_of(plan_columns, "applicant_id")
    wanted = sorted({id_position, *plan_columns.blank_headers})
    if ids is None and rows == 0:
        ids = pa.table({str(p): pa.array([], type=pa.string()) for p in wanted})
    if ids is None:
        ids = _read_ids(source, encoding, len(headers), wanted)
    if ids is None or ids.num_rows != rows:
        return None
    _check_forms(source.shown, plan_columns, {"job": None, "edu": None})
    cells = {p: _clean_cells(ids.column(str(p)), distinct=p == id_position) for p in wanted}
    shared = _shared_ids(cells[id_position], _row_numbers(rows))
    file_issues = _unknown_issues(plan_columns, None, source.shown)
    file_issues += _blank_header_issues(
        source.shown, plan_columns, _with_values(cells, plan_columns)
    )
    return ChunkPlan(
        path=source.path.absolute(),
        shown=source.shown,
        encoding=encoding,
        delimiter=source.delimiter,
        width=len(headers),
        columns=plan_columns,
        shared=shared,
        file=InputFile("applicants", source.shown, source.sha256, rows),
        file_issues=file_issues,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        ctime_ns=stat.st_ctime_ns,
        inode=stat.st_ino,
        offsets=scan.offsets,
    )


def _read_ids(
    source: SourceFile, encoding: str, width: int, positions: list[int]
) -> pa.Table | None:
    """Columns `positions` of every data row as read_table reads them; None if pyarrow fails."""
    options = arrow_text_options(encoding, source.delimiter, width, positions, skip_header=True)
    try:
        return read_csv_file(source.path, options)
    except (pa.ArrowException, UnicodeError, LookupError):
        return None


def load_chunk(plan: ChunkPlan, chunk: ChunkRange, *, arrow_text: bool = False) -> Batch:
    """Load one chunk of a planned file: exactly load_batch's batch for those rows.

    With `arrow_text` (the chunk will be recorded in the audit store) the batch also
    carries its text fields as Arrow columns (`Batch.input_text`).

    Reads only the chunk's bytes (single-threaded). Row numbers are those of the whole
    file; an id shared with a row of another chunk is an error row here too. The chunk of
    index 0 also carries the file's warnings without a row, `files` and `unknown_columns`.
    Raises FileLevelError if the file changed since it was planned, and ValueError for a
    plan `for_chunk` cut down for another chunk (its shared ids would be missed).
    """
    if plan.only_chunk is not None and plan.only_chunk != chunk.index:
        raise ValueError(
            f"this plan was cut down for chunk {plan.only_chunk}, not chunk {chunk.index}; "
            "cut it with for_chunk for each chunk"
        )
    try:
        stat = plan.path.stat()
    except OSError as exc:
        raise _changed(plan, exc.strerror or type(exc).__name__) from None
    if stat.st_size != plan.size:
        raise _changed(plan, f"{plan.size} bytes first, {stat.st_size} bytes now")
    if (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino) != (
        plan.mtime_ns,
        plan.ctime_ns,
        plan.inode,
    ):
        raise _changed(plan, "it was saved again after it was first read")
    try:
        data = read_range(plan.path, chunk.start, chunk.end)
    except OSError as exc:
        raise _changed(plan, exc.strerror or type(exc).__name__) from None
    positions = _read_positions(plan.columns)
    options = arrow_text_options(
        plan.encoding, plan.delimiter, plan.width, positions, skip_header=False
    )
    try:
        table = read_csv_bytes(data, options, positions)
    except (pa.ArrowException, UnicodeError) as exc:
        raise _changed(plan, type(exc).__name__) from None
    if len(data) != chunk.end - chunk.start or table.num_rows != chunk.rows:
        raise _changed(plan, f"{chunk.rows} rows planned, {table.num_rows} read")
    del data
    raw = {p: table.column(str(p)) for p in positions}
    del table  # each raw column is freed once it is cleaned
    cells = _role_cells(plan.columns, raw.pop)
    rows = _row_numbers(chunk.rows, chunk.first_row - 2)
    # a chunk is small: its text as Arrow too costs little memory and saves the audit
    # record converting every cell again
    part = _applicant_rows(plan.shown, plan.columns, cells, rows, plan.shared, arrow=arrow_text)
    first = chunk.index == 0
    return Batch(
        applicants=part.applicants,
        jobs=part.entries["job"],
        education=part.entries["edu"],
        eeo=part.eeo,
        issues=(list(plan.file_issues) if first else []) + part.issues,
        files=[plan.file] if first else [],
        input_rows=chunk.rows,
        error_rows=int((~part.screenable).sum()),
        unknown_columns=[h for _, h in plan.columns.unknown] if first else [],
        entry_groups=plan.columns.entry_groups(),
        absent_fields=_absent_fields(plan.columns),
        input_text=part.input_text,
    )


def _absent_fields(columns: _Columns) -> list[str]:
    """Applicant fields no header of the file stands for."""
    present = {r.name for r in columns.roles.values() if r.kind == "applicant"}
    return [name for name in APPLICANT_DETAIL_FIELDS if name not in present]


def _changed(plan: ChunkPlan, detail: str) -> FileLevelError:
    return FileLevelError(
        f"applicants file {plan.shown!r} changed while it was being read ({detail}). "
        "Do not edit the file during a run; run again."
    )


def iter_batches(
    applicants: str | Path,
    *,
    columns: str | Path | None = None,
    chunk_rows: int = 100_000,
    arrow_text: bool = False,
) -> Iterator[Batch]:
    """Read a wide-form applicants file in batches of at most `chunk_rows` input rows.

    Together the batches hold exactly what load_batch gives for the file: the applicants,
    entries, demographics and row issues of each stretch of rows (row numbers are those of
    the whole file), and input_rows/error_rows add up. What concerns the file as a whole --
    warnings without a row (unknown columns, values under a blank header), `files` and
    `unknown_columns` -- is in the first batch only. An id shared by rows in different
    batches makes each of them an error row, as in load_batch.

    The file is planned (plan_wide_file) when this is called, so FileLevelError is raised
    before any batch exists; each batch is then one load_chunk. A file the plan does not
    cover (.xlsx, or a CSV file only the slower parser reads) comes as the single batch of
    load_batch. `arrow_text` is load_chunk's.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    plan = plan_wide_file(applicants, columns=columns)
    if plan is None:
        return iter([load_batch(applicants, columns=columns)])
    return (load_chunk(plan, chunk, arrow_text=arrow_text) for chunk in plan.ranges(chunk_rows))
