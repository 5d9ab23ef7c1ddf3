"""The options of `screening screen`, defined once.

The command line's parser (screening.cli) registers them with their handler; the console
entry (screening.launch) parses the same options, before anything heavy is imported, to
see whether the command screens a file large enough for worker processes. This module
imports nothing but the standard library.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date


class _NotScreening(Exception):
    """The arguments do not parse as a `screen` command; the real parser will say why."""


class _QuietParser(argparse.ArgumentParser):
    """A parser that raises instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _NotScreening(message)


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; give the as-of date as YYYY-MM-DD, e.g. 2026-11-26"
        ) from None


def add_screen_options(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the ``screen`` command and its options; the caller sets its handler."""
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
    return screen


def screened_file(argv: Sequence[str]) -> str | None:
    """The applicants file a ``screen`` command names, or None for any other command, a
    request for help or arguments the command line will refuse."""
    if not argv or argv[0] != "screen" or "-h" in argv or "--help" in argv:
        return None
    parser = _QuietParser(prog="screening", add_help=False)
    add_screen_options(parser.add_subparsers(dest="command", parser_class=_QuietParser))
    try:
        args = parser.parse_args(list(argv))
    except _NotScreening:
        return None
    applicants: str = args.applicants
    return applicants
