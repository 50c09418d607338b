"""Premiums for every demo plan and every tier, computed by hand in the comments, exact to the cent/paisa.

Rounding: one half-up rounding to the minor unit per computed amount (the employer's percentage
share; each ACA member's premium; the floater premium; a family discount). Member shares are
remainders, so employer + member = total exactly.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from olly.kernel.errors import ValidationFailed
from olly.kernel.money import Money
from olly.plans import document, rules
from olly.plans.rules import QuotedMember, QuoteRequest, Relationship, Tier
from tests.plan_documents import DELETE, changed, demo_data

SUBSCRIBER, SPOUSE, CHILD = Relationship.SUBSCRIBER, Relationship.SPOUSE, Relationship.CHILD
PARENT, PARENT_IN_LAW, SIBLING = Relationship.PARENT, Relationship.PARENT_IN_LAW, Relationship.SIBLING


def demo_plan(code: str) -> rules.PlanVersion:
    return document.to_plan_version(document.validate_plan(demo_data(code)))


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def inr(text: str) -> Money:
    return Money.parse(text, "INR")


def household(*members: tuple[Relationship, int] | tuple[Relationship, int, bool]) -> tuple[QuotedMember, ...]:
    return tuple(QuotedMember(m[0], m[1], m[2] if len(m) > 2 else False) for m in members)  # type: ignore[misc]


def split(quote: rules.PremiumQuote) -> tuple[str, str, str]:
    return (
        quote.total_premium.to_decimal_string(),
        quote.employer_contribution.to_decimal_string(),
        quote.member_premium.to_decimal_string(),
    )


# ---------------------------------------------------------------------------------------------
# Employer PPO: employer pays a percentage per tier
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        # 612.34 x 80% = 489.872 -> 489.87; member 612.34 - 489.87 = 122.47
        (Tier.EE, ("612.34", "489.87", "122.47")),
        # 1200.00 x 60% = 720.00; member 480.00 (the catalog's memberPremium example)
        (Tier.EE_SP, ("1200.00", "720.00", "480.00")),
        # 1045.67 x 65% = 679.6855 -> 679.69; member 1045.67 - 679.69 = 365.98
        (Tier.EE_CH, ("1045.67", "679.69", "365.98")),
        # 1789.90 x 55% = 984.445 -> 984.45 (half-up; half-even would give 984.44); member 805.45
        (Tier.EE_FAM, ("1789.90", "984.45", "805.45")),
    ],
)
def test_employer_ppo_tiers(tier: Tier, expected: tuple[str, str, str]) -> None:
    quote = rules.quote_premium(demo_plan("OLLY-PPO-1000"), QuoteRequest(tier=tier))
    assert split(quote) == expected
    assert quote.tier is tier
    assert quote.period is rules.PremiumPeriod.MONTHLY
    assert quote.currency == "USD"


# ---------------------------------------------------------------------------------------------
# Employer HMO: employer pays a fixed amount per tier
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        # member 498.76 - 450.00 = 48.76
        (Tier.EE, ("498.76", "450.00", "48.76")),
        # member 1021.53 - 700.00 = 321.53
        (Tier.EE_SP, ("1021.53", "700.00", "321.53")),
        # member 934.10 - 650.00 = 284.10
        (Tier.EE_CH, ("934.10", "650.00", "284.10")),
        # member 1476.05 - 900.00 = 576.05
        (Tier.EE_FAM, ("1476.05", "900.00", "576.05")),
    ],
)
def test_employer_hmo_tiers(tier: Tier, expected: tuple[str, str, str]) -> None:
    assert split(rules.quote_premium(demo_plan("OLLY-HMO-250"), QuoteRequest(tier=tier))) == expected


# ---------------------------------------------------------------------------------------------
# Employer HDHP: employer pays 75% of every tier
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        # 421.13 x 0.75 = 315.8475 -> 315.85; member 421.13 - 315.85 = 105.28
        (Tier.EE, ("421.13", "315.85", "105.28")),
        # 884.37 x 0.75 = 663.2775 -> 663.28; member 884.37 - 663.28 = 221.09
        (Tier.EE_SP, ("884.37", "663.28", "221.09")),
        # 800.15 x 0.75 = 600.1125 -> 600.11; member 800.15 - 600.11 = 200.04
        (Tier.EE_CH, ("800.15", "600.11", "200.04")),
        # 1263.39 x 0.75 = 947.5425 -> 947.54; member 1263.39 - 947.54 = 315.85
        (Tier.EE_FAM, ("1263.39", "947.54", "315.85")),
    ],
)
def test_employer_hdhp_tiers(tier: Tier, expected: tuple[str, str, str]) -> None:
    assert split(rules.quote_premium(demo_plan("OLLY-HDHP-3400"), QuoteRequest(tier=tier))) == expected


def test_the_tier_follows_from_the_members() -> None:
    plan = demo_plan("OLLY-PPO-1000")
    family = household((SUBSCRIBER, 41), (Relationship.DOMESTIC_PARTNER, 39), (CHILD, 7))
    quote = rules.quote_premium(plan, QuoteRequest(members=family))
    assert quote.tier is Tier.EE_FAM
    assert split(quote) == ("1789.90", "984.45", "805.45")


def test_a_tier_that_contradicts_the_members_is_refused() -> None:
    plan = demo_plan("OLLY-PPO-1000")
    with pytest.raises(ValidationFailed) as caught:
        rules.quote_premium(plan, QuoteRequest(tier=Tier.EE, members=household((SUBSCRIBER, 41), (CHILD, 7))))
    assert [(e.field, e.message) for e in caught.value.errors] == [("tier", "is EE but the members listed make EE+CH")]


def test_a_tier_plan_needs_a_tier_or_members() -> None:
    with pytest.raises(ValidationFailed) as caught:
        rules.quote_premium(demo_plan("OLLY-PPO-1000"), QuoteRequest())
    assert [(e.field, e.message) for e in caught.value.errors] == [("tier", "is required (or list the members)")]


def test_an_employer_may_contribute_its_own_percentage() -> None:
    # 1200.00 x 72.5% = 870.00; member 330.00
    override = rules.PercentContribution(dict.fromkeys(Tier, Decimal("72.5")))
    quote = rules.quote_premium(
        demo_plan("OLLY-PPO-1000"), QuoteRequest(tier=Tier.EE_SP, employer_contribution=override)
    )
    assert split(quote) == ("1200.00", "870.00", "330.00")


def test_an_employer_may_not_pay_more_than_the_premium() -> None:
    override = rules.FixedContribution(dict.fromkeys(Tier, usd("612.35")))
    with pytest.raises(ValidationFailed) as caught:
        rules.quote_premium(demo_plan("OLLY-PPO-1000"), QuoteRequest(tier=Tier.EE, employer_contribution=override))
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("employer_contribution", "exceeds the EE premium (612.34)")
    ]


def test_the_quote_shows_its_arithmetic() -> None:
    quote = rules.quote_premium(demo_plan("OLLY-PPO-1000"), QuoteRequest(tier=Tier.EE_FAM))
    assert quote.steps == (
        "EE+FAM premium 1789.90 monthly",
        "employer 55% of 1789.90 = 984.45 (half-up to the minor unit)",
        "member 1789.90 - 984.45 = 805.45",
    )


# ---------------------------------------------------------------------------------------------
# ACA silver, individual market: base 385.47 x age x area x tobacco per member, summed
# ---------------------------------------------------------------------------------------------
def aca(members: tuple[QuotedMember, ...], area: str) -> rules.PremiumQuote:
    return rules.quote_premium(demo_plan("OLLY-ACA-SILVER"), QuoteRequest(members=members, rating_area=area))


def test_aca_single() -> None:
    # 385.47 x 1.278 (age 40) x 1.0000 (area 1) = 492.63066 -> 492.63
    quote = aca(household((SUBSCRIBER, 40)), "1")
    assert quote.tier is Tier.EE
    assert split(quote) == ("492.63", "0.00", "492.63")


def test_aca_single_tobacco_user() -> None:
    # 385.47 x 1.278 x 1.0000 x 1.20 = 591.156792 -> 591.16
    assert split(aca(household((SUBSCRIBER, 40, True)), "1")) == ("591.16", "0.00", "591.16")


def test_aca_couple_in_area_2() -> None:
    # subscriber 40: 385.47 x 1.278 x 1.0850 = 534.5042661 -> 534.50
    # spouse 38, tobacco: 385.47 x 1.246 x 1.0850 x 1.20 = 625.34489724 -> 625.34
    # total 534.50 + 625.34 = 1159.84
    quote = aca(household((SUBSCRIBER, 40), (SPOUSE, 38, True)), "2")
    assert quote.tier is Tier.EE_SP
    assert [line.premium for line in quote.members] == [usd("534.50"), usd("625.34")]
    assert split(quote) == ("1159.84", "0.00", "1159.84")


def test_aca_parent_and_children_in_area_3() -> None:
    # subscriber 35: 385.47 x 1.222 x 0.9420 = 443.72376828 -> 443.72
    # child 16:      385.47 x 0.859 x 0.9420 = 311.91384366 -> 311.91
    # child 10:      385.47 x 0.765 x 0.9420 = 277.78124610 -> 277.78
    # total 443.72 + 311.91 + 277.78 = 1033.41
    quote = aca(household((SUBSCRIBER, 35), (CHILD, 16), (CHILD, 10)), "3")
    assert quote.tier is Tier.EE_CH
    assert [line.premium for line in quote.members] == [usd("443.72"), usd("311.91"), usd("277.78")]
    assert split(quote) == ("1033.41", "0.00", "1033.41")


def test_aca_family_rates_only_the_three_oldest_children_under_21() -> None:
    # subscriber 45: 385.47 x 1.444 = 556.61868 -> 556.62
    # spouse 44:     385.47 x 1.397 = 538.50159 -> 538.50
    # child 22 (21 or over, rated as an adult): 385.47 x 1.000 = 385.47
    # children under 21 are 17, 12, 9 and 5: the three oldest are rated, the 5-year-old is not
    # child 17: 385.47 x 0.885 = 341.14095 -> 341.14
    # child 12: 385.47 x 0.765 = 294.88455 -> 294.88
    # child 9:  385.47 x 0.765 = 294.88455 -> 294.88
    # total 556.62 + 538.50 + 385.47 + 341.14 + 294.88 + 294.88 = 2411.49
    members = household((SUBSCRIBER, 45), (SPOUSE, 44), (CHILD, 5), (CHILD, 22), (CHILD, 17), (CHILD, 9), (CHILD, 12))
    quote = aca(members, "1")
    assert quote.tier is Tier.EE_FAM
    assert [(line.age, line.rated, line.premium.to_decimal_string()) for line in quote.members] == [
        (45, True, "556.62"),
        (44, True, "538.50"),
        (5, False, "0.00"),
        (22, True, "385.47"),
        (17, True, "341.14"),
        (9, True, "294.88"),
        (12, True, "294.88"),
    ]
    assert split(quote) == ("2411.49", "0.00", "2411.49")


def test_aca_ages_64_and_over_share_the_top_factor() -> None:
    # 385.47 x 3.000 = 1156.41 at 64 and at 70 alike
    assert aca(household((SUBSCRIBER, 64)), "1").total_premium == usd("1156.41")
    assert aca(household((SUBSCRIBER, 70)), "1").total_premium == usd("1156.41")


def test_aca_tobacco_is_not_rated_below_the_legal_age() -> None:
    # Tobacco rating starts at 21 in this plan: 385.47 x 0.941 (age 19) = 362.72727 -> 362.73, no 1.20
    quote = aca(household((SUBSCRIBER, 19, True)), "1")
    assert quote.total_premium == usd("362.73")
    assert quote.members[0].factors == (("age", Decimal("0.941")), ("area", Decimal("1.0000")))


@pytest.mark.parametrize(
    ("members", "area", "expected"),
    [
        (household((SUBSCRIBER, 40)), "9", [("rating_area", "is not a rating area of this plan")]),
        (
            household((SUBSCRIBER, 50), (CHILD, 26)),
            "1",
            [("members.1.age", "children are covered while younger than 26")],
        ),
        (
            household((SUBSCRIBER, 50), (PARENT, 75)),
            "1",
            [("members.1.relationship", "parent is not a dependent this plan covers")],
        ),
        (household((SPOUSE, 50), (CHILD, 10)), "1", [("members", "must include exactly one subscriber")]),
        (
            household((SUBSCRIBER, 50), (SPOUSE, 49), (Relationship.DOMESTIC_PARTNER, 48)),
            "1",
            [("members", "may include at most one spouse or domestic partner")],
        ),
        ((), "1", [("members", "must list the people to cover")]),
    ],
    ids=["unknown-area", "child-26", "parent", "no-subscriber", "two-partners", "nobody"],
)
def test_aca_quotes_refuse_households_the_plan_cannot_cover(
    members: tuple[QuotedMember, ...], area: str | None, expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        aca(members, area)  # type: ignore[arg-type]
    assert [(e.field, e.message) for e in caught.value.errors] == expected


def test_aca_quote_without_an_area_uses_the_plans_default_area() -> None:
    # The demo plan names area 1 as its default: 385.47 x 1.278 x 1.0000 = 492.63066 -> 492.63
    quote = aca(household((SUBSCRIBER, 40)), None)  # type: ignore[arg-type]
    assert quote.total_premium == usd("492.63")
    assert quote.steps[0] == "base rate 385.47, area 1 (the plan's default area) factor 1.0000"


def test_aca_quote_needs_an_area_when_the_plan_has_no_default() -> None:
    data = changed(demo_data("OLLY-ACA-SILVER"), "rating.default_rating_area", DELETE)
    plan = document.to_plan_version(document.validate_plan(data))
    with pytest.raises(ValidationFailed) as caught:
        rules.quote_premium(plan, QuoteRequest(members=household((SUBSCRIBER, 40))))
    assert [(e.field, e.message) for e in caught.value.errors] == [("rating_area", "is required for an age-rated plan")]


def test_aca_plans_take_no_employer_contribution() -> None:
    override = rules.PercentContribution(dict.fromkeys(Tier, Decimal(50)))
    with pytest.raises(ValidationFailed) as caught:
        rules.quote_premium(
            demo_plan("OLLY-ACA-SILVER"),
            QuoteRequest(members=household((SUBSCRIBER, 40)), rating_area="1", employer_contribution=override),
        )
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("employer_contribution", "applies only to tier-rated group plans")
    ]


# ---------------------------------------------------------------------------------------------
# India family floater (INR, annual): eldest member's band premium x family-size factor
# ---------------------------------------------------------------------------------------------
def floater(*members: tuple[Relationship, int]) -> rules.PremiumQuote:
    return rules.quote_premium(demo_plan("OLLY-FLOATER-5L"), QuoteRequest(members=household(*members)))


@pytest.mark.parametrize(
    ("members", "tier", "total"),
    [
        # self 30: band 18-35 11450.00 x 1.00 (1 member) = 11450.00
        (((SUBSCRIBER, 30),), Tier.EE, "11450.00"),
        # self 40, spouse 38: eldest 40 -> band 36-45 14275.50 x 1.60 (2) = 22840.80
        (((SUBSCRIBER, 40), (SPOUSE, 38)), Tier.EE_SP, "22840.80"),
        # self 33, child 5: eldest 33 -> 11450.00 x 1.60 (2) = 18320.00
        (((SUBSCRIBER, 33), (CHILD, 5)), Tier.EE_CH, "18320.00"),
        # self 45, spouse 42, children 12 and 8: 14275.50 x 2.05 (4) = 29264.775 -> 29264.78
        (((SUBSCRIBER, 45), (SPOUSE, 42), (CHILD, 12), (CHILD, 8)), Tier.EE_FAM, "29264.78"),
    ],
)
def test_family_floater_tiers(members: tuple[tuple[Relationship, int], ...], tier: Tier, total: str) -> None:
    quote = floater(*members)
    assert quote.tier is tier
    assert split(quote) == (total, "0.00", total)
    assert quote.period is rules.PremiumPeriod.ANNUAL
    assert quote.currency == "INR"


def test_family_floater_with_parents_in_law_and_a_sibling() -> None:
    # Six members; the eldest (parent, 62) sets the band 61-65: 38760.00 x 2.35 (6) = 91086.00
    quote = floater((SUBSCRIBER, 38), (SPOUSE, 36), (CHILD, 10), (PARENT, 62), (PARENT_IN_LAW, 59), (SIBLING, 30))
    assert quote.total_premium == inr("91086.00")
    assert quote.tier is Tier.EE_FAM
    assert [line.rated for line in quote.members] == [False, False, False, True, False, False]
    assert quote.steps == (
        "eldest member 3 age 62: band 61-65 premium 38760.00",
        "38760.00 x family of 6 factor 2.35 = 91086.00 (half-up to the minor unit)",
    )


def test_family_floater_top_band_is_open() -> None:
    # self 70, spouse 68: band 66+ 52345.75 x 1.60 = 83753.20
    assert floater((SUBSCRIBER, 70), (SPOUSE, 68)).total_premium == inr("83753.20")


def test_family_floater_refuses_a_seventh_member() -> None:
    with pytest.raises(ValidationFailed) as caught:
        floater(*[(SUBSCRIBER, 40), (SPOUSE, 40)] + [(CHILD, age) for age in (1, 3, 5, 7, 9)])
    assert [(e.field, e.message) for e in caught.value.errors] == [("members", "may include at most 6 people")]


def test_family_floater_needs_an_adult_band_for_the_eldest() -> None:
    with pytest.raises(ValidationFailed) as caught:
        floater((SUBSCRIBER, 17), (SIBLING, 15))
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("members.0.age", "has no premium band (the eldest member sets the band)")
    ]


def individual_sum_insured() -> rules.PlanVersion:
    data = demo_data("OLLY-FLOATER-5L")
    data = changed(data, "sum_insured.basis", "individual")
    data = changed(data, "rating.family_size_factors", DELETE)
    data = changed(
        data,
        "rating.age_bands",
        [
            {"ages": "0-17", "premium": "3000.00"},
            {"ages": "18-45", "premium": "7000.00"},
            {"ages": "46+", "premium": "12000.50"},
        ],
    )
    data = changed(
        data, "rating.family_discounts", [{"min_members": 2, "percent": 5}, {"min_members": 4, "percent": 10}]
    )
    return document.to_plan_version(document.validate_plan(data))


def test_individual_sum_insured_sums_members_less_a_family_discount() -> None:
    # 7000.00 (40) + 12000.50 (47) + 3000.00 (10) = 22000.50
    # three members: 5% discount = 1100.025 -> 1100.03; premium 22000.50 - 1100.03 = 20900.47
    plan = individual_sum_insured()
    quote = rules.quote_premium(plan, QuoteRequest(members=household((SUBSCRIBER, 40), (SPOUSE, 47), (CHILD, 10))))
    assert [line.premium for line in quote.members] == [inr("7000.00"), inr("12000.50"), inr("3000.00")]
    assert quote.total_premium == inr("20900.47")


def test_individual_sum_insured_larger_family_discount() -> None:
    # 7000.00 + 7000.00 + 3000.00 + 3000.00 = 20000.00; four members: 10% = 2000.00; premium 18000.00
    plan = individual_sum_insured()
    members = household((SUBSCRIBER, 40), (SPOUSE, 39), (CHILD, 10), (CHILD, 8))
    assert rules.quote_premium(plan, QuoteRequest(members=members)).total_premium == inr("18000.00")


def test_individual_sum_insured_single_member_has_no_discount() -> None:
    plan = individual_sum_insured()
    assert rules.quote_premium(plan, QuoteRequest(members=household((SUBSCRIBER, 50)))).total_premium == inr("12000.50")
