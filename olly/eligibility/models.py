"""The eligibility read model: one row per person per coverage span, copied from enrollment."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from olly.platform.crypto import blind_index_column, phi_column
from olly.platform.db import Base, TenantScoped


class CoverageRecord(TenantScoped, Base):
    __tablename__ = "coverage_records"
    __table_args__ = (
        Index("ix_coverage_records_member", "tenant_id", "party_id", "valid_from"),
        Index("ix_coverage_records_policy_party", "tenant_id", "policy_id", "party_id"),
        {"schema": "eligibility"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    party_id: Mapped[uuid.UUID]
    policy_id: Mapped[uuid.UUID]
    account_id: Mapped[uuid.UUID]
    subscriber_party_id: Mapped[uuid.UUID]
    market: Mapped[str] = mapped_column(String(16))
    policy_status: Mapped[str] = mapped_column(String(24))
    relationship: Mapped[str] = mapped_column(String(24))
    member_number: Mapped[str] = phi_column("text", nullable=False)
    member_number_index: Mapped[bytes | None] = blind_index_column("member_number", "alnum")
    plan_id: Mapped[uuid.UUID]
    plan_code: Mapped[str] = mapped_column(String(40))
    coverage_type: Mapped[str] = mapped_column(String(16))
    tier_code: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    synced_at: Mapped[datetime]


class AccumulatorBalance(TenantScoped, Base):
    """Deductible and out-of-pocket spending of a member (or a family) in a plan year, from claims'
    ``claims.accumulator.updated`` events; the answer subtracts it from the plan's amounts."""

    __tablename__ = "eligibility_accumulators"
    __table_args__ = (
        Index("uq_eligibility_accumulators_holder", "tenant_id", "holder_id", "level", "plan_year", unique=True),
        {"schema": "eligibility"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    holder_id: Mapped[uuid.UUID]
    """The member (level MEMBER) or the family, i.e. the policy (level FAMILY)."""
    level: Mapped[str] = mapped_column(String(8))
    plan_year: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    deductible_in_network_minor: Mapped[int] = mapped_column(BigInteger)
    deductible_out_of_network_minor: Mapped[int] = mapped_column(BigInteger)
    out_of_pocket_in_network_minor: Mapped[int] = mapped_column(BigInteger)
    out_of_pocket_out_of_network_minor: Mapped[int] = mapped_column(BigInteger)
    as_of: Mapped[datetime]
