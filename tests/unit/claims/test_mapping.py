"""Provider fee-schedule terms → the engine's contract."""

from __future__ import annotations

from decimal import Decimal

from olly.claims import plan_mapping
from olly.kernel.money import Money
from olly.provider import public as provider
from olly.provider.rules import Rate


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
