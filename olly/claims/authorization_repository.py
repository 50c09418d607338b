"""Every query of prior authorisations and appeals."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from olly.claims.authorization_models import (
    Appeal,
    AppealableClaim,
    PriorAuthorizationRequest,
    PriorAuthorizationService,
    PriorAuthorizationUsage,
)
from olly.platform.db import insert_values, table_of

PENDING = "PENDING"
OPEN = "OPEN"


# -- prior authorisations -----------------------------------------------------------------------
def prior_auth(
    session: Session, prior_auth_id: uuid.UUID, *, for_update: bool = False
) -> PriorAuthorizationRequest | None:
    query = select(PriorAuthorizationRequest).where(PriorAuthorizationRequest.id == prior_auth_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def members_with_prior_auths(session: Session, member_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    if not member_ids:
        return set()
    query = select(PriorAuthorizationRequest.member_id).where(PriorAuthorizationRequest.member_id.in_(list(member_ids)))
    return set(session.scalars(query.distinct()))


def services_of(session: Session, prior_auth_ids: Collection[uuid.UUID]) -> list[PriorAuthorizationService]:
    if not prior_auth_ids:
        return []
    return list(
        session.scalars(
            select(PriorAuthorizationService)
            .where(PriorAuthorizationService.prior_auth_id.in_(list(prior_auth_ids)))
            .order_by(PriorAuthorizationService.prior_auth_id, PriorAuthorizationService.line_number)
        )
    )


def prior_auths_of_member(session: Session, member_id: uuid.UUID) -> list[PriorAuthorizationRequest]:
    return list(
        session.scalars(
            select(PriorAuthorizationRequest)
            .where(PriorAuthorizationRequest.member_id == member_id)
            .order_by(PriorAuthorizationRequest.received_at, PriorAuthorizationRequest.id)
        )
    )


def _scoped(
    query: Select[PriorAuthorizationRequest],
    party_ids: frozenset[uuid.UUID] | None,
    provider_ids: frozenset[str] | None,
) -> Select[PriorAuthorizationRequest]:
    """``None`` for both: everything; otherwise the requests of these members or these providers."""
    if party_ids is None and provider_ids is None:
        return query
    conditions = []
    if party_ids:
        conditions.append(PriorAuthorizationRequest.member_id.in_(list(party_ids)))
    if provider_ids:
        conditions.append(PriorAuthorizationRequest.requesting_npi.in_(list(provider_ids)))
        organisation_ids = [uuid.UUID(p) for p in provider_ids if _is_uuid(p)]
        if organisation_ids:
            conditions.append(PriorAuthorizationRequest.requesting_provider_id.in_(organisation_ids))
    if not conditions:
        return query.where(PriorAuthorizationRequest.id.is_(None))
    return query.where(or_(*conditions))


def prior_auth_queue(
    session: Session,
    *,
    now: datetime,
    status: str | None = None,
    overdue: bool | None = None,
    party_ids: frozenset[uuid.UUID] | None = None,
    provider_ids: frozenset[str] | None = None,
    limit: int = 200,
) -> list[PriorAuthorizationRequest]:
    """Requests by decision due time (soonest first); ``overdue`` selects undecided ones past due (or not)."""
    query = select(PriorAuthorizationRequest)
    if status is not None:
        query = query.where(PriorAuthorizationRequest.status == status)
    if overdue is True:
        query = query.where(
            PriorAuthorizationRequest.status == PENDING, PriorAuthorizationRequest.decision_due_at < now
        )
    elif overdue is False:
        query = query.where(
            or_(PriorAuthorizationRequest.status != PENDING, PriorAuthorizationRequest.decision_due_at >= now)
        )
    query = _scoped(query, party_ids, provider_ids)
    order = (PriorAuthorizationRequest.decision_due_at, PriorAuthorizationRequest.id)
    return list(session.scalars(query.order_by(*order).limit(limit)))


def overdue_unescalated(session: Session, now: datetime) -> list[PriorAuthorizationRequest]:
    return list(
        session.scalars(
            select(PriorAuthorizationRequest)
            .where(
                PriorAuthorizationRequest.status == PENDING,
                PriorAuthorizationRequest.decision_due_at < now,
                PriorAuthorizationRequest.escalated_at.is_(None),
            )
            .order_by(PriorAuthorizationRequest.decision_due_at, PriorAuthorizationRequest.id)
        )
    )


def service(session: Session, service_id: uuid.UUID, *, for_update: bool = False) -> PriorAuthorizationService | None:
    query = select(PriorAuthorizationService).where(PriorAuthorizationService.id == service_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def usage(session: Session, service_id: uuid.UUID, claim_id: uuid.UUID) -> PriorAuthorizationUsage | None:
    return session.scalars(
        select(PriorAuthorizationUsage).where(
            PriorAuthorizationUsage.service_id == service_id, PriorAuthorizationUsage.claim_id == claim_id
        )
    ).one_or_none()


def usages_of_claim(session: Session, claim_id: uuid.UUID) -> list[PriorAuthorizationUsage]:
    return list(session.scalars(select(PriorAuthorizationUsage).where(PriorAuthorizationUsage.claim_id == claim_id)))


def delete_usages_of_claim(session: Session, claim_id: uuid.UUID) -> None:
    session.execute(delete(PriorAuthorizationUsage).where(PriorAuthorizationUsage.claim_id == claim_id))


def units_used(session: Session, service_id: uuid.UUID) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(PriorAuthorizationUsage.units), 0)).where(
            PriorAuthorizationUsage.service_id == service_id
        )
    )
    return int(total or 0)


# -- appeals ------------------------------------------------------------------------------------
def appealable_claim(session: Session, claim_id: uuid.UUID) -> AppealableClaim | None:
    return session.scalars(select(AppealableClaim).where(AppealableClaim.claim_id == claim_id)).one_or_none()


def appealable_claims(session: Session, claim_ids: Collection[uuid.UUID]) -> list[AppealableClaim]:
    if not claim_ids:
        return []
    return list(session.scalars(select(AppealableClaim).where(AppealableClaim.claim_id.in_(list(claim_ids)))))


def insert_appealable_claims(session: Session, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert read-model rows given as tuples of the values of ``columns`` (the tenant id
    included), in one statement (``insert_values``)."""
    insert_values(session.connection(), table_of(AppealableClaim), columns, rows)


def appeal(session: Session, appeal_id: uuid.UUID, *, for_update: bool = False) -> Appeal | None:
    query = select(Appeal).where(Appeal.id == appeal_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def open_appeal_of_claim(session: Session, claim_id: uuid.UUID) -> Appeal | None:
    return session.scalars(select(Appeal).where(Appeal.open_claim_id == claim_id)).one_or_none()


def appeals_of_claim(session: Session, claim_id: uuid.UUID) -> list[Appeal]:
    return list(session.scalars(select(Appeal).where(Appeal.claim_id == claim_id).order_by(Appeal.filed_at)))


def appeal_queue(
    session: Session,
    *,
    status: str | None = None,
    party_ids: frozenset[uuid.UUID] | None = None,
    provider_ids: frozenset[str] | None = None,
    limit: int = 200,
) -> list[Appeal]:
    """Appeals by decision due time (soonest first)."""
    query = select(Appeal)
    if status is not None:
        query = query.where(Appeal.status == status)
    if party_ids is not None or provider_ids is not None:
        conditions = []
        if party_ids:
            conditions.append(Appeal.member_id.in_(list(party_ids)))
        organisation_ids = [uuid.UUID(p) for p in provider_ids or () if _is_uuid(p)]
        if organisation_ids:
            conditions.append(Appeal.provider_id.in_(organisation_ids))
        query = query.where(or_(*conditions)) if conditions else query.where(Appeal.id.is_(None))
    return list(session.scalars(query.order_by(Appeal.decision_due_at, Appeal.id).limit(limit)))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# -- one person's records (deletion requests) -----------------------------------------------------
def appeals_of_member(session: Session, member_id: uuid.UUID) -> list[Appeal]:
    return list(session.scalars(select(Appeal).where(Appeal.member_id == member_id).order_by(Appeal.filed_at)))


def appealable_claims_of_member(session: Session, member_id: uuid.UUID) -> list[AppealableClaim]:
    return list(session.scalars(select(AppealableClaim).where(AppealableClaim.member_id == member_id)))


def reassign_member(session: Session, kind: str, record_ids: Collection[uuid.UUID], member_id: uuid.UUID) -> None:
    """Point records at another member id (a pseudonym)."""
    if not record_ids:
        return
    ids = list(record_ids)
    if kind == "prior_auth":
        statement = update(PriorAuthorizationRequest).where(PriorAuthorizationRequest.id.in_(ids))
    elif kind == "appeal":
        statement = update(Appeal).where(Appeal.id.in_(ids))
    else:
        statement = update(AppealableClaim).where(AppealableClaim.claim_id.in_(ids))
    session.execute(statement.values(member_id=member_id))


def delete_records(session: Session, kind: str, record_ids: Collection[uuid.UUID]) -> None:
    if not record_ids:
        return
    ids = list(record_ids)
    if kind == "prior_auth":
        services = select(PriorAuthorizationService.id).where(PriorAuthorizationService.prior_auth_id.in_(ids))
        session.execute(delete(PriorAuthorizationUsage).where(PriorAuthorizationUsage.service_id.in_(services)))
        session.execute(delete(PriorAuthorizationService).where(PriorAuthorizationService.prior_auth_id.in_(ids)))
        session.execute(delete(PriorAuthorizationRequest).where(PriorAuthorizationRequest.id.in_(ids)))
    elif kind == "appeal":
        session.execute(delete(Appeal).where(Appeal.id.in_(ids)))
    else:
        session.execute(delete(AppealableClaim).where(AppealableClaim.claim_id.in_(ids)))
