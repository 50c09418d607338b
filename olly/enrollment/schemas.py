"""Request and response models of the enrollment domain."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from olly.enrollment.rules import CobraEvent, Market, QualifyingEvent, Relationship, TerminationReason


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


class CobraElection(BaseModel):
    """Qualified beneficiaries of one qualifying event who elect continuation together."""

    model_config = ConfigDict(extra="forbid")

    party_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)
    account_id: uuid.UUID | None = Field(
        None, description="the household account billed for the continuation; a new one when omitted"
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
