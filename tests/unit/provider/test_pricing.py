"""Fee-schedule pricing, one hand-computed example set per schedule kind (every cent asserted)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from olly.kernel.errors import BusinessRuleViolation
from olly.kernel.money import Money
from olly.provider.rules import (
    ANY_CODE,
    FeeScheduleKind,
    FeeScheduleTerms,
    PricingOutcome,
    Rate,
    ServiceToPrice,
    price_service,
    stay_days,
)


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def schedule(kind: FeeScheduleKind, *rates: Rate, **kw: object) -> FeeScheduleTerms:
    return FeeScheduleTerms("TEST", kind, "USD", {(x.code, x.modifier): x for x in rates}, **kw)  # type: ignore[arg-type]


def assert_priced(result, *, rate: str, allowed: str, write_off: str) -> None:  # type: ignore[no-untyped-def]
    assert result.outcome is PricingOutcome.PRICED
    assert result.contract_rate == usd(rate)
    assert result.allowed == usd(allowed)
    assert result.write_off == usd(write_off)
    assert result.allowed + result.write_off == result.billed


# -- AMOUNT: rate = amount(code, modifier) × units ---------------------------------------------------
AMOUNTS = schedule(
    FeeScheduleKind.AMOUNT,
    Rate("99213", "", amount=usd("92.47")),
    Rate("99213", "25", amount=usd("95.00")),
    Rate("71046", "", amount=usd("40.00")),
    Rate("71046", "26", amount=usd("12.34")),
)


def test_amount_unmodified_code() -> None:
    # 92.47 × 1 = 92.47; billed 150.00 → write-off 150.00 − 92.47 = 57.53
    result = price_service(AMOUNTS, ServiceToPrice("99213", usd("150.00")))
    assert_priced(result, rate="92.47", allowed="92.47", write_off="57.53")
    assert result.rate_modifier == ""


def test_amount_modifier_with_its_own_rate() -> None:
    # 99213-25 has its own row: 95.00; write-off 150.00 − 95.00 = 55.00
    result = price_service(AMOUNTS, ServiceToPrice("99213", usd("150.00"), modifiers=("25",)))
    assert_priced(result, rate="95.00", allowed="95.00", write_off="55.00")


def test_amount_modifier_without_a_row_falls_back_to_the_unmodified_rate() -> None:
    result = price_service(AMOUNTS, ServiceToPrice("99213", usd("150.00"), modifiers=("59",)))
    assert_priced(result, rate="92.47", allowed="92.47", write_off="57.53")


def test_amount_times_units_with_professional_component_modifier() -> None:
    # 71046-26: 12.34 × 2 = 24.68; billed 60.00 → write-off 35.32
    result = price_service(AMOUNTS, ServiceToPrice("71046", usd("60.00"), units=2, modifiers=("26",)))
    assert_priced(result, rate="24.68", allowed="24.68", write_off="35.32")


def test_amount_lesser_of_billed() -> None:
    # billed 80.00 is below the 92.47 rate: allowed is the billed amount, no write-off
    result = price_service(AMOUNTS, ServiceToPrice("99213", usd("80.00")))
    assert_priced(result, rate="92.47", allowed="80.00", write_off="0.00")


def test_amount_without_a_rate_is_not_priced() -> None:
    result = price_service(AMOUNTS, ServiceToPrice("99999", usd("80.00")))
    assert result.outcome is PricingOutcome.NO_RATE
    assert (result.allowed, result.contract_rate, result.write_off) == (None, None, None)


# -- PERCENT_OF_BASE: rate = RVU × CF × percent / 100 × units, rounded once half-up -----------------
RVUS = schedule(
    FeeScheduleKind.RELATIVE_VALUE,
    Rate("99213", "", relative_value=Decimal("2.6")),
    Rate("36415", "", relative_value=Decimal("0.17")),
    Rate("11111", "", relative_value=Decimal("1.5")),
)
PERCENT_OF_BASE = schedule(
    FeeScheduleKind.PERCENT_OF_BASE,
    Rate("36415", "", percent=Decimal("110")),
    percent=Decimal("120"),
    conversion_factor=Decimal("33.2875"),
    base=RVUS,
)


def test_percent_of_base() -> None:
    # 2.6 × 33.2875 = 86.5475; × 120% = 103.857 → 103.86; write-off 150.00 − 103.86 = 46.14
    result = price_service(PERCENT_OF_BASE, ServiceToPrice("99213", usd("150.00")))
    assert_priced(result, rate="103.86", allowed="103.86", write_off="46.14")
    assert "2.6 RVU × 33.2875 CF × 120% × 1 unit(s) = 103.857" in result.formula


def test_percent_of_base_with_a_per_code_percent_and_units() -> None:
    # 0.17 × 33.2875 = 5.658875; × 110% = 6.2247625; × 3 units = 18.6742875 → 18.67; write-off 11.33
    result = price_service(PERCENT_OF_BASE, ServiceToPrice("36415", usd("30.00"), units=3))
    assert_priced(result, rate="18.67", allowed="18.67", write_off="11.33")


def test_percent_of_base_rounds_half_up_once() -> None:
    # 1.5 × 10 × 100.3% = 15.045 exactly → 15.05 (half-even would give 15.04)
    terms = schedule(
        FeeScheduleKind.PERCENT_OF_BASE, percent=Decimal("100.3"), conversion_factor=Decimal("10"), base=RVUS
    )
    result = price_service(terms, ServiceToPrice("11111", usd("100.00")))
    assert_priced(result, rate="15.05", allowed="15.05", write_off="84.95")


def test_percent_of_base_without_a_relative_value() -> None:
    result = price_service(PERCENT_OF_BASE, ServiceToPrice("99214", usd("150.00")))
    assert result.outcome is PricingOutcome.NO_RATE


# -- PERCENT_OF_BILLED: rate = billed × percent / 100 -------------------------------------------------
PERCENT_OF_BILLED = schedule(
    FeeScheduleKind.PERCENT_OF_BILLED, Rate("99285", "", percent=Decimal("62.5")), percent=Decimal("65")
)


def test_percent_of_billed() -> None:
    # 1,234.56 × 65% = 802.464 → 802.46; write-off 1,234.56 − 802.46 = 432.10
    result = price_service(PERCENT_OF_BILLED, ServiceToPrice("99213", usd("1234.56")))
    assert_priced(result, rate="802.46", allowed="802.46", write_off="432.10")


def test_percent_of_billed_per_code_override() -> None:
    # 100.01 × 62.5% = 62.50625 → 62.51; write-off 37.50
    result = price_service(PERCENT_OF_BILLED, ServiceToPrice("99285", usd("100.01")))
    assert_priced(result, rate="62.51", allowed="62.51", write_off="37.50")


def test_percent_of_billed_half_cent_rounds_up() -> None:
    # 0.05 × 50% = 0.025 → 0.03
    terms = schedule(FeeScheduleKind.PERCENT_OF_BILLED, percent=Decimal("50"))
    result = price_service(terms, ServiceToPrice("99213", usd("0.05")))
    assert_priced(result, rate="0.03", allowed="0.03", write_off="0.02")


# -- PER_DIEM: rate = per diem(revenue code) × days ---------------------------------------------------
PER_DIEM = schedule(
    FeeScheduleKind.PER_DIEM,
    Rate("0120", "", amount=usd("1850.00")),
    Rate("0200", "", amount=usd("3200.00")),
    Rate(ANY_CODE, "", amount=usd("1500.00")),
)


def test_per_diem_stay() -> None:
    # admitted 10 Jan, discharged 14 Jan: 4 days × 1,850.00 = 7,400.00; billed 9,200.00 → write-off 1,800.00
    line = ServiceToPrice("0120", usd("9200.00"), admission_date=date(2026, 1, 10), discharge_date=date(2026, 1, 14))
    result = price_service(PER_DIEM, line)
    assert_priced(result, rate="7400.00", allowed="7400.00", write_off="1800.00")


def test_per_diem_same_day_stay_counts_one_day_and_lesser_of_billed() -> None:
    # 1 day × 3,200.00 = 3,200.00 > billed 2,500.00 → allowed 2,500.00
    line = ServiceToPrice("0200", usd("2500.00"), admission_date=date(2026, 3, 1), discharge_date=date(2026, 3, 1))
    result = price_service(PER_DIEM, line)
    assert_priced(result, rate="3200.00", allowed="2500.00", write_off="0.00")


def test_per_diem_default_row() -> None:
    # revenue code 0250 has no row: the * row, 2 days × 1,500.00 = 3,000.00
    line = ServiceToPrice("0250", usd("4000.00"), admission_date=date(2026, 2, 1), discharge_date=date(2026, 2, 3))
    result = price_service(PER_DIEM, line)
    assert_priced(result, rate="3000.00", allowed="3000.00", write_off="1000.00")
    assert result.rate_code == ANY_CODE


def test_per_diem_needs_stay_dates() -> None:
    result = price_service(PER_DIEM, ServiceToPrice("0120", usd("100.00")))
    assert result.outcome is PricingOutcome.STAY_DATES_REQUIRED
    assert result.allowed is None


def test_stay_days() -> None:
    assert stay_days(date(2026, 1, 10), date(2026, 1, 14)) == 4
    assert stay_days(date(2026, 1, 10), date(2026, 1, 10)) == 1
    assert stay_days(date(2026, 2, 27), date(2026, 3, 2)) == 3  # 2026 is not a leap year
    with pytest.raises(BusinessRuleViolation):
        stay_days(date(2026, 1, 10), date(2026, 1, 9))


# -- refusals -------------------------------------------------------------------------------------------
def test_currency_mismatch_is_refused() -> None:
    with pytest.raises(BusinessRuleViolation):
        price_service(AMOUNTS, ServiceToPrice("99213", Money.parse("150.00", "INR")))


def test_zero_units_is_refused() -> None:
    with pytest.raises(BusinessRuleViolation):
        price_service(AMOUNTS, ServiceToPrice("99213", usd("150.00"), units=0))


def test_a_relative_value_schedule_is_not_a_price_list() -> None:
    result = price_service(RVUS, ServiceToPrice("99213", usd("150.00")))
    assert result.outcome is PricingOutcome.NOT_PRICEABLE
