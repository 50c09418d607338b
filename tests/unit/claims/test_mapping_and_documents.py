"""Provider fee-schedule terms → the engine's contract; document types from magic bytes."""

from __future__ import annotations

from decimal import Decimal

from olly.claims import plan_mapping
from olly.claims.documents import sniff
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


def test_sniff_by_content_never_by_name() -> None:
    assert sniff(b"%PDF-1.7\n...") == "application/pdf"
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert sniff(b"\x89PNG\r\n\x1a\n\x00\x00") == "image/png"
    assert sniff(b"GIF89a") is None
    assert sniff(b"<html>%PDF-") is None
    assert sniff(b"") is None
