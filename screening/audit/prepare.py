"""The CPU-heavy half of audit recording, done where the chunk was screened.

``prepare_chunk(result)`` turns a screened chunk into a :class:`PreparedChunk`: every
decision's stored text (statuses, explained detail, input record), their SHA-256 hashes,
the content digest each chain record will cover, the eeo rows and the counts the run's
closing impact summary is built from. Only the chain itself (sequence numbers, record
digests and links) and the inserts are left to the process that holds the database, so a
process pool can screen *and* prepare in its workers. ``run_source(result)`` is the small
description of the run that ``AuditStore.recording`` starts from.

This module imports neither SQLAlchemy nor Alembic, so worker processes stay light.

Stored format of decisions (format 2)
-------------------------------------
A run of the screening pipeline opens with a ``decision_layout`` event (chained like every
record) naming the columns once; each decision then stores compact JSON arrays:

- detail: ``[pattern, qualifying_years, possible_years, [[reason, [values…]] per
  criterion], reasons, conditions]``, where a principal reason equal to a criterion's
  reason is that criterion's index;
- input record: ``[[applicant_id, applicant fields…], [[job fields…]…], [[education
  fields…]…]]``.

Both expand to exactly the objects stored before (a decision's id, row, outcome and
statuses come from their own columns). Runs of other result types, and stores written
before format 2, hold one JSON object per decision and input record; readers tell the two
apart by the first character (``[`` or ``{``).
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pydantic_core

from screening.audit.chain import (
    canonical_json,
    compact_json,
    decision_content,
    eeo_digest_line,
)
from screening.audit.protocols import ScreeningResultLike
from screening.results import Decision, Outcome, Status
from screening.spec import dump_spec

if TYPE_CHECKING:
    from screening.audit.impact import ImpactReport

#: the self-identification columns the impact report groups by (as in screening.audit.impact,
#: not imported from there: it loads SciPy, which a worker does not need)
SEX_COLUMN = "eeo_sex"
RACE_COLUMN = "eeo_race_ethnicity"
LAYOUT_FORMAT = 2
LAYOUT_EVENT = "decision_layout"

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
    """One screened chunk, serialised and hashed, waiting for its place in the chain.

    Column lists, one entry per decision in input order; picklable and compact.
    """

    layout: str | None
    applicant_ids: list[str]
    rows: list[int]
    outcomes: list[str]
    statuses_json: list[str]
    detail_json: list[str]
    detail_sha256: list[str]
    input_json: list[str]
    input_sha256: list[str]
    #: the decision content each chain record's digest covers
    contents: list[str]
    #: (index of the decision in this chunk, JSON of its eeo_* answers)
    eeo: list[tuple[int, str]]
    #: the lines this chunk adds to the run's eeo digest
    eeo_digest_lines: bytes
    outcome_counts: dict[str, int]
    #: (measure index: 0 overall then each criterion, sex answer, race answer, class, count)
    impact_counts: list[tuple[int, str, str, int, int]]
    #: distinct raw answers in order of first appearance (the first spelling names a group)
    sex_answers: list[str]
    race_answers: list[str]
    criteria: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.applicant_ids)


# ---------------------------------------------------------------- the run


def run_source(result: ScreeningResultLike) -> RunSource:
    """The run description ``AuditStore.recording`` needs, from a run's first chunk."""
    spec = result.spec
    layout = _layout_of(result)
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
        layout=None if layout is None else canonical_json(layout),
    )


def _columnar(result: Any) -> bool:
    """Whether the result offers the pipeline's columns (then it is stored as format 2)."""
    return (
        callable(getattr(result, "criteria_meta", None))
        and hasattr(result, "evidence")
        and hasattr(result, "batch")
        and hasattr(result, "statuses")
    )


def _layout_of(result: Any) -> dict[str, Any] | None:
    if not _columnar(result):
        return None
    from screening.evidence import EDUCATION_FIELDS, JOB_FIELDS
    from screening.pipeline import APPLICANT_FIELDS

    return {
        "format": LAYOUT_FORMAT,
        "criteria": [
            {"id": m["id"], "kind": m["kind"], "pattern": m["pattern"], "facts": m["facts"]}
            for m in result.criteria_meta()
        ],
        "input": {
            "applicant": ["applicant_id", *APPLICANT_FIELDS],
            "jobs": list(JOB_FIELDS),
            "education": list(EDUCATION_FIELDS),
        },
    }


# ---------------------------------------------------------------- preparing a chunk


def prepare_chunk(result: ScreeningResultLike) -> PreparedChunk:
    """Serialise and hash every decision of a screened chunk (the CPU-heavy part).

    Pure: reads only the result. Raises :class:`PrepareError` when decisions and input
    records do not match or an applicant id repeats within the chunk.
    """
    with no_gc():
        chunk = _prepare_columnar(result) if _columnar(result) else _prepare_generic(result)
        _check_unique(chunk.applicant_ids)
        _add_eeo(chunk, result.eeo)
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


def _empty_chunk(layout: str | None, criteria: list[str]) -> PreparedChunk:
    return PreparedChunk(
        layout, [], [], [], [], [], [], [], [], [], [], b"", {}, [], [], [], criteria
    )


def _finish_rows(chunk: PreparedChunk, details: list[bytes], inputs: list[bytes]) -> None:
    """Hash the serialised texts and compute each decision's content digest."""
    sha = hashlib.sha256
    detail_text = [d.decode() for d in details]
    input_text = [i.decode() for i in inputs]
    detail_sha = [sha(d).hexdigest() for d in details]
    input_sha = [sha(i).hexdigest() for i in inputs]
    chunk.detail_json, chunk.input_json = detail_text, input_text
    chunk.detail_sha256, chunk.input_sha256 = detail_sha, input_sha
    chunk.contents = list(
        map(
            decision_content,
            chunk.applicant_ids,
            chunk.rows,
            chunk.outcomes,
            chunk.statuses_json,
            detail_sha,
            input_sha,
        )
    )


def _prepare_columnar(result: Any) -> PreparedChunk:
    """The pipeline's result, column by column into format-2 rows (no dict per decision)."""
    layout = _layout_of(result)
    assert layout is not None
    criteria = [c["id"] for c in layout["criteria"]]
    chunk = _empty_chunk(canonical_json(layout), criteria)
    frame = result.results
    n = len(frame)
    if n == 0:
        return chunk
    ids = frame["applicant_id"].astype(str).tolist()
    chunk.applicant_ids = ids
    if result.batch.applicants["applicant_id"].astype(str).tolist() != ids:
        raise PrepareError(
            "the screening result's decisions and input records do not match: they must "
            "be the same applicants in the same order"
        )
    chunk.rows = result.batch.applicants["row"].astype(int).tolist()
    outcomes = frame["outcome"].astype(str).tolist()
    chunk.outcomes = outcomes
    status_columns = [[str(s) for s in result.statuses[c].tolist()] for c in criteria]
    # few distinct status combinations: their JSON is built once each
    statuses_cache: dict[tuple[str, ...], str] = {}
    statuses_json = []
    for combination in zip(*status_columns, strict=True):
        text = statuses_cache.get(combination)
        if text is None:
            text = compact_json(dict(zip(criteria, combination, strict=True))).decode()
            statuses_cache[combination] = text
        statuses_json.append(text)
    chunk.statuses_json = statuses_json
    chunk.outcome_counts = dict(Counter(outcomes))
    _tally(chunk, ids, outcomes, status_columns, result.eeo)

    facts = result.evidence.facts
    per_criterion = []
    reason_columns = []
    for meta in layout["criteria"]:
        reasons = [str(r) for r in result.criterion_reasons[meta["id"]].tolist()]
        reason_columns.append(reasons)
        values = [facts[name].tolist() for name in meta["facts"]]
        value_rows = list(zip(*values, strict=True)) if values else [()] * n
        per_criterion.append(list(zip(reasons, value_rows, strict=True)))
    patterns = [p or None for p in frame["pattern"].tolist()]
    years = frame["qualifying_years"].astype(float).tolist()
    # as the decision summaries give it: an unknown (NaN) possible total is null
    possible = [None if v != v else v for v in frame["possible_years"].astype(float).tolist()]
    principal = _principal_reasons(frame["reasons"].astype(str).tolist(), reason_columns)
    conditions = _split_cached(frame["conditions"].astype(str).tolist())
    to_json = pydantic_core.to_json
    details = [
        to_json(row)
        for row in zip(
            patterns,
            years,
            possible,
            zip(*per_criterion, strict=True),
            principal,
            conditions,
            strict=True,
        )
    ]
    inputs = [to_json(row) for row in _input_rows(result.batch, ids, layout["input"])]
    _finish_rows(chunk, details, inputs)
    return chunk


def _split_cached(texts: list[str]) -> list[list[str]]:
    """' | '-joined lists split (most are repeated, so each distinct text is split once)."""
    cache: dict[str, list[str]] = {}
    out = []
    for text in texts:
        parts = cache.get(text)
        if parts is None:
            parts = cache[text] = [p for p in text.split(" | ") if p]
        out.append(parts)
    return out


def _principal_reasons(texts: list[str], criterion_reasons: list[list[str]]) -> list[list[Any]]:
    """Each decision's principal reasons, a reason equal to a criterion's given as its index
    (they usually repeat the criterion reasons word for word)."""
    out: list[list[Any]] = []
    for text, own in zip(texts, zip(*criterion_reasons, strict=True), strict=True):
        out.append(
            [own.index(p) if p in own else p for p in text.split(" | ") if p] if text else []
        )
    return out


def _text_column(frame: pd.DataFrame, name: str) -> list[str | None]:
    """A column as text, blank and missing as None (what the input record stores)."""
    if name not in frame.columns:
        return [None] * len(frame)
    series = frame[name]
    values: list[Any] = series.tolist()
    if pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        return [_text(v) for v in values]
    # the loader's text columns: only missing values (None or NaN) and "" need a change
    for index in np.flatnonzero(series.isna().to_numpy()).tolist():
        values[index] = None
    if "" in values:
        values = [v or None for v in values]
    return values


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    return str(value)


def _input_rows(batch: Any, ids: list[str], fields: dict[str, list[str]]) -> Iterator[Any]:
    """Each applicant's input record as [applicant values, job rows, education rows]."""
    people = list(
        zip(ids, *(_text_column(batch.applicants, f) for f in fields["applicant"][1:]), strict=True)
    )
    index = pd.Index(ids)
    entries: list[list[list[tuple[Any, ...]]]] = []
    for frame, names in ((batch.jobs, fields["jobs"]), (batch.education, fields["education"])):
        if frame.empty:
            entries.append([[] for _ in ids])
            continue
        owner = index.get_indexer(frame["applicant_id"].astype(str))
        columns = [_text_column(frame, f) for f in names]
        if len(owner) and (owner[0] < 0 or (np.diff(owner) < 0).any()):
            # each applicant's entries together, in file order; entries of no applicant
            # dropped (the loader already gives them in this order)
            order = np.argsort(owner, kind="stable")
            order = order[owner[order] >= 0]
            owner = owner[order]
            columns = [np.asarray(c, dtype=object)[order].tolist() for c in columns]
        rows = list(zip(*columns, strict=True))
        bounds = np.searchsorted(owner, np.arange(len(ids) + 1)).tolist()
        entries.append([rows[a:b] for a, b in zip(bounds, bounds[1:], strict=False)])
    return zip(people, entries[0], entries[1], strict=True)


def _prepare_generic(result: ScreeningResultLike) -> PreparedChunk:
    """Any other result (full explained decisions): one JSON object per decision."""
    criteria = result.spec.criterion_ids()
    chunk = _empty_chunk(None, criteria)
    records = result.input_records()
    details: list[bytes] = []
    inputs: list[bytes] = []
    statuses_list: list[dict[str, str]] = []
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
        statuses = {k: _STATUS_TEXT[v] for k, v in statuses_of.items()}
        statuses_list.append(statuses)
        chunk.applicant_ids.append(applicant_id)
        chunk.rows.append(row_number)
        chunk.outcomes.append(_OUTCOME_TEXT[outcome_value])
        chunk.statuses_json.append(compact_json(statuses).decode())
        details.append(detail_bytes)
        inputs.append(compact_json(_without_eeo(record)))
    if next(records, None) is not None:
        raise PrepareError("the screening result has more input records than decisions")
    _finish_rows(chunk, details, inputs)
    chunk.outcome_counts = dict(Counter(chunk.outcomes))
    status_columns = [[s.get(c) for s in statuses_list] for c in criteria]
    _tally(chunk, chunk.applicant_ids, chunk.outcomes, status_columns, result.eeo)
    return chunk


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


def _add_eeo(chunk: PreparedChunk, frame: pd.DataFrame) -> None:
    """eeo rows (JSON of each applicant's answers) and this chunk's lines of the eeo digest."""
    if not len(frame) or not chunk.applicant_ids:
        return
    columns = eeo_columns(frame)
    data = frame[["applicant_id", *columns]].astype(object)
    data = data.where(pd.notna(data), None)
    cache: dict[tuple[Any, ...], str] = {}
    by_applicant: dict[str, str] = {}
    for values in data.itertuples(index=False, name=None):
        answers = values[1:]
        text = cache.get(answers)
        if text is None:
            text = cache[answers] = compact_json(dict(zip(columns, answers, strict=True))).decode()
        by_applicant[str(values[0])] = text
    lines = []
    for index, applicant_id in enumerate(chunk.applicant_ids):
        text = by_applicant.get(applicant_id)
        if text is not None:
            chunk.eeo.append((index, text))
            lines.append(eeo_digest_line(applicant_id, text))
    chunk.eeo_digest_lines = b"".join(lines)


def _answers(frame: pd.DataFrame, ids: list[str], column: str) -> list[str]:
    """Each decision's raw answer in one eeo column ('' when blank or missing)."""
    if column not in frame.columns or not len(frame):
        return [""] * len(ids)
    keys = frame["applicant_id"].astype(str).tolist()
    if keys == ids:  # the pipeline's eeo frame: one row per decision, in order
        values = frame[column].astype(object)
    else:
        pairs = frame[["applicant_id", column]].astype({"applicant_id": str})
        first: pd.Series = pairs.drop_duplicates("applicant_id").set_index("applicant_id")[column]
        values = first.reindex(ids).astype(object)
    return [str(v) for v in values.where(values.notna(), "").tolist()]


def _tally(
    chunk: PreparedChunk,
    ids: list[str],
    outcomes: list[str],
    status_columns: Sequence[Sequence[str | None]],
    eeo: pd.DataFrame,
) -> None:
    """Counts per (measure, sex answer, race answer, class): what the impact summary needs."""
    # answers coded in order of first appearance (the first spelling names a group)
    sex_codes, sex = pd.factorize(np.asarray(_answers(eeo, ids, SEX_COLUMN), dtype=object))
    race_codes, race = pd.factorize(np.asarray(_answers(eeo, ids, RACE_COLUMN), dtype=object))
    chunk.sex_answers, chunk.race_answers = list(sex), list(race)
    cell = (sex_codes * len(race) + race_codes) * CLASSES
    size = len(sex) * len(race) * CLASSES
    measures = [_classes(outcomes, _OUTCOME_CLASS, "outcome")]
    measures.extend(_classes(column, _STATUS_CLASS, "status") for column in status_columns)
    counts: list[tuple[int, str, str, int, int]] = []
    for index, classes in enumerate(measures):
        tally = np.bincount(cell + np.asarray(classes, dtype=np.int64), minlength=size)
        for key in np.flatnonzero(tally).tolist():
            pair, klass = divmod(key, CLASSES)
            s, r = divmod(pair, len(race))
            counts.append((index, str(sex[s]), str(race[r]), klass, int(tally[key])))
    chunk.impact_counts = counts


def _classes(values: Sequence[str | None], meaning: dict[str, int], what: str) -> list[int]:
    try:
        # a criterion not evaluated for an applicant (None) counts like review
        return [PENDING if v is None else meaning[v] for v in values]
    except KeyError as exc:
        raise PrepareError(
            f"unknown {what} {exc.args[0]!r}; expected one of {sorted(meaning)}"
        ) from None


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

    def report(self, source: str) -> ImpactReport:
        """The same report ``impact_report`` gives over the run's decisions."""
        from screening.audit.impact import (
            DIMENSIONS,
            OVERALL,
            UNKNOWN,
            Counts,
            ImpactReport,
            impact_table_from_counts,
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
            impact_table_from_counts(
                {
                    label: Counts(fail + passed + unjudged, passed + unjudged, pending, unjudged)
                    for label, (fail, passed, pending, unjudged) in tallies.get(
                        (index, dim), {}
                    ).items()
                },
                measure=name,
                dimension=dim,
            )
            for index, name in enumerate(measures)
            for dim in DIMENSIONS
        ]
        selected = sum(n for (m, _, _, k), n in self._counts.items() if m == 0 and k == PASS)
        pending = sum(n for (m, _, _, k), n in self._counts.items() if m == 0 and k == PENDING)
        return ImpactReport(
            applicants=self.applicants,
            selected=selected,
            pending=pending,
            tables=tables,
            source=source,
        )


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
