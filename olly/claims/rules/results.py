"""What the adjudication engine decides: per line amounts, adjustments, movements and a trace of every step.

An EOB, an 835 and a reviewer's screen are renderings of these objects. On every line
``billed == paid + sum(adjustments)``; claim totals are sums of lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from olly.claims.rules.accumulators import AccumulatorMovement
from olly.codesets.carc import Carc, GroupCode
from olly.codesets.rarc import Rarc
from olly.kernel.money import Money


class Step(StrEnum):
    """Adjudication steps in the order they run (DOMAIN.md), plus the claim-level ones."""

    REVERSAL = "reversal"
    ELIGIBILITY = "eligibility"
    PROVIDER = "provider"
    CODES = "codes"
    EDITS = "edits"
    PRIOR_AUTHORIZATION = "prior_authorization"
    PRICING = "pricing"
    BENEFITS = "benefits"
    COST_SHARING = "cost_sharing"
    SUM_INSURED = "sum_insured"
    BALANCE = "balance"
    CLAIM_REVIEW = "claim_review"


class Outcome(StrEnum):
    PASSED = "passed"
    """A check that found nothing to act on."""
    APPLIED = "applied"
    """A step that computed amounts or moved accumulators."""
    DENIED = "denied"
    PENDED = "pended"


class LineStatus(StrEnum):
    APPROVED = "APPROVED"
    REDUCED = "REDUCED"
    """Approved, but a benefit limit, sub-limit or the sum insured cut the amount."""
    DENIED = "DENIED"
    PENDED = "PENDED"


class ClaimStatus(StrEnum):
    APPROVED = "APPROVED"
    PARTIALLY_APPROVED = "PARTIALLY_APPROVED"
    DENIED = "DENIED"
    PENDED = "PENDED"
    VOIDED = "VOIDED"


class PendReason(StrEnum):
    PRIOR_AUTH_REQUIRED = "PRIOR_AUTH_REQUIRED"
    """The plan pends (rather than denies) a service needing an authorisation that is not on file."""
    PRIOR_AUTH_PENDING = "PRIOR_AUTH_PENDING"
    """An authorisation request for the service is waiting for its decision."""
    SUSPECTED_DUPLICATE = "SUSPECTED_DUPLICATE"
    HIGH_DOLLAR = "HIGH_DOLLAR"
    DOCUMENTS_TO_REVIEW = "DOCUMENTS_TO_REVIEW"
    NO_CONTRACT_RATE = "NO_CONTRACT_RATE"
    NO_OUT_OF_NETWORK_RATE = "NO_OUT_OF_NETWORK_RATE"


class BenefitLevel(StrEnum):
    IN_NETWORK = "IN_NETWORK"
    OUT_OF_NETWORK = "OUT_OF_NETWORK"
    NO_SURPRISES = "NO_SURPRISES"
    """Out-of-network provider paid with in-network cost sharing under the No Surprises Act."""


TraceValue = Money | int | str | bool | date | Decimal | None


class TraceStep(NamedTuple):
    """One step that ran on a line (or the claim). A named tuple: a claim line makes about ten."""

    step: Step
    outcome: Outcome
    note: str
    """One plain sentence for a reviewer; names rules, never personal data."""
    inputs: tuple[tuple[str, TraceValue], ...] = ()
    outputs: tuple[tuple[str, TraceValue], ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "step": self.step.value,
            "outcome": self.outcome.value,
            "note": self.note,
            "inputs": {name: render_value(value) for name, value in self.inputs},
            "outputs": {name: render_value(value) for name, value in self.outputs},
        }


def render_value(value: TraceValue) -> str | int | bool | None:
    if isinstance(value, Money):
        return value.to_decimal_string()
    if isinstance(value, (date, Decimal)):
        return str(value)
    return value


class Adjustment(NamedTuple):
    """One CAS adjustment: group code, reason code, amount, and remark codes qualifying it."""

    group: GroupCode
    carc: Carc
    amount: Money
    rarcs: tuple[Rarc, ...] = ()

    @property
    def code(self) -> str:
        """``"CO-45"``: how the industry writes it."""
        return f"{self.group.value}-{self.carc.value}"


@dataclass(frozen=True, slots=True)
class LineResult:
    line_number: int
    status: LineStatus
    billed: Money
    allowed: Money
    paid: Money
    deductible: Money
    coinsurance: Money
    copay: Money
    adjustments: tuple[Adjustment, ...]
    movements: tuple[AccumulatorMovement, ...]
    trace: tuple[TraceStep, ...]
    pend_reasons: tuple[PendReason, ...] = ()
    benefit_category: str | None = None
    benefit_level: BenefitLevel | None = None
    prior_auth_id: str | None = None

    @property
    def member_cost_share(self) -> Money:
        """Deductible + coinsurance + copay (PR-1, PR-2, PR-3): never above ``allowed``."""
        return self.deductible + self.coinsurance + self.copay

    @property
    def patient_responsibility(self) -> Money:
        """Everything grouped PR: cost share plus any allowed balance bill or sum-insured shortfall."""
        return _sum(a.amount for a in self.adjustments if a.group is GroupCode.PATIENT_RESPONSIBILITY)

    @property
    def adjustment_total(self) -> Money:
        return _sum(a.amount for a in self.adjustments)

    @property
    def denial(self) -> Adjustment | None:
        return self.adjustments[0] if self.status is LineStatus.DENIED and self.adjustments else None

    def is_balanced(self) -> bool:
        return self.billed.amount == self.paid.amount + sum(a.amount.amount for a in self.adjustments)


def _sum(amounts: Iterator[Money] | tuple[Money, ...]) -> Money:
    items = list(amounts)
    if not items:
        raise ValueError("no amounts")
    total = items[0]
    for item in items[1:]:
        total = total + item
    return total


@dataclass(frozen=True, slots=True)
class ClaimTotals:
    billed: Money
    allowed: Money
    paid: Money
    deductible: Money
    coinsurance: Money
    copay: Money
    patient_responsibility: Money
    contractual: Money
    """Adjustments grouped CO (write-offs and denials the member does not owe)."""

    @property
    def member_cost_share(self) -> Money:
        return self.deductible + self.coinsurance + self.copay


@dataclass(frozen=True, slots=True)
class LineReversal:
    """One line of an earlier result with every amount negated, as an 835 reversal reports it."""

    line_number: int
    billed: Money
    allowed: Money
    paid: Money
    deductible: Money
    coinsurance: Money
    copay: Money
    adjustments: tuple[Adjustment, ...]


@dataclass(frozen=True, slots=True)
class ClaimReversal:
    """Exactly undoes an earlier result: its payment and, in reverse order, its accumulator movements."""

    reversed_claim_id: str
    lines: tuple[LineReversal, ...]
    movements: tuple[AccumulatorMovement, ...]
    paid: Money
    """Negative: what the earlier claim paid, taken back."""


@dataclass(frozen=True, slots=True)
class ClaimResult:
    claim_id: str
    member_id: str
    status: ClaimStatus
    currency: str
    adjudicated_on: date
    lines: tuple[LineResult, ...]
    totals: ClaimTotals
    pend_reasons: tuple[PendReason, ...] = ()
    trace: tuple[TraceStep, ...] = ()
    """Claim-level steps (reversal of a replaced claim, review pends); line steps live on each line."""
    reversal: ClaimReversal | None = None
    """For a replacement or void: the exact undoing of the claim it replaces, applied before this result."""
    movements: tuple[AccumulatorMovement, ...] = field(default=())
    """Every line's movements in order (excluding the reversal's)."""

    @property
    def is_final(self) -> bool:
        """Pended results are provisional: the caller applies neither payment nor movements."""
        return self.status is not ClaimStatus.PENDED

    def line(self, line_number: int) -> LineResult:
        for line in self.lines:
            if line.line_number == line_number:
                return line
        raise KeyError(line_number)
