"""Every query of the notifications domain."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from olly.notifications.models import Notification
from olly.platform.db import insert_values, table_of


def add(session: Session, notification: Notification) -> None:
    session.add(notification)


def insert(session: Session, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert notifications given as tuples of the values of ``columns`` (PHI already sealed, the
    tenant id included), in one statement (``insert_values``)."""
    insert_values(session.connection(), table_of(Notification), columns, rows)


def existing(session: Session, source_event_ids: Collection[uuid.UUID]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(source event, party) of the notifications these events already gave."""
    if not source_event_ids:
        return set()
    rows = session.execute(
        select(Notification.source_event_id, Notification.party_id).where(
            Notification.source_event_id.in_(list(source_event_ids))
        )
    )
    return {(row.source_event_id, row.party_id) for row in rows}


def exists(session: Session, source_event_id: uuid.UUID, party_id: uuid.UUID) -> bool:
    found = session.scalar(
        select(Notification.id)
        .where(Notification.source_event_id == source_event_id, Notification.party_id == party_id)
        .limit(1)
    )
    return found is not None


def get(session: Session, notification_id: uuid.UUID) -> Notification | None:
    return session.get(Notification, notification_id)


def inbox(session: Session, party_ids: Iterable[uuid.UUID], limit: int) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.party_id.in_(list(party_ids)))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, party_ids: Iterable[uuid.UUID]) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.party_id.in_(list(party_ids)), Notification.read_at.is_(None))
        )
        or 0
    )


def of_party(session: Session, party_id: uuid.UUID) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.party_id == party_id)))


def delete_notifications(session: Session, ids: Iterable[uuid.UUID]) -> None:
    session.execute(delete(Notification).where(Notification.id.in_(list(ids))))
