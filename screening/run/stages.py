"""The screening pipeline: load → evidence → rules → explained results.

`ScreenJob.resolve` resolves what a run screens against once; `ScreenJob.screen` (through
`screen_batch`) screens an already-loaded batch under it, and the run's faces reach it
through `screening.run.chunks` (`ParallelRun` for files, `screen_loaded` for a batch the
app holds in memory). `screen_files` and `screen_stream` screen files in one process;
`screen_records` re-screens stored normalised input records (the audit trail's
re-screen). Screening is a pure function of the facts, so applicants with identical facts
are evaluated by the rule engine once.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from screening import __version__
from screening import engine as rule_engine
from screening import facts as F
from screening.columns import (
    APPLICANT_DETAIL_FIELDS,
    EDUCATION_FIELDS,
    JOB_FIELDS,
    EntryGroup,
    check_entry_columns,
)
from screening.evidence import Evidence, compute_evidence
from screening.explain import (
    credit_years,
    education_reasons,
    experience_reasons,
    held_reasons,
    license_column,
    license_words,
    principal_reasons,
)
from screening.loading import Batch, InputFile, iter_batches, load_batch
from screening.processes import usable_cores
from screening.results import (
    ERROR_COLUMNS,
    CriterionResult,
    Decision,
    EducationEvidence,
    InputIssue,
    JobEvidence,
    Outcome,
    Status,
)
from screening.ruleset import (
    OUTCOME_SUBJECT,
    PATTERN_FAILS,
    PATTERN_HOLDS,
    CompiledRuleset,
    compile_spec,
)
from screening.spec import JobSpec, Level, SpecError, load_spec, normal_condition
from screening.vocabulary import Vocabulary, vocabulary_for

EngineKind = Literal["durable", "vectorised"]
#: Where the durable rules run: distinct fact rows (one per row, columns = fact names) in,
#: each subject's statuses out, lined up with the rows. By default this process's engine
#: host; a run may spread a large batch's rows over its worker processes.
RuleStep = Callable[[CompiledRuleset, pd.DataFrame], dict[str, np.ndarray[Any, Any]]]

_COMPILED: dict[str, CompiledRuleset] = {}


def compiled_ruleset(spec: JobSpec) -> CompiledRuleset:
    """The spec's ruleset, compiled once per spec revision (cached by the spec's hash)."""
    key = spec.sha256()
    if key not in _COMPILED:
        _COMPILED[key] = compile_spec(spec)
    return _COMPILED[key]


@dataclass
class ScreeningResult:
    """Everything a screening run produced."""

    spec: JobSpec
    spec_path: str | None
    vocabulary: Vocabulary
    compiled: CompiledRuleset
    as_of: date
    requires_driving: bool
    batch: Batch
    evidence: Evidence
    results: pd.DataFrame
    statuses: dict[str, np.ndarray[Any, Any]]
    criterion_reasons: dict[str, np.ndarray[Any, Any]]
    issues: list[InputIssue]
    timings: dict[str, float] = field(default_factory=dict)
    engine_version: str = __version__
    #: the run setting --position-requires: conditions this position requires.
    position_requires: frozenset[str] = field(default_factory=frozenset)

    @property
    def ruleset(self) -> dict[str, Any]:
        """The durable_rules ruleset as plain data (no actions)."""
        return {self.compiled.name: self.compiled.definition}

    @property
    def ruleset_hash(self) -> str:
        """SHA-256 of the ruleset's canonical JSON."""
        return self.compiled.sha256

    @property
    def files(self) -> list[InputFile]:
        """The input files with their SHA-256."""
        return list(self.batch.files)

    @property
    def eeo(self) -> pd.DataFrame:
        """Voluntary self-identification columns, for aggregate reports only."""
        return self.batch.eeo

    def outcome_counts(self) -> dict[str, int]:
        """Applicants per outcome, every outcome listed."""
        counts = self.results["outcome"].value_counts()
        return {o.value: int(counts.get(o.value, 0)) for o in Outcome}

    def errors_frame(self) -> pd.DataFrame:
        """The errors table (errors and warnings), as DESIGN.md's Errors CSV."""
        # one tuple of attributes per issue: the frame model_dump's dicts gave, a few times
        # cheaper when a big batch has thousands of warnings
        fields = operator.attrgetter(*ERROR_COLUMNS)
        return pd.DataFrame([fields(i) for i in self.issues], columns=ERROR_COLUMNS).astype(
            {"row": "Int64"}
        )

    def position_of(self, applicant_id: str) -> int:
        """Row position of an applicant in the results."""
        matches = np.flatnonzero(self.results["applicant_id"].to_numpy() == applicant_id)
        if not len(matches):
            raise KeyError(f"no screened applicant with id {applicant_id!r}")
        return int(matches[0])

    def decision(self, applicant_id: str) -> Decision:
        """The full explained decision of one applicant."""
        return self._decision_at(self.position_of(applicant_id))

    def decisions(self) -> Iterator[Decision]:
        """Every decision, in input order (one pass over the evidence, however large)."""
        yield from self._decisions(np.arange(len(self.results)))

    def decision_summaries(self) -> Iterator[DecisionSummary]:
        """What the audit store records of each decision, in input order, built fast.

        The recorded detail holds the outcome, the pattern, years, every criterion's
        status, reason and values, the principal reasons and the conditions. Clause texts
        live in the recorded spec, and how each entry was read can be re-derived from the
        recorded input record (`audit rescreen`), so neither is repeated per applicant.
        """
        metas = self.criteria_meta()
        results = self.results
        ids = results["applicant_id"].astype(str).tolist()
        rows = self.batch.applicants["row"].astype(int).tolist()
        outcomes = results["outcome"].tolist()
        patterns = results["pattern"].tolist()
        years = results["qualifying_years"].astype(float).tolist()
        possible = [None if pd.isna(v) else float(v) for v in results["possible_years"].tolist()]
        reasons = results["reasons"].astype(str).tolist()
        conditions = results["conditions"].astype(str).tolist()
        statuses = {m["id"]: self.statuses[m["id"]].tolist() for m in metas}
        criterion_reasons = {m["id"]: self.criterion_reasons[m["id"]].tolist() for m in metas}
        facts = self.evidence.facts
        values = {
            name: facts[name].tolist() for name in {n for meta in metas for n in meta["facts"]}
        }
        for i, applicant_id in enumerate(ids):
            status_of = {m["id"]: str(statuses[m["id"]][i]) for m in metas}
            detail = {
                "applicant_id": applicant_id,
                "row": rows[i],
                "outcome": outcomes[i],
                "pattern": patterns[i] or None,
                "qualifying_years": years[i],
                "possible_years": possible[i],
                "criteria": [
                    {
                        "id": m["id"],
                        "kind": m["kind"],
                        "pattern": m["pattern"],
                        "status": status_of[m["id"]],
                        "reason": str(criterion_reasons[m["id"]][i]),
                        "values": {name: values[name][i] for name in m["facts"]},
                    }
                    for m in metas
                ],
                "reasons": [r for r in reasons[i].split(" | ") if r],
                "conditions": [c for c in conditions[i].split(" | ") if c],
            }
            yield DecisionSummary(applicant_id, rows[i], outcomes[i], status_of, detail)

    def _decision_at(self, position: int) -> Decision:
        return next(self._decisions(np.array([position])))

    def _decisions(self, positions: np.ndarray[Any, Any]) -> Iterator[Decision]:
        metas = self.criteria_meta()
        results = self.results.iloc[positions].to_dict("records")
        rows = self.batch.applicants["row"].to_numpy()[positions]
        facts = self.evidence.facts
        wanted = positions if len(positions) != len(facts) else slice(None)
        values = {
            name: facts[name].to_numpy()[wanted].tolist()
            for name in {n for meta in metas for n in meta["facts"]}
        }
        hours = self.spec.full_time_hours
        jobs = _grouped(self.evidence.jobs, positions, lambda r: _job_evidence(r, hours))
        education = _grouped(self.evidence.education, positions, _education_evidence)
        statuses = {m["id"]: self.statuses[m["id"]][positions] for m in metas}
        reasons = {m["id"]: self.criterion_reasons[m["id"]][positions] for m in metas}
        for index, row in enumerate(results):
            criteria = [
                CriterionResult.model_construct(
                    id=meta["id"],
                    kind=meta["kind"],
                    pattern=meta["pattern"],
                    status=Status(statuses[meta["id"]][index]),
                    clause=meta["clause"],
                    reason=str(reasons[meta["id"]][index]),
                    values={name: values[name][index] for name in meta["facts"]},
                )
                for meta in metas
            ]
            possible = row["possible_years"]
            yield Decision.model_construct(
                applicant_id=str(row["applicant_id"]),
                row=int(rows[index]),
                outcome=Outcome(row["outcome"]),
                pattern=row["pattern"] or None,
                qualifying_years=float(row["qualifying_years"]),
                possible_years=float(possible) if pd.notna(possible) else float("inf"),
                criteria=criteria,
                reasons=[r for r in str(row["reasons"]).split(" | ") if r],
                conditions=[c for c in str(row["conditions"]).split(" | ") if c],
                review_evidence=[c.reason for c in criteria if c.status == Status.review],
                jobs=jobs[index],
                education=education[index],
            )

    def criteria_meta(self) -> list[dict[str, Any]]:
        """Each criterion's id, kind, pattern, clause and the facts its values come from."""
        metas: list[dict[str, Any]] = []

        def add(item: Any, kind: str, pattern: str | None, facts: list[str]) -> None:
            metas.append(
                {"id": item.id, "kind": kind, "pattern": pattern, "clause": item.clause,
                 "facts": facts}
            )  # fmt: skip

        def add_held(pattern: str | None, licenses: Any, certificates: Any) -> None:
            for lic in licenses:
                add(lic, "license", pattern, [F.license_code(lic.id)])
            for cert in certificates:
                add(cert, "certificate", pattern, [F.certificate_code(cert.id)])

        for pattern in self.spec.patterns:
            if (e := pattern.education) is not None:
                add(e, "education", pattern.id, [
                    F.education_level_certain(e.id), F.education_level_possible(e.id),
                    F.education_years_certain(e.id), F.education_years_possible(e.id),
                ])  # fmt: skip
            for x in pattern.experience:
                add(x, "experience", pattern.id,
                    [F.experience_certain(x.id), F.experience_possible(x.id)])  # fmt: skip
            add_held(pattern.id, pattern.licenses, pattern.certificates)
        add_held(None, self.spec.licenses, self.spec.certificates)
        return metas

    def input_records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(applicant id, normalised input record) for every screened applicant."""
        yield from batch_records(self.batch)


@dataclass(frozen=True)
class DecisionSummary:
    """One decision as the audit store records it: ids, outcome, statuses, JSON-ready detail."""

    applicant_id: str
    row: int
    outcome: str
    statuses: dict[str, str]
    detail: dict[str, Any]


def _grouped(frame: pd.DataFrame, positions: np.ndarray[Any, Any], make: Any) -> list[list[Any]]:
    """Per wanted applicant position, its evidence rows turned into models (one pass)."""
    out: list[list[Any]] = [[] for _ in positions]
    if frame.empty or not len(positions):
        return out
    slot = np.full(int(max(positions.max(), frame["applicant_pos"].max())) + 1, -1)
    slot[positions] = np.arange(len(positions))
    owner = slot[frame["applicant_pos"].to_numpy(dtype=np.int64)]
    chosen = frame[owner >= 0]
    for where, record in zip(owner[owner >= 0], chosen.itertuples(index=False), strict=True):
        out[where].append(make(record))
    return out


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return None
    return str(value)


def _job_evidence(r: Any, full_time_hours: int) -> JobEvidence:
    def day(value: int) -> str | None:
        return date.fromordinal(int(value)).isoformat() if value > 0 else None

    return JobEvidence.model_construct(
        entry=int(r.entry) if r.entry is not None and not pd.isna(r.entry) else 0,
        requirement=str(r.requirement),
        title=_text(r.title),
        employer=_text(r.employer),
        industry=_text(r.industry),
        start=_text(r.start),
        end=_text(r.end),
        start_day=day(r.start_day),
        end_day=day(r.end_day),
        hours_per_week=None if np.isnan(r.hours_value) else float(r.hours_value),
        qualifying_percent=None if np.isnan(r.percent_value) else float(r.percent_value),
        classification=r.classification,
        matched=str(r.matched),
        problem=str(r.problem),
        years=float(r.credit) / F.year_credit(full_time_hours) if r.credit else 0.0,
    )


def _education_evidence(r: Any) -> EducationEvidence:
    counted = (
        "counts"
        if r.counts_certain
        else ("may count (uncertain)" if r.counts_possible else "does not count")
    )
    return EducationEvidence.model_construct(
        entry=int(r.entry) if r.entry is not None and not pd.isna(r.entry) else 0,
        degree=_text(r.degree),
        major=_text(r.major),
        institution=_text(r.institution),
        level_certain=str(r.level_certain),
        level_possible=str(r.level_possible),
        field_match=f"{r.field_status}: {r.field_note}" if r.field_note else str(r.field_status),
        counted=counted,
    )


def batch_records(batch: Batch) -> Iterator[tuple[str, dict[str, Any]]]:
    """Normalised input record of every applicant of a batch: what the decision was made on."""
    ids = batch.applicants["applicant_id"].astype(str).tolist()
    position = {applicant_id: index for index, applicant_id in enumerate(ids)}
    jobs = _entries_by_applicant(batch.jobs, JOB_FIELDS, position)
    education = _entries_by_applicant(batch.education, EDUCATION_FIELDS, position)
    people = _rows_of(batch.applicants, APPLICANT_DETAIL_FIELDS)
    for index, applicant_id in enumerate(ids):
        record: dict[str, Any] = {
            "applicant": {"applicant_id": applicant_id}
            | dict(zip(APPLICANT_DETAIL_FIELDS, people[index], strict=True)),
            "jobs": jobs[index],
            "education": education[index],
        }
        yield applicant_id, record


def _rows_of(frame: pd.DataFrame, fields: Sequence[str]) -> list[tuple[str | None, ...]]:
    """The frame's rows as tuples of text or None (blank), column by column for speed."""
    columns = []
    for name in fields:
        if name in frame.columns:
            columns.append([_text(v) for v in frame[name].tolist()])
        else:
            columns.append([None] * len(frame))
    return list(zip(*columns, strict=True)) if columns else [() for _ in range(len(frame))]


def _entries_by_applicant(
    frame: pd.DataFrame, fields: Sequence[str], position: dict[str, int]
) -> list[list[dict[str, str | None]]]:
    """Entries of each applicant (by position), in file order, as plain dicts."""
    out: list[list[dict[str, str | None]]] = [[] for _ in position]
    if frame.empty:
        return out
    rows = _rows_of(frame, fields)
    for applicant_id, row in zip(frame["applicant_id"].astype(str).tolist(), rows, strict=True):
        where = position.get(applicant_id)
        if where is not None:
            out[where].append(dict(zip(fields, row, strict=True)))
    return out


def default_workers() -> int:
    """Worker processes of a run (`screening.run.chunks`): every core this process may use."""
    return usable_cores()


class DecisionMemo:
    """Statuses of the distinct fact rows this process has already evaluated.

    Screening is a pure function of the (clipped) facts, so a process screening one
    chunk after another keeps what the rules said of each distinct row and evaluates only
    rows it has not seen. Bounded: past `limit` rows it starts afresh.
    """

    def __init__(self, compiled: CompiledRuleset, limit: int = 200_000) -> None:
        self.compiled = compiled
        self.limit = limit
        self._position: dict[bytes, int] = {}
        self._statuses: dict[str, np.ndarray[Any, Any]] = {}

    def __len__(self) -> int:
        return len(self._position)

    def statuses(
        self,
        distinct: np.ndarray[Any, Any],
        evaluate: Callable[[np.ndarray[Any, Any]], dict[str, np.ndarray[Any, Any]]],
    ) -> dict[str, np.ndarray[Any, Any]]:
        """Statuses of each distinct row, evaluating with `evaluate` only the unseen ones."""
        if len(self._position) + len(distinct) > self.limit:
            self._position.clear()
            self._statuses.clear()
        rows = np.ascontiguousarray(distinct)
        keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
        keys_bytes = [k.tobytes() for k in keys]
        positions = np.fromiter(
            (self._position.get(k, -1) for k in keys_bytes), dtype=np.int64, count=len(keys)
        )
        unseen = np.flatnonzero(positions < 0)
        if len(unseen):
            fresh = evaluate(rows[unseen])
            first = len(self._position)
            for offset, row in enumerate(unseen.tolist()):
                self._position[keys_bytes[row]] = first + offset
            positions[unseen] = np.arange(first, first + len(unseen))
            for subject, column in fresh.items():
                known = self._statuses.get(subject)
                self._statuses[subject] = (
                    column if known is None else np.concatenate([known, column])
                )
        return {subject: known[positions] for subject, known in self._statuses.items()}


def decide(
    compiled: CompiledRuleset,
    facts: pd.DataFrame,
    engine: EngineKind = "durable",
    *,
    memo: DecisionMemo | None = None,
    rules: RuleStep | None = None,
) -> dict[str, np.ndarray[Any, Any]]:
    """Statuses of every subject for every fact row, evaluating each distinct fact once.

    Facts are first clipped at the largest threshold any rule compares them with (above
    it nothing changes), so applicants whose facts differ only beyond every threshold
    share one evaluation. With a memo, rows an earlier call evaluated are not evaluated
    again. The durable rules run on this process's engine host unless `rules` says where
    (a run spreads a large batch's rows over its worker processes: `screening.run.chunks`).
    """
    names = [n for n in compiled.fact_names if n != F.KEY]
    values = facts[names].to_numpy(dtype=np.int64, copy=True)
    for fact, limit in compiled.clip_limits:
        column = names.index(fact)
        np.minimum(values[:, column], limit, out=values[:, column])
    if len(values):
        unique, inverse = np.unique(values, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
    else:
        unique, inverse = values, np.zeros(0, dtype=np.int64)

    def evaluate(rows: np.ndarray[Any, Any]) -> dict[str, np.ndarray[Any, Any]]:
        distinct = pd.DataFrame(rows, columns=names)
        distinct.insert(0, F.KEY, np.arange(len(distinct), dtype=np.int64))
        if engine == "durable":
            if rules is not None:
                return rules(compiled, distinct)
            return rule_engine.evaluate(compiled, distinct).statuses
        return rule_engine.evaluate_vectorised(compiled, distinct).statuses

    if memo is not None and memo.compiled is compiled and len(unique):
        by_row = memo.statuses(unique, evaluate)
    else:
        by_row = evaluate(unique)
    return {subject: column[inverse] for subject, column in by_row.items()}


def screen_batch(
    spec: JobSpec,
    batch: Batch,
    *,
    as_of: date,
    requires_driving: bool = False,
    position_requires: frozenset[str] = frozenset(),
    spec_path: str | Path | None = None,
    vocabulary: Vocabulary | None = None,
    engine: EngineKind = "durable",
    memo: DecisionMemo | None = None,
    rules: RuleStep | None = None,
) -> ScreeningResult:
    """Screen a loaded batch against a spec, in this process.

    `memo` keeps the rules' statuses of fact rows between calls (for a process screening
    chunk after chunk); `rules` is where the durable rules run (`decide`).
    """
    timings: dict[str, float] = {}
    vocab = vocabulary if vocabulary is not None else vocabulary_for(spec, spec_path)
    compiled = compiled_ruleset(spec)
    if engine == "durable":
        rule_engine.register(compiled)
    started = time.perf_counter()
    evidence = compute_evidence(
        spec,
        vocab,
        batch.applicants,
        batch.jobs,
        batch.education,
        as_of=as_of,
        requires_driving=requires_driving,
        position_requires=position_requires,
        absent_fields=batch.absent_fields,
    )
    timings["evidence"] = time.perf_counter() - started
    started = time.perf_counter()
    statuses = decide(compiled, evidence.facts, engine, memo=memo, rules=rules)
    timings["rules"] = time.perf_counter() - started
    started = time.perf_counter()
    results, criterion_reasons = _results_frame(spec, compiled, batch, evidence, statuses, as_of)
    timings["explain"] = time.perf_counter() - started
    return ScreeningResult(
        spec=spec,
        spec_path=str(spec_path) if spec_path is not None else None,
        vocabulary=vocab,
        compiled=compiled,
        as_of=as_of,
        requires_driving=requires_driving,
        batch=batch,
        evidence=evidence,
        results=results,
        statuses=statuses,
        criterion_reasons=criterion_reasons,
        issues=sorted(
            [*batch.issues, *evidence.issues],
            key=lambda i: (i.severity != "error", i.file, i.row or 0),
        ),
        timings=timings,
        position_requires=position_requires,
    )


def _results_frame(
    spec: JobSpec,
    compiled: CompiledRuleset,
    batch: Batch,
    evidence: Evidence,
    statuses: dict[str, np.ndarray[Any, Any]],
    as_of: date,
) -> tuple[pd.DataFrame, dict[str, np.ndarray[Any, Any]]]:
    facts = evidence.facts
    count = len(facts)
    as_of_day = as_of.toordinal()

    def absent(column: str) -> str | None:
        return column if column in batch.absent_fields else None

    reasons: dict[str, np.ndarray[Any, Any]] = {}
    conditions = np.full(count, "", dtype=object)
    pattern_years: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {}
    pattern_failures: dict[str, np.ndarray[Any, Any]] = {}
    for pattern in spec.patterns:
        failing = np.zeros(count, dtype=np.int64)
        if pattern.education is not None:
            req = pattern.education
            reasons[req.id] = education_reasons(
                req, pattern, spec, statuses[req.id], facts, evidence.education
            )
            failing += statuses[req.id] == Status.not_met.value
        for exp in pattern.experience:
            reasons[exp.id] = experience_reasons(
                exp, statuses[exp.id], facts, evidence.jobs, spec.full_time_hours, as_of_day
            )
            failing += statuses[exp.id] == Status.not_met.value
        for lic in pattern.licenses:
            reasons[lic.id] = held_reasons(
                lic.id, license_words(lic.kind, lic.state), statuses[lic.id],
                facts[F.license_code(lic.id)].to_numpy(), absent(license_column(lic.kind)),
            )  # fmt: skip
            failing += statuses[lic.id] == Status.not_met.value
        for cert in pattern.certificates:
            reasons[cert.id] = held_reasons(
                cert.id, cert.name, statuses[cert.id],
                facts[F.certificate_code(cert.id)].to_numpy(), absent("certificates"),
            )  # fmt: skip
            failing += statuses[cert.id] == Status.not_met.value
        if pattern.experience:
            first = pattern.experience[0]
            pattern_years[pattern.id] = (
                credit_years(
                    facts[F.experience_certain(first.id)].to_numpy(), spec.full_time_hours
                ),
                credit_years(
                    facts[F.experience_possible(first.id)].to_numpy(), spec.full_time_hours
                ),
            )
        else:
            pattern_years[pattern.id] = (np.zeros(count), np.zeros(count))
        pattern_failures[pattern.id] = failing
    for lic in spec.licenses:
        reasons[lic.id] = held_reasons(
            lic.id, license_words(lic.kind, lic.state), statuses[lic.id],
            facts[F.license_code(lic.id)].to_numpy(), absent(license_column(lic.kind)),
        )  # fmt: skip
    for cert in spec.certificates:
        reasons[cert.id] = held_reasons(
            cert.id, cert.name, statuses[cert.id],
            facts[F.certificate_code(cert.id)].to_numpy(), absent("certificates"),
        )  # fmt: skip
    for item_id in [lic.id for lic in spec.licenses] + [c.id for c in spec.certificates]:
        is_condition = statuses[item_id] == Status.condition.value
        conditions[is_condition] = reasons[item_id][is_condition]

    outcome = statuses[OUTCOME_SUBJECT]
    # the pattern that qualified, or the closest: fewest failing criteria, then most years
    pattern_ids = [p.id for p in spec.patterns]
    holds = np.stack([statuses[f"pattern.{p}"] == PATTERN_HOLDS for p in pattern_ids], axis=1)
    fails = np.stack([statuses[f"pattern.{p}"] == PATTERN_FAILS for p in pattern_ids], axis=1)
    failures = np.stack([pattern_failures[p] for p in pattern_ids], axis=1)
    certain_years = np.stack([pattern_years[p][0] for p in pattern_ids], axis=1)
    closeness = np.where(holds, -1e9, failures * 1e6 + fails * 1e3 - np.nan_to_num(certain_years))
    chosen = np.argmin(closeness, axis=1) if count else np.zeros(0, dtype=np.int64)
    rows = np.arange(count)
    qualifying_years = certain_years[rows, chosen] if count else np.zeros(0)
    possible_years = (
        np.stack([pattern_years[p][1] for p in pattern_ids], axis=1)[rows, chosen]
        if count
        else np.zeros(0)
    )
    pattern_column = (
        np.array(pattern_ids, dtype=object)[chosen] if count else np.zeros(0, dtype=object)
    )

    # patterns from closest to farthest, for a rejection's reasons
    pattern_order = np.argsort(closeness, axis=1, kind="stable").reshape(count, len(pattern_ids))
    principal = principal_reasons(spec, statuses, reasons, outcome, pattern_order, count)
    data: dict[str, Any] = {
        "applicant_id": batch.applicants["applicant_id"].to_numpy(dtype=object),
        "outcome": outcome,
    }
    for criterion_id in spec.criterion_ids():
        data[criterion_id] = statuses[criterion_id]
    # rounded down, so one day short of three years never shows as 3.0 beside not_met
    data["qualifying_years"] = np.floor(np.round(qualifying_years * 100, 6)) / 100
    data["possible_years"] = np.round(possible_years, 2)
    data["pattern"] = pattern_column
    data["reasons"] = principal
    data["conditions"] = conditions
    return pd.DataFrame(data), reasons


def check_screenable(
    spec: JobSpec, source: str, position_requires: frozenset[str] = frozenset()
) -> None:
    """Raise SpecError for a spec that may not screen anyone yet: a compiled draft with
    unparsed sentences that no analyst has reviewed, or a run naming a condition the spec
    does not know (a typo would silently make a requirement not applicable)."""
    if spec.unparsed and spec.reviewed is None:
        raise SpecError(
            f"{source}: this compiled spec has {len(spec.unparsed)} unparsed sentence(s) and "
            "has not been reviewed; read them (they are listed under 'unparsed'), correct the "
            "rules, then mark it reviewed on the app's Spec page or add 'reviewed: {by: NAME, "
            "at: YYYY-MM-DD}' to the YAML"
        )
    known = {normal_condition(c): c for c in spec.position_conditions()}
    unknown = sorted(c for c in position_requires if normal_condition(c) not in known)
    if unknown:
        named = ", ".join(repr(c) for c in known.values()) or "none"
        raise SpecError(
            f"{source}: --position-requires {', '.join(repr(c) for c in unknown)} is not a "
            f"condition of this spec; the conditions it names are: {named}"
        )


def loaded_spec(
    spec: str | Path | JobSpec,
    *,
    spec_path: str | Path | None = None,
    vocabulary: Vocabulary | None = None,
) -> tuple[JobSpec, str | None, Vocabulary]:
    """A spec (or the YAML file of one), the path it came from and its vocabulary, the
    spec compiled here (once per revision) so that a bad spec or vocabulary fails first.

    `spec_path` names the file a spec given as a JobSpec came from; `vocabulary` is the
    one it is screened with when the caller already holds it (a settled revision's).
    Whether the spec may screen anyone yet is `prepared_spec`'s question, not this one's.
    """
    if not isinstance(spec, JobSpec):
        spec_path = spec
    path = str(spec_path) if spec_path is not None else None
    job_spec = spec if isinstance(spec, JobSpec) else load_spec(spec)
    compiled_ruleset(job_spec)
    return job_spec, path, vocabulary if vocabulary is not None else vocabulary_for(job_spec, path)


def prepared_spec(
    spec: str | Path | JobSpec,
    position_requires: frozenset[str] = frozenset(),
    *,
    spec_path: str | Path | None = None,
    vocabulary: Vocabulary | None = None,
    shown_as: str | None = None,
) -> tuple[JobSpec, str | None, Vocabulary]:
    """A spec (or the YAML file of one), the path it came from and its vocabulary.

    The spec is compiled here (once per revision), so a bad spec or vocabulary fails
    before any applicant is read; so does a compiled draft nobody has reviewed, and a
    --position-requires condition the spec does not name (named in the message as
    `shown_as`, else by its path or id). `spec_path` and `vocabulary` are `loaded_spec`'s.
    """
    if not isinstance(spec, JobSpec):
        spec_path = spec
    job_spec = spec if isinstance(spec, JobSpec) else load_spec(spec)
    shown = shown_as or (str(spec_path) if spec_path is not None else job_spec.id)
    check_screenable(job_spec, shown, position_requires)
    return loaded_spec(job_spec, spec_path=spec_path, vocabulary=vocabulary)


@dataclass(frozen=True)
class ScreenJob:
    """What every applicant of a run is screened against, resolved once: the spec (checked
    and compiled), the file it came from, its vocabulary, the as-of date and the position's
    settings, the decision step and whether the run is recorded."""

    spec: JobSpec
    spec_path: str | None
    vocabulary: Vocabulary
    as_of: date
    requires_driving: bool
    engine: EngineKind
    record_audit: bool
    position_requires: frozenset[str] = frozenset()

    @classmethod
    def resolve(
        cls,
        spec: str | Path | JobSpec,
        *,
        as_of: date | None = None,
        requires_driving: bool = False,
        position_requires: frozenset[str] = frozenset(),
        engine: EngineKind = "durable",
        record_audit: bool = False,
        spec_path: str | Path | None = None,
        vocabulary: Vocabulary | None = None,
        shown_as: str | None = None,
    ) -> ScreenJob:
        """The job of a spec (or its YAML file); a bad spec fails here (`prepared_spec`),
        before any applicant is read. `as_of` defaults to today.

        A face that already holds the spec passes where it came from (`spec_path`), the
        vocabulary it is screened with (a settled revision's) and the name a person knows
        it by (`shown_as`, in the refusal of an unreviewed draft).
        """
        job_spec, path, vocab = prepared_spec(
            spec, position_requires, spec_path=spec_path, vocabulary=vocabulary, shown_as=shown_as
        )
        return cls(
            job_spec,
            path,
            vocab,
            as_of or date.today(),
            requires_driving,
            engine,
            record_audit,
            position_requires,
        )

    @classmethod
    def preview(
        cls, spec: JobSpec, vocabulary: Vocabulary, *, as_of: date, requires_driving: bool
    ) -> ScreenJob:
        """A job that shows what a draft would decide before anyone has reviewed it (the
        app's spec page compares a draft with its corrections): compiled, not checked as
        screenable, never recorded, and so never the job of a run."""
        compiled_ruleset(spec)
        return cls(spec, None, vocabulary, as_of, requires_driving, "durable", False)

    @classmethod
    def recorded(
        cls,
        spec: JobSpec,
        *,
        spec_path: str | None,
        as_of: date,
        requires_driving: bool,
        position_requires: frozenset[str] = frozenset(),
    ) -> ScreenJob:
        """The job of a recorded run, to decide its stored inputs again: its settings as
        recorded, the vocabulary found from the recorded spec file.

        Not `resolve`: the recorded spec and settings were checked when the run was made,
        and another spec given to compare with is taken as it is, so re-screening decides
        again whatever was decided then.
        """
        return cls(
            spec,
            spec_path,
            vocabulary_for(spec, spec_path),
            as_of,
            requires_driving,
            engine="durable",
            record_audit=False,
            position_requires=position_requires,
        )

    def screen(
        self, batch: Batch, *, memo: DecisionMemo | None = None, rules: RuleStep | None = None
    ) -> ScreeningResult:
        """Screen a loaded batch under this job (the rules where `rules` says, else here)."""
        return screen_batch(
            self.spec,
            batch,
            as_of=self.as_of,
            requires_driving=self.requires_driving,
            position_requires=self.position_requires,
            spec_path=self.spec_path,
            vocabulary=self.vocabulary,
            engine=self.engine,
            memo=memo,
            rules=rules,
        )


def needed_entry_groups(spec: JobSpec) -> frozenset[EntryGroup]:
    """The entry groups a spec decides on: jobs when a pattern requires experience,
    education when one requires an education level or years of it."""
    needed: set[EntryGroup] = set()
    for pattern in spec.patterns:
        if pattern.experience:
            needed.add("job")
        education = pattern.education
        if education is not None and (education.min_level != Level.none or education.min_years):
            needed.add("edu")
    return frozenset(needed)


def check_batch_columns(
    spec: JobSpec, batch: Batch, declared_absent: Collection[EntryGroup] = ()
) -> None:
    """Raise MissingEntryColumns when the spec needs an entry group the batch has no column
    for and the user did not declare the file has none of (`declared_absent`)."""
    shown = batch.files[0].path if batch.files else "applicants"
    needed = needed_entry_groups(spec) - set(declared_absent)
    check_entry_columns(shown, batch.entry_groups, batch.unknown_columns, needed)


def screen_files(
    applicants: str | Path,
    spec: str | Path | JobSpec,
    *,
    jobs: str | Path | None = None,
    education: str | Path | None = None,
    columns: str | Path | None = None,
    as_of: date | None = None,
    requires_driving: bool = False,
    position_requires: frozenset[str] = frozenset(),
    engine: EngineKind = "durable",
) -> ScreeningResult:
    """Load applicant files and screen them against a spec (a JobSpec or a YAML path).

    Every entry column the files have is used, whatever the spec needs: front ends check
    that first with `check_batch_columns` (the command line and the app refuse a file
    without the job or education columns its spec decides on).
    """
    job = ScreenJob.resolve(
        spec,
        as_of=as_of,
        requires_driving=requires_driving,
        position_requires=position_requires,
        engine=engine,
    )
    started = time.perf_counter()
    batch = load_batch(applicants, jobs=jobs, education=education, columns=columns)
    load_time = time.perf_counter() - started
    result = job.screen(batch)
    result.timings = {"load": load_time, **result.timings}
    return result


def screen_stream(
    applicants: str | Path,
    spec: str | Path | JobSpec,
    *,
    jobs: str | Path | None = None,
    education: str | Path | None = None,
    columns: str | Path | None = None,
    as_of: date | None = None,
    requires_driving: bool = False,
    position_requires: frozenset[str] = frozenset(),
    engine: EngineKind = "durable",
    chunk_rows: int = 100_000,
    record_audit: bool = False,
) -> Iterator[ScreeningResult]:
    """Screen a batch chunk by chunk, so memory stays flat however large the file is.

    Every file-level problem is raised before the first chunk. The chunks' results, in
    order, are exactly `screen_files`' results (screening is per applicant); each chunk's
    `timings` covers its own stages. With `record_audit` (the chunks will be recorded in
    the audit store) each chunk also carries its input's text as Arrow columns.
    """
    job = ScreenJob.resolve(
        spec,
        as_of=as_of,
        requires_driving=requires_driving,
        position_requires=position_requires,
        engine=engine,
        record_audit=record_audit,
    )
    started = time.perf_counter()
    if jobs is None and education is None:
        batches: Iterator[Batch] = iter_batches(
            applicants, columns=columns, chunk_rows=chunk_rows, arrow_text=record_audit
        )
    else:
        batches = iter([load_batch(applicants, jobs=jobs, education=education, columns=columns)])
    for batch in batches:
        load_time = time.perf_counter() - started
        result = job.screen(batch)
        result.timings = {"load": load_time, **result.timings}
        yield result
        started = time.perf_counter()


def screen_records(job: ScreenJob, records: list[dict[str, Any]]) -> ScreeningResult:
    """Screen normalised input records (as `ScreeningResult.input_records` gives them) under
    a job: a recorded run's stored inputs decided again (`ScreenJob.recorded`)."""
    applicants = pd.DataFrame(
        [
            {
                **{f: None for f in APPLICANT_DETAIL_FIELDS},
                **r["applicant"],
                "file": "(stored record)",
                "row": i + 2,
            }
            for i, r in enumerate(records)
        ],
        columns=["applicant_id", "file", "row", *APPLICANT_DETAIL_FIELDS],
    )
    job_rows = [
        {"applicant_id": r["applicant"]["applicant_id"], "entry": n + 1, "file": "(stored record)",
         "row": i + 2, "column_prefix": f"job{n + 1}_", **j}
        for i, r in enumerate(records) for n, j in enumerate(r.get("jobs", []))
    ]  # fmt: skip
    edu_rows = [
        {"applicant_id": r["applicant"]["applicant_id"], "entry": n + 1, "file": "(stored record)",
         "row": i + 2, "column_prefix": f"edu{n + 1}_", **e}
        for i, r in enumerate(records) for n, e in enumerate(r.get("education", []))
    ]  # fmt: skip
    batch = Batch(
        applicants=applicants,
        jobs=pd.DataFrame(
            job_rows, columns=["applicant_id", "entry", "file", "row", "column_prefix", *JOB_FIELDS]
        ),
        education=pd.DataFrame(
            edu_rows,
            columns=["applicant_id", "entry", "file", "row", "column_prefix", *EDUCATION_FIELDS],
        ),
        eeo=pd.DataFrame({"applicant_id": applicants["applicant_id"]}),
        issues=[],
        files=[],
        input_rows=len(records),
        error_rows=0,
        unknown_columns=[],
    )
    return job.screen(batch)
