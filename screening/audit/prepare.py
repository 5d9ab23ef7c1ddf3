"""The CPU-heavy half of audit recording, done where the chunk was screened.

``prepare_chunk(result)`` turns a screened chunk into a :class:`PreparedChunk`: one block
(``screening.audit.blocks``) of compressed columns — the decisions as shown, the input
they were made on, apart the eeo answers — with each decision's leaf hashes, and the
counts the run's closing impact summary is built from. Encoding and hashing go column by
column; no object is built per decision for the pipeline's results. Only the chain itself
(one record per block) and the inserts are left to the process that holds the database,
so a process pool can screen *and* prepare in its workers. ``run_source(result)`` is the
small description of the run that ``AuditStore.recording`` starts from.

This module imports neither SQLAlchemy nor Alembic, so worker processes stay light.

Runs recorded by earlier releases store one row per decision: JSON objects (format 1) or
compact JSON arrays named by a ``decision_layout`` event (format 2);
:func:`expand_detail` and :func:`expand_input` read both.
"""

from __future__ import annotations

import gc
import json
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pydantic_core

from screening.audit.blocks import (
    BLOCK_FORMAT,
    FACT_PREFIX,
    OWNER,
    REASON_PREFIX,
    STATUS_PREFIX,
    join_leaves,
    leaves_of,
    pack,
    text_array,
    to_ipc,
)
from screening.audit.chain import canonical_json, compact_json
from screening.audit.protocols import ScreeningResultLike
from screening.results import Decision, Outcome, Status
from screening.spec import dump_spec

#: the self-identification columns the impact report groups by (as in screening.audit.impact,
#: not imported from there: it loads SciPy, which a worker does not need)
SEX_COLUMN = "eeo_sex"
RACE_COLUMN = "eeo_race_ethnicity"
LAYOUT_EVENT = "decision_layout"
#: the detail column of a format-4 block that codes principal reasons (see coded_reasons)
REASON_CODES = "reason_codes"
#: how shown lists (principal reasons, conditions) join their items
SHOWN_SEPARATOR = " | "

#: impact classes: failing / not selected, passing / selected, pending / in review, and
#: passing without a judgement at screening (condition, not applicable)
FAIL, PASS, PENDING, NOT_JUDGED = 0, 1, 2, 3
CLASSES = 4
_OUTCOME_CLASS = {
    Outcome.qualified.value: PASS,
    Outcome.not_qualified.value: FAIL,
    Outcome.needs_review.value: PENDING,
}


def _status_class(status: Status) -> int:
    if status is Status.review:
        return PENDING
    if status in (Status.condition, Status.not_applicable):
        return NOT_JUDGED
    return PASS if status.passing else FAIL


_STATUS_CLASS = {s.value: _status_class(s) for s in Status}
# enum .value is a slow descriptor; these lookups are on the per-decision path
_STATUS_TEXT: dict[Any, str] = {status: status.value for status in Status}
_OUTCOME_TEXT: dict[Any, str] = {outcome: outcome.value for outcome in Outcome}


class PrepareError(ValueError):
    """The screening result cannot be recorded (its decisions and inputs do not match)."""


@dataclass(frozen=True)
class RunSource:
    """What the run record is made of (taken from the first chunk); small and picklable."""

    spec_id: str
    spec_revision: str
    spec_sha256: str
    spec_yaml: str
    spec_path: str | None
    ruleset_hash: str
    ruleset_json: str
    #: (role, path, sha256, rows) of each input file
    files: tuple[tuple[str, str, str, int], ...]
    as_of: date
    requires_driving: bool
    criteria: tuple[str, ...]
    #: canonical JSON of the decision layout (format 2), None when chunks are self-describing
    layout: str | None
    #: the run setting --position-requires (conditions this position requires)
    position_requires: tuple[str, ...] = ()


@dataclass
class PreparedChunk:
    """One screened chunk as a stored block, waiting for its place in the chain.

    Picklable and compact: the block's compressed columns, its leaf hashes and the counts
    the run's closing impact summary is built from.
    """

    layout: str | None
    applicant_ids: list[str]
    #: Arrow IPC (zstd): applicant id, row, outcome, statuses (kept after a purge)
    kept: bytes
    #: Arrow IPC streams (zstd): the decision as shown, then the input it was made on
    private: bytes
    #: per decision: SHA-256 of its kept row, SHA-256 of its private rows
    leaves: bytes
    #: Arrow IPC (zstd): each decision's eeo answers (position, eeo_* columns), or None
    eeo: bytes | None
    outcome_counts: dict[str, int]
    #: (measure index: 0 overall then each criterion, sex answer, race answer, class, count)
    impact_counts: list[tuple[int, str, str, int, int]]
    #: distinct raw answers in order of first appearance (the first spelling names a group)
    sex_answers: list[str]
    race_answers: list[str]
    criteria: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.applicant_ids)

    @property
    def id_range(self) -> tuple[str, str] | None:
        """The smallest and largest applicant id: the lookup index of the block."""
        if not self.applicant_ids:
            return None
        return min(self.applicant_ids), max(self.applicant_ids)


# ---------------------------------------------------------------- the run


def run_source(result: ScreeningResultLike) -> RunSource:
    """The run description ``AuditStore.recording`` needs, from a run's first chunk."""
    spec = result.spec
    return RunSource(
        spec_id=spec.id,
        spec_revision=spec.revision,
        spec_sha256=spec.sha256(),
        spec_yaml=dump_spec(spec),
        spec_path=result.spec_path,
        ruleset_hash=result.ruleset_hash,
        ruleset_json=canonical_json(result.ruleset),
        files=tuple((f.role, f.path, f.sha256, f.rows) for f in result.files),
        as_of=result.as_of,
        requires_driving=result.requires_driving,
        # a result type from before the setting existed names no condition
        position_requires=tuple(sorted(getattr(result, "position_requires", ()))),
        criteria=tuple(spec.criterion_ids()),
        layout=canonical_json(_layout_of(result)),
    )


def _columnar(result: Any) -> bool:
    """Whether the result offers the pipeline's columns (then each value is a column)."""
    return (
        callable(getattr(result, "criteria_meta", None))
        and hasattr(result, "evidence")
        and hasattr(result, "batch")
        and hasattr(result, "statuses")
    )


def _layout_of(result: Any) -> dict[str, Any]:
    """What the run's blocks hold: columns of the pipeline, or JSON of other results."""
    if not _columnar(result):
        return {
            "format": BLOCK_FORMAT,
            "detail": "json",
            "criteria": [{"id": c} for c in result.spec.criterion_ids()],
        }
    from screening.columns import APPLICANT_FIELDS, EDUCATION_FIELDS, JOB_FIELDS

    return {
        "format": BLOCK_FORMAT,
        "detail": "columns",
        "criteria": [
            {"id": m["id"], "kind": m["kind"], "pattern": m["pattern"], "facts": m["facts"]}
            for m in result.criteria_meta()
        ],
        "input": {
            "applicant": list(APPLICANT_FIELDS),
            "jobs": list(JOB_FIELDS),
            "education": list(EDUCATION_FIELDS),
        },
    }


# ---------------------------------------------------------------- preparing a chunk


def prepare_chunk(result: ScreeningResultLike) -> PreparedChunk:
    """Encode and hash every decision of a screened chunk as one block (the CPU-heavy part).

    Pure: reads only the result. Raises :class:`PrepareError` when decisions and input
    records do not match or an applicant id repeats within the chunk.
    """
    with no_gc():
        layout = _layout_of(result)
        if _columnar(result):
            kept, private, statuses = _columnar_tables(result, layout)
        else:
            kept, private, statuses = _generic_tables(result)
        ids = kept.column("applicant_id").to_pylist()
        _check_unique(ids)
        outcomes = kept.column("outcome").to_pylist()
        kept_leaves, private_leaves = leaves_of(kept, private)
        criteria = [c["id"] for c in layout["criteria"]]
        chunk = PreparedChunk(
            layout=canonical_json(layout),
            applicant_ids=ids,
            kept=to_ipc(kept),
            private=pack(private, len(ids)),
            leaves=join_leaves(kept_leaves, private_leaves),
            eeo=_eeo_block(result.eeo, ids),
            outcome_counts=dict(Counter(outcomes)),
            impact_counts=[],
            sex_answers=[],
            race_answers=[],
            criteria=criteria,
        )
        _tally(chunk, ids, outcomes, statuses, result.eeo)
    return chunk


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small containers.

    Nothing built here forms cycles; without this, collections triggered by hundreds of
    thousands of new tuples and lists scan them all again and again (a third of the time).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_unique(ids: list[str]) -> None:
    if len(set(ids)) == len(ids):
        return
    seen: set[str] = set()
    for applicant_id in ids:
        if applicant_id in seen:
            raise PrepareError(
                f"applicant {applicant_id!r} has two decisions in one run; applicant "
                "ids must be unique within a batch"
            )
        seen.add(applicant_id)


def _kept_table(
    ids: list[str], rows: list[int], outcomes: list[str], statuses: dict[str, list[str | None]]
) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "applicant_id": text_array(ids),
        "row": pa.array(rows, type=pa.int64()),
        "outcome": text_array(outcomes),
    }
    for criterion, values in statuses.items():
        columns[STATUS_PREFIX + criterion] = text_array(values)
    return pa.table(columns)


def _columnar_tables(
    result: Any, layout: dict[str, Any]
) -> tuple[pa.Table, list[pa.Table], list[Sequence[str | None] | pa.Array]]:
    """The pipeline's result, column by column: no object per decision is built."""
    criteria = [c["id"] for c in layout["criteria"]]
    frame = result.results
    id_array = _str_array(frame["applicant_id"])
    if not id_array.equals(_str_array(result.batch.applicants["applicant_id"])):
        raise PrepareError(
            "the screening result's decisions and input records do not match: they must "
            "be the same applicants in the same order"
        )
    rows = result.batch.applicants["row"].astype(int).to_numpy()
    outcome_array = _str_array(frame["outcome"])
    status_arrays = {c: _str_array(result.statuses[c]) for c in criteria}
    kept = pa.table(
        {
            "applicant_id": id_array,
            "row": pa.array(rows, type=pa.int64()),
            "outcome": outcome_array,
            **{STATUS_PREFIX + c: a for c, a in status_arrays.items()},
        }
    )

    patterns = _str_array(frame["pattern"].fillna(""))
    detail: dict[str, pa.Array] = {
        # a blank pattern (none qualified) is missing
        "pattern": pc.if_else(pc.equal(patterns, ""), pa.scalar(None, pa.string()), patterns),
        "qualifying_years": pa.array(frame["qualifying_years"].astype(float).to_numpy()),
        # as the decision summaries give it: an unknown (NaN) possible total is missing
        "possible_years": pa.array(
            frame["possible_years"].astype(float).to_numpy(), from_pandas=True
        ),
        "reasons": _str_array(frame["reasons"]),
        REASON_CODES: pa.nulls(len(id_array), pa.string()),
        "conditions": _str_array(frame["conditions"]),
    }
    own = [_str_array(result.criterion_reasons[criterion]) for criterion in criteria]
    for criterion, reasons in zip(criteria, own, strict=True):
        detail[REASON_PREFIX + criterion] = reasons
    detail["reasons"], detail[REASON_CODES] = coded_reasons(detail["reasons"], own)
    facts = result.evidence.facts
    for meta in layout["criteria"]:
        for name in meta["facts"]:
            if FACT_PREFIX + name not in detail:
                detail[FACT_PREFIX + name] = _value_array(facts[name])
    tables = [pa.table(detail), *_input_tables(result.batch, id_array, layout["input"])]
    return kept, tables, list(status_arrays.values())


def coded_reasons(shown: pa.Array, own: Sequence[pa.Array]) -> tuple[pa.Array, pa.Array]:
    """The principal reasons as a format-4 block stores them: (text, codes).

    A decision's principal reasons are, as a rule, some of its own criteria's reasons
    joined by ' | ' (``screening.explain.principal_reasons``): such a decision stores the
    criteria's numbers in layout order ('1,0') and no text, so the longest text of a
    block is not stored, hashed and compressed twice. Any other decision (a part that is
    no reason of its own, such as the closest pattern of a rejection) keeps its text and
    no codes. Either way the text shown is exactly what the reader joins back: splitting
    at each ' | ' and joining with ' | ' gives back any text.
    """
    rows = len(shown)
    parts = pc.split_pattern(shown, SHOWN_SEPARATOR)
    flat = pc.list_flatten(parts)
    parents = pc.list_parent_indices(parts).to_numpy()
    part_lengths = pc.binary_length(flat).to_numpy(zero_copy_only=False)
    codes = np.full(len(flat), -1, dtype=np.int64)
    for number, reasons in enumerate(own):
        lengths = pc.binary_length(reasons).fill_null(-1).to_numpy(zero_copy_only=False)
        # only parts of the same length as the decision's own reason can equal it
        candidates = np.flatnonzero((codes < 0) & (part_lengths == lengths[parents]))
        if not len(candidates):
            continue
        same = pc.equal(flat.take(candidates), reasons.take(parents[candidates]))
        codes[candidates[same.fill_null(False).to_numpy(zero_copy_only=False)]] = number
    unmatched = np.bincount(parents[codes < 0], minlength=rows)
    coded = (unmatched == 0) & np.bincount(parents, minlength=rows).astype(bool)
    coded &= shown.is_valid().to_numpy(zero_copy_only=False)
    numbers = pa.ListArray.from_arrays(parts.offsets, pa.array(codes).cast(pa.string()))
    joined = pc.binary_join(numbers, ",")
    # taking by position (missing where left out) stores nothing for a missing value,
    # where if_else would keep the text under it
    positions = np.arange(rows, dtype=np.int64)
    return (
        shown.take(pa.array(positions, mask=coded)),
        joined.take(pa.array(positions, mask=~coded)),
    )


def shown_reasons(text: str | None, codes: str | None, own: Sequence[str | None]) -> str | None:
    """The principal reasons as shown, from a stored (text, codes) pair (see
    :func:`coded_reasons`); ``own`` holds the decision's criterion reasons in layout order.
    Raises :class:`PrepareError` when the codes name no criterion."""
    if codes is None:
        return text
    try:
        parts = [own[int(number)] for number in codes.split(",")]
    except (ValueError, IndexError):
        raise PrepareError(f"stored reason codes {codes!r} name no criterion") from None
    return SHOWN_SEPARATOR.join(part or "" for part in parts)


def _str_array(values: pd.Series | np.ndarray[Any, Any]) -> pa.Array:
    """Each value as ``str(value)`` in an Arrow string array, as one conversion where the
    values are plain strings already (an Arrow-backed column without a copy).

    Anything else (a missing value, a number, a ``str`` subclass whose ``str()`` differs
    from its text) goes value by value, so the result never depends on the path taken.
    """
    if isinstance(values, pd.Series):
        backing = values.array
        if (
            isinstance(values.dtype, pd.StringDtype)
            and values.dtype.storage == "pyarrow"
            and not values.hasnans
        ):
            array = pa.array(backing)
            if isinstance(array, pa.ChunkedArray):
                array = array.combine_chunks()
            return array.cast(pa.string())
        values = values.to_numpy(dtype=object)
    if values.dtype == object and _plain_strings(values):
        return pa.array(values, type=pa.string())
    return text_array([str(v) for v in values.tolist()])


def _optional_str_array(values: pd.Series) -> pa.Array:
    """Each value as ``str(value)``, a missing one (None, NaN, NA) as missing."""
    objects = values.to_numpy(dtype=object)
    if set(map(type, objects.tolist())) <= {str, type(None)}:
        return pa.array(objects, type=pa.string())  # the loader's text: str or None
    missing = pd.isna(objects)
    present = objects[~missing]
    if _plain_strings(present):
        return pa.array(objects, type=pa.string(), mask=missing)
    return text_array([None if m else str(v) for v, m in zip(objects, missing, strict=True)])


def _plain_strings(values: np.ndarray[Any, Any]) -> bool:
    """Whether every value is exactly a ``str`` (not a subclass such as an enum member)."""
    return set(map(type, values.tolist())) <= {str}


def _value_array(series: pd.Series) -> pa.Array:
    """A fact column as decided (numbers stay numbers; NaN is missing)."""
    try:
        return pa.Array.from_pandas(series.to_numpy())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return text_array([_text(v) for v in series.tolist()])


def _text_column(frame: pd.DataFrame, name: str) -> pa.Array:
    """A column as text, blank and missing as missing (what the input record stores)."""
    if name not in frame.columns:
        return pa.nulls(len(frame), pa.string())
    series = frame[name]
    try:
        # the loader's text columns convert in one step (Arrow-backed ones without a
        # copy); None and NaN become missing
        if hasattr(series.array, "__arrow_array__"):
            array = pa.array(series.array).cast(pa.string())
            if isinstance(array, pa.ChunkedArray):
                array = array.combine_chunks()
        else:
            array = pa.Array.from_pandas(series.to_numpy(dtype=object), type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return text_array([_text(v) for v in series.tolist()])
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    return str(value)


def _input_tables(batch: Any, ids: pa.Array, fields: dict[str, list[str]]) -> list[pa.Table]:
    """The normalised input of a chunk: applicant fields, then job and education rows,
    each row with the position of its applicant (``owner``, found in ``ids``), in file
    order."""
    loaded = _loaded_tables(batch, fields)
    if loaded is not None:
        return loaded
    applicant = pa.table({f: _text_column(batch.applicants, f) for f in fields["applicant"][1:]})
    tables = [applicant]
    for frame, names in ((batch.jobs, fields["jobs"]), (batch.education, fields["education"])):
        owner: np.ndarray[Any, Any] = (
            np.zeros(0, dtype=np.int64)
            if frame.empty
            # an entry of no applicant of the chunk has no position (-1)
            else pc.index_in(_str_array(frame["applicant_id"]), value_set=ids)
            .fill_null(-1)
            .to_numpy()
        )
        table = pa.table(
            {
                OWNER: pa.array(owner.astype(np.int32)),
                **{f: _text_column(frame, f) for f in names},
            }
        )
        if len(owner) and (owner[0] < 0 or (np.diff(owner) < 0).any()):
            # each applicant's entries together, in file order; entries of no applicant
            # dropped (the loader already gives them in this order)
            order = np.argsort(owner, kind="stable")
            table = table.take(pa.array(order[owner[order] >= 0]))
        tables.append(table)
    return tables


def _loaded_tables(batch: Any, fields: dict[str, list[str]]) -> list[pa.Table] | None:
    """The input tables from the Arrow text the loader made with the batch's frames
    (``Batch.input_text``), or None when it made none or a frame has changed since."""
    from screening.loading import APPLICANT_POSITION

    text = getattr(batch, "input_text", None)
    if text is None:
        return None
    tables = []
    for name, frame, names in (
        ("applicants", batch.applicants, fields["applicant"][1:]),
        ("jobs", batch.jobs, fields["jobs"]),
        ("education", batch.education, fields["education"]),
    ):
        table = text.table(name, frame)
        if table is None or not set(names) <= set(table.column_names):
            return None
        columns = {} if name == "applicants" else {OWNER: table.column(APPLICANT_POSITION)}
        columns.update({f: table.column(f) for f in names})
        tables.append(pa.table(columns))
    return tables


def _generic_tables(
    result: ScreeningResultLike,
) -> tuple[pa.Table, list[pa.Table], list[Sequence[str | None] | pa.Array]]:
    """Any other result (full explained decisions): each decision and input record as
    one JSON text column."""
    criteria = result.spec.criterion_ids()
    records = result.input_records()
    ids: list[str] = []
    rows: list[int] = []
    outcomes: list[str] = []
    statuses: dict[str, list[str | None]] = {c: [] for c in criteria}
    details: list[str] = []
    inputs: list[str] = []
    for applicant_id, row_number, outcome_value, statuses_of, detail_bytes in _decision_sources(
        result
    ):
        try:
            record_id, record = next(records)
        except StopIteration:
            raise PrepareError(
                f"no input record for applicant {applicant_id!r}: the screening "
                "result's decisions and input records do not match"
            ) from None
        if record_id != applicant_id:
            raise PrepareError(
                f"input record {record_id!r} does not belong to decision "
                f"{applicant_id!r}: decisions and input records must be in the same order"
            )
        ids.append(applicant_id)
        rows.append(row_number)
        outcomes.append(_OUTCOME_TEXT[outcome_value])
        for criterion in criteria:
            status = statuses_of.get(criterion)
            statuses[criterion].append(None if status is None else _STATUS_TEXT[status])
        details.append(detail_bytes.decode())
        inputs.append(compact_json(_without_eeo(record)).decode())
    if next(records, None) is not None:
        raise PrepareError("the screening result has more input records than decisions")
    kept = _kept_table(ids, rows, outcomes, statuses)
    detail = pa.table({"detail_json": text_array(details), "input_json": text_array(inputs)})
    return kept, [detail], list(statuses.values())


def _decision_sources(
    result: ScreeningResultLike,
) -> Iterator[tuple[str, int, Any, dict[str, Any], bytes]]:
    """(applicant id, row, outcome, statuses, detail JSON) of each decision.

    The compact summaries when the result offers them; otherwise the full decisions.
    """
    summaries = getattr(result, "decision_summaries", None)
    if summaries is not None:
        for s in summaries():
            yield s.applicant_id, s.row, s.outcome, s.statuses, pydantic_core.to_json(s.detail)
        return
    to_json = Decision.__pydantic_serializer__.to_json
    for decision in result.decisions():
        statuses = {c.id: c.status for c in decision.criteria}
        yield decision.applicant_id, decision.row, decision.outcome, statuses, to_json(decision)


def _without_eeo(record: dict[str, Any]) -> dict[str, Any]:
    """The input record minus any eeo_* answer: those live only in the eeo table."""
    applicant = record.get("applicant")
    cleaned = {k: v for k, v in record.items() if not str(k).startswith("eeo_")}
    if isinstance(applicant, dict):
        cleaned["applicant"] = {k: v for k, v in applicant.items() if not str(k).startswith("eeo_")}
    return cleaned


# ---------------------------------------------------------------- eeo and impact counts


def eeo_columns(frame: pd.DataFrame) -> list[str]:
    """The self-identification columns of an eeo frame."""
    return [str(c) for c in frame.columns if str(c).startswith("eeo_")]


def _eeo_block(frame: pd.DataFrame, ids: list[str]) -> bytes | None:
    """The chunk's eeo answers as one compressed block: each decision's position, then
    each eeo_* column (the first row of an applicant counts); None when there are none."""
    columns = eeo_columns(frame)
    if not len(frame) or not ids or not columns:
        return None
    if len(frame) == len(ids) and frame["applicant_id"].tolist() == ids:
        # the pipeline's eeo frame: one row per decision, in order
        table = {"position": pa.array(np.arange(len(ids), dtype=np.int32))}
        for column in columns:
            table[column] = _optional_str_array(frame[column])
        return to_ipc(pa.table(table))
    keys = frame["applicant_id"].astype(str)
    positions = pd.Index(ids).get_indexer(pd.Index(keys))
    keep = (positions >= 0) & ~keys.duplicated().to_numpy()
    order = np.argsort(positions[keep], kind="stable")
    data = frame.loc[keep, columns].astype(object).iloc[order]
    data = data.where(pd.notna(data), None)
    table = {"position": pa.array(positions[keep][order].astype(np.int32))}
    for column in columns:
        table[column] = text_array([None if v is None else str(v) for v in data[column].tolist()])
    return to_ipc(pa.table(table))


def _answers(
    frame: pd.DataFrame, ids: list[str], column: str
) -> tuple[np.ndarray[Any, Any], list[str]]:
    """Each decision's raw answer in one eeo column ('' when blank or missing), coded in
    order of first appearance: (codes, answers)."""
    if column not in frame.columns or not len(frame):
        return np.zeros(len(ids), dtype=np.int64), [""] if ids else []
    # the pipeline's eeo frame: one row per decision, in order (its ids already text)
    in_order = len(frame) == len(ids) and frame["applicant_id"].tolist() == ids
    if in_order or frame["applicant_id"].astype(str).tolist() == ids:
        values = frame[column].astype(object)
    else:
        pairs = frame[["applicant_id", column]].astype({"applicant_id": str})
        first: pd.Series = pairs.drop_duplicates("applicant_id").set_index("applicant_id")[column]
        values = first.reindex(ids).astype(object)
    return _coded_texts(values.to_numpy(dtype=object))


def _coded_texts(objects: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], list[str]]:
    """Values coded by ``str(value)`` in order of first appearance, a missing one (None,
    NaN) as '': (codes, texts).

    Coded by value first, then the few distinct values by their text, so two values
    with the same text (1 and '1', or a missing value and '') are one group, as if each
    had been made text first.
    """
    # missing values stay among the uniques, in their place of first appearance
    codes, uniques = pd.factorize(objects, use_na_sentinel=False)
    missing = pd.isna(uniques).tolist()
    shown = ["" if gone else str(u) for u, gone in zip(uniques.tolist(), missing, strict=True)]
    texts, merged = pd.factorize(np.array(shown, dtype=object))
    return texts[codes] if len(codes) else codes.astype(np.int64), [str(m) for m in merged]


def _tally(
    chunk: PreparedChunk,
    ids: list[str],
    outcomes: Sequence[str] | pa.Array,
    status_columns: Sequence[Sequence[str | None] | pa.Array],
    eeo: pd.DataFrame,
) -> None:
    """Counts per (measure, sex answer, race answer, class): what the impact summary needs."""
    # answers coded in order of first appearance (the first spelling names a group)
    sex_codes, sex = _answers(eeo, ids, SEX_COLUMN)
    race_codes, race = _answers(eeo, ids, RACE_COLUMN)
    chunk.sex_answers, chunk.race_answers = sex, race
    cell = (sex_codes * len(race) + race_codes) * CLASSES
    size = len(sex) * len(race) * CLASSES
    measures = [_classes(outcomes, _OUTCOME_CLASS, "outcome")]
    measures.extend(_classes(column, _STATUS_CLASS, "status") for column in status_columns)
    counts: list[tuple[int, str, str, int, int]] = []
    for index, classes in enumerate(measures):
        tally = np.bincount(cell + classes, minlength=size)
        for key in np.flatnonzero(tally).tolist():
            pair, klass = divmod(key, CLASSES)
            s, r = divmod(pair, len(race))
            counts.append((index, sex[s], race[r], klass, int(tally[key])))
    chunk.impact_counts = counts


def _classes(
    values: Sequence[str | None] | pa.Array, meaning: dict[str, int], what: str
) -> np.ndarray[Any, Any]:
    """Each value's impact class; a criterion not evaluated (missing) counts like review."""
    if isinstance(values, pa.Array):
        # coded by Arrow: no Python object per value
        encoded = values.dictionary_encode()
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        uniques = encoded.dictionary.to_pylist()
    else:
        codes, found = pd.factorize(np.asarray(values, dtype=object))  # missing: -1
        uniques = found.tolist()
    try:
        table = np.array([meaning[v] for v in uniques] + [PENDING], dtype=np.int64)
    except KeyError as exc:
        raise PrepareError(
            f"unknown {what} {exc.args[0]!r}; expected one of {sorted(meaning)}"
        ) from None
    classes: np.ndarray[Any, Any] = table[codes]  # -1 picks the last entry: PENDING
    return classes


class ImpactTally:
    """Sums the chunks' counts; builds the run's impact summary without a pass over rows."""

    def __init__(self, criteria: Sequence[str]) -> None:
        self.criteria = list(criteria)
        self.applicants = 0
        self._counts: dict[tuple[int, str, str, int], int] = {}
        self._sex: dict[str, None] = {}
        self._race: dict[str, None] = {}

    def add(self, chunk: PreparedChunk) -> None:
        """Add one chunk's counts (chunks in decision order: first spellings stay first)."""
        if chunk.impact_counts and chunk.criteria != self.criteria:
            raise PrepareError(
                "a chunk was screened against other criteria than the run it is recorded in"
            )
        self.applicants += len(chunk)
        counts = self._counts
        for measure, sex, race, klass, n in chunk.impact_counts:
            key = (measure, sex, race, klass)
            counts[key] = counts.get(key, 0) + n
        self._sex.update(dict.fromkeys(chunk.sex_answers))
        self._race.update(dict.fromkeys(chunk.race_answers))

    def counts_dict(self) -> dict[str, Any]:
        """The run's impact counts per measure, dimension and group, as JSON (see
        ``screening.audit.impact.counts_to_dict``): no statistics, so nothing heavy loads."""
        from screening.audit.impact import (
            DIMENSIONS,
            OVERALL,
            UNKNOWN,
            Counts,
            counts_to_dict,
            normalise_group,
        )

        sex_label = dict(zip(self._sex, normalise_group(list(self._sex)), strict=True))
        race_label = dict(zip(self._race, normalise_group(list(self._race)), strict=True))
        measures = [OVERALL, *self.criteria]
        tallies: dict[tuple[int, str], dict[str, list[int]]] = {}
        for (measure, sex, race, klass), n in self._counts.items():
            s, r = sex_label[sex], race_label[race]
            both = f"{s} / {r}" if s != UNKNOWN and r != UNKNOWN else UNKNOWN
            for dimension, label in zip(DIMENSIONS, (s, r, both), strict=True):
                cell = tallies.setdefault((measure, dimension), {}).setdefault(label, [0] * CLASSES)
                cell[klass] += n
        tables = [
            (
                name,
                dim,
                {
                    label: Counts(fail + passed + unjudged, passed + unjudged, pending, unjudged)
                    for label, (fail, passed, pending, unjudged) in tallies.get(
                        (index, dim), {}
                    ).items()
                },
            )
            for index, name in enumerate(measures)
            for dim in DIMENSIONS
        ]
        selected = sum(n for (m, _, _, k), n in self._counts.items() if m == 0 and k == PASS)
        pending = sum(n for (m, _, _, k), n in self._counts.items() if m == 0 and k == PENDING)
        return counts_to_dict(self.applicants, selected, pending, tables)


# ---------------------------------------------------------------- reading format 2


def expand_detail(
    text: str,
    layout: dict[str, Any] | None,
    applicant_id: str,
    row: int,
    outcome: str,
    statuses: dict[str, str],
) -> dict[str, Any]:
    """A stored decision detail as the object it stands for (either format)."""
    if not text.startswith("["):
        value: dict[str, Any] = json.loads(text)
        return value
    if layout is None:
        raise PrepareError("a compact decision has no decision_layout record in its run")
    pattern, years, possible, criteria, principal, conditions = json.loads(text)
    metas = layout["criteria"]
    own = [reason for reason, _ in criteria]
    return {
        "applicant_id": applicant_id,
        "row": row,
        "outcome": outcome,
        "pattern": pattern,
        "qualifying_years": years,
        "possible_years": possible,
        "criteria": [
            {
                "id": meta["id"],
                "kind": meta["kind"],
                "pattern": meta["pattern"],
                "status": statuses[meta["id"]],
                "reason": reason,
                "values": dict(zip(meta["facts"], values, strict=True)),
            }
            for meta, (reason, values) in zip(metas, criteria, strict=True)
        ],
        "reasons": [own[r] if isinstance(r, int) else r for r in principal],
        "conditions": conditions,
    }


def expand_input(text: str, layout: dict[str, Any] | None) -> dict[str, Any]:
    """A stored input record as the object it stands for (either format)."""
    if not text.startswith("["):
        value: dict[str, Any] = json.loads(text)
        return value
    if layout is None:
        raise PrepareError("a compact input record has no decision_layout record in its run")
    fields = layout["input"]
    applicant, jobs, education = json.loads(text)
    return {
        "applicant": dict(zip(fields["applicant"], applicant, strict=True)),
        "jobs": [dict(zip(fields["jobs"], job, strict=True)) for job in jobs],
        "education": [dict(zip(fields["education"], e, strict=True)) for e in education],
    }
