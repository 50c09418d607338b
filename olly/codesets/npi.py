"""National Provider Identifier check digit (CMS NPI standard, ISO/IEC 7812 Luhn over the "80840" prefix)."""

from __future__ import annotations

from typing import Final

#: The card-issuer prefix a 10-digit NPI is checked under: the Luhn sum of "80840" is constant.
_PREFIX_SUM: Final = 24


def is_valid_npi(npi: str) -> bool:
    """True when ``npi`` is ten digits, starts with 1 or 2, and its last digit is the Luhn check digit."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit() or npi[0] not in "12":
        return False
    return check_digit(npi[:9]) == int(npi[9])


def check_digit(first_nine: str) -> int:
    """The NPI check digit for nine digits: Luhn over "80840" + ``first_nine``.

    Counting from the right of the nine digits, every other digit starting with the rightmost is
    doubled (digits of the product summed); "80840" contributes the constant 24.
    """
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("an NPI check digit needs exactly nine digits")
    total = _PREFIX_SUM
    for position, char in enumerate(reversed(first_nine)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10
