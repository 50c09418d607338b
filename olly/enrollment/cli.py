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
from olly.enrollment.rules import CobraEvent
from olly.enrollment.schemas import CobraElection, CobraEventCreate
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


def _cases_table(cases: list[CobraCase]) -> Table:
    """Ids, relationships and dates only: no names (PHI) on the operator's screen."""
    table = Table("case", "person", "relationship", "event", "loss of cover", "elect by", "covered to", "status")
    for case in cases:
        table.add_row(
            str(case.id),
            str(case.party_id),
            case.relationship,
            case.qualifying_event,
            case.loss_date.isoformat(),
            case.election_deadline.isoformat(),
            case.continuation_end.isoformat(),
            case.status,
        )
    return table


@app.command("cobra-event")
def cobra_event(
    policy: Annotated[str, typer.Argument(help="the group policy id")],
    event: Annotated[CobraEvent, typer.Option(help="the qualifying event")],
    event_date: Annotated[str, typer.Option("--date", help="the event's date, YYYY-MM-DD")],
    person: Annotated[str | None, typer.Option(help="the dependent who loses cover (divorce, aging out)")] = None,
) -> None:
    """Record a qualifying event: group cover ends, each qualified beneficiary is sent a notice."""
    policy_id = _uuid(policy, "POLICY")
    try:
        day = date.fromisoformat(event_date)
    except ValueError:
        err.print("[bold red]error:[/] --date must be a date, YYYY-MM-DD")
        raise typer.Exit(2) from None
    data = CobraEventCreate(event=event, event_date=day, party_id=_uuid(person, "--person") if person else None)
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
        (term,) = EnrollmentRepository(uow).terms(cobra.id)
        premium = Money(term.total_premium_minor, term.currency).to_decimal_string()
        return (
            f"COBRA policy {cobra.policy_number} ({cobra.id}): {term.plan_code} {term.tier_code}, "
            f"from {term.period_start.isoformat()}, {premium} {term.currency} a month, billed to account "
            f"{cobra.account_id}"
        )

    out.print(_in_unit_of_work(elect), highlight=False)
