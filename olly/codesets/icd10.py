"""ICD-10-CM diagnosis codes: validity, billability and word search.

Backed by the ``simple-icd-10-cm`` package (MIT licence over the public-domain CDC release, the April
2026 update). Its import parses the tabular list (about 1.5 s), so it happens on first use only; after
that a lookup is a set membership test.

One code-set version is loaded. A date of service before ICD-10-CM replaced ICD-9-CM in the United
States (1 October 2015) has no valid ICD-10-CM code; versions between then and now are not told
apart (a code retired in an earlier fiscal year is judged by the current list).
"""

from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Final

#: ICD-10-CM took effect for US dates of service on this day.
ICD10_CM_EFFECTIVE: Final = date(2015, 10, 1)

_SHAPE: Final = re.compile(r"[A-Z][0-9][0-9A-Z](?:[0-9A-Z]{1,4})?")

# The package builds its own lists lazily and not thread-safely: a look-up racing the application's
# background warm-up could read them half-built (E11 with no codes under it). Every call into it, and
# the building of the tables below, holds this lock.
_LIBRARY_LOCK: Final = threading.RLock()


@dataclass(frozen=True, slots=True)
class DiagnosisCode:
    code: str
    """Without the dot, as X12 carries it: ``E119``."""
    description: str
    billable: bool

    @property
    def dotted(self) -> str:
        return self.code if len(self.code) <= 3 else f"{self.code[:3]}.{self.code[3:]}"


@dataclass(frozen=True, slots=True)
class _Icd10Tables:
    valid: frozenset[str]
    billable: frozenset[str]


def normalise(code: str) -> str:
    """``" e11.9"`` → ``"E119"``: upper case, no dot, no surrounding blanks."""
    return code.strip().upper().replace(".", "")


def is_diagnosis_format(code: str) -> bool:
    """True when ``code`` has an ICD-10-CM code's shape (a letter, a digit, then 1 to 5 letters or
    digits; a dot and case aside), whether or not the code set holds it (no table is loaded)."""
    return _SHAPE.fullmatch(normalise(code)) is not None


def is_valid_diagnosis(code: str) -> bool:
    """True for any ICD-10-CM category or code, billable or not (``E11`` is valid, not billable)."""
    return normalise(code) in _tables().valid


def is_billable_diagnosis(code: str, on: date | None = None) -> bool:
    """True when ``code`` is a billable (leaf) ICD-10-CM code, and usable on the date of service if given."""
    if on is not None and on < ICD10_CM_EFFECTIVE:
        return False
    return normalise(code) in _tables().billable


def diagnosis(code: str) -> DiagnosisCode | None:
    key = normalise(code)
    tables = _tables()
    if key not in tables.valid:
        return None
    return DiagnosisCode(code=key, description=_description(key), billable=key in tables.billable)


def search_diagnoses(text: str, limit: int = 20, billable_only: bool = True) -> list[DiagnosisCode]:
    """Codes for a portal search box: a code prefix (``"E11"``) or every word found in the description."""
    query = text.strip()
    if not query or limit <= 0:
        return []
    tables = _tables()
    key = normalise(query)
    pool = tables.billable if billable_only else tables.valid
    if re.fullmatch(r"[A-Z][0-9][0-9A-Z]{0,5}", key):
        codes = sorted(code for code in pool if code.startswith(key))
        if codes:
            return [DiagnosisCode(code, _description(code), code in tables.billable) for code in codes[:limit]]
    words = query.lower().split()
    found: list[DiagnosisCode] = []
    for code, haystack in _search_index():
        if code in pool and all(word in haystack for word in words):
            found.append(DiagnosisCode(code, _description(code), code in tables.billable))
            if len(found) == limit:
                break
    return found


def _library() -> Any:
    # The package reads its data with a deprecated importlib API; the warning is not ours to act on.
    with _LIBRARY_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    return simple_icd_10_cm


@cache
def _tables() -> _Icd10Tables:
    with _LIBRARY_LOCK:
        return _build_tables()


def _build_tables() -> _Icd10Tables:
    library = _library()
    valid: set[str] = set()
    billable: set[str] = set()
    for code in library.get_all_codes(False):
        if not _SHAPE.fullmatch(code):
            continue  # chapters ("1") and blocks ("A00-A09") are not codes
        valid.add(code)
        if library.is_leaf(code):
            billable.add(code)
    return _Icd10Tables(valid=frozenset(valid), billable=frozenset(billable))


def _description(code: str) -> str:
    with _LIBRARY_LOCK:
        return str(_library().get_description(code))


@cache
def _search_index() -> tuple[tuple[str, str], ...]:
    valid = _tables().valid
    with _LIBRARY_LOCK:
        return tuple(sorted((code, _description(code).lower()) for code in valid))


def load() -> None:
    """Load the tables now (a worker calls this at start so the first claim does not pay for it)."""
    _tables()
