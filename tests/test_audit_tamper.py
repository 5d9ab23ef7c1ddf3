"""Tampering done directly in the database: verify names every edited, deleted or moved record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from screening.audit import AuditStore
from screening.audit.chain import GENESIS_LINK, Linker, record_digest
from screening.audit.store import _KINDS
from tests.audit_helpers import FakeResult, applicants, store_url

__all__ = ["store_url"]

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def store(store_url: str, monkeypatch: pytest.MonkeyPatch) -> AuditStore:
    """Two runs of 5 and an override: seq 1 run, 2-6 decisions, 7 event, 8 run, ... 15 override."""
    monkeypatch.delenv("SCREENING_AUDIT_KEY", raising=False)
    audit = AuditStore(store_url)
    audit.record_run(FakeResult(applicants(5)), "alice", now=NOW)
    audit.record_run(FakeResult(applicants(5, prefix="B")), "alice", now=NOW)
    audit.record_override(
        1, "A00003", reviewer="bob", to_outcome="qualified", justification="dates verified"
    )
    assert audit.verify().ok
    return audit


def tamper(store: AuditStore, *statements: str) -> None:
    with store.engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))


def named(store: AuditStore) -> set[tuple[str, int | None]]:
    report = store.verify()
    assert not report.ok
    return {(p.table, p.record_id) for p in report.problems}


def test_edited_outcome_is_named(store: AuditStore) -> None:
    tamper(store, "UPDATE audit_decisions SET outcome = 'qualified' WHERE id = 3")
    report = store.verify()
    assert [str(p) for p in report.problems] == [
        "audit_decisions id 3 (seq 3): edited: its contents no longer match its digest"
    ]


def test_edited_reasons_are_named(store: AuditStore) -> None:
    tamper(
        store,
        "UPDATE audit_decisions SET detail_json = replace(detail_json, '1.5', '3.5') WHERE id = 3",
    )
    assert named(store) == {("audit_decisions", 3)}


def test_edited_input_record_is_named(store: AuditStore) -> None:
    tamper(store, "UPDATE audit_decisions SET input_json = '{}' WHERE id = 10")
    assert named(store) == {("audit_decisions", 10)}


def test_edited_override_justification_is_named(store: AuditStore) -> None:
    tamper(store, "UPDATE audit_overrides SET justification = 'because' WHERE id = 15")
    assert named(store) == {("audit_overrides", 15)}


def test_edited_run_spec_is_named(store: AuditStore) -> None:
    tamper(store, "UPDATE audit_runs SET spec_yaml = 'id: forged' WHERE id = 8")
    assert named(store) == {("audit_runs", 8)}


def test_edited_digest_breaks_the_link(store: AuditStore) -> None:
    tamper(store, f"UPDATE audit_decisions SET digest = '{'0' * 64}' WHERE id = 5")
    problems = store.verify().problems
    assert {(p.table, p.record_id) for p in problems} == {("audit_decisions", 5)}
    assert any("chain broken" in p.problem for p in problems)


def test_deleted_decision_is_named(store: AuditStore) -> None:
    tamper(
        store,
        "DELETE FROM audit_eeo WHERE decision_id = 4",
        "DELETE FROM audit_decisions WHERE id = 4",
    )
    report = store.verify()
    messages = [str(p) for p in report.problems]
    assert "audit_decisions id 5 (seq 5): records before it are missing (seq 4 deleted)" in messages
    assert any("eeo rows of run 1 were edited or deleted" in m for m in messages)


def test_deleted_override_is_named(store: AuditStore) -> None:
    # the newest record: only the head row (and a noted head) can tell
    tamper(store, "DELETE FROM audit_overrides WHERE id = 15")
    messages = [str(p) for p in store.verify().problems]
    assert any("chain head says seq 15 but the last record is seq 14" in m for m in messages)


def test_reordered_decisions_are_named(store: AuditStore) -> None:
    # two decisions trade places: every stored column except the id is swapped
    table = _KINDS["decision"].table
    with store.engine.begin() as conn:
        first, second = (
            dict(conn.execute(sa.select(table).where(table.c.id == i)).mappings().one())
            for i in (2, 3)
        )
        conn.execute(table.update().where(table.c.id == 3).values(applicant_id="moving"))
        for target, source in ((2, second), (3, first)):
            values = {k: v for k, v in source.items() if k != "id"}
            conn.execute(table.update().where(table.c.id == target).values(**values))
    # both moved records, the one whose link now follows the wrong record, and the run's
    # self-identification rows, whose order no longer matches the run's digest
    assert named(store) == {
        ("audit_decisions", 2),
        ("audit_decisions", 3),
        ("audit_decisions", 4),
        ("audit_eeo", None),
    }


def test_swapped_sequence_numbers_are_named(store_url: str) -> None:
    with AuditStore(store_url) as audit:
        audit.record_run(FakeResult(applicants(3)), "alice", now=NOW)
        audit.record_override(
            1, "A00001", reviewer="bob", to_outcome="qualified", justification="a"
        )
        audit.record_override(
            1, "A00002", reviewer="bob", to_outcome="not_qualified", justification="b"
        )
        # overrides 6 and 7 trade places
        tamper(
            audit,
            "UPDATE audit_overrides SET id = 100 WHERE id = 6",
            "UPDATE audit_overrides SET id = 6 WHERE id = 7",
            "UPDATE audit_overrides SET id = 7 WHERE id = 100",
        )
        # the last record no longer carries the head's link either
        assert named(audit) == {
            ("audit_overrides", 6),
            ("audit_overrides", 7),
            ("audit_chain_head", None),
        }


def test_edited_eeo_row_is_named(store: AuditStore) -> None:
    tamper(store, 'UPDATE audit_eeo SET data_json = \'{"eeo_sex":"Male"}\' WHERE decision_id = 9')
    messages = [str(p) for p in store.verify().problems]
    assert messages == ["audit_eeo: eeo rows of run 8 were edited or deleted"]


def test_data_removed_outside_purge_is_named(store: AuditStore) -> None:
    tamper(store, "UPDATE audit_decisions SET input_json = NULL WHERE id = 11")
    messages = [str(p) for p in store.verify().problems]
    assert messages == ["audit_decisions id 11 (seq 11): input_json removed outside a purge"]


def test_recomputed_chain_is_caught_by_the_noted_head(store: AuditStore) -> None:
    noted = store.verify().head_link
    # forge: change an outcome and rebuild every digest and link without a key
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_decisions SET outcome = 'qualified' WHERE id = 3"))
        rows = []
        for kind in _KINDS.values():
            for row in conn.execute(sa.select(kind.table)).mappings():
                rows.append((int(row["id"]), kind, dict(row)))
        link = GENESIS_LINK
        for seq, kind, row in sorted(rows, key=lambda r: r[0]):
            parent = row[kind.parent] if kind.parent else None
            digest = record_digest(kind.name, seq, parent, kind.content(row))
            link = Linker(None).link(link, digest)
            conn.execute(
                kind.table.update().where(kind.table.c.id == seq).values(digest=digest, link=link)
            )
        conn.execute(sa.text(f"UPDATE audit_chain_head SET link = '{link}'"))
    assert store.verify().ok  # without the noted head nothing shows ...
    report = store.verify(expected_head=noted)  # ... with it, the forgery does
    assert [p.problem for p in report.problems] == [
        f"the noted chain head {noted} is not in the chain: records were deleted or the chain "
        "was recomputed"
    ]


def test_keyed_chain_cannot_be_recomputed_without_the_key(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCREENING_AUDIT_KEY", "only-the-auditor-knows")
    with AuditStore(store_url) as audit:
        audit.record_run(FakeResult(applicants(3)), "alice", now=NOW)
        with audit.engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit_decisions SET outcome = 'qualified' WHERE id = 3"))
            row = dict(
                conn.execute(
                    sa.select(_KINDS["decision"].table).where(_KINDS["decision"].table.c.id == 3)
                )
                .mappings()
                .one()
            )
            digest = record_digest("decision", 3, 1, _KINDS["decision"].content(row))
            previous = conn.execute(
                sa.text("SELECT link FROM audit_decisions WHERE id = 2")
            ).scalar()
            forged = Linker(None).link(str(previous), digest)
            conn.execute(
                sa.text("UPDATE audit_decisions SET digest = :d, link = :l WHERE id = 3"),
                {"d": digest, "l": forged},
            )
        report = audit.verify()
        assert {(p.table, p.record_id) for p in report.problems} == {
            ("audit_decisions", 3),
            ("audit_decisions", 4),
        }


def test_sequence_number_used_twice_is_named(store: AuditStore) -> None:
    # an event moved onto the seq of a decision (another table, so no key clash)
    tamper(store, "UPDATE audit_events SET id = 6 WHERE id = 7")
    problems = store.verify().problems
    assert any(p.record_id == 6 and "used twice" in p.problem for p in problems)
