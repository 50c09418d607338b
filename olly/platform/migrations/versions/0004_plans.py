"""Plans: plan codes, immutable effective-dated versions, and their flat benefit rows.

Revision ID: 0004_plans
Revises: 0009_eligibility
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from olly.platform.db import UtcDateTime

revision: str = "0004_plans"
down_revision: str | None = "0009_eligibility"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_plans_tenant_id_code")),
        schema="plans",
    )
    op.create_index(op.f("ix_plans_tenant_id"), "plans", ["tenant_id"], schema="plans")
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("market", sa.String(16), nullable=False),
        sa.Column("plan_type", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("metal_level", sa.String(16), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("loaded_at", UtcDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.plans.id"], name=op.f("fk_plan_versions_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_versions")),
        sa.UniqueConstraint("plan_id", "version", name=op.f("uq_plan_versions_plan_id_version")),
        sa.UniqueConstraint("plan_id", "effective_from", name=op.f("uq_plan_versions_plan_id_effective_from")),
        schema="plans",
    )
    op.create_index(op.f("ix_plan_versions_tenant_id"), "plan_versions", ["tenant_id"], schema="plans")
    op.create_table(
        "plan_benefits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_version_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("covered", sa.Boolean(), nullable=False),
        sa.Column("copay_minor", sa.BigInteger(), nullable=True),
        sa.Column("copay_applies", sa.String(24), nullable=True),
        sa.Column("deductible_applies", sa.Boolean(), nullable=True),
        sa.Column("coinsurance_basis_points", sa.Integer(), nullable=True),
        sa.Column("requires_prior_auth", sa.Boolean(), nullable=False),
        sa.Column("requires_referral", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plans.plan_versions.id"],
            name=op.f("fk_plan_benefits_plan_version_id_plan_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_benefits")),
        sa.UniqueConstraint(
            "plan_version_id",
            "category",
            "network",
            name=op.f("uq_plan_benefits_plan_version_id_category_network"),
        ),
        schema="plans",
    )
    op.create_index(op.f("ix_plan_benefits_tenant_id"), "plan_benefits", ["tenant_id"], schema="plans")


def downgrade() -> None:
    op.drop_index(op.f("ix_plan_benefits_tenant_id"), table_name="plan_benefits", schema="plans")
    op.drop_table("plan_benefits", schema="plans")
    op.drop_index(op.f("ix_plan_versions_tenant_id"), table_name="plan_versions", schema="plans")
    op.drop_table("plan_versions", schema="plans")
    op.drop_index(op.f("ix_plans_tenant_id"), table_name="plans", schema="plans")
    op.drop_table("plans", schema="plans")
