"""Provider fee-schedule terms → the engine's contract; which benefit an institutional bill's line takes;
the engine's type of a plan."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from olly.claims import plan_mapping
from olly.claims.rules import CareSetting, ClaimType, PlanType
from olly.kernel.money import Money
from olly.provider import public as provider
from olly.provider.rules import Rate
from tests.unit.claims.factories import claim, line


def test_amount_schedule_becomes_a_fee_schedule() -> None:
    terms = provider.FeeScheduleTerms(
        "FS-1",
        provider.FeeScheduleKind.AMOUNT,
        "USD",
        {
            ("99213", ""): Rate("99213", "", amount=Money(10000, "USD")),
            ("99213", "25"): Rate("99213", "25", amount=Money(11000, "USD")),
            (provider.ANY_CODE, ""): Rate(provider.ANY_CODE, "", amount=Money(1, "USD")),
        },
    )
    contract = plan_mapping.contract(terms)
    assert contract is not None
    assert dict(contract.fee_schedule) == {("99213", None): Money(10000, "USD"), ("99213", "25"): Money(11000, "USD")}


def test_percent_of_base_keeps_relative_values_and_the_factor_in_minor_units() -> None:
    base = provider.FeeScheduleTerms(
        "RBRVS",
        provider.FeeScheduleKind.RELATIVE_VALUE,
        "USD",
        {("99213", ""): Rate("99213", "", relative_value=Decimal("3.5"))},
    )
    terms = provider.FeeScheduleTerms(
        "PCT", provider.FeeScheduleKind.PERCENT_OF_BASE, "USD", {}, Decimal(120), Decimal("33.4009"), base
    )
    contract = plan_mapping.contract(terms)
    assert contract is not None
    assert dict(contract.base_schedule_units) == {("99213", None): Decimal("3.5")}
    assert (contract.conversion_factor_minor, contract.base_schedule_percent) == (Decimal("3340.09"), Decimal(120))


def test_percent_of_billed() -> None:
    terms = provider.FeeScheduleTerms("B", provider.FeeScheduleKind.PERCENT_OF_BILLED, "USD", {}, Decimal(80))
    contract = plan_mapping.contract(terms)
    assert contract is not None and contract.percent_of_billed == Decimal(80)


def test_an_inpatient_bills_unplaced_line_takes_the_inpatient_facility_benefit() -> None:
    """What an 837I's facility type (CLM05-1, ``edi_links.care_setting_of``) changes: a pharmacy
    line (revenue code 0250, no HCPCS) of a hospital in-patient bill is no office visit."""
    pharmacy = line(None, "40.00", revenue_code="0250")
    institutional = claim(pharmacy, claim_type=ClaimType.INSTITUTIONAL, place_of_service=None)
    us_plan = {"office_visit", "inpatient_facility", "lab", "imaging", "emergency"}
    rules = [rule for rule in plan_mapping.CATEGORY_RULES if rule.category in us_plan]

    def category(care_setting: CareSetting | None) -> str | None:
        bill = replace(institutional, care_setting=care_setting)
        return next((rule.category for rule in rules if rule.matches(bill.lines[0], None, bill)), None)

    assert category(CareSetting.IPD) == "inpatient_facility"
    assert category(None) is None  # before: no rule, so the plan's default (office visit)
    assert category(CareSetting.OPD) is None  # an out-patient bill's line keeps the default


def test_a_pos_plan_adjudicates_as_a_ppo_and_every_other_type_as_itself() -> None:
    """Claims' coverage copy keeps the catalog's type (POS for an 835's CLP06 13); the engine has no POS."""
    engine = {name: plan_mapping.engine_plan_type(name) for name in ("PPO", "HMO", "EPO", "HDHP", "POS", "SUM_INSURED")}
    assert engine == {
        "PPO": PlanType.PPO,
        "HMO": PlanType.HMO,
        "EPO": PlanType.EPO,
        "HDHP": PlanType.HDHP,
        "POS": PlanType.PPO,
        "SUM_INSURED": PlanType.SUM_INSURED,
    }
