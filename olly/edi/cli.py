"""``olly edi …``: check partner files, and run the gateway from the command line.

Gateway commands (``ingest``, ``watch``, ``partners``, ``files``, ``remit``, ``enrollment``, ``audit``) use
the configured database for the default tenant; ``validate`` stays database-free.

``olly edi validate FILE…`` validates each file (progress bar on stderr), prints a summary, writes
the acknowledgements Olly would send next to the file (``FILE.ta1``, ``FILE.999``) or into
``--out``, and exits non-zero when any interchange, group or transaction set was rejected. It reads
no database and stores nothing: it is safe on production files. Findings name segments, positions
and codes, never data values.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Column, Table

from olly.edi.acks import acknowledge
from olly.edi.codes import Acknowledgment
from olly.edi.reconcile import Discrepancy
from olly.edi.validate import ValidationReport, validate
from olly.edi.writer import InMemoryControlNumbers
from olly.kernel.clock import SystemClock
from olly.kernel.errors import OllyError

if TYPE_CHECKING:
    from olly.platform.runtime import Platform

#: Called with each platform the gateway commands build (the composition layer installs the
#: adapters to enrollment and eligibility here; see ``olly/cli.py``).
PLATFORM_HOOKS: list[Callable[[Any], None]] = []

app = typer.Typer(help="X12 EDI: validate partner files, take them in, manage partners, remit.", no_args_is_help=True)
partners_app = typer.Typer(help="The trading-partner registry.", no_args_is_help=True)
app.add_typer(partners_app, name="partners")
out = Console()
err = Console(stderr=True)


def _summary(path: Path, report: ValidationReport) -> list[str]:
    lines: list[str] = []
    if report.unreadable is not None:
        lines.append(f"unreadable: {report.unreadable.detail}")
    for interchange in report.interchanges:
        notes = ", ".join(f"{n.value} {n.name.lower()}" for n in interchange.notes)
        lines.append(
            f"interchange {interchange.control_number} from {interchange.sender}: "
            + ("accepted" if interchange.accepted else f"REJECTED ({notes})")
        )
        for group in interchange.groups:
            errors = ", ".join(f"{e.value} {e.name.lower()}" for e in group.errors)
            lines.append(
                f"  group {group.control_number} {group.functional_id} {group.version}: "
                f"{group.acknowledgment.name.lower()} ({group.accepted_sets}/{len(group.sets)} sets accepted)"
                + (f" — {errors}" if errors else "")
            )
            for report_set in group.sets:
                if report_set.acknowledgment is Acknowledgment.ACCEPTED:
                    continue
                codes = ", ".join(f"{e.value} {e.name.lower()}" for e in report_set.errors)
                lines.append(f"    set {report_set.set_id} {report_set.control_number}: rejected ({codes})")
                for problem in report_set.problems[:10]:
                    detail = "; ".join(
                        f"{p.position}{'.' + str(p.component) if p.component else ''} {p.error.name.lower()}"
                        for p in problem.elements
                    )
                    lines.append(
                        f"      {problem.segment_id} at position {problem.position} (segment {problem.segment_number},"
                        f" byte {problem.offset}) loop {problem.loop_id or 'header'}: {problem.error.name.lower()}"
                        + (f" [{detail}]" if detail else "")
                    )
                hidden = len(report_set.problems) - 10 + report_set.problems_dropped
                if hidden > 0:
                    lines.append(f"      … and {hidden} more")
    return lines


@app.command("validate")
def validate_files(
    files: Annotated[list[Path], typer.Argument(help="X12 files to check", exists=True, dir_okay=False, readable=True)],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="folder for the TA1/999 files (default: next to each file)")
    ] = None,
    write_acks: Annotated[bool, typer.Option("--acks/--no-acks", help="write the TA1/999 Olly would send")] = True,
) -> None:
    """Validate X12 files: envelopes, counts, control numbers and the 5010 implementation guides."""
    control_numbers = InMemoryControlNumbers()
    now = SystemClock().now()
    table = Table("file", "MB", "segments", "result")
    rejected = 0
    for path in files:
        size = path.stat().st_size
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task(path.name, total=size)

            def advance(done: int, task: TaskID = task) -> None:
                progress.update(task, completed=done)

            report = validate(path, on_progress=advance)
        ok = report.accepted
        rejected += 0 if ok else 1
        table.add_row(str(path), f"{size / 1e6:.2f}", str(report.segments), "accepted" if ok else "[red]rejected[/]")
        for line in _summary(path, report):
            out.print(line, markup=False, highlight=False)
        if write_acks:
            acks = acknowledge(report, control_numbers=control_numbers, now=now)
            target_dir = out_dir or path.parent
            target_dir.mkdir(parents=True, exist_ok=True)
            for suffix, interchanges in (("ta1", acks.ta1), ("999", acks.implementation)):
                if interchanges:
                    target = target_dir / f"{path.name}.{suffix}"
                    target.write_text("".join(i.text for i in interchanges))
                    out.print(f"wrote {target}", markup=False, highlight=False)
    out.print(table)
    if rejected:
        err.print(f"[bold red]{rejected} of {len(files)} file(s) rejected[/]")
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------
# Gateway commands
# ---------------------------------------------------------------------------------------------
@contextmanager
def _platform() -> Iterator[Platform]:
    from olly.platform.runtime import build_platform

    try:
        platform = build_platform()
    except OllyError as exc:
        err.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(1) from None
    for hook in PLATFORM_HOOKS:
        hook(platform)
    try:
        yield platform
    finally:
        platform.close()


def _fail(exc: OllyError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc.detail or exc.title}")
    return typer.Exit(1)


@app.command("ingest")
def ingest_files(
    files: Annotated[
        list[Path], typer.Argument(help="X12 files to take in", exists=True, dir_okay=False, readable=True)
    ],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="also write the acknowledgements here (NAME.999, NAME.277ca …)")
    ] = None,
) -> None:
    """Take partner files in: store, acknowledge, and pass each accepted transaction to its domain."""
    from olly.edi import service

    table = Table("file", "kind", "status", "claims accepted", "claims rejected", "replies", "file id")
    notes: list[str] = []
    failed = 0
    with _platform() as platform:
        tenant = platform.settings.default_tenant_id
        total = sum(p.stat().st_size for p in files)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("ingesting", total=total)
            for path in files:
                progress.update(task, description=path.name)
                try:
                    with platform.db.unit_of_work(tenant) as uow:
                        result = service.ingest(uow, path.read_bytes(), source="cli", filename=path.name)
                except OllyError as exc:
                    failed += 1
                    table.add_row(str(path), "", f"[red]error: {exc.code}[/]", "", "", "", "")
                    progress.advance(task, path.stat().st_size)
                    continue
                progress.advance(task, path.stat().st_size)
                failed += result.status == "REJECTED"
                status = result.status if result.status != "REJECTED" else f"[red]{result.status}[/]"
                table.add_row(
                    str(path),
                    result.kind,
                    status,
                    str(result.claims_accepted),
                    str(result.claims_rejected),
                    ", ".join(r.kind for r in result.replies),
                    str(result.file_id),
                )
                for found in result.reconciliations:
                    counts = found["counts"]
                    differences = sum(counts.get(kind.value, 0) for kind in Discrepancy)
                    notes.append(
                        f"{path.name}: 834 audit (set {found['setControlNumber']}, effective "
                        f"{found['effectiveDate']}): {counts['matched']} matched, {differences} discrepancies; "
                        f"olly edi audit {result.file_id}"
                    )
                if out_dir is not None:
                    out_dir.mkdir(parents=True, exist_ok=True)
                    for reply in result.replies:
                        (out_dir / f"{path.name}.{reply.kind.lower()}").write_text(reply.text)
    out.print(table)
    for note in notes:
        out.print(note, markup=False, highlight=False, soft_wrap=True)
    if failed:
        err.print(f"[bold red]{failed} of {len(files)} file(s) rejected[/]")
        raise typer.Exit(1)


@app.command("watch")
def watch(
    once: Annotated[bool, typer.Option("--once", help="one pass over the inbox, then exit")] = False,
    interval: Annotated[float, typer.Option(help="seconds between passes")] = 5.0,
) -> None:
    """Take in the files dropped into the inbox folder (moved to processed/ or failed/), until interrupted."""
    from olly.edi.folders import folders, process_inbox

    with _platform() as platform:
        tenant = platform.settings.default_tenant_id
        err.print(f"watching {folders(platform.db, tenant)['inbox']}")
        while True:
            for outcome in process_inbox(platform.db, tenant):
                out.print(f"{outcome.name}: {outcome.status} → {outcome.moved_to}", markup=False, highlight=False)
            if once:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return


@partners_app.command("add")
def add_partner(
    code: Annotated[str, typer.Argument(help="short unique code, e.g. AVAILITY")],
    name: Annotated[str, typer.Option(help="display name")],
    kind: Annotated[str, typer.Option(help="CLEARINGHOUSE, PROVIDER or EMPLOYER")],
    interchange_id: Annotated[str, typer.Option("--id", help="the partner's ISA06 id")],
    qualifier: Annotated[str, typer.Option(help="its ISA05 qualifier")] = "ZZ",
    application_code: Annotated[str | None, typer.Option(help="its GS02 code (default: the id)")] = None,
    accept: Annotated[list[str] | None, typer.Option(help="accepted transaction kinds (repeat); default all")] = None,
    ta1_always: Annotated[bool, typer.Option(help="send a TA1 for every interchange")] = False,
    send_999: Annotated[bool, typer.Option("--999/--no-999", help="send 999 acknowledgements")] = True,
    usage: Annotated[str, typer.Option(help="ISA15 of what Olly sends: P or T")] = "P",
    separators: Annotated[str, typer.Option(help="element, component, repetition, segment")] = "*:^~",
    provider_id: Annotated[list[str] | None, typer.Option(help="NPI / organisation id it acts for (repeat)")] = None,
    group_account: Annotated[str | None, typer.Option(help="an employer's group account id (834)")] = None,
    apply_audit_changes: Annotated[
        bool,
        typer.Option(help="an 834 audit (030) also applies adds, plan, name and birth date (default: report only)"),
    ] = False,
) -> None:
    """Register a trading partner."""
    from olly.edi import service

    if len(separators) != 4:
        err.print("[bold red]error:[/] --separators takes four characters")
        raise typer.Exit(2)
    settings = service.PartnerSettings(
        code=code,
        name=name,
        kind=kind.upper(),
        interchange_qualifier=qualifier,
        interchange_id=interchange_id,
        application_code=application_code,
        accepted_transactions=tuple(accept) if accept else service.INBOUND_KINDS,
        ta1_always=ta1_always,
        send_999=send_999,
        usage=usage,
        element_separator=separators[0],
        component_separator=separators[1],
        repetition_separator=separators[2],
        segment_terminator=separators[3],
        provider_ids=tuple(provider_id or ()),
        group_account_id=uuid.UUID(group_account) if group_account else None,
        apply_audit_changes=apply_audit_changes,
    )
    with _platform() as platform:
        try:
            with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
                partner = service.save_partner(uow, settings)
                out.print(f"registered {partner.code} ({partner.id})", markup=False, highlight=False)
        except OllyError as exc:
            raise _fail(exc) from None


@partners_app.command("list")
def list_partners() -> None:
    """The registered trading partners."""
    from olly.edi import service
    from olly.edi.repository import EdiRepository

    table = Table("code", "kind", "ISA id", "accepts", "TA1 always", "999", "usage", "active")
    with (
        _platform() as platform,
        platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow,
    ):
        for partner in EdiRepository(uow).partners():
            view = service.partner_view(partner)
            table.add_row(
                view["code"],
                view["kind"],
                f"{view['interchangeQualifier']}:{view['interchangeId']}",
                ", ".join(view["acceptedTransactions"]),
                "yes" if view["ta1Always"] else "no",
                "yes" if view["send999"] else "no",
                view["usage"],
                "yes" if view["active"] else "no",
            )
    out.print(table)


@app.command("files")
def list_files(
    limit: Annotated[int, typer.Option(help="how many, newest first")] = 20,
) -> None:
    """Files received and sent."""
    from olly.edi.repository import EdiRepository

    table = Table("id", "direction", "kind", "status", "ISA13", "bytes", "created")
    with (
        _platform() as platform,
        platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow,
    ):
        for row in EdiRepository(uow).files(limit=limit):
            table.add_row(
                str(row.id),
                row.direction,
                row.kind,
                row.status,
                row.interchange_control_number,
                str(row.size_bytes),
                row.created_at.isoformat(timespec="seconds"),
            )
    out.print(table)


@app.command("remit")
def remit(run_id: Annotated[str, typer.Argument(help="the payment run to remit")]) -> None:
    """Write the 835s of a payment run (one per payee) into the outbox."""
    from olly.edi import service

    with _platform() as platform:
        try:
            with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
                files = service.remit(uow, run_id)
                for row in files:
                    out.print(
                        f"835 {row.id} to {row.receiver}: {row.summary.get('claims')} claim(s), "
                        f"paid {row.summary.get('paid')} {row.summary.get('currency')}",
                        markup=False,
                        highlight=False,
                    )
        except OllyError as exc:
            raise _fail(exc) from None


@app.command("enrollment")
def enrollment(
    partner: Annotated[str, typer.Argument(help="the trading partner's code (an employer with a group account)")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD: members covered on that day or later (default today)")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="YYYY-MM-DD: only the changes recorded since that day")
    ] = None,
) -> None:
    """Write an 834 into the partner's outbox: the whole group (INS03 030), or the changes since a day."""
    from datetime import date

    from olly.edi import service

    try:
        day = date.fromisoformat(as_of) if as_of else None
        first = date.fromisoformat(since) if since else None
    except ValueError:
        err.print("--as-of and --since must be dates, YYYY-MM-DD", markup=False, highlight=False)
        raise typer.Exit(2) from None
    with _platform() as platform:
        try:
            with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
                row = service.send_enrollment(uow, partner, day or uow.clock.today(), since=first)
                out.print(
                    f"834 {row.id} to {row.receiver}: {row.summary.get('members')} member(s), "
                    f"{row.summary.get('subscribers')} subscriber(s), as of {row.summary.get('asOf')}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
        except OllyError as exc:
            raise _fail(exc) from None


@app.command("audit")
def audit(file_id: Annotated[str, typer.Argument(help="the inbound 834 file's id (from ingest or files)")]) -> None:
    """An 834 audit file compared with the enrollment in force: counts, then one row per discrepancy
    (subscriber id, member number, what differs; names and birth dates are named, never shown)."""
    from olly.edi import service

    try:
        wanted = uuid.UUID(file_id)
    except ValueError:
        err.print("FILE_ID must be a file id (a UUID)", markup=False, highlight=False)
        raise typer.Exit(2) from None
    with _platform() as platform:
        try:
            with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
                items = service.reconciliations(uow, wanted)
        except OllyError as exc:
            raise _fail(exc) from None
    for item in items:
        counts = item["counts"]
        out.print(
            f"set {item['setControlNumber']}, effective {item['effectiveDate']}, "
            f"{'full file' if item['fullFile'] else 'audit records only'}, "
            f"{'applied' if item['applied'] else 'reported only'}: "
            f"{counts['membersInFile']} in file ({counts['audited']} audit), {counts['enrolled']} enrolled, "
            f"{counts['matched']} matched",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        summary = Table("discrepancy", Column("members", justify="right"))
        for kind in Discrepancy:
            # a reconciliation kept before a kind was compared has no count for it: shown as "-"
            summary.add_row(kind.value, str(counts.get(kind.value, "-")))
        out.print(summary)
        rows = Table("kind", "subscriber id", "rel", "segment", "member number", "file", "enrolled", "applied")
        for finding in item["findings"]:
            rows.add_row(
                finding["kind"],
                finding["subscriberId"],
                finding["relationship"],
                str(finding["segment"] or ""),
                finding["memberNumber"] or "",
                finding["fileValue"] or "",
                finding["enrolledValue"] or "",
                finding.get("applied", ""),
            )
        if item["findings"]:
            out.print(rows)
