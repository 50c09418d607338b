"""billing: reinstatement after a lapse and adjustment lines (grace_periods.reinstate_until,
invoice_lines.kind; a line is unique per policy term, period and kind, adjustments excepted)

Revision ID: 0016_reinstatement
Revises: 0015_edi_gateway
Create Date: 2026-11-23 19:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_reinstatement"
down_revision: str | None = "0015_edi_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    """SQLite keeps every domain in one database: its tables carry no schema name."""
    return None if op.get_bind().dialect.name == "sqlite" else "billing"


def upgrade() -> None:
    with op.batch_alter_table("grace_periods", schema=_schema()) as batch:
        batch.add_column(sa.Column("reinstate_until", sa.Date(), nullable=True))
    with op.batch_alter_table("invoice_lines", schema=_schema()) as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), server_default="PREMIUM", nullable=False))
        batch.drop_constraint("uq_invoice_lines_tenant_id_policy_id_term_id_period_start", type_="unique")
    op.create_index(
        "uq_invoice_lines_billed_once",
        "invoice_lines",
        ["tenant_id", "policy_id", "term_id", "period_start", "kind"],
        unique=True,
        schema=_schema(),
        sqlite_where=sa.text("kind != 'ADJUSTMENT'"),
        postgresql_where=sa.text("kind != 'ADJUSTMENT'"),
    )


def downgrade() -> None:
    op.drop_index("uq_invoice_lines_billed_once", table_name="invoice_lines", schema=_schema())
    # Refused by the database while REINSTATEMENT or ADJUSTMENT lines repeat a billed month.
    with op.batch_alter_table("invoice_lines", schema=_schema()) as batch:
        batch.create_unique_constraint(
            batch.f("uq_invoice_lines_tenant_id_policy_id_term_id_period_start"),
            ["tenant_id", "policy_id", "term_id", "period_start"],
        )
        batch.drop_column("kind")
    with op.batch_alter_table("grace_periods", schema=_schema()) as batch:
        batch.drop_column("reinstate_until")
