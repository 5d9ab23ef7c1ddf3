"""Worker processes: how many cores, whether workers can start, and their lifetime.

Below both the run (`screening.run`) and the audit trail, so either may use workers, and
importing nothing heavy, so the console entry can start the worker server before the rest
of the package is imported.
"""

from __future__ import annotations

import multiprocessing
import os
import sys

#: Applicant files smaller than this are screened in-process (see screening.run.chunks):
#: starting workers would cost more than they save.
PARALLEL_MINIMUM_BYTES = 8_000_000
#: The module worker processes import before they are forked.
WORKER_MODULE = "screening.run.chunks"


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
