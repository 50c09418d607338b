"""Operator endpoints of the event backbone: status, dead letters, redrive.

Mounted under ``/admin/bus``. Authorization is left to the identity work (every route here is for
operations staff only); until then deploy it behind the operator network boundary.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select

from olly.kernel.clock import SystemClock
from olly.platform.bus import dlq
from olly.platform.bus.dispatch import METRICS
from olly.platform.bus.models import ConsumerPartition, OutboxRecord
from olly.platform.db import Database, table_of

router = APIRouter(prefix="/admin/bus", tags=["operations"])


def _db(request: Request) -> Database:
    db: Database = request.app.state.platform.db
    return db


@router.get("/status", summary="Transport, this process's counters and each consumer group's lag")
def status(request: Request) -> dict[str, Any]:
    db = _db(request)
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
    return {
        "transport": db.settings.bus,
        "outboxPending": pending,
        "consumerLag": dict(sorted(lag.items())),
        "counters": METRICS.snapshot(),
    }


@router.get("/dlq", summary="Dead letters, newest first")
def list_dead_letters(
    request: Request,
    topic: str | None = Query(None, description="a topic or its .dlq"),
    include_redriven: bool = Query(False, alias="includeRedriven"),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    letters = dlq.list_dead_letters(_db(request), topic=topic, include_redriven=include_redriven, limit=limit)
    return {"items": [letter.summary() for letter in letters]}


@router.get("/dlq/{dead_letter_id}", summary="One dead letter with its original payload")
def show_dead_letter(request: Request, dead_letter_id: uuid.UUID) -> dict[str, Any]:
    return dlq.get_dead_letter(_db(request), dead_letter_id).detail()


@router.post("/dlq/{dead_letter_id}/redrive", status_code=202, summary="Redrive a dead letter to the failed group")
def redrive_dead_letter(request: Request, dead_letter_id: uuid.UUID) -> dict[str, str]:
    event_id = dlq.redrive(_db(request), SystemClock(), dead_letter_id)
    return {"eventId": str(event_id), "status": "redriven"}
