"""Operator endpoints of the event backbone: status, dead letters, redrive.

Mounted under ``/admin/bus``. Access: ``bus.read`` (status) and ``dead_letter.read`` /
``dead_letter.redrive`` — administrators, and compliance auditors for reading. Dead letters carry
their original payloads, so each is its tenant's: an administrator lists, reads and redrives only
their own tenant's dead letters. The status (counters, lag) is the installation's and names no one.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import func, select

from olly.kernel.clock import Clock
from olly.platform.auth import Access, ResolveContext, ResourceFacts, ResourceRef, path, policy
from olly.platform.auth.access import AccessControl
from olly.platform.auth.resolvers import parse_uuid
from olly.platform.bus import dlq
from olly.platform.bus.dispatch import METRICS
from olly.platform.bus.models import ConsumerPartition, OutboxRecord
from olly.platform.db import Database, table_of

router = APIRouter(prefix="/admin/bus", tags=["operations"])


class DeadLetterFacts:
    """A dead letter of the caller's tenant; any other id (or another tenant's letter) is unknown."""

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        letter_id = parse_uuid(ref.resource_id)
        if letter_id is None:
            return None
        outbox = table_of(OutboxRecord)
        with context.db.engine.connect() as connection:
            found = connection.execute(
                select(outbox.c.event_id).where(
                    outbox.c.event_id == letter_id,
                    outbox.c.topic.like("%.dlq"),
                    outbox.c.tenant_id == context.tenant_id,
                )
            ).first()
        return ResourceFacts(kind=ref.kind, resource_id=str(letter_id)) if found is not None else None


def install(control: AccessControl) -> None:
    control.resolvers.register("dead_letter", DeadLetterFacts())


def _db(request: Request) -> Database:
    db: Database = request.app.state.platform.db
    return db


@router.get(
    "/status",
    summary="Transport, this process's counters and each consumer group's lag",
    dependencies=[Depends(policy("bus.read"))],
)
def status(request: Request) -> dict[str, Any]:
    db = _db(request)
    pending, lag = backlog(db)
    return {
        "transport": db.settings.bus,
        "outboxPending": pending,
        "consumerLag": lag,
        "counters": METRICS.snapshot(),
    }


def backlog(db: Database) -> tuple[int, dict[str, int]]:
    """Outbox rows not yet relayed, and how many relayed events each consumer group has still to handle."""
    outbox, partitions = table_of(OutboxRecord), table_of(ConsumerPartition)
    with db.engine.connect() as connection:
        pending = connection.execute(select(func.count()).where(outbox.c.relayed_at.is_(None))).scalar_one()
        heads = {
            (row.topic, row.partition): int(row.head)
            for row in connection.execute(
                select(outbox.c.topic, outbox.c.partition, func.max(outbox.c.log_offset).label("head"))
                .where(outbox.c.log_offset.is_not(None))
                .group_by(outbox.c.topic, outbox.c.partition)
            )
        }
        positions = connection.execute(select(partitions)).all()
    lag: dict[str, int] = {}
    for row in positions:
        behind = heads.get((row.topic, row.partition), -1) - int(row.committed_offset)
        lag[row.consumer_group] = lag.get(row.consumer_group, 0) + max(0, behind)
    return int(pending), dict(sorted(lag.items()))


@router.get("/dlq", summary="Dead letters, newest first")
def list_dead_letters(
    request: Request,
    topic: str | None = Query(None, description="a topic or its .dlq"),
    include_redriven: bool = Query(False, alias="includeRedriven"),
    limit: int = Query(100, ge=1, le=1000),
    access: Access = Depends(policy("dead_letter.read")),
) -> dict[str, Any]:
    letters = dlq.list_dead_letters(
        _db(request),
        topic=topic,
        include_redriven=include_redriven,
        limit=limit,
        tenant_id=access.principal.tenant_id,
    )
    return {"items": [letter.summary() for letter in letters]}


@router.get(
    "/dlq/{dead_letter_id}",
    summary="One dead letter with its original payload",
    dependencies=[Depends(policy("dead_letter.read", resource=path("dead_letter_id")))],
)
def show_dead_letter(request: Request, dead_letter_id: uuid.UUID) -> dict[str, Any]:
    return dlq.get_dead_letter(_db(request), dead_letter_id).detail()


@router.post(
    "/dlq/{dead_letter_id}/redrive",
    status_code=202,
    summary="Redrive a dead letter to the failed group",
    dependencies=[Depends(policy("dead_letter.redrive", resource=path("dead_letter_id")))],
)
def redrive_dead_letter(request: Request, dead_letter_id: uuid.UUID) -> dict[str, str]:
    clock: Clock = request.app.state.platform.clock
    event_id = dlq.redrive(_db(request), clock, dead_letter_id)
    return {"eventId": str(event_id), "status": "redriven"}
