"""Identity tables (PostgreSQL schema ``identity``).

Accounts and API clients belong to a tenant (``TenantScoped``). Sessions, OIDC login states and
password-reset tokens are looked up by an opaque secret before the tenant is known, so they carry
a plain ``tenant_id`` column and are read through Core by the auth plumbing. Secrets are never
stored: session ids, reset tokens and recovery codes as SHA-256 digests, passwords and client
secrets as argon2id hashes, TOTP seeds sealed like PHI.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from olly.platform.crypto import blind_index_column, phi_column
from olly.platform.db import Base, TenantScoped

SCHEMA = "identity"


class Account(TenantScoped, Base):
    __tablename__ = "login_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email_index"),
        UniqueConstraint("oidc_issuer", "oidc_subject"),
        {"schema": SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16))
    """``active`` or ``disabled``."""
    email: Mapped[str | None] = phi_column("text")
    email_index = blind_index_column("email", "casefold")
    phone: Mapped[str | None] = phi_column("text")
    display_name: Mapped[str | None] = phi_column("text")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    mfa_secret: Mapped[str | None] = phi_column("text")
    mfa_pending_secret: Mapped[str | None] = phi_column("text")
    mfa_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    """The last TOTP time step accepted: a code is never accepted twice."""
    party_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    group_account_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    npi: Mapped[str | None] = mapped_column(String(10))
    provider_organisation_id: Mapped[uuid.UUID | None]
    roles: Mapped[list[str]] = mapped_column(JSON)
    queues: Mapped[list[str]] = mapped_column(JSON)
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    failed_attempts: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None]
    tokens_valid_after: Mapped[datetime]
    """Bearer tokens issued before this instant are refused (disable, password change)."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class RecoveryCode(TenantScoped, Base):
    __tablename__ = "recovery_codes"
    __table_args__ = {"schema": SCHEMA}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.login_accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ApiClient(TenantScoped, Base):
    """A trading partner's OAuth2 client (client-credentials grant)."""

    __tablename__ = "api_clients"
    __table_args__ = {"schema": SCHEMA}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    provider_ids: Mapped[list[str]] = mapped_column(JSON)
    """NPIs and organisation ids the partner submits for; it sees only what they submitted."""
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    tokens_valid_after: Mapped[datetime]


class BreakGlassGrant(TenantScoped, Base):
    __tablename__ = "break_glass_grants"
    __table_args__ = {"schema": SCHEMA}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(index=True)
    reason: Mapped[str | None] = phi_column("text")
    party_id: Mapped[uuid.UUID | None]
    opened_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    review_status: Mapped[str] = mapped_column(String(16), index=True)
    """``pending`` until a reviewer records ``appropriate`` or ``inappropriate``."""
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[uuid.UUID | None]
    review_note: Mapped[str | None] = phi_column("text")


class PortalSession(Base):
    __tablename__ = "portal_sessions"
    __table_args__ = {"schema": SCHEMA}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[uuid.UUID]
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.login_accounts.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(24))
    """``active``, ``mfa_required`` (password accepted, second factor due) or ``mfa_enrolment_required``."""
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    idle_expires_at: Mapped[datetime]
    absolute_expires_at: Mapped[datetime]
    authenticated_at: Mapped[datetime]
    """Last time the person proved who they are (sign-in or re-authentication): step-up checks use it."""
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class OidcLoginState(Base):
    __tablename__ = "oidc_login_states"
    __table_args__ = {"schema": SCHEMA}

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    tenant_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"
    __table_args__ = {"schema": SCHEMA}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[uuid.UUID]
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.login_accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used: Mapped[bool] = mapped_column(Boolean)


def json_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []
