"""Enrollment's consumers of billing events: the individual-market saga and non-payment.

* ``billing.payment.received``: an individual policy whose first premium is now paid in full is
  activated (submitted → first invoice → paid → activated).
* ``billing.payment.missed`` PAYMENT_MISSED for a policy still waiting for its first premium: the
  saga compensates: activation fails with the reason kept on the policy.
* ``billing.payment.missed`` GRACE_PERIOD_EXPIRED: the policy terminates for non-payment on the
  last covered day billing names (retroactive, as only non-payment and fraud allow), unless billing
  already reports the lapse reinstated (the two topics are not ordered with each other).
* ``billing.reinstatement.paid``: a policy terminated for non-payment on ``coverageEndDate`` is
  reinstated with no gap. Idempotent: a redelivery, or a policy no longer terminated for that
  lapse, changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Final

from olly.billing import public as billing
from olly.enrollment import service
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import Market, TerminationReason, TransactionType
from olly.enrollment.schemas import Termination
from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.db import UnitOfWork

GROUP: Final = "enrollment-billing-consumer"


def on_payment_received(uow: UnitOfWork, message: Message) -> None:
    account_id = uuid.UUID(message.payload["accountId"])
    repo = EnrollmentRepository(uow)
    for policy in repo.submitted_policies_of_account(account_id):
        if policy.market != Market.GROUP.value and billing.initial_premium_paid(uow, policy.id):
            service.activate(uow, policy.id)


def on_payment_missed(uow: UnitOfWork, message: Message) -> None:
    payload = message.payload
    if payload.get("enrollmentId") is None:
        return
    policy_id = uuid.UUID(payload["enrollmentId"])
    policy = EnrollmentRepository(uow).policy(policy_id)
    if policy is None:
        return
    event_type = payload["eventType"]
    if event_type == "PAYMENT_MISSED" and policy.status == "SUBMITTED" and policy.market != Market.GROUP.value:
        service.fail_activation(uow, policy_id, f"FIRST_PREMIUM_UNPAID: due {payload['gracePeriodEndDate']}")
    elif event_type == "GRACE_PERIOD_EXPIRED" and policy.status == "ACTIVE":
        if billing.lapse_reinstated(uow, uuid.UUID(payload["invoiceId"]), policy_id):
            return
        last_day = date.fromisoformat(payload.get("coverageEndDate") or payload["gracePeriodEndDate"])
        service.terminate(uow, policy_id, Termination(reason=TerminationReason.NON_PAYMENT, termination_date=last_day))


def on_reinstatement_paid(uow: UnitOfWork, message: Message) -> None:
    payload = message.payload
    policy_id = uuid.UUID(payload["enrollmentId"])
    repo = EnrollmentRepository(uow)
    policy = repo.policy(policy_id, for_update=True)
    if policy is None or policy.status != "TERMINATED" or policy.status_reason != TerminationReason.NON_PAYMENT.value:
        return
    terminations = [t for t in repo.transactions(policy_id) if t.transaction_type == TransactionType.TERMINATION.value]
    if not terminations or terminations[-1].effective_date != date.fromisoformat(payload["coverageEndDate"]):
        return  # terminated again since, or for another lapse: not this event's to undo
    service.reinstate(uow, policy_id, reason="PREMIUM_PAID")


def register(registry: HandlerRegistry) -> None:
    registry.subscribe("billing.payment.received", GROUP, on_payment_received)
    registry.subscribe("billing.payment.missed", GROUP, on_payment_missed)
    registry.subscribe("billing.reinstatement.paid", GROUP, on_reinstatement_paid)
