"""The ``olly`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer._click import Context as ClickContext
from typer.core import TyperGroup

import olly
from olly.billing import cli as billing_cli
from olly.claims import authorization_cli as claims_authorization_cli
from olly.claims import cli as claims_cli
from olly.edi import cli as edi_cli
from olly.enrollment import cli as enrollment_cli
from olly.kernel.errors import OllyError
from olly.plans import cli as plans_cli
from olly.provider import cli as provider_cli

#: The interpreter's thread switch interval under `olly serve` on SQLite (see `serve`).
SQLITE_SERVE_SWITCH_INTERVAL_SECONDS = 0.001


class _OllyGroup(TyperGroup):
    """The root command: a database error in any command is one line naming the likely cause (a
    database never migrated, or migrated by an older Olly) and exit 1, not a traceback with SQL."""

    def invoke(self, ctx: ClickContext) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
            err.print(
                f"[bold red]error:[/] database error ({type(exc).__name__}: {reason}); has `olly db upgrade` run?",
                highlight=False,
            )
            raise typer.Exit(1) from None


app = typer.Typer(
    help="Olly: self-hostable health insurance platform.", no_args_is_help=True, add_completion=False, cls=_OllyGroup
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="PHI encryption keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
config_app = typer.Typer(help="Effective configuration.", no_args_is_help=True)
jobs_app = typer.Typer(help="Periodic jobs (deadlines and timers).", no_args_is_help=True)
demo_app = typer.Typer(help="The demo health plan.", no_args_is_help=True)
events_app = typer.Typer(help="The event catalog: docs, Avro schemas, saga traces.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead letters: list, show and redrive.", no_args_is_help=True)
accounts_app = typer.Typer(help="Sign-in accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(events_app, name="events")
app.add_typer(dlq_app, name="dlq")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(config_app, name="config")
app.add_typer(jobs_app, name="jobs")
app.add_typer(demo_app, name="demo")
app.add_typer(plans_cli.app, name="plans")
app.add_typer(accounts_app, name="accounts")
app.add_typer(edi_cli.app, name="edi")
app.add_typer(provider_cli.app, name="provider")
claims_cli.app.add_typer(claims_authorization_cli.prior_auth_app, name="prior-auth")
claims_cli.app.add_typer(claims_authorization_cli.appeals_app, name="appeals")
app.add_typer(claims_cli.app, name="claims")
app.add_typer(billing_cli.app, name="billing")
app.add_typer(enrollment_cli.app, name="enrollment")
codes_app = typer.Typer(help="Look up ICD-10-CM and HCPCS codes by code prefix or words.", no_args_is_help=True)
app.add_typer(codes_app, name="codes")

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _install_edi_links(platform) -> None:  # type: ignore[no-untyped-def]
    """The EDI gateway's adapters to enrollment and eligibility (composition: ``olly/edi_links.py``)."""
    from olly import edi_links

    edi_links.install(platform.db)


edi_cli.PLATFORM_HOOKS.append(_install_edi_links)


def _platform(create_keys: bool = True):  # type: ignore[no-untyped-def]
    from olly.platform.runtime import build_platform

    try:
        return build_platform(create_keys=create_keys)
    except OllyError as exc:
        raise fail(exc.detail) from None


def _print_codes(rows: list[tuple[str, str]], total: int, page: int, page_size: int) -> None:
    if not rows:
        out.print("no matching codes")
        return
    for code, description in rows:
        out.print(f"{code:<9} {description}", highlight=False, markup=False, soft_wrap=True)
    pages = (total + page_size - 1) // page_size
    out.print(f"page {page} of {pages} ({total} codes)", highlight=False)


CodeQuery = Annotated[str, typer.Argument(help="a code prefix (E11, J12) or words")]
ValidOnOption = Annotated[str | None, typer.Option("--valid-on", help="date of service, YYYY-MM-DD")]
PageOption = Annotated[int, typer.Option("--page", min=1)]
PageSizeOption = Annotated[int, typer.Option("--page-size", min=1, max=100)]


def _valid_on(text: str | None):  # type: ignore[no-untyped-def]
    from datetime import date

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"--valid-on: {text!r} is not a date (YYYY-MM-DD)") from None


@codes_app.command("icd10")
def codes_icd10(
    query: CodeQuery,
    valid_on: ValidOnOption = None,
    billable_only: Annotated[bool, typer.Option("--billable-only", help="leaf codes only")] = False,
    page: PageOption = 1,
    page_size: PageSizeOption = 20,
) -> None:
    """ICD-10-CM diagnosis codes, best match first."""
    from olly.codesets.lookup import find_diagnoses

    found = find_diagnoses(
        query, valid_on=_valid_on(valid_on), billable_only=billable_only, page=page, page_size=page_size
    )
    rows = [(c.dotted, c.description + ("" if c.billable else "  (not billable)")) for c in found.results]
    _print_codes(rows, found.total, page, page_size)


@codes_app.command("hcpcs")
def codes_hcpcs(
    query: CodeQuery, valid_on: ValidOnOption = None, page: PageOption = 1, page_size: PageSizeOption = 20
) -> None:
    """HCPCS Level II codes, best match first."""
    from olly.codesets.lookup import find_hcpcs

    found = find_hcpcs(query, valid_on=_valid_on(valid_on), page=page, page_size=page_size)
    _print_codes([(c.code, c.description) for c in found.results], found.total, page, page_size)


@app.command()
def version() -> None:
    """Print Olly's version."""
    out.print(olly.__version__)


@config_app.command("show")
def config_show() -> None:
    """Print the effective settings (secrets masked)."""
    from olly.config import get_settings

    table = Table("variable", "value")
    for name, value in get_settings().masked().items():
        table.add_row(name, value)
    out.print(table)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default OLLY_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default OLLY_PORT)")] = None,
) -> None:
    """Serve the API (and, as they arrive, the portals and workers); a child process writes the
    audit records of allowed reads and the verified events (OLLY_WRITER_PROCESS)."""
    import uvicorn

    from olly.config import get_settings
    from olly.platform.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    # The event loop shares the interpreter with background threads (the hand-off to the writer
    # process, cache refreshes; the audit and event writers too without a writer process). A thread
    # that wants the interpreter lock waits up to the switch interval for a running one to let go:
    # 5 ms by default, which a request could pay more than once. On SQLite
    # 1 ms took the eligibility p99 at 1,000 req/s from 11.6 to 7.6 ms; on PostgreSQL + Redis it
    # doubled it (13.6 to 20-21 ms) and cost 15 % of the throughput, so it stays 5 ms there
    # (docs/enrollment.md, figures).
    if settings.is_sqlite:
        sys.setswitchinterval(SQLITE_SERVE_SWITCH_INTERVAL_SECONDS)
    uvicorn.run(
        "olly.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        access_log=False,
    )


@app.command()
def worker(
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="consumer group(s) to run (default: all)")
    ] = None,
    relay: Annotated[bool, typer.Option(help="also run the outbox relay (one relay is active at a time)")] = True,
    jobs: Annotated[bool, typer.Option(help="also run periodic jobs (one process runs each job at a time)")] = True,
    metrics_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="serve Prometheus metrics (the bus, the process) on this port"),
    ] = None,
    metrics_address: Annotated[
        str, typer.Option(help="address the metrics port listens on (loopback unless a scraper elsewhere needs it)")
    ] = "127.0.0.1",
) -> None:
    """Run the event backbone (relay and consumer groups) and periodic jobs, until interrupted."""
    import signal
    import threading

    from olly.platform.bus.runtime import BusRuntime, default_registry
    from olly.platform.jobs import JobScheduler, discover_jobs
    from olly.platform.logging import configure_logging

    platform = _platform()
    _install_edi_links(platform)
    configure_logging(platform.settings.log_level, platform.settings.log_format)
    registry = default_registry()
    unknown = sorted(set(group or ()) - set(registry.groups()))
    if unknown:
        platform.close()
        raise fail(f"no handlers registered for group(s): {', '.join(unknown)}")
    if group is None or "claims-claims-consumer" in group:
        # The adjudication worker's code sets load once (about 2 s) and stay for the process's life:
        # load them before the first claim and keep them out of the cyclic collector's scans.
        import gc

        from olly.codesets import hcpcs, icd10

        icd10.load()
        hcpcs.code_count()
        gc.freeze()
    stop_metrics = None
    if metrics_port is not None:
        from olly.platform.metrics import new_registry, serve

        try:
            stop_metrics = serve(new_registry(lambda: platform.db), metrics_port, metrics_address)
        except OSError as error:
            platform.close()
            raise fail(f"metrics port {metrics_address}:{metrics_port} could not be opened: {error.strerror}") from None
    runtime = BusRuntime(platform.db, platform.settings, registry, platform.outbox, run_relay=relay, groups=group)
    signal.signal(signal.SIGTERM, lambda *_: runtime.request_stop())
    runtime.start()
    stop_jobs = threading.Event()
    if jobs:
        scheduler = JobScheduler(platform.db, runtime.member_id)
        discover_jobs(scheduler)
        threading.Thread(target=scheduler.run, args=(stop_jobs,), name="olly-jobs", daemon=True).start()
    err.print(
        f"worker {runtime.member_id}: {platform.settings.bus} bus, groups {', '.join(registry.groups()) or 'none'}"
    )
    try:
        runtime.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_jobs.set()
        runtime.stop()
        if stop_metrics is not None:
            stop_metrics()
        platform.close()


@jobs_app.command("run")
def jobs_run() -> None:
    """Run every periodic job once, now (for cron, or to catch up after downtime)."""
    from olly.platform.bus.runtime import member_name
    from olly.platform.jobs import JobScheduler, discover_jobs

    platform = _platform()
    try:
        scheduler = JobScheduler(platform.db, member_name())
        discover_jobs(scheduler)
        ran = scheduler.run_all_once()
    finally:
        platform.close()
    out.print(f"ran {len(ran)} job(s): {', '.join(ran) or 'none (another process holds their leases)'}")


@events_app.command("docs")
def events_docs(
    output: Annotated[Path, typer.Option(help="where to write the catalog")] = Path("docs/events.md"),
    check: Annotated[bool, typer.Option(help="only report whether the file is current")] = False,
) -> None:
    """Generate docs/events.md from the catalog and the payload models."""
    from olly.platform.bus import docs

    text = docs.render()
    if check:
        if not output.exists() or output.read_text() != text:
            raise fail(f"{output} is stale; run `olly events docs`")
        out.print(f"{output} is current")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    out.print(f"wrote {output}")


@events_app.command("schemas")
def events_schemas(
    root: Annotated[Path, typer.Option(help="the committed schema history")] = Path("schemas"),
    check: Annotated[bool, typer.Option(help="only check compatibility; write nothing")] = False,
) -> None:
    """Write a new Avro schema version for every topic whose models changed; refuse breaking changes."""
    from olly.platform.bus import avro

    problems = [p for p in avro.check_history(root) if "run `olly events schemas`" not in p]
    if problems:
        for problem in problems:
            err.print(f"[bold red]incompatible:[/] {problem}")
        raise typer.Exit(1)
    if check:
        stale = avro.check_history(root)
        if stale:
            raise fail("; ".join(stale))
        out.print("schemas are current and compatible")
        return
    written = avro.write_schemas(root)
    for path in written:
        out.print(f"wrote {path}")
    if not written:
        out.print("schemas are current")


@events_app.command("trace")
def events_trace(correlation_id: Annotated[str, typer.Argument(help="the saga's correlation id")]) -> None:
    """Print the chain of events of one saga and what each consumer group did with them."""
    import uuid

    from olly.platform.bus import trace

    try:
        wanted = uuid.UUID(correlation_id)
    except ValueError:
        raise fail("CORRELATION_ID must be a UUID") from None
    platform = _platform(create_keys=False)
    try:
        redis = None
        if platform.settings.redis_url:
            from olly.platform.bus.idempotency import RedisIdempotency

            redis = RedisIdempotency(platform.settings.redis_url, platform.clock)
        roots = trace.trace(platform.db, wanted, redis)
    finally:
        platform.close()
    if not roots:
        raise fail("no events with this correlation id (they may be past their retention)")
    for line in trace.render(roots):
        out.print(line, highlight=False, markup=False, soft_wrap=True)


@dlq_app.command("list")
def dlq_list(
    topic: Annotated[str | None, typer.Option(help="only this topic (or its .dlq)")] = None,
    include_redriven: Annotated[bool, typer.Option(help="also show dead letters already redriven")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
) -> None:
    """List dead letters, newest first."""
    from olly.platform.bus import dlq

    platform = _platform(create_keys=False)
    try:
        letters = dlq.list_dead_letters(platform.db, topic=topic, include_redriven=include_redriven, limit=limit)
    finally:
        platform.close()
    table = Table("id", "topic", "group", "retries", "failed at", "reason", "redriven")
    for letter in letters:
        meta = letter.metadata
        table.add_row(
            str(letter.id),
            str(meta.get("originalTopic")),
            str(meta.get("consumerGroup")),
            str(meta.get("retryCount")),
            str(meta.get("failedAt")),
            str(meta.get("failureReason")),
            letter.redriven_at.isoformat() if letter.redriven_at else "",
        )
    out.print(table)
    out.print(f"{len(letters)} dead letter(s)")


def _dead_letter_id(value: str):  # type: ignore[no-untyped-def]
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        raise fail("the dead letter id must be a UUID") from None


@dlq_app.command("show")
def dlq_show(
    dead_letter_id: Annotated[str, typer.Argument(help="the dead letter's id (from `olly dlq list`)")],
) -> None:
    """Print one dead letter: its dlqMetadata and the original payload."""
    import json

    from olly.platform.bus import dlq

    wanted = _dead_letter_id(dead_letter_id)
    platform = _platform(create_keys=False)
    try:
        letter = dlq.get_dead_letter(platform.db, wanted)
    except OllyError as exc:
        raise fail(exc.detail) from None
    finally:
        platform.close()
    out.print_json(json.dumps(letter.detail()))


@dlq_app.command("redrive")
def dlq_redrive(dead_letter_id: Annotated[str, typer.Argument(help="the dead letter's id")]) -> None:
    """Send a dead letter's event back to its topic, for the consumer group that failed it."""
    from olly.kernel.clock import SystemClock
    from olly.platform.bus import dlq

    wanted = _dead_letter_id(dead_letter_id)
    platform = _platform(create_keys=False)
    try:
        event_id = dlq.redrive(platform.db, SystemClock(), wanted)
    except OllyError as exc:
        raise fail(exc.detail) from None
    finally:
        platform.close()
    out.print(f"redriven: event {event_id} is back on its topic for the group that failed it")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Create or migrate the database to the latest schema."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from olly.platform import migrate

    platform = _platform()
    try:
        before = migrate.current_revision(platform.db)
        try:
            migrate.upgrade(platform.db, revision)
        except CommandError as exc:  # an unknown revision, or one behind the database's
            raise fail(f"cannot upgrade to {revision!r}: {exc}") from None
        after = migrate.current_revision(platform.db)
        with platform.db.connect() as connection:
            from olly.config import DEFAULT_TENANT_ID

            platform.crypto.ensure_tenant_keys(connection, DEFAULT_TENANT_ID)
    except SQLAlchemyError as exc:
        raise fail(f"database error: {type(exc).__name__}; check OLLY_DATABASE_URL") from None
    finally:
        platform.close()
    out.print(f"database at {after}" + ("" if before != after else " (already current)"))


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision and whether it is the latest."""
    from olly.platform import migrate

    platform = _platform(create_keys=False)
    try:
        current, head = migrate.current_revision(platform.db), migrate.head_revision()
    finally:
        platform.close()
    out.print(f"current: {current or '(empty)'}  head: {head}")
    if current != head:
        raise typer.Exit(1)


@keys_app.command("init")
def keys_init() -> None:
    """Create the local master key file (var/keys/master.json, mode 0600) if there is none."""
    from olly.config import get_settings
    from olly.platform.crypto import LocalKeyProvider

    settings = get_settings()
    path = settings.keys_dir / "master.json"
    if settings.master_key is not None:
        out.print("OLLY_MASTER_KEY is set: no key file is needed")
        return
    if path.exists():
        out.print(f"key file exists: {path}")
        return
    try:
        provider = LocalKeyProvider.create_file(path)
    except OllyError as exc:
        raise fail(exc.detail) from None
    out.print(f"created {path} (master key {provider.active_key_id()})")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Rotate the master key: re-wrap every data key under a new master key (data untouched)."""
    from olly.platform.crypto import rotate_master_key

    platform = _platform(create_keys=False)
    try:
        if platform.keys.path is not None:
            platform.keys.add_new_active_key()
        moved = rotate_master_key(platform.db, platform.keys, platform.crypto)
    except OllyError as exc:
        raise fail(exc.detail) from None
    finally:
        platform.close()
    out.print(f"master key {platform.keys.active_key_id()} active; {moved} data key(s) re-wrapped")


@keys_app.command("rotate-data")
def keys_rotate_data(
    batch_size: Annotated[int, typer.Option(min=1, help="rows re-encrypted per committed batch")] = 500,
    resume: Annotated[bool, typer.Option(help="continue an interrupted rotation without a new data key")] = False,
) -> None:
    """Rotate data keys: new active key per tenant, then re-encrypt every PHI value in batches."""
    from olly.platform.crypto import reencrypt, start_data_key_rotation

    platform = _platform(create_keys=False)
    try:
        if not resume:
            started = start_data_key_rotation(platform.db, platform.crypto)
            out.print(f"new data key for {started} tenant(s)")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} rows"),
            TimeElapsedColumn(),
            console=err,
        ) as progress:
            task = progress.add_task("re-encrypting", total=None)
            done = reencrypt(
                platform.db,
                platform.crypto,
                batch_size=batch_size,
                on_batch=lambda _table, n: progress.advance(task, n),
            )
    except OllyError as exc:
        raise fail(exc.detail) from None
    finally:
        platform.close()
    out.print(f"{done} row(s) re-encrypted")


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk every hash chain of the audit trail and report the first broken link of each."""
    from olly.platform.audit import verify

    platform = _platform(create_keys=False)
    try:
        report = verify(platform.db)
    finally:
        platform.close()
    if report.ok:
        out.print(f"audit trail intact: {report.records} record(s) in {report.chains} chain(s)")
        return
    for link in report.broken:
        err.print(
            f"[bold red]broken[/] chain {link.chain} at seq {link.seq}: {link.kind} "
            f"({link.explanation}){' record ' + link.record_id if link.record_id else ''}"
        )
    raise typer.Exit(1)


@demo_app.command("seed")
def demo_seed(
    if_empty: Annotated[bool, typer.Option(help="do nothing when the database already has policies")] = False,
    employees: Annotated[int, typer.Option(min=1, max=5000, help="employees in the demo group")] = 50,
) -> None:
    """Load the demo plans, a demo population (an employer group, individuals, a family floater) and a
    handful of adjudicated claims."""
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from olly import demo
    from olly.config import get_settings
    from olly.enrollment import service as enrollment
    from olly.enrollment.models import Policy
    from olly.enrollment.plan_catalog import PlansCatalog
    from olly.kernel.clock import FixedClock
    from olly.plans import public as plans_public
    from olly.plans import service as plans_service
    from olly.platform.runtime import build_platform

    settings = get_settings()
    live = _platform()
    tenant = settings.default_tenant_id
    try:
        with live.db.unit_of_work(tenant) as uow:
            outcomes = plans_service.load_demo_plans(uow, plans_service.limits_from_settings(settings))
        with live.db.unit_of_work(tenant, read_only=True) as uow:
            existing = uow.session.scalar(select(func.count()).select_from(Policy)) or 0
            ppo = plans_public.plan_version_in_force(
                uow, plans_public.DEMO_PLAN_CODES["employer_ppo"], live.clock.today()
            )
    finally:
        live.close()
    out.print(f"demo plans: {len(outcomes)} loaded or already present")
    if existing and if_empty:
        out.print(f"{existing} policies exist: demo population not added")
        return
    if existing:
        # The demo's people are always the same (a fixed seed, the same SSNs): a second population
        # would be refused half-way, after its employer group was created.
        raise fail(
            f"the database already has {existing} policies; the demo population goes only into a database"
            " without any (`--if-empty` skips it without an error)"
        )
    if ppo is None:
        raise fail("the demo plans are not in force today; load newer plan versions first")
    # People enrol during open enrollment, for cover from the plan year's first day.
    start = max(ppo.effective_from, live.clock.today().replace(month=1, day=1))
    seeding = build_platform(settings, FixedClock(datetime(start.year, start.month, start.day, 9, tzinfo=UTC)))
    codes = plans_public.DEMO_PLAN_CODES
    demo_plans = demo.DemoPlans(
        employer=(codes["employer_ppo"], codes["employer_hmo"], codes["employer_hdhp"]),
        individual=codes["aca_silver"],
        floater=codes["family_floater"],
    )
    try:
        with err.status("creating the demo population"):
            summary = demo.seed(
                lambda: seeding.db.unit_of_work(tenant),
                PlansCatalog(),
                demo_plans,
                start,
                employees=employees,
            )
        with seeding.db.unit_of_work(tenant) as uow:
            activated = len(enrollment.activate_due(uow))
    finally:
        seeding.close()
    out.print(
        f"demo population from {start}: {summary.employees} employees with {summary.dependents} dependents, "
        f"{summary.individual_members} individual members, a {summary.floater_members}-person family floater; "
        f"{activated} group policies active"
    )
    # Claims are received today (the real clock), for services since the cover started.
    now = _platform()
    try:
        with err.status("adjudicating the demo claims"):
            statuses = demo.seed_claims(
                lambda: now.db.unit_of_work(tenant), summary, demo_plans, start, now.clock.today()
            )
    finally:
        now.close()
    out.print("demo claims: " + (", ".join(f"{n} {s.lower()}" for s, n in sorted(statuses.items())) or "none"))


@accounts_app.command("create-staff")
def accounts_create_staff(
    email: Annotated[str, typer.Option(help="the staff member's e-mail address (sign-in name)")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="at least 15 characters")
    ],
    role: Annotated[list[str], typer.Option(help="staff role; repeat for several")] = ["administrator"],  # noqa: B006
) -> None:
    """Create a staff account (the first administrator, say); TOTP enrolment follows at first sign-in."""
    from olly.platform.auth.access import AccessControl
    from olly.platform.auth.roles import AccountKind, Role, parse_staff_roles
    from olly.platform.auth.service import NewAccount

    roles = parse_staff_roles(role)
    if len(roles) != len(set(role)):
        raise fail(f"unknown role; choose from {', '.join(sorted(r.value for r in Role))}")
    platform = _platform()
    try:
        control = AccessControl()
        control.bind(platform)
        with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
            account = control.identity.create_account(
                uow, NewAccount(AccountKind.STAFF, email, password=password, roles=roles)
            )
            account_id = account.id
    except OllyError as exc:
        details = "; ".join(f"{e['field']}: {e['message']}" for e in exc.extra.get("errors", []))
        raise fail(details or exc.detail) from None
    finally:
        platform.close()
    out.print(f"staff account {account_id} created with roles {', '.join(sorted(roles))}")


def main() -> None:
    try:
        app()
    except OllyError as exc:
        err.print(f"[bold red]error:[/] {exc.detail}")
        sys.exit(1)


if __name__ == "__main__":
    main()
