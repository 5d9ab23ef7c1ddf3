"""A store whose runs were recorded as format-3 blocks (one Arrow IPC file per private
table, zstd per buffer) still verifies, reads and re-screens as it did when written.

The fixture holds two runs of generated applicants for the Account Manager spec, written
by the release that introduced blocks: run 1 (20 applicants, purged after its retention)
and run 7 (60 applicants in four blocks, one decision overridden).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from screening.audit import AuditStore
from screening.run.rescreen import rescreen
from tests.test_audit_old_format import _fingerprint

FIXTURE = Path(__file__).parent / "fixtures" / "audit" / "v3-blocks.sqlite"
HEAD = "310d517dab59e5e532bad6135cd89d6654fede9a7bc17dc12c42f1a03d983c92"
PURGED_RUN, KEPT_RUN = 1, 7


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    copy = tmp_path / "v3.sqlite"
    shutil.copy(FIXTURE, copy)  # opening a store may write (WAL); never touch the fixture
    return AuditStore(f"sqlite:///{copy}")


def test_a_format_3_store_verifies_against_its_noted_head(store: AuditStore) -> None:
    report = store.verify(expected_head=HEAD)
    assert report.ok, [str(p) for p in report.problems]
    assert (report.records, report.head_seq, report.purged_decisions) == (16, 16, 17)


def test_a_format_3_store_reads_as_it_did(store: AuditStore) -> None:
    assert {run: _fingerprint(store, run) for run in (PURGED_RUN, KEPT_RUN)} == {
        PURGED_RUN: "3f8a49110394b5f182ddb92c84e84f146a80d1d60d112f7a1c8ca0cf09409cd4",
        KEPT_RUN: "c237cc5ab1b9e2e0cbb2a7b09373f83975c471c9418dd25ff5d43340ccee1c67",
    }
    record = store.decision(KEPT_RUN, "100005")
    assert record.detail is not None and record.input_record is not None
    assert record.final_outcome == "needs_review" != record.outcome
    assert record.detail["reasons"], "the principal reasons as shown"


def test_a_format_3_run_rescreens_from_its_record(store: AuditStore) -> None:
    report = rescreen(store, KEPT_RUN)
    assert report.decisions == 57 and not report.missing and not report.flips


def test_an_edit_inside_a_format_3_block_is_named(store: AuditStore, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "v3.sqlite") as con:
        (blob,) = con.execute("SELECT private FROM audit_blocks WHERE id = 10").fetchone()
        con.execute("UPDATE audit_blocks SET private = ? WHERE id = 10", (blob[:-40] + bytes(40),))
    problems = [str(p) for p in store.verify().problems]
    assert len(problems) == 1 and "audit_blocks id 10" in problems[0], problems
