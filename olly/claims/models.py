"""The claims domain's tables: claims and their lines, results, accumulators, documents and read models.

PHI (diagnoses, the service detail of each line, the stored adjudication trace) is sealed by
``crypto.py``; amounts, statuses and reason codes stay in the clear so queues, totals and
remittances are queried without opening anything. Member and provider identifiers are opaque ids.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from olly.platform.crypto import phi_column
from olly.platform.db import Base, TenantScoped, new_id

SCHEMA = "claims"


class Claim(TenantScoped, Base):
    """One submitted claim (the header); lines and diagnoses are their own rows."""

    __tablename__ = "claims"
    __table_args__ = (
        Index("ix_claims_member", "tenant_id", "member_id", "status"),
        Index("ix_claims_status", "tenant_id", "status", "received_at"),
        Index("ix_claims_billing_npi", "tenant_id", "billing_npi"),
        {"schema": SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    transaction_id: Mapped[uuid.UUID]
    member_id: Mapped[uuid.UUID]
    claim_type: Mapped[str] = mapped_column(String(16))
    frequency: Mapped[str] = mapped_column(String(1))
    original_claim_id: Mapped[uuid.UUID | None]
    submitter: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16))
    """``API``, ``EDI`` (an 837), ``PORTAL`` (a member reimbursement upload) or ``CLI``."""
    billing_npi: Mapped[str] = mapped_column(String(10))
    rendering_npi: Mapped[str | None] = mapped_column(String(10))
    provider_id: Mapped[uuid.UUID | None]
    plan_id: Mapped[uuid.UUID | None]
    currency: Mapped[str] = mapped_column(String(3))
    total_billed_minor: Mapped[int] = mapped_column(BigInteger)
    service_date_from: Mapped[date]
    service_date_to: Mapped[date]
    received_on: Mapped[date]
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(24))
    """RECEIVED, APPROVED, PARTIALLY_APPROVED, DENIED, PENDED, VOIDED, REPLACED."""
    pend_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    queue: Mapped[str] = mapped_column(String(40))
    """Work queue of the claims examiners who may see it."""
    detail: Mapped[dict[str, Any]] = phi_column("json", nullable=False)
    """Claim-level facts: place of service, prior-auth reference, emergency/accident flags, care setting."""
    raw_object_key: Mapped[str | None] = mapped_column(String(200))
    eob_object_key: Mapped[str | None] = mapped_column(String(200))
    adjudicated_at: Mapped[datetime | None]
    replaced_by_claim_id: Mapped[uuid.UUID | None]
    version: Mapped[int] = mapped_column(Integer, default=1)


class ClaimLine(TenantScoped, Base):
    __tablename__ = "claim_lines"
    __table_args__ = (UniqueConstraint("claim_id", "line_number"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    claim_id: Mapped[uuid.UUID] = mapped_column(index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    charge_minor: Mapped[int] = mapped_column(BigInteger)
    units: Mapped[int] = mapped_column(Integer)
    service: Mapped[dict[str, Any]] = phi_column("json", nullable=False)
    """Procedure code, modifiers, revenue code, charge type, place of service, dates, pointers, NPI."""
    status: Mapped[str | None] = mapped_column(String(16))
    allowed_minor: Mapped[int | None] = mapped_column(BigInteger)
    paid_minor: Mapped[int | None] = mapped_column(BigInteger)
    deductible_minor: Mapped[int | None] = mapped_column(BigInteger)
    coinsurance_minor: Mapped[int | None] = mapped_column(BigInteger)
    copay_minor: Mapped[int | None] = mapped_column(BigInteger)
    adjustments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """CAS adjustments: group, CARC, amount, RARCs (codes and amounts only)."""


class ClaimDiagnosis(TenantScoped, Base):
    __tablename__ = "claim_diagnoses"
    __table_args__ = (UniqueConstraint("claim_id", "position"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    claim_id: Mapped[uuid.UUID] = mapped_column(index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = phi_column("text", nullable=False)


class AdjudicationRecord(TenantScoped, Base):
    """One adjudication of a claim (a re-adjudication adds another; the last is current)."""

    __tablename__ = "claim_adjudications"
    __table_args__ = (UniqueConstraint("claim_id", "sequence"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    claim_id: Mapped[uuid.UUID] = mapped_column(index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    is_current: Mapped[bool]
    billed_minor: Mapped[int] = mapped_column(BigInteger)
    allowed_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger)
    member_share_minor: Mapped[int] = mapped_column(BigInteger)
    movements_applied: Mapped[bool]
    """Whether this result's accumulator movements were applied (final results only)."""
    reversed: Mapped[bool]
    """Whether a later replacement, void, overturn or review undid this result's payment and movements."""
    result: Mapped[dict[str, Any]] = phi_column("json", nullable=False)
    """The engine's whole result: lines, adjustments, movements and the per-line trace."""
    adjudicated_at: Mapped[datetime]
    cause: Mapped[str] = mapped_column(String(32))
    """SUBMITTED, PRIOR_AUTH_DECIDED, APPEAL_OVERTURNED, REVIEW_DECISION."""


class ClaimStatusChange(TenantScoped, Base):
    __tablename__ = "claim_status_history"
    __table_args__ = ({"schema": SCHEMA},)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    claim_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime]


class LineDecision(TenantScoped, Base):
    """An examiner's decision on a pended line (the audit trail holds who and why too)."""

    __tablename__ = "claim_line_decisions"
    __table_args__ = (UniqueConstraint("claim_id", "line_number"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    claim_id: Mapped[uuid.UUID] = mapped_column(index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(8))
    """APPROVE, DENY or ADJUST."""
    carc: Mapped[str | None] = mapped_column(String(8))
    paid_minor: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = phi_column("text")
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime]


class AppealWaiver(TenantScoped, Base):
    """A denial an overturned appeal set aside on one line of a claim (``rules.APPEAL_WAIVABLE``):
    every later adjudication of the claim passes the line where that denial would stop it."""

    __tablename__ = "claim_appeal_waivers"
    __table_args__ = (UniqueConstraint("claim_id", "line_number", "carc"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    claim_id: Mapped[uuid.UUID] = mapped_column(index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    carc: Mapped[str] = mapped_column(String(8))
    waived_at: Mapped[datetime]


class IdempotencyKey(TenantScoped, Base):
    __tablename__ = "claim_idempotency_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "scope", "key"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    claim_id: Mapped[uuid.UUID]
    transaction_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime]


class Accumulator(TenantScoped, Base):
    """Used amount of one deductible, out-of-pocket maximum, benefit limit or sum insured."""

    __tablename__ = "claim_accumulators"
    __table_args__ = (
        UniqueConstraint("tenant_id", "holder_id", "plan_year", "kind", "level", "network", "category"),
        {"schema": SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    holder_id: Mapped[str] = mapped_column(String(40))
    """Member id (level MEMBER) or family id (level FAMILY)."""
    level: Mapped[str] = mapped_column(String(8))
    plan_year: Mapped[date]
    kind: Mapped[str] = mapped_column(String(16))
    network: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(40))
    used: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class AccumulatorHolder(TenantScoped, Base):
    """One row per family (or self-only member): locked FOR UPDATE while its accumulators move."""

    __tablename__ = "claim_accumulator_holders"
    __table_args__ = (UniqueConstraint("tenant_id", "holder_id"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    holder_id: Mapped[str] = mapped_column(String(40))
    adjudications: Mapped[int] = mapped_column(BigInteger)


class ClaimDocument(TenantScoped, Base):
    """An object in the object store belonging to a claim (encrypted there; the key is opaque)."""

    __tablename__ = "claim_documents"
    __table_args__ = ({"schema": SCHEMA},)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    claim_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(24))
    """RAW_PAYLOAD, BILL, PRESCRIPTION, DISCHARGE_SUMMARY, EOB."""
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


# -- read models fed by other domains' events ------------------------------------------------------


class CoverageView(TenantScoped, Base):
    """A member's coverage spans as claims last learned them from enrollment's events."""

    __tablename__ = "claim_coverages"
    __table_args__ = (UniqueConstraint("tenant_id", "member_id", "policy_id"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    member_id: Mapped[uuid.UUID]
    policy_id: Mapped[uuid.UUID]
    family_id: Mapped[str | None] = mapped_column(String(40))
    """The policy id when more than the subscriber is covered (not self-only)."""
    plan_id: Mapped[uuid.UUID]
    plan_code: Mapped[str] = mapped_column(String(40))
    plan_type: Mapped[str] = mapped_column(String(16))
    """The catalog's type (PPO, HMO, EPO, HDHP, POS, SUM_INSURED), as reports state it (an 835's
    CLP06); adjudication reads it through ``plan_mapping.engine_plan_type`` (POS as a PPO). A copy
    made before POS was kept says PPO until the policy is copied again."""
    periods: Mapped[list[list[str | None]]] = mapped_column(JSON)
    """``[[from, to_or_null], ...]`` ISO dates."""
    birth_date: Mapped[date | None] = phi_column("date")
    """For age-based rules (the sum-insured senior co-pay): PHI, sealed."""
    pre_existing: Mapped[dict[str, Any] | None] = phi_column("json")
    """Declared pre-existing diseases: ``{"codes": [ICD-10-CM prefixes], "months": waiting or null}``."""
    synced_at: Mapped[datetime]


class BenefitScheduleView(TenantScoped, Base):
    """A plan version's benefit schedule in the engine's shape (JSON, see ``snapshots.py``)."""

    __tablename__ = "claim_benefit_schedules"
    __table_args__ = (UniqueConstraint("tenant_id", "plan_code", "plan_version"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    plan_code: Mapped[str] = mapped_column(String(40))
    plan_version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]
    appeal_window_days: Mapped[int] = mapped_column(Integer)
    schedule: Mapped[dict[str, Any]] = mapped_column(JSON)
    synced_at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(Integer)
    """Counts the row's updates (the mapper's version column): adjudication caches the parsed schedule
    by (id, revision), so an update is seen at once, in every process."""

    __mapper_args__ = {"version_id_col": revision}


class ProviderView(TenantScoped, Base):
    """A provider's network standing and contract rates, from provider's events."""

    __tablename__ = "claim_providers"
    __table_args__ = (UniqueConstraint("tenant_id", "npi"), {"schema": SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    npi: Mapped[str] = mapped_column(String(10))
    provider_id: Mapped[uuid.UUID]
    credentialing_status: Mapped[str] = mapped_column(String(16))
    network_status: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str | None] = mapped_column(String(20))
    contract_id: Mapped[uuid.UUID | None]
    contract_from: Mapped[date | None]
    contract_to: Mapped[date | None]
    contract: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The contract's rates in the engine's shape (see ``snapshots.py``)."""
    periods: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    """Every stretch of days a contract puts the provider in a network (``provider.public.
    contract_periods``), each ``{"from", "to" (null: open-ended), "contractId", "tier", "rates"}``
    with the contract's rates in the engine's shape: adjudication takes the one covering the date
    of service (in network on it when credentialed). None on a copy made before periods were kept:
    then ``network_status`` and the contract and dates above decide, as they did."""
    synced_at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(Integer)
    """Counts the row's updates (the mapper's version column): the parsed contract is cached by
    (id, revision)."""

    __mapper_args__ = {"version_id_col": revision}
