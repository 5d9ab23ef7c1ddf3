"""Tampering done directly in the database: verify names every edited, deleted or moved
record, down to the decision inside a block. All edits go through `Tamper`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from screening.audit import AuditError, AuditStore
from tests.audit_helpers import FakeResult, Tamper, applicants, store_url

__all__ = ["store_url"]

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
KEY = "only-the-auditor-knows"


@pytest.fixture
def store(store_url: str, monkeypatch: pytest.MonkeyPatch) -> AuditStore:
    """Two runs of 5 and an override: seq 1 run, 2 layout, 3 block, 4 totals, 5 run, 6
    layout, 7 block, 8 totals, 9 override."""
    monkeypatch.delenv("SCREENING_AUDIT_KEY", raising=False)
    audit = AuditStore(store_url)
    audit.record_run(FakeResult(applicants(5)), "alice", now=NOW)
    audit.record_run(FakeResult(applicants(5, prefix="B")), "alice", now=NOW)
    audit.record_override(
        1, "A00003", reviewer="bob", to_outcome="qualified", justification="dates verified"
    )
    assert audit.verify().ok
    assert audit.chain_head()[0] == 9
    return audit


def named(store: AuditStore) -> set[tuple[str, int | None, str | None]]:
    report = store.verify()
    assert not report.ok
    return {(p.table, p.record_id, p.applicant_id) for p in report.problems}


def test_edited_outcome_is_named_down_to_the_decision(store: AuditStore) -> None:
    Tamper(store).set_value(1, "A00002", "outcome", "not_qualified")
    assert [str(p) for p in store.verify().problems] == [
        "audit_blocks id 3 (seq 3): edited: the decision of applicant 'A00002' (position 2 "
        "in the block): its outcome, row or statuses no longer match its hash"
    ]


def test_edited_status_is_named(store: AuditStore) -> None:
    Tamper(store).set_value(5, "B00004", "status:typical.education", "not_met")
    assert named(store) == {("audit_blocks", 7, "B00004")}


def test_edited_reasons_are_named(store: AuditStore) -> None:
    Tamper(store).replace_text(1, "A00001", "detail_json", "1.5", "3.5")
    assert named(store) == {("audit_blocks", 3, "A00001")}


def test_edited_input_record_is_named(store: AuditStore) -> None:
    Tamper(store).set_value(5, "B00003", "input_json", "{}")
    assert named(store) == {("audit_blocks", 7, "B00003")}


def test_edited_override_justification_is_named(store: AuditStore) -> None:
    Tamper(store).edit("audit_overrides", 9, justification="because")
    assert named(store) == {("audit_overrides", 9, None)}


def test_edited_run_spec_is_named(store: AuditStore) -> None:
    Tamper(store).edit("audit_runs", 5, spec_yaml="id: forged")
    assert named(store) == {("audit_runs", 5, None)}


def test_edited_digest_breaks_the_link(store: AuditStore) -> None:
    Tamper(store).edit("audit_blocks", 3, digest="0" * 64)
    problems = store.verify().problems
    assert {(p.table, p.record_id) for p in problems} == {("audit_blocks", 3)}
    assert any("chain broken" in p.problem for p in problems)


def test_unreadable_block_is_named(store: AuditStore) -> None:
    Tamper(store).edit("audit_blocks", 7, kept=b"not arrow")
    problems = [str(p) for p in store.verify().problems]
    assert any(p.startswith("audit_blocks id 7 (seq 7): edited: its stored") for p in problems)


def test_deleted_block_is_named(store: AuditStore) -> None:
    Tamper(store).delete_block(7)
    messages = [str(p) for p in store.verify().problems]
    assert "audit_events id 8 (seq 8): records before it are missing (seq 7 deleted)" in messages
    assert any("run 5 recorded 5 decisions but 0 are stored" in m for m in messages)
    assert any("eeo rows of run 5 were edited or deleted" in m for m in messages)


def test_deleted_override_is_named(store: AuditStore) -> None:
    # the newest record: only the head row (and a noted head) can tell
    Tamper(store).delete("audit_overrides", 9)
    messages = [str(p) for p in store.verify().problems]
    assert any("chain head says seq 9 but the last record is seq 8" in m for m in messages)


def test_reordered_blocks_are_named(store_url: str) -> None:
    first, second = FakeResult(applicants(4)), FakeResult(applicants(5, prefix="B"))
    with AuditStore(store_url) as audit:
        with audit.recording(first, "alice", now=NOW) as run:
            run.add(first)
            run.add(second)
        tamper = Tamper(audit)
        blocks = tamper.blocks(1)
        assert blocks == [3, 4]
        tamper.swap_blocks(*blocks)
        # both moved blocks, the totals record whose link now follows the wrong one, and
        # the eeo answers, whose order no longer matches the run's digest
        assert {(t, i) for t, i, _ in named(audit)} == {
            ("audit_blocks", 3),
            ("audit_blocks", 4),
            ("audit_events", 5),
            ("audit_eeo_blocks", None),
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
        # overrides 5 and 6 trade places
        tamper = Tamper(audit)
        tamper.move("audit_overrides", 5, 100)
        tamper.move("audit_overrides", 6, 5)
        tamper.move("audit_overrides", 100, 6)
        # the last record no longer carries the head's link either
        assert named(audit) == {
            ("audit_overrides", 5, None),
            ("audit_overrides", 6, None),
            ("audit_chain_head", None, None),
        }


def test_edited_eeo_row_is_named(store: AuditStore) -> None:
    Tamper(store).edit_eeo(5)
    messages = [str(p) for p in store.verify().problems]
    assert messages == ["audit_eeo_blocks: eeo rows of run 5 were edited or deleted"]


def test_data_removed_outside_purge_is_named(store: AuditStore) -> None:
    Tamper(store).remove_private(7)
    messages = [str(p) for p in store.verify().problems]
    assert messages == [
        "audit_blocks id 7 (seq 7): decision details and inputs removed outside a purge"
    ]


def test_recomputed_chain_is_caught_by_the_noted_head(store: AuditStore) -> None:
    noted = store.verify().head_link
    tamper = Tamper(store)
    tamper.set_value(1, "A00001", "outcome", "qualified")
    tamper.relink_all()  # every leaf, digest and link rebuilt without a key
    assert store.verify().ok  # without the noted head nothing shows ...
    report = store.verify(expected_head=noted)  # ... with it, the forgery does
    assert [p.problem for p in report.problems] == [
        f"the noted chain head {noted} is not in the chain: records were deleted or the chain "
        "was recomputed"
    ]


def test_sequence_number_used_twice_is_named(store: AuditStore) -> None:
    # an event moved onto the seq of a block (another table, so no key clash)
    Tamper(store).move("audit_events", 4, 3)
    problems = store.verify().problems
    assert any(p.record_id == 3 and "used twice" in p.problem for p in problems)


# ---------------------------------------------------------------- HMAC mode


@pytest.fixture
def keyed(store_url: str, monkeypatch: pytest.MonkeyPatch) -> AuditStore:
    """A keyed chain: seq 1 the key record, then three runs (2, 6, 10) of 4 records (run,
    layout, block, totals): blocks at seq 4, 8 and 12."""
    monkeypatch.setenv("SCREENING_AUDIT_KEY", KEY)
    audit = AuditStore(store_url)
    for prefix in "ABC":
        audit.record_run(FakeResult(applicants(4, prefix=prefix)), "alice", now=NOW)
    report = audit.verify()
    assert report.ok and report.keyed and report.head_seq == 13
    return audit


def test_a_rehashed_block_is_caught_in_hmac_mode(keyed: AuditStore) -> None:
    tamper = Tamper(keyed)
    block = tamper.set_value(2, "A00001", "outcome", "qualified")
    tamper.rehash_block(block)  # its leaves, digest and link made again, without the key
    problems = keyed.verify().problems
    assert problems[0].record_id == block
    assert "not made with the key" in problems[0].problem
    # the record after it follows from the block's original link, not the forged one
    assert {p.record_id for p in problems} == {block, block + 1}


def test_an_hmac_tamper_names_the_edited_record_not_every_link_after_it(
    keyed: AuditStore,
) -> None:
    tamper = Tamper(keyed)
    block = tamper.set_value(2, "A00002", "status:typical.education", "not_met")
    tamper.relink_from(block)  # the rest of the chain re-linked with plain SHA-256
    problems = keyed.verify().problems
    assert len(problems) == 1
    assert problems[0].record_id == block == 4
    assert "not made with the key" in problems[0].problem
    assert "9 record(s) after it, to seq 13" in problems[0].problem


def test_a_keyed_store_claiming_to_be_unkeyed_is_tampering(
    keyed: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    tamper = Tamper(keyed)
    tamper.set_value(6, "B00001", "outcome", "qualified")
    tamper.delete("audit_events", 1)  # the key record
    tamper.relink_all(claim_unkeyed=True)
    report = keyed.verify()  # with the key: never OK, never advice to unset it
    assert not report.ok
    assert any("claims to be unkeyed" in p.problem for p in report.problems)
    assert not any("unset" in str(p) for p in report.problems)


def test_a_head_flag_edited_to_unkeyed_is_tampering(keyed: AuditStore) -> None:
    Tamper(keyed).sql("UPDATE audit_chain_head SET keyed = :k WHERE id = 1", k=False)
    problems = keyed.verify().problems
    assert [p.table for p in problems] == ["audit_chain_head"]
    assert "claims no key" in problems[0].problem


def test_a_chain_rekeyed_with_another_key_cannot_be_verified(keyed: AuditStore) -> None:
    from screening.audit.chain import canonical_json, key_id

    tamper = Tamper(keyed)
    tamper.set_value(2, "A00001", "outcome", "qualified")
    tamper.edit("audit_events", 1, payload_json=canonical_json({"key_id": key_id(b"mallory")}))
    tamper.relink_all(b"mallory")
    with pytest.raises(AuditError, match="keyed with another key"):
        keyed.verify()


def test_a_keyed_chain_needs_the_key_to_be_verified(
    keyed: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCREENING_AUDIT_KEY")
    with AuditStore(keyed.url) as store, pytest.raises(AuditError, match="set SCREENING_AUDIT"):
        store.verify()


def test_blocks_checked_in_worker_processes_are_named_the_same(
    store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from screening.audit.verify import _BlockChecks

    Tamper(store).set_value(1, "A00002", "outcome", "not_qualified")
    serial = [str(p) for p in store.verify().problems]
    monkeypatch.setattr(_BlockChecks, "PARALLEL_FROM", 1)
    assert [str(p) for p in store.verify().problems] == serial
    assert len(serial) == 1 and "'A00002'" in serial[0]
