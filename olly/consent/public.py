"""What other domains may ask the consent domain synchronously (frozen answers)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from olly.consent import repository
from olly.consent.service import APP_SHARING, COMMUNICATION, CONFIDENTIAL


@dataclass(frozen=True, slots=True)
class CommunicationPreferences:
    channels: tuple[str, ...]
    """Channels the person agreed to, e.g. ``("email", "post")``; empty when none was recorded."""
    topics: tuple[str, ...]


def communication_preferences(session: Session, party_id: uuid.UUID) -> CommunicationPreferences | None:
    for record in repository.active_of_kind(session, party_id, COMMUNICATION):
        prefs = record.preferences or {}
        channels = tuple(sorted(k for k, v in (prefs.get("channels") or {}).items() if v))
        topics = tuple(sorted(k for k, v in (prefs.get("topics") or {}).items() if v))
        return CommunicationPreferences(channels, topics)
    return None


def has_confidential_communication(session: Session, party_id: uuid.UUID) -> bool:
    """True when the person asked for confidential communications: their records are theirs alone
    (resolvers set ``ResourceFacts.confidential``) and mail goes to the alternative contact."""
    return bool(repository.active_of_kind(session, party_id, CONFIDENTIAL))


def app_may_receive(session: Session, party_id: uuid.UUID, app_client_id: str, scope: str, now: datetime) -> bool:
    for record in repository.active_of_kind(session, party_id, APP_SHARING):
        if record.app_client_id != app_client_id or scope not in (record.scopes or []):
            continue
        if record.expires_at is None or record.expires_at > now:
            return True
    return False
