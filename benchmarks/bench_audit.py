"""Benchmark: record a screened run of N applicants in the audit store, then verify it.

    python benchmarks/bench_audit.py                     # 100,000 applicants, SQLite
    python benchmarks/bench_audit.py --n 1000000
    python benchmarks/bench_audit.py --url postgresql+psycopg2://postgres@127.0.0.1:5432/test
    python benchmarks/bench_audit.py --existing sqlite:///audit-1000000-4.db  # a kept store

The applicants are generated (data.generate, seed 20261126) and screened against the
Alameda Account Manager spec in chunks of 12,500 before the clock starts, so the figures
are the audit's own cost, split as a process pool splits it:

- prepare: ``prepare_chunk`` of every chunk (a worker's share; CPU of this process),
- pickle: a prepared chunk sent from a worker (dumps) and received (loads),
- add_prepared: the main process's share (chain, inserts), then the closing totals and
  the commit.

A SQLite database goes to a temporary directory; a PostgreSQL one gets a fresh schema,
dropped afterwards.

Figures (CPU seconds per 100,000 applicants, SQLite and PostgreSQL): docs/audit.md,
section Benchmarks. Before recording was split, the same 100,000 cost about 5.9 s of CPU
in one process (``RunRecorder.add`` and the closing totals).
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data.generate import generate_applicants  # noqa: E402
from screening.audit import AuditStore, prepare_chunk, run_source  # noqa: E402
from screening.audit.verify import _BlockChecks  # noqa: E402
from screening.run.stages import screen_stream  # noqa: E402

SPEC = ROOT / "rules" / "alameda-7616-account-manager.yaml"
AS_OF = date(2026, 11, 26)
CHUNK = 12_500


def store_bytes(store: AuditStore, schema: str | None) -> int:
    """The store's size on disk: SQLite's files (after a checkpoint), or the PostgreSQL
    schema's tables with their TOAST data and indexes."""
    if schema is None:
        raw = store.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        path = Path(str(store.engine.url.database))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT sum(pg_total_relation_size(format('%I.%I', schemaname, tablename)))"
                    " FROM pg_tables WHERE schemaname = :s"
                ),
                {"s": schema},
            ).scalar_one()
        )


def measure_store(store: AuditStore, run_id: int, schema: str | None, decisions: int) -> None:
    """Verify the whole store, build the run's impact report, measure its size and look up
    single decisions."""
    started = time.perf_counter()
    report = store.verify()
    print(
        f"verify: {report.records:,} records in {time.perf_counter() - started:.2f} s, "
        f"ok={report.ok}"
    )
    # the same work in this process alone: its CPU time is what the workers share
    serial = _BlockChecks.PARALLEL_FROM
    _BlockChecks.PARALLEL_FROM = 1 << 62
    try:
        started, cpu = time.perf_counter(), time.process_time()
        store.verify()
        print(
            f"verify in one process: {time.perf_counter() - started:.2f} s, "
            f"{time.process_time() - cpu:.2f} s CPU"
        )
    finally:
        _BlockChecks.PARALLEL_FROM = serial
    started = time.perf_counter()
    store.impact(run_id)
    print(f"impact report: {time.perf_counter() - started:.2f} s")
    size = store_bytes(store, schema)
    print(
        f"store size: {size / 1e6:,.1f} MB, {size / max(decisions, 1):,.0f} bytes "
        "per decision (stored input, eeo and indexes included)"
    )
    ids = store.final_outcomes(run_id)["applicant_id"].tolist()
    lookups = []
    for applicant_id in random.Random(7).sample(ids, min(len(ids), 50)):
        started = time.perf_counter()
        record = store.decision(run_id, applicant_id)
        lookups.append(time.perf_counter() - started)
        assert record.detail is not None and record.input_record is not None
    lookups.sort()
    print(
        f"lookup of one applicant's decision (library call, {len(lookups)} random ids): "
        f"median {lookups[len(lookups) // 2] * 1000:.1f} ms, max {lookups[-1] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="applicants in the run")
    parser.add_argument("--url", help="database URL (default: SQLite in a temp directory)")
    parser.add_argument(
        "--existing", help="only verify, size and look up in this store's newest run"
    )
    args = parser.parse_args()
    if args.existing:
        with AuditStore(args.existing) as store:
            run_id = store.runs()[-1].run_id
            measure_store(store, run_id, None, store.runs()[-1].decisions)
        return
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        wide = Path(tmp) / "applicants.csv"
        generate_applicants(args.n, seed=20261126, as_of=AS_OF).write_wide(wide)
        chunks = list(screen_stream(wide, SPEC, as_of=AS_OF, chunk_rows=CHUNK, record_audit=True))
        screened = sum(len(c.results) for c in chunks)
        print(
            f"generated and screened {args.n:,} applicants ({screened:,} decisions) in "
            f"{time.perf_counter() - started:.1f} s (not timed below)"
        )
        per = 100_000 / max(screened, 1)
        cpu = time.process_time()
        prepared = [prepare_chunk(chunk) for chunk in chunks]
        prepare_cpu = time.process_time() - cpu
        cpu = time.process_time()
        sent = [pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL) for chunk in prepared]
        dumps_cpu = time.process_time() - cpu
        cpu = time.process_time()
        prepared = [pickle.loads(blob) for blob in sent]
        loads_cpu = time.process_time() - cpu
        source = run_source(chunks[0])
        del chunks
        print(
            f"prepare_chunk: {prepare_cpu:.2f} s CPU ({prepare_cpu * per:.2f} s per 100k); "
            f"pickled {sum(map(len, sent)) / 1e6:,.0f} MB: dumps {dumps_cpu:.2f} s, "
            f"loads {loads_cpu:.2f} s"
        )
        del sent
        url, schema = args.url, None
        if url is None:
            url = f"sqlite:///{Path(tmp) / 'audit.db'}"
        elif url.startswith("postgresql"):
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(url)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            url = (
                sa.engine.make_url(url)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )
        try:
            with AuditStore(url) as store:
                started, cpu = time.perf_counter(), time.process_time()
                with store.recording(source, "bench") as recorder:
                    for chunk in prepared:
                        recorder.add_prepared(chunk)
                    add_cpu = time.process_time() - cpu
                total_cpu = time.process_time() - cpu
                summary = recorder.summary()
                print(
                    f"add_prepared: {add_cpu:.2f} s CPU ({add_cpu * per:.2f} s per 100k); "
                    f"totals + commit {total_cpu - add_cpu:.2f} s CPU; "
                    f"{time.perf_counter() - started:.2f} s wall; chain head seq "
                    f"{summary.chain_seq}"
                )
                measure_store(store, summary.run_id, schema, screened)
        finally:
            if schema is not None:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
