"""Verifying the audit chain: every digest and link recomputed, each problem named.

Tampering found is a :class:`~screening.audit.records.Problem` in the report; a store that
cannot be verified at all (its chain head or a table gone, the key missing or another one)
is an :class:`~screening.audit.database.AuditError`. Blocks' leaves are recomputed in
worker processes when there are enough of them.
"""

from __future__ import annotations

import collections
import concurrent.futures
import heapq
import json
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from screening.audit import schema as t
from screening.audit.blocks import BlockCheck, check_block
from screening.audit.chain import GENESIS_LINK, KEY_ENV, Linker, key_id, record_digest, sha256_text
from screening.audit.database import AuditError, Database
from screening.audit.reads import as_bytes, is_block_run, is_purged, layout_of, run_totals
from screening.audit.records import Problem, VerifyReport
from screening.audit.writer import KEY_EVENT, KINDS, EeoDigest, Kind


def verify(db: Database, expected_head: str | None = None) -> VerifyReport:
    """Recompute every digest and link; name each edited, deleted or reordered record.

    ``expected_head`` is a link noted earlier (printed after a run): it must still be
    in the chain, which catches deletion of the newest records and a recomputed chain.
    Raises :class:`AuditError` when the store cannot be verified at all (its chain head
    or a table is gone, the key is missing or another one); tampering found is in the
    report's problems.
    """
    try:
        with db.read() as conn:
            return _verify(db.key, conn, expected_head)
    except sa.exc.DBAPIError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()
        raise AuditError(
            f"cannot verify the audit store {db.engine.url.render_as_string()}: "
            f"{reason[0] if reason else type(exc).__name__} (a table was dropped or the "
            "database is damaged)"
        ) from None


def _key_mode(
    key: bytes | None, conn: Connection, head: sa.Row[Any], problems: list[Problem]
) -> int | None:
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
    if key is None:
        if start is not None:
            raise AuditError(
                f"this audit chain is keyed (HMAC links from seq {start}); set {KEY_ENV} "
                "to the key it was written with to verify it"
            )
        return None
    own = key_id(key)
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


def _verify(key: bytes | None, conn: Connection, expected_head: str | None) -> VerifyReport:
    with ExitStack() as stack:
        return _verify_chain(key, conn, expected_head, stack)


def _verify_chain(
    key: bytes | None, conn: Connection, expected_head: str | None, stack: ExitStack
) -> VerifyReport:
    head = conn.execute(sa.select(t.chain_head).where(t.chain_head.c.id == 1)).one_or_none()
    if head is None:
        raise AuditError(
            "cannot verify: the chain head row (audit_chain_head id 1) is missing; it was "
            "deleted by hand or the store is damaged"
        )
    problems: list[Problem] = []
    keyed_from = _key_mode(key, conn, head, problems)
    report = VerifyReport(
        records=0,
        head_seq=int(head.seq),
        head_link=str(head.link),
        keyed=keyed_from is not None,
        purged_decisions=0,
        problems=problems,
    )
    plain, keyed = Linker(None), Linker(key)
    unkeyed_run: list[tuple[str, int]] = []

    def flush_unkeyed() -> None:
        if not unkeyed_run:
            return
        name, seq = unkeyed_run[0]
        after = len(unkeyed_run) - 1
        more = (
            f"; so were the links of the {after} record(s) after it, to seq {unkeyed_run[-1][1]}"
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
        *(_stream(conn, k) for k in KINDS.values()), key=lambda item: int(item[1]["id"])
    ):
        spec = KINDS[kind]
        seq = int(row["id"])
        name = spec.table.name
        report.records += 1
        if seq == prev_seq:
            problems.append(Problem(name, seq, seq, "sequence number used twice"))
        elif seq != prev_seq + 1:
            missing = (
                f"seq {prev_seq + 1}" if seq == prev_seq + 2 else f"seq {prev_seq + 1}-{seq - 1}"
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
                as_bytes(row["kept"]),
                None if private is None else as_bytes(private),
                as_bytes(row["leaves"]),
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


def _stream(conn: Connection, kind: Kind) -> Iterator[tuple[str, dict[str, Any]]]:
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
            totals = run_totals(conn, run_id)
            layout = layout_of(conn, run_id)
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
        if is_purged(conn, run_id):
            continue
        digest = EeoDigest()
        if is_block_run(layout if isinstance(layout, dict) else None):
            for data in conn.execute(
                sa.select(t.eeo_blocks.c.data)
                .where(t.eeo_blocks.c.run_id == run_id)
                .order_by(t.eeo_blocks.c.block_id)
            ).scalars():
                digest.update(as_bytes(data))
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
