"""Every query of the consent domain."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from olly.consent.models import ConsentRecord, DeletionRequest


def consent(session: Session, consent_id: uuid.UUID) -> ConsentRecord | None:
    return session.get(ConsentRecord, consent_id)


def consents_of(session: Session, party_id: uuid.UUID, *, active_only: bool = True) -> list[ConsentRecord]:
    query = select(ConsentRecord).where(ConsentRecord.party_id == party_id)
    if active_only:
        query = query.where(ConsentRecord.status == "active")
    return list(session.scalars(query.order_by(ConsentRecord.recorded_at, ConsentRecord.id)))


def active_of_kind(session: Session, party_id: uuid.UUID, kind: str) -> list[ConsentRecord]:
    return list(
        session.scalars(
            select(ConsentRecord).where(
                ConsentRecord.party_id == party_id, ConsentRecord.kind == kind, ConsentRecord.status == "active"
            )
        )
    )


def delete_consents(session: Session, ids: Iterable[uuid.UUID]) -> None:
    session.execute(delete(ConsentRecord).where(ConsentRecord.id.in_(list(ids))))


def deletion_request(session: Session, request_id: uuid.UUID) -> DeletionRequest | None:
    return session.get(DeletionRequest, request_id)


def open_deletion_request(session: Session, party_id: uuid.UUID) -> DeletionRequest | None:
    return session.scalars(
        select(DeletionRequest).where(DeletionRequest.party_id == party_id, DeletionRequest.status == "verified")
    ).first()


def deletion_requests(
    session: Session, *, party_ids: frozenset[uuid.UUID] | None, status: str | None, limit: int = 200
) -> list[DeletionRequest]:
    query = select(DeletionRequest)
    if party_ids is not None:
        query = query.where(DeletionRequest.party_id.in_(list(party_ids)))
    if status is not None:
        query = query.where(DeletionRequest.status == status)
    return list(session.scalars(query.order_by(DeletionRequest.received_at.desc()).limit(limit)))
