"""Code sets: NPI check digits, CPT shapes, HCPCS file parsing, ICD-10-CM lookups, POS and reason codes."""

from __future__ import annotations

from datetime import date

import pytest

from olly.codesets import hcpcs, icd10
from olly.codesets.carc import Carc, CarcCategory, GroupCode
from olly.codesets.cpt import CptCategory, cpt_category, is_cpt_format
from olly.codesets.npi import check_digit, is_valid_npi
from olly.codesets.place_of_service import is_valid_place_of_service, place_of_service_name
from olly.codesets.rarc import Rarc


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        ("1234567893", True),  # the CMS worked example
        ("1234567890", False),
        ("1987654328", True),
        ("1987654321", False),
        ("0234567893", False),  # NPIs start with 1 or 2
        ("123456789", False),
        ("12345678933", False),
        ("12345678a3", False),
        ("１２３４５６７８９３", False),  # full-width digits are not ASCII digits
    ],
)
def test_npi_luhn_over_80840(npi: str, valid: bool) -> None:
    assert is_valid_npi(npi) is valid


def test_npi_check_digit() -> None:
    # 80840 + 123456789: doubled from the right 9→18→9, 7→14→5, 5→10→1, 3→6, 1→2 = 23; the others
    # 8+6+4+2 = 20; prefix 24 → 67 → check digit 3.
    assert check_digit("123456789") == 3
    with pytest.raises(ValueError, match="nine digits"):
        check_digit("12345")


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("99213", CptCategory.CATEGORY_I),
        ("3074F", CptCategory.CATEGORY_II),
        ("0042T", CptCategory.CATEGORY_III),
        ("0001U", CptCategory.OTHER),
    ],
)
def test_cpt_format(code: str, category: CptCategory) -> None:
    assert is_cpt_format(code)
    assert cpt_category(code) is category


@pytest.mark.parametrize("code", ["9921", "992133", "99a13", "A1234", "9921f", ""])
def test_cpt_format_refuses(code: str) -> None:
    assert not is_cpt_format(code)
    with pytest.raises(ValueError, match="CPT"):
        cpt_category(code)


def test_hcpcs_file_loads_every_code_and_modifier() -> None:
    assert hcpcs.code_count() == 8463
    assert hcpcs.modifier_count() == 383
    entry = hcpcs.hcpcs_code("J7207")
    assert entry is not None
    assert entry.description == "Injection, factor viii, (antihemophilic factor, recombinant), pegylated, 1 i.u."
    assert entry.short_description == "Factor viii pegylated recomb"
    assert entry.added_on == date(2017, 1, 1)
    assert entry.medicare_coverage == "D"


def test_hcpcs_long_descriptions_are_joined_from_continuation_rows() -> None:
    modifier = hcpcs.hcpcs_modifier("QJ")
    assert modifier is not None
    assert modifier.description.startswith(
        "Services/items provided to a prisoner or patient in state or local custody,"
    )
    assert modifier.description.endswith("42 cfr 411.4 (b)")
    assert modifier.added_on == date(2003, 1, 1)


def test_hcpcs_validity_on_a_date() -> None:
    assert hcpcs.is_valid_hcpcs("A2036", on=date(2025, 10, 1))
    assert not hcpcs.is_valid_hcpcs("A2036", on=date(2025, 9, 30))
    assert hcpcs.is_valid_hcpcs("A2036")
    assert not hcpcs.is_valid_hcpcs("J0000")
    assert hcpcs.is_level_ii_format("J0000")
    assert not hcpcs.is_level_ii_format("99213")
    assert not hcpcs.is_level_ii_format("W1234")  # W–Z are not Level II letters


def test_hcpcs_search_by_code_prefix_and_words() -> None:
    assert [c.code for c in hcpcs.search_hcpcs("G001", limit=3)] == ["G0010", "G0011", "G0012"]
    found = hcpcs.search_hcpcs("crutches underarm")
    assert found
    assert all("crutch" in c.description.lower() for c in found)
    assert hcpcs.search_hcpcs("   ") == []


def test_hcpcs_parser_refuses_an_unsplittable_row() -> None:
    with pytest.raises(ValueError, match="does not split"):
        hcpcs.parse_cms_csv([{"Code": "??", "Description1": "", "Description2": "", "Unknown2": "", "Unknown4": ""}])


def test_icd10_billable_and_valid() -> None:
    assert icd10.is_billable_diagnosis("E11.9")
    assert icd10.is_billable_diagnosis("e119")
    assert icd10.is_valid_diagnosis("E11")
    assert not icd10.is_billable_diagnosis("E11")  # a category, not a billable code
    assert icd10.is_billable_diagnosis("S72.001A")  # seventh character
    assert not icd10.is_billable_diagnosis("S72.001")
    assert not icd10.is_valid_diagnosis("Z99.999")
    assert not icd10.is_billable_diagnosis("E11.9", on=date(2015, 9, 30))  # ICD-9 era
    assert icd10.is_billable_diagnosis("E11.9", on=date(2015, 10, 1))


def test_icd10_lookup_and_search() -> None:
    code = icd10.diagnosis("j06.9")
    assert code is not None
    assert (code.code, code.dotted, code.billable) == ("J069", "J06.9", True)
    assert code.description == "Acute upper respiratory infection, unspecified"
    assert icd10.diagnosis("nonsense") is None
    assert [c.code for c in icd10.search_diagnoses("J45.2", limit=2)] == ["J4520", "J4521"]
    words = icd10.search_diagnoses("type 2 diabetes ketoacidosis")
    assert [c.code for c in words] == ["E1110", "E1111"]


def test_place_of_service() -> None:
    assert is_valid_place_of_service("11")
    assert place_of_service_name("23") == "Hospital emergency room"
    for unassigned in ("00", "28", "30", "40", "59", "80", "98", "1", "111"):
        assert not is_valid_place_of_service(unassigned)


def test_reason_codes_have_own_labels_and_categories() -> None:
    assert Carc.from_code(" 45 ") is Carc.EXCEEDS_MAXIMUM_ALLOWABLE
    assert Carc.AUTHORIZATION_ABSENT.value == "197"
    assert Carc.AUTHORIZATION_ABSENT.category is CarcCategory.AUTHORIZATION
    assert Carc.DEDUCTIBLE.category is CarcCategory.MEMBER_COST_SHARE
    assert all(carc.label for carc in Carc)
    assert all(rarc.label for rarc in Rarc)
    assert all(group.label for group in GroupCode)
    assert Rarc.from_code("m76") is Rarc.INVALID_DIAGNOSIS
    with pytest.raises(ValueError, match="not a valid"):
        Carc.from_code("9999")
