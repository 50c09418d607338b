"""Eligibility's balances from a chunk of ``claims.accumulator.updated`` events: the balances new to
the read model are kept as values and inserted together (``AccumulatorChunk``), and store exactly
what ``record_accumulators`` stores one event at a time through the ORM, on both engines; a chunk
of more than ``COPY_FROM_ROWS`` new balances, so PostgreSQL streams them. The chunk has members
alone and with families (a family named by several members), a holder's totals moving again in
the chunk, older totals arriving late, and a balance held before the chunk (changed through the
ORM)."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from olly.claims.events import AccumulatorUpdated
from olly.eligibility import service
from olly.eligibility.models import AccumulatorBalance
from olly.platform.db import COPY_FROM_ROWS, UnitOfWork
from olly.platform.runtime import Platform

MEMBERS = COPY_FROM_ROWS + 4


def events(platform: Platform) -> list[dict[str, Any]]:
    now = platform.clock.now()
    found = []
    for index in range(MEMBERS):
        family = uuid.UUID(int=index // 3 + 500) if index % 2 else None
        used = f"{index * 10}.{index:02d}"
        found.append(
            AccumulatorUpdated(
                member_id=uuid.UUID(int=index + 1),
                family_id=family,
                claim_id=uuid.UUID(int=index + 1000),
                plan_year=date(2026, 1, 1),
                deductible_used_in_network=used,
                deductible_used_out_of_network="0.00",
                out_of_pocket_used_in_network=used,
                out_of_pocket_used_out_of_network="1.00",
                family_deductible_used_in_network=f"{index * 20}.00" if family else None,
                family_deductible_used_out_of_network="0.00" if family else None,
                family_out_of_pocket_used_in_network=f"{index * 20}.00" if family else None,
                family_out_of_pocket_used_out_of_network="2.00" if family else None,
                updated_at=now + timedelta(minutes=index),
            ).wire()
        )
    later = found[1] | {"updatedAt": (now + timedelta(days=1)).isoformat(), "deductibleUsedInNetwork": "555.00"}
    older = found[3] | {"updatedAt": (now - timedelta(days=1)).isoformat(), "deductibleUsedInNetwork": "999.00"}
    return [*found, later, older]


def stored(uow: UnitOfWork) -> list[str]:
    rows = []
    for row in uow.session.scalars(select(AccumulatorBalance)):
        values = {attr.key: getattr(row, attr.key) for attr in AccumulatorBalance.__mapper__.column_attrs}
        rows.append(json.dumps({k: v for k, v in values.items() if k != "id"}, sort_keys=True, default=str))
    return sorted(rows)


def test_a_chunk_of_accumulator_events_stores_what_one_by_one_does(platform: Platform, tenant_id: uuid.UUID) -> None:
    chunk_events = events(platform)
    with platform.db.unit_of_work(tenant_id) as uow:  # a balance held before the chunk (older totals)
        earlier = (platform.clock.now() - timedelta(days=2)).isoformat()
        service.record_accumulators(uow, chunk_events[5] | {"updatedAt": earlier})
    with platform.db.unit_of_work(tenant_id) as uow:
        for payload in chunk_events:
            service.record_accumulators(uow, payload)
        one_by_one = stored(uow)
        uow.rollback()
    with platform.db.unit_of_work(tenant_id) as uow:
        chunk = service.AccumulatorChunk(uow, chunk_events)
        assert len(chunk.balances) == 2  # the member's and the family's held before
        for payload in chunk_events:
            service.record_accumulators(uow, payload, chunk=chunk)
        assert chunk.new is not None and len(chunk.new) == len(one_by_one) - 2 > COPY_FROM_ROWS
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert stored(uow) == one_by_one

    # Delivered again, the chunk finds every balance and changes nothing.
    with platform.db.unit_of_work(tenant_id) as uow:
        chunk = service.AccumulatorChunk(uow, chunk_events)
        for payload in chunk_events:
            service.record_accumulators(uow, payload, chunk=chunk)
        assert chunk.new == {}
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert stored(uow) == one_by_one
