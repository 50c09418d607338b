"""billing: a provider payee is its billing NPI (claim_payables, claim_payments and claim_recoveries
get payee_npi, filled from the claims they concern), so a payment run pays one NPI once whatever
provider ids its claims carry

Revision ID: 0025_payee_npi
Revises: 0024_party_gender
Create Date: 2026-11-23 22:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_payee_npi"
down_revision: str | None = "0024_party_gender"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema(name: str) -> str | None:
    # SQLite keeps every domain in one database: its tables carry no schema.
    return None if op.get_bind().dialect.name == "sqlite" else name


def upgrade() -> None:
    billing = _schema("billing")
    for table in ("claim_payables", "claim_payments", "claim_recoveries"):
        op.add_column(table, sa.Column("payee_npi", sa.String(length=10), nullable=True), schema=billing)
    op.create_index("ix_claim_payables_payee_npi", "claim_payables", ["tenant_id", "payee_npi"], schema=billing)
    op.create_index("ix_claim_payments_payee_npi", "claim_payments", ["tenant_id", "payee_npi"], schema=billing)

    # Rows written before: a provider payee's NPI is its claim's billing NPI (claims keeps it in clear).
    claims = sa.table(
        "claims", sa.column("id"), sa.column("tenant_id"), sa.column("billing_npi"), schema=_schema("claims")
    )
    for name in ("claim_payables", "claim_recoveries"):
        table = sa.table(
            name,
            sa.column("claim_id"),
            sa.column("tenant_id"),
            sa.column("payee"),
            sa.column("payee_npi"),
            schema=billing,
        )
        npi = (
            sa.select(claims.c.billing_npi)
            .where(claims.c.id == table.c.claim_id, claims.c.tenant_id == table.c.tenant_id)
            .scalar_subquery()
        )
        op.execute(table.update().where(table.c.payee == "PROVIDER").values(payee_npi=npi))
    payables = sa.table(
        "claim_payables", sa.column("claim_payment_id"), sa.column("tenant_id"), sa.column("payee_npi"), schema=billing
    )
    payments = sa.table(
        "claim_payments",
        sa.column("id"),
        sa.column("tenant_id"),
        sa.column("payee"),
        sa.column("payee_npi"),
        schema=billing,
    )
    paid_npi = (
        sa.select(sa.func.max(payables.c.payee_npi))
        .where(payables.c.claim_payment_id == payments.c.id, payables.c.tenant_id == payments.c.tenant_id)
        .scalar_subquery()
    )
    op.execute(payments.update().where(payments.c.payee == "PROVIDER").values(payee_npi=paid_npi))


def downgrade() -> None:
    billing = _schema("billing")
    op.drop_index("ix_claim_payments_payee_npi", table_name="claim_payments", schema=billing)
    op.drop_index("ix_claim_payables_payee_npi", table_name="claim_payables", schema=billing)
    for table in ("claim_recoveries", "claim_payments", "claim_payables"):
        with op.batch_alter_table(table, schema=billing) as batch:
            batch.drop_column("payee_npi")
