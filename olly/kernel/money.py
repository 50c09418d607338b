"""Money as integer minor units with an ISO 4217 currency.

Floats never enter: construction, parsing and multiplication refuse them. Rounding happens only in
``times`` (a rate applied to an amount; half-up to the minor unit unless told otherwise) and is
never cumulative: ``allocate`` uses the largest-remainder method so the parts always sum to the
whole, and ties go to the earliest parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from enum import Enum
from typing import Final

from olly.kernel.errors import CurrencyMismatch, FieldError, ValidationFailed

#: Minor-unit exponents of the currencies Olly handles (ISO 4217). Extend as payers need.
_EXPONENTS: Final[dict[str, int]] = {
    "USD": 2,
    "INR": 2,
    "GBP": 2,
    "EUR": 2,
    "CAD": 2,
    "AUD": 2,
    "CHF": 2,
    "SGD": 2,
    "AED": 2,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "BHD": 3,
}

_DECIMAL_RE: Final = re.compile(r"^(?P<sign>-)?(?P<int>\d+)(?:\.(?P<frac>\d+))?$")


class Rounding(Enum):
    """How a fractional minor unit is resolved. Cost sharing uses HALF_UP unless a plan says otherwise."""

    HALF_UP = ROUND_HALF_UP
    HALF_EVEN = ROUND_HALF_EVEN
    DOWN = ROUND_DOWN
    UP = ROUND_UP


def exponent(currency: str) -> int:
    try:
        return _EXPONENTS[currency]
    except KeyError:
        raise ValidationFailed(
            [FieldError("currency", "not a supported ISO 4217 currency code", "unknown_currency")]
        ) from None


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int
    """Minor units (cents, paise, pence)."""
    currency: str

    def __post_init__(self) -> None:
        if type(self.amount) is not int:  # bool and float both refused
            raise TypeError("Money.amount must be an int of minor units")
        exponent(self.currency)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Parse a decimal string such as ``"250.00"``; more decimals than the currency has is an error."""
        if not isinstance(text, str):
            raise TypeError("Money.parse takes a decimal string")
        match = _DECIMAL_RE.match(text.strip())
        exp = exponent(currency)
        if match is None:
            raise ValidationFailed([FieldError("amount", "must be a decimal string such as 250.00", "invalid_amount")])
        frac = match.group("frac") or ""
        if len(frac) > exp:
            raise ValidationFailed(
                [FieldError("amount", f"has more than {exp} decimal places for {currency}", "invalid_amount")]
            )
        minor = int(match.group("int")) * 10**exp + (int(frac.ljust(exp, "0")) if exp else 0)
        return cls(-minor if match.group("sign") else minor, currency)

    # -- rendering ----------------------------------------------------------------------------
    def to_decimal_string(self) -> str:
        """``"250.00"``: the form used at API and event boundaries."""
        exp = exponent(self.currency)
        sign = "-" if self.amount < 0 else ""
        units, minor = divmod(abs(self.amount), 10**exp)
        return f"{sign}{units}.{minor:0{exp}d}" if exp else f"{sign}{units}"

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"

    # -- arithmetic -----------------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError("Money combines only with Money")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: int) -> Money:
        if type(factor) is not int:
            raise TypeError("multiply Money by an int; use times() for a rate")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __bool__(self) -> bool:
        return self.amount != 0

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def min(self, other: Money) -> Money:
        return self if self.amount <= self._same(other).amount else other

    def max(self, other: Money) -> Money:
        return self if self.amount >= self._same(other).amount else other

    def clamp_non_negative(self) -> Money:
        return self if self.amount >= 0 else Money(0, self.currency)

    def times(self, rate: Decimal | int, rounding: Rounding = Rounding.HALF_UP) -> Money:
        """This amount multiplied by ``rate`` (a fraction: ``Decimal("0.20")`` is 20%), rounded once."""
        if isinstance(rate, float) or not isinstance(rate, (Decimal, int)):
            raise TypeError("rate must be a Decimal or int, never a float")
        product = Decimal(self.amount) * Decimal(rate)
        return Money(int(product.quantize(Decimal(1), rounding=rounding.value)), self.currency)

    def percent(self, percent: Decimal | int, rounding: Rounding = Rounding.HALF_UP) -> Money:
        """``percent`` per cent of this amount: ``Money(12345, "USD").percent(20)`` is 24.69."""
        return self.times(Decimal(percent) / 100, rounding)

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split into parts proportional to integer ``weights``; the parts always sum to the whole.

        Largest-remainder method: each part gets the floor of its exact share, and the minor units
        left over go one each to the parts with the largest remainders (earliest first on ties).
        """
        if not weights or any(type(w) is not int or w < 0 for w in weights) or sum(weights) == 0:
            raise ValueError("weights must be non-negative ints with a positive sum")
        total = sum(weights)
        sign = -1 if self.amount < 0 else 1
        whole = abs(self.amount)
        floors = [whole * w // total for w in weights]
        remainders = [whole * w % total for w in weights]
        left = whole - sum(floors)
        order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
        for i in order[:left]:
            floors[i] += 1
        return [Money(sign * part, self.currency) for part in floors]


def total(amounts: Iterable[Money], currency: str) -> Money:
    """Sum of ``amounts`` in ``currency`` (zero when empty); mixed currencies raise."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
