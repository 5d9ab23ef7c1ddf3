"""The audit store: append-only, hash-chained records of runs, decisions and overrides.

``AuditStore(url)`` opens (and migrates) a SQLite file or a PostgreSQL database. Writers
append under a lock on the chain head row (``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR
UPDATE`` on PostgreSQL), so concurrent runs get consecutive, well-ordered sequence numbers.
Records are only ever appended, except by :meth:`purge`, which removes applicant-level
data past its retention date but keeps every digest and the hashes of what it removed, so
the chain still verifies.
"""

from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import heapq
import io
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection, Engine

import screening
from screening.audit import schema as t
from screening.audit.blocks import (
    FACT_PREFIX,
    OWNER,
    REASON_PREFIX,
    STATUS_PREFIX,
    BlockCheck,
    block_content,
    check_block,
    from_ipc,
    leaves_sha256,
    unpack,
    unpack_one,
)
from screening.audit.chain import (
    GENESIS_LINK,
    KEY_ENV,
    Linker,
    canonical_json,
    content_digest,
    decision_content,
    eeo_digest_line,
    key_id,
    record_digest,
    sha256_text,
)
from screening.audit.impact import DEFAULT_MIN_GROUP, ImpactReport, impact_report
from screening.audit.prepare import (
    LAYOUT_EVENT,
    ImpactTally,
    PreparedChunk,
    PrepareError,
    RunSource,
    expand_detail,
    expand_input,
    no_gc,
    prepare_chunk,
    run_source,
)
from screening.audit.protocols import ScreeningResultLike
from screening.audit.records import (
    DecisionRecord,
    OverrideInfo,
    OverrideSummary,
    Problem,
    PurgeReport,
    RunDetail,
    RunInfo,
    RunSummary,
    StoredScreening,
    VerifyReport,
)
from screening.errors import UserError
from screening.results import Outcome
from screening.spec import spec_from_data

DATABASE_ENV = "SCREENING_DATABASE_URL"
#: the event that turns HMAC links on; its payload is the key's fingerprint
KEY_EVENT = "key_on"
DEFAULT_DATABASE_URL = "sqlite:///screening-audit.db"
RETENTION_YEARS = 4
#: the newest migration; a store already at it is opened without loading Alembic
SCHEMA_HEAD = "0002"
_CHUNK = 20_000
_OUTCOMES = [o.value for o in Outcome]


def database_url() -> str:
    """The audit database: ``SCREENING_DATABASE_URL``, else screening-audit.db here."""
    return os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE_URL


class AuditError(UserError):
    """A problem the user can fix (bad run id, missing key, unreachable database ...)."""


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit times must carry a time zone (UTC)")
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def run_settings(source: RunSource) -> dict[str, Any]:
    """The run settings recorded with a run: whether the position requires driving, and
    the conditions it requires (a key present only when some are named, so a record of a
    run without them reads as before)."""
    settings: dict[str, Any] = {"requires_driving": source.requires_driving}
    if source.position_requires:
        settings["position_requires"] = list(source.position_requires)
    return settings


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# ---------------------------------------------------------------- record contents
# The content of each chained record, as hashed. Writing and verifying both use these.


def _run_content(row: dict[str, Any]) -> str:
    return content_digest({k: row[k] for k in _RUN_FIELDS})


_RUN_FIELDS = [
    "created_at",
    "user_name",
    "spec_id",
    "spec_revision",
    "spec_sha256",
    "spec_yaml",
    "spec_path",
    "ruleset_hash",
    "ruleset_json",
    "files_json",
    "as_of",
    "settings_json",
    "engine_version",
    "retention_until",
]


def _decision_content(row: dict[str, Any]) -> str:
    return decision_content(
        row["applicant_id"],
        row["row_number"],
        row["outcome"],
        row["statuses_json"],
        row["detail_sha256"],
        row["input_sha256"],
    )


def _override_content(row: dict[str, Any]) -> str:
    # an override of a block decision names the block and the applicant
    decision: Any = row["decision_id"]
    if decision is None:
        decision = ["block", row.get("block_id"), row.get("applicant_id")]
    return content_digest(
        [
            decision,
            row["reviewer"],
            row["created_at"],
            row["from_outcome"],
            row["to_outcome"],
            row["justification"],
        ]
    )


def _event_content(row: dict[str, Any]) -> str:
    return content_digest([row["kind"], row["created_at"], row["user_name"], row["payload_json"]])


def _block_content(row: dict[str, Any]) -> str:
    leaves = row["leaves"]
    if isinstance(leaves, str):  # edited into text by hand: hashed as it reads
        leaves = leaves.encode("utf-8")
    return block_content(row["first"], row["decisions"], leaves_sha256(bytes(leaves)))


@dataclass(frozen=True)
class _Kind:
    name: str
    table: sa.Table
    parent: str | None
    content: Callable[[dict[str, Any]], str]


_KINDS = {
    "run": _Kind("run", t.runs, None, _run_content),
    "decision": _Kind("decision", t.decisions, "run_id", _decision_content),
    "override": _Kind("override", t.overrides, "run_id", _override_content),
    "event": _Kind("event", t.events, "run_id", _event_content),
    "block": _Kind("block", t.blocks, "run_id", _block_content),
}


class _EeoDigest:
    """One digest over a run's (applicant id, eeo JSON) pairs in decision order — never per
    applicant: a hash of one person's answer could be guessed back."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, applicant_id: str, data_json: str) -> None:
        self._hash.update(eeo_digest_line(applicant_id, data_json))

    def update(self, lines: bytes) -> None:
        """Add lines already made by ``prepare_chunk`` (one per eeo row, in order)."""
        self._hash.update(lines)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


# ---------------------------------------------------------------- the store


class AuditStore:
    """Append-only, hash-chained audit records in SQLite or PostgreSQL."""

    def __init__(
        self, url: str | None = None, *, key: str | bytes | None = None, create: bool = True
    ) -> None:
        """Open (creating and migrating as needed) the store at ``url``.

        ``key`` (else ``SCREENING_AUDIT_KEY``) makes every link an HMAC. With
        ``create=False`` a store that does not exist, or a database that is not an audit
        store, is an :class:`AuditError` and nothing is created.
        """
        self.url = url or database_url()
        raw_key = key if key is not None else os.environ.get(KEY_ENV) or None
        self._key = raw_key.encode("utf-8") if isinstance(raw_key, str) else raw_key
        try:
            self.engine: Engine = _make_engine(self.url, create=create)
        except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
            raise AuditError(
                f"audit database URL {self.url!r} is not usable ({exc}); set {DATABASE_ENV} to "
                "e.g. sqlite:///screening-audit.db or postgresql+psycopg2://user@host/db"
            ) from exc
        self._postgres = self.engine.dialect.name == "postgresql"
        if not create:
            self._require_existing()
        self._migrate()

    def _require_existing(self) -> None:
        where = self.engine.url.render_as_string()
        database = self.engine.url.database
        on_disk = self.engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")
        if on_disk and not os.path.isfile(str(database)):
            self.engine.dispose()
            raise AuditError(
                f"there is no audit store at {database}: nothing to verify; check "
                f"--database or {DATABASE_ENV}"
            )
        try:
            with self.engine.connect() as conn:
                inspector = sa.inspect(conn)
                ours = inspector.has_table("alembic_version") and inspector.has_table(
                    t.chain_head.name
                )
        except sa.exc.OperationalError as exc:
            raise self._connect_error(exc) from exc
        except sa.exc.DBAPIError as exc:  # e.g. SQLite: "file is not a database"
            self.engine.dispose()
            reason = str(exc.orig).strip().splitlines()
            raise AuditError(
                f"{where} is not an audit store ({reason[0] if reason else 'unreadable'})"
            ) from None
        if not ours:
            self.engine.dispose()
            raise AuditError(
                f"{where} is not an audit store (it has no audit chain tables); check "
                f"--database or {DATABASE_ENV}"
            )

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ plumbing

    def _connect_error(self, exc: Exception) -> AuditError:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return AuditError(
            f"cannot use the audit database {self.engine.url.render_as_string()}: {reason}; "
            f"check {DATABASE_ENV} and that the database server is running"
        )

    def _migrate(self) -> None:
        if self._schema_current():
            return
        # Alembic (and Mako under it) load only when a schema must be created or upgraded
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("screening.audit") / "migrations")
        )
        try:
            with self._write_transaction() as conn:
                if self._postgres:
                    # one migrator at a time; the others wait, then find the schema current
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7616004)"))
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except sa.exc.OperationalError as exc:
            raise self._connect_error(exc) from exc

    def _schema_current(self) -> bool:
        try:
            with self.engine.connect() as conn:
                if not sa.inspect(conn).has_table("alembic_version"):
                    return False
                versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        except sa.exc.OperationalError as exc:
            raise self._connect_error(exc) from exc
        return [tuple(v) for v in versions] == [(SCHEMA_HEAD,)]

    def _write(self) -> _Writer:
        return _Writer(self)

    @contextmanager
    def _write_transaction(self) -> Iterator[Connection]:
        """A transaction that may write: on SQLite it takes the write lock at BEGIN."""
        with self.engine.connect() as conn:
            conn.execution_options(audit_write=True)
            with conn.begin():
                yield conn

    def _read(self) -> Connection:
        try:
            return self.engine.connect()
        except sa.exc.OperationalError as exc:
            raise self._connect_error(exc) from exc

    # ------------------------------------------------------------ writing

    def record_run(
        self,
        result: ScreeningResultLike,
        user: str,
        *,
        now: datetime | None = None,
        retention_years: int = RETENTION_YEARS,
    ) -> RunSummary:
        """Record a screened batch: the run, every decision, its input and its eeo row.

        One transaction, streamed in chunks (memory stays flat for a million decisions):
        the run record, then each decision, then a closing ``run_totals`` event with the
        counts, the digest of the eeo rows and the impact summary at record time.
        """
        with self.recording(result, user, now=now, retention_years=retention_years) as run:
            run.add(result)
        return run.summary()

    @contextmanager
    def recording(
        self,
        source: RunSource | ScreeningResultLike,
        user: str,
        *,
        now: datetime | None = None,
        retention_years: int = RETENTION_YEARS,
    ) -> Iterator[RunRecorder]:
        """Record one run whose decisions arrive in chunks.

        ``source`` describes the run: ``run_source(first_chunk)`` (small and picklable), or
        the first screening result itself. Every chunk added (``add`` a result, or
        ``add_prepared`` a ``prepare_chunk`` of one) is appended in the same transaction;
        the closing totals are written when the block ends without an error. Nothing is
        kept if it raises.
        """
        if not user.strip():
            raise AuditError("a run must name its user (--user)")
        if not isinstance(source, RunSource):
            source = run_source(source)
        moment = now or utc_now()
        run = {
            "created_at": _iso(moment),
            "user_name": user,
            "spec_id": source.spec_id,
            "spec_revision": source.spec_revision,
            "spec_sha256": source.spec_sha256,
            "spec_yaml": source.spec_yaml,
            "spec_path": source.spec_path,
            "ruleset_hash": source.ruleset_hash,
            "ruleset_json": source.ruleset_json,
            "files_json": canonical_json(
                [
                    {"role": role, "path": path, "sha256": sha256, "rows": rows}
                    for role, path, sha256, rows in source.files
                ]
            ),
            "as_of": source.as_of.isoformat(),
            "settings_json": canonical_json(run_settings(source)),
            "engine_version": screening.__version__,
            "retention_until": add_years(
                moment.astimezone(UTC).date(), retention_years
            ).isoformat(),
        }
        with self._write() as writer:
            run_id = writer.append("run", run)
            if source.layout is not None:
                # what the run's blocks hold, chained before the first one
                writer.append_event(run_id, LAYOUT_EVENT, user, moment, json.loads(source.layout))
            recorder = RunRecorder(self, writer, run_id, source)
            yield recorder
            recorder.finish(user, moment)

    def _insert_many(
        self,
        conn: Connection,
        table: sa.Table,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
    ) -> None:
        """Bulk insert at the driver level: SQLAlchemy's per-row processing costs more here
        than the database does."""
        if not rows:
            return
        names = ", ".join(columns)
        if self._postgres:
            # COPY: one stream per chunk instead of statements
            buffer = io.StringIO("".join(map(_copy_line, rows)))
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.copy_expert(f"COPY {table.name} ({names}) FROM STDIN", buffer)
            finally:
                cursor.close()
        else:
            marks = ", ".join("?" for _ in columns)
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)

    def record_override(
        self,
        run_id: int,
        applicant_id: str,
        *,
        reviewer: str,
        to_outcome: str,
        justification: str,
        now: datetime | None = None,
    ) -> OverrideSummary:
        """Record a reviewer's decision replacing the current outcome of one applicant."""
        if not reviewer.strip():
            raise AuditError("an override must name its reviewer (--reviewer)")
        if not justification.strip():
            raise AuditError("an override needs a justification (--justification 'why')")
        if to_outcome not in _OUTCOMES:
            raise AuditError(
                f"--to {to_outcome!r} is not an outcome; use one of {', '.join(_OUTCOMES)}"
            )
        with self._write() as writer:
            self._run_row(writer.conn, run_id)
            decision = writer.conn.execute(
                sa.select(t.decisions.c.id, t.decisions.c.outcome).where(
                    t.decisions.c.run_id == run_id, t.decisions.c.applicant_id == applicant_id
                )
            ).one_or_none()
            target: dict[str, Any]
            if decision is not None:
                target = {"decision_id": decision.id}
                engine_outcome = str(decision.outcome)
                same = t.overrides.c.decision_id == decision.id
            else:
                found = (
                    _find_in_blocks(writer.conn, run_id, applicant_id)
                    if _is_block_run(_run_layout(writer.conn, run_id))
                    else None
                )
                if found is None:
                    raise AuditError(
                        f"run {run_id} has no applicant {applicant_id!r}; "
                        f"see `screening audit show {run_id}` for its applicants"
                    )
                block_id, position, kept = found
                target = {"decision_id": None, "block_id": block_id, "applicant_id": applicant_id}
                engine_outcome = str(kept.column("outcome")[position].as_py())
                same = (t.overrides.c.run_id == run_id) & (
                    t.overrides.c.applicant_id == applicant_id
                )
            latest = writer.conn.execute(
                sa.select(t.overrides.c.to_outcome)
                .where(same)
                .order_by(t.overrides.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            current = latest or engine_outcome
            if current == to_outcome:
                raise AuditError(
                    f"applicant {applicant_id!r} of run {run_id} is already {to_outcome}; "
                    "nothing to override"
                )
            row = {
                **target,
                "run_id": run_id,
                "reviewer": reviewer,
                "created_at": _iso(now or utc_now()),
                "from_outcome": current,
                "to_outcome": to_outcome,
                "justification": justification,
            }
            override_id = writer.append("override", row, parent=run_id)
            return OverrideSummary(
                override_id, run_id, applicant_id, current, to_outcome, writer.link
            )

    def set_legal_hold(
        self, run_id: int, on: bool, *, user: str, reason: str, now: datetime | None = None
    ) -> str:
        """Put a run under legal hold (no purge) or release it; returns the chain head."""
        if not user.strip():
            raise AuditError("a legal hold change must name its user (--user)")
        if not reason.strip():
            raise AuditError("a legal hold change needs a reason (--reason 'why')")
        with self._write() as writer:
            self._run_row(writer.conn, run_id)
            writer.append_event(
                run_id, "legal_hold", user, now or utc_now(), {"on": on, "reason": reason}
            )
            return writer.link

    def purge(self, now: datetime | None = None, *, user: str = "retention") -> PurgeReport:
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
        with self._write() as writer:
            conn = writer.conn
            expired = conn.execute(
                sa.select(t.runs.c.id).where(t.runs.c.retention_until < today).order_by(t.runs.c.id)
            ).scalars()
            for run_id in list(expired):
                if _is_purged(conn, run_id):
                    continue
                if _legal_hold(conn, run_id):
                    held.append(run_id)
                    continue
                report = _impact_from_db(conn, run_id, source=f"stored at purge {_iso(moment)}")
                writer.append_event(run_id, "impact_summary", user, moment, report.to_dict())
                eeo_rows = conn.execute(t.eeo.delete().where(t.eeo.c.run_id == run_id)).rowcount
                n = conn.execute(
                    t.decisions.update()
                    .where(t.decisions.c.run_id == run_id)
                    .values(detail_json=None, input_json=None, purged_at=_iso(moment))
                ).rowcount
                eeo_rows += sum(
                    from_ipc(_blob(data)).num_rows
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
                    .values(private=None, purged_at=_iso(moment))
                )
                writer.append_event(
                    run_id, "purge", user, moment, {"decisions": n, "eeo_rows": eeo_rows}
                )
                purged.append(run_id)
                decision_total += n
                eeo_total += eeo_rows
            outcome = PurgeReport(purged, decision_total, eeo_total, held, writer.link)
        if purged:
            self._reclaim()
        return outcome

    def _reclaim(self) -> None:
        """Make purged data unrecoverable from the files: vacuum, or empty SQLite's WAL."""
        if self._postgres:
            with self.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql(
                    "VACUUM audit_decisions, audit_eeo, audit_blocks, audit_eeo_blocks"
                )
            return
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()

    # ------------------------------------------------------------ reading

    def _run_row(self, conn: Connection, run_id: int) -> sa.Row[Any]:
        row = conn.execute(sa.select(t.runs).where(t.runs.c.id == run_id)).one_or_none()
        if row is None:
            raise AuditError(
                f"no run {run_id} in the audit store; `screening audit runs` lists them"
            )
        return row

    def _info(self, conn: Connection, row: sa.Row[Any]) -> RunInfo:
        totals = _run_totals(conn, row.id)
        return RunInfo(
            run_id=row.id,
            created_at=row.created_at,
            user=row.user_name,
            spec_id=row.spec_id,
            spec_revision=row.spec_revision,
            decisions=int(totals.get("decisions", 0)),
            outcome_counts=dict(totals.get("outcome_counts", {})),
            retention_until=row.retention_until,
            legal_hold=_legal_hold(conn, row.id),
            purged=_is_purged(conn, row.id),
        )

    def runs(self) -> list[RunInfo]:
        """Every recorded run, oldest first."""
        with self._read() as conn:
            rows = conn.execute(sa.select(t.runs).order_by(t.runs.c.id)).all()
            return [self._info(conn, row) for row in rows]

    def chain_head(self) -> tuple[int, str]:
        """The newest sequence number and its link."""
        with self._read() as conn:
            head = conn.execute(sa.select(t.chain_head).where(t.chain_head.c.id == 1)).one()
            return int(head.seq), str(head.link)

    def show(self, run_id: int) -> RunDetail:
        """Everything recorded about one run, with its overrides and final outcome counts."""
        with self._read() as conn:
            row = self._run_row(conn, run_id)
            finals = _final_outcomes(conn, run_id)
            return RunDetail(
                info=self._info(conn, row),
                spec_sha256=row.spec_sha256,
                spec_yaml=row.spec_yaml,
                spec_path=row.spec_path,
                ruleset_hash=row.ruleset_hash,
                files=json.loads(row.files_json),
                as_of=row.as_of,
                settings=json.loads(row.settings_json),
                engine_version=row.engine_version,
                overrides=_overrides(conn, run_id),
                final_counts={o: int((finals["final_outcome"] == o).sum()) for o in _OUTCOMES},
            )

    def decision(self, run_id: int, applicant_id: str) -> DecisionRecord:
        """One applicant's stored decision, input and overrides."""
        with self._read() as conn:
            self._run_row(conn, run_id)
            row = conn.execute(
                sa.select(t.decisions).where(
                    t.decisions.c.run_id == run_id, t.decisions.c.applicant_id == applicant_id
                )
            ).one_or_none()
            history = [o for o in _overrides(conn, run_id) if o.applicant_id == applicant_id]
            layout = _run_layout(conn, run_id)
            if row is None and _is_block_run(layout):
                assert layout is not None
                with _readable(run_id):
                    return self._block_decision(conn, run_id, applicant_id, layout, history)
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
                    final_outcome=history[-1].to_outcome if history else row.outcome,
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
        self,
        conn: Connection,
        run_id: int,
        applicant_id: str,
        layout: dict[str, Any],
        history: list[OverrideInfo],
    ) -> DecisionRecord:
        found = _find_in_blocks(conn, run_id, applicant_id)
        if found is None:
            raise AuditError(f"run {run_id} has no applicant {applicant_id!r}")
        block_id, position, kept = found
        blob = conn.execute(
            sa.select(t.blocks.c.private).where(t.blocks.c.id == block_id)
        ).scalar_one()
        # only the batch holding the decision is decoded
        private = None if blob is None else unpack_one(_blob(blob), position)
        one = kept.slice(position, 1)
        outcome = kept.column("outcome")[position].as_py()
        return DecisionRecord(
            decision_id=block_id,
            run_id=run_id,
            applicant_id=applicant_id,
            row=kept.column("row")[position].as_py(),
            outcome=outcome,
            final_outcome=history[-1].to_outcome if history else outcome,
            statuses=_statuses_at(kept, position),
            detail=None if private is None else _block_detail(layout, one, private, 0),
            input_record=None if private is None else _block_inputs(layout, one, private)[0],
            overrides=history,
        )

    def final_outcomes(self, run_id: int) -> pd.DataFrame:
        """applicant_id, engine outcome, final outcome after overrides, overridden (bool)."""
        with self._read() as conn:
            self._run_row(conn, run_id)
            return _final_outcomes(conn, run_id)

    def impact(self, run_id: int, min_group: int = DEFAULT_MIN_GROUP) -> ImpactReport:
        """The adverse-impact report of a run (after purge: the summary kept at purge).

        ``min_group``: decided applicants a group needs to be the reference group or to be
        flagged by the four-fifths ratio alone.
        """
        with self._read() as conn:
            self._run_row(conn, run_id)
            if not _is_purged(conn, run_id):
                report = _impact_from_db(conn, run_id)
            else:
                payload = conn.execute(
                    sa.select(t.events.c.payload_json)
                    .where(t.events.c.run_id == run_id, t.events.c.kind == "impact_summary")
                    .order_by(t.events.c.id.desc())
                    .limit(1)
                ).scalar_one()
                report = ImpactReport.from_dict(json.loads(payload))
        return report if report.min_group == min_group else report.with_min_group(min_group)

    def input_records(self, run_id: int) -> list[tuple[str, dict[str, Any]]]:
        """The stored normalised input records of a run, in input order."""
        with self._read() as conn:
            self._run_row(conn, run_id)
            layout = _run_layout(conn, run_id)
            if _is_block_run(layout):
                assert layout is not None
                return self._block_input_records(conn, run_id, layout)
            rows = conn.execute(
                sa.select(t.decisions.c.applicant_id, t.decisions.c.input_json)
                .where(t.decisions.c.run_id == run_id)
                .order_by(t.decisions.c.id)
            ).all()
            layout = _layout(conn, run_id)
        if any(r.input_json is None for r in rows):
            raise AuditError(
                f"run {run_id}'s input records were purged at the end of retention; "
                "it can no longer be re-screened"
            )
        with _readable(run_id):
            return [(r.applicant_id, expand_input(r.input_json, layout)) for r in rows]

    def _block_input_records(
        self, conn: Connection, run_id: int, layout: dict[str, Any]
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

    # ------------------------------------------------------------ verifying

    def verify(self, expected_head: str | None = None) -> VerifyReport:
        """Recompute every digest and link; name each edited, deleted or reordered record.

        ``expected_head`` is a link noted earlier (printed after a run): it must still be
        in the chain, which catches deletion of the newest records and a recomputed chain.
        Raises :class:`AuditError` when the store cannot be verified at all (its chain head
        or a table is gone, the key is missing or another one); tampering found is in the
        report's problems.
        """
        try:
            with self._read() as conn:
                return self._verify(conn, expected_head)
        except sa.exc.DBAPIError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()
            raise AuditError(
                f"cannot verify the audit store {self.engine.url.render_as_string()}: "
                f"{reason[0] if reason else type(exc).__name__} (a table was dropped or the "
                "database is damaged)"
            ) from None

    def _key_mode(self, conn: Connection, head: sa.Row[Any], problems: list[Problem]) -> int | None:
        """From which sequence number links are HMACs under the given key (None: never).

        The record turning the key on is chained; the head's flag is only a cache. With a
        key given, a chain without that record is never taken as unkeyed.
        """
        key_events = conn.execute(
            sa.select(t.events.c.id, t.events.c.payload_json)
            .where(t.events.c.kind == KEY_EVENT)
            .order_by(t.events.c.id)
            .limit(1)
        ).all()
        fingerprint: str | None = None
        start: int | None = None
        if key_events:
            start = int(key_events[0].id)
            try:
                fingerprint = str(json.loads(key_events[0].payload_json)["key_id"])
            except (ValueError, KeyError, TypeError):
                fingerprint = None
        elif head.keyed:  # written by an earlier release: keyed from the first record
            start, fingerprint = 1, head.key_id
        if self._key is None:
            if start is not None:
                raise AuditError(
                    f"this audit chain is keyed (HMAC links from seq {start}); set {KEY_ENV} "
                    "to the key it was written with to verify it"
                )
            return None
        own = key_id(self._key)
        if start is None:
            problems.append(
                Problem(
                    "audit chain",
                    None,
                    None,
                    "a key was given but the store claims to be unkeyed: the record turning "
                    "the key on was removed or the chain was re-linked without the key",
                )
            )
            return None
        if fingerprint is None:
            problems.append(
                Problem(t.events.name, start, start, "edited: the key record cannot be read")
            )
        elif fingerprint != own:
            raise AuditError(
                f"cannot verify: this audit chain was keyed with another key (fingerprint "
                f"{fingerprint}; {KEY_ENV} has fingerprint {own}); use the key it was written "
                "with"
            )
        if not head.keyed or head.key_id != own:
            problems.append(
                Problem(
                    t.chain_head.name,
                    None,
                    None,
                    f"the chain head claims {'another key' if head.keyed else 'no key'}, but "
                    f"the chain is keyed from seq {start}: the head was edited",
                )
            )
        return start

    def _verify(self, conn: Connection, expected_head: str | None) -> VerifyReport:
        with ExitStack() as stack:
            return self._verify_chain(conn, expected_head, stack)

    def _verify_chain(
        self, conn: Connection, expected_head: str | None, stack: ExitStack
    ) -> VerifyReport:
        head = conn.execute(sa.select(t.chain_head).where(t.chain_head.c.id == 1)).one_or_none()
        if head is None:
            raise AuditError(
                "cannot verify: the chain head row (audit_chain_head id 1) is missing; it was "
                "deleted by hand or the store is damaged"
            )
        problems: list[Problem] = []
        keyed_from = self._key_mode(conn, head, problems)
        report = VerifyReport(
            records=0,
            head_seq=int(head.seq),
            head_link=str(head.link),
            keyed=keyed_from is not None,
            purged_decisions=0,
            problems=problems,
        )
        plain, keyed = Linker(None), Linker(self._key)
        unkeyed_run: list[tuple[str, int]] = []

        def flush_unkeyed() -> None:
            if not unkeyed_run:
                return
            name, seq = unkeyed_run[0]
            after = len(unkeyed_run) - 1
            more = (
                f"; so were the links of the {after} record(s) after it, to seq "
                f"{unkeyed_run[-1][1]}"
                if after
                else ""
            )
            problems.append(
                Problem(
                    name,
                    seq,
                    seq,
                    "chain broken: its link was not made with the key (the record was edited "
                    f"and re-linked without it){more}",
                )
            )
            unkeyed_run.clear()

        blocks = conn.execute(sa.select(sa.func.count()).select_from(t.blocks)).scalar_one()
        checks = stack.enter_context(_BlockChecks(int(blocks)))
        purged_runs = set(
            conn.execute(sa.select(t.events.c.run_id).where(t.events.c.kind == "purge")).scalars()
        )
        next_first: dict[int, int] = {}
        prev_seq, prev_link = 0, GENESIS_LINK
        seen_expected = expected_head is None
        for kind, row in heapq.merge(
            *(_stream(conn, k) for k in _KINDS.values()), key=lambda item: int(item[1]["id"])
        ):
            spec = _KINDS[kind]
            seq = int(row["id"])
            name = spec.table.name
            report.records += 1
            if seq == prev_seq:
                problems.append(Problem(name, seq, seq, "sequence number used twice"))
            elif seq != prev_seq + 1:
                missing = (
                    f"seq {prev_seq + 1}"
                    if seq == prev_seq + 2
                    else f"seq {prev_seq + 1}-{seq - 1}"
                )
                problems.append(
                    Problem(name, seq, seq, f"records before it are missing ({missing} deleted)")
                )
            parent = row[spec.parent] if spec.parent else None
            try:
                digest = record_digest(kind, seq, parent, spec.content(row))
            except (TypeError, ValueError):
                digest = None
            if digest != row["digest"]:
                problems.append(
                    Problem(name, seq, seq, "edited: its contents no longer match its digest")
                )
            linker = keyed if keyed_from is not None and seq >= keyed_from else plain
            if _safe_link(linker, prev_link, row["digest"]) == row["link"]:
                flush_unkeyed()
            elif linker is keyed and _safe_link(plain, prev_link, row["digest"]) == row["link"]:
                unkeyed_run.append((name, seq))
            else:
                flush_unkeyed()
                problems.append(
                    Problem(
                        name,
                        seq,
                        seq,
                        "chain broken: its link does not follow from the record before it "
                        "(moved, inserted, a record before it deleted, or link edited)",
                    )
                )
            if kind == "decision":
                report.purged_decisions += _check_decision_data(row, problems)
            elif kind == "block":
                report.purged_decisions += _check_block_row(
                    row, row["run_id"] in purged_runs, next_first, problems
                )
                private = row["private"]
                checks.submit(
                    seq,
                    _blob(row["kept"]),
                    None if private is None else _blob(private),
                    _blob(row["leaves"]),
                )
            if not seen_expected and row["link"] == expected_head:
                seen_expected = True
            prev_seq, prev_link = seq, row["link"]
        flush_unkeyed()
        for seq, check in checks.results():
            problems.extend(_block_problems(seq, check))
        if prev_seq != report.head_seq or prev_link != report.head_link:
            problems.append(
                Problem(
                    t.chain_head.name,
                    None,
                    report.head_seq,
                    f"the chain head says seq {report.head_seq} but the last record is seq "
                    f"{prev_seq} with another link: the newest records were deleted or "
                    "moved, or the head was edited",
                )
            )
        if not seen_expected:
            problems.append(
                Problem(
                    "audit chain",
                    None,
                    None,
                    f"the noted chain head {expected_head} is not in the chain: records were "
                    "deleted or the chain was recomputed",
                )
            )
        _check_runs_data(conn, problems)
        return report

    def _check_write_key(self, head: sa.Row[Any]) -> None:
        """A keyed chain takes records only with its key; an unkeyed one takes a key once."""
        if not head.keyed:
            return
        if self._key is None:
            raise AuditError(
                f"this audit chain is keyed (HMAC links); set {KEY_ENV} to the key it was "
                "written with"
            )
        if head.key_id != key_id(self._key):
            raise AuditError(
                f"{KEY_ENV} is not the key this audit chain was written with (its fingerprint "
                f"is {head.key_id}); use that key"
            )

    # ------------------------------------------------------------ re-screening

    def stored_screening(self, run_id: int) -> StoredScreening:
        """A run's recorded spec, settings, inputs and statuses, for re-screening it
        (screening.run.rescreen decides the inputs again; the store never runs the engine)."""
        with self._read() as conn:
            row = self._run_row(conn, run_id)
            stored = _stored_statuses(conn, run_id)
        records = self.input_records(run_id)
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


# ---------------------------------------------------------------- helpers


def _copy_field(value: Any) -> str:
    """One field in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()  # bytea in hex, its backslash escaped for COPY
    text = value if isinstance(value, str) else str(value)
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_line(row: tuple[Any, ...]) -> str:
    return "\t".join(map(_copy_field, row)) + "\n"


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


def _make_engine(url: str, *, create: bool = True) -> Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": 120})
    in_memory = parsed.database in (None, "", ":memory:")
    if create and not in_memory and parsed.database is not None:
        _create_owner_only(parsed.database)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # take transaction control from pysqlite so BEGIN IMMEDIATE below is what runs
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # large pages: far fewer page writes for ~1.5 KB decision rows (a new file only;
        # an existing database keeps the page size it was created with)
        cursor.execute("PRAGMA page_size=32768")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # purged applicant data is overwritten, not left readable in free pages
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # writers take the lock up front, so they queue instead of failing on lock upgrade;
        # readers (verify, reports) read a snapshot and never block a writer
        write = conn.get_execution_options().get("audit_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _create_owner_only(database: str) -> None:
    """Create a new SQLite store file readable by its owner only (0600).

    The store holds applicants' names, histories and self-identification. SQLite gives
    the -wal and -shm files it creates later the mode of the database file.
    """
    if database.startswith("file:"):
        return  # a URI filename: SQLite's own options decide
    # an existing store keeps its mode; a missing folder is reported on connecting
    with suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class _Writer:
    """One write transaction holding the chain lock; appends records in sequence."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store
        self.conn: Connection
        self.seq = 0
        self.link = GENESIS_LINK

    def __enter__(self) -> _Writer:
        self._stack = ExitStack()
        try:
            self.conn = self._stack.enter_context(self.store._write_transaction())
            query = sa.select(t.chain_head).where(t.chain_head.c.id == 1)
            if self.store._postgres:
                query = query.with_for_update()
            head = self.conn.execute(query).one()
            self.store._check_write_key(head)
        except sa.exc.OperationalError as exc:
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
            raise self.store._connect_error(exc) from exc
        except BaseException as exc:
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.seq, self.link = int(head.seq), str(head.link)
        self._start_seq = self.seq
        key = self.store._key
        self._mode: dict[str, Any] = {}
        self.linker = Linker(key if head.keyed else None)
        if head.keyed is None and key is None:
            self._mode = {"keyed": False, "key_id": None}
        elif not head.keyed and key is not None:
            # turning HMAC on is itself a chained record, carrying the key's fingerprint
            # (never the key): from it on every link is an HMAC under that key
            self._mode = {"keyed": True, "key_id": key_id(key)}
            self.linker = Linker(key)
            try:
                self.append_event(None, KEY_EVENT, "audit", utc_now(), {"key_id": key_id(key)})
            except BaseException as exc:
                self._stack.__exit__(type(exc), exc, exc.__traceback__)
                raise
        return self

    def append(
        self, kind: str, row: dict[str, Any], *, parent: int | None = None, insert: bool = True
    ) -> int:
        """Give the record the next sequence number, its digest and link (and insert it)."""
        spec = _KINDS[kind]
        self.seq += 1
        row["id"] = self.seq
        if spec.parent:
            row[spec.parent] = parent
        row["digest"] = record_digest(kind, self.seq, parent, spec.content(row))
        row["link"] = self.link = self.linker.link(self.link, row["digest"])
        if insert:
            self.conn.execute(spec.table.insert(), [row])
        return self.seq

    def flush_rows(self, kind: str, rows: list[dict[str, Any]]) -> None:
        """Insert rows already given their place by ``append(..., insert=False)``."""
        if rows:
            self.conn.execute(_KINDS[kind].table.insert(), rows)

    def append_event(
        self, run_id: int | None, kind: str, user: str, moment: datetime, payload: Any
    ) -> int:
        """Append an event (legal hold, purge, impact summary) to the chain."""
        row = {
            "kind": kind,
            "created_at": _iso(moment),
            "user_name": user,
            "payload_json": canonical_json(payload),
        }
        return self.append("event", row, parent=run_id)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None and self.seq != self._start_seq:
            self.conn.execute(
                t.chain_head.update()
                .where(t.chain_head.c.id == 1)
                .values(seq=self.seq, link=self.link, **self._mode)
            )
        self._stack.__exit__(exc_type, exc, tb)


class RunRecorder:
    """Appends one run's decisions, chunk by chunk, inside the run's transaction."""

    def __init__(self, store: AuditStore, writer: Any, run_id: int, source: RunSource) -> None:
        self._store = store
        self._writer = writer
        self.run_id = run_id
        self._layout = source.layout
        self._impact = ImpactTally(source.criteria)
        self._outcomes: dict[str, int] = {}
        self._eeo_digest = _EeoDigest()
        self._seen: set[str] = set()
        self._decisions = 0
        self._summary: RunSummary | None = None

    def add(self, result: ScreeningResultLike) -> None:
        """Append every decision of one screened chunk, with its input and eeo rows."""
        try:
            chunk = prepare_chunk(result)
        except PrepareError as exc:
            raise AuditError(str(exc)) from exc
        self.add_prepared(chunk)

    def add_prepared(self, chunk: PreparedChunk) -> None:
        """Append a chunk prepared by ``prepare_chunk`` (in this or another process).

        Only the chain is extended here: each decision's sequence number, record digest
        and link; then the rows are inserted in bulk.
        """
        if chunk.layout is not None and chunk.layout != self._layout:
            raise AuditError(
                "a chunk was screened under another decision layout than the run it is "
                "recorded in (another spec or engine version)"
            )
        ids = chunk.applicant_ids
        if not self._seen.isdisjoint(ids):
            repeated = next(i for i in ids if i in self._seen)
            raise AuditError(
                f"applicant {repeated!r} has two decisions in one run; applicant "
                "ids must be unique within a batch"
            )
        try:
            self._impact.add(chunk)
        except PrepareError as exc:
            raise AuditError(str(exc)) from exc
        self._seen.update(ids)
        with no_gc():
            self._append(chunk)

    def _append(self, chunk: PreparedChunk) -> None:
        """One chained block record for the chunk, and its eeo block apart."""
        span = chunk.id_range
        if span is None:
            return
        writer, run_id = self._writer, self.run_id
        row = {
            "first": self._decisions,
            "decisions": len(chunk),
            "min_applicant": span[0],
            "max_applicant": span[1],
            "kept": chunk.kept,
            "private": chunk.private,
            "leaves": chunk.leaves,
        }
        block_id = writer.append("block", row, parent=run_id, insert=False)
        self._store._insert_many(
            writer.conn,
            t.blocks,
            (
                "id",
                "run_id",
                "first",
                "decisions",
                "min_applicant",
                "max_applicant",
                "kept",
                "private",
                "leaves",
                "digest",
                "link",
            ),
            [
                (
                    block_id,
                    run_id,
                    row["first"],
                    row["decisions"],
                    span[0],
                    span[1],
                    chunk.kept,
                    chunk.private,
                    chunk.leaves,
                    row["digest"],
                    row["link"],
                )
            ],
        )
        if chunk.eeo is not None:
            self._store._insert_many(
                writer.conn,
                t.eeo_blocks,
                ("block_id", "run_id", "data"),
                [(block_id, run_id, chunk.eeo)],
            )
            self._eeo_digest.update(chunk.eeo)
        self._decisions += len(chunk)
        for outcome, n in chunk.outcome_counts.items():
            self._outcomes[outcome] = self._outcomes.get(outcome, 0) + n

    def finish(self, user: str, moment: datetime) -> None:
        """Write the closing totals record (counts, eeo digest, impact at record time)."""
        totals = {
            "decisions": self._impact.applicants,
            "outcome_counts": {o: self._outcomes.get(o, 0) for o in _OUTCOMES},
            "eeo_digest": self._eeo_digest.hexdigest(),
            # the counts only: the statistics follow from them whenever the report is
            # read, and computing them here would load SciPy into every recording run
            "impact_counts": self._impact.counts_dict(),
        }
        self._writer.append_event(self.run_id, "run_totals", user, moment, totals)
        self._summary = RunSummary(
            self.run_id, self._impact.applicants, self._writer.link, self._writer.seq
        )

    def summary(self) -> RunSummary:
        """The recorded run's id, decision count and chain head (after the block)."""
        if self._summary is None:
            raise AuditError("the run was not recorded: its recording did not finish")
        return self._summary


def _stream(conn: Connection, kind: _Kind) -> Iterator[tuple[str, dict[str, Any]]]:
    # a block is a chunk's worth of decisions: a few in memory at a time
    batch = 4 if kind.name == "block" else 5000
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(
        sa.select(kind.table).order_by(kind.table.c.id)
    )
    for row in result.mappings():
        yield kind.name, dict(row)


def _safe_link(linker: Linker, previous: str, digest: str) -> str | None:
    try:
        return linker.link(previous, digest)
    except (ValueError, TypeError):
        return None  # a link or digest edited into something that is not hex


def _check_decision_data(row: dict[str, Any], problems: list[Problem]) -> int:
    """Check a decision's stored data against its hashes; 1 when it was purged."""
    name, seq = t.decisions.name, int(row["id"])
    for column, hashed in (("detail_json", "detail_sha256"), ("input_json", "input_sha256")):
        value = row[column]
        if value is None:
            if row["purged_at"] is None:
                problems.append(Problem(name, seq, seq, f"{column} removed outside a purge"))
        elif sha256_text(value) != row[hashed]:
            problems.append(Problem(name, seq, seq, f"edited: {column} does not match its hash"))
    return int(row["purged_at"] is not None)


def _check_block_row(
    row: dict[str, Any], run_purged: bool, next_first: dict[int, int], problems: list[Problem]
) -> int:
    """Check a block's columns against its leaf hashes, naming each altered decision;
    the number of its decisions whose private data was purged."""
    name, seq, run_id = t.blocks.name, int(row["id"]), int(row["run_id"])
    expected = next_first.get(run_id, 0)
    if row["first"] != expected:
        problems.append(
            Problem(
                name,
                seq,
                seq,
                f"moved: it holds run {run_id}'s decisions from position {row['first']}, "
                f"but the block before it ended at {expected}",
            )
        )
    try:
        next_first[run_id] = int(row["first"]) + int(row["decisions"])
    except (TypeError, ValueError):  # edited into something that is not a number
        next_first[run_id] = expected
    private = row["private"]
    purged = row["purged_at"] is not None
    if private is None and not purged:
        problems.append(
            Problem(name, seq, seq, "decision details and inputs removed outside a purge")
        )
    if purged and not run_purged:
        problems.append(
            Problem(name, seq, seq, f"marked purged but run {run_id} has no purge record")
        )
    return int(row["decisions"] or 0) if purged and str(row["decisions"]).isdigit() else 0


def _block_problems(seq: int, check: BlockCheck) -> list[Problem]:
    """What recomputing a block's leaves found, each altered decision named."""
    name = t.blocks.name
    problems: list[Problem] = []
    if check.unreadable is not None:
        problems.append(
            Problem(
                name, seq, seq, f"edited: its stored decisions cannot be read ({check.unreadable})"
            )
        )
    named = check.applicants or {}
    edits = [
        (check.kept_edited, "its outcome, row or statuses no longer match its hash"),
        (
            check.private_edited,
            "what it showed or the input it was made on no longer matches its hash",
        ),
    ]
    for positions, what in edits:
        for position in positions:
            problems.append(
                Problem(
                    name,
                    seq,
                    seq,
                    f"edited: the decision of applicant {named.get(position)!r} (position "
                    f"{position} in the block): {what}",
                    named.get(position),
                )
            )
    return problems


def _check_runs_data(conn: Connection, problems: list[Problem]) -> None:
    """Each run's totals against its decisions, its eeo rows against their digest, and
    purged data against a purge record."""
    counts: dict[int, int] = dict(
        conn.execute(
            sa.select(t.decisions.c.run_id, sa.func.count()).group_by(t.decisions.c.run_id)
        ).all()
    )
    for run_id, n in conn.execute(
        sa.select(t.blocks.c.run_id, sa.func.sum(t.blocks.c.decisions)).group_by(t.blocks.c.run_id)
    ).all():
        counts[run_id] = counts.get(run_id, 0) + int(n)
    for run_id in conn.execute(sa.select(t.runs.c.id).order_by(t.runs.c.id)).scalars():
        try:
            totals = _run_totals(conn, run_id)
            layout = _layout(conn, run_id)
        except (ValueError, TypeError):
            problems.append(
                Problem(t.events.name, None, None, f"a record of run {run_id} cannot be read")
            )
            continue
        if not isinstance(totals, dict) or "decisions" not in totals:
            problems.append(
                Problem(t.events.name, None, None, f"the totals record of run {run_id} is missing")
            )
            continue
        if counts.get(run_id, 0) != totals["decisions"]:
            problems.append(
                Problem(
                    t.decisions.name,
                    None,
                    None,
                    f"run {run_id} recorded {totals['decisions']} decisions but "
                    f"{counts.get(run_id, 0)} are stored",
                )
            )
        if _is_purged(conn, run_id):
            continue
        digest = _EeoDigest()
        if _is_block_run(layout if isinstance(layout, dict) else None):
            for data in conn.execute(
                sa.select(t.eeo_blocks.c.data)
                .where(t.eeo_blocks.c.run_id == run_id)
                .order_by(t.eeo_blocks.c.block_id)
            ).scalars():
                digest.update(_blob(data))
            if digest.hexdigest() != totals.get("eeo_digest"):
                problems.append(
                    Problem(
                        t.eeo_blocks.name,
                        None,
                        None,
                        f"eeo rows of run {run_id} were edited or deleted",
                    )
                )
            continue
        for pair in conn.execute(
            sa.select(t.decisions.c.applicant_id, t.eeo.c.data_json)
            .join(t.eeo, t.eeo.c.decision_id == t.decisions.c.id)
            .where(t.eeo.c.run_id == run_id)
            .order_by(t.decisions.c.id)
        ):
            digest.add(pair.applicant_id, pair.data_json)
        if digest.hexdigest() != totals.get("eeo_digest"):
            problems.append(
                Problem(t.eeo.name, None, None, f"eeo rows of run {run_id} were edited or deleted")
            )
        stray = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.decisions)
            .where(t.decisions.c.run_id == run_id, t.decisions.c.purged_at.is_not(None))
        ).scalar_one()
        if stray:
            problems.append(
                Problem(
                    t.decisions.name,
                    None,
                    None,
                    f"{stray} decision(s) of run {run_id} are marked purged but the run has "
                    "no purge record",
                )
            )


def _run_totals(conn: Connection, run_id: int) -> dict[str, Any]:
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


def _legal_hold(conn: Connection, run_id: int) -> bool:
    holds = _events(conn, run_id, "legal_hold")
    return bool(holds and holds[-1]["on"])


def _is_purged(conn: Connection, run_id: int) -> bool:
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
    if _is_block_run(_layout(conn, run_id)):
        return _block_outcomes(conn, run_id)
    rows = conn.execute(
        sa.select(t.decisions.c.id, t.decisions.c.applicant_id, t.decisions.c.outcome)
        .where(t.decisions.c.run_id == run_id)
        .order_by(t.decisions.c.id)
    ).all()
    latest = dict(
        conn.execute(
            sa.select(t.overrides.c.decision_id, t.overrides.c.to_outcome)
            .where(t.overrides.c.run_id == run_id)
            .order_by(t.overrides.c.id)
        ).all()
    )
    return pd.DataFrame(
        {
            "applicant_id": [r.applicant_id for r in rows],
            "engine_outcome": [r.outcome for r in rows],
            "final_outcome": [latest.get(r.id, r.outcome) for r in rows],
            "overridden": [r.id in latest for r in rows],
        },
        columns=["applicant_id", "engine_outcome", "final_outcome", "overridden"],
    )


def _impact_from_db(conn: Connection, run_id: int, source: str = "live") -> ImpactReport:
    if _is_block_run(_layout(conn, run_id)):
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
    latest = dict(
        conn.execute(
            sa.select(t.overrides.c.decision_id, t.overrides.c.to_outcome)
            .where(t.overrides.c.run_id == run_id)
            .order_by(t.overrides.c.id)
        ).all()
    )
    spec_yaml = conn.execute(
        sa.select(t.runs.c.spec_yaml).where(t.runs.c.id == run_id)
    ).scalar_one()
    criteria = _criteria_of(spec_yaml)
    # one parse of a joined array is far cheaper than a million small ones
    statuses = json.loads("[" + ",".join(r.statuses_json for r in rows) + "]")
    frame = pd.DataFrame.from_records(statuses, columns=criteria)
    frame["final_outcome"] = [latest.get(r.id, r.outcome) for r in rows]
    answers = json.loads("[" + ",".join(r.data_json or "{}" for r in rows) + "]")
    eeo = pd.DataFrame.from_records(answers)
    for column in eeo.columns:
        frame[column] = eeo[column].to_numpy()
    return impact_report(frame, criteria, source=source)


def _layout(conn: Connection, run_id: int) -> dict[str, Any] | None:
    """The run's decision layout (format 2), None for a run of self-describing rows."""
    layouts = _events(conn, run_id, LAYOUT_EVENT)
    return layouts[-1] if layouts else None


def _criteria_of(spec_yaml: str) -> list[str]:
    return spec_from_data(yaml.safe_load(spec_yaml)).criterion_ids()


# ---------------------------------------------------------------- reading blocks (format 3)


def _is_block_run(layout: dict[str, Any] | None) -> bool:
    return layout is not None and layout.get("format") == 3


def _run_layout(conn: Connection, run_id: int) -> dict[str, Any] | None:
    """The run's layout event, checked to be one this release reads."""
    layout = _layout(conn, run_id)
    if layout is not None and layout.get("format") not in (2, 3):
        raise AuditError(
            f"run {run_id} was recorded in a format this release does not read "
            f"({layout.get('format')!r}); use the release that recorded it"
        )
    return layout


def _blob(value: Any) -> bytes:
    """A stored binary value as bytes (a hand edit may have left text)."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _find_in_blocks(
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
        kept = from_ipc(_blob(kept_blob))
        position = pc.index(kept.column("applicant_id"), applicant_id).as_py()
        if position >= 0:
            return int(block_id), int(position), kept
    return None


def _private_tables(conn: Connection, block_id: int) -> list[pa.Table] | None:
    blob = conn.execute(sa.select(t.blocks.c.private).where(t.blocks.c.id == block_id)).scalar_one()
    return None if blob is None else unpack(_blob(blob))


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
        "reasons": _split_shown(detail["reasons"]),
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
    return [(int(block_id), from_ipc(_blob(kept))) for block_id, kept in rows]


def _latest_block_overrides(conn: Connection, run_id: int) -> dict[str, str]:
    return dict(
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
            "final_outcome": [latest.get(a, o) for a, o in zip(ids, outcomes, strict=True)],
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
    eeo_of = {int(block_id): from_ipc(_blob(data)) for block_id, data in eeo_rows}
    latest = _latest_block_overrides(conn, run_id)
    parts = []
    for block_id, table in kept:
        frame = pd.DataFrame(
            {c: table.column(STATUS_PREFIX + c).to_pylist() for c in criteria}, columns=criteria
        )
        ids = table.column("applicant_id").to_pylist()
        outcomes = table.column("outcome").to_pylist()
        frame["final_outcome"] = [latest.get(a, o) for a, o in zip(ids, outcomes, strict=True)]
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
    if not _is_block_run(_layout(conn, run_id)):
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


class _BlockChecks:
    """Recomputes blocks' leaves while the chain is walked: in worker processes when there
    are enough blocks to pay for starting them, else here. Results come in chain order."""

    #: below this many blocks (about 200,000 decisions) one process is faster
    PARALLEL_FROM = 16

    def __init__(self, blocks: int) -> None:
        self._done: list[tuple[int, BlockCheck]] = []
        self._pending: collections.deque[tuple[int, concurrent.futures.Future[BlockCheck]]] = (
            collections.deque()
        )
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        if blocks >= self.PARALLEL_FROM and cores > 1:
            try:
                context = multiprocessing.get_context("forkserver")
            except ValueError:
                context = None
            if context is not None:
                self._pool = concurrent.futures.ProcessPoolExecutor(cores, mp_context=context)
                self._limit = 2 * cores

    def __enter__(self) -> _BlockChecks:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, seq: int, kept: bytes, private: bytes | None, leaves: bytes) -> None:
        if self._pool is None:
            self._done.append((seq, check_block(kept, private, leaves)))
            return
        self._pending.append((seq, self._pool.submit(check_block, kept, private, leaves)))
        while len(self._pending) > self._limit:  # memory stays bounded
            done_seq, future = self._pending.popleft()
            self._done.append((done_seq, future.result()))

    def results(self) -> list[tuple[int, BlockCheck]]:
        while self._pending:
            seq, future = self._pending.popleft()
            self._done.append((seq, future.result()))
        return self._done
