"""Retention, legal hold and purge: applicant data goes, the chain and the report stay."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from screening.audit import AuditError, AuditStore
from screening.audit.writer import add_years
from tests.audit_helpers import FakeResult, Tamper, applicants, store_url

__all__ = ["store_url"]

RECORDED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BEFORE_EXPIRY = datetime(2030, 3, 2, 12, 0, tzinfo=UTC)
AFTER_EXPIRY = datetime(2030, 3, 3, 0, 0, tzinfo=UTC)


def test_four_years_from_a_leap_day_ends_on_28_february() -> None:
    assert add_years(datetime(2024, 2, 29).date(), 4).isoformat() == "2028-02-29"
    assert add_years(datetime(2024, 2, 29).date(), 1).isoformat() == "2025-02-28"


@pytest.fixture
def store(store_url: str) -> AuditStore:
    audit = AuditStore(store_url)
    audit.record_run(FakeResult(applicants(40)), "alice", now=RECORDED)
    audit.record_override(
        1, "A00003", reviewer="bob", to_outcome="qualified", justification="dates verified"
    )
    return audit


def test_nothing_is_purged_before_the_retention_date(store: AuditStore) -> None:
    report = store.purge(BEFORE_EXPIRY)
    assert report.runs == [] and report.decisions == 0
    assert store.decision(1, "A00001").input_record is not None


def test_purge_removes_applicant_data_and_keeps_chain_and_report(store: AuditStore) -> None:
    before = store.impact(1).to_frame()
    report = store.purge(AFTER_EXPIRY)
    assert (report.runs, report.decisions, report.eeo_rows) == ([1], 40, 40)
    decision = store.decision(1, "A00003")
    assert decision.detail is None and decision.input_record is None
    assert decision.statuses["typical.experience"] == "review"
    assert (decision.outcome, decision.final_outcome) == ("needs_review", "qualified")
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_eeo_blocks")).scalar() == 0
        kept = conn.execute(
            sa.text("SELECT count(*) FROM audit_blocks WHERE private IS NOT NULL")
        ).scalar()
        assert kept == 0
    verified = store.verify()
    assert verified.ok, verified.problems
    assert verified.purged_decisions == 40
    after = store.impact(1)
    assert after.source.startswith("stored at purge")
    assert after.to_frame().equals(before)
    assert store.runs()[0].purged is True
    with pytest.raises(AuditError, match="purged"):
        store.input_records(1)
    # a second purge finds nothing more to do
    assert store.purge(AFTER_EXPIRY).runs == []


def test_legal_hold_keeps_a_run_until_released(store: AuditStore) -> None:
    store.set_legal_hold(1, True, user="counsel", reason="case 24-117")
    assert store.runs()[0].legal_hold is True
    report = store.purge(AFTER_EXPIRY)
    assert (report.runs, report.held) == ([], [1])
    assert store.decision(1, "A00001").input_record is not None
    store.set_legal_hold(1, False, user="counsel", reason="case closed")
    assert store.purge(AFTER_EXPIRY).runs == [1]
    assert store.verify().ok


def test_legal_hold_needs_a_reason_and_a_known_run(store: AuditStore) -> None:
    with pytest.raises(AuditError, match="needs a reason"):
        store.set_legal_hold(1, True, user="counsel", reason=" ")
    with pytest.raises(AuditError, match="no run 9"):
        store.set_legal_hold(9, True, user="counsel", reason="x")


def test_tampering_after_purge_is_still_caught(store: AuditStore) -> None:
    store.purge(AFTER_EXPIRY)
    Tamper(store).set_value(1, "A00002", "outcome", "not_qualified")
    problems = store.verify().problems
    assert [(p.table, p.record_id, p.applicant_id) for p in problems] == [
        ("audit_blocks", 3, "A00002")
    ]


def test_data_marked_purged_without_a_purge_record_is_named(store: AuditStore) -> None:
    Tamper(store).sql("UPDATE audit_blocks SET private = NULL, purged_at = 'x' WHERE id = 3")
    messages = [str(p) for p in store.verify().problems]
    assert messages == ["audit_blocks id 3 (seq 3): marked purged but run 1 has no purge record"]


def test_purged_data_is_gone_from_the_sqlite_files(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with AuditStore(f"sqlite:///{path}") as store:
        store.record_run(FakeResult(applicants(30)), "alice", now=RECORDED)
        with store.engine.connect() as conn:
            private, eeo = conn.execute(
                sa.text(
                    "SELECT private, data FROM audit_blocks "
                    "JOIN audit_eeo_blocks ON block_id = audit_blocks.id"
                )
            ).one()
        store.purge(AFTER_EXPIRY)
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("audit.db"))
    # the stored (compressed) details, inputs and self-identification rows are overwritten
    for blob in (bytes(private), bytes(eeo)):
        middle = len(blob) // 2
        assert blob[middle : middle + 48] not in data
