"""The EDI gateway's consumer: a completed claim payment run becomes its 835s.

``billing.payment.completed`` carries one ``PAYMENT_COMPLETED`` per paid claim and, once the run is
done, one ``PAYMENT_RUN_COMPLETED``; only the latter is acted on. Writing the 835s is idempotent per
run (``service.remit`` returns the files of a run already remitted), so a redelivery writes nothing
new; a run with no provider payee (only member reimbursements) has nothing to remit.
"""

from __future__ import annotations

from typing import Final

from olly.edi import service
from olly.kernel.errors import NotFound
from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.db import UnitOfWork

BILLING_GROUP: Final = "edi-billing-consumer"


def on_payment_completed(uow: UnitOfWork, message: Message) -> None:
    payload = message.payload
    if payload.get("eventType") != "PAYMENT_RUN_COMPLETED":
        return
    try:
        service.remit(uow, str(payload["paymentRunId"]))
    except NotFound:
        return  # nothing for a provider in this run (member reimbursements get their EOB)


def register(registry: HandlerRegistry) -> None:
    registry.subscribe("billing.payment.completed", BILLING_GROUP, on_payment_completed)
