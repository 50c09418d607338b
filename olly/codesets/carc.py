"""Claim adjustment group codes and claim adjustment reason codes (CARC) used on claim lines and the 835.

The code values are the national ones; the labels are Olly's own short wording, written for staff
and members. The official descriptions are copyrighted by X12 and are not shipped: an operator who
has them can show them beside these labels.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class GroupCode(StrEnum):
    """Who bears an adjustment (CAS01 on the 835)."""

    CONTRACTUAL = "CO"
    """The provider writes it off; the member may not be billed for it."""
    PATIENT_RESPONSIBILITY = "PR"
    """The member owes it (deductible, coinsurance, copay, an allowed balance bill)."""
    OTHER = "OA"
    """Neither party by contract (for example a reversal or a coordination-of-benefits amount)."""
    PAYER_INITIATED = "PI"
    """A payer reduction the provider may not bill the member for, outside any contract."""
    CORRECTION = "CR"
    """A correction or reversal of an earlier adjudication."""

    @property
    def label(self) -> str:
        return _GROUP_LABELS[self]


_GROUP_LABELS: Final[dict[GroupCode, str]] = {
    GroupCode.CONTRACTUAL: "Provider write-off",
    GroupCode.PATIENT_RESPONSIBILITY: "Member responsibility",
    GroupCode.OTHER: "Other adjustment",
    GroupCode.PAYER_INITIATED: "Payer reduction",
    GroupCode.CORRECTION: "Correction or reversal",
}


class CarcCategory(StrEnum):
    MEMBER_COST_SHARE = "member_cost_share"
    PRICING = "pricing"
    ELIGIBILITY = "eligibility"
    BILLING_ERROR = "billing_error"
    DUPLICATE = "duplicate"
    TIMELINESS = "timeliness"
    AUTHORIZATION = "authorization"
    NETWORK = "network"
    PROVIDER = "provider"
    BENEFIT = "benefit"
    CODING = "coding"
    COORDINATION = "coordination"


class Carc(StrEnum):
    """Claim adjustment reason codes the engine and the 835 use. Extend with care: codes are national."""

    DEDUCTIBLE = "1"
    COINSURANCE = "2"
    COPAY = "3"
    MODIFIER_INCONSISTENT = "4"
    PLACE_OF_SERVICE_INCONSISTENT = "5"
    AGE_INCONSISTENT = "6"
    DIAGNOSIS_INCONSISTENT = "11"
    AUTHORIZATION_MISMATCH = "15"
    MISSING_OR_INVALID_INFORMATION = "16"
    DUPLICATE = "18"
    OTHER_PAYER_PRIMARY = "22"
    BEFORE_COVERAGE = "26"
    AFTER_COVERAGE = "27"
    TIMELY_FILING = "29"
    NOT_OUR_MEMBER = "31"
    EXCEEDS_MAXIMUM_ALLOWABLE = "45"
    NOT_MEDICALLY_NECESSARY = "50"
    PRE_EXISTING_CONDITION = "51"
    NON_COVERED = "96"
    INCLUDED_IN_OTHER_SERVICE = "97"
    NOT_COVERED_BY_PAYER = "109"
    BENEFIT_MAXIMUM_REACHED = "119"
    PRIOR_PROCESSING_INCORRECT = "129"
    UNITS_NOT_SUPPORTED = "151"
    PROCEDURE_INVALID_ON_DATE = "181"
    AUTHORIZATION_ABSENT = "197"
    NOT_COVERED_BY_BENEFIT_PLAN = "204"
    OUT_OF_NETWORK = "242"
    PROVIDER_NOT_ELIGIBLE = "B7"

    @property
    def label(self) -> str:
        return _CARC_LABELS[self][0]

    @property
    def category(self) -> CarcCategory:
        return _CARC_LABELS[self][1]

    @classmethod
    def from_code(cls, code: str) -> Carc:
        """The member for a national code such as ``"45"``; ``ValueError`` for one Olly does not use."""
        return cls(code.strip().upper())


_C = CarcCategory
_CARC_LABELS: Final[dict[Carc, tuple[str, CarcCategory]]] = {
    Carc.DEDUCTIBLE: ("Applied to the deductible", _C.MEMBER_COST_SHARE),
    Carc.COINSURANCE: ("Coinsurance share", _C.MEMBER_COST_SHARE),
    Carc.COPAY: ("Copay", _C.MEMBER_COST_SHARE),
    Carc.MODIFIER_INCONSISTENT: ("Modifier does not fit the procedure", _C.CODING),
    Carc.PLACE_OF_SERVICE_INCONSISTENT: ("Procedure does not fit the place of service", _C.CODING),
    Carc.AGE_INCONSISTENT: ("Procedure does not fit the patient's age", _C.CODING),
    Carc.DIAGNOSIS_INCONSISTENT: ("Diagnosis does not support the procedure", _C.CODING),
    Carc.AUTHORIZATION_MISMATCH: ("Authorization missing or does not match the service", _C.AUTHORIZATION),
    Carc.MISSING_OR_INVALID_INFORMATION: ("Claim information missing or invalid", _C.BILLING_ERROR),
    Carc.DUPLICATE: ("Already processed: duplicate service", _C.DUPLICATE),
    Carc.OTHER_PAYER_PRIMARY: ("Another plan may pay first", _C.COORDINATION),
    Carc.BEFORE_COVERAGE: ("Service before coverage started", _C.ELIGIBILITY),
    Carc.AFTER_COVERAGE: ("Service after coverage ended", _C.ELIGIBILITY),
    Carc.TIMELY_FILING: ("Received after the filing deadline", _C.TIMELINESS),
    Carc.NOT_OUR_MEMBER: ("Patient not found as a member", _C.ELIGIBILITY),
    Carc.EXCEEDS_MAXIMUM_ALLOWABLE: ("Charge above the allowed amount", _C.PRICING),
    Carc.NOT_MEDICALLY_NECESSARY: ("Not considered medically necessary", _C.BENEFIT),
    Carc.PRE_EXISTING_CONDITION: ("Pre-existing condition not yet covered", _C.BENEFIT),
    Carc.NON_COVERED: ("Service not covered", _C.BENEFIT),
    Carc.INCLUDED_IN_OTHER_SERVICE: ("Paid as part of another service", _C.CODING),
    Carc.NOT_COVERED_BY_PAYER: ("Not covered by this plan; send to the right payer", _C.COORDINATION),
    Carc.BENEFIT_MAXIMUM_REACHED: ("Benefit limit reached", _C.BENEFIT),
    Carc.PRIOR_PROCESSING_INCORRECT: ("Earlier processing corrected", _C.BILLING_ERROR),
    Carc.UNITS_NOT_SUPPORTED: ("More units than allowed for this service", _C.CODING),
    Carc.PROCEDURE_INVALID_ON_DATE: ("Procedure code not valid on the service date", _C.CODING),
    Carc.AUTHORIZATION_ABSENT: ("Required prior authorization not on file", _C.AUTHORIZATION),
    Carc.NOT_COVERED_BY_BENEFIT_PLAN: ("Not covered under the member's plan", _C.BENEFIT),
    Carc.OUT_OF_NETWORK: ("Provider outside the plan's network", _C.NETWORK),
    Carc.PROVIDER_NOT_ELIGIBLE: ("Provider not eligible to be paid on this date", _C.PROVIDER),
}
