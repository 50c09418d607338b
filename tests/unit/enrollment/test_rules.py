from datetime import date

import pytest

from olly.enrollment import rules
from olly.enrollment.rules import Market, Person, QualifyingEvent, Relationship, TerminationReason
from olly.kernel.errors import BusinessRuleViolation


def codes(market: Market, relationship: Relationship, born: date, on: date) -> list[str]:
    return [p.code for p in rules.dependent_problems(market, Person(relationship, born), on)]


def test_who_may_be_a_dependent() -> None:
    on = date(2026, 3, 1)
    assert codes(Market.GROUP, Relationship.SPOUSE, date(1980, 1, 1), on) == []
    assert codes(Market.GROUP, Relationship.PARENT, date(1950, 1, 1), on) == ["relationship_not_covered"]
    assert codes(Market.SUM_INSURED, Relationship.PARENT_IN_LAW, date(1950, 1, 1), on) == []
    assert codes(Market.SUM_INSURED, Relationship.SIBLING, date(1999, 1, 1), on) == []
    assert codes(Market.GROUP, Relationship.SELF, date(1980, 1, 1), on) == ["invalid_relationship"]
    # children to age 26: covered the day before the 26th birthday, not on it
    assert codes(Market.GROUP, Relationship.CHILD, date(2000, 3, 2), on) == []
    assert codes(Market.GROUP, Relationship.CHILD, date(2000, 3, 1), on) == ["aged_out"]
    assert codes(Market.INDIVIDUAL, Relationship.CHILD, date(2026, 3, 2), on) == ["born_after_coverage"]


def test_child_coverage_ends_at_the_end_of_the_month_of_the_26th_birthday() -> None:
    assert rules.child_coverage_end(date(2000, 6, 15)) == date(2026, 6, 30)


def test_special_enrollment_effective_dates() -> None:
    # birth reported 20 days late: covered from the birth date
    assert rules.special_enrollment_effective_date(
        Market.GROUP, QualifyingEvent.BIRTH, date(2026, 1, 3), date(2026, 1, 23)
    ) == date(2026, 1, 3)
    # marriage: the first of the month after the request
    assert rules.special_enrollment_effective_date(
        Market.GROUP, QualifyingEvent.MARRIAGE, date(2026, 1, 10), date(2026, 1, 20)
    ) == date(2026, 2, 1)
    # windows: 30 days for employer plans, 60 for the individual market (inclusive)
    assert rules.special_enrollment_effective_date(
        Market.INDIVIDUAL, QualifyingEvent.MOVE, date(2026, 1, 1), date(2026, 3, 2)
    ) == date(2026, 4, 1)
    with pytest.raises(BusinessRuleViolation, match="30 days"):
        rules.special_enrollment_effective_date(Market.GROUP, QualifyingEvent.BIRTH, date(2026, 1, 1), date(2026, 2, 1))


def test_termination_dates() -> None:
    today = date(2026, 1, 15)
    assert rules.termination_date(None, TerminationReason.VOLUNTARY, today) == date(2026, 1, 31)
    assert rules.termination_date(date(2026, 3, 10), TerminationReason.VOLUNTARY, today) == date(2026, 3, 31)
    with pytest.raises(BusinessRuleViolation, match="past"):
        rules.termination_date(date(2026, 1, 14), TerminationReason.VOLUNTARY, today)
    # non-payment may be back-dated, exactly (e.g. to the end of the first grace month)
    assert rules.termination_date(date(2025, 12, 31), TerminationReason.NON_PAYMENT, today) == date(2025, 12, 31)
    assert rules.termination_date(date(2025, 11, 30), TerminationReason.FRAUD, today) == date(2025, 11, 30)


def test_tiers() -> None:
    assert rules.tier_code([]) == "EE"
    assert rules.tier_code([Relationship.SPOUSE]) == "EE+SP"
    assert rules.tier_code([Relationship.CHILD, Relationship.CHILD]) == "EE+CH"
    assert rules.tier_code([Relationship.DOMESTIC_PARTNER, Relationship.CHILD]) == "EE+FAM"


def test_the_term_in_force_is_the_later_one_where_terms_overlap() -> None:
    year = (date(2026, 1, 1), date(2026, 12, 31))
    repriced_from_april = (date(2026, 4, 1), date(2026, 12, 31))
    plan_change_from_may = (date(2026, 5, 1), date(2026, 12, 31))
    periods = [year, repriced_from_april, plan_change_from_may]
    assert rules.terms_in_force(periods, date(2026, 3, 15), date(2026, 12, 31)) == [
        (0, date(2026, 3, 15), date(2026, 3, 31)),
        (1, date(2026, 4, 1), date(2026, 4, 30)),
        (2, date(2026, 5, 1), date(2026, 12, 31)),
    ]
    assert rules.terms_in_force(periods, date(2026, 5, 2), date(2026, 6, 30)) == [
        (2, date(2026, 5, 2), date(2026, 6, 30))
    ]
    # a term replaced from its first day (same start, made later) is never in force
    assert rules.terms_in_force([year, year], date(2026, 1, 1), date(2026, 2, 1)) == [
        (1, date(2026, 1, 1), date(2026, 2, 1))
    ]
    # days no term covers are left out; a term ending early hands back to the one under it
    short = (date(2026, 2, 1), date(2026, 2, 28))
    assert rules.terms_in_force([year, short], date(2026, 1, 20), date(2026, 3, 10)) == [
        (0, date(2026, 1, 20), date(2026, 1, 31)),
        (1, date(2026, 2, 1), date(2026, 2, 28)),
        (0, date(2026, 3, 1), date(2026, 3, 10)),
    ]
    assert rules.terms_in_force([short], date(2026, 1, 20), date(2026, 3, 10)) == [
        (0, date(2026, 2, 1), date(2026, 2, 28))
    ]
