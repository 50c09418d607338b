"""Use cases of the notifications domain: record a notice once per event and person, read an inbox,
mark a notification read. Services never commit (the unit of work at the boundary does)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from olly.kernel.errors import NotFound
from olly.kernel.ids import uuid7
from olly.notifications import repository, rules
from olly.notifications.models import Notification
from olly.platform.db import UnitOfWork

INBOX_LIMIT = 100


def notify(
    uow: UnitOfWork,
    party_id: uuid.UUID,
    notice: rules.Notice,
    *,
    topic: str,
    event_id: uuid.UUID,
    given: set[tuple[uuid.UUID, uuid.UUID]] | None = None,
) -> Notification | None:
    """Record ``notice`` for a person; a redelivered event records nothing (None).

    ``given``: the (event, person) pairs already notified, read at once for a chunk of events
    (``given_by``); the notification joins it and is written with the chunk's flush."""
    if given is not None:
        if (event_id, party_id) in given:
            return None
    elif repository.exists(uow.session, event_id, party_id):
        return None
    notification = Notification(
        id=uuid7(),
        party_id=party_id,
        kind=notice.kind,
        parameters=dict(notice.parameters),
        link=notice.link,
        source_topic=topic,
        source_event_id=event_id,
        created_at=uow.clock.now(),
        read_at=None,
    )
    repository.add(uow.session, notification)
    if given is None:
        uow.flush()
    else:
        given.add((event_id, party_id))
    return notification


def given_by(uow: UnitOfWork, event_ids: Collection[uuid.UUID]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(event, person) of the notifications these events already gave, in one query."""
    return repository.existing(uow.session, set(event_ids))


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: uuid.UUID
    party_id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


def inbox(uow: UnitOfWork, party_ids: Iterable[uuid.UUID], limit: int = INBOX_LIMIT) -> list[InboxItem]:
    """The notifications of these people, newest first, with their words."""
    items = []
    for row in repository.inbox(uow.session, party_ids, limit):
        message = rules.message_of(row.kind, row.parameters)
        items.append(
            InboxItem(
                row.id, row.party_id, row.kind, message.title, message.body, row.link, row.created_at, row.read_at
            )
        )
    return items


def unread_count(uow: UnitOfWork, party_ids: Iterable[uuid.UUID]) -> int:
    return repository.unread_count(uow.session, party_ids)


def mark_read(uow: UnitOfWork, notification_id: uuid.UUID) -> Notification:
    """Mark one notification read (reading it again changes nothing)."""
    notification = repository.get(uow.session, notification_id)
    if notification is None:
        raise NotFound("no such notification")
    if notification.read_at is None:
        notification.read_at = uow.clock.now()
        uow.flush()
    return notification
