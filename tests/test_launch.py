"""The console entry point starts the worker server only for a screening that uses workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from screening import launch, processes


def test_only_a_large_screening_starts_the_worker_server(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_text("applicant_id\n1\n")
    large = tmp_path / "large.csv"
    with large.open("wb") as handle:
        handle.truncate(processes.PARALLEL_MINIMUM_BYTES)
    assert launch._screens_a_large_file(["screen", str(large), "--spec", "x.yaml"])
    assert not launch._screens_a_large_file(["screen", str(small), "--spec", "x.yaml"])
    assert not launch._screens_a_large_file(["screen", str(large), "--help"])
    assert not launch._screens_a_large_file(["audit", "verify"])
    assert not launch._screens_a_large_file(["screen", str(tmp_path / "missing.csv")])
    assert launch._screens_a_large_file(
        ["screen", "--spec", "x.yaml", "--requires-driving", "--as-of", "2026-11-26", str(large)]
    )
    assert not launch._screens_a_large_file(["screen", "--out", str(large), str(small)])


def test_the_entry_point_runs_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        launch.main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.startswith("screening ")


def test_a_large_screening_from_the_console_runs_on_workers_and_exits_cleanly(
    tmp_path: Path,
) -> None:
    from data.generate import generate_applicants
    from screening.export import csv_utf8
    from screening.run.stages import screen_files
    from tests.builders import ALAMEDA, AS_OF, ROOT

    applicants = tmp_path / "applicants.csv"
    count = 16_000
    generate_applicants(count, seed=7, as_of=AS_OF).write_wide(applicants)
    assert applicants.stat().st_size >= processes.PARALLEL_MINIMUM_BYTES
    out, errors = tmp_path / "results.csv", tmp_path / "errors.csv"
    finished = subprocess.run(
        [sys.executable, "-m", "screening", "screen", str(applicants), "--spec", str(ALAMEDA),
         "--as-of", AS_OF.isoformat(), "--out", str(out), "--errors", str(errors),
         "--database", f"sqlite:///{tmp_path / 'audit.db'}", "--user", "tester"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert "audit: run 1 recorded" in finished.stderr
    whole = screen_files(applicants, ALAMEDA, as_of=AS_OF)
    assert out.read_bytes() == csv_utf8(whole.results, header=True)
    assert errors.read_bytes() == csv_utf8(whole.errors_frame(), header=True)
