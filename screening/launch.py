"""The `screening` console entry point: starts the worker server early, then the CLI.

Screening a large file runs on worker processes forked from a server that has imported the
screening package. Starting that server before this process imports its own modules lets
both imports run at once on two cores, instead of one after the other. This module imports
nothing heavy itself.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from screening import processes
from screening.cli.options import screened_file


def _screens_a_large_file(argv: Sequence[str]) -> bool:
    """Whether the arguments ask to screen a file big enough for worker processes."""
    applicants = screened_file(argv)
    if applicants is None:
        return False
    try:
        return Path(applicants).stat().st_size >= processes.PARALLEL_MINIMUM_BYTES
    except OSError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; for a large screening, with the worker server starting first."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    large = _screens_a_large_file(arguments) and processes.workers_can_start()
    if large:
        processes.start_worker_server()
    from screening.cli import main as cli_main

    code = cli_main(arguments)
    if large:
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End a finished large screening without the interpreter's teardown.

    Everything the run wrote is closed and committed by now (outputs renamed, audit record
    committed, workers stopped); tearing down pandas, Arrow and SQLAlchemy would only add
    a quarter of a second of freeing memory to the command's time.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing reaches it
            stream.flush()
    os._exit(code)
