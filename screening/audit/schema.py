"""Tables of the audit store.

Every chained record (run, decision block, override, event; the decision rows of runs
recorded before blocks) takes its primary key from the one global audit chain: its id *is*
its sequence number, so the order of the whole log is well defined across tables. Text
columns hold the exact JSON text that was hashed (never a JSON column type: PostgreSQL's
jsonb would reformat it and break the digests), and times and dates are ISO 8601 text in
UTC for the same reason.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

#: The chain's current end: one row (id = 1), locked by every append.
chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("link", String(64), nullable=False),
    #: None until the first append; then whether links are HMACs (SCREENING_AUDIT_KEY).
    Column("keyed", Boolean, nullable=True),
    Column("key_id", String(16), nullable=True),
)

runs = Table(
    "audit_runs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", String(32), nullable=False),
    Column("user_name", Text, nullable=False),
    Column("spec_id", Text, nullable=False),
    Column("spec_revision", Text, nullable=False),
    Column("spec_sha256", String(64), nullable=False),
    Column("spec_yaml", Text, nullable=False),
    Column("spec_path", Text, nullable=True),
    Column("ruleset_hash", String(64), nullable=False),
    Column("ruleset_json", Text, nullable=False),
    Column("files_json", Text, nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("settings_json", Text, nullable=False),
    Column("engine_version", Text, nullable=False),
    Column("retention_until", String(10), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("link", String(64), nullable=False),
)

decisions = Table(
    "audit_decisions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_id", BigInteger, ForeignKey("audit_runs.id"), nullable=False),
    Column("applicant_id", Text, nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    #: {criterion id: status}: kept after purge for the aggregate report.
    Column("statuses_json", Text, nullable=False),
    #: the full explained decision (values, reasons, evidence); purged at end of retention.
    Column("detail_json", Text, nullable=True),
    Column("detail_sha256", String(64), nullable=False),
    #: the normalised input record the decision was made on; purged at end of retention.
    Column("input_json", Text, nullable=True),
    Column("input_sha256", String(64), nullable=False),
    Column("purged_at", String(32), nullable=True),
    Column("digest", String(64), nullable=False),
    Column("link", String(64), nullable=False),
    UniqueConstraint("run_id", "applicant_id", name="uq_audit_decisions_run_applicant"),
)

overrides = Table(
    "audit_overrides",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    #: the decision of a run stored row by row (formats 1 and 2) ...
    Column("decision_id", BigInteger, ForeignKey("audit_decisions.id"), nullable=True),
    Column("run_id", BigInteger, ForeignKey("audit_runs.id"), nullable=False),
    Column("reviewer", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("from_outcome", String(16), nullable=False),
    Column("to_outcome", String(16), nullable=False),
    Column("justification", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("link", String(64), nullable=False),
    #: ... or the block and applicant of a run stored in blocks (formats 3 and 4; added
    #: last by migration 0002, with its foreign key's name)
    Column(
        "block_id",
        BigInteger,
        ForeignKey("audit_blocks.id", name="fk_audit_overrides_block"),
        nullable=True,
    ),
    Column("applicant_id", Text, nullable=True),
    Index("ix_audit_overrides_run", "run_id"),
)

#: Legal hold on/off, purges and stored impact summaries: state changes kept as events so
#: that nothing chained is ever updated.
events = Table(
    "audit_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_id", BigInteger, ForeignKey("audit_runs.id"), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("user_name", Text, nullable=False),
    Column("payload_json", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("link", String(64), nullable=False),
    Index("ix_audit_events_run", "run_id"),
)

#: Voluntary self-identification, apart from the decisions; read only by the impact report.
eeo = Table(
    "audit_eeo",
    metadata,
    Column("decision_id", BigInteger, ForeignKey("audit_decisions.id"), primary_key=True),
    Column("run_id", BigInteger, ForeignKey("audit_runs.id"), nullable=False),
    Column("data_json", Text, nullable=False),
    Index("ix_audit_eeo_run", "run_id"),
)


#: Decisions of a run, one chained record per screened chunk (formats 3 and 4): compressed
#: columns, and per decision the hashes that name an altered one (screening.audit.blocks).
blocks = Table(
    "audit_blocks",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_id", BigInteger, ForeignKey("audit_runs.id"), nullable=False),
    #: position of the block's first decision in its run, and how many it holds
    Column("first", BigInteger, nullable=False),
    Column("decisions", Integer, nullable=False),
    #: smallest and largest applicant id: the index that finds one applicant's block
    Column("min_applicant", Text, nullable=False),
    Column("max_applicant", Text, nullable=False),
    #: applicant ids, rows, outcomes, statuses: kept after purge for the aggregate report
    Column("kept", LargeBinary, nullable=False),
    #: the decisions as shown and the input they were made on; purged at end of retention
    Column("private", LargeBinary, nullable=True),
    Column("leaves", LargeBinary, nullable=False),
    Column("purged_at", String(32), nullable=True),
    Column("digest", String(64), nullable=False),
    Column("link", String(64), nullable=False),
    Index("ix_audit_blocks_run", "run_id"),
)

#: Voluntary self-identification of a block's decisions, apart from them.
eeo_blocks = Table(
    "audit_eeo_blocks",
    metadata,
    Column("block_id", BigInteger, ForeignKey("audit_blocks.id"), primary_key=True),
    Column("run_id", BigInteger, ForeignKey("audit_runs.id"), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_audit_eeo_blocks_run", "run_id"),
)

CHAINED_TABLES = (runs, decisions, overrides, events, blocks)
