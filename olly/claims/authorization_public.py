"""What the rest of the claims domain reads about prior authorisations (frozen engine inputs).

The adjudication loader calls ``prior_authorizations_for`` and hands the result to
``rules.AdjudicationRequest.prior_authorizations``; after a final adjudication it calls
``record_units_used`` for every line whose trace names a ``prior_auth_id``, and ``release_units``
when it reverses a claim.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from olly.claims import authorization_repository as repository
from olly.claims import rules
from olly.claims.prior_auth import PriorAuthStatus, record_units_used, release_units
from olly.kernel.periods import DatePeriod
from olly.platform.db import UnitOfWork

__all__ = ["members_with_prior_authorizations", "prior_authorizations_for", "record_units_used", "release_units"]


def members_with_prior_authorizations(uow: UnitOfWork, member_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these members have any authorisation request (the others' engine input is empty)."""
    return repository.members_with_prior_auths(uow.session, member_ids)


def prior_authorizations_for(
    uow: UnitOfWork, member_id: uuid.UUID, *, excluding_claims: Collection[uuid.UUID] = ()
) -> list[rules.PriorAuthorization]:
    """One engine input per requested service of every request of the member.

    ``auth_id`` is the service's id (what ``record_units_used`` takes), ``reference`` the request's
    id (what a claim quotes as its prior-auth reference). An undecided request gives PENDING inputs
    over the requested dates (the engine pends such lines); a decided one gives its status over
    the approved dates, with the units approved and used; a code a partial approval left out, or
    a denied request, gives DENIED inputs (the engine then denies CO-197).

    ``excluding_claims``: units these claims hold are not counted as used (the claim being
    adjudicated again and the original a replacement reverses get their own units back).
    """
    requests = repository.prior_auths_of_member(uow.session, member_id)
    if not requests:
        return []
    services = repository.services_of(uow.session, [r.id for r in requests])
    held: dict[uuid.UUID, int] = {}
    for claim_id in excluding_claims:
        for usage in repository.usages_of_claim(uow.session, claim_id):
            held[usage.service_id] = held.get(usage.service_id, 0) + usage.units
    by_request: dict[uuid.UUID, list[tuple[str, int | None, int, uuid.UUID]]] = {}
    for service in services:
        by_request.setdefault(service.prior_auth_id, []).append(
            (service.procedure_code, service.units_approved, service.units_used - held.get(service.id, 0), service.id)
        )
    found = []
    for request in requests:
        status = PriorAuthStatus(request.status)
        if status is PriorAuthStatus.PENDING or status is PriorAuthStatus.DENIED:
            period = DatePeriod(request.service_from, request.service_to)
        else:
            assert request.valid_from is not None
            assert request.valid_to is not None
            period = DatePeriod(request.valid_from, request.valid_to)
        for code, units_approved, units_used, service_id in by_request.get(request.id, []):
            if status is PriorAuthStatus.PENDING:
                engine_status, units = rules.AuthorizationStatus.PENDING, None
            elif status is PriorAuthStatus.DENIED or not units_approved:
                engine_status, units = rules.AuthorizationStatus.DENIED, 0
            else:
                engine_status, units = rules.AuthorizationStatus(status.value), units_approved
            found.append(
                rules.PriorAuthorization(
                    auth_id=str(service_id),
                    member_id=str(member_id),
                    status=engine_status,
                    procedure_codes=frozenset({code}),
                    period=period,
                    reference=str(request.id),
                    units_approved=units,
                    units_used=units_used,
                )
            )
    return found
