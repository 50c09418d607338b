"""Prior authorisation and appeal tables (PostgreSQL schema ``claims``).

Kept apart from the claim tables: prior authorisations and appeals have their own life cycle and
their own queue. Appeals know claims only through ``AppealableClaim``, a read model fed by
``claims.claim.adjudicated`` events.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from olly.platform.crypto import phi_column
from olly.platform.db import Base, TenantScoped

SCHEMA = "claims"


class PriorAuthorizationRequest(TenantScoped, Base):
    """A provider's request to authorise services for a member before they are given, and its decision."""

    __tablename__ = "prior_authorizations"
    __table_args__ = {"schema": SCHEMA}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(index=True)
    """The member's party id."""
    requesting_npi: Mapped[str] = mapped_column(String(10), index=True)
    requesting_provider_id: Mapped[uuid.UUID] = mapped_column(index=True)
    """The requesting provider's registry id (the NPI says which practitioner or site asked)."""
    plan_id: Mapped[uuid.UUID | None]
    expedited: Mapped[bool]
    status: Mapped[str] = mapped_column(String(24), index=True)
    """``PENDING``, ``APPROVED``, ``PARTIALLY_APPROVED`` or ``DENIED``."""
    service_from: Mapped[date]
    service_to: Mapped[date]
    diagnosis_codes: Mapped[list[str] | None] = phi_column("json")
    """ICD-10-CM codes: PHI, sealed."""
    clinical_notes: Mapped[str | None] = phi_column("text")
    received_at: Mapped[datetime]
    decision_due_at: Mapped[datetime] = mapped_column(index=True)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    denial_reason_code: Mapped[str | None] = mapped_column(String(16))
    """CARC of a denial (or of the denied part of a partial approval): a specific reason, as CMS-0057-F asks."""
    decision_note: Mapped[str | None] = phi_column("text")
    escalated_at: Mapped[datetime | None]
    """When the overdue job first escalated this undecided request (at most once)."""


class PriorAuthorizationService(TenantScoped, Base):
    """One requested code with its units; the decision sets the units approved (0: this code denied)."""

    __tablename__ = "prior_authorization_services"
    __table_args__ = (UniqueConstraint("prior_auth_id", "line_number"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    prior_auth_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.prior_authorizations.id"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    procedure_code: Mapped[str] = mapped_column(String(8))
    units_requested: Mapped[int] = mapped_column(Integer)
    units_approved: Mapped[int | None] = mapped_column(Integer)
    """``None`` until decided."""
    units_used: Mapped[int] = mapped_column(Integer, default=0)
    """Sum of ``PriorAuthorizationUsage.units`` for this service (kept here for the engine's input)."""


class PriorAuthorizationUsage(TenantScoped, Base):
    """Units of an authorised service a claim consumed; one row per service and claim (idempotent)."""

    __tablename__ = "prior_authorization_usages"
    __table_args__ = (UniqueConstraint("service_id", "claim_id"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.prior_authorization_services.id"), index=True)
    claim_id: Mapped[uuid.UUID] = mapped_column(index=True)
    units: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime]


class AppealableClaim(TenantScoped, Base):
    """The appeals' read model of an adjudicated claim, from ``claims.claim.adjudicated``."""

    __tablename__ = "appealable_claims"
    __table_args__ = {"schema": SCHEMA}

    claim_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(index=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(24))
    """``APPROVED``, ``PARTIALLY_APPROVED`` or ``DENIED`` (the latest adjudication)."""
    denial_reason_code: Mapped[str | None] = mapped_column(String(16))
    adjudicated_at: Mapped[datetime]
    appeal_deadline: Mapped[date]
    """Last day an appeal may be filed (inclusive)."""
    event_id: Mapped[uuid.UUID]
    """The adjudication event this row reflects."""


class Appeal(TenantScoped, Base):
    """A request to reconsider an adverse determination on a claim."""

    __tablename__ = "appeals"
    __table_args__ = (UniqueConstraint("tenant_id", "open_claim_id"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    claim_id: Mapped[uuid.UUID] = mapped_column(index=True)
    open_claim_id: Mapped[uuid.UUID | None]
    """The claim id while the appeal is open, ``None`` once decided: the unique constraint allows
    one open appeal per claim (NULLs never collide, on either engine)."""
    member_id: Mapped[uuid.UUID] = mapped_column(index=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(index=True)
    level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    """``OPEN``, ``UPHELD`` or ``OVERTURNED``."""
    reason: Mapped[str | None] = phi_column("text")
    documents_reference: Mapped[str | None] = mapped_column(String(500))
    """Object-store key or external reference of the supporting documents (not the documents)."""
    filed_at: Mapped[datetime] = mapped_column(index=True)
    filed_by: Mapped[str] = mapped_column(String(200))
    appeal_deadline: Mapped[date]
    decision_due_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_note: Mapped[str | None] = phi_column("text")
    allowed_lines: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    """The claim's lines an overturn allows, in order; None: every line (and on an upheld appeal)."""
