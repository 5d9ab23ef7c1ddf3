"""20 writers at once, each recording a run of 1,000 decisions: nothing lost, chain intact."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from screening.audit import AuditStore, RunSummary
from tests.audit_helpers import FakeResult, applicants, store_url

__all__ = ["store_url"]

WRITERS = 20
DECISIONS = 1_000


def test_concurrent_writers_lose_nothing_and_the_chain_verifies(store_url: str) -> None:
    barrier = threading.Barrier(WRITERS)
    summaries: list[RunSummary] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(number: int) -> None:
        try:
            result = FakeResult(applicants(DECISIONS, prefix=f"W{number:02d}-"))
            barrier.wait()
            with AuditStore(store_url) as store:  # its own engine and connections
                summary = store.record_run(result, f"writer{number}")
            with lock:
                summaries.append(summary)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(summaries) == WRITERS
    per_run = 4  # the run record, its layout, one block of decisions, its totals
    with AuditStore(store_url) as store:
        runs = store.runs()
        assert sorted(r.run_id for r in runs) == [1 + i * per_run for i in range(WRITERS)]
        assert sorted(r.user for r in runs) == sorted(f"writer{n}" for n in range(WRITERS))
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT run_id, id, decisions FROM audit_blocks ORDER BY id")
            ).all()
        # every run's decisions are in the block right after its run and layout records
        assert sorted((r[0], r[1], r[2]) for r in rows) == [
            (run_id, run_id + 2, DECISIONS) for run_id in sorted(r.run_id for r in runs)
        ]
        report = store.verify()
        assert report.ok, report.problems
        assert report.records == report.head_seq == WRITERS * per_run
        assert report.head_link in {s.chain_head for s in summaries}
