"""Appeals' consumer: the read model of adjudicated claims, from ``claims.claim.adjudicated``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Final

from olly.claims import appeals
from olly.platform.bus.messages import Handler, HandlerRegistry, Message
from olly.platform.db import UnitOfWork

GROUP: Final = "appeals-claims-consumer"
TOPIC: Final = "claims.claim.adjudicated"


def on_claim_adjudicated(uow: UnitOfWork, message: Message) -> None:
    appeals.record_adjudication(uow, message.event_id, message.payload)


def prepare_adjudicated(uow: UnitOfWork, messages: Sequence[Message]) -> Handler:
    """Read the read model's rows of a chunk's claims in one query; record each adjudication in turn
    (the rows of claims new to the read model are inserted together before the chunk commits)."""
    chunk = appeals.AdjudicationChunk(uow, [uuid.UUID(message.payload["claimId"]) for message in messages])

    def on_claim_adjudicated_in_chunk(uow: UnitOfWork, message: Message) -> None:
        appeals.record_adjudication(uow, message.event_id, message.payload, chunk=chunk)

    return on_claim_adjudicated_in_chunk


def register(registry: HandlerRegistry) -> None:
    registry.subscribe(TOPIC, GROUP, on_claim_adjudicated, prepare=prepare_adjudicated)
