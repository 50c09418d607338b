"""Identity (accounts, sessions, MFA, API clients, break-glass) and consent (consent records,
deletion requests).

Revision ID: 0006_identity
Revises: 0003_event_backbone
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from olly.platform.db import UtcDateTime

revision: str = "0006_identity"
down_revision: str | None = "0003_event_backbone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("preferences", sa.JSON(), nullable=True),
        sa.Column("app_client_id", sa.String(length=128), nullable=True),
        sa.Column("app_name", sa.String(length=200), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=True),
        sa.Column("confidential_contact", sa.LargeBinary(), nullable=True),
        sa.Column("effective_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
        schema="consent",
    )
    op.create_index(
        op.f("ix_consent_records_party_id"), "consent_records", ["party_id"], unique=False, schema="consent"
    )
    op.create_index(
        op.f("ix_consent_records_tenant_id"), "consent_records", ["tenant_id"], unique=False, schema="consent"
    )
    op.create_table(
        "deletion_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_via", sa.String(length=16), nullable=False),
        sa.Column("verification_method", sa.String(length=64), nullable=False),
        sa.Column("verification_reference", sa.LargeBinary(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("verified_at", UtcDateTime(), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=True),
        sa.Column("processed_by", sa.String(length=200), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("pseudonym", sa.LargeBinary(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_requests")),
        schema="consent",
    )
    op.create_index(
        op.f("ix_deletion_requests_party_id"), "deletion_requests", ["party_id"], unique=False, schema="consent"
    )
    op.create_index(
        op.f("ix_deletion_requests_tenant_id"), "deletion_requests", ["tenant_id"], unique=False, schema="consent"
    )
    op.create_table(
        "login_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("email", sa.LargeBinary(), nullable=True),
        sa.Column("email_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("phone", sa.LargeBinary(), nullable=True),
        sa.Column("display_name", sa.LargeBinary(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("password_changed_at", UtcDateTime(), nullable=True),
        sa.Column("mfa_secret", sa.LargeBinary(), nullable=True),
        sa.Column("mfa_pending_secret", sa.LargeBinary(), nullable=True),
        sa.Column("mfa_enabled_at", UtcDateTime(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("party_id", sa.Uuid(), nullable=True),
        sa.Column("group_account_id", sa.Uuid(), nullable=True),
        sa.Column("npi", sa.String(length=10), nullable=True),
        sa.Column("provider_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("oidc_issuer", sa.String(length=300), nullable=True),
        sa.Column("oidc_subject", sa.String(length=255), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", UtcDateTime(), nullable=True),
        sa.Column("tokens_valid_after", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("disabled_at", UtcDateTime(), nullable=True),
        sa.Column("last_login_at", UtcDateTime(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_accounts")),
        sa.UniqueConstraint("oidc_issuer", "oidc_subject", name=op.f("uq_login_accounts_oidc_issuer_oidc_subject")),
        sa.UniqueConstraint("tenant_id", "email_index", name=op.f("uq_login_accounts_tenant_id_email_index")),
        schema="identity",
    )
    op.create_index(
        op.f("ix_login_accounts_email_index"), "login_accounts", ["email_index"], unique=False, schema="identity"
    )
    op.create_index(
        op.f("ix_login_accounts_group_account_id"),
        "login_accounts",
        ["group_account_id"],
        unique=False,
        schema="identity",
    )
    op.create_index(op.f("ix_login_accounts_party_id"), "login_accounts", ["party_id"], unique=False, schema="identity")
    op.create_index(
        op.f("ix_login_accounts_tenant_id"), "login_accounts", ["tenant_id"], unique=False, schema="identity"
    )
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("disabled_at", UtcDateTime(), nullable=True),
        sa.Column("tokens_valid_after", UtcDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_clients_client_id")),
        schema="identity",
    )
    op.create_index(op.f("ix_api_clients_tenant_id"), "api_clients", ["tenant_id"], unique=False, schema="identity")
    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.LargeBinary(), nullable=True),
        sa.Column("party_id", sa.Uuid(), nullable=True),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("review_status", sa.String(length=16), nullable=False),
        sa.Column("reviewed_at", UtcDateTime(), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("review_note", sa.LargeBinary(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grants")),
        schema="identity",
    )
    op.create_index(
        op.f("ix_break_glass_grants_account_id"), "break_glass_grants", ["account_id"], unique=False, schema="identity"
    )
    op.create_index(
        op.f("ix_break_glass_grants_expires_at"), "break_glass_grants", ["expires_at"], unique=False, schema="identity"
    )
    op.create_index(
        op.f("ix_break_glass_grants_review_status"),
        "break_glass_grants",
        ["review_status"],
        unique=False,
        schema="identity",
    )
    op.create_index(
        op.f("ix_break_glass_grants_tenant_id"), "break_glass_grants", ["tenant_id"], unique=False, schema="identity"
    )
    op.create_table(
        "oidc_login_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oidc_login_states")),
        schema="identity",
    )
    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity.login_accounts.id"],
            name=op.f("fk_password_reset_tokens_account_id_login_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_tokens_token_hash")),
        schema="identity",
    )
    op.create_index(
        op.f("ix_password_reset_tokens_account_id"),
        "password_reset_tokens",
        ["account_id"],
        unique=False,
        schema="identity",
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity.login_accounts.id"],
            name=op.f("fk_recovery_codes_account_id_login_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        schema="identity",
    )
    op.create_index(
        op.f("ix_recovery_codes_account_id"), "recovery_codes", ["account_id"], unique=False, schema="identity"
    )
    op.create_index(
        op.f("ix_recovery_codes_tenant_id"), "recovery_codes", ["tenant_id"], unique=False, schema="identity"
    )
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("idle_expires_at", UtcDateTime(), nullable=False),
        sa.Column("absolute_expires_at", UtcDateTime(), nullable=False),
        sa.Column("authenticated_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity.login_accounts.id"],
            name=op.f("fk_portal_sessions_account_id_login_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_sessions_token_hash")),
        schema="identity",
    )
    op.create_index(
        op.f("ix_portal_sessions_account_id"), "portal_sessions", ["account_id"], unique=False, schema="identity"
    )


def downgrade() -> None:
    op.drop_table("portal_sessions", schema="identity")
    op.drop_table("recovery_codes", schema="identity")
    op.drop_table("password_reset_tokens", schema="identity")
    op.drop_table("oidc_login_states", schema="identity")
    op.drop_table("break_glass_grants", schema="identity")
    op.drop_table("api_clients", schema="identity")
    op.drop_table("login_accounts", schema="identity")
    op.drop_table("deletion_requests", schema="consent")
    op.drop_table("consent_records", schema="consent")
