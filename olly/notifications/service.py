"""Use cases of the notifications domain: record a notice once per event and person, read an inbox,
mark a notification read. Services never commit (the unit of work at the boundary does)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, Final

from olly.kernel.errors import NotFound
from olly.kernel.ids import uuid7
from olly.notifications import repository, rules
from olly.notifications.models import Notification
from olly.platform.crypto import FieldCrypto, row_sealer
from olly.platform.db import PendingRows, UnitOfWork, table_of

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


#: The columns of a notification as ``NoticeChunk`` inserts it.
NOTICE_COLUMNS: Final = (
    "id",
    "party_id",
    "kind",
    "parameters",
    "link",
    "source_topic",
    "source_event_id",
    "created_at",
    "read_at",
    "tenant_id",
)
_values_of: Final = itemgetter(*NOTICE_COLUMNS)


class NoticeChunk:
    """The notifications of a chunk of events (a consumer's ``prepare``): the (event, person) pairs
    the chunk's events already gave, read in one query (``given_by``), and the new ones, recorded as
    ``notify`` records them but gathered as rows and inserted together just before the chunk commits
    (``repository.insert``): one statement, no object and flush bookkeeping per notification. Their
    parameters are sealed as the ORM seals a ``Notification``'s (same codec, same associated data).
    Without a tenant or field encryption, each goes through ``notify`` (the ORM) instead."""

    def __init__(self, uow: UnitOfWork, event_ids: Collection[uuid.UUID]) -> None:
        self.uow = uow
        self.given = given_by(uow, event_ids)
        crypto: FieldCrypto | None = uow.session.info.get("crypto")
        self._seal: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.rows: PendingRows[tuple[uuid.UUID, uuid.UUID], tuple[Any, ...]] | None = None
        if uow.tenant_id is not None and crypto is not None:
            self._seal = row_sealer(crypto, uow.session.connection(), table_of(Notification), uow.tenant_id)
            self.rows = PendingRows(uow, lambda rows: repository.insert(uow.session, NOTICE_COLUMNS, rows))

    def notify(self, party_id: uuid.UUID, notice: rules.Notice, *, topic: str, event_id: uuid.UUID) -> None:
        """``notify`` of an event of the chunk."""
        if self._seal is None or self.rows is None:
            notify(self.uow, party_id, notice, topic=topic, event_id=event_id, given=self.given)
            return
        if (event_id, party_id) in self.given:
            return
        row = {
            "id": uuid7(),
            "party_id": party_id,
            "kind": notice.kind,
            "parameters": dict(notice.parameters),
            "link": notice.link,
            "source_topic": topic,
            "source_event_id": event_id,
            "created_at": self.uow.clock.now(),
            "read_at": None,
            "tenant_id": self.uow.tenant_id,
        }
        self.rows[(event_id, party_id)] = _values_of(self._seal(row))
        self.given.add((event_id, party_id))


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
