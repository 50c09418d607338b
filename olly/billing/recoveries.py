"""Recovering the payment of a voided or replaced claim (``claims.claim.reversed``).

A claim payable not yet paid is simply withdrawn (claims payable → claims expense). One already paid
becomes a recovery: claims payable is debited now (a negative balance owed by the payee) and the
next payment runs pay that payee the net of their new claims and the amount still to recover, so
the money never goes out twice. A payee with nothing new to pay carries the balance to later runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select

from olly.billing.models import ClaimPayable, ClaimPayment, ClaimRecovery, RecoveryApplication
from olly.billing.rules import LedgerAccount, PostingKind, debit_credit
from olly.kernel.errors import BusinessRuleViolation
from olly.kernel.ids import uuid7
from olly.kernel.money import Money
from olly.platform.db import UnitOfWork


def record_reversal(
    uow: UnitOfWork,
    *,
    claim_id: uuid.UUID,
    reversing_claim_id: uuid.UUID,
    member_id: uuid.UUID,
    provider_id: uuid.UUID,
    payee: str,
    amount: Money,
    reversed_at: datetime,
    billing_npi: str | None = None,
) -> ClaimRecovery | ClaimPayable | None:
    """Take back ``amount`` paid for ``claim_id`` (idempotent per claim): withdraw its unpaid
    payables, and open a recovery against the payee's next payments for what was paid. A provider
    payee is its billing NPI (the claim's payable's, else ``billing_npi``), so the recovery nets
    against that NPI's next payments whichever provider id they are made under."""
    from olly.billing.service import post

    if payee not in ("PROVIDER", "MEMBER"):
        raise BusinessRuleViolation("payee must be PROVIDER or MEMBER")
    if amount.amount <= 0:
        return None
    session = uow.session
    voided = select(ClaimRecovery).where(ClaimRecovery.claim_id == claim_id, ClaimRecovery.part == 0)
    if session.scalars(voided).first() is not None:
        return None
    payables = list(
        session.scalars(select(ClaimPayable).where(ClaimPayable.claim_id == claim_id).order_by(ClaimPayable.part))
    )
    payable = payables[0] if payables else None
    if payables and all(p.status == "REVERSED" for p in payables):
        return None
    withdrawn = 0
    for unpaid in (p for p in payables if p.status == "UNPAID"):
        unpaid.status = "REVERSED"
        withdrawn += unpaid.amount_minor
        if unpaid.amount_minor:
            post(
                uow,
                PostingKind.REVERSAL,
                debit_credit(LedgerAccount.CLAIMS_PAYABLE, LedgerAccount.CLAIMS_EXPENSE, unpaid.amount_minor),
                currency=unpaid.currency,
                reference_type="CLAIM",
                reference_id=claim_id,
                account_id=None,
            )
    if payable is not None and not any(p.status == "PAID" for p in payables):
        return payable  # never paid: withdrawing it was enough
    # A supplement still unpaid was withdrawn above (a re-adjudication paid more, then the claim was
    # voided): the rest was paid and is recovered.
    amount = Money(amount.amount - withdrawn, amount.currency)
    if amount.amount <= 0:
        return payable
    # Paid already, or its approval has not reached billing yet (it then becomes a payable the
    # recovery nets to nothing): recover from the payee's next payments.
    npi = None
    if payee == "PROVIDER":
        npi = (payable.payee_npi if payable is not None else None) or billing_npi
    recovery = ClaimRecovery(
        id=uuid7(),
        claim_id=claim_id,
        reversing_claim_id=reversing_claim_id,
        payee=payee,
        payee_id=provider_id if payee == "PROVIDER" else member_id,
        payee_npi=npi,
        currency=amount.currency,
        amount_minor=amount.amount,
        remaining_minor=amount.amount,
        status="OPEN",
        recorded_at=reversed_at,
        last_payment_id=None,
    )
    session.add(recovery)
    session.flush()
    post(
        uow,
        PostingKind.REVERSAL,
        debit_credit(LedgerAccount.CLAIMS_PAYABLE, LedgerAccount.CLAIMS_EXPENSE, amount.amount),
        currency=amount.currency,
        reference_type="CLAIM_RECOVERY",
        reference_id=recovery.id,
        account_id=None,
    )
    return recovery


def net_against(uow: UnitOfWork, payment: ClaimPayment, provider_ids: Iterable[uuid.UUID] = ()) -> int:
    """Reduce ``payment`` (its gross amount set) by the payee's open recoveries, oldest first, never
    below zero; returns the amount recovered. What is left stays open for later runs. What the
    payment took of each recovery is recorded (``RecoveryApplication``) for its 835.

    The payee's recoveries: a provider's are those of its billing NPI, and those recorded without an
    NPI under the payment's id or ``provider_ids`` (the ids its claims carry)."""
    ids = {payment.payee_id, *provider_ids}
    whose: ColumnElement[bool] = ClaimRecovery.payee_id.in_(sorted(ids))
    if payment.payee_npi is not None:
        whose = or_(ClaimRecovery.payee_npi == payment.payee_npi, and_(ClaimRecovery.payee_npi.is_(None), whose))
    rows = uow.session.scalars(
        select(ClaimRecovery)
        .where(
            ClaimRecovery.status == "OPEN",
            ClaimRecovery.payee == payment.payee,
            whose,
            ClaimRecovery.currency == payment.currency,
        )
        .order_by(ClaimRecovery.recorded_at, ClaimRecovery.id)
    )
    recovered = 0
    for recovery in rows:
        take = min(recovery.remaining_minor, payment.amount_minor - recovered)
        if take <= 0:
            break
        recovery.remaining_minor -= take
        recovery.last_payment_id = payment.id
        if recovery.remaining_minor == 0:
            recovery.status = "RECOVERED"
        uow.session.add(
            RecoveryApplication(id=uuid7(), recovery_id=recovery.id, claim_payment_id=payment.id, amount_minor=take)
        )
        recovered += take
    payment.amount_minor -= recovered
    return recovered


def outstanding_total(uow: UnitOfWork) -> int:
    """Σ still to recover (claims payable's debit balance), over every payee and currency."""
    total = uow.session.scalar(
        select(func.coalesce(func.sum(ClaimRecovery.remaining_minor), 0)).where(ClaimRecovery.status == "OPEN")
    )
    return int(total or 0)


def open_recoveries(uow: UnitOfWork) -> list[ClaimRecovery]:
    return list(
        uow.session.scalars(
            select(ClaimRecovery).where(ClaimRecovery.status == "OPEN").order_by(ClaimRecovery.recorded_at)
        )
    )
