"""Load an applicant batch: one wide file, or applicants + jobs + education in the long form.

The loader reads text and decides which rows can be screened. It never parses dates or
numbers (the evidence stage does, and reports bad values). Every input row of the
applicants file is either a screenable applicant or an error row with an InputIssue.
Self-identification (`eeo_*`) columns are split off into `Batch.eeo` at once.

`iter_batches` reads a wide-form CSV file in chunks of rows through the same functions, so
that a large file never has to be held whole; together its batches are load_batch's batch.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from screening.columns import (
    APPLICANT_FIELDS,
    CANONICAL_PREFIX,
    EDUCATION_FIELDS,
    JOB_FIELDS,
    ColumnRole,
    EntryGroup,
    FileLevelError,
    header_key,
    parse_canonical,
    read_column_mapping,
    recognise,
    suggest,
)
from screening.reading import (
    InputFile,
    RawTable,
    SourceFile,
    csv_chunks,
    csv_headers,
    inspect_file,
    read_table,
    stream_csv,
    text_series,
)
from screening.results import InputIssue

__all__ = [
    "Batch",
    "FileLevelError",
    "InputFile",
    "iter_batches",
    "load_batch",
    "read_column_mapping",
    "BLANK_MARKERS",
]

#: Cell texts that mean "no value" (compared case-insensitively after stripping).
BLANK_MARKERS: frozenset[str] = frozenset({"", "n/a", "none", "-"})
#: Fields where "None" is a value: the degree level none.
NONE_IS_A_VALUE: frozenset[str] = frozenset({"degree"})

FIELDS_OF: dict[EntryGroup, tuple[str, ...]] = {"job": JOB_FIELDS, "edu": EDUCATION_FIELDS}
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


@dataclass
class _Columns:
    """The recognised columns of one file: header position -> role."""

    roles: dict[int, ColumnRole]
    unknown: list[tuple[int, str]]  # (position, header) of unknown, non-blank headers
    blank_headers: list[int]


def clean(values: pd.Series, none_is_value: bool = False) -> pd.Series:
    """Strip cells and turn blank markers into missing values (vectorised)."""
    stripped = values.astype(str).str.strip()
    lowered = stripped.str.lower()
    blank = lowered.isin(BLANK_MARKERS)
    if none_is_value:
        blank &= lowered != "none"
    return stripped.where(~blank)


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
    seen: dict[str, str] = {}
    for position, header in enumerate(headers):
        column_role: ColumnRole | None
        if header_key(header) in mapped:
            column_role = parse_canonical(mapped[header_key(header)])
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
                unknown.append((position, header))
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
    return _Columns(roles, unknown, blank_headers)


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
    issues = []
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
        names = ", ".join(FIELDS_OF[entry_group])
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


def _blank_headers_with_values(data: pd.DataFrame, columns: _Columns) -> set[int]:
    return {p for p in columns.blank_headers if clean(data[p]).notna().any()}


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


def _position_of(columns: _Columns, name: str) -> int:
    return next(p for p, r in columns.roles.items() if r.name == name and r.kind != "entry")


def _row_numbers(count: int, first_data_row: int = 0) -> np.ndarray:
    """Spreadsheet row numbers of `count` data rows (the header is row 1)."""
    return np.arange(count, dtype=np.int64) + (first_data_row + 2)


def _shared_ids(ids: pd.Series, rows: np.ndarray) -> dict[str, list[int]]:
    """Every id given to more than one row, with the rows sharing it (of the whole file)."""
    duplicated = (ids.duplicated(keep=False) & ids.notna()).to_numpy()
    if not duplicated.any():
        return {}
    shared = pd.DataFrame({"id": ids[duplicated].to_numpy(), "row": rows[duplicated]})
    grouped = shared.groupby("id", sort=False)["row"].agg(list)
    return {str(applicant_id): rows for applicant_id, rows in grouped.items()}


def _applicant_errors(
    table: RawTable, ids: pd.Series, rows: np.ndarray, shared: dict[str, list[int]]
) -> tuple[np.ndarray, list[InputIssue]]:
    """Rows without an id, and every row whose id is `shared`; issues for them."""
    shown = table.file.path
    missing = ids.isna().to_numpy()
    if shared:
        duplicated = (ids.isin(list(shared)) & ids.notna()).to_numpy()
    else:
        duplicated = np.zeros(len(ids), dtype=bool)
    issues: list[InputIssue] = []
    if missing.any():
        # Per-row work only over the error rows.
        empty = table.data.loc[missing].apply(lambda col: clean(col).isna()).all(axis=1).to_numpy()
        for row, is_empty in zip(rows[missing], empty, strict=True):
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
        for applicant_id, row in zip(ids[duplicated], rows[duplicated], strict=True):
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
    return missing | duplicated, issues


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
    for name in FIELDS_OF[group]:
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
    for name in FIELDS_OF[group]:
        result[name] = text(name)
    return pd.DataFrame(result, index=pd.RangeIndex(count))


def _nones(count: int) -> pd.Series:
    return pd.Series(np.full(count, None, dtype=object), dtype=object, copy=False)


def _screenable_column(
    table: RawTable, position: int, screenable: np.ndarray, name: str = ""
) -> pd.Series:
    """One column of the screenable rows, cleaned, indexed 0..k-1."""
    # The raw column is popped: its memory is freed as the batch is built.
    values = clean(
        table.data.pop(position),  # type: ignore[arg-type]  # int labels
        none_is_value=name in NONE_IS_A_VALUE,
    )
    if not screenable.all():
        values = values[screenable]
    return values.reset_index(drop=True)


def _wide_entries(
    group: EntryGroup,
    table: RawTable,
    columns: _Columns,
    screenable: np.ndarray,
    kept_ids: pd.Series,
    rows: np.ndarray,
    sources: list[tuple[str, str]],
) -> list[pd.DataFrame]:
    """Stack the job{n}_ / edu{n}_ column groups of screenable rows into one row per entry."""
    by_number: dict[int, dict[str, int]] = {}
    for position, role in columns.roles.items():
        if role.kind == "entry" and role.group == group and role.number is not None:
            by_number.setdefault(role.number, {})[role.name] = position
    kept_rows = rows[screenable]
    positions = np.flatnonzero(screenable)
    frames = []
    for number in sorted(by_number):
        fields = {
            name: _screenable_column(table, position, screenable, name)
            for name, position in by_number[number].items()
        }
        sources.append((table.file.path, f"{CANONICAL_PREFIX[group]}{number}_"))
        frames.append(
            _entry_frame(group, kept_ids, positions, number, kept_rows, len(sources) - 1, fields)
        )
    return frames


def _long_entries(
    group: EntryGroup,
    table: RawTable,
    columns: _Columns,
    applicant_ids: pd.Series,
    screenable: np.ndarray,
    applicants_file: str,
    sources: list[tuple[str, str]],
) -> tuple[pd.DataFrame, list[InputIssue]]:
    """Entries of a long-form file; rows with no or an unknown applicant_id are error rows."""
    shown = table.file.path
    data = table.data
    ids = clean(data[_position_of(columns, "applicant_id")])
    rows = _row_numbers(len(data))
    fields = {
        role.name: clean(data[position], none_is_value=role.name in NONE_IS_A_VALUE)
        for position, role in columns.roles.items()
        if role.kind == "entry"
    }
    has_value = np.zeros(len(data), dtype=bool)
    for values in fields.values():
        has_value |= values.notna().to_numpy()
    missing = ids.isna().to_numpy()
    known = ids.isin(applicant_ids.dropna()).to_numpy()
    issues: list[InputIssue] = []
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
    entries: dict[EntryGroup, list[pd.DataFrame]]  # of the wide-form entry columns
    sources: dict[EntryGroup, list[tuple[str, str]]]


def _applicant_rows(
    table: RawTable,
    columns: _Columns,
    ids: pd.Series,
    rows: np.ndarray,
    shared: dict[str, list[int]],
) -> _ApplicantRows:
    """Error rows, applicants, demographics and wide-form entries of the rows of `table`.

    `ids` are the cleaned ids of the rows, `rows` their spreadsheet row numbers and
    `shared` the ids shared by several rows of the whole file. The columns are popped from
    `table` as they are used.
    """
    shown = table.file.path
    errors, row_issues = _applicant_errors(table, ids, rows, shared)
    screenable = ~errors
    kept_ids = ids[screenable].reset_index(drop=True)

    applicant_columns: dict[str, object] = {
        "applicant_id": _as_object(kept_ids),
        "file": _as_object(np.full(len(kept_ids), shown, dtype=object)),
        "row": rows[screenable],
    }
    for name in APPLICANT_FIELDS[1:]:
        position = next(
            (p for p, r in columns.roles.items() if r.kind == "applicant" and r.name == name),
            None,
        )
        applicant_columns[name] = (
            _nones(len(kept_ids))
            if position is None
            else _as_object(_screenable_column(table, position, screenable))
        )
    applicant_frame = pd.DataFrame(applicant_columns, index=pd.RangeIndex(len(kept_ids)))

    eeo_columns: dict[str, object] = {"applicant_id": applicant_columns["applicant_id"]}
    for position, role in columns.roles.items():
        if role.kind == "eeo":
            eeo_columns[role.name] = _as_object(_screenable_column(table, position, screenable))
    eeo_frame = pd.DataFrame(eeo_columns, index=pd.RangeIndex(len(kept_ids)))

    entries: dict[EntryGroup, list[pd.DataFrame]] = {}
    sources: dict[EntryGroup, list[tuple[str, str]]] = {}
    for group in FIELDS_OF:
        sources[group] = []
        entries[group] = _wide_entries(
            group, table, columns, screenable, kept_ids, rows, sources[group]
        )
    return _ApplicantRows(
        applicant_frame,
        eeo_frame,
        screenable,
        sorted(row_issues, key=lambda i: i.row or 0),
        entries,
        sources,
    )


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

    issues = _unknown_issues(app_columns, None, shown)
    issues += _blank_header_issues(
        shown, app_columns, _blank_headers_with_values(table.data, app_columns)
    )
    unknown = [h for _, h in app_columns.unknown]
    rows = _row_numbers(len(table.data))
    ids = clean(table.data[_position_of(app_columns, "applicant_id")])
    part = _applicant_rows(table, app_columns, ids, rows, _shared_ids(ids, rows))
    issues.extend(part.issues)

    files = [table.file]
    entry_frames: dict[EntryGroup, pd.DataFrame] = {}
    for group, long_path in long_paths.items():
        sources = part.sources[group]
        frames = part.entries[group]
        if long_path is not None:
            long_table, long_columns = _read_with_columns(long_path, ROLE_OF[group], mapping, group)
            files.append(long_table.file)
            long_shown = long_table.file.path
            issues.extend(_unknown_issues(long_columns, group, long_shown))
            issues.extend(
                _blank_header_issues(
                    long_shown,
                    long_columns,
                    _blank_headers_with_values(long_table.data, long_columns),
                )
            )
            unknown.extend(h for _, h in long_columns.unknown)
            frame, long_issues = _long_entries(
                group, long_table, long_columns, ids, part.screenable, shown, sources
            )
            issues.extend(long_issues)
            frames.append(frame)
        entry_frames[group] = _finish_entries(group, frames, sources)

    order = {f.path: i for i, f in enumerate(files)}
    issues.sort(key=lambda i: (order.get(i.file, 0), i.row or 0))
    del table
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
    )


@dataclass
class _ChunkPlan:
    """What reading the applicants file once (cells of each block, then dropped) tells."""

    source: SourceFile
    encoding: str
    headers: list[str]
    columns: _Columns
    shared: dict[str, list[int]]
    file: InputFile
    file_issues: list[InputIssue]


def _plan_chunks(path: str | Path, mapping: dict[str, str]) -> _ChunkPlan | None:
    """Check the file as load_batch does and find its shared ids; None if it cannot be chunked.

    Every block is read with the options the chunks are read with, so a file that passes
    here cannot fail half-way. None (xlsx, or a CSV pyarrow rejects) means load_batch reads
    the file and reports its problem.
    """
    source = inspect_file(path, "applicants")
    if source.kind != "csv":
        return None
    # read_table's order: the encoding of the first bytes, then Windows-1252 for the whole
    # file when a later byte is not UTF-8.
    encodings = [source.encoding] + (["cp1252"] if source.encoding != "cp1252" else [])
    for encoding in encodings:
        try:
            headers = csv_headers(source, encoding)
        except UnicodeDecodeError:
            continue
        columns = _file_columns(headers, mapping, None, "applicants", source.shown)
        try:
            ids, with_values = _scan_ids(source, encoding, headers, columns)
        except (pa.ArrowException, UnicodeError, LookupError):
            continue
        _check_forms(source.shown, columns, {"job": None, "edu": None})
        rows = _row_numbers(len(ids))
        file = InputFile("applicants", source.shown, source.sha256, len(ids))
        file_issues = _unknown_issues(columns, None, source.shown)
        file_issues += _blank_header_issues(source.shown, columns, with_values)
        shared = _shared_ids(ids, rows)
        return _ChunkPlan(source, encoding, headers, columns, shared, file, file_issues)
    return None


def _scan_ids(
    source: SourceFile, encoding: str, headers: list[str], columns: _Columns
) -> tuple[pd.Series, set[int]]:
    """Cleaned ids of every row, and the blank-header columns holding values."""
    id_name = str(_position_of(columns, "applicant_id"))
    id_blocks: list[pa.Array] = []
    with_values: set[int] = set()
    for block in stream_csv(source, encoding, len(headers), _read_positions(columns)):
        id_blocks.append(block.column(id_name))
        for position in set(columns.blank_headers) - with_values:
            if clean(text_series(block.column(str(position)))).notna().any():
                with_values.add(position)
    ids = text_series(pa.chunked_array(id_blocks, type=pa.string()))
    return clean(ids), with_values


def _chunked_batches(plan: _ChunkPlan, chunk_rows: int) -> Iterator[Batch]:
    positions = _read_positions(plan.columns)
    encoding_name = "utf-8" if plan.encoding == "utf-8-sig" else plan.encoding
    id_position = _position_of(plan.columns, "applicant_id")
    first_data_row = 0
    try:
        for data in csv_chunks(
            plan.source, plan.encoding, len(plan.headers), positions, chunk_rows
        ):
            table = RawTable(plan.headers, data, plan.file, encoding_name)
            rows = _row_numbers(len(data), first_data_row)
            first = first_data_row == 0
            first_data_row += len(data)
            ids = clean(data[id_position])
            part = _applicant_rows(table, plan.columns, ids, rows, plan.shared)
            yield Batch(
                applicants=part.applicants,
                jobs=_finish_entries("job", part.entries["job"], part.sources["job"]),
                education=_finish_entries("edu", part.entries["edu"], part.sources["edu"]),
                eeo=part.eeo,
                issues=(plan.file_issues if first else []) + part.issues,
                files=[plan.file] if first else [],
                input_rows=len(rows),
                error_rows=int((~part.screenable).sum()),
                unknown_columns=[h for _, h in plan.columns.unknown] if first else [],
            )
    except (pa.ArrowException, UnicodeError) as exc:
        # The whole file was read without error before the first chunk.
        raise _changed(plan, type(exc).__name__) from None
    if first_data_row != plan.file.rows:
        raise _changed(plan, f"{plan.file.rows} rows first, {first_data_row} rows now")


def _changed(plan: _ChunkPlan, detail: str) -> FileLevelError:
    return FileLevelError(
        f"applicants file {plan.source.shown!r} changed while it was being read ({detail}). "
        "Do not edit the file during a run; run again."
    )


def iter_batches(
    applicants: str | Path,
    *,
    columns: str | Path | None = None,
    chunk_rows: int = 100_000,
) -> Iterator[Batch]:
    """Read a wide-form applicants file in batches of at most `chunk_rows` input rows.

    Together the batches hold exactly what load_batch gives for the file: the applicants,
    entries, demographics and row issues of each stretch of rows (row numbers are those of
    the whole file), and input_rows/error_rows add up. What concerns the file as a whole --
    warnings without a row (unknown columns, values under a blank header), `files` and
    `unknown_columns` -- is in the first batch only. An id shared by rows in different
    batches makes each of them an error row, as in load_batch.

    The file is checked and its ids are read (one pass, block by block) when this is
    called, so FileLevelError is raised before any batch exists. A CSV file is then read
    again one chunk at a time; an .xlsx file (or a CSV file only the slower parser reads)
    comes as the single batch of load_batch.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    mapping = read_column_mapping(columns) if columns is not None else {}
    plan = _plan_chunks(applicants, mapping)
    if plan is None:
        return iter([load_batch(applicants, columns=columns)])
    return _chunked_batches(plan, chunk_rows)
