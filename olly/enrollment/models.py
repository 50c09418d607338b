"""Tables of the enrollment domain (seed 004: Policy, PolicyTerm, PolicyElement, PolicyTransaction).

Coverage is recorded as **spans** that are never updated in place: a change closes the knowledge of
the old span (``superseded_at``) and records new spans, so "who was covered on date D" has one answer
for what is known now and can still be asked "as it stood" at any earlier moment.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from olly.platform.crypto import blind_index_column, phi_column
from olly.platform.db import Base, TenantScoped


class Policy(TenantScoped, Base):
    """The insurance contract of one subscriber (and their dependents) on one account."""

    __tablename__ = "policies"
    __table_args__ = (
        UniqueConstraint("tenant_id", "policy_number"),
        UniqueConstraint("tenant_id", "account_id", "subscriber_external_id"),
        {"schema": "enrollment"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    policy_number: Mapped[str] = mapped_column(String(32))
    market: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[uuid.UUID] = mapped_column(index=True)
    """policy_admin account (employer group or household); a reference, not a foreign key across domains."""
    subscriber_party_id: Mapped[uuid.UUID] = mapped_column(index=True)
    subscriber_external_id: Mapped[str | None] = mapped_column(String(64))
    """The employer's id for the employee (from a roster or an 834), unique within the account."""
    status: Mapped[str] = mapped_column(String(24))
    """SUBMITTED → ACTIVE → TERMINATED, or ACTIVATION_FAILED / CANCELLED."""
    status_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class PolicyTerm(TenantScoped, Base):
    """One coverage period of a policy under one plan (a plan change mid-year starts a new term)."""

    __tablename__ = "policy_terms"
    __table_args__ = {"schema": "enrollment"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollment.policies.id"), index=True)
    plan_id: Mapped[uuid.UUID]
    """The plan version in force (plans domain)."""
    plan_code: Mapped[str] = mapped_column(String(40))
    coverage_type: Mapped[str] = mapped_column(String(16))
    tier_code: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date]
    period_end: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    total_premium_minor: Mapped[int] = mapped_column(BigInteger)
    member_premium_minor: Mapped[int] = mapped_column(BigInteger)
    premium_period: Mapped[str] = mapped_column(String(8))
    """``MONTHLY`` or ``ANNUAL``: what the two premium amounts above are per."""
    created_at: Mapped[datetime]


class PolicyElement(TenantScoped, Base):
    """One covered person on a policy: the subscriber (``employee``) or a ``dependent``."""

    __tablename__ = "policy_elements"
    __table_args__ = {"schema": "enrollment"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollment.policies.id"), index=True)
    party_id: Mapped[uuid.UUID] = mapped_column(index=True)
    element_type: Mapped[str] = mapped_column(String(16))
    relationship: Mapped[str] = mapped_column(String(24))
    member_number: Mapped[str] = phi_column("text", nullable=False)
    """The number on the member's ID card: a health plan beneficiary number, so PHI."""
    member_number_index: Mapped[bytes | None] = blind_index_column("member_number", "alnum")
    coverage_terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The benefit schedule reference of this person (plan code and version, tier, cover options)."""
    created_at: Mapped[datetime]


class CoverageSpan(TenantScoped, Base):
    """A person covered under a term from ``valid_from`` to ``valid_to`` (inclusive; open when null),
    as recorded at ``recorded_at`` and believed until ``superseded_at``."""

    __tablename__ = "coverage_spans"
    __table_args__ = (
        Index("ix_coverage_spans_current", "tenant_id", "party_id", "superseded_at"),
        {"schema": "enrollment"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    element_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollment.policy_elements.id"), index=True)
    term_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollment.policy_terms.id"), index=True)
    policy_id: Mapped[uuid.UUID] = mapped_column(index=True)
    party_id: Mapped[uuid.UUID]
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    recorded_at: Mapped[datetime]
    superseded_at: Mapped[datetime | None]
    transaction_id: Mapped[uuid.UUID]


class PolicyTransaction(TenantScoped, Base):
    """Every change to a policy, in the order it was made (seed 004)."""

    __tablename__ = "policy_transactions"
    __table_args__ = {"schema": "enrollment"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollment.policies.id"), index=True)
    transaction_type: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(40))
    event_date: Mapped[date | None]
    effective_date: Mapped[date]
    recorded_at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Ids and codes only; never personal data."""


class Quote(TenantScoped, Base):
    """A premium quote for a household or tier on one plan version, kept so an enrollment can refer
    to the price a person was shown (seed 004: Quote)."""

    __tablename__ = "quotes"
    __table_args__ = {"schema": "enrollment"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    market: Mapped[str] = mapped_column(String(16))
    plan_id: Mapped[uuid.UUID]
    plan_code: Mapped[str] = mapped_column(String(40))
    effective_date: Mapped[date]
    tier_code: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    total_premium_minor: Mapped[int] = mapped_column(BigInteger)
    member_premium_minor: Mapped[int] = mapped_column(BigInteger)
    premium_period: Mapped[str] = mapped_column(String(8))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """One line per rated person: relationship, age and premium (ages, not birth dates)."""
    valid_until: Mapped[date]
    created_at: Mapped[datetime]


class UnderwritingFlag(TenantScoped, Base):
    """A medical-underwriting finding on one person (seed 004): only where the market allows it —
    never in ACA individual or group markets, which rate on age, tobacco, area and family size only."""

    __tablename__ = "underwriting_flags"
    __table_args__ = {"schema": "enrollment"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollment.policies.id"), index=True)
    party_id: Mapped[uuid.UUID] = mapped_column(index=True)
    flag: Mapped[str] = mapped_column(String(32))
    """PRE_EXISTING_DISEASE, NAMED_ILLNESS, LOADING or EXCLUSION."""
    waiting_period_months: Mapped[int | None]
    loading_percent: Mapped[int | None]
    detail: Mapped[str | None] = phi_column("text")
    """The condition, in the underwriter's words: clinical, so PHI."""
    diagnosis_codes: Mapped[list[str] | None] = phi_column("json")
    """ICD-10-CM codes or categories of a declared condition (``E11`` covers every E11.x): PHI."""
    recorded_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    """When the finding was withdrawn (recorded by mistake, say): it stays on record, and applies no more."""
    withdrawal_reason: Mapped[str | None] = mapped_column(String(24))
    """rules.WithdrawalReason: a code, never the clinical story."""
    withdrawal_note: Mapped[str | None] = phi_column("text")
    """The underwriter's explanation of the withdrawal: free text about a person's health, so PHI."""


class CobraCase(TenantScoped, Base):
    """One qualified beneficiary's right to continue group cover after a qualifying event: the
    notice, the election window and, once elected, the continuation policy."""

    __tablename__ = "cobra_cases"
    __table_args__ = {"schema": "enrollment"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    group_policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollment.policies.id"), index=True)
    party_id: Mapped[uuid.UUID] = mapped_column(index=True)
    relationship: Mapped[str] = mapped_column(String(24))
    """The beneficiary's relationship to the employee on the group policy."""
    qualifying_event: Mapped[str] = mapped_column(String(32))
    event_date: Mapped[date]
    loss_date: Mapped[date]
    """The first day without group cover."""
    notice_date: Mapped[date]
    election_deadline: Mapped[date]
    continuation_end: Mapped[date]
    status: Mapped[str] = mapped_column(String(16))
    """OFFERED, then ELECTED; ENDED when continuation stopped before ``continuation_end``."""
    cobra_policy_id: Mapped[uuid.UUID | None]
    elected_on: Mapped[date | None]
    transaction_id: Mapped[uuid.UUID]
    """The group policy's transaction that ended the cover (termination or dependent removal)."""
    created_at: Mapped[datetime]
    extension: Mapped[str | None] = mapped_column(String(24))
    """Why ``continuation_end`` is past the event's own months: DISABILITY, SECOND_EVENT or
    MEDICARE_ENTITLEMENT (rules.CobraExtension)."""
    premium_increase_from: Mapped[date | None]
    """On the disabled beneficiary's case: the first day (the 19th month) their continuation costs
    150 % of the full group premium."""
    disability: Mapped[dict[str, Any] | None] = phi_column("json")
    """The Social Security disability determination (onset, determination, notice dates): PHI."""
    second_event: Mapped[str | None] = mapped_column(String(32))
    second_event_date: Mapped[date | None]
    medicare_entitlement_date: Mapped[date | None]
    """The employee's Medicare entitlement, when it came before an employment event."""
    ended_on: Mapped[date | None]
    """The last day of continuation when it ended early."""
    end_reason: Mapped[str | None] = mapped_column(String(32))
    """OTHER_GROUP_COVERAGE, MEDICARE_ENTITLEMENT, DEATH, NON_PAYMENT or CANCELLED (rules.CobraCaseEnd)."""
    notice_object_key: Mapped[str | None] = mapped_column(String(200))
    """The printed election notice (a sealed PDF in the object store)."""
    employer_notified_on: Mapped[date | None]
    """The day the employer told the plan administrator of its event, when given."""
    notice_due: Mapped[date | None]
    """The election notice's deadline (an employer's event only): 14 days after the employer told the
    administrator, else 44 days after the event (rules.cobra_notice_deadlines)."""
    is_notice_late: Mapped[bool | None]
    is_employer_notice_late: Mapped[bool | None]
    """The employer told the administrator more than 30 days after the event (None: not known)."""
    disability_notice_by: Mapped[date | None]
    """The last day the beneficiaries may tell the plan of a disability determination (within 60 days
    of it, and never after this day: the end of the first 18 months); None for a 36-month event."""
    second_event_notice_deadline: Mapped[date | None]
    """The last day the plan could be told of the recorded second event (60 days after it)."""
