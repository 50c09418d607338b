"""Ranked, paginated code look-ups for portals and reviewers (ICD-10-CM and HCPCS).

A query is either a code prefix (``E11``, ``e11.6``, ``J12``) or words (``diabetes kidney``). Words
must all occur in the description (as substrings, so ``diabet`` finds "diabetes"). Ranking, best
first:

1. code prefix: the exact code, then shorter codes (categories before their subcodes), then code order;
2. words: descriptions where more of the words are whole words, then those containing the words
   in the order typed, then shorter descriptions (the general code before its variants), then code.

``valid_on`` filters by date of service where the code set can tell: ICD-10-CM has no code before
1 October 2015 (one version is loaded, see ``icd10``); an HCPCS code counts from its CMS add date.
The search scans the tables in memory (about 74,000 ICD-10-CM descriptions): tens of milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final, Generic, TypeVar

from olly.codesets import hcpcs, icd10

T = TypeVar("T")

MAX_PAGE_SIZE: Final = 100
_WORD: Final = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class CodePage(Generic[T]):
    results: tuple[T, ...]
    total: int
    page: int
    page_size: int


def warm() -> None:
    """Load both code sets and the ICD-10-CM search index now (seconds of CPU), so that the first
    look-up does not pay for it; the app runs this in a background thread at start."""
    icd10._search_index()
    hcpcs._tables()


def words_of(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


def _word_rank(words: tuple[str, ...], description: str, code: str) -> tuple[int, bool, int, str]:
    lowered = description.lower()
    whole = set(_WORD.findall(lowered))
    in_order = " ".join(words) in lowered
    return (-sum(1 for w in words if w in whole), not in_order, len(description), code)


def _page(ranked: list[T], page: int, page_size: int) -> CodePage[T]:
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page starts at 1 and page_size is between 1 and {MAX_PAGE_SIZE}")
    start = (page - 1) * page_size
    return CodePage(tuple(ranked[start : start + page_size]), len(ranked), page, page_size)


def _rank_by_words(
    text: str, candidates: Iterable[tuple[str, str]], describe: Callable[[str], tuple[str, T] | None]
) -> list[T]:
    words = words_of(text)
    if not words:
        return []
    scored: list[tuple[tuple[int, bool, int, str], T]] = []
    for code, haystack in candidates:
        if all(w in haystack for w in words):
            described = describe(code)
            if described is not None:
                scored.append((_word_rank(words, described[0], code), described[1]))
    scored.sort(key=lambda pair: pair[0])
    return [item for _, item in scored]


_ICD10_PREFIX: Final = re.compile(r"[A-Z][0-9][0-9A-Z]{0,5}")


def find_diagnoses(
    text: str,
    *,
    valid_on: date | None = None,
    billable_only: bool = False,
    page: int = 1,
    page_size: int = 20,
) -> CodePage[icd10.DiagnosisCode]:
    """ICD-10-CM codes by code prefix or words; ``billable_only`` keeps leaf codes (what a claim may carry)."""
    if valid_on is not None and valid_on < icd10.ICD10_CM_EFFECTIVE:
        return _page([], page, page_size)
    tables = icd10._tables()
    pool = tables.billable if billable_only else tables.valid
    key = icd10.normalise(text)
    ranked: list[icd10.DiagnosisCode] = []
    if _ICD10_PREFIX.fullmatch(key):
        codes = sorted((c for c in pool if c.startswith(key)), key=lambda c: (c != key, len(c), c))
        ranked = [icd10.DiagnosisCode(c, icd10._description(c), c in tables.billable) for c in codes]
    if not ranked:

        def describe(code: str) -> tuple[str, icd10.DiagnosisCode] | None:
            if code not in pool:
                return None
            description = icd10._description(code)
            return description, icd10.DiagnosisCode(code, description, code in tables.billable)

        ranked = _rank_by_words(text, icd10._search_index(), describe)
    return _page(ranked, page, page_size)


_HCPCS_PREFIX: Final = re.compile(r"[A-V][0-9]{0,4}")


def find_hcpcs(
    text: str, *, valid_on: date | None = None, page: int = 1, page_size: int = 20
) -> CodePage[hcpcs.HcpcsCode]:
    """HCPCS Level II codes by code prefix or words; ``valid_on`` drops codes added after that date."""
    tables = hcpcs._tables()

    def usable(entry: hcpcs.HcpcsCode) -> bool:
        return valid_on is None or entry.added_on is None or entry.added_on <= valid_on

    key = text.strip().upper()
    ranked: list[hcpcs.HcpcsCode] = []
    if _HCPCS_PREFIX.fullmatch(key):
        ranked = sorted(
            (e for c, e in tables.codes.items() if c.startswith(key) and usable(e)),
            key=lambda e: (e.code != key, e.code),
        )
    if not ranked:

        def describe(code: str) -> tuple[str, hcpcs.HcpcsCode] | None:
            entry = tables.codes[code]
            return (entry.description, entry) if usable(entry) else None

        ranked = _rank_by_words(text, tables.search_text, describe)
    return _page(ranked, page, page_size)
