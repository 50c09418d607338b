"""Plan documents with mistakes are refused, each problem named by its field and what is wrong.

Every case starts from a valid demo plan, changes one thing, and expects exactly the listed
problems (no more, no fewer), so a check that fires too widely fails here too.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from olly.kernel.errors import ValidationFailed
from olly.kernel.money import Money
from olly.plans import document, rules, service
from olly.plans.rules import BenefitCategory
from tests.plan_documents import DELETE, changed, demo_data

LIMITS = rules.default_limits_2026()
PPO, HMO, HDHP, ACA, FLOATER = "OLLY-PPO-1000", "OLLY-HMO-250", "OLLY-HDHP-3400", "OLLY-ACA-SILVER", "OLLY-FLOATER-5L"
KNOWN_CATEGORIES = ", ".join(c.value for c in BenefitCategory)
PROCEDURE_MESSAGE = "must be a CPT or HCPCS Level II code such as 70551 or E0601"


def problems(data: Any) -> list[tuple[str, str]]:
    """The (field, message) pairs a document is refused with; [] when it is accepted."""
    try:
        service.check_documents(document.validate_documents(data), LIMITS)
    except ValidationFailed as exc:
        return [(error.field, error.message) for error in exc.errors]
    return []


def test_every_demo_plan_is_valid() -> None:
    for code in (PPO, HMO, HDHP, ACA, FLOATER):
        assert problems(demo_data(code)) == [], code


def _with(code: str, changes: dict[str, Any]) -> dict[str, Any]:
    data = demo_data(code)
    for path, value in changes.items():
        data = changed(data, path, value)
    return data


CASES: list[tuple[str, str, dict[str, Any], list[tuple[str, str]]]] = [
    # -- percentages ---------------------------------------------------------------------------
    (
        "coinsurance above 100",
        PPO,
        {"benefits.office_visit.in_network.coinsurance_percent": 120},
        [("benefits.office_visit.in_network.coinsurance_percent", "must be between 0 and 100")],
    ),
    (
        "negative coinsurance",
        PPO,
        {"benefits.specialist.in_network.coinsurance_percent": Decimal("-1")},
        [("benefits.specialist.in_network.coinsurance_percent", "must be between 0 and 100")],
    ),
    (
        "coinsurance not a number",
        PPO,
        {"benefits.office_visit.in_network.coinsurance_percent": "twenty"},
        [("benefits.office_visit.in_network.coinsurance_percent", "must be a percentage between 0 and 100")],
    ),
    (
        "coinsurance with three decimals",
        PPO,
        {"benefits.lab.in_network.coinsurance_percent": Decimal("12.345")},
        [("benefits.lab.in_network.coinsurance_percent", "must have at most 2 decimal places")],
    ),
    # -- money ---------------------------------------------------------------------------------
    (
        "negative copay",
        PPO,
        {"benefits.office_visit.in_network.copay": "-5.00"},
        [("benefits.office_visit.in_network.copay", "must not be negative")],
    ),
    (
        "copay with fractions of a cent",
        PPO,
        {"benefits.office_visit.in_network.copay": "25.005"},
        [("benefits.office_visit.in_network.copay", "has more than 2 decimal places for USD")],
    ),
    (
        "copay in another currency",
        PPO,
        {"benefits.office_visit.in_network.copay": "25.00 INR"},
        [("benefits.office_visit.in_network.copay", "is in INR but the plan's currency is USD")],
    ),
    (
        "copay in words",
        PPO,
        {"benefits.office_visit.in_network.copay": "twenty five"},
        [("benefits.office_visit.in_network.copay", 'must be an amount such as "250.00"')],
    ),
    (
        "copay as a float",
        PPO,
        {"benefits.office_visit.in_network.copay": 25.5},
        [
            (
                "benefits.office_visit.in_network.copay",
                'must be an amount such as "250.00" written as a decimal string (not a float)',
            )
        ],
    ),
    (
        "rate table in another currency",
        PPO,
        {"rating.currency": "INR"},
        [("rating.currency", "must equal the plan currency USD")],
    ),
    (
        "unsupported plan currency",
        PPO,
        {"currency": "XYZ"},
        [("currency", "is not a supported ISO 4217 currency code")],
    ),
    # -- shape -----------------------------------------------------------------------------------
    (
        "unknown benefit category",
        PPO,
        {"benefits.acupuncture": {"in_network": {}}},
        [("benefits.acupuncture", f"is not a known benefit category (known: {KNOWN_CATEGORIES})")],
    ),
    ("unknown field", PPO, {"colour": "blue"}, [("colour", "is not a known field")]),
    (
        "unknown field in a cost share",
        PPO,
        {"benefits.office_visit.in_network.copayment": "25.00"},
        [("benefits.office_visit.in_network.copayment", "is not a known field")],
    ),
    ("missing code", PPO, {"code": DELETE}, [("code", "is required")]),
    (
        "plan code with spaces",
        PPO,
        {"code": "ppo 1"},
        [
            (
                "code",
                "must be 2 to 40 upper-case letters, digits, '.', '_' or '-', starting with a letter or digit",
            )
        ],
    ),
    ("version zero", PPO, {"version": 0}, [("version", "must be between 1 and 1000000")]),
    (
        "unknown market",
        PPO,
        {"market": "medicare"},
        [("market", "must be one of: individual, small_group or large_group")],
    ),
    (
        "impossible date",
        PPO,
        {"effective_from": "2026-13-01"},
        [("effective_from", "must be a date (YYYY-MM-DD)")],
    ),
    (
        "date with a time",
        PPO,
        {"effective_from": "2026-01-01T10:30:00"},
        [("effective_from", "must be a date without a time")],
    ),
    (
        "flag that is not a yes/no",
        PPO,
        {"grandfathered": "maybe"},
        [("grandfathered", "must be true or false")],
    ),
    (
        "days in words",
        PPO,
        {"administration.timely_filing_days": "soon"},
        [("administration.timely_filing_days", "must be a whole number")],
    ),
    ("no benefits", PPO, {"benefits": {}}, [("benefits", "must not be empty")]),
    (
        "deductible without in-network amounts",
        PPO,
        {"deductible.in_network": DELETE},
        [("deductible.in_network", "is required")],
    ),
    # -- dates -----------------------------------------------------------------------------------
    (
        "ends before it starts",
        PPO,
        {"effective_to": date(2025, 12, 31)},
        [("effective_to", "must not be before effective_from")],
    ),
    # -- accumulators ------------------------------------------------------------------------------
    (
        "family deductible below the individual",
        PPO,
        {"deductible.in_network.family": "500.00"},
        [("deductible.in_network.family", "must be at least the individual amount (1000.00)")],
    ),
    (
        "family out-of-network maximum below the individual",
        PPO,
        {"out_of_pocket_max.out_of_network.family": "7999.99"},
        [("out_of_pocket_max.out_of_network.family", "must be at least the individual amount (8000.00)")],
    ),
    (
        "out-of-pocket maximum below the deductible",
        PPO,
        {"out_of_pocket_max.in_network.individual": "900.00"},
        [("out_of_pocket_max.in_network.individual", "must be at least the individual deductible (1000.00)")],
    ),
    (
        "individual out-of-pocket maximum above the ACA self-only limit",
        PPO,
        {"out_of_pocket_max.in_network.individual": "10600.01", "out_of_pocket_max.in_network.family": "21200.00"},
        [("out_of_pocket_max.in_network.individual", "exceeds the ACA self-only limit of 10600.00")],
    ),
    (
        "family out-of-pocket maximum above the ACA limit",
        PPO,
        {"out_of_pocket_max.in_network.family": "21200.01"},
        [
            (
                "out_of_pocket_max.in_network.family",
                "exceeds the ACA limit of 21200.00 for other than self-only coverage",
            )
        ],
    ),
    (
        "aggregate family maximum that lets one member pass the self-only limit",
        PPO,
        {"out_of_pocket_max.family_design": "aggregate", "out_of_pocket_max.in_network.family": "12000.00"},
        [
            (
                "out_of_pocket_max.family_design",
                "must be embedded when the family maximum exceeds the ACA self-only limit of 10600.00",
            )
        ],
    ),
    ("PPO without a deductible", PPO, {"deductible": DELETE}, [("deductible", "is required for a PPO plan")]),
    (
        "PPO without out-of-network deductible",
        PPO,
        {"deductible.out_of_network": DELETE},
        [("deductible.out_of_network", "is required when the plan covers out-of-network care")],
    ),
    # -- benefits -----------------------------------------------------------------------------------
    (
        "copay instead of a deductible that applies",
        PPO,
        {"benefits.emergency.in_network.copay_applies": "instead_of_deductible"},
        [("benefits.emergency.in_network.copay_applies", "instead_of_deductible contradicts deductible_applies: true")],
    ),
    (
        "copay after a deductible that does not apply",
        PPO,
        {"benefits.office_visit.in_network.copay_applies": "after_deductible"},
        [("benefits.office_visit.in_network.copay_applies", "after_deductible needs deductible_applies: true")],
    ),
    (
        "limit with two kinds",
        PPO,
        {"benefits.rehabilitation.limits.0": {"visits": 30, "amount": "100.00", "per": "plan_year"}},
        [("benefits.rehabilitation.limits.0", "needs exactly one of visits, units or amount")],
    ),
    (
        "limit of zero visits",
        PPO,
        {"benefits.rehabilitation.limits.0": {"visits": 0, "per": "plan_year"}},
        [("benefits.rehabilitation.limits.0.visits", "must be between 1 and 100000")],
    ),
    (
        "limit per week",
        PPO,
        {"benefits.rehabilitation.limits.0": {"visits": 3, "per": "week"}},
        [("benefits.rehabilitation.limits.0.per", "must be one of: plan_year, lifetime, day or admission")],
    ),
    (
        "two limits of the same kind and period",
        PPO,
        {"benefits.chiropractic.limits.1": {"visits": 12, "per": "plan_year"}},
        [("benefits.chiropractic.limits.1", "repeats a visits limit per plan_year")],
    ),
    (
        "preventive care with a copay",
        PPO,
        {"benefits.preventive.in_network": {"copay": "10.00"}},
        [
            (
                "benefits.preventive.in_network",
                "must cost the member nothing in network: no copay, no coinsurance, no deductible",
            )
        ],
    ),
    (
        "no preventive care",
        PPO,
        {"benefits.preventive": DELETE},
        [("benefits.preventive", "must be covered by a PPO plan")],
    ),
    (
        "emergency out of network costing more",
        PPO,
        {"benefits.emergency.out_of_network": {"coinsurance_percent": 40, "deductible_applies": True}},
        [
            (
                "benefits.emergency.out_of_network",
                "must equal the in-network cost sharing (No Surprises Act); leave it out to inherit it",
            )
        ],
    ),
    (
        "not-covered benefit with cost sharing",
        PPO,
        {"benefits.dental": {"covered": False, "in_network": {}}},
        [("benefits.dental.in_network", "is not allowed on a benefit with covered: false")],
    ),
    (
        "covered benefit without cost sharing",
        PPO,
        {"benefits.office_visit": {"covered": True}},
        [("benefits.office_visit.in_network", "is required for a covered benefit (or set covered: false)")],
    ),
    # -- closed networks ------------------------------------------------------------------------------
    (
        "HMO with an out-of-network deductible",
        HMO,
        {"deductible.out_of_network": {"individual": "500.00", "family": "1000.00"}},
        [("deductible.out_of_network", "is not allowed: the plan covers no out-of-network care")],
    ),
    (
        "HMO paying office visits out of network",
        HMO,
        {"benefits.office_visit.out_of_network": {"coinsurance_percent": 50, "deductible_applies": True}},
        [
            (
                "benefits.office_visit.out_of_network",
                "is not allowed: the plan covers out-of-network care for emergencies only",
            )
        ],
    ),
    (
        "HMO claiming out-of-network cover",
        HMO,
        {"out_of_network_covered": True},
        [
            ("out_of_network_covered", "must be false for an HMO plan (out of network only for emergencies)"),
            ("deductible.out_of_network", "is required when the plan covers out-of-network care"),
            ("out_of_pocket_max.out_of_network", "is required when the plan covers out-of-network care"),
        ],
    ),
    # -- prior authorization and edits ---------------------------------------------------------------
    (
        "malformed prior-auth code",
        PPO,
        {"prior_authorization.procedure_codes": ["70551", "ABC"]},
        [("prior_authorization.procedure_codes.1", PROCEDURE_MESSAGE)],
    ),
    (
        "prior-auth code listed twice",
        PPO,
        {"prior_authorization.procedure_codes": ["70551", "72148", "70551"]},
        [("prior_authorization.procedure_codes.2", "repeats procedure_codes.0")],
    ),
    (
        "prior-auth action unknown",
        PPO,
        {"prior_authorization.when_missing": "ignore"},
        [("prior_authorization.when_missing", "must be one of: deny or pend")],
    ),
    (
        "unit cap on a malformed code",
        PPO,
        {"administration.medically_unlikely_edits.ABCDE": 2},
        [("administration.medically_unlikely_edits.ABCDE", PROCEDURE_MESSAGE)],
    ),
    (
        "unit cap of zero",
        PPO,
        {"administration.medically_unlikely_edits.97110": 0},
        [("administration.medically_unlikely_edits.97110", "must be between 1 and 9999")],
    ),
    # -- administration -------------------------------------------------------------------------------
    (
        "appeal window shorter than the ACA minimum",
        PPO,
        {"administration.appeal_window_days": 90},
        [("administration.appeal_window_days", "must be at least 180 (ACA internal appeals, 29 CFR 2560.503-1)")],
    ),
    (
        "APTC grace period on an employer plan",
        PPO,
        {"administration.grace_period.aptc_months": 3},
        [
            (
                "administration.grace_period.aptc_months",
                "applies only to US individual-market plans (advance premium tax credits)",
            )
        ],
    ),
    (
        "APTC grace period of two months",
        ACA,
        {"administration.grace_period.aptc_months": 2},
        [("administration.grace_period.aptc_months", "must be 3 (45 CFR 156.270)")],
    ),
    (
        "reinstatement window of no days",
        ACA,
        {"administration.grace_period.reinstatement_days": 0},
        [("administration.grace_period.reinstatement_days", "must be between 1 and 365")],
    ),
    (
        "reinstatement window longer than a year",
        PPO,
        {"administration.grace_period.reinstatement_days": 366},
        [("administration.grace_period.reinstatement_days", "must be between 1 and 365")],
    ),
    (
        "reinstatement window that is not a whole number of days",
        PPO,
        {"administration.grace_period.reinstatement_days": "a month"},
        [("administration.grace_period.reinstatement_days", "must be a whole number")],
    ),
    (
        "reimbursement auto-approval of zero",
        PPO,
        {"administration.reimbursement_auto_approve_max": "0.00"},
        [("administration.reimbursement_auto_approve_max", "must be greater than 0")],
    ),
    (
        "reimbursement auto-approval at the high-dollar threshold",
        PPO,
        {"administration.reimbursement_auto_approve_max": "25000.00"},
        [
            (
                "administration.reimbursement_auto_approve_max",
                "must be below high_dollar_pend_threshold (a high-dollar claim is always reviewed)",
            )
        ],
    ),
    (
        "out-of-network allowable with nothing in it",
        PPO,
        {"out_of_network_allowable": {}},
        [("out_of_network_allowable", "needs amounts, a base_schedule or percent_of_billed")],
    ),
    (
        "out-of-network amount for a malformed code",
        PPO,
        {"out_of_network_allowable.amounts": {"9921-3": "80.00"}},
        [
            (
                "out_of_network_allowable.amounts.9921-3",
                "must be a procedure code, optionally with a modifier: 99213 or 99213-26",
            )
        ],
    ),
    (
        "out-of-network base schedule at 1,500 %",
        PPO,
        {"out_of_network_allowable.base_schedule.percent": 1500},
        [("out_of_network_allowable.base_schedule.percent", "must be at most 1000")],
    ),
    # -- dependents ---------------------------------------------------------------------------------------
    (
        "parents on a US plan",
        PPO,
        {"dependents.relationships": ["spouse", "child", "parent"]},
        [("dependents.relationships", "parent is a dependent of sum-insured plans only")],
    ),
    (
        "children only to 24 on a US plan",
        PPO,
        {"dependents.child_max_age": 24},
        [("dependents.child_max_age", "must be at least 26: children are covered until they turn 26")],
    ),
    (
        "subscriber listed as a dependent",
        PPO,
        {"dependents.relationships": ["subscriber", "child"]},
        [("dependents.relationships", "lists dependents only; the subscriber is always covered")],
    ),
    # -- tier rating ------------------------------------------------------------------------------------------
    (
        "tier without a premium",
        PPO,
        {"rating.tiers": {"EE": "612.34", "EE+SP": "1200.00", "EE+FAM": "1789.90"}},
        [
            ("rating.tiers", "has no premium for tier EE+CH"),
            ("rating.employer_contribution", "names tier EE+CH, which has no premium"),
        ],
    ),
    (
        "unknown tier",
        PPO,
        {"rating.tiers.EE+PETS": "10.00"},
        [("rating.tiers.EE+PETS", "must be one of: EE, EE+SP, EE+CH or EE+FAM")],
    ),
    ("free tier", PPO, {"rating.tiers.EE": "0.00"}, [("rating.tiers.EE", "must be greater than 0")]),
    (
        "employer paying more than the premium",
        HMO,
        {"rating.employer_contribution.fixed_by_tier.EE": "500.00"},
        [("rating.employer_contribution", "pays 500.00 for EE, more than its premium (498.76)")],
    ),
    (
        "two kinds of employer contribution",
        HDHP,
        {"rating.employer_contribution.fixed": "100.00"},
        [
            (
                "rating.employer_contribution",
                "needs exactly one of percent, percent_by_tier, fixed, fixed_by_tier",
            )
        ],
    ),
    (
        "rating method missing",
        PPO,
        {"rating.method": DELETE},
        [("rating.method", "must be one of: tier, age_rated, age_band")],
    ),
    (
        "rating method unknown",
        PPO,
        {"rating.method": "community"},
        [("rating.method", "must be one of: tier, age_rated, age_band")],
    ),
    # -- ACA age rating ------------------------------------------------------------------------------------------
    (
        "age curve wider than 3:1",
        ACA,
        {"rating.age_curve.64+": "3.200"},
        [("rating.age_curve", "adult factors vary 3.200:1 (from 1.000 to 3.200); the ACA allows at most 3:1")],
    ),
    (
        "tobacco factor above 1.5",
        ACA,
        {"rating.tobacco_factor": "1.60"},
        [("rating.tobacco_factor", "must not exceed 1.5 (the ACA allows tobacco rating up to 1.5:1)")],
    ),
    (
        "tobacco factor below 1",
        ACA,
        {"rating.tobacco_factor": "0.90"},
        [("rating.tobacco_factor", "must be at least 1.0")],
    ),
    ("age missing from the curve", ACA, {"rating.age_curve.15": DELETE}, [("rating.age_curve", "age 15 has no band")]),
    (
        "age band in words",
        ACA,
        {"rating.age_curve.sixty": "2.000"},
        [("rating.age_curve.sixty", "must be an age band such as 21, 18-35 or 64+")],
    ),
    (
        "overlapping age bands",
        ACA,
        {"rating.age_curve.21": "1.000"},
        [("rating.age_curve", "bands 21-24 and 21 overlap")],
    ),
    (
        "age curve without an open top band",
        ACA,
        {"rating.age_curve.64+": DELETE, "rating.age_curve.64": "3.000"},
        [("rating.age_curve", "must end with an open band no later than 64+")],
    ),
    (
        "no rating areas",
        ACA,
        {"rating.rating_areas": {}},
        [
            ("rating.rating_areas", "must name at least one rating area"),
            ("rating.default_rating_area", "is not one of rating_areas"),
        ],
    ),
    ("zero area factor", ACA, {"rating.rating_areas.2": "0"}, [("rating.rating_areas.2", "must be greater than 0")]),
    ("free base rate", ACA, {"rating.base_rate": "0.00"}, [("rating.base_rate", "must be greater than 0")]),
    (
        "individual plan without a metal level",
        ACA,
        {"metal_level": DELETE},
        [("metal_level", "is required for an individual-market plan")],
    ),
    (
        "age rating on a large-group plan",
        ACA,
        {"market": "large_group"},
        [
            (
                "administration.grace_period.aptc_months",
                "applies only to US individual-market plans (advance premium tax credits)",
            ),
            ("rating.method", "age_rated is for US individual and small-group plans"),
        ],
    ),
    (
        "employer contribution on an individual plan",
        PPO,
        {"market": "individual", "metal_level": "gold"},
        [("rating.employer_contribution", "applies only to group plans")],
    ),
    # -- HDHP --------------------------------------------------------------------------------------------------------
    (
        "HDHP deductible below the minimum",
        HDHP,
        {"deductible.in_network.individual": "1600.00"},
        [
            ("deductible.in_network.individual", "is below the HDHP minimum of 1700.00"),
            (
                "deductible.in_network.individual",
                "is an embedded deductible below the HDHP family minimum of 3400.00",
            ),
        ],
    ),
    (
        "HDHP embedded deductible below the family minimum",
        HDHP,
        {"deductible.in_network.individual": "3000.00"},
        [
            (
                "deductible.in_network.individual",
                "is an embedded deductible below the HDHP family minimum of 3400.00",
            )
        ],
    ),
    (
        "HDHP out-of-pocket maximum above the IRS limit",
        HDHP,
        {"out_of_pocket_max.in_network.individual": "8600.00"},
        [("out_of_pocket_max.in_network.individual", "exceeds the HDHP maximum of 8500.00")],
    ),
    (
        "HDHP paying office visits before the deductible",
        HDHP,
        {"benefits.office_visit.in_network": {"copay": "30.00"}},
        [
            (
                "benefits.office_visit.in_network.deductible_applies",
                "must be true on an HDHP (only preventive care is paid before the deductible)",
            )
        ],
    ),
    (
        "HDHP copay before the deductible",
        HDHP,
        {"benefits.urgent_care.in_network.copay_applies": "before_deductible"},
        [("benefits.urgent_care.in_network.copay_applies", "must be after_deductible on an HDHP")],
    ),
    # -- sum insured ------------------------------------------------------------------------------------------------
    (
        "sum-insured plan without its terms",
        FLOATER,
        {"sum_insured": DELETE},
        [
            ("sum_insured", "is required for a SUM_INSURED plan"),
            ("rating.family_size_factors", "apply to a family floater only"),
        ],
    ),
    (
        "sum-insured terms on a PPO",
        PPO,
        {"sum_insured": {"amount": "500000.00", "basis": "individual"}},
        [("sum_insured", "is only for SUM_INSURED plans, not PPO")],
    ),
    (
        "room rent as a percentage and an amount",
        FLOATER,
        {"sum_insured.room_rent.amount_per_day": "4000.00"},
        [("sum_insured.room_rent", "needs exactly one of percent_of_sum_insured and amount_per_day")],
    ),
    (
        "OPD benefits without OPD cover",
        FLOATER,
        {"sum_insured.opd.covered": False},
        [
            ("benefits.opd_consultation", "is covered but sum_insured.opd.covered is false"),
            ("benefits.opd_diagnostics", "is covered but sum_insured.opd.covered is false"),
            ("benefits.opd_pharmacy", "is covered but sum_insured.opd.covered is false"),
            ("sum_insured.opd.annual_limit", "is set but OPD is not covered"),
        ],
    ),
    (
        "sub-limit above the sum insured",
        FLOATER,
        {"benefits.ambulance.limits.0.amount": "600000.00"},
        [("benefits.ambulance.limits.0.amount", "exceeds the sum insured (500000.00)")],
    ),
    (
        "OPD limit above the sum insured",
        FLOATER,
        {"sum_insured.opd.annual_limit": "500000.01"},
        [("sum_insured.opd.annual_limit", "exceeds the sum insured (500000.00)")],
    ),
    (
        "flat copay on a sum-insured plan",
        FLOATER,
        {"benefits.opd_pharmacy.in_network.copay": "50.00"},
        [
            (
                "benefits.opd_pharmacy.in_network.copay",
                "must be 0 on a sum-insured plan: state its co-pay as coinsurance_percent",
            )
        ],
    ),
    (
        "pre-existing disease waiting over four years",
        FLOATER,
        {"sum_insured.waiting_periods.pre_existing_months": 60},
        [("sum_insured.waiting_periods.pre_existing_months", "must be between 0 and 48")],
    ),
    (
        "senior co-pay below the plan co-pay",
        FLOATER,
        {"sum_insured.copay_percent": 10, "sum_insured.senior_copay.percent": 5},
        [("sum_insured.senior_copay.percent", "must not be below the plan's co-pay percentage")],
    ),
    (
        "IPD cover without hospital benefits",
        FLOATER,
        {"benefits.inpatient_facility": DELETE},
        [("benefits.inpatient_facility", "must be covered when sum_insured.ipd_covered is true")],
    ),
    (
        "sum-insured amounts in dollars",
        FLOATER,
        {"sum_insured.amount": "500000.00 USD"},
        [("sum_insured.amount", "is in USD but the plan's currency is INR")],
    ),
    (
        "floater without family-size factors",
        FLOATER,
        {"rating.family_size_factors": DELETE},
        [("rating.family_size_factors", "are required for a family floater")],
    ),
    (
        "family sizes with a gap",
        FLOATER,
        {"rating.family_size_factors.3": DELETE},
        [("rating.family_size_factors", "must cover every family size from 1 upwards")],
    ),
    (
        "more members allowed than rated",
        FLOATER,
        {"dependents.max_members": 8},
        [("rating.family_size_factors", "stop at 6 members but dependents.max_members allows 8")],
    ),
    (
        "overlapping premium bands",
        FLOATER,
        {"rating.age_bands.1.ages": "35-45"},
        [("rating.age_bands", "bands 18-35 and 35-45 overlap")],
    ),
    (
        "age band method on a PPO",
        PPO,
        {"rating": {"method": "age_band", "age_bands": [{"ages": "18+", "premium": "100.00"}]}},
        [("rating.method", "age_band is for SUM_INSURED plans")],
    ),
]


@pytest.mark.parametrize(
    ("base", "changes", "expected"),
    [pytest.param(base, changes, expected, id=name) for name, base, changes, expected in CASES],
)
def test_a_mistake_is_named_by_field_and_problem(
    base: str, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert problems(_with(base, changes)) == expected


def test_several_mistakes_are_reported_together() -> None:
    data = _with(
        PPO,
        {
            "benefits.office_visit.in_network.coinsurance_percent": 101,
            "benefits.specialist.in_network.copay": "-1.00",
            "market": "medicare",
        },
    )
    assert problems(data) == [
        ("market", "must be one of: individual, small_group or large_group"),
        ("benefits.office_visit.in_network.coinsurance_percent", "must be between 0 and 100"),
        ("benefits.specialist.in_network.copay", "must not be negative"),
    ]


def test_the_error_summary_lists_field_and_problem() -> None:
    data = _with(PPO, {"benefits.office_visit.in_network.coinsurance_percent": 120})
    with pytest.raises(ValidationFailed) as caught:
        service.check_documents(document.validate_documents(data), LIMITS)
    assert caught.value.detail == "benefits.office_visit.in_network.coinsurance_percent: must be between 0 and 100"
    assert caught.value.status == 422
    assert caught.value.problem()["errors"] == [
        {
            "field": "benefits.office_visit.in_network.coinsurance_percent",
            "message": "must be between 0 and 100",
            "code": "percent_range",
        }
    ]


def test_the_installation_sets_the_aca_limit() -> None:
    # A plan year with a lower limit (2025: 9,200.00) refuses what 2026 accepts.
    limits_2025 = rules.RegulatoryLimits(
        aca_max_oop_self_only=Money(920_000, "USD"),
        aca_max_oop_family=Money(1_840_000, "USD"),
        hdhp_min_deductible_self_only=LIMITS.hdhp_min_deductible_self_only,
        hdhp_min_deductible_family=LIMITS.hdhp_min_deductible_family,
        hdhp_max_oop_self_only=LIMITS.hdhp_max_oop_self_only,
        hdhp_max_oop_family=LIMITS.hdhp_max_oop_family,
    )
    data = demo_data(ACA)  # 9,800.00 / 19,600.00 in network
    with pytest.raises(ValidationFailed) as caught:
        service.check_documents(document.validate_documents(data), limits_2025)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("out_of_pocket_max.in_network.individual", "exceeds the ACA self-only limit of 9200.00"),
        ("out_of_pocket_max.in_network.family", "exceeds the ACA limit of 18400.00 for other than self-only coverage"),
    ]


def test_a_grandfathered_plan_is_not_held_to_the_aca_limit() -> None:
    data = _with(
        PPO,
        {
            "grandfathered": True,
            "out_of_pocket_max.in_network.individual": "12000.00",
            "out_of_pocket_max.in_network.family": "24000.00",
        },
    )
    assert problems(data) == []


def test_a_copay_plan_outside_the_us_is_not_held_to_the_aca() -> None:
    # The same design in pounds (a UK employer plan): no dollar limits, no ACA preventive rule.
    data = _with(
        PPO,
        {
            "currency": "GBP",
            "out_of_pocket_max.in_network.individual": "20000.00",
            "out_of_pocket_max.in_network.family": "40000.00",
            "benefits.preventive.in_network": {"copay": "20.00"},
        },
    )
    assert problems(data) == []
    # In dollars the same document is refused on all three counts.
    assert problems(changed(data, "currency", "USD")) == [
        ("out_of_pocket_max.in_network.individual", "exceeds the ACA self-only limit of 10600.00"),
        ("out_of_pocket_max.in_network.family", "exceeds the ACA limit of 21200.00 for other than self-only coverage"),
        (
            "benefits.preventive.in_network",
            "must cost the member nothing in network: no copay, no coinsurance, no deductible",
        ),
    ]
