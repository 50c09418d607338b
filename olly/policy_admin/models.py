"""Tables of the policy_admin domain. Personal data of individuals is PHI: encrypted, and
blind-indexed where it must be found by exact match."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from olly.platform.crypto import blind_index_column, phi_column
from olly.platform.db import Base, TenantScoped


class Party(TenantScoped, Base):
    """A person or an organisation."""

    __tablename__ = "parties"
    __table_args__ = {"schema": "policy_admin"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``INDIVIDUAL`` or ``ORGANISATION``."""
    display_name: Mapped[str] = phi_column("text", nullable=False)
    given_name: Mapped[str | None] = phi_column("text")
    family_name: Mapped[str | None] = phi_column("text")
    birth_date: Mapped[date | None] = phi_column("date")
    gender: Mapped[str | None] = phi_column("text")
    """Administrative gender as enrollment and X12 carry it: M, F or U (unknown); None when never given."""
    ssn: Mapped[str | None] = phi_column("text")
    """US Social Security number, or another national identifier per ``national_id_scheme``."""
    national_id_scheme: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[dict[str, Any] | None] = phi_column("json")
    phone: Mapped[str | None] = phi_column("text")
    email: Mapped[str | None] = phi_column("text")
    ssn_index: Mapped[bytes | None] = blind_index_column("ssn", "digits")
    birth_date_index: Mapped[bytes | None] = blind_index_column("birth_date", "date")
    family_name_index: Mapped[bytes | None] = blind_index_column("family_name", "casefold")
    created_at: Mapped[datetime]


class Account(TenantScoped, Base):
    """The billing entity: an employer group (``GROUP``) or an individual household (``HOUSEHOLD``)."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "account_number"), {"schema": "policy_admin"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    account_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    """A group's trading name; a household account is named after its number, never its people."""
    billing_level: Mapped[str] = mapped_column(String(16))
    """``ACCOUNT`` (one list bill for the group) or ``MEMBER`` (each subscriber billed)."""
    currency: Mapped[str] = mapped_column(String(3))
    party_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("policy_admin.parties.id"))
    created_at: Mapped[datetime]


class PartyRole(TenantScoped, Base):
    """A party's role on an account (sponsor, administrator, subscriber, payer …)."""

    __tablename__ = "party_roles"
    __table_args__ = {"schema": "policy_admin"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy_admin.parties.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy_admin.accounts.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]


class PartyGroupRegistration(TenantScoped, Base):
    """A person an employer group's administrator registered: that group may enrol them.

    An employer administrator sees and changes only its group's people. A person belongs to a group
    once the group's policy covers them, so this row is what lets the administrator enrol someone
    they registered themselves, and nobody else registered by another group or by the plan's staff."""

    __tablename__ = "party_group_registrations"
    __table_args__ = {"schema": "policy_admin"}

    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy_admin.parties.id"), primary_key=True)
    group_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy_admin.accounts.id"), primary_key=True)
    registered_at: Mapped[datetime]
