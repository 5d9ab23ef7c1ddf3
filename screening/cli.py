"""The `screening` command line."""

from __future__ import annotations

import argparse
import contextlib
import csv
import getpass
import io
import itertools
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

from screening import __version__
from screening.audit.cli import add_audit_parser, run_recorded_message
from screening.audit.store import AuditError, AuditStore, RunRecorder, database_url
from screening.columns import EntryGroup
from screening.engine import EngineError
from screening.loading import FileLevelError
from screening.outputs import OutputError, StagedOutputs, check_outputs
from screening.parallel import ChunkOutput, ParallelRun, WorkerError, errors_header
from screening.results import ERROR_COLUMNS, Outcome
from screening.spec import SpecError
from screening.speccompiler_cli import add_compile_parser, add_diff_parser
from screening.vocabulary import vocabulary_path

EXIT_OK = 0
EXIT_UNUSABLE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report an interrupted command
EXIT_TERMINATED = 143  # 128 + SIGTERM


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; give the as-of date as YYYY-MM-DD, e.g. 2026-11-26"
        ) from None


def _add_screen_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    screen = subparsers.add_parser(
        "screen",
        help="screen a batch of applications against a job spec",
        description="Screen applicants against a spec's minimum qualifications. Results go to "
        "--out (stdout without it) in input order, error rows to --errors, a summary to stderr.",
    )
    screen.add_argument(
        "applicants",
        help="applicant CSV or .xlsx (wide form, or the applicants file of the long form)",
    )
    screen.add_argument(
        "--spec", required=True, help="job spec YAML, e.g. rules/alameda-7616-account-manager.yaml"
    )
    screen.add_argument("--jobs", help="long form: jobs CSV, one row per job")
    screen.add_argument("--education", help="long form: education CSV, one row per entry")
    screen.add_argument("--columns", help="YAML file mapping your headers to the expected names")
    screen.add_argument(
        "--no-job-columns",
        action="store_true",
        help="the file has no job entries: screen anyway (experience counts as none)",
    )
    screen.add_argument(
        "--no-education-columns",
        action="store_true",
        help="the file has no education entries: screen anyway (education counts as none)",
    )
    screen.add_argument(
        "--as-of",
        type=_as_of,
        default=None,
        help="date 'present' means and the cut-off for experience (default: today)",
    )
    screen.add_argument(
        "--requires-driving",
        action="store_true",
        help="this position requires driving (licenses that apply only then are checked)",
    )
    screen.add_argument(
        "--position-requires",
        action="append",
        default=[],
        metavar="CONDITION",
        help=(
            "this position requires CONDITION, as the spec names it for a license or "
            "certificate that only some positions require (repeatable)"
        ),
    )
    screen.add_argument("--out", help="results CSV (default: stdout)")
    screen.add_argument("--errors", help="errors and warnings CSV")
    screen.add_argument("--timings", action="store_true", help="print the time of each stage")
    screen.add_argument(
        "--no-audit", action="store_true", help="do not record this run in the audit store"
    )
    screen.add_argument("--user", default=None, help="who ran the screening (default: login name)")
    screen.add_argument(
        "--database",
        metavar="URL",
        help="audit database (default: $SCREENING_DATABASE_URL or sqlite:///screening-audit.db)",
    )
    screen.add_argument(
        "--engine", choices=["durable", "vectorised"], default="durable", help=argparse.SUPPRESS
    )  # the vectorised reference, for benchmarks
    screen.set_defaults(func=run_screen)  # fmt: skip


@dataclass
class RunTotals:
    """What a screening run adds up to over its chunks."""

    spec_id: str = ""
    revision: str = ""
    ruleset: str = ""
    as_of: str = ""
    requires_driving: bool = False
    position_requires: tuple[str, ...] = ()
    outcomes: Counter[str] = field(default_factory=Counter)
    screened: int = 0
    error_rows: int = 0
    errors: int = 0
    warnings: int = 0
    timings: Counter[str] = field(default_factory=Counter)
    #: the problems of the file as a whole (headers, not rows): no applicant data in them
    file_problems: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, run: ParallelRun) -> RunTotals:
        """Empty totals of a run (what it screens against)."""
        job = run.job
        return cls(
            spec_id=job.spec.id,
            revision=job.spec.revision,
            ruleset=run.ruleset_name,
            as_of=job.as_of.isoformat(),
            requires_driving=job.requires_driving,
            position_requires=tuple(sorted(job.position_requires)),
            timings=Counter(run.timings),
        )

    def add(self, chunk: ChunkOutput) -> None:
        """Count one chunk's results."""
        self.outcomes.update(chunk.outcomes)
        self.screened += chunk.screened
        self.error_rows += chunk.error_rows
        self.errors += chunk.errors
        self.warnings += chunk.warnings
        self.add_times(chunk.timings)

    def add_times(self, timings: dict[str, float]) -> None:
        """Add stage times (seconds; a worker's stages add up over the workers)."""
        self.timings.update(timings)


def summary_lines(totals: RunTotals) -> list[str]:
    """The run summary printed to stderr."""
    return [
        f"Screened {totals.screened} applicant(s) against {totals.spec_id}"
        + (f" revision {totals.revision}" if totals.revision else "")
        + f" (ruleset {totals.ruleset}, as of {totals.as_of}"
        + (", position requires driving" if totals.requires_driving else "")
        + "".join(f", position requires {c!r}" for c in totals.position_requires)
        + ")",
        "  " + "  ".join(f"{o.value}: {totals.outcomes.get(o.value, 0)}" for o in Outcome),
        f"  error rows not screened: {totals.error_rows}   "
        f"problems reported: {totals.errors} error(s), {totals.warnings} warning(s)",
    ]


#: How many problems of the file as a whole the summary prints without --errors.
SHOWN_FILE_PROBLEMS = 5


def file_problems(warnings_csv: bytes) -> list[str]:
    """The problems without a row (unknown or repeated headers, a title above them) among
    a chunk's warning rows of the errors CSV: safe to print, they hold no applicant data."""
    reader = csv.DictReader(io.StringIO(warnings_csv.decode("utf-8")), fieldnames=ERROR_COLUMNS)
    return [row["problem"] for row in reader if not row["row"] and not row["applicant_id"]]


def _check_screen_outputs(args: argparse.Namespace, run: ParallelRun | None = None) -> None:
    """Refuse --out/--errors that would replace an input, the spec, its vocabulary (known
    once `run` has read the spec) or the audit store, or that is not a regular file
    (raises OutputError)."""
    protected: dict[str, str | Path | None] = {
        "the applicants file": args.applicants,
        "the --jobs file": args.jobs,
        "the --education file": args.education,
        "the spec": args.spec,
        "the --columns file": args.columns,
    }
    if run is not None:
        protected["the spec's vocabulary"] = vocabulary_path(run.job.spec, run.job.spec_path)
    check_outputs(
        {"--out": args.out, "--errors": args.errors},
        protected,
        audit_url=args.database or database_url(),
    )


class _Terminated(Exception):
    """The run was asked to stop (SIGTERM): its outputs and audit record are not kept."""


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def _declared_absent(args: argparse.Namespace) -> list[EntryGroup]:
    """The entry groups the user says the file has none of."""
    absent: list[EntryGroup] = []
    if args.no_job_columns:
        absent.append("job")
    if args.no_education_columns:
        absent.append("edu")
    return absent


def run_screen(args: argparse.Namespace) -> int:
    """Handle `screening screen`: screen the batch chunk by chunk on every core."""
    try:
        # what can be checked before the spec is read: before anything is read
        _check_screen_outputs(args)
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if threading.current_thread() is not threading.main_thread():
        return _screen(args)
    # a terminated run removes its unfinished outputs, as an interrupted one does
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return _screen(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _screen(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        run = ParallelRun(
            args.applicants,
            args.spec,
            jobs=args.jobs,
            education=args.education,
            columns=args.columns,
            as_of=args.as_of,
            requires_driving=args.requires_driving,
            position_requires=frozenset(args.position_requires),
            engine=args.engine,
            record_audit=not args.no_audit,
            declared_absent=_declared_absent(args),
        )
    except (FileLevelError, SpecError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except EngineError as exc:
        print(f"error: the rule engine failed: {exc}; no results were written", file=sys.stderr)
        return EXIT_UNUSABLE
    except _Terminated:
        print("terminated; no results were written", file=sys.stderr)
        return EXIT_TERMINATED
    try:
        _check_screen_outputs(args, run)
    except OutputError as exc:
        run.close()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    totals = RunTotals.of(run)
    # what a failure message says of the results: none written, or stdout cut short
    unwritten = "no results were written"
    if not args.out:
        unwritten = "results already written to standard output are incomplete"
    try:
        with run:
            summary_message = _write_outputs(args, run, totals)
    except KeyboardInterrupt:
        print(f"interrupted; {unwritten}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print(f"terminated; {unwritten}", file=sys.stderr)
        return EXIT_TERMINATED
    except EngineError as exc:
        print(f"error: the rule engine failed: {exc}; {unwritten}", file=sys.stderr)
        return EXIT_UNUSABLE
    except (FileLevelError, WorkerError, AuditError) as exc:
        print(f"error: {exc}; {unwritten}", file=sys.stderr)
        return EXIT_UNUSABLE
    except OSError as exc:
        print(f"error: cannot write the results ({exc}); {unwritten}", file=sys.stderr)
        return EXIT_UNUSABLE
    except Exception as exc:  # a defect: still one message, never a traceback
        print(
            f"error: screening stopped unexpectedly ({type(exc).__name__}: {exc}); {unwritten}. "
            "Please report this with the command you ran.",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE
    for line in summary_lines(totals):
        print(line, file=sys.stderr)
    if summary_message:
        print("  " + summary_message, file=sys.stderr)
    if (totals.errors or totals.warnings) and not args.errors:
        for problem in totals.file_problems[:SHOWN_FILE_PROBLEMS]:
            print(f"  - {problem}", file=sys.stderr)
        unshown = totals.errors + totals.warnings - len(totals.file_problems[:SHOWN_FILE_PROBLEMS])
        if unshown:
            more = "the other" if totals.file_problems else "the"
            print(
                f"  ({more} {unshown} problem(s) are not shown: write them with "
                "--errors ERRORS.csv to see each one's row, column and fix)",
                file=sys.stderr,
            )
    if args.timings:
        total = time.perf_counter() - started
        stages = "  ".join(f"{k}: {v:.2f}s" for k, v in totals.timings.items())
        print(f"  time: {total:.2f}s  ({stages})", file=sys.stderr)
    return EXIT_OK


class _TextBytes:
    """Bytes written to a text stream (a standard output replaced by a text buffer)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, data: bytes) -> int:
        return self._stream.write(data.decode("utf-8"))

    def flush(self) -> None:
        self._stream.flush()


def _standard_output() -> IO[bytes] | _TextBytes:
    sys.stdout.flush()
    binary = getattr(sys.stdout, "buffer", None)
    return binary if binary is not None else _TextBytes(sys.stdout)


def _write_outputs(args: argparse.Namespace, run: ParallelRun, totals: RunTotals) -> str:
    """Write every chunk's results, problems and audit rows; the audit line of the summary.

    The output files are put in place after the last chunk is written, and the audit
    record is committed after that; if the commit fails the outputs are removed again: a
    run that fails leaves neither.
    """
    with contextlib.ExitStack() as files:
        outputs = StagedOutputs(files)
        out = outputs.open(args.out) if args.out else _standard_output()
        errors: IO[bytes] | None = None
        # warnings follow every error, as in the one-batch errors table: they wait here
        warnings: IO[bytes] | None = None
        if args.errors:
            errors = outputs.open(args.errors)
            errors.write(errors_header())
            warnings = files.enter_context(tempfile.TemporaryFile())
        chunks = iter(run)
        first = next(chunks)
        recorder: RunRecorder | None = None
        with contextlib.ExitStack() as audit:
            # called last: outputs in place whose audit record failed to commit are removed
            audit.push(_withdraw_on_error(outputs))
            if not args.no_audit:
                store = audit.enter_context(AuditStore(args.database or database_url()))
                recorder = audit.enter_context(
                    store.recording(first.audit_source, args.user or getpass.getuser())
                )
            for chunk in itertools.chain([first], chunks):
                if errors is None and chunk is first:
                    totals.file_problems = file_problems(chunk.warnings_csv)
                write_started = time.perf_counter()
                out.write(chunk.results_csv)
                if errors is not None and warnings is not None:
                    errors.write(chunk.errors_csv)
                    warnings.write(chunk.warnings_csv)
                output = {"output": time.perf_counter() - write_started}
                if recorder is not None:
                    audit_started = time.perf_counter()
                    recorder.add_prepared(chunk.audit)
                    output["audit_store"] = time.perf_counter() - audit_started
                totals.add(chunk)
                totals.add_times(output)
            if errors is not None and warnings is not None:
                warnings.seek(0)
                shutil.copyfileobj(warnings, errors)
            out.flush()
            outputs.commit()  # the audit record commits as its block ends, just below
            closing_started = time.perf_counter()
        if recorder is not None:  # the run's closing totals, written as its block ended
            totals.add_times({"audit_store": time.perf_counter() - closing_started})
    return run_recorded_message(recorder.summary()) if recorder is not None else ""


def _withdraw_on_error(
    outputs: StagedOutputs,
) -> Callable[[type[BaseException] | None, BaseException | None, object], None]:
    def exit_callback(
        exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc_type is not None:
            outputs.withdraw()

    return exit_callback


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="screening", description="Applicant minimum-qualification screening."
    )
    parser.add_argument("--version", action="version", version=f"screening {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_screen_parser(subparsers)
    add_compile_parser(subparsers)
    add_diff_parser(subparsers)
    add_audit_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `screening` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
