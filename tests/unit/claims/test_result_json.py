"""The stored form of an adjudication result (``snapshots.result_to_json``) is, for every scenario
of the table, exactly what the traces' ``as_dict`` and the enums' values give: the same JSON bytes
once sealed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from olly.claims import snapshots
from olly.claims.rules import ClaimResult, Outcome, Step, TraceStep, adjudicate
from olly.kernel.money import Money
from olly.platform import jsonfast
from tests.unit.claims.test_adjudication_scenarios import SCENARIOS, Scenario


def rest(movement: Any) -> list[Any]:
    return [movement.key.network.value, movement.key.category, movement.delta]


def reference(result: ClaimResult) -> dict[str, Any]:
    """The stored form written the plain way, one call per step and value."""
    reversal = result.reversal
    return {
        "claimId": result.claim_id,
        "memberId": result.member_id,
        "status": result.status.value,
        "currency": result.currency,
        "adjudicatedOn": result.adjudicated_on.isoformat(),
        "pendReasons": [p.value for p in result.pend_reasons],
        "trace": [step.as_dict() for step in result.trace],
        "movements": [
            [*(m.key.kind.value, m.key.level.value, m.key.holder_id, str(m.key.plan_year)), *rest(m)]
            for m in result.movements
        ],
        "reversal": None
        if reversal is None
        else {
            "reversedClaimId": reversal.reversed_claim_id,
            "paid": reversal.paid.amount,
            "movements": snapshots.movements_to_json(reversal.movements),
        },
        "lines": [
            {
                "lineNumber": line.line_number,
                "status": line.status.value,
                "billed": line.billed.amount,
                "allowed": line.allowed.amount,
                "paid": line.paid.amount,
                "deductible": line.deductible.amount,
                "coinsurance": line.coinsurance.amount,
                "copay": line.copay.amount,
                "adjustments": [snapshots.adjustment_to_json(a) for a in line.adjustments],
                "movements": snapshots.movements_to_json(line.movements),
                "pendReasons": [p.value for p in line.pend_reasons],
                "benefitCategory": line.benefit_category,
                "benefitLevel": None if line.benefit_level is None else line.benefit_level.value,
                "priorAuthId": line.prior_auth_id,
                "trace": [step.as_dict() for step in line.trace],
            }
            for line in result.lines
        ],
    }


def same(stored: Any, expected: Any) -> None:
    """Equal, of the same types all the way down (an enum member is not its value), same JSON."""
    assert stored == expected
    assert repr(stored) == repr(expected)
    assert jsonfast.dumps(stored, sort_keys=True) == jsonfast.dumps(expected, sort_keys=True)


@pytest.mark.parametrize("case", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_stored_result_is_the_plain_form(case: Scenario) -> None:
    result = adjudicate(case.request)
    assert result.lines or result.trace
    same(snapshots.result_to_json(result), reference(result))


def test_trace_values_render_as_render_value_does() -> None:
    values = [
        Money(12_345, "USD"),
        Money(-5, "USD"),
        Money(700, "JPY"),
        Money(12_345, "USD"),  # the remembered text
        7,
        True,
        None,
        "text",
        Step.COST_SHARING,  # a str subclass: stored as render_value leaves it
        date(2026, 2, 3),
        Decimal("0.20"),
    ]
    step = TraceStep(Step.COST_SHARING, Outcome.APPLIED, "a note", tuple((f"in{i}", v) for i, v in enumerate(values)))
    step = step._replace(outputs=tuple(reversed(step.inputs)))
    repeated = TraceStep(
        Step.PRICING,
        Outcome.PASSED,
        "names given twice: the last value stands",
        (("a", Money(1, "USD")), ("a", 2), ("b", 3), ("b", Money(4, "USD")), ("c", Money(5, "USD"))),
        (("c", Decimal("1.5")), ("c", Decimal("1.5"))),
    )
    same(snapshots._trace_to_json((step, repeated)), [step.as_dict(), repeated.as_dict()])
