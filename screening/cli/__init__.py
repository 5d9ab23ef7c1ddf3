"""The command-line faces of the package: one argument parser for every command.

`screen` (screening.cli.screen, its options in screening.cli.options), `compile` and `diff`
(screening.cli.compile) and `audit …` (screening.cli.audit) each register their options
with the one parser (screening.cli.parser) and set ``func(args) -> exit code``. Only the
console entry (screening.launch) imports this package; nothing below it does.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments once and run the command they name; its exit code."""
    # the commands import the run, the audit store and the compiler: only when one runs,
    # so the console entry can read the screen options (screening.cli.options) first
    from screening.cli.parser import build_parser

    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code
