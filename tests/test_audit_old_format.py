"""A store written by an earlier release (one JSON object per decision and input record)
still verifies and reads the same: new writers must never orphan existing audit trails."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from screening.audit import AuditStore
from screening.run.rescreen import rescreen

FIXTURE = Path(__file__).parent / "fixtures" / "audit" / "v1-chain.sqlite"
HEAD = "d1b1fed554ed10b20cbe5810abf878ba142f866e22a3f0ff6df14e990a4f2acd"
SCREENED_RUN, FAKE_RUN, PURGED_RUN = 9, 22, 1


@pytest.fixture
def old_store(tmp_path: Path) -> AuditStore:
    copy = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, copy)  # opening a store may write (WAL); never touch the fixture
    return AuditStore(f"sqlite:///{copy}")


def _fingerprint(store: AuditStore, run_id: int) -> str:
    """One digest of everything the readers return for a run."""
    parts: list[object] = [dataclasses.asdict(store.show(run_id))]
    finals = store.final_outcomes(run_id)
    parts.append(finals.to_dict("list"))
    parts.extend(dataclasses.asdict(store.decision(run_id, a)) for a in finals["applicant_id"])
    # the impact report's counts: what the store gives it (how they are judged may change)
    report = store.impact(run_id)
    parts.append([report.applicants, report.selected, report.pending, report.source])
    parts.extend(sorted(t.counts().items()) for t in report.tables)
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def test_an_old_store_verifies_against_its_noted_head(old_store: AuditStore) -> None:
    report = old_store.verify(expected_head=HEAD)
    assert report.ok, [str(p) for p in report.problems]
    assert (report.records, report.head_seq, report.purged_decisions) == (30, 30, 6)


def test_an_old_store_reads_as_it_did(old_store: AuditStore) -> None:
    assert [r.run_id for r in old_store.runs()] == [PURGED_RUN, SCREENED_RUN, FAKE_RUN]
    detail = old_store.show(SCREENED_RUN)
    assert detail.info.decisions == 9 and detail.info.legal_hold and len(detail.overrides) == 1
    record = old_store.decision(SCREENED_RUN, "100002")
    assert record.detail is not None and record.input_record is not None
    assert record.input_record["applicant"]["applicant_id"] == "100002"
    assert [c["id"] for c in record.detail["criteria"]] == list(record.statuses)
    assert record.final_outcome != record.outcome
    assert len(old_store.input_records(SCREENED_RUN)) == 9
    assert old_store.impact(PURGED_RUN).source.startswith("stored at purge")
    assert {run: _fingerprint(old_store, run) for run in (SCREENED_RUN, FAKE_RUN, PURGED_RUN)} == {
        SCREENED_RUN: "35799ebc60df5d7357be917eb75ce6db0c421f0514e01fd7f25334e51e17780a",
        FAKE_RUN: "1b97af71e041acbf24a510d389cafc18a14036d122f1df9e3dcb0d02a6e877de",
        PURGED_RUN: "b3c12fe0886c51b8572ba309ecbe318451340a28d734ae28e9a53c0cbdd770fa",
    }


#: Decisions of the stored run that the revised job classification changes, and only
#: these: unrecognised titles and near matches are uncertain instead of evidence against
#: the applicant (100002, 100008, 100010, 417: possible credit now counts), and local
#: government is no longer a related industry accepted without a look (100007).
REVISED_CLASSIFICATION_FLIPS = {
    "100002": ("not_qualified", "not_qualified"),
    "100007": ("qualified", "needs_review"),
    "100008": ("not_qualified", "needs_review"),
    "100010": ("not_qualified", "needs_review"),
    "417": ("not_qualified", "needs_review"),
}


def test_an_old_run_rescreens_with_only_the_revised_classifications_differences(
    old_store: AuditStore,
) -> None:
    report = rescreen(old_store, SCREENED_RUN)
    assert report.decisions == 9 and not report.missing
    flips = {f.applicant_id: (f.recorded, f.rescreened) for f in report.flips}
    assert flips == REVISED_CLASSIFICATION_FLIPS


def test_an_edit_to_an_old_decision_is_caught(old_store: AuditStore, tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "old.sqlite") as con:
        con.execute("UPDATE audit_decisions SET outcome = 'qualified' WHERE id = 12")
    problems = [str(p) for p in old_store.verify().problems]
    assert problems == [
        "audit_decisions id 12 (seq 12): edited: its contents no longer match its digest"
    ]


def test_new_runs_chain_after_an_old_head_and_old_rows_stay_as_they_were(
    tmp_path: Path,
) -> None:
    import sqlite3

    from tests.audit_helpers import FakeResult, applicants

    copy = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, copy)
    tables = ("audit_runs", "audit_decisions", "audit_overrides", "audit_events", "audit_eeo")

    with sqlite3.connect(copy) as con:  # the columns every old row has
        columns = {t: [r[1] for r in con.execute(f"PRAGMA table_info({t})")] for t in tables}

    def rows() -> list[object]:
        with sqlite3.connect(copy) as con:
            return [
                con.execute(f"SELECT {', '.join(columns[t])} FROM {t} ORDER BY 1").fetchall()
                for t in tables
            ]

    before = rows()
    with AuditStore(f"sqlite:///{copy}") as store:  # migrates: schema only
        assert rows() == before
        summary = store.record_run(FakeResult(applicants(7)), "alice")
        assert summary.run_id == 31  # right after the old head
        report = store.verify(expected_head=HEAD)
        assert report.ok, [str(p) for p in report.problems]
        assert store.decision(31, "A00004").input_record is not None
        assert store.decision(SCREENED_RUN, "100002").detail is not None
        store.record_override(
            SCREENED_RUN, "100002", reviewer="bob", to_outcome="needs_review", justification="x"
        )
        store.record_override(
            31, "A00004", reviewer="bob", to_outcome="not_qualified", justification="y"
        )
        assert store.verify(expected_head=summary.chain_head).ok
    # every old row as it was; the new records only follow them
    after = rows()
    assert all(now[: len(old)] == old for now, old in zip(after, before, strict=True))
