"""Events the consent domain publishes. Ids and kinds only: never contact details."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from olly.kernel.events import EventPayload


class ConsentRecorded(EventPayload):
    TOPIC: ClassVar[str] = "consent.consent.recorded"

    event_type: Literal["CONSENT_RECORDED"] = "CONSENT_RECORDED"
    consent_id: uuid.UUID
    party_id: uuid.UUID
    kind: str


class ConsentRevoked(EventPayload):
    TOPIC: ClassVar[str] = "consent.consent.revoked"

    event_type: Literal["CONSENT_REVOKED"] = "CONSENT_REVOKED"
    consent_id: uuid.UUID
    party_id: uuid.UUID
    kind: str


class DeletionRequestCompleted(EventPayload):
    """A person's data was erased or pseudonymised: consumers drop their own copies (caches, read models)."""

    TOPIC: ClassVar[str] = "consent.deletion_request.completed"

    event_type: Literal["DELETION_REQUEST_COMPLETED"] = "DELETION_REQUEST_COMPLETED"
    deletion_request_id: uuid.UUID
    party_id: uuid.UUID
    deleted: int
    pseudonymised: int
