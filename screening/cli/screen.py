"""`screening screen`: screen a batch of applications into results, problems and an audit record."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import IO

from screening.audit.database import database_url
from screening.cli.audit import run_recorded_message
from screening.cli.options import add_screen_options
from screening.columns import EntryGroup
from screening.errors import ScreeningError, UserError
from screening.outputs import check_outputs
from screening.results import Outcome
from screening.run.chunks import ParallelRun
from screening.run.outputs import write_outputs
from screening.run.totals import RunTotals
from screening.vocabulary import vocabulary_path

EXIT_OK = 0
EXIT_UNUSABLE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report an interrupted command
EXIT_TERMINATED = 143  # 128 + SIGTERM


def add_screen_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``screen`` with its options (screening.cli.options) and this handler."""
    add_screen_options(subparsers).set_defaults(func=run_screen)


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
    except ScreeningError as exc:
        print(f"error: {exc.describe()}", file=sys.stderr)
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
    except ScreeningError as exc:
        # nothing was started for an unusable input; a failure says what it cost
        cost = "" if isinstance(exc, UserError) else "; no results were written"
        print(f"error: {exc.describe()}{cost}", file=sys.stderr)
        return EXIT_UNUSABLE
    except _Terminated:
        print("terminated; no results were written", file=sys.stderr)
        return EXIT_TERMINATED
    try:
        _check_screen_outputs(args, run)
    except ScreeningError as exc:
        run.close()
        print(f"error: {exc.describe()}", file=sys.stderr)
        return EXIT_UNUSABLE
    totals = RunTotals.of(run)
    # what a failure message says of the results: none written, or stdout cut short
    unwritten = "no results were written"
    if not args.out:
        unwritten = "results already written to standard output are incomplete"
    try:
        with run:
            summary = write_outputs(
                run,
                totals,
                out=args.out,
                errors=args.errors,
                audit_url=None if args.no_audit else args.database or database_url(),
                user=args.user,
                standard_output=_standard_output,
            )
            summary_message = run_recorded_message(summary) if summary is not None else ""
    except KeyboardInterrupt:
        print(f"interrupted; {unwritten}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print(f"terminated; {unwritten}", file=sys.stderr)
        return EXIT_TERMINATED
    except ScreeningError as exc:
        print(f"error: {exc.describe()}; {unwritten}", file=sys.stderr)
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
