"""Reading plan documents: YAML and JSON, exact decimals, bundles of versions, the canonical form."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from olly.kernel.errors import ValidationFailed
from olly.kernel.money import Money
from olly.plans import document, rules, service
from olly.plans.rules import BenefitCategory, CopayApplies, Network
from tests.plan_documents import DEMO_FILES, changed, demo_data, demo_text

LIMITS = rules.default_limits_2026()


def refused(raw: str | bytes, fmt: document.DocumentFormat = "yaml") -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        service.check_text(raw, fmt, LIMITS)
    return [(e.field, e.message) for e in caught.value.errors]


MINIMAL_BAD = """\
code: X1
version: 1
benefits:
  office_visit:
    in_network: {copay: "10.00"}
  office_visit:
    in_network: {copay: "20.00"}
"""


def test_a_key_written_twice_is_refused_with_its_line() -> None:
    assert refused(MINIMAL_BAD) == [("document", "is not valid YAML: duplicate key 'office_visit' at line 6 column 3")]


def test_yaml_syntax_errors_give_the_line() -> None:
    assert refused("code: X1\nbenefits: [unclosed\n") == [
        ("document", "is not valid YAML: expected ',' or ']', but got '<stream end>' at line 3 column 1")
    ]


def test_yaml_aliases_are_refused() -> None:
    text = "code: &c X1\nname: *c\n"
    assert refused(text) == [
        ("document", "is not valid YAML: aliases (*name) are not allowed in a plan document at line 2 column 7")
    ]


def test_json_keys_written_twice_are_refused() -> None:
    assert refused('{"code": "A1", "code": "A2"}', "json") == [("document", "is not valid JSON: duplicate key 'code'")]


def test_json_syntax_errors_give_the_line() -> None:
    assert refused('{"code": "A1",\n  "version": }', "json") == [
        ("document", "is not valid JSON: Expecting value at line 2 column 14")
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("- just\n- a list\n", ("document", "must be a mapping: one plan, or plans: [...]")),
        ("   \n", ("document", "is empty")),
        (b"code: \xff\xfe", ("document", "is not UTF-8 text")),
        ("x" * (document.MAX_DOCUMENT_BYTES + 1), ("document", "is larger than 1000000 bytes")),
        ("plans: []\n", ("plans", "must not be empty")),
    ],
    ids=["list", "empty", "not-utf8", "too-large", "empty-bundle"],
)
def test_unreadable_documents(raw: str | bytes, expected: tuple[str, str]) -> None:
    assert refused(raw) == [expected]


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    raw = b"\xef\xbb\xbf" + demo_text("OLLY-PPO-1000").encode()
    [plan] = service.check_text(raw, "yaml", LIMITS)
    assert plan.code == "OLLY-PPO-1000"


def test_unquoted_yaml_decimals_stay_exact() -> None:
    text = (
        demo_text("OLLY-PPO-1000")
        .replace('copay: "25.00"', "copay: 25.5")
        .replace("coinsurance_percent: 25,", "coinsurance_percent: 12.5,")
    )
    [plan] = service.check_text(text, "yaml", LIMITS)
    office = plan.schedule.cost_share(BenefitCategory.OFFICE_VISIT, Network.IN_NETWORK)
    specialty = plan.schedule.cost_share(BenefitCategory.PHARMACY_SPECIALTY, Network.IN_NETWORK)
    assert office is not None
    assert specialty is not None
    assert office.copay == Money(2550, "USD")
    assert specialty.coinsurance_percent == Decimal("12.5")


def test_json_documents_read_the_same_as_yaml() -> None:
    data = document.canonical(document.validate_plan(demo_data("OLLY-HMO-250")))
    [from_json] = service.check_text(json.dumps(data), "json", LIMITS)
    [from_yaml] = service.check_text(demo_text("OLLY-HMO-250"), "yaml", LIMITS)
    assert from_json == from_yaml


def test_a_bundle_names_the_plan_at_fault() -> None:
    good = demo_data("OLLY-PPO-1000")
    bad = changed(demo_data("OLLY-HMO-250"), "benefits.specialist.in_network.coinsurance_percent", 150)
    with pytest.raises(ValidationFailed) as caught:
        document.validate_documents({"plans": [good, bad]})
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("plans.1.benefits.specialist.in_network.coinsurance_percent", "must be between 0 and 100")
    ]


def test_a_bundle_refuses_cross_field_problems_with_the_plan_index() -> None:
    good = demo_data("OLLY-PPO-1000")
    bad = changed(demo_data("OLLY-HMO-250"), "deductible.in_network.family", "100.00")
    with pytest.raises(ValidationFailed) as caught:
        service.check_documents(document.validate_documents({"plans": [good, bad]}), LIMITS)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("plans.1.deductible.in_network.family", "must be at least the individual amount (250.00)")
    ]


def test_a_bundle_may_not_repeat_a_version() -> None:
    first = demo_data("OLLY-PPO-1000")
    again = changed(first, "name", "Renamed")
    with pytest.raises(ValidationFailed) as caught:
        document.validate_documents({"plans": [first, again]})
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("plans.1.version", "repeats plans.0: OLLY-PPO-1000 version 1 appears twice")
    ]


def test_a_bundle_orders_versions_by_date() -> None:
    first = demo_data("OLLY-PPO-1000")
    second = changed(changed(first, "version", 2), "effective_from", date(2025, 7, 1))
    with pytest.raises(ValidationFailed) as caught:
        document.validate_documents({"plans": [first, second]})
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("plans.1.effective_from", "must be after version 1's effective_from (2026-01-01)")
    ]


def test_a_bundle_of_versions_is_read_in_full() -> None:
    first = demo_data("OLLY-PPO-1000")
    second = changed(changed(first, "version", 2), "effective_from", date(2027, 1, 1))
    plans = service.check_documents(document.validate_documents({"plans": [first, second]}), LIMITS)
    assert [(p.code, p.version, p.effective_from) for p in plans] == [
        ("OLLY-PPO-1000", 1, date(2026, 1, 1)),
        ("OLLY-PPO-1000", 2, date(2027, 1, 1)),
    ]


@pytest.mark.parametrize("code", sorted(DEMO_FILES))
def test_the_canonical_form_reads_back_to_the_same_plan(code: str) -> None:
    doc = document.validate_plan(demo_data(code))
    canonical = document.canonical(doc)
    again = document.validate_plan(json.loads(json.dumps(canonical)))
    assert document.to_plan_version(again) == document.to_plan_version(doc)
    assert document.canonical(again) == canonical


def test_the_canonical_form_fills_in_defaults_and_normalises_money() -> None:
    data = changed(demo_data("OLLY-PPO-1000"), "benefits.office_visit.in_network.copay", "25")
    canonical = document.canonical(document.validate_plan(data))
    assert canonical["benefits"]["office_visit"]["in_network"] == {
        "copay": "25.00",
        "copay_applies": "instead_of_deductible",
        "deductible_applies": False,
        "coinsurance_percent": "0",
    }
    assert canonical["benefits"]["emergency"]["in_network"]["copay_applies"] == "before_deductible"
    assert canonical["administration"]["timely_filing_days"] == 365
    assert canonical["administration"]["grace_period"] == {"days": 30}
    assert canonical["out_of_network_covered"] is True


def test_defaults_follow_the_market_and_style() -> None:
    aca = document.canonical(document.validate_plan(changed(demo_data("OLLY-ACA-SILVER"), "administration", {})))
    hmo = document.canonical(document.validate_plan(demo_data("OLLY-HMO-250")))
    floater = document.canonical(document.validate_plan(changed(demo_data("OLLY-FLOATER-5L"), "dependents", {})))
    # Individual market: the APTC three-month grace is filled in; an HMO covers no out-of-network care.
    assert aca["administration"]["grace_period"] == {"days": 30, "aptc_months": 3}
    shipped = document.canonical(document.validate_plan(demo_data("OLLY-ACA-SILVER")))
    assert shipped["administration"]["grace_period"] == {"days": 30, "aptc_months": 3, "reinstatement_days": 30}
    schedule = document.to_plan_version(document.validate_plan(demo_data("OLLY-ACA-SILVER"))).schedule
    assert schedule.administration.grace_period.reinstatement_days == 30
    ppo = document.to_plan_version(document.validate_plan(demo_data("OLLY-PPO-1000"))).schedule
    assert ppo.administration.grace_period.reinstatement_days is None  # absent: no reinstatement
    assert aca["administration"]["appeal_window_days"] == 180
    assert hmo["out_of_network_covered"] is False
    assert hmo["dependents"] == {"relationships": ["spouse", "domestic_partner", "child"], "child_max_age": 26}
    assert floater["dependents"] == {
        "relationships": ["spouse", "child", "parent", "parent_in_law", "sibling"],
        "child_max_age": 25,
    }
    assert floater["sum_insured"]["waiting_periods"]["initial_days"] == 30


def test_copay_timing_defaults_from_the_deductible_flag() -> None:
    plan = document.to_plan_version(document.validate_plan(demo_data("OLLY-PPO-1000")))
    office = plan.schedule.cost_share(BenefitCategory.OFFICE_VISIT, Network.IN_NETWORK)
    imaging = plan.schedule.cost_share(BenefitCategory.ADVANCED_IMAGING, Network.IN_NETWORK)
    assert office == rules.CostShare(Money(2500, "USD"), CopayApplies.INSTEAD_OF_DEDUCTIBLE, False, Decimal(0))
    assert imaging == rules.CostShare(Money(15000, "USD"), CopayApplies.BEFORE_DEDUCTIBLE, True, Decimal(20))


def test_the_json_schema_describes_a_plan_document() -> None:
    schema = document.PlanDocument.model_json_schema()
    assert {"code", "version", "benefits", "rating"} <= set(schema["required"])
    assert schema["additionalProperties"] is False
