"""The `screening` command line."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import itertools
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

from screening import __version__
from screening.audit.cli import add_audit_parser, run_recorded_message
from screening.audit.impact import import_statistics_in_background
from screening.audit.store import AuditError, AuditStore, RunRecorder, database_url
from screening.engine import EngineError
from screening.loading import FileLevelError
from screening.parallel import ChunkOutput, ParallelRun, errors_header
from screening.results import Outcome
from screening.spec import SpecError
from screening.speccompiler_cli import add_compile_parser, add_diff_parser

EXIT_OK = 0
EXIT_UNUSABLE = 2


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
    outcomes: Counter[str] = field(default_factory=Counter)
    screened: int = 0
    error_rows: int = 0
    errors: int = 0
    warnings: int = 0
    timings: dict[str, float] = field(default_factory=dict)

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
            timings=dict(run.timings),
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
        for stage, seconds in timings.items():
            self.timings[stage] = self.timings.get(stage, 0.0) + seconds


def summary_lines(totals: RunTotals) -> list[str]:
    """The run summary printed to stderr."""
    return [
        f"Screened {totals.screened} applicant(s) against {totals.spec_id}"
        + (f" revision {totals.revision}" if totals.revision else "")
        + f" (ruleset {totals.ruleset}, as of {totals.as_of}"
        + (", position requires driving" if totals.requires_driving else "")
        + ")",
        "  " + "  ".join(f"{o.value}: {totals.outcomes.get(o.value, 0)}" for o in Outcome),
        f"  error rows not screened: {totals.error_rows}   "
        f"problems reported: {totals.errors} error(s), {totals.warnings} warning(s)",
    ]


def _engine_failed(exc: EngineError) -> str:
    return f"error: the rule engine failed, no results were written: {exc}"


def run_screen(args: argparse.Namespace) -> int:
    """Handle `screening screen`: screen the batch chunk by chunk on every core."""
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
            engine=args.engine,
            record_audit=not args.no_audit,
        )
    except (FileLevelError, SpecError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except EngineError as exc:
        print(_engine_failed(exc), file=sys.stderr)
        return EXIT_UNUSABLE
    with run:
        chunks = iter(run)
        try:
            first = next(chunks)
        except FileLevelError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_UNUSABLE
        except EngineError as exc:
            print(_engine_failed(exc), file=sys.stderr)
            return EXIT_UNUSABLE
        totals = RunTotals.of(run)
        try:
            summary_message = _write_outputs(args, first, chunks, totals)
        except (FileLevelError, EngineError, AuditError) as exc:
            for written in (args.out, args.errors):
                if written:
                    Path(written).unlink(missing_ok=True)
            print(f"error: {exc}; no results were written", file=sys.stderr)
            return EXIT_UNUSABLE
    for line in summary_lines(totals):
        print(line, file=sys.stderr)
    if summary_message:
        print("  " + summary_message, file=sys.stderr)
    if (totals.errors or totals.warnings) and not args.errors:
        print(
            "  (write the problems with --errors ERRORS.csv to see row, column and fix)",
            file=sys.stderr,
        )
    if args.timings:
        total = time.perf_counter() - started
        stages = "  ".join(f"{k}: {v:.2f}s" for k, v in totals.timings.items())
        print(f"  time: {total:.2f}s  ({stages})", file=sys.stderr)
    return EXIT_OK


def _write_outputs(
    args: argparse.Namespace, first: ChunkOutput, rest: Iterator[ChunkOutput], totals: RunTotals
) -> str:
    """Write every chunk's results, problems and audit rows; the audit line of the summary."""
    with contextlib.ExitStack() as files:
        recorder: RunRecorder | None = None
        if not args.no_audit:
            import_statistics_in_background()
            store = files.enter_context(AuditStore(args.database or database_url()))
            recorder = files.enter_context(
                store.recording(first.audit_source, args.user or getpass.getuser())
            )
        if args.out:
            out: IO[bytes] = files.enter_context(open(args.out, "wb"))
        else:
            sys.stdout.flush()
            out = sys.stdout.buffer
        errors: IO[bytes] | None = None
        # warnings follow every error, as in the one-batch errors table: they wait here
        warnings: IO[bytes] | None = None
        if args.errors:
            errors = files.enter_context(open(args.errors, "wb"))
            errors.write(errors_header())
            warnings = files.enter_context(tempfile.TemporaryFile())
        for chunk in itertools.chain([first], rest):
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
        if recorder is None:
            return ""
        finish_started = time.perf_counter()
    totals.add_times({"audit_store": time.perf_counter() - finish_started})
    return run_recorded_message(recorder.summary())


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
