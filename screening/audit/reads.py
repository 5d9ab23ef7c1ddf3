"""Reading the audit store: runs, one decision, final outcomes, impact, stored inputs.

Each function takes the store's :class:`~screening.audit.database.Database` (the
``AuditStore``) or an open connection. The helpers that say what a run holds (its layout,
totals, legal hold, purge, the blocks an applicant is in) are used by the writer, the
retention and verify too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from screening.audit import schema as t
from screening.audit.blocks import (
    BLOCK_FORMATS,
    FACT_PREFIX,
    OWNER,
    REASON_PREFIX,
    STATUS_PREFIX,
    from_ipc,
    unpack,
    unpack_one,
)
from screening.audit.database import AuditError, Database
from screening.audit.impact import DEFAULT_MIN_GROUP, ImpactReport, impact_report
from screening.audit.overrides import OUTCOMES, apply_overrides, final_outcome, latest_overrides
from screening.audit.prepare import (
    LAYOUT_EVENT,
    REASON_CODES,
    PrepareError,
    expand_detail,
    expand_input,
    shown_reasons,
)
from screening.audit.records import (
    DecisionRecord,
    OverrideInfo,
    RunDetail,
    RunInfo,
    StoredScreening,
)
from screening.spec import spec_from_data

# ---------------------------------------------------------------- what the store answers


def run_row(conn: Connection, run_id: int) -> sa.Row[Any]:
    """A run's record; an :class:`AuditError` naming the command that lists runs if none."""
    row = conn.execute(sa.select(t.runs).where(t.runs.c.id == run_id)).one_or_none()
    if row is None:
        raise AuditError(f"no run {run_id} in the audit store; `screening audit runs` lists them")
    return row


def _run_info(conn: Connection, row: sa.Row[Any]) -> RunInfo:
    totals = run_totals(conn, row.id)
    return RunInfo(
        run_id=row.id,
        created_at=row.created_at,
        user=row.user_name,
        spec_id=row.spec_id,
        spec_revision=row.spec_revision,
        decisions=int(totals.get("decisions", 0)),
        outcome_counts=dict(totals.get("outcome_counts", {})),
        retention_until=row.retention_until,
        legal_hold=legal_hold(conn, row.id),
        purged=is_purged(conn, row.id),
    )


def runs(db: Database) -> list[RunInfo]:
    """Every recorded run, oldest first."""
    with db.read() as conn:
        rows = conn.execute(sa.select(t.runs).order_by(t.runs.c.id)).all()
        return [_run_info(conn, row) for row in rows]


def chain_head(db: Database) -> tuple[int, str]:
    """The newest sequence number and its link."""
    with db.read() as conn:
        head = conn.execute(sa.select(t.chain_head).where(t.chain_head.c.id == 1)).one()
        return int(head.seq), str(head.link)


def show(db: Database, run_id: int) -> RunDetail:
    """Everything recorded about one run, with its overrides and final outcome counts."""
    with db.read() as conn:
        row = run_row(conn, run_id)
        finals = _final_outcomes(conn, run_id)
        return RunDetail(
            info=_run_info(conn, row),
            spec_sha256=row.spec_sha256,
            spec_yaml=row.spec_yaml,
            spec_path=row.spec_path,
            ruleset_hash=row.ruleset_hash,
            files=json.loads(row.files_json),
            as_of=row.as_of,
            settings=json.loads(row.settings_json),
            engine_version=row.engine_version,
            overrides=_overrides(conn, run_id),
            final_counts={o: int((finals["final_outcome"] == o).sum()) for o in OUTCOMES},
        )


def decision(db: Database, run_id: int, applicant_id: str) -> DecisionRecord:
    """One applicant's stored decision, input and overrides."""
    with db.read() as conn:
        run_row(conn, run_id)
        row = conn.execute(
            sa.select(t.decisions).where(
                t.decisions.c.run_id == run_id, t.decisions.c.applicant_id == applicant_id
            )
        ).one_or_none()
        history = [o for o in _overrides(conn, run_id) if o.applicant_id == applicant_id]
        layout = run_layout(conn, run_id)
        if row is None and is_block_run(layout):
            assert layout is not None
            with _readable(run_id):
                return _block_decision(conn, run_id, applicant_id, layout, history)
        if row is None:
            raise AuditError(f"run {run_id} has no applicant {applicant_id!r}")
        with _readable(run_id):
            statuses = json.loads(row.statuses_json)
            return DecisionRecord(
                decision_id=row.id,
                run_id=run_id,
                applicant_id=applicant_id,
                row=row.row_number,
                outcome=row.outcome,
                final_outcome=final_outcome(row.outcome, [o.to_outcome for o in history]),
                statuses=statuses,
                detail=None
                if row.detail_json is None
                else expand_detail(
                    row.detail_json,
                    layout,
                    applicant_id,
                    row.row_number,
                    row.outcome,
                    statuses,
                ),
                input_record=None
                if row.input_json is None
                else expand_input(row.input_json, layout),
                overrides=history,
            )


def _block_decision(
    conn: Connection,
    run_id: int,
    applicant_id: str,
    layout: dict[str, Any],
    history: list[OverrideInfo],
) -> DecisionRecord:
    found = find_in_blocks(conn, run_id, applicant_id)
    if found is None:
        raise AuditError(f"run {run_id} has no applicant {applicant_id!r}")
    block_id, position, kept = found
    blob = conn.execute(sa.select(t.blocks.c.private).where(t.blocks.c.id == block_id)).scalar_one()
    # only the batch holding the decision is decoded
    private = None if blob is None else unpack_one(as_bytes(blob), position)
    one = kept.slice(position, 1)
    outcome = kept.column("outcome")[position].as_py()
    return DecisionRecord(
        decision_id=block_id,
        run_id=run_id,
        applicant_id=applicant_id,
        row=kept.column("row")[position].as_py(),
        outcome=outcome,
        final_outcome=final_outcome(outcome, [o.to_outcome for o in history]),
        statuses=_statuses_at(kept, position),
        detail=None if private is None else _block_detail(layout, one, private, 0),
        input_record=None if private is None else _block_inputs(layout, one, private)[0],
        overrides=history,
    )


def final_outcomes(db: Database, run_id: int) -> pd.DataFrame:
    """applicant_id, engine outcome, final outcome after overrides, overridden (bool)."""
    with db.read() as conn:
        run_row(conn, run_id)
        return _final_outcomes(conn, run_id)


def impact(db: Database, run_id: int, min_group: int = DEFAULT_MIN_GROUP) -> ImpactReport:
    """The adverse-impact report of a run (after purge: the summary kept at purge).

    ``min_group``: decided applicants a group needs to be the reference group or to be
    flagged by the four-fifths ratio alone.
    """
    with db.read() as conn:
        run_row(conn, run_id)
        if not is_purged(conn, run_id):
            report = impact_from_db(conn, run_id)
        else:
            payload = conn.execute(
                sa.select(t.events.c.payload_json)
                .where(t.events.c.run_id == run_id, t.events.c.kind == "impact_summary")
                .order_by(t.events.c.id.desc())
                .limit(1)
            ).scalar_one()
            report = ImpactReport.from_dict(json.loads(payload))
    return report if report.min_group == min_group else report.with_min_group(min_group)


def input_records(db: Database, run_id: int) -> list[tuple[str, dict[str, Any]]]:
    """The stored normalised input records of a run, in input order."""
    with db.read() as conn:
        run_row(conn, run_id)
        layout = run_layout(conn, run_id)
        if is_block_run(layout):
            assert layout is not None
            return _block_input_records(conn, run_id, layout)
        rows = conn.execute(
            sa.select(t.decisions.c.applicant_id, t.decisions.c.input_json)
            .where(t.decisions.c.run_id == run_id)
            .order_by(t.decisions.c.id)
        ).all()
        layout = layout_of(conn, run_id)
    if any(r.input_json is None for r in rows):
        raise AuditError(
            f"run {run_id}'s input records were purged at the end of retention; "
            "it can no longer be re-screened"
        )
    with _readable(run_id):
        return [(r.applicant_id, expand_input(r.input_json, layout)) for r in rows]


def _block_input_records(
    conn: Connection, run_id: int, layout: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    records: list[tuple[str, dict[str, Any]]] = []
    for block_id, kept in _kept_tables(conn, run_id):
        with _readable(run_id):
            private = _private_tables(conn, block_id)
            if private is None:
                raise AuditError(
                    f"run {run_id}'s input records were purged at the end of retention; "
                    "it can no longer be re-screened"
                )
            ids = kept.column("applicant_id").to_pylist()
            records.extend(zip(ids, _block_inputs(layout, kept, private), strict=True))
    return records


def stored_screening(db: Database, run_id: int) -> StoredScreening:
    """A run's recorded spec, settings, inputs and statuses, for re-screening it
    (screening.run.rescreen decides the inputs again; the store never runs the engine)."""
    with db.read() as conn:
        row = run_row(conn, run_id)
        stored = _stored_statuses(conn, run_id)
    records = input_records(db, run_id)
    return StoredScreening(
        run_id=run_id,
        spec_yaml=row.spec_yaml,
        spec_path=row.spec_path,
        as_of=row.as_of,
        settings=json.loads(row.settings_json),
        ruleset_hash=row.ruleset_hash,
        statuses=stored,
        records=[record for _, record in records],
    )


# ---------------------------------------------------------------- what a run holds


@contextmanager
def _readable(run_id: int) -> Iterator[None]:
    """Stored decisions that cannot be expanded are an audit problem, said as one."""
    try:
        yield
    except (PrepareError, ValueError) as exc:  # json's decode error is a ValueError
        raise AuditError(
            f"run {run_id}: a stored decision cannot be read ({exc}); "
            "run 'screening audit verify' to see which records were changed"
        ) from None


def run_totals(conn: Connection, run_id: int) -> dict[str, Any]:
    """The closing record of a run: counts, eeo digest, impact at record time."""
    totals = _events(conn, run_id, "run_totals")
    return totals[-1] if totals else {}


def _events(conn: Connection, run_id: int, kind: str) -> list[dict[str, Any]]:
    payloads = conn.execute(
        sa.select(t.events.c.payload_json)
        .where(t.events.c.run_id == run_id, t.events.c.kind == kind)
        .order_by(t.events.c.id)
    ).scalars()
    return [json.loads(p) for p in payloads]


def legal_hold(conn: Connection, run_id: int) -> bool:
    """Whether the run is under legal hold (its latest hold record turned it on)."""
    holds = _events(conn, run_id, "legal_hold")
    return bool(holds and holds[-1]["on"])


def is_purged(conn: Connection, run_id: int) -> bool:
    """Whether the run's applicant-level data was purged."""
    return bool(_events(conn, run_id, "purge"))


def _overrides(conn: Connection, run_id: int) -> list[OverrideInfo]:
    rows = conn.execute(
        sa.select(
            t.overrides,
            sa.func.coalesce(t.decisions.c.applicant_id, t.overrides.c.applicant_id).label("who"),
        )
        .outerjoin(t.decisions, t.decisions.c.id == t.overrides.c.decision_id)
        .where(t.overrides.c.run_id == run_id)
        .order_by(t.overrides.c.id)
    ).all()
    return [
        OverrideInfo(
            r.id,
            r.who,
            r.reviewer,
            r.created_at,
            r.from_outcome,
            r.to_outcome,
            r.justification,
        )
        for r in rows
    ]


def _final_outcomes(conn: Connection, run_id: int) -> pd.DataFrame:
    if is_block_run(layout_of(conn, run_id)):
        return _block_outcomes(conn, run_id)
    rows = conn.execute(
        sa.select(t.decisions.c.id, t.decisions.c.applicant_id, t.decisions.c.outcome)
        .where(t.decisions.c.run_id == run_id)
        .order_by(t.decisions.c.id)
    ).all()
    latest = _latest_row_overrides(conn, run_id)
    return pd.DataFrame(
        {
            "applicant_id": [r.applicant_id for r in rows],
            "engine_outcome": [r.outcome for r in rows],
            "final_outcome": apply_overrides(
                [r.id for r in rows], [r.outcome for r in rows], latest
            ),
            "overridden": [r.id in latest for r in rows],
        },
        columns=["applicant_id", "engine_outcome", "final_outcome", "overridden"],
    )


def impact_from_db(conn: Connection, run_id: int, source: str = "live") -> ImpactReport:
    """The impact report computed from a run's stored decisions, overrides and eeo rows."""
    if is_block_run(layout_of(conn, run_id)):
        spec_yaml = conn.execute(
            sa.select(t.runs.c.spec_yaml).where(t.runs.c.id == run_id)
        ).scalar_one()
        return _block_impact(conn, run_id, _criteria_of(spec_yaml), source)
    rows = conn.execute(
        sa.select(
            t.decisions.c.id, t.decisions.c.outcome, t.decisions.c.statuses_json, t.eeo.c.data_json
        )
        .outerjoin(t.eeo, t.eeo.c.decision_id == t.decisions.c.id)
        .where(t.decisions.c.run_id == run_id)
        .order_by(t.decisions.c.id)
    ).all()
    latest = _latest_row_overrides(conn, run_id)
    spec_yaml = conn.execute(
        sa.select(t.runs.c.spec_yaml).where(t.runs.c.id == run_id)
    ).scalar_one()
    criteria = _criteria_of(spec_yaml)
    # one parse of a joined array is far cheaper than a million small ones
    statuses = json.loads("[" + ",".join(r.statuses_json for r in rows) + "]")
    frame = pd.DataFrame.from_records(statuses, columns=criteria)
    frame["final_outcome"] = apply_overrides(
        [r.id for r in rows], [r.outcome for r in rows], latest
    )
    answers = json.loads("[" + ",".join(r.data_json or "{}" for r in rows) + "]")
    eeo = pd.DataFrame.from_records(answers)
    for column in eeo.columns:
        frame[column] = eeo[column].to_numpy()
    return impact_report(frame, criteria, source=source)


def layout_of(conn: Connection, run_id: int) -> dict[str, Any] | None:
    """The run's decision layout (format 2), None for a run of self-describing rows."""
    layouts = _events(conn, run_id, LAYOUT_EVENT)
    return layouts[-1] if layouts else None


def _criteria_of(spec_yaml: str) -> list[str]:
    return spec_from_data(yaml.safe_load(spec_yaml)).criterion_ids()


# ---------------------------------------------------------------- reading blocks (formats 3, 4)


def is_block_run(layout: dict[str, Any] | None) -> bool:
    """Whether a run of this layout stores its decisions in blocks (format 3 or 4)."""
    return layout is not None and layout.get("format") in BLOCK_FORMATS


def run_layout(conn: Connection, run_id: int) -> dict[str, Any] | None:
    """The run's layout event, checked to be one this release reads."""
    layout = layout_of(conn, run_id)
    if layout is not None and layout.get("format") not in (2, *BLOCK_FORMATS):
        raise AuditError(
            f"run {run_id} was recorded in a format this release does not read "
            f"({layout.get('format')!r}); use the release that recorded it"
        )
    return layout


def as_bytes(value: Any) -> bytes:
    """A stored binary value as bytes (a hand edit may have left text)."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def find_in_blocks(
    conn: Connection, run_id: int, applicant_id: str
) -> tuple[int, int, pa.Table] | None:
    """(block id, position, kept columns) of an applicant's decision, via each block's
    id range: only the blocks whose range holds the id are opened."""
    spans = conn.execute(
        sa.select(t.blocks.c.id, t.blocks.c.min_applicant, t.blocks.c.max_applicant)
        .where(t.blocks.c.run_id == run_id)
        .order_by(t.blocks.c.id)
    ).all()
    for block_id, low, high in spans:
        if not low <= applicant_id <= high:
            continue
        kept_blob = conn.execute(
            sa.select(t.blocks.c.kept).where(t.blocks.c.id == block_id)
        ).scalar_one()
        kept = from_ipc(as_bytes(kept_blob))
        position = pc.index(kept.column("applicant_id"), applicant_id).as_py()
        if position >= 0:
            return int(block_id), int(position), kept
    return None


def _private_tables(conn: Connection, block_id: int) -> list[pa.Table] | None:
    blob = conn.execute(sa.select(t.blocks.c.private).where(t.blocks.c.id == block_id)).scalar_one()
    return None if blob is None else unpack(as_bytes(blob))


def _statuses_at(kept: pa.Table, position: int) -> dict[str, str]:
    return {
        name[len(STATUS_PREFIX) :]: kept.column(name)[position].as_py()
        for name in kept.column_names
        if name.startswith(STATUS_PREFIX) and kept.column(name)[position].is_valid
    }


def _split_shown(text: str | None) -> list[str]:
    """A ' | '-joined list as shown, back into its items."""
    return [part for part in (text or "").split(" | ") if part]


def _block_detail(
    layout: dict[str, Any], kept: pa.Table, private: list[pa.Table], position: int
) -> dict[str, Any]:
    """The stored decision at a position of a block, as the explained-decision object."""
    detail = private[0].slice(position, 1).to_pylist()[0]
    if layout.get("detail") == "json":
        value: dict[str, Any] = json.loads(detail["detail_json"])
        return value
    statuses = _statuses_at(kept, position)
    own = [detail[REASON_PREFIX + meta["id"]] for meta in layout["criteria"]]
    # codes that name no criterion raise PrepareError: reported by the caller as unreadable
    shown = shown_reasons(detail["reasons"], detail.get(REASON_CODES), own)
    return {
        "applicant_id": kept.column("applicant_id")[position].as_py(),
        "row": kept.column("row")[position].as_py(),
        "outcome": kept.column("outcome")[position].as_py(),
        "pattern": detail["pattern"],
        "qualifying_years": detail["qualifying_years"],
        "possible_years": detail["possible_years"],
        "criteria": [
            {
                "id": meta["id"],
                "kind": meta["kind"],
                "pattern": meta["pattern"],
                "status": statuses.get(meta["id"]),
                "reason": detail[REASON_PREFIX + meta["id"]],
                "values": {name: detail[FACT_PREFIX + name] for name in meta["facts"]},
            }
            for meta in layout["criteria"]
        ],
        "reasons": _split_shown(shown),
        "conditions": _split_shown(detail["conditions"]),
    }


def _block_inputs(
    layout: dict[str, Any], kept: pa.Table, private: list[pa.Table]
) -> list[dict[str, Any]]:
    """Every stored input record of a block, in decision order."""
    if layout.get("detail") == "json":
        return [json.loads(text) for text in private[0].column("input_json").to_pylist()]
    fields = layout["input"]
    ids = kept.column("applicant_id").to_pylist()
    people = private[1].to_pylist()
    records: list[dict[str, Any]] = [
        {"applicant": {"applicant_id": applicant_id, **person}, "jobs": [], "education": []}
        for applicant_id, person in zip(ids, people, strict=True)
    ]
    for table, key, names in (
        (private[2], "jobs", fields["jobs"]),
        (private[3], "education", fields["education"]),
    ):
        owners = table.column(OWNER).to_pylist()
        for owner, entry in zip(owners, table.select(names).to_pylist(), strict=True):
            records[owner][key].append(entry)
    return records


def _kept_tables(conn: Connection, run_id: int) -> list[tuple[int, pa.Table]]:
    """(block id, kept columns) of every block of a run, in order."""
    rows = conn.execute(
        sa.select(t.blocks.c.id, t.blocks.c.kept)
        .where(t.blocks.c.run_id == run_id)
        .order_by(t.blocks.c.id)
    ).all()
    return [(int(block_id), from_ipc(as_bytes(kept))) for block_id, kept in rows]


def _latest_row_overrides(conn: Connection, run_id: int) -> dict[int, str]:
    """Each overridden decision row's latest outcome (runs stored a row per decision)."""
    return latest_overrides(
        conn.execute(
            sa.select(t.overrides.c.decision_id, t.overrides.c.to_outcome)
            .where(t.overrides.c.run_id == run_id)
            .order_by(t.overrides.c.id)
        ).all()
    )


def _latest_block_overrides(conn: Connection, run_id: int) -> dict[str, str]:
    return latest_overrides(
        conn.execute(
            sa.select(t.overrides.c.applicant_id, t.overrides.c.to_outcome)
            .where(t.overrides.c.run_id == run_id, t.overrides.c.decision_id.is_(None))
            .order_by(t.overrides.c.id)
        ).all()
    )


def _block_outcomes(conn: Connection, run_id: int) -> pd.DataFrame:
    kept = [table.select(["applicant_id", "outcome"]) for _, table in _kept_tables(conn, run_id)]
    ids: list[str] = []
    outcomes: list[str] = []
    for table in kept:
        ids.extend(table.column("applicant_id").to_pylist())
        outcomes.extend(table.column("outcome").to_pylist())
    latest = _latest_block_overrides(conn, run_id)
    return pd.DataFrame(
        {
            "applicant_id": ids,
            "engine_outcome": outcomes,
            "final_outcome": apply_overrides(ids, outcomes, latest),
            "overridden": [a in latest for a in ids],
        },
        columns=["applicant_id", "engine_outcome", "final_outcome", "overridden"],
    )


def _block_impact(conn: Connection, run_id: int, criteria: list[str], source: str) -> ImpactReport:
    """The impact report over a block run's kept columns and eeo blocks."""
    kept = _kept_tables(conn, run_id)
    eeo_rows = conn.execute(
        sa.select(t.eeo_blocks.c.block_id, t.eeo_blocks.c.data).where(
            t.eeo_blocks.c.run_id == run_id
        )
    ).all()
    eeo_of = {int(block_id): from_ipc(as_bytes(data)) for block_id, data in eeo_rows}
    latest = _latest_block_overrides(conn, run_id)
    parts = []
    for block_id, table in kept:
        frame = pd.DataFrame(
            {c: table.column(STATUS_PREFIX + c).to_pylist() for c in criteria}, columns=criteria
        )
        ids = table.column("applicant_id").to_pylist()
        outcomes = table.column("outcome").to_pylist()
        frame["final_outcome"] = apply_overrides(ids, outcomes, latest)
        answers = eeo_of.get(block_id)
        if answers is not None:
            positions = answers.column("position").to_numpy()
            for name in answers.column_names:
                if name == "position":
                    continue
                column = np.full(len(frame), None, dtype=object)
                column[positions] = answers.column(name).to_pylist()
                frame[name] = column
        parts.append(frame)
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=[*criteria, "final_outcome"])
    )
    return impact_report(frame, criteria, source=source)


def _stored_statuses(conn: Connection, run_id: int) -> list[tuple[str, str, dict[str, str]]]:
    """(applicant id, outcome, statuses) of every decision of a run, in order."""
    if not is_block_run(layout_of(conn, run_id)):
        rows = conn.execute(
            sa.select(
                t.decisions.c.applicant_id, t.decisions.c.outcome, t.decisions.c.statuses_json
            )
            .where(t.decisions.c.run_id == run_id)
            .order_by(t.decisions.c.id)
        ).all()
        return [(r.applicant_id, r.outcome, json.loads(r.statuses_json)) for r in rows]
    out: list[tuple[str, str, dict[str, str]]] = []
    for _, kept in _kept_tables(conn, run_id):
        ids = kept.column("applicant_id").to_pylist()
        outcomes = kept.column("outcome").to_pylist()
        names = [n for n in kept.column_names if n.startswith(STATUS_PREFIX)]
        columns = [kept.column(n).to_pylist() for n in names]
        for index, (applicant_id, outcome) in enumerate(zip(ids, outcomes, strict=True)):
            statuses = {
                n[len(STATUS_PREFIX) :]: c[index]
                for n, c in zip(names, columns, strict=True)
                if c[index] is not None
            }
            out.append((applicant_id, outcome, statuses))
    return out
