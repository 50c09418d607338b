"""The benefit schedule as adjudication reads it: cost shares, limits, prior auth, sum-insured terms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from olly.kernel.money import Money
from olly.plans import document, rules
from olly.plans.rules import BenefitCategory, CopayApplies, LimitKind, LimitPeriod, Network
from tests.plan_documents import demo_data


def demo_plan(code: str) -> rules.PlanVersion:
    return document.to_plan_version(document.validate_plan(demo_data(code)))


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def inr(text: str) -> Money:
    return Money.parse(text, "INR")


def test_ppo_accumulators() -> None:
    schedule = demo_plan("OLLY-PPO-1000").schedule
    assert schedule.deductible == rules.AccumulatorTerms(
        in_network=rules.FamilyAmounts(usd("1000.00"), usd("2000.00")),
        out_of_network=rules.FamilyAmounts(usd("2000.00"), usd("4000.00")),
        family_design=rules.FamilyDesign.EMBEDDED,
        network_accumulation=rules.NetworkAccumulation.SEPARATE,
    )
    assert schedule.out_of_pocket_max is not None
    assert schedule.out_of_pocket_max.amounts(Network.OUT_OF_NETWORK) == rules.FamilyAmounts(
        usd("8000.00"), usd("16000.00")
    )


def test_hdhp_accumulates_across_networks() -> None:
    schedule = demo_plan("OLLY-HDHP-3400").schedule
    assert schedule.deductible is not None
    assert schedule.deductible.network_accumulation is rules.NetworkAccumulation.COMBINED
    assert schedule.deductible.in_network == rules.FamilyAmounts(usd("3400.00"), usd("6800.00"))
    generic = schedule.cost_share(BenefitCategory.PHARMACY_GENERIC, Network.IN_NETWORK)
    assert generic == rules.CostShare(usd("10.00"), CopayApplies.AFTER_DEDUCTIBLE, True, Decimal(0))


def test_preventive_care_is_free_in_network() -> None:
    for code in ("OLLY-PPO-1000", "OLLY-HMO-250", "OLLY-HDHP-3400", "OLLY-ACA-SILVER"):
        share = demo_plan(code).schedule.cost_share(BenefitCategory.PREVENTIVE, Network.IN_NETWORK)
        assert share is not None, code
        assert share.is_free, code


def test_closed_networks_pay_out_of_network_for_emergencies_only() -> None:
    schedule = demo_plan("OLLY-HMO-250").schedule
    assert schedule.out_of_network_covered is False
    assert schedule.cost_share(BenefitCategory.OFFICE_VISIT, Network.OUT_OF_NETWORK) is None
    emergency_in = schedule.cost_share(BenefitCategory.EMERGENCY, Network.IN_NETWORK)
    # No out-of-network terms stated: the emergency inherits in-network cost sharing.
    assert schedule.cost_share(BenefitCategory.EMERGENCY, Network.OUT_OF_NETWORK) == emergency_in
    assert emergency_in == rules.CostShare(usd("250.00"), CopayApplies.INSTEAD_OF_DEDUCTIBLE, False, Decimal(0))


def test_a_category_the_plan_does_not_list_or_excludes_is_not_covered() -> None:
    schedule = demo_plan("OLLY-PPO-1000").schedule
    assert schedule.benefit(BenefitCategory.HOSPICE) is None
    dental = schedule.benefit(BenefitCategory.DENTAL)
    assert dental is not None
    assert dental.covered is False
    assert schedule.cost_share(BenefitCategory.DENTAL, Network.IN_NETWORK) is None


def test_limits_by_visits_units_and_amount() -> None:
    schedule = demo_plan("OLLY-PPO-1000").schedule
    chiropractic = schedule.benefit(BenefitCategory.CHIROPRACTIC)
    skilled = schedule.benefit(BenefitCategory.SKILLED_NURSING)
    dme = schedule.benefit(BenefitCategory.DME)
    assert chiropractic is not None
    assert skilled is not None
    assert dme is not None
    assert chiropractic.limits == (
        rules.BenefitLimit(LimitKind.VISITS, LimitPeriod.PLAN_YEAR, quantity=20),
        rules.BenefitLimit(LimitKind.VISITS, LimitPeriod.DAY, quantity=1),
    )
    assert skilled.limits == (rules.BenefitLimit(LimitKind.UNITS, LimitPeriod.PLAN_YEAR, quantity=60),)
    assert dme.limits == (rules.BenefitLimit(LimitKind.AMOUNT, LimitPeriod.PLAN_YEAR, amount=usd("5000.00")),)


def test_prior_authorization_by_code_or_by_category() -> None:
    schedule = demo_plan("OLLY-PPO-1000").schedule
    assert schedule.prior_authorization.when_missing is rules.PriorAuthAction.PEND
    assert schedule.requires_prior_auth(BenefitCategory.ADVANCED_IMAGING, "70551")  # listed code
    assert schedule.requires_prior_auth(BenefitCategory.DME, "e0601")  # HCPCS, any case
    assert schedule.requires_prior_auth(BenefitCategory.INPATIENT_FACILITY, "99223")  # whole category
    assert not schedule.requires_prior_auth(BenefitCategory.OFFICE_VISIT, "99213")
    hmo = demo_plan("OLLY-HMO-250").schedule
    assert hmo.prior_authorization.when_missing is rules.PriorAuthAction.DENY


def test_administration_settings_and_defaults() -> None:
    ppo = demo_plan("OLLY-PPO-1000").schedule.administration
    hmo = demo_plan("OLLY-HMO-250").schedule.administration
    hdhp = demo_plan("OLLY-HDHP-3400").schedule.administration
    aca = demo_plan("OLLY-ACA-SILVER").schedule.administration
    assert (ppo.timely_filing_days, ppo.appeal_window_days) == (365, 180)
    assert hmo.timely_filing_days == 180
    assert (hdhp.timely_filing_days, hdhp.appeal_window_days) == (365, 180)  # defaults
    assert ppo.grace_period == rules.GracePeriodRule(days=30, aptc_months=None)
    assert aca.grace_period == rules.GracePeriodRule(days=30, aptc_months=3, reinstatement_days=30)
    assert ppo.high_dollar_pend_threshold == usd("25000.00")
    assert ppo.reimbursement_auto_approve_max is None  # every reimbursement is reviewed
    floater = demo_plan("OLLY-FLOATER-5L").schedule.administration
    assert floater.reimbursement_auto_approve_max == Money(500000, "INR")
    assert ppo.unit_cap("97110") == 6
    assert ppo.unit_cap("99999") is None
    specialist = demo_plan("OLLY-HMO-250").schedule.benefit(BenefitCategory.SPECIALIST)
    assert specialist is not None
    assert specialist.requires_referral is True


def test_floater_room_rent_and_icu_limits() -> None:
    terms = demo_plan("OLLY-FLOATER-5L").schedule.sum_insured
    assert terms is not None
    assert terms.amount == inr("500000.00")
    assert terms.basis is rules.SumInsuredBasis.FAMILY_FLOATER
    assert terms.room_rent_per_day() == inr("5000.00")  # 1% of 5,00,000
    assert terms.icu_rent_per_day() == inr("10000.00")  # 2%
    assert terms.opd_covered is True
    assert terms.opd_annual_limit == inr("15000.00")
    assert (terms.pre_hospitalisation_days, terms.post_hospitalisation_days) == (30, 60)
    assert terms.minimum_hospitalisation_hours == 24


def test_floater_copay_rises_for_seniors() -> None:
    terms = demo_plan("OLLY-FLOATER-5L").schedule.sum_insured
    assert terms is not None
    assert terms.copay_percent_for(60) == Decimal(0)
    assert terms.copay_percent_for(61) == Decimal(20)


def test_waiting_periods_end_on_exact_dates() -> None:
    terms = demo_plan("OLLY-FLOATER-5L").schedule.sum_insured
    assert terms is not None
    waiting = terms.waiting_periods
    start = date(2026, 1, 15)
    # 30 days: 15 Jan to 13 Feb inclusive; illness from 14 Feb is covered.
    assert waiting.initial_ends(start) == date(2026, 2, 13)
    assert waiting.initial_waived_for_accidents is True
    assert waiting.pre_existing_ends(start) == date(2029, 1, 14)  # 36 months
    assert waiting.named_illness_ends(start) == date(2028, 1, 14)  # 24 months
    assert "cataract" in waiting.named_illnesses


def test_proportional_deduction_when_the_room_costs_more_than_the_limit() -> None:
    # Room at 8,000 a day against a 5,000 limit: associated charges of 40,000.00 are paid at 5/8.
    # 40000.00 x 5000/8000 = 25000.00
    assert rules.proportional_deduction(inr("40000.00"), inr("8000.00"), inr("5000.00")) == inr("25000.00")
    # 12345.67 x 5000/7000 = 8818.335714... -> 8818.34 (half-up)
    assert rules.proportional_deduction(inr("12345.67"), inr("7000.00"), inr("5000.00")) == inr("8818.34")
    # Within the limit nothing is deducted.
    assert rules.proportional_deduction(inr("40000.00"), inr("5000.00"), inr("5000.00")) == inr("40000.00")


def test_floater_sub_limits_and_network_shares() -> None:
    schedule = demo_plan("OLLY-FLOATER-5L").schedule
    ambulance = schedule.benefit(BenefitCategory.AMBULANCE)
    assert ambulance is not None
    assert ambulance.limits == (rules.BenefitLimit(LimitKind.AMOUNT, LimitPeriod.ADMISSION, amount=inr("2000.00")),)
    pharmacy_out = schedule.cost_share(BenefitCategory.OPD_PHARMACY, Network.OUT_OF_NETWORK)
    assert pharmacy_out == rules.CostShare(inr("0.00"), CopayApplies.INSTEAD_OF_DEDUCTIBLE, False, Decimal(20))
    assert schedule.deductible is None
    assert schedule.out_of_pocket_max is None


def test_out_of_network_maximum_allowable() -> None:
    ppo = demo_plan("OLLY-PPO-1000").schedule
    terms = ppo.out_of_network_allowable
    assert terms is not None and terms.percent_of_billed == Decimal(50)
    per_unit = terms.per_unit("USD")
    # 99213: 2.60 × 33.4009 × 150 % = 130.263510 → 130.26; 99215: 5.10 × 33.4009 × 1.5 = 255.516885 → 255.52
    assert (per_unit["99213"], per_unit["99215"]) == (usd("130.26"), usd("255.52"))
    assert demo_plan("OLLY-HMO-250").schedule.out_of_network_allowable is None
    # A fixed amount for a code and modifier wins over the base schedule.
    data = demo_data("OLLY-PPO-1000")
    data["out_of_network_allowable"]["amounts"] = {"99213": "90.00", "99213-25": "95.50"}
    changed = document.to_plan_version(document.validate_plan(data)).schedule.out_of_network_allowable
    assert changed is not None
    assert {k: v for k, v in changed.per_unit("USD").items() if k.startswith("99213")} == {
        "99213": usd("90.00"),
        "99213-25": usd("95.50"),
    }
