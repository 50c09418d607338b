"""Employer roster import: registers people (policy_admin) and enrols them (enrollment), row by row.

It spans two domains, so it lives above them, like the app and the demo: each row is one unit of
work that either commits everything it did or nothing.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import Market, QualifyingEvent, Relationship
from olly.enrollment.schemas import DependentAdd, EnrollmentCreate
from olly.kernel.errors import BusinessRuleViolation, Conflict, FieldError, OllyError, ValidationFailed
from olly.platform.auth import Access, path, policy
from olly.platform.db import UnitOfWork
from olly.platform.http import platform_of
from olly.policy_admin import public as people
from olly.policy_admin import service as policy_admin
from olly.policy_admin.schemas import IndividualCreate

E = TypeVar("E", bound=StrEnum)

ROSTER_COLUMNS = (
    "employee_id",
    "relationship",
    "given_name",
    "family_name",
    "birth_date",
    "ssn",
    "email",
    "phone",
    "plan_code",
    "effective_date",
    "qualifying_event",
    "event_date",
)


@dataclass(frozen=True, slots=True)
class RosterFailure:
    row: int
    """1-based data row number (the header is row 0)."""
    employee_id: str
    errors: tuple[FieldError, ...]


@dataclass(frozen=True, slots=True)
class RosterReport:
    rows: int
    enrolled_employees: int
    added_dependents: int
    failures: tuple[RosterFailure, ...]

    def failures_csv(self) -> str:
        """The rows that failed and why: row number, employee id, field and message — never values."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["row", "employee_id", "field", "problem"])
        for failure in self.failures:
            for error in failure.errors:
                writer.writerow([failure.row, failure.employee_id, error.field, error.message])
        return out.getvalue()


def import_roster(
    open_uow: Callable[[], UnitOfWork],
    account_id: uuid.UUID,
    csv_text: str,
    plans: enrollment.PlanCatalog,
    *,
    own_people_only: bool = False,
) -> RosterReport:
    """Enrol an employer's roster. Each row commits on its own or not at all; employees come before
    their dependents (a dependent row whose employee failed fails too, saying so). With
    ``own_people_only`` (an employer administrator's upload), a person found by SSN must be one the
    group covers or covered, or its administrators registered (docs/security.md)."""
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    missing = [c for c in ROSTER_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed([FieldError("header", f"missing column(s): {', '.join(missing)}", "missing_columns")])
    rows = list(reader)
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["relationship"].strip().upper() != "SELF", i))
    failures: list[RosterFailure] = []
    enrolled = added = 0
    for index in order:
        raw = {k: (v or "").strip() for k, v in rows[index].items() if k is not None}
        employee_id = raw["employee_id"]
        try:
            relationship = _parse(Relationship, raw["relationship"], "relationship")
            effective = _parse_date(raw["effective_date"], "effective_date")
            person = IndividualCreate.model_validate(
                {
                    "given_name": raw["given_name"],
                    "family_name": raw["family_name"],
                    "birth_date": raw["birth_date"],
                    "ssn": raw["ssn"] or None,
                    "email": raw["email"] or None,
                    "phone": raw["phone"] or None,
                }
            )
            if not employee_id:
                raise ValidationFailed([FieldError("employee_id", "is required", "required")])
            with open_uow() as uow:
                party_id = _find_or_register(uow, person, account_id if own_people_only else None)
                if relationship == Relationship.SELF:
                    plan_code = _required(raw["plan_code"], "plan_code")
                    if EnrollmentRepository(uow).policy_for_employee(account_id, employee_id) is not None:
                        raise BusinessRuleViolation("this employee is already enrolled", extra={"field": "employee_id"})
                    policy = enrollment.enroll(
                        uow,
                        EnrollmentCreate(
                            market=Market.GROUP,
                            account_id=account_id,
                            subscriber_party_id=party_id,
                            plan_code=plan_code,
                            effective_date=effective,
                        ),
                        plans,
                    )
                    policy.subscriber_external_id = employee_id
                    enrolled += 1
                else:
                    existing = EnrollmentRepository(uow).policy_for_employee(account_id, employee_id)
                    if existing is None:
                        raise ValidationFailed(
                            [
                                FieldError(
                                    "employee_id",
                                    "no enrolled employee with this id (see that row)",
                                    "unknown_employee",
                                )
                            ]
                        )
                    event = _parse(QualifyingEvent, raw["qualifying_event"] or "OPEN_ENROLLMENT", "qualifying_event")
                    event_date = _parse_date(raw["event_date"], "event_date") if raw["event_date"] else effective
                    enrollment.add_dependent(
                        uow,
                        existing.id,
                        DependentAdd(
                            party_id=party_id, relationship=relationship, qualifying_event=event, event_date=event_date
                        ),
                        plans,
                    )
                    added += 1
        except ValidationFailed as exc:
            failures.append(RosterFailure(index + 1, employee_id, tuple(exc.errors)))
        except OllyError as exc:
            field = str(exc.extra.get("field", "row"))
            failures.append(RosterFailure(index + 1, employee_id, (FieldError(field, exc.detail, exc.code),)))
        except ValueError as exc:  # pydantic's errors name fields; their inputs are not echoed
            failures.append(RosterFailure(index + 1, employee_id, _pydantic_errors(exc)))
    failures.sort(key=lambda f: f.row)
    return RosterReport(len(rows), enrolled, added, tuple(failures))


def _find_or_register(uow: UnitOfWork, person: IndividualCreate, only_of_group: uuid.UUID | None) -> uuid.UUID:
    if person.ssn:
        known = people.find_by_ssn(uow, person.ssn)
        if known is not None and only_of_group is not None and not _of_group(uow, known, only_of_group):
            # Enrolled, a stranger found by an SSN alone would become readable by the employer: to
            # it the SSN is taken, as ``POST /parties/individuals`` answers.
            raise Conflict("a person with this SSN is already registered", extra={"field": "ssn"})
        if known is not None:
            return known
    return policy_admin.register_individual(uow, person).id


def _of_group(uow: UnitOfWork, party_id: uuid.UUID, group_account_id: uuid.UUID) -> bool:
    return bool(
        people.registered_for_groups(uow, [party_id], [group_account_id])
        | enrollment_public.covered_in_groups(uow, [party_id], [group_account_id])
    )


def _required(value: str, field: str) -> str:
    if not value:
        raise ValidationFailed([FieldError(field, "is required", "required")])
    return value


def _parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(_required(value, field))
    except ValueError:
        raise ValidationFailed([FieldError(field, "must be a date as YYYY-MM-DD", "invalid_date")]) from None


def _parse(kind: type[E], value: str, field: str) -> E:
    try:
        return kind(value.upper())
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ValidationFailed([FieldError(field, f"must be one of {allowed}", "invalid_choice")]) from None


def _pydantic_errors(exc: ValueError) -> tuple[FieldError, ...]:
    if isinstance(exc, ValidationError):
        return tuple(
            FieldError(".".join(str(p) for p in e["loc"]), str(e["msg"]), str(e["type"])) for e in exc.errors()
        )
    return (FieldError("row", "could not be read", "invalid_row"),)


router = APIRouter(prefix="/api/v1", tags=["enrollment"])
MAX_ROSTER_BYTES = 20 * 1024 * 1024


@router.post(
    "/accounts/{account_id}/roster",
    summary="Import an employer roster (CSV); each row is atomic",
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def upload_roster(
    account_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("roster.write", resource=path("account_id"))),
) -> Response:
    """Enrollment specialists for any group, employer administrators for their own (a household
    account has no roster: 404)."""
    body = await request.body()
    if len(body) > MAX_ROSTER_BYTES:
        raise ValidationFailed([FieldError("body", "a roster may be at most 20 MB", "too_large")])
    try:
        csv_text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed([FieldError("body", "must be UTF-8 text", "invalid_encoding")]) from None
    platform = platform_of(request)
    tenant = access.principal.tenant_id
    report = await run_in_threadpool(
        lambda: import_roster(
            lambda: platform.db.unit_of_work(tenant),
            account_id,
            csv_text,
            request.app.state.plan_catalog,
            own_people_only=not access.scope.everything,
        )
    )
    if "text/csv" in request.headers.get("accept", ""):
        return Response(
            report.failures_csv(),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="roster-failures.csv"'},
        )
    return JSONResponse(
        {
            "rows": report.rows,
            "enrolledEmployees": report.enrolled_employees,
            "addedDependents": report.added_dependents,
            "failures": [
                {"row": f.row, "employeeId": f.employee_id, "errors": [e.as_dict() for e in f.errors]}
                for f in report.failures
            ],
        }
    )
