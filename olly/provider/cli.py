"""``olly provider …``: registry import, credentialing actions, timers, fee schedules, contracts, search."""

from __future__ import annotations

import mimetypes
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from olly.kernel.errors import OllyError, ValidationFailed
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform, build_platform
from olly.provider import rules as r
from olly.provider import service, worker

app = typer.Typer(help="Providers: registry, credentialing, contracts, fee schedules, directory.", no_args_is_help=True)
credentialing_app = typer.Typer(help="Credentialing workflow actions.", no_args_is_help=True)
timers_app = typer.Typer(help="Durable credentialing timers.", no_args_is_help=True)
fee_app = typer.Typer(help="Fee schedules.", no_args_is_help=True)
contract_app = typer.Typer(help="Network contracts.", no_args_is_help=True)
app.add_typer(credentialing_app, name="credentialing")
app.add_typer(timers_app, name="timers")
app.add_typer(fee_app, name="fee-schedule")
app.add_typer(contract_app, name="contract")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")
MAX_ERRORS_SHOWN = 50


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(1)


def _explain(exc: OllyError) -> typer.Exit:
    if isinstance(exc, ValidationFailed) and exc.errors:
        table = Table("field", "problem", "code")
        for e in exc.errors[:MAX_ERRORS_SHOWN]:
            table.add_row(e.field, e.message, e.code)
        err.print(table)
        if len(exc.errors) > MAX_ERRORS_SHOWN:
            err.print(f"… and {len(exc.errors) - MAX_ERRORS_SHOWN} more")
    return _fail(exc.detail)


@contextmanager
def _platform() -> Iterator[Platform]:
    try:
        platform = build_platform()
    except OllyError as exc:
        raise _fail(exc.detail) from None
    try:
        yield platform
    finally:
        platform.close()


def _in_unit_of_work(action: Callable[[UnitOfWork], T], *, read_only: bool = False) -> T:
    """Run ``action`` in one unit of work of the default tenant; expected errors exit non-zero."""
    with _platform() as platform:
        try:
            with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=read_only) as uow:
                return action(uow)
        except OllyError as exc:
            raise _explain(exc) from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _fail(f"{path} is not UTF-8 text") from None


# -- registry ------------------------------------------------------------------------------------
@app.command("import")
def import_providers(
    file: Annotated[Path, typer.Argument(help="CSV file (see docs/providers.md for the columns)")],
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="rows committed per transaction")] = 500,
) -> None:
    """Bulk-import providers. Each row is atomic; bad rows are reported and the rest are kept."""
    text = _read_text(file)
    try:
        rows = list(service.read_import_csv(text))
    except ValidationFailed as exc:
        raise _explain(exc) from None
    report = service.ImportReport()
    with _platform() as platform:
        tenant = platform.settings.default_tenant_id
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
        ) as progress:
            task = progress.add_task("importing", total=len(rows))
            for start in range(0, len(rows), batch_size):
                batch = rows[start : start + batch_size]
                try:
                    with platform.db.unit_of_work(tenant) as uow:
                        report.merge(service.import_providers(uow, batch))
                except OllyError as exc:
                    raise _explain(exc) from None
                progress.advance(task, len(batch))
    out.print(
        f"{report.rows} row(s): {report.imported} imported, {report.skipped} already registered, {report.failed} failed"
    )
    if report.errors:
        table = Table("line", "column", "problem", "code")
        for e in report.errors[:MAX_ERRORS_SHOWN]:
            table.add_row(str(e.line), e.field, e.message, e.code)
        err.print(table)
        if len(report.errors) > MAX_ERRORS_SHOWN:
            err.print(f"… and {len(report.errors) - MAX_ERRORS_SHOWN} more")
        raise typer.Exit(1)


@app.command("show")
def show(npi: str) -> None:
    """A provider's registry record and credentialing standing."""

    def action(uow: UnitOfWork) -> None:
        details = service.provider_details(uow, service.find_provider_id(uow, npi))
        p = details.provider
        out.print(f"[bold]{service.provider_name(p)}[/]  NPI {p.npi}  {p.kind}  id {p.id}")
        out.print(f"credentialing: {p.credentialing_status}  recredentialing due: {p.recredentialing_due_on or '-'}")
        out.print("taxonomies: " + ", ".join(t.code + ("*" if t.is_primary else "") for t in details.taxonomies))
        out.print("languages: " + (", ".join(details.languages) or "-"))
        for loc in details.locations:
            out.print(f"location: {loc.address_line1}, {loc.city} {loc.state} {loc.zip}")
        for lic in details.licences:
            out.print(f"licence: {lic.state} {lic.number} expires {lic.expires_on}  id {lic.id}")

    _in_unit_of_work(action, read_only=True)


@app.command("taxonomy")
def taxonomy(words: Annotated[str, typer.Argument(help="code or words")]) -> None:
    """Look up NUCC taxonomy codes."""
    table = Table("code", "specialty", "display name", "section")
    for t in service.search_taxonomies(words, limit=30):
        table.add_row(t.code, t.specialty, t.display_name, t.section)
    out.print(table)


@app.command("search")
def search(
    q: Annotated[str | None, typer.Argument(help="names, specialties, taxonomy")] = None,
    zip_code: Annotated[str | None, typer.Option("--zip")] = None,
    radius: Annotated[float | None, typer.Option(help="miles")] = None,
    language: Annotated[str | None, typer.Option()] = None,
    accepting: Annotated[bool | None, typer.Option("--accepting/--not-accepting")] = None,
    network: Annotated[str | None, typer.Option()] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=50)] = 20,
) -> None:
    """Search the provider directory."""
    query = service.DirectoryQuery(
        text=q,
        zip=zip_code,
        radius_miles=radius,
        language=language.lower() if language else None,
        accepting_new_patients=accepting,
        network=network.upper() if network else None,
        page=page,
        page_size=page_size,
    )
    found = _in_unit_of_work(lambda uow: service.search_directory(uow, query), read_only=True)
    table = Table("name", "specialties", "where", "miles", "languages", "new patients", "networks")
    for x in found.results:
        where = f"{x.city or ''} {x.state or ''} {x.zip or ''}".strip()
        table.add_row(
            x.name,
            ", ".join(x.specialties),
            where,
            f"{x.distance_miles:.1f}" if x.distance_miles is not None else "",
            " ".join(x.languages),
            "yes" if x.accepting_new_patients else "no",
            ", ".join(f"{n}/{t}" for n, t in x.networks),
        )
    out.print(table)
    out.print(f"{found.total}{'' if found.total_is_exact else '+'} match(es); page {found.page}")


# -- credentialing -------------------------------------------------------------------------------
@credentialing_app.command("open")
def credentialing_open(npi: str) -> None:
    """Open a credentialing application (initial or recredentialing)."""
    request = _in_unit_of_work(lambda uow: service.open_credentialing(uow, service.find_provider_id(uow, npi)))
    out.print(f"{request.kind} request {request.id} opened")


@credentialing_app.command("document")
def credentialing_document(
    request_id: uuid.UUID,
    kind: Annotated[r.DocumentKind, typer.Option()],
    file: Annotated[Path, typer.Option(help="the received file: PDF, JPEG or PNG, stored encrypted")],
    metadata_only: Annotated[
        bool,
        typer.Option(
            "--metadata-only",
            help="record only its name, type, size and SHA-256 (the file is kept elsewhere; any type)",
        ),
    ] = False,
) -> None:
    """Add a document to an application: the file is stored (encrypted), or with --metadata-only
    recorded by its metadata."""
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror}") from None
    if metadata_only:
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        metadata = service.document_metadata(kind, file.name, content_type, content)
        document = _in_unit_of_work(lambda uow: service.add_document(uow, request_id, metadata))
        stored = "recorded, file kept elsewhere"
    else:
        document = _in_unit_of_work(lambda uow: service.store_document(uow, request_id, kind, file.name, content))
        stored = f"stored, {document.content_type}"
    out.print(f"document {document.id} {stored} ({document.size_bytes} bytes, sha256 {document.sha256[:12]}…)")


@credentialing_app.command("submit")
def credentialing_submit(request_id: uuid.UUID) -> None:
    """Submit an application for primary-source verification."""
    request = _in_unit_of_work(lambda uow: service.submit_application(uow, request_id))
    out.print(f"request {request.id}: {request.state}")


@credentialing_app.command("verify")
def credentialing_verify(
    request_id: uuid.UUID,
    item: r.VerificationItem,
    status: Annotated[r.VerificationStatus, typer.Option()],
    by: Annotated[str, typer.Option(help="who verified")],
    source: Annotated[str | None, typer.Option()] = None,
    evidence: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Record one checklist item's verification result."""

    def action(uow: UnitOfWork) -> str:
        service.record_verification(uow, request_id, item, status, source=source, evidence=evidence, actor=by)
        return service.request_details(uow, request_id).request.state

    out.print(f"{item}: {status}; request now {_in_unit_of_work(action)}")


@credentialing_app.command("decide")
def credentialing_decide(
    request_id: uuid.UUID,
    decision: r.CommitteeDecision,
    by: Annotated[str, typer.Option(help="committee chair or secretary")],
    reason: Annotated[str | None, typer.Option()] = None,
    effective_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
) -> None:
    """Record the committee's decision (APPROVE or DENY)."""
    effective = _date(effective_on, "--effective-on") if effective_on else None
    request = _in_unit_of_work(
        lambda uow: service.decide(uow, request_id, decision, actor=by, reason=reason, effective_on=effective)
    )
    due = f"; recredentialing due {request.recredentialing_due_on}" if request.recredentialing_due_on else ""
    out.print(f"request {request.id}: {request.state}{due}")


@credentialing_app.command("sanction")
def credentialing_sanction(
    npi: str,
    source: Annotated[r.SanctionSource, typer.Option()],
    reference: Annotated[str, typer.Option(help="list entry or board order reference")],
    effective_on: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    by: Annotated[str, typer.Option()],
) -> None:
    """Record a sanction; an approved provider is suspended."""
    effective = _date(effective_on, "--effective-on")

    def action(uow: UnitOfWork) -> str:
        provider_id = service.find_provider_id(uow, npi)
        service.record_sanction(uow, provider_id, source, reference, effective, actor=by)
        return service.provider_details(uow, provider_id).provider.credentialing_status

    out.print(f"sanction recorded; credentialing status {_in_unit_of_work(action)}")


@credentialing_app.command("timeline")
def credentialing_timeline(npi: str) -> None:
    """A provider's credentialing timeline: status changes, reminders and timers."""

    def action(uow: UnitOfWork) -> service.CredentialingTimeline:
        return service.credentialing_timeline(uow, service.find_provider_id(uow, npi))

    timeline = _in_unit_of_work(action, read_only=True)
    table = Table("when", "what")
    for c in timeline.status_changes:
        table.add_row(c.changed_at.isoformat(), f"{c.from_status} → {c.to_status} ({c.reason}, {c.actor})")
    for x in timeline.reminders:
        table.add_row(
            x.sent_at.isoformat(), f"reminder: recredentialing due {x.recredentialing_due_on} ({x.days_before} days)"
        )
    for t in timeline.timers:
        table.add_row(
            t.due_at.isoformat(), f"timer {t.kind}{f' -{t.days_before}d' if t.days_before else ''}: {t.status}"
        )
    out.print(table)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option} must be a date YYYY-MM-DD") from None


# -- timers --------------------------------------------------------------------------------------
@timers_app.command("run")
def timers_run(batch_size: Annotated[int, typer.Option(min=1, max=1000)] = 50) -> None:
    """Fire every due credentialing timer once (all tenants), then exit."""
    with _platform() as platform:
        try:
            report = worker.drain_due_timers(platform.db, batch_size=batch_size)
        except OllyError as exc:
            raise _explain(exc) from None
    out.print(
        f"{report.fired} timer(s) fired: {report.status_changes} status change(s), {report.reminders} reminder(s), "
        f"{report.requests_opened} recredentialing request(s) opened, {report.failed} failed"
    )


@timers_app.command("work")
def timers_work(interval: Annotated[float, typer.Option(min=0.1, help="seconds between polls")] = 30.0) -> None:
    """Poll for due timers until interrupted (SIGINT/SIGTERM finish the current batch, then stop)."""
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with _platform() as platform:
        worker.work(platform.db, interval_seconds=interval, stop=stop)


# -- fee schedules and contracts ---------------------------------------------------------------------
def _decimal(text: str | None, option: str) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise _fail(f"{option} must be a decimal number") from None


@fee_app.command("load")
def fee_schedule_load(
    file: Path,
    code: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    kind: Annotated[r.FeeScheduleKind, typer.Option()],
    currency: Annotated[str, typer.Option()] = "USD",
    percent: Annotated[str | None, typer.Option()] = None,
    conversion_factor: Annotated[str | None, typer.Option()] = None,
    base: Annotated[str | None, typer.Option(help="code of the RELATIVE_VALUE base schedule")] = None,
) -> None:
    """Load a fee schedule from CSV: every row is checked; any error loads nothing."""
    text = _read_text(file)
    header = service.FeeScheduleHeader(
        code=code,
        name=name,
        kind=kind,
        currency=currency.upper(),
        percent=_decimal(percent, "--percent"),
        conversion_factor=_decimal(conversion_factor, "--conversion-factor"),
        base_schedule_code=base,
    )
    report = _in_unit_of_work(lambda uow: service.load_fee_schedule(uow, header, service.read_rate_csv(text)))
    out.print(f"fee schedule {report.code} loaded: {report.rows} rate(s)")


@contract_app.command("add")
def contract_add(
    npi: str,
    number: Annotated[str, typer.Option()],
    network: Annotated[str, typer.Option()],
    tier: Annotated[str, typer.Option()],
    effective_from: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    effective_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    fee_schedule: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a network contract to a provider or organisation."""
    start = _date(effective_from, "--effective-from")
    end = _date(effective_to, "--effective-to") if effective_to else None

    def action(uow: UnitOfWork) -> Any:
        draft = service.ContractDraft(
            service.find_provider_id(uow, npi), number, network, tier, start, end, fee_schedule
        )
        return service.create_contract(uow, draft)

    contract = _in_unit_of_work(action)
    out.print(f"contract {contract.contract_number} ({contract.network}/{contract.tier}) id {contract.id}")
