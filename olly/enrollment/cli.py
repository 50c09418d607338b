"""``olly enrollment …``: COBRA qualifying events, the beneficiaries' cases and their elections."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from olly.enrollment import service
from olly.enrollment.models import CobraCase
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import CobraEnd, CobraEvent, CobraSecondEvent
from olly.enrollment.schemas import (
    CobraDisabilityCreate,
    CobraElection,
    CobraEndCreate,
    CobraEventCreate,
    CobraSecondEventCreate,
)
from olly.kernel.errors import OllyError, ValidationFailed
from olly.kernel.money import Money
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform, build_platform

app = typer.Typer(help="Enrollment: COBRA qualifying events and elections.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def plan_catalog() -> service.PlanCatalog:
    """The plans domain as enrollment prices with it."""
    from olly.enrollment.plan_catalog import PlansCatalog

    return PlansCatalog()


def _fail(exc: OllyError) -> typer.Exit:
    detail = exc.detail
    if isinstance(exc, ValidationFailed):
        detail = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or detail
    deadline = exc.extra.get("noticeDeadline")
    if deadline is not None and str(deadline) not in (detail or ""):
        detail = f"{detail} (deadline {deadline})"
    err.print(f"[bold red]error[/] ({exc.code}): {detail}", highlight=False)
    return typer.Exit(1)


@contextmanager
def _platform() -> Iterator[Platform]:
    try:
        platform = build_platform()
    except OllyError as exc:
        raise _fail(exc) from None
    try:
        yield platform
    finally:
        platform.close()


def _in_unit_of_work(action: Callable[[UnitOfWork], T]) -> T:
    with _platform() as platform:
        try:
            with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
                return action(uow)
        except OllyError as exc:
            raise _fail(exc) from None


def _uuid(text: str, option: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        err.print(f"[bold red]error:[/] {option} must be a UUID")
        raise typer.Exit(2) from None


def _optional_date(text: str | None, option: str) -> date | None:
    return None if text is None else _date(text, option)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"[bold red]error:[/] {option} must be a date, YYYY-MM-DD")
        raise typer.Exit(2) from None


def _cases_table(cases: list[CobraCase]) -> Table:
    """Ids, relationships, dates and codes only: no names (PHI) on the operator's screen, and not
    which beneficiary is disabled (only that the event's continuation is extended)."""
    table = Table(
        "case",
        "person",
        "relationship",
        "event",
        "notice due",
        "loss of cover",
        "elect by",
        "covered to",
        "extended",
        "disability told by",
        "status",
    )
    for case in cases:
        status = case.status
        if case.ended_on is not None:
            status = f"{case.status} {case.ended_on.isoformat()} ({case.end_reason})"
        table.add_row(
            str(case.id),
            str(case.party_id),
            case.relationship,
            case.qualifying_event,
            _notice_due(case),
            case.loss_date.isoformat(),
            case.election_deadline.isoformat(),
            case.continuation_end.isoformat(),
            _extended(case),
            case.disability_notice_by.isoformat() if case.disability_notice_by else "",
            status,
        )
    return table


def _extended(case: CobraCase) -> str:
    """The extension; for a second event, which one and the day it had to be told by."""
    if case.second_event is None or case.second_event_notice_deadline is None:
        return case.extension or ""
    return f"{case.extension} ({case.second_event}, told by {case.second_event_notice_deadline.isoformat()})"


def _notice_due(case: CobraCase) -> str:
    """The notice's deadline, and who was late: the administrator (notice) or the employer."""
    if case.notice_due is None:
        return ""
    late = [who for who, was in (("notice", case.is_notice_late), ("employer", case.is_employer_notice_late)) if was]
    return case.notice_due.isoformat() + (f" (late: {', '.join(late)})" if late else "")


@app.command("cobra-event")
def cobra_event(
    policy: Annotated[str, typer.Argument(help="the group policy id")],
    event: Annotated[CobraEvent, typer.Option(help="the qualifying event")],
    event_date: Annotated[str, typer.Option("--date", help="the event's date, YYYY-MM-DD")],
    person: Annotated[str | None, typer.Option(help="the dependent who loses cover (divorce, aging out)")] = None,
    medicare_entitlement: Annotated[
        str | None, typer.Option(help="the employee's Medicare entitlement date, when before the event")
    ] = None,
    employer_notified: Annotated[
        str | None, typer.Option(help="the day the employer told the plan administrator, YYYY-MM-DD")
    ] = None,
) -> None:
    """Record a qualifying event: group cover ends, each qualified beneficiary is sent a notice."""
    policy_id = _uuid(policy, "POLICY")
    day = _date(event_date, "--date")
    data = CobraEventCreate(
        event=event,
        event_date=day,
        party_id=_uuid(person, "--person") if person else None,
        employee_medicare_entitlement_date=_optional_date(medicare_entitlement, "--medicare-entitlement"),
        employer_notified_on=_optional_date(employer_notified, "--employer-notified"),
    )
    cases = _in_unit_of_work(lambda uow: service.record_cobra_event(uow, policy_id, data, plan_catalog()))
    out.print(f"{len(cases)} qualified beneficiar{'y' if len(cases) == 1 else 'ies'} sent an election notice")
    out.print(_cases_table(cases))


@app.command("cobra-cases")
def cobra_cases(policy: Annotated[str, typer.Argument(help="the group policy id")]) -> None:
    """The qualified beneficiaries of a group policy's qualifying events and their elections."""
    policy_id = _uuid(policy, "POLICY")
    out.print(_cases_table(_in_unit_of_work(lambda uow: service.cobra_cases(uow, policy_id))))


@app.command("cobra-elect")
def cobra_elect(
    policy: Annotated[str, typer.Argument(help="the group policy id")],
    person: Annotated[list[str], typer.Option(help="a qualified beneficiary who elects (repeat for several)")],
    account: Annotated[str | None, typer.Option(help="the household account to bill (default: a new one)")] = None,
) -> None:
    """Record qualified beneficiaries' election of continuation coverage."""
    policy_id = _uuid(policy, "POLICY")
    data = CobraElection(
        party_ids=[_uuid(p, "--person") for p in person], account_id=_uuid(account, "--account") if account else None
    )

    def elect(uow: UnitOfWork) -> str:
        cobra = service.elect_cobra(uow, policy_id, data, plan_catalog())
        term = EnrollmentRepository(uow).terms(cobra.id)[0]
        premium = Money(term.total_premium_minor, term.currency).to_decimal_string()
        return (
            f"COBRA policy {cobra.policy_number} ({cobra.id}): {term.plan_code} {term.tier_code}, "
            f"from {term.period_start.isoformat()}, {premium} {term.currency} a month, billed to account "
            f"{cobra.account_id}"
        )

    out.print(_in_unit_of_work(elect), highlight=False)


@app.command("cobra-disability")
def cobra_disability(
    policy: Annotated[str, typer.Argument(help="the group policy id")],
    person: Annotated[str, typer.Option(help="the disabled qualified beneficiary")],
    disabled_since: Annotated[str, typer.Option(help="the disability's onset found by Social Security, YYYY-MM-DD")],
    determined: Annotated[str, typer.Option(help="the date of Social Security's determination, YYYY-MM-DD")],
) -> None:
    """Record a Social Security disability determination: the event's continuation runs 29 months."""
    policy_id = _uuid(policy, "POLICY")
    since, on = _date(disabled_since, "--disabled-since"), _date(determined, "--determined")
    data = CobraDisabilityCreate(party_id=_uuid(person, "--person"), disabled_since=since, determined_on=on)
    cases = _in_unit_of_work(lambda uow: service.record_cobra_disability(uow, policy_id, data, plan_catalog()))
    out.print(_cases_table(cases))


@app.command("cobra-second-event")
def cobra_second_event(
    policy: Annotated[str, typer.Argument(help="the group policy id")],
    event: Annotated[CobraSecondEvent, typer.Option(help="the second qualifying event")],
    event_date: Annotated[str, typer.Option("--date", help="the event's date, YYYY-MM-DD")],
    person: Annotated[list[str], typer.Option(help="a spouse or child it concerns (repeat for several)")],
    account: Annotated[
        str | None, typer.Option(help="the household account if they leave the employee's policy")
    ] = None,
    group_cover_ends: Annotated[
        bool | None,
        typer.Option(
            "--group-cover-ends/--group-cover-continues",
            help="MEDICARE_ENTITLEMENT only (required then): the group plan ends a spouse's and children's cover "
            "when the employee becomes entitled to Medicare, or not",
        ),
    ] = None,
) -> None:
    """Record a second qualifying event: the spouse's or children's continuation runs 36 months."""
    policy_id = _uuid(policy, "POLICY")
    day = _date(event_date, "--date")
    data = CobraSecondEventCreate(
        event=event,
        event_date=day,
        party_ids=[_uuid(p, "--person") for p in person],
        account_id=_uuid(account, "--account") if account else None,
        group_cover_would_end=group_cover_ends,
    )
    cases = _in_unit_of_work(lambda uow: service.record_cobra_second_event(uow, policy_id, data, plan_catalog()))
    out.print(_cases_table(cases))


@app.command("cobra-end")
def cobra_end(
    policy: Annotated[str, typer.Argument(help="the group policy id")],
    person: Annotated[str, typer.Option(help="the beneficiary whose continuation ends")],
    reason: Annotated[CobraEnd, typer.Option(help="why it ends")],
    event_date: Annotated[str, typer.Option("--date", help="the first day of the other cover or of Medicare")],
    end_date: Annotated[
        str | None, typer.Option(help="the last day (the end of its month); default this month")
    ] = None,
    account: Annotated[str | None, typer.Option(help="the household account for those who stay")] = None,
) -> None:
    """End a beneficiary's continuation early (other group cover or Medicare after the election)."""
    policy_id = _uuid(policy, "POLICY")
    day = _date(event_date, "--date")
    data = CobraEndCreate(
        party_id=_uuid(person, "--person"),
        reason=reason,
        event_date=day,
        end_date=_optional_date(end_date, "--end-date"),
        account_id=_uuid(account, "--account") if account else None,
    )
    case = _in_unit_of_work(lambda uow: service.end_cobra(uow, policy_id, data, plan_catalog()))
    out.print(_cases_table([case]))
