"""The command-line faces of the package: one argument parser for every command.

`screen` (screening.cli.screen), `compile` and `diff` (screening.cli.compile) and `audit …`
(screening.cli.audit) each register their options here and set ``func(args) -> exit code``.
Only the console entry (screening.launch) imports this package; nothing below it does.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from screening import __version__
from screening.cli.audit import add_audit_parser
from screening.cli.compile import add_compile_parser, add_diff_parser
from screening.cli.screen import add_screen_parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="screening", description="Applicant minimum-qualification screening."
    )
    parser.add_argument("--version", action="version", version=f"screening {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_screen_parser(subparsers)
    add_compile_parser(subparsers)
    add_diff_parser(subparsers)
    add_audit_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments once and run the command they name; its exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code
