"""claims

Revision ID: 0012_claims
Revises: 0014_billing
Create Date: 2026-11-23 12:17:16.232533
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_claims"
down_revision: str | None = "0014_billing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claim_accumulator_holders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("holder_id", sa.String(length=40), nullable=False),
        sa.Column("adjudications", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_accumulator_holders")),
        sa.UniqueConstraint("tenant_id", "holder_id", name=op.f("uq_claim_accumulator_holders_tenant_id_holder_id")),
        schema="claims",
    )
    op.create_index(
        op.f("ix_claim_accumulator_holders_tenant_id"),
        "claim_accumulator_holders",
        ["tenant_id"],
        unique=False,
        schema="claims",
    )
    op.create_table(
        "claim_accumulators",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("holder_id", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("plan_year", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_accumulators")),
        sa.UniqueConstraint(
            "tenant_id",
            "holder_id",
            "plan_year",
            "kind",
            "level",
            "network",
            "category",
            name=op.f("uq_claim_accumulators_tenant_id_holder_id_plan_year_kind_level_network_category"),
        ),
        schema="claims",
    )
    op.create_index(
        op.f("ix_claim_accumulators_tenant_id"), "claim_accumulators", ["tenant_id"], unique=False, schema="claims"
    )
    op.create_table(
        "claim_adjudications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("billed_minor", sa.BigInteger(), nullable=False),
        sa.Column("allowed_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("member_share_minor", sa.BigInteger(), nullable=False),
        sa.Column("movements_applied", sa.Boolean(), nullable=False),
        sa.Column("reversed", sa.Boolean(), nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=False),
        sa.Column("adjudicated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_adjudications")),
        sa.UniqueConstraint("claim_id", "sequence", name=op.f("uq_claim_adjudications_claim_id_sequence")),
        schema="claims",
    )
    op.create_index(
        op.f("ix_claim_adjudications_claim_id"), "claim_adjudications", ["claim_id"], unique=False, schema="claims"
    )
    op.create_index(
        op.f("ix_claim_adjudications_tenant_id"), "claim_adjudications", ["tenant_id"], unique=False, schema="claims"
    )
    op.create_table(
        "claim_benefit_schedules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(length=40), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("appeal_window_days", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_benefit_schedules")),
        sa.UniqueConstraint(
            "tenant_id",
            "plan_code",
            "plan_version",
            name=op.f("uq_claim_benefit_schedules_tenant_id_plan_code_plan_version"),
        ),
        schema="claims",
    )
    op.create_index(
        op.f("ix_claim_benefit_schedules_tenant_id"),
        "claim_benefit_schedules",
        ["tenant_id"],
        unique=False,
        schema="claims",
    )
    op.create_table(
        "claim_coverages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.String(length=40), nullable=True),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(length=40), nullable=False),
        sa.Column("plan_type", sa.String(length=16), nullable=False),
        sa.Column("periods", sa.JSON(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_coverages")),
        sa.UniqueConstraint(
            "tenant_id", "member_id", "policy_id", name=op.f("uq_claim_coverages_tenant_id_member_id_policy_id")
        ),
        schema="claims",
    )
    op.create_index(
        op.f("ix_claim_coverages_tenant_id"), "claim_coverages", ["tenant_id"], unique=False, schema="claims"
    )
    op.create_table(
        "claim_diagnoses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.LargeBinary(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_diagnoses")),
        sa.UniqueConstraint("claim_id", "position", name=op.f("uq_claim_diagnoses_claim_id_position")),
        schema="claims",
    )
    op.create_index(op.f("ix_claim_diagnoses_claim_id"), "claim_diagnoses", ["claim_id"], unique=False, schema="claims")
    op.create_index(
        op.f("ix_claim_diagnoses_tenant_id"), "claim_diagnoses", ["tenant_id"], unique=False, schema="claims"
    )
    op.create_table(
        "claim_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("object_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_documents")),
        schema="claims",
    )
    op.create_index(op.f("ix_claim_documents_claim_id"), "claim_documents", ["claim_id"], unique=False, schema="claims")
    op.create_index(
        op.f("ix_claim_documents_tenant_id"), "claim_documents", ["tenant_id"], unique=False, schema="claims"
    )
    op.create_table(
        "claim_idempotency_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_idempotency_keys")),
        sa.UniqueConstraint("tenant_id", "scope", "key", name=op.f("uq_claim_idempotency_keys_tenant_id_scope_key")),
        schema="claims",
    )
    op.create_index(
        op.f("ix_claim_idempotency_keys_tenant_id"),
        "claim_idempotency_keys",
        ["tenant_id"],
        unique=False,
        schema="claims",
    )
    op.create_table(
        "claim_line_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("carc", sa.String(length=8), nullable=True),
        sa.Column("paid_minor", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.LargeBinary(), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_line_decisions")),
        sa.UniqueConstraint("claim_id", "line_number", name=op.f("uq_claim_line_decisions_claim_id_line_number")),
        schema="claims",
    )
    op.create_index(
        op.f("ix_claim_line_decisions_claim_id"), "claim_line_decisions", ["claim_id"], unique=False, schema="claims"
    )
    op.create_index(
        op.f("ix_claim_line_decisions_tenant_id"), "claim_line_decisions", ["tenant_id"], unique=False, schema="claims"
    )
    op.create_table(
        "claim_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("charge_minor", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("service", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("allowed_minor", sa.BigInteger(), nullable=True),
        sa.Column("paid_minor", sa.BigInteger(), nullable=True),
        sa.Column("deductible_minor", sa.BigInteger(), nullable=True),
        sa.Column("coinsurance_minor", sa.BigInteger(), nullable=True),
        sa.Column("copay_minor", sa.BigInteger(), nullable=True),
        sa.Column("adjustments", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_lines")),
        sa.UniqueConstraint("claim_id", "line_number", name=op.f("uq_claim_lines_claim_id_line_number")),
        schema="claims",
    )
    op.create_index(op.f("ix_claim_lines_claim_id"), "claim_lines", ["claim_id"], unique=False, schema="claims")
    op.create_index(op.f("ix_claim_lines_tenant_id"), "claim_lines", ["tenant_id"], unique=False, schema="claims")
    op.create_table(
        "claim_providers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("credentialing_status", sa.String(length=16), nullable=False),
        sa.Column("network_status", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=True),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("contract_from", sa.Date(), nullable=True),
        sa.Column("contract_to", sa.Date(), nullable=True),
        sa.Column("contract", sa.JSON(), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_providers")),
        sa.UniqueConstraint("tenant_id", "npi", name=op.f("uq_claim_providers_tenant_id_npi")),
        schema="claims",
    )
    op.create_index(
        op.f("ix_claim_providers_tenant_id"), "claim_providers", ["tenant_id"], unique=False, schema="claims"
    )
    op.create_table(
        "claim_status_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_status_history")),
        schema="claims",
    )
    op.create_index(
        op.f("ix_claim_status_history_claim_id"), "claim_status_history", ["claim_id"], unique=False, schema="claims"
    )
    op.create_index(
        op.f("ix_claim_status_history_tenant_id"), "claim_status_history", ["tenant_id"], unique=False, schema="claims"
    )
    op.create_table(
        "claims",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("claim_type", sa.String(length=16), nullable=False),
        sa.Column("frequency", sa.String(length=1), nullable=False),
        sa.Column("original_claim_id", sa.Uuid(), nullable=True),
        sa.Column("submitter", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("billing_npi", sa.String(length=10), nullable=False),
        sa.Column("rendering_npi", sa.String(length=10), nullable=True),
        sa.Column("provider_id", sa.Uuid(), nullable=True),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_billed_minor", sa.BigInteger(), nullable=False),
        sa.Column("service_date_from", sa.Date(), nullable=False),
        sa.Column("service_date_to", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("pend_reasons", sa.JSON(), nullable=False),
        sa.Column("queue", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.LargeBinary(), nullable=False),
        sa.Column("raw_object_key", sa.String(length=200), nullable=True),
        sa.Column("eob_object_key", sa.String(length=200), nullable=True),
        sa.Column("adjudicated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by_claim_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        schema="claims",
    )
    op.create_index("ix_claims_billing_npi", "claims", ["tenant_id", "billing_npi"], unique=False, schema="claims")
    op.create_index("ix_claims_member", "claims", ["tenant_id", "member_id", "status"], unique=False, schema="claims")
    op.create_index("ix_claims_status", "claims", ["tenant_id", "status", "received_at"], unique=False, schema="claims")
    op.create_index(op.f("ix_claims_tenant_id"), "claims", ["tenant_id"], unique=False, schema="claims")

    op.create_table(
        "eligibility_accumulators",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("holder_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("plan_year", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("deductible_in_network_minor", sa.BigInteger(), nullable=False),
        sa.Column("deductible_out_of_network_minor", sa.BigInteger(), nullable=False),
        sa.Column("out_of_pocket_in_network_minor", sa.BigInteger(), nullable=False),
        sa.Column("out_of_pocket_out_of_network_minor", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_accumulators")),
        schema="eligibility",
    )
    op.create_index(
        op.f("ix_eligibility_accumulators_tenant_id"),
        "eligibility_accumulators",
        ["tenant_id"],
        unique=False,
        schema="eligibility",
    )
    op.create_index(
        "uq_eligibility_accumulators_holder",
        "eligibility_accumulators",
        ["tenant_id", "holder_id", "level", "plan_year"],
        unique=True,
        schema="eligibility",
    )


def downgrade() -> None:
    op.drop_index("uq_eligibility_accumulators_holder", table_name="eligibility_accumulators", schema="eligibility")
    op.drop_index(
        op.f("ix_eligibility_accumulators_tenant_id"), table_name="eligibility_accumulators", schema="eligibility"
    )
    op.drop_table("eligibility_accumulators", schema="eligibility")
    op.drop_index(op.f("ix_claims_tenant_id"), table_name="claims", schema="claims")
    op.drop_index("ix_claims_status", table_name="claims", schema="claims")
    op.drop_index("ix_claims_member", table_name="claims", schema="claims")
    op.drop_index("ix_claims_billing_npi", table_name="claims", schema="claims")
    op.drop_table("claims", schema="claims")
    op.drop_index(op.f("ix_claim_status_history_tenant_id"), table_name="claim_status_history", schema="claims")
    op.drop_index(op.f("ix_claim_status_history_claim_id"), table_name="claim_status_history", schema="claims")
    op.drop_table("claim_status_history", schema="claims")
    op.drop_index(op.f("ix_claim_providers_tenant_id"), table_name="claim_providers", schema="claims")
    op.drop_table("claim_providers", schema="claims")
    op.drop_index(op.f("ix_claim_lines_tenant_id"), table_name="claim_lines", schema="claims")
    op.drop_index(op.f("ix_claim_lines_claim_id"), table_name="claim_lines", schema="claims")
    op.drop_table("claim_lines", schema="claims")
    op.drop_index(op.f("ix_claim_line_decisions_tenant_id"), table_name="claim_line_decisions", schema="claims")
    op.drop_index(op.f("ix_claim_line_decisions_claim_id"), table_name="claim_line_decisions", schema="claims")
    op.drop_table("claim_line_decisions", schema="claims")
    op.drop_index(op.f("ix_claim_idempotency_keys_tenant_id"), table_name="claim_idempotency_keys", schema="claims")
    op.drop_table("claim_idempotency_keys", schema="claims")
    op.drop_index(op.f("ix_claim_documents_tenant_id"), table_name="claim_documents", schema="claims")
    op.drop_index(op.f("ix_claim_documents_claim_id"), table_name="claim_documents", schema="claims")
    op.drop_table("claim_documents", schema="claims")
    op.drop_index(op.f("ix_claim_diagnoses_tenant_id"), table_name="claim_diagnoses", schema="claims")
    op.drop_index(op.f("ix_claim_diagnoses_claim_id"), table_name="claim_diagnoses", schema="claims")
    op.drop_table("claim_diagnoses", schema="claims")
    op.drop_index(op.f("ix_claim_coverages_tenant_id"), table_name="claim_coverages", schema="claims")
    op.drop_table("claim_coverages", schema="claims")
    op.drop_index(op.f("ix_claim_benefit_schedules_tenant_id"), table_name="claim_benefit_schedules", schema="claims")
    op.drop_table("claim_benefit_schedules", schema="claims")
    op.drop_index(op.f("ix_claim_adjudications_tenant_id"), table_name="claim_adjudications", schema="claims")
    op.drop_index(op.f("ix_claim_adjudications_claim_id"), table_name="claim_adjudications", schema="claims")
    op.drop_table("claim_adjudications", schema="claims")
    op.drop_index(op.f("ix_claim_accumulators_tenant_id"), table_name="claim_accumulators", schema="claims")
    op.drop_table("claim_accumulators", schema="claims")
    op.drop_index(
        op.f("ix_claim_accumulator_holders_tenant_id"), table_name="claim_accumulator_holders", schema="claims"
    )
    op.drop_table("claim_accumulator_holders", schema="claims")
