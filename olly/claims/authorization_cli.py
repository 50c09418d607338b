"""``olly claims prior-auth …`` and ``olly claims appeals …``: the two queues, and the overdue sweep.

The listings show ids, statuses and times only (no diagnoses, notes or reasons): the API, with its
access checks and audit, is where a reviewer reads a case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from olly.claims import appeals, prior_auth
from olly.claims.jobs import escalate_overdue_prior_auths
from olly.kernel.errors import OllyError
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform, build_platform

app = typer.Typer(help="Claims: prior authorisations and appeals.", no_args_is_help=True)
prior_auth_app = typer.Typer(help="Prior-authorisation queue.", no_args_is_help=True)
appeals_app = typer.Typer(help="Appeals queue.", no_args_is_help=True)
app.add_typer(prior_auth_app, name="prior-auth")
app.add_typer(appeals_app, name="appeals")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


@contextmanager
def _platform() -> Iterator[Platform]:
    try:
        platform = build_platform()
    except OllyError as exc:
        err.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(1) from None
    try:
        yield platform
    finally:
        platform.close()


def _in_unit_of_work(action: Callable[[UnitOfWork], T], *, read_only: bool = False) -> T:
    with _platform() as platform:
        try:
            with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=read_only) as uow:
                return action(uow)
        except OllyError as exc:
            err.print(f"[bold red]error:[/] {exc.detail}")
            raise typer.Exit(1) from None


@prior_auth_app.command("queue")
def prior_auth_queue(
    status: Annotated[prior_auth.PriorAuthStatus | None, typer.Option(help="only this status")] = None,
    overdue: Annotated[bool | None, typer.Option("--overdue/--not-overdue", help="undecided past due, or not")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """Requests by decision due time, soonest first."""

    def rows(uow: UnitOfWork) -> list[tuple[str, ...]]:
        return [
            (
                str(v.request.id),
                v.request.status,
                "expedited" if v.request.expedited else "standard",
                v.request.received_at.isoformat(),
                v.request.decision_due_at.isoformat(),
                "OVERDUE" if v.overdue else ("late" if v.decided_late else ""),
            )
            for v in prior_auth.queue(uow, status=status, overdue=overdue, limit=limit)
        ]

    table = Table("id", "status", "urgency", "received", "due", "")
    for row in _in_unit_of_work(rows, read_only=True):
        table.add_row(*row)
    out.print(table)


@prior_auth_app.command("escalate-overdue")
def escalate_overdue() -> None:
    """Escalate undecided requests past due now (the scheduled job does this every 5 minutes)."""
    count = _in_unit_of_work(escalate_overdue_prior_auths)
    out.print(f"{count} request(s) escalated")


@appeals_app.command("queue")
def appeals_queue(
    status: Annotated[appeals.AppealStatus | None, typer.Option(help="only this status")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """Appeals by decision due time, soonest first."""

    def rows(uow: UnitOfWork) -> list[tuple[str, ...]]:
        now = uow.clock.now()
        return [
            (
                str(a.id),
                str(a.claim_id),
                a.status,
                a.filed_at.isoformat(),
                a.decision_due_at.isoformat(),
                "OVERDUE" if appeals.is_overdue(a, now) else "",
            )
            for a in appeals.queue(uow, status=status, limit=limit)
        ]

    table = Table("id", "claim", "status", "filed", "due", "")
    for row in _in_unit_of_work(rows, read_only=True):
        table.add_row(*row)
    out.print(table)
