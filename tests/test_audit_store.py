"""Recording runs, decisions and overrides; reading them back; keys; migrations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa

from screening.audit import AuditError, AuditStore, database_url
from screening.audit.blocks import from_ipc, unpack
from screening.audit.chain import GENESIS_LINK, Linker, key_id, record_digest
from screening.audit.database import Database
from screening.audit.writer import KINDS
from tests.audit_helpers import FakeResult, another_store_url, applicants, store_url

__all__ = ["store_url"]

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_database_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCREENING_DATABASE_URL", raising=False)
    assert database_url() == "sqlite:///screening-audit.db"
    monkeypatch.setenv("SCREENING_DATABASE_URL", "postgresql+psycopg2://u@h/db")
    assert database_url() == "postgresql+psycopg2://u@h/db"


def test_a_run_records_everything_an_auditor_asks_for(store_url: str) -> None:
    result = FakeResult(applicants(6))
    with AuditStore(store_url) as store:
        summary = store.record_run(result, "alice", now=NOW)
        assert (summary.run_id, summary.decisions) == (1, 6)
        # run, its layout, one block of 6 decisions, the totals kept at record time
        assert summary.chain_seq == 4
        assert (summary.chain_seq, summary.chain_head) == store.chain_head()
        detail = store.show(summary.run_id)
        info = detail.info
        assert (info.user, info.created_at) == ("alice", "2026-03-02T09:30:00.000000Z")
        assert (info.spec_id, info.spec_revision) == ("alameda-7616-account-manager", "2019-01-09")
        assert info.retention_until == "2030-03-02"
        assert info.outcome_counts == {"qualified": 3, "not_qualified": 2, "needs_review": 1}
        assert detail.spec_sha256 == result.spec.sha256()
        assert "typical.education" in detail.spec_yaml
        assert detail.ruleset_hash == result.ruleset_hash
        assert detail.files == [
            {"role": "applicants", "path": "applicants.csv", "sha256": "cd" * 32, "rows": 3}
        ]
        assert detail.as_of == "2026-03-01"
        assert detail.settings == {"requires_driving": False}
        assert detail.engine_version
        decision = store.decision(1, "A00001")
        assert decision.outcome == decision.final_outcome == "not_qualified"
        assert decision.statuses["typical.experience"] == "not_met"
        assert decision.detail is not None
        assert decision.detail["criteria"][1]["values"] == {"years": 1.5}
        assert decision.input_record is not None
        assert decision.input_record["applicant"]["first_name"] == "NameA00001"


def test_eeo_answers_are_stored_apart_from_decisions(store_url: str) -> None:
    with AuditStore(store_url) as store:
        store.record_run(FakeResult(applicants(5)), "alice", now=NOW)
        with store.engine.connect() as conn:
            kept, private = conn.execute(sa.text("SELECT kept, private FROM audit_blocks")).one()
            eeo = conn.execute(sa.text("SELECT data FROM audit_eeo_blocks")).scalar_one()
        decisions = [from_ipc(bytes(kept)), *unpack(bytes(private))]
        stored = json.dumps([table.to_pylist() for table in decisions])
        assert not any("eeo" in c for table in decisions for c in table.column_names)
        assert "Female" not in stored and "Asian" not in stored
        answers = from_ipc(bytes(eeo)).to_pylist()
        assert answers[0] == {"position": 0, "eeo_sex": "Female", "eeo_race_ethnicity": "Asian"}
        assert len(answers) == 5


def test_eeo_answers_in_an_input_record_are_not_stored_with_it(store_url: str) -> None:
    class Leaky(FakeResult):
        def input_records(self):  # type: ignore[no-untyped-def]
            for applicant_id, record in super().input_records():
                record["applicant"]["eeo_sex"] = "Female"
                yield applicant_id, {**record, "eeo_race_ethnicity": "Asian"}

    with AuditStore(store_url) as store:
        store.record_run(Leaky(applicants(2)), "alice", now=NOW)
        record = store.decision(1, "A00000").input_record
    assert record is not None
    assert "eeo_race_ethnicity" not in record
    assert "eeo_sex" not in record["applicant"]
    assert record["applicant"]["first_name"] == "NameA00000"


def test_overrides_change_the_final_outcome_and_keep_their_history(store_url: str) -> None:
    with AuditStore(store_url) as store:
        store.record_run(FakeResult(applicants(4)), "alice", now=NOW)
        first = store.record_override(
            1, "A00003", reviewer="bob", to_outcome="qualified", justification="verified dates"
        )
        assert (first.from_outcome, first.to_outcome) == ("needs_review", "qualified")
        second = store.record_override(
            1, "A00003", reviewer="carol", to_outcome="not_qualified", justification="re-checked"
        )
        assert second.from_outcome == "qualified"
        finals = store.final_outcomes(1).set_index("applicant_id")
        assert finals.loc["A00003", "engine_outcome"] == "needs_review"
        assert finals.loc["A00003", "final_outcome"] == "not_qualified"
        assert bool(finals.loc["A00003", "overridden"]) is True
        assert bool(finals.loc["A00000", "overridden"]) is False
        history = store.decision(1, "A00003").overrides
        assert [(o.reviewer, o.justification) for o in history] == [
            ("bob", "verified dates"),
            ("carol", "re-checked"),
        ]
        assert store.show(1).final_counts == {
            "qualified": 2,
            "not_qualified": 2,
            "needs_review": 0,
        }


@pytest.mark.parametrize(
    ("applicant", "changes", "message"),
    [
        ("A00003", {"justification": "  "}, "needs a justification"),
        ("A00003", {"reviewer": ""}, "must name its reviewer"),
        ("A00003", {"to_outcome": "hired"}, "'hired' is not an outcome"),
        ("nobody", {}, "run 1 has no applicant 'nobody'"),
        ("A00000", {"to_outcome": "qualified"}, "already qualified"),
    ],
)
def test_bad_overrides_are_refused_and_nothing_is_written(
    store_url: str, applicant: str, changes: dict[str, str], message: str
) -> None:
    with AuditStore(store_url) as store:
        store.record_run(FakeResult(applicants(4)), "alice", now=NOW)
        head = store.chain_head()
        arguments = {"reviewer": "bob", "to_outcome": "qualified", "justification": "ok"}
        arguments.update(changes)
        with pytest.raises(AuditError, match=message):
            store.record_override(1, applicant, **arguments)
        assert store.chain_head() == head


def test_an_empty_store_verifies(store_url: str) -> None:
    with AuditStore(store_url) as store:
        report = store.verify()
    assert report.ok
    assert (report.records, report.head_seq, report.head_link) == (0, 0, GENESIS_LINK)


def test_unknown_run_is_a_clear_error(store_url: str) -> None:
    with AuditStore(store_url) as store, pytest.raises(AuditError, match="no run 42"):
        store.show(42)


def test_decisions_and_input_records_must_match(store_url: str) -> None:
    class Swapped(FakeResult):
        def input_records(self):  # type: ignore[no-untyped-def]
            records = list(super().input_records())
            records[0], records[1] = records[1], records[0]
            return iter(records)

    with AuditStore(store_url) as store, pytest.raises(AuditError, match="same order"):
        store.record_run(Swapped(applicants(3)), "alice")
    with AuditStore(store_url) as store:
        assert store.runs() == []


def test_links_are_sha256_of_previous_link_and_digest(store_url: str) -> None:
    with AuditStore(store_url) as store:
        store.record_run(FakeResult(applicants(2)), "alice", now=NOW)
        with store.engine.connect() as conn:
            run = conn.execute(sa.select(KINDS["run"].table)).mappings().one()
        digest = record_digest("run", 1, None, KINDS["run"].content(dict(run)))
        assert run["digest"] == digest
        assert run["link"] == Linker(None).link(GENESIS_LINK, digest)


def test_keyed_chain_needs_its_key(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCREENING_AUDIT_KEY", "s3cret")
    with AuditStore(store_url) as store:
        store.record_run(FakeResult(applicants(3)), "alice", now=NOW)
        report = store.verify()
        assert report.ok and report.keyed
        with store.engine.connect() as conn:
            event = conn.execute(sa.select(KINDS["event"].table)).mappings().first()
            run = conn.execute(sa.select(KINDS["run"].table)).mappings().one()
        # the first record turns the key on, naming its fingerprint (never the key)
        assert event is not None and event["kind"] == "key_on"
        assert json.loads(event["payload_json"]) == {"key_id": key_id(b"s3cret")}
        assert "s3cret" not in event["payload_json"]
        assert run["link"] == Linker(b"s3cret").link(event["link"], run["digest"])
        assert run["link"] != Linker(None).link(event["link"], run["digest"])
    with AuditStore(store_url, key="wrong") as store:
        with pytest.raises(AuditError, match="keyed with another key"):
            store.verify()
        with pytest.raises(AuditError, match="not the key"):
            store.record_run(FakeResult(applicants(1)), "mallory")
    monkeypatch.delenv("SCREENING_AUDIT_KEY")
    with AuditStore(store_url) as store, pytest.raises(AuditError, match="set SCREENING_AUDIT_KEY"):
        store.verify()


def test_turning_the_key_on_is_a_chained_record(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCREENING_AUDIT_KEY", raising=False)
    with AuditStore(store_url) as store:
        store.record_run(FakeResult(applicants(1)), "alice", now=NOW)  # seq 1-4, plain
    with AuditStore(store_url, key="late") as store:
        summary = store.record_run(FakeResult(applicants(1, prefix="B")), "alice", now=NOW)
        assert summary.run_id == 6  # seq 5 turned the key on
        report = store.verify()
        assert report.ok and report.keyed
    with AuditStore(store_url) as store:
        with pytest.raises(AuditError, match="keyed .*from seq 5"):
            store.verify()
        with pytest.raises(AuditError, match="set SCREENING_AUDIT_KEY"):
            store.record_run(FakeResult(applicants(1, prefix="C")), "alice")


def test_schema_is_migrated_once_and_reopening_keeps_the_data(store_url: str) -> None:
    with AuditStore(store_url) as store:
        store.record_run(FakeResult(applicants(2)), "alice", now=NOW)
    with AuditStore(store_url) as store:
        with store.engine.connect() as conn:
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert version == "0002"
        assert [r.run_id for r in store.runs()] == [1]
        assert store.verify().ok


def _schema(engine: sa.Engine) -> dict[str, object]:
    """Every table's columns, keys, indexes and constraints, and the rows the schema
    starts with: what a store's structure is, however it was made."""
    inspector = sa.inspect(engine)
    tables: dict[str, object] = {}
    for name in sorted(inspector.get_table_names()):
        primary = inspector.get_pk_constraint(name)
        tables[name] = [
            [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"), c.get("autoincrement"))
                for c in inspector.get_columns(name)
            ],
            (primary.get("name"), primary["constrained_columns"]),
            sorted(
                (
                    f.get("name") or "",
                    f["constrained_columns"],
                    f["referred_table"],
                    f["referred_columns"],
                    sorted(f.get("options", {}).items()),
                )
                for f in inspector.get_foreign_keys(name)
            ),
            sorted(
                (c.get("name") or "", c["sqltext"]) for c in inspector.get_check_constraints(name)
            ),
            sorted(
                (i["name"], i["column_names"], bool(i["unique"]))
                for i in inspector.get_indexes(name)
            ),
            sorted(
                (u.get("name") or "", u["column_names"])
                for u in inspector.get_unique_constraints(name)
            ),
        ]
    with engine.connect() as conn:
        tables["rows"] = [
            conn.execute(sa.text("SELECT * FROM audit_chain_head")).all(),
            conn.execute(sa.text("SELECT * FROM alembic_version")).all(),
        ]
        # every other table starts empty
        tables["counts"] = {
            name: conn.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar()
            for name in inspector.get_table_names()
        }
    return tables


def test_a_new_store_is_made_as_its_migrations_make_it(
    store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A new store's tables are made at the newest revision without Alembic; they are
    those the migrations make on an empty database, and later migrations start there."""
    with AuditStore(store_url) as store:
        made = _schema(store.engine)
        # Alembic finds the new store at its head: upgrading changes nothing
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("screening.audit") / "migrations")
        )
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        assert _schema(store.engine) == made
    with another_store_url(store_url, tmp_path) as migrated_url, monkeypatch.context() as patch:
        patch.setattr(Database, "_create_at_head", lambda self: False)
        with AuditStore(migrated_url) as store:
            migrated = _schema(store.engine)
    assert made == migrated


def test_unusable_database_url_is_a_clear_error() -> None:
    with pytest.raises(AuditError, match="is not usable"):
        AuditStore("nosuchdb://x")
    with pytest.raises(AuditError, match="cannot use the audit database"):
        AuditStore("postgresql+psycopg2://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_an_empty_batch_is_recorded_and_verifies(store_url: str) -> None:
    with AuditStore(store_url) as store:
        summary = store.record_run(FakeResult([]), "alice", now=NOW)
        # run, layout, totals: an empty batch has no block
        assert (summary.run_id, summary.decisions, summary.chain_seq) == (1, 0, 3)
        assert store.verify().ok
        assert store.impact(1).applicants == 0
        assert store.runs()[0].outcome_counts == {
            "qualified": 0,
            "not_qualified": 0,
            "needs_review": 0,
        }


def test_a_run_recorded_in_chunks_is_one_run(store_url: str) -> None:
    first, second = FakeResult(applicants(5)), FakeResult(applicants(4, prefix="B"))
    with AuditStore(store_url) as store:
        with store.recording(first, "alice", now=NOW) as run:
            run.add(first)
            run.add(second)
        summary = run.summary()
        # run, layout, a block per chunk, totals
        assert (summary.run_id, summary.decisions, summary.chain_seq) == (1, 9, 5)
        assert store.runs()[0].decisions == 9
        assert store.final_outcomes(1)["applicant_id"].tolist() == [
            *(a.applicant_id for a in first.applicants),
            *(a.applicant_id for a in second.applicants),
        ]
        assert store.impact(1).applicants == 9
        assert store.verify().ok


def test_an_applicant_in_two_chunks_is_refused_and_nothing_is_kept(store_url: str) -> None:
    batch = FakeResult(applicants(3))
    with AuditStore(store_url) as store:
        refused = pytest.raises(AuditError, match="'A00000' has two decisions in one run")
        with refused, store.recording(batch, "alice", now=NOW) as run:
            run.add(batch)
            run.add(FakeResult(applicants(1)))
        assert store.runs() == []
        assert store.chain_head() == (0, GENESIS_LINK)
