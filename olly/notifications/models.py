"""Notification tables (PostgreSQL schema ``notifications``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from olly.platform.crypto import phi_column
from olly.platform.db import Base, TenantScoped

SCHEMA = "notifications"


class Notification(TenantScoped, Base):
    """One message in a person's inbox. The text is not stored: a template key (``kind``) and its
    parameters are, and the parameters (amounts, dates about a person's care or premiums) are sealed
    like every other PHI field. Each source event gives a person at most one notification."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source_event_id", "party_id"),
        Index("ix_notifications_inbox", "tenant_id", "party_id", "created_at"),
        {"schema": SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    party_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(40))
    """The template: ``CLAIM_APPROVED``, ``INVOICE_GENERATED``, ``GRACE_PERIOD_STARTED`` …"""
    parameters: Mapped[dict[str, Any] | None] = phi_column("json")
    link: Mapped[str | None] = mapped_column(String(200))
    """The portal page the notification is about (no personal data: paths and opaque ids)."""
    source_topic: Mapped[str] = mapped_column(String(100))
    source_event_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
