"""Enrollment's view of the plans domain, over ``olly.plans.public``."""

from __future__ import annotations

from datetime import date, timedelta

from olly.enrollment.rules import Market, Relationship
from olly.enrollment.service import PlanChoice, RatedMember
from olly.kernel.errors import FieldError, ValidationFailed
from olly.kernel.periods import add_months, age_on
from olly.plans import public as plans
from olly.platform.db import UnitOfWork

_RELATIONSHIPS = {
    Relationship.SELF: plans.Relationship.SUBSCRIBER,
    Relationship.SPOUSE: plans.Relationship.SPOUSE,
    Relationship.DOMESTIC_PARTNER: plans.Relationship.DOMESTIC_PARTNER,
    Relationship.CHILD: plans.Relationship.CHILD,
    Relationship.PARENT: plans.Relationship.PARENT,
    Relationship.PARENT_IN_LAW: plans.Relationship.PARENT_IN_LAW,
    Relationship.SIBLING: plans.Relationship.SIBLING,
}


def _fits(market: Market, info: plans.PlanVersionInfo) -> bool:
    if market == Market.SUM_INSURED:
        return info.plan_type == plans.PlanType.SUM_INSURED
    if info.plan_type == plans.PlanType.SUM_INSURED:
        return False
    if market in (Market.GROUP, Market.COBRA):
        return info.market.is_group
    return info.market == plans.Market.INDIVIDUAL


class PlansCatalog:
    """The version of a plan in force on the coverage date, and its premium for one household."""

    def choose(
        self, uow: UnitOfWork, plan_code: str, on: date, market: Market, tier_code: str, members: list[RatedMember]
    ) -> PlanChoice:
        info = plans.plan_version_in_force(uow, plan_code, on)
        if info is None:
            raise ValidationFailed([FieldError("plan_code", "no such plan in force on that date", "unknown_plan")])
        if not _fits(market, info):
            raise ValidationFailed(
                [FieldError("plan_code", f"this plan is not sold in the {market.value} market", "wrong_market")]
            )
        request = plans.QuoteRequest(
            members=tuple(
                plans.QuotedMember(_RELATIONSHIPS[m.relationship], age_on(m.birth_date, on)) for m in members
            ),
            tier=plans.Tier(tier_code) if market == Market.GROUP else None,
        )
        quote = plans.quote_premium(uow, plan_code, on, request)
        if info.accumulator_period == plans.AccumulatorPeriod.CALENDAR_YEAR:
            start, end = on, date(on.year, 12, 31)
        else:
            start, end = on, add_months(on, 12) - timedelta(days=1)
        if info.effective_to is not None:
            end = min(end, info.effective_to)
        return PlanChoice(
            plan_id=info.version_id,
            plan_code=info.plan_code,
            coverage_type="MEDICAL",
            currency=quote.currency,
            period_start=start,
            period_end=end,
            total_premium_minor=quote.total_premium.amount,
            member_premium_minor=quote.member_premium.amount,
            premium_period=quote.period.value.upper(),
        )
