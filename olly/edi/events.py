"""Events the EDI gateway publishes (see docs/events.md).

The raw interchange never travels in an event: it is stored encrypted in the object store and the
event names it by ``storageKey``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from olly.kernel.events import EventPayload


class EdiInboundReceived(EventPayload):
    """An inbound X12 interchange (837, 834 or 270) was received and stored."""

    TOPIC: ClassVar[str] = "edi.inbound.received"

    event_type: Literal["EDI_837_RECEIVED", "EDI_834_RECEIVED", "EDI_270_RECEIVED"]
    interchange_id: uuid.UUID
    interchange_control_number: str
    sender_id: str
    receiver_id: str
    implementation_guide: str
    """GS08, e.g. ``005010X222A1``."""
    transaction_set_count: int
    size_bytes: int
    storage_key: str
    received_at: datetime


class EdiOutboundGenerated(EventPayload):
    """An outbound X12 interchange (835, 834 or 271) was generated and stored."""

    TOPIC: ClassVar[str] = "edi.outbound.generated"

    event_type: Literal["EDI_835_GENERATED", "EDI_834_GENERATED", "EDI_271_GENERATED"]
    interchange_id: uuid.UUID
    interchange_control_number: str
    sender_id: str
    receiver_id: str
    implementation_guide: str
    transaction_set_count: int
    size_bytes: int
    storage_key: str
    generated_at: datetime
