"""The `screening` command line."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import itertools
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

from screening import __version__
from screening.audit.cli import add_audit_parser, run_recorded_message
from screening.audit.store import AuditError, AuditStore, RunRecorder, database_url
from screening.engine import EngineError
from screening.export import write_csv
from screening.loading import FileLevelError
from screening.pipeline import ScreeningResult, screen_stream
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
    timings: Counter[str] = field(default_factory=Counter)

    def add(self, result: ScreeningResult) -> None:
        """Count one chunk's results."""
        self.spec_id, self.revision = result.spec.id, result.spec.revision
        self.ruleset, self.as_of = result.compiled.name, result.as_of.isoformat()
        self.requires_driving = result.requires_driving
        self.outcomes.update(result.outcome_counts())
        self.screened += len(result.results)
        self.error_rows += result.batch.error_rows
        self.errors += sum(1 for i in result.issues if i.severity == "error")
        self.warnings += sum(1 for i in result.issues if i.severity == "warning")
        self.timings.update(result.timings)


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


def run_screen(args: argparse.Namespace) -> int:
    """Handle `screening screen`: stream the batch through the pipeline chunk by chunk."""
    started = time.perf_counter()
    try:
        chunks = screen_stream(
            args.applicants,
            args.spec,
            jobs=args.jobs,
            education=args.education,
            columns=args.columns,
            as_of=args.as_of,
            requires_driving=args.requires_driving,
            engine=args.engine,
        )
        first = next(chunks)
    except (FileLevelError, SpecError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except EngineError as exc:
        print(f"error: the rule engine failed, no results were written: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    totals = RunTotals()
    summary_message = ""
    try:
        with contextlib.ExitStack() as files:
            recorder: RunRecorder | None = None
            if not args.no_audit:
                store = files.enter_context(AuditStore(args.database or database_url()))
                recorder = files.enter_context(
                    store.recording(first, args.user or getpass.getuser())
                )
            out: IO[str] = (
                files.enter_context(open(args.out, "w", encoding="utf-8", newline=""))
                if args.out
                else sys.stdout
            )
            errors: IO[str] | None = (
                files.enter_context(open(args.errors, "w", encoding="utf-8", newline=""))
                if args.errors
                else None
            )
            for index, result in enumerate(itertools.chain([first], chunks)):
                write_started = time.perf_counter()
                write_csv(result.results, out, header=index == 0)
                if errors is not None:
                    write_csv(result.errors_frame(), errors, header=index == 0)
                result.timings["write"] = time.perf_counter() - write_started
                if recorder is not None:
                    audit_started = time.perf_counter()
                    recorder.add(result)
                    result.timings["audit"] = time.perf_counter() - audit_started
                totals.add(result)
        if recorder is not None:
            summary_message = run_recorded_message(recorder.summary())
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
