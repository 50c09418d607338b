"""Builders for adjudication inputs: a realistic PPO plan, an HMO, and a sum-insured (India-style) policy.

Every amount here is referred to by the scenario comments in ``test_adjudication_scenarios.py``:
change one and the hand computations there must be redone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from olly.claims.rules import (
    AccumulatorKey,
    AccumulatorKind,
    AccumulatorLevel,
    AccumulatorSnapshot,
    AdjudicationRequest,
    BenefitCategory,
    BenefitLimit,
    BenefitSchedule,
    CareSetting,
    CategoryRule,
    ChargeType,
    Claim,
    ClaimLine,
    ClaimType,
    Contract,
    CostShare,
    CoverageSnapshot,
    CredentialingStatus,
    LimitUnit,
    NetworkLimits,
    NetworkScope,
    NetworkStatus,
    OutOfNetworkPricing,
    PlanType,
    PricingSnapshot,
    ProviderSnapshot,
    SubLimit,
    SubLimitPer,
    SumInsuredTerms,
)
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod

MEMBER = "M1"
FAMILY = "F1"
PLAN_YEAR = date(2026, 1, 1)

IN_NPI = "1234567893"
OON_NPI = "1987654328"
SUSPENDED_NPI = "1122334455"
EXPIRED_NPI = "1555555550"
TIER2_NPI = "1666666668"
BAD_NPI = "1234567890"  # fails the Luhn check


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def inr(text: str) -> Money:
    return Money.parse(text, "INR")


def _share(copay: str = "0.00", coinsurance: int = 0, deductible: bool = True, currency: str = "USD") -> CostShare:
    return CostShare(
        copay=Money.parse(copay, currency), coinsurance_percent=Decimal(coinsurance), deductible_applies=deductible
    )


# -- the PPO ------------------------------------------------------------------------------------

PPO_CATEGORIES: Mapping[str, BenefitCategory] = {
    c.code: c
    for c in (
        BenefitCategory(
            code="preventive",
            is_preventive=True,
            in_network=_share(),
            out_of_network=_share(coinsurance=40),
        ),
        BenefitCategory(
            code="office_visit",
            in_network=_share("25.00", deductible=False),
            out_of_network=_share(coinsurance=40),
            tier_cost_shares={"2": _share("40.00", deductible=False)},
        ),
        BenefitCategory(code="lab", in_network=_share(coinsurance=20), out_of_network=_share(coinsurance=40)),
        BenefitCategory(code="imaging", in_network=_share(coinsurance=20), out_of_network=_share(coinsurance=40)),
        BenefitCategory(
            code="emergency",
            in_network=_share("150.00", coinsurance=20),
            out_of_network=_share("150.00", coinsurance=20),
        ),
        BenefitCategory(
            code="outpatient_surgery", in_network=_share(coinsurance=20), out_of_network=_share(coinsurance=40)
        ),
        BenefitCategory(
            code="physical_therapy",
            in_network=_share("30.00", deductible=False),
            out_of_network=None,
            limit=BenefitLimit(unit=LimitUnit.VISITS, maximum=20),
        ),
        BenefitCategory(
            code="drugs_administered",
            in_network=_share(coinsurance=20, deductible=False),
            out_of_network=_share(coinsurance=40),
            limit=BenefitLimit(unit=LimitUnit.UNITS, maximum=100),
        ),
        BenefitCategory(
            code="dme",
            in_network=_share(coinsurance=20),
            out_of_network=_share(coinsurance=40),
            limit=BenefitLimit(unit=LimitUnit.AMOUNT, maximum=150000),
        ),
        BenefitCategory(code="mental_health", in_network=_share(coinsurance=10), out_of_network=_share(coinsurance=40)),
        BenefitCategory(code="cosmetic", covered=False),
        BenefitCategory(code="medical", in_network=_share(coinsurance=20), out_of_network=_share(coinsurance=40)),
    )
}

PPO_RULES = (
    CategoryRule(category="preventive", procedure_codes=frozenset({"99385", "99395", "77067", "G0121"})),
    CategoryRule(category="cosmetic", procedure_codes=frozenset({"15780"})),
    CategoryRule(category="emergency", procedure_ranges=(("99281", "99285"),)),
    CategoryRule(category="office_visit", procedure_ranges=(("99202", "99215"),)),
    CategoryRule(category="mental_health", procedure_ranges=(("90791", "90899"),)),
    CategoryRule(category="physical_therapy", procedure_ranges=(("97010", "97799"),)),
    CategoryRule(category="lab", procedure_ranges=(("80047", "89398"),)),
    CategoryRule(category="imaging", procedure_ranges=(("70010", "79999"),)),
    CategoryRule(category="outpatient_surgery", procedure_ranges=(("10004", "69990"),)),
    CategoryRule(category="drugs_administered", procedure_ranges=(("J0120", "J9999"),)),
    CategoryRule(category="dme", procedure_ranges=(("E0100", "E8002"),)),
)


def ppo_schedule(**overrides: Any) -> BenefitSchedule:
    schedule = BenefitSchedule(
        plan_id="PPO-GOLD",
        currency="USD",
        categories=PPO_CATEGORIES,
        default_category="medical",
        category_rules=PPO_RULES,
        in_network=NetworkLimits(
            deductible_individual=usd("1000.00"),
            deductible_family=usd("2000.00"),
            out_of_pocket_individual=usd("3000.00"),
            out_of_pocket_family=usd("6000.00"),
        ),
        out_of_network=NetworkLimits(
            deductible_individual=usd("2000.00"),
            deductible_family=usd("4000.00"),
            out_of_pocket_individual=usd("6000.00"),
            out_of_pocket_family=usd("12000.00"),
        ),
        prior_auth_codes=frozenset({"70551", "27447"}),
        medically_unlikely_edits={"97110": 4, "99213": 1},
        high_dollar_threshold=usd("50000.00"),
    )
    return replace(schedule, **overrides)


CONTRACT = Contract(
    fee_schedule={
        ("99211", None): usd("20.00"),
        ("99213", None): usd("92.00"),
        ("99214", None): usd("130.00"),
        ("99395", None): usd("150.00"),
        ("99284", None): usd("250.00"),
        ("80053", None): usd("14.00"),
        ("85025", None): usd("10.00"),
        ("70551", None): usd("400.00"),
        ("71046", None): usd("40.00"),
        ("71046", "26"): usd("12.00"),
        ("97110", None): usd("30.00"),
        ("29881", None): usd("900.00"),
        ("27447", None): usd("1500.00"),
        ("90837", None): usd("123.45"),
        ("J1100", None): usd("1.10"),
        ("E0114", None): usd("60.00"),
        ("15780", None): usd("700.00"),
    },
    base_schedule_units={("99215", None): Decimal("3.5")},
    conversion_factor_minor=Decimal("3340.09"),
    base_schedule_percent=Decimal(120),
    percent_of_billed=Decimal(60),
)

OUT_OF_NETWORK = OutOfNetworkPricing(
    maximum_allowable={
        ("99213", None): usd("80.00"),
        ("70551", None): usd("350.00"),
        ("99284", None): usd("200.00"),
        ("01402", None): usd("600.00"),
    },
    percent_of_billed=Decimal(50),
)

PROVIDERS: Mapping[str, ProviderSnapshot] = {
    IN_NPI: ProviderSnapshot(npi=IN_NPI, network_status=NetworkStatus.IN_NETWORK),
    OON_NPI: ProviderSnapshot(npi=OON_NPI, network_status=NetworkStatus.OUT_OF_NETWORK),
    SUSPENDED_NPI: ProviderSnapshot(
        npi=SUSPENDED_NPI, network_status=NetworkStatus.IN_NETWORK, credentialing=CredentialingStatus.SUSPENDED
    ),
    EXPIRED_NPI: ProviderSnapshot(
        npi=EXPIRED_NPI, network_status=NetworkStatus.IN_NETWORK, credentialing=CredentialingStatus.EXPIRED
    ),
    TIER2_NPI: ProviderSnapshot(npi=TIER2_NPI, network_status=NetworkStatus.IN_NETWORK, tier="2"),
}


def coverage(**overrides: Any) -> CoverageSnapshot:
    snapshot = CoverageSnapshot(
        member_id=MEMBER,
        plan_type=PlanType.PPO,
        periods=(DatePeriod(date(2026, 1, 1), date(2026, 12, 31)),),
    )
    return replace(snapshot, **overrides)


def line(code: str | None, charge: str, *, day: date = date(2026, 3, 10), **overrides: Any) -> ClaimLine:
    currency = overrides.pop("currency", "USD")
    return ClaimLine(
        line_number=overrides.pop("line_number", 1),
        procedure_code=code,
        charge=Money.parse(charge, currency),
        service_date_from=day,
        **overrides,
    )


def claim(*lines: ClaimLine, **overrides: Any) -> Claim:
    numbered = tuple(replace(item, line_number=index) for index, item in enumerate(lines, start=1))
    built = Claim(
        claim_id=overrides.pop("claim_id", "C1"),
        member_id=MEMBER,
        claim_type=ClaimType.PROFESSIONAL,
        lines=numbered,
        diagnoses=("J06.9",),
        billing_npi=IN_NPI,
        place_of_service="11",
        received_on=date(2026, 3, 20),
    )
    return replace(built, **overrides)


def key(
    kind: AccumulatorKind,
    *,
    level: AccumulatorLevel = AccumulatorLevel.MEMBER,
    holder: str | None = None,
    network: NetworkScope = NetworkScope.IN_NETWORK,
    category: str = "",
    year: date = PLAN_YEAR,
) -> AccumulatorKey:
    if holder is None:
        holder = MEMBER if level is AccumulatorLevel.MEMBER else FAMILY
    return AccumulatorKey(kind, level, holder, year, network, category)


DED = AccumulatorKind.DEDUCTIBLE
OOP = AccumulatorKind.OUT_OF_POCKET
FAM = AccumulatorLevel.FAMILY
OUT = NetworkScope.OUT_OF_NETWORK


def snapshot(values: Mapping[AccumulatorKey, str | int] | None = None) -> AccumulatorSnapshot:
    """Amounts as decimal strings (money) or ints (counts)."""
    converted: dict[AccumulatorKey, int] = {}
    for k, v in (values or {}).items():
        converted[k] = usd(v).amount if isinstance(v, str) else v
    return AccumulatorSnapshot(converted)


def request(the_claim: Claim, **overrides: Any) -> AdjudicationRequest:
    built = AdjudicationRequest(
        claim=the_claim,
        coverage=coverage(),
        schedule=ppo_schedule(),
        pricing=PricingSnapshot(contract=CONTRACT, out_of_network=OUT_OF_NETWORK),
        accumulators=AccumulatorSnapshot(),
        adjudication_date=date(2026, 3, 21),
        providers=PROVIDERS,
    )
    return replace(built, **overrides)


# -- the sum-insured policy ------------------------------------------------------------------------

SI_CATEGORIES: Mapping[str, BenefitCategory] = {
    c.code: c
    for c in (
        BenefitCategory(
            code="hospitalisation", in_network=_share(currency="INR"), out_of_network=_share(currency="INR")
        ),
        BenefitCategory(code="opd", in_network=_share(currency="INR"), out_of_network=_share(currency="INR")),
    )
}


def sum_insured_terms(**overrides: Any) -> SumInsuredTerms:
    terms = SumInsuredTerms(
        sum_insured=inr("500000.00"),
        floater=False,
        copay_percent=Decimal(0),
        senior_copay_percent=Decimal(20),
        senior_age=60,
        named_illness_diagnoses=("H25", "H26", "K40"),
        sub_limits=(
            SubLimit(
                charge_type=ChargeType.ROOM_RENT,
                per=SubLimitPer.DAY,
                percent_of_sum_insured=Decimal(1),
                proportional_deduction=True,
            ),
            SubLimit(charge_type=ChargeType.ICU, per=SubLimitPer.DAY, percent_of_sum_insured=Decimal(2)),
            SubLimit(charge_type=ChargeType.AMBULANCE, per=SubLimitPer.CLAIM, amount=inr("2000.00")),
        ),
        opd_covered=False,
        ipd_covered=True,
    )
    return replace(terms, **overrides)


def sum_insured_schedule(**overrides: Any) -> BenefitSchedule:
    schedule = BenefitSchedule(
        plan_id="FAMILY-HEALTH-SHIELD",
        currency="INR",
        categories=SI_CATEGORIES,
        default_category="hospitalisation",
        category_rules=(CategoryRule(category="opd", care_settings=frozenset({CareSetting.OPD})),),
        plan_year_start_month=4,
        plan_year_start_day=1,
        sum_insured=sum_insured_terms(),
    )
    return replace(schedule, **overrides)


SI_COVERAGE_START = date(2025, 4, 1)


def si_coverage(**overrides: Any) -> CoverageSnapshot:
    snapshot_ = CoverageSnapshot(
        member_id=MEMBER,
        plan_type=PlanType.SUM_INSURED,
        periods=(DatePeriod(SI_COVERAGE_START, date(2027, 3, 31)),),
        birth_date=date(1980, 6, 15),
    )
    return replace(snapshot_, **overrides)


def bill(charge_type: ChargeType, charge: str, *, units: int = 1, day: date = date(2026, 6, 2)) -> ClaimLine:
    return ClaimLine(
        line_number=1,
        charge=inr(charge),
        service_date_from=day,
        units=units,
        charge_type=charge_type,
    )


def hospital_claim(*lines: ClaimLine, **overrides: Any) -> Claim:
    numbered = tuple(replace(item, line_number=index) for index, item in enumerate(lines, start=1))
    built = Claim(
        claim_id=overrides.pop("claim_id", "SI1"),
        member_id=MEMBER,
        claim_type=ClaimType.INSTITUTIONAL,
        lines=numbered,
        diagnoses=("K35.80",),
        billing_npi=IN_NPI,
        received_on=date(2026, 6, 10),
        care_setting=CareSetting.IPD,
        inpatient_hours=96,
    )
    return replace(built, **overrides)


SI_PRICING = PricingSnapshot(
    contract=Contract(percent_of_billed=Decimal(100)),
    out_of_network=OutOfNetworkPricing(percent_of_billed=Decimal(100)),
)


def si_request(the_claim: Claim, **overrides: Any) -> AdjudicationRequest:
    built = AdjudicationRequest(
        claim=the_claim,
        coverage=si_coverage(),
        schedule=sum_insured_schedule(),
        pricing=SI_PRICING,
        accumulators=AccumulatorSnapshot(),
        adjudication_date=date(2026, 6, 11),
        providers=PROVIDERS,
    )
    return replace(built, **overrides)


SI_YEAR = date(2026, 4, 1)


def si_key(level: AccumulatorLevel = AccumulatorLevel.MEMBER, holder: str | None = None) -> AccumulatorKey:
    if holder is None:
        holder = MEMBER if level is AccumulatorLevel.MEMBER else FAMILY
    return AccumulatorKey(AccumulatorKind.SUM_INSURED, level, holder, SI_YEAR, NetworkScope.ANY)
