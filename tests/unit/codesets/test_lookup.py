"""Ranked, paginated code look-ups: exact pages for code prefixes, words and dates of service."""

from __future__ import annotations

from datetime import date

import pytest

from olly.codesets.lookup import find_diagnoses, find_hcpcs, words_of


def test_an_icd10_code_prefix_lists_the_code_then_its_subcodes_shortest_first() -> None:
    found = find_diagnoses("e11.6", page_size=4)
    assert (found.total, found.page, found.page_size) == (17, 1, 4)
    assert [(c.code, c.billable) for c in found.results] == [
        ("E116", False),
        ("E1161", False),
        ("E1162", False),
        ("E1163", False),
    ]
    assert found.results[0].dotted == "E11.6"
    assert found.results[0].description == "Type 2 diabetes mellitus with other specified complications"


def test_billable_only_keeps_leaf_codes_and_pages_follow_on() -> None:
    first = find_diagnoses("E11.62", billable_only=True, page_size=3)
    second = find_diagnoses("E11.62", billable_only=True, page=2, page_size=3)
    assert first.total == second.total == 4
    assert [c.code for c in first.results] == ["E11620", "E11621", "E11622"]
    assert [c.code for c in second.results] == ["E11628"]
    assert find_diagnoses("E11.62", billable_only=True, page=3, page_size=3).results == ()


def test_words_rank_whole_words_then_shorter_descriptions() -> None:
    found = find_diagnoses("type 2 diabetes kidney")
    assert found.total == 3
    assert [(c.code, c.description) for c in found.results] == [
        ("E112", "Type 2 diabetes mellitus with kidney complications"),
        ("E1122", "Type 2 diabetes mellitus with diabetic chronic kidney disease"),
        ("E1129", "Type 2 diabetes mellitus with other diabetic kidney complication"),
    ]


def test_no_icd10_code_before_icd10_cm_took_effect() -> None:
    assert find_diagnoses("E119", valid_on=date(2015, 9, 30)).total == 0
    assert [c.code for c in find_diagnoses("E119", valid_on=date(2015, 10, 1)).results] == ["E119"]


def test_an_hcpcs_prefix_respects_the_add_date() -> None:
    everything = find_hcpcs("J120", page_size=10)
    assert [(c.code, c.added_on) for c in everything.results] == [
        ("J1200", date(1982, 1, 1)),
        ("J1201", date(2020, 7, 1)),
        ("J1202", date(2024, 4, 1)),
        ("J1203", date(2024, 4, 1)),
        ("J1205", date(1982, 1, 1)),
    ]
    in_2020 = find_hcpcs("J120", valid_on=date(2020, 6, 30), page_size=10)
    assert [c.code for c in in_2020.results] == ["J1200", "J1205"]
    assert find_hcpcs("J1201", valid_on=date(2020, 6, 30)).total == 0
    assert [c.code for c in find_hcpcs("J1201", valid_on=date(2020, 7, 1)).results] == ["J1201"]


def test_hcpcs_words_rank_whole_words_first() -> None:
    found = find_hcpcs("wheelchair cushion", page_size=3)
    assert found.total == 27
    assert [c.code for c in found.results] == ["E2610", "E2609", "E2619"]
    assert found.results[0].description == "Wheelchair seat cushion, powered"
    assert [c.code for c in find_hcpcs("wheelchair cushion", valid_on=date(2004, 12, 31)).results] == [
        "K0669",
        "E0955",
    ]


def test_queries_without_words_find_nothing_and_bad_pages_are_refused() -> None:
    assert find_hcpcs("  ,, ").total == 0
    assert words_of("Type-2 Diabetes") == ("type", "2", "diabetes")
    with pytest.raises(ValueError, match="page_size"):
        find_hcpcs("J12", page_size=101)
    with pytest.raises(ValueError, match="page"):
        find_diagnoses("E11", page=0)
