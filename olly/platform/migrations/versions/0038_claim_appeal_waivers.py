"""claims: the denials an overturned appeal set aside, line by line, so every later adjudication of
the claim passes them

Revision ID: 0038_claim_appeal_waivers
Revises: 0037_claim_provider_periods
Create Date: 2026-11-25 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038_claim_appeal_waivers"
down_revision: str | None = "0037_claim_provider_periods"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claim_appeal_waivers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("carc", sa.String(length=8), nullable=False),
        sa.Column("waived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_appeal_waivers")),
        sa.UniqueConstraint(
            "claim_id", "line_number", "carc", name=op.f("uq_claim_appeal_waivers_claim_id_line_number_carc")
        ),
        schema="claims",
    )
    op.create_index(
        op.f("ix_claim_appeal_waivers_claim_id"), "claim_appeal_waivers", ["claim_id"], unique=False, schema="claims"
    )
    op.create_index(
        op.f("ix_claim_appeal_waivers_tenant_id"), "claim_appeal_waivers", ["tenant_id"], unique=False, schema="claims"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_claim_appeal_waivers_tenant_id"), table_name="claim_appeal_waivers", schema="claims")
    op.drop_index(op.f("ix_claim_appeal_waivers_claim_id"), table_name="claim_appeal_waivers", schema="claims")
    op.drop_table("claim_appeal_waivers", schema="claims")
