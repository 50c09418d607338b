"""Pure eligibility decisions: which coverage answers a question, and what the member pays.

Service types are the X12 EB03 / 270 EQ01 service type codes a provider asks about; each maps to
the plan's benefit category. The labels here are Olly's own short descriptions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from olly.kernel.money import Money

#: X12 service type code → (Olly's label, plan benefit category or None for "the plan in general").
SERVICE_TYPES: Mapping[str, tuple[str, str | None]] = {
    "30": ("health benefit plan coverage", None),
    "1": ("medical care", "office_visit"),
    "4": ("diagnostic x-ray", "imaging"),
    "5": ("diagnostic lab", "lab"),
    "12": ("durable medical equipment", "dme"),
    "33": ("chiropractic", "chiropractic"),
    "35": ("dental care", "dental"),
    "42": ("home health care", "home_health"),
    "45": ("hospice", "hospice"),
    "47": ("hospital", "inpatient_facility"),
    "48": ("hospital inpatient", "inpatient_facility"),
    "50": ("hospital outpatient", "outpatient_surgery"),
    "51": ("emergency: accident", "emergency"),
    "52": ("emergency: medical", "emergency"),
    "53": ("ambulatory surgery", "outpatient_surgery"),
    "62": ("MRI or CT scan", "advanced_imaging"),
    "69": ("maternity", "maternity"),
    "86": ("emergency services", "emergency"),
    "88": ("pharmacy", "pharmacy_generic"),
    "98": ("physician office visit", "office_visit"),
    "AD": ("occupational therapy", "rehabilitation"),
    "AE": ("physical medicine", "rehabilitation"),
    "AG": ("skilled nursing", "skilled_nursing"),
    "AL": ("vision", "vision"),
    "BY": ("office visit: well", "preventive"),
    "BZ": ("office visit: sick", "office_visit"),
    "MH": ("mental health", "mental_health_outpatient"),
    "UC": ("urgent care", "urgent_care"),
}


def category_for(service_type: str) -> str | None:
    """The benefit category of an X12 service type code, or of a category named directly."""
    known = SERVICE_TYPES.get(service_type.upper())
    if known is not None:
        return known[1]
    return service_type.lower()


@dataclass(frozen=True, slots=True)
class CoverageRow:
    policy_id: uuid.UUID
    account_id: uuid.UUID
    party_id: uuid.UUID
    subscriber_party_id: uuid.UUID
    market: str
    policy_status: str
    relationship: str
    member_number: str
    plan_id: uuid.UUID
    plan_code: str
    coverage_type: str
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class CostShareView:
    copay: Money
    coinsurance_percent: Decimal
    deductible_applies: bool


@dataclass(frozen=True, slots=True)
class ServiceBenefit:
    category: str | None
    covered: bool
    in_network: CostShareView | None
    out_of_network: CostShareView | None
    requires_prior_auth: bool


@dataclass(frozen=True, slots=True)
class Accumulator:
    """A deductible or out-of-pocket maximum and how much of it is left (individual and family)."""

    network: str
    individual: Money
    individual_remaining: Money
    family: Money
    family_remaining: Money


@dataclass(frozen=True, slots=True)
class PlanBenefits:
    """Eligibility's view of the plan in force on the date asked about."""

    plan_name: str
    plan_type: str
    currency: str
    services: Mapping[str, ServiceBenefit]
    deductibles: Sequence[Accumulator]
    out_of_pocket: Sequence[Accumulator]


@dataclass(frozen=True, slots=True)
class Decision:
    covered: bool
    reason: str
    """COVERED, NOT_FOUND, NOT_COVERED_ON_DATE, PENDING_ACTIVATION or TERMINATED."""
    row: CoverageRow | None


def decide(rows: Sequence[CoverageRow], on: date) -> Decision:
    """Which of a person's coverage rows answers for ``on``, and whether that is active cover."""
    if not rows:
        return Decision(False, "NOT_FOUND", None)
    current = [r for r in rows if r.valid_from <= on and (r.valid_to is None or on <= r.valid_to)]
    active = [r for r in current if r.policy_status in {"ACTIVE", "TERMINATED"}]
    if active:
        # two policies on one day (coordination of benefits) answer with the earliest-starting one
        return Decision(True, "COVERED", min(active, key=lambda r: (r.valid_from, str(r.policy_id))))
    if current:
        return Decision(False, "PENDING_ACTIVATION", current[0])
    latest = max(rows, key=lambda r: r.valid_from)
    ended = latest.valid_to is not None and latest.valid_to < on
    return Decision(False, "TERMINATED" if ended else "NOT_COVERED_ON_DATE", latest)


def service_benefit(benefits: PlanBenefits, service_type: str) -> ServiceBenefit:
    category = category_for(service_type)
    if category is None:
        return ServiceBenefit(None, True, None, None, False)
    return benefits.services.get(category) or ServiceBenefit(category, False, None, None, False)
