"""The `screening` console entry point: starts the worker server early, then the CLI.

Screening a large file runs on worker processes forked from a server that has imported the
screening package. Starting that server before this process imports its own modules lets
both imports run at once on two cores, instead of one after the other. This module imports
nothing heavy itself.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Sequence
from pathlib import Path

#: Applicant files smaller than this are screened in-process (see screening.parallel):
#: starting workers would cost more than they save.
PARALLEL_MINIMUM_BYTES = 8_000_000
#: The module worker processes import before they are forked.
WORKER_MODULE = "screening.parallel"


#: Options of `screening screen` that take a value (the rest are flags).
_SCREEN_VALUE_OPTIONS = frozenset(
    {"--spec", "--jobs", "--education", "--columns", "--as-of", "--out", "--errors", "--user",
     "--database", "--engine"}
)  # fmt: skip


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def workers_can_start() -> bool:
    """Whether worker processes can be forked from a preloaded server here (not on
    Windows, which has no forkserver) and there is more than one core to run them."""
    return usable_cores() >= 2 and "forkserver" in multiprocessing.get_all_start_methods()


def start_worker_server() -> None:
    """Start the process that forks screening workers, already importing what they need."""
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload([WORKER_MODULE])
    forkserver.ensure_running()


def end_with_parent() -> None:
    """Make this worker process end as soon as the process that started it ends.

    A worker of a process pool otherwise outlives a parent that was killed (or that
    ended without stopping its pool): it waits for work forever, keeps the parent's
    standard output open (so `x=$(screening screen ...)` never returns) and holds its
    memory. Called first in every worker: a thread waits on the parent's sentinel, which
    becomes ready when the parent is gone; on Linux the kernel also kills the worker when
    the process that forked it (the fork server) ends.
    """
    import multiprocessing.connection
    import threading

    if sys.platform.startswith("linux"):
        _kill_me_with_my_parent()
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)  # the parent is gone: nobody will read what this worker makes

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _kill_me_with_my_parent() -> None:
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # no prctl here: the sentinel thread still ends the worker


def _applicants_argument(arguments: Sequence[str]) -> str | None:
    """The applicants file of `screening screen` arguments (its one positional argument)."""
    skip = False
    for argument in arguments:
        if skip:
            skip = False
        elif argument in _SCREEN_VALUE_OPTIONS:
            skip = True
        elif not argument.startswith("-"):
            return argument
    return None


def _screens_a_large_file(argv: Sequence[str]) -> bool:
    """Whether the arguments ask to screen a file big enough for worker processes."""
    if not argv or argv[0] != "screen" or "-h" in argv or "--help" in argv:
        return False
    applicants = _applicants_argument(argv[1:])
    if applicants is None:
        return False
    try:
        return Path(applicants).stat().st_size >= PARALLEL_MINIMUM_BYTES
    except OSError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; for a large screening, with the worker server starting first."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    large = _screens_a_large_file(arguments) and workers_can_start()
    if large:
        start_worker_server()
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
