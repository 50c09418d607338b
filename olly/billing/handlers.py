"""Billing's consumers: the first premium of a new individual-market enrollment, adjustments when
enrollment changes a month already billed, and approved claims becoming claims payable."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final

from olly.billing import readjudication, recoveries, service
from olly.claims import public as claims_public
from olly.enrollment import public as enrollment
from olly.kernel.money import Money
from olly.platform.bus.messages import Handler, HandlerRegistry, Message
from olly.platform.db import UnitOfWork

ENROLLMENT_GROUP: Final = "billing-enrollment-consumer"
CLAIMS_GROUP: Final = "billing-claims-consumer"


def on_enrollment_submitted(uow: UnitOfWork, message: Message) -> None:
    """Individual market, new enrollment: issue the first invoice (the saga's next step: paid →
    enrollment activates it). Group enrollments are billed by the monthly list bill. An added (or
    reinstated) dependent, or a policy's reinstatement (a termination undone), may change months
    already billed: they are adjusted (a lapse billing reinstated itself re-issued its months, so
    there is nothing left to adjust)."""
    payload = message.payload
    if payload.get("electionType") in {"ADD_DEPENDENT", "REINSTATE_DEPENDENT", "REINSTATEMENT"}:
        _adjust(uow, payload)
        return
    if payload.get("groupId") is not None or payload.get("electionType") != "NEW":
        return
    service.issue_initial_invoice(uow, uuid.UUID(payload["enrollmentId"]), date.fromisoformat(payload["effectiveDate"]))


def on_cobra_elected(uow: UnitOfWork, message: Message) -> None:
    """A COBRA election: the continuation's first premium, every month from the loss of cover to the
    election's, due 45 days after the election (the event's ``firstPremiumDueDate``). Beneficiaries
    electing together share one policy and one invoice: the second event finds it issued."""
    payload = message.payload
    policy_id = enrollment.cobra_policy_of_case(uow, uuid.UUID(payload["cobraCaseId"]))
    if policy_id is None:
        return
    service.issue_initial_invoice(
        uow,
        policy_id,
        date.fromisoformat(payload["coverageStartDate"]),
        due_date=date.fromisoformat(payload["firstPremiumDueDate"]),
        through=datetime.fromisoformat(payload["electedAt"]).date(),
    )


def on_enrollment_changed(uow: UnitOfWork, message: Message) -> None:
    """A plan change or a termination (of the policy or of one person) effective inside a month
    already billed: the difference is billed, or credited, at once (``service.adjust_policy``).
    Terminations for non-payment are billing's own lapses and are left to them."""
    payload = message.payload
    if message.topic == "enrollment.enrollment.terminated" and payload.get("reason") == "NON_PAYMENT":
        return
    _adjust(uow, payload)


def _adjust(uow: UnitOfWork, payload: dict[str, object]) -> None:
    policy_id = uuid.UUID(str(payload["enrollmentId"]))
    if service.has_lapsed(uow, policy_id):
        return
    service.adjust_policy(uow, policy_id)


def on_claim_adjudicated(uow: UnitOfWork, message: Message) -> None:
    """A claim's first adjudication becomes a payable; a later one (re-adjudicated: an appeal
    overturned, say) moves what is owed for the claim to its new paid amount (``readjudication``)."""
    _claim_adjudicated(uow, message.payload)


def prepare_claim_adjudicated(uow: UnitOfWork, messages: Sequence[Message]) -> Handler:
    """Which of a chunk's claims billing holds nothing for yet, in one query: their first
    adjudication is recorded without reading again, its rows written with the chunk's
    (``service.ClaimChunk``). A claim billing holds, or the second event of a claim in the same
    chunk, takes the usual path, once what the chunk gathered is written."""
    chunk = service.ClaimChunk(uow, {uuid.UUID(message.payload["claimId"]) for message in messages})
    # A denial names no payee, NPI or currency: those of the chunk's denied claims in one query.
    denied = [uuid.UUID(m.payload["claimId"]) for m in messages if m.payload.get("eventType") == "CLAIM_DENIED"]
    payees = claims_public.claim_payees(uow, denied) if denied else {}

    def on_claim_adjudicated_in_chunk(uow: UnitOfWork, message: Message) -> None:
        claim_id = uuid.UUID(message.payload["claimId"])
        if claim_id not in chunk.unheld:
            chunk.write(uow)
            _claim_adjudicated(uow, message.payload, payees=payees)
        elif _claim_adjudicated(uow, message.payload, chunk=chunk, payees=payees):
            chunk.unheld.discard(claim_id)

    return on_claim_adjudicated_in_chunk


def _claim_adjudicated(
    uow: UnitOfWork,
    payload: dict[str, Any],
    *,
    chunk: service.ClaimChunk | None = None,
    payees: dict[uuid.UUID, claims_public.ClaimPayee] | None = None,
) -> bool:
    """``chunk``: the claim is one of its ``unheld``. ``payees``: the payees of the denied claims of
    the chunk, read at once. True when the event was one billing acts on (an approval or a denial),
    whatever it changed."""
    event_type = payload.get("eventType")
    if event_type not in ("CLAIM_APPROVED", "CLAIM_DENIED"):
        return False
    claim_id = uuid.UUID(payload["claimId"])
    sequence, decided = payload.get("adjudicationSequence"), datetime.fromisoformat(payload["adjudicatedAt"])
    paid = (
        Money.parse(payload["paidAmount"], payload.get("currency", "USD")) if event_type == "CLAIM_APPROVED" else None
    )
    if chunk is None and readjudication.apply(
        uow,
        claim_id,
        paid_minor=paid.amount if paid is not None else 0,
        currency=paid.currency if paid is not None else None,
        adjudicated_at=decided,
        sequence=sequence,
    ):
        return True
    if paid is None or paid.amount == 0:
        _settle_at_zero(uow, payload, sequence, chunk=chunk, payees=payees)
        return True
    payee = payload.get("payee", "PROVIDER")
    owed: dict[str, Any] = {
        "claim_id": claim_id,
        "member_id": uuid.UUID(payload["memberId"]),
        "provider_id": uuid.UUID(payload["providerId"]),
        "paid": paid,
        "payee": payee,
        "approved_at": decided,
        "billing_npi": _billing_npi(uow, payload) if payee == "PROVIDER" else None,
        "adjudication_sequence": sequence,
    }
    if chunk is None:
        service.record_approved_claim(uow, **owed)
    else:
        chunk.approved(uow, **owed)
    return True


def _billing_npi(uow: UnitOfWork, payload: dict[str, Any]) -> str | None:
    """The claim's billing NPI: a provider is paid per NPI (the provider id changes when claims
    learns the registry's id for an NPI it first derived an id for). ``ClaimApproved`` carries it
    from schema v4; an earlier event is answered by claims (one query per claim)."""
    carried = payload.get("billingNpi")
    if carried:
        return str(carried)
    claim_id = uuid.UUID(payload["claimId"])
    return claims_public.billing_npis(uow, [claim_id]).get(claim_id)


def _settle_at_zero(
    uow: UnitOfWork,
    payload: dict[str, Any],
    sequence: int | None,
    *,
    chunk: service.ClaimChunk | None = None,
    payees: dict[uuid.UUID, claims_public.ClaimPayee] | None = None,
) -> None:
    """A provider's claim that pays nothing (denied, or approved at $0) is owed at $0, so the next
    payment run puts it on the provider's 835. Member reimbursements that pay nothing are not: the
    member is told by the EOB."""
    claim_id = uuid.UUID(payload["claimId"])
    if payload.get("eventType") == "CLAIM_APPROVED":
        if payload.get("payee", "PROVIDER") != "PROVIDER":
            return
        currency, npi = payload.get("currency", "USD"), _billing_npi(uow, payload)
    else:
        if payees is None:
            payees = claims_public.claim_payees(uow, [claim_id])
        found = payees.get(claim_id)
        if found is None or found.payee != "PROVIDER":
            return
        currency, npi = found.currency, found.billing_npi
    owed: dict[str, Any] = {
        "claim_id": claim_id,
        "member_id": uuid.UUID(payload["memberId"]),
        "provider_id": uuid.UUID(payload["providerId"]),
        "currency": currency,
        "decided_at": datetime.fromisoformat(payload["adjudicatedAt"]),
        "billing_npi": npi,
        "adjudication_sequence": sequence,
    }
    if chunk is None:
        service.record_unpaid_claim(uow, **owed)
    else:
        chunk.unpaid(**owed)


def on_claim_reversed(uow: UnitOfWork, message: Message) -> None:
    payload = message.payload
    claim_id = uuid.UUID(payload["claimId"])
    recoveries.record_reversal(
        uow,
        claim_id=claim_id,
        reversing_claim_id=uuid.UUID(payload["reversingClaimId"]),
        member_id=uuid.UUID(payload["memberId"]),
        provider_id=uuid.UUID(payload["providerId"]),
        payee=payload["payee"],
        amount=Money.parse(payload["reversedAmount"], payload.get("currency", "USD")),
        reversed_at=datetime.fromisoformat(payload["reversedAt"]),
        billing_npi=_billing_npi(uow, payload) if payload["payee"] == "PROVIDER" else None,
    )


def register(registry: HandlerRegistry) -> None:
    registry.subscribe("enrollment.enrollment.submitted", ENROLLMENT_GROUP, on_enrollment_submitted)
    registry.subscribe("enrollment.enrollment.plan_changed", ENROLLMENT_GROUP, on_enrollment_changed)
    registry.subscribe("enrollment.enrollment.terminated", ENROLLMENT_GROUP, on_enrollment_changed)
    registry.subscribe("enrollment.cobra.elected", ENROLLMENT_GROUP, on_cobra_elected)
    registry.subscribe(
        "claims.claim.adjudicated", CLAIMS_GROUP, on_claim_adjudicated, prepare=prepare_claim_adjudicated
    )
    registry.subscribe("claims.claim.reversed", CLAIMS_GROUP, on_claim_reversed)
