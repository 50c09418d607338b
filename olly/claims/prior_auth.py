"""Prior authorisation: requests, decisions with due times, units used by claims.

A request names a member, the requesting provider, codes with units, service dates, diagnoses and
clinical notes (PHI, sealed). Its decision is due 72 hours after receipt when expedited and 7
calendar days after when standard (CMS-0057-F), measured on the injected clock. A decision
approves, denies or partly approves (some codes, or fewer units), with the dates the approval is
valid and, for any denial, a specific CARC. Each receipt and decision publishes
``claims.prior_auth.decision`` in the same transaction. Services never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy.exc import IntegrityError

from olly.claims import authorization_repository as repository
from olly.claims.authorization_models import (
    PriorAuthorizationRequest,
    PriorAuthorizationService,
    PriorAuthorizationUsage,
)
from olly.claims.events import PriorAuthDecided
from olly.codesets.carc import Carc
from olly.codesets.cpt import is_cpt_format
from olly.codesets.hcpcs import is_level_ii_format
from olly.codesets.icd10 import is_diagnosis_format
from olly.kernel.errors import BusinessRuleViolation, Conflict, FieldError, NotFound, ValidationFailed
from olly.kernel.ids import uuid7
from olly.platform.db import UnitOfWork


class PriorAuthStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    PARTIALLY_APPROVED = "PARTIALLY_APPROVED"
    DENIED = "DENIED"


class DecisionOutcome(StrEnum):
    APPROVED = "APPROVED"
    PARTIALLY_APPROVED = "PARTIALLY_APPROVED"
    DENIED = "DENIED"


@dataclass(frozen=True, slots=True)
class DecisionWindows:
    """How long the plan has to decide; a plan may set shorter (or, under ERISA, longer standard) windows."""

    expedited: timedelta = timedelta(hours=72)
    standard: timedelta = timedelta(days=7)


DEFAULT_WINDOWS: Final = DecisionWindows()


@dataclass(frozen=True, slots=True)
class RequestedService:
    procedure_code: str
    units: int


@dataclass(frozen=True, slots=True)
class PriorAuthRequestData:
    member_id: uuid.UUID
    requesting_provider_id: uuid.UUID
    requesting_npi: str
    services: tuple[RequestedService, ...]
    service_from: date
    service_to: date
    expedited: bool = False
    plan_id: uuid.UUID | None = None
    diagnosis_codes: tuple[str, ...] = ()
    clinical_notes: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovedService:
    procedure_code: str
    units: int


@dataclass(frozen=True, slots=True)
class PriorAuthDecisionData:
    outcome: DecisionOutcome
    decided_by: str
    approved: tuple[ApprovedService, ...] = ()
    """Codes and units approved; empty on an APPROVED decision means every code with the units requested."""
    valid_from: date | None = None
    valid_to: date | None = None
    """Default: the requested service dates."""
    denial_reason_code: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PriorAuthView:
    request: PriorAuthorizationRequest
    services: tuple[PriorAuthorizationService, ...]
    overdue: bool
    decided_late: bool


@dataclass
class _Problems:
    errors: list[FieldError] = field(default_factory=list)

    def add(self, name: str, message: str, code: str = "invalid") -> None:
        self.errors.append(FieldError(name, message, code))

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


# -- pure rules -----------------------------------------------------------------------------------
def decision_due_at(received_at: datetime, expedited: bool, windows: DecisionWindows = DEFAULT_WINDOWS) -> datetime:
    return received_at + (windows.expedited if expedited else windows.standard)


def is_overdue(status: str, due_at: datetime, now: datetime) -> bool:
    """Undecided and past its due time (a request due at 10:00 is not overdue at 10:00)."""
    return status == PriorAuthStatus.PENDING and now > due_at


# -- use cases ------------------------------------------------------------------------------------
def submit_request(
    uow: UnitOfWork, data: PriorAuthRequestData, windows: DecisionWindows = DEFAULT_WINDOWS
) -> PriorAuthView:
    problems = _Problems()
    if not data.services:
        problems.add("body.services", "at least one code is needed", "required")
    codes = [s.procedure_code.strip().upper() for s in data.services]
    if len(set(codes)) != len(codes):
        problems.add("body.services", "each code appears once (sum its units)", "duplicate")
    for index, requested in enumerate(data.services):
        if requested.units < 1:
            problems.add(f"body.services.{index}.units", "units are at least 1", "too_small")
        if not (is_cpt_format(codes[index]) or is_level_ii_format(codes[index])):
            problems.add(f"body.services.{index}.procedureCode", "not a CPT or HCPCS Level II code", "code_format")
    if data.service_to < data.service_from:
        problems.add("body.serviceTo", "the service period cannot end before it starts", "period")
    for index, code in enumerate(data.diagnosis_codes):
        if not is_diagnosis_format(code):
            problems.add(f"body.diagnosisCodes.{index}", "not an ICD-10-CM code", "code_format")
    if not (len(data.requesting_npi) == 10 and data.requesting_npi.isdigit()):
        problems.add("body.requestingNpi", "an NPI is ten digits", "npi")
    problems.raise_any()
    now = uow.clock.now()
    request = PriorAuthorizationRequest(
        id=uuid7(),
        member_id=data.member_id,
        requesting_npi=data.requesting_npi,
        requesting_provider_id=data.requesting_provider_id,
        plan_id=data.plan_id,
        expedited=data.expedited,
        status=PriorAuthStatus.PENDING,
        service_from=data.service_from,
        service_to=data.service_to,
        diagnosis_codes=list(data.diagnosis_codes),
        clinical_notes=data.clinical_notes,
        received_at=now,
        decision_due_at=decision_due_at(now, data.expedited, windows),
    )
    uow.session.add(request)
    uow.session.flush()
    services = []
    for number, (code, requested) in enumerate(zip(codes, data.services, strict=True), start=1):
        service = PriorAuthorizationService(
            id=uuid7(),
            prior_auth_id=request.id,
            line_number=number,
            procedure_code=code,
            units_requested=requested.units,
            units_approved=None,
            units_used=0,
        )
        uow.session.add(service)
        services.append(service)
    uow.session.flush()
    uow.publish(
        PriorAuthDecided(
            event_type="PRIOR_AUTH_PENDED",
            prior_auth_id=request.id,
            member_id=request.member_id,
            provider_id=request.requesting_provider_id,
            expedited=request.expedited,
            decided_at=now,
        ),
        key=request.member_id,
    )
    return _view(request, services, now)


def get(uow: UnitOfWork, prior_auth_id: uuid.UUID) -> PriorAuthView:
    request = repository.prior_auth(uow.session, prior_auth_id)
    if request is None:
        raise NotFound("prior authorisation not found")
    return _view(request, repository.services_of(uow.session, [request.id]), uow.clock.now())


def queue(
    uow: UnitOfWork,
    *,
    status: PriorAuthStatus | None = None,
    overdue: bool | None = None,
    party_ids: frozenset[uuid.UUID] | None = None,
    provider_ids: frozenset[str] | None = None,
    limit: int = 200,
) -> list[PriorAuthView]:
    now = uow.clock.now()
    requests = repository.prior_auth_queue(
        uow.session,
        now=now,
        status=status.value if status else None,
        overdue=overdue,
        party_ids=party_ids,
        provider_ids=provider_ids,
        limit=limit,
    )
    by_request: dict[uuid.UUID, list[PriorAuthorizationService]] = {}
    for service in repository.services_of(uow.session, [r.id for r in requests]):
        by_request.setdefault(service.prior_auth_id, []).append(service)
    return [_view(r, by_request.get(r.id, []), now) for r in requests]


def decide(uow: UnitOfWork, prior_auth_id: uuid.UUID, data: PriorAuthDecisionData) -> PriorAuthView:
    request = repository.prior_auth(uow.session, prior_auth_id, for_update=True)
    if request is None:
        raise NotFound("prior authorisation not found")
    if request.status != PriorAuthStatus.PENDING:
        raise Conflict(f"this prior authorisation was already decided ({request.status})")
    services = repository.services_of(uow.session, [request.id])
    approved_units = _approved_units(services, data)
    valid_from = data.valid_from or request.service_from
    valid_to = data.valid_to or request.service_to
    if valid_to < valid_from:
        raise ValidationFailed([FieldError("body.validTo", "the approval cannot end before it starts", "period")])
    now = uow.clock.now()
    for service in services:
        service.units_approved = approved_units.get(service.procedure_code, 0)
    request.status = data.outcome.value
    request.decided_at = now
    request.decided_by = data.decided_by
    request.denial_reason_code = data.denial_reason_code
    request.decision_note = data.note
    if data.outcome is not DecisionOutcome.DENIED:
        request.valid_from, request.valid_to = valid_from, valid_to
    uow.session.flush()
    approved = data.outcome is not DecisionOutcome.DENIED
    uow.publish(
        PriorAuthDecided(
            event_type="PRIOR_AUTH_APPROVED" if approved else "PRIOR_AUTH_DENIED",
            prior_auth_id=request.id,
            member_id=request.member_id,
            provider_id=request.requesting_provider_id,
            expedited=request.expedited,
            approved_units=sum(approved_units.values()) if approved else None,
            valid_from=request.valid_from,
            valid_to=request.valid_to,
            reason_code=data.denial_reason_code,
            decided_at=now,
        ),
        key=request.member_id,
    )
    return _view(request, services, now)


def _approved_units(services: list[PriorAuthorizationService], data: PriorAuthDecisionData) -> dict[str, int]:
    """Units approved per code, after checking the decision is consistent with the request."""
    problems = _Problems()
    requested = {s.procedure_code: s.units_requested for s in services}
    reason = data.denial_reason_code
    if reason is not None:
        try:
            Carc.from_code(reason)
        except ValueError:
            problems.add("body.denialReasonCode", "not a claim adjustment reason code Olly uses", "unknown_code")
    if data.outcome is DecisionOutcome.DENIED:
        if data.approved:
            problems.add("body.approved", "a denial approves nothing", "not_allowed")
        if reason is None:
            problems.add("body.denialReasonCode", "a denial states a specific reason", "required")
        problems.raise_any()
        return {}
    approved: dict[str, int] = {}
    for index, item in enumerate(data.approved):
        code = item.procedure_code.strip().upper()
        if code not in requested:
            problems.add(f"body.approved.{index}.procedureCode", "this code was not requested", "not_requested")
        elif code in approved:
            problems.add(f"body.approved.{index}.procedureCode", "each code appears once", "duplicate")
        elif not 1 <= item.units <= requested[code]:
            problems.add(f"body.approved.{index}.units", f"from 1 to the {requested[code]} requested", "out_of_range")
        else:
            approved[code] = item.units
    problems.raise_any()
    if data.outcome is DecisionOutcome.APPROVED:
        if approved and approved != requested:
            problems.add(
                "body.approved", "an approval grants every code and unit requested; use PARTIALLY_APPROVED", "partial"
            )
        if reason is not None:
            problems.add("body.denialReasonCode", "an approval has no denial reason", "not_allowed")
        problems.raise_any()
        return dict(requested)
    if not approved:
        problems.add("body.approved", "a partial approval names what it approves", "required")
    elif approved == requested:
        problems.add("body.approved", "everything requested is approved: use APPROVED", "not_partial")
    if reason is None:
        problems.add("body.denialReasonCode", "the denied part states a specific reason", "required")
    problems.raise_any()
    return approved


def record_units_used(uow: UnitOfWork, authorization_id: str, claim_id: uuid.UUID, units: int) -> int:
    """Record that ``claim_id`` consumed ``units`` of the authorised service ``authorization_id``
    (the engine's ``PriorAuthorization.auth_id``); returns the service's units used.

    Idempotent per claim: recording again for the same claim replaces its earlier count (a
    re-adjudication), it never adds to it. Refuses to go beyond the units approved.
    """
    service_id = _service_id(authorization_id)
    service = repository.service(uow.session, service_id, for_update=True)
    if service is None:
        raise NotFound("authorised service not found")
    if units < 0:
        raise ValidationFailed([FieldError("units", "units are never negative", "too_small")])
    existing = repository.usage(uow.session, service.id, claim_id)
    other_claims = service.units_used - (existing.units if existing else 0)
    approved = service.units_approved or 0
    if other_claims + units > approved:
        raise BusinessRuleViolation(
            f"{units} units would exceed the authorisation ({approved} approved, {other_claims} used by other claims)"
        )
    if existing is None:
        try:
            with uow.session.begin_nested():
                uow.session.add(
                    PriorAuthorizationUsage(
                        id=uuid7(), service_id=service.id, claim_id=claim_id, units=units, recorded_at=uow.clock.now()
                    )
                )
        except IntegrityError as error:  # another worker recorded this claim at the same moment
            raise Conflict("units for this claim are being recorded concurrently; retry") from error
    else:
        existing.units = units
        existing.recorded_at = uow.clock.now()
    uow.session.flush()
    service.units_used = repository.units_used(uow.session, service.id)
    uow.session.flush()
    return service.units_used


def release_units(uow: UnitOfWork, claim_id: uuid.UUID) -> None:
    """Give back every unit ``claim_id`` consumed (a void or a replacement's reversal)."""
    touched = {u.service_id for u in repository.usages_of_claim(uow.session, claim_id)}
    repository.delete_usages_of_claim(uow.session, claim_id)
    uow.session.flush()
    for service_id in sorted(touched):
        service = repository.service(uow.session, service_id, for_update=True)
        if service is not None:
            service.units_used = repository.units_used(uow.session, service_id)
    uow.session.flush()


def escalate_overdue(uow: UnitOfWork) -> list[PriorAuthorizationRequest]:
    """Mark undecided requests past their due time as escalated (once each); returns those marked."""
    now = uow.clock.now()
    overdue = repository.overdue_unescalated(uow.session, now)
    for request in overdue:
        request.escalated_at = now
    uow.session.flush()
    return overdue


def _service_id(authorization_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(authorization_id)
    except ValueError:
        raise NotFound("authorised service not found") from None


def _view(
    request: PriorAuthorizationRequest, services: list[PriorAuthorizationService], now: datetime
) -> PriorAuthView:
    decided_late = request.decided_at is not None and request.decided_at > request.decision_due_at
    return PriorAuthView(
        request=request,
        services=tuple(sorted(services, key=lambda s: s.line_number)),
        overdue=is_overdue(request.status, request.decision_due_at, now),
        decided_late=decided_late,
    )
