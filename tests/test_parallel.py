"""Screening on a process pool gives, chunk by chunk, exactly the one-batch outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from screening.export import csv_utf8
from screening.loading import load_batch
from screening.results import ERROR_COLUMNS
from screening.run import chunks as run_chunks
from screening.run.chunks import ParallelRun, WorkerError, errors_header, screen_loaded
from screening.run.stages import DecisionMemo, ScreenJob, compiled_ruleset, decide, screen_files
from screening.spec import SpecError, load_spec
from tests.builders import ALAMEDA, AS_OF, ROOT

SAMPLE = ROOT / "data" / "account-manager-applicants.csv"


def _one_batch_outputs(path: Path) -> tuple[bytes, bytes]:
    whole = screen_files(path, ALAMEDA, as_of=AS_OF)
    return csv_utf8(whole.results, header=True), csv_utf8(whole.errors_frame(), header=True)


def _run_outputs(run: ParallelRun) -> tuple[bytes, bytes, int]:
    results, errors, warnings, chunks = [], [], [], 0
    for chunk in run:
        assert chunk.index == chunks
        results.append(chunk.results_csv)
        errors.append(chunk.errors_csv)
        warnings.append(chunk.warnings_csv)
        chunks += 1
    return b"".join(results), errors_header() + b"".join(errors + warnings), chunks


@pytest.mark.parametrize("workers", [1, 2])
def test_chunks_on_workers_join_into_the_one_batch_outputs(workers: int) -> None:
    expected_results, expected_errors = _one_batch_outputs(SAMPLE)
    with ParallelRun(
        SAMPLE,
        ALAMEDA,
        as_of=AS_OF,
        record_audit=False,
        workers=workers,
        chunk_rows=41,
        parallel_minimum_bytes=0,
    ) as run:
        results, errors, chunks = _run_outputs(run)
    assert chunks > 3
    assert results == expected_results
    assert errors == expected_errors


def test_the_vectorised_reference_on_workers_decides_as_durable_rules() -> None:
    expected_results, _ = _one_batch_outputs(SAMPLE)
    with ParallelRun(
        SAMPLE,
        ALAMEDA,
        as_of=AS_OF,
        engine="vectorised",
        record_audit=False,
        workers=2,
        chunk_rows=53,
        parallel_minimum_bytes=0,
    ) as run:
        results, _, _ = _run_outputs(run)
    assert results == expected_results


def test_a_small_file_is_screened_without_starting_workers() -> None:
    with ParallelRun(SAMPLE, ALAMEDA, as_of=AS_OF, record_audit=False, workers=2) as run:
        assert not run.uses_workers
        assert sum(c.screened for c in run) > 0


def test_counts_add_up_to_the_one_batch_counts() -> None:
    whole = screen_files(SAMPLE, ALAMEDA, as_of=AS_OF)
    with ParallelRun(
        SAMPLE, ALAMEDA, as_of=AS_OF, record_audit=False, workers=2, chunk_rows=29,
        parallel_minimum_bytes=0,
    ) as run:  # fmt: skip
        chunks = list(run)
    assert sum(c.screened for c in chunks) == len(whole.results)
    assert sum(c.error_rows for c in chunks) == whole.batch.error_rows
    assert sum(c.errors for c in chunks) == sum(i.severity == "error" for i in whole.issues)
    assert sum(c.warnings for c in chunks) == sum(i.severity == "warning" for i in whole.issues)
    for outcome, count in whole.outcome_counts().items():
        assert sum(c.outcomes[outcome] for c in chunks) == count


def test_a_worker_that_dies_is_reported_as_a_stopped_worker() -> None:
    with ParallelRun(
        SAMPLE, ALAMEDA, as_of=AS_OF, record_audit=False, workers=2, chunk_rows=41,
        parallel_minimum_bytes=0,
    ) as run:  # fmt: skip
        assert run.uses_workers and run._pool is not None
        chunks = iter(run)
        next(chunks)
        for process in list(run._pool._processes.values()):
            process.kill()
            process.join()
        with pytest.raises(WorkerError, match="worker process stopped"):
            list(chunks)


def test_a_run_after_a_worker_died_starts_new_workers() -> None:
    expected_results, _ = _one_batch_outputs(SAMPLE)
    settings = dict(record_audit=False, workers=2, chunk_rows=41, parallel_minimum_bytes=0)
    with ParallelRun(SAMPLE, ALAMEDA, as_of=AS_OF, **settings) as run:  # type: ignore[arg-type]
        assert run._pool is not None
        chunks = iter(run)
        next(chunks)
        for process in list(run._pool._processes.values()):
            process.kill()
            process.join()
        with pytest.raises(WorkerError):
            list(chunks)
    with ParallelRun(SAMPLE, ALAMEDA, as_of=AS_OF, **settings) as again:  # type: ignore[arg-type]
        assert again.uses_workers
        results, _, _ = _run_outputs(again)
    assert results == expected_results


def test_the_memo_evaluates_each_distinct_fact_row_once_across_batches() -> None:
    compiled = compiled_ruleset(load_spec(ALAMEDA))
    whole = screen_files(SAMPLE, ALAMEDA, as_of=AS_OF)
    facts = whole.evidence.facts
    memo = DecisionMemo(compiled)
    halves = [facts.iloc[: len(facts) // 2], facts.iloc[len(facts) // 2 :]]
    first = decide(compiled, halves[0], memo=memo)
    seen = len(memo)
    again = decide(compiled, halves[0], memo=memo)
    assert len(memo) == seen  # nothing new was evaluated
    second = decide(compiled, halves[1], memo=memo)
    expected = decide(compiled, facts)
    for subject, statuses in expected.items():
        joined = np.concatenate([first[subject], second[subject]])
        assert joined.tolist() == statuses.tolist()
        assert again[subject].tolist() == first[subject].tolist()


def test_a_full_memo_starts_afresh_and_still_decides_right() -> None:
    compiled = compiled_ruleset(load_spec(ALAMEDA))
    facts = screen_files(SAMPLE, ALAMEDA, as_of=AS_OF).evidence.facts
    memo = DecisionMemo(compiled, limit=5)
    expected = decide(compiled, facts)
    for start in range(0, len(facts), 3):
        part = facts.iloc[start : start + 3]
        got = decide(compiled, part, memo=memo)
        assert len(memo) <= 5
        for subject, statuses in expected.items():
            assert got[subject].tolist() == statuses[start : start + 3].tolist()


def test_an_empty_errors_table_has_just_the_header() -> None:
    header = errors_header().decode("utf-8")
    assert header.endswith("\r\n") and header.count("\r\n") == 1
    assert header.strip().split(",") == ERROR_COLUMNS


def test_the_long_form_is_screened_as_one_batch_by_a_worker() -> None:
    folder = ROOT / "data" / "account-manager-long"
    files = {
        "jobs": folder / "jobs.csv",
        "education": folder / "education.csv",
    }
    whole = screen_files(folder / "applicants.csv", ALAMEDA, as_of=AS_OF, **files)
    with ParallelRun(
        folder / "applicants.csv", ALAMEDA, as_of=AS_OF, record_audit=False, workers=2,
        parallel_minimum_bytes=0, **files,
    ) as run:  # fmt: skip
        chunks = list(run)
    assert len(chunks) == 1
    assert chunks[0].results_csv == csv_utf8(whole.results, header=True)


def test_a_loaded_batch_is_screened_as_the_run_screens_its_file() -> None:
    """The app's entry (a batch already in memory) and the command line's give one result."""
    loaded = screen_loaded(ScreenJob.resolve(ALAMEDA, as_of=AS_OF), load_batch(SAMPLE))
    with ParallelRun(SAMPLE, ALAMEDA, as_of=AS_OF, record_audit=False, workers=1) as run:
        from_file = b"".join(chunk.results_csv for chunk in run)
    assert csv_utf8(loaded.results, header=True) == from_file
    whole = screen_files(SAMPLE, ALAMEDA, as_of=AS_OF)
    assert csv_utf8(loaded.errors_frame(), header=True) == csv_utf8(
        whole.errors_frame(), header=True
    )


def test_a_loaded_batch_spread_over_workers_decides_as_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rule step of a large batch loaded whole is spread over the run's worker
    processes (the engine has no pool of its own); the decisions must not change."""
    monkeypatch.setattr(run_chunks, "SPREAD_MINIMUM_ROWS", 10)
    job = ScreenJob.resolve(ALAMEDA, as_of=AS_OF)
    batch = load_batch(SAMPLE)
    alone = screen_loaded(job, batch, workers=1)
    spread = screen_loaded(job, batch, workers=2)
    assert csv_utf8(spread.results, header=True) == csv_utf8(alone.results, header=True)
    assert {subject: column.tolist() for subject, column in spread.statuses.items()} == {
        subject: column.tolist() for subject, column in alone.statuses.items()
    }


def test_a_worker_that_dies_in_a_spread_rule_step_is_reported_and_the_next_starts_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(run_chunks, "SPREAD_MINIMUM_ROWS", 10)
    job = ScreenJob.resolve(ALAMEDA, as_of=AS_OF)
    batch = load_batch(SAMPLE)
    expected = csv_utf8(screen_loaded(job, batch, workers=1).results, header=True)
    original = run_chunks._start_pool

    def pool_losing_its_workers(job: ScreenJob, workers: int) -> Any:
        pool = original(job, workers)
        for process in list(pool._processes.values()):
            process.kill()
            process.join()
        return pool

    monkeypatch.setattr(run_chunks, "_start_pool", pool_losing_its_workers)
    with pytest.raises(WorkerError, match="worker process stopped"):
        screen_loaded(job, batch, workers=2)
    monkeypatch.setattr(run_chunks, "_start_pool", original)
    assert csv_utf8(screen_loaded(job, batch, workers=2).results, header=True) == expected


def test_two_runs_in_one_process_keep_their_own_settings() -> None:
    alone = {}
    for driving in (False, True):
        with ParallelRun(
            SAMPLE, ALAMEDA, as_of=AS_OF, requires_driving=driving, record_audit=False,
            workers=1, chunk_rows=50,
        ) as run:  # fmt: skip
            alone[driving] = b"".join(c.results_csv for c in run)
    assert alone[False] != alone[True]
    runs = {
        driving: ParallelRun(
            SAMPLE,
            ALAMEDA,
            as_of=AS_OF,
            requires_driving=driving,
            record_audit=False,
            workers=1,
            chunk_rows=50,
        )  # fmt: skip
        for driving in (False, True)
    }
    iterators = {driving: iter(run) for driving, run in runs.items()}
    joined: dict[bool, list[bytes]] = {False: [], True: []}
    done: set[bool] = set()
    while len(done) < 2:  # one chunk of each run in turn
        for driving, chunks in iterators.items():
            chunk = next(chunks, None)
            if chunk is None:
                done.add(driving)
            else:
                joined[driving].append(chunk.results_csv)
    for driving in (False, True):
        assert b"".join(joined[driving]) == alone[driving]


def test_a_spec_whose_vocabulary_is_missing_fails_before_any_worker_starts(
    tmp_path: Path,
) -> None:
    text = ALAMEDA.read_text(encoding="utf-8")
    copy = tmp_path / "spec.yaml"
    named = "vocabulary: agency-vocabulary.yaml"  # not beside the copy
    copy.write_text(text.replace("vocabulary: vocabulary.yaml", named), encoding="utf-8")
    with pytest.raises(SpecError, match="agency-vocabulary.yaml"):
        ParallelRun(SAMPLE, copy, as_of=AS_OF, record_audit=False, parallel_minimum_bytes=0)
