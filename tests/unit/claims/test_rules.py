"""The engine's contract beyond amounts: input validation, the trace, reversals, arithmetic, plan years."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from olly.claims.rules import (
    AccumulatorSnapshot,
    ClaimFrequency,
    ClaimStatus,
    LineStatus,
    Outcome,
    PlanType,
    Step,
    adjudicate,
    plan_year_start,
    reverse,
)
from olly.claims.rules.arithmetic import percent_of, product_of, round_ratio, scale
from olly.kernel.errors import BusinessRuleViolation, ValidationFailed
from olly.kernel.money import Money, Rounding
from tests.unit.claims import factories as f
from tests.unit.claims.factories import DED, OOP, claim, key, line, request, usd

FULL_PIPELINE = [
    Step.ELIGIBILITY,
    Step.PROVIDER,
    Step.CODES,
    Step.EDITS,
    Step.PRIOR_AUTHORIZATION,
    Step.PRICING,
    Step.BENEFITS,
    Step.COST_SHARING,
    Step.BALANCE,
]


def test_trace_lists_every_step_in_domain_order() -> None:
    result = adjudicate(request(claim(line("71046", "120.00"))))
    trace = result.lines[0].trace
    assert [step.step for step in trace] == FULL_PIPELINE
    cost = next(step for step in trace if step.step is Step.COST_SHARING)
    assert dict(cost.outputs) == {
        "copay": usd("0.00"),
        "deductible": usd("40.00"),
        "coinsurance": usd("0.00"),
        "paid": usd("0.00"),
    }
    rendered = cost.as_dict()
    assert rendered["outputs"] == {"copay": "0.00", "deductible": "40.00", "coinsurance": "0.00", "paid": "0.00"}
    assert rendered["inputs"]["deductible_remaining"] == "1000.00"


def test_a_denial_ends_the_line_at_its_step() -> None:
    result = adjudicate(request(claim(line("99213", "150.00", modifiers=("ZZ",)))))
    trace = result.lines[0].trace
    assert [step.step for step in trace] == [Step.ELIGIBILITY, Step.PROVIDER, Step.CODES]
    assert trace[-1].outcome is Outcome.DENIED
    assert dict(trace[-1].outputs) == {"adjustment": "CO-4"}
    assert result.lines[0].movements == ()
    assert result.movements == ()


def test_a_pend_does_not_end_the_line() -> None:
    result = adjudicate(request(claim(line("29881", "60000.00"))))
    assert [step.step for step in result.lines[0].trace] == FULL_PIPELINE
    assert [step.step for step in result.trace] == [Step.CLAIM_REVIEW]
    assert not result.is_final


def test_sum_insured_lines_run_the_sum_insured_step() -> None:
    result = adjudicate(f.si_request(f.hospital_claim(f.bill(f.ChargeType.PHARMACY, "100.00"))))
    steps = [step.step for step in result.lines[0].trace]
    assert Step.SUM_INSURED in steps
    assert Step.COST_SHARING not in steps


def test_room_rent_proportion_is_traced_at_claim_level() -> None:
    result = adjudicate(
        f.si_request(
            f.hospital_claim(
                f.bill(f.ChargeType.ROOM_RENT, "32000.00", units=4), f.bill(f.ChargeType.NURSING, "8000.00")
            )
        )
    )
    (room,) = result.trace
    assert room.outcome is Outcome.APPLIED
    assert dict(room.outputs) == {"room_eligible": f.inr("20000.00"), "proportion_applied": True}


def test_structurally_impossible_claims_are_refused() -> None:
    bad = claim(
        line("99213", "150.00", units=0),
        line("99213", "150.00", day=date(2026, 3, 25)),  # after the claim was received
    )
    bad = replace(bad, lines=(bad.lines[0], replace(bad.lines[1], line_number=1, charge=Money(100, "EUR"))))
    with pytest.raises(ValidationFailed) as raised:
        adjudicate(request(bad, coverage=f.coverage(member_id="someone-else")))
    fields = [error.field for error in raised.value.errors]
    assert fields == [
        "claim.lines.0.units",
        "claim.lines.1.line_number",
        "claim.lines.1.charge",
        "claim.lines.1.service_date_from",
        "coverage.member_id",
    ]
    assert "someone-else" not in str(raised.value)


def test_a_claim_needs_lines_and_matching_plan_style() -> None:
    with pytest.raises(ValidationFailed) as raised:
        adjudicate(
            request(
                replace(claim(line("99213", "1.00")), lines=()), coverage=f.coverage(plan_type=PlanType.SUM_INSURED)
            )
        )
    assert [error.field for error in raised.value.errors] == ["claim.lines", "schedule.sum_insured"]


def test_replacement_needs_the_result_it_replaces() -> None:
    replacement = claim(line("99213", "150.00"), frequency=ClaimFrequency.REPLACEMENT, original_claim_id="C0")
    with pytest.raises(ValidationFailed) as raised:
        adjudicate(request(replacement))
    assert [error.field for error in raised.value.errors] == ["replaces"]
    original = adjudicate(request(claim(line("99213", "150.00"))))
    with pytest.raises(ValidationFailed) as raised:
        adjudicate(request(replace(replacement, original_claim_id="other"), replaces=original))
    assert [error.field for error in raised.value.errors] == ["claim.original_claim_id"]


def test_a_pended_result_cannot_be_reversed() -> None:
    pended = adjudicate(request(claim(line("29881", "60000.00"))))
    assert pended.status is ClaimStatus.PENDED
    with pytest.raises(BusinessRuleViolation):
        reverse(pended)


def test_reversal_of_another_members_claim_is_refused() -> None:
    original = adjudicate(request(claim(line("99213", "150.00"))))
    other = replace(original, member_id="M9")
    with pytest.raises(BusinessRuleViolation):
        adjudicate(
            request(
                claim(line("99213", "150.00"), frequency=ClaimFrequency.VOID, original_claim_id="C1", claim_id="V"),
                replaces=other,
            )
        )


def test_accumulators_within_a_claim_are_applied_line_after_line() -> None:
    # Two identical imaging lines on different days: the first takes 40.00 of the 50.00 deductible
    # left, the second the remaining 10.00 and 20% of 30.00 = 6.00.
    result = adjudicate(
        request(
            claim(line("71046", "120.00"), line("71046", "120.00", day=date(2026, 3, 11))),
            accumulators=f.snapshot({key(DED): "950.00", key(OOP): "950.00"}),
        )
    )
    assert [(r.deductible, r.coinsurance, r.paid) for r in result.lines] == [
        (usd("40.00"), usd("0.00"), usd("0.00")),
        (usd("10.00"), usd("6.00"), usd("24.00")),
    ]
    assert [line.status for line in result.lines] == [LineStatus.APPROVED, LineStatus.APPROVED]


def test_snapshot_equality_ignores_zero_entries() -> None:
    k = key(DED)
    assert AccumulatorSnapshot({k: 0}) == AccumulatorSnapshot()
    assert AccumulatorSnapshot({k: 5}).apply([]) == AccumulatorSnapshot({k: 5})
    assert hash(AccumulatorSnapshot({k: 0})) == hash(AccumulatorSnapshot())


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounding", "expected"),
    [
        (5, 2, Rounding.HALF_UP, 3),
        (5, 2, Rounding.HALF_EVEN, 2),
        (7, 2, Rounding.HALF_EVEN, 4),
        (5, 2, Rounding.DOWN, 2),
        (5, 2, Rounding.UP, 3),
        (4, 2, Rounding.UP, 2),
        (10, 3, Rounding.HALF_UP, 3),
        (11, 3, Rounding.HALF_UP, 4),
    ],
)
def test_round_ratio(numerator: int, denominator: int, rounding: Rounding, expected: int) -> None:
    assert round_ratio(numerator, denominator, rounding) == expected


def test_percentages_and_products_are_exact() -> None:
    assert percent_of(12345, Decimal(10), Rounding.HALF_UP) == 1235  # 1234.5 → 1235
    assert percent_of(12345, Decimal("12.5"), Rounding.HALF_UP) == 1543  # 1543.125
    assert percent_of(0, Decimal(20), Rounding.HALF_UP) == 0
    assert product_of((Decimal("3.5"), Decimal("3340.09"), Decimal("1.2")), Rounding.HALF_UP) == 14028
    assert scale(1234567, 20000, 32000, Rounding.HALF_UP) == 771604  # 771604.375


def test_plan_year_start() -> None:
    assert plan_year_start(date(2026, 3, 10), 1, 1) == date(2026, 1, 1)
    assert plan_year_start(date(2026, 3, 31), 4, 1) == date(2025, 4, 1)
    assert plan_year_start(date(2026, 4, 1), 4, 1) == date(2026, 4, 1)


def test_schedule_refuses_an_unknown_default_category_and_bad_plan_year() -> None:
    with pytest.raises(ValueError, match="default benefit category"):
        f.ppo_schedule(default_category="nothing")
    with pytest.raises(ValueError, match="day is out of range"):
        f.ppo_schedule(plan_year_start_month=2, plan_year_start_day=29)


def test_room_rent_is_not_cut_twice_when_listed_as_associated() -> None:
    terms = f.sum_insured_terms(
        proportional_deduction_charge_types=frozenset({f.ChargeType.ROOM_RENT, f.ChargeType.NURSING})
    )
    result = adjudicate(
        f.si_request(
            f.hospital_claim(
                f.bill(f.ChargeType.ROOM_RENT, "32000.00", units=4), f.bill(f.ChargeType.NURSING, "8000.00")
            ),
            schedule=f.sum_insured_schedule(sum_insured=terms),
        )
    )
    # Room capped at 4 × 5,000 = 20,000 once; nursing × 20,000/32,000 = 5,000.
    assert [line.paid for line in result.lines] == [f.inr("20000.00"), f.inr("5000.00")]


def test_plan_terms_refuse_impossible_percentages() -> None:
    with pytest.raises(ValueError, match="coinsurance"):
        f.CostShare(copay=usd("0.00"), coinsurance_percent=Decimal(101))
    with pytest.raises(ValueError, match="copay"):
        f.CostShare(copay=usd("-1.00"))
    with pytest.raises(ValueError, match="percentages"):
        f.sum_insured_terms(copay_percent=Decimal(-5))
