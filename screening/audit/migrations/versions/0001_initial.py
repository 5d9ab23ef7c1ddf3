"""Initial audit schema: chain head, runs, decisions, overrides, events, eeo rows.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS_LINK = "0" * 64


def _chained() -> list[sa.Column[str]]:
    return [
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("link", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    """Create every audit table and the chain head row."""
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("link", sa.String(64), nullable=False),
        sa.Column("keyed", sa.Boolean, nullable=True),
        sa.Column("key_id", sa.String(16), nullable=True),
    )
    assert head is not None
    op.bulk_insert(head, [{"id": 1, "seq": 0, "link": GENESIS_LINK}])
    op.create_table(
        "audit_runs",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("spec_id", sa.Text, nullable=False),
        sa.Column("spec_revision", sa.Text, nullable=False),
        sa.Column("spec_sha256", sa.String(64), nullable=False),
        sa.Column("spec_yaml", sa.Text, nullable=False),
        sa.Column("spec_path", sa.Text, nullable=True),
        sa.Column("ruleset_hash", sa.String(64), nullable=False),
        sa.Column("ruleset_json", sa.Text, nullable=False),
        sa.Column("files_json", sa.Text, nullable=False),
        sa.Column("as_of", sa.String(10), nullable=False),
        sa.Column("settings_json", sa.Text, nullable=False),
        sa.Column("engine_version", sa.Text, nullable=False),
        sa.Column("retention_until", sa.String(10), nullable=False),
        *_chained(),
    )
    op.create_table(
        "audit_decisions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("audit_runs.id"), nullable=False),
        sa.Column("applicant_id", sa.Text, nullable=False),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("statuses_json", sa.Text, nullable=False),
        sa.Column("detail_json", sa.Text, nullable=True),
        sa.Column("detail_sha256", sa.String(64), nullable=False),
        sa.Column("input_json", sa.Text, nullable=True),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("purged_at", sa.String(32), nullable=True),
        *_chained(),
        sa.UniqueConstraint("run_id", "applicant_id", name="uq_audit_decisions_run_applicant"),
    )
    op.create_table(
        "audit_overrides",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column(
            "decision_id", sa.BigInteger, sa.ForeignKey("audit_decisions.id"), nullable=False
        ),
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("audit_runs.id"), nullable=False),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("from_outcome", sa.String(16), nullable=False),
        sa.Column("to_outcome", sa.String(16), nullable=False),
        sa.Column("justification", sa.Text, nullable=False),
        *_chained(),
    )
    op.create_index("ix_audit_overrides_run", "audit_overrides", ["run_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("audit_runs.id"), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        *_chained(),
    )
    op.create_index("ix_audit_events_run", "audit_events", ["run_id"])
    op.create_table(
        "audit_eeo",
        sa.Column(
            "decision_id", sa.BigInteger, sa.ForeignKey("audit_decisions.id"), primary_key=True
        ),
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("audit_runs.id"), nullable=False),
        sa.Column("data_json", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_eeo_run", "audit_eeo", ["run_id"])


def downgrade() -> None:
    """Drop every audit table."""
    op.drop_index("ix_audit_eeo_run", "audit_eeo")
    op.drop_table("audit_eeo")
    op.drop_index("ix_audit_events_run", "audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_audit_overrides_run", "audit_overrides")
    op.drop_table("audit_overrides")
    op.drop_table("audit_decisions")
    op.drop_table("audit_runs")
    op.drop_table("audit_chain_head")
