"""Request and response models of the enrollment domain."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from olly.enrollment.rules import (
    CobraCaseEnd,
    CobraEnd,
    CobraEvent,
    CobraExtension,
    CobraSecondEvent,
    Market,
    QualifyingEvent,
    Relationship,
    TerminationReason,
    WithdrawalReason,
)


class DependentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party_id: uuid.UUID
    relationship: Relationship


class EnrollmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    market: Market
    account_id: uuid.UUID
    subscriber_party_id: uuid.UUID
    plan_code: str = Field(min_length=1, max_length=40, description="the plan chosen; its version in force applies")
    effective_date: date
    qualifying_event: QualifyingEvent = QualifyingEvent.OPEN_ENROLLMENT
    event_date: date | None = Field(None, description="date of the qualifying event, when there is one")
    dependents: list[DependentCreate] = Field(default_factory=list, max_length=20)


class DependentAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party_id: uuid.UUID
    relationship: Relationship
    qualifying_event: QualifyingEvent
    event_date: date


class DependentRemove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party_id: uuid.UUID
    reason: TerminationReason
    termination_date: date | None = None


class DependentReinstate(BaseModel):
    """Undo the dependent's last removal (no gap in cover): the coverage the removal ended is restored."""

    model_config = ConfigDict(extra="forbid")

    party_id: uuid.UUID


class PlanChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_code: str = Field(min_length=1, max_length=40)
    qualifying_event: QualifyingEvent
    event_date: date


class Termination(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: TerminationReason
    termination_date: date | None = Field(None, description="last covered day; end of this month when omitted")


class CoveredPerson(BaseModel):
    party_id: uuid.UUID
    member_number: str
    relationship: Relationship
    valid_from: date
    valid_to: date | None


class PolicyRead(BaseModel):
    id: uuid.UUID
    policy_number: str
    market: Market
    status: str
    plan_id: uuid.UUID
    plan_code: str
    tier_code: str
    currency: str
    total_premium: str
    member_premium: str
    covered: list[CoveredPerson]


class CobraEventCreate(BaseModel):
    """A COBRA qualifying event on a group policy, as the plan administrator records it."""

    model_config = ConfigDict(extra="forbid")

    event: CobraEvent
    event_date: date = Field(description="the day employment ended, hours were cut, the divorce or death")
    party_id: uuid.UUID | None = Field(
        None, description="the dependent who loses cover (divorce, loss of dependent status); not for employee events"
    )
    employee_medicare_entitlement_date: date | None = Field(
        None,
        description="the day the employee became entitled to Medicare, when before a termination or reduced hours: "
        "the spouse and children may then continue 36 months from it",
    )
    employer_notified_on: date | None = Field(
        None,
        description="the day the employer told the plan administrator of a termination, reduced hours or death "
        "(it has 30 days; the notice is then due 14 days later, else 44 days after the event)",
    )


class CobraElection(BaseModel):
    """Qualified beneficiaries of one qualifying event who elect continuation together."""

    model_config = ConfigDict(extra="forbid")

    party_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)
    account_id: uuid.UUID | None = Field(
        None, description="the household account billed for the continuation; a new one when omitted"
    )


class CobraDisabilityCreate(BaseModel):
    """A Social Security disability determination of a qualified beneficiary, as notified to the plan."""

    model_config = ConfigDict(extra="forbid")

    party_id: uuid.UUID = Field(description="the disabled qualified beneficiary")
    disabled_since: date = Field(description="the onset of the disability the Social Security Administration found")
    determined_on: date = Field(description="the date of the Social Security Administration's determination")


class CobraSecondEventCreate(BaseModel):
    """A second qualifying event during an 18-month continuation, as notified by the beneficiaries."""

    model_config = ConfigDict(extra="forbid")

    event: CobraSecondEvent
    event_date: date
    party_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=20, description="the spouse or children the event concerns"
    )
    account_id: uuid.UUID | None = Field(
        None, description="the household account billed if they leave the employee's continuation policy"
    )
    group_cover_would_end: bool | None = Field(
        None,
        description="for the employee's MEDICARE_ENTITLEMENT only (and required then): whether the group plan's "
        "terms end a spouse's and children's cover when the employee becomes entitled to Medicare. Only then is "
        "the entitlement a second qualifying event (it would have ended their cover had it come first)",
    )


class CobraEndCreate(BaseModel):
    """Continuation ends early: the beneficiary is covered by another group plan or by Medicare."""

    model_config = ConfigDict(extra="forbid")

    party_id: uuid.UUID
    reason: CobraEnd
    event_date: date = Field(description="the first day of the other group cover or of the Medicare entitlement")
    end_date: date | None = Field(None, description="the last day of continuation; the end of this month when omitted")
    account_id: uuid.UUID | None = Field(
        None, description="the household account billed if others stay on continuation without the subscriber"
    )


class CobraCaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    group_policy_id: uuid.UUID
    party_id: uuid.UUID
    relationship: Relationship
    qualifying_event: CobraEvent
    event_date: date
    loss_date: date
    notice_date: date
    election_deadline: date
    continuation_end: date
    status: str
    cobra_policy_id: uuid.UUID | None
    elected_on: date | None
    extension: CobraExtension | None = None
    premium_increase_from: date | None = None
    second_event: CobraSecondEvent | None = None
    second_event_date: date | None = None
    medicare_entitlement_date: date | None = None
    ended_on: date | None = None
    end_reason: CobraCaseEnd | None = None
    employer_notified_on: date | None = None
    notice_due: date | None = None
    is_notice_late: bool | None = None
    is_employer_notice_late: bool | None = None
    disability_notice_by: date | None = Field(
        None,
        description="the last day a Social Security disability determination may be told (within 60 days of it, "
        "and by this day: the end of the first 18 months); none for a 36-month event",
    )
    second_event_notice_deadline: date | None = Field(
        None, description="the recorded second qualifying event had to be told by this day (60 days after it)"
    )


class UnderwritingFlagCreate(BaseModel):
    """A medical-underwriting finding on one person of a policy (sum-insured markets only)."""

    model_config = ConfigDict(extra="forbid")

    party_id: uuid.UUID = Field(description="the person covered on the policy the finding is about")
    flag: Literal["PRE_EXISTING_DISEASE", "NAMED_ILLNESS", "LOADING", "EXCLUSION"]
    waiting_period_months: int | None = Field(
        None, ge=0, le=120, description="PRE_EXISTING_DISEASE: how long claims for the condition wait"
    )
    loading_percent: int | None = Field(None, ge=0, le=100, description="LOADING: the premium loading")
    detail: str | None = Field(None, max_length=500, description="the condition, in the underwriter's words")
    diagnosis_codes: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="ICD-10-CM codes or categories of the condition (E11 covers every E11.x)",
    )


class UnderwritingFlagRead(BaseModel):
    id: uuid.UUID
    party_id: uuid.UUID
    flag: str
    waiting_period_months: int | None
    loading_percent: int | None
    detail: str | None
    diagnosis_codes: list[str]
    recorded_at: datetime
    withdrawn_at: datetime | None = Field(
        None, description="when the finding was withdrawn; a withdrawn finding stays listed and applies no more"
    )
    withdrawal_reason: WithdrawalReason | None = None
    withdrawal_note: str | None = Field(None, description="the withdrawal, in the underwriter's words")


class UnderwritingWithdrawal(BaseModel):
    """Withdraw an underwriting finding recorded by mistake (it stays on record, marked withdrawn)."""

    model_config = ConfigDict(extra="forbid")

    reason: WithdrawalReason
    note: str | None = Field(
        None, max_length=500, description="the withdrawal, in the underwriter's words (required for OTHER)"
    )
