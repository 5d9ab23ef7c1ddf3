"""The outputs of a screening run: results and problems written chunk by chunk in input
order, the audit record appended as they go, and all of it kept only if all of it succeeds.

The output files are put in place after the last chunk is written, and the audit record is
committed after that; if the commit fails the outputs are removed again: a run that fails
leaves neither.
"""

from __future__ import annotations

import contextlib
import getpass
import itertools
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import IO, Protocol

from screening.audit.records import RunSummary
from screening.audit.store import AuditStore
from screening.audit.writer import RunRecorder
from screening.outputs import StagedOutputs
from screening.run.chunks import ParallelRun, errors_header
from screening.run.totals import RunTotals, file_problems


class BytesWriter(Protocol):
    """Where results go when no file is named (a text stream's bytes wrapper)."""

    def write(self, data: bytes) -> int: ...

    def flush(self) -> None: ...


def write_outputs(
    run: ParallelRun,
    totals: RunTotals,
    *,
    out: str | None,
    errors: str | None,
    audit_url: str | None,
    user: str | None,
    standard_output: Callable[[], IO[bytes] | BytesWriter],
) -> RunSummary | None:
    """Write every chunk's results (to `out`, else `standard_output()`) and problems (to
    `errors`), record its audit rows in the store at `audit_url` (None: no record), add it
    to `totals`, and return the recorded run's summary. `user` defaults to the login name.

    The output files are put in place after the last chunk is written, and the audit
    record is committed after that; if the commit fails the outputs are removed again: a
    run that fails leaves neither.
    """
    with contextlib.ExitStack() as files:
        outputs = StagedOutputs(files)
        results = outputs.open(out) if out else standard_output()
        problems: IO[bytes] | None = None
        # warnings follow every error, as in the one-batch errors table: they wait here
        warnings: IO[bytes] | None = None
        if errors:
            problems = outputs.open(errors)
            problems.write(errors_header())
            warnings = files.enter_context(tempfile.TemporaryFile())
        chunks = iter(run)
        first = next(chunks)
        recorder: RunRecorder | None = None
        with contextlib.ExitStack() as audit:
            # called last: outputs in place whose audit record failed to commit are removed
            audit.push(_withdraw_on_error(outputs))
            if audit_url is not None:
                store = audit.enter_context(AuditStore(audit_url))
                recorder = audit.enter_context(
                    store.recording(first.audit_source, user or getpass.getuser())
                )
            for chunk in itertools.chain([first], chunks):
                if problems is None and chunk is first:
                    totals.file_problems = file_problems(chunk.warnings_csv)
                write_started = time.perf_counter()
                results.write(chunk.results_csv)
                if problems is not None and warnings is not None:
                    problems.write(chunk.errors_csv)
                    warnings.write(chunk.warnings_csv)
                output = {"output": time.perf_counter() - write_started}
                if recorder is not None:
                    audit_started = time.perf_counter()
                    recorder.add_prepared(chunk.audit)
                    output["audit_store"] = time.perf_counter() - audit_started
                totals.add(chunk)
                totals.add_times(output)
            if problems is not None and warnings is not None:
                warnings.seek(0)
                shutil.copyfileobj(warnings, problems)
            results.flush()
            outputs.commit()  # the audit record commits as its block ends, just below
            closing_started = time.perf_counter()
        if recorder is not None:  # the run's closing totals, written as its block ended
            totals.add_times({"audit_store": time.perf_counter() - closing_started})
    return recorder.summary() if recorder is not None else None


def _withdraw_on_error(
    outputs: StagedOutputs,
) -> Callable[[type[BaseException] | None, BaseException | None, object], None]:
    def exit_callback(
        exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc_type is not None:
            outputs.withdraw()

    return exit_callback
