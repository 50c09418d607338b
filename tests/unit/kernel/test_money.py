from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from olly.kernel.errors import CurrencyMismatch, ValidationFailed
from olly.kernel.money import Money, Rounding, total


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("250.00", "USD", 25000),
        ("250", "USD", 25000),
        ("250.5", "USD", 25050),
        ("0.01", "USD", 1),
        ("-12.34", "USD", -1234),
        ("1200.00", "INR", 120000),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
    ],
)
def test_parse(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)


@pytest.mark.parametrize("text", ["1.234", "abc", "1,000.00", "", "1e3", "--1", "1."])
def test_parse_refuses_malformed_or_too_precise(text: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        Money.parse(text, "USD")
    assert info.value.errors[0].field == "amount"


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        Money(100, "XYZ")


def test_floats_never_enter() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        usd("1.00").times(0.2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        usd("1.00") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money(True, "USD")


@pytest.mark.parametrize(
    ("money", "text"),
    [(Money(25000, "USD"), "250.00"), (Money(-5, "USD"), "-0.05"), (Money(7, "JPY"), "7"), (Money(1, "KWD"), "0.001")],
)
def test_format(money: Money, text: str) -> None:
    assert money.to_decimal_string() == text


def test_arithmetic_and_comparison_within_one_currency() -> None:
    assert usd("1.10") + usd("2.25") == usd("3.35")
    assert usd("1.10") - usd("2.25") == usd("-1.15")
    assert usd("1.10") * 3 == usd("3.30")
    assert usd("1.00") < usd("1.01") <= usd("1.01")
    assert usd("5.00").min(usd("3.00")) == usd("3.00")
    assert usd("-1.00").clamp_non_negative() == usd("0.00")
    assert total([usd("1.00"), usd("2.50")], "USD") == usd("3.50")
    assert total([], "INR") == Money(0, "INR")


def test_mixing_currencies_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        usd("1.00") + Money(100, "INR")
    with pytest.raises(CurrencyMismatch):
        _ = usd("1.00") < Money(100, "GBP")


def test_percent_rounds_half_up_once() -> None:
    # 20% of 123.45 = 24.69 exactly; 20% of 0.03 = 0.006 → 0.01 (half up); 15% of 0.10 = 0.015 → 0.02
    assert usd("123.45").percent(20) == usd("24.69")
    assert usd("0.03").percent(20) == usd("0.01")
    assert usd("0.10").percent(15) == usd("0.02")
    assert usd("0.10").percent(15, Rounding.HALF_EVEN) == usd("0.02")
    assert usd("0.10").percent(25, Rounding.HALF_EVEN) == usd("0.02")  # 0.025 → 0.02 (even)
    assert usd("0.10").percent(25, Rounding.DOWN) == usd("0.02")
    assert usd("100.00").times(Decimal("1.02")) == usd("102.00")  # COBRA 102%


def test_allocate_sums_to_the_whole_and_gives_remainders_first() -> None:
    # 100.00 in thirds: 33.34, 33.33, 33.33 (the one leftover cent goes to the first part)
    assert usd("100.00").allocate([1, 1, 1]) == [usd("33.34"), usd("33.33"), usd("33.33")]
    # Employer 60 / employee 40 of 1200.00
    assert usd("1200.00").allocate([60, 40]) == [usd("720.00"), usd("480.00")]
    assert usd("-0.05").allocate([1, 1]) == [usd("-0.03"), usd("-0.02")]
    with pytest.raises(ValueError, match="weights"):
        usd("1.00").allocate([0, 0])


@given(
    amount=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
)
def test_allocation_always_sums_to_the_whole(amount: int, weights: list[int]) -> None:
    parts = Money(amount, "USD").allocate(weights)
    assert sum(p.amount for p in parts) == amount
    assert all(p.amount == 0 for p, w in zip(parts, weights, strict=True) if w == 0)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_parse_round_trip(amount: int) -> None:
    money = Money(amount, "INR")
    assert Money.parse(money.to_decimal_string(), "INR") == money
