"""Screening a large batch on every core.

A run is split into chunks of applicants. Each chunk is screened in a worker process that
holds its own durable_rules host (the engine is single-threaded and its state is
per-process), and comes back as what the run's outputs need of it: the results and error
CSV bytes, the counts of the summary and, when the run is recorded, the audit store's
prepared rows. The parent only writes bytes and appends audit rows, in input order, while
the workers screen the chunks that follow; at most a few chunks are in flight, so memory
stays flat however large the file.

Screening is a pure function of an applicant's facts, so the chunks' outputs joined in
order are exactly the one-batch outputs. Small batches are screened in this process, where
starting workers would cost more than it saves, and so is a batch already loaded whole (a
long form, a workbook, the app's uploads: `screen_loaded`), as one chunk whose problems
stay in the one table's order; when such a batch has many distinct fact rows, its rule
step alone is spread over the same workers. The workers started here are the package's
only pool of screening processes: the rule engine (`screening.engine`) is one host per
process and starts none.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Collection, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from screening import engine as rule_engine
from screening import processes
from screening.columns import EntryGroup, check_entry_columns
from screening.errors import InternalFailure
from screening.export import csv_utf8
from screening.loading import Batch, ChunkPlan, ChunkRange, load_batch, load_chunk, plan_wide_file
from screening.results import ERROR_COLUMNS
from screening.ruleset import CompiledRuleset
from screening.run.stages import (
    DecisionMemo,
    EngineKind,
    RuleStep,
    ScreeningResult,
    ScreenJob,
    check_batch_columns,
    compiled_ruleset,
    default_workers,
    needed_entry_groups,
)
from screening.spec import JobSpec

#: Applicants per chunk: big enough that the per-chunk overhead (pickling, pandas set-up)
#: is small, small enough that a few chunks in flight keep memory low and both cores busy.
CHUNK_ROWS = 12_500
#: Workers at most: with audit recording the parent (writing, storing) is busy enough at
#: two or three; more would only add memory.
MAX_WORKERS = 8
#: Distinct fact rows of a batch loaded whole from which its rule step is spread over
#: worker processes: below it, starting them would cost more than they save.
SPREAD_MINIMUM_ROWS = 20_000


class WorkerError(InternalFailure, RuntimeError):
    """A worker process stopped before its chunk was screened (killed, out of memory)."""


@dataclass
class ChunkOutput:
    """One screened chunk, as the run's outputs need it."""

    index: int
    results_csv: bytes
    errors_csv: bytes
    warnings_csv: bytes
    outcomes: dict[str, int]
    screened: int
    error_rows: int
    errors: int
    warnings: int
    timings: dict[str, float]
    audit: Any = None
    audit_source: Any = None


@dataclass
class Screener:
    """A job made ready to screen chunk after chunk in one process: rules compiled and
    registered, and the memo of what the rules said of each distinct fact row."""

    job: ScreenJob
    memo: DecisionMemo = field(init=False)
    #: where the durable rules run (None: this process's host)
    rules: RuleStep | None = None

    def __post_init__(self) -> None:
        compiled = compiled_ruleset(self.job.spec)
        if self.job.engine == "durable":
            rule_engine.register(compiled)
        self.memo = DecisionMemo(compiled)

    def result(self, batch: Batch) -> ScreeningResult:
        """Screen one loaded chunk into its explained results."""
        return self.job.screen(batch, memo=self.memo, rules=self.rules)

    def screen(self, index: int, batch: Batch) -> ChunkOutput:
        """Screen one loaded chunk and render its outputs."""
        return render(index, self.result(batch), record_audit=self.job.record_audit)

    def load_and_screen(self, plan: ChunkPlan, chunk: ChunkRange) -> ChunkOutput:
        """Read one stretch of the applicants file and screen it."""
        started = time.perf_counter()
        batch = load_chunk(plan, chunk, arrow_text=self.job.record_audit)
        load = time.perf_counter() - started
        output = self.screen(chunk.index, batch)
        output.timings = {"load": load, **output.timings}
        return output


# A worker process screens chunks of one run only.
_WORKER: Screener | None = None


def _start_worker(job: ScreenJob) -> None:
    global _WORKER
    processes.end_with_parent()
    # Ctrl-C reaches the whole process group: the parent stops the run and says so once
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = Screener(job)


def _screen_in_worker(plan: ChunkPlan, chunk: ChunkRange) -> ChunkOutput:
    if _WORKER is None:
        raise RuntimeError("this process was not started as a screening worker")
    return _WORKER.load_and_screen(plan, chunk)


def _decide_in_worker(distinct: pd.DataFrame) -> dict[str, np.ndarray[Any, Any]]:
    if _WORKER is None:
        raise RuntimeError("this process was not started as a screening worker")
    return rule_engine.evaluate(_WORKER.memo.compiled, distinct).statuses


def rules_on_workers(job: ScreenJob, workers: int | None = None) -> RuleStep | None:
    """Where the rules of a batch loaded whole run: this process's host for a few
    distinct fact rows, else (from SPREAD_MINIMUM_ROWS) slices of them on worker processes
    started for the call, each with its own host. None where workers cannot help (one
    worker, the vectorised reference, no forkserver here). Every row is decided by itself,
    so the statuses joined are exactly those of one host."""
    workers = min(workers if workers is not None else default_workers(), MAX_WORKERS)
    if job.engine != "durable" or workers < 2 or not processes.workers_can_start():
        return None

    def rules(compiled: CompiledRuleset, distinct: pd.DataFrame) -> dict[str, np.ndarray[Any, Any]]:
        if len(distinct) < SPREAD_MINIMUM_ROWS:
            return rule_engine.evaluate(compiled, distinct).statuses
        slices = np.array_split(np.arange(len(distinct)), workers * 2)
        pool = _start_pool(job, workers)
        try:
            parts = list(pool.map(_decide_in_worker, [distinct.iloc[s] for s in slices]))
        except BrokenProcessPool:
            raise WorkerError(
                "a screening worker process stopped unexpectedly (was it killed, or out of memory?)"
            ) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return {subject: np.concatenate([part[subject] for part in parts]) for subject in parts[0]}

    return rules


def render(index: int, result: ScreeningResult, *, record_audit: bool) -> ChunkOutput:
    """The outputs of one screened chunk: CSV bytes, counts and prepared audit rows."""
    started = time.perf_counter()
    errors = result.errors_frame()
    is_error = (errors["severity"] == "error").to_numpy(dtype=bool)
    output = ChunkOutput(
        index=index,
        results_csv=csv_utf8(result.results, header=index == 0),
        errors_csv=csv_utf8(errors[is_error], header=False),
        warnings_csv=csv_utf8(errors[~is_error], header=False),
        outcomes=result.outcome_counts(),
        screened=len(result.results),
        error_rows=result.batch.error_rows,
        errors=int(is_error.sum()),
        warnings=int((~is_error).sum()),
        timings=dict(result.timings),
    )
    output.timings["write"] = time.perf_counter() - started
    if record_audit:
        from screening.audit import prepare_chunk, run_source

        started = time.perf_counter()
        output.audit = prepare_chunk(result)
        if index == 0:
            output.audit_source = run_source(result)
        output.timings["audit"] = time.perf_counter() - started
    return output


def errors_header() -> bytes:
    """The header line of the errors CSV."""
    return csv_utf8(pd.DataFrame(columns=ERROR_COLUMNS), header=True)


class ParallelRun:
    """A screening run over one batch of files, chunk by chunk, on every core.

    Constructing it checks the spec, its vocabulary and every file-level problem (raising
    SpecError or FileLevelError before anything is screened) and starts the workers;
    iterating yields each chunk's `ChunkOutput` in input order. Use it as a context
    manager so the workers stop with the run. `chunk_rows` defaults to CHUNK_ROWS. Files
    smaller than `parallel_minimum_bytes` (default `processes.PARALLEL_MINIMUM_BYTES`) are
    screened in this process; long forms and .xlsx workbooks are loaded whole and screened
    in this process as one chunk, as `screen_loaded` screens the app's uploads (their rule
    step spread over `workers` processes when large: `rules_on_workers`); so is everything
    where processes cannot be started from a server (no forkserver on this platform).
    """

    def __init__(
        self,
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
        record_audit: bool = True,
        workers: int | None = None,
        chunk_rows: int | None = None,
        parallel_minimum_bytes: int | None = None,
        declared_absent: Collection[EntryGroup] = (),
    ) -> None:
        self.job = ScreenJob.resolve(
            spec,
            as_of=as_of,
            requires_driving=requires_driving,
            position_requires=position_requires,
            engine=engine,
            record_audit=record_audit,
        )
        self.ruleset_name = compiled_ruleset(self.job.spec).name
        self.timings: dict[str, float] = {}
        self._pool: ProcessPoolExecutor | None = None
        workers = min(workers if workers is not None else default_workers(), MAX_WORKERS)
        self._workers = workers
        if parallel_minimum_bytes is None:
            parallel_minimum_bytes = processes.PARALLEL_MINIMUM_BYTES
        long_form = jobs is not None or education is not None
        if (
            not long_form
            and workers >= 2
            and _size(applicants) >= parallel_minimum_bytes
            and processes.workers_can_start()
        ):
            # the workers start (fork, compile, register) while the file is planned
            self._pool = _start_pool(self.job, workers)
            self._in_flight = workers + 1
        started = time.perf_counter()
        self._plan: ChunkPlan | None = None
        self._ranges: list[ChunkRange] = []
        self._whole: Batch | None = None
        try:
            if not long_form:
                self._plan = plan_wide_file(applicants, columns=columns)
            if self._plan is None:
                # an .xlsx workbook or a CSV only the slower reader takes: one batch
                self.close()
                self._whole = load_batch(
                    applicants, jobs=jobs, education=education, columns=columns
                )
            else:
                self._ranges = self._plan.ranges(chunk_rows or CHUNK_ROWS)
            # a spec that decides on jobs or education refuses a file without their columns
            needed = needed_entry_groups(self.job.spec) - set(declared_absent)
            if self._plan is not None:
                planned = self._plan.columns
                unknown = [h for _, h in planned.unknown]
                check_entry_columns(self._plan.shown, planned.entry_groups(), unknown, needed)
            elif self._whole is not None:
                check_batch_columns(self.job.spec, self._whole, declared_absent)
        except BaseException:
            self.close()
            raise
        self.timings["plan"] = time.perf_counter() - started

    def __enter__(self) -> ParallelRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (pending chunks are cancelled)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @property
    def uses_workers(self) -> bool:
        """Whether chunks are screened by worker processes."""
        return self._pool is not None

    def __iter__(self) -> Iterator[ChunkOutput]:
        if self._pool is None:
            yield from self._in_this_process()
            return
        try:
            yield from self._in_workers(self._pool)
        except BrokenProcessPool:
            raise WorkerError(
                "a screening worker process stopped unexpectedly (was it killed, or out of memory?)"
            ) from None

    def _in_this_process(self) -> Iterator[ChunkOutput]:
        if self._whole is not None:
            # loaded whole, screened whole: its problems stay in the one table's order
            # (by file, then row), which chunks of a long form would interleave
            whole, self._whole = self._whole, None
            screener = Screener(self.job, rules=rules_on_workers(self.job, self._workers))
            yield screener.screen(0, whole)
            return
        screener = Screener(self.job)
        assert self._plan is not None
        for chunk in self._ranges:
            yield screener.load_and_screen(self._plan, chunk)

    def _in_workers(self, pool: ProcessPoolExecutor) -> Iterator[ChunkOutput]:
        plan = self._plan
        assert plan is not None
        pending: deque[Future[ChunkOutput]] = deque()
        remaining = iter(self._ranges)
        while True:
            while len(pending) < self._in_flight:
                chunk = next(remaining, None)
                if chunk is None:
                    break
                pending.append(pool.submit(_screen_in_worker, plan.for_chunk(chunk), chunk))
            if not pending:
                return
            yield pending.popleft().result()


def screen_loaded(
    job: ScreenJob,
    batch: Batch,
    *,
    declared_absent: Collection[EntryGroup] = (),
    check_columns: bool = True,
    workers: int | None = None,
) -> ScreeningResult:
    """Screen a batch already loaded in memory (the app's uploads) under a resolved job,
    as a run screens a file it loads whole: its columns checked first as the command line
    checks them (`MissingEntryColumns` for an entry group the spec decides on and the
    batch has no column for, unless `declared_absent`; not at all without
    `check_columns`, for a preview that is no run), then one chunk in this process, its
    rule step on up to `workers` worker processes when large (`rules_on_workers`).
    """
    if check_columns:
        check_batch_columns(job.spec, batch, declared_absent)
    return Screener(job, rules=rules_on_workers(job, workers)).result(batch)


def _size(path: str | Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _start_pool(job: ScreenJob, workers: int) -> ProcessPoolExecutor:
    """Workers forked from a server that has already imported the screening package; each
    gets the job once and starts at once."""
    processes.start_worker_server()  # no-op when already running
    context = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(job,)
    )
    for _ in range(workers):
        pool.submit(_ready)
    return pool


def _ready() -> None:
    """A no-op task, so that each worker process starts now rather than at its first chunk."""


__all__ = [
    "CHUNK_ROWS",
    "MAX_WORKERS",
    "ChunkOutput",
    "ParallelRun",
    "ScreenJob",
    "Screener",
    "WorkerError",
    "errors_header",
    "render",
    "rules_on_workers",
    "screen_loaded",
]
