"""No process and no partial file outlives a screening run, however it ends.

Each run is a child process in its own session (so every process it starts, the fork
server and the workers included, can be found by its session id in /proc), with a
timeout. The size thresholds above which workers start are lowered in the child, so that
a small batch takes the code paths of a large one.
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from screening.processes import workers_can_start
from tests.builders import ALAMEDA, ROOT

SAMPLE = ROOT / "data" / "account-manager-applicants.csv"
LONG = ROOT / "data" / "account-manager-long"
TIMEOUT = 180

#: The command line with the worker thresholds of a large batch lowered to small ones.
DRIVER = """
import sys
import screening.launch, screening.processes, screening.run.chunks
screening.processes.PARALLEL_MINIMUM_BYTES = 1_000
screening.run.chunks.SPREAD_MINIMUM_ROWS = 10
screening.run.chunks.CHUNK_ROWS = int(sys.argv[1])
sys.exit(screening.launch.main(sys.argv[2:]))
"""

pytestmark = pytest.mark.skipif(
    not workers_can_start(),
    reason="no worker processes here: they need two cores and the forkserver start method",
)


def command(chunk_rows: int, *argv: str) -> list[str]:
    return [sys.executable, "-c", DRIVER, str(chunk_rows), *argv]


def session_processes(session: int) -> list[int]:
    """Live processes (not zombies) of a session."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            found.append(int(entry.name))
    return found


def wait_until_gone(session: int, seconds: float = 20) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = session_processes(session)
        if not left:
            return []
        time.sleep(0.2)
    return session_processes(session)


def kill_session(session: int) -> None:
    for pid in session_processes(session):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def big_batch(tmp_path: Path, copies: int = 40) -> Path:
    """The sample batch repeated under new ids (about 16,000 applicants)."""
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for copy in range(copies):
            for number, cells in enumerate(rows):
                writer.writerow([f"C{copy}-{number}", *cells[1:]])
    return path


def _read_whole_batch(tmp_path: Path) -> list[str]:
    """A large wide file that cannot be read in chunks (a quote inside an unquoted cell
    hides where records end): the run stops its workers and reads the file whole."""
    path = big_batch(tmp_path, copies=2)
    with path.open("a", encoding="utf-8") as out:
        out.write('stray,Clerk "B"\n')
    return [str(path)]


def _long_form(tmp_path: Path) -> list[str]:
    return [str(LONG / "applicants.csv"), "--jobs", str(LONG / "jobs.csv"),
            "--education", str(LONG / "education.csv")]  # fmt: skip


@pytest.mark.parametrize(
    "batch", [_long_form, _read_whole_batch], ids=["long form", "csv read whole"]
)
def test_a_run_with_rule_workers_returns_through_a_pipe(tmp_path: Path, batch: object) -> None:
    files = batch(tmp_path)  # type: ignore[operator]
    argv = ["screen", *files, "--spec", str(ALAMEDA), "--as-of", "2026-11-26", "--no-audit"]
    child = subprocess.Popen(
        command(1000, *argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        # as `x=$(screening screen ...)` does: read until every writer has closed stdout
        out, err = child.communicate(timeout=TIMEOUT)
    finally:
        kill_session(child.pid)
    assert child.returncode == 0, err.decode()[-2000:]
    assert out.startswith(b"applicant_id,")
    assert wait_until_gone(child.pid) == []


def _start_and_wait_for_partial(tmp_path: Path, out: Path) -> subprocess.Popen[bytes]:
    database = f"sqlite:///{tmp_path / 'a.db'}"
    argv = ["screen", str(big_batch(tmp_path)), "--spec", str(ALAMEDA), "--as-of",
            "2026-11-26", "--out", str(out), "--database", database]  # fmt: skip
    log = tmp_path / "stderr.txt"
    with log.open("wb") as stderr:
        child = subprocess.Popen(
            command(200, *argv), stdout=subprocess.DEVNULL, stderr=stderr,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + TIMEOUT
    while not partials(out.parent):
        if child.poll() is not None or time.monotonic() > deadline:
            kill_session(child.pid)
            pytest.fail(f"the run ended before writing: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    return child


def partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_no_worker_outlives_a_stopped_run_and_no_partial_file_the_next_run(
    tmp_path: Path, stop: signal.Signals
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "results.csv"
    child = _start_and_wait_for_partial(tmp_path, out)
    try:
        assert len(session_processes(child.pid)) > 1  # the run has started workers
        child.send_signal(stop)
        child.wait(timeout=TIMEOUT)
        assert wait_until_gone(child.pid) == []
    finally:
        kill_session(child.pid)
    if stop == signal.SIGTERM:  # a run asked to stop cleans up itself
        assert child.returncode == 143
        assert partials(folder) == []
    assert not out.exists()
    # the next run sweeps what a killed run could not remove
    again = subprocess.run(
        [sys.executable, "-m", "screening", "screen", str(SAMPLE), "--spec", str(ALAMEDA),
         "--out", str(out), "--no-audit"],
        capture_output=True,
        timeout=TIMEOUT,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert partials(folder) == [] and out.exists()
