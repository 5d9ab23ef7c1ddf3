"""The `screening` console entry point: starts the worker server early, then the CLI.

Screening a large file runs on worker processes forked from a server that has imported the
screening package. Starting that server before this process imports its own modules lets
both imports run at once on two cores, instead of one after the other. This module imports
nothing heavy itself.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

#: Applicant files smaller than this are screened in-process (see screening.parallel):
#: starting workers would cost more than they save.
PARALLEL_MINIMUM_BYTES = 8_000_000
#: The module worker processes import before they are forked.
WORKER_MODULE = "screening.parallel"


def start_worker_server() -> None:
    """Start the process that forks screening workers, already importing what they need."""
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload([WORKER_MODULE])
    forkserver.ensure_running()


def _screens_a_large_file(argv: Sequence[str]) -> bool:
    """Whether the arguments ask to screen a file big enough for worker processes."""
    if len(argv) < 2 or argv[0] != "screen" or "-h" in argv or "--help" in argv:
        return False
    try:
        return Path(argv[1]).stat().st_size >= PARALLEL_MINIMUM_BYTES
    except OSError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; for a large screening, with the worker server starting first."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if _screens_a_large_file(arguments):
        start_worker_server()
    from screening.cli import main as cli_main

    return cli_main(arguments)
