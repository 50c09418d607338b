"""HTTP routes of the enrollment domain: one per enrollment operation, and coverage on a date.

Access: ``enrollment.read``/``enrollment.write`` of the policy named in the path (its people are
everyone it covers; its group is its account in the group market), ``enrollment.write`` for a new
policy (an employer administrator only on its own group's account), ``member.read`` of the person
for coverage on a date. The resolvers are in ``access.py``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from olly.enrollment import public, service
from olly.enrollment.access import CobraNoticeFacts, Households, MemberFacts, PolicyFacts
from olly.enrollment.models import Policy, UnderwritingFlag
from olly.enrollment.personal_data import EnrollmentPersonalData
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import Market, Relationship
from olly.enrollment.schemas import (
    CobraCaseRead,
    CobraDisabilityCreate,
    CobraElection,
    CobraEndCreate,
    CobraEventCreate,
    CobraSecondEventCreate,
    CoveredPerson,
    DependentAdd,
    DependentReinstate,
    DependentRemove,
    EnrollmentCreate,
    PlanChange,
    PolicyRead,
    Termination,
    UnderwritingFlagCreate,
    UnderwritingFlagRead,
    UnderwritingWithdrawal,
)
from olly.kernel.errors import FieldError, NotFound, ValidationFailed
from olly.kernel.money import Money
from olly.platform.auth import Access, path, policy
from olly.platform.auth.access import AccessControl
from olly.platform.db import UnitOfWork
from olly.platform.http import platform_of
from olly.policy_admin import public as people

router = APIRouter(prefix="/api/v1", tags=["enrollment"])

READ_POLICY = policy("enrollment.read", resource=path("policy_id"))
WRITE_POLICY = policy("enrollment.write", resource=path("policy_id"))
READ_UNDERWRITING = policy("underwriting.read", resource=path("policy_id", kind="enrollment"))
WRITE_UNDERWRITING = policy("underwriting.write", resource=path("policy_id", kind="enrollment"))


def install(control: AccessControl) -> None:
    control.resolvers.register("enrollment", PolicyFacts())
    control.resolvers.register("member", MemberFacts())
    control.resolvers.register("cobra_notice", CobraNoticeFacts())
    control.resolvers.set_household(Households())
    control.personal_data.register(EnrollmentPersonalData())


class TransactionRead(BaseModel):
    id: uuid.UUID
    transaction_type: str
    reason: str | None
    event_date: date | None
    effective_date: date
    recorded_at: datetime


class RenewalCreate(BaseModel):
    plan_code: str


class CoverageRead(BaseModel):
    policy_id: uuid.UUID
    policy_number: str
    policy_status: str
    plan_id: uuid.UUID
    plan_code: str
    relationship: Relationship
    member_number: str
    valid_from: date
    valid_to: date | None


def plans(request: Request) -> service.PlanCatalog:
    catalog: service.PlanCatalog = request.app.state.plan_catalog
    return catalog


def _read(uow: UnitOfWork, policy: Policy) -> PolicyRead:
    repo = EnrollmentRepository(uow)
    on = uow.clock.today()
    spans = repo.current_spans(policy.id)
    terms = repo.terms(policy.id)
    term = next((t for t in reversed(terms) if t.period_start <= on), terms[0])
    elements = {e.id: e for e in repo.elements(policy.id)}
    covered = [
        CoveredPerson(
            party_id=s.party_id,
            member_number=elements[s.element_id].member_number,
            relationship=Relationship(elements[s.element_id].relationship),
            valid_from=s.valid_from,
            valid_to=s.valid_to,
        )
        for s in spans
        if s.term_id == term.id
    ]
    return PolicyRead(
        id=policy.id,
        policy_number=policy.policy_number,
        market=policy.market,
        status=policy.status,
        plan_id=term.plan_id,
        plan_code=term.plan_code,
        tier_code=term.tier_code,
        currency=term.currency,
        total_premium=Money(term.total_premium_minor, term.currency).to_decimal_string(),
        member_premium=Money(term.member_premium_minor, term.currency).to_decimal_string(),
        covered=covered,
    )


def _only_the_groups_people(request: Request, access: Access, party_ids: list[uuid.UUID]) -> None:
    """An employer administrator enrols only people its groups cover (or covered) or that it
    registered itself (``POST /parties/individuals``): anyone else is, to it, no such person. The
    plan's staff, whose scope is everything, may enrol anyone. (Read before the write's unit of
    work: a refusal's audit record is written on its own, which on SQLite must not wait for it.)"""
    scope = access.scope
    if scope.everything:
        return
    groups = scope.group_account_ids
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        known = people.registered_for_groups(uow, party_ids, groups) | public.covered_in_groups(uow, party_ids, groups)
    stranger = next((party_id for party_id in party_ids if party_id not in known), None)
    if stranger is not None:
        raise _refused(request, access, stranger, "not_registered_for_group")


def _refused(request: Request, access: Access, resource_id: uuid.UUID, reason: str) -> NotFound:
    return access.refused(request, reason, resource_id=str(resource_id))


def _policy(uow: UnitOfWork, policy_id: uuid.UUID) -> Policy:
    policy = EnrollmentRepository(uow).policy(policy_id)
    if policy is None:
        raise NotFound("policy not found")
    return policy


@router.post("/enrollments", status_code=201, response_model=PolicyRead, summary="Enrol a subscriber and dependents")
def enroll(
    body: EnrollmentCreate, request: Request, access: Access = Depends(policy("enrollment.write"))
) -> PolicyRead:
    scope = access.scope
    if not scope.everything:
        # An employer administrator enrols into its own group's account, in the group market.
        if body.account_id not in scope.group_account_ids:
            raise _refused(request, access, body.account_id, "not_related")
        if body.market != Market.GROUP:
            raise ValidationFailed([FieldError("market", "an employer enrols in the GROUP market", "group_only")])
    _only_the_groups_people(request, access, [body.subscriber_party_id, *(d.party_id for d in body.dependents)])
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        account = _billed_account(uow, body)
        policy_row = service.enroll(uow, body, plans(request))
        read = _read(uow, policy_row)
        if read.currency != account.currency:  # raised inside the unit of work: the policy is rolled back
            message = f"is billed in {account.currency}, the plan in {read.currency}"
            raise ValidationFailed([FieldError("account_id", message, "wrong_currency")])
        platform_of(request).audit.append(
            uow.session.connection(), [access.audit_record(resource_id=str(policy_row.id))]
        )
        return read


def _billed_account(uow: UnitOfWork, body: EnrollmentCreate) -> people.AccountSummary:
    """The account a new policy is billed to: one that exists, a group's for the group market and a
    household's otherwise (billing invoices it as its list bill or its household invoice)."""
    account = people.account(uow, body.account_id)
    if account is None:
        raise ValidationFailed([FieldError("account_id", "no such account", "unknown_account")])
    kind = "GROUP" if body.market == Market.GROUP else "HOUSEHOLD"
    if account.kind != kind:
        message = f"the {body.market.value} market needs a {kind} account"
        raise ValidationFailed([FieldError("account_id", message, "wrong_account_kind")])
    return account


@router.get("/enrollments/{policy_id}", response_model=PolicyRead, summary="A policy with its covered people")
def read(policy_id: uuid.UUID, request: Request, access: Access = Depends(READ_POLICY)) -> PolicyRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return _read(uow, _policy(uow, policy_id))


@router.get("/enrollments/{policy_id}/transactions", response_model=list[TransactionRead], summary="Change history")
def transactions(
    policy_id: uuid.UUID, request: Request, access: Access = Depends(READ_POLICY)
) -> list[TransactionRead]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        _policy(uow, policy_id)
        return [
            TransactionRead.model_validate(t, from_attributes=True)
            for t in EnrollmentRepository(uow).transactions(policy_id)
        ]


@router.post("/enrollments/{policy_id}/dependents", response_model=PolicyRead, summary="Add a dependent")
def add_dependent(
    policy_id: uuid.UUID, body: DependentAdd, request: Request, access: Access = Depends(WRITE_POLICY)
) -> PolicyRead:
    _only_the_groups_people(request, access, [body.party_id])
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        service.add_dependent(uow, policy_id, body, plans(request))
        return _read(uow, _policy(uow, policy_id))


@router.post("/enrollments/{policy_id}/dependent-removals", response_model=PolicyRead, summary="Remove a dependent")
def remove_dependent(
    policy_id: uuid.UUID, body: DependentRemove, request: Request, access: Access = Depends(WRITE_POLICY)
) -> PolicyRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        service.remove_dependent(uow, policy_id, body, plans(request))
        return _read(uow, _policy(uow, policy_id))


@router.post(
    "/enrollments/{policy_id}/dependent-reinstatements",
    response_model=PolicyRead,
    summary="Undo a dependent's last removal",
)
def reinstate_dependent(
    policy_id: uuid.UUID, body: DependentReinstate, request: Request, access: Access = Depends(WRITE_POLICY)
) -> PolicyRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        service.reinstate_dependent(uow, policy_id, body, plans(request))
        return _read(uow, _policy(uow, policy_id))


@router.post("/enrollments/{policy_id}/plan-changes", response_model=PolicyRead, summary="Change plan")
def change_plan(
    policy_id: uuid.UUID, body: PlanChange, request: Request, access: Access = Depends(WRITE_POLICY)
) -> PolicyRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        service.change_plan(uow, policy_id, body, plans(request))
        return _read(uow, _policy(uow, policy_id))


@router.post("/enrollments/{policy_id}/termination", response_model=PolicyRead, summary="Terminate the policy")
def terminate(
    policy_id: uuid.UUID, body: Termination, request: Request, access: Access = Depends(WRITE_POLICY)
) -> PolicyRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        service.terminate(uow, policy_id, body)
        return _read(uow, _policy(uow, policy_id))


@router.post("/enrollments/{policy_id}/reinstatement", response_model=PolicyRead, summary="Undo the last termination")
def reinstate(policy_id: uuid.UUID, request: Request, access: Access = Depends(WRITE_POLICY)) -> PolicyRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        service.reinstate(uow, policy_id)
        return _read(uow, _policy(uow, policy_id))


@router.post("/enrollments/{policy_id}/renewal", response_model=PolicyRead, summary="Open the next plan year")
def renew(
    policy_id: uuid.UUID, body: RenewalCreate, request: Request, access: Access = Depends(WRITE_POLICY)
) -> PolicyRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        service.renew(uow, policy_id, body.plan_code, plans(request))
        return _read(uow, _policy(uow, policy_id))


def _flag_read(flag: UnderwritingFlag) -> UnderwritingFlagRead:
    return UnderwritingFlagRead(
        id=flag.id,
        party_id=flag.party_id,
        flag=flag.flag,
        waiting_period_months=flag.waiting_period_months,
        loading_percent=flag.loading_percent,
        detail=flag.detail,
        diagnosis_codes=list(flag.diagnosis_codes or ()),
        recorded_at=flag.recorded_at,
        withdrawn_at=flag.withdrawn_at,
        withdrawal_reason=flag.withdrawal_reason,
        withdrawal_note=flag.withdrawal_note,
    )


@router.post(
    "/enrollments/{policy_id}/underwriting-flags",
    status_code=201,
    response_model=UnderwritingFlagRead,
    summary="Record a medical-underwriting finding on a person of a sum-insured policy",
)
def flag_underwriting(
    policy_id: uuid.UUID, body: UnderwritingFlagCreate, request: Request, access: Access = Depends(WRITE_UNDERWRITING)
) -> UnderwritingFlagRead:
    """A declared pre-existing disease (with its ICD-10-CM codes and waiting period), a named illness,
    an exclusion or a premium loading. Claims applies a pre-existing disease's waiting period to the
    codes it names from the next claim on (``enrollment.underwriting.flagged``)."""
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        _policy(uow, policy_id)
        flag = service.flag_underwriting(
            uow,
            policy_id,
            party_id=body.party_id,
            flag=body.flag,
            waiting_period_months=body.waiting_period_months,
            loading_percent=body.loading_percent,
            detail=body.detail,
            diagnosis_codes=body.diagnosis_codes,
        )
        # The finding commits with its own record: which finding, on which policy (never what it says).
        record = access.audit_record(resource_id=str(flag.id), detail={"policyId": str(policy_id)})
        platform_of(request).audit.append(uow.session.connection(), [record])
        return _flag_read(flag)


@router.get(
    "/enrollments/{policy_id}/underwriting-flags",
    response_model=list[UnderwritingFlagRead],
    summary="The medical-underwriting findings on a policy's people",
)
def underwriting_flags(
    policy_id: uuid.UUID, request: Request, access: Access = Depends(READ_UNDERWRITING)
) -> list[UnderwritingFlagRead]:
    """Withdrawn findings too (``withdrawn_at`` set): the record of what was found and undone."""
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        _policy(uow, policy_id)
        flags = EnrollmentRepository(uow).underwriting_flags(policy_id)
        return [_flag_read(f) for f in sorted(flags, key=lambda f: (f.recorded_at, f.id))]


@router.post(
    "/enrollments/{policy_id}/underwriting-flags/{flag_id}/withdrawal",
    response_model=UnderwritingFlagRead,
    summary="Withdraw an underwriting finding recorded by mistake (it stays on record, marked withdrawn)",
)
def withdraw_underwriting(
    policy_id: uuid.UUID,
    flag_id: uuid.UUID,
    body: UnderwritingWithdrawal,
    request: Request,
    access: Access = Depends(WRITE_UNDERWRITING),
) -> UnderwritingFlagRead:
    """The finding no longer applies: claims stops applying its waiting period from the next claim
    on (``enrollment.underwriting.withdrawn``). Unknown here (or another policy's): 404; already
    withdrawn: 409."""
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        flag = service.withdraw_underwriting(uow, policy_id, flag_id, reason=body.reason, note=body.note)
        # The withdrawal commits with its own record: which finding, and the reason's code (never the note).
        record = access.audit_record(
            resource_id=str(flag.id), detail={"policyId": str(policy_id), "withdrawalReason": body.reason.value}
        )
        platform_of(request).audit.append(uow.session.connection(), [record])
        return _flag_read(flag)


@router.post(
    "/enrollments/{policy_id}/cobra-events",
    status_code=201,
    response_model=list[CobraCaseRead],
    summary="Record a COBRA qualifying event: group cover ends, each qualified beneficiary is sent a notice",
)
def record_cobra_event(
    policy_id: uuid.UUID, body: CobraEventCreate, request: Request, access: Access = Depends(WRITE_POLICY)
) -> list[CobraCaseRead]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        cases = service.record_cobra_event(uow, policy_id, body, plans(request))
        platform_of(request).audit.append(uow.session.connection(), [access.audit_record(resource_id=str(policy_id))])
        return [CobraCaseRead.model_validate(c) for c in cases]


@router.get(
    "/enrollments/{policy_id}/cobra-cases",
    response_model=list[CobraCaseRead],
    summary="The qualified beneficiaries of a group policy's COBRA events and their elections",
)
def cobra_cases(policy_id: uuid.UUID, request: Request, access: Access = Depends(READ_POLICY)) -> list[CobraCaseRead]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return [CobraCaseRead.model_validate(c) for c in service.cobra_cases(uow, policy_id)]


@router.post(
    "/enrollments/{policy_id}/cobra-elections",
    status_code=201,
    response_model=PolicyRead,
    summary="Qualified beneficiaries elect COBRA continuation: the new continuation policy",
)
def elect_cobra(
    policy_id: uuid.UUID, body: CobraElection, request: Request, access: Access = Depends(WRITE_POLICY)
) -> PolicyRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        cobra = service.elect_cobra(uow, policy_id, body, plans(request))
        platform_of(request).audit.append(uow.session.connection(), [access.audit_record(resource_id=str(policy_id))])
        return _read(uow, cobra)


@router.post(
    "/enrollments/{policy_id}/cobra-disability",
    response_model=list[CobraCaseRead],
    summary="A Social Security disability determination: an 18-month continuation extended to 29 months",
)
def record_cobra_disability(
    policy_id: uuid.UUID, body: CobraDisabilityCreate, request: Request, access: Access = Depends(WRITE_POLICY)
) -> list[CobraCaseRead]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        cases = service.record_cobra_disability(uow, policy_id, body, plans(request))
        platform_of(request).audit.append(uow.session.connection(), [access.audit_record(resource_id=str(policy_id))])
        return [CobraCaseRead.model_validate(c) for c in cases]


@router.post(
    "/enrollments/{policy_id}/cobra-second-events",
    response_model=list[CobraCaseRead],
    summary="A second qualifying event: a spouse's or child's continuation extended to 36 months",
)
def record_cobra_second_event(
    policy_id: uuid.UUID, body: CobraSecondEventCreate, request: Request, access: Access = Depends(WRITE_POLICY)
) -> list[CobraCaseRead]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        cases = service.record_cobra_second_event(uow, policy_id, body, plans(request))
        platform_of(request).audit.append(uow.session.connection(), [access.audit_record(resource_id=str(policy_id))])
        return [CobraCaseRead.model_validate(c) for c in cases]


@router.post(
    "/enrollments/{policy_id}/cobra-ends",
    response_model=CobraCaseRead,
    summary="Continuation ends early: other group cover or Medicare after the election",
)
def end_cobra(
    policy_id: uuid.UUID, body: CobraEndCreate, request: Request, access: Access = Depends(WRITE_POLICY)
) -> CobraCaseRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        case = service.end_cobra(uow, policy_id, body, plans(request))
        platform_of(request).audit.append(uow.session.connection(), [access.audit_record(resource_id=str(policy_id))])
        return CobraCaseRead.model_validate(case)


@router.get(
    "/cobra-cases/{case_id}/notice.pdf",
    summary="A qualified beneficiary's COBRA election notice, as printed (PDF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def cobra_notice(
    case_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("cobra_notice.read", resource=path("case_id"))),
) -> Response:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        pdf = service.cobra_notice(uow, case_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'attachment; filename="cobra-election-notice.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/members/{party_id}/coverage", response_model=list[CoverageRead], summary="Coverage on a date")
def coverage(
    party_id: uuid.UUID,
    request: Request,
    on: Annotated[date, Query(description="the date of interest")],
    as_known_at: Annotated[datetime | None, Query(alias="asKnownAt", description="answer as it stood then")] = None,
    access: Access = Depends(policy("member.read", resource=path("party_id"))),
) -> list[CoverageRead]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return [
            CoverageRead(
                policy_id=c.policy.id,
                policy_number=c.policy.policy_number,
                policy_status=c.policy.status,
                plan_id=c.term.plan_id,
                plan_code=c.term.plan_code,
                relationship=Relationship(c.element.relationship),
                member_number=c.element.member_number,
                valid_from=c.span.valid_from,
                valid_to=c.span.valid_to,
            )
            for c in service.coverage_on(uow, party_id, on, as_known_at=as_known_at)
        ]
