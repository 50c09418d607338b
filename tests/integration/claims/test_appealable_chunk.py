"""Appeals' read model from a chunk of ``claims.claim.adjudicated`` events: the rows of claims new
to it are kept as values and inserted together (``AdjudicationChunk``), and store exactly what
``record_adjudication`` stores one event at a time through the ORM, on both engines; a chunk of
more than ``COPY_FROM_ROWS`` new rows, so PostgreSQL streams them. The chunk has approvals and
denials, a claim adjudicated again in it, an older adjudication of a claim of the chunk arriving
late, and a claim the read model held before the chunk (changed through the ORM)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from olly.claims import appeals
from olly.claims.authorization_models import AppealableClaim
from olly.claims.events import ClaimApproved, ClaimDenied
from olly.kernel.ids import uuid7
from olly.platform.db import COPY_FROM_ROWS, UnitOfWork
from olly.platform.runtime import Platform

COUNT = COPY_FROM_ROWS + 4


def events(platform: Platform) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    now = platform.clock.now()
    found: list[tuple[uuid.UUID, dict[str, Any]]] = []
    for index in range(COUNT):
        claim, member, provider = uuid.UUID(int=index + 1), uuid.UUID(int=index % 4 + 100), uuid.UUID(int=7)
        at = now + timedelta(minutes=index)
        if index % 3 == 0:
            payload = ClaimDenied(
                claim_id=claim,
                member_id=member,
                provider_id=provider,
                denial_reason_code="CO-197",
                denial_reason_text="Required prior authorization not on file",
                appeal_deadline=at.date() + timedelta(days=90),
                adjudicated_at=at,
            ).wire()
        else:
            amount = f"{index}.25"
            payload = ClaimApproved(
                claim_id=claim,
                member_id=member,
                provider_id=provider,
                status="APPROVED" if index % 2 else "PARTIALLY_APPROVED",
                total_billed_amount=amount,
                allowed_amount=amount,
                paid_amount=amount,
                member_responsibility="0.00",
                deductible_applied="0.00",
                copay_applied="0.00",
                coinsurance_applied="0.00",
                adjudicated_at=at,
            ).wire()
        found.append((uuid7(), payload))
    again = found[1][1] | {"adjudicatedAt": (now + timedelta(days=2)).isoformat(), "status": "APPROVED"}
    stale = found[2][1] | {"adjudicatedAt": (now - timedelta(days=2)).isoformat(), "status": "PARTIALLY_APPROVED"}
    return [*found, (uuid7(), again), (uuid7(), stale)]


def stored(uow: UnitOfWork) -> list[str]:
    rows = []
    for row in uow.session.scalars(select(AppealableClaim)):
        values = {attr.key: getattr(row, attr.key) for attr in AppealableClaim.__mapper__.column_attrs}
        rows.append(json.dumps(values, sort_keys=True, default=str))
    return sorted(rows)


def test_a_chunk_of_adjudications_stores_what_one_by_one_does(platform: Platform, tenant_id: uuid.UUID) -> None:
    chunk_events = events(platform)
    held_payload = chunk_events[4][1]
    with platform.db.unit_of_work(tenant_id) as uow:  # the read model holds one claim before the chunk
        earlier = (platform.clock.now() - timedelta(days=1)).isoformat()
        appeals.record_adjudication(uow, uuid7(), held_payload | {"adjudicatedAt": earlier})
    with platform.db.unit_of_work(tenant_id) as uow:
        for event_id, payload in chunk_events:
            appeals.record_adjudication(uow, event_id, payload)
        one_by_one = stored(uow)
        uow.rollback()
    with platform.db.unit_of_work(tenant_id) as uow:
        claim_ids = [uuid.UUID(payload["claimId"]) for _, payload in chunk_events]
        chunk = appeals.AdjudicationChunk(uow, claim_ids)
        assert set(chunk.rows) == {uuid.UUID(held_payload["claimId"])}
        for event_id, payload in chunk_events:
            appeals.record_adjudication(uow, event_id, payload, chunk=chunk)
        assert chunk.new is not None and len(chunk.new) == COUNT - 1
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert stored(uow) == one_by_one
    assert len(one_by_one) == COUNT

    # Delivered again, the chunk finds every row and changes nothing.
    with platform.db.unit_of_work(tenant_id) as uow:
        chunk = appeals.AdjudicationChunk(uow, claim_ids)
        for event_id, payload in chunk_events:
            appeals.record_adjudication(uow, event_id, payload, chunk=chunk)
        assert chunk.new == {}
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert stored(uow) == one_by_one
