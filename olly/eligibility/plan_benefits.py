"""Eligibility's view of a plan's benefits, over ``olly.plans.public``.

"Remaining" here is the full amount; the answer subtracts what claims reported as spent
(``claims.accumulator.updated``, kept in ``eligibility_accumulators``).
"""

from __future__ import annotations

import time
import uuid
from datetime import date

from olly.eligibility import rules
from olly.plans import public as plans
from olly.platform.db import UnitOfWork

#: Plans held at most (plan codes × service dates asked about); beyond it, all are dropped at once.
_MAX_HELD = 10_000

_NETWORKS = ((plans.Network.IN_NETWORK, "IN_NETWORK"), (plans.Network.OUT_OF_NETWORK, "OUT_OF_NETWORK"))


def _share(share: plans.CostShare | None) -> rules.CostShareView | None:
    if share is None:
        return None
    return rules.CostShareView(share.copay, share.coinsurance_percent, share.deductible_applies)


def _accumulators(terms: plans.AccumulatorTerms | None) -> list[rules.Accumulator]:
    found = []
    for network, label in _NETWORKS:
        amounts = terms.amounts(network) if terms is not None else None
        if amounts is not None:
            found.append(
                rules.Accumulator(label, amounts.individual, amounts.individual, amounts.family, amounts.family)
            )
    return found


class PlanBenefitSource:
    """``hold_seconds``: keep each (tenant, plan, date) answer that long in memory. Every member of a
    plan shares it, so an eligibility answer computed again (a cache miss, a refresh) does not look
    the plan up twice; a newly loaded plan version reaches answers that much later."""

    def __init__(self, hold_seconds: float = 0.0) -> None:
        self._hold = hold_seconds
        self._held: dict[tuple[uuid.UUID, str, date], tuple[float, rules.PlanBenefits | None]] = {}

    def benefits(self, uow: UnitOfWork, plan_code: str, on: date, row: rules.CoverageRow) -> rules.PlanBenefits | None:
        if self._hold <= 0:
            return self._load(uow, plan_code, on)
        key = (uow.require_tenant(), plan_code, on)
        now = time.monotonic()
        held = self._held.get(key)
        if held is not None and held[0] > now:
            return held[1]
        found = self._load(uow, plan_code, on)
        if len(self._held) >= _MAX_HELD:
            self._held.clear()
        self._held[key] = (now + self._hold, found)
        return found

    def _load(self, uow: UnitOfWork, plan_code: str, on: date) -> rules.PlanBenefits | None:
        schedule = plans.benefit_schedule(uow, plan_code, on)
        info = plans.plan_version_in_force(uow, plan_code, on)
        if schedule is None or info is None:
            return None
        services = {
            category.value: rules.ServiceBenefit(
                category.value,
                benefit.covered,
                _share(benefit.cost_share(plans.Network.IN_NETWORK)),
                _share(benefit.cost_share(plans.Network.OUT_OF_NETWORK)),
                benefit.requires_prior_auth,
            )
            for category, benefit in schedule.benefits.items()
        }
        return rules.PlanBenefits(
            plan_name=info.name,
            plan_type=schedule.plan_type.value,
            currency=schedule.currency,
            services=services,
            deductibles=_accumulators(schedule.deductible),
            out_of_pocket=_accumulators(schedule.out_of_pocket_max),
        )
