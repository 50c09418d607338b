"""CPT procedure codes by format only.

CPT is licensed by the AMA: Olly validates the shape of a code and never ships descriptions. A payer
with a licence loads its own file.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

_CPT_FORMAT: Final = re.compile(r"\d{4}[0-9A-Z]")


class CptCategory(StrEnum):
    CATEGORY_I = "I"
    """Five digits: services and procedures."""
    CATEGORY_II = "II"
    """Four digits and F: performance measurement, usually billed at zero charge."""
    CATEGORY_III = "III"
    """Four digits and T: emerging technology."""
    OTHER = "other"
    """Four digits and another letter (for example U, proprietary laboratory analyses)."""


def is_cpt_format(code: str) -> bool:
    """True when ``code`` has a CPT shape: four digits then a digit or a capital letter."""
    return len(code) == 5 and _CPT_FORMAT.fullmatch(code) is not None


def cpt_category(code: str) -> CptCategory:
    if not is_cpt_format(code):
        raise ValueError("not a CPT-shaped code")
    last = code[4]
    if last.isdigit():
        return CptCategory.CATEGORY_I
    if last == "F":
        return CptCategory.CATEGORY_II
    if last == "T":
        return CptCategory.CATEGORY_III
    return CptCategory.OTHER
