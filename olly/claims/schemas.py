"""Request and response models of the claims API (JSON in camelCase; money as decimal strings)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from olly.claims.rules import CareSetting, ChargeType

_MONEY = r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?$"


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class ClaimLineCreate(_Camel):
    procedure_code: str | None = Field(None, pattern=r"^[A-Z0-9]{5}$")
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    revenue_code: str | None = Field(None, pattern=r"^[0-9]{4}$")
    charge_type: ChargeType | None = None
    units: int = Field(1, ge=1, le=9999)
    charge: str = Field(pattern=_MONEY, description="decimal string, e.g. 125.00")
    diagnosis_pointers: list[int] = Field(default_factory=lambda: [1], min_length=1, max_length=4)
    place_of_service: str | None = Field(None, pattern=r"^[0-9]{2}$")
    service_date_from: date
    service_date_to: date | None = None
    rendering_npi: str | None = Field(None, pattern=r"^[0-9]{10}$")

    @model_validator(mode="after")
    def _check(self) -> ClaimLineCreate:
        if any(len(m) != 2 or not m.isalnum() for m in self.modifiers):
            raise ValueError("modifiers are two letters or digits")
        if self.service_date_to is not None and self.service_date_to < self.service_date_from:
            raise ValueError("serviceDateTo is before serviceDateFrom")
        return self


class ClaimCreate(_Camel):
    """A professional (837P / CMS-1500) or institutional (837I / UB-04) claim."""

    claim_type: Literal["PROFESSIONAL", "INSTITUTIONAL"]
    member_id: uuid.UUID
    billing_npi: str = Field(pattern=r"^[0-9]{10}$")
    rendering_npi: str | None = Field(None, pattern=r"^[0-9]{10}$")
    place_of_service: str | None = Field(None, pattern=r"^[0-9]{2}$")
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    diagnoses: list[str] = Field(min_length=1, max_length=12)
    lines: list[ClaimLineCreate] = Field(min_length=1, max_length=50)
    frequency: Literal["1", "7", "8"] = "1"
    original_claim_id: uuid.UUID | None = None
    prior_auth_reference: str | None = Field(None, max_length=40)
    is_emergency: bool = False
    is_accident: bool = False
    is_ancillary: bool = False
    facility_in_network: bool = False
    care_setting: CareSetting | None = None
    inpatient_hours: int | None = Field(None, ge=0, le=100000)
    is_day_care: bool = False

    @model_validator(mode="after")
    def _check(self) -> ClaimCreate:
        if any(
            not 3 <= len(code.replace(".", "")) <= 7 or not code.replace(".", "").isalnum() for code in self.diagnoses
        ):
            raise ValueError("diagnoses are ICD-10-CM codes")
        for index, line in enumerate(self.lines):
            if any(pointer < 1 or pointer > len(self.diagnoses) for pointer in line.diagnosis_pointers):
                raise ValueError(f"lines[{index}].diagnosisPointers point outside diagnoses")
        if self.frequency in ("7", "8") and self.original_claim_id is None:
            raise ValueError("a replacement (7) or void (8) needs originalClaimId")
        if self.frequency == "1" and self.original_claim_id is not None:
            raise ValueError("originalClaimId goes with frequency 7 or 8 only")
        return self


MAX_BATCH_CLAIMS = 500
"""Claims in one ``POST /api/v1/claims/batch``."""


class ClaimBatchCreate(_Camel):
    """Claims sent together (a clearinghouse's batch): accepted all together or refused all together."""

    claims: list[ClaimCreate] = Field(min_length=1, max_length=MAX_BATCH_CLAIMS)


class ReimbursementCreate(_Camel):
    """A member reimbursement claim (OPD/IPD): the bill items; documents come as files alongside."""

    member_id: uuid.UUID
    billing_npi: str = Field(pattern=r"^[0-9]{10}$")
    currency: str | None = Field(
        None, pattern=r"^[A-Z]{3}$", description="absent: the currency of the member's plan (USD when none is found)"
    )
    care_setting: CareSetting
    place_of_service: str | None = Field(None, pattern=r"^[0-9]{2}$", description="US plans: where the care was given")
    diagnoses: list[str] = Field(min_length=1, max_length=12)
    lines: list[ClaimLineCreate] = Field(min_length=1, max_length=50)
    inpatient_hours: int | None = Field(None, ge=0, le=100000)
    is_day_care: bool = False
    is_accident: bool = False

    def as_claim(self, plan_currency: str | None = None) -> ClaimCreate:
        """The claim, in the currency stated, else ``plan_currency`` (the member's plan's), else USD."""
        return ClaimCreate(
            claim_type="INSTITUTIONAL" if self.care_setting is CareSetting.IPD else "PROFESSIONAL",
            member_id=self.member_id,
            billing_npi=self.billing_npi,
            place_of_service=self.place_of_service,
            currency=self.currency or plan_currency or "USD",
            diagnoses=self.diagnoses,
            lines=self.lines,
            care_setting=self.care_setting,
            inpatient_hours=self.inpatient_hours,
            is_day_care=self.is_day_care,
            is_accident=self.is_accident,
        )


class LineDecisionCreate(_Camel):
    decision: Literal["APPROVE", "DENY", "ADJUST"]
    reason: str = Field(min_length=1, max_length=8, description="a CARC, e.g. 50 or 45")
    note: str = Field(min_length=1, max_length=2000)
    paid_amount: str | None = Field(None, pattern=_MONEY, description="ADJUST: the line's new paid amount")

    @model_validator(mode="after")
    def _check(self) -> LineDecisionCreate:
        if (self.decision == "ADJUST") != (self.paid_amount is not None):
            raise ValueError("paidAmount goes with (and only with) ADJUST")
        return self
