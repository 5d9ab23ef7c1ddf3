"""The one argument parser of the `screening` command, with every subcommand."""

from __future__ import annotations

import argparse

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
