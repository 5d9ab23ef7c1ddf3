"""Recording split in two: prepare_chunk (in a worker) and add_prepared (in the process
that holds the database) store exactly what one-shot recording stores, in the compact
format, and every edit to it is still caught."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from data.generate import generate_applicants
from screening.audit import AuditError, AuditStore, prepare_chunk, run_source
from screening.audit.chain import canonical_json
from screening.audit.impact import ImpactReport
from screening.audit.prepare import (
    PreparedChunk,
    RunSource,
    _coded_texts,
    _layout_of,
    _loaded_tables,
)
from screening.run.rescreen import rescreen
from screening.run.stages import ScreeningResult, screen_files, screen_stream
from tests.audit_helpers import SPEC_PATH, Tamper, store_url

__all__ = ["store_url"]

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
AS_OF = date(2026, 11, 26)


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prepare") / "wide.csv"
    generate_applicants(60, seed=20261126, as_of=AS_OF).write_wide(path)
    return path


def chunks(wide: Path) -> Iterator[ScreeningResult]:
    return screen_stream(wide, SPEC_PATH, as_of=AS_OF, chunk_rows=17, record_audit=True)


def run_python(script: str, *args: str) -> None:
    """Run a script in a fresh interpreter (what it imports starts empty); fail if it fails."""
    import subprocess
    import sys

    root = Path(__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", script, *args], check=True, cwd=root, env=env)


def everything(store: AuditStore, run_id: int) -> str:
    """What the readers return for a run, as one text (chain positions left out)."""
    finals = store.final_outcomes(run_id)
    decisions = []
    for applicant_id in finals["applicant_id"]:
        record = dataclasses.asdict(store.decision(run_id, applicant_id))
        del record["decision_id"], record["run_id"]
        decisions.append(record)
    impact = store.impact(run_id).to_dict()
    return canonical_json([finals.to_dict("list"), decisions, store.input_records(run_id), impact])


def record_prepared(store: AuditStore, wide: Path) -> int:
    """As a process pool does it: the source and each chunk prepared and pickled apart."""
    results = chunks(wide)
    first = next(results)
    source: RunSource = pickle.loads(pickle.dumps(run_source(first)))
    with store.recording(source, "alice", now=NOW) as recorder:
        for result in [first, *results]:
            recorder.add_prepared(pickle.loads(pickle.dumps(prepare_chunk(result))))
    return recorder.summary().run_id


def test_chunks_prepared_apart_store_what_one_shot_recording_stores(
    store_url: str, wide: Path, tmp_path: Path
) -> None:
    whole = screen_files(wide, SPEC_PATH, as_of=AS_OF)
    with AuditStore(f"sqlite:///{tmp_path / 'one-shot.db'}") as reference:
        one_shot = reference.record_run(whole, "alice", now=NOW)
        expected = everything(reference, one_shot.run_id)
        assert reference.verify().ok
    with AuditStore(store_url) as store:
        run_id = record_prepared(store, wide)
        assert everything(store, run_id) == expected
        report = store.verify(expected_head=store.chain_head()[1])
        assert report.ok, [str(p) for p in report.problems]
        assert store.show(run_id).info.decisions == len(whole.results) == one_shot.decisions


@pytest.mark.parametrize("batch", [1024, 7])
def test_compact_rows_expand_to_the_decisions_and_inputs_of_the_result(
    store_url: str, wide: Path, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a lookup decodes only the batch holding the decision: every batch must be right
    monkeypatch.setattr("screening.audit.blocks.BATCH", batch)
    whole = screen_files(wide, SPEC_PATH, as_of=AS_OF)
    with AuditStore(store_url) as store:
        run_id = store.record_run(whole, "alice", now=NOW).run_id
        with store.engine.connect() as conn:
            blocks = conn.execute(sa.text("SELECT count(*) FROM audit_blocks")).scalar_one()
            layout = conn.execute(
                sa.text("SELECT payload_json FROM audit_events WHERE kind = 'decision_layout'")
            ).scalar_one()
            rows = conn.execute(sa.text("SELECT count(*) FROM audit_decisions")).scalar_one()
        # one block of columns is what is stored, named by the run's layout
        assert (blocks, rows, json.loads(layout)["detail"]) == (1, 0, "columns")
        for summary in whole.decision_summaries():
            stored = store.decision(run_id, summary.applicant_id)
            assert stored.detail == json.loads(json.dumps(summary.detail))
            assert stored.statuses == summary.statuses
        assert store.input_records(run_id) == [
            (i, json.loads(json.dumps(r))) for i, r in whole.input_records()
        ]
        assert not rescreen(store, run_id).flips


def test_totals_impact_summed_from_chunks_equals_the_live_report(
    store_url: str, wide: Path
) -> None:
    with AuditStore(store_url) as store:
        run_id = record_prepared(store, wide)
        with store.engine.connect() as conn:
            payload = conn.execute(
                sa.text("SELECT payload_json FROM audit_events WHERE kind = 'run_totals'")
            ).scalar_one()
        counts = json.loads(payload)["impact_counts"]
        live = store.impact(run_id)
        assert counts == live.counts_dict()
        stored = ImpactReport.from_counts_dict(counts, source=live.source)
        assert canonical_json(stored.to_dict()) == canonical_json(live.to_dict())
        assert counts["applicants"] == store.show(run_id).info.decisions > 0


def test_recording_a_run_loads_no_statistics(tmp_path: Path, wide: Path) -> None:
    # SciPy takes about a second to import: the closing totals keep counts, not p-values

    script = (
        "import pickle, sys\n"
        "from pathlib import Path\n"
        "from screening.audit import AuditStore\n"
        "from tests.test_audit_prepare import record_prepared\n"
        "with AuditStore(sys.argv[1]) as store:\n"
        "    record_prepared(store, Path(sys.argv[2]))\n"
        "assert 'scipy' not in sys.modules, 'recording imported SciPy'\n"
    )
    run_python(script, f"sqlite:///{tmp_path / 'audit.db'}", str(wide))


def test_a_prepared_chunk_survives_pickling_whole(wide: Path) -> None:
    chunk = prepare_chunk(next(chunks(wide)))
    copy = pickle.loads(pickle.dumps(chunk))
    assert isinstance(copy, PreparedChunk) and copy == chunk and len(copy) > 10
    # compressed columns and two hashes per decision, not an object per decision
    assert isinstance(copy.kept, bytes) and isinstance(copy.private, bytes)
    assert len(copy.leaves) == 64 * len(copy)


def test_input_from_the_loaders_text_is_stored_as_converted_from_the_frames(
    wide: Path,
) -> None:
    """A chunk's input is stored from the Arrow text its loader made with the frames;
    from the frames themselves (no such text, or a frame changed since) it is the same."""
    for result in chunks(wide):
        # the loader's text is what this chunk's input is stored from
        assert _loaded_tables(result.batch, _layout_of(result)["input"]) is not None
        loaded = prepare_chunk(result)
        converted = prepare_chunk(
            dataclasses.replace(result, batch=dataclasses.replace(result.batch, input_text=None))
        )
        assert loaded == converted
    # a job row dropped after loading: the text no longer pairs with the frame
    batch = result.batch
    trimmed = dataclasses.replace(batch, jobs=batch.jobs.iloc[1:].reset_index(drop=True))
    stored = prepare_chunk(dataclasses.replace(result, batch=trimmed))
    plain = prepare_chunk(
        dataclasses.replace(result, batch=dataclasses.replace(trimmed, input_text=None))
    )
    assert stored == plain and stored.private != loaded.private


def test_a_chunk_of_another_spec_layout_is_refused(store_url: str, wide: Path) -> None:
    first = next(chunks(wide))
    source = dataclasses.replace(run_source(first), layout='{"format":2,"criteria":[]}')
    with AuditStore(store_url) as store:
        with (
            pytest.raises(AuditError, match="decision layout"),
            store.recording(source, "alice", now=NOW) as recorder,
        ):
            recorder.add_prepared(prepare_chunk(first))
        assert store.runs() == []


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("reasons", "forged", "what it showed or the input it was made on"),
        # principal reasons stored as the numbers of the decision's own reasons
        ("reason_codes", "1", "what it showed or the input it was made on"),
        ("qualifying_years", 99.0, "what it showed or the input it was made on"),
        ("first_name", "Forged", "what it showed or the input it was made on"),
        ("title", "Forged Manager", "what it showed or the input it was made on"),
        ("outcome", "qualified", "its outcome, row or statuses"),
    ],
)
def test_edits_to_a_block_are_named_down_to_the_decision(
    store_url: str, wide: Path, column: str, value: object, problem: str
) -> None:
    with AuditStore(store_url) as store:
        run_id = record_prepared(store, wide)
        assert store.verify().ok
        applicants = store.final_outcomes(run_id)
        # an applicant with a job, in the second block, whose value differs from the edit
        victim = next(
            a
            for a, outcome in zip(
                applicants["applicant_id"], applicants["engine_outcome"], strict=False
            )
            if outcome != value
            and (record := store.decision(run_id, a)).input_record
            and record.input_record["jobs"]
            and record.decision_id != Tamper(store).blocks(run_id)[0]
        )
        block = Tamper(store).set_value(run_id, victim, column, value)
        problems = store.verify().problems
        assert [(p.record_id, p.applicant_id) for p in problems] == [(block, victim)]
        assert problem in problems[0].problem


def test_an_edited_layout_is_named(store_url: str, wide: Path) -> None:
    with AuditStore(store_url) as store:
        record_prepared(store, wide)
        Tamper(store).sql(
            "UPDATE audit_events SET payload_json = replace(payload_json, 'jobs', 'jobz') "
            "WHERE kind = 'decision_layout'"
        )
        assert [p.problem for p in store.verify().problems] == [
            "edited: its contents no longer match its digest"
        ]


def test_a_block_that_cannot_be_read_is_an_audit_error(store_url: str, wide: Path) -> None:
    with AuditStore(store_url) as store:
        run_id = record_prepared(store, wide)
        applicant_id = store.final_outcomes(run_id)["applicant_id"].iloc[0]
        Tamper(store).edit("audit_blocks", Tamper(store).blocks(run_id)[0], private=b"[1]")
        with pytest.raises(AuditError, match="cannot be read.*audit verify"):
            store.decision(run_id, applicant_id)
        with pytest.raises(AuditError, match="cannot be read.*audit verify"):
            store.input_records(run_id)


def test_principal_reasons_are_stored_once_and_read_back_as_shown(
    store_url: str, wide: Path
) -> None:
    with AuditStore(store_url) as store:
        run_id = record_prepared(store, wide)
        tamper = Tamper(store)
        block = tamper.blocks(run_id)[0]
        detail = tamper._tables(block)[0]
        # the generated decisions' principal reasons are all reasons of their own criteria
        assert detail.column("reasons").null_count == detail.num_rows
        assert detail.column("reason_codes").null_count == 0
        shown = {
            s.applicant_id: s.detail["reasons"]
            for r in chunks(wide)
            for s in r.decision_summaries()
        }
        for applicant_id, reasons in list(shown.items())[:20]:
            assert store.decision(run_id, applicant_id).detail["reasons"] == reasons


def test_reason_codes_that_name_no_criterion_are_an_audit_error(store_url: str, wide: Path) -> None:
    with AuditStore(store_url) as store:
        run_id = record_prepared(store, wide)
        applicant_id = store.final_outcomes(run_id)["applicant_id"].iloc[0]
        Tamper(store).set_value(run_id, applicant_id, "reason_codes", "0,9")
        with pytest.raises(AuditError, match="cannot be read.*name no criterion.*audit verify"):
            store.decision(run_id, applicant_id)
        assert [p.applicant_id for p in store.verify().problems] == [applicant_id]


def test_workers_import_no_database_driver_and_the_cli_no_alembic() -> None:

    light = (
        "import sys; from screening.audit import prepare_chunk, run_source\n"
        "heavy = [m for m in ('sqlalchemy', 'alembic', 'scipy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "import screening.audit.store\n"
        "assert 'alembic' not in sys.modules and 'mako' not in sys.modules\n"
        # a new store is made at the newest revision without Alembic
        "store = screening.audit.store.AuditStore('sqlite:///' + sys.argv[1])\n"
        "assert store.runs() == [] and 'alembic' not in sys.modules\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        run_python(light, str(Path(folder) / "new.db"))


def test_the_schema_head_is_alembics_head() -> None:
    from importlib import resources

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from screening.audit import impact, prepare
    from screening.audit.database import SCHEMA_HEAD

    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("screening.audit") / "migrations")
    )
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD
    assert (prepare.SEX_COLUMN, prepare.RACE_COLUMN) == (impact.SEX_COLUMN, impact.RACE_COLUMN)


def test_awkward_text_is_stored_exactly(store_url: str) -> None:
    # the bulk paths (executemany, PostgreSQL COPY) must keep tabs, newlines, backslashes
    from tests.audit_helpers import FakeResult, applicants

    people = applicants(3)
    people[0].applicant_id = "tab\there"
    people[1].applicant_id = "back\\slash\nnew line\r"
    people[2].sex = "N\\A\t"
    with AuditStore(store_url) as store:
        run_id = store.record_run(FakeResult(people), "alice", now=NOW).run_id
        assert store.verify().ok
        stored = store.final_outcomes(run_id)["applicant_id"].tolist()
        assert stored == [p.applicant_id for p in people]
        record = store.decision(run_id, "back\\slash\nnew line\r")
        assert record.input_record is not None
        assert record.input_record["applicant"]["applicant_id"] == "back\\slash\nnew line\r"


def test_a_compact_run_purges_and_still_verifies(store_url: str, wide: Path) -> None:
    with AuditStore(store_url) as store:
        results = chunks(wide)
        first = next(results)
        old = datetime(2020, 1, 2, tzinfo=UTC)
        with store.recording(run_source(first), "alice", now=old) as recorder:
            for result in [first, *results]:
                recorder.add_prepared(prepare_chunk(result))
        run_id = recorder.summary().run_id
        before = store.impact(run_id).to_dict()
        report = store.purge(now=datetime(2025, 1, 3, tzinfo=UTC))
        assert report.runs == [run_id] and report.decisions == recorder.summary().decisions
        verified = store.verify()
        assert verified.ok and verified.purged_decisions == report.decisions
        applicant = store.final_outcomes(run_id)["applicant_id"].iloc[0]
        record = store.decision(run_id, applicant)
        assert record.detail is None and record.input_record is None and record.statuses
        after = store.impact(run_id).to_dict()
        assert after["source"].startswith("stored at purge")
        assert canonical_json(after["tables"]) == canonical_json(before["tables"])


def test_eeo_answers_are_grouped_by_text_missing_and_blank_as_one() -> None:
    """The impact counts code each answer by its text in order of first appearance: a
    missing answer (None, NaN, NA) and a blank one are one group, 1 and '1' another."""
    answers = np.array([None, "F", "", np.nan, "M", "F", pd.NA, 1, "1"], dtype=object)
    codes, texts = _coded_texts(answers)
    assert texts == ["", "F", "M", "1"]
    assert codes.tolist() == [0, 1, 0, 0, 2, 1, 0, 3, 3]
    assert _coded_texts(np.array([], dtype=object))[1] == []
