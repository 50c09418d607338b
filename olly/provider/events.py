"""Events the provider domain publishes (the catalog's provider topics).

Both are keyed by provider id, so one provider's events stay in order. Provider names and NPIs are
public directory data, not PHI.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from olly.kernel.events import EventPayload

CredentialingEventType = Literal[
    "CREDENTIALING_APPROVED",
    "CREDENTIALING_DENIED",
    "CREDENTIALING_EXPIRED",
    "CREDENTIALING_SUSPENDED",
]


class CredentialingStatusChanged(EventPayload):
    """``provider.credentialing.status_changed``: a provider's credentialing standing changed.

    The seed's fields, plus ``changedAt`` (when the change happened), ``reason`` (committee
    decision, licence lapse, recredentialing overdue, sanction) and ``requestId``, all optional
    additions under the backward-compatibility rule. ``approvedAt`` is the time of the approval the
    standing rests on (null for a denial of a provider never approved).
    """

    TOPIC: ClassVar[str] = "provider.credentialing.status_changed"

    event_type: CredentialingEventType
    provider_id: uuid.UUID
    npi: str
    provider_name: str
    specialty: str | None
    credentialing_status: Literal["APPROVED", "DENIED", "EXPIRED", "SUSPENDED"]
    network_status: Literal["IN_NETWORK", "OUT_OF_NETWORK"]
    effective_date: date | None
    approved_at: datetime | None
    changed_at: datetime | None = None
    reason: str | None = None
    request_id: uuid.UUID | None = None


NetworkEventType = Literal[
    "NETWORK_CONTRACT_ADDED",
    "NETWORK_CONTRACT_AMENDED",
    "NETWORK_CONTRACT_REMOVED",
]


class ProviderNetworkUpdated(EventPayload):
    """``provider.network.updated``: one way a provider participates in a network changed.

    One event per provider and contract. A contract of an organisation reaches each individual
    affiliated with it (``viaOrganisationId`` names the organisation). ``networkStatus`` is
    IN_NETWORK for ``effectiveDate``..``terminationDate`` (inclusive; null = open-ended), or
    OUT_OF_NETWORK when this participation was removed altogether (a consumer drops it).
    Credentialing standing is a separate event; in-network pricing needs both.
    """

    TOPIC: ClassVar[str] = "provider.network.updated"

    event_type: NetworkEventType
    provider_id: uuid.UUID
    npi: str
    network_status: Literal["IN_NETWORK", "OUT_OF_NETWORK"]
    network: str
    tier: str
    contract_id: uuid.UUID
    via_organisation_id: uuid.UUID | None = None
    effective_date: date
    termination_date: date | None
    changed_at: datetime
