"""enrollment: policies, terms, elements, coverage spans, transactions

Revision ID: 0007_enrollment
Revises: 0002_policy_admin
Create Date: 2026-11-23 08:54:13.354809
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_enrollment"
down_revision: str | None = "0002_policy_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("policy_number", sa.String(length=32), nullable=False),
        sa.Column("market", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("subscriber_party_id", sa.Uuid(), nullable=False),
        sa.Column("subscriber_external_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
        sa.UniqueConstraint("tenant_id", "policy_number", name=op.f("uq_policies_tenant_id_policy_number")),
        sa.UniqueConstraint(
            "tenant_id",
            "account_id",
            "subscriber_external_id",
            name=op.f("uq_policies_tenant_id_account_id_subscriber_external_id"),
        ),
        schema="enrollment",
    )
    op.create_index(op.f("ix_policies_account_id"), "policies", ["account_id"], unique=False, schema="enrollment")
    op.create_index(
        op.f("ix_policies_subscriber_party_id"), "policies", ["subscriber_party_id"], unique=False, schema="enrollment"
    )
    op.create_index(op.f("ix_policies_tenant_id"), "policies", ["tenant_id"], unique=False, schema="enrollment")
    op.create_table(
        "policy_elements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("element_type", sa.String(length=16), nullable=False),
        sa.Column("relationship", sa.String(length=24), nullable=False),
        sa.Column("member_number", sa.LargeBinary(), nullable=False),
        sa.Column("member_number_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("coverage_terms", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["enrollment.policies.id"], name=op.f("fk_policy_elements_policy_id_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_elements")),
        schema="enrollment",
    )
    op.create_index(
        op.f("ix_policy_elements_member_number_index"),
        "policy_elements",
        ["member_number_index"],
        unique=False,
        schema="enrollment",
    )
    op.create_index(
        op.f("ix_policy_elements_party_id"), "policy_elements", ["party_id"], unique=False, schema="enrollment"
    )
    op.create_index(
        op.f("ix_policy_elements_policy_id"), "policy_elements", ["policy_id"], unique=False, schema="enrollment"
    )
    op.create_index(
        op.f("ix_policy_elements_tenant_id"), "policy_elements", ["tenant_id"], unique=False, schema="enrollment"
    )
    op.create_table(
        "policy_terms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(length=40), nullable=False),
        sa.Column("coverage_type", sa.String(length=16), nullable=False),
        sa.Column("tier_code", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_premium_minor", sa.BigInteger(), nullable=False),
        sa.Column("member_premium_minor", sa.BigInteger(), nullable=False),
        sa.Column("premium_period", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["enrollment.policies.id"], name=op.f("fk_policy_terms_policy_id_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_terms")),
        schema="enrollment",
    )
    op.create_index(op.f("ix_policy_terms_policy_id"), "policy_terms", ["policy_id"], unique=False, schema="enrollment")
    op.create_index(op.f("ix_policy_terms_tenant_id"), "policy_terms", ["tenant_id"], unique=False, schema="enrollment")
    op.create_table(
        "policy_transactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("transaction_type", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["enrollment.policies.id"], name=op.f("fk_policy_transactions_policy_id_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_transactions")),
        schema="enrollment",
    )
    op.create_index(
        op.f("ix_policy_transactions_policy_id"),
        "policy_transactions",
        ["policy_id"],
        unique=False,
        schema="enrollment",
    )
    op.create_index(
        op.f("ix_policy_transactions_tenant_id"),
        "policy_transactions",
        ["tenant_id"],
        unique=False,
        schema="enrollment",
    )
    op.create_table(
        "coverage_spans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("element_id", sa.Uuid(), nullable=False),
        sa.Column("term_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["element_id"], ["enrollment.policy_elements.id"], name=op.f("fk_coverage_spans_element_id_policy_elements")
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["enrollment.policy_terms.id"], name=op.f("fk_coverage_spans_term_id_policy_terms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_spans")),
        schema="enrollment",
    )
    op.create_index(
        "ix_coverage_spans_current",
        "coverage_spans",
        ["tenant_id", "party_id", "superseded_at"],
        unique=False,
        schema="enrollment",
    )
    op.create_index(
        op.f("ix_coverage_spans_element_id"), "coverage_spans", ["element_id"], unique=False, schema="enrollment"
    )
    op.create_index(
        op.f("ix_coverage_spans_policy_id"), "coverage_spans", ["policy_id"], unique=False, schema="enrollment"
    )
    op.create_index(
        op.f("ix_coverage_spans_tenant_id"), "coverage_spans", ["tenant_id"], unique=False, schema="enrollment"
    )
    op.create_index(op.f("ix_coverage_spans_term_id"), "coverage_spans", ["term_id"], unique=False, schema="enrollment")


def downgrade() -> None:
    op.drop_index(op.f("ix_coverage_spans_term_id"), table_name="coverage_spans", schema="enrollment")
    op.drop_index(op.f("ix_coverage_spans_tenant_id"), table_name="coverage_spans", schema="enrollment")
    op.drop_index(op.f("ix_coverage_spans_policy_id"), table_name="coverage_spans", schema="enrollment")
    op.drop_index(op.f("ix_coverage_spans_element_id"), table_name="coverage_spans", schema="enrollment")
    op.drop_index("ix_coverage_spans_current", table_name="coverage_spans", schema="enrollment")
    op.drop_table("coverage_spans", schema="enrollment")
    op.drop_index(op.f("ix_policy_transactions_tenant_id"), table_name="policy_transactions", schema="enrollment")
    op.drop_index(op.f("ix_policy_transactions_policy_id"), table_name="policy_transactions", schema="enrollment")
    op.drop_table("policy_transactions", schema="enrollment")
    op.drop_index(op.f("ix_policy_terms_tenant_id"), table_name="policy_terms", schema="enrollment")
    op.drop_index(op.f("ix_policy_terms_policy_id"), table_name="policy_terms", schema="enrollment")
    op.drop_table("policy_terms", schema="enrollment")
    op.drop_index(op.f("ix_policy_elements_tenant_id"), table_name="policy_elements", schema="enrollment")
    op.drop_index(op.f("ix_policy_elements_policy_id"), table_name="policy_elements", schema="enrollment")
    op.drop_index(op.f("ix_policy_elements_party_id"), table_name="policy_elements", schema="enrollment")
    op.drop_index(op.f("ix_policy_elements_member_number_index"), table_name="policy_elements", schema="enrollment")
    op.drop_table("policy_elements", schema="enrollment")
    op.drop_index(op.f("ix_policies_tenant_id"), table_name="policies", schema="enrollment")
    op.drop_index(op.f("ix_policies_subscriber_party_id"), table_name="policies", schema="enrollment")
    op.drop_index(op.f("ix_policies_account_id"), table_name="policies", schema="enrollment")
    op.drop_table("policies", schema="enrollment")
