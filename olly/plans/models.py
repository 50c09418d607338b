"""Tables of the plans domain (PostgreSQL schema ``plans``).

A plan version is written once and never updated: loading a new version adds a row, so "which
version was in force on date D" reads the same tomorrow as today. The canonical document is the
source of truth; ``plan_benefits`` is a flat copy of its cost sharing for queries and reports.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from olly.platform.db import Base, TenantScoped


class Plan(TenantScoped, Base):
    """A plan code; its content lives in its versions."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("tenant_id", "code"), {"schema": "plans"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


class PlanVersionRecord(TenantScoped, Base):
    """One immutable version of a plan, effective from a date."""

    __tablename__ = "plan_versions"
    __table_args__ = (
        UniqueConstraint("plan_id", "version"),
        UniqueConstraint("plan_id", "effective_from"),
        {"schema": "plans"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.plans.id"))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    market: Mapped[str] = mapped_column(String(16))
    plan_type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    metal_level: Mapped[str | None] = mapped_column(String(16))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    document_sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(200))
    loaded_at: Mapped[datetime]


class BenefitRecord(TenantScoped, Base):
    """The member's cost share for one category in one network of one plan version."""

    __tablename__ = "plan_benefits"
    __table_args__ = (UniqueConstraint("plan_version_id", "category", "network"), {"schema": "plans"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    plan_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.plan_versions.id"))
    category: Mapped[str] = mapped_column(String(40))
    network: Mapped[str] = mapped_column(String(16))
    covered: Mapped[bool] = mapped_column(Boolean)
    copay_minor: Mapped[int | None] = mapped_column(BigInteger)
    copay_applies: Mapped[str | None] = mapped_column(String(24))
    deductible_applies: Mapped[bool | None] = mapped_column(Boolean)
    coinsurance_basis_points: Mapped[int | None] = mapped_column(Integer)
    """Coinsurance in hundredths of a percent (20% is 2000): exact on both engines."""
    requires_prior_auth: Mapped[bool] = mapped_column(Boolean)
    requires_referral: Mapped[bool] = mapped_column(Boolean)
