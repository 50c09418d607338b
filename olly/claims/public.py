"""What other domains may ask the claims domain synchronously (frozen results, no ORM objects).

* ``submit_claim``: the EDI gateway (837) submits through here, with the API's validation.
* ``submit_claims``: the same for a chunk of an 837's claims, each accepted or refused on its own.
* ``claim_status``: status, totals and pend reasons (a 276/277 answer, a portal).
* ``billing_npis``: the billing NPI of claims (billing's payee of a provider claim).
* ``claim_payees``: who is paid for claims, under which NPI, in which currency (many at once).
* ``remittance_detail``: per-claim and per-line billed/allowed/paid and CAS adjustments, with the
  reversal of a replaced or voided claim (what an 835 reports); ``remittance_details`` for many,
  ``remittance_details_in_turn`` for many, one by one (a payment run's 835).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from olly.claims import service, snapshots
from olly.claims.repository import FINAL_STATUSES, ClaimsRepository, RemittanceRead
from olly.claims.rules import CareSetting, Submitter
from olly.claims.schemas import ClaimCreate, ClaimLineCreate
from olly.codesets.carc import GroupCode
from olly.kernel.money import Money
from olly.platform.db import UnitOfWork

__all__ = [
    "CareSetting",
    "ClaimCreate",
    "ClaimLineCreate",
    "ClaimPayee",
    "ClaimStatusView",
    "ClaimsDay",
    "IntakeItem",
    "Refusal",
    "RemittanceAdjustment",
    "RemittanceClaim",
    "RemittanceLine",
    "Submission",
    "billing_npis",
    "claim_payees",
    "claim_status",
    "claims_of_members",
    "claims_of_provider",
    "daily_figures",
    "provider_id_of",
    "remittance_detail",
    "remittance_details",
    "submit_claim",
    "submit_claims",
]

Submission = service.Submission
IntakeItem = service.IntakeItem
Refusal = service.Refusal


def provider_id_of(uow: UnitOfWork, npi: str) -> uuid.UUID:
    """The provider id claims records for an NPI (the registry's when claims knows the NPI, else a
    stable id derived from it): billing pays claims to this payee id."""
    return service.provider_ref(uow, npi)


def billing_npis(uow: UnitOfWork, claim_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The billing NPI of each of these claims that claims knows (others are left out). Billing pays
    a provider by its billing NPI: one NPI is one payee whatever provider id its claims carry."""
    return ClaimsRepository(uow).billing_npis(claim_ids)


@dataclass(frozen=True, slots=True)
class ClaimPayee:
    """Who is paid for a claim, under which billing NPI and in which currency (none of it changes
    after intake): what ``claim_status`` says of them, without the claim's result."""

    payee: str
    """MEMBER for a member's reimbursement claim, else PROVIDER."""
    billing_npi: str
    currency: str


def claim_payees(uow: UnitOfWork, claim_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ClaimPayee]:
    """``ClaimPayee`` of each of these claims that claims knows (others are left out), in one query
    per thousand claims (billing settling a chunk's denials at $0)."""
    found = ClaimsRepository(uow).payee_facts(claim_ids)
    return {
        claim_id: ClaimPayee(_payee(submitter), billing_npi, currency)
        for claim_id, (submitter, billing_npi, currency) in found.items()
    }


def _payee(submitter: str) -> str:
    return "MEMBER" if submitter == Submitter.MEMBER_REIMBURSEMENT.value else "PROVIDER"


def submit_claim(
    uow: UnitOfWork,
    data: ClaimCreate,
    *,
    source: str,
    idempotency_key: str | None = None,
    origin: str | None = None,
    raw: bytes | None = None,
) -> Submission:
    """Accept a claim for adjudication (RECEIVED, ``claims.claim.submitted`` in this transaction).

    ``source``: ``EDI``, ``API``… ``idempotency_key``: a retry with the same key and body answers the
    first submission (``Submission.replayed``); another body raises ``IdempotencyConflict`` (409).
    ``origin``: where it came from (an interchange control number), kept in the claim's detail.
    ``raw``: the original bytes (an 837 segment run) stored encrypted instead of the JSON form.
    Raises ``ValidationFailed`` (422) naming each field at fault.
    """
    return service.submit(
        uow, data, source=source, idempotency_key=idempotency_key, origin=origin, raw=raw, submitter=Submitter.PROVIDER
    )


def submit_claims(uow: UnitOfWork, items: Sequence[IntakeItem], *, source: str) -> list[Submission | Refusal]:
    """``submit_claim`` for each item (its claim, idempotency key and origin), in order: a claim's
    answer is its ``Submission`` or what ``submit_claim`` would have raised for it
    (``ValidationFailed``, ``IdempotencyConflict``); one claim's refusal never refuses the others.
    Reads and writes the whole chunk at once: an 837's claims go through here in chunks."""
    return service.submit_each(uow, items, source=source, submitter=Submitter.PROVIDER)


@dataclass(frozen=True, slots=True)
class ClaimStatusView:
    claim_id: uuid.UUID
    transaction_id: uuid.UUID
    member_id: uuid.UUID
    billing_npi: str
    status: str
    pend_reasons: tuple[str, ...]
    received_at: datetime
    adjudicated_at: datetime | None
    billed: Money
    allowed: Money | None
    paid: Money | None
    member_responsibility: Money | None
    payee: str = "PROVIDER"
    """Who is paid for it: MEMBER for a member's reimbursement claim, else PROVIDER."""


def claim_status(uow: UnitOfWork, claim_id: uuid.UUID) -> ClaimStatusView | None:
    repo = ClaimsRepository(uow)
    claim = repo.claim(claim_id)
    if claim is None:
        return None
    record = repo.current_result(claim_id)
    totals = snapshots.result_from_json(record.result).totals if record is not None else None
    return ClaimStatusView(
        claim_id=claim.id,
        transaction_id=claim.transaction_id,
        member_id=claim.member_id,
        billing_npi=claim.billing_npi,
        status=claim.status,
        pend_reasons=tuple(claim.pend_reasons or ()),
        received_at=claim.received_at,
        adjudicated_at=claim.adjudicated_at,
        billed=Money(claim.total_billed_minor, claim.currency),
        allowed=totals.allowed if totals else None,
        paid=totals.paid if totals else None,
        member_responsibility=totals.patient_responsibility if totals else None,
        payee="MEMBER" if claim.submitter == Submitter.MEMBER_REIMBURSEMENT.value else "PROVIDER",
    )


def _status_view(repo: ClaimsRepository, claim: Any) -> ClaimStatusView:
    record = repo.current_result(claim.id)
    totals = snapshots.result_from_json(record.result).totals if record is not None else None
    return ClaimStatusView(
        claim_id=claim.id,
        transaction_id=claim.transaction_id,
        member_id=claim.member_id,
        billing_npi=claim.billing_npi,
        status=claim.status,
        pend_reasons=tuple(claim.pend_reasons or ()),
        received_at=claim.received_at,
        adjudicated_at=claim.adjudicated_at,
        billed=Money(claim.total_billed_minor, claim.currency),
        allowed=totals.allowed if totals else None,
        paid=totals.paid if totals else None,
        member_responsibility=totals.patient_responsibility if totals else None,
        payee="MEMBER" if claim.submitter == Submitter.MEMBER_REIMBURSEMENT.value else "PROVIDER",
    )


def claims_of_members(uow: UnitOfWork, member_ids: Iterable[uuid.UUID], *, limit: int = 100) -> list[ClaimStatusView]:
    """The claims of these members (a member and their minor dependents), newest first."""
    repo = ClaimsRepository(uow)
    return [_status_view(repo, claim) for claim in repo.claims_of_members(member_ids, limit=limit)]


def claims_of_provider(uow: UnitOfWork, billing_npis: Iterable[str], *, limit: int = 100) -> list[ClaimStatusView]:
    """The claims billed under these NPIs, newest first."""
    repo = ClaimsRepository(uow)
    return [_status_view(repo, claim) for claim in repo.claims_of_provider(billing_npis, limit=limit)]


@dataclass(frozen=True, slots=True)
class ClaimsDay:
    day: date
    received: int
    finalised: int
    """Of the claims received that day, those with a final result (approved, partly approved, denied)."""
    auto_finalised: int
    """Of those, the ones no examiner decided a line of."""
    turnaround_minutes: int | None
    """Mean minutes from receipt to the first result of the finalised ones; None when none is."""


def daily_figures(uow: UnitOfWork, last_day: date, days: int = 7) -> list[ClaimsDay]:
    """Claims received per day over ``days`` days ending ``last_day``, with how many were finalised,
    how many without an examiner, and the mean turnaround (the operations dashboard)."""
    first = last_day - timedelta(days=days - 1)
    repo = ClaimsRepository(uow)
    claims = repo.received_between(first, last_day)
    decided = repo.claims_with_decisions([c.id for c in claims])
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        that_day = [c for c in claims if c.received_on == day]
        final = [c for c in that_day if c.status in FINAL_STATUSES and c.adjudicated_at is not None]
        waits = [(c.adjudicated_at - c.received_at).total_seconds() for c in final if c.adjudicated_at is not None]
        result.append(
            ClaimsDay(
                day=day,
                received=len(that_day),
                finalised=len(final),
                auto_finalised=sum(1 for c in final if c.id not in decided),
                turnaround_minutes=round(sum(waits) / len(waits) / 60) if waits else None,
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class RemittanceAdjustment:
    group: str
    """CO, PR, OA…"""
    carc: str
    amount: Money
    rarcs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemittanceLine:
    line_number: int
    procedure_code: str | None
    modifiers: tuple[str, ...]
    revenue_code: str | None
    units: int
    service_date: date
    billed: Money
    allowed: Money
    paid: Money
    adjustments: tuple[RemittanceAdjustment, ...]
    rarcs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RemittanceClaim:
    claim_id: uuid.UUID
    member_id: uuid.UUID
    billing_npi: str
    status: str
    """APPROVED, PARTIALLY_APPROVED, DENIED, VOIDED (what the 835 CLP02 reflects)."""
    payee: str
    currency: str
    billed: Money
    allowed: Money
    paid: Money
    patient_responsibility: Money
    lines: tuple[RemittanceLine, ...]
    reversal_of: uuid.UUID | None
    """For a replacement or void: the claim whose payment this remittance takes back first."""
    reversal_paid: Money | None
    """Negative: what the reversed claim had paid."""
    origin: str | None = None
    """What the submitter gave as ``origin`` (an 837's envelope and claim references), as given."""
    plan_type: str | None = None
    """The type of the claim's plan as the catalog states it (PPO, HMO, EPO, HDHP, POS, SUM_INSURED;
    a POS plan adjudicates as a PPO), None when the claim had no coverage: the 835's CLP06."""


def remittance_detail(uow: UnitOfWork, claim_id: uuid.UUID, sequence: int | None = None) -> RemittanceClaim | None:
    """A final claim's amounts for an 835; None when unknown or not final (received or pended).
    ``sequence``: those of that adjudication of the claim (an earlier one a re-adjudication
    replaced, say) rather than its current one."""
    return remittance_details(uow, [(claim_id, sequence)])[(claim_id, sequence)]


def remittance_details(
    uow: UnitOfWork, wanted: Sequence[tuple[uuid.UUID, int | None]]
) -> dict[tuple[uuid.UUID, int | None], RemittanceClaim | None]:
    """``remittance_detail`` of each (claim id, sequence or None for the current adjudication), read
    in three queries (a payment run's claims for its 835) of only the columns an 835 reports."""
    details: dict[tuple[uuid.UUID, int | None], RemittanceClaim | None] = dict.fromkeys(wanted)
    details.update(remittance_details_in_turn(uow, wanted))
    return details


def remittance_details_in_turn(
    uow: UnitOfWork, wanted: Sequence[tuple[uuid.UUID, int | None]]
) -> Iterator[tuple[tuple[uuid.UUID, int | None], RemittanceClaim | None]]:
    """``remittance_details`` one by one in the order asked (each pair asked, once each time it is
    asked), each opened when its turn comes: an 835 writer that lets go of each detail once it has
    written it never holds a chunk's details at once (``ClaimsRepository.remittance_reads``)."""
    reads = ClaimsRepository(uow).remittance_reads(wanted)
    found = next(reads, None)
    for key in wanted:
        if found is None or found[0] != key:
            yield key, None
            continue
        stored = found[1]
        yield key, (_remittance(stored) if stored.result.status != "PENDED" else None)
        found = next(reads, None)


_PATIENT_RESPONSIBILITY: Final = GroupCode.PATIENT_RESPONSIBILITY.value


def _remittance(read: RemittanceRead) -> RemittanceClaim:
    """What an 835 says of one adjudication, read straight from its stored result (lines, their
    adjustments and the totals; the movements and traces a ``ClaimResult`` would decode are not needed)."""
    claim, record = read.header, read.result
    result = record.result
    currency = result["currency"]
    services = {line.line_number: line for line in read.lines}
    lines = []
    billed = allowed = paid = patient = 0
    for line in result["lines"]:
        stored = services[line["lineNumber"]]
        adjustments = tuple(
            RemittanceAdjustment(a["group"], a["carc"], Money(a["amount"], currency), tuple(a["rarcs"]))
            for a in line["adjustments"]
        )
        billed, allowed, paid = billed + line["billed"], allowed + line["allowed"], paid + line["paid"]
        patient += sum(a.amount.amount for a in adjustments if a.group == _PATIENT_RESPONSIBILITY)
        lines.append(
            RemittanceLine(
                line_number=line["lineNumber"],
                procedure_code=stored.procedure_code,
                modifiers=stored.modifiers,
                revenue_code=stored.revenue_code,
                units=stored.units,
                service_date=stored.service_date,
                billed=Money(line["billed"], currency),
                allowed=Money(line["allowed"], currency),
                paid=Money(line["paid"], currency),
                adjustments=adjustments,
                rarcs=tuple(sorted({r for a in adjustments for r in a.rarcs})) if adjustments else (),
            )
        )
    reversal = record.result.get("reversal")
    return RemittanceClaim(
        claim_id=claim.id,
        member_id=claim.member_id,
        billing_npi=claim.billing_npi,
        status=record.status,
        payee="MEMBER" if claim.submitter == Submitter.MEMBER_REIMBURSEMENT.value else "PROVIDER",
        currency=claim.currency,
        billed=Money(billed, currency),
        allowed=Money(allowed, currency),
        paid=Money(paid, currency),
        patient_responsibility=Money(patient, currency),
        lines=tuple(lines),
        reversal_of=uuid.UUID(reversal["reversedClaimId"]) if reversal else None,
        reversal_paid=Money(reversal["paid"], claim.currency) if reversal else None,
        origin=claim.origin,
        plan_type=claim.plan_type,
    )
