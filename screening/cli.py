"""The `screening` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from screening import __version__
from screening.engine import EngineError
from screening.export import write_csv
from screening.loading import FileLevelError
from screening.pipeline import ScreeningResult, screen_files
from screening.spec import SpecError

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
    screen.set_defaults(func=run_screen)  # fmt: skip


def summary_lines(result: ScreeningResult) -> list[str]:
    """The run summary printed to stderr."""
    counts = result.outcome_counts()
    errors = sum(1 for i in result.issues if i.severity == "error")
    warnings = sum(1 for i in result.issues if i.severity == "warning")
    spec = result.spec
    lines = [
        f"Screened {len(result.results)} applicant(s) against {spec.id}"
        + (f" revision {spec.revision}" if spec.revision else "")
        + f" (ruleset {result.compiled.name}, as of {result.as_of.isoformat()}"
        + (", position requires driving" if result.requires_driving else "")
        + ")",
        "  " + "  ".join(f"{name}: {count}" for name, count in counts.items()),
        f"  error rows not screened: {result.batch.error_rows}   "
        f"problems reported: {errors} error(s), {warnings} warning(s)",
    ]
    return lines


def run_screen(args: argparse.Namespace) -> int:
    """Handle `screening screen`."""
    try:
        result = screen_files(
            args.applicants,
            args.spec,
            jobs=args.jobs,
            education=args.education,
            columns=args.columns,
            as_of=args.as_of,
            requires_driving=args.requires_driving,
        )
    except (FileLevelError, SpecError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except EngineError as exc:
        print(f"error: the rule engine failed, no results were written: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.out:
        write_csv(result.results, Path(args.out))
    else:
        write_csv(result.results, sys.stdout)
    if args.errors:
        write_csv(result.errors_frame(), Path(args.errors))
    for line in summary_lines(result):
        print(line, file=sys.stderr)
    if result.issues and not args.errors:
        print(
            "  (write the problems with --errors ERRORS.csv to see row, column and fix)",
            file=sys.stderr,
        )
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="screening", description="Applicant minimum-qualification screening."
    )
    parser.add_argument("--version", action="version", version=f"screening {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_screen_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `screening` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
