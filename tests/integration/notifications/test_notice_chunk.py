"""``NoticeChunk``, the notifications of a chunk of claims events inserted together, stores exactly
what ``notify`` stores through the ORM: every column, the parameters sealed so that the ORM opens
them (same codec, same associated data), on both engines, in one statement for the whole chunk
(a chunk of more than ``COPY_FROM_ROWS`` notifications, so PostgreSQL streams them)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import event, select

from olly.kernel.ids import uuid7
from olly.notifications import rules, service
from olly.notifications.models import Notification
from olly.platform.crypto import FORMAT_VERSION
from olly.platform.db import COPY_FROM_ROWS, UnitOfWork
from olly.platform.runtime import Platform

COUNT = COPY_FROM_ROWS + 4


def notices() -> list[tuple[uuid.UUID, uuid.UUID, rules.Notice]]:
    """(event, person, notice): one event telling two people, and notices with and without a link
    or parameters."""
    events = [uuid7() for _ in range(COUNT)]
    found = []
    for index, event_id in enumerate(events):
        parameters = {"claimId": str(uuid.UUID(int=index)), "paidAmount": f"{index}.50"} if index % 4 else {}
        link = f"/claims/{uuid.UUID(int=index)}" if index % 3 else None
        found.append((event_id, uuid.UUID(int=index % 5 + 1), rules.Notice("CLAIM_APPROVED", parameters, link)))
    found.append((events[0], uuid.UUID(int=99), rules.Notice("CLAIM_PAID", {"paidAmount": "1.00"})))
    return found


def stored(uow: UnitOfWork) -> list[str]:
    """Every notification as the app reads it (parameters opened), but for its id, comparable."""
    rows = []
    for row in uow.session.scalars(select(Notification)):
        values = {attr.key: getattr(row, attr.key) for attr in Notification.__mapper__.column_attrs}
        rows.append(json.dumps({k: v for k, v in values.items() if k != "id"}, sort_keys=True, default=str))
    return sorted(rows)


def sealed_parameters(uow: UnitOfWork) -> list[Any]:
    return list(uow.session.connection().execute(select(Notification.__table__.c.parameters)).scalars())


def test_a_chunk_of_notices_stores_what_notify_stores(platform: Platform, tenant_id: uuid.UUID) -> None:
    given = notices()
    with platform.db.unit_of_work(tenant_id) as uow:
        for event_id, party_id, notice in given:
            service.notify(uow, party_id, notice, topic="claims.claim.adjudicated", event_id=event_id)
        by_orm = stored(uow)
        uow.rollback()
    statements: list[tuple[str, bool]] = []

    def seen(_conn: object, _cursor: object, statement: str, _params: object, _context: object, many: bool) -> None:
        if "notifications" in statement.split("(")[0] and not statement.startswith("SELECT"):
            statements.append((statement.split()[0], many))

    event.listen(platform.db.engine, "before_cursor_execute", seen)
    try:
        with platform.db.unit_of_work(tenant_id) as uow:
            chunk = service.NoticeChunk(uow, {event_id for event_id, _, _ in given})
            for event_id, party_id, notice in given:
                chunk.notify(party_id, notice, topic="claims.claim.adjudicated", event_id=event_id)
                chunk.notify(party_id, notice, topic="claims.claim.adjudicated", event_id=event_id)  # again
            assert len(chunk.rows) == len(given)
    finally:
        event.remove(platform.db.engine, "before_cursor_execute", seen)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert stored(uow) == by_orm
        assert all(bytes(blob[:1]) == FORMAT_VERSION for blob in sealed_parameters(uow))
    assert len(by_orm) == len(given)
    # One statement for the chunk: an executemany on SQLite; on PostgreSQL a COPY, which the
    # driver streams without any statement of the engine's.
    assert statements == ([("INSERT", True)] if platform.db.is_sqlite else [])

    # Delivered again: the chunk reads what the events gave and adds nothing.
    with platform.db.unit_of_work(tenant_id) as uow:
        chunk = service.NoticeChunk(uow, {event_id for event_id, _, _ in given})
        for event_id, party_id, notice in given:
            chunk.notify(party_id, notice, topic="claims.claim.adjudicated", event_id=event_id)
        assert chunk.rows == {}
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert stored(uow) == by_orm
