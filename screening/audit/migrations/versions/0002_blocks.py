"""Decision blocks (format 3): add tables and override columns; no recorded row changes.

Runs recorded before keep their rows and links as they are (a noted head still verifies);
new runs store their decisions in ``audit_blocks`` and chain after the old head.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the block tables; let an override name a block decision."""
    op.create_table(
        "audit_blocks",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("audit_runs.id"), nullable=False),
        sa.Column("first", sa.BigInteger, nullable=False),
        sa.Column("decisions", sa.Integer, nullable=False),
        sa.Column("min_applicant", sa.Text, nullable=False),
        sa.Column("max_applicant", sa.Text, nullable=False),
        sa.Column("kept", sa.LargeBinary, nullable=False),
        sa.Column("private", sa.LargeBinary, nullable=True),
        sa.Column("leaves", sa.LargeBinary, nullable=False),
        sa.Column("purged_at", sa.String(32), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("link", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_blocks_run", "audit_blocks", ["run_id"])
    op.create_table(
        "audit_eeo_blocks",
        sa.Column("block_id", sa.BigInteger, sa.ForeignKey("audit_blocks.id"), primary_key=True),
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("audit_runs.id"), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_audit_eeo_blocks_run", "audit_eeo_blocks", ["run_id"])
    # SQLite cannot drop NOT NULL in place: batch mode copies the table, rows unchanged
    with op.batch_alter_table("audit_overrides") as batch:
        batch.alter_column("decision_id", existing_type=sa.BigInteger, nullable=True)
        batch.add_column(sa.Column("block_id", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("applicant_id", sa.Text, nullable=True))
        batch.create_foreign_key("fk_audit_overrides_block", "audit_blocks", ["block_id"], ["id"])


def downgrade() -> None:
    """Drop the block tables and override columns (only for a store with no block runs)."""
    with op.batch_alter_table("audit_overrides") as batch:
        batch.drop_constraint("fk_audit_overrides_block", type_="foreignkey")
        batch.drop_column("applicant_id")
        batch.drop_column("block_id")
        batch.alter_column("decision_id", existing_type=sa.BigInteger, nullable=False)
    op.drop_index("ix_audit_eeo_blocks_run", "audit_eeo_blocks")
    op.drop_table("audit_eeo_blocks")
    op.drop_index("ix_audit_blocks_run", "audit_blocks")
    op.drop_table("audit_blocks")
