"""billing: what each claim payment took back of each recovery (the 835's PLB names the claim)

Revision ID: 0034_claim_recovery_applications
Revises: 0033_party_group_registrations
Create Date: 2026-11-25 00:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034_claim_recovery_applications"
down_revision: str | None = "0033_party_group_registrations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = ("tenant_id", "recovery_id", "claim_payment_id")


def upgrade() -> None:
    op.create_table(
        "claim_recovery_applications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recovery_id", sa.Uuid(), nullable=False),
        sa.Column("claim_payment_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_recovery_applications")),
        schema="billing",
    )
    for column in _INDEXES:
        op.create_index(
            op.f(f"ix_claim_recovery_applications_{column}"),
            "claim_recovery_applications",
            [column],
            unique=False,
            schema="billing",
        )


def downgrade() -> None:
    for column in reversed(_INDEXES):
        op.drop_index(
            op.f(f"ix_claim_recovery_applications_{column}"), table_name="claim_recovery_applications", schema="billing"
        )
    op.drop_table("claim_recovery_applications", schema="billing")
