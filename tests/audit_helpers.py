"""Shared pieces of the audit tests: screening results built by hand, store URLs.

Tests use a real PostgreSQL server when SCREENING_TEST_POSTGRES_URL is set or one answers
on 127.0.0.1:5432; each PostgreSQL test gets a fresh schema.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from screening.results import CriterionResult, Decision, Outcome, Status
from screening.spec import JobSpec, load_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "rules" / "alameda-7616-account-manager.yaml"
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def spec() -> JobSpec:
    """The Alameda Account Manager spec (criteria: education, experience, license)."""
    return load_spec(SPEC_PATH)


@dataclass
class InputFile:
    role: str
    path: str
    sha256: str
    rows: int


@dataclass
class Applicant:
    """One hand-made applicant: outcome, criterion statuses, eeo answers, input record."""

    applicant_id: str
    outcome: Outcome
    education: Status
    experience: Status
    sex: str | None = None
    race: str | None = None
    years: float = 0.0


@dataclass
class FakeResult:
    """A ScreeningResult as the pipeline provides it, built from Applicants."""

    applicants: list[Applicant]
    spec: JobSpec = field(default_factory=spec)
    spec_path: str | None = str(SPEC_PATH)
    ruleset: dict[str, Any] = field(default_factory=lambda: {"account_manager": {"r1": {}}})
    ruleset_hash: str = "ab" * 32
    as_of: date = date(2026, 3, 1)
    requires_driving: bool = False
    files: list[InputFile] = field(
        default_factory=lambda: [InputFile("applicants", "applicants.csv", "cd" * 32, 3)]
    )

    @property
    def eeo(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "applicant_id": [a.applicant_id for a in self.applicants],
                "eeo_sex": [a.sex for a in self.applicants],
                "eeo_race_ethnicity": [a.race for a in self.applicants],
            }
        )

    def decisions(self) -> Iterator[Decision]:
        for row, a in enumerate(self.applicants, start=2):
            yield make_decision(a, row)

    def input_records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for a in self.applicants:
            yield a.applicant_id, input_record(a)


def input_record(a: Applicant) -> dict[str, Any]:
    return {
        "applicant": {"applicant_id": a.applicant_id, "first_name": f"Name{a.applicant_id}"},
        "jobs": [
            {
                "title": "Key Account Manager",
                "employer": "SMUD",
                "industry": "Electric utility",
                "start": "2020-03",
                "end": "present",
            }
        ],
        "education": [{"degree": "BA", "major": "Business Administration"}],
    }


def make_decision(a: Applicant, row: int) -> Decision:
    return Decision(
        applicant_id=a.applicant_id,
        row=row,
        outcome=a.outcome,
        pattern="typical",
        qualifying_years=a.years,
        possible_years=a.years,
        criteria=[
            CriterionResult(
                id="typical.education",
                kind="education",
                pattern="typical",
                status=a.education,
                reason=f"Education: {a.education.value}",
                values={"level": "bachelor"},
            ),
            CriterionResult(
                id="typical.experience",
                kind="experience",
                pattern="typical",
                status=a.experience,
                reason=f"Experience: {a.years} of 3 required years",
                values={"years": a.years},
            ),
            CriterionResult(
                id="ca_drivers_license",
                kind="license",
                status=Status.condition,
                reason="valid California driver's license required at appointment",
            ),
        ],
        reasons=[f"Experience: {a.years} of 3 required years"],
    )


def applicants(n: int, prefix: str = "A") -> list[Applicant]:
    """n applicants cycling through outcomes and groups (a fixed, readable pattern)."""
    outcomes = [Outcome.qualified, Outcome.not_qualified, Outcome.qualified, Outcome.needs_review]
    sexes = ["Female", "Male", None, "Female", "Male"]
    races = ["Asian", "White", "Hispanic or Latino", "Decline to state"]
    people = []
    for i in range(n):
        outcome = outcomes[i % len(outcomes)]
        experience = {
            Outcome.qualified: Status.met,
            Outcome.not_qualified: Status.not_met,
            Outcome.needs_review: Status.review,
        }[outcome]
        people.append(
            Applicant(
                f"{prefix}{i:05d}",
                outcome,
                Status.met if i % 3 else Status.substituted,
                experience,
                sexes[i % len(sexes)],
                races[i % len(races)],
                years=3.0 if outcome is Outcome.qualified else 1.5,
            )
        )
    return people


def postgres_url() -> str | None:
    """The PostgreSQL server to test against, or None when there is none."""
    url = os.environ.get("SCREENING_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        engine = sa.create_engine(DEFAULT_POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.OperationalError:
        return None
    return DEFAULT_POSTGRES_URL


BACKENDS = ["sqlite", "postgresql"]


def _fresh_postgres(base: str) -> Iterator[str]:
    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def another_store_url(first: str, folder: Path) -> Iterator[str]:
    """A second fresh, empty audit database of the same kind as the store at ``first``
    (SQLite: a new file in ``folder``; PostgreSQL: a new schema, dropped after)."""
    if first.startswith("sqlite"):
        yield f"sqlite:///{folder / f'another-{uuid.uuid4().hex[:8]}.db'}"
        return
    base = postgres_url()
    assert base is not None, "a PostgreSQL store URL with no server to make another on"
    yield from _fresh_postgres(base)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty audit database URL: SQLite in a temp dir, or a new PG schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip("no PostgreSQL server reachable and SCREENING_TEST_POSTGRES_URL not set")
    yield from _fresh_postgres(base)


# ---------------------------------------------------------------- tampering
# Every test that edits the store by hand does it through `Tamper`, so that a change of the
# record format changes this class only. Each method is what an attacker with write access
# to the database would do with plain SQL (and, for re-hashing, the published algorithms).


class Tamper:
    """Direct edits of an audit store's tables, behind the package's back."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.engine: sa.Engine = store.engine

    def sql(self, *statements: str, **params: Any) -> None:
        """Run SQL statements in one transaction."""
        with self.engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement), params)

    # -- blocks of decisions (format 3)

    def block_of(self, run_id: int, applicant_id: str) -> tuple[int, int]:
        """(block id, position) of an applicant's decision."""
        from screening.audit.blocks import from_ipc

        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, kept FROM audit_blocks WHERE run_id = :r ORDER BY id"),
                {"r": run_id},
            ).all()
        for block_id, kept in rows:
            ids = from_ipc(bytes(kept)).column("applicant_id").to_pylist()
            if applicant_id in ids:
                return int(block_id), ids.index(applicant_id)
        raise KeyError(applicant_id)

    def blocks(self, run_id: int) -> list[int]:
        with self.engine.connect() as conn:
            return [
                int(i)
                for i in conn.execute(
                    sa.text("SELECT id FROM audit_blocks WHERE run_id = :r ORDER BY id"),
                    {"r": run_id},
                ).scalars()
            ]

    def _rewrite(self, block_id: int, part: str, edit: Any) -> None:
        """Decode a block part, let `edit` change the tables, store it re-encoded."""
        from screening.audit.blocks import from_ipc, pack, to_ipc, unpack

        with self.engine.begin() as conn:
            blob = bytes(
                conn.execute(
                    sa.text(f"SELECT {part} FROM audit_blocks WHERE id = :b"), {"b": block_id}
                ).scalar_one()
            )
            new = (
                to_ipc(edit([from_ipc(blob)])[0])
                if part == "kept"
                else pack(edit(unpack(blob)), self._rows(block_id))
            )
            conn.execute(
                sa.text(f"UPDATE audit_blocks SET {part} = :v WHERE id = :b"),
                {"v": new, "b": block_id},
            )

    def set_value(self, run_id: int, applicant_id: str, column: str, value: Any) -> int:
        """Change one stored value of a decision (kept columns: outcome, row, status:…;
        otherwise the first private table holding the column, in a table of job or
        education rows the applicant's first). Returns the block id."""
        import pyarrow as pa

        block_id, position = self.block_of(run_id, applicant_id)

        def edit(tables: list[pa.Table]) -> list[pa.Table]:
            for index, table in enumerate(tables):
                if column in table.column_names:
                    values = table.column(column).to_pylist()
                    row = position
                    if "owner" in table.column_names:  # job or education rows: its first
                        row = table.column("owner").to_pylist().index(position)
                    values[row] = value
                    where = table.column_names.index(column)
                    tables[index] = table.set_column(
                        where, column, pa.array(values, type=table.schema.field(column).type)
                    )
                    return tables
            raise KeyError(column)

        kept = column in ("applicant_id", "row", "outcome") or column.startswith("status:")
        self._rewrite(block_id, "kept" if kept else "private", edit)
        return block_id

    def replace_text(self, run_id: int, applicant_id: str, column: str, old: str, new: str) -> int:
        """Replace text inside one stored value of a decision."""
        block_id, position = self.block_of(run_id, applicant_id)
        for table in self._tables(block_id):
            if column in table.column_names:
                text = str(table.column(column)[position].as_py())
                assert old in text, (old, text)
                return self.set_value(run_id, applicant_id, column, text.replace(old, new))
        raise KeyError(column)

    def _tables(self, block_id: int) -> list[Any]:
        from screening.audit.blocks import unpack

        with self.engine.connect() as conn:
            blob = conn.execute(
                sa.text("SELECT private FROM audit_blocks WHERE id = :b"), {"b": block_id}
            ).scalar_one()
        return unpack(bytes(blob))

    def _rows(self, block_id: int) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT decisions FROM audit_blocks WHERE id = :b"), {"b": block_id}
                ).scalar_one()
            )

    def remove_private(self, block_id: int) -> None:
        """Drop a block's details and inputs without a purge."""
        self.sql("UPDATE audit_blocks SET private = NULL WHERE id = :b", b=block_id)

    def delete_block(self, block_id: int) -> None:
        """Delete a block and its eeo answers."""
        self.sql(
            "DELETE FROM audit_eeo_blocks WHERE block_id = :b",
            "DELETE FROM audit_blocks WHERE id = :b",
            b=block_id,
        )

    def swap_blocks(self, first: int, second: int) -> None:
        """Two blocks trade everything but their ids (their place in the chain)."""
        table = sa.Table("audit_blocks", sa.MetaData(), autoload_with=self.engine)
        eeo = sa.Table("audit_eeo_blocks", sa.MetaData(), autoload_with=self.engine)
        with self.engine.begin() as conn:
            rows = {
                i: dict(conn.execute(sa.select(table).where(table.c.id == i)).mappings().one())
                for i in (first, second)
            }
            answers = {
                i: conn.execute(sa.select(eeo.c.data).where(eeo.c.block_id == i)).scalar()
                for i in (first, second)
            }
            for target, source in ((first, second), (second, first)):
                values = {k: v for k, v in rows[source].items() if k != "id"}
                conn.execute(table.update().where(table.c.id == target).values(**values))
                conn.execute(
                    eeo.update().where(eeo.c.block_id == target).values(data=answers[source])
                )

    def rehash_block(self, block_id: int) -> None:
        """After an edit, recompute the block's leaves, digest and link with plain SHA-256
        (everything an attacker without the key can do); later links are left alone."""
        from screening.audit.blocks import from_ipc, join_leaves, leaves_of, unpack
        from screening.audit.chain import Linker, record_digest
        from screening.audit.writer import KINDS

        table = KINDS["block"].table
        with self.engine.begin() as conn:
            row = dict(
                conn.execute(sa.select(table).where(table.c.id == block_id)).mappings().one()
            )
            kept = from_ipc(bytes(row["kept"]))
            private = None if row["private"] is None else unpack(bytes(row["private"]))
            kept_leaves, private_leaves = leaves_of(kept, private)
            row["leaves"] = join_leaves(kept_leaves, private_leaves)
            digest = record_digest("block", block_id, row["run_id"], KINDS["block"].content(row))
            previous = self._previous_link(conn, block_id)
            link = Linker(None).link(previous, digest)
            conn.execute(
                table.update()
                .where(table.c.id == block_id)
                .values(leaves=row["leaves"], digest=digest, link=link)
            )

    def _previous_link(self, conn: sa.Connection, seq: int) -> str:
        from screening.audit.chain import GENESIS_LINK
        from screening.audit.writer import KINDS

        for kind in KINDS.values():
            link = conn.execute(
                sa.select(kind.table.c.link).where(kind.table.c.id == seq - 1)
            ).scalar()
            if link is not None:
                return str(link)
        return GENESIS_LINK

    # -- any chained record

    def edit(self, table: str, record_id: int, **values: Any) -> None:
        """Set columns of one chained record (runs, overrides, events, old decisions)."""
        sets = ", ".join(f"{k} = :{k}" for k in values)
        self.sql(f"UPDATE {table} SET {sets} WHERE id = :id", id=record_id, **values)

    def delete(self, table: str, record_id: int) -> None:
        self.sql(f"DELETE FROM {table} WHERE id = :id", id=record_id)

    def move(self, table: str, record_id: int, new_id: int) -> None:
        self.sql(f"UPDATE {table} SET id = :n WHERE id = :id", id=record_id, n=new_id)

    def edit_eeo(self, run_id: int) -> None:
        """Change one eeo answer of a run."""
        import pyarrow as pa

        from screening.audit.blocks import from_ipc, to_ipc

        with self.engine.begin() as conn:
            block_id, data = conn.execute(
                sa.text(
                    "SELECT block_id, data FROM audit_eeo_blocks WHERE run_id = :r "
                    "ORDER BY block_id LIMIT 1"
                ),
                {"r": run_id},
            ).one()
            table = from_ipc(bytes(data))
            values = table.column("eeo_sex").to_pylist()
            values[0] = "Male" if values[0] != "Male" else "Female"
            table = table.set_column(
                table.column_names.index("eeo_sex"), "eeo_sex", pa.array(values, pa.string())
            )
            conn.execute(
                sa.text("UPDATE audit_eeo_blocks SET data = :d WHERE block_id = :b"),
                {"d": to_ipc(table), "b": block_id},
            )

    def relink_all(self, key: bytes | None = None, *, claim_unkeyed: bool = False) -> str:
        """Recompute every digest and link from the first record (plain SHA-256, or HMAC
        under `key`), the head too; optionally mark the head as unkeyed. Returns the head."""
        link = self.relink_from(1, key)
        if claim_unkeyed:
            self.sql("UPDATE audit_chain_head SET keyed = :k, key_id = NULL WHERE id = 1", k=False)
        return link

    def relink_from(self, seq: int, key: bytes | None = None) -> str:
        """Recompute the digest and link of every record from `seq` on (plain SHA-256 or
        HMAC under `key`) and the head: what an attacker does after an edit."""
        from screening.audit.chain import Linker, record_digest
        from screening.audit.writer import KINDS

        with self.engine.begin() as conn:
            rows = []
            for kind in KINDS.values():
                for row in conn.execute(
                    sa.select(kind.table).where(kind.table.c.id >= seq)
                ).mappings():
                    rows.append((int(row["id"]), kind, dict(row)))
            link = self._previous_link(conn, seq)
            linker = Linker(key)
            for current, kind, row in sorted(rows, key=lambda r: r[0]):
                parent = row[kind.parent] if kind.parent else None
                values: dict[str, Any] = {}
                if kind.name == "block":
                    from screening.audit.blocks import from_ipc, join_leaves, leaves_of, unpack

                    kept = from_ipc(bytes(row["kept"]))
                    private = None if row["private"] is None else unpack(bytes(row["private"]))
                    row["leaves"] = values["leaves"] = join_leaves(*leaves_of(kept, private))
                digest = record_digest(kind.name, current, parent, kind.content(row))
                link = linker.link(link, digest)
                values.update(digest=digest, link=link)
                conn.execute(kind.table.update().where(kind.table.c.id == current).values(**values))
            conn.execute(sa.text("UPDATE audit_chain_head SET link = :l WHERE id = 1"), {"l": link})
        return link
