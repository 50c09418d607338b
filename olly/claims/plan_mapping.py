"""Maps the plans domain's benefit schedule (``olly.plans.public``) onto the engine's ``BenefitSchedule``,
and provider fee-schedule terms (``olly.provider.public``) onto the engine's ``Contract``.

Plans state cost sharing per benefit category but not which services fall in a category: that is
claims' coding knowledge, kept here as category rules (CPT/HCPCS ranges, revenue codes, places of
service, bill-item charge types), tried in order, first match wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from olly.claims.rules import (
    BenefitCategory,
    BenefitLimit,
    BenefitSchedule,
    CareSetting,
    CategoryRule,
    ChargeType,
    Contract,
    CostShare,
    FamilyDesign,
    LimitUnit,
    MissingAuthorization,
    NetworkAccumulation,
    NetworkLimits,
    OutOfNetworkPricing,
    PlanType,
    SubLimit,
    SubLimitPer,
    SumInsuredTerms,
)
from olly.kernel.money import Money
from olly.plans import public as plans
from olly.provider import public as provider

#: Named illnesses with their own waiting period → ICD-10-CM prefixes (sum-insured policies name
#: illnesses in words; the engine matches diagnosis codes).
NAMED_ILLNESS_CODES: Final[Mapping[str, tuple[str, ...]]] = {
    "cataract": ("H25", "H26", "H28"),
    "hernia": ("K40", "K41", "K42", "K43", "K44", "K45", "K46"),
    "benign prostatic hyperplasia": ("N40",),
    "joint replacement": ("M16", "M17"),
    "gallstones": ("K80",),
    "sinusitis": ("J01", "J32"),
    "piles": ("K64",),
    "kidney stones": ("N20",),
}

_R = CategoryRule

#: Service → benefit category, first match wins (categories a plan lacks are skipped).
CATEGORY_RULES: Final[tuple[CategoryRule, ...]] = (
    _R(category="emergency", emergency=True),
    _R(category="emergency", procedure_ranges=(("99281", "99285"),)),
    _R(category="emergency", places_of_service=frozenset({"23"})),
    _R(category="emergency", revenue_codes=frozenset({"0450", "0451", "0452", "0456", "0459"})),
    _R(category="preventive", procedure_ranges=(("99381", "99397"),)),
    _R(category="preventive", procedure_codes=frozenset({"G0438", "G0439", "G0402", "77067", "G0121", "90471"})),
    _R(category="ambulance", procedure_ranges=(("A0021", "A0999"),)),
    _R(category="ambulance", charge_types=frozenset({ChargeType.AMBULANCE})),
    _R(category="telehealth", places_of_service=frozenset({"02", "10"})),
    _R(category="urgent_care", places_of_service=frozenset({"20"})),
    _R(category="mental_health_outpatient", procedure_ranges=(("90785", "90899"),)),
    _R(category="chiropractic", procedure_ranges=(("98940", "98943"),)),
    _R(category="rehabilitation", procedure_ranges=(("97010", "97799"),)),
    _R(category="advanced_imaging", procedure_ranges=(("70450", "70559"), ("71250", "71275"), ("72125", "72159"))),
    _R(category="advanced_imaging", procedure_ranges=(("73200", "73225"), ("73700", "73725"), ("74150", "74185"))),
    _R(category="imaging", procedure_ranges=(("70010", "79999"),)),
    _R(category="lab", procedure_ranges=(("80047", "89398"),)),
    _R(category="dme", procedure_ranges=(("E0100", "E8002"),)),
    _R(category="inpatient_facility", revenue_codes=frozenset(f"0{n}" for n in range(100, 220))),
    _R(category="inpatient_facility", care_settings=frozenset({CareSetting.IPD})),
    _R(category="inpatient_professional", places_of_service=frozenset({"21"})),
    _R(category="outpatient_surgery", procedure_ranges=(("10004", "69990"),)),
    _R(category="specialist", procedure_ranges=(("99241", "99255"),)),
    _R(category="office_visit", procedure_ranges=(("99202", "99215"),)),
    _R(
        category="opd_pharmacy",
        charge_types=frozenset({ChargeType.PHARMACY}),
        care_settings=frozenset({CareSetting.OPD}),
    ),
    _R(
        category="opd_diagnostics",
        charge_types=frozenset({ChargeType.INVESTIGATIONS}),
        care_settings=frozenset({CareSetting.OPD}),
    ),
    _R(category="opd_consultation", care_settings=frozenset({CareSetting.OPD})),
)

_DEFAULT_ORDER: Final = ("office_visit", "inpatient_facility", "opd_consultation")


def _share(share: plans.CostShare | None) -> CostShare | None:
    if share is None:
        return None
    # A copay "instead of" the deductible means the deductible does not apply to the service.
    applies = share.deductible_applies and share.copay_applies is not plans.CopayApplies.INSTEAD_OF_DEDUCTIBLE
    return CostShare(copay=share.copay, coinsurance_percent=share.coinsurance_percent, deductible_applies=applies)


def _limit(benefit: plans.Benefit) -> BenefitLimit | None:
    for limit in benefit.limits:
        if limit.period is not plans.LimitPeriod.PLAN_YEAR:
            continue
        if limit.kind is plans.LimitKind.AMOUNT and limit.amount is not None:
            return BenefitLimit(unit=LimitUnit.AMOUNT, maximum=limit.amount.amount)
        if limit.quantity is not None:
            unit = LimitUnit.VISITS if limit.kind is plans.LimitKind.VISITS else LimitUnit.UNITS
            return BenefitLimit(unit=unit, maximum=limit.quantity)
    return None


def _network_limits(
    deductible: plans.AccumulatorTerms | None, oop: plans.AccumulatorTerms | None, network: plans.Network
) -> NetworkLimits:
    d = deductible.amounts(network) if deductible else None
    o = oop.amounts(network) if oop else None
    return NetworkLimits(
        deductible_individual=d.individual if d else None,
        deductible_family=d.family if d else None,
        out_of_pocket_individual=o.individual if o else None,
        out_of_pocket_family=o.family if o else None,
    )


def _sum_insured(terms: plans.SumInsuredTerms) -> SumInsuredTerms:
    sub_limits = []
    room = terms.room_rent
    if room is not None:
        sub_limits.append(
            SubLimit(
                charge_type=ChargeType.ROOM_RENT,
                per=SubLimitPer.DAY,
                percent_of_sum_insured=room.percent_of_sum_insured if room.amount_per_day is None else None,
                amount=room.amount_per_day,
                proportional_deduction=room.proportional_deduction,
            )
        )
        if room.icu_amount_per_day is not None or room.icu_percent_of_sum_insured is not None:
            sub_limits.append(
                SubLimit(
                    charge_type=ChargeType.ICU,
                    per=SubLimitPer.DAY,
                    percent_of_sum_insured=room.icu_percent_of_sum_insured if room.icu_amount_per_day is None else None,
                    amount=room.icu_amount_per_day,
                    proportional_deduction=room.proportional_deduction,
                )
            )
    waiting = terms.waiting_periods
    named = tuple(code for name in waiting.named_illnesses for code in NAMED_ILLNESS_CODES.get(name.lower(), ()))
    return SumInsuredTerms(
        sum_insured=terms.amount,
        floater=terms.basis is plans.SumInsuredBasis.FAMILY_FLOATER,
        copay_percent=terms.copay_percent,
        senior_copay_percent=terms.senior_copay.percent if terms.senior_copay else None,
        senior_age=terms.senior_copay.from_age if terms.senior_copay else 60,
        initial_waiting_days=waiting.initial_days,
        pre_existing_waiting_months=waiting.pre_existing_months,
        named_illness_waiting_months=waiting.named_illness_months,
        named_illness_diagnoses=named,
        sub_limits=tuple(sub_limits),
        opd_covered=terms.opd_covered,
        ipd_covered=terms.ipd_covered,
    )


def engine_plan_type(plan_type: str) -> PlanType:
    """The engine's type of a plan of the catalog's ``plan_type`` (as claims' coverage copy keeps it)."""
    # A POS plan pays in and out of network like a PPO once its referral rules are met (referrals
    # are not adjudicated yet); the copy keeps "POS" for what reports the type (an 835's CLP06 13).
    return PlanType.PPO if plan_type == plans.PlanType.POS else PlanType(plan_type)


def benefit_schedule(schedule: plans.BenefitSchedule, plan_id: str) -> BenefitSchedule:
    """The engine's schedule for a plan version."""
    categories = {
        category.value: BenefitCategory(
            code=category.value,
            covered=benefit.covered,
            is_preventive=category is plans.BenefitCategory.PREVENTIVE,
            in_network=_share(benefit.cost_share(plans.Network.IN_NETWORK)),
            out_of_network=_share(benefit.cost_share(plans.Network.OUT_OF_NETWORK))
            if schedule.out_of_network_covered or category is plans.BenefitCategory.EMERGENCY
            else None,
            limit=_limit(benefit),
        )
        for category, benefit in schedule.benefits.items()
    }
    default = next((code for code in _DEFAULT_ORDER if code in categories), next(iter(categories)))
    rules = tuple(rule for rule in CATEGORY_RULES if rule.category in categories)
    terms = schedule.deductible or schedule.out_of_pocket_max
    start = schedule.effective.start
    calendar = schedule.accumulator_period is plans.AccumulatorPeriod.CALENDAR_YEAR
    month, day = (1, 1) if calendar or (start.month, start.day) == (2, 29) else (start.month, start.day)
    admin = schedule.administration
    auth_codes = set(schedule.prior_authorization.procedure_codes)
    return BenefitSchedule(
        plan_id=plan_id,
        currency=schedule.currency,
        categories=categories,
        default_category=default,
        category_rules=rules,
        in_network=_network_limits(schedule.deductible, schedule.out_of_pocket_max, plans.Network.IN_NETWORK),
        out_of_network=_network_limits(schedule.deductible, schedule.out_of_pocket_max, plans.Network.OUT_OF_NETWORK),
        family_design=FamilyDesign(terms.family_design.value.upper()) if terms else FamilyDesign.EMBEDDED,
        network_accumulation=NetworkAccumulation(terms.network_accumulation.value.upper())
        if terms
        else NetworkAccumulation.SEPARATE,
        plan_year_start_month=month,
        plan_year_start_day=day,
        prior_auth_codes=frozenset(auth_codes),
        missing_authorization=MissingAuthorization.PEND
        if schedule.prior_authorization.when_missing is plans.PriorAuthAction.PEND
        else MissingAuthorization.DENY,
        timely_filing_days=admin.timely_filing_days,
        medically_unlikely_edits=dict(admin.medically_unlikely_edits),
        high_dollar_threshold=admin.high_dollar_pend_threshold,
        reimbursement_auto_approve_max=admin.reimbursement_auto_approve_max,
        sum_insured=_sum_insured(schedule.sum_insured) if schedule.sum_insured else None,
    )


def out_of_network_pricing(schedule: plans.BenefitSchedule) -> OutOfNetworkPricing:
    """The plan's maximum allowable amounts out of network in the engine's shape (none: lines pend)."""
    terms = schedule.out_of_network_allowable
    if terms is None:
        return OutOfNetworkPricing()
    fees = {}
    for key, amount in terms.per_unit(schedule.currency).items():
        code, _, modifier = key.partition("-")
        fees[(code, modifier or None)] = amount
    return OutOfNetworkPricing(maximum_allowable=fees, percent_of_billed=terms.percent_of_billed)


def contract(terms: provider.FeeScheduleTerms) -> Contract | None:
    """The engine's contract for a provider fee schedule (None for a kind the engine does not price)."""
    kind = terms.kind
    if kind is provider.FeeScheduleKind.AMOUNT:
        return Contract(
            fee_schedule={
                (rate.code, rate.modifier or None): rate.amount
                for rate in terms.rates.values()
                if rate.amount is not None and rate.code != provider.ANY_CODE
            }
        )
    if kind is provider.FeeScheduleKind.PERCENT_OF_BASE and terms.base is not None and terms.conversion_factor:
        factor = terms.conversion_factor * Decimal(10) ** _exponent(terms.currency)
        return Contract(
            base_schedule_units={
                (rate.code, rate.modifier or None): rate.relative_value
                for rate in terms.base.rates.values()
                if rate.relative_value is not None and rate.code != provider.ANY_CODE
            },
            conversion_factor_minor=factor,
            base_schedule_percent=terms.percent or Decimal(100),
        )
    if kind is provider.FeeScheduleKind.PERCENT_OF_BILLED and terms.percent is not None:
        return Contract(percent_of_billed=terms.percent)
    return None


def _exponent(currency: str) -> int:
    return len(Money.zero(currency).to_decimal_string().partition(".")[2])
