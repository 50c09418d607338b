"""The shape every published event shares.

A domain's ``events.py`` subclasses ``EventPayload`` once per event type family, naming its topic.
Payloads use the catalog's camelCase field names on the wire (``eventType``, ``schemaVersion``, …),
money as decimal strings, and carry no PHI beyond opaque ids.
"""

from __future__ import annotations

import typing
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

#: Money on the wire: a decimal string in major units with the currency's minor digits ("250.00"), as the catalog shows.
#: Inside Olly it is ``Money`` (integer minor units); ``Money.to_decimal_string()`` makes this form.
Amount = Annotated[str, StringConstraints(pattern=r"^-?(0|[1-9][0-9]*)(\.[0-9]{1,4})?$")]

#: An ISO 4217 currency code.
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class EventPayload(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")

    TOPIC: ClassVar[str]
    """The catalog topic, ``{domain}.{entity}.{event}``."""

    event_type: str
    """Narrowed by each subclass to a ``Literal`` of the catalog's event types it carries."""
    schema_version: str = "1.0"

    def wire(self) -> dict[str, Any]:
        """The JSON-ready body with the catalog's field names."""
        return self.model_dump(by_alias=True, mode="json")

    @classmethod
    def event_types(cls) -> tuple[str, ...]:
        """The catalog event types this model carries (the values its ``event_type`` may take)."""
        annotation = cls.model_fields["event_type"].annotation
        if typing.get_origin(annotation) is typing.Literal:
            return tuple(str(value) for value in typing.get_args(annotation))
        return ()


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
