"""Consumers of other domains' events: each event worth telling a member about becomes one
notification per person (a redelivered event adds nothing: the source event id is kept)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final

from olly.enrollment import public as enrollment
from olly.notifications import rules, service
from olly.platform.bus.messages import ChunkPreparer, Handler, HandlerRegistry, Message
from olly.platform.db import UnitOfWork

CLAIMS_GROUP: Final = "notifications-claims-consumer"
BILLING_GROUP: Final = "notifications-billing-consumer"
ENROLLMENT_GROUP: Final = "notifications-enrollment-consumer"


def _notify(
    uow: UnitOfWork,
    message: Message,
    party_id: uuid.UUID,
    notice: rules.Notice | None,
) -> None:
    if notice is not None:
        service.notify(uow, party_id, notice, topic=message.topic, event_id=message.event_id)


def on_claim_adjudicated(uow: UnitOfWork, message: Message) -> None:
    _notify(uow, message, uuid.UUID(message.payload["memberId"]), rules.claim_notice(message.payload))


def on_claim_paid(uow: UnitOfWork, message: Message) -> None:
    _notify(uow, message, uuid.UUID(message.payload["memberId"]), rules.claim_paid_notice(message.payload))


def _prepare_member_notices(notice_of: Callable[[dict[str, Any]], rules.Notice | None]) -> ChunkPreparer:
    """A chunk of claims events each telling its member: which of them already did, in one query;
    the notifications are then inserted together just before the chunk commits (``NoticeChunk``)."""

    def prepare(uow: UnitOfWork, messages: Sequence[Message]) -> Handler:
        chunk = service.NoticeChunk(uow, [message.event_id for message in messages])

        def notify_member_in_chunk(uow: UnitOfWork, message: Message) -> None:
            party_id, notice = uuid.UUID(message.payload["memberId"]), notice_of(message.payload)
            if notice is not None:
                chunk.notify(party_id, notice, topic=message.topic, event_id=message.event_id)

        return notify_member_in_chunk

    return prepare


prepare_claim_adjudicated: Final = _prepare_member_notices(rules.claim_notice)
prepare_claim_paid: Final = _prepare_member_notices(rules.claim_paid_notice)


def on_prior_auth_decided(uow: UnitOfWork, message: Message) -> None:
    _notify(uow, message, uuid.UUID(message.payload["memberId"]), rules.prior_auth_notice(message.payload))


def household_subscribers(uow: UnitOfWork, account_id: uuid.UUID) -> list[uuid.UUID]:
    """The subscribers of a household account's policies. A group's list bill and its payments are
    the employer's business: they notify no member."""
    found: list[uuid.UUID] = []
    for policy_id in enrollment.policies_of_account(uow, account_id):
        summary = enrollment.policy(uow, policy_id)
        if summary is None or summary.market == "GROUP" or summary.subscriber_party_id in found:
            continue
        found.append(summary.subscriber_party_id)
    return found


def on_invoice_generated(uow: UnitOfWork, message: Message) -> None:
    for party_id in household_subscribers(uow, uuid.UUID(message.payload["accountId"])):
        _notify(uow, message, party_id, rules.invoice_notice(message.payload))


def on_payment_received(uow: UnitOfWork, message: Message) -> None:
    for party_id in household_subscribers(uow, uuid.UUID(message.payload["accountId"])):
        _notify(uow, message, party_id, rules.payment_notice(message.payload))


def on_payment_missed(uow: UnitOfWork, message: Message) -> None:
    _notify(uow, message, uuid.UUID(message.payload["memberId"]), rules.missed_payment_notice(message.payload))


def on_enrollment_activated(uow: UnitOfWork, message: Message) -> None:
    _notify(uow, message, uuid.UUID(message.payload["memberId"]), rules.activation_notice(message.payload))


def on_cobra_notice_sent(uow: UnitOfWork, message: Message) -> None:
    _notify(uow, message, uuid.UUID(message.payload["memberId"]), rules.cobra_notice(message.payload))


def on_cobra_elected(uow: UnitOfWork, message: Message) -> None:
    _notify(uow, message, uuid.UUID(message.payload["memberId"]), rules.cobra_elected_notice(message.payload))


def on_cobra_extended(uow: UnitOfWork, message: Message) -> None:
    _notify(uow, message, uuid.UUID(message.payload["memberId"]), rules.cobra_extended_notice(message.payload))


def on_cobra_ended(uow: UnitOfWork, message: Message) -> None:
    _notify(uow, message, uuid.UUID(message.payload["memberId"]), rules.cobra_ended_notice(message.payload))


def register(registry: HandlerRegistry) -> None:
    registry.subscribe(
        "claims.claim.adjudicated", CLAIMS_GROUP, on_claim_adjudicated, prepare=prepare_claim_adjudicated
    )
    registry.subscribe("claims.claim.paid", CLAIMS_GROUP, on_claim_paid, prepare=prepare_claim_paid)
    registry.subscribe("claims.prior_auth.decision", CLAIMS_GROUP, on_prior_auth_decided)
    registry.subscribe("billing.invoice.generated", BILLING_GROUP, on_invoice_generated)
    registry.subscribe("billing.payment.received", BILLING_GROUP, on_payment_received)
    registry.subscribe("billing.payment.missed", BILLING_GROUP, on_payment_missed)
    registry.subscribe("enrollment.enrollment.activated", ENROLLMENT_GROUP, on_enrollment_activated)
    registry.subscribe("enrollment.cobra.notice_sent", ENROLLMENT_GROUP, on_cobra_notice_sent)
    registry.subscribe("enrollment.cobra.elected", ENROLLMENT_GROUP, on_cobra_elected)
    registry.subscribe("enrollment.cobra.extended", ENROLLMENT_GROUP, on_cobra_extended)
    registry.subscribe("enrollment.cobra.ended", ENROLLMENT_GROUP, on_cobra_ended)
