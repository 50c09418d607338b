"""What other domains may ask the plans domain synchronously. Every result is frozen.

Enrollment asks which plan version is in force and what it costs; claims and eligibility ask for
the benefit schedule. They import this module only (never ``models``, ``repository`` or
``service``). The vocabulary they need is re-exported here.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from olly.plans import service
from olly.plans.rules import (
    AccumulatorPeriod,
    AccumulatorTerms,
    Administration,
    Benefit,
    BenefitCategory,
    BenefitLimit,
    BenefitSchedule,
    CopayApplies,
    CostShare,
    DependentRules,
    FamilyAmounts,
    FamilyDesign,
    GracePeriodRule,
    LimitKind,
    LimitPeriod,
    Market,
    MemberPremium,
    Network,
    NetworkAccumulation,
    OutOfNetworkAllowable,
    PlanType,
    PremiumPeriod,
    PremiumQuote,
    PriorAuthAction,
    PriorAuthorizationRules,
    QuotedMember,
    QuoteRequest,
    RatingMethod,
    Relationship,
    SumInsuredBasis,
    SumInsuredTerms,
    Tier,
    WaitingPeriods,
    proportional_deduction,
    tier_for,
)
from olly.platform.db import UnitOfWork

__all__ = [
    "DEMO_PLAN_CODES",
    "AccumulatorPeriod",
    "AccumulatorTerms",
    "Administration",
    "Benefit",
    "BenefitCategory",
    "BenefitLimit",
    "BenefitSchedule",
    "CopayApplies",
    "CostShare",
    "DependentRules",
    "FamilyAmounts",
    "FamilyDesign",
    "GracePeriodRule",
    "LimitKind",
    "LimitPeriod",
    "Market",
    "MemberPremium",
    "Network",
    "NetworkAccumulation",
    "OutOfNetworkAllowable",
    "PlanType",
    "PlanVersionInfo",
    "PremiumPeriod",
    "PremiumQuote",
    "PriorAuthAction",
    "PriorAuthorizationRules",
    "QuoteRequest",
    "QuotedMember",
    "RatingMethod",
    "Relationship",
    "SumInsuredBasis",
    "SumInsuredTerms",
    "Tier",
    "WaitingPeriods",
    "benefit_schedule",
    "benefit_schedule_document",
    "plan_version_in_force",
    "plans_in_force",
    "proportional_deduction",
    "quote_premium",
    "tier_for",
]

#: The demo plans ``olly plans load-demo`` (and ``olly demo seed``) load, by role.
DEMO_PLAN_CODES: Final[Mapping[str, str]] = {
    "employer_ppo": "OLLY-PPO-1000",
    "employer_hmo": "OLLY-HMO-250",
    "employer_hdhp": "OLLY-HDHP-3400",
    "aca_silver": "OLLY-ACA-SILVER",
    "family_floater": "OLLY-FLOATER-5L",
}


@dataclass(frozen=True, slots=True)
class PlanVersionInfo:
    """The facts enrollment needs about the version of a plan in force on a date."""

    plan_code: str
    plan_version: int
    version_id: uuid.UUID
    name: str
    market: Market
    plan_type: PlanType
    currency: str
    metal_level: str | None
    effective_from: date
    effective_to: date | None
    accumulator_period: AccumulatorPeriod
    dependents: DependentRules
    rating_method: RatingMethod
    premium_period: PremiumPeriod
    sum_insured_basis: SumInsuredBasis | None


def _info(stored: service.StoredVersion) -> PlanVersionInfo:
    plan = stored.plan
    terms = plan.schedule.sum_insured
    return PlanVersionInfo(
        plan_code=plan.code,
        plan_version=plan.version,
        version_id=stored.id,
        name=plan.name,
        market=plan.market,
        plan_type=plan.plan_type,
        currency=plan.currency,
        metal_level=plan.metal_level.value if plan.metal_level else None,
        effective_from=plan.effective_from,
        effective_to=plan.effective_to,
        accumulator_period=plan.schedule.accumulator_period,
        dependents=plan.dependents,
        rating_method=plan.rating.method,
        premium_period=plan.rating.period,
        sum_insured_basis=terms.basis if terms else None,
    )


def plan_version_in_force(uow: UnitOfWork, plan_code: str, on: date) -> PlanVersionInfo | None:
    """The version of ``plan_code`` in force on ``on``; None if the plan is unknown or not in force."""
    stored = service.find_version_in_force(uow, plan_code, on)
    return None if stored is None else _info(stored)


def plans_in_force(uow: UnitOfWork, on: date) -> list[PlanVersionInfo]:
    """Every plan with a version in force on ``on``, by plan code."""
    return [_info(stored) for stored in service.list_in_force(uow, on)]


def benefit_schedule(uow: UnitOfWork, plan_code: str, on: date) -> BenefitSchedule | None:
    """The benefit schedule in force on ``on`` (a date of service); None if there is none."""
    stored = service.find_version_in_force(uow, plan_code, on)
    return None if stored is None else stored.plan.schedule


def benefit_schedule_document(uow: UnitOfWork, plan_code: str, on: date) -> dict[str, Any] | None:
    """The canonical plan document in force on ``on`` (JSON-ready; money as decimal strings).

    This is the form a future ``plans`` event would carry for a claims read model. The caller
    gets its own copy.
    """
    stored = service.find_version_in_force(uow, plan_code, on)
    return None if stored is None else copy.deepcopy(dict(stored.document))


def quote_premium(uow: UnitOfWork, plan_code: str, on: date, request: QuoteRequest) -> PremiumQuote:
    """The premium for ``request`` on the version in force on ``on``.

    Raises ``NotFound`` (unknown plan, nothing in force) or ``ValidationFailed`` (the household
    or tier does not fit the plan), each naming the request field at fault.
    """
    return service.quote(uow, plan_code, on, request)
