"""The shape every published event shares.

A domain's ``events.py`` subclasses ``EventPayload`` once per event type family, naming its topic.
Payloads use the catalog's camelCase field names on the wire (``eventType``, ``schemaVersion``, …),
money as decimal strings, and carry no PHI beyond opaque ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class EventPayload(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")

    TOPIC: ClassVar[str]
    """The catalog topic, ``{domain}.{entity}.{event}``."""

    event_type: str
    schema_version: str = "1.0"

    def wire(self) -> dict[str, Any]:
        """The JSON-ready body with the catalog's field names."""
        return self.model_dump(by_alias=True, mode="json")


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    """An event a unit of work will publish when (and only if) it commits."""

    topic: str
    key: str
    """The aggregate id: events with one key stay in order (one member's, one claim's)."""
    payload: dict[str, Any]
    event_id: uuid.UUID
    occurred_at: datetime
    tenant_id: uuid.UUID | None
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None
    headers: dict[str, str] = field(default_factory=dict)
