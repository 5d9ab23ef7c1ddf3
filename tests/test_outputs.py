"""Outputs never replace what a command must keep, and a run is recorded only with them.

Every output option (`screen --out/--errors`, `compile --out`, `audit impact --csv/--html`)
goes through one guard: not the audit store or its -wal/-shm files, not an input, the spec
or its vocabulary, not a document being compiled, and not something that exists and is
not a regular file (a folder, /dev/null, a named pipe).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from screening.audit.store import AuditStore
from screening.cli import main
from screening.outputs import OutputError, check_outputs
from tests.builders import ALAMEDA, ROOT

SAMPLE = ROOT / "data" / "account-manager-applicants.csv"
DOCUMENT = ROOT / "tests" / "fixtures" / "alameda-7616-account-manager.txt"
AS_OF = "2026-11-26"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder whose default audit store is screening-audit.db in it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCREENING_DATABASE_URL", raising=False)
    return tmp_path


def screen(*more: str) -> list[str]:
    return ["screen", str(SAMPLE), "--spec", str(ALAMEDA), "--as-of", AS_OF, *more]


def recorded_runs(database: Path) -> int:
    with AuditStore(f"sqlite:///{database}") as store:
        return len(store.runs())


def test_results_never_replace_the_audit_store(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(screen()) == 0  # creates ./screening-audit.db with one run
    database = workdir / "screening-audit.db"
    before = database.read_bytes()
    capsys.readouterr()
    assert main(screen("--out", "screening-audit.db")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out 'screening-audit.db' is the audit store")
    assert len(err.strip().splitlines()) == 1
    assert database.read_bytes() == before
    assert recorded_runs(database) == 1  # the refused run is not recorded either


@pytest.mark.parametrize("companion", ["-wal", "-shm"])
def test_errors_never_replace_the_store_s_companion_files(
    workdir: Path, capsys: pytest.CaptureFixture[str], companion: str
) -> None:
    database = workdir / "audit.db"
    url = f"sqlite:///{database}"
    target = f"{database}{companion}"
    assert main(screen("--database", url, "--errors", target)) == 2
    assert "is the audit store" in capsys.readouterr().err
    assert not database.exists() or recorded_runs(database) == 0


def test_a_store_named_by_the_environment_is_protected_through_another_path(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "store").mkdir()
    monkeypatch.setenv("SCREENING_DATABASE_URL", f"sqlite:///{workdir / 'store' / 'a.db'}")
    assert main(screen()) == 0
    os.symlink(workdir / "store" / "a.db", workdir / "link.csv")
    capsys.readouterr()
    assert main(screen("--out", "link.csv", "--no-audit")) == 2
    assert "is the audit store" in capsys.readouterr().err
    assert recorded_runs(workdir / "store" / "a.db") == 1


def test_results_never_replace_the_spec_s_vocabulary(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = workdir / "rules"
    shutil.copytree(ALAMEDA.parent, rules)
    vocabulary = rules / "vocabulary.yaml"
    before = vocabulary.read_bytes()
    spec = rules / ALAMEDA.name
    assert main(["screen", str(SAMPLE), "--spec", str(spec), "--out", str(vocabulary)]) == 2
    assert "is the spec's vocabulary" in capsys.readouterr().err
    assert vocabulary.read_bytes() == before


def test_compile_never_replaces_the_document_it_compiles(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = workdir / "spec.txt"
    document.write_bytes(DOCUMENT.read_bytes())
    assert main(["compile", str(document), "--out", str(document)]) == 2
    assert "is the document being compiled" in capsys.readouterr().err
    assert document.read_bytes() == DOCUMENT.read_bytes()


def test_compile_never_replaces_the_audit_store(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(screen()) == 0
    database = workdir / "screening-audit.db"
    before = database.read_bytes()
    assert main(["compile", str(DOCUMENT), "--out", "./screening-audit.db"]) == 2
    assert "is the audit store" in capsys.readouterr().err
    assert database.read_bytes() == before


@pytest.mark.parametrize("option", ["--csv", "--html"])
def test_impact_reports_never_replace_the_audit_store(
    workdir: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    assert main(screen()) == 0
    database = workdir / "screening-audit.db"
    before = database.read_bytes()
    capsys.readouterr()
    assert main(["audit", "impact", "1", option, str(database)]) == 2
    assert "is the audit store" in capsys.readouterr().err
    assert database.read_bytes() == before
    assert recorded_runs(database) == 1


def test_impact_csv_and_html_must_be_two_files(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(screen()) == 0
    capsys.readouterr()
    assert main(["audit", "impact", "1", "--csv", "r.out", "--html", "./r.out"]) == 2
    assert "both name" in capsys.readouterr().err
    assert not (workdir / "r.out").exists()


@pytest.mark.parametrize("option", ["--out", "--errors"])
def test_a_folder_as_output_is_refused_before_screening_and_nothing_is_recorded(
    workdir: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    folder = workdir / "results"
    folder.mkdir()
    assert main(screen(option, str(folder))) == 2
    err = capsys.readouterr().err
    assert f"error: {option} {str(folder)!r} is a folder, not a file" in err
    assert not (workdir / "screening-audit.db").exists()
    assert list(folder.iterdir()) == []


def test_a_device_as_output_is_refused_and_left_a_device(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the guard alone on the system's null device: it never writes, so a regression
    # cannot replace the machine's /dev/null
    with pytest.raises(OutputError, match="is a device, not a file"):
        check_outputs({"--out": os.devnull}, {})
    if os.geteuid() != 0:
        return  # only root can make a device node to run the whole command against
    device = workdir / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    assert main(screen("--out", str(device), "--no-audit")) == 2
    assert "is a device, not a file" in capsys.readouterr().err
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_a_named_pipe_as_output_is_refused(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = workdir / "pipe"
    os.mkfifo(fifo)
    assert main(screen("--errors", str(fifo), "--no-audit")) == 2
    assert "is a named pipe, not a file" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_outputs_are_removed_when_the_audit_record_fails_to_commit(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from screening.audit.writer import RunRecorder

    def fail(self: RunRecorder, *args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(RunRecorder, "finish", fail)
    out, errors = workdir / "results.csv", workdir / "errors.csv"
    assert main(screen("--out", str(out), "--errors", str(errors))) == 2
    assert "no results were written" in capsys.readouterr().err
    assert not out.exists() and not errors.exists()
    assert [p.name for p in workdir.iterdir() if p.name.endswith(".partial")] == []
    assert recorded_runs(workdir / "screening-audit.db") == 0


def test_the_audit_store_is_readable_by_its_owner_only(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = os.umask(0o022)
    try:
        assert main(screen()) == 0
    finally:
        os.umask(old)
    files = sorted(workdir.glob("screening-audit.db*"))
    assert [f.name for f in files][:1] == ["screening-audit.db"]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_a_run_whose_outputs_cannot_be_put_in_place_is_not_recorded(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: object, target: object) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(os, "replace", refuse)
    out = workdir / "results.csv"
    assert main(screen("--out", str(out))) == 2
    assert "no results were written" in capsys.readouterr().err
    assert not out.exists()
    assert [p.name for p in workdir.iterdir() if p.name.endswith(".partial")] == []
    assert recorded_runs(workdir / "screening-audit.db") == 0
