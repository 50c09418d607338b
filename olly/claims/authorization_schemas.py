"""Prior-authorisation and appeal API bodies (camelCase on the wire)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class RequestedServiceIn(ApiModel):
    procedure_code: str = Field(min_length=1, max_length=8, description="CPT or HCPCS Level II")
    units: int = Field(ge=1, le=9999)


class PriorAuthCreate(ApiModel):
    member_id: uuid.UUID = Field(description="the member's party id")
    requesting_provider_id: uuid.UUID
    requesting_npi: str = Field(pattern=r"^\d{10}$")
    services: list[RequestedServiceIn] = Field(min_length=1, max_length=50)
    service_from: date
    service_to: date
    expedited: bool = False
    plan_id: uuid.UUID | None = None
    diagnosis_codes: list[str] = Field(default_factory=list, max_length=12)
    clinical_notes: str | None = Field(None, max_length=20000)


class ApprovedServiceIn(ApiModel):
    procedure_code: str = Field(min_length=1, max_length=8)
    units: int = Field(ge=1, le=9999)


class PriorAuthDecisionIn(ApiModel):
    outcome: Literal["APPROVED", "PARTIALLY_APPROVED", "DENIED"]
    approved: list[ApprovedServiceIn] = Field(default_factory=list, max_length=50)
    valid_from: date | None = None
    valid_to: date | None = None
    denial_reason_code: str | None = Field(None, max_length=8, description="CARC, e.g. 50 (not medically necessary)")
    note: str | None = Field(None, max_length=5000)


class PriorAuthServiceRead(ApiModel):
    line_number: int
    procedure_code: str
    units_requested: int
    units_approved: int | None
    units_used: int


class PriorAuthRead(ApiModel):
    id: uuid.UUID
    member_id: uuid.UUID
    requesting_provider_id: uuid.UUID
    requesting_npi: str
    plan_id: uuid.UUID | None
    expedited: bool
    status: str
    service_from: date
    service_to: date
    services: list[PriorAuthServiceRead]
    diagnosis_codes: list[str]
    clinical_notes: str | None
    received_at: datetime
    decision_due_at: datetime
    overdue: bool
    escalated_at: datetime | None
    decided_at: datetime | None
    decided_late: bool
    valid_from: date | None
    valid_to: date | None
    denial_reason_code: str | None
    decision_note: str | None


class AppealCreate(ApiModel):
    reason: str = Field(min_length=1, max_length=20000)
    documents_reference: str | None = Field(None, max_length=500)


class AppealDecisionIn(ApiModel):
    outcome: Literal["UPHELD", "OVERTURNED"]
    note: str = Field(min_length=1, max_length=5000)
    lines: list[Annotated[int, Field(ge=1)]] | None = Field(
        None,
        min_length=1,
        max_length=999,
        description="An overturn's lines of the claim it allows (line numbers); absent: every line.",
    )


class AppealRead(ApiModel):
    id: uuid.UUID
    claim_id: uuid.UUID
    member_id: uuid.UUID
    provider_id: uuid.UUID
    level: str
    status: str
    reason: str | None
    documents_reference: str | None
    filed_at: datetime
    appeal_deadline: date
    decision_due_at: datetime
    overdue: bool
    decided_at: datetime | None
    decision_note: str | None
    allowed_lines: list[int] | None = Field(
        None, description="The lines an overturn allowed; null when it allowed every line (or was upheld)."
    )
