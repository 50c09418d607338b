"""The employer portal: the group's roster, adding and terminating employees and dependents, the
CSV import with its error report, the group's invoices (list bills) and payments.

Writes go through the same services the enrollment API and the roster import use, each in one
unit of work; the access policies are the API's (``roster.*`` of the caller's own group,
``enrollment.*`` of the policy in the path).
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from olly import roster
from olly.billing import api as billing_api
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.rules import QualifyingEvent, Relationship, TerminationReason
from olly.enrollment.schemas import DependentAdd, Termination
from olly.kernel.errors import FieldError, NotFound, OllyError, ValidationFailed
from olly.platform.auth import SELF, Access, path, policy
from olly.platform.db import UnitOfWork
from olly.platform.http import platform_of
from olly.policy_admin import public as people
from olly.policy_admin import service as policy_admin
from olly.policy_admin.schemas import IndividualCreate
from olly.web.payments import render_payments
from olly.web.rendering import PORTAL_TAG, outside, redirect, render

router = APIRouter(prefix="/employer", tags=[PORTAL_TAG], include_in_schema=False)

DEPENDENT_RELATIONSHIPS = (Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER, Relationship.CHILD)
MAX_UPLOAD_BYTES = roster.MAX_ROSTER_BYTES


def _group(access: Access) -> uuid.UUID:
    if access.principal.group_account_id is None:
        raise NotFound("this account is not linked to an employer group")
    return access.principal.group_account_id


def _people_of(uow: UnitOfWork, policy_id: uuid.UUID) -> list[dict[str, Any]]:
    """One row per person and plan: a repricing (a dependent added or removed) splits everyone's
    coverage at its date into two terms of the same plan, which the employer sees as one stretch."""
    rows: list[dict[str, Any]] = []
    facts = sorted(enrollment_public.coverage_facts(uow, policy_id), key=lambda f: (str(f.party_id), f.valid_from))
    names: dict[uuid.UUID, str] = {}
    for fact in facts:
        last = rows[-1] if rows else None
        if (
            last is not None
            and last["party_id"] == fact.party_id
            and last["plan_code"] == fact.plan_code
            and last["valid_to"] is not None
            and last["valid_to"] + timedelta(days=1) == fact.valid_from
        ):
            last["valid_to"] = fact.valid_to
            continue
        if fact.party_id not in names:
            person = people.person(uow, fact.party_id)
            names[fact.party_id] = person.display_name if person else "—"
        rows.append(
            {
                "party_id": fact.party_id,
                "name": names[fact.party_id],
                "relationship": fact.relationship,
                "member_number": fact.member_number,
                "plan_code": fact.plan_code,
                "valid_from": fact.valid_from,
                "valid_to": fact.valid_to,
            }
        )
    rows.sort(key=lambda r: (r["relationship"] != "SELF", r["name"], r["valid_from"]))
    return rows


@router.get("")
def roster_page(request: Request, access: Access = Depends(policy("roster.read", resource=SELF))) -> Response:
    group = _group(access)
    employees = []
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        for policy_id in enrollment_public.policies_of_account(uow, group):
            summary = enrollment_public.policy(uow, policy_id)
            if summary is None:
                continue
            covered = _people_of(uow, policy_id)
            subscriber = next((p for p in covered if p["relationship"] == "SELF"), None)
            employees.append(
                {
                    "policy": summary,
                    "name": subscriber["name"] if subscriber else "—",
                    "plan_code": subscriber["plan_code"] if subscriber else "—",
                    "dependents": len({p["party_id"] for p in covered if p["relationship"] != "SELF"}),
                }
            )
    employees.sort(key=lambda e: str(e["name"]))
    return render(request, "employer/roster.html", {"employees": employees, "portal": "employer"})


@router.get("/policies/{policy_id}")
def employee_page(
    policy_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("enrollment.read", resource=path("policy_id"))),
) -> Response:
    return _employee(request, access, policy_id)


def _employee(
    request: Request, access: Access, policy_id: uuid.UUID, errors: list[FieldError] | None = None, status: int = 200
) -> Response:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        summary = enrollment_public.policy(uow, policy_id)
        covered = _people_of(uow, policy_id)
    if summary is None:
        raise NotFound("no such resource")
    return render(
        request,
        "employer/employee.html",
        {
            "policy": summary,
            "covered": covered,
            "relationships": DEPENDENT_RELATIONSHIPS,
            "events": list(QualifyingEvent),
            "reasons": list(TerminationReason),
            "errors": errors or [],
            "saved": request.query_params.get("saved"),
            "portal": "employer",
        },
        status_code=status,
    )


def _errors_of(exc: Exception) -> list[FieldError]:
    if isinstance(exc, ValidationFailed):
        return list(exc.errors)
    if isinstance(exc, OllyError):
        return [FieldError(str(exc.extra.get("field", "form")), exc.detail, exc.code)]
    return list(roster._pydantic_errors(exc)) if isinstance(exc, ValueError) else []


@router.post("/policies/{policy_id}/dependents")
def add_dependent(
    policy_id: uuid.UUID,
    request: Request,
    given_name: Annotated[str, Form(max_length=80)],
    family_name: Annotated[str, Form(max_length=80)],
    birth_date: Annotated[date, Form()],
    relationship: Annotated[Relationship, Form()],
    qualifying_event: Annotated[QualifyingEvent, Form()],
    event_date: Annotated[date, Form()],
    access: Access = Depends(policy("enrollment.write", resource=path("policy_id"))),
) -> Response:
    platform = platform_of(request)
    try:
        person = IndividualCreate(given_name=given_name, family_name=family_name, birth_date=birth_date)
        with platform.db.unit_of_work(access.principal.tenant_id) as uow:
            party_id = policy_admin.register_individual(uow, person).id
            enrollment.add_dependent(
                uow,
                policy_id,
                DependentAdd(
                    party_id=party_id,
                    relationship=relationship,
                    qualifying_event=qualifying_event,
                    event_date=event_date,
                ),
                request.app.state.plan_catalog,
            )
            platform.audit.append(uow.session.connection(), [access.audit_record(resource_id=str(policy_id))])
    except (OllyError, ValueError) as exc:
        return _employee(request, access, policy_id, _errors_of(exc), status=422)
    return redirect(f"/employer/policies/{policy_id}?saved=dependent")


@router.post("/policies/{policy_id}/termination")
def terminate(
    policy_id: uuid.UUID,
    request: Request,
    reason: Annotated[TerminationReason, Form()],
    termination_date: Annotated[date | None, Form()] = None,
    access: Access = Depends(policy("enrollment.write", resource=path("policy_id"))),
) -> Response:
    platform = platform_of(request)
    try:
        with platform.db.unit_of_work(access.principal.tenant_id) as uow:
            enrollment.terminate(uow, policy_id, Termination(reason=reason, termination_date=termination_date))
            platform.audit.append(uow.session.connection(), [access.audit_record(resource_id=str(policy_id))])
    except OllyError as exc:
        return _employee(request, access, policy_id, _errors_of(exc), status=422)
    return redirect(f"/employer/policies/{policy_id}?saved=termination")


@router.get("/employees/new")
def new_employee_form(request: Request, access: Access = Depends(policy("roster.write", resource=SELF))) -> Response:
    return render(request, "employer/new_employee.html", {"report": None, "portal": "employer"})


@router.post("/employees")
async def add_employee(request: Request, access: Access = Depends(policy("roster.write", resource=SELF))) -> Response:
    form = await request.form()
    row = {column: str(form.get(column) or "") for column in roster.ROSTER_COLUMNS}
    row["relationship"] = "SELF"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=roster.ROSTER_COLUMNS)
    writer.writeheader()
    writer.writerow(row)
    # One row through the roster import: the same validation, the same atomic unit of work.
    report = await _import(request, access, out.getvalue())
    if not report.failures:
        return redirect("/employer?added=1")
    return render(request, "employer/new_employee.html", {"report": report, "portal": "employer"}, status_code=422)


async def _import(request: Request, access: Access, text: str) -> roster.RosterReport:
    platform = platform_of(request)
    tenant = access.principal.tenant_id
    return await run_in_threadpool(
        lambda: roster.import_roster(
            lambda: platform.db.unit_of_work(tenant),
            _group(access),
            text,
            request.app.state.plan_catalog,
            own_people_only=not access.scope.everything,
        )
    )


@router.get("/roster/import")
def import_form(request: Request, access: Access = Depends(policy("roster.write", resource=SELF))) -> Response:
    return render(request, "employer/import.html", {"report": None, "error": None, "portal": "employer"})


@router.post("/roster/import")
async def import_roster(
    request: Request, file: UploadFile, access: Access = Depends(policy("roster.write", resource=SELF))
) -> Response:
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    error = None
    report = None
    if len(data) > MAX_UPLOAD_BYTES:
        error = "a roster may be at most 20 MB"
    else:
        try:
            report = await _import(request, access, data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            error = "the file must be UTF-8 text (CSV)"
        except ValidationFailed as exc:
            error = "; ".join(e.message for e in exc.errors)
    return render(
        request,
        "employer/import.html",
        {
            "report": report,
            "error": error,
            "failures_csv": report.failures_csv() if report else "",
            "portal": "employer",
        },
        status_code=200 if error is None else 422,
    )


@router.get("/invoices")
def invoices(request: Request, access: Access = Depends(policy("invoice.read", resource=SELF))) -> Response:
    """The group's list bills through the billing API's own list (the caller's group only), with what
    has been paid on each and what is left."""
    if (elsewhere := outside(access.principal.roles, "/employer")) is not None:
        return elsewhere
    found = billing_api.list_invoices(request, status=None, limit=100, access=access)
    return render(request, "employer/invoices.html", {"invoices": found, "portal": "employer"})


@router.get("/payments")
def payments(request: Request, access: Access = Depends(policy("payment.read", resource=SELF))) -> Response:
    """The group's premium payments (the API's list: the caller's group only), each with the list
    bills it paid or the credit it left; loaded into the invoices page in place (htmx)."""
    return render_payments(request, access, "employer", "employer/payments.html")
