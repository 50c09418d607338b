"""The EDI gateway's tables: trading partners, stored files, interchanges received, control-number
sequences, and transactions waiting for a domain that is not installed.

Raw files are never stored here: ``EdiFile.storage_key`` names an encrypted blob (``storage.py``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from olly.platform.crypto import phi_column
from olly.platform.db import Base, TenantScoped


class TradingPartner(TenantScoped, Base):
    """A clearinghouse, provider or employer exchanging X12 with this tenant, and how to answer it."""

    __tablename__ = "trading_partners"
    __table_args__ = (
        UniqueConstraint("tenant_id", "interchange_qualifier", "interchange_id"),
        UniqueConstraint("tenant_id", "code"),
        {"schema": "edi"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    """CLEARINGHOUSE, PROVIDER or EMPLOYER."""
    interchange_qualifier: Mapped[str] = mapped_column(String(2))
    """ISA05/ISA07 qualifier of the partner's id (ZZ, 30, 01 …)."""
    interchange_id: Mapped[str] = mapped_column(String(15))
    application_code: Mapped[str] = mapped_column(String(15))
    """GS02/GS03 code of the partner."""
    accepted_transactions: Mapped[list[str]] = mapped_column(JSON)
    """Inbound kinds accepted from this partner: 837P, 837I, 834, 270, 276."""
    ta1_always: Mapped[bool] = mapped_column(Boolean)
    send_999: Mapped[bool] = mapped_column(Boolean)
    usage: Mapped[str] = mapped_column(String(1))
    """ISA15 of what Olly sends: P production, T test."""
    element_separator: Mapped[str] = mapped_column(String(1))
    component_separator: Mapped[str] = mapped_column(String(1))
    repetition_separator: Mapped[str] = mapped_column(String(1))
    segment_terminator: Mapped[str] = mapped_column(String(1))
    provider_ids: Mapped[list[str]] = mapped_column(JSON)
    """NPIs / organisation ids this partner submits for (the access relation ``same_provider``)."""
    group_account_id: Mapped[uuid.UUID | None]
    """For an employer's 834: the group customer account its employees are enrolled under."""
    apply_audit_changes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """An 834 audit (030) from this partner also applies what it can (adds, plan, name, birth date);
    by default an audit is only compared and reported."""
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EdiFile(TenantScoped, Base):
    """One file received or sent; the bytes are an encrypted blob named by ``storage_key``."""

    __tablename__ = "edi_files"
    __table_args__ = (
        Index("ix_edi_files_listing", "tenant_id", "direction", "created_at"),
        {"schema": "edi"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    """IN or OUT."""
    partner_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(8))
    """837P, 834, 270 … inbound; 999, TA1, 277CA, 271, 277, 835 outbound; UNKNOWN when unreadable."""
    status: Mapped[str] = mapped_column(String(16))
    """Inbound: ACCEPTED, PARTIAL, REJECTED. Outbound: GENERATED."""
    sender: Mapped[str] = mapped_column(String(20))
    receiver: Mapped[str] = mapped_column(String(20))
    interchange_control_number: Mapped[str] = mapped_column(String(9))
    implementation_guide: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8))
    """api, cli, inbox (inbound); gateway (outbound)."""
    filename: Mapped[str | None] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    transaction_sets: Mapped[int] = mapped_column(Integer)
    accepted_sets: Mapped[int] = mapped_column(Integer)
    in_reply_to: Mapped[uuid.UUID | None] = mapped_column(index=True)
    """Outbound: the inbound file this answers (999, TA1, 277CA, 271, 277)."""
    reference: Mapped[str | None] = mapped_column(String(64))
    """Outbound 835: the payment run id it was generated from."""
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Counts and codes (never data values)."""
    created_at: Mapped[datetime]
    purged_at: Mapped[datetime | None]
    """When the raw file was deleted, past ``edi_file_retention_days`` (the record stays)."""


class InterchangeReceipt(TenantScoped, Base):
    """An accepted inbound interchange: ISA13 per sender, for duplicate detection (TA1 025)."""

    __tablename__ = "edi_interchange_receipts"
    __table_args__ = (UniqueConstraint("tenant_id", "sender", "control_number"), {"schema": "edi"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    file_id: Mapped[uuid.UUID] = mapped_column(index=True)
    sender: Mapped[str] = mapped_column(String(20))
    control_number: Mapped[str] = mapped_column(String(9))
    received_at: Mapped[datetime]


class TransactionSetReceipt(TenantScoped, Base):
    """Each transaction set of an inbound file, with its control numbers and outcome."""

    __tablename__ = "edi_transaction_sets"
    __table_args__ = (Index("ix_edi_transaction_sets_file", "tenant_id", "file_id"), {"schema": "edi"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    file_id: Mapped[uuid.UUID]
    interchange_control_number: Mapped[str] = mapped_column(String(9))
    group_control_number: Mapped[str] = mapped_column(String(9))
    set_control_number: Mapped[str] = mapped_column(String(9))
    set_id: Mapped[str] = mapped_column(String(3))
    implementation_guide: Mapped[str] = mapped_column(String(16))
    accepted: Mapped[bool] = mapped_column(Boolean)
    errors: Mapped[list[str]] = mapped_column(JSON)


class ControlSequence(TenantScoped, Base):
    """The last ISA13 / GS06 Olly used towards one partner (or one sender identity)."""

    __tablename__ = "edi_control_sequences"
    __table_args__ = (UniqueConstraint("tenant_id", "party", "kind"), {"schema": "edi"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    party: Mapped[str] = mapped_column(String(40))
    """``qualifier:id`` of the sender identity the numbers are Olly's under, per receiving partner."""
    kind: Mapped[str] = mapped_column(String(12))
    """interchange or group."""
    last_value: Mapped[int] = mapped_column(BigInteger)


class PendingTransaction(TenantScoped, Base):
    """An accepted inbound transaction whose domain is not installed here (claims intake, enrollment…):
    kept, encrypted, until an adapter takes it, so nothing received is lost."""

    __tablename__ = "edi_pending_transactions"
    __table_args__ = (Index("ix_edi_pending_transactions_status", "tenant_id", "kind", "status"), {"schema": "edi"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    file_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24))
    """AWAITING_CLAIMS_INTAKE, AWAITING_ENROLLMENT …"""
    segment_number: Mapped[int] = mapped_column(BigInteger)
    byte_offset: Mapped[int] = mapped_column(BigInteger)
    set_control_number: Mapped[str] = mapped_column(String(9))
    content: Mapped[dict[str, Any]] = phi_column("json", nullable=False)
    created_at: Mapped[datetime]


class AuditReconciliation(TenantScoped, Base):
    """An 834 audit transaction set compared with the enrollment in force on its effective date.

    ``counts`` is the summary (numbers only, also copied into the file's summary); ``findings`` names
    members (subscriber id, member number, party id) and the values that differ: sealed, read by
    staff only."""

    __tablename__ = "edi_reconciliations"
    __table_args__ = (Index("ix_edi_reconciliations_file", "tenant_id", "file_id"), {"schema": "edi"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    file_id: Mapped[uuid.UUID]
    partner_id: Mapped[uuid.UUID | None]
    interchange_control_number: Mapped[str] = mapped_column(String(9))
    set_control_number: Mapped[str] = mapped_column(String(9))
    effective_date: Mapped[date] = mapped_column(Date)
    full_file: Mapped[bool] = mapped_column(Boolean)
    applied: Mapped[bool] = mapped_column(Boolean)
    """The partner's setting allowed applying what differed (``apply_audit_changes``)."""
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    findings: Mapped[list[dict[str, Any]]] = phi_column("json", nullable=False)
    created_at: Mapped[datetime]
