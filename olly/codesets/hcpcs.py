"""HCPCS Level II codes and modifiers from the CMS quarterly file shipped in ``olly/codesets/data``.

The file is read once, on first use (about 16,000 rows, tens of milliseconds). Its first column is
mangled: code, a five-digit sequence number and a record-type digit run together (``A0021001003``).
Record types 3 and 7 start a code and a modifier; 4 and 8 carry the rest of its long description.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Final

_DATA_FILE: Final = "hcpcs_2025_oct.csv"
_KEY: Final = re.compile(r"([A-Z0-9]{2,5})(\d{5})([3-8])")
_LEVEL_II: Final = re.compile(r"[A-V]\d{4}")
_CODE_START, _CODE_MORE, _MODIFIER_START, _MODIFIER_MORE = "3", "4", "7", "8"
_SHORT_WIDTH: Final = 28  # the CMS short description is a fixed 28-character field


@dataclass(frozen=True, slots=True)
class HcpcsCode:
    code: str
    description: str
    short_description: str
    added_on: date | None
    """First day the code could be billed (the CMS "add date"); ``None`` when the file gives none."""
    medicare_coverage: str
    """CMS coverage indicator (C carrier judgement, D special coverage, I not payable, M non-covered, S statutory)."""


@dataclass(frozen=True, slots=True)
class HcpcsModifier:
    code: str
    description: str
    added_on: date | None


@dataclass(frozen=True, slots=True)
class _HcpcsTables:
    codes: dict[str, HcpcsCode]
    modifiers: dict[str, HcpcsModifier]
    search_text: tuple[tuple[str, str], ...]


def is_level_ii_format(code: str) -> bool:
    """A letter A–V and four digits (the shape of every Level II code)."""
    return len(code) == 5 and _LEVEL_II.fullmatch(code) is not None


def hcpcs_code(code: str) -> HcpcsCode | None:
    return _tables().codes.get(code)


def is_valid_hcpcs(code: str, on: date | None = None) -> bool:
    """True when ``code`` is in the file and (given a date of service) had been added by then."""
    entry = _tables().codes.get(code)
    if entry is None:
        return False
    return on is None or entry.added_on is None or entry.added_on <= on


def hcpcs_modifier(code: str) -> HcpcsModifier | None:
    return _tables().modifiers.get(code)


def is_valid_hcpcs_modifier(code: str) -> bool:
    return code in _tables().modifiers


def search_hcpcs(text: str, limit: int = 20) -> list[HcpcsCode]:
    """Codes for a portal search box: a code prefix (``"J12"``), or every word found in the description."""
    query = text.strip()
    if not query or limit <= 0:
        return []
    tables = _tables()
    upper = query.upper()
    if _KEY_PREFIX.fullmatch(upper):
        hits = [entry for code, entry in tables.codes.items() if code.startswith(upper)]
        if hits:
            return sorted(hits, key=lambda entry: entry.code)[:limit]
    words = query.lower().split()
    found: list[HcpcsCode] = []
    for code, haystack in tables.search_text:
        if all(word in haystack for word in words):
            found.append(tables.codes[code])
            if len(found) == limit:
                break
    return found


_KEY_PREFIX: Final = re.compile(r"[A-V]\d{0,4}")


def code_count() -> int:
    return len(_tables().codes)


def modifier_count() -> int:
    return len(_tables().modifiers)


def _parse_date(text: str) -> date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


@cache
def _tables() -> _HcpcsTables:
    text = (files("olly.codesets") / "data" / _DATA_FILE).read_text(encoding="utf-8")
    return parse_cms_csv(csv.DictReader(io.StringIO(text, newline="")))


def parse_cms_csv(rows: Iterable[dict[str, str]]) -> _HcpcsTables:
    """Build the lookup tables from the CSV's rows (exposed so a test can feed a handful of rows)."""
    long_parts: dict[str, list[str]] = {}
    code_rows: dict[str, dict[str, str]] = {}
    modifier_rows: dict[str, dict[str, str]] = {}
    for row in rows:
        match = _KEY.fullmatch(row["Code"].strip())
        if match is None:
            raise ValueError("HCPCS file: a row's first column does not split into code, sequence and record type")
        code, record_type = match.group(1), match.group(3)
        description = row["Description1"].strip()
        if record_type == _CODE_START:
            code_rows[code] = row
            long_parts[code] = [description]
        elif record_type == _MODIFIER_START:
            modifier_rows[code] = row
            long_parts["mod:" + code] = [description]
        elif record_type == _CODE_MORE and code in long_parts:
            long_parts[code].append(description)
        elif record_type == _MODIFIER_MORE and "mod:" + code in long_parts:
            long_parts["mod:" + code].append(description)
    codes: dict[str, HcpcsCode] = {}
    for code, row in code_rows.items():
        dates = row["Unknown4"]
        codes[code] = HcpcsCode(
            code=code,
            description=" ".join(part for part in long_parts[code] if part),
            short_description=row["Description2"][:_SHORT_WIDTH].strip(),
            added_on=_parse_date(dates[8:16]),
            medicare_coverage=row["Unknown2"][:1],
        )
    modifiers = {
        code: HcpcsModifier(
            code=code,
            description=" ".join(part for part in long_parts["mod:" + code] if part),
            added_on=_parse_date(row["Unknown4"][:8]),
        )
        for code, row in modifier_rows.items()
    }
    search_text = tuple(
        (code, f"{entry.description} {entry.short_description}".lower()) for code, entry in codes.items()
    )
    return _HcpcsTables(codes=codes, modifiers=modifiers, search_text=search_text)
