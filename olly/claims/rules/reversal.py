"""Reversing an adjudicated claim exactly: what a replacement (frequency 7) or a void (8) undoes first."""

from __future__ import annotations

from olly.claims.rules.accumulators import AccumulatorMovement
from olly.claims.rules.results import Adjustment, ClaimResult, ClaimReversal, ClaimStatus, LineReversal
from olly.kernel.errors import BusinessRuleViolation
from olly.kernel.money import Money


def reverse(result: ClaimResult) -> ClaimReversal:
    """Every amount of ``result`` negated and its accumulator movements undone, last movement first.

    Applying ``result.movements`` and then ``reverse(result).movements`` to a snapshot gives the
    snapshot back exactly. Only a final result can be reversed: a pended one never moved anything.
    """
    if result.status in (ClaimStatus.PENDED, ClaimStatus.VOIDED):
        raise BusinessRuleViolation("only an approved, partially approved or denied claim can be replaced or voided")
    lines = tuple(
        LineReversal(
            line_number=line.line_number,
            billed=-line.billed,
            allowed=-line.allowed,
            paid=-line.paid,
            deductible=-line.deductible,
            coinsurance=-line.coinsurance,
            copay=-line.copay,
            adjustments=tuple(
                Adjustment(adjustment.group, adjustment.carc, -adjustment.amount, adjustment.rarcs)
                for adjustment in line.adjustments
            ),
        )
        for line in result.lines
    )
    movements = tuple(AccumulatorMovement(movement.key, -movement.delta) for movement in reversed(result.movements))
    return ClaimReversal(
        reversed_claim_id=result.claim_id,
        lines=lines,
        movements=movements,
        paid=Money(-result.totals.paid.amount, result.currency),
    )
