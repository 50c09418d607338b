"""claims: prior authorisations and appeals

Revision ID: 0013_prior_auth_appeals
Revises: 0011_quotes_underwriting
Create Date: 2026-11-23 12:14:33
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_prior_auth_appeals"
down_revision: str | None = "0011_quotes_underwriting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appealable_claims",
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("denial_reason_code", sa.String(length=16), nullable=True),
        sa.Column("adjudicated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appeal_deadline", sa.Date(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_appealable_claims")),
        schema="claims",
    )
    op.create_index(
        op.f("ix_appealable_claims_member_id"), "appealable_claims", ["member_id"], unique=False, schema="claims"
    )
    op.create_index(
        op.f("ix_appealable_claims_provider_id"), "appealable_claims", ["provider_id"], unique=False, schema="claims"
    )
    op.create_index(
        op.f("ix_appealable_claims_tenant_id"), "appealable_claims", ["tenant_id"], unique=False, schema="claims"
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("open_claim_id", sa.Uuid(), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.LargeBinary(), nullable=True),
        sa.Column("documents_reference", sa.String(length=500), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.String(length=200), nullable=False),
        sa.Column("appeal_deadline", sa.Date(), nullable=False),
        sa.Column("decision_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decision_note", sa.LargeBinary(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("tenant_id", "open_claim_id", name=op.f("uq_appeals_tenant_id_open_claim_id")),
        schema="claims",
    )
    op.create_index(op.f("ix_appeals_claim_id"), "appeals", ["claim_id"], unique=False, schema="claims")
    op.create_index(op.f("ix_appeals_filed_at"), "appeals", ["filed_at"], unique=False, schema="claims")
    op.create_index(op.f("ix_appeals_member_id"), "appeals", ["member_id"], unique=False, schema="claims")
    op.create_index(op.f("ix_appeals_provider_id"), "appeals", ["provider_id"], unique=False, schema="claims")
    op.create_index(op.f("ix_appeals_status"), "appeals", ["status"], unique=False, schema="claims")
    op.create_index(op.f("ix_appeals_tenant_id"), "appeals", ["tenant_id"], unique=False, schema="claims")
    op.create_table(
        "prior_authorizations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("requesting_npi", sa.String(length=10), nullable=False),
        sa.Column("requesting_provider_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("expedited", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("service_from", sa.Date(), nullable=False),
        sa.Column("service_to", sa.Date(), nullable=False),
        sa.Column("diagnosis_codes", sa.LargeBinary(), nullable=True),
        sa.Column("clinical_notes", sa.LargeBinary(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("denial_reason_code", sa.String(length=16), nullable=True),
        sa.Column("decision_note", sa.LargeBinary(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prior_authorizations")),
        schema="claims",
    )
    op.create_index(
        op.f("ix_prior_authorizations_decision_due_at"),
        "prior_authorizations",
        ["decision_due_at"],
        unique=False,
        schema="claims",
    )
    op.create_index(
        op.f("ix_prior_authorizations_member_id"), "prior_authorizations", ["member_id"], unique=False, schema="claims"
    )
    op.create_index(
        op.f("ix_prior_authorizations_requesting_npi"),
        "prior_authorizations",
        ["requesting_npi"],
        unique=False,
        schema="claims",
    )
    op.create_index(
        op.f("ix_prior_authorizations_requesting_provider_id"),
        "prior_authorizations",
        ["requesting_provider_id"],
        unique=False,
        schema="claims",
    )
    op.create_index(
        op.f("ix_prior_authorizations_status"), "prior_authorizations", ["status"], unique=False, schema="claims"
    )
    op.create_index(
        op.f("ix_prior_authorizations_tenant_id"), "prior_authorizations", ["tenant_id"], unique=False, schema="claims"
    )
    op.create_table(
        "prior_authorization_services",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("prior_auth_id", sa.Uuid(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("procedure_code", sa.String(length=8), nullable=False),
        sa.Column("units_requested", sa.Integer(), nullable=False),
        sa.Column("units_approved", sa.Integer(), nullable=True),
        sa.Column("units_used", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["prior_auth_id"],
            ["claims.prior_authorizations.id"],
            name=op.f("fk_prior_authorization_services_prior_auth_id_prior_authorizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prior_authorization_services")),
        sa.UniqueConstraint(
            "prior_auth_id", "line_number", name=op.f("uq_prior_authorization_services_prior_auth_id_line_number")
        ),
        schema="claims",
    )
    op.create_index(
        op.f("ix_prior_authorization_services_prior_auth_id"),
        "prior_authorization_services",
        ["prior_auth_id"],
        unique=False,
        schema="claims",
    )
    op.create_index(
        op.f("ix_prior_authorization_services_tenant_id"),
        "prior_authorization_services",
        ["tenant_id"],
        unique=False,
        schema="claims",
    )
    op.create_table(
        "prior_authorization_usages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["claims.prior_authorization_services.id"],
            name=op.f("fk_prior_authorization_usages_service_id_prior_authorization_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prior_authorization_usages")),
        sa.UniqueConstraint("service_id", "claim_id", name=op.f("uq_prior_authorization_usages_service_id_claim_id")),
        schema="claims",
    )
    op.create_index(
        op.f("ix_prior_authorization_usages_claim_id"),
        "prior_authorization_usages",
        ["claim_id"],
        unique=False,
        schema="claims",
    )
    op.create_index(
        op.f("ix_prior_authorization_usages_service_id"),
        "prior_authorization_usages",
        ["service_id"],
        unique=False,
        schema="claims",
    )
    op.create_index(
        op.f("ix_prior_authorization_usages_tenant_id"),
        "prior_authorization_usages",
        ["tenant_id"],
        unique=False,
        schema="claims",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_prior_authorization_usages_tenant_id"), table_name="prior_authorization_usages", schema="claims"
    )
    op.drop_index(
        op.f("ix_prior_authorization_usages_service_id"), table_name="prior_authorization_usages", schema="claims"
    )
    op.drop_index(
        op.f("ix_prior_authorization_usages_claim_id"), table_name="prior_authorization_usages", schema="claims"
    )
    op.drop_table("prior_authorization_usages", schema="claims")
    op.drop_index(
        op.f("ix_prior_authorization_services_tenant_id"), table_name="prior_authorization_services", schema="claims"
    )
    op.drop_index(
        op.f("ix_prior_authorization_services_prior_auth_id"),
        table_name="prior_authorization_services",
        schema="claims",
    )
    op.drop_table("prior_authorization_services", schema="claims")
    op.drop_index(op.f("ix_prior_authorizations_tenant_id"), table_name="prior_authorizations", schema="claims")
    op.drop_index(op.f("ix_prior_authorizations_status"), table_name="prior_authorizations", schema="claims")
    op.drop_index(
        op.f("ix_prior_authorizations_requesting_provider_id"), table_name="prior_authorizations", schema="claims"
    )
    op.drop_index(op.f("ix_prior_authorizations_requesting_npi"), table_name="prior_authorizations", schema="claims")
    op.drop_index(op.f("ix_prior_authorizations_member_id"), table_name="prior_authorizations", schema="claims")
    op.drop_index(op.f("ix_prior_authorizations_decision_due_at"), table_name="prior_authorizations", schema="claims")
    op.drop_table("prior_authorizations", schema="claims")
    op.drop_index(op.f("ix_appeals_tenant_id"), table_name="appeals", schema="claims")
    op.drop_index(op.f("ix_appeals_status"), table_name="appeals", schema="claims")
    op.drop_index(op.f("ix_appeals_provider_id"), table_name="appeals", schema="claims")
    op.drop_index(op.f("ix_appeals_member_id"), table_name="appeals", schema="claims")
    op.drop_index(op.f("ix_appeals_filed_at"), table_name="appeals", schema="claims")
    op.drop_index(op.f("ix_appeals_claim_id"), table_name="appeals", schema="claims")
    op.drop_table("appeals", schema="claims")
    op.drop_index(op.f("ix_appealable_claims_tenant_id"), table_name="appealable_claims", schema="claims")
    op.drop_index(op.f("ix_appealable_claims_provider_id"), table_name="appealable_claims", schema="claims")
    op.drop_index(op.f("ix_appealable_claims_member_id"), table_name="appealable_claims", schema="claims")
    op.drop_table("appealable_claims", schema="claims")
