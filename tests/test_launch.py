"""The console entry point starts the worker server only for a screening that uses workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from screening import launch


def test_only_a_large_screening_starts_the_worker_server(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_text("applicant_id\n1\n")
    large = tmp_path / "large.csv"
    with large.open("wb") as handle:
        handle.truncate(launch.PARALLEL_MINIMUM_BYTES)
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
