"""Appeals' consumer: the read model of adjudicated claims, from ``claims.claim.adjudicated``."""

from __future__ import annotations

from typing import Final

from olly.claims import appeals
from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.db import UnitOfWork

GROUP: Final = "appeals-claims-consumer"
TOPIC: Final = "claims.claim.adjudicated"


def on_claim_adjudicated(uow: UnitOfWork, message: Message) -> None:
    appeals.record_adjudication(uow, message.event_id, message.payload)


def register(registry: HandlerRegistry) -> None:
    registry.subscribe(TOPIC, GROUP, on_claim_adjudicated)
