"""Writing the audit chain: the chain writer, recording a run, and overrides.

Writers append under a lock on the chain head row (``BEGIN IMMEDIATE`` on SQLite, ``SELECT
… FOR UPDATE`` on PostgreSQL), so concurrent runs get consecutive, well-ordered sequence
numbers. What each kind of record hashes (its content) is defined here once; verifying the
chain (``screening.audit.verify``) recomputes it with the same functions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import screening
from screening.audit import schema as t
from screening.audit.blocks import block_content, leaves_sha256
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
)
from screening.audit.database import AuditError, Database
from screening.audit.overrides import OUTCOMES, Refusal, final_outcome, override_refusal
from screening.audit.prepare import (
    LAYOUT_EVENT,
    ImpactTally,
    PreparedChunk,
    PrepareError,
    RunSource,
    no_gc,
    prepare_chunk,
    run_source,
)
from screening.audit.protocols import ScreeningResultLike
from screening.audit.reads import find_in_blocks, is_block_run, run_layout, run_row
from screening.audit.records import OverrideSummary, RunSummary

#: the event that turns HMAC links on; its payload is the key's fingerprint
KEY_EVENT = "key_on"
RETENTION_YEARS = 4


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def iso_time(moment: datetime) -> str:
    """A time as the records hold it: UTC, to the microsecond, ending in Z."""
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
class Kind:
    """A kind of chained record: its table, the column naming its run, its content."""

    name: str
    table: sa.Table
    parent: str | None
    content: Callable[[dict[str, Any]], str]


KINDS = {
    "run": Kind("run", t.runs, None, _run_content),
    "decision": Kind("decision", t.decisions, "run_id", _decision_content),
    "override": Kind("override", t.overrides, "run_id", _override_content),
    "event": Kind("event", t.events, "run_id", _event_content),
    "block": Kind("block", t.blocks, "run_id", _block_content),
}


class EeoDigest:
    """One digest over a run's (applicant id, eeo JSON) pairs in decision order — never per
    applicant: a hash of one person's answer could be guessed back."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, applicant_id: str, data_json: str) -> None:
        """Add one applicant's eeo row."""
        self._hash.update(eeo_digest_line(applicant_id, data_json))

    def update(self, lines: bytes) -> None:
        """Add lines already made by ``prepare_chunk`` (one per eeo row, in order)."""
        self._hash.update(lines)

    def hexdigest(self) -> str:
        """The digest of the lines added so far."""
        return self._hash.hexdigest()


# ---------------------------------------------------------------- recording


def record_run(
    db: Database,
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
    with recording(db, result, user, now=now, retention_years=retention_years) as run:
        run.add(result)
    return run.summary()


@contextmanager
def recording(
    db: Database,
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
        "created_at": iso_time(moment),
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
        "retention_until": add_years(moment.astimezone(UTC).date(), retention_years).isoformat(),
    }
    with Writer(db) as writer:
        run_id = writer.append("run", run)
        if source.layout is not None:
            # what the run's blocks hold, chained before the first one
            writer.append_event(run_id, LAYOUT_EVENT, user, moment, json.loads(source.layout))
        recorder = RunRecorder(db, writer, run_id, source)
        yield recorder
        recorder.finish(user, moment)


def record_override(
    db: Database,
    run_id: int,
    applicant_id: str,
    *,
    reviewer: str,
    to_outcome: str,
    justification: str,
    now: datetime | None = None,
) -> OverrideSummary:
    """Record a reviewer's decision replacing the current outcome of one applicant."""
    refusal = override_refusal(to_outcome, reviewer, justification)
    if refusal is not None:
        raise _refused(refusal, run_id, applicant_id, to_outcome)
    with Writer(db) as writer:
        run_row(writer.conn, run_id)
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
                find_in_blocks(writer.conn, run_id, applicant_id)
                if is_block_run(run_layout(writer.conn, run_id))
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
            same = (t.overrides.c.run_id == run_id) & (t.overrides.c.applicant_id == applicant_id)
        earlier = writer.conn.execute(
            sa.select(t.overrides.c.to_outcome).where(same).order_by(t.overrides.c.id)
        ).scalars()
        current = final_outcome(engine_outcome, list(earlier))
        refusal = override_refusal(to_outcome, reviewer, justification, current)
        if refusal is not None:
            raise _refused(refusal, run_id, applicant_id, to_outcome)
        row = {
            **target,
            "run_id": run_id,
            "reviewer": reviewer,
            "created_at": iso_time(now or utc_now()),
            "from_outcome": current,
            "to_outcome": to_outcome,
            "justification": justification,
        }
        override_id = writer.append("override", row, parent=run_id)
        return OverrideSummary(override_id, run_id, applicant_id, current, to_outcome, writer.link)


def _refused(refusal: Refusal, run_id: int, applicant_id: str, to_outcome: str) -> AuditError:
    """A refused override, worded for the command line (which names its options)."""
    if refusal is Refusal.no_reviewer:
        return AuditError("an override must name its reviewer (--reviewer)")
    if refusal is Refusal.no_justification:
        return AuditError("an override needs a justification (--justification 'why')")
    if refusal is Refusal.unchanged:
        return AuditError(
            f"applicant {applicant_id!r} of run {run_id} is already {to_outcome}; "
            "nothing to override"
        )
    # no outcome, or one that is not an outcome
    return AuditError(f"--to {to_outcome!r} is not an outcome; use one of {', '.join(OUTCOMES)}")


def check_write_key(key: bytes | None, head: sa.Row[Any]) -> None:
    """A keyed chain takes records only with its key; an unkeyed one takes a key once."""
    if not head.keyed:
        return
    if key is None:
        raise AuditError(
            f"this audit chain is keyed (HMAC links); set {KEY_ENV} to the key it was written with"
        )
    if head.key_id != key_id(key):
        raise AuditError(
            f"{KEY_ENV} is not the key this audit chain was written with (its fingerprint "
            f"is {head.key_id}); use that key"
        )


class Writer:
    """One write transaction holding the chain lock; appends records in sequence."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn: Connection
        self.seq = 0
        self.link = GENESIS_LINK

    def __enter__(self) -> Writer:
        self._stack = ExitStack()
        try:
            self.conn = self._stack.enter_context(self.db.write_transaction())
            query = sa.select(t.chain_head).where(t.chain_head.c.id == 1)
            if self.db.postgres:
                query = query.with_for_update()
            head = self.conn.execute(query).one()
            check_write_key(self.db.key, head)
        except sa.exc.OperationalError as exc:
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
            raise self.db.connect_error(exc) from exc
        except BaseException as exc:
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.seq, self.link = int(head.seq), str(head.link)
        self._start_seq = self.seq
        key = self.db.key
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
        spec = KINDS[kind]
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
            self.conn.execute(KINDS[kind].table.insert(), rows)

    def append_event(
        self, run_id: int | None, kind: str, user: str, moment: datetime, payload: Any
    ) -> int:
        """Append an event (legal hold, purge, impact summary) to the chain."""
        row = {
            "kind": kind,
            "created_at": iso_time(moment),
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

    def __init__(self, store: Database, writer: Any, run_id: int, source: RunSource) -> None:
        self._store = store
        self._writer = writer
        self.run_id = run_id
        self._layout = source.layout
        self._impact = ImpactTally(source.criteria)
        self._outcomes: dict[str, int] = {}
        self._eeo_digest = EeoDigest()
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
        self._store.insert_many(
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
            self._store.insert_many(
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
            "outcome_counts": {o: self._outcomes.get(o, 0) for o in OUTCOMES},
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
