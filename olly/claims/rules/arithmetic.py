"""Exact rational arithmetic on minor units: one rounding, at the end, in the plan's rounding mode."""

from __future__ import annotations

from decimal import Decimal

from olly.kernel.money import Rounding


def round_ratio(numerator: int, denominator: int, rounding: Rounding) -> int:
    """``numerator / denominator`` (both non-negative, denominator positive) rounded to an integer."""
    quotient, remainder = divmod(numerator, denominator)
    if remainder == 0 or rounding is Rounding.DOWN:
        return quotient
    if rounding is Rounding.UP:
        return quotient + 1
    twice = 2 * remainder
    if twice > denominator:
        return quotient + 1
    if twice < denominator:
        return quotient
    if rounding is Rounding.HALF_UP:
        return quotient + 1
    return quotient + (quotient % 2)  # HALF_EVEN


def percent_of(amount: int, percent: Decimal, rounding: Rounding) -> int:
    """``percent`` per cent of ``amount`` minor units, rounded once."""
    if amount == 0 or percent == 0:
        return 0
    top, bottom = percent.as_integer_ratio()
    return round_ratio(amount * top, bottom * 100, rounding)


def scale(amount: int, numerator: int, denominator: int, rounding: Rounding) -> int:
    """``amount × numerator / denominator``, rounded once (proportional deductions and pro-rating)."""
    return round_ratio(amount * numerator, denominator, rounding)


def product_of(factors: tuple[Decimal, ...], rounding: Rounding) -> int:
    """The product of non-negative decimals, rounded once to an integer."""
    top, bottom = 1, 1
    for factor in factors:
        n, d = factor.as_integer_ratio()
        top *= n
        bottom *= d
    return round_ratio(top, bottom, rounding)
