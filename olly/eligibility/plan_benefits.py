"""Eligibility's view of a plan's benefits, over ``olly.plans.public``.

"Remaining" here is the full amount; the answer subtracts what claims reported as spent
(``claims.accumulator.updated``, kept in ``eligibility_accumulators``).
"""

from __future__ import annotations

from datetime import date

from olly.eligibility import rules
from olly.plans import public as plans
from olly.platform.db import UnitOfWork

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
    def benefits(self, uow: UnitOfWork, plan_code: str, on: date, row: rules.CoverageRow) -> rules.PlanBenefits | None:
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
