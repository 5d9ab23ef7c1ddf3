"""Retention: legal hold and purge of applicant-level data past its retention date.

Records are only ever appended, except by :func:`purge`, which removes applicant-level data
past its retention date but keeps every digest and the hashes of what it removed, so the
chain still verifies.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from screening.audit import schema as t
from screening.audit.blocks import from_ipc
from screening.audit.database import AuditError, Database
from screening.audit.reads import as_bytes, impact_from_db, is_purged, legal_hold, run_row
from screening.audit.records import PurgeReport
from screening.audit.writer import Writer, iso_time, utc_now


def set_legal_hold(
    db: Database, run_id: int, on: bool, *, user: str, reason: str, now: datetime | None = None
) -> str:
    """Put a run under legal hold (no purge) or release it; returns the chain head."""
    if not user.strip():
        raise AuditError("a legal hold change must name its user (--user)")
    if not reason.strip():
        raise AuditError("a legal hold change needs a reason (--reason 'why')")
    with Writer(db) as writer:
        run_row(writer.conn, run_id)
        writer.append_event(
            run_id, "legal_hold", user, now or utc_now(), {"on": on, "reason": reason}
        )
        return writer.link


def purge(db: Database, now: datetime | None = None, *, user: str = "retention") -> PurgeReport:
    """Remove applicant-level data of runs past retention and not under legal hold.

    Input records, full decision details (values, reasons, evidence) and eeo rows go;
    outcomes, per-criterion statuses, every digest and an impact summary computed just
    before the purge stay, so the chain verifies and the report survives.
    """
    moment = now or utc_now()
    today = moment.astimezone(UTC).date().isoformat()
    purged: list[int] = []
    held: list[int] = []
    decision_total = eeo_total = 0
    with Writer(db) as writer:
        conn = writer.conn
        expired = conn.execute(
            sa.select(t.runs.c.id).where(t.runs.c.retention_until < today).order_by(t.runs.c.id)
        ).scalars()
        for run_id in list(expired):
            if is_purged(conn, run_id):
                continue
            if legal_hold(conn, run_id):
                held.append(run_id)
                continue
            report = impact_from_db(conn, run_id, source=f"stored at purge {iso_time(moment)}")
            writer.append_event(run_id, "impact_summary", user, moment, report.to_dict())
            eeo_rows = conn.execute(t.eeo.delete().where(t.eeo.c.run_id == run_id)).rowcount
            n = conn.execute(
                t.decisions.update()
                .where(t.decisions.c.run_id == run_id)
                .values(detail_json=None, input_json=None, purged_at=iso_time(moment))
            ).rowcount
            eeo_rows += sum(
                from_ipc(as_bytes(data)).num_rows
                for data in conn.execute(
                    sa.select(t.eeo_blocks.c.data).where(t.eeo_blocks.c.run_id == run_id)
                ).scalars()
            )
            conn.execute(t.eeo_blocks.delete().where(t.eeo_blocks.c.run_id == run_id))
            n += int(
                conn.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(t.blocks.c.decisions), 0)).where(
                        t.blocks.c.run_id == run_id
                    )
                ).scalar_one()
            )
            conn.execute(
                t.blocks.update()
                .where(t.blocks.c.run_id == run_id)
                .values(private=None, purged_at=iso_time(moment))
            )
            writer.append_event(
                run_id, "purge", user, moment, {"decisions": n, "eeo_rows": eeo_rows}
            )
            purged.append(run_id)
            decision_total += n
            eeo_total += eeo_rows
        outcome = PurgeReport(purged, decision_total, eeo_total, held, writer.link)
    if purged:
        _reclaim(db)
    return outcome


def _reclaim(db: Database) -> None:
    """Make purged data unrecoverable from the files: vacuum, or empty SQLite's WAL."""
    if db.postgres:
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql(
                "VACUUM audit_decisions, audit_eeo, audit_blocks, audit_eeo_blocks"
            )
        return
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
