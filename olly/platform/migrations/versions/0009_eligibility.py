"""eligibility: coverage read model

Revision ID: 0009_eligibility
Revises: 0007_enrollment
Create Date: 2026-11-23 09:00:19.751739
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_eligibility"
down_revision: str | None = "0007_enrollment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coverage_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("subscriber_party_id", sa.Uuid(), nullable=False),
        sa.Column("market", sa.String(length=16), nullable=False),
        sa.Column("policy_status", sa.String(length=24), nullable=False),
        sa.Column("relationship", sa.String(length=24), nullable=False),
        sa.Column("member_number", sa.LargeBinary(), nullable=False),
        sa.Column("member_number_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(length=40), nullable=False),
        sa.Column("coverage_type", sa.String(length=16), nullable=False),
        sa.Column("tier_code", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_records")),
        schema="eligibility",
    )
    op.create_index(
        "ix_coverage_records_member",
        "coverage_records",
        ["tenant_id", "party_id", "valid_from"],
        unique=False,
        schema="eligibility",
    )
    op.create_index(
        op.f("ix_coverage_records_member_number_index"),
        "coverage_records",
        ["member_number_index"],
        unique=False,
        schema="eligibility",
    )
    op.create_index(
        "ix_coverage_records_policy_party",
        "coverage_records",
        ["tenant_id", "policy_id", "party_id"],
        unique=False,
        schema="eligibility",
    )
    op.create_index(
        op.f("ix_coverage_records_tenant_id"), "coverage_records", ["tenant_id"], unique=False, schema="eligibility"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_coverage_records_tenant_id"), table_name="coverage_records", schema="eligibility")
    op.drop_index("ix_coverage_records_policy_party", table_name="coverage_records", schema="eligibility")
    op.drop_index(op.f("ix_coverage_records_member_number_index"), table_name="coverage_records", schema="eligibility")
    op.drop_index("ix_coverage_records_member", table_name="coverage_records", schema="eligibility")
    op.drop_table("coverage_records", schema="eligibility")
