"""Every ``screening audit`` command, on SQLite and PostgreSQL, with its exit codes."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from screening.audit import AuditStore
from screening.cli import main
from screening.cli.audit import run_recorded_message
from tests.audit_helpers import FakeResult, Tamper, applicants, store_url

__all__ = ["store_url"]

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def url(store_url: str) -> str:
    with AuditStore(store_url) as store:
        store.record_run(FakeResult(applicants(12)), "alice", now=NOW)
    return store_url


def run(url: str, *argv: str) -> int:
    return main(["audit", "--database", url, *argv])


def test_runs_lists_the_run(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(url, "runs") == 0
    out = capsys.readouterr().out
    assert "alameda-7616-account-manager" in out
    line = out.splitlines()[1].split()
    assert line[:2] == ["1", "2026-03-02T09:30:00"]
    assert line[5:9] == ["12", "6", "3", "3"]


def test_runs_on_an_empty_store(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(store_url, "runs") == 0
    assert capsys.readouterr().out == "no runs recorded yet\n"


def test_show_prints_spec_ruleset_files_and_counts(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(url, "show", "1", "--decisions") == 0
    out = capsys.readouterr().out
    assert "spec:            alameda-7616-account-manager revision 2019-01-09" in out
    assert f"ruleset sha256:  {'ab' * 32}" in out
    assert f"input applicants: applicants.csv (3 rows, sha256 {'cd' * 32})" in out
    assert "A00001,not_qualified,not_qualified,False" in out
    assert "Female" not in out  # self-identification is never shown per applicant


def test_show_one_applicant(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(url, "show", "1", "--applicant", "A00001") == 0
    out = capsys.readouterr().out
    assert "engine outcome: not_qualified" in out
    assert "typical.experience: not_met — Experience: 1.5 of 3 required years" in out


def test_override_then_show(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        url, "override", "1", "A00003", "--to", "qualified",
        "--justification", "employment verified by phone", "--reviewer", "bob",
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "applicant A00003 of run 1 needs_review → qualified by bob" in out
    assert out.splitlines()[-1].startswith("chain head: seq 5 link ")
    assert run(url, "show", "1", "--applicant", "A00003") == 0
    assert "final outcome:  qualified" in capsys.readouterr().out


def test_override_without_justification_is_bad_input(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        url, "override", "1", "A00003", "--to", "qualified", "--justification", "",
        "--reviewer", "bob",
    )  # fmt: skip
    assert code == 2
    assert "needs a justification" in capsys.readouterr().err


def test_override_to_an_unknown_outcome_is_refused_by_the_parser(url: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(url, "override", "1", "A00003", "--to", "hired", "--justification", "x",
            "--reviewer", "bob")  # fmt: skip
    assert exit_info.value.code == 2


def test_unknown_run_is_exit_2(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(url, "show", "7") == 2
    assert "no run 7 in the audit store" in capsys.readouterr().err


def test_verify_ok_then_tampered(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(url, "verify") == 0
    out = capsys.readouterr().out
    assert "OK: no record was edited, deleted or reordered" in out
    head = out.splitlines()[1].split()[-1]
    with AuditStore(url) as store:
        Tamper(store).set_value(1, "A00001", "outcome", "qualified")
    assert run(url, "verify", "--expect-head", head) == 1
    out = capsys.readouterr().out
    assert "TAMPERING FOUND: 1 problem(s)" in out
    assert "audit_blocks id 3 (seq 3): edited: the decision of applicant 'A00001'" in out


def test_verify_finds_a_deleted_head(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        url, "override", "1", "A00001", "--to", "qualified", "--justification", "ok",
        "--reviewer", "bob",
    )  # fmt: skip
    assert code == 0
    head = capsys.readouterr().out.splitlines()[-1].split()[-1]
    with AuditStore(url) as store:  # delete the newest record and rewind the head row
        tamper = Tamper(store)
        tamper.delete("audit_overrides", 5)
        tamper.sql(
            "UPDATE audit_chain_head SET seq = 4, "
            "link = (SELECT link FROM audit_events WHERE id = 4)"
        )
    assert run(url, "verify") == 0  # nothing inside the chain shows it ...
    capsys.readouterr()
    assert run(url, "verify", "--expect-head", head) == 1  # ... the noted head does
    assert f"the noted chain head {head} is not in the chain" in capsys.readouterr().out


def test_verify_finds_a_deleted_totals_record(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with AuditStore(url) as store:
        tamper = Tamper(store)
        tamper.delete("audit_events", 4)
        tamper.sql(
            "UPDATE audit_chain_head SET seq = 3, "
            "link = (SELECT link FROM audit_blocks WHERE id = 3)"
        )
    assert run(url, "verify") == 1
    assert "audit_events: the totals record of run 1 is missing" in capsys.readouterr().out


def test_impact_writes_csv_and_html(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path, html_path = tmp_path / "impact.csv", tmp_path / "impact.html"
    assert run(url, "impact", "1", "--csv", str(csv_path), "--html", str(html_path)) == 0
    out = capsys.readouterr().out
    assert "Overall outcome by sex\n  reference group: " in out
    frame = pd.read_csv(csv_path)
    overall_sex = frame[(frame.measure == "overall") & (frame.dimension == "sex")]
    assert set(overall_sex.group) == {"Female", "Male", "unknown/declined"}
    assert overall_sex.applicants.sum() == 12
    assert (overall_sex.decided + overall_sex.pending == overall_sex.applicants).all()
    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Adverse-impact report — run 1" in page
    assert "A00001" not in page and "A00001" not in csv_path.read_text(encoding="utf-8")


def test_impact_min_group_sets_who_may_be_the_reference(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with AuditStore(store_url) as store:
        store.record_run(FakeResult(applicants(120)), "alice", now=NOW)
        default = store.impact(1)
        small = store.impact(1, min_group=10)
    assert default.min_group == 30 and small.min_group == 10
    sex = next(t for t in default.tables if t.measure == "overall" and t.dimension == "sex")
    # 48 women and 48 men; 24 unknown: both groups are large enough at 30
    assert sex.reference_group is not None
    race = next(t for t in small.tables if t.dimension == "sex x race_ethnicity")
    assert race.min_group == 10
    csv_path = tmp_path / "impact.csv"
    assert run(store_url, "impact", "1", "--min-group", "10", "--csv", str(csv_path)) == 0
    out = capsys.readouterr().out
    assert "minimum group size: 10 decided applicants" in out
    assert "pending review — pending applicants are counted apart" in out
    frame = pd.read_csv(csv_path, keep_default_na=False)
    license_rows = frame[frame.measure == "ca_drivers_license"]
    assert len(license_rows) and set(license_rows.note) == {"criterion not applicable"}
    with pytest.raises(SystemExit):
        run(store_url, "impact", "1", "--min-group", "none")
    assert "is not a group size" in capsys.readouterr().err


def test_impact_of_a_purged_run_is_judged_with_the_min_group_asked_for(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with AuditStore(store_url) as store:
        store.record_run(FakeResult(applicants(60)), "alice", now=NOW)
        live = store.impact(1, min_group=5).to_frame()
        store.purge(datetime(2031, 1, 1, tzinfo=UTC))
        kept = store.impact(1, min_group=5)
    assert kept.source.startswith("stored at purge") and kept.min_group == 5
    pd.testing.assert_frame_equal(kept.to_frame(), live)


def test_impact_to_an_unwritable_place_is_exit_2(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(url, "impact", "1", "--csv", str(tmp_path / "missing" / "x.csv")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --csv") and "does not exist" in err


def test_hold_and_purge(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(url, "hold", "1", "--on", "--reason", "records request", "--user", "counsel") == 0
    assert "run 1: legal hold on" in capsys.readouterr().out
    assert run(url, "purge", "--now", "2031-01-01") == 0
    out = capsys.readouterr().out
    assert "nothing to purge" in out and "kept under legal hold: run(s) 1" in out
    assert run(url, "hold", "1", "--off", "--reason", "request closed", "--user", "counsel") == 0
    assert run(url, "purge", "--now", "2031-01-01") == 0
    out = capsys.readouterr().out
    assert "purged applicant data of run(s) 1: 12 decisions, 12 self-identification rows" in out
    assert run(url, "verify") == 0
    assert run(url, "impact", "1") == 0
    assert "stored at purge" in capsys.readouterr().out


def test_purge_with_a_bad_date_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(url, "purge", "--now", "next week")
    assert exit_info.value.code == 2
    assert "'next week' is not a date; use YYYY-MM-DD" in capsys.readouterr().err


def test_rescreen_with_a_bad_spec_file_is_exit_2(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\npatterns: nope\n", encoding="utf-8")
    assert run(url, "rescreen", "1", "--spec", str(bad)) == 2
    assert "the spec is not valid" in capsys.readouterr().err
    assert run(url, "rescreen", "1", "--spec", str(tmp_path / "none.yaml")) == 2
    assert "spec file not found" in capsys.readouterr().err


def test_rescreen_without_the_engine_is_exit_2(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = importlib.import_module

    def no_engine(name: str, package: str | None = None) -> object:
        if name == "screening.run.rescreen":
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, package)

    monkeypatch.setattr("screening.cli.audit.importlib.import_module", no_engine)
    assert run(url, "rescreen", "1") == 2
    assert "re-screening needs the screening engine" in capsys.readouterr().err


def test_message_after_a_run_names_the_run_and_the_chain_head(store_url: str) -> None:
    with AuditStore(store_url) as store:
        summary = store.record_run(FakeResult(applicants(3)), "alice", now=NOW)
        seq, link = store.chain_head()
    assert run_recorded_message(summary) == (
        f"audit: run 1 recorded (3 decisions); chain head: seq {seq} link {link}"
    )


# ---------------------------------------------------------------- verify's exit codes


def _one_message(capsys: pytest.CaptureFixture[str], expected: str) -> None:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]


def test_verify_of_a_missing_store_cannot_verify_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "mistyped-audit.db"
    assert run(f"sqlite:///{missing}", "verify") == 2
    _one_message(capsys, "there is no audit store at")
    assert list(tmp_path.iterdir()) == []


def test_verify_of_a_file_that_is_not_a_database_cannot_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("not a database at all\n" * 100)
    assert run(f"sqlite:///{other}", "verify") == 2
    _one_message(capsys, "is not an audit store")
    assert other.read_text() == "not a database at all\n" * 100


def test_verify_of_another_database_cannot_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE things (id INTEGER)")
    assert run(f"sqlite:///{other}", "verify") == 2
    _one_message(capsys, "is not an audit store")


def test_verify_with_a_deleted_head_row_cannot_verify(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with AuditStore(url) as store:
        Tamper(store).sql("DELETE FROM audit_chain_head")
    assert run(url, "verify") == 2
    _one_message(capsys, "the chain head row (audit_chain_head id 1) is missing")


def test_verify_with_a_dropped_table_cannot_verify(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with AuditStore(url) as store:
        Tamper(store).sql("DROP TABLE audit_overrides")
    assert run(url, "verify") == 2
    _one_message(capsys, "cannot verify the audit store")


def test_verify_with_the_wrong_key_cannot_verify(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with AuditStore(store_url, key="right") as store:
        store.record_run(FakeResult(applicants(3)), "alice", now=NOW)
    monkeypatch.setenv("SCREENING_AUDIT_KEY", "wrong")
    assert run(store_url, "verify") == 2
    _one_message(capsys, "keyed with another key")
