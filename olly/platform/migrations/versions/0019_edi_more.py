"""billing: payee bank accounts (encrypted routing and account numbers) for EFT 835s

Revision ID: 0019_edi_more
Revises: 0017_provider_search
Create Date: 2026-11-23 19:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_edi_more"
down_revision: str | None = "0017_provider_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payee_bank_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payee_id", sa.Uuid(), nullable=False),
        sa.Column("routing_number", sa.LargeBinary(), nullable=False),
        sa.Column("account_number", sa.LargeBinary(), nullable=False),
        sa.Column("account_type", sa.String(length=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payee_bank_accounts")),
        sa.UniqueConstraint("tenant_id", "payee_id", name=op.f("uq_payee_bank_accounts_tenant_id_payee_id")),
        schema="billing",
    )
    op.create_index(
        op.f("ix_payee_bank_accounts_tenant_id"), "payee_bank_accounts", ["tenant_id"], unique=False, schema="billing"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payee_bank_accounts_tenant_id"), table_name="payee_bank_accounts", schema="billing")
    op.drop_table("payee_bank_accounts", schema="billing")
