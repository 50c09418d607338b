"""A claim adjudicated again (an appeal overturned, an authorisation decided after a final result).

What billing owes for a claim is its latest adjudication's paid amount. Each new adjudication moves
the claim from what billing holds for it (its payables, less what re-adjudications took back) to
the new amount, by the difference, with a new posting each time (the old ones stay as they were):

* more, while the claim's latest payable is unpaid: that payable grows (claims expense → claims
  payable);
* more, once paid: a supplement (a new payable, ``part`` 1, 2, …) for the difference, paid by the
  next run; its 835 reports the earlier adjudication reversed (CLP02 22) and the new one in full;
* less: unpaid payables shrink first (claims payable → claims expense); what was already paid
  becomes a recovery netted from the payee's next payments (``olly.billing.recoveries``).

A message seen again, or an adjudication older than the one billing applied last, changes nothing:
adjudications are ordered by claims' sequence (``adjudicationSequence``), else by ``adjudicatedAt``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from olly.billing.models import ClaimPayable, ClaimRecovery
from olly.billing.repository import BillingRepository
from olly.billing.rules import LedgerAccount, PostingKind, debit_credit
from olly.kernel.errors import BusinessRuleViolation
from olly.kernel.ids import uuid7
from olly.platform.db import UnitOfWork


def apply(
    uow: UnitOfWork,
    claim_id: uuid.UUID,
    *,
    paid_minor: int,
    currency: str | None,
    adjudicated_at: datetime,
    sequence: int | None,
) -> bool:
    """Bring a claim billing already holds to ``paid_minor`` (0 for a denial; ``currency`` None: the
    claim's). False when billing holds nothing for the claim yet (its first adjudication: the caller
    records it); True otherwise, whether or not anything moved."""
    from olly.billing.service import post_claim_approved

    repo = BillingRepository(uow)
    payables = repo.claim_payables(claim_id, for_update=True)
    if not payables:
        return False
    taken_back = [r for r in repo.claim_recoveries(claim_id) if r.part > 0]
    if not _is_newer(sequence, adjudicated_at, payables, taken_back):
        return True
    first = payables[0]
    currency = currency or first.currency
    if currency != first.currency:
        raise BusinessRuleViolation("a claim is re-adjudicated in the currency it was first paid in")
    held = sum(p.amount_minor for p in payables if p.status != "REVERSED") - sum(r.amount_minor for r in taken_back)
    difference = paid_minor - held
    if difference > 0:
        latest = payables[-1]
        if latest.status == "UNPAID":
            latest.amount_minor += difference
            _mark(latest, sequence, adjudicated_at)
        else:
            supplement = ClaimPayable(
                id=uuid7(),
                claim_id=claim_id,
                member_id=first.member_id,
                provider_id=first.provider_id,
                payee=first.payee,
                payee_id=first.payee_id,
                payee_npi=first.payee_npi,
                currency=currency,
                amount_minor=difference,
                approved_at=adjudicated_at,
                status="UNPAID",
                claim_payment_id=None,
                part=latest.part + 1,
                adjudication_sequence=sequence,
                reverses_sequence=_latest_sequence(payables, taken_back),
            )
            repo.add(supplement)
        post_claim_approved(uow, claim_id, difference, currency)
        return True
    if difference < 0:
        _take_back(uow, payables, taken_back, -difference, sequence, adjudicated_at)
    return True


def _take_back(
    uow: UnitOfWork,
    payables: list[ClaimPayable],
    taken_back: list[ClaimRecovery],
    amount: int,
    sequence: int | None,
    adjudicated_at: datetime,
) -> None:
    """Lower the claim by ``amount``: unpaid payables first (latest first), the rest recovered."""
    from olly.billing.service import post

    first = payables[0]
    for payable in reversed(payables):
        if amount == 0:
            return
        if payable.status != "UNPAID" or payable.amount_minor == 0:
            continue
        cut = min(payable.amount_minor, amount)
        payable.amount_minor -= cut
        amount -= cut
        _mark(payable, sequence, adjudicated_at)
        if payable.amount_minor == 0 and (payable.part > 0 or payable.payee != "PROVIDER"):
            # Nothing left to pay: a supplement is withdrawn, so is a reimbursement (a member gets no
            # $0 cheque); a provider's claim stays owed at $0 so its 835 reports it.
            payable.status = "REVERSED"
        post(
            uow,
            PostingKind.REVERSAL,
            debit_credit(LedgerAccount.CLAIMS_PAYABLE, LedgerAccount.CLAIMS_EXPENSE, cut),
            currency=payable.currency,
            reference_type="CLAIM",
            reference_id=payable.claim_id,
            account_id=None,
        )
    if amount == 0:
        return
    recovery = ClaimRecovery(
        id=uuid7(),
        claim_id=first.claim_id,
        reversing_claim_id=first.claim_id,
        payee=first.payee,
        payee_id=first.payee_id,
        payee_npi=first.payee_npi,
        currency=first.currency,
        amount_minor=amount,
        remaining_minor=amount,
        status="OPEN",
        recorded_at=adjudicated_at,
        last_payment_id=None,
        part=max((r.part for r in taken_back), default=0) + 1,
        adjudication_sequence=sequence,
    )
    uow.session.add(recovery)
    uow.session.flush()
    post(
        uow,
        PostingKind.REVERSAL,
        debit_credit(LedgerAccount.CLAIMS_PAYABLE, LedgerAccount.CLAIMS_EXPENSE, amount),
        currency=first.currency,
        reference_type="CLAIM_RECOVERY",
        reference_id=recovery.id,
        account_id=None,
    )


def _mark(payable: ClaimPayable, sequence: int | None, adjudicated_at: datetime) -> None:
    """The payable now holds this adjudication's amount."""
    payable.adjudication_sequence, payable.approved_at = sequence, adjudicated_at


def _applied(payables: list[ClaimPayable], taken_back: list[ClaimRecovery]) -> list[tuple[int | None, datetime]]:
    return [(p.adjudication_sequence, p.approved_at) for p in payables] + [
        (r.adjudication_sequence, r.recorded_at) for r in taken_back
    ]


def _latest_sequence(payables: list[ClaimPayable], taken_back: list[ClaimRecovery]) -> int | None:
    """The sequence of the last adjudication billing applied (None when no row knows one)."""
    known = [sequence for sequence, _ in _applied(payables, taken_back) if sequence is not None]
    return max(known) if known else None


def _is_newer(
    sequence: int | None, adjudicated_at: datetime, payables: list[ClaimPayable], taken_back: list[ClaimRecovery]
) -> bool:
    """Whether this adjudication comes after every one billing applied to the claim: by claims'
    sequence when both sides know it, else by adjudication time (a redelivery is never newer)."""
    latest = _latest_sequence(payables, taken_back)
    if sequence is not None and latest is not None:
        return sequence > latest
    return all(adjudicated_at > at for _, at in _applied(payables, taken_back))
