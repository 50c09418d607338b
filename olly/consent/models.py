"""Consent tables (PostgreSQL schema ``consent``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from olly.platform.crypto import phi_column
from olly.platform.db import Base, TenantScoped

SCHEMA = "consent"


class ConsentRecord(TenantScoped, Base):
    """One consent a person gave or withdrew. Changes add a record and supersede the old one, so
    the history of what the person agreed to, and when, stays readable."""

    __tablename__ = "consent_records"
    __table_args__ = {"schema": SCHEMA}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    party_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))
    """``communication``, ``app_sharing`` or ``confidential_communication``."""
    status: Mapped[str] = mapped_column(String(16))
    """``active``, ``superseded`` or ``revoked``."""
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Channels and topics of a communication consent (no personal data)."""
    app_client_id: Mapped[str | None] = mapped_column(String(128))
    app_name: Mapped[str | None] = mapped_column(String(200))
    scopes: Mapped[list[str] | None] = mapped_column(JSON)
    confidential_contact: Mapped[dict[str, Any] | None] = phi_column("json")
    """Where confidential communications go instead (address, phone, e-mail): PHI, sealed."""
    effective_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    superseded_by: Mapped[uuid.UUID | None]


class DeletionRequest(TenantScoped, Base):
    __tablename__ = "deletion_requests"
    __table_args__ = {"schema": SCHEMA}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    party_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16))
    """``verified`` (identity checked, waiting to be carried out), ``completed`` or ``rejected``."""
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_via: Mapped[str] = mapped_column(String(16))
    """``self_service`` or ``staff``."""
    verification_method: Mapped[str] = mapped_column(String(64))
    verification_reference: Mapped[str | None] = phi_column("text")
    received_at: Mapped[datetime]
    verified_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    processed_by: Mapped[str | None] = mapped_column(String(200))
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    pseudonym: Mapped[str | None] = phi_column("text")
    """The id that replaced the party id in kept records: sealed, so re-identification needs the
    key and an audited read of this request."""
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
