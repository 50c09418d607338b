"""Remittance advice remark codes (RARC) that qualify a CARC on a claim line.

National code values with Olly's own short labels; the official texts are X12's and are not shipped.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Rarc(StrEnum):
    INVALID_REVENUE_CODE = "M50"
    INVALID_PROCEDURE_CODE = "M51"
    INVALID_DIAGNOSIS = "M76"
    INVALID_PLACE_OF_SERVICE = "M77"
    ALREADY_PAID_SAME_SERVICE = "M86"
    NOT_AS_AUTHORIZED = "N54"
    SEE_PLAN_BENEFITS = "N130"
    INVALID_BILLING_PROVIDER_ID = "N257"
    INVALID_RENDERING_PROVIDER_ID = "N290"
    UNITS_ABOVE_MAXIMUM = "N362"

    @property
    def label(self) -> str:
        return _RARC_LABELS[self]

    @classmethod
    def from_code(cls, code: str) -> Rarc:
        return cls(code.strip().upper())


_RARC_LABELS: Final[dict[Rarc, str]] = {
    Rarc.INVALID_REVENUE_CODE: "Revenue code missing or invalid",
    Rarc.INVALID_PROCEDURE_CODE: "Procedure code missing or invalid",
    Rarc.INVALID_DIAGNOSIS: "Diagnosis code missing, invalid or not billable",
    Rarc.INVALID_PLACE_OF_SERVICE: "Place of service missing or invalid",
    Rarc.ALREADY_PAID_SAME_SERVICE: "The same service was already paid",
    Rarc.NOT_AS_AUTHORIZED: "Service differs from what was authorized",
    Rarc.SEE_PLAN_BENEFITS: "See the plan's benefit documents for this limit or exclusion",
    Rarc.INVALID_BILLING_PROVIDER_ID: "Billing provider identifier missing or invalid",
    Rarc.INVALID_RENDERING_PROVIDER_ID: "Rendering provider identifier missing or invalid",
    Rarc.UNITS_ABOVE_MAXIMUM: "Days or units above the maximum accepted",
}
