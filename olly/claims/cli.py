"""``olly claims …``: submit a claim from a JSON file, show a claim with its result, list the review queue,
back-fill claims' coverage read model."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from olly.claims import backfill, repository, service
from olly.claims.api import claim_view
from olly.claims.schemas import ClaimCreate
from olly.kernel.errors import OllyError
from olly.kernel.money import Money
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform, build_platform

app = typer.Typer(help="Claims: submit, show, review queue.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(1)


def _platform() -> Platform:
    try:
        return build_platform()
    except OllyError as exc:
        raise _fail(exc.detail) from None


@app.command("submit")
def submit(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a ClaimCreate JSON document")],
    idempotency_key: Annotated[str | None, typer.Option(help="same key and file: the first answer again")] = None,
) -> None:
    """Submit a claim (as ``POST /api/v1/claims`` does); the worker adjudicates it."""
    try:
        data = ClaimCreate.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    platform = _platform()
    try:
        with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
            submission = service.submit(uow, data, source="CLI", idempotency_key=idempotency_key)
    except OllyError as exc:
        raise _fail(exc.detail) from None
    finally:
        platform.close()
    out.print_json(json.dumps(submission.answer()))


@app.command("show")
def show(
    claim_id: Annotated[str, typer.Argument(help="the claim id")],
    trace: Annotated[bool, typer.Option(help="include every step of every line")] = False,
) -> None:
    """Print a claim's status and result (lines, amounts, adjustments)."""
    try:
        parsed = uuid.UUID(claim_id)
    except ValueError:
        raise _fail("not a claim id") from None
    platform = _platform()
    try:
        with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
            view = claim_view(uow, parsed, with_trace=trace)
    except OllyError as exc:
        raise _fail(exc.detail) from None
    finally:
        platform.close()
    out.print_json(json.dumps(view))


@app.command("review")
def review(
    pend_reason: Annotated[str | None, typer.Option(help="only claims pended for this reason")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """List pended claims, oldest first."""
    platform = _platform()
    try:
        with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
            rows = repository.ClaimsRepository(uow).review_queue(
                status="PENDED", pend_reason=pend_reason, member_id=None, limit=limit, offset=0
            )
            table = Table("claim", "received", "billed", "pend reasons", "queue")
            for row in rows:
                billed = Money(row.total_billed_minor, row.currency).to_decimal_string()
                table.add_row(str(row.id), row.received_at.isoformat(), billed, ", ".join(row.pend_reasons), row.queue)
    finally:
        platform.close()
    out.print(table)


def _in_batches(
    label: str,
    ids_of: Callable[[UnitOfWork], list[uuid.UUID]],
    copy: Callable[[UnitOfWork, list[uuid.UUID]], object],
    batch_size: int,
) -> None:
    """Read the ids to copy, then copy them ``batch_size`` to a transaction under a progress bar."""
    platform = _platform()
    try:
        tenant = platform.settings.default_tenant_id
        with platform.db.unit_of_work(tenant, read_only=True) as uow:
            ids = ids_of(uow)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
        ) as progress:
            task = progress.add_task(label, total=len(ids))
            for start in range(0, len(ids), batch_size):
                batch = ids[start : start + batch_size]
                with platform.db.unit_of_work(tenant) as uow:
                    copy(uow, batch)
                progress.advance(task, len(batch))
    except OllyError as exc:
        raise _fail(exc.detail) from None
    finally:
        platform.close()


@app.command("backfill-coverage")
def backfill_coverage(
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="policies committed per transaction")] = 200,
) -> None:
    """Copy every active or ended policy's coverage from enrollment into claims' read model (with the
    plans' schedules), for coverage older than claims or than a field claims now copies. Idempotent."""
    report = backfill.BackfillReport()
    _in_batches("policies", backfill.policies, lambda uow, batch: backfill.backfill(uow, batch, report), batch_size)
    out.print(
        f"{report.policies} policies: coverage of {report.members} member(s) copied "
        f"({report.added} new to claims); {len(report.schedules)} plan schedule(s) refreshed",
        soft_wrap=True,
    )


@app.command("backfill-providers")
def backfill_providers(
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="providers committed per transaction")] = 200,
) -> None:
    """Copy every registered provider's credentialing, network standing and contract periods with
    their rates from the provider registry into claims' read model, for providers older than claims
    or whose events claims never consumed. Idempotent."""
    report = backfill.ProviderBackfillReport()
    _in_batches(
        "providers",
        backfill.providers,
        lambda uow, batch: backfill.backfill_providers(uow, batch, uow.clock.today(), report),
        batch_size,
    )
    if report.on is None:
        out.print("no provider is registered: nothing to copy")
        return
    out.print(
        f"{report.providers} provider(s) copied ({report.added} new to claims), "
        f"{report.in_network} in network on {report.on.isoformat()}",
        soft_wrap=True,
    )
