"""billing: a re-adjudicated claim is paid the difference (claim_payables.part, adjudication_sequence
and reverses_sequence; claim_recoveries.part and adjudication_sequence; both unique per claim and part)

Revision ID: 0027_claim_readjudication
Revises: 0026_cobra_cases
Create Date: 2026-11-23 23:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_claim_readjudication"
down_revision: str | None = "0026_cobra_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    """SQLite keeps every domain in one database: its tables carry no schema name."""
    return None if op.get_bind().dialect.name == "sqlite" else "billing"


def upgrade() -> None:
    # Rows written before are each their claim's only one: part 0, no adjudication sequence known.
    with op.batch_alter_table("claim_payables", schema=_schema()) as batch:
        batch.add_column(sa.Column("part", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("adjudication_sequence", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reverses_sequence", sa.Integer(), nullable=True))
        batch.drop_constraint("uq_claim_payables_tenant_id_claim_id", type_="unique")
        batch.create_unique_constraint(
            batch.f("uq_claim_payables_tenant_id_claim_id_part"), ["tenant_id", "claim_id", "part"]
        )
    with op.batch_alter_table("claim_recoveries", schema=_schema()) as batch:
        batch.add_column(sa.Column("part", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("adjudication_sequence", sa.Integer(), nullable=True))
        batch.drop_constraint("uq_claim_recoveries_tenant_id_claim_id", type_="unique")
        batch.create_unique_constraint(
            batch.f("uq_claim_recoveries_tenant_id_claim_id_part"), ["tenant_id", "claim_id", "part"]
        )


def downgrade() -> None:
    # Refused by the database while a claim has a supplement or a re-adjudication's recovery.
    with op.batch_alter_table("claim_recoveries", schema=_schema()) as batch:
        batch.drop_constraint("uq_claim_recoveries_tenant_id_claim_id_part", type_="unique")
        batch.create_unique_constraint(batch.f("uq_claim_recoveries_tenant_id_claim_id"), ["tenant_id", "claim_id"])
        batch.drop_column("adjudication_sequence")
        batch.drop_column("part")
    with op.batch_alter_table("claim_payables", schema=_schema()) as batch:
        batch.drop_constraint("uq_claim_payables_tenant_id_claim_id_part", type_="unique")
        batch.create_unique_constraint(batch.f("uq_claim_payables_tenant_id_claim_id"), ["tenant_id", "claim_id"])
        batch.drop_column("reverses_sequence")
        batch.drop_column("adjudication_sequence")
        batch.drop_column("part")
