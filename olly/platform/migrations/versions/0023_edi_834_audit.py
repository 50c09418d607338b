"""edi: 834 audit reconciliations, and the partner setting that lets an audit apply what differs

Revision ID: 0023_edi_834_audit
Revises: 0022_directory_prefix_tokens
Create Date: 2026-11-23 22:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_edi_834_audit"
down_revision: str | None = "0022_directory_prefix_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    """SQLite keeps every domain in one database: its tables carry no schema name."""
    return None if op.get_bind().dialect.name == "sqlite" else "edi"


def upgrade() -> None:
    with op.batch_alter_table("trading_partners", schema=_schema()) as batch:
        batch.add_column(sa.Column("apply_audit_changes", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "edi_reconciliations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=True),
        sa.Column("interchange_control_number", sa.String(length=9), nullable=False),
        sa.Column("set_control_number", sa.String(length=9), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("full_file", sa.Boolean(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("findings", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edi_reconciliations")),
        schema="edi",
    )
    op.create_index(
        "ix_edi_reconciliations_file", "edi_reconciliations", ["tenant_id", "file_id"], unique=False, schema="edi"
    )
    op.create_index(
        op.f("ix_edi_reconciliations_tenant_id"), "edi_reconciliations", ["tenant_id"], unique=False, schema="edi"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_edi_reconciliations_tenant_id"), table_name="edi_reconciliations", schema="edi")
    op.drop_index("ix_edi_reconciliations_file", table_name="edi_reconciliations", schema="edi")
    op.drop_table("edi_reconciliations", schema="edi")
    with op.batch_alter_table("trading_partners", schema=_schema()) as batch:
        batch.drop_column("apply_audit_changes")
