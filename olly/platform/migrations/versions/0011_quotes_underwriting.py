"""enrollment: quotes and underwriting flags

Revision ID: 0011_quotes_underwriting
Revises: 0005_provider
Create Date: 2026-11-23 09:48:38.663672
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_quotes_underwriting"
down_revision: str | None = "0005_provider"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quotes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("market", sa.String(length=16), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(length=40), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("tier_code", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_premium_minor", sa.BigInteger(), nullable=False),
        sa.Column("member_premium_minor", sa.BigInteger(), nullable=False),
        sa.Column("premium_period", sa.String(length=8), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
        schema="enrollment",
    )
    op.create_index(op.f("ix_quotes_tenant_id"), "quotes", ["tenant_id"], unique=False, schema="enrollment")
    op.create_table(
        "underwriting_flags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("flag", sa.String(length=32), nullable=False),
        sa.Column("waiting_period_months", sa.Integer(), nullable=True),
        sa.Column("loading_percent", sa.Integer(), nullable=True),
        sa.Column("detail", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["enrollment.policies.id"], name=op.f("fk_underwriting_flags_policy_id_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_underwriting_flags")),
        schema="enrollment",
    )
    op.create_index(
        op.f("ix_underwriting_flags_party_id"), "underwriting_flags", ["party_id"], unique=False, schema="enrollment"
    )
    op.create_index(
        op.f("ix_underwriting_flags_policy_id"), "underwriting_flags", ["policy_id"], unique=False, schema="enrollment"
    )
    op.create_index(
        op.f("ix_underwriting_flags_tenant_id"), "underwriting_flags", ["tenant_id"], unique=False, schema="enrollment"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_underwriting_flags_tenant_id"), table_name="underwriting_flags", schema="enrollment")
    op.drop_index(op.f("ix_underwriting_flags_policy_id"), table_name="underwriting_flags", schema="enrollment")
    op.drop_index(op.f("ix_underwriting_flags_party_id"), table_name="underwriting_flags", schema="enrollment")
    op.drop_table("underwriting_flags", schema="enrollment")
    op.drop_index(op.f("ix_quotes_tenant_id"), table_name="quotes", schema="enrollment")
    op.drop_table("quotes", schema="enrollment")
